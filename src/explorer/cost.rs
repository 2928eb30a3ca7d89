//! What model calls cost, from their LLM spans' `llm.cost.total` (set from the price
//! table when the call was made). A call whose model has no price is counted apart, so
//! a sum is never passed off as complete: unknown is shown as unknown, never as zero.
//! Calls to the page's own offline models cost nothing and are left out.

use opentelemetry_sdk::trace::SpanData;

use super::store::{attribute, number, TraceRecord};
use crate::rag::offline;
use crate::telemetry::semconv::{self, SpanKind};

/// The cost of some model calls.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    /// USD, over the priced calls.
    pub usd: f64,
    pub priced: usize,
    /// Calls whose model has no price.
    pub unpriced: usize,
}

impl Spend {
    /// The cost of the LLM spans among `spans`.
    pub fn of_spans<'a>(spans: impl IntoIterator<Item = &'a SpanData>) -> Spend {
        let mut spend = Spend::default();
        for span in spans {
            let get = |key: &str| attribute(span, key);
            let is_llm = get(semconv::SPAN_KIND)
                .is_some_and(|v| SpanKind::parse(&v.as_str()) == Some(SpanKind::Llm));
            let offline =
                get(semconv::LLM_PROVIDER).is_some_and(|v| v.as_str() == offline::PROVIDER);
            if !is_llm || offline {
                continue;
            }
            match get(semconv::LLM_COST_TOTAL).and_then(number) {
                Some(usd) => {
                    spend.usd += usd;
                    spend.priced += 1;
                }
                None => spend.unpriced += 1,
            }
        }
        spend
    }

    /// The cost of every call of `traces`.
    pub fn of_traces<'a>(traces: impl IntoIterator<Item = &'a TraceRecord>) -> Spend {
        traces
            .into_iter()
            .map(|t| Spend::of_spans(&t.spans))
            .fold(Spend::default(), Spend::plus)
    }

    pub fn plus(self, other: Spend) -> Spend {
        Spend {
            usd: self.usd + other.usd,
            priced: self.priced + other.priced,
            unpriced: self.unpriced + other.unpriced,
        }
    }

    /// In words: `$0.000123`, `$0.000123 + 2 calls without a price`, or `cost unknown
    /// (2 calls without a price)`; `None` when no call costs anything to know of.
    pub fn label(&self) -> Option<String> {
        let unpriced = match self.unpriced {
            0 => String::new(),
            1 => "1 call without a price".to_string(),
            n => format!("{n} calls without a price"),
        };
        match (self.priced, self.unpriced) {
            (0, 0) => None,
            (0, _) => Some(format!("cost unknown ({unpriced})")),
            (_, 0) => Some(dollars(self.usd)),
            _ => Some(format!("{} + {unpriced}", dollars(self.usd))),
        }
    }
}

/// Dollars with four significant digits (calls cost fractions of a cent).
fn dollars(usd: f64) -> String {
    if usd == 0.0 {
        return "$0".into();
    }
    let digits = (3 - usd.abs().log10().floor() as i32).clamp(2, 10) as usize;
    format!("${usd:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_pass_unknown_off_as_zero() {
        let spend = |usd, priced, unpriced| Spend {
            usd,
            priced,
            unpriced,
        };
        assert_eq!(spend(0.0, 0, 0).label(), None);
        assert_eq!(spend(0.000_123_46, 2, 0).label().unwrap(), "$0.0001235");
        assert_eq!(spend(1.5, 1, 0).label().unwrap(), "$1.500");
        assert_eq!(
            spend(0.0, 0, 2).label().unwrap(),
            "cost unknown (2 calls without a price)"
        );
        assert_eq!(
            spend(0.01, 1, 1).label().unwrap(),
            "$0.01000 + 1 call without a price"
        );
        assert_eq!(spend(0.25, 1, 1).plus(spend(0.5, 1, 0)), spend(0.75, 2, 1));
    }
}
