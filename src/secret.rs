//! [`ApiKey`]: a secret that only ever leaves through an `Authorization` header. Its
//! `Debug` hides it, so it cannot slip into a log line, a span or a message.

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
