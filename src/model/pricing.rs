//! What a call cost: [`cost`] prices token counts from a table of known models, in USD.
//! A model not in the table has no price — shown as unknown, never as zero.

use super::Usage;

/// USD per million tokens: (input, output).
struct Price {
    provider: &'static str,
    model: &'static str,
    input: f64,
    output: f64,
}

/// OpenAI's list prices for the models the page suggests and their siblings. A dated
/// snapshot (`gpt-4.1-mini-2025-04-14`) is priced as its model.
const PRICES: [Price; 6] = [
    Price {
        provider: "openai",
        model: "gpt-4.1",
        input: 2.00,
        output: 8.00,
    },
    Price {
        provider: "openai",
        model: "gpt-4.1-mini",
        input: 0.40,
        output: 1.60,
    },
    Price {
        provider: "openai",
        model: "gpt-4.1-nano",
        input: 0.10,
        output: 0.40,
    },
    Price {
        provider: "openai",
        model: "gpt-4o",
        input: 2.50,
        output: 10.00,
    },
    Price {
        provider: "openai",
        model: "gpt-4o-mini",
        input: 0.15,
        output: 0.60,
    },
    Price {
        provider: "openai",
        model: "text-embedding-3-small",
        input: 0.02,
        output: 0.0,
    },
];

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

/// What `usage` cost with `model` at `provider`; `None` when the price is not known.
pub fn cost(provider: &str, model: &str, usage: Usage) -> Option<Cost> {
    let price = PRICES
        .iter()
        .filter(|p| p.provider == provider)
        // The longest name the model starts with: gpt-4.1-mini before gpt-4.1.
        .filter(|p| {
            model == p.model
                || model
                    .strip_prefix(p.model)
                    .is_some_and(|rest| rest.starts_with("-20"))
        })
        .max_by_key(|p| p.model.len())?;
    Some(Cost {
        prompt: usage.prompt_tokens as f64 * price.input / 1e6,
        completion: usage.completion_tokens as f64 * price.output / 1e6,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_models_are_priced_and_others_are_not() {
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 500_000,
        };
        let c = cost("openai", "gpt-4.1-mini", usage).unwrap();
        assert_eq!((c.prompt, c.completion), (0.40, 0.80));
        assert!((c.total() - 1.20).abs() < 1e-12);
        let snapshot = cost("openai", "gpt-4.1-mini-2025-04-14", usage).unwrap();
        assert_eq!(snapshot, c);
        assert_eq!(cost("openai", "gpt-4.1", usage).unwrap().prompt, 2.00);
        assert_eq!(cost("openai", "fixture-chat", usage), None);
        assert_eq!(cost("ollama", "gpt-4.1-mini", usage), None);
        assert_eq!(cost("openai", "gpt-4.1-minimal", usage), None);
    }
}
