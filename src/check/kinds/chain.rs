//! The `chain` check kind: a derivation line by line, each step's relation (`=`, `≈`, `→`, `≤`,
//! `≥`) judged between consecutive lines, the first failing step named.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::check::hint;
use crate::check::kinds::compare::hint_side;
use crate::check::kinds::limit::closeness;
use crate::check::raw::RawCheck;
use crate::check::result::{CheckResult, PointResult, Status, StepResult};
use crate::check::run::{
    CheckFailure, at_point, finish, finite, free_vars, is_random, judge, overall, point_result,
    power_of, prepare, sided, slope, statistical_point, test_points, tol, tolerance, worst,
};
use crate::check::spec::{CheckKind, CheckSpec, LimitPoint, Relation, SourceExpr};
use crate::check::validate::{Loader, is_identifier};
use crate::engine::{Engine, EngineErrorKind, Point, Termination, Value};
use crate::expr::Expr;

/// The fields of a `chain` check (beyond name, claim, kind and test points). `tolerance` is
/// accepted and not used.
pub(crate) const FIELDS: &[&str] = &["steps", "tolerance"];

/// One line of a `chain` check as read.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    expr: Option<Spanned<String>>,
    relation: Option<Spanned<String>>,
    note: Option<Spanned<String>>,
    var: Option<Spanned<String>>,
    to: Option<Spanned<toml::Value>>,
}

impl std::fmt::Debug for RawStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawStep").finish_non_exhaustive()
    }
}

/// One line of a chain.
#[derive(Debug, Clone)]
pub struct ChainLine {
    /// The line's expression.
    pub expr: SourceExpr,
    /// Relation to the next line (ignored on the last line).
    pub relation: Relation,
    /// The rule applied, as written.
    pub note: Option<String>,
    /// For a `→` step: the variable and where it tends.
    pub limit: Option<(String, LimitPoint)>,
}

/// A derivation line by line (`kind = "chain"`). Built only by validation: at least two lines,
/// every `→` line with its variable.
#[derive(Debug, Clone)]
pub struct Chain {
    lines: Vec<ChainLine>,
}

impl Chain {
    /// The lines, in order.
    pub fn lines(&self) -> &[ChainLine] {
        &self.lines
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        self.lines.iter().map(|l| &l.expr).collect()
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, l)| (format!("line {}", i + 1), l.expr.text.clone()))
            .collect()
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        chain(engine, c, seed, &self.lines)
    }

    /// The same chain with line `k` (0-based) replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_line(&self, k: usize, expr: SourceExpr) -> Self {
        let mut lines = self.lines.clone();
        lines[k].expr = expr;
        Chain { lines }
    }
}

/// Validates a `chain` check.
pub(crate) fn validate(l: &mut Loader<'_>, c: &RawCheck, span: &Range<usize>) -> Option<CheckKind> {
    l.reject_foreign(c, "chain", FIELDS);
    let Some(steps) = c.steps("steps") else {
        l.invalid(span.clone(), "a `chain` check needs `steps`".into(), None);
        return None;
    };
    if steps.get_ref().len() < 2 {
        l.invalid(
            steps.span(),
            "a chain needs at least two steps".into(),
            None,
        );
        return None;
    }
    let mut lines = Vec::new();
    let mut ok = true;
    for step in steps.get_ref() {
        match chain_line(l, step) {
            Some(line) => lines.push(line),
            None => ok = false,
        }
    }
    ok.then_some(CheckKind::Chain(Chain { lines }))
}

fn chain_line(l: &mut Loader<'_>, step: &Spanned<RawStep>) -> Option<ChainLine> {
    let s = step.get_ref();
    let Some(e) = &s.expr else {
        l.invalid(step.span(), "a chain step needs `expr`".into(), None);
        return None;
    };
    let expr = l.expression(e)?;
    let relation = match &s.relation {
        None => Relation::Equal,
        Some(r) => match Relation::parse(r.get_ref()) {
            Some(rel) => rel,
            None => {
                l.invalid(
                    r.span(),
                    format!("unknown relation `{}`", r.get_ref()),
                    Some("use =, ≈ (~), → (->), ≤ (<=) or ≥ (>=)"),
                );
                return None;
            }
        },
    };
    let limit = if relation == Relation::Limit {
        let var = match &s.var {
            Some(v) if is_identifier(v.get_ref()) => v.get_ref().clone(),
            _ => {
                l.invalid(
                    step.span(),
                    "a → step needs `var`, the variable that moves".into(),
                    None,
                );
                return None;
            }
        };
        let to = match &s.to {
            Some(t) => l.limit_point(t)?,
            None => LimitPoint::PosInf,
        };
        Some((var, to))
    } else {
        None
    };
    Some(ChainLine {
        expr,
        relation,
        note: s.note.as_ref().map(|n| n.get_ref().clone()),
        limit,
    })
}

/// Default ladder of a `→` step towards +∞ (or −∞, negated), and offsets towards a finite value.
const CHAIN_LADDER: [f64; 5] = [1e1, 1e2, 1e3, 1e4, 1e5];

fn chain(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    lines: &[ChainLine],
) -> Result<CheckResult, CheckFailure> {
    let prepared = lines
        .iter()
        .map(|l| prepare(engine, &l.expr))
        .collect::<Result<Vec<_>, _>>()?;
    let limit_vars: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.limit.as_ref().map(|(v, _)| v.as_str()))
        .collect();
    let refs: Vec<&Expr> = prepared.iter().collect();
    let mut vars = free_vars(engine, &refs, &[]);
    // A variable that only moves in a limit step and is free on no later line needs no test range.
    for v in &limit_vars {
        if !c.points.ranges.contains_key(*v) {
            vars.remove(*v);
        }
    }
    let pts = test_points(c, &vars, seed)?;
    let mut steps = Vec::new();
    let mut all_points = Vec::new();
    // Why a line has no value (no real value, or a divergent integral), by 0-based line.
    let mut line_failures: BTreeMap<usize, String> = BTreeMap::new();
    for i in 0..lines.len() - 1 {
        let rel = lines[i].relation;
        let (lhs_src, rhs_src) = (&lines[i].expr, &lines[i + 1].expr);
        let mut results = Vec::new();
        for p in &pts {
            let r = match rel {
                Relation::Limit => {
                    let (var, to) = lines[i]
                        .limit
                        .clone()
                        .unwrap_or(("beta".into(), LimitPoint::PosInf));
                    let target = engine
                        .eval(&prepared[i + 1], p)
                        .map_err(|e| at_point(e, p, rhs_src))?;
                    let mut rungs = Vec::new();
                    for k in CHAIN_LADDER {
                        let v = match to {
                            LimitPoint::PosInf => k,
                            LimitPoint::NegInf => -k,
                            LimitPoint::Value(a) => a + 1.0 / k,
                        };
                        let mut q = p.clone();
                        q.insert(var.clone(), v);
                        let ev = engine
                            .eval(&prepared[i], &q)
                            .map_err(|e| at_point(e, &q, lhs_src))?;
                        rungs.push((closeness(to, v), q, ev));
                    }
                    judge_tends_to(&rungs, &target)
                }
                Relation::Approx => {
                    let lv = engine
                        .eval(&prepared[i], p)
                        .map_err(|e| at_point(e, p, lhs_src))?;
                    let rv = engine
                        .eval(&prepared[i + 1], p)
                        .map_err(|e| at_point(e, p, rhs_src))?;
                    if is_random(&lv, &rv) {
                        statistical_point(p, &lv, &rv)
                    } else {
                        let t = tolerance(&lv, &rv, 0.0);
                        let s = judge(Relation::Equal, &lv, &rv, t);
                        point_result(p, &lv, &rv, t, s)
                    }
                }
                _ => {
                    let lv = line_value(engine, &prepared[i], p, lhs_src)?;
                    let rv = line_value(engine, &prepared[i + 1], p, rhs_src)?;
                    for (k, v) in [(i, &lv), (i + 1, &rv)] {
                        if let Err(why) = v {
                            line_failures.entry(k).or_insert_with(|| why.clone());
                        }
                    }
                    let (lv, rv) = (lv.ok(), rv.ok());
                    match (lv, rv) {
                        (Some(lv), Some(rv)) if is_random(&lv, &rv) && rel == Relation::Equal => {
                            statistical_point(p, &lv, &rv)
                        }
                        (Some(lv), Some(rv)) => {
                            let t = tolerance(&lv, &rv, 0.0);
                            let s = judge(rel, &lv, &rv, t);
                            sided(p, &lv, &rv, t, s, rel)
                        }
                        // One side is real and the other is not: the step is wrong here.
                        (lv, rv) => {
                            let nan = Value::new(f64::NAN, 0.0, Termination::Converged);
                            let lv = lv.unwrap_or_else(|| nan.clone());
                            let rv = rv.unwrap_or(nan);
                            let mut pr = point_result(p, &lv, &rv, 0.0, Status::Fail);
                            pr.extra.insert("no_real_value".into(), 1.0);
                            pr
                        }
                    }
                }
            };
            results.push(r);
        }
        let mut status = overall(&results);
        let w = worst(&results);
        let (power, no_power) = power_of(&results);
        let mut note = lines[i].note.clone();
        if let (Status::Pass, Some(why)) = (status, no_power) {
            status = Status::Inconclusive;
            note = Some(why);
        }
        let fitted_exponent = (rel == Relation::Limit)
            .then(|| {
                results
                    .iter()
                    .filter_map(|p| p.extra.get("fitted_exponent").copied())
                    .fold(f64::INFINITY, f64::min)
            })
            .filter(|x| x.is_finite());
        steps.push(StepResult {
            fitted_exponent,
            index: i + 1,
            relation: rel.ascii(),
            status,
            lhs: w.as_ref().map_or(f64::NAN, |w| w.lhs),
            rhs: w.as_ref().map_or(f64::NAN, |w| w.rhs),
            difference: w.as_ref().map_or(f64::NAN, |w| w.difference),
            tolerance: w.as_ref().map_or(f64::NAN, |w| w.tolerance),
            line: lines[i].expr.location.line,
            note,
            hint: None,
            power: finite(power),
        });
        for mut r in results {
            r.extra.insert("step".into(), (i + 1) as f64);
            all_points.push(r);
        }
    }
    // Hints for failing `=` and `~` steps. A wrong line fails the steps on both its sides, so
    // a hint about one term looks first in the line the step shares with a failing neighbour.
    let failing: Vec<bool> = steps.iter().map(|s| s.status == Status::Fail).collect();
    for k in 0..steps.len() {
        if !failing[k] || !matches!(steps[k].relation, "=" | "~") {
            continue;
        }
        let before = k > 0 && failing[k - 1];
        let after = failing.get(k + 1).copied().unwrap_or(false);
        let prefer_later = after || (k + 1 == steps.len() && !before);
        #[allow(clippy::cast_precision_loss)]
        let pts: Vec<&PointResult> = all_points
            .iter()
            .filter(|p| p.judged && p.extra.get("step") == Some(&((k + 1) as f64)))
            .collect();
        steps[k].hint = hint::hint(
            &pts,
            0.0,
            &hint_side(engine, &format!("line {}", k + 1), &lines[k].expr, &pts),
            &hint_side(engine, &format!("line {}", k + 2), &lines[k + 1].expr, &pts),
            prefer_later,
        );
    }
    let first_failing = steps
        .iter()
        .find(|s| s.status == Status::Fail)
        .map(|s| s.index);
    let status = steps.iter().map(|s| s.status).max().unwrap_or(Status::Pass);
    let message = match first_failing {
        Some(k) if steps[k - 1].lhs.is_nan() || steps[k - 1].rhs.is_nan() => {
            let s = &steps[k - 1];
            let (bad, good, v) = if s.rhs.is_nan() {
                (k + 1, k, s.lhs)
            } else {
                (k, k + 1, s.rhs)
            };
            format!(
                "step {k} fails: line {bad} ({}) has no real value where line {good} = {v:.12e}{}",
                lines[bad - 1].expr.location,
                line_failures
                    .get(&(bad - 1))
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            )
        }
        Some(k) => {
            let s = &steps[k - 1];
            format!(
                "step {k} fails: line {} ({}) ≠ line {} ({}) — {:.12e} vs {:.12e}, difference {:.3e} against tolerance {:.3e}{}",
                k,
                lines[k - 1].expr.location,
                k + 1,
                lines[k].expr.location,
                s.lhs,
                s.rhs,
                s.difference,
                s.tolerance,
                s.hint
                    .as_ref()
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default()
            )
        }
        None if status == Status::Pass => format!(
            "all {} steps hold at {} test points",
            steps.len(),
            pts.len()
        ),
        None => {
            let undecided = steps.iter().find(|s| s.status != Status::Pass);
            match undecided {
                Some(s)
                    if s.power.is_none()
                        || s.note
                            .as_deref()
                            .is_some_and(|n| n.starts_with("this check cannot")) =>
                {
                    format!(
                        "step {} is undecided: {}",
                        s.index,
                        s.note
                            .clone()
                            .unwrap_or_else(|| "its tolerance is not finite".into())
                    )
                }
                Some(s) => format!(
                    "step {} is undecided (a numeric result did not converge)",
                    s.index
                ),
                None => "some step is undecided (a numeric result did not converge)".into(),
            }
        }
    };
    let mut r = finish(c, all_points, message.clone(), "line vs next line");
    r.status = status;
    r.message = message;
    r.first_failing_step = Some(first_failing);
    r.steps = Some(steps);
    Ok(r)
}

/// The value of a chain line, or `Err(why)` when it has no real value at the point (including an
/// integral that diverges: the docs say such a line fails its step, named with the direction).
fn line_value(
    engine: &Engine,
    e: &Expr,
    p: &Point,
    src: &SourceExpr,
) -> Result<Result<Value, String>, CheckFailure> {
    match engine.eval(e, p) {
        Ok(v) => Ok(Ok(v)),
        Err(e)
            if matches!(
                e.kind,
                EngineErrorKind::NoRealValue | EngineErrorKind::Diverges
            ) =>
        {
            Ok(Err(e.message))
        }
        Err(err) => Err(at_point(err, p, src)),
    }
}

/// Judges a `→` step from the rungs of a ladder `(h, point, value)` (h → 0 towards the limit):
/// the gap to the target must vanish — be within the numerical error at the last rung, or, in
/// the asymptotic regime, shrink like `h^p` with `p ≥` [`tol::RATE_EXPONENT_MIN`]. The regime is
/// the last [`ASYMPTOTIC_RUNGS`] rungs: earlier rungs may approach from the other side (the gap
/// changes sign before the asymptotic expansion holds) or not yet decrease; the exponent is
/// fitted on the last rungs whose gap is above the noise, and the last gap must be below the
/// first. The step's tolerance (its power) is the larger of the noise and the last gap: an
/// offset of the limit smaller than that would go unseen.
fn judge_tends_to(rungs: &[(f64, Point, Value)], target: &Value) -> PointResult {
    let (_, q, last) = &rungs[rungs.len() - 1];
    let noise = tolerance(last, target, 0.0);
    let gaps: Vec<f64> = rungs
        .iter()
        .map(|(_, _, v)| (v.value - target.value).abs())
        .collect();
    let start = rungs.len().saturating_sub(ASYMPTOTIC_RUNGS);
    let mut fit_x = Vec::new();
    let mut fit_y = Vec::new();
    for ((h, _, v), g) in rungs.iter().zip(&gaps).skip(start) {
        if *g > tolerance(v, target, 0.0) && *h > 0.0 {
            fit_x.push(h.ln());
            fit_y.push(g.ln());
        }
    }
    let exponent = if fit_x.len() >= 2 {
        slope(&fit_x, &fit_y)
    } else {
        f64::INFINITY
    };
    let end = gaps[gaps.len() - 1];
    let at_noise = end <= noise;
    let approached = end < gaps[0];
    let ok = at_noise || (approached && exponent >= tol::RATE_EXPONENT_MIN);
    let converged = last.converged() && target.converged();
    let status = if !converged {
        Status::Inconclusive
    } else if ok {
        Status::Pass
    } else {
        Status::Fail
    };
    let t = if at_noise { noise } else { noise.max(end) };
    let mut pr = point_result(q, last, target, if ok { t } else { noise }, status);
    if exponent.is_finite() {
        pr.extra.insert("fitted_exponent".into(), exponent);
    }
    pr
}

/// Rungs of a `→` step's ladder that form its asymptotic regime (see [`judge_tends_to`]).
const ASYMPTOTIC_RUNGS: usize = 3;
