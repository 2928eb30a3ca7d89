//! Secrets: [`ApiKey`], a key that only ever leaves through an `Authorization` header
//! (its `Debug` hides it), and [`scrub`], which takes keys out of text a server sent
//! before that text reaches a span, a stored reason or the page.

use std::fmt;

#[derive(Clone, PartialEq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: &str) -> Self {
        ApiKey(key.to_string())
    }

    /// The key itself, for the one header that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(…)")
    }
}

/// What stands where a secret was.
pub const SCRUBBED: &str = "[key removed]";

/// `text` without `key` and without anything shaped like a key: `sk-…` tokens (OpenAI
/// echoes a masked key such as `sk-proj-ab***cd` in its 401 body) and the token after
/// `Bearer `. Servers put keys in error bodies; none may reach a span or the page.
pub fn scrub(text: &str, key: Option<&ApiKey>) -> String {
    let mut out = match key.map(ApiKey::expose).filter(|k| k.len() >= 4) {
        Some(k) => text.replace(k, SCRUBBED),
        None => text.to_string(),
    };
    for marker in ["sk-", "Bearer ", "bearer "] {
        out = scrub_after(&out, marker);
    }
    out
}

/// Replaces the token that follows each `marker` (the marker included, for `sk-`).
fn scrub_after(text: &str, marker: &str) -> String {
    let token = |c: char| c.is_ascii_alphanumeric() || "-_*.~+/=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        // `sk-` must start a word ("task-list" is no key).
        let starts_word = at == 0 || !rest[..at].ends_with(|c: char| c.is_ascii_alphanumeric());
        let after = &rest[at + marker.len()..];
        let len = after.find(|c: char| !token(c)).unwrap_or(after.len());
        // A sentence's full stop after a key is not part of it.
        let len = after[..len].trim_end_matches('.').len();
        if starts_word && len >= 3 {
            out.push_str(&rest[..at]);
            if marker != "sk-" {
                out.push_str(marker);
            }
            out.push_str(SCRUBBED);
            rest = &after[len..];
        } else {
            out.push_str(&rest[..at + marker.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_key_shapes_are_scrubbed() {
        let key = ApiKey::new("local-secret-42");
        let body = "Incorrect API key provided: sk-proj-ab**********cdEF. You sent local-secret-42 as Bearer abc.def-ghi; see the task-list.";
        let clean = scrub(body, Some(&key));
        assert_eq!(
            clean,
            "Incorrect API key provided: [key removed]. You sent [key removed] as Bearer [key removed]; see the task-list."
        );
        assert_eq!(scrub("no secret here", None), "no secret here");
        assert_eq!(scrub("sk-", None), "sk-");
        assert_eq!(
            scrub("ends with sk-abcdef", None),
            "ends with [key removed]"
        );
    }
}
