//! The extractive answerer: the answer is made of the sentences of the retrieved
//! passages that are closest to the question, each followed by its passage's `[id]`.
//! When even the best sentence is too far from the question, the answer says the
//! handbook does not cover it.

use super::embed::{cosine, HashEmbedder};
use super::prompt::Passage;
use super::text;

/// The reply when no passage is close enough.
pub const NOT_FOUND: &str =
    "Not found in the handbook: no passage is close enough to the question.";
/// Under this score the best sentence does not count as an answer.
pub const MIN_SCORE: f32 = 0.22;
/// Sentences within this share of the best score join the answer.
const KEEP_RATIO: f32 = 0.8;
const MAX_SENTENCES: usize = 3;

/// An extracted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    /// The answer text with `[id]` citations.
    pub text: String,
    pub found: bool,
}

/// Picks the answer sentences for `question` from `passages`.
pub fn extract(question: &str, passages: &[Passage]) -> Extract {
    let embedder = HashEmbedder;
    let q_vec = embedder.embed(question);
    let q_terms = text::terms(question);
    // (passage index, sentence index, score, sentence)
    let mut scored: Vec<(usize, usize, f32, &str)> = Vec::new();
    for (pi, p) in passages.iter().enumerate() {
        for (si, s) in text::sentences(&p.text).into_iter().enumerate() {
            if text::words(s).len() < 4 {
                continue; // headings and fragments are no answer
            }
            let s_terms = text::terms(s);
            let overlap = q_terms.iter().filter(|t| s_terms.contains(t)).count() as f32
                / q_terms.len().max(1) as f32;
            let score = 0.6 * cosine(&q_vec, &embedder.embed(s)) + 0.4 * overlap;
            scored.push((pi, si, score, s));
        }
    }
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    let best = scored.first().map_or(0.0, |s| s.2);
    if best < MIN_SCORE {
        return Extract {
            text: NOT_FOUND.to_string(),
            found: false,
        };
    }
    let mut picked: Vec<&(usize, usize, f32, &str)> = scored
        .iter()
        .take_while(|s| s.2 >= best * KEEP_RATIO)
        .take(MAX_SENTENCES)
        .collect();
    picked.sort_by_key(|s| (s.0, s.1));
    let text = picked
        .iter()
        .map(|(pi, _, _, s)| format!("{s} [{}]", passages[*pi].id))
        .collect::<Vec<_>>()
        .join(" ");
    Extract { text, found: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(id: &str, text: &str) -> Passage {
        Passage {
            id: id.into(),
            similarity: 0.5,
            text: text.into(),
        }
    }

    #[test]
    fn answers_with_the_closest_sentence_and_cites_it() {
        let ps = [
            passage("travel:1", "Book flights through the portal. Economy class is the default for short flights."),
            passage("intl:1", "Intro text here. Employees may work from another country for up to 30 working days per year."),
        ];
        let e = extract("How many days can I work from another country?", &ps);
        assert!(e.found);
        assert!(e.text.contains("30 working days"), "{}", e.text);
        assert!(e.text.contains("[intl:1]"));
    }

    #[test]
    fn unrelated_question_is_not_found() {
        let ps = [passage(
            "travel:1",
            "Book flights through the portal for every business trip.",
        )];
        let e = extract("What colour is the office cat?", &ps);
        assert!(!e.found);
        assert_eq!(e.text, NOT_FOUND);
        assert!(!extract("anything", &[]).found);
    }
}
