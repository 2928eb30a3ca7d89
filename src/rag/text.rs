//! Text primitives: sentence splitting, word tokens and the light stemmer that the
//! embedder, BM25 and the answerer share, so they all agree on what a "word" is.

/// Words too common to carry meaning for retrieval.
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "between", "both", "but", "by", "can", "could", "did", "do",
    "does", "doing", "during", "each", "for", "from", "further", "had", "has", "have", "having",
    "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its",
    "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "of", "off", "on", "once",
    "only", "or", "other", "our", "ours", "out", "over", "own", "same", "she", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "i'm", "get", "got", "may", "might", "must", "us", "many", "much",
];

/// Whether `word` (lowercase) is a stopword.
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Lowercase word tokens: maximal runs of alphanumeric characters (any script).
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A crude, predictable stem: plural and -ing/-ed endings dropped, then cut to seven
/// characters, so "internationally" and "international" meet at "interna".
pub fn stem(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    let ends = |suffix: &str| word.ends_with(suffix);
    let mut keep = n;
    if n > 4 && ends("ies") {
        keep = n - 2; // "policies" -> "polic" (+ y dropped by truncation anyway)
    } else if looks_plural(word) {
        keep = n - 1;
    } else if n > 5 && ends("ing") {
        keep = n - 3;
    } else if n > 4 && ends("ed") {
        keep = n - 2;
    }
    chars[..keep.min(7)].iter().collect()
}

/// A plural by its ending: "-s" (not "-ss") on a word longer than three letters.
pub fn looks_plural(word: &str) -> bool {
    word.chars().count() > 3 && word.ends_with('s') && !word.ends_with("ss")
}

/// Stems of the words of `text` that are not stopwords: the terms of BM25 and the
/// word features of the embedder.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w))
        .collect()
}

/// Splits text into sentences without ever cutting one in two.
///
/// A sentence ends at `.`, `!` or `?` followed by white space and a character that can
/// open a sentence (upper case, digit, quote or bracket), or at a line break that ends a
/// heading or bullet. Markdown markers (`#`, `-`, `*`) are removed from line starts.
/// Every sentence is a slice of `text`, so [`offset_in`] can say where it stands.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.trim_start_matches('#').trim_start();
        let line = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .unwrap_or(line)
            .trim();
        if line.is_empty() {
            continue;
        }
        split_line(line, &mut out);
    }
    out
}

/// The byte offset of `part` in `whole`; `part` must be a slice of `whole`, as every
/// sentence from [`sentences`] is.
pub fn offset_in(whole: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    debug_assert!(offset + part.len() <= whole.len(), "not a slice of it");
    offset
}

fn split_line<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut start = 0;
    for (i, &(at, c)) in chars.iter().enumerate() {
        let end = match c {
            // CJK full stops end a sentence with no space after them.
            '。' | '！' | '？' => Some(at + c.len_utf8()),
            '.' | '!' | '?' => match (chars.get(i + 1), chars.get(i + 2)) {
                (Some(&(_, space)), Some(&(next_at, next)))
                    if space.is_whitespace() && opens_sentence(next) =>
                {
                    Some(next_at)
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(end) = end {
            push_trimmed(&line[start..end], out);
            start = end;
        }
    }
    push_trimmed(&line[start..], out);
}

/// Upper case, caseless letters (CJK), digits, quotes and brackets can open a sentence;
/// lower case cannot ("e.g. the" stays whole).
fn opens_sentence(c: char) -> bool {
    (c.is_alphanumeric() && !c.is_lowercase()) || matches!(c, '"' | '\'' | '(' | '“')
}

fn push_trimmed<'a>(s: &'a str, out: &mut Vec<&'a str>) {
    let s = s.trim();
    if !s.is_empty() {
        out.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_but_not_abbreviations() {
        let s = sentences("Work abroad is limited. Ask HR, e.g. your partner. Done? Yes!");
        assert_eq!(
            s,
            vec![
                "Work abroad is limited.",
                "Ask HR, e.g. your partner.",
                "Done?",
                "Yes!"
            ]
        );
    }

    #[test]
    fn bullets_and_headings_are_sentences() {
        let s = sentences("### Approval\n- Ask first.\n- Then go");
        assert_eq!(s, vec!["Approval", "Ask first.", "Then go"]);
    }

    #[test]
    fn sentences_know_where_they_stand() {
        let text = "## Travel\n- Book early. Über alles gut.";
        for s in sentences(text) {
            let at = offset_in(text, s);
            assert_eq!(&text[at..at + s.len()], s);
        }
        assert_eq!(
            offset_in(text, sentences(text)[2]),
            text.find("Über").unwrap()
        );
    }

    #[test]
    fn non_ascii_is_kept_whole() {
        let s = sentences("Über die Grenze. Ça va très bien. 日本での勤務。");
        assert_eq!(
            s,
            vec!["Über die Grenze.", "Ça va très bien.", "日本での勤務。"]
        );
        assert_eq!(words("Ça va"), vec!["ça", "va"]);
    }

    #[test]
    fn stems_meet() {
        assert_eq!(stem("internationally"), stem("international"));
        assert_eq!(stem("working"), stem("work"));
        assert_eq!(stem("limits"), stem("limit"));
        assert!(terms("What is the limit?").iter().all(|t| t == "limit"));
    }
}
