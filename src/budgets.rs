//! Work limits ("budgets"): the one place that states how much work any input may ask for.
//!
//! Every limit has a name, a default and a sentence saying what it bounds. A limit that is hit
//! is a [`BudgetError`] that names the budget and how to raise it (the binary words that as
//! `--budget NAME=N` through [`set_raise_wording`]); callers check *before* they
//! allocate or loop. The binary may raise a limit once at start-up ([`set`]); the library reads
//! the current values with [`limit`]. The total of all sums together is metered across one run
//! ([`charge_sum_terms`]) once the binary has called [`start_run`]; without it (library use,
//! unit tests) only the per-operation limits apply.
//!
//! Limits that protect the stack (the parser's nesting, the depth of an inlined tree) are fixed:
//! raising them would trade an error for a crash.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One work limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// Terms of all sums together in one run (every term of every nested sum, at every point).
    SumTerms,
    /// Terms of one sum compiled to straight-line code (more are evaluated through the tree).
    UnrolledTerms,
    /// Definitions in one derivation file or command line.
    Definitions,
    /// Bytes of one expression's text.
    ExpressionBytes,
    /// Nodes of an expression once definitions are inlined.
    InlinedNodes,
    /// Nodes of one symbolic derivative (after simplification).
    DerivativeNodes,
    /// Replicates of one `estimator` check.
    Replicates,
    /// Monte-Carlo draws of one estimate (`grad --mc`, `mc[..; n = N]`).
    Draws,
    /// Chains of one sampler run or draws file.
    Chains,
    /// Files visited by one `check` of folders.
    Files,
    /// Random test points of one check (`count`).
    Points,
    /// Wall-clock seconds of one evaluation at one test point (a side of a check, a chain line,
    /// a gradient or partition function of the command line), checked at every bound operator.
    PointSeconds,
}

impl Budget {
    /// Every budget, in the order of the table in ARCHITECTURE.md.
    pub const ALL: [Budget; 12] = [
        Budget::SumTerms,
        Budget::UnrolledTerms,
        Budget::Definitions,
        Budget::ExpressionBytes,
        Budget::InlinedNodes,
        Budget::DerivativeNodes,
        Budget::Replicates,
        Budget::Draws,
        Budget::Chains,
        Budget::Files,
        Budget::Points,
        Budget::PointSeconds,
    ];

    /// The name used by `--budget NAME=N`.
    pub fn name(self) -> &'static str {
        match self {
            Budget::SumTerms => "sum_terms",
            Budget::UnrolledTerms => "unrolled_terms",
            Budget::Definitions => "definitions",
            Budget::ExpressionBytes => "expression_bytes",
            Budget::InlinedNodes => "inlined_nodes",
            Budget::DerivativeNodes => "derivative_nodes",
            Budget::Replicates => "replicates",
            Budget::Draws => "draws",
            Budget::Chains => "chains",
            Budget::Files => "files",
            Budget::Points => "points",
            Budget::PointSeconds => "point_seconds",
        }
    }

    /// The default limit.
    pub fn default_limit(self) -> u64 {
        match self {
            Budget::SumTerms => 10_000_000,
            Budget::UnrolledTerms => 4096,
            Budget::Definitions => 1_000_000,
            Budget::ExpressionBytes => 1 << 20,
            Budget::InlinedNodes => 100_000,
            Budget::DerivativeNodes => 200_000,
            Budget::Replicates => 1_000_000,
            Budget::Draws => 20_000_000,
            Budget::Chains => 100_000,
            Budget::Files => 10_000,
            Budget::Points => 100_000,
            Budget::PointSeconds => 120,
        }
    }

    /// What the budget counts, as a noun phrase.
    pub fn what(self) -> &'static str {
        match self {
            Budget::SumTerms => "terms of all sums together",
            Budget::UnrolledTerms => "terms of one sum compiled to straight-line code",
            Budget::Definitions => "definitions",
            Budget::ExpressionBytes => "bytes of one expression",
            Budget::InlinedNodes => "nodes of an inlined expression",
            Budget::DerivativeNodes => "nodes of a derivative",
            Budget::Replicates => "replicates",
            Budget::Draws => "Monte-Carlo draws",
            Budget::Chains => "chains",
            Budget::Files => "files visited",
            Budget::Points => "test points",
            Budget::PointSeconds => "seconds of one evaluation at one point",
        }
    }

    /// The budget called `name`.
    pub fn from_name(name: &str) -> Option<Budget> {
        Budget::ALL.into_iter().find(|b| b.name() == name)
    }

    fn slot(self) -> &'static AtomicU64 {
        &LIMITS[self as usize]
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const UNSET: AtomicU64 = AtomicU64::new(0);
/// Raised limits (0: the default).
static LIMITS: [AtomicU64; 12] = [UNSET; 12];
static METERED: AtomicBool = AtomicBool::new(false);
static SUM_TERMS_USED: AtomicU64 = AtomicU64::new(0);

/// The current limit of `b`.
pub fn limit(b: Budget) -> u64 {
    match b.slot().load(Ordering::Relaxed) {
        0 => b.default_limit(),
        v => v,
    }
}

/// The current limit of `b` as a `usize` (saturating).
pub fn limit_usize(b: Budget) -> usize {
    usize::try_from(limit(b)).unwrap_or(usize::MAX)
}

/// Sets the limit of `b` for the rest of the process (the binary, at start-up).
pub fn set(b: Budget, value: u64) {
    b.slot().store(value.max(1), Ordering::Relaxed);
}

/// Parses `NAME=N` (`N` an integer, `1e9` accepted) and sets the limit.
///
/// # Errors
/// An unknown name (listing the names) or a value that is not a positive integer.
pub fn set_from_str(setting: &str) -> Result<(), String> {
    let (name, value) = setting
        .split_once('=')
        .ok_or_else(|| format!("`{setting}` is not NAME=N"))?;
    let b = Budget::from_name(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = Budget::ALL.iter().map(|b| b.name()).collect();
        format!(
            "unknown budget `{}`; the budgets are {}",
            name.trim(),
            names.join(", ")
        )
    })?;
    let v = parse_count(value.trim()).ok_or_else(|| {
        format!(
            "budget `{}`: `{}` is not a positive integer",
            b.name(),
            value.trim()
        )
    })?;
    set(b, v);
    Ok(())
}

/// A positive integer written as `123` or `1e9`.
pub fn parse_count(s: &str) -> Option<u64> {
    if let Ok(v) = s.parse::<u64>() {
        return (v > 0).then_some(v);
    }
    let x: f64 = s.parse().ok()?;
    // 2^64 as f64; below it the cast is exact for integers.
    if x.is_finite() && x >= 1.0 && x.fract() == 0.0 && x < 18_446_744_073_709_551_616.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some(x as u64);
    }
    None
}

/// A limit hit: which budget, how much was asked, the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct BudgetError {
    /// The budget.
    pub budget: Budget,
    /// How much was asked for (saturated at `u128::MAX`).
    pub wanted: u128,
    /// The limit in force.
    pub limit: u64,
    /// What asked (`"the sum over k"`), may be empty.
    pub context: String,
}

impl BudgetError {
    /// The message: what asked, how much, the budget and its limit.
    pub fn message(&self) -> String {
        let what = if self.context.is_empty() {
            String::new()
        } else {
            format!("{}: ", self.context.trim_end_matches(','))
        };
        if self.budget == Budget::PointSeconds {
            return format!(
                "{what}one evaluation at one point ran for more than {} s, the budget `{}`",
                self.limit,
                self.budget.name()
            );
        }
        format!(
            "{what}{} {} requested, beyond the budget `{}` = {}",
            self.wanted,
            self.budget.what(),
            self.budget.name(),
            self.limit
        )
    }

    /// How to raise the limit.
    pub fn help(&self) -> String {
        how_to_raise(self.budget)
    }
}

/// How the host words "raise the budget NAME" (the binary: its `--budget NAME=N` flag).
static RAISE_WORDING: OnceLock<fn(&'static str) -> String> = OnceLock::new();

/// Sets, once per process, how [`how_to_raise`] words the fix, given the budget's name: the
/// library names no command-line flag, the binary names its own. Later calls are ignored.
pub fn set_raise_wording(wording: fn(&'static str) -> String) {
    let _ = RAISE_WORDING.set(wording);
}

/// The sentence saying how to raise `b`: the host's wording ([`set_raise_wording`]), else
/// the library's, which names the budget (raised with [`set`]).
pub fn how_to_raise(b: Budget) -> String {
    match RAISE_WORDING.get() {
        Some(wording) => wording(b.name()),
        None => format!(
            "if this much work is intended, raise the budget `{}`",
            b.name()
        ),
    }
}

/// `Ok` when `wanted` fits the budget `b`, else the error naming it (`context` says what asked).
///
/// # Errors
/// The budget is exceeded.
pub fn check(b: Budget, wanted: u128, context: impl Into<String>) -> Result<(), BudgetError> {
    let limit = limit(b);
    if wanted > u128::from(limit) {
        Err(BudgetError {
            budget: b,
            wanted,
            limit,
            context: context.into(),
        })
    } else {
        Ok(())
    }
}

thread_local! {
    /// When the evaluation running on this thread started (see [`start_point_clock`]).
    static POINT_CLOCK: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// Stops the point clock started by [`start_point_clock`] when dropped (restoring an outer one).
#[derive(Debug)]
#[must_use = "the clock stops when the guard is dropped"]
pub struct PointClock {
    previous: Option<std::time::Instant>,
    outer: bool,
}

impl Drop for PointClock {
    fn drop(&mut self) {
        if !self.outer {
            POINT_CLOCK.with(|c| c.set(self.previous));
        }
    }
}

/// Starts the wall clock of one evaluation at one point on this thread, unless one is already
/// running (a nested evaluation is charged to the outer one). [`check_point_clock`] then fails
/// once the `point_seconds` budget is spent.
pub fn start_point_clock() -> PointClock {
    POINT_CLOCK.with(|c| match c.get() {
        Some(t) => PointClock {
            previous: Some(t),
            outer: true,
        },
        None => {
            c.set(Some(std::time::Instant::now()));
            PointClock {
                previous: None,
                outer: false,
            }
        }
    })
}

/// Why an adaptive loop stopped early when [`point_clock_expired`].
pub const POINT_CLOCK_EXPIRED: &str = "the time budget of the point (`point_seconds`) ran out";

/// Whether the evaluation running on this thread has spent its `point_seconds` budget (false
/// when no clock runs): adaptive loops read it to stop early, not converged.
pub fn point_clock_expired() -> bool {
    POINT_CLOCK.with(std::cell::Cell::get).is_some_and(|start| {
        start.elapsed() > std::time::Duration::from_secs(limit(Budget::PointSeconds))
    })
}

/// `Ok` while the evaluation running on this thread is within the `point_seconds` budget (and
/// when no clock runs).
///
/// # Errors
/// The budget is spent; `context` says what was being evaluated.
pub fn check_point_clock(context: &str) -> Result<(), BudgetError> {
    if !point_clock_expired() {
        return Ok(());
    }
    let elapsed = POINT_CLOCK
        .with(std::cell::Cell::get)
        .map_or(0, |t| t.elapsed().as_secs());
    Err(BudgetError {
        budget: Budget::PointSeconds,
        wanted: u128::from(elapsed),
        limit: limit(Budget::PointSeconds),
        context: context.into(),
    })
}

/// Starts metering the total of all sums (the binary, once per command).
pub fn start_run() {
    SUM_TERMS_USED.store(0, Ordering::Relaxed);
    METERED.store(true, Ordering::Relaxed);
}

/// Charges `terms` to the run's total of sum terms, before they are evaluated.
///
/// # Errors
/// The total would exceed the `sum_terms` budget (only while metering, see [`start_run`]; the
/// single sum must fit the budget in any case).
pub fn charge_sum_terms(terms: u128, context: &str) -> Result<(), BudgetError> {
    check(Budget::SumTerms, terms, context)?;
    if !METERED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let add = u64::try_from(terms).unwrap_or(u64::MAX);
    let before = SUM_TERMS_USED.fetch_add(add, Ordering::Relaxed);
    let total = u128::from(before) + terms;
    if total > u128::from(limit(Budget::SumTerms)) {
        return Err(BudgetError {
            budget: Budget::SumTerms,
            wanted: total,
            limit: limit(Budget::SumTerms),
            context: if context.is_empty() {
                "the sums of this run".into()
            } else {
                format!("the sums of this run, up to {context},")
            },
        });
    }
    Ok(())
}

/// Terms charged so far in this run.
pub fn sum_terms_used() -> u64 {
    SUM_TERMS_USED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_defaults_are_positive() {
        for b in Budget::ALL {
            assert_eq!(Budget::from_name(b.name()), Some(b));
            assert!(b.default_limit() > 0);
        }
    }

    #[test]
    fn a_limit_hit_names_the_budget_and_how_to_raise_it() {
        let e = check(Budget::Replicates, u128::from(u64::MAX), "check `x`").err();
        let e = e.map(|e| (e.message(), e.help())).unwrap_or_default();
        assert!(e.0.contains("`replicates` = 1000000"), "{}", e.0);
        // The library's wording names no command-line flag (the binary sets its own).
        assert!(e.1.contains("budget `replicates`"), "{}", e.1);
        assert!(!e.1.contains("--"), "{}", e.1);
        assert!(check(Budget::Replicates, 10, "").is_ok());
    }

    #[test]
    fn the_point_clock_nests_and_stops_with_its_guard() {
        // No clock: never expired.
        assert!(!point_clock_expired());
        assert!(check_point_clock("x").is_ok());
        let outer = start_point_clock();
        let started = POINT_CLOCK.with(std::cell::Cell::get);
        assert!(started.is_some());
        {
            // A nested evaluation is charged to the outer clock: its start does not move.
            let _inner = start_point_clock();
            assert_eq!(POINT_CLOCK.with(std::cell::Cell::get), started);
        }
        assert_eq!(POINT_CLOCK.with(std::cell::Cell::get), started);
        assert!(!point_clock_expired());
        drop(outer);
        assert!(POINT_CLOCK.with(std::cell::Cell::get).is_none());
    }

    #[test]
    fn counts_parse_as_integers_only() {
        assert_eq!(parse_count("1e9"), Some(1_000_000_000));
        assert_eq!(parse_count("12"), Some(12));
        for bad in ["0", "-1", "1.5", "nan", "inf", "1e30", "x"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
        assert!(set_from_str("nonsense=3").is_err());
        assert!(set_from_str("files=0").is_err());
    }
}
