//! Semantic chunking: a section's sentences are grouped in order into [`Chunk`]s under a
//! size limit, with a break where the embedding similarity of neighbouring sentences
//! drops (a change of topic). A sentence is never split, so a single sentence longer
//! than the limit becomes a chunk of its own.

use super::corpus::Section;
use super::embed::{cosine, HashEmbedder};
use super::text;

/// A retrievable passage. Its id, `<section id>:<n>`, is stable for the same text.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub id: String,
    pub section_id: String,
    pub section_title: String,
    /// The name of the document it comes from.
    pub document: String,
    pub text: String,
    /// Where the chunk's sentences stand in its section's text: character offsets of
    /// the first one's start and the last one's end (the chunk's text rejoins them).
    pub chars: std::ops::Range<usize>,
    /// The sub-heading the chunk's first sentence falls under, if any (a section's text
    /// holds only `###` and deeper: `##` starts the next section).
    pub heading: Option<String>,
    /// The section's next chunk opens with an item of a list: this chunk announced the
    /// list or holds its first items, and a reader needs the rest.
    pub list_goes_on: bool,
}

impl Chunk {
    /// What the indexes see: the section title, and the sub-heading it sits under, give
    /// every chunk its topic's words.
    pub fn indexed_text(&self) -> String {
        // A chunk cut from the middle of "Exceeding the limit" still says so.
        match &self.heading {
            Some(h) if !self.text.starts_with(h.as_str()) => {
                format!("{}. {h}: {}", self.section_title, self.text)
            }
            _ => format!("{}. {}", self.section_title, self.text),
        }
    }
}

/// The last markdown heading line of `before`, without its `#` marks.
fn heading_above(before: &str) -> Option<String> {
    before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Chunking limits, in characters (not bytes, so non-ASCII text counts fairly).
#[derive(Debug, Clone, Copy)]
pub struct ChunkConfig {
    pub max_chars: usize,
    /// A topic break is only taken once a chunk has this much text.
    pub min_chars: usize,
    /// Neighbour similarity under which a topic break is taken.
    pub break_below: f32,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig {
            max_chars: 700,
            min_chars: 250,
            break_below: 0.08,
        }
    }
}

/// Chunks every section, in order.
pub fn chunk_sections(sections: &[Section], cfg: ChunkConfig) -> Vec<Chunk> {
    sections
        .iter()
        .flat_map(|s| chunk_section(s, cfg))
        .collect()
}

/// Chunks one section. Empty or whitespace-only text gives no chunk.
pub fn chunk_section(section: &Section, cfg: ChunkConfig) -> Vec<Chunk> {
    let sentences = text::sentences(&section.text);
    let chars_before = |byte: usize| section.text[..byte].chars().count();
    let embedder = HashEmbedder;
    let vectors: Vec<Vec<f32>> = sentences.iter().map(|s| embedder.embed(s)).collect();
    let mut groups: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut len = 0;
    for (i, sentence) in sentences.iter().enumerate() {
        let n = sentence.chars().count();
        if !current.is_empty() {
            let too_big = len + 1 + n > cfg.max_chars;
            let topic_break =
                len >= cfg.min_chars && cosine(&vectors[i - 1], &vectors[i]) < cfg.break_below;
            // A heading-like line (no end punctuation) stays with what follows it.
            let after_heading = !current
                .last()
                .is_some_and(|s| s.ends_with(['.', '!', '?', ':']));
            if (too_big || topic_break) && !after_heading {
                groups.push(std::mem::take(&mut current));
                len = 0;
            }
        }
        len += n + usize::from(!current.is_empty());
        current.push(sentence);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let opens_with_item: Vec<bool> = groups
        .iter()
        .map(|g| is_list_item(&section.text, g[0]))
        .collect();
    groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| {
            let first = text::offset_in(&section.text, group[0]);
            let last = group[group.len() - 1];
            let end = text::offset_in(&section.text, last) + last.len();
            // Up to the end of its first sentence: a chunk that opens with a heading
            // finds that one.
            let heading = heading_above(&section.text[..first + group[0].len()]);
            Chunk {
                heading,
                id: chunk_id(&section.id, i + 1),
                section_id: section.id.clone(),
                section_title: section.title.clone(),
                document: section.document.clone(),
                text: join_sentences(&group),
                chars: chars_before(first)..chars_before(end),
                list_goes_on: opens_with_item.get(i + 1) == Some(&true),
            }
        })
        .collect()
}

/// The id of a section's `n`th chunk (from 1): `<section id>:<n>`.
pub fn chunk_id(section: &str, n: usize) -> String {
    format!("{section}:{n}")
}

/// A chunk id's section and place, as [`chunk_id`] wrote them.
pub fn parse_chunk_id(id: &str) -> Option<(&str, usize)> {
    let (section, n) = id.rsplit_once(':')?;
    Some((section, n.parse().ok()?))
}

/// Whether `sentence` (a slice of `text`) opens a markdown list item (`- ` or `* `).
fn is_list_item(text: &str, sentence: &str) -> bool {
    let at = text::offset_in(text, sentence);
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    matches!(text[line_start..at].trim(), "-" | "*")
}

/// Joins sentences with spaces; a heading-like sentence (no end punctuation) is followed
/// by a colon so it still reads as a title of what follows.
fn join_sentences(sentences: &[&str]) -> String {
    let mut out = String::new();
    for (i, s) in sentences.iter().enumerate() {
        out.push_str(s);
        if i + 1 < sentences.len() {
            out.push_str(if s.ends_with(['.', '!', '?', ':']) {
                " "
            } else {
                ": "
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> Section {
        Section {
            id: "s".into(),
            document: "d".into(),
            title: "S".into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_chunk_cut_inside_a_list_says_the_list_goes_on() {
        let text = "If you stay too long, the following consequences apply.\n\n\
                    - Payroll withholds tax in the host country from then on.\n\
                    - Access to company systems is suspended at once.\n\n\
                    Contact the People team straight away.";
        let cfg = ChunkConfig {
            max_chars: 120,
            min_chars: 1000,
            break_below: 0.0,
        };
        let chunks = chunk_section(&section(text), cfg);
        let goes_on: Vec<(bool, &str)> = chunks
            .iter()
            .map(|c| (c.list_goes_on, c.text.as_str()))
            .collect();
        assert_eq!(
            goes_on,
            [
                (
                    true,
                    "If you stay too long, the following consequences apply. \
                     Payroll withholds tax in the host country from then on."
                ),
                (
                    false,
                    "Access to company systems is suspended at once. \
                     Contact the People team straight away."
                ),
            ]
        );
    }

    #[test]
    fn empty_and_whitespace_give_no_chunks() {
        assert!(chunk_section(&section(""), ChunkConfig::default()).is_empty());
        assert!(chunk_section(&section(" \n\t \n"), ChunkConfig::default()).is_empty());
    }

    #[test]
    fn a_huge_sentence_is_one_chunk_never_cut() {
        let huge = format!("{} end.", "word ".repeat(3000));
        let chunks = chunk_section(&section(&huge), ChunkConfig::default());
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, huge.trim());
    }

    #[test]
    fn a_huge_paragraph_splits_at_sentence_ends_under_the_limit() {
        let para: String = (0..200)
            .map(|i| format!("Sentence number {i} talks about topic {}. ", i % 7))
            .collect();
        let cfg = ChunkConfig::default();
        let chunks = chunk_section(&section(&para), cfg);
        assert!(chunks.len() > 5);
        for c in &chunks {
            assert!(c.text.chars().count() <= cfg.max_chars, "{}", c.text.len());
            assert!(c.text.ends_with('.'));
        }
        let joined: Vec<String> = chunks.iter().map(|c| c.text.clone()).collect();
        assert_eq!(joined.join(" "), para.trim());
    }

    #[test]
    fn ids_are_stable_and_ordered() {
        let text = "Alpha beta. Gamma delta.";
        let a = chunk_section(&section(text), ChunkConfig::default());
        let b = chunk_section(&section(text), ChunkConfig::default());
        assert_eq!(a, b);
        assert_eq!(a[0].id, "s:1");
    }

    #[test]
    fn topic_change_breaks_a_chunk() {
        let travel = "Flights must be booked through the travel portal. Flights over six hours may be booked in premium economy. Flight changes need a manager's approval. Hotel bookings go through the travel portal too.";
        let security = "Passwords must have sixteen characters. Multi-factor authentication protects every account. Report lost laptops within four hours.";
        let text = format!("{travel} {security}");
        let chunks = chunk_section(
            &section(&text),
            ChunkConfig {
                min_chars: 250,
                ..Default::default()
            },
        );
        assert!(chunks.len() >= 2);
        assert!(chunks[0].text.starts_with("Flights"));
        assert!(chunks.last().unwrap().text.contains("Report lost laptops"));
    }

    #[test]
    fn headings_read_as_titles_of_what_follows() {
        let chunks = chunk_section(
            &section("### Approval\nAsk your manager first."),
            ChunkConfig::default(),
        );
        assert_eq!(chunks[0].text, "Approval: Ask your manager first.");
    }

    #[test]
    fn offsets_point_at_the_chunk_in_its_section() {
        let text = "Über alles. Das ist gut. ".repeat(60);
        let chunks = chunk_section(&section(&text), ChunkConfig::default());
        assert!(chunks.len() > 1);
        let chars: Vec<char> = text.chars().collect();
        for c in &chunks {
            let original: String = chars[c.chars.clone()].iter().collect();
            assert_eq!(original, c.text);
        }
    }

    #[test]
    fn non_ascii_text_chunks_by_characters() {
        let text = "Die Arbeit im Ausland ist begrenzt. Überstunden werden ausgeglichen. 海外勤務は三十日まで。";
        let chunks = chunk_section(&section(text), ChunkConfig::default());
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].text.contains("海外勤務"));
    }
}
