//! Rows of the result table, each with its target and verdict.

use std::fmt::Write as _;

/// What a row is held to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// Reported only.
    None,
    /// The ratio must be at least this.
    RatioAtLeast(f64),
    /// The value must be below this.
    Below(f64),
    /// The ratio must be at most this.
    RatioAtMost(f64),
    /// A yes/no check; the value is 1.0 for yes.
    Holds,
}

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The measured value, formatted with its unit.
    pub measured: String,
    /// The number the verdict reads (for `Below`, `Holds`).
    pub value: f64,
    /// The baseline it is compared with, formatted.
    pub baseline: String,
    /// measured / baseline, when there is one.
    pub ratio: Option<f64>,
    /// The target.
    pub target: Target,
    /// The unit of a `Below` target, for the table.
    pub unit: &'static str,
    /// What limits it, or how it was measured.
    pub note: String,
}

impl Row {
    /// A row with no baseline and no target.
    pub fn info(name: impl Into<String>, measured: impl Into<String>) -> Row {
        Row {
            name: name.into(),
            measured: measured.into(),
            value: f64::NAN,
            baseline: String::new(),
            ratio: None,
            target: Target::None,
            unit: "",
            note: String::new(),
        }
    }

    /// A rate against a baseline rate.
    pub fn versus(name: impl Into<String>, rate: f64, baseline: f64, unit: &str) -> Row {
        Row {
            baseline: format!("{} {unit}", thousands(baseline)),
            ratio: Some(rate / baseline),
            value: rate,
            ..Row::info(name, format!("{} {unit}", thousands(rate)))
        }
    }

    /// A value against a baseline value, each written by `text`; no ratio
    /// when the baseline is zero.
    pub fn compare(
        name: impl Into<String>,
        value: f64,
        baseline: f64,
        text: impl Fn(f64) -> String,
    ) -> Row {
        Row {
            baseline: text(baseline),
            ratio: (baseline != 0.0).then(|| value / baseline),
            value,
            ..Row::info(name, text(value))
        }
    }

    /// A value with no baseline, written by `text`.
    pub fn value(name: impl Into<String>, value: f64, text: impl Fn(f64) -> String) -> Row {
        Row {
            value,
            ..Row::info(name, text(value))
        }
    }

    /// Sets the target.
    pub fn target(mut self, target: Target) -> Row {
        self.target = target;
        self
    }

    /// Sets the unit of a `Below` target.
    pub fn unit(mut self, unit: &'static str) -> Row {
        self.unit = unit;
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::None => "—".into(),
            Target::RatioAtLeast(r) => format!("ratio ≥ {r:.2}"),
            Target::RatioAtMost(r) => format!("ratio ≤ {r:.2}"),
            Target::Below(v) => format!("< {v} {}", self.unit),
            Target::Holds => "holds".into(),
        }
    }

    /// `Some(true)` met, `Some(false)` missed, `None` for reported rows.
    pub fn met(&self) -> Option<bool> {
        let ratio = self.ratio.unwrap_or(f64::NAN);
        match self.target {
            Target::None => None,
            Target::RatioAtLeast(r) => Some(ratio >= r),
            Target::RatioAtMost(r) => Some(ratio <= r),
            Target::Below(v) => Some(self.value < v),
            Target::Holds => Some(self.value == 1.0),
        }
    }

    fn verdict(&self) -> String {
        let ratio = self.ratio.unwrap_or(f64::NAN);
        match (self.met(), self.target) {
            (None, _) => "info".into(),
            (Some(true), _) => "met".into(),
            (Some(false), Target::RatioAtLeast(r)) => {
                format!("**missed** by {:.0}%", (1.0 - ratio / r) * 100.0)
            }
            (Some(false), Target::RatioAtMost(r)) => {
                format!("**missed** by {:.0}%", (ratio / r - 1.0) * 100.0)
            }
            (Some(false), Target::Below(v)) => {
                format!("**missed** by {:.0}%", (self.value / v - 1.0) * 100.0)
            }
            (Some(false), _) => "**missed**".into(),
        }
    }
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| # | measurement | measured | baseline | ratio | target | verdict | notes |\n");
    out.push_str("|---|---|---:|---:|---:|---|---|---|\n");
    for (i, row) in rows.iter().enumerate() {
        let ratio = row.ratio.map_or(String::new(), |r| format!("{r:.2}"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            i + 1,
            row.name,
            row.measured,
            row.baseline,
            ratio,
            row.target_text(),
            row.verdict(),
            row.note
        );
    }
    out
}

/// 12,345 style, for rates.
pub fn thousands(value: f64) -> String {
    if !value.is_finite() {
        return "—".into();
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(f64::NAN), "—");
    }

    #[test]
    fn verdicts_say_by_how_much() {
        let row = Row::versus("x", 60.0, 100.0, "msg/s").target(Target::RatioAtLeast(0.8));
        assert_eq!(row.met(), Some(false));
        assert_eq!(row.verdict(), "**missed** by 25%");
        let row = Row::versus("x", 90.0, 100.0, "msg/s").target(Target::RatioAtLeast(0.8));
        assert_eq!(row.verdict(), "met");
        let mut row = Row::info("p99", "6.0 ms").target(Target::Below(5.0));
        row.value = 6.0;
        assert_eq!(row.verdict(), "**missed** by 20%");
    }
}
