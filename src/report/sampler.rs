//! Rendering of `ebmcheck sampler-test`: the text table of the battery and the verdict line.

use crate::sample::SamplerTestOutcome;
use crate::stats::Verdict;
use std::fmt::Write as _;

/// The verdict in words: `pass`, `fail: <the failing tests' evidence>` or
/// `inconclusive: <why, with a hint>`.
pub fn verdict_line(outcome: &SamplerTestOutcome) -> String {
    let report = &outcome.report;
    match report.verdict {
        Verdict::Pass => "pass".to_string(),
        Verdict::Fail => {
            let failing: Vec<String> = report.failures().iter().map(|t| t.detail.clone()).collect();
            format!("fail: {}", failing.join("; "))
        }
        Verdict::Inconclusive => format!("inconclusive: {}", report.summary),
    }
}

/// The text output of `ebmcheck sampler-test`: one row per test (statistic, p-value, Holm p,
/// reject, detail), the draws and their effective sample sizes, R̂, the reference's notes and the
/// verdict at α.
pub fn text(outcome: &SamplerTestOutcome) -> String {
    let report = &outcome.report;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<52} {:>11} {:>10} {:>10}  {:<6}  detail",
        "test", "statistic", "p", "Holm p", "reject"
    );
    for t in &report.tests {
        let _ = writeln!(
            s,
            "{:<52} {:>11.4} {:>10.2e} {:>10.2e}  {:<6}  {}",
            t.name,
            t.statistic,
            t.p_value,
            t.adjusted_p,
            if t.reject { "yes" } else { "no" },
            t.detail
        );
    }
    let ess: Vec<String> = report
        .ess
        .iter()
        .map(|(k, v)| format!("{k} = {v:.0}"))
        .collect();
    let _ = writeln!(
        s,
        "draws: {}, effective sample size: {}",
        report.n,
        ess.join(", ")
    );
    for (k, v) in &report.rhat {
        let _ = writeln!(s, "R-hat of {k}: {v:.4}");
    }
    for n in &outcome.exact.notes {
        let _ = writeln!(s, "note: {n}");
    }
    let _ = writeln!(
        s,
        "verdict at alpha = {}: {}",
        outcome.alpha,
        verdict_line(outcome)
    );
    s
}
