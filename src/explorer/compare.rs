//! Two traces side by side: [`Comparison::of`] matches their spans, first by path in
//! the tree (the roots match whatever their names, so a RAG and an Agent run of the
//! same question line up), then what is left by name and order of appearance; and
//! says what changed: durations, the documents retrieved (rank and score), the
//! answers, token counts and cost.

use std::collections::HashMap;

use super::cost::Spend;
use super::rows::SpanRow;
use super::store::TraceRecord;
use crate::telemetry::semconv::{self, SpanKind};

/// How two spans were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    /// The same path of names from the root.
    Path,
    /// The same name, in the same order among the spans left over.
    Name,
}

/// A span of either trace, with its match in the other if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    /// The span's path from the root (the left one's, when both are there).
    pub path: String,
    /// Row indices in each trace.
    pub left: Option<usize>,
    pub right: Option<usize>,
    pub matched: Option<Matched>,
    pub left_ms: Option<f64>,
    pub right_ms: Option<f64>,
}

impl Pair {
    /// Right minus left, when both are there.
    pub fn delta_ms(&self) -> Option<f64> {
        Some(self.right_ms? - self.left_ms?)
    }
}

/// A document a retrieval step returned in either trace: its rank (from 1) and score
/// in each. Retrieval steps are paired as their spans are, so a step only one trace
/// took has its documents on one side only.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentChange {
    /// The retrieval span's path.
    pub path: String,
    pub id: String,
    pub left: Option<(usize, Option<f64>)>,
    pub right: Option<(usize, Option<f64>)>,
}

impl DocumentChange {
    pub fn changed(&self) -> bool {
        self.left != self.right
    }
}

/// Two traces compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub pairs: Vec<Pair>,
    pub documents: Vec<DocumentChange>,
    /// The roots' `output.value`.
    pub answers: (String, String),
    /// `llm.token_count.total` over the LLM spans.
    pub tokens: (i64, i64),
    pub cost: (Spend, Spend),
    pub duration_ms: (f64, f64),
}

impl Comparison {
    pub fn of(left: &TraceRecord, right: &TraceRecord) -> Comparison {
        let (l, r) = (left.rows(), right.rows());
        let (lp, rp) = (paths(&l), paths(&r));
        let mut right_at: HashMap<&str, usize> = HashMap::new();
        for (i, p) in rp.iter().enumerate() {
            right_at.entry(p.as_str()).or_insert(i);
        }
        let mut right_of: Vec<Option<(usize, Matched)>> = lp
            .iter()
            .map(|p| right_at.get(p.as_str()).map(|&j| (j, Matched::Path)))
            .collect();
        // What is left, by name in order of appearance.
        let mut taken = vec![false; r.len()];
        right_of
            .iter()
            .flatten()
            .for_each(|(j, _)| taken[*j] = true);
        for (i, row) in l.iter().enumerate() {
            if right_of[i].is_none() {
                let j = (0..r.len()).find(|&j| !taken[j] && r[j].name == row.name);
                if let Some(j) = j {
                    taken[j] = true;
                    right_of[i] = Some((j, Matched::Name));
                }
            }
        }
        let mut pairs: Vec<Pair> = l
            .iter()
            .enumerate()
            .map(|(i, row)| Pair {
                path: lp[i].clone(),
                left: Some(i),
                right: right_of[i].map(|(j, _)| j),
                matched: right_of[i].map(|(_, m)| m),
                left_ms: Some(row.duration_ms),
                right_ms: right_of[i].map(|(j, _)| r[j].duration_ms),
            })
            .collect();
        pairs.extend((0..r.len()).filter(|&j| !taken[j]).map(|j| Pair {
            path: rp[j].clone(),
            left: None,
            right: Some(j),
            matched: None,
            left_ms: None,
            right_ms: Some(r[j].duration_ms),
        }));
        Comparison {
            documents: documents(&pairs, &l, &r),
            pairs,
            answers: (answer(&l), answer(&r)),
            tokens: (tokens(&l), tokens(&r)),
            cost: (Spend::of_spans(&left.spans), Spend::of_spans(&right.spans)),
            duration_ms: (left.duration_ms(), right.duration_ms()),
        }
    }
}

/// Each row's path of names from the root, `root` for the root itself, a repeated
/// name among siblings numbered (`agent_step#2`).
fn paths(rows: &[SpanRow]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(rows.len());
    // The open ancestors (row index), and per open row how often each child name came.
    let mut open: Vec<usize> = Vec::new();
    let mut seen: Vec<HashMap<String, usize>> = Vec::new();
    let mut roots: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        open.truncate(row.depth);
        seen.truncate(row.depth);
        let path = match open.last() {
            None => {
                let n = roots.entry("root".into()).or_default();
                *n += 1;
                if *n == 1 {
                    "root".to_string()
                } else {
                    format!("root#{n}")
                }
            }
            Some(&parent) => {
                let n = seen[row.depth - 1].entry(row.name.clone()).or_default();
                *n += 1;
                let name = if *n == 1 {
                    row.name.clone()
                } else {
                    format!("{}#{n}", row.name)
                };
                format!("{}/{name}", out[parent])
            }
        };
        out.push(path);
        open.push(i);
        seen.push(HashMap::new());
    }
    out
}

/// The (id, rank, score) of every document a retriever span returned.
fn retrieved(row: &SpanRow) -> Vec<(String, usize, Option<f64>)> {
    if row.kind != Some(SpanKind::Retriever) {
        return Vec::new();
    }
    row.documents()
        .into_iter()
        .enumerate()
        .map(|(i, d)| (d.id, i + 1, d.score))
        .collect()
}

/// The documents of each pair of retrieval steps, side by side.
fn documents(pairs: &[Pair], l: &[SpanRow], r: &[SpanRow]) -> Vec<DocumentChange> {
    let mut out = Vec::new();
    for pair in pairs {
        let ld = pair.left.map(|i| retrieved(&l[i])).unwrap_or_default();
        let rd = pair.right.map(|j| retrieved(&r[j])).unwrap_or_default();
        let side = |docs: &[(String, usize, Option<f64>)], id: &str| {
            docs.iter()
                .find(|(d, ..)| d == id)
                .map(|(_, rank, score)| (*rank, *score))
        };
        let ids = ld.iter().map(|(id, ..)| id).chain(
            rd.iter()
                .map(|(id, ..)| id)
                .filter(|id| side(&ld, id).is_none()),
        );
        out.extend(ids.map(|id| DocumentChange {
            path: pair.path.clone(),
            id: id.clone(),
            left: side(&ld, id),
            right: side(&rd, id),
        }));
    }
    out
}

fn answer(rows: &[SpanRow]) -> String {
    rows.first()
        .and_then(|r| r.attribute(semconv::OUTPUT_VALUE))
        .unwrap_or_default()
        .to_string()
}

fn tokens(rows: &[SpanRow]) -> i64 {
    rows.iter()
        .filter(|r| r.kind == Some(SpanKind::Llm))
        .filter_map(|r| {
            r.attribute(semconv::LLM_TOKEN_COUNT_TOTAL)?
                .parse::<i64>()
                .ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::SpanId;

    fn rows(names: &[(&str, usize)]) -> Vec<SpanRow> {
        names
            .iter()
            .enumerate()
            .map(|(i, (n, d))| SpanRow::for_test(SpanId::from(i as u64 + 1), n, *d, i as f64, 1.0))
            .collect()
    }

    #[test]
    fn paths_number_repeated_siblings_and_name_the_root_root() {
        let r = rows(&[
            ("agent_run", 0),
            ("agent_step", 1),
            ("generation", 2),
            ("agent_step", 1),
            ("generation", 2),
        ]);
        assert_eq!(
            paths(&r),
            [
                "root",
                "root/agent_step",
                "root/agent_step/generation",
                "root/agent_step#2",
                "root/agent_step#2/generation"
            ]
        );
    }
}
