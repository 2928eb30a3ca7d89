//! Telemetry, OpenTelemetry only: real `opentelemetry_sdk` spans carrying OpenInference
//! attributes, and their way out of the page.
//!
//! - [`semconv`]: attribute keys and the ten OpenInference span kinds.
//! - [`names`]: the span contract — every span the page makes, with its kind.
//! - [`clock`]: the high-resolution wall clock every span timestamp comes from.
//! - [`span`]: [`span::Traced`], a started SDK span with its context.
//! - [`provider`]: [`provider::Telemetry`], the tracer provider whose exporter only
//!   buffers finished spans ([`provider::SpanBuffer`]), so it never blocks the page.
//! - [`otlp`]: OTLP protobuf and JSON, both ways; [`otlp_json`] reads JSON as every
//!   producer writes it; [`import`] reads big files a slice at a time.
//! - [`redact`]: the "Hide …" switches, and keys scrubbed from what leaves the page.
//! - [`export`]: export settings, validated into an [`export::ExportTarget`].
//! - [`delivery`]: sending spans as the OTLP/HTTP specification asks — retry only what
//!   may succeed, split what is too big, set aside what Phoenix rejects.

pub mod clock;
pub mod delivery;
pub mod export;
pub mod import;
pub mod names;
pub mod otlp;
pub mod otlp_json;
pub mod provider;
pub mod redact;
pub mod semconv;
pub mod span;
