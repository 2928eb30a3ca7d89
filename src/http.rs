//! The page's one HTTP seam, shared by the model client ([`crate::model::openai`]) and
//! the Phoenix export ([`crate::telemetry::delivery`]).
//!
//! - [`Request`]: method, URL, headers, body, and the limits the client enforces: a
//!   timeout for the answer to start, an idle timeout between body chunks, gzip, and
//!   `keepalive` (a request that outlives the page, for the flush on page hide).
//! - [`Response`]: status, **headers** and the body as a stream of chunks.
//! - [`HttpError`]: why no (whole) answer came back, typed.
//! - [`HttpClient`]: the trait; `browser::fetch` implements it with fetch, tests bring
//!   scripted fakes.
//! - [`retry_after`]: a `Retry-After` value (seconds or HTTP-date) as a wait.

use std::time::{Duration, SystemTime};

use futures_util::stream::LocalBoxStream;
use futures_util::StreamExt;
use thiserror::Error;

/// A body, chunk by chunk as it arrives.
pub type Body = LocalBoxStream<'static, Result<Vec<u8>, HttpError>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request and the limits its client enforces.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    /// Names in lower case; values checked by [`header_value`] before they get here.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Longest wait for the response head; past it the request is aborted.
    pub timeout: Duration,
    /// Longest silence between two chunks of the body (a stalled stream).
    pub idle_timeout: Option<Duration>,
    /// Compress the body with gzip (the client adds `content-encoding`).
    pub gzip: bool,
    /// Let the request finish after the page is gone (fetch `keepalive`; the browser
    /// allows 64 KB of such bodies in flight per page).
    pub keepalive: bool,
}

impl Request {
    /// A POST of `body` with a timeout and no other limits.
    pub fn post(url: impl Into<String>, body: Vec<u8>, timeout: Duration) -> Self {
        Request {
            method: Method::Post,
            url: url.into(),
            headers: Vec::new(),
            body,
            timeout,
            idle_timeout: None,
            gzip: false,
            keepalive: false,
        }
    }
}

/// An HTTP answer, whatever its status.
pub struct Response {
    pub status: u16,
    /// Names in lower case. In a browser, only the headers the server exposes to this
    /// origin (CORS) are here.
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The whole body.
    pub async fn bytes(mut self) -> Result<Vec<u8>, HttpError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.body.next().await {
            out.extend(chunk?);
        }
        Ok(out)
    }

    /// The whole body as text (invalid UTF-8 replaced).
    pub async fn text(self) -> Result<String, HttpError> {
        Ok(String::from_utf8_lossy(&self.bytes().await?).into_owned())
    }
}

/// Why no whole answer came back.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum HttpError {
    /// A header value the browser would refuse (checked before sending).
    #[error("the request cannot be sent: {0}")]
    InvalidRequest(String),
    /// No HTTP answer. In a browser a server that is down, a dropped connection and a
    /// CORS refusal look the same; `server_answers` says whether anything answers at
    /// that URL at all (so it is a dropped connection or CORS).
    #[error("{}", network_message(url, *server_answers))]
    Network { url: String, server_answers: bool },
    #[error("{url} did not answer within {} s", after.as_secs_f64())]
    Timeout { url: String, after: Duration },
    #[error("{url} stopped sending mid-answer for {} s", after.as_secs_f64())]
    Stalled { url: String, after: Duration },
    #[error("the connection broke mid-answer: {0}")]
    Broken(String),
    #[error("stopped")]
    Aborted,
    #[error("compressing the body failed: {0}")]
    Gzip(String),
}

fn network_message(url: &str, server_answers: bool) -> String {
    if server_answers {
        format!("{url} gave no answer to this page: the connection dropped, or the server refuses this page's origin (CORS)")
    } else {
        format!("could not reach {url}: the network is down or the server is not running")
    }
}

/// How the page talks HTTP.
#[allow(async_fn_in_trait)] // the page is single-threaded: no `Send` bound wanted
pub trait HttpClient {
    /// Sends `request`; any status is an `Ok` answer.
    async fn send(&self, request: Request) -> Result<Response, HttpError>;
    /// Waits (retry backoff); fakes return at once and record the wait.
    async fn sleep(&self, duration: Duration);
    /// The wall clock, for `Retry-After` dates.
    fn now(&self) -> SystemTime;
}

impl<C: HttpClient> HttpClient for &C {
    async fn send(&self, request: Request) -> Result<Response, HttpError> {
        (**self).send(request).await
    }
    async fn sleep(&self, duration: Duration) {
        (**self).sleep(duration).await
    }
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// The origin of an absolute URL (`scheme://host[:port]`), lower-cased.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}").to_ascii_lowercase())
}

/// Whether `url` is plain `http://` to a host other than this machine: what travels
/// there (a key, questions) can be read on the way.
pub fn plaintext_remote(url: &str) -> bool {
    let Some(origin) = origin(url) else {
        return false;
    };
    let Some(host) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    !(host == "localhost" || host == "[::1]" || host.starts_with("127."))
}

/// Checks a header value as fetch will: visible ASCII and spaces only (fetch throws on
/// anything else, e.g. a key pasted with a non-Latin-1 character).
pub fn header_value(what: &str, value: &str) -> Result<(), String> {
    match value.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
        None => Ok(()),
        Some(c) => Err(format!(
            "the {what} holds the character {c:?}, which cannot travel in an HTTP header: retype it with plain ASCII letters, digits and punctuation"
        )),
    }
}

/// Whether an answer with `status` is worth sending again unchanged: only 429, 502, 503
/// and 504, as the OTLP/HTTP specification says (a 500, 501 or 507 will fail again).
pub fn retryable(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The wait before automatic retry `attempt` (1-based): 1 s, 2 s, 4 s … capped at 30 s,
/// each moved by up to ±20 % so that tabs and clients do not retry in step. The jitter
/// comes from the sub-second part of `now` (no random source is needed for that).
pub fn backoff(attempt: u32, now: SystemTime) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(MAX_BACKOFF);
    let nanos = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.8 + 0.4 * (f64::from(nanos % 1_000_000) / 1_000_000.0);
    base.mul_f64(jitter)
}

/// The longest automatic wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The wait a `Retry-After` value asks for: whole seconds, or an HTTP-date (how far it
/// lies after `now`; a past date means now). Anything else is `None`, so the caller
/// falls back to its own backoff. Capped at `max`.
pub fn retry_after(value: &str, now: SystemTime, max: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX).min(max.as_secs()))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_the_rest() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let max = Duration::from_secs(60);
        let at = |v| retry_after(v, now, max);
        assert_eq!(at("3"), Some(Duration::from_secs(3)));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        assert_eq!(at("99999999999999999999999"), Some(max));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(at(&later), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(at(&earlier), Some(Duration::ZERO));
        let far = httpdate::fmt_http_date(now + Duration::from_secs(7_000));
        assert_eq!(at(&far), Some(max));
        for bad in ["", "nan", "-1", "1.5", "inf", "soon", "Tue, 99 Foo 2024"] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_429_502_503_504_are_retried() {
        let retried: Vec<u16> = (100..600).filter(|s| retryable(*s)).collect();
        assert_eq!(retried, [429, 502, 503, 504]);
    }

    #[test]
    fn backoff_doubles_to_thirty_seconds_with_jitter() {
        for nanos in [0, 999_999, 500_000] {
            let now = SystemTime::UNIX_EPOCH + Duration::from_nanos(nanos);
            let secs: Vec<f64> = (1..=8).map(|a| backoff(a, now).as_secs_f64()).collect();
            for (got, base) in secs
                .iter()
                .zip([1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0])
            {
                assert!(
                    *got >= base * 0.8 - 1e-9 && *got <= base * 1.2 + 1e-9,
                    "{got} vs {base}"
                );
            }
        }
        let at = |n| backoff(3, SystemTime::UNIX_EPOCH + Duration::from_nanos(n));
        assert_ne!(at(1_000), at(700_000), "jitter moves the wait");
    }

    #[test]
    fn origins_and_plaintext_hosts() {
        assert_eq!(
            origin("https://API.openai.com/v1/chat").as_deref(),
            Some("https://api.openai.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:11434/v1").as_deref(),
            Some("http://127.0.0.1:11434")
        );
        assert_eq!(origin("/v1/traces"), None);
        assert!(plaintext_remote("http://10.0.0.5:8000/v1"));
        assert!(plaintext_remote("http://models.example/v1"));
        for local in [
            "http://127.0.0.1:11434/v1",
            "http://localhost:1234/v1",
            "http://[::1]:8080/v1",
            "https://api.openai.com/v1",
        ] {
            assert!(!plaintext_remote(local), "{local}");
        }
    }

    #[test]
    fn header_values_must_be_visible_ascii() {
        assert!(header_value("API key", "sk-abc 123").is_ok());
        let err = header_value("API key", "sk-abc\u{2013}def").unwrap_err();
        assert!(err.contains("API key") && err.contains('\u{2013}'), "{err}");
        assert!(header_value("project", "a\nb").is_err());
    }
}
