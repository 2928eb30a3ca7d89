//! Markdown documents cut into [`Section`]s at level-2 headings.
//!
//! A heading may carry an explicit id (`## Travel {#travel}`); otherwise the id is the
//! heading's slug. Ids are stable across runs and unique within a corpus (a repeated id
//! gets a numeric suffix). Text before the first `##` heading becomes a section named
//! after the document title.

use std::collections::HashSet;

use thiserror::Error;

/// One section of a document: the unit a question's answer is expected to come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: String,
    /// The name of the document it comes from.
    pub document: String,
    pub title: String,
    /// The section's markdown body (without its heading).
    pub text: String,
}

/// Why a document could not be turned into sections.
#[derive(Debug, Error, PartialEq)]
pub enum CorpusError {
    #[error("the document \"{0}\" is empty: it has no text to index")]
    Empty(String),
}

/// Cuts the markdown document `name` into sections.
pub fn parse_markdown(name: &str, markdown: &str) -> Result<Vec<Section>, CorpusError> {
    if markdown.trim().is_empty() {
        return Err(CorpusError::Empty(name.to_string()));
    }
    let mut doc_title = name.to_string();
    let mut sections = Sections::default();
    let mut current = Section {
        id: slug(name),
        document: name.to_string(),
        title: name.to_string(),
        text: String::new(),
    };
    for line in markdown.lines() {
        if let Some(h1) = line.strip_prefix("# ") {
            doc_title = h1.trim().to_string();
            current.title = doc_title.clone();
            current.id = slug(&doc_title);
        } else if let Some(h2) = line.strip_prefix("## ") {
            sections.push(current);
            let (title, id) = split_heading(h2);
            current = Section {
                id,
                document: name.to_string(),
                title,
                text: String::new(),
            };
        } else {
            current.text.push_str(line);
            current.text.push('\n');
        }
    }
    sections.push(current);
    if sections.list.is_empty() {
        return Err(CorpusError::Empty(doc_title));
    }
    Ok(sections.list)
}

/// Sections longer than this (in bytes) are cut into parts, so no single section makes
/// a slice of indexing long, and a heading-less text file still gets several sections.
pub const MAX_SECTION_BYTES: usize = 16 * 1024;

/// Cuts every `(name, markdown)` document into sections whose ids are unique across the
/// corpus; a long section becomes parts `<id>-part-<n>` at paragraph (or line, or word)
/// boundaries.
pub fn parse_corpus(documents: &[(&str, &str)]) -> Result<Vec<Section>, CorpusError> {
    let mut sections = Sections::default();
    for (name, markdown) in documents {
        for section in parse_markdown(name, markdown)? {
            for part in split_long(section, MAX_SECTION_BYTES) {
                sections.push(part);
            }
        }
    }
    Ok(sections.list)
}

fn split_long(section: Section, max: usize) -> Vec<Section> {
    if section.text.len() <= max {
        return vec![section];
    }
    let mut parts = Vec::new();
    let mut rest = section.text.as_str();
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let window = &rest[..end];
        let cut = if end == rest.len() {
            end
        } else {
            ["\n\n", "\n", ". ", " "]
                .iter()
                .find_map(|sep| window.rfind(sep).map(|i| i + sep.len()))
                .filter(|&i| i > max / 4)
                .unwrap_or(end)
        };
        parts.push(rest[..cut].trim());
        rest = &rest[cut..];
    }
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .enumerate()
        .map(|(i, text)| Section {
            id: format!("{}-part-{}", section.id, i + 1),
            document: section.document.clone(),
            title: format!("{} (part {})", section.title, i + 1),
            text: text.to_string(),
        })
        .collect()
}

/// Sections in order, each with an id of its own (a repeated id gets a numeric suffix).
#[derive(Default)]
struct Sections {
    list: Vec<Section>,
    ids: HashSet<String>,
}

impl Sections {
    /// Adds a section unless it has no text.
    fn push(&mut self, mut section: Section) {
        if section.text.trim().is_empty() {
            return;
        }
        section.text = section.text.trim().to_string();
        let base = section.id.clone();
        let mut n = 2;
        while self.ids.contains(&section.id) {
            section.id = format!("{base}-{n}");
            n += 1;
        }
        self.ids.insert(section.id.clone());
        self.list.push(section);
    }
}

/// `Title {#id}` → (`Title`, `id`); `Title` → (`Title`, slug of title).
fn split_heading(heading: &str) -> (String, String) {
    let heading = heading.trim();
    if let Some(open) = heading.rfind("{#") {
        if let Some(id) = heading[open + 2..].strip_suffix('}') {
            let id = slug(id);
            if !id.is_empty() {
                return (heading[..open].trim().to_string(), id);
            }
        }
    }
    (heading.to_string(), slug(heading))
}

/// Lowercase ASCII-alphanumeric words joined by `-` (other letters kept as they are).
pub fn slug(text: &str) -> String {
    let lowered = text.to_lowercase();
    let words: Vec<&str> = lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let s = words.join("-");
    if s.is_empty() {
        "section".into()
    } else {
        s
    }
}

/// Documents larger than this are refused.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

/// A document to index: a name and its UTF-8 text, checked for size and emptiness.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub name: String,
    pub text: String,
}

/// Why a document was refused.
#[derive(Debug, Error, PartialEq)]
pub enum DocumentError {
    #[error(
        "\"{0}\" is neither a .txt nor a .md file: only plain text and markdown can be indexed"
    )]
    NotText(String),
    #[error("\"{name}\" is not UTF-8 text (byte {at} is not valid UTF-8): save it as UTF-8 plain text or markdown")]
    NotUtf8 { name: String, at: usize },
    #[error("\"{name}\" looks like a binary file (it has a NUL byte at {at}): only plain text and markdown can be indexed")]
    Binary { name: String, at: usize },
    #[error("\"{0}\" is empty: it has no text to index")]
    Empty(String),
    #[error("\"{name}\" is {:.1} MB: documents over 20 MB are refused", *.bytes as f64 / 1_048_576.0)]
    TooLarge { name: String, bytes: u64 },
}

impl Document {
    /// Refuses, before reading it, a file that is too large or not .txt/.md by name.
    pub fn check_file(name: &str, bytes: u64) -> Result<(), DocumentError> {
        let lower = name.to_lowercase();
        if ![".txt", ".md", ".markdown"]
            .iter()
            .any(|ext| lower.ends_with(ext))
        {
            return Err(DocumentError::NotText(name.to_string()));
        }
        if bytes > MAX_DOCUMENT_BYTES as u64 {
            return Err(DocumentError::TooLarge {
                name: name.to_string(),
                bytes,
            });
        }
        Ok(())
    }

    /// A document from a file's bytes, which must be UTF-8 text.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Document, DocumentError> {
        Self::check_file(name, bytes.len() as u64)?;
        let text = String::from_utf8(bytes).map_err(|e| DocumentError::NotUtf8 {
            name: name.to_string(),
            at: e.utf8_error().valid_up_to(),
        })?;
        if let Some(at) = text.find('\0') {
            return Err(DocumentError::Binary {
                name: name.to_string(),
                at,
            });
        }
        Self::from_text(name, text)
    }

    /// A document from text (pasted, or a file already read).
    pub fn from_text(name: &str, text: String) -> Result<Document, DocumentError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge {
                name: name.to_string(),
                bytes: text.len() as u64,
            });
        }
        if text.trim().is_empty() {
            return Err(DocumentError::Empty(name.to_string()));
        }
        Ok(Document {
            name: name.to_string(),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_with_explicit_and_slug_ids() {
        let md = "# Book\nIntro text.\n## Travel {#travel}\nFly.\n### Sub\nMore.\n## Leave & Holidays\nRest.\n";
        let s = parse_markdown("b", md).unwrap();
        let ids: Vec<_> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["book", "travel", "leave-holidays"]);
        assert_eq!(s[1].title, "Travel");
        assert!(s[1].text.contains("### Sub"));
    }

    #[test]
    fn duplicate_ids_get_suffixes() {
        let s = parse_markdown("d", "## A\nx.\n## A\ny.\n").unwrap();
        assert_eq!(s[1].id, "a-2");
    }

    #[test]
    fn empty_and_heading_only_documents_are_errors() {
        assert_eq!(
            parse_markdown("e", "  \n"),
            Err(CorpusError::Empty("e".into()))
        );
        assert!(parse_markdown("h", "# Title\n## Only a heading\n").is_err());
    }

    #[test]
    fn ids_are_unique_across_documents_and_long_sections_are_cut() {
        let long = "A sentence of words here.\n\n".repeat(2_000);
        let s = parse_corpus(&[
            ("a", "## Same\nx."),
            ("b", "## Same\ny."),
            ("big.txt", &long),
        ])
        .unwrap();
        assert_eq!(s[0].id, "same");
        assert_eq!(s[1].id, "same-2");
        assert_eq!(s[1].document, "b");
        let parts: Vec<&Section> = s.iter().filter(|s| s.document == "big.txt").collect();
        assert!(parts.len() > 2, "{} parts", parts.len());
        assert!(parts.iter().all(|p| p.text.len() <= MAX_SECTION_BYTES));
        assert_eq!(parts[1].id, "big-txt-part-2");
        let total: usize = parts
            .iter()
            .map(|p| p.text.matches("sentence").count())
            .sum();
        assert_eq!(total, 2_000, "no text lost at the cuts");
    }

    #[test]
    fn documents_must_be_small_utf8_text() {
        let name = |e: DocumentError| e.to_string();
        assert!(Document::from_bytes("a.md", b"# Hi\nThere.".to_vec()).is_ok());
        assert!(
            name(Document::from_bytes("a.txt", vec![0x89, b'P', b'N', b'G']).unwrap_err())
                .contains("not UTF-8")
        );
        assert!(
            name(Document::from_bytes("a.txt", b"ab\0cd".to_vec()).unwrap_err()).contains("binary")
        );
        assert!(
            name(Document::from_bytes("a.png", b"text".to_vec()).unwrap_err())
                .contains("neither a .txt nor a .md")
        );
        assert_eq!(
            Document::from_text("p", " \n ".into()),
            Err(DocumentError::Empty("p".into()))
        );
        assert!(
            name(Document::check_file("big.md", 21 * 1_048_576).unwrap_err()).contains("21.0 MB")
        );
    }

    #[test]
    fn plain_text_is_one_section() {
        let s = parse_markdown("notes.txt", "Just some words.").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "notes-txt");
    }
}
