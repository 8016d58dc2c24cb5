//! The `limit` check kind: `expr → target` as `var → to`, on a ladder of values approaching the
//! limit, optionally at a claimed rate (`expr − target ≈ rate`).

use std::ops::Range;

use toml::Spanned;

use crate::check::raw::RawCheck;
use crate::check::result::{CheckResult, PointResult, Status};
use crate::check::run::{
    CheckFailure, at_point, finish, free_vars, judge, overall, point_result, prepare, slope,
    test_points, tol, tolerance,
};
use crate::check::spec::{CheckKind, CheckSpec, LimitPoint, Relation, SourceExpr};
use crate::check::validate::Loader;
use crate::engine::{Engine, Point, Termination, Value};

/// The fields of a `limit` check (beyond name, claim, kind and test points).
pub(crate) const FIELDS: &[&str] = &["expr", "var", "to", "target", "rate", "ladder", "tolerance"];

/// The fields of a `limit` table as read.
struct Raw<'a> {
    expr: Option<&'a Spanned<String>>,
    var: Option<&'a Spanned<String>>,
    to: Option<&'a Spanned<toml::Value>>,
    target: Option<&'a Spanned<String>>,
    rate: Option<&'a Spanned<String>>,
    ladder: Option<&'a Spanned<Vec<f64>>>,
}

impl<'a> Raw<'a> {
    fn read(c: &'a RawCheck) -> Self {
        Raw {
            expr: c.text("expr"),
            var: c.text("var"),
            to: c.value("to"),
            target: c.text("target"),
            rate: c.text("rate"),
            ladder: c.numbers("ladder"),
        }
    }
}

/// `expr → target` as `var → to` (`kind = "limit"`). Built only by validation: the ladder holds
/// at least 3 finite values and `var` is a variable name.
#[derive(Debug, Clone)]
pub struct Limit {
    expr: SourceExpr,
    var: String,
    to: LimitPoint,
    target: SourceExpr,
    rate: Option<SourceExpr>,
    ladder: Vec<f64>,
    tolerance: Option<f64>,
}

impl Limit {
    /// The expression that tends to the target.
    pub fn expr(&self) -> &SourceExpr {
        &self.expr
    }
    /// The variable that moves.
    pub fn var(&self) -> &str {
        &self.var
    }
    /// Where the variable goes.
    pub fn to(&self) -> LimitPoint {
        self.to
    }
    /// The limit value.
    pub fn target(&self) -> &SourceExpr {
        &self.target
    }
    /// How `expr − target` behaves, if claimed.
    pub fn rate(&self) -> Option<&SourceExpr> {
        self.rate.as_ref()
    }
    /// Values of `var`, approaching `to` (at least 3, all finite).
    pub fn ladder(&self) -> &[f64] {
        &self.ladder
    }
    /// Tolerance on the last rung (without a rate).
    pub fn tolerance(&self) -> Option<f64> {
        self.tolerance
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        let mut v = vec![&self.expr, &self.target];
        v.extend(self.rate.iter());
        v
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        let f = |role: &str, e: &SourceExpr| (role.to_string(), e.text.clone());
        let mut v = vec![f("expression", &self.expr), f("target", &self.target)];
        if let Some(r) = &self.rate {
            v.push(f("rate", r));
        }
        v
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        limit(
            engine,
            c,
            seed,
            &LimitSpec {
                expr: &self.expr,
                var: &self.var,
                to: self.to,
                target: &self.target,
                rate: self.rate.as_ref(),
                ladder: &self.ladder,
                tolerance: self.tolerance,
            },
        )
    }

    /// The same check with the target replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_target(&self, target: SourceExpr) -> Self {
        Limit {
            target,
            ..self.clone()
        }
    }
}

/// Validates a `limit` check.
pub(crate) fn validate(
    l: &mut Loader<'_>,
    c: &RawCheck,
    span: &Range<usize>,
    tolerance: Option<f64>,
) -> Option<CheckKind> {
    let kind = "limit";
    l.reject_foreign(c, kind, FIELDS);
    let raw = Raw::read(c);
    let e = l.required(raw.expr, "expr", kind, span);
    let var = l.variable_name(raw.var, "var", kind, span);
    let target = l.required(raw.target, "target", kind, span);
    let rate = raw.rate.map(|r| l.expression(r));
    let to = match raw.to {
        Some(t) => l.limit_point(t),
        None => {
            l.invalid(
                span.clone(),
                "a `limit` check needs `to` (\"inf\", \"-inf\" or a number)".into(),
                None,
            );
            None
        }
    };
    let ladder = match raw.ladder {
        Some(x) if x.get_ref().len() >= 3 && x.get_ref().iter().all(|x| x.is_finite()) => {
            Some(x.get_ref().clone())
        }
        Some(x) => {
            l.invalid(
                x.span(),
                "a ladder needs at least 3 finite values".into(),
                None,
            );
            None
        }
        None => {
            l.invalid(
                span.clone(),
                "a `limit` check needs `ladder`, the values of the variable approaching the limit"
                    .into(),
                None,
            );
            None
        }
    };
    let rate = match rate {
        Some(None) => return None,
        Some(Some(r)) => Some(r),
        None => None,
    };
    Some(CheckKind::Limit(Limit {
        expr: e?,
        var: var?,
        to: to?,
        target: target?,
        rate,
        ladder: ladder?,
        tolerance,
    }))
}

struct LimitSpec<'a> {
    expr: &'a SourceExpr,
    var: &'a str,
    to: LimitPoint,
    target: &'a SourceExpr,
    rate: Option<&'a SourceExpr>,
    ladder: &'a [f64],
    tolerance: Option<f64>,
}

/// The distance of a rung from the limit point: `1/|v|` towards ±∞, `|v - a|` towards `a`.
pub(crate) fn closeness(to: LimitPoint, v: f64) -> f64 {
    match to {
        LimitPoint::PosInf | LimitPoint::NegInf => 1.0 / v.abs(),
        LimitPoint::Value(a) => (v - a).abs(),
    }
}

fn limit(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    spec: &LimitSpec<'_>,
) -> Result<CheckResult, CheckFailure> {
    let e = prepare(engine, spec.expr)?;
    let target = prepare(engine, spec.target)?;
    let rate = spec.rate.map(|r| prepare(engine, r)).transpose()?;
    let mut exprs = vec![&e, &target];
    exprs.extend(rate.iter());
    let vars = free_vars(engine, &exprs, &[spec.var]);
    let pts = test_points(c, &vars, seed)?;
    let mut ladder: Vec<f64> = spec.ladder.to_vec();
    ladder.sort_by(|a, b| closeness(spec.to, *b).total_cmp(&closeness(spec.to, *a)));
    let mut results = Vec::new();
    let mut exponents = Vec::new();
    let mut failures = Vec::new();
    for p in &pts {
        let tv = engine
            .eval(&target, p)
            .map_err(|err| at_point(err, p, spec.target))?;
        let mut rungs = Vec::new();
        for &v in &ladder {
            let mut q = p.clone();
            q.insert(spec.var.to_string(), v);
            let ev = engine
                .eval(&e, &q)
                .map_err(|err| at_point(err, &q, spec.expr))?;
            let rv = match (&rate, spec.rate) {
                (Some(r), Some(src)) => {
                    Some(engine.eval(r, &q).map_err(|err| at_point(err, &q, src))?)
                }
                _ => None,
            };
            rungs.push((q, ev, rv));
        }
        let (point_results, verdict) = judge_limit(spec, &tv, &rungs);
        if let Some((exponent, msg)) = verdict {
            if let Some(x) = exponent {
                exponents.push(x);
            }
            if let Some(m) = msg {
                failures.push(m);
            }
        }
        results.extend(point_results);
    }
    let fitted = if exponents.is_empty() {
        None
    } else {
        Some(exponents.iter().copied().fold(f64::INFINITY, f64::min))
    };
    let status = overall(&results);
    let towards = match spec.to {
        LimitPoint::PosInf => "∞".to_string(),
        LimitPoint::NegInf => "-∞".to_string(),
        LimitPoint::Value(a) => format!("{a}"),
    };
    let pass_msg = match (&spec.rate, fitted) {
        (Some(_), Some(x)) => format!(
            "tends to the target as {} → {towards} at the claimed rate; the remainder relative to the rate vanishes with fitted exponent {x:.2}",
            spec.var
        ),
        (Some(_), None) => format!(
            "tends to the target as {} → {towards}; the claimed rate matches to numerical precision",
            spec.var
        ),
        (None, _) => format!("tends to the target as {} → {towards}", spec.var),
    };
    let mut r = finish(c, results, pass_msg, "expression vs target");
    r.fitted_exponent = fitted;
    r.limit_var = Some(spec.var.to_string());
    if status != Status::Pass && !failures.is_empty() {
        r.message = if failures.len() > 1 {
            format!(
                "{} (at {} of {} test points)",
                failures[0],
                failures.len(),
                pts.len()
            )
        } else {
            failures[0].clone()
        };
    }
    Ok(r)
}

type Rung = (Point, Value, Option<Value>);

/// Judges one ladder. Returns the per-rung results and, for a rate, the fitted exponent and a
/// failure message.
#[allow(clippy::type_complexity)]
fn judge_limit(
    spec: &LimitSpec<'_>,
    target: &Value,
    rungs: &[Rung],
) -> (Vec<PointResult>, Option<(Option<f64>, Option<String>)>) {
    let last = rungs.len() - 1;
    let mut out = Vec::new();
    match spec.rate {
        None => {
            let scale = target.value.abs().max(1.0);
            let allowed = spec.tolerance.unwrap_or(tol::LIMIT_DEFAULT * scale);
            for (i, (q, ev, _)) in rungs.iter().enumerate() {
                let t = tolerance(ev, target, allowed);
                // Only the last rung is held to the tolerance; earlier rungs show the approach.
                let status = if i == last {
                    judge(Relation::Equal, ev, target, t)
                } else {
                    Status::Pass
                };
                let mut pr = point_result(q, ev, target, t, status);
                pr.judged = i == last;
                pr.extra.insert("rung".into(), i as f64);
                out.push(pr);
            }
            let first = (rungs[0].1.value - target.value).abs();
            let end = (rungs[last].1.value - target.value).abs();
            let noise = tolerance(&rungs[last].1, target, allowed);
            if end > first + noise {
                if let Some(p) = out.last_mut() {
                    p.status = Status::Fail;
                }
                return (
                    out,
                    Some((
                        None,
                        Some(format!(
                            "moves away from the target: |difference| grows from {first:.3e} to {end:.3e} along the ladder"
                        )),
                    )),
                );
            }
            (out, None)
        }
        Some(_) => {
            // Remainder after the claimed rate, relative to the rate, against closeness h.
            let mut fit_x = Vec::new();
            let mut fit_y = Vec::new();
            let mut last_rel = 0.0;
            let mut last_noise_rel = 0.0;
            for (i, (q, ev, rv)) in rungs.iter().enumerate() {
                let rv = rv.clone().unwrap_or(Value::exact(0.0));
                let predicted = Value::new(
                    target.value + rv.value,
                    target.error + rv.error,
                    Termination::from_converged(target.converged() && rv.converged()),
                );
                let noise = tolerance(ev, &predicted, 0.0);
                let rem = ev.value - predicted.value;
                let rel = rem.abs() / rv.value.abs().max(f64::MIN_POSITIVE);
                let h = closeness(spec.to, q[spec.var]);
                if rem.abs() > noise && h > 0.0 && rel > 0.0 {
                    fit_x.push(h.ln());
                    fit_y.push(rel.ln());
                }
                if i == last {
                    last_rel = rel;
                    last_noise_rel = noise / rv.value.abs().max(f64::MIN_POSITIVE);
                }
                let mut pr = point_result(
                    q,
                    ev,
                    &predicted,
                    noise.max(tol::RATE_RESIDUAL_MAX * rv.value.abs()),
                    Status::Pass,
                );
                pr.judged = i == last;
                pr.extra.insert("rate".into(), rv.value);
                pr.extra.insert("relative_remainder".into(), rel);
                out.push(pr);
            }
            let at_noise = last_rel <= last_noise_rel;
            let exponent = if fit_x.len() >= 2 {
                Some(slope(&fit_x, &fit_y))
            } else {
                None
            };
            let mut message = None;
            if !at_noise {
                if last_rel > tol::RATE_RESIDUAL_MAX {
                    message = Some(format!(
                        "the claimed rate does not describe the approach: at {} = {} the remainder is {:.1} % of the rate",
                        spec.var,
                        rungs[last].0[spec.var],
                        100.0 * last_rel
                    ));
                } else if let Some(p) = exponent {
                    if p < tol::RATE_EXPONENT_MIN {
                        message = Some(format!(
                            "the claimed rate is off by a slowly decaying factor: the remainder relative to the rate vanishes only with fitted exponent {p:.2} (needs at least {})",
                            tol::RATE_EXPONENT_MIN
                        ));
                    }
                }
            }
            if message.is_some() {
                if let Some(p) = out.last_mut() {
                    p.status = if p.lhs_error.is_finite() && rungs[last].1.converged() {
                        Status::Fail
                    } else {
                        Status::Inconclusive
                    };
                }
            }
            (out, Some((exponent, message)))
        }
    }
}
