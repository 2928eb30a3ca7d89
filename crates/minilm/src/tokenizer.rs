//! [`WordPiece`]: BERT's uncased tokenizer, read from the model's own `tokenizer.json`.
//!
//! It does what that file asks of Hugging Face `tokenizers` (a `BertNormalizer` with
//! lower-casing and accent stripping, a `BertPreTokenizer`, then greedy longest-match
//! WordPiece with `##` continuations) so that ids equal theirs: `tests/reference.json`
//! holds ids written by the Python package, and a test compares.

use std::collections::HashMap;

use serde::Deserialize;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::MiniLmError;

/// Longer words become `[UNK]`, as `max_input_chars_per_word` says.
const MAX_CHARS_PER_WORD: usize = 100;

/// The model's WordPiece vocabulary and its special tokens.
#[derive(Debug, Clone)]
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
}

#[derive(Deserialize)]
struct TokenizerJson {
    model: ModelJson,
}

#[derive(Deserialize)]
struct ModelJson {
    vocab: HashMap<String, u32>,
}

impl WordPiece {
    /// Reads the vocabulary of a Hugging Face `tokenizer.json`.
    pub fn from_json(json: &str) -> Result<Self, MiniLmError> {
        let parsed: TokenizerJson = serde_json::from_str(json)
            .map_err(|e| MiniLmError::Tokenizer(format!("tokenizer.json: {e}")))?;
        let vocab = parsed.model.vocab;
        let id = |t: &str| {
            vocab
                .get(t)
                .copied()
                .ok_or_else(|| MiniLmError::Tokenizer(format!("the vocabulary has no {t}")))
        };
        Ok(WordPiece {
            unk: id("[UNK]")?,
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            vocab,
        })
    }

    /// `[CLS]`, the text's pieces, `[SEP]`: at most `max_len` ids (pieces past it are
    /// dropped, as sentence-transformers truncates).
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.cls];
        let room = max_len.saturating_sub(2);
        'words: for word in pre_tokenize(&normalize(text)) {
            for id in self.pieces(&word) {
                if ids.len() > room {
                    break 'words;
                }
                ids.push(id);
            }
        }
        ids.push(self.sep);
        ids
    }

    /// Greedy longest-match-first pieces of one word; `[UNK]` for the whole word when a
    /// part of it matches nothing.
    fn pieces(&self, word: &str) -> Vec<u32> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_CHARS_PER_WORD {
            return vec![self.unk];
        }
        let mut out = Vec::new();
        let mut start = 0;
        let mut candidate = String::new();
        while start < chars.len() {
            let found = (start + 1..=chars.len()).rev().find_map(|end| {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.extend(&chars[start..end]);
                self.vocab.get(&candidate).map(|id| (*id, end))
            });
            match found {
                Some((id, end)) => {
                    out.push(id);
                    start = end;
                }
                None => return vec![self.unk],
            }
        }
        out
    }
}

/// `BertNormalizer { clean_text, handle_chinese_chars, strip_accents, lowercase }`.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_chinese(c) {
            cleaned.push(' ');
            cleaned.push(c);
            cleaned.push(' ');
        } else if is_whitespace(c) {
            cleaned.push(' ');
        } else {
            cleaned.push(c);
        }
    }
    // Accents go with NFD and dropping the combining marks, then lower case.
    cleaned
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `BertPreTokenizer`: split on whitespace, and every punctuation character is a word.
fn pre_tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_whitespace(c) || is_punctuation(c) {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            if is_punctuation(c) {
                words.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r') || c.is_whitespace()
}

fn is_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r') && c.is_control()
}

/// ASCII symbols count as punctuation for BERT, as do Unicode's punctuation classes;
/// the non-ASCII ones are listed by block (General Punctuation, CJK and full-width
/// forms, and the Latin-1 marks) since `char` does not expose general categories.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c,
            '¡' | '§' | '«' | '¶' | '·' | '»' | '¿'
            | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{205e}'
            | '\u{3001}'..='\u{3003}'
            | '\u{3008}'..='\u{3011}'
            | '\u{3014}'..='\u{301f}'
            | '\u{ff01}'..='\u{ff03}'
            | '\u{ff05}'..='\u{ff0a}'
            | '\u{ff0c}'..='\u{ff0f}'
            | '\u{ff1a}' | '\u{ff1b}' | '\u{ff1f}' | '\u{ff20}'
            | '\u{ff3b}'..='\u{ff3d}' | '\u{ff3f}' | '\u{ff5b}' | '\u{ff5d}')
}

/// The CJK ideograph blocks BERT surrounds with spaces.
fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF
        | 0x3400..=0x4DBF
        | 0x20000..=0x2A6DF
        | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F
        | 0x2B820..=0x2CEAF
        | 0xF900..=0xFAFF
        | 0x2F800..=0x2FA1F)
}
