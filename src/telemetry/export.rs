//! Export to Phoenix over OTLP/HTTP.
//!
//! - [`ExportSettings`]: what the user typed (persisted); [`ExportTarget::parse`] turns
//!   it into a validated target once, or says what to fix ([`SettingsError`]).
//! - [`Transport`]: the HTTP POST the page does with fetch (tests bring their own).
//! - [`export`]: encodes, optionally gzips, posts every batch, and maps failures to an
//!   [`ExportError`] whose message says how to fix it; [`backoff`] paces retries.
//!
//! The API key only ever travels in the `Authorization` header: it is never part of a
//! span, the settings that are persisted, or a message.

use std::time::Duration;

use opentelemetry_sdk::trace::SpanData;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::redact::Redaction;
use super::{otlp, provider};
use crate::secret::ApiKey;

/// The same-origin path that `trunk serve` proxies to Phoenix (Trunk.toml).
pub const DEFAULT_ENDPOINT: &str = "/v1/traces";
pub const DEFAULT_PROJECT: &str = "ragtrace";
/// Phoenix accepts exactly this content type on `/v1/traces`.
pub const CONTENT_TYPE: &str = "application/x-protobuf";

/// Export settings as the user entered them; persisted (without the API key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExportSettings {
    pub endpoint: String,
    pub project: String,
    pub gzip: bool,
    pub auto_export: bool,
    /// Keep the API key in localStorage instead of sessionStorage.
    pub remember_key: bool,
    pub redaction: Redaction,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            endpoint: DEFAULT_ENDPOINT.into(),
            project: DEFAULT_PROJECT.into(),
            gzip: false,
            auto_export: false,
            remember_key: false,
            redaction: Redaction::default(),
        }
    }
}

/// A setting that cannot be used, in words the user can act on.
#[derive(Debug, Error, PartialEq)]
pub enum SettingsError {
    #[error("The Phoenix endpoint \"{0}\" is not usable: give a full URL such as http://127.0.0.1:6006/v1/traces, or a path such as /v1/traces.")]
    Endpoint(String),
    #[error(
        "The project name is empty: Phoenix files traces under a project, such as \"ragtrace\"."
    )]
    Project,
}

/// Where and how to send spans: validated settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportTarget {
    /// Absolute URL of the OTLP/HTTP traces endpoint.
    pub url: String,
    pub project: String,
    pub api_key: Option<ApiKey>,
    pub gzip: bool,
    /// The page's origin, for the CORS advice.
    pub origin: String,
}

impl ExportTarget {
    /// Validates the settings; a path endpoint is resolved against the page's origin.
    pub fn parse(
        settings: &ExportSettings,
        api_key: &str,
        origin: &str,
    ) -> Result<Self, SettingsError> {
        let endpoint = settings.endpoint.trim();
        let endpoint = if endpoint.is_empty() {
            DEFAULT_ENDPOINT
        } else {
            endpoint
        };
        let url = if endpoint.starts_with('/') {
            format!("{origin}{endpoint}")
        } else if let Some(rest) = endpoint
            .strip_prefix("http://")
            .or_else(|| endpoint.strip_prefix("https://"))
        {
            if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
                return Err(SettingsError::Endpoint(endpoint.into()));
            }
            endpoint.to_string()
        } else {
            return Err(SettingsError::Endpoint(endpoint.into()));
        };
        let project = settings.project.trim();
        if project.is_empty() {
            return Err(SettingsError::Project);
        }
        let key = api_key.trim();
        Ok(ExportTarget {
            url,
            project: project.to_string(),
            api_key: (!key.is_empty()).then(|| ApiKey::new(key)),
            gzip: settings.gzip,
            origin: origin.to_string(),
        })
    }

    /// The request headers.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", CONTENT_TYPE.to_string()),
            ("x-project-name", self.project.clone()),
        ];
        if let Some(key) = &self.api_key {
            h.push(("authorization", format!("Bearer {}", key.expose())));
        }
        if self.gzip {
            h.push(("content-encoding", "gzip".into()));
        }
        h
    }
}

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// How the page talks HTTP. `post` fails only when no HTTP answer came back (in a
/// browser: network error or CORS refusal, which look the same).
#[allow(async_fn_in_trait)]
pub trait Transport {
    async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<HttpResponse, String>;
    /// Whether anything answers at `url` at all, CORS aside; tells a server that is down
    /// from one that refuses this origin.
    async fn reachable(&self, url: &str) -> bool;
    /// Gzips a body.
    async fn gzip(&self, body: Vec<u8>) -> Result<Vec<u8>, String>;
}

/// Why an export failed, with the fix in words.
#[derive(Debug, Error, PartialEq)]
pub enum ExportError {
    #[error("Could not reach Phoenix at {url}. Start it (make phoenix) or correct the Phoenix endpoint; the traces stay pending.")]
    Unreachable { url: String },
    #[error("Phoenix at {url} refused this page's origin (CORS). Restart Phoenix with PHOENIX_ALLOWED_ORIGINS={origin} — or use the same-origin endpoint /v1/traces that `make run` proxies.")]
    Cors { url: String, origin: String },
    #[error(
        "Phoenix refused the API key (HTTP {status}): enter a valid key in \"Phoenix API key\"."
    )]
    Unauthorized { status: u16 },
    #[error("Phoenix did not accept the request's format (HTTP 415): {body}")]
    UnsupportedMediaType { body: String },
    #[error("Phoenix rejected the spans as invalid (HTTP {status}): {body}")]
    Rejected { status: u16, body: String },
    #[error("Phoenix is overloaded (HTTP {status}); the page will retry.")]
    Busy { status: u16 },
    #[error("Phoenix failed (HTTP {status}): {body}; the page will retry.")]
    Server { status: u16, body: String },
    #[error("Phoenix answered HTTP {status}: {body}")]
    Unexpected { status: u16, body: String },
    #[error("Compressing the spans failed: {0}. Turn gzip off and export again.")]
    Gzip(String),
}

impl ExportError {
    /// Worth retrying without the user changing anything.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            ExportError::Unreachable { .. } | ExportError::Busy { .. } | ExportError::Server { .. }
        )
    }
}

/// Maps an HTTP answer of `/v1/traces` to success or a typed failure.
pub fn check_response(resp: HttpResponse) -> Result<(), ExportError> {
    let body: String = resp.body.chars().take(300).collect();
    match resp.status {
        200..=299 => Ok(()),
        401 | 403 => Err(ExportError::Unauthorized {
            status: resp.status,
        }),
        415 => Err(ExportError::UnsupportedMediaType { body }),
        400 | 413 | 422 => Err(ExportError::Rejected {
            status: resp.status,
            body,
        }),
        429 | 503 => Err(ExportError::Busy {
            status: resp.status,
        }),
        500..=599 => Err(ExportError::Server {
            status: resp.status,
            body,
        }),
        status => Err(ExportError::Unexpected { status, body }),
    }
}

/// Delay before automatic retry `attempt` (1-based): 1 s, 2 s, 4 s … capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(5)).min(Duration::from_secs(30))
}

/// Sends `spans` to the target in batches under 4 MB, under a resource naming the
/// target's project (as the `x-project-name` header does). Stops at the first failure;
/// batches already sent stay in Phoenix, and resending them is harmless because Phoenix
/// ignores span ids it already has.
pub async fn export<T: Transport>(
    transport: &T,
    target: &ExportTarget,
    spans: Vec<SpanData>,
) -> Result<(), ExportError> {
    let headers = target.headers();
    let resource = provider::resource(&target.project);
    for body in otlp::encode_batches(spans, &resource, otlp::MAX_BATCH_BYTES) {
        let body = if target.gzip {
            transport.gzip(body).await.map_err(ExportError::Gzip)?
        } else {
            body
        };
        match transport.post(&target.url, &headers, body).await {
            Ok(resp) => check_response(resp)?,
            Err(_) if transport.reachable(&target.url).await => {
                return Err(ExportError::Cors {
                    url: target.url.clone(),
                    origin: target.origin.clone(),
                })
            }
            Err(_) => {
                return Err(ExportError::Unreachable {
                    url: target.url.clone(),
                })
            }
        }
    }
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn target(endpoint: &str, key: &str) -> Result<ExportTarget, SettingsError> {
        let settings = ExportSettings {
            endpoint: endpoint.into(),
            ..Default::default()
        };
        ExportTarget::parse(&settings, key, "http://127.0.0.1:8080")
    }

    #[test]
    fn endpoints_resolve_or_say_what_to_fix() {
        assert_eq!(
            target("", "").unwrap().url,
            "http://127.0.0.1:8080/v1/traces"
        );
        assert_eq!(
            target("/v1/traces", "").unwrap().url,
            "http://127.0.0.1:8080/v1/traces"
        );
        assert_eq!(
            target(" http://127.0.0.1:6006/v1/traces ", "").unwrap().url,
            "http://127.0.0.1:6006/v1/traces"
        );
        for bad in ["127.0.0.1:6006", "ftp://x", "http://", "http:// x"] {
            assert!(
                matches!(target(bad, ""), Err(SettingsError::Endpoint(_))),
                "{bad}"
            );
        }
        let no_project = ExportSettings {
            project: "  ".into(),
            ..Default::default()
        };
        assert_eq!(
            ExportTarget::parse(&no_project, "", "o"),
            Err(SettingsError::Project)
        );
    }

    #[test]
    fn headers_carry_project_and_key_but_debug_hides_the_key() {
        let t = target("/v1/traces", "sk-secret-123").unwrap();
        let h = t.headers();
        assert!(h.contains(&("content-type", "application/x-protobuf".into())));
        assert!(h.contains(&("x-project-name", "ragtrace".into())));
        assert!(h.contains(&("authorization", "Bearer sk-secret-123".into())));
        assert!(!format!("{t:?}").contains("sk-secret-123"));
        assert!(target("/v1/traces", "  ")
            .unwrap()
            .headers()
            .iter()
            .all(|(k, _)| *k != "authorization"));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let r = |status| {
            check_response(HttpResponse {
                status,
                body: "why".into(),
            })
        };
        assert_eq!(r(200), Ok(()));
        assert_eq!(r(401), Err(ExportError::Unauthorized { status: 401 }));
        assert!(r(401).unwrap_err().to_string().contains("API key"));
        assert!(matches!(
            r(415),
            Err(ExportError::UnsupportedMediaType { .. })
        ));
        assert!(matches!(
            r(422),
            Err(ExportError::Rejected { status: 422, .. })
        ));
        assert!(r(503).unwrap_err().retryable() && r(500).unwrap_err().retryable());
        assert!(!r(401).unwrap_err().retryable() && !r(422).unwrap_err().retryable());
    }

    #[test]
    fn backoff_doubles_up_to_thirty_seconds() {
        let secs: Vec<u64> = (1..=8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    struct Fake {
        answer: Option<u16>,
        reachable: bool,
        /// (url, body length) of every post.
        posts: RefCell<Vec<(String, usize)>>,
    }

    impl Transport for Fake {
        async fn post(
            &self,
            url: &str,
            _headers: &[(&'static str, String)],
            body: Vec<u8>,
        ) -> Result<HttpResponse, String> {
            self.posts.borrow_mut().push((url.into(), body.len()));
            self.answer
                .map(|status| HttpResponse {
                    status,
                    body: String::new(),
                })
                .ok_or_else(|| "TypeError: Failed to fetch".into())
        }
        async fn reachable(&self, _url: &str) -> bool {
            self.reachable
        }
        async fn gzip(&self, body: Vec<u8>) -> Result<Vec<u8>, String> {
            Ok(body)
        }
    }

    fn spans() -> Vec<SpanData> {
        use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
        let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        provider.tracer("t").start("one").end();
        exporter.get_finished_spans().unwrap()
    }

    #[test]
    fn a_failed_fetch_is_told_apart_as_down_or_cors() {
        let t = target("http://127.0.0.1:6006/v1/traces", "").unwrap();
        for (reachable, cors) in [(false, false), (true, true)] {
            let fake = Fake {
                answer: None,
                reachable,
                posts: RefCell::default(),
            };
            let err = pollster::block_on(export(&fake, &t, spans())).unwrap_err();
            assert_eq!(matches!(err, ExportError::Cors { .. }), cors);
            if cors {
                assert!(
                    err.to_string()
                        .contains("PHOENIX_ALLOWED_ORIGINS=http://127.0.0.1:8080"),
                    "{err}"
                );
            } else {
                assert!(err.retryable());
            }
        }
        let ok = Fake {
            answer: Some(200),
            reachable: true,
            posts: RefCell::default(),
        };
        pollster::block_on(export(&ok, &t, spans())).unwrap();
        let posts = ok.posts.borrow();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].0, "http://127.0.0.1:6006/v1/traces");
        assert!(posts[0].1 > 0);
    }
}
