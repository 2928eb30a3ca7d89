//! Telemetry: real `opentelemetry_sdk` spans carrying OpenInference attributes.
//!
//! - [`semconv`]: attribute keys and the ten OpenInference span kinds.
//! - [`genai`]: OpenTelemetry's `gen_ai.*` conventions read as OpenInference views.
//! - [`clock`]: the high-resolution wall clock every span timestamp comes from.
//! - [`span`]: [`span::Traced`], a started SDK span with its context.
//! - [`provider`]: [`provider::Telemetry`], the tracer provider whose exporter only
//!   buffers finished spans ([`provider::SpanBuffer`]), so it never blocks the page.
//! - [`store`]: [`store::TraceStore`], finished spans grouped into traces and laid out
//!   as rows for the span table and waterfall.
//! - [`tree`]: [`tree::Outline`], the waterfall's collapsed spans and keyboard moves.
//! - [`query`]: [`query::SpanQuery`], the spans table's filters and sort across traces.
//! - [`otlp`]: OTLP protobuf and JSON, both ways; [`otlp_json`] reads JSON as every
//!   producer writes it.
//! - [`redact`]: the "Hide …" switches, and keys scrubbed from what leaves the page.
//! - [`export`]: export settings, validated into an [`export::ExportTarget`].
//! - [`delivery`]: sending spans as the OTLP/HTTP specification asks — retry only what
//!   may succeed, split what is too big, set aside what Phoenix rejects.

pub mod clock;
pub mod delivery;
pub mod export;
pub mod genai;
pub mod otlp;
pub mod otlp_json;
pub mod provider;
pub mod query;
pub mod redact;
pub mod semconv;
pub mod span;
pub mod store;
pub mod tree;
