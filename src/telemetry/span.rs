//! [`Traced`]: a started `opentelemetry_sdk` span held in its [`Context`], so children
//! can be parented to it explicitly (the page has no thread-local "current span" across
//! `await` points).
//!
//! Contract: start and end times come from [`clock::now`], never from the SDK's default
//! clock (millisecond-only in the browser). A span ends when its `Traced` is dropped or
//! [`Traced::end`] is called; it ends with status OK unless [`Traced::fail`] was called.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use opentelemetry::trace::{Link, SpanContext, Status, TraceContextExt, TraceId, Tracer as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::trace::SdkTracer;

use super::clock;
use super::names::SpanName;
use super::semconv;

/// A live span and the context that makes it the parent of children.
pub struct Traced {
    cx: Context,
    tracer: SdkTracer,
    failed: Cell<bool>,
    /// Attributes set so far, handed to the span in one call when it ends: one lock of
    /// the SDK's span per span rather than one per attribute.
    attributes: RefCell<Vec<KeyValue>>,
}

impl Traced {
    /// Starts the root span of a new trace.
    pub fn root(tracer: &SdkTracer, name: SpanName) -> Self {
        Self::start(tracer, &Context::new(), name)
    }

    /// Starts the root span of a new trace that links to the span `link` (a replay
    /// names the call it replays).
    pub fn root_linked(tracer: &SdkTracer, name: SpanName, link: SpanContext) -> Self {
        let span = tracer
            .span_builder(name.as_str())
            .with_start_time(clock::now())
            .with_links(vec![Link::with_context(link)])
            .start_with_context(tracer, &Context::new());
        Self::wrap(tracer, &Context::new(), span, name)
    }

    /// Starts a child of this span.
    pub fn child(&self, name: SpanName) -> Self {
        Self::start(&self.tracer, &self.cx, name)
    }

    fn start(tracer: &SdkTracer, parent: &Context, name: SpanName) -> Self {
        let span = tracer
            .span_builder(name.as_str())
            .with_start_time(clock::now())
            .start_with_context(tracer, parent);
        Self::wrap(tracer, parent, span, name)
    }

    fn wrap(
        tracer: &SdkTracer,
        parent: &Context,
        span: opentelemetry_sdk::trace::Span,
        name: SpanName,
    ) -> Self {
        let mut attributes = Vec::with_capacity(16);
        attributes.push(KeyValue::new(semconv::SPAN_KIND, name.kind().as_str()));
        Traced {
            cx: parent.with_span(span),
            tracer: tracer.clone(),
            failed: Cell::new(false),
            attributes: RefCell::new(attributes),
        }
    }

    /// Sets one attribute.
    pub fn set(&self, key: impl Into<opentelemetry::Key>, value: impl Into<Value>) {
        self.attributes.borrow_mut().push(KeyValue::new(key, value));
    }

    /// Adds a timestamped event.
    pub fn event(&self, name: impl Into<Cow<'static, str>>, attributes: Vec<KeyValue>) {
        self.cx
            .span()
            .add_event_with_timestamp(name, clock::now(), attributes);
    }

    /// Marks the span failed: status ERROR with the error's message, and an `exception`
    /// event carrying its type, message and stack trace. Wasm has no native backtrace, so
    /// the stack trace is the error's chain of causes, outermost first, one per line.
    pub fn fail<E: std::error::Error + 'static>(&self, err: &E) {
        let message = err.to_string();
        let ty = std::any::type_name::<E>();
        let mut trace = format!("{ty}: {message}");
        let mut cause = err.source();
        while let Some(c) = cause {
            trace.push_str(&format!("\ncaused by: {c}"));
            cause = c.source();
        }
        self.event(
            semconv::EXCEPTION_EVENT,
            vec![
                KeyValue::new(semconv::EXCEPTION_TYPE, ty),
                KeyValue::new(semconv::EXCEPTION_MESSAGE, message.clone()),
                KeyValue::new(semconv::EXCEPTION_STACKTRACE, trace),
            ],
        );
        self.cx.span().set_status(Status::error(message));
        self.failed.set(true);
    }

    /// The trace id as 32 hex digits.
    pub fn trace_id(&self) -> TraceId {
        self.cx.span().span_context().trace_id()
    }

    /// Ends the span now (the same as dropping it; reads better at the end of a step).
    pub fn end(self) {}
}

impl Drop for Traced {
    fn drop(&mut self) {
        let span = self.cx.span();
        span.set_attributes(self.attributes.take());
        if !self.failed.get() {
            span.set_status(Status::Ok);
        }
        span.end_with_timestamp(clock::now());
    }
}
