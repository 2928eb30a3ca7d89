//! Figures over repeated runs, as `make bench` prints them: min, median and max, and
//! the `vs <tool>` lines that compare ragtrace with the tool a user would pick instead,
//! measured in the same run; and the 10 MB corpus they index. Shared by
//! benches/figures.rs, tests/wasm_bench and the end-to-end benchmark.

#![allow(dead_code)] // each includer uses its own part

/// Repeated measurements of one thing, in the unit they are printed in.
pub struct Runs(Vec<f64>);

impl Runs {
    pub fn new(mut values: Vec<f64>) -> Runs {
        assert!(!values.is_empty(), "at least one run");
        values.sort_by(f64::total_cmp);
        Runs(values)
    }

    pub fn min(&self) -> f64 {
        self.0[0]
    }

    pub fn median(&self) -> f64 {
        self.0[self.0.len() / 2]
    }

    pub fn max(&self) -> f64 {
        self.0[self.0.len() - 1]
    }

    /// `median unit (min …, max … over N runs)`.
    pub fn spread(&self, unit: &str) -> String {
        format!(
            "{} {unit} (min {}, max {} over {} runs)",
            num(self.median()),
            num(self.min()),
            num(self.max()),
            self.0.len()
        )
    }
}

/// The comparison line: `vs <tool>: <what>: ragtrace <v> <unit>, <tool> <v> <unit>,
/// ratio <x>`, then the spread. `ours[i]` and `theirs[i]` were measured in the same
/// round; the ratio is the median of the rounds' `theirs / ours` (above 1: ragtrace is
/// faster), so a slow moment of the shared machine hits both sides of a round alike.
pub fn versus(tool: &str, what: &str, unit: &str, ours: &[f64], theirs: &[f64]) -> String {
    assert_eq!(ours.len(), theirs.len(), "one figure per side per round");
    let ratios = Runs::new(ours.iter().zip(theirs).map(|(o, t)| t / o).collect());
    let (ours, theirs) = (Runs::new(ours.to_vec()), Runs::new(theirs.to_vec()));
    format!(
        "vs {tool}: {what}: ragtrace {} {unit}, {tool} {} {unit}, ratio {} \
         ({} rounds; ratio min {}, max {}; ragtrace min {}, max {}; {tool} min {}, max {})",
        num(ours.median()),
        num(theirs.median()),
        num(ratios.median()),
        ratios.0.len(),
        num(ratios.min()),
        num(ratios.max()),
        num(ours.min()),
        num(ours.max()),
        num(theirs.min()),
        num(theirs.max()),
    )
}

/// Three significant digits, without an exponent.
pub fn num(x: f64) -> String {
    let digits = if x == 0.0 {
        2
    } else {
        (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{x:.digits$}")
}

/// 10 MB of markdown: the handbook many times over, each copy under its own title (and
/// its own section ids).
pub fn ten_megabyte_corpus() -> String {
    let mut big = String::new();
    let mut copy = 0;
    while big.len() < 10 * 1_048_576 {
        copy += 1;
        big.push_str(&format!("# Handbook copy {copy}\n"));
        big.push_str(&ragtrace::HANDBOOK_MD.replace("{#", &format!("{{#c{copy}-")));
    }
    big
}
