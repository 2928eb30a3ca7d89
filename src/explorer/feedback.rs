//! [`Feedback`]: a person's verdict on an answer ("Good answer" / "Bad answer" and a
//! note), kept with its trace and sent to Phoenix as an annotation of the root span
//! once Phoenix has that span.

use serde::{Deserialize, Serialize};

/// A verdict on one answer, and whether Phoenix has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    pub good: bool,
    pub note: String,
    /// Phoenix took it (its span annotation was created).
    #[serde(default)]
    pub sent: bool,
    /// Why the last attempt to send it failed.
    #[serde(default)]
    pub failure: Option<String>,
}

impl Feedback {
    pub fn new(good: bool, note: &str) -> Feedback {
        Feedback {
            good,
            note: note.trim().to_string(),
            sent: false,
            failure: None,
        }
    }

    /// `good` or `bad`: the annotation's label.
    pub fn label(&self) -> &'static str {
        if self.good {
            "good"
        } else {
            "bad"
        }
    }

    /// 1 for good, 0 for bad: the annotation's score.
    pub fn score(&self) -> f64 {
        if self.good {
            1.0
        } else {
            0.0
        }
    }

    /// Where it stands, in words.
    pub fn status(&self) -> String {
        match (&self.failure, self.sent) {
            (_, true) => format!("Marked {} · in Phoenix", self.label()),
            (Some(why), false) => format!("Marked {} · not in Phoenix yet: {why}", self.label()),
            (None, false) => format!(
                "Marked {} · goes to Phoenix with the trace's export",
                self.label()
            ),
        }
    }
}
