//! Phoenix's REST API beyond OTLP: a person's [`Feedback`] on an answer, sent as a
//! span annotation on the trace's root span (`POST /v1/span_annotations?sync=true`) to
//! the server, with the key, of the export.
//!
//! Retries follow the export's rules (429, 502, 503, 504 and no answer, after
//! `Retry-After` or a backoff), plus one more: a 404 saying the span does not exist.
//! Phoenix stores spans a moment after accepting them, so feedback sent right after an
//! export may arrive before its span does.

use opentelemetry::trace::SpanId;
use serde_json::json;
use thiserror::Error;

use crate::explorer::feedback::Feedback;
use crate::http::{self, HttpClient, Request};
use crate::secret::scrub;
use crate::telemetry::export::ExportTarget;

/// The annotation's name in Phoenix.
pub const FEEDBACK_ANNOTATION: &str = "user feedback";
/// Tries in all, retries included.
const MAX_TRIES: u32 = 6;

/// Why Phoenix does not have the feedback.
#[derive(Debug, Error, PartialEq)]
pub enum AnnotateError {
    #[error("Phoenix refused the feedback (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the feedback could not reach Phoenix: {0}")]
    Unreachable(String),
}

/// The span annotations endpoint beside the export's traces endpoint.
pub fn annotations_url(traces_url: &str) -> String {
    let url = traces_url.trim_end_matches('/');
    let base = url.strip_suffix("/v1/traces").unwrap_or(url);
    format!("{base}/v1/span_annotations?sync=true")
}

/// Sends `feedback` as the annotation of `span_id`.
pub async fn annotate<C: HttpClient>(
    client: &C,
    target: &ExportTarget,
    span_id: SpanId,
    feedback: &Feedback,
) -> Result<(), AnnotateError> {
    let explanation = (!feedback.note.is_empty()).then_some(feedback.note.as_str());
    let body = json!({ "data": [{
        "span_id": span_id.to_string(),
        "name": FEEDBACK_ANNOTATION,
        "annotator_kind": "HUMAN",
        "result": { "label": feedback.label(), "score": feedback.score(), "explanation": explanation },
        "metadata": { "source": "ragtrace" },
    }] })
    .to_string()
    .into_bytes();
    let mut headers = vec![("content-type", "application/json".to_string())];
    headers.extend(
        target
            .headers()
            .into_iter()
            .filter(|(name, _)| *name == "authorization"),
    );
    let url = annotations_url(&target.url);
    for attempt in 1..=MAX_TRIES {
        let mut request = Request::post(url.clone(), body.clone(), target.timeout);
        request.headers = headers.clone();
        let last = attempt == MAX_TRIES;
        let wait = match client.send(request).await {
            Ok(r) if (200..300).contains(&r.status) => return Ok(()),
            Ok(r) => {
                let status = r.status;
                let asked = r
                    .header("retry-after")
                    .and_then(|v| http::retry_after(v, client.now(), http::MAX_BACKOFF));
                let text = r.text().await.unwrap_or_default();
                let message: String = scrub(&text, target.api_key.as_ref())
                    .chars()
                    .take(300)
                    .collect();
                let not_stored_yet = status == 404 && message.contains("not exist");
                if last || !(http::retryable(status) || not_stored_yet) {
                    return Err(AnnotateError::Refused { status, message });
                }
                asked.unwrap_or_else(|| http::backoff(attempt, client.now()))
            }
            Err(e) if last => return Err(AnnotateError::Unreachable(e.to_string())),
            Err(_) => http::backoff(attempt, client.now()),
        };
        client.sleep(wait).await;
    }
    unreachable!("the last try returns")
}
