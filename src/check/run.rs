//! Running checks: test points, the check kinds (equal, bound, limit, monotone, convex, gradient,
//! chain, estimator) and their verdicts.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::hint;
use super::result::{CheckResult, McTrace, PointResult, Status, StepResult};
use super::spec::{
    ChainLine, CheckKind, CheckSpec, DerivationFile, Direction, EstimatorSpec, LimitPoint,
    PointRange, Relation, SourceExpr,
};
use crate::domain::ParamValue;
use crate::engine::{Engine, EngineError, Point, Termination, Value};
use crate::expr::{Context, Definition, Expr, Span};

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Seed mixed into every check's test points.
    pub seed: u64,
    /// Keep the draws behind each Monte-Carlo comparison's worst point (for report figures);
    /// costs one more Monte-Carlo run per such check.
    pub traces: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: 1,
            traces: false,
        }
    }
}

/// Tolerances of the check kinds, in one place.
pub mod tol {
    /// The propagated error bounds of both sides are multiplied by this before comparing.
    pub const ERROR_SAFETY: f64 = 2.0;
    /// Relative floor for comparisons: a few ulps of the larger side.
    pub const RELATIVE_FLOOR: f64 = 8.0 * f64::EPSILON;
    /// Default tolerance on the last rung of a limit without a rate, relative to max(1, |target|).
    pub const LIMIT_DEFAULT: f64 = 1e-6;
    /// A claimed rate must explain the gap at the last rung up to this fraction.
    pub const RATE_RESIDUAL_MAX: f64 = 0.1;
    /// The remainder relative to the rate must vanish at least like h^this (h → 0).
    pub const RATE_EXPONENT_MIN: f64 = 0.5;
    /// Family-wise false-alarm rate of the statistical (Monte-Carlo) comparisons of a run,
    /// Holm-corrected across every such comparison in the run.
    pub use crate::stats::ALPHA;
    /// Below this effective sample size a Monte-Carlo standard error is not trusted: the point
    /// is inconclusive.
    pub use crate::stats::MIN_ESS;
    /// Grid size for monotone and convex checks.
    pub const GRID: usize = 24;
    /// Below this absolute level a tolerance counts as able to detect any error that matters,
    /// even when every compared value is zero (the power rule, [`crate::estimate::power_rule`]).
    pub use crate::estimate::POWER_FLOOR;
}

/// An engine for the definitions, parameters and variable domains of a file.
///
/// # Errors
/// A definition that calls an unknown function, calls itself, or has the wrong arity.
pub fn engine_for(file: &DerivationFile) -> Result<Engine, EngineError> {
    let mut ctx = Context::new();
    for (name, v) in &file.parameters {
        match v {
            ParamValue::Number(x) => ctx.set_param(name, *x),
            ParamValue::List(xs) => ctx.set_list(name, xs.clone()),
        }
    }
    let defs: Vec<Definition> = file
        .definitions
        .iter()
        .map(|d| Definition {
            name: d.name.clone(),
            name_span: Span::default(),
            params: d.params.clone(),
            body: d.body.expr.clone(),
        })
        .collect();
    ctx.add_definitions(defs)
        .map_err(|e| EngineError::Expr(e.to_string()))?;
    Ok(Engine::new(ctx, file.variables.clone()))
}

/// Runs every check of a loaded file in order (checks run in parallel; results keep file order).
pub fn run_file(file: &DerivationFile, opts: &RunOptions) -> Vec<CheckResult> {
    use rayon::prelude::*;
    let engine = match engine_for(file) {
        Ok(e) => e,
        Err(e) => {
            return file
                .checks
                .iter()
                .map(|c| error_result(c, format!("the file's definitions cannot be used: {e}")))
                .collect();
        }
    };
    file.checks
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let started = std::time::Instant::now();
            let seed = mix_seed(opts.seed, &file.path, file.seed.unwrap_or(0), i);
            let seeded = engine.with_seed(seed);
            let mut r = run_check(&seeded, c, seed);
            if opts.traces {
                r.trace = monte_carlo_trace(&seeded, c, &r);
            }
            r.seconds = started.elapsed().as_secs_f64();
            r
        })
        .collect()
}

/// A deterministic per-check seed from the run seed, the file and the check's index
/// ([`crate::seed::check_seed`]).
pub(crate) fn mix_seed(run: u64, path: &str, file_seed: u64, index: usize) -> u64 {
    crate::seed::check_seed(run, path, file_seed, index)
}

fn error_result(c: &CheckSpec, message: String) -> CheckResult {
    CheckResult {
        name: c.name.clone(),
        claim: c.claim.clone(),
        kind: c.kind.name().to_string(),
        status: Status::Error,
        message,
        worst: None,
        points: Vec::new(),
        steps: None,
        first_failing_step: None,
        fitted_exponent: None,
        hint: None,
        limit_var: None,
        line: c.location.line,
        seconds: 0.0,
        trace: None,
        formulas: formulas(c),
        power: None,
    }
}

/// The draws behind the Monte-Carlo side of an `equal` check at its point of largest |z|, with
/// the other side's value as the reference. `None` for other checks, or when the draws cannot be
/// recomputed.
fn monte_carlo_trace(engine: &Engine, c: &CheckSpec, r: &CheckResult) -> Option<McTrace> {
    let CheckKind::Equal { lhs, rhs, .. } = &c.kind else {
        return None;
    };
    let worst = r
        .points
        .iter()
        .filter(|p| p.extra.get("z").is_some_and(|z| z.is_finite()))
        .max_by(|a, b| a.extra["z"].abs().total_cmp(&b.extra["z"].abs()))?;
    for (side, value, reference, reference_error) in [
        (rhs, worst.rhs, worst.lhs, worst.lhs_error),
        (lhs, worst.lhs, worst.rhs, worst.rhs_error),
    ] {
        let prepared = prepare(engine, side).ok()?;
        if let Ok(Some(chains)) = engine.monte_carlo_trace(&prepared, &worst.inputs) {
            let n: usize = chains.iter().map(Vec::len).sum();
            #[allow(clippy::cast_precision_loss)]
            let mean = chains.iter().flatten().sum::<f64>() / n.max(1) as f64;
            return Some(McTrace {
                inputs: worst.inputs.clone(),
                expression: side.text.clone(),
                offset: value - mean,
                reference,
                reference_error,
                chains,
            });
        }
    }
    None
}

/// Runs one check.
pub fn run_check(engine: &Engine, c: &CheckSpec, seed: u64) -> CheckResult {
    let outcome = match &c.kind {
        CheckKind::Equal {
            lhs,
            rhs,
            tolerance,
        } => compare(
            engine,
            c,
            seed,
            lhs,
            rhs,
            Relation::Equal,
            tolerance.unwrap_or(0.0),
        ),
        CheckKind::Bound {
            lhs,
            relation,
            rhs,
            tolerance,
        } => compare(
            engine,
            c,
            seed,
            lhs,
            rhs,
            *relation,
            tolerance.unwrap_or(0.0),
        ),
        CheckKind::Limit {
            expr,
            var,
            to,
            target,
            rate,
            ladder,
            tolerance,
        } => limit(
            engine,
            c,
            seed,
            &LimitSpec {
                expr,
                var,
                to: *to,
                target,
                rate: rate.as_ref(),
                ladder,
                tolerance: *tolerance,
            },
        ),
        CheckKind::Monotone {
            expr,
            var,
            range,
            direction,
        } => shape(
            engine,
            c,
            seed,
            expr,
            var,
            *range,
            Shape::Monotone(*direction),
        ),
        CheckKind::Convex {
            expr,
            var,
            range,
            concave,
        } => shape(
            engine,
            c,
            seed,
            expr,
            var,
            *range,
            Shape::Convex { concave: *concave },
        ),
        CheckKind::Gradient { loss, wrt, exact } => gradient(engine, c, seed, loss, wrt, exact),
        CheckKind::Chain { lines } => chain(engine, c, seed, lines),
        CheckKind::Estimator {
            estimator: est,
            var,
            energy,
            of,
            exact,
            replicates,
        } => estimator(
            engine,
            c,
            seed,
            &EstimatorCheck {
                est,
                var,
                energy,
                of,
                exact,
                replicates: *replicates,
            },
        ),
    };
    match outcome {
        Ok(mut r) => {
            r.line = c.location.line;
            r.formulas = formulas(c);
            r
        }
        Err(CheckFailure::Error(msg)) => error_result(c, msg),
    }
}

/// The expressions of a check as written, with their roles (for reports).
fn formulas(c: &CheckSpec) -> Vec<(String, String)> {
    let f = |role: &str, e: &super::spec::SourceExpr| (role.to_string(), e.text.clone());
    match &c.kind {
        CheckKind::Equal { lhs, rhs, .. } | CheckKind::Bound { lhs, rhs, .. } => {
            vec![f("left side", lhs), f("right side", rhs)]
        }
        CheckKind::Limit {
            expr, target, rate, ..
        } => {
            let mut v = vec![f("expression", expr), f("target", target)];
            if let Some(r) = rate {
                v.push(f("rate", r));
            }
            v
        }
        CheckKind::Monotone { expr, .. } | CheckKind::Convex { expr, .. } => {
            vec![f("expression", expr)]
        }
        CheckKind::Gradient { loss, exact, .. } => {
            vec![f("loss", loss), f("exact gradient", exact)]
        }
        CheckKind::Chain { lines } => lines
            .iter()
            .enumerate()
            .map(|(i, l)| f(&format!("line {}", i + 1), &l.expr))
            .collect(),
        CheckKind::Estimator {
            energy, of, exact, ..
        } => vec![
            f("energy", energy),
            f("estimated quantity", of),
            f("exact value", exact),
        ],
    }
}

enum CheckFailure {
    Error(String),
}

impl From<EngineError> for CheckFailure {
    fn from(e: EngineError) -> Self {
        CheckFailure::Error(e.to_string())
    }
}

fn prepare(engine: &Engine, e: &SourceExpr) -> Result<Expr, CheckFailure> {
    engine
        .prepare(&e.expr)
        .map_err(|err| CheckFailure::Error(format!("in `{}` ({}): {err}", e.text, e.location)))
}

/// Draws the test points for the given free variables.
fn test_points(
    c: &CheckSpec,
    vars: &BTreeSet<String>,
    seed: u64,
) -> Result<Vec<Point>, CheckFailure> {
    let mut points = Vec::new();
    for listed in &c.points.listed {
        let mut p = Point::new();
        for v in vars {
            match listed.get(v) {
                Some(x) => {
                    p.insert(v.clone(), *x);
                }
                None => {
                    return Err(CheckFailure::Error(format!(
                        "a listed test point gives no value for `{v}`"
                    )));
                }
            }
        }
        points.push(p);
    }
    if !c.points.listed.is_empty() {
        return Ok(points);
    }
    for v in vars {
        if !c.points.ranges.contains_key(v) {
            return Err(CheckFailure::Error(format!(
                "no test range for the free variable `{v}`: add it under [points] (e.g. {v} = \"0..1\") or to the check's points"
            )));
        }
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let count = if vars.is_empty() { 1 } else { c.points.count };
    for i in 0..count {
        let mut p = Point::new();
        for v in vars {
            let x = match &c.points.ranges[v] {
                PointRange::Uniform(lo, hi) => lo + (hi - lo) * rng.random::<f64>(),
                PointRange::LogUniform(lo, hi) => {
                    (lo.ln() + (hi.ln() - lo.ln()) * rng.random::<f64>()).exp()
                }
                #[allow(clippy::cast_precision_loss)]
                PointRange::Integer(lo, hi) => rng.random_range(*lo..=*hi) as f64,
                PointRange::Fixed(x) => *x,
                PointRange::Values(xs) => xs[i % xs.len()],
            };
            p.insert(v.clone(), x);
        }
        points.push(p);
    }
    Ok(points)
}

fn free_vars(engine: &Engine, exprs: &[&Expr], exclude: &[&str]) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    for e in exprs {
        vars.extend(engine.free_variables(e));
    }
    for x in exclude {
        vars.remove(*x);
    }
    vars
}

fn floor(a: f64, b: f64) -> f64 {
    tol::RELATIVE_FLOOR * a.abs().max(b.abs())
}

fn tolerance(l: &Value, r: &Value, extra: f64) -> f64 {
    extra + tol::ERROR_SAFETY * (l.error + r.error) + floor(l.value, r.value)
}

/// Whether either side is a Monte-Carlo estimate (to be judged statistically).
fn is_random(l: &Value, r: &Value) -> bool {
    l.std_error > 0.0 || r.std_error > 0.0
}

/// A statistical comparison of two sides, one of them a Monte-Carlo estimate: the z-score of
/// their difference against the combined standard error (the deterministic error bounds are
/// added to the standard error), its two-sided p-value, and whether the effective sample size is
/// large enough to trust the standard error. The verdict comes later, after the run-wide Holm
/// correction.
fn statistical_point(inputs: &Point, l: &Value, r: &Value) -> PointResult {
    let se = l.std_error.hypot(r.std_error) + l.error + r.error;
    let d = l.value - r.value;
    let z = d / se;
    let p = 2.0 * crate::stats::special::sf(z.abs());
    let ess = l.ess.min(r.ess);
    let trusted = ess >= tol::MIN_ESS && se.is_finite();
    let mut pr = point_result(
        inputs,
        l,
        r,
        se * crate::stats::special::quantile(1.0 - tol::ALPHA / 2.0),
        if trusted {
            Status::Pass
        } else {
            Status::Inconclusive
        },
    );
    pr.extra.insert("z".into(), z);
    pr.extra.insert("p_value".into(), p);
    pr.extra.insert("ess".into(), ess);
    pr.extra.insert("std_error".into(), se);
    // Which side is the Monte-Carlo estimate (for reports): each side's own standard error.
    pr.extra.insert("lhs_std_error".into(), l.std_error);
    pr.extra.insert("rhs_std_error".into(), r.std_error);
    pr
}

/// Judges one comparison at one point.
fn judge(relation: Relation, l: &Value, r: &Value, t: f64) -> Status {
    let d = l.value - r.value;
    let ok = match relation {
        Relation::LessEq => d <= t,
        Relation::GreaterEq => d >= -t,
        _ => d.abs() <= t,
    };
    // A value that did not converge (or whose error is not finite) settles nothing: not even a
    // pass, since its error bound may be wrong.
    if !(l.converged() && r.converged() && t.is_finite()) {
        Status::Inconclusive
    } else if ok {
        Status::Pass
    } else {
        Status::Fail
    }
}

/// The power of a group of points (a check or a chain step): the largest tolerance over the
/// judged points, i.e. the smallest discrepancy the group is sure to detect, in the units of
/// the claim; and, when it cannot fail (see [`crate::estimate::power_rule`]), why. Statistical
/// points state their minimum detectable difference but are judged only on it being finite
/// (a mean claimed to be 0 is compared with values that are themselves about 0).
fn power_of(points: &[PointResult]) -> (f64, Option<String>) {
    let mut power: f64 = 0.0;
    let mut scale: f64 = 0.0;
    let mut deterministic = false;
    for p in points.iter().filter(|p| p.judged) {
        if p.tolerance.is_nan() {
            continue;
        }
        power = power.max(p.tolerance);
        if !p.extra.contains_key("p_value") && p.status != Status::Fail {
            deterministic = true;
            scale = scale.max(p.lhs.abs().max(p.rhs.abs()));
        }
    }
    if points.iter().any(|p| p.judged && p.tolerance.is_nan()) {
        power = f64::INFINITY;
    }
    let reason = if deterministic {
        crate::estimate::power_rule(power, scale, tol::POWER_FLOOR)
    } else {
        crate::estimate::power_rule(power, f64::INFINITY, tol::POWER_FLOOR)
    };
    (power, reason)
}

/// `Some(x)` for a finite power (JSON writes `null` otherwise).
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn point_result(inputs: &Point, l: &Value, r: &Value, t: f64, status: Status) -> PointResult {
    sided(inputs, l, r, t, status, Relation::Equal)
}

fn sided(
    inputs: &Point,
    l: &Value,
    r: &Value,
    t: f64,
    status: Status,
    relation: Relation,
) -> PointResult {
    PointResult {
        sense: match relation {
            Relation::LessEq => 1,
            Relation::GreaterEq => -1,
            _ => 0,
        },
        judged: true,
        inputs: inputs.clone(),
        lhs: l.value,
        rhs: r.value,
        lhs_error: l.error,
        rhs_error: r.error,
        difference: l.value - r.value,
        tolerance: t,
        status,
        extra: BTreeMap::new(),
    }
}

/// Combines point verdicts: any failure fails; otherwise any inconclusive point is inconclusive.
fn overall(points: &[PointResult]) -> Status {
    points
        .iter()
        .map(|p| p.status)
        .max()
        .unwrap_or(Status::Pass)
}

fn worst(points: &[PointResult]) -> Option<PointResult> {
    points
        .iter()
        .max_by(|a, b| a.severity().total_cmp(&b.severity()))
        .cloned()
}

fn describe_point(p: &PointResult) -> String {
    let inputs: Vec<String> = p
        .inputs
        .iter()
        .map(|(k, v)| format!("{k} = {v:.6}"))
        .collect();
    if inputs.is_empty() {
        String::new()
    } else {
        format!(" at {}", inputs.join(", "))
    }
}

fn finish(c: &CheckSpec, points: Vec<PointResult>, pass_msg: String, what: &str) -> CheckResult {
    let mut status = overall(&points);
    let worst = worst(&points);
    let (power, no_power) = power_of(&points);
    let message = match (status, &worst) {
        (Status::Pass, _) | (_, None) => pass_msg,
        (s, Some(w)) => format!(
            "{}{}: {} = {:.12e} vs {:.12e}, difference {:.3e} against tolerance {:.3e}",
            if s == Status::Fail {
                "violated"
            } else {
                "undecided (a numeric result did not converge)"
            },
            describe_point(w),
            what,
            w.lhs,
            w.rhs,
            w.difference,
            w.tolerance
        ),
    };
    let message = match no_power {
        Some(why) if status == Status::Pass => {
            status = Status::Inconclusive;
            why
        }
        _ => message,
    };
    CheckResult {
        power: finite(power),
        name: c.name.clone(),
        claim: c.claim.clone(),
        kind: c.kind.name().to_string(),
        status,
        message,
        worst,
        points,
        steps: None,
        first_failing_step: None,
        fitted_exponent: None,
        hint: None,
        limit_var: None,
        line: c.location.line,
        seconds: 0.0,
        trace: None,
        formulas: formulas(c),
    }
}

fn compare(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    lhs: &SourceExpr,
    rhs: &SourceExpr,
    relation: Relation,
    extra_tol: f64,
) -> Result<CheckResult, CheckFailure> {
    let l = prepare(engine, lhs)?;
    let r = prepare(engine, rhs)?;
    let vars = free_vars(engine, &[&l, &r], &[]);
    let pts = test_points(c, &vars, seed)?;
    let mut results = Vec::new();
    for p in &pts {
        let lv = engine.eval(&l, p).map_err(|e| at_point(e, p, lhs))?;
        let rv = engine.eval(&r, p).map_err(|e| at_point(e, p, rhs))?;
        if is_random(&lv, &rv) && relation == Relation::Equal {
            results.push(statistical_point(p, &lv, &rv));
            continue;
        }
        let t = tolerance(&lv, &rv, extra_tol);
        let s = judge(relation, &lv, &rv, t);
        results.push(sided(p, &lv, &rv, t, s, relation));
    }
    let sym = match relation {
        Relation::LessEq => "≤",
        Relation::GreaterEq => "≥",
        _ => "=",
    };
    let w = worst(&results).map_or(0.0, |w| w.severity());
    let msg = format!(
        "lhs {sym} rhs at {} test points (worst |difference|/tolerance = {w:.2e})",
        results.len()
    );
    let mut r = finish(c, results, msg, "lhs vs rhs");
    if r.status == Status::Fail && relation == Relation::Equal {
        let pts: Vec<&PointResult> = r.points.iter().collect();
        r.hint = hint::hint(
            &pts,
            extra_tol,
            &hint_side(engine, "the left side", lhs, &pts),
            &hint_side(engine, "the right side", rhs, &pts),
            false,
        );
    }
    Ok(r)
}

/// A term's text as written. A node's span ends at its last token, which drops the closing
/// parentheses of a parenthesised last operand (`log(b)/(2*b` for `log(b)/(2*b)`): those that
/// follow are taken back until the parentheses balance.
fn term_text(text: &str, e: &Expr) -> String {
    let Some(t) = text.get(e.span.start..e.span.end) else {
        return e.to_string();
    };
    let mut t = t.trim().to_string();
    let open = t
        .matches('(')
        .count()
        .saturating_sub(t.matches(')').count());
    let after = text.get(e.span.end..).unwrap_or("");
    for ch in after.chars().take(open) {
        if ch != ')' {
            break;
        }
        t.push(ch);
    }
    t
}

/// A side of a comparison for [`hint::hint`]: its additive terms as written, each evaluated at
/// the points (none when the side is one term, or a term has no converged deterministic value
/// at some point).
fn hint_side(engine: &Engine, name: &str, src: &SourceExpr, points: &[&PointResult]) -> hint::Side {
    let terms = || -> Option<Vec<hint::Term>> {
        let split = hint::split_terms(&src.expr);
        if split.len() < 2 {
            return None;
        }
        let mut terms = Vec::new();
        for (negated, e) in split {
            let signed = if negated {
                Expr {
                    kind: crate::expr::ExprKind::Neg(Box::new(e.clone())),
                    span: e.span,
                }
            } else {
                e.clone()
            };
            let prepared = engine.prepare(&signed).ok()?;
            let mut values = Vec::new();
            for p in points {
                let v = engine.eval(&prepared, &p.inputs).ok()?;
                if !v.converged() || v.std_error > 0.0 {
                    return None;
                }
                values.push((v.value, v.error));
            }
            let text = term_text(&src.text, e);
            terms.push(hint::Term { text, values });
        }
        Some(terms)
    };
    hint::Side {
        name: name.to_string(),
        terms: terms().unwrap_or_default(),
    }
}

fn at_point(e: EngineError, p: &Point, src: &SourceExpr) -> CheckFailure {
    let inputs: Vec<String> = p.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    CheckFailure::Error(format!(
        "evaluating `{}` ({}) at {}: {e}",
        src.text,
        src.location,
        if inputs.is_empty() {
            "the point".to_string()
        } else {
            inputs.join(", ")
        }
    ))
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
fn closeness(to: LimitPoint, v: f64) -> f64 {
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

/// Least-squares slope of y against x.
fn slope(x: &[f64], y: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

enum Shape {
    Monotone(Direction),
    Convex { concave: bool },
}

fn grid(range: (f64, f64)) -> Vec<f64> {
    let (lo, hi) = range;
    let n = tol::GRID;
    #[allow(clippy::cast_precision_loss)]
    let frac = |i: usize| i as f64 / (n - 1) as f64;
    if lo > 0.0 && hi / lo > 100.0 {
        (0..n)
            .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * frac(i)).exp())
            .collect()
    } else {
        (0..n).map(|i| lo + (hi - lo) * frac(i)).collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn shape(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    expr: &SourceExpr,
    var: &str,
    range: (f64, f64),
    shape: Shape,
) -> Result<CheckResult, CheckFailure> {
    let e = prepare(engine, expr)?;
    let vars = free_vars(engine, &[&e], &[var]);
    let pts = test_points(c, &vars, seed)?;
    let xs = grid(range);
    let mut results = Vec::new();
    for p in &pts {
        let mut vals = Vec::new();
        for &x in &xs {
            let mut q = p.clone();
            q.insert(var.to_string(), x);
            vals.push((
                q.clone(),
                engine.eval(&e, &q).map_err(|err| at_point(err, &q, expr))?,
            ));
        }
        match shape {
            Shape::Monotone(dir) => {
                for w in vals.windows(2) {
                    let (a, b) = (&w[0].1, &w[1].1);
                    let t = tolerance(a, b, 0.0);
                    // lhs = later value, rhs = earlier value; the claimed sign of the step.
                    let rel = match dir {
                        Direction::Increasing | Direction::NonDecreasing => Relation::GreaterEq,
                        Direction::Decreasing | Direction::NonIncreasing => Relation::LessEq,
                    };
                    let s = judge(rel, b, a, t);
                    results.push(sided(&w[1].0, b, a, t, s, rel));
                }
            }
            Shape::Convex { concave } => {
                let slopes: Vec<(Point, Value)> = vals
                    .windows(2)
                    .map(|w| {
                        let dx = w[1].0[var] - w[0].0[var];
                        (
                            w[1].0.clone(),
                            Value::new(
                                (w[1].1.value - w[0].1.value) / dx,
                                (w[1].1.error + w[0].1.error + floor(w[1].1.value, w[0].1.value))
                                    / dx,
                                Termination::from_converged(
                                    w[0].1.converged() && w[1].1.converged(),
                                ),
                            ),
                        )
                    })
                    .collect();
                for w in slopes.windows(2) {
                    let (a, b) = (&w[0].1, &w[1].1);
                    let t = tol::ERROR_SAFETY * (a.error + b.error);
                    let rel = if concave {
                        Relation::LessEq
                    } else {
                        Relation::GreaterEq
                    };
                    let s = judge(rel, b, a, t);
                    results.push(sided(&w[0].0, b, a, t, s, rel));
                }
            }
        }
    }
    let what = match shape {
        Shape::Monotone(_) => "consecutive values (later vs earlier)",
        Shape::Convex { .. } => "consecutive slopes (later vs earlier)",
    };
    let claim = match shape {
        Shape::Monotone(d) => format!("{d:?}").to_lowercase(),
        Shape::Convex { concave: true } => "concave".into(),
        Shape::Convex { concave: false } => "convex".into(),
    };
    let msg = format!(
        "{claim} in {var} on {}..{} ({} grid points × {} test points)",
        range.0,
        range.1,
        xs.len(),
        pts.len()
    );
    Ok(finish(c, results, msg, what))
}

fn gradient(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    loss: &SourceExpr,
    wrt: &str,
    exact: &SourceExpr,
) -> Result<CheckResult, CheckFailure> {
    let l = prepare(engine, loss)?;
    let ex = prepare(engine, exact)?;
    let sym = engine
        .derivative(&l, wrt)
        .map_err(|e| CheckFailure::Error(format!("symbolic derivative of the loss: {e}")))?;
    let vars = free_vars(engine, &[&l, &ex], &[]);
    if !vars.contains(wrt) {
        return Err(CheckFailure::Error(format!(
            "the loss does not depend on `{wrt}`"
        )));
    }
    let pts = test_points(c, &vars, seed)?;
    let mut results = Vec::new();
    for p in &pts {
        let exact_v = engine.eval(&ex, p).map_err(|e| at_point(e, p, exact))?;
        let sym_v = engine.eval(&sym, p).map_err(|e| at_point(e, p, loss))?;
        let fd = engine
            .richardson(&l, p, wrt)
            .map_err(|e| at_point(e, p, loss))?;
        let t_fd = tolerance(&exact_v, &fd, 0.0);
        let t_sym = tolerance(&exact_v, &sym_v, 0.0);
        let s_fd = judge(Relation::Equal, &exact_v, &fd, t_fd);
        let s_sym = judge(Relation::Equal, &exact_v, &sym_v, t_sym);
        let mut pr = point_result(p, &exact_v, &fd, t_fd, s_fd.max(s_sym));
        pr.extra.insert("symbolic".into(), sym_v.value);
        pr.extra.insert("symbolic_error".into(), sym_v.error);
        pr.extra
            .insert("symbolic_difference".into(), exact_v.value - sym_v.value);
        pr.extra.insert("symbolic_tolerance".into(), t_sym);
        results.push(pr);
    }
    let msg = format!(
        "exact gradient = finite difference = symbolic derivative at {} test points",
        results.len()
    );
    Ok(finish(c, results, msg, "exact vs finite difference"))
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
fn replicated(e: &crate::sample::Estimate) -> Value {
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
            .map_err(|e| at_point(EngineError::Numeric(e.to_string()), p, spec.energy))?;
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
        Err(EngineError::NoRealValue(m) | EngineError::Diverges(m)) => Ok(Err(m)),
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

/// Applies Holm's correction at [`tol::ALPHA`] across every statistical comparison of a run (points
/// that carry a `p_value` and are trusted), then updates the verdicts of their steps and checks.
pub fn apply_holm(files: &mut [super::FileResult]) {
    let mut locs = Vec::new();
    let mut ps = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        for (ci, c) in f.checks.iter().enumerate() {
            for (pi, p) in c.points.iter().enumerate() {
                if let Some(pv) = p.extra.get("p_value") {
                    if p.status == Status::Pass {
                        locs.push((fi, ci, pi));
                        ps.push(*pv);
                    }
                }
            }
        }
    }
    if ps.is_empty() {
        return;
    }
    let adjusted = crate::stats::multiple::holm(&ps, tol::ALPHA);
    let mut touched = BTreeSet::new();
    for (k, &(fi, ci, pi)) in locs.iter().enumerate() {
        let p = &mut files[fi].checks[ci].points[pi];
        p.extra
            .insert("adjusted_p_value".into(), adjusted.adjusted[k]);
        if adjusted.reject[k] {
            p.status = Status::Fail;
            touched.insert((fi, ci));
        }
    }
    for (fi, ci) in touched {
        let c = &mut files[fi].checks[ci];
        if let Some(steps) = c.steps.as_mut() {
            for s in steps.iter_mut() {
                let failed = c.points.iter().any(|p| {
                    p.status == Status::Fail && p.extra.get("step").copied() == Some(s.index as f64)
                });
                if failed {
                    s.status = Status::Fail;
                }
            }
            let first = steps
                .iter()
                .find(|s| s.status == Status::Fail)
                .map(|s| s.index);
            c.first_failing_step = Some(first);
        }
        c.status = Status::Fail;
        if let Some(w) = c
            .points
            .iter()
            .filter(|p| p.status == Status::Fail)
            .max_by(|a, b| {
                let za = a.extra.get("z").copied().unwrap_or(0.0).abs();
                let zb = b.extra.get("z").copied().unwrap_or(0.0).abs();
                za.total_cmp(&zb)
            })
        {
            let prefix = match c.first_failing_step {
                Some(Some(k)) => format!("step {k} fails: "),
                _ => String::new(),
            };
            c.message = format!(
                "{prefix}a Monte-Carlo estimate disagrees with the exact value{}: {:.6e} vs {:.6e}, z-score {:.1}, Holm-adjusted p = {:.2e} at family-wise α = {}",
                describe_point(w),
                w.lhs,
                w.rhs,
                w.extra.get("z").copied().unwrap_or(f64::NAN),
                w.extra.get("adjusted_p_value").copied().unwrap_or(f64::NAN),
                tol::ALPHA,
            );
            c.worst = Some(w.clone());
        }
    }
}
