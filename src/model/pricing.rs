//! What a call cost: a [`PriceTable`] prices token counts, in USD. The page bundles
//! OpenAI's list prices; the user edits the table as text in the Models panel (one
//! model a line), which is parsed once into this type. A model not in the table has no
//! price — shown as unknown, never as zero.

use std::fmt;

use thiserror::Error;

use super::Usage;

/// USD per million tokens of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Price {
    pub provider: String,
    pub model: String,
    pub input: f64,
    pub output: f64,
}

/// The prices calls are costed with.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable {
    prices: Vec<Price>,
}

/// OpenAI's list prices for the models the page suggests and their siblings.
const BUNDLED: &str = "\
# provider model input output (USD per 1M tokens)
openai gpt-4.1 2.00 8.00
openai gpt-4.1-mini 0.40 1.60
openai gpt-4.1-nano 0.10 0.40
openai gpt-4o 2.50 10.00
openai gpt-4o-mini 0.15 0.60
openai text-embedding-3-small 0.02 0
";

/// A line of a price table that cannot be read.
#[derive(Debug, Error, PartialEq)]
#[error("the price table's line {line} (\"{text}\") {problem}")]
pub struct PriceError {
    pub line: usize,
    pub text: String,
    pub problem: &'static str,
}

impl Default for PriceTable {
    fn default() -> Self {
        PriceTable::parse(BUNDLED).expect("the bundled prices parse")
    }
}

impl PriceTable {
    /// The bundled table as text, as the Models panel first shows it.
    pub fn bundled_text() -> &'static str {
        BUNDLED
    }

    /// Reads one `provider model input output` a line; `#` starts a comment, blank
    /// lines are skipped. Prices are non-negative numbers.
    pub fn parse(text: &str) -> Result<PriceTable, PriceError> {
        let mut prices = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let content = raw.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let error = |problem| PriceError {
                line: i + 1,
                text: content.chars().take(60).collect(),
                problem,
            };
            let fields: Vec<&str> = content.split_whitespace().collect();
            let [provider, model, input, output] = fields[..] else {
                return Err(error(
                    "needs four fields: provider, model, input and output price",
                ));
            };
            let price = |v: &str| {
                v.parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or_else(|| error("has a price that is not a number of dollars ≥ 0"))
            };
            prices.push(Price {
                provider: provider.to_string(),
                model: model.to_string(),
                input: price(input)?,
                output: price(output)?,
            });
        }
        Ok(PriceTable { prices })
    }

    /// What `usage` cost with `model` at `provider`; `None` when the price is not known.
    /// A dated snapshot (`gpt-4.1-mini-2025-04-14`) is priced as its model.
    pub fn cost(&self, provider: &str, model: &str, usage: Usage) -> Option<Cost> {
        let price = self
            .prices
            .iter()
            .filter(|p| p.provider == provider)
            .filter(|p| {
                model == p.model
                    || model
                        .strip_prefix(p.model.as_str())
                        .is_some_and(|rest| rest.starts_with("-20"))
            })
            // The longest name the model starts with: gpt-4.1-mini before gpt-4.1.
            .max_by_key(|p| p.model.len())?;
        Some(Cost {
            prompt: usage.prompt_tokens as f64 * price.input / 1e6,
            completion: usage.completion_tokens as f64 * price.output / 1e6,
        })
    }
}

/// The table as it is parsed, one model a line.
impl fmt::Display for PriceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.prices {
            writeln!(f, "{} {} {} {}", p.provider, p.model, p.input, p.output)?;
        }
        Ok(())
    }
}

/// The cost of one call, in USD.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    pub prompt: f64,
    pub completion: f64,
}

impl Cost {
    pub fn total(self) -> f64 {
        self.prompt + self.completion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: Usage = Usage {
        prompt_tokens: 1_000_000,
        completion_tokens: 500_000,
    };

    #[test]
    fn known_models_are_priced_and_others_are_not() {
        let table = PriceTable::default();
        let c = table.cost("openai", "gpt-4.1-mini", USAGE).unwrap();
        assert_eq!((c.prompt, c.completion), (0.40, 0.80));
        assert!((c.total() - 1.20).abs() < 1e-12);
        let snapshot = table.cost("openai", "gpt-4.1-mini-2025-04-14", USAGE);
        assert_eq!(snapshot, Some(c));
        assert_eq!(table.cost("openai", "gpt-4.1", USAGE).unwrap().prompt, 2.00);
        assert_eq!(table.cost("openai", "fixture-chat", USAGE), None);
        assert_eq!(table.cost("ollama", "gpt-4.1-mini", USAGE), None);
        assert_eq!(table.cost("openai", "gpt-4.1-minimal", USAGE), None);
    }

    #[test]
    fn an_edited_table_prices_new_models_and_says_which_line_is_wrong() {
        let table = PriceTable::parse("# mine\n\nopenai my-model 1 2.5  # local\n").unwrap();
        let c = table.cost("openai", "my-model", USAGE).unwrap();
        assert_eq!((c.prompt, c.completion), (1.0, 1.25));
        assert_eq!(table.cost("openai", "gpt-4.1", USAGE), None);
        assert_eq!(PriceTable::parse(&table.to_string()), Ok(table));

        let err = PriceTable::parse("openai a 1 1\nopenai b 1").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.to_string().contains("four fields"), "{err}");
        let err = PriceTable::parse("openai a -1 1").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(PriceTable::parse("openai a NaN 1").is_err());
        assert_eq!(PriceTable::parse("").unwrap().to_string(), "");
    }
}
