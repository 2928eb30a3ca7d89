//! [`Outline`]: the waterfall's collapsible view of a trace's [`SpanRow`]s — which rows
//! show while some spans are collapsed, and where a [`Key`] moves the cursor.
//!
//! Contract: `rows` are a depth-first span tree, as [`super::store::TraceRecord::rows`]
//! lays them out (a span's descendants follow it, one level deeper or more).

use std::collections::HashSet;

use super::rows::SpanRow;

/// The keys the waterfall answers (Enter, which selects, needs no outline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The row above.
    Up,
    /// The row below.
    Down,
    /// Collapse an open span; on a collapsed or childless span, go to its parent.
    Left,
    /// Expand a collapsed span; on an open one, go to its first child.
    Right,
}

impl Key {
    /// The key for a `KeyboardEvent.key` value.
    pub fn from_dom(key: &str) -> Option<Key> {
        match key {
            "ArrowUp" => Some(Key::Up),
            "ArrowDown" => Some(Key::Down),
            "ArrowLeft" => Some(Key::Left),
            "ArrowRight" => Some(Key::Right),
            _ => None,
        }
    }
}

/// Which spans are collapsed, by span id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outline {
    collapsed: HashSet<String>,
}

impl Outline {
    pub fn is_collapsed(&self, span_id: &str) -> bool {
        self.collapsed.contains(span_id)
    }

    /// Collapses an open span, or expands a collapsed one.
    pub fn toggle(&mut self, span_id: &str) {
        if !self.collapsed.remove(span_id) {
            self.collapsed.insert(span_id.to_string());
        }
    }

    /// Indices of the rows shown: those with no collapsed ancestor.
    pub fn visible(&self, rows: &[SpanRow]) -> Vec<usize> {
        let mut shown = Vec::with_capacity(rows.len());
        let mut hidden_below: Option<usize> = None;
        for (i, row) in rows.iter().enumerate() {
            match hidden_below {
                Some(depth) if row.depth > depth => continue,
                _ => hidden_below = None,
            }
            shown.push(i);
            if self.is_collapsed(&row.span_id) {
                hidden_below = Some(row.depth);
            }
        }
        shown
    }

    /// Expands every ancestor of `span_id`, so that its row shows.
    pub fn reveal(&mut self, rows: &[SpanRow], span_id: &str) {
        let Some(mut i) = rows.iter().position(|r| r.span_id == span_id) else {
            return;
        };
        while let Some(p) = parent(rows, i) {
            self.collapsed.remove(&rows[p].span_id);
            i = p;
        }
    }

    /// Applies `key` with the cursor on the span `cursor`; returns where the cursor goes
    /// (the first row when there was no cursor, `None` when there are no rows).
    pub fn press(&mut self, rows: &[SpanRow], cursor: Option<&str>, key: Key) -> Option<String> {
        let visible = self.visible(rows);
        let at = cursor.and_then(|c| visible.iter().position(|&i| rows[i].span_id == c));
        let Some(at) = at else {
            return visible.first().map(|&i| rows[i].span_id.clone());
        };
        let i = visible[at];
        let row = &rows[i];
        let open = row.has_children && !self.is_collapsed(&row.span_id);
        let target = match key {
            Key::Up => visible[at.saturating_sub(1)],
            Key::Down => visible[(at + 1).min(visible.len() - 1)],
            Key::Left if open => {
                self.toggle(&row.span_id);
                i
            }
            Key::Left => parent(rows, i).unwrap_or(i),
            Key::Right if open => i + 1,
            Key::Right => {
                if row.has_children {
                    self.toggle(&row.span_id);
                }
                i
            }
        };
        Some(rows[target].span_id.clone())
    }
}

/// The row of the span that row `i` hangs under.
fn parent(rows: &[SpanRow], i: usize) -> Option<usize> {
    let depth = rows[i].depth.checked_sub(1)?;
    (0..i).rev().find(|&j| rows[j].depth == depth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::semconv::{SpanKind, StatusCode};

    /// root ─ a ─ a1
    ///      │   └ a2
    ///      └ b
    fn rows() -> Vec<SpanRow> {
        [("root", 0), ("a", 1), ("a1", 2), ("a2", 2), ("b", 1)]
            .iter()
            .enumerate()
            .map(|(i, (id, depth))| SpanRow {
                span_id: id.to_string(),
                name: id.to_string(),
                kind: Some(SpanKind::Chain),
                status: StatusCode::Ok,
                status_message: String::new(),
                depth: *depth,
                has_children: matches!(*id, "root" | "a"),
                offset_ms: i as f64,
                duration_ms: 1.0,
                key_attribute: String::new(),
                attributes: Vec::new(),
                events: Vec::new(),
            })
            .collect()
    }

    fn names(rows: &[SpanRow], outline: &Outline) -> Vec<String> {
        outline
            .visible(rows)
            .into_iter()
            .map(|i| rows[i].span_id.clone())
            .collect()
    }

    #[test]
    fn collapsing_hides_descendants_only() {
        let rows = rows();
        let mut o = Outline::default();
        assert_eq!(names(&rows, &o), ["root", "a", "a1", "a2", "b"]);
        o.toggle("a");
        assert_eq!(names(&rows, &o), ["root", "a", "b"]);
        o.toggle("root");
        assert_eq!(names(&rows, &o), ["root"]);
        o.reveal(&rows, "a2");
        assert_eq!(names(&rows, &o), ["root", "a", "a1", "a2", "b"]);
    }

    #[test]
    fn arrow_keys_move_collapse_and_expand() {
        let rows = rows();
        let mut o = Outline::default();
        let mut at = o.press(&rows, None, Key::Down);
        assert_eq!(at.as_deref(), Some("root"));
        let mut go = |o: &mut Outline, key| {
            at = o.press(&rows, at.as_deref(), key);
            at.clone().unwrap()
        };
        assert_eq!(go(&mut o, Key::Down), "a");
        assert_eq!(go(&mut o, Key::Right), "a1"); // open: into the first child
        assert_eq!(go(&mut o, Key::Left), "a"); // leaf: to the parent
        assert_eq!(go(&mut o, Key::Left), "a"); // open: collapses
        assert!(o.is_collapsed("a"));
        assert_eq!(go(&mut o, Key::Down), "b"); // a1, a2 are hidden
        assert_eq!(go(&mut o, Key::Down), "b"); // stays on the last row
        assert_eq!(go(&mut o, Key::Up), "a");
        assert_eq!(go(&mut o, Key::Right), "a"); // collapsed: expands
        assert!(!o.is_collapsed("a"));
        assert_eq!(go(&mut o, Key::Down), "a1");
        assert_eq!(go(&mut o, Key::Up), "a");
        assert_eq!(go(&mut o, Key::Up), "root");
        assert_eq!(go(&mut o, Key::Up), "root");
        assert_eq!(o.press(&[], None, Key::Down), None);
    }
}
