//! [`Telemetry`]: an `SdkTracerProvider` with a `SimpleSpanProcessor` feeding
//! [`SpanBuffer`], an exporter that only appends finished spans to a shared buffer.
//!
//! Why: the simple processor `block_on`s the exporter's future, so an exporter that
//! waited on the network would freeze the page; and `BatchSpanProcessor` needs threads,
//! which wasm lacks. Sending to Phoenix happens elsewhere, from the buffer's contents.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::redact::Redaction;
use super::semconv;

/// Instrumentation scope name of every span the page makes.
pub const SCOPE: &str = "ragtrace";

/// Finished spans waiting to be collected; cloning shares the buffer.
#[derive(Debug, Clone, Default)]
pub struct SpanBuffer(Arc<Mutex<Vec<SpanData>>>);

impl SpanBuffer {
    /// Takes every span finished since the last call.
    pub fn take(&self) -> Vec<SpanData> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl SpanExporter for SpanBuffer {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(batch);
        std::future::ready(Ok(()))
    }
}

/// The resource of the page's spans: service `ragtrace`, filed under `project`.
pub fn resource(project: &str) -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new(semconv::SERVICE_NAME, "ragtrace"),
            KeyValue::new(semconv::PROJECT_NAME, project.to_string()),
            KeyValue::new("telemetry.sdk.name", "opentelemetry"),
            KeyValue::new("telemetry.sdk.language", "rust"),
        ])
        .build()
}

/// The tracer provider of one page (or one test), its tracer and its span buffer.
pub struct Telemetry {
    // Kept so the provider (and its processor) lives as long as the tracer.
    _provider: SdkTracerProvider,
    pub tracer: SdkTracer,
    pub resource: Resource,
    buffer: SpanBuffer,
}

/// Attributes a span keeps; the SDK's default, 128, silently drops the rest, which an
/// agent's later LLM calls (every message so far, its tool calls and the tools' schemas)
/// and an indexing's `CreateEmbeddings` span (up to `engine::MAX_RECORDED_TEXTS` texts)
/// go past.
const MAX_ATTRIBUTES_PER_SPAN: u32 = 1024;

impl Telemetry {
    /// A provider whose resource names the service `ragtrace` and the Phoenix project.
    pub fn new(project: &str) -> Self {
        let resource = resource(project);
        let buffer = SpanBuffer::default();
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_simple_exporter(buffer.clone())
            .with_max_attributes_per_span(MAX_ATTRIBUTES_PER_SPAN)
            .build();
        let tracer = provider.tracer(SCOPE);
        Telemetry {
            _provider: provider,
            tracer,
            resource,
            buffer,
        }
    }

    /// Takes every span finished since the last call, with `redaction` applied, so
    /// hidden values never reach the store or an export.
    pub fn take_finished(&self, redaction: &Redaction) -> Vec<SpanData> {
        let mut spans = self.buffer.take();
        spans.iter_mut().for_each(|s| redaction.apply(s));
        spans
    }
}
