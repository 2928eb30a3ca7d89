//! OTLP/JSON as producers really write it, brought to the one form that
//! `opentelemetry-proto`'s serde reads (lowerCamelCase keys, int64 timestamps as strings,
//! enums as numbers, hex ids). The proto3 JSON mapping lets a writer choose, and
//! producers do:
//! - Phoenix's "Download → OTLP JSON" writes original field names (`resource_spans`,
//!   `start_time_unix_nano` as a number), `null` for absent fields and enum names
//!   (`"SPAN_KIND_INTERNAL"`, `"STATUS_CODE_OK"`);
//! - the OpenTelemetry Collector's file exporter writes one request per line;
//! - some producers write ids in base64, as the proto3 mapping does for `bytes`.
//!
//! [`requests`] reads a file of one or more requests (JSON Lines, or any whitespace
//! between them) into normalised JSON values; unknown fields are left for serde to skip.

use serde_json::{Map, Value};

/// Fields that hold int64/fixed64 nanoseconds (strings in the canonical form).
const NANOS: [&str; 3] = ["startTimeUnixNano", "endTimeUnixNano", "timeUnixNano"];
/// Fields that hold ids, and their length in bytes.
const IDS: [(&str, usize); 3] = [("traceId", 16), ("spanId", 8), ("parentSpanId", 8)];

/// Every JSON value in `text` (one request, or one per line), normalised.
pub fn requests(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|v| v.map(normalise))
        .collect()
}

/// `value` in the canonical spelling.
pub fn normalise(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(object(map)),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        other => other,
    }
}

fn object(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        if value.is_null() {
            continue; // proto3 JSON: null is the field's default
        }
        let key = lower_camel(&key);
        let value = match key.as_str() {
            k if NANOS.contains(&k) => nanos(value),
            "kind" => enum_number(value, "SPAN_KIND_", &SPAN_KINDS),
            "code" => enum_number(value, "STATUS_CODE_", &STATUS_CODES),
            k => match IDS.iter().find(|(name, _)| *name == k) {
                Some((_, len)) => id(value, *len),
                None => normalise(value),
            },
        };
        out.insert(key, value);
    }
    out
}

const SPAN_KINDS: [&str; 6] = [
    "UNSPECIFIED",
    "INTERNAL",
    "SERVER",
    "CLIENT",
    "PRODUCER",
    "CONSUMER",
];
const STATUS_CODES: [&str; 3] = ["UNSET", "OK", "ERROR"];

/// `start_time_unix_nano` → `startTimeUnixNano`; lowerCamelCase stays as it is.
fn lower_camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A timestamp written as a number becomes the canonical string.
fn nanos(value: Value) -> Value {
    match value {
        Value::Number(n) => Value::String(
            n.as_u64()
                .map(|u| u.to_string())
                // A float such as 1.7e18 (JavaScript writers): whole nanoseconds.
                .or_else(|| n.as_f64().map(|f| format!("{:.0}", f.max(0.0))))
                .unwrap_or_default(),
        ),
        other => other,
    }
}

/// An enum written by name (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`, or without the
/// prefix) becomes its number; numbers stay.
fn enum_number(value: Value, prefix: &str, names: &[&str]) -> Value {
    match &value {
        Value::String(name) => {
            let bare = name.strip_prefix(prefix).unwrap_or(name);
            names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(bare))
                .map_or(value, Value::from)
        }
        _ => value,
    }
}

/// An id in base64 (what the proto3 mapping prescribes for `bytes`) becomes hex; hex
/// stays; anything else is left for the span check to refuse with a reason.
fn id(value: Value, len: usize) -> Value {
    let Value::String(text) = &value else {
        return value;
    };
    let is_hex = text.len() == 2 * len && text.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex || text.is_empty() {
        return value;
    }
    match base64(text) {
        Some(bytes) if bytes.len() == len => {
            Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
        _ => value,
    }
}

/// Standard or URL-safe base64, padded or not.
fn base64(text: &str) -> Option<Vec<u8>> {
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    let digits: Vec<u8> = text
        .trim_end_matches('=')
        .bytes()
        .map(sextet)
        .collect::<Option<_>>()?;
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, d)| acc | u32::from(*d) << (18 - 6 * i));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spellings_nulls_enums_numbers_and_base64_ids_become_canonical() {
        let phoenix = json!({"resource_spans": [{"resource": null, "scope_spans": [{"spans": [{
            "trace_id": "AAECAwQFBgcICQoLDA0ODw==",
            "span_id": "0001020304050607",
            "parent_span_id": null,
            "name": "x",
            "kind": "SPAN_KIND_CLIENT",
            "start_time_unix_nano": 1_700_000_000_123_456_789u64,
            "status": {"code": "STATUS_CODE_ERROR", "message": "m"},
            "attributes": [{"key": "k", "value": {"int_value": 3}}],
        }]}]}]});
        let span = &normalise(phoenix)["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
        assert_eq!(span["traceId"], "000102030405060708090a0b0c0d0e0f");
        assert_eq!(span["spanId"], "0001020304050607");
        assert!(span.get("parentSpanId").is_none());
        assert_eq!(span["kind"], 3);
        assert_eq!(span["startTimeUnixNano"], "1700000000123456789");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["attributes"][0]["value"]["intValue"], 3);
    }

    #[test]
    fn json_lines_give_one_request_each() {
        let text = "{\"resourceSpans\":[]}\n{\"resource_spans\":[]}\n\n";
        assert_eq!(requests(text).unwrap().len(), 2);
        assert!(requests("{\"resourceSpans\":[]} {broken").is_err());
    }

    #[test]
    fn base64_decodes_standard_and_url_safe() {
        assert_eq!(base64("AAECAw==").unwrap(), [0, 1, 2, 3]);
        assert_eq!(base64("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64("A"), None);
        assert_eq!(base64("**"), None);
    }
}
