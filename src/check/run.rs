//! Running checks: the dispatch to each kind's runner (`kinds`) and the machinery they share —
//! test points, tolerances, verdicts, power, the run-wide Holm correction.

use std::collections::{BTreeMap, BTreeSet};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::result::{CheckResult, PointResult, Status};
use super::spec::{CheckSpec, DerivationFile, Location, PointRange, Relation, SourceExpr};
use crate::domain::ParamValue;
use crate::engine::{Engine, EngineError, Point, Value};
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
        .map_err(|e| EngineError::expr(e.to_string()))?;
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
                r.trace = c.kind.monte_carlo_trace(&seeded, &r);
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
        certified: c.certify,
    }
}

/// Runs one check. Its kind was validated when the file was loaded (a kind can be built no other
/// way), so every check runs to a result; a numeric failure is an `error` result, not a panic.
/// A check with `certify = true` runs on a certifying engine ([`Engine::certified`]).
pub fn run_check(engine: &Engine, c: &CheckSpec, seed: u64) -> CheckResult {
    let certifying;
    let engine = if c.certify && !engine.certifies() {
        certifying = engine.certified(true);
        &certifying
    } else {
        engine
    };
    let mut r = match c.kind.run(engine, c, seed) {
        Ok(mut r) => {
            r.line = c.location.line;
            r.formulas = formulas(c);
            r
        }
        Err(CheckFailure::Error(msg)) => error_result(c, msg),
    };
    r.certified = c.certify;
    r
}

/// The expressions of a check as written, with their roles (for reports).
fn formulas(c: &CheckSpec) -> Vec<(String, String)> {
    c.kind.formulas()
}

/// Why a check has no verdict: a message for its `error` result.
pub(crate) enum CheckFailure {
    Error(String),
}

impl From<EngineError> for CheckFailure {
    fn from(e: EngineError) -> Self {
        CheckFailure::Error(e.to_string())
    }
}

pub(super) fn prepare(engine: &Engine, e: &SourceExpr) -> Result<Expr, CheckFailure> {
    engine.prepare(&e.expr).map_err(|err| {
        let help = err
            .help
            .as_ref()
            .map_or(String::new(), |h| format!("; {h}"));
        CheckFailure::Error(format!("in `{}` ({}): {err}{help}", e.text, place(&err, e)))
    })
}

/// Draws the test points for the given free variables.
pub(super) fn test_points(
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

pub(super) fn free_vars(engine: &Engine, exprs: &[&Expr], exclude: &[&str]) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    for e in exprs {
        vars.extend(engine.free_variables(e));
    }
    for x in exclude {
        vars.remove(*x);
    }
    vars
}

pub(super) fn floor(a: f64, b: f64) -> f64 {
    tol::RELATIVE_FLOOR * a.abs().max(b.abs())
}

pub(super) fn tolerance(l: &Value, r: &Value, extra: f64) -> f64 {
    extra + tol::ERROR_SAFETY * (l.error + r.error) + floor(l.value, r.value)
}

/// Whether either side is a Monte-Carlo estimate (to be judged statistically).
pub(super) fn is_random(l: &Value, r: &Value) -> bool {
    l.std_error > 0.0 || r.std_error > 0.0
}

/// A statistical comparison of two sides, one of them a Monte-Carlo estimate: the z-score of
/// their difference against the combined standard error (the deterministic error bounds are
/// added to the standard error), its two-sided p-value, and whether the effective sample size is
/// large enough to trust the standard error. The verdict comes later, after the run-wide Holm
/// correction.
pub(super) fn statistical_point(inputs: &Point, l: &Value, r: &Value) -> PointResult {
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
pub(super) fn judge(relation: Relation, l: &Value, r: &Value, t: f64) -> Status {
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
pub(super) fn power_of(points: &[PointResult]) -> (f64, Option<String>) {
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
pub(super) fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

pub(super) fn point_result(
    inputs: &Point,
    l: &Value,
    r: &Value,
    t: f64,
    status: Status,
) -> PointResult {
    sided(inputs, l, r, t, status, Relation::Equal)
}

pub(super) fn sided(
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
pub(super) fn overall(points: &[PointResult]) -> Status {
    points
        .iter()
        .map(|p| p.status)
        .max()
        .unwrap_or(Status::Pass)
}

pub(super) fn worst(points: &[PointResult]) -> Option<PointResult> {
    points
        .iter()
        .max_by(|a, b| a.severity().total_cmp(&b.severity()))
        .cloned()
}

pub(super) fn describe_point(p: &PointResult) -> String {
    let inputs: Vec<String> = p
        .inputs
        .iter()
        .map(|(k, v)| format!("{k} = {}", crate::expr::format_readable(*v, 6)))
        .collect();
    if inputs.is_empty() {
        String::new()
    } else {
        format!(" at {}", inputs.join(", "))
    }
}

pub(super) fn finish(
    c: &CheckSpec,
    points: Vec<PointResult>,
    pass_msg: String,
    what: &str,
) -> CheckResult {
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
        certified: c.certify,
    }
}

/// Where in the file an engine error of `src` points: the failing part of the expression when
/// the engine placed it, else where the expression starts.
fn place(e: &EngineError, src: &SourceExpr) -> Location {
    e.span
        .map_or_else(|| src.location.clone(), |s| src.location_of(s))
}

pub(super) fn at_point(e: EngineError, p: &Point, src: &SourceExpr) -> CheckFailure {
    let inputs: Vec<String> = p.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    CheckFailure::Error(format!(
        "evaluating `{}` ({}) at {}: {e}{}",
        src.text,
        place(&e, src),
        if inputs.is_empty() {
            "the point".to_string()
        } else {
            inputs.join(", ")
        },
        e.help.as_ref().map_or(String::new(), |h| format!("; {h}"))
    ))
}

/// Least-squares slope of y against x.
pub(super) fn slope(x: &[f64], y: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

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
