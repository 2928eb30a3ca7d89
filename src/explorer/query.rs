//! [`SpanQuery`]: the spans table's filters and sort over one trace or every trace in
//! the store (what the tutorial did with pandas span tables), and [`FoundSpan`], one row of its result.
//! The `attribute` filter is typed text, parsed once into an [`AttributeFilter`].

use std::cmp::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::TraceId;
use thiserror::Error;

use super::rows::SpanRow;
use super::store::TraceStore;
use crate::telemetry::semconv::{self, SpanKind, StatusCode};

/// The column the table is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Traces newest first, each as its span tree.
    #[default]
    Tree,
    Name,
    Kind,
    Status,
    Duration,
    /// The query or model (each row's key attribute).
    Detail,
    Start,
}

/// What the spans table shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanQuery {
    /// Only this trace; `None`: every trace.
    pub trace_id: Option<TraceId>,
    /// Case-insensitive part of the span name.
    pub name: String,
    /// `None`: any kind.
    pub kind: Option<SpanKind>,
    /// `None`: any status.
    pub status: Option<StatusCode>,
    /// `key=value` (the attribute has exactly this value) or `key` (it is set).
    pub attribute: String,
    pub sort: SortKey,
    pub descending: bool,
}

/// Why the attribute filter could not be read.
#[derive(Debug, Error, PartialEq)]
pub enum QueryError {
    #[error("the attribute filter needs a key before \"=\", as in llm.model_name=gpt-4o-mini")]
    NoKey,
}

/// The parsed `attribute` filter.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeFilter {
    pub key: String,
    /// `None`: any value.
    pub value: Option<String>,
}

impl AttributeFilter {
    /// Reads `key=value` or `key`; blank text is no filter.
    pub fn parse(text: &str) -> Result<Option<AttributeFilter>, QueryError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim().to_string())),
            None => (text, None),
        };
        if key.is_empty() {
            return Err(QueryError::NoKey);
        }
        Ok(Some(AttributeFilter {
            key: key.to_string(),
            value,
        }))
    }

    fn matches(&self, row: &SpanRow) -> bool {
        row.attribute(&self.key)
            .is_some_and(|v| self.value.as_ref().is_none_or(|want| want == v))
    }
}

/// One span found, with the trace it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundSpan {
    pub trace_id: TraceId,
    /// The trace's question (its root's `input.value`), for rows from every trace.
    pub question: String,
    pub start: SystemTime,
    pub row: SpanRow,
}

impl TraceStore {
    /// The spans `query` selects, in its order.
    pub fn find_spans(&self, query: &SpanQuery) -> Result<Vec<FoundSpan>, QueryError> {
        let attribute = AttributeFilter::parse(&query.attribute)?;
        let name = query.name.trim().to_lowercase();
        let mut found: Vec<FoundSpan> = self
            .traces
            .iter()
            .rev()
            .filter(|t| query.trace_id.is_none_or(|id| id == t.trace_id))
            .flat_map(|t| {
                let t0 = t.spans.iter().map(|s| s.start_time).min();
                let question = t.root_attribute(semconv::INPUT_VALUE).unwrap_or_default();
                t.rows().into_iter().map(move |row| FoundSpan {
                    trace_id: t.trace_id,
                    question: question.clone(),
                    start: t0.unwrap_or(UNIX_EPOCH) + Duration::from_secs_f64(row.offset_ms / 1e3),
                    row,
                })
            })
            .filter(|f| {
                let r = &f.row;
                (name.is_empty() || r.name.to_lowercase().contains(&name))
                    && query.kind.is_none_or(|k| r.kind == Some(k))
                    && query.status.is_none_or(|s| r.status == s)
                    && attribute.as_ref().is_none_or(|a| a.matches(r))
            })
            .collect();
        let by = |a: &FoundSpan, b: &FoundSpan| -> Ordering {
            let (x, y) = (&a.row, &b.row);
            match query.sort {
                SortKey::Tree => Ordering::Equal,
                SortKey::Name => x.name.cmp(&y.name),
                SortKey::Kind => x.kind.cmp(&y.kind),
                SortKey::Status => x.status.cmp(&y.status),
                SortKey::Duration => x.duration_ms.total_cmp(&y.duration_ms),
                SortKey::Detail => x.key_attribute.cmp(&y.key_attribute),
                SortKey::Start => a.start.cmp(&b.start),
            }
        };
        // Stable sorts: ties keep tree order.
        if query.descending {
            found.sort_by(|a, b| by(b, a));
        } else {
            found.sort_by(by);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_filters_parse() {
        assert_eq!(AttributeFilter::parse("  "), Ok(None));
        assert_eq!(
            AttributeFilter::parse("llm.model_name = gpt-4o"),
            Ok(Some(AttributeFilter {
                key: "llm.model_name".into(),
                value: Some("gpt-4o".into())
            }))
        );
        assert_eq!(
            AttributeFilter::parse("tool.name"),
            Ok(Some(AttributeFilter {
                key: "tool.name".into(),
                value: None
            }))
        );
        assert_eq!(AttributeFilter::parse("=x"), Err(QueryError::NoKey));
    }
}
