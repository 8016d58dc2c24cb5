//! Plain-text rendering of check runs: one line per check, a summary line, colour on request.

use crate::check::{CheckResult, FileResult, RunResult, Status};

/// How to render text.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Use ANSI colours (only when writing to a terminal).
    pub color: bool,
    /// Show each check's wall time.
    pub timings: bool,
}

fn paint(s: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn mark(status: Status, color: bool) -> String {
    match status {
        Status::Pass => paint("✓", "32", color),
        Status::Fail => paint("✗", "31;1", color),
        Status::Inconclusive => paint("?", "33", color),
        Status::Error => paint("!", "35;1", color),
    }
}

/// Renders a check run: per file a header, per check a line with its mark, claim, name and worst
/// discrepancy against its tolerance; failing checks add their message (and a hint when one
/// simple mistake explains every point); then a summary line.
/// A file that could not be loaded gets one line here; its diagnostics go to standard error.
pub fn render_run(run: &RunResult, opts: TextOptions) -> String {
    let mut out = String::new();
    for f in &run.files {
        out.push_str(&render_file(f, opts));
    }
    out.push_str(&render_summary(run));
    out
}

/// The lines of one file: its header and a line per check (what [`render_run`] prints for it).
pub fn render_file(f: &FileResult, opts: TextOptions) -> String {
    let mut out = String::new();
    if !f.load_errors.is_empty() {
        let n = f.load_errors.len();
        out.push_str(&format!(
            "{}  (not loaded: {n} error{}, shown on standard error)\n",
            f.path,
            if n == 1 { "" } else { "s" }
        ));
        return out;
    }
    out.push_str(&format!("{} — {}\n", f.path, f.title));
    for c in &f.checks {
        let worst = worst_text(c);
        let time = if opts.timings {
            format!("  {:>6.2}s", c.seconds)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {} {:<4} {:<70} {}{}\n",
            mark(c.status, opts.color),
            c.claim,
            truncate(&c.name, 70),
            worst,
            time
        ));
        if c.status != Status::Pass {
            out.push_str(&format!("         {}:{}: {}\n", f.path, c.line, c.message));
            if let Some(h) = &c.hint {
                out.push_str(&format!("         hint: {h}\n"));
            }
        }
    }
    out
}

/// The summary line (after a blank line).
pub fn render_summary(run: &RunResult) -> String {
    let s = &run.summary;
    let loaded_badly = run
        .files
        .iter()
        .filter(|f| !f.load_errors.is_empty())
        .count();
    format!(
        "\n{} passed, {} failed, {} inconclusive, {} errors{}\n",
        s.pass,
        s.fail,
        s.inconclusive,
        s.error,
        if loaded_badly > 0 {
            format!("; {loaded_badly} file(s) could not be loaded")
        } else {
            String::new()
        }
    )
}

/// The worst discrepancy of a check in a few words, by its kind's real criterion: `|Δ|` against
/// the tolerance, the margin of a bound, the z-score and p-value of a Monte-Carlo comparison, or
/// for a limit with a rate the fitted exponent of its remainder.
/// Every check ends with its power: the smallest discrepancy it could detect (`∞` when none).
pub(crate) fn worst_text(c: &CheckResult) -> String {
    let power = power_text(c.power);
    if let (Some(p), "limit") = (c.fitted_exponent, c.kind.as_str()) {
        return format!(
            "remainder/rate exponent {p:.2} (needs ≥ {}; {power})",
            crate::check::run::tol::RATE_EXPONENT_MIN
        );
    }
    match &c.worst {
        Some(w) if w.extra.contains_key("p_value") && w.extra.contains_key("z") => {
            // A statistical comparison: its criterion is the z-score and p-value (raw; the
            // Holm-adjusted p is in the message of a rejected check and in JSON).
            format!(
                "z-score {:.2}, p {:.1e} ({power})",
                w.extra["z"], w.extra["p_value"]
            )
        }
        // A side with no value (a diverging line of a chain, an undefined expression): there is
        // no discrepancy to print and no tolerance it was held to, only the absence of a value.
        Some(w) if w.difference.is_nan() => "no value to compare".into(),
        Some(w) if w.sense != 0 => {
            let margin = -f64::from(w.sense) * w.difference;
            format!("margin {margin:.1e} (tol {:.1e}; {power})", w.tolerance)
        }
        Some(w) => format!(
            "|Δ| {:.1e} (tol {:.1e}; {power})",
            w.difference.abs(),
            w.tolerance
        ),
        None => String::new(),
    }
}

/// A chain step's number for the step tables, in exponent form with `digits` digits; `no value`
/// for NaN (a line that diverges or has no real value), so a table never prints a bare `NaN`.
pub(crate) fn step_number(x: f64, digits: usize) -> String {
    if x.is_nan() {
        "no value".into()
    } else {
        format!("{x:.digits$e}")
    }
}

/// A step's tolerance for the step tables: `—` when the step had no difference to hold to it.
pub(crate) fn step_tolerance(difference: f64, tolerance: f64) -> String {
    if difference.is_nan() {
        "—".into()
    } else {
        format!("{tolerance:.2e}")
    }
}

/// `power 1.0e-9`, or `power ∞` when the check cannot detect any error.
pub(crate) fn power_text(power: Option<f64>) -> String {
    match power {
        Some(p) => format!("power {p:.1e}"),
        None => "power ∞".into(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}
