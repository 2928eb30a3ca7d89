//! The benchmark table: each question's figures read back from its
//! trace ([`BenchRow`]), and a run's summary ([`BenchSummary`]: hit@1/3/5, MRR, the share
//! of answers holding the fact, p50/p95).

use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;

use super::cost::Spend;
use super::stats::percentile;
use super::store::{attribute, number, TraceRecord};
use crate::rag::eval::{fact_in, Metrics, Query};
use crate::telemetry::names::SpanName;
use crate::telemetry::redact::REDACTED;
use crate::telemetry::semconv;

/// One benchmark question, read back from its trace.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    pub query_id: String,
    pub question: String,
    pub ok: bool,
    pub top_score: f64,
    pub result_count: i64,
    pub answer_words: i64,
    pub total_ms: f64,
    pub retrieval_ms: f64,
    pub generation_ms: f64,
    /// Rank of the expected section among the first retrieval's documents.
    pub rank: Option<usize>,
    /// Whether the answer (the root's `output.value`) states the question's fact;
    /// `None` when the trace does not say (outputs hidden, or no answer recorded).
    pub fact_in_answer: Option<bool>,
    /// What its model calls cost.
    pub cost: Spend,
}

impl BenchRow {
    pub fn from_trace(query: &Query, trace: &TraceRecord) -> BenchRow {
        let first_retrieval = trace
            .spans
            .iter()
            .filter(|s| SpanName::Retrieval.is(&s.name))
            .min_by_key(|s| s.start_time);
        fn attr<'a>(span: Option<&'a SpanData>, key: &str) -> Option<&'a Value> {
            span.and_then(|s| attribute(s, key))
        }
        let number = |v: Option<&Value>| v.and_then(number).unwrap_or(0.0);
        let sections: Vec<String> = (0..)
            .map_while(|i| attr(first_retrieval, &semconv::retrieval_document(i, "id")))
            .map(|id| {
                id.to_string()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let last_generation = trace
            .spans
            .iter()
            .filter(|s| SpanName::Generation.is(&s.name))
            .max_by_key(|s| s.end_time);
        BenchRow {
            query_id: query.id.clone(),
            question: query.question.clone(),
            ok: !trace.has_error(),
            top_score: number(attr(first_retrieval, semconv::RETRIEVAL_TOP_SCORE)),
            result_count: number(attr(first_retrieval, semconv::RETRIEVAL_RESULT_COUNT)) as i64,
            answer_words: number(attr(last_generation, semconv::GENERATION_ANSWER_WORD_COUNT))
                as i64,
            total_ms: trace.duration_ms(),
            retrieval_ms: trace.time_in(SpanName::Retrieval),
            generation_ms: trace.time_in(SpanName::Generation),
            rank: sections
                .iter()
                .position(|s| *s == query.section_id)
                .map(|p| p + 1),
            fact_in_answer: trace
                .root_attribute(semconv::OUTPUT_VALUE)
                .filter(|answer| answer != REDACTED)
                .map(|answer| fact_in(&answer, &query.fact))
                .or(trace.has_error().then_some(false)),
            cost: Spend::of_spans(&trace.spans),
        }
    }
}

/// A benchmark run's summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchSummary {
    pub metrics: Metrics,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// What the run's model calls cost in all.
    pub cost: Spend,
    /// The share of answers that state their question's fact, over the questions whose
    /// traces say; `None` when none does.
    pub fact_in_answer: Option<f64>,
}

impl BenchSummary {
    pub fn of(rows: &[BenchRow]) -> BenchSummary {
        let ranks: Vec<Option<usize>> = rows.iter().map(|r| r.rank).collect();
        let mut ms: Vec<f64> = rows.iter().map(|r| r.total_ms).collect();
        ms.sort_by(f64::total_cmp);
        let pct = |p: f64| percentile(&ms, p);
        BenchSummary {
            metrics: Metrics::from_ranks(&ranks),
            fact_in_answer: {
                let known: Vec<bool> = rows.iter().filter_map(|r| r.fact_in_answer).collect();
                (!known.is_empty())
                    .then(|| known.iter().filter(|f| **f).count() as f64 / known.len() as f64)
            },
            p50_ms: pct(0.5),
            p95_ms: pct(0.95),
            cost: rows
                .iter()
                .map(|r| r.cost)
                .fold(Spend::default(), Spend::plus),
        }
    }
}
