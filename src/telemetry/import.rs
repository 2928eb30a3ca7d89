//! [`ImportJob`]: reading an OTLP/JSON file a slice at a time, so a big import never
//! holds the page for long. One fast pass over the text finds where every span lies
//! (and its scope); each [`ImportJob::step`] then converts a batch of spans. A file is
//! still all or nothing: [`ImportJob::finish`] gives every span or the first error.

use std::ops::Range;

use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;

use super::otlp::{self, OtlpError};

/// Bytes of text scanned, or of spans converted, per step (about 10 ms of work).
pub const BYTES_PER_STEP: usize = 1 << 20;

/// One `scopeSpans` entry: where its resource, its scope and each of its spans lie in
/// the text.
#[derive(Debug, Default, Clone, PartialEq)]
struct ScopeSpans {
    resource: Option<Range<usize>>,
    scope: Option<Range<usize>>,
    spans: Vec<Range<usize>>,
}

/// Spans read from a file, each with the resource it was recorded under (re-exported
/// under it, and to the Phoenix project it names, rather than the page's).
pub type Imported = Vec<(Option<Resource>, SpanData)>;

/// An import under way: first the scan, then the conversion.
pub struct ImportJob {
    text: String,
    scanner: Scanner,
    scanned: bool,
    /// The next (group, first span) to convert.
    at: (usize, usize),
    spans: Imported,
}

impl ImportJob {
    /// Starts reading `text` (one request, or one per line, either field spelling).
    pub fn new(text: String) -> Self {
        ImportJob {
            text,
            scanner: Scanner::default(),
            scanned: false,
            at: (0, 0),
            spans: Vec::new(),
        }
    }

    /// Scans, or converts, about [`BYTES_PER_STEP`] more; `Ok(true)` once every span is
    /// read.
    pub fn step(&mut self) -> Result<bool, OtlpError> {
        if !self.scanned {
            self.scanned = self.scanner.advance(&self.text, BYTES_PER_STEP)?;
            return Ok(false);
        }
        let (g, first) = self.at;
        let Some(group) = self.scanner.groups.get(g) else {
            return Ok(true);
        };
        let mut end = first;
        let mut bytes = 0;
        while end < group.spans.len() && (end == first || bytes < BYTES_PER_STEP) {
            bytes += group.spans[end].len();
            end += 1;
        }
        // The batch as a request of its own: the resource, the scope, and the spans as
        // written.
        let resource = group.resource.clone().map_or("null", |r| &self.text[r]);
        let scope = group.scope.clone().map_or("null", |r| &self.text[r]);
        let spans: Vec<&str> = group.spans[first..end]
            .iter()
            .map(|r| &self.text[r.clone()])
            .collect();
        let request = format!(
            r#"{{"resourceSpans":[{{"resource":{resource},"scopeSpans":[{{"scope":{scope},"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        );
        self.spans.extend(otlp::spans_of_json(&request)?);
        self.at = if end == group.spans.len() {
            (g + 1, 0)
        } else {
            (g, end)
        };
        Ok(self.at.0 >= self.scanner.groups.len())
    }

    /// How far it got, in words.
    pub fn progress(&self) -> String {
        if self.scanned {
            let total: usize = self.scanner.groups.iter().map(|g| g.spans.len()).sum();
            format!("{} of {total} spans", self.spans.len())
        } else {
            format!("{} of {} MB", self.scanner.at >> 20, self.text.len() >> 20)
        }
    }

    /// Every span of the file with its resource; a file without spans is an error.
    pub fn finish(mut self) -> Result<Imported, OtlpError> {
        while !self.step()? {}
        if self.spans.is_empty() {
            return Err(OtlpError::NoSpans);
        }
        Ok(self.spans)
    }
}

/// Both spellings of the `scopeSpans` and `resourceSpans` fields.
const SCOPE_SPANS: &[&str] = &["scopeSpans", "scope_spans"];
const RESOURCE_SPANS: &[&str] = &["resourceSpans", "resource_spans"];

fn named(key: &Option<String>, names: &[&str]) -> bool {
    key.as_deref().is_some_and(|k| names.contains(&k))
}

/// A container being scanned.
struct Frame {
    object: bool,
    start: usize,
    /// For an object: its current key, and whether a key comes next.
    key: Option<String>,
    expect_key: bool,
    /// What this container is: the value of which key (for array elements: the
    /// array's key), and whether it is an array element.
    under: Option<String>,
    element: bool,
}

/// Finds every `scopeSpans` entry of every request in a text in one pass over its
/// bytes (strings and escapes honoured), checking that brackets balance; resumable, so
/// the pass itself can be cut into slices.
#[derive(Default)]
struct Scanner {
    stack: Vec<Frame>,
    groups: Vec<ScopeSpans>,
    /// The `resource` of the `resourceSpans` entry being read, and its first group.
    resource: Option<Range<usize>>,
    first_group: usize,
    /// The next byte to read.
    at: usize,
}

/// The whole scan at once (tests).
#[cfg(test)]
fn scan(text: &str) -> Result<Vec<ScopeSpans>, OtlpError> {
    let mut scanner = Scanner::default();
    while !scanner.advance(text, usize::MAX)? {}
    Ok(scanner.groups)
}

impl Scanner {
    /// Reads about `budget` more bytes of `text`; `Ok(true)` once it has read them all.
    fn advance(&mut self, text: &str, budget: usize) -> Result<bool, OtlpError> {
        let bytes = text.as_bytes();
        let (stack, groups) = (&mut self.stack, &mut self.groups);
        let (resource, first_group) = (&mut self.resource, &mut self.first_group);
        let broken = |what: &str, at: usize| {
            OtlpError::Json(serde::de::Error::custom(format!(
                "{what} at byte {at}: the file is not JSON"
            )))
        };
        let mut i = self.at;
        let stop = i.saturating_add(budget).min(bytes.len());
        while i < stop {
            if stack.is_empty()
                && !matches!(bytes[i], b'{' | b'[')
                && !bytes[i].is_ascii_whitespace()
            {
                return Err(broken("text outside any object", i));
            }
            match bytes[i] {
                b'"' => {
                    let start = i + 1;
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    if i >= bytes.len() {
                        return Err(broken("an unterminated string", start - 1));
                    }
                    if let Some(top) = stack.last_mut() {
                        if top.object && top.expect_key {
                            top.key = Some(text[start..i].to_string());
                            top.expect_key = false;
                        }
                    }
                }
                open @ (b'{' | b'[') => {
                    let (under, element) = match stack.last() {
                        Some(top) if top.object => (top.key.clone(), false),
                        Some(top) => (top.under.clone(), true),
                        None => (None, false),
                    };
                    let object = open == b'{';
                    if object && element && named(&under, RESOURCE_SPANS) {
                        *resource = None;
                        *first_group = groups.len();
                    }
                    if object && element && named(&under, SCOPE_SPANS) {
                        groups.push(ScopeSpans {
                            resource: resource.clone(),
                            ..ScopeSpans::default()
                        });
                    }
                    stack.push(Frame {
                        object,
                        start: i,
                        key: None,
                        expect_key: object,
                        under,
                        element,
                    });
                }
                close @ (b'}' | b']') => {
                    let frame = stack
                        .pop()
                        .ok_or_else(|| broken("an unmatched bracket", i))?;
                    if frame.object != (close == b'}') {
                        return Err(broken("a mismatched bracket", i));
                    }
                    let range = frame.start..i + 1;
                    let in_group = stack
                        .last()
                        .is_some_and(|t| t.object && named(&t.under, SCOPE_SPANS));
                    let in_resource_spans = stack
                        .last()
                        .is_some_and(|t| t.object && named(&t.under, RESOURCE_SPANS));
                    if !frame.element && in_resource_spans && named(&frame.under, &["resource"]) {
                        // It may come before or after the scopeSpans it belongs to.
                        *resource = Some(range.clone());
                        for g in &mut groups[*first_group..] {
                            g.resource = Some(range.clone());
                        }
                    }
                    if let Some(group) = groups.last_mut() {
                        if frame.object && frame.element && named(&frame.under, &["spans"]) {
                            group.spans.push(range);
                        } else if !frame.element && in_group && named(&frame.under, &["scope"]) {
                            group.scope = Some(range);
                        }
                    }
                }
                b',' => {
                    if let Some(top) = stack.last_mut() {
                        top.expect_key = top.object;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.at = i;
        if i < bytes.len() {
            return Ok(false);
        }
        if !stack.is_empty() {
            return Err(broken("an unclosed bracket", text.len()));
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_file_is_read_a_megabyte_at_a_time_and_all_or_nothing() {
        let span = |i: usize| {
            format!(
                r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{i:016x}","name":"s","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[{{"key":"k","value":{{"stringValue":"{}"}}}}]}}"#,
                "x".repeat(10_000)
            )
        };
        let spans: Vec<String> = (1..=400).map(span).collect();
        let text = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"scope":{{"name":"big"}},"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        );
        let mut job = ImportJob::new(text.clone());
        let mut steps = 0;
        while !job.step().unwrap() {
            steps += 1;
            assert!(steps < 100, "the job ends");
        }
        // About 4 MB: four steps to scan, four to convert, give or take one.
        assert!((6..=10).contains(&steps), "{steps} steps");
        assert_eq!(job.progress(), "400 of 400 spans");
        let read = job.finish().unwrap();
        assert_eq!(read.len(), 400);
        assert_eq!(read[0].1.instrumentation_scope.name(), "big");

        let broken = text.replace(&format!("{:016x}", 399), "zz");
        assert!(
            ImportJob::new(broken).finish().is_err(),
            "one bad span refuses the file"
        );
    }

    #[test]
    fn the_scan_finds_scopes_and_spans_however_they_are_written() {
        let text = r#"{"resource_spans":[{"scope_spans":[
            {"spans":[{"name":"a \"}]\" b"},{"name":"c"}],"scope":{"name":"s"}},
            {"scope":null,"spans":[]}],"resource":{"attributes":[]}}]}
            {"resourceSpans":[{"scopeSpans":[{"scope":{"name":"t"},"spans":[{"name":"d"}]}]}]}"#;
        let groups = scan(text).unwrap();
        assert_eq!(groups.len(), 3);
        let spans: Vec<&str> = groups[0].spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(spans, [r#"{"name":"a \"}]\" b"}"#, r#"{"name":"c"}"#]);
        assert_eq!(&text[groups[0].scope.clone().unwrap()], r#"{"name":"s"}"#);
        assert!(groups[1].spans.is_empty() && groups[1].scope.is_none());
        assert_eq!(&text[groups[2].scope.clone().unwrap()], r#"{"name":"t"}"#);
        // The resource stands after its scopeSpans in the first request.
        assert_eq!(
            &text[groups[0].resource.clone().unwrap()],
            r#"{"attributes":[]}"#
        );
        assert_eq!(groups[0].resource, groups[1].resource);
        assert_eq!(groups[2].resource, None);
        for broken in ["{", "{]", "[\"x", "}"] {
            assert!(scan(broken).is_err(), "{broken}");
        }
    }
}
