//! Delivery to Phoenix as the OTLP/HTTP specification asks (opentelemetry-proto's
//! `docs/specification.md`), over the page's [`HttpClient`] seam.
//!
//! [`deliver`] sends spans in batches under [`otlp::MAX_BATCH_BYTES`] and reports, span
//! by span, what became of them ([`Outcome`]); the trace store turns that into each
//! trace's state, so spans not reported delivered or set aside simply stay pending.
//! - 2xx: delivered; a `partial_success` in the answer becomes a warning.
//! - 413 (too big): the batch is split in halves and each half sent, down to one span;
//!   a single span still too big is set aside with the reason.
//! - 400 / 422 (rejected): bisected the same way, so only the bad spans are set aside
//!   and every other span still goes.
//! - 429, 502, 503, 504, no answer, timeout: the run stops and asks to be retried,
//!   after `Retry-After` when the server gave one ([`Stopped::Retry`]).
//! - anything else: the run stops for the user to fix and Retry ([`Stopped::Refused`]).
//!
//! [`keepalive_requests`] are the requests for the flush when the page is hidden or
//! closed: unzipped, within the browser's keepalive budget.

use std::collections::HashSet;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource;
use prost::Message;
use thiserror::Error;

use super::export::ExportTarget;
use super::{otlp, redact};
use crate::http::{self, HttpClient, HttpError, Request};
use crate::secret::scrub;

/// One span, by its ids.
pub type SpanKey = (TraceId, SpanId);

/// Requests one run makes at most; bisecting a batch Phoenix rejects whole costs about
/// two per span, and a run past this stops for the user instead.
pub const MAX_REQUESTS_PER_RUN: u32 = 256;
/// The bytes of keepalive bodies a page may have in flight (fetch's limit is 64 KiB;
/// headers count too).
pub const KEEPALIVE_BUDGET: usize = 60 * 1024;
/// Characters of a server's answer kept in a reason.
const REASON_CHARS: usize = 300;

/// Why a run stopped, with the fix in words.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ExportError {
    #[error("Could not reach Phoenix at {url}. Start it (make phoenix) or correct the Phoenix endpoint; the traces stay pending.")]
    Unreachable { url: String },
    #[error("Phoenix at {url} gave no answer to this page: the connection dropped, or Phoenix refuses this page's origin (CORS) — then restart it with PHOENIX_ALLOWED_ORIGINS={origin}, or use the same-origin endpoint /v1/traces that `make run` proxies.")]
    NoAnswer { url: String, origin: String },
    #[error("Phoenix at {url} did not answer within {secs} s.")]
    TimedOut { url: String, secs: f64 },
    #[error(
        "Phoenix refused the API key (HTTP {status}): enter a valid key in \"Phoenix API key\"."
    )]
    Unauthorized { status: u16 },
    #[error("Phoenix did not accept the request's format (HTTP 415): {body}")]
    UnsupportedMediaType { body: String },
    #[error("Phoenix is busy or behind a failing gateway (HTTP {status}).")]
    Busy { status: u16 },
    #[error("Phoenix answered HTTP {status}: {body}")]
    Failed { status: u16, body: String },
    #[error("The request could not be sent: {0}")]
    Request(HttpError),
    #[error("Stopped after {MAX_REQUESTS_PER_RUN} requests in one export (Phoenix rejected batch after batch); press Retry to go on.")]
    TooManyRequests,
}

/// Why a run stopped before every span was delivered or set aside.
#[derive(Debug, Clone, PartialEq)]
pub enum Stopped {
    /// Worth sending again unchanged, after `after` when the server said so.
    Retry {
        error: ExportError,
        after: Option<Duration>,
    },
    /// Will fail again until the user changes something; kept for a manual Retry.
    Refused(ExportError),
}

impl Stopped {
    pub fn error(&self) -> &ExportError {
        match self {
            Stopped::Retry { error, .. } | Stopped::Refused(error) => error,
        }
    }
}

/// What one run did with the spans it was given.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// Spans Phoenix accepted.
    pub delivered: Vec<SpanKey>,
    /// Spans that will never be accepted, with the reason (413 or 400/422 alone).
    pub set_aside: Vec<(SpanKey, String)>,
    /// `partial_success` messages of accepted batches.
    pub warnings: Vec<String>,
    pub stopped: Option<Stopped>,
    pub requests: u32,
}

impl Outcome {
    /// Adds what a run to another project did (the first stop stands).
    pub fn merge(&mut self, other: Outcome) {
        self.delivered.extend(other.delivered);
        self.set_aside.extend(other.set_aside);
        self.warnings.extend(other.warnings);
        self.requests += other.requests;
        self.stopped = self.stopped.take().or(other.stopped);
    }

    /// A finished run in words: what went where, what was set aside, the warnings. A
    /// run that sent nothing found everything delivered (by another tab, meanwhile).
    pub fn summary(&self, project: &str) -> String {
        if self.requests == 0 {
            return "Every trace is already exported.".into();
        }
        let traces: HashSet<TraceId> = self.delivered.iter().map(|(t, _)| *t).collect();
        let mut text = format!(
            "Exported {} traces ({} spans) to project \"{project}\".",
            traces.len(),
            self.delivered.len()
        );
        if !self.set_aside.is_empty() {
            text.push_str(&format!(
                " {} spans were set aside: Phoenix will not take them (listed below).",
                self.set_aside.len()
            ));
        }
        for warning in &self.warnings {
            text.push(' ');
            text.push_str(warning);
        }
        text
    }
}

/// What an answer means for the batch it answers.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Accepted, with a `partial_success` warning if any.
    Accepted(Option<String>),
    /// 413, 400 or 422: split, or set aside when alone; the reason.
    Split(String),
    Stop(Stopped),
}

/// Sends `spans` (redacted again by the target's switches) and says what became of each.
pub async fn deliver<C: HttpClient>(
    client: &C,
    target: &ExportTarget,
    spans: Vec<SpanData>,
) -> Outcome {
    let resource = target.resource();
    let mut work = otlp::batches(outgoing(target, spans), &resource, otlp::MAX_BATCH_BYTES);
    work.reverse(); // a stack whose top is the oldest batch
    let mut outcome = Outcome::default();
    while let Some(mut batch) = work.pop() {
        if outcome.requests >= MAX_REQUESTS_PER_RUN {
            outcome.stopped = Some(Stopped::Refused(ExportError::TooManyRequests));
            break;
        }
        outcome.requests += 1;
        let keys: Vec<SpanKey> = batch.iter().map(key).collect();
        match send(client, target, &resource, batch.clone()).await {
            Verdict::Accepted(warning) => {
                outcome.delivered.extend(keys);
                outcome.warnings.extend(warning);
            }
            Verdict::Split(reason) if batch.len() == 1 => {
                outcome.set_aside.push((keys[0], reason));
            }
            Verdict::Split(_) => {
                let second = batch.split_off(batch.len() / 2);
                work.push(second);
                work.push(batch);
            }
            Verdict::Stop(stopped) => {
                outcome.stopped = Some(stopped);
                break;
            }
        }
    }
    outcome
}

/// The keepalive requests for the flush on page hide: whole batches, in order, while
/// they fit in `budget` bytes; each with the keys of its spans. Never gzipped:
/// compressing is asynchronous, and the page may be gone before it ends.
pub fn keepalive_requests(
    target: &ExportTarget,
    spans: Vec<SpanData>,
    budget: usize,
) -> Vec<(Request, Vec<SpanKey>)> {
    let resource = target.resource();
    let headers = target.headers();
    let header_bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut left = budget;
    let mut out = Vec::new();
    for batch in otlp::batches(outgoing(target, spans), &resource, budget) {
        let keys = batch.iter().map(key).collect();
        let body = otlp::encode(batch, &resource);
        let Some(rest) = left.checked_sub(body.len() + header_bytes) else {
            break;
        };
        left = rest;
        let mut request = Request::post(&target.url, body, target.timeout);
        request.headers = headers.clone();
        request.keepalive = true;
        out.push((request, keys));
    }
    out
}

/// The key of a span.
pub fn key(span: &SpanData) -> SpanKey {
    (span.span_context.trace_id(), span.span_context.span_id())
}

/// Spans as they may leave the page: the target's redaction applied again, keys
/// scrubbed from status messages and events.
fn outgoing(target: &ExportTarget, mut spans: Vec<SpanData>) -> Vec<SpanData> {
    let key = target.api_key.as_ref();
    for span in &mut spans {
        target.redaction.apply(span);
        redact::scrub_secrets(span, key);
    }
    spans
}

async fn send<C: HttpClient>(
    client: &C,
    target: &ExportTarget,
    resource: &Resource,
    batch: Vec<SpanData>,
) -> Verdict {
    let mut request = Request::post(&target.url, otlp::encode(batch, resource), target.timeout);
    request.headers = target.headers();
    request.gzip = target.gzip;
    request.idle_timeout = Some(target.timeout);
    let response = match client.send(request).await {
        Ok(r) => r,
        Err(e) => return Verdict::Stop(no_answer(e, target)),
    };
    let status = response.status;
    let after = response
        .header("retry-after")
        .and_then(|v| http::retry_after(v, client.now(), http::MAX_BACKOFF));
    let protobuf = response
        .header("content-type")
        .is_some_and(|t| t.contains("protobuf"));
    let body = match response.bytes().await {
        Ok(b) => b,
        // The head came, the body broke: the batch's fate is unknown, so send it again.
        Err(e) => return Verdict::Stop(no_answer(e, target)),
    };
    let reason = || {
        let text = String::from_utf8_lossy(&body);
        scrub(&text, target.api_key.as_ref())
            .chars()
            .take(REASON_CHARS)
            .collect::<String>()
    };
    match status {
        200..=299 => Verdict::Accepted(partial_success(&body, protobuf)),
        413 => Verdict::Split(format!(
            "too big for the server even alone (HTTP 413): {}",
            reason()
        )),
        400 | 422 => Verdict::Split(format!("rejected by Phoenix (HTTP {status}): {}", reason())),
        s if http::retryable(s) => Verdict::Stop(Stopped::Retry {
            error: ExportError::Busy { status },
            after,
        }),
        401 | 403 => Verdict::Stop(Stopped::Refused(ExportError::Unauthorized { status })),
        415 => Verdict::Stop(Stopped::Refused(ExportError::UnsupportedMediaType {
            body: reason(),
        })),
        _ => Verdict::Stop(Stopped::Refused(ExportError::Failed {
            status,
            body: reason(),
        })),
    }
}

/// A request that got no (whole) answer: retried, unless it could not be made at all.
fn no_answer(error: HttpError, target: &ExportTarget) -> Stopped {
    let url = target.url.clone();
    let error = match error {
        HttpError::Network {
            server_answers: false,
            ..
        } => ExportError::Unreachable { url },
        HttpError::Network { .. } | HttpError::Broken(_) | HttpError::Aborted => {
            ExportError::NoAnswer {
                url,
                origin: target.origin.clone(),
            }
        }
        HttpError::Timeout { after, .. } | HttpError::Stalled { after, .. } => {
            ExportError::TimedOut {
                url,
                secs: after.as_secs_f64(),
            }
        }
        e @ (HttpError::InvalidRequest(_) | HttpError::Gzip(_)) => {
            return Stopped::Refused(ExportError::Request(e))
        }
    };
    Stopped::Retry { error, after: None }
}

/// The warning of an `ExportTraceServiceResponse` (protobuf, or JSON in either field
/// spelling) whose `partial_success` is set; `None` for an empty or unreadable answer.
fn partial_success(body: &[u8], protobuf: bool) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let (rejected, message) = if protobuf {
        let partial = ExportTraceServiceResponse::decode(body)
            .ok()?
            .partial_success?;
        (partial.rejected_spans, partial.error_message)
    } else {
        let json: serde_json::Value = serde_json::from_slice(body).ok()?;
        let field = |v: &serde_json::Value, camel: &str, snake: &str| {
            v.get(camel).or_else(|| v.get(snake)).cloned()
        };
        let partial = field(&json, "partialSuccess", "partial_success")?;
        // proto3 JSON writes int64 as a string or a number.
        let rejected = match field(&partial, "rejectedSpans", "rejected_spans") {
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(0),
            Some(n) => n.as_i64().unwrap_or(0),
            None => 0,
        };
        let message = field(&partial, "errorMessage", "error_message")
            .and_then(|m| m.as_str().map(str::to_string))
            .unwrap_or_default();
        (rejected, message)
    };
    let message = message.chars().take(REASON_CHARS).collect::<String>();
    match (rejected, message.is_empty()) {
        (0, true) => None,
        (0, false) => Some(format!(
            "Phoenix accepted a batch with a warning: {message}"
        )),
        (n, _) => Some(format!("Phoenix rejected {n} spans of a batch: {message}")),
    }
}
