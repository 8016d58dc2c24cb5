//! One estimate type and one verdict type for every layer (quadrature, engine, samplers,
//! gradients, checks, reports), and the power rule that keeps a comparison that cannot fail
//! from passing.
//!
//! An [`Estimate`] is a value with a deterministic error bound, a standard error and effective
//! sample size where it is random, and a [`Termination`] saying why the computation behind it
//! stopped (argmin's `TerminationReason` is the model). The rule is enforced where it is read:
//! a value or an error that is not finite is never converged, whatever the producer claimed.
//!
//! A [`Verdict`] is `pass`, `fail`, `inconclusive` or `error`, from the statistics layer up to
//! the report pages. [`power_rule`] decides whether a comparison could have failed at all.

use serde::Serialize;

/// The verdict of a comparison, a test point, a check, a statistical decision or a gradient
/// check. Ordered by severity: `Pass < Inconclusive < Fail < Error`, so the verdict of a group
/// is the maximum of its members'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The claim holds within tolerance everywhere it was tested, and the comparison could
    /// have detected a violation (see [`power_rule`]).
    Pass,
    /// The numbers could not settle it: a result that did not converge, too few effective
    /// samples, or a comparison too weak to fail.
    Inconclusive,
    /// The claim is violated beyond tolerance.
    Fail,
    /// The check could not be run (an evaluation error such as NaN at a test point).
    Error,
}

impl Verdict {
    /// The lowercase name, as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
        }
    }

    /// The more severe of two verdicts.
    #[must_use]
    pub fn and(self, other: Verdict) -> Verdict {
        self.max(other)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a numeric computation stopped: data, not an error. Only [`Termination::Converged`]
/// counts as converged, and [`Estimate`] turns it into [`Termination::ErrorNotFinite`] or
/// [`Termination::ValueNotFinite`] when the numbers say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The error bound is within the tolerance (or at the rounding floor, itself within the
    /// largest error any result may carry and still be called converged).
    Converged,
    /// The computation stopped above its tolerance (no further refinement possible).
    ToleranceNotReached,
    /// The evaluation (or time) budget ran out first.
    BudgetExhausted,
    /// A numeric step behind this value did not converge.
    InnerNotConverged,
    /// Too few effective samples to trust the standard error.
    TooFewSamples,
    /// The error bound is infinite or NaN.
    ErrorNotFinite,
    /// The value itself is infinite or NaN.
    ValueNotFinite,
    /// The integral diverges.
    Diverges,
}

impl Termination {
    /// A short human phrase.
    pub fn describe(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::ToleranceNotReached => "tolerance not reached",
            Termination::BudgetExhausted => "budget exhausted",
            Termination::InnerNotConverged => "an inner numeric step did not converge",
            Termination::TooFewSamples => "too few effective samples",
            Termination::ErrorNotFinite => "the error bound is not finite",
            Termination::ValueNotFinite => "the value is not finite",
            Termination::Diverges => "the integral diverges",
        }
    }

    /// The combined termination of a value computed from two others: converged only if both
    /// are, otherwise the more serious reason.
    #[must_use]
    pub fn and(self, other: Termination) -> Termination {
        self.max(other)
    }

    /// `Converged` when `ok`, else `InnerNotConverged`.
    pub fn from_converged(ok: bool) -> Termination {
        if ok {
            Termination::Converged
        } else {
            Termination::InnerNotConverged
        }
    }
}

/// The one estimate type: a value, a deterministic error bound, a standard error and effective
/// sample size where the value is random, and why its computation stopped.
///
/// The numeric fields are public for arithmetic; the termination is read through
/// [`Estimate::termination`] and [`Estimate::converged`], which apply the rule: a value or an
/// error bound that is not finite (or a NaN standard error on a random value) is never
/// converged.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The value.
    pub value: f64,
    /// A bound on `|value - exact|` from the deterministic numeric steps (first order).
    pub error: f64,
    /// Standard error of the Monte-Carlo part (0 for a deterministic value).
    pub std_error: f64,
    /// Smallest effective sample size behind the Monte-Carlo part (∞ for a deterministic value).
    pub ess: f64,
    termination: Termination,
}

impl Estimate {
    /// A deterministic estimate with its error bound and termination.
    pub fn new(value: f64, error: f64, termination: Termination) -> Estimate {
        Estimate {
            value,
            error,
            std_error: 0.0,
            ess: f64::INFINITY,
            termination,
        }
    }

    /// An exact number (error 0, converged).
    pub fn exact(value: f64) -> Estimate {
        Estimate::new(value, 0.0, Termination::Converged)
    }

    /// A deterministic estimate that converged when `converged` says so.
    pub fn with_flag(value: f64, error: f64, converged: bool) -> Estimate {
        Estimate::new(value, error, Termination::from_converged(converged))
    }

    /// A random estimate: its standard error and effective sample size, plus a deterministic
    /// error bound from any numeric step inside it.
    pub fn random(
        value: f64,
        error: f64,
        std_error: f64,
        ess: f64,
        termination: Termination,
    ) -> Estimate {
        Estimate {
            value,
            error,
            std_error,
            ess,
            termination,
        }
    }

    /// Why the computation stopped, after the rule: a non-finite value or error bound is never
    /// converged.
    pub fn termination(&self) -> Termination {
        if !self.value.is_finite() {
            Termination::ValueNotFinite
        } else if !(self.error.is_finite() && self.error >= 0.0 && self.std_error.is_finite()) {
            Termination::ErrorNotFinite
        } else {
            self.termination
        }
    }

    /// Whether the estimate converged (see [`Estimate::termination`]).
    pub fn converged(&self) -> bool {
        self.termination() == Termination::Converged
    }

    /// Whether the estimate is random (judged statistically).
    pub fn is_random(&self) -> bool {
        self.std_error > 0.0
    }

    /// Marks the estimate as resting on another step's termination too.
    pub fn depend_on(&mut self, other: Termination) {
        self.termination = self.termination.and(if other == Termination::Converged {
            other
        } else {
            Termination::InnerNotConverged.max(other)
        });
    }

    /// Replaces the termination (the rule still applies when it is read).
    #[must_use]
    pub fn with_termination(mut self, termination: Termination) -> Estimate {
        self.termination = termination;
        self
    }
}

/// The floor of the power rule used by `check` and `grad`: below this absolute level a
/// tolerance counts as able to detect any error that matters, even when every compared value is
/// zero ([`power_rule`]'s `floor`).
pub const POWER_FLOOR: f64 = 1e-8;

/// Why a comparison cannot fail, if it cannot: its tolerance (the smallest discrepancy it could
/// detect, in the units of the claim) is not finite, or is at least as large as the quantities
/// it compares. `scale` is the largest magnitude of the compared values; `floor` the absolute
/// level below which a tolerance counts as able to detect any error that matters (comparisons
/// of quantities that are all zero are judged against it).
///
/// Returns `None` when the comparison has power, or the reason it is inconclusive.
pub fn power_rule(power: f64, scale: f64, floor: f64) -> Option<String> {
    if !power.is_finite() {
        return Some(format!(
            "this check cannot detect any error: its tolerance is {power} (a numeric error bound is not finite)"
        ));
    }
    if power >= scale.abs() && power > floor {
        return Some(format!(
            "this check cannot detect an error smaller than {power:.3e}, which is at least as large as the values compared ({:.3e})",
            scale.abs()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn verdicts_order_by_severity() {
        assert!(Verdict::Pass < Verdict::Inconclusive);
        assert!(Verdict::Inconclusive < Verdict::Fail);
        assert!(Verdict::Fail < Verdict::Error);
        assert_eq!(Verdict::Pass.and(Verdict::Fail), Verdict::Fail);
        assert_eq!(
            serde_json::to_string(&Verdict::Inconclusive).unwrap(),
            "\"inconclusive\""
        );
    }

    #[test]
    fn infinite_tolerance_or_one_above_the_values_has_no_power() {
        assert!(power_rule(f64::INFINITY, 1.0, 1e-12).is_some());
        assert!(power_rule(f64::NAN, 1.0, 1e-12).is_some());
        assert!(power_rule(2.0, 1.0, 1e-12).is_some());
        assert!(power_rule(1e-9, 1.0, 1e-12).is_none());
        // Values that are all zero, judged against a tiny tolerance: a real comparison.
        assert!(power_rule(1e-15, 0.0, 1e-12).is_none());
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(256))]
        #[test]
        fn a_non_finite_value_or_error_is_never_converged(
            v in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), -1e300..1e300f64],
            e in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), 0.0..1e300f64],
        ) {
            let est = Estimate::new(v, e, Termination::Converged);
            prop_assert_eq!(est.converged(), v.is_finite() && e.is_finite());
            let r = Estimate::random(v, e, f64::NAN, 100.0, Termination::Converged);
            prop_assert!(!r.converged());
        }
    }
}
