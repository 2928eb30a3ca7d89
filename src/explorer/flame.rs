//! Flame graphs (icicles, the root on top) of span trees: [`icicle`] draws one trace on
//! its time axis, a rectangle per span; [`merged`] draws many traces at once, spans
//! merged by their path of names from the root, each as wide as its share of the total
//! time (children side by side in the order first seen, as flame graphs do).

use super::rows::SpanRow;
use crate::telemetry::semconv::SpanKind;

/// One rectangle: `x` and `width` are fractions of the graph's width.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub name: String,
    pub kind: Option<SpanKind>,
    pub depth: usize,
    pub x: f64,
    pub width: f64,
    /// Time in the spans it stands for, and how many spans that is.
    pub ms: f64,
    pub count: usize,
    /// The span, in a one-trace graph (a click selects it).
    pub row: Option<usize>,
}

/// One trace on its time axis: a frame per span, placed where it ran.
pub fn icicle(rows: &[SpanRow]) -> Vec<Frame> {
    let start = rows
        .iter()
        .map(|r| r.offset_ms)
        .fold(f64::INFINITY, f64::min);
    let end = rows
        .iter()
        .map(|r| r.offset_ms + r.duration_ms)
        .fold(f64::NEG_INFINITY, f64::max);
    let total = (end - start).max(1e-9);
    rows.iter()
        .enumerate()
        .map(|(i, r)| Frame {
            name: r.name.clone(),
            kind: r.kind,
            depth: r.depth,
            x: (r.offset_ms - start) / total,
            width: r.duration_ms / total,
            ms: r.duration_ms,
            count: 1,
            row: Some(i),
        })
        .collect()
}

/// A node of the merged tree: a path of names from a root.
struct Node {
    name: String,
    kind: Option<SpanKind>,
    ms: f64,
    count: usize,
    children: Vec<usize>,
}

/// Many traces merged by path: a frame per distinct path of span names.
pub fn merged<'a>(traces: impl IntoIterator<Item = &'a [SpanRow]>) -> Vec<Frame> {
    // nodes[0] is an unnamed top above every root.
    let mut nodes = vec![Node {
        name: String::new(),
        kind: None,
        ms: 0.0,
        count: 0,
        children: Vec::new(),
    }];
    for rows in traces {
        let mut open: Vec<usize> = vec![0];
        for r in rows {
            open.truncate(r.depth + 1);
            let parent = *open.last().expect("the top stays open");
            let found = nodes[parent]
                .children
                .iter()
                .copied()
                .find(|&c| nodes[c].name == r.name);
            let node = found.unwrap_or_else(|| {
                nodes.push(Node {
                    name: r.name.clone(),
                    kind: r.kind,
                    ms: 0.0,
                    count: 0,
                    children: Vec::new(),
                });
                let id = nodes.len() - 1;
                nodes[parent].children.push(id);
                id
            });
            nodes[node].ms += r.duration_ms;
            nodes[node].count += 1;
            if r.depth == 0 {
                nodes[0].ms += r.duration_ms;
            }
            open.push(node);
        }
    }
    let total = nodes[0].ms.max(1e-9);
    let mut frames = Vec::with_capacity(nodes.len() - 1);
    // (node, depth, x): children start at their parent's left edge, side by side.
    let mut stack: Vec<(usize, usize, f64)> = Vec::new();
    let mut x = 0.0;
    for &root in &nodes[0].children {
        stack.push((root, 0, x));
        x += nodes[root].ms / total;
    }
    stack.reverse();
    while let Some((id, depth, x)) = stack.pop() {
        let node = &nodes[id];
        frames.push(Frame {
            name: node.name.clone(),
            kind: node.kind,
            depth,
            x,
            width: node.ms / total,
            ms: node.ms,
            count: node.count,
            row: None,
        });
        let mut child_x = x;
        let mut children = Vec::new();
        for &c in &node.children {
            children.push((c, depth + 1, child_x));
            child_x += nodes[c].ms / total;
        }
        stack.extend(children.into_iter().rev());
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::SpanId;

    fn row(name: &str, depth: usize, start: f64, ms: f64) -> SpanRow {
        SpanRow::for_test(
            SpanId::from(start.to_bits() + depth as u64),
            name,
            depth,
            start,
            ms,
        )
    }

    #[test]
    fn one_trace_has_a_frame_per_span_where_it_ran() {
        let rows = [
            row("root", 0, 0.0, 10.0),
            row("a", 1, 2.0, 3.0),
            row("b", 1, 5.0, 5.0),
        ];
        let frames = icicle(&rows);
        assert_eq!(frames.len(), 3);
        assert_eq!((frames[1].x, frames[1].width), (0.2, 0.3));
        assert_eq!(frames[2].row, Some(2));
    }

    #[test]
    fn traces_merge_by_path_and_share_the_width_by_time() {
        let one = [
            row("root", 0, 0.0, 10.0),
            row("a", 1, 0.0, 4.0),
            row("a", 1, 5.0, 2.0),
        ];
        let two = [
            row("root", 0, 0.0, 10.0),
            row("b", 1, 0.0, 5.0),
            row("x", 2, 0.0, 1.0),
        ];
        let frames = merged([&one[..], &two[..]]);
        let names: Vec<(&str, usize, usize)> = frames
            .iter()
            .map(|f| (f.name.as_str(), f.depth, f.count))
            .collect();
        assert_eq!(
            names,
            [("root", 0, 2), ("a", 1, 2), ("b", 1, 1), ("x", 2, 1)]
        );
        assert_eq!(frames[0].width, 1.0);
        assert_eq!((frames[1].x, frames[1].width), (0.0, 0.3));
        assert_eq!((frames[2].x, frames[2].width), (0.3, 0.25));
        assert_eq!(frames[3].x, 0.3);
    }
}
