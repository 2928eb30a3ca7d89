//! The extractive answerer: the answer is made of the sentences of the retrieved
//! passages that are closest to the question, each followed by its passage's `[id]`.
//! When even the best sentence is too far from the question, the answer says the
//! handbook does not cover it. How close a sentence is in meaning comes from the
//! caller ([`crate::rag::offline::OfflineChat`] embeds with the hashed embedder or with
//! MiniLM); the shared words, the passage's rank and the kind of answer asked for are
//! judged here.

use super::chunk::{chunk_id, parse_chunk_id};
use super::embed::{cosine, HashEmbedder};
use super::prompt::Passage;
use super::text;

/// The reply when no passage is close enough.
pub const NOT_FOUND: &str =
    "Not found in the handbook: no passage is close enough to the question.";
/// Under this score the best sentence does not count as an answer.
pub const MIN_SCORE: f32 = 0.22;
/// Sentences within this share of the best score join the answer.
const KEEP_RATIO: f32 = 0.6;
const MAX_SENTENCES: usize = 3;

/// An extracted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Extract {
    /// The answer text with `[id]` citations.
    pub text: String,
    pub found: bool,
}

/// Picks the answer sentences for `question` from `passages` (best first, as retrieved);
/// `similarity` is a sentence's cosine to the question. When even the best passage is
/// less similar than `unrelated_below` (the embedder's calibration), nothing answers.
///
/// A sentence scores by its closeness to the question (`similarity` and shared terms),
/// its passage's similarity (retrieval already judged the whole passage, which says
/// more than one sentence does), when the question asks for an amount, a time or a limit,
/// whether it states a number, and when it asks for a list (requirements, consequences,
/// steps), whether it announces one: more when of the kind asked for, not at all when of
/// another kind, and in proportion to its passage's similarity (a list of requirements
/// from another topic is no answer). The best sentence leads; up to two close seconds from
/// the best passages follow it, so the answer stays short. A lead that announces a list
/// is answered with the list's items alone, and a sentence whose successor refers back
/// to it ("They are still expected to …") brings that successor along. A broad question
/// ("What is the policy for …") is answered with an overview of the lead's section.
pub fn extract(
    question: &str,
    passages: &[Passage],
    similarity: &dyn Fn(&str) -> f32,
    unrelated_below: f32,
) -> Extract {
    let q_terms = text::terms(question);
    let wants_number = asks_for_a_number(question);
    let wants_list = asked_list(question);
    let best_similarity = passages.iter().map(|p| p.similarity).fold(0.0, f32::max);
    let mut scored: Vec<Scored> = Vec::new();
    for (pi, p) in passages.iter().enumerate() {
        // Retrieval's cosine for the whole passage, relative to the best one.
        let prior = p.similarity / best_similarity.max(f32::EPSILON);
        for (si, s) in text::sentences(&p.text).into_iter().enumerate() {
            if !says_something(s) {
                continue;
            }
            let s_terms = text::terms(s);
            let overlap = q_terms.iter().filter(|t| s_terms.contains(t)).count() as f32
                / q_terms.len().max(1) as f32;
            let closeness = 0.6 * similarity(s) + 0.4 * overlap;
            let number = if wants_number && states_a_number(s) {
                NUMBER_BONUS
            } else {
                0.0
            };
            let list = ListMatch::of(wants_list, announced_list(s));
            scored.push(Scored {
                passage: pi,
                at: si,
                score: closeness + PRIOR_WEIGHT * prior + number + list.bonus() * prior,
                closeness,
                names_the_asked_list: list == ListMatch::AskedKind,
                sentence: s,
            });
        }
    }
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((a.passage, a.at).cmp(&(b.passage, b.at)))
    });
    let related = best_similarity >= unrelated_below;
    // A sentence that names the very list asked for ("the following requirements")
    // says it holds the answer, in whatever words the question put it: half the floor.
    let floor = |l: &Scored| {
        if l.names_the_asked_list {
            MIN_SCORE / 2.0
        } else {
            MIN_SCORE
        }
    };
    let Some(lead) = scored
        .first()
        .filter(|l| related && l.closeness >= floor(l))
    else {
        return Extract {
            text: NOT_FOUND.to_string(),
            found: false,
        };
    };
    if asks_for_an_overview(question) {
        if let Some(said) = overview(passages, lead.passage, lead.sentence) {
            return Extract {
                text: cite(passages, &said),
                found: true,
            };
        }
    }
    // A list's announcement with its items is a whole answer (without them, it is
    // one sentence among others).
    let seconds = if announces_a_list(lead.sentence)
        && !following(passages, lead.passage, lead.at, 1).is_empty()
    {
        0
    } else {
        MAX_SENTENCES - 1
    };
    let picked = std::iter::once(lead).chain(
        scored[1..]
            .iter()
            .filter(|s| s.score >= lead.score * KEEP_RATIO)
            .take(seconds),
    );
    // (passage index, sentence), each once, a list's items (or a sentence that refers
    // back) right after the sentence they belong to.
    let mut said: Vec<(usize, &str)> = Vec::new();
    for &Scored {
        passage: pi,
        at: si,
        sentence,
        ..
    } in picked
    {
        if said.iter().any(|(_, s)| *s == sentence) {
            continue;
        }
        said.push((pi, sentence));
        let belonging = if announces_a_list(sentence) {
            following(passages, pi, si, MAX_LIST_ITEMS)
        } else {
            following(passages, pi, si, 1)
                .into_iter()
                .filter(|(_, next)| refers_back(next))
                .collect()
        };
        for item in belonging {
            if !said.iter().any(|(_, s)| *s == item.1) {
                said.push(item);
            }
        }
    }
    Extract {
        text: cite(passages, &said),
        found: true,
    }
}

/// A candidate sentence of [`extract`], and how it scored.
struct Scored<'a> {
    /// Its passage's index, and its own index among the passage's sentences.
    passage: usize,
    at: usize,
    /// What ranks it: `closeness`, its passage's prior and the bonuses.
    score: f32,
    /// How close it is to the question: similarity and shared terms.
    closeness: f32,
    /// It announces a list of the kind the question asks for.
    names_the_asked_list: bool,
    sentence: &'a str,
}

/// The answer's sentences, each followed by its passage's `[id]`.
fn cite(passages: &[Passage], said: &[(usize, &str)]) -> String {
    said.iter()
        .map(|(pi, s)| format!("{s} [{}]", passages[*pi].id))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Four words or more: headings and fragments are no answer.
fn says_something(sentence: &str) -> bool {
    text::words(sentence).len() >= 4
}

/// Passages an overview opens at most.
const OVERVIEW_PASSAGES: usize = 3;

/// "What is the policy for …?", "Tell me about …": a question after a whole topic,
/// which no single sentence answers.
fn asks_for_an_overview(question: &str) -> bool {
    let words = text::words(question);
    let has = |w: &str| words.iter().any(|x| x == w);
    (words.first().is_some_and(|w| w == "what") && (has("policy") || has("policies")))
        || words.windows(3).any(|p| p == ["tell", "me", "about"])
        || has("overview")
}

/// A broad question's answer: the lead sentence (of passage `lead`), and the opening
/// sentence of each other retrieved passage of its section (`<section>:<n>`), in the
/// document's order, at most [`OVERVIEW_PASSAGES`] in all; a chunk that starts a
/// sub-section opens with its heading, so this reads as the section's outline. `None`
/// when the section has only the lead's passage here.
fn overview<'a>(
    passages: &'a [Passage],
    lead: usize,
    lead_sentence: &'a str,
) -> Option<Vec<(usize, &'a str)>> {
    let place = |p: &'a Passage| parse_chunk_id(&p.id);
    let (section, _) = place(&passages[lead])?;
    let mut ours: Vec<(usize, usize)> = passages
        .iter()
        .enumerate()
        .filter_map(|(i, p)| place(p).filter(|(s, _)| *s == section).map(|(_, n)| (n, i)))
        .collect();
    ours.sort_unstable();
    let opening: Vec<(usize, &str)> = ours
        .iter()
        .filter_map(|&(_, i)| {
            if i == lead {
                return Some((i, lead_sentence));
            }
            text::sentences(&passages[i].text)
                .into_iter()
                .find(|s| says_something(s))
                .map(|s| (i, s))
        })
        .take(OVERVIEW_PASSAGES)
        .collect();
    (opening.len() >= 2 && opening.iter().any(|(i, _)| *i == lead)).then_some(opening)
}

/// Items of a list the answer includes at most.
const MAX_LIST_ITEMS: usize = 7;

/// What a list holds, as a question asks for one or a sentence announces one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    /// What must be true first: requirements, conditions, criteria, eligibility.
    Requirements,
    /// What follows from an act: consequences, penalties.
    Consequences,
    /// What to do, in order: steps, a process.
    Steps,
    /// A list of something else, or of something the words do not say.
    Other,
}

impl ListKind {
    /// The kind a noun names ("requirements", "consequences", …), if any.
    fn named_by(noun: &str) -> Option<ListKind> {
        match noun {
            "requirements" | "requirement" | "conditions" | "criteria" | "prerequisites"
            | "eligibility" | "eligible" => Some(ListKind::Requirements),
            "consequences" | "penalties" | "sanctions" => Some(ListKind::Consequences),
            "steps" | "process" | "procedure" => Some(ListKind::Steps),
            _ => None,
        }
    }
}

/// "… the following requirements is met.", "… apply:": the sentences after it are the
/// answer's substance (a list's items), not a sentence alone.
fn announces_a_list(sentence: &str) -> bool {
    announced_list(sentence).is_some()
}

/// The kind of list `sentence` announces: "the following <plural noun>" (its kind from
/// the noun), or a closing colon. "In the following month" announces nothing.
fn announced_list(sentence: &str) -> Option<ListKind> {
    let words = text::words(sentence);
    let following = words
        .windows(3)
        .find(|p| p[0] == "the" && p[1] == "following")
        .map(|p| p[2].as_str());
    following
        .and_then(|noun| {
            ListKind::named_by(noun).or_else(|| text::looks_plural(noun).then_some(ListKind::Other))
        })
        .or_else(|| sentence.ends_with(':').then_some(ListKind::Other))
}

/// "They are still expected to attend …", "This has to be agreed …": a sentence that
/// opens by pointing back at the one before it, so it only reads right after it.
fn refers_back(sentence: &str) -> bool {
    let first = text::words(sentence).into_iter().next().unwrap_or_default();
    matches!(
        first.as_str(),
        "they" | "this" | "these" | "it" | "that" | "those" | "such" | "however" | "otherwise"
    )
}

/// Up to `max` sentences after sentence `si` of passage `pi`, read on into the
/// section's next chunk (`<section>:<n + 1>`) when it was retrieved too, as a list (or
/// a paragraph) crosses chunks.
fn following(passages: &[Passage], pi: usize, si: usize, max: usize) -> Vec<(usize, &str)> {
    let mut items = Vec::new();
    let (mut at, mut skip) = (pi, si + 1);
    loop {
        for sentence in text::sentences(&passages[at].text).into_iter().skip(skip) {
            if items.len() == max {
                return items;
            }
            items.push((at, sentence));
        }
        let next = parse_chunk_id(&passages[at].id).and_then(|(section, n)| {
            let id = chunk_id(section, n + 1);
            passages.iter().position(|p| p.id == id)
        });
        match next {
            Some(n) => (at, skip) = (n, 0),
            None => return items,
        }
    }
}

/// The hashed embedder's cosine to `question`, for [`extract`].
pub fn hashed_similarity(question: &str) -> impl Fn(&str) -> f32 {
    let q = HashEmbedder.embed(question);
    move |s| cosine(&q, &HashEmbedder.embed(s))
}

/// How much a sentence gains from its passage's similarity to the question.
const PRIOR_WEIGHT: f32 = 0.35;

/// What a number is worth to a question that asks for one.
const NUMBER_BONUS: f32 = 0.15;

/// What announcing a list is worth to a question that asks for one: the announcement
/// ("the following consequences apply") rarely shares the question's words, its items do
/// the answering.
const LIST_BONUS: f32 = 0.3;
/// What it is worth when the list is of the very kind asked for (requirements asked,
/// "the following requirements" announced): the sentence says it holds the answer.
const LIST_KIND_BONUS: f32 = 0.45;

/// How a sentence's announced list meets the list a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListMatch {
    /// No list asked or announced, or lists of different kinds (conditions asked,
    /// consequences announced).
    None,
    /// A list, where the question or the sentence does not say of what.
    AnyList,
    /// A list of the very kind asked for.
    AskedKind,
}

impl ListMatch {
    fn of(asked: Option<ListKind>, announced: Option<ListKind>) -> ListMatch {
        match (asked, announced) {
            (Some(a), Some(b)) if a == b && a != ListKind::Other => ListMatch::AskedKind,
            (Some(ListKind::Other), Some(_)) | (Some(_), Some(ListKind::Other)) => {
                ListMatch::AnyList
            }
            _ => ListMatch::None,
        }
    }

    fn bonus(self) -> f32 {
        match self {
            ListMatch::None => 0.0,
            ListMatch::AnyList => LIST_BONUS,
            ListMatch::AskedKind => LIST_KIND_BONUS,
        }
    }
}

/// Questions after several things at once, and of which kind: requirements ("which
/// criteria …", "who can apply …", "what do I need for …"), consequences, steps;
/// "what do I need to …" and "what happens if …" ask for a list of any kind.
fn asked_list(question: &str) -> Option<ListKind> {
    let words = text::words(question);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if let Some(kind) = words.iter().find_map(|w| ListKind::named_by(w)) {
        return Some(kind);
    }
    if pair("who", "can") || pair("need", "for") {
        return Some(ListKind::Requirements);
    }
    let what_to_do = words.iter().position(|w| w == "what").is_some_and(|at| {
        words[at..]
            .windows(2)
            .any(|p| matches!(p[0].as_str(), "need" | "have") && p[1] == "to")
    });
    // "What happens if …" asks after consequences, but so loosely that a list of
    // another kind may answer it ("… get ill on holiday?": what to do then).
    let what_happens = pair("what", "happens") || pair("what", "if");
    (what_to_do || what_happens).then_some(ListKind::Other)
}

/// Questions after an amount, a duration, a date or a limit: "how many", "how long",
/// "by when", "what is the limit", "maximum", "deadline", and the like.
fn asks_for_a_number(question: &str) -> bool {
    let words = text::words(question);
    let has = |w: &str| words.iter().any(|x| x == w);
    let after_how = words.windows(2).any(|p| {
        p[0] == "how"
            && matches!(
                p[1].as_str(),
                "many" | "much" | "long" | "far" | "often" | "soon" | "early" | "late" | "big"
            )
    });
    after_how
        || has("when")
        || [
            "limit",
            "limits",
            "cap",
            "capped",
            "ceiling",
            "maximum",
            "minimum",
            "max",
            "deadline",
            "longest",
            "most",
            "least",
            "percent",
            "rate",
            "amount",
            "budget",
            "allowance",
            "age",
            "period",
            "days",
            "weeks",
            "months",
            "hours",
            "years",
        ]
        .iter()
        .any(|w| has(w))
}

/// Digits, or a number written out.
fn states_a_number(sentence: &str) -> bool {
    text::words(sentence).iter().any(|w| {
        w.chars().any(|c| c.is_ascii_digit())
            || matches!(
                w.as_str(),
                "one"
                    | "two"
                    | "three"
                    | "four"
                    | "five"
                    | "six"
                    | "seven"
                    | "eight"
                    | "nine"
                    | "ten"
                    | "twelve"
                    | "half"
                    | "once"
                    | "twice"
            )
    })
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
        let q = "How many days can I work from another country?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert!(e.found);
        assert!(e.text.contains("30 working days"), "{}", e.text);
        assert!(e.text.contains("[intl:1]"));
    }

    #[test]
    fn a_list_is_answered_with_its_items_across_chunks() {
        let ps = [
            passage(
                "gm:2",
                "A case can only be opened when every one of the following requirements is met. \
                 The request is submitted at least 6 weeks before the start date.",
            ),
            passage(
                "travel:1",
                "Book flights through the portal for every trip.",
            ),
            passage(
                "gm:3",
                "The employee has 12 months of continuous service. The manager approves it.",
            ),
        ];
        let q = "Which requirements must a case meet before it is opened?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert!(
            e.text.starts_with("A case can only be opened")
                && e.text.contains("6 weeks before the start date. [gm:2]")
                && e.text.contains("12 months of continuous service. [gm:3]")
                && e.text.contains("The manager approves it. [gm:3]")
                && !e.text.contains("[travel:1]"),
            "{}",
            e.text
        );
    }

    #[test]
    fn a_question_after_consequences_is_answered_by_the_list_alone() {
        let ps = [
            passage(
                "intl:2",
                "Each employee may work abroad for up to 30 working days per year. \
                 A single stay lasts at most 15 consecutive working days.",
            ),
            passage(
                "intl:4",
                "If you go over the international work limit, the following consequences apply. \
                 Payroll may withhold tax in the host country. \
                 Access to company systems is suspended.",
            ),
        ];
        let q = "What happens if I exceed the international work limit?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert!(
            e.text
                .starts_with("If you go over the international work limit")
                && e.text
                    .contains("Access to company systems is suspended. [intl:4]")
                && !e.text.contains("[intl:2]"),
            "{}",
            e.text
        );
    }

    #[test]
    fn a_sentence_that_refers_back_follows_the_one_it_refers_to() {
        let ps = [
            passage(
                "remote:2",
                "Hybrid teams work from the office two days a week. \
                 Employees hired into a fully remote role are exempt from office days.",
            ),
            passage(
                "remote:3",
                "They are still expected to attend the quarterly team gathering in person. \
                 Desks are booked in the desk booking app.",
            ),
        ];
        let q = "I was hired as fully remote. Am I exempt from office days?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert!(
            e.text
                .starts_with("Employees hired into a fully remote role")
                && e.text
                    .contains("exempt from office days. [remote:2] They are still expected"),
            "{}",
            e.text
        );
    }

    #[test]
    fn a_policy_question_gets_its_section_outline() {
        let ps = [
            passage(
                "intl:4",
                "Exceeding the limit: Staying too long creates tax duties.",
            ),
            passage(
                "remote:1",
                "Desks are booked in the app before each anchor day.",
            ),
            passage(
                "intl:2",
                "The annual limit: You may work abroad for 30 working days a year.",
            ),
            passage(
                "intl:3",
                "Getting approval: Submit an international work request first. It takes a week.",
            ),
        ];
        let q = "What is the policy for working from another country?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert_eq!(
            e.text,
            "The annual limit: You may work abroad for 30 working days a year. [intl:2] \
             Getting approval: Submit an international work request first. [intl:3] \
             Exceeding the limit: Staying too long creates tax duties. [intl:4]"
        );
        assert!(asks_for_an_overview("Tell me about parental leave"));
        assert!(!asks_for_an_overview("Does the policy let me work abroad?"));
    }

    #[test]
    fn what_asks_for_a_list_and_what_refers_back() {
        for (q, kind) in [
            (
                "What are the requirements for a Global Mobility case?",
                ListKind::Requirements,
            ),
            (
                "Who can apply to relocate through Global Mobility?",
                ListKind::Requirements,
            ),
            ("What happens if I exceed the limit?", ListKind::Other),
            ("What if I quit right after the course?", ListKind::Other),
            (
                "I'm moving to Canada. What do I need to do first?",
                ListKind::Other,
            ),
        ] {
            assert_eq!(asked_list(q), Some(kind), "{q}");
        }
        for q in [
            "How many days can I work abroad?",
            "I need to know the limit. What is it?",
            "Do I have to tell anyone?",
        ] {
            assert_eq!(asked_list(q), None, "{q}");
        }
        assert_eq!(
            announced_list("The following consequences apply."),
            Some(ListKind::Consequences)
        );
        assert_eq!(announced_list("Bring these:"), Some(ListKind::Other));
        assert_eq!(
            announced_list("The following are required:"),
            Some(ListKind::Other)
        );
        assert_eq!(announced_list("Send it to the following address."), None);
        assert_eq!(announced_list("Following approval, you may travel."), None);
        assert_eq!(
            announced_list("It is paid with the following month's salary."),
            None
        );
        // Conditions asked, consequences announced: that list is not the answer.
        assert_eq!(
            ListMatch::of(Some(ListKind::Requirements), Some(ListKind::Consequences)),
            ListMatch::None
        );
        assert_eq!(
            ListMatch::of(Some(ListKind::Other), Some(ListKind::Consequences)),
            ListMatch::AnyList
        );
        assert!(refers_back("They are still expected to attend."));
        assert!(refers_back("This has to be agreed in advance."));
        assert!(!refers_back("Theirs is a different rule."));
        assert!(!refers_back("Thirty days is the limit."));
    }

    #[test]
    fn a_list_of_the_kind_asked_for_from_another_topic_does_not_answer() {
        let mut mobility = passage(
            "gm:2",
            "Eligibility and requirements: A case can only be opened when every one of the \
             following requirements is met. The request is submitted 6 weeks ahead.",
        );
        mobility.similarity = 0.3;
        let mut learning = passage(
            "learning:1",
            "Training budget: Every employee has an annual training budget of EUR 1,200 for \
             courses and conferences.",
        );
        learning.similarity = 0.6;
        let q = "What are the eligibility criteria for the training budget?";
        let e = extract(q, &[learning, mobility], &hashed_similarity(q), 0.0);
        assert!(e.text.starts_with("Training budget:"), "{}", e.text);
    }

    #[test]
    fn a_cap_is_a_number_asked_for() {
        assert!(asks_for_a_number("Is there a cap on working from abroad?"));
        assert!(!asks_for_a_number("Can I work from abroad?"));
    }

    #[test]
    fn unrelated_question_is_not_found() {
        let ps = [passage(
            "travel:1",
            "Book flights through the portal for every business trip.",
        )];
        let q = "What colour is the office cat?";
        let e = extract(q, &ps, &hashed_similarity(q), 0.0);
        assert!(!e.found);
        assert_eq!(e.text, NOT_FOUND);
        assert!(!extract("anything", &[], &hashed_similarity("anything"), 0.0).found);
    }
}
