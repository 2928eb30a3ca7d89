//! Statistics per span name, over one trace or many: how often a step ran, how long it
//! took (total, mean, median, 95th percentile), how much of that was its own time, and
//! how often it failed — the statistics view's table.

use std::collections::HashMap;

use super::rows::SpanRow;
use super::timing::Timing;
use crate::telemetry::semconv::StatusCode;

/// The figures of one span name.
#[derive(Debug, Clone, PartialEq)]
pub struct NameStats {
    pub name: String,
    pub count: usize,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Self time summed over the spans (see [`Timing`]).
    pub self_ms: f64,
    pub errors: usize,
}

impl NameStats {
    /// The share of the spans that ended in error, 0 to 1.
    pub fn error_rate(&self) -> f64 {
        self.errors as f64 / self.count as f64
    }
}

/// Per span name over the traces' rows, the most total time first (then by name).
pub fn by_name<'a>(traces: impl IntoIterator<Item = &'a [SpanRow]>) -> Vec<NameStats> {
    let mut seen: HashMap<&str, (Vec<f64>, f64, usize)> = HashMap::new();
    for rows in traces {
        let timing = Timing::of(rows);
        for (row, self_ms) in rows.iter().zip(&timing.self_ms) {
            let (durations, own, errors) = seen.entry(&row.name).or_default();
            durations.push(row.duration_ms);
            *own += self_ms;
            *errors += usize::from(row.status == StatusCode::Error);
        }
    }
    let mut stats: Vec<NameStats> = seen
        .into_iter()
        .map(|(name, (mut durations, self_ms, errors))| {
            durations.sort_by(f64::total_cmp);
            let total_ms: f64 = durations.iter().sum();
            NameStats {
                name: name.to_string(),
                count: durations.len(),
                total_ms,
                mean_ms: total_ms / durations.len() as f64,
                p50_ms: percentile(&durations, 0.50),
                p95_ms: percentile(&durations, 0.95),
                self_ms,
                errors,
            }
        })
        .collect();
    stats.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
    stats
}

/// The nearest-rank percentile `p` (0 to 1) of sorted values; 0 for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.clamp(1, sorted.len().max(1)) - 1)
        .copied()
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert_eq!(percentile(&v, 0.95), 19.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
