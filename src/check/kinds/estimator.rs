//! The `estimator` check kind (claim C12): a Monte-Carlo estimator of `⟨of⟩` under
//! `exp(−energy)` run many times and judged statistically — unbiased, converging at `1/√N`, or
//! CD-k's known bias.

use std::ops::Range;

use rand::Rng;

use crate::budgets::{self, Budget};
use crate::check::raw::RawCheck;
use crate::check::result::{CheckResult, Status};
use crate::check::run::{
    CheckFailure, at_point, describe_point, finish, free_vars, prepare, statistical_point,
    test_points, tol,
};
use crate::check::source::SpecErrorKind;
use crate::check::spec::{CheckKind, CheckSpec, SourceExpr};
use crate::check::validate::Loader;
use crate::engine::{Engine, EngineError, Termination, Value};
use crate::expr::Expr;

/// Every field an `estimator` check may carry (beyond name, claim, kind and test points); which
/// apply depends on the estimator.
pub(crate) const FIELDS: &[&str] = &[
    "estimator",
    "var",
    "energy",
    "of",
    "exact",
    "sizes",
    "replicates",
    "k",
    "start",
    "step",
    "predicted",
];

/// The estimator of an `estimator` check, and what its check claims.
#[derive(Debug, Clone)]
pub enum EstimatorSpec {
    /// One exact draw per replicate: the mean of the replicates equals the exact value.
    Single,
    /// The average of `N` exact draws for each `N` of `sizes`: unbiased at every `N`, and its
    /// spread across replicates falls like `N^(-1/2)`.
    Average {
        /// The sample sizes, increasing.
        sizes: Vec<usize>,
    },
    /// CD-k: chains started at `start` take `k` unadjusted-Langevin steps of size `step`; the
    /// average of `of` at their final states equals `predicted` and differs from `exact`.
    Cd {
        /// Kernel steps.
        k: usize,
        /// The starting point (the data point).
        start: Box<SourceExpr>,
        /// The Langevin time step.
        step: f64,
        /// The claimed (biased) value.
        predicted: Box<SourceExpr>,
    },
}

/// A Monte-Carlo estimator of `⟨of⟩` under `exp(−energy)` over `var`, run many times and judged
/// statistically (`kind = "estimator"`). Built only by validation: at least 10 replicates, at
/// least 3 increasing sizes, a positive step, all within the `replicates` and `draws` budgets.
#[derive(Debug, Clone)]
pub struct Estimator {
    estimator: EstimatorSpec,
    var: String,
    energy: SourceExpr,
    of: SourceExpr,
    exact: SourceExpr,
    replicates: usize,
}

impl Estimator {
    /// Which estimator and what is claimed of it.
    pub fn estimator(&self) -> &EstimatorSpec {
        &self.estimator
    }
    /// The sampled variable (real line).
    pub fn var(&self) -> &str {
        &self.var
    }
    /// `U` with the density ∝ exp(−U) (β folded in).
    pub fn energy(&self) -> &SourceExpr {
        &self.energy
    }
    /// The averaged observable.
    pub fn of(&self) -> &SourceExpr {
        &self.of
    }
    /// The exact expectation `⟨of⟩`.
    pub fn exact(&self) -> &SourceExpr {
        &self.exact
    }
    /// Independent replicates of the estimator (CD-k: chains).
    pub fn replicates(&self) -> usize {
        self.replicates
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        let mut v = vec![&self.energy, &self.of, &self.exact];
        if let EstimatorSpec::Cd {
            start, predicted, ..
        } = &self.estimator
        {
            v.extend([start.as_ref(), predicted.as_ref()]);
        }
        v
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        vec![
            ("energy".to_string(), self.energy.text.clone()),
            ("estimated quantity".to_string(), self.of.text.clone()),
            ("exact value".to_string(), self.exact.text.clone()),
        ]
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        estimator(
            engine,
            c,
            seed,
            &EstimatorCheck {
                est: &self.estimator,
                var: &self.var,
                energy: &self.energy,
                of: &self.of,
                exact: &self.exact,
                replicates: self.replicates,
            },
        )
    }

    /// The same check with the exact value replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_exact(&self, exact: SourceExpr) -> Self {
        Estimator {
            exact,
            ..self.clone()
        }
    }
}

/// Validates an `estimator` check.
pub(crate) fn validate(l: &mut Loader<'_>, c: &RawCheck, span: &Range<usize>) -> Option<CheckKind> {
    const KIND: &str = "estimator";
    let common = ["estimator", "var", "energy", "of", "exact", "replicates"];
    let Some(which) = c.text("estimator") else {
        l.invalid(
            span.clone(),
            "an `estimator` check needs `estimator` (\"single\", \"average\" or \"cd\")".into(),
            None,
        );
        return None;
    };
    let extra: &[&str] = match which.get_ref().as_str() {
        "single" => &[],
        "average" => &["sizes"],
        "cd" => &["k", "start", "step", "predicted"],
        other => {
            l.invalid(
                which.span(),
                format!("unknown estimator `{other}`"),
                Some("use single, average or cd"),
            );
            return None;
        }
    };
    let allowed: Vec<&str> = common.iter().chain(extra).copied().collect();
    let label = format!("{KIND} = {}", which.get_ref());
    l.reject_foreign(c, &label, &allowed);
    let var = l.variable_name(c.text("var"), "var", KIND, span);
    let energy = l.required(c.text("energy"), "energy", KIND, span);
    let of = l.required(c.text("of"), "of", KIND, span);
    let exact = l.required(c.text("exact"), "exact", KIND, span);
    let replicates = match c.integer("replicates") {
        Some(r) => l
            .count_field(r, "replicates", 10)
            .and_then(|n| l.within(Budget::Replicates, n, r.span(), "`replicates`")),
        None => {
            l.invalid(
                span.clone(),
                "an `estimator` check needs `replicates` (how many times the estimator is run)"
                    .into(),
                None,
            );
            None
        }
    };
    let estimator = match which.get_ref().as_str() {
        "single" => Some(EstimatorSpec::Single),
        "average" => match c.integers("sizes") {
            Some(s)
                if s.get_ref().len() >= 3
                    && s.get_ref().iter().all(|n| *n >= 1)
                    && s.get_ref().windows(2).all(|w| w[0] < w[1]) =>
            {
                Some(EstimatorSpec::Average {
                    sizes: s
                        .get_ref()
                        .iter()
                        .filter_map(|n| usize::try_from(*n).ok())
                        .collect(),
                })
            }
            Some(s) => {
                l.invalid(
                    s.span(),
                    "`sizes` must be at least 3 increasing whole numbers, each at least 1".into(),
                    None,
                );
                None
            }
            None => {
                l.invalid(
                    span.clone(),
                    "an `average` estimator needs `sizes`, e.g. [1, 4, 16, 64]".into(),
                    None,
                );
                None
            }
        },
        _ => {
            let k = match c.integer("k") {
                Some(k) => l.count_field(k, "k", 1),
                None => {
                    l.invalid(span.clone(), "a `cd` estimator needs `k`".into(), None);
                    None
                }
            };
            let start = l.required(c.text("start"), "start", "cd estimator", span);
            let predicted = l.required(c.text("predicted"), "predicted", "cd estimator", span);
            let step = match c.number("step") {
                Some(h) if h.get_ref().is_finite() && *h.get_ref() > 0.0 => Some(*h.get_ref()),
                Some(h) => {
                    l.invalid(h.span(), "`step` must be a positive number".into(), None);
                    None
                }
                None => {
                    l.invalid(
                        span.clone(),
                        "a `cd` estimator needs `step` (the Langevin time step)".into(),
                        None,
                    );
                    None
                }
            };
            Some(EstimatorSpec::Cd {
                k: k?,
                start: Box::new(start?),
                step: step?,
                predicted: Box::new(predicted?),
            })
        }
    };
    let estimator = estimator?;
    let replicates = replicates?;
    let per_replicate = match &estimator {
        EstimatorSpec::Single => 1u128,
        EstimatorSpec::Average { sizes } => sizes.iter().map(|&n| n as u128).sum(),
        EstimatorSpec::Cd { k, .. } => *k as u128,
    };
    if let Err(e) = budgets::check(
        Budget::Draws,
        per_replicate.saturating_mul(replicates as u128),
        "the estimator's replicates",
    ) {
        l.err(
            span.clone(),
            SpecErrorKind::Invalid,
            e.message(),
            Some(e.help()),
        );
        return None;
    }
    Some(CheckKind::Estimator(Estimator {
        estimator,
        var: var?,
        energy: energy?,
        of: of?,
        exact: exact?,
        replicates,
    }))
}

/// The fields of an `estimator` check.
struct EstimatorCheck<'a> {
    est: &'a EstimatorSpec,
    var: &'a str,
    energy: &'a SourceExpr,
    of: &'a SourceExpr,
    exact: &'a SourceExpr,
    replicates: usize,
}

/// An estimate from `n` independent replicates as a random [`Value`].
fn replicated(e: &crate::sample::McAverage) -> Value {
    Value::random(e.estimate, 0.0, e.mcse, e.ess, Termination::Converged)
}

/// `estimator` checks (claim C12): the estimator is run `replicates` times at each test point
/// from exact draws (inverse CDF of `exp(−energy)` over the real line) or, for CD-k, from chains
/// started at `start`; every "equals" is a z-test in the run-wide Holm family, and CD-k's
/// difference from the exact value must be significant at α (Bonferroni over the points).
#[allow(
    clippy::too_many_lines,
    reason = "three estimators, one loop over the points"
)]
fn estimator(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    spec: &EstimatorCheck,
) -> Result<CheckResult, CheckFailure> {
    use crate::engine::ProgramEnergy;
    use crate::grad::estimators::{FastQuantile, replicate_averages};
    use crate::quad::{Cdf1d, Energy as _};
    use crate::sample::{FnTarget, cd_k, chain_seed, zoo::Ula};
    let var = spec.var;
    let u = prepare(engine, spec.energy)?;
    let g = prepare(engine, spec.of)?;
    let ex = prepare(engine, spec.exact)?;
    let du = engine
        .derivative(&u, var)
        .map_err(|e| CheckFailure::Error(format!("the energy's derivative in `{var}`: {e}")))?;
    let cd = match spec.est {
        EstimatorSpec::Cd {
            k,
            start,
            step,
            predicted,
        } => Some((
            *k,
            prepare(engine, start)?,
            *step,
            prepare(engine, predicted)?,
        )),
        _ => None,
    };
    let mut exprs = vec![&u, &g, &ex];
    if let Some((_, s, _, p)) = &cd {
        exprs.extend([s, p]);
    }
    let vars = free_vars(engine, &exprs, &[var]);
    let pts = test_points(c, &vars, seed)?;
    let r = spec.replicates;
    let compile = |e: &Expr, b: &crate::expr::Bindings, src: &SourceExpr| {
        ProgramEnergy::new(e, &[var], b).map_err(|err| {
            CheckFailure::Error(format!(
                "`{}` cannot be compiled over `{var}`: {err}",
                src.text
            ))
        })
    };
    let crit = crate::stats::special::quantile(1.0 - tol::ALPHA / (2.0 * pts.len().max(1) as f64));
    let mut results = Vec::new();
    let mut exponents = Vec::new();
    for (i, p) in pts.iter().enumerate() {
        let mut b = engine.params().clone();
        for (k, v) in p {
            b.set(k, *v);
        }
        let ue = compile(&u, &b, spec.energy)?;
        let ge = compile(&g, &b, spec.of)?;
        let exact_v = engine
            .eval(&ex, p)
            .map_err(|e| at_point(e, p, spec.exact))?;
        let pseed = chain_seed(seed, i as u64);
        let sizes: &[usize] = match spec.est {
            EstimatorSpec::Single => &[1],
            EstimatorSpec::Average { sizes } => sizes,
            EstimatorSpec::Cd { .. } => &[],
        };
        if let Some((k, start, step, predicted)) = &cd {
            let due = compile(&du, &b, spec.energy)?;
            let y0 = engine
                .eval(start, p)
                .map_err(|e| at_point(e, p, spec.energy))?
                .value;
            let pred = engine
                .eval(predicted, p)
                .map_err(|e| at_point(e, p, spec.exact))?;
            let target = FnTarget::new(
                1,
                |y: &[f64]| ue.eval(y),
                |y: &[f64], gr: &mut [f64]| {
                    gr[0] = due.eval(y);
                    ue.eval(y)
                },
            );
            let starts = vec![vec![y0]; r];
            let res = cd_k(
                &target,
                &Ula { step: *step },
                &starts,
                *k,
                &|y| ge.eval(y),
                pseed,
            )
            .map_err(|e| CheckFailure::Error(format!("CD-{k}: {e}")))?;
            let lv = replicated(&res.estimate);
            let mut pr = statistical_point(p, &lv, &pred);
            let z_exact = (lv.value - exact_v.value) / (lv.std_error + exact_v.error);
            pr.extra.insert("exact".into(), exact_v.value);
            pr.extra.insert("bias".into(), lv.value - exact_v.value);
            pr.extra.insert("z_exact".into(), z_exact);
            if z_exact.abs() <= crit && pr.status == Status::Pass {
                pr.status = Status::Fail;
            }
            results.push(pr);
            continue;
        }
        let cdf = Cdf1d::new(&ue, f64::NEG_INFINITY, f64::INFINITY, 1.0)
            .map_err(|e| at_point(EngineError::numeric(e.to_string()), p, spec.energy))?;
        let fast = FastQuantile::new(&cdf);
        let draw = |rng: &mut crate::sample::Rng| -> f64 {
            let x: f64 = rng.random();
            ge.eval(&[fast.quantile(x.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON))])
        };
        let fit = replicate_averages(&draw, sizes, r, pseed);
        for s in &fit.sizes {
            let mut pr = statistical_point(p, &replicated(&s.mean), &exact_v);
            pr.extra.insert("n".into(), s.n as f64);
            pr.extra.insert("spread".into(), s.spread);
            results.push(pr);
        }
        if fit.exponent.is_finite() {
            let lv = Value::random(
                fit.exponent,
                0.0,
                fit.exponent_se,
                r as f64,
                Termination::Converged,
            );
            let mut pr = statistical_point(p, &lv, &Value::exact(-0.5));
            pr.extra.insert("rate_exponent".into(), fit.exponent);
            exponents.push(fit.exponent);
            results.push(pr);
        }
    }
    let n = pts.len();
    let msg = match spec.est {
        EstimatorSpec::Single => format!(
            "the mean of {r} single-sample estimates equals the exact value within its standard error at {n} test points"
        ),
        EstimatorSpec::Average { sizes } => format!(
            "unbiased at N = {sizes:?}, and the spread across {r} replicates falls like N^b with b = {} (claimed −1/2) at {n} test points",
            exponents
                .iter()
                .map(|b| format!("{b:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        EstimatorSpec::Cd { k, .. } => {
            let worst = results
                .iter()
                .filter_map(|p| p.extra.get("z_exact"))
                .fold(f64::INFINITY, |a, z| a.min(z.abs()));
            format!(
                "CD-{k} over {r} chains from the data equals the predicted biased value and differs from the exact one (|z| ≥ {worst:.1} against the exact value) at {n} test points"
            )
        }
    };
    let mut out = finish(c, results, msg, "estimate vs claimed value");
    if matches!(spec.est, EstimatorSpec::Cd { .. }) && out.status == Status::Fail {
        if let Some(w) = out
            .points
            .iter()
            .find(|p| p.extra.get("z_exact").is_some_and(|z| z.abs() <= crit))
        {
            out.message = format!(
                "the bias is not detected{}: the CD estimate {:.6e} is within {crit:.2} standard errors of the exact value {:.6e}",
                describe_point(w),
                w.lhs,
                w.extra.get("exact").copied().unwrap_or(f64::NAN)
            );
        }
    }
    Ok(out)
}
