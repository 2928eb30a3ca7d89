//! Where a trace's time went, from its [`SpanRow`]s: each span's **self time** (its
//! duration less the time its children cover) and the **critical path** (the spans the
//! trace's end waited on, as Jaeger draws it).
//!
//! The critical path starts at the root. Within a span, walking back from its end,
//! the child that finished last before the cursor is on the path (and, within it, the
//! same again); the cursor then moves to that child's start, and the next child that
//! finished before it is on the path too. Time no child covers is the span's own.

use super::rows::SpanRow;

/// Self time and critical path, one entry per row (in the rows' order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timing {
    pub self_ms: Vec<f64>,
    pub critical: Vec<bool>,
}

impl Timing {
    /// The timing of a trace's rows (depth-first, as [`crate::explorer::store::TraceRecord::rows`] gives them).
    pub fn of(rows: &[SpanRow]) -> Timing {
        let children = children(rows);
        let self_ms = (0..rows.len())
            .map(|i| self_time(rows, i, &children[i]))
            .collect();
        let mut critical = vec![false; rows.len()];
        for root in (0..rows.len()).filter(|&i| rows[i].depth == 0) {
            walk(rows, &children, root, end(&rows[root]), &mut critical);
        }
        Timing { self_ms, critical }
    }
}

fn end(r: &SpanRow) -> f64 {
    r.offset_ms + r.duration_ms
}

/// Each row's children, as row indices. A row's parent is the nearest row before it
/// one level up, which is what a depth-first listing means.
fn children(rows: &[SpanRow]) -> Vec<Vec<usize>> {
    let mut children = vec![Vec::new(); rows.len()];
    let mut open: Vec<usize> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        open.truncate(r.depth);
        if let Some(&parent) = open.last() {
            children[parent].push(i);
        }
        open.push(i);
    }
    children
}

/// The span's duration less the union of its children's intervals within it.
fn self_time(rows: &[SpanRow], i: usize, kids: &[usize]) -> f64 {
    let (start, stop) = (rows[i].offset_ms, end(&rows[i]));
    let mut spans: Vec<(f64, f64)> = kids
        .iter()
        .map(|&c| (rows[c].offset_ms.max(start), end(&rows[c]).min(stop)))
        .filter(|(a, b)| b > a)
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut covered = 0.0;
    let mut reach = start;
    for (a, b) in spans {
        if b > reach {
            covered += b - a.max(reach);
            reach = b;
        }
    }
    (rows[i].duration_ms - covered).max(0.0)
}

/// Marks `i` and, walking back from `until`, the children the span waited on.
fn walk(rows: &[SpanRow], children: &[Vec<usize>], i: usize, until: f64, critical: &mut [bool]) {
    critical[i] = true;
    let mut cursor = until.min(end(&rows[i]));
    loop {
        // The child that finished last among those that started before the cursor.
        let last = children[i]
            .iter()
            .copied()
            .filter(|&c| rows[c].offset_ms < cursor)
            .max_by(|&a, &b| {
                end(&rows[a])
                    .min(cursor)
                    .total_cmp(&end(&rows[b]).min(cursor))
                    .then(b.cmp(&a)) // the earlier row on a tie
            });
        let Some(child) = last else { break };
        walk(rows, children, child, cursor, critical);
        cursor = rows[child].offset_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row at `depth` from `start` to `stop` ms.
    fn row(name: &str, depth: usize, start: f64, stop: f64) -> SpanRow {
        let id = opentelemetry::trace::SpanId::from(start.to_bits() ^ stop.to_bits());
        SpanRow::for_test(id, name, depth, start, stop - start)
    }

    #[test]
    fn sequential_children_are_all_on_the_path_and_gaps_are_self_time() {
        // root 0..100: a 10..40, b 50..90 (with b1 50..60, b2 55..85 overlapping)
        let rows = [
            row("root", 0, 0.0, 100.0),
            row("a", 1, 10.0, 40.0),
            row("b", 1, 50.0, 90.0),
            row("b1", 2, 50.0, 60.0),
            row("b2", 2, 55.0, 85.0),
        ];
        let t = Timing::of(&rows);
        assert_eq!(t.self_ms, vec![30.0, 30.0, 5.0, 10.0, 30.0]);
        // b waited on b2 (it ends last), and before b2 started, on b1.
        assert_eq!(t.critical, vec![true, true, true, true, true]);
    }

    #[test]
    fn a_parallel_child_that_finished_early_is_off_the_path() {
        // fast and slow run side by side; after them, last.
        let rows = [
            row("root", 0, 0.0, 100.0),
            row("fast", 1, 0.0, 20.0),
            row("slow", 1, 0.0, 60.0),
            row("last", 1, 60.0, 100.0),
        ];
        let t = Timing::of(&rows);
        assert_eq!(t.critical, vec![true, false, true, true]);
        assert_eq!(t.self_ms[0], 0.0);
    }
}
