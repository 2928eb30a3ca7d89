//! Delivery to Phoenix against a scripted HTTP client: what is retried and what is not,
//! 413 and 400/422 bisection, `partial_success`, the trace store's per-span states
//! (every transition), eviction that never drops unexported work, keepalive batches,
//! redaction and key scrubbing at the edge.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::http::{Answer, Script};
use common::spans::sample;
use opentelemetry::trace::SpanId;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use opentelemetry_sdk::trace::SpanData;
use pollster::block_on;
use prost::Message as _;
use ragtrace::explorer::store::{ExportState, TraceRecord, TraceStore};
use ragtrace::http::{HttpError, Request};
use ragtrace::telemetry::delivery::{
    self, deliver, keepalive_requests, ExportError, Outcome, Stopped,
};
use ragtrace::telemetry::export::{ExportSettings, ExportTarget};
use ragtrace::telemetry::otlp;
use ragtrace::telemetry::redact::Redaction;

const URL: &str = "http://127.0.0.1:6006/v1/traces";

fn target(settings: ExportSettings, key: &str) -> ExportTarget {
    let settings = ExportSettings {
        endpoint: URL.into(),
        ..settings
    };
    ExportTarget::parse(&settings, key, "http://127.0.0.1:8080").unwrap()
}

/// `n` traces of two spans each.
fn traces(n: usize) -> Vec<SpanData> {
    (0..n).flat_map(|_| sample()).collect()
}

/// The span ids a request carried.
fn ids_in(request: &Request) -> Vec<SpanId> {
    otlp::decode(&request.body)
        .unwrap()
        .iter()
        .map(|s| s.span_context.span_id())
        .collect()
}

fn run(script: &Script, spans: Vec<SpanData>) -> Outcome {
    block_on(deliver(
        script,
        &target(ExportSettings::default(), ""),
        spans,
    ))
}

#[test]
fn everything_accepted_is_delivered_in_one_request() {
    let spans = traces(3);
    let script = Script::new(|_| Answer::status(200, ""));
    let outcome = run(&script, spans.clone());
    assert_eq!(outcome.delivered.len(), 6);
    assert_eq!(outcome.requests, 1);
    assert_eq!(outcome.stopped, None);
    let request = &script.requests.borrow()[0];
    assert_eq!(request.url, URL);
    assert_eq!(request.timeout, Duration::from_secs(10));
    assert!(!request.keepalive && !request.gzip);
}

#[test]
fn only_429_502_503_504_and_no_answer_are_retried() {
    for status in [429, 502, 503, 504] {
        let script = Script::new(move |_| Answer::status(status, "busy"));
        let outcome = run(&script, traces(1));
        assert!(outcome.delivered.is_empty());
        assert!(
            matches!(outcome.stopped, Some(Stopped::Retry { after: None, .. })),
            "{status}: {:?}",
            outcome.stopped
        );
        assert_eq!(script.requests.borrow().len(), 1, "{status}");
    }
    for status in [400, 401, 403, 404, 415, 500, 501, 507] {
        let script = Script::new(move |_| Answer::status(status, "no"));
        let outcome = run(&script, traces(1));
        assert!(
            !matches!(outcome.stopped, Some(Stopped::Retry { .. })),
            "{status} must not be retried: {outcome:?}"
        );
    }
    let refused = |status| {
        let script = Script::new(move |_| Answer::status(status, "why"));
        run(&script, traces(1)).stopped.unwrap()
    };
    assert_eq!(
        refused(401),
        Stopped::Refused(ExportError::Unauthorized { status: 401 })
    );
    assert!(matches!(
        refused(415),
        Stopped::Refused(ExportError::UnsupportedMediaType { .. })
    ));
    assert_eq!(
        refused(507).error().to_string(),
        "Phoenix answered HTTP 507: why"
    );

    let failures = [
        HttpError::Network {
            url: URL.into(),
            server_answers: false,
        },
        HttpError::Network {
            url: URL.into(),
            server_answers: true,
        },
        HttpError::Timeout {
            url: URL.into(),
            after: Duration::from_secs(10),
        },
    ];
    for failure in failures {
        let script = Script::new({
            let failure = failure.clone();
            move |_| Answer::Fail(failure.clone())
        });
        let stopped = run(&script, traces(1)).stopped.unwrap();
        assert!(matches!(stopped, Stopped::Retry { .. }), "{failure:?}");
    }
    let cors = Script::new(|_| {
        Answer::Fail(HttpError::Network {
            url: URL.into(),
            server_answers: true,
        })
    });
    let advice = run(&cors, traces(1)).stopped.unwrap().error().to_string();
    assert!(
        advice.contains("PHOENIX_ALLOWED_ORIGINS=http://127.0.0.1:8080"),
        "{advice}"
    );
}

#[test]
fn retry_after_is_honoured_as_seconds_or_date_and_ignored_when_bad() {
    let after = |value: &'static str| {
        let script =
            Script::new(move |_| Answer::status(503, "full").with_header("Retry-After", value));
        match run(&script, traces(1)).stopped {
            Some(Stopped::Retry { after, .. }) => after,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(after("7"), Some(Duration::from_secs(7)));
    assert_eq!(
        after("Tue, 14 Nov 2023 22:13:25 GMT"),
        Some(Duration::from_secs(5))
    );
    assert_eq!(after("nan"), None);
    assert_eq!(after("-3"), None);
}

/// Checks that the run ended with `delivered` spans sent and `span` alone set aside;
/// returns its reason.
fn only_set_aside(outcome: &Outcome, span: SpanId, delivered: usize) -> &str {
    assert_eq!(outcome.delivered.len(), delivered);
    assert_eq!(outcome.set_aside.len(), 1);
    assert_eq!(outcome.set_aside[0].0 .1, span);
    assert_eq!(outcome.stopped, None);
    &outcome.set_aside[0].1
}

#[test]
fn a_413_splits_the_batch_down_to_the_span_that_is_too_big_alone() {
    let mut spans = traces(8);
    // One span far bigger than the proxy's limit.
    spans[5].attributes.push(opentelemetry::KeyValue::new(
        "input.value",
        "x".repeat(5_000),
    ));
    let big = spans[5].span_context.span_id();
    let script = Script::new(|r| {
        if r.body.len() > 2_000 {
            Answer::status(413, "Request Entity Too Large")
        } else {
            Answer::status(200, "")
        }
    });
    let outcome = run(&script, spans);
    let reason = only_set_aside(&outcome, big, 15);
    assert!(reason.contains("HTTP 413"), "{reason}");
}

#[test]
fn a_rejected_batch_is_bisected_so_only_the_poisoned_span_is_set_aside() {
    let spans = traces(16);
    let poisoned = spans[21].span_context.span_id();
    let script = Script::new(move |r| {
        if ids_in(r).contains(&poisoned) {
            Answer::status(400, "invalid span: sk-abcdef1234 is not allowed")
        } else {
            Answer::status(200, "")
        }
    });
    let outcome = run(&script, spans);
    let reason = only_set_aside(&outcome, poisoned, 31);
    assert!(
        reason.contains("HTTP 400") && !reason.contains("sk-abc"),
        "{reason}"
    );
    // log2(32) halvings, each costing at most two requests, plus the first.
    assert!(outcome.requests <= 11, "{} requests", outcome.requests);
    // Every span that went was delivered exactly once.
    let delivered: std::collections::HashSet<_> = outcome.delivered.iter().collect();
    assert_eq!(delivered.len(), 31);
}

#[test]
fn a_batch_rejected_whole_stops_after_the_request_cap() {
    let script = Script::new(|_| Answer::status(422, "no"));
    let outcome = run(&script, traces(200));
    assert_eq!(outcome.requests, delivery::MAX_REQUESTS_PER_RUN);
    assert_eq!(
        outcome.stopped,
        Some(Stopped::Refused(ExportError::TooManyRequests))
    );
}

#[test]
fn partial_success_becomes_a_warning() {
    let answer = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 2,
            error_message: "attributes too long".into(),
        }),
    }
    .encode_to_vec();
    let script = Script::new(move |_| {
        Answer::Http(
            200,
            vec![("content-type".into(), "application/x-protobuf".into())],
            vec![answer.clone()],
        )
    });
    let outcome = run(&script, traces(2));
    assert_eq!(
        outcome.warnings,
        ["Phoenix rejected 2 spans of a batch: attributes too long"]
    );
    let json =
        Script::new(|_| Answer::status(200, r#"{"partialSuccess":{"errorMessage":"slow down"}}"#));
    assert_eq!(
        run(&json, traces(1)).warnings,
        ["Phoenix accepted a batch with a warning: slow down"]
    );
}

#[test]
fn redaction_and_key_scrubbing_apply_as_spans_leave() {
    let mut spans = traces(1);
    spans[0].attributes.push(opentelemetry::KeyValue::new(
        "input.value",
        "my private question",
    ));
    spans[1].status = opentelemetry::trace::Status::error("server said: Bearer tok-123456");
    let settings = ExportSettings {
        redaction: Redaction {
            hide_inputs: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let script = Script::new(|_| Answer::status(200, ""));
    block_on(deliver(&script, &target(settings, "phx-key"), spans));
    let sent = otlp::decode(&script.requests.borrow()[0].body).unwrap();
    let text = format!("{sent:?}");
    assert!(!text.contains("my private question"), "{text}");
    assert!(!text.contains("tok-123456"), "{text}");
}

#[test]
fn keepalive_requests_fit_the_budget_and_are_not_gzipped() {
    let settings = ExportSettings {
        gzip: true,
        ..Default::default()
    };
    let requests = keepalive_requests(&target(settings, ""), traces(200), 20_000);
    assert!(!requests.is_empty());
    let bytes: usize = requests.iter().map(|(r, _)| r.body.len()).sum();
    assert!(bytes <= 20_000, "{bytes}");
    let carried: usize = requests.iter().map(|(_, keys)| keys.len()).sum();
    assert!(carried < 400, "not all 400 spans fit");
    for (request, keys) in &requests {
        assert!(request.keepalive && !request.gzip);
        assert_eq!(ids_in(request).len(), keys.len());
    }
}

/// A store holding `spans`, none sent.
fn store_with(spans: Vec<SpanData>) -> TraceStore {
    let mut store = TraceStore::default();
    store.add(spans);
    store
}

#[test]
fn store_states_follow_every_transition() {
    let spans = traces(2);
    let mut store = store_with(spans.clone());
    let state = |s: &TraceStore, i: usize| s.traces[i].export();
    assert_eq!(state(&store, 0), ExportState::Pending);

    // pending → sending
    let sending = store.begin_export();
    assert_eq!(sending.len(), 4);
    assert_eq!(state(&store, 0), ExportState::Sending);
    assert!(
        store.begin_export().is_empty(),
        "nothing is sent twice at once"
    );

    // A span of trace 0 finishing while its export is under way.
    let late = sample()[0].clone();
    let mut late = late;
    late.span_context = opentelemetry::trace::SpanContext::new(
        spans[0].span_context.trace_id(),
        SpanId::from_bytes([9; 8]),
        Default::default(),
        false,
        Default::default(),
    );
    store.add(vec![late]);

    // sending → exported (trace 1) / pending again for the late span (trace 0)
    let delivered = sending.iter().map(delivery::key).collect();
    store.finish_export(&Outcome {
        delivered,
        ..Default::default()
    });
    assert_eq!(state(&store, 1), ExportState::Exported);
    assert_eq!(state(&store, 0), ExportState::Pending);
    assert_eq!(store.unsent_spans().len(), 1);

    // sending → failed (stopped), with the reason; → exported after a retry
    let again = store.begin_export();
    store.finish_export(&Outcome {
        stopped: Some(Stopped::Retry {
            error: ExportError::Busy { status: 503 },
            after: None,
        }),
        ..Default::default()
    });
    assert!(
        matches!(state(&store, 0), ExportState::Failed(ref why) if why.contains("503")),
        "{:?}",
        state(&store, 0)
    );
    assert_eq!(state(&store, 1), ExportState::Exported, "untouched");
    let again: Vec<_> = again.iter().map(delivery::key).collect();
    store.begin_export();
    store.finish_export(&Outcome {
        delivered: again,
        ..Default::default()
    });
    assert_eq!(state(&store, 0), ExportState::Exported);

    // set aside counts as settled; the keepalive flush marks spans delivered.
    assert_eq!(
        one_sent_one_set_aside().traces[0].export(),
        ExportState::Exported
    );
    let mut store = store_with(traces(1));
    let keys: Vec<_> = store.unsent_spans().iter().map(delivery::key).collect();
    store.mark_delivered(&keys);
    assert_eq!(store.traces[0].export(), ExportState::Exported);
    assert_eq!(store.pending_count(), (0, 0));
}

/// A trace of two spans, one delivered and one set aside.
fn one_sent_one_set_aside() -> TraceStore {
    let mut store = store_with(traces(1));
    let spans = store.begin_export();
    store.finish_export(&Outcome {
        delivered: vec![delivery::key(&spans[0])],
        set_aside: vec![(delivery::key(&spans[1]), "too big".into())],
        ..Default::default()
    });
    store
}

#[test]
fn delivery_state_is_kept_between_visits() {
    let store = one_sent_one_set_aside();
    let back = TraceRecord::from_saved(&store.traces[0].to_saved()).unwrap();
    assert_eq!(back.delivery, store.traces[0].delivery);

    let mut failed = store_with(traces(1));
    failed.begin_export();
    failed.finish_export(&Outcome {
        stopped: Some(Stopped::Refused(ExportError::Unauthorized { status: 401 })),
        ..Default::default()
    });
    let back = TraceRecord::from_saved(&failed.traces[0].to_saved()).unwrap();
    assert!(matches!(back.export(), ExportState::Failed(why) if why.contains("API key")));

    // A trace saved by a page from before per-span delivery.
    let old = TraceRecord::from_saved(
        &store.traces[0]
            .to_saved()
            .replace(r#""exported":false"#, r#""exported":true"#),
    )
    .unwrap();
    assert!(old.is_exported());
    assert!(TraceRecord::from_saved("{broken").is_err());
}

#[test]
fn eviction_never_drops_unexported_traces() {
    let mut store = TraceStore::default();
    for i in 0..1_100 {
        store.add(sample());
        if i >= 200 {
            let keys: Vec<_> = store.traces[i].spans.iter().map(delivery::key).collect();
            store.mark_delivered(&keys);
        }
    }
    let unexported: Vec<_> = store.traces[..200].iter().map(|t| t.trace_id).collect();
    let eviction = store.evict(1_000, usize::MAX, |_| 1);
    assert_eq!(eviction.removed, 100);
    assert!(!eviction.over);
    assert_eq!(store.traces.len(), 1_000);
    assert!(unexported.iter().all(|id| store.get(*id).is_some()));

    // Only unexported traces left over the bound: they all stay, and it is said.
    let mut store = TraceStore::default();
    for _ in 0..5 {
        store.add(sample());
    }
    let eviction = store.evict(2, usize::MAX, |_| 1);
    assert_eq!(eviction.removed, 0);
    assert!(eviction.over);
    assert_eq!(store.traces.len(), 5);

    // The size bound evicts exported traces, oldest first; the newest always stays.
    let mut store = TraceStore::default();
    for _ in 0..3 {
        store.add(sample());
    }
    let keys: Vec<_> = store.unsent_spans().iter().map(delivery::key).collect();
    store.mark_delivered(&keys);
    let newest = store.traces[2].trace_id;
    let eviction = store.evict(10, 0, |_| 1);
    assert_eq!(eviction.removed, 2);
    assert_eq!(store.traces[0].trace_id, newest);
}

#[test]
fn a_run_is_summed_up_in_words() {
    let spans = traces(2);
    let keys: Vec<_> = spans.iter().map(delivery::key).collect();
    let outcome = Outcome {
        delivered: keys[..3].to_vec(),
        set_aside: vec![(keys[3], "too big".into())],
        warnings: vec!["Phoenix accepted a batch with a warning: w".into()],
        requests: 3,
        ..Default::default()
    };
    assert_eq!(
        outcome.summary("p"),
        "Exported 2 traces (3 spans) to project \"p\". 1 spans were set aside: Phoenix will not take them (listed below). Phoenix accepted a batch with a warning: w"
    );
    assert_eq!(
        Outcome::default().summary("p"),
        "Every trace is already exported."
    );
}

#[test]
fn imported_traces_go_back_to_the_project_their_file_named() {
    let file = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"imported","kind":1,"startTimeUnixNano":"1","endTimeUnixNano":"2"}]}],
      "resource":{"attributes":[{"key":"openinference.project.name","value":{"stringValue":"their-project"}}]}}]}"#;
    let imported = ragtrace::telemetry::import::ImportJob::new(file.into())
        .finish()
        .unwrap();
    let mut store = TraceStore::default();
    let own = traces(1);
    store.add(own.clone());
    store.add_imported(imported);
    // The page's own trace, imported again (as from its own download), stays its own.
    let provider_resource = ragtrace::telemetry::provider::resource("elsewhere");
    store.add_imported(
        own.into_iter()
            .map(|s| (Some(provider_resource.clone()), s))
            .collect(),
    );
    let their = store.traces[1].resource.clone().unwrap();
    assert_eq!(otlp::project_of(&their).as_deref(), Some("their-project"));
    assert!(store.traces[0].resource.is_none(), "the page's own trace");
    let back = TraceRecord::from_saved(&store.traces[1].to_saved()).unwrap();
    assert_eq!(back.resource.as_ref(), Some(&their));
    let own = TraceRecord::from_saved(&store.traces[0].to_saved()).unwrap();
    assert!(own.resource.is_none(), "stays the page's after a reload");

    let spans = store.begin_export();
    let groups = store.by_resource(spans);
    assert_eq!(groups.len(), 2);
    assert_eq!((groups[0].0.as_ref(), groups[0].1.len()), (None, 2));
    assert_eq!((groups[1].0.as_ref(), groups[1].1.len()), (Some(&their), 1));
    let page_target = target(ExportSettings::default(), "");
    let script = Script::new(|_| Answer::status(200, ""));
    for (resource, spans) in groups {
        block_on(deliver(
            &script,
            &page_target.for_resource(resource.as_ref()),
            spans,
        ));
    }
    let requests = script.requests.borrow();
    let project_of = |r: &Request| {
        r.headers
            .iter()
            .find(|(k, _)| *k == "x-project-name")
            .map(|(_, v)| v.clone())
    };
    assert_eq!(project_of(&requests[0]).as_deref(), Some("ragtrace"));
    assert_eq!(project_of(&requests[1]).as_deref(), Some("their-project"));
    let body = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
        requests[1].body.as_slice(),
    )
    .unwrap();
    assert!(format!("{body:?}").contains("their-project"));
}

/// Feedback goes to the span annotations endpoint beside the traces endpoint, waits
/// for a span Phoenix has not stored yet (404 "do not exist") and for 503s, and stops
/// at a refusal, whose message never shows the key.
#[test]
fn feedback_waits_for_its_span_and_stops_at_a_refusal() {
    use ragtrace::explorer::feedback::Feedback;
    use ragtrace::phoenix::{annotate, AnnotateError};
    let root = SpanId::from_hex("00f067aa0ba902b7").unwrap();
    let feedback = Feedback::new(false, " misses the limit ");
    let script = Script::answers(vec![
        Answer::status(404, "Spans with IDs 00f067aa0ba902b7 do not exist."),
        Answer::status(503, "busy").with_header("retry-after", "2"),
        Answer::status(200, r#"{"data":[{"id":"1"}]}"#),
    ]);
    let target = target(ExportSettings::default(), "px-secret-key");
    assert_eq!(
        block_on(annotate(&script, &target, root, &feedback)),
        Ok(())
    );
    let requests = script.requests.borrow();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        requests[0].url,
        "http://127.0.0.1:6006/v1/span_annotations?sync=true"
    );
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).unwrap();
    let annotation = &body["data"][0];
    assert_eq!(annotation["span_id"], "00f067aa0ba902b7");
    assert_eq!(annotation["result"]["label"], "bad");
    assert_eq!(annotation["result"]["explanation"], "misses the limit");
    assert!(requests[0]
        .headers
        .contains(&("authorization", "Bearer px-secret-key".to_string())));
    assert_eq!(script.slept.borrow()[1], Duration::from_secs(2));

    let script = Script::answers(vec![Answer::status(
        422,
        "invalid annotation for key px-secret-key",
    )]);
    let err = block_on(annotate(&script, &target, root, &feedback)).unwrap_err();
    assert!(matches!(err, AnnotateError::Refused { status: 422, .. }));
    assert!(!err.to_string().contains("px-secret-key"), "{err}");
    assert_eq!(script.requests.borrow().len(), 1);
}
