//! Markdown documents cut into [`Section`]s at level-2 headings.
//!
//! A heading may carry an explicit id (`## Travel {#travel}`); otherwise the id is the
//! heading's slug. Ids are stable across runs and unique within a corpus (a repeated id
//! gets a numeric suffix). Text before the first `##` heading becomes a section named
//! after the document title.

use thiserror::Error;

/// One section of a document: the unit a question's answer is expected to come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: String,
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
    let mut sections: Vec<Section> = Vec::new();
    let mut current = Section {
        id: slug(name),
        title: name.to_string(),
        text: String::new(),
    };
    for line in markdown.lines() {
        if let Some(h1) = line.strip_prefix("# ") {
            doc_title = h1.trim().to_string();
            current.title = doc_title.clone();
            current.id = slug(&doc_title);
        } else if let Some(h2) = line.strip_prefix("## ") {
            push_section(&mut sections, current);
            let (title, id) = split_heading(h2);
            current = Section {
                id,
                title,
                text: String::new(),
            };
        } else {
            current.text.push_str(line);
            current.text.push('\n');
        }
    }
    push_section(&mut sections, current);
    if sections.is_empty() {
        return Err(CorpusError::Empty(doc_title));
    }
    Ok(sections)
}

fn push_section(sections: &mut Vec<Section>, mut section: Section) {
    if section.text.trim().is_empty() {
        return;
    }
    section.text = section.text.trim().to_string();
    let base = section.id.clone();
    let mut n = 2;
    while sections.iter().any(|s| s.id == section.id) {
        section.id = format!("{base}-{n}");
        n += 1;
    }
    sections.push(section);
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
    fn plain_text_is_one_section() {
        let s = parse_markdown("notes.txt", "Just some words.").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].id, "notes-txt");
    }
}
