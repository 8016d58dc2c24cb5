//! The result model of `ebmcheck check`: what each check found, serialised as the documented JSON.
//!
//! # JSON schema (`ebmcheck check --format json`), message by message
//!
//! The output is one object:
//!
//! ```text
//! {
//!   "schema": 1,
//!   "files": [FileResult, ...],
//!   "summary": {"pass": n, "fail": n, "inconclusive": n, "error": n}
//! }
//! ```
//!
//! `FileResult`: `{"path": "derivations/x.toml", "title": "...", "checks": [CheckResult, ...],
//! "load_errors": [LoadError, ...]}`; `load_errors` is empty unless the file could not be loaded
//! (then `checks` is empty and the run exits 2).
//!
//! `LoadError`: `{"line": n, "column": n, "message": "...", "help": "..." | null}`.
//!
//! `CheckResult`: `{"name": "...", "claim": "C5", "kind": "equal", "status":
//! "pass"|"fail"|"inconclusive"|"error", "message": "...", "worst": PointResult | null,
//! "points": [PointResult, ...]}`. `message` says in one sentence what was found (for a failure:
//! by how much, where). `worst` repeats the point with the largest ratio of difference to
//! tolerance. A `chain` check adds `"steps": [StepResult, ...]` and `"first_failing_step": i |
//! null`; a `limit` check with a rate adds `"fitted_exponent"`. A failing `equal` check adds
//! `"hint"` when one simple mistake (a flipped sign, a named factor, a reciprocal, one term's
//! sign, one term too many, an additive constant) explains the values at every test point within
//! the check's tolerance (see `check::hint`); the field is absent otherwise.
//!
//! `PointResult`: `{"inputs": {"beta": 2.5, "y": -0.3}, "lhs": v, "rhs": v, "lhs_error": e,
//! "rhs_error": e, "difference": d, "tolerance": t, "status": "pass"|"fail"|"inconclusive",
//! "extra": {...}}`. `lhs`/`rhs` are the two sides compared (for a `limit`: the expression and
//! the target plus rate at one rung of the ladder; for `monotone`/`convex`: consecutive values or
//! slopes; for `gradient`: the exact gradient and the finite difference, with the symbolic
//! derivative in `extra`). `difference` is `lhs - rhs`; the point passes when the claimed
//! relation holds within `tolerance`, which adds the numerical error bounds of both sides to the
//! check's own tolerance.
//!
//! `StepResult` (chains): `{"index": i, "relation": "=", "status": "...", "lhs": v, "rhs": v,
//! "difference": d, "tolerance": t, "line": n, "note": "..." | null, "hint": "..." | null}`:
//! step `i` (from 1) compares line `i` with line `i + 1`, values at the worst test point.
//!
//! The output carries no timings, so the same seed gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

/// The verdict of one check or one test point: the crate's one verdict type.
pub use crate::estimate::Verdict as Status;

/// One test point of a check.
#[derive(Debug, Clone, Serialize)]
pub struct PointResult {
    /// Values of the free variables at this point.
    pub inputs: BTreeMap<String, f64>,
    /// Left side (or the tested expression).
    pub lhs: f64,
    /// Right side (or the reference).
    pub rhs: f64,
    /// Error bound of the left side.
    pub lhs_error: f64,
    /// Error bound of the right side.
    pub rhs_error: f64,
    /// `lhs - rhs`.
    pub difference: f64,
    /// The tolerance the difference was judged against.
    pub tolerance: f64,
    /// The verdict at this point.
    pub status: Status,
    /// Kind-specific figures (e.g. the symbolic derivative of a gradient check).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
    /// Which way the comparison goes: 0 two-sided (`=`), +1 `lhs ≤ rhs`, −1 `lhs ≥ rhs`.
    #[serde(skip)]
    pub sense: i8,
    /// Whether the point is held to its tolerance (early rungs of a limit ladder only show the
    /// approach).
    #[serde(skip)]
    pub judged: bool,
}

impl PointResult {
    /// How far beyond (> 1) or within (≤ 1) its tolerance the point is.
    /// For a one-sided comparison the signed excess over the claimed side counts (negative when
    /// the bound holds with room to spare). Points not held to a tolerance have severity −∞.
    pub fn severity(&self) -> f64 {
        if !self.judged {
            return f64::NEG_INFINITY;
        }
        let d = match self.sense {
            0 => self.difference.abs(),
            s => f64::from(s) * self.difference,
        };
        if d.is_nan() {
            return f64::INFINITY;
        }
        if self.tolerance > 0.0 {
            d / self.tolerance
        } else if d > 0.0 {
            f64::INFINITY
        } else if d < 0.0 {
            f64::NEG_INFINITY
        } else {
            0.0
        }
    }
}

/// One step of a chain: line `index` against line `index + 1`.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// 1-based step number.
    pub index: usize,
    /// The relation, in ASCII (`=`, `~`, `->`, `<=`, `>=`).
    pub relation: &'static str,
    /// The verdict of this step.
    pub status: Status,
    /// Line `index` at the worst test point.
    pub lhs: f64,
    /// Line `index + 1` at the worst test point.
    pub rhs: f64,
    /// `lhs - rhs`.
    pub difference: f64,
    /// The tolerance.
    pub tolerance: f64,
    /// Line of the file where step `index`'s left side is written.
    pub line: usize,
    /// The rule applied, as written.
    pub note: Option<String>,
    /// How the sides of a failing `=` or `~` step differ, when one simple mistake explains every
    /// test point (a sign, a factor, a reciprocal, one term, an additive constant; see
    /// `check::hint`).
    pub hint: Option<String>,
    /// The smallest discrepancy this step could have detected (its largest tolerance over the
    /// judged points); `null` when not finite.
    pub power: Option<f64>,
    /// For a `→` step: the smallest exponent `p` of `gap ~ h^p` fitted on the asymptotic rungs
    /// (must be at least 0.5), absent when every point reached the target within its noise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted_exponent: Option<f64>,
}

/// The outcome of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// The claim id.
    pub claim: String,
    /// The kind (`equal`, `bound`, …).
    pub kind: String,
    /// The verdict.
    pub status: Status,
    /// One sentence on what was found.
    pub message: String,
    /// The worst point, repeated from `points`.
    pub worst: Option<PointResult>,
    /// Every test point.
    pub points: Vec<PointResult>,
    /// Chain steps (chain checks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepResult>>,
    /// First failing step of a chain (chain checks only; `null` when every step passes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failing_step: Option<Option<usize>>,
    /// The variable that moves along the ladder of a limit check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit_var: Option<String>,
    /// Fitted exponent of the remainder of a limit with a rate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted_exponent: Option<f64>,
    /// How the sides of a failing comparison differ, when one simple mistake explains every test
    /// point (a flipped sign, a factor, an additive constant, …); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The smallest discrepancy this check could have detected at its points, in the units of
    /// the claim (its largest tolerance over the judged points, or the minimum detectable
    /// effect of a statistical comparison); `null` when it is not finite. A check whose power
    /// is not finite, or not smaller than the values it compares, is inconclusive.
    pub power: Option<f64>,
    /// Whether the check asked for certified values (`certify = true`): every value it compared
    /// is a certified enclosure (an integral's error is the enclosure's half-width), or the
    /// check is an error saying which value has none. Written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub certified: bool,
    /// Line of the `[[check]]` table in its file.
    #[serde(skip)]
    pub line: usize,
    /// Wall time in seconds (text and HTML only; never in JSON).
    #[serde(skip)]
    pub seconds: f64,
    /// The draws behind a Monte-Carlo comparison, kept for report figures (never in JSON).
    #[serde(skip)]
    pub trace: Option<McTrace>,
    /// The check's expressions as written, `(role, text)`: the sides of a comparison, the lines
    /// of a chain (`line 1`, `line 2`, …), a limit's expression, target and rate; for reports
    /// that typeset them (never in JSON).
    #[serde(skip)]
    pub formulas: Vec<(String, String)>,
}

/// The draws behind the Monte-Carlo side of a comparison at one test point: the value of the
/// averaged body at each draw (one single-sample estimate each), per chain in draw order.
#[derive(Debug, Clone)]
pub struct McTrace {
    /// The test point.
    pub inputs: BTreeMap<String, f64>,
    /// The side's expression as written.
    pub expression: String,
    /// What the side adds to the average (the side's value minus the mean of the draws).
    pub offset: f64,
    /// The other side's value (the exact reference), and its error bound.
    pub reference: f64,
    /// The error bound of the reference.
    pub reference_error: f64,
    /// Per-chain values of the averaged body.
    pub chains: Vec<Vec<f64>>,
}

/// A load error of a file, for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct LoadError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// The outcome of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileResult {
    /// Path as given.
    pub path: String,
    /// Title (empty when the file did not load).
    pub title: String,
    /// Check outcomes in file order.
    pub checks: Vec<CheckResult>,
    /// Load errors (the file's checks did not run).
    pub load_errors: Vec<LoadError>,
    /// The load errors rendered as diagnostics (file:line:column, the line, a caret), for text.
    #[serde(skip)]
    pub diagnostics: Vec<String>,
}

/// Counts of verdicts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Checks that passed.
    pub pass: usize,
    /// Checks that failed.
    pub fail: usize,
    /// Checks that were inconclusive.
    pub inconclusive: usize,
    /// Checks that could not run.
    pub error: usize,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Always 1 for this format.
    pub schema: u32,
    /// Per file.
    pub files: Vec<FileResult>,
    /// Counts.
    pub summary: Summary,
}

impl RunResult {
    /// Builds the run result and its summary from file results.
    pub fn new(files: Vec<FileResult>) -> RunResult {
        let mut summary = Summary::default();
        for c in files.iter().flat_map(|f| &f.checks) {
            match c.status {
                Status::Pass => summary.pass += 1,
                Status::Fail => summary.fail += 1,
                Status::Inconclusive => summary.inconclusive += 1,
                Status::Error => summary.error += 1,
            }
        }
        RunResult {
            schema: 1,
            files,
            summary,
        }
    }

    /// Whether some file failed to load.
    pub fn has_load_errors(&self) -> bool {
        self.files.iter().any(|f| !f.load_errors.is_empty())
    }

    /// Whether every check passed.
    pub fn all_passed(&self) -> bool {
        self.summary.fail == 0 && self.summary.inconclusive == 0 && self.summary.error == 0
    }
}
