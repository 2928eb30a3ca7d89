//! [`Outline`]: the waterfall's collapsible view of a trace's [`SpanRow`]s — which rows
//! show while some spans are collapsed, and where a [`Key`] moves the cursor; and
//! [`search`], which shows the rows that match a query with their ancestors.
//!
//! Contract: `rows` are a depth-first span tree, as [`super::store::TraceRecord::rows`]
//! lays them out (a span's descendants follow it, one level deeper or more).

use std::collections::HashSet;

use opentelemetry::trace::SpanId;

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
    collapsed: HashSet<SpanId>,
}

impl Outline {
    pub fn is_collapsed(&self, span_id: SpanId) -> bool {
        self.collapsed.contains(&span_id)
    }

    /// Collapses an open span, or expands a collapsed one.
    pub fn toggle(&mut self, span_id: SpanId) {
        if !self.collapsed.remove(&span_id) {
            self.collapsed.insert(span_id);
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
            if self.is_collapsed(row.span_id) {
                hidden_below = Some(row.depth);
            }
        }
        shown
    }

    /// Expands every ancestor of `span_id`, so that its row shows.
    pub fn reveal(&mut self, rows: &[SpanRow], span_id: SpanId) {
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
    pub fn press(&mut self, rows: &[SpanRow], cursor: Option<SpanId>, key: Key) -> Option<SpanId> {
        let visible = self.visible(rows);
        let at = cursor.and_then(|c| visible.iter().position(|&i| rows[i].span_id == c));
        let Some(at) = at else {
            return visible.first().map(|&i| rows[i].span_id);
        };
        let i = visible[at];
        let row = &rows[i];
        let open = row.has_children && !self.is_collapsed(row.span_id);
        let target = match key {
            Key::Up => visible[at.saturating_sub(1)],
            Key::Down => visible[(at + 1).min(visible.len() - 1)],
            Key::Left if open => {
                self.toggle(row.span_id);
                i
            }
            Key::Left => parent(rows, i).unwrap_or(i),
            Key::Right if open => i + 1,
            Key::Right => {
                if row.has_children {
                    self.toggle(row.span_id);
                }
                i
            }
        };
        Some(rows[target].span_id)
    }
}

/// The row of the span that row `i` hangs under.
/// What a search of the span tree shows: every row that matches, and every ancestor
/// of one (so a match is seen where it sits in the tree), in tree order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    pub shown: Vec<usize>,
    pub matches: HashSet<usize>,
}

/// The rows whose name, kind, status message or any attribute (key or value) holds
/// `query`, ignoring case, with their ancestors.
pub fn search(rows: &[SpanRow], query: &str) -> Found {
    let needle = query.trim().to_lowercase();
    let holds = |text: &str| text.to_lowercase().contains(&needle);
    let mut keep = vec![false; rows.len()];
    let mut matches = HashSet::new();
    // The ancestors of the current row, outermost first.
    let mut open: Vec<usize> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        open.truncate(row.depth);
        let found = holds(&row.name)
            || holds(row.kind_label())
            || holds(&row.status_message)
            || row.attributes.iter().any(|(k, v)| holds(k) || holds(v));
        if found {
            matches.insert(i);
            keep[i] = true;
            open.iter().for_each(|&a| keep[a] = true);
        }
        open.push(i);
    }
    Found {
        shown: (0..rows.len()).filter(|&i| keep[i]).collect(),
        matches,
    }
}

fn parent(rows: &[SpanRow], i: usize) -> Option<usize> {
    let depth = rows[i].depth.checked_sub(1)?;
    (0..i).rev().find(|&j| rows[j].depth == depth)
}

/// The rows of a scrolled list that are in the page: those in view and `overscan`
/// more on each side; the rest are stood in for by spacers, so a trace of thousands of
/// spans lays out as fast as a small one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The first row in the page and one past the last.
    pub first: usize,
    pub end: usize,
}

impl Window {
    /// The window over `rows` rows of `row_px` pixels scrolled `scroll_px` down, with
    /// `in_view` rows visible at once. It never starts past the end.
    pub fn at(scroll_px: i32, row_px: i32, rows: usize, in_view: usize, overscan: usize) -> Self {
        let top = (scroll_px.max(0) / row_px.max(1)) as usize;
        let first = top
            .saturating_sub(overscan)
            .min(rows.saturating_sub(in_view));
        Window {
            first,
            end: (first + in_view + 2 * overscan).min(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [(&str, usize); 5] = [("root", 0), ("a", 1), ("a1", 2), ("a2", 2), ("b", 1)];

    /// The id of the row called `name`.
    fn id(name: &str) -> SpanId {
        let i = NAMES.iter().position(|(n, _)| *n == name).unwrap();
        SpanId::from_bytes((i as u64 + 1).to_be_bytes())
    }

    /// The name of the row with `span_id`.
    fn name(span_id: SpanId) -> &'static str {
        NAMES.iter().find(|(n, _)| id(n) == span_id).unwrap().0
    }

    /// root ─ a ─ a1
    ///      │   └ a2
    ///      └ b
    fn rows() -> Vec<SpanRow> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, (n, depth))| SpanRow {
                has_children: matches!(*n, "root" | "a"),
                ..SpanRow::for_test(id(n), n, *depth, i as f64, 1.0)
            })
            .collect()
    }

    fn names(rows: &[SpanRow], outline: &Outline) -> Vec<&'static str> {
        outline
            .visible(rows)
            .into_iter()
            .map(|i| name(rows[i].span_id))
            .collect()
    }

    #[test]
    fn a_search_keeps_the_ancestors_of_every_match() {
        let mut rows = rows();
        rows[3].attributes = vec![("retrieval.query".into(), "Leave DAYS".into())];
        let found = search(&rows, "days");
        let shown: Vec<&str> = found.shown.iter().map(|&i| name(rows[i].span_id)).collect();
        assert_eq!(shown, ["root", "a", "a2"]);
        assert_eq!(found.matches, HashSet::from([3]));
        let found = search(&rows, "B");
        assert_eq!(found.shown, [0, 4]);
        assert!(search(&rows, "nothing like it").shown.is_empty());
    }

    #[test]
    fn the_window_covers_the_view_and_a_margin_and_never_starts_past_the_end() {
        assert_eq!(
            Window::at(0, 24, 2_000, 24, 12),
            Window { first: 0, end: 48 }
        );
        assert_eq!(
            Window::at(24 * 100, 24, 2_000, 24, 12),
            Window {
                first: 88,
                end: 136
            }
        );
        assert_eq!(
            Window::at(24 * 1_990, 24, 2_000, 24, 12),
            Window {
                first: 1_976,
                end: 2_000
            }
        );
        assert_eq!(Window::at(500, 24, 5, 24, 12), Window { first: 0, end: 5 });
    }

    #[test]
    fn collapsing_hides_descendants_only() {
        let rows = rows();
        let mut o = Outline::default();
        assert_eq!(names(&rows, &o), ["root", "a", "a1", "a2", "b"]);
        o.toggle(id("a"));
        assert_eq!(names(&rows, &o), ["root", "a", "b"]);
        o.toggle(id("root"));
        assert_eq!(names(&rows, &o), ["root"]);
        o.reveal(&rows, id("a2"));
        assert_eq!(names(&rows, &o), ["root", "a", "a1", "a2", "b"]);
    }

    #[test]
    fn arrow_keys_move_collapse_and_expand() {
        let rows = rows();
        let mut o = Outline::default();
        let mut at = o.press(&rows, None, Key::Down);
        assert_eq!(at.map(name), Some("root"));
        let mut go = |o: &mut Outline, key| {
            at = o.press(&rows, at, key);
            name(at.unwrap())
        };
        assert_eq!(go(&mut o, Key::Down), "a");
        assert_eq!(go(&mut o, Key::Right), "a1"); // open: into the first child
        assert_eq!(go(&mut o, Key::Left), "a"); // leaf: to the parent
        assert_eq!(go(&mut o, Key::Left), "a"); // open: collapses
        assert!(o.is_collapsed(id("a")));
        assert_eq!(go(&mut o, Key::Down), "b"); // a1, a2 are hidden
        assert_eq!(go(&mut o, Key::Down), "b"); // stays on the last row
        assert_eq!(go(&mut o, Key::Up), "a");
        assert_eq!(go(&mut o, Key::Right), "a"); // collapsed: expands
        assert!(!o.is_collapsed(id("a")));
        assert_eq!(go(&mut o, Key::Down), "a1");
        assert_eq!(go(&mut o, Key::Up), "a");
        assert_eq!(go(&mut o, Key::Up), "root");
        assert_eq!(go(&mut o, Key::Up), "root");
        assert_eq!(o.press(&[], None, Key::Down), None);
    }
}
