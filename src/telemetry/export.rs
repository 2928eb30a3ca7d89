//! Where and how the page exports: [`ExportSettings`] as the user typed them
//! (persisted), parsed once by [`ExportTarget::parse`] into a validated target or a
//! [`SettingsError`] that says what to fix. Sending is [`super::delivery`].
//!
//! The API key only ever travels in the `Authorization` header: it is never part of a
//! span, the settings that are persisted, or a message.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use opentelemetry_sdk::Resource;

use super::redact::Redaction;
use super::{otlp, provider};
use crate::http;
use crate::secret::ApiKey;

/// The same-origin path that `trunk serve` proxies to Phoenix (Trunk.toml).
pub const DEFAULT_ENDPOINT: &str = "/v1/traces";
pub const DEFAULT_PROJECT: &str = "ragtrace";
/// OpenTelemetry's default export timeout.
pub const DEFAULT_TIMEOUT_S: f64 = 10.0;
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
    /// Seconds one export request may take before it is abandoned (and retried), as
    /// `OTEL_EXPORTER_OTLP_TIMEOUT`.
    pub timeout_s: f64,
    /// Who asks, recorded as `user.id` on each question's root span (empty: no one).
    pub user: String,
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
            timeout_s: DEFAULT_TIMEOUT_S,
            user: String::new(),
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
    /// A value that cannot travel in an HTTP header.
    #[error("The {0}.")]
    Header(String),
    #[error("The export timeout must be between 1 and 300 seconds.")]
    Timeout,
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
    /// Applied again to every span as it leaves, so older and imported traces obey the
    /// switches as they are now.
    pub redaction: Redaction,
    pub timeout: Duration,
    /// The resource spans go under; `None`: the page's, naming `project`.
    pub resource: Option<Resource>,
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
        http::header_value("project name", project).map_err(SettingsError::Header)?;
        http::header_value("Phoenix API key", key).map_err(SettingsError::Header)?;
        if !(1.0..=300.0).contains(&settings.timeout_s) {
            return Err(SettingsError::Timeout);
        }
        Ok(ExportTarget {
            url,
            project: project.to_string(),
            api_key: (!key.is_empty()).then(|| ApiKey::new(key)),
            gzip: settings.gzip,
            origin: origin.to_string(),
            redaction: settings.redaction,
            timeout: Duration::from_secs_f64(settings.timeout_s),
            resource: None,
        })
    }

    /// The same target for spans recorded under `resource` (an imported trace's own):
    /// sent under it, to the project it names, if any. `None`: this target as it is.
    pub fn for_resource(&self, resource: Option<&Resource>) -> ExportTarget {
        let Some(resource) = resource else {
            return self.clone();
        };
        ExportTarget {
            project: otlp::project_of(resource).unwrap_or_else(|| self.project.clone()),
            resource: Some(resource.clone()),
            ..self.clone()
        }
    }

    /// The resource the spans go under.
    pub fn resource(&self) -> Resource {
        self.resource
            .clone()
            .unwrap_or_else(|| provider::resource(&self.project))
    }

    /// The request headers (the client adds `content-encoding` when it gzips).
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", CONTENT_TYPE.to_string()),
            ("x-project-name", self.project.clone()),
        ];
        if let Some(key) = &self.api_key {
            h.push(("authorization", format!("Bearer {}", key.expose())));
        }
        h
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

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
    fn header_values_and_timeout_are_checked_when_parsed() {
        let err = target("/v1/traces", "sk-caf\u{e9}").unwrap_err();
        assert!(matches!(err, SettingsError::Header(_)), "{err:?}");
        assert!(err.to_string().contains("Phoenix API key"), "{err}");
        let project = ExportSettings {
            project: "Projekt \u{2013} eins".into(),
            ..Default::default()
        };
        assert!(matches!(
            ExportTarget::parse(&project, "", "o"),
            Err(SettingsError::Header(_))
        ));
        let slow = ExportSettings {
            timeout_s: 0.0,
            ..Default::default()
        };
        assert_eq!(
            ExportTarget::parse(&slow, "", "o"),
            Err(SettingsError::Timeout)
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
}
