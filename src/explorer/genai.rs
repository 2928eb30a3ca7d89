//! OpenTelemetry's GenAI semantic conventions (`gen_ai.*`), which other producers send,
//! read as the OpenInference views the explorer shows: a span's kind, its model and its
//! messages. The original attributes stay as they are; this only interprets them.
//!
//! Covers the current conventions (`gen_ai.operation.name`, `gen_ai.request.model`,
//! `gen_ai.input.messages` / `gen_ai.output.messages` as JSON with `parts`) and the
//! older indexed form (`gen_ai.prompt.N.role` / `.content`, `gen_ai.completion.N.…`).

use serde_json::Value;

use crate::telemetry::semconv::SpanKind;

/// Which side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Input,
    Output,
}

/// The OpenInference kind a GenAI span stands for, from `gen_ai.operation.name` (or
/// any `gen_ai.system` / `gen_ai.provider.name`, which only model calls carry).
pub fn kind<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<SpanKind> {
    match get("gen_ai.operation.name") {
        Some("chat" | "text_completion" | "generate_content") => Some(SpanKind::Llm),
        Some("embeddings") => Some(SpanKind::Embedding),
        Some("execute_tool") => Some(SpanKind::Tool),
        Some("invoke_agent" | "create_agent") => Some(SpanKind::Agent),
        Some(_) => None,
        None => (get("gen_ai.system").is_some() || get("gen_ai.provider.name").is_some())
            .then_some(SpanKind::Llm),
    }
}

/// The model, as the response names it, else as the request asked for it.
pub fn model<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    get("gen_ai.response.model").or_else(|| get("gen_ai.request.model"))
}

/// The messages of one side as (role, text), in order.
pub fn messages<'a>(get: impl Fn(&str) -> Option<&'a str>, side: Side) -> Vec<(String, String)> {
    let (json_key, indexed) = match side {
        Side::Input => ("gen_ai.input.messages", "gen_ai.prompt"),
        Side::Output => ("gen_ai.output.messages", "gen_ai.completion"),
    };
    if let Some(list) = get(json_key).and_then(|j| serde_json::from_str::<Value>(j).ok()) {
        return list
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let role = m["role"].as_str().unwrap_or_default().to_string();
                (role, text_of(m))
            })
            .collect();
    }
    (0..)
        .map_while(|i| {
            let role = get(&format!("{indexed}.{i}.role"));
            let content = get(&format!("{indexed}.{i}.content"));
            (role.is_some() || content.is_some()).then(|| {
                (
                    role.unwrap_or_default().to_string(),
                    content.unwrap_or_default().to_string(),
                )
            })
        })
        .collect()
}

/// A message's text: its text parts joined, or a plain `content` string.
fn text_of(message: &Value) -> String {
    if let Some(text) = message["content"].as_str() {
        return text.to_string();
    }
    message["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> + 'a {
        move |k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
    }

    #[test]
    fn current_conventions_read_as_an_llm_span() {
        let attrs = [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.response.model", "gpt-4o-2024-08-06"),
            (
                "gen_ai.input.messages",
                r#"[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Hi"}]}]"#,
            ),
            (
                "gen_ai.output.messages",
                r#"[{"role":"assistant","parts":[{"type":"text","content":"Hello"}],"finish_reason":"stop"}]"#,
            ),
        ];
        let get = lookup(&attrs);
        assert_eq!(kind(&get), Some(SpanKind::Llm));
        assert_eq!(model(&get), Some("gpt-4o-2024-08-06"));
        assert_eq!(
            messages(&get, Side::Input),
            [
                ("system".to_string(), "Be brief.".to_string()),
                ("user".to_string(), "Hi".to_string())
            ]
        );
        assert_eq!(
            messages(&get, Side::Output),
            [("assistant".to_string(), "Hello".to_string())]
        );
    }

    #[test]
    fn older_indexed_messages_and_other_operations() {
        let attrs = [
            ("gen_ai.system", "openai"),
            ("gen_ai.prompt.0.role", "user"),
            ("gen_ai.prompt.0.content", "Hi"),
            ("gen_ai.completion.0.role", "assistant"),
            ("gen_ai.completion.0.content", "Hello"),
        ];
        let get = lookup(&attrs);
        assert_eq!(kind(&get), Some(SpanKind::Llm));
        assert_eq!(messages(&get, Side::Input).len(), 1);
        assert_eq!(messages(&get, Side::Output)[0].1, "Hello");
        let tool = [("gen_ai.operation.name", "execute_tool")];
        assert_eq!(kind(lookup(&tool)), Some(SpanKind::Tool));
        assert_eq!(kind(lookup(&[])), None);
    }
}
