//! The mutation power of the checker itself (test only): every shipped check is perturbed by a
//! relative 1e-3 on one side (a chain on one line at a time) and must then fail, or declare
//! through its `power` that it cannot detect a perturbation that small.

use rayon::prelude::*;

use super::result::{CheckResult, FileResult, Status};
use super::run::{apply_holm, mix_seed, run_check};
use super::spec::{CheckKind, CheckSpec, DerivationFile, Relation, SourceExpr};
use crate::engine::Engine;
use crate::expr::{BinOp, Builtin, Expr};

/// The relative size of every mutation.
const DELTA: f64 = 1e-3;

/// `e + sign·δ·|e|`: moves `e` by a relative δ (away from zero when `sign > 0`).
fn bump(e: &SourceExpr, sign: f64) -> SourceExpr {
    let span = e.expr.span;
    let abs = Expr::call(Builtin::Abs, vec![e.expr.clone()], span);
    let shift = Expr::binary(BinOp::Mul, Expr::number(DELTA, span), abs, span);
    let op = if sign > 0.0 { BinOp::Add } else { BinOp::Sub };
    SourceExpr {
        expr: Expr::binary(op, e.expr.clone(), shift, span),
        text: format!(
            "({}) {} {DELTA}·|…|",
            e.text,
            if sign > 0.0 { "+" } else { "−" }
        ),
        location: e.location.clone(),
        // The text is rewritten: its bytes no longer match the spans of `expr`.
        verbatim: false,
    }
}

/// What a mutant is expected to do.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Fail, or declare a power no smaller than δ times the perturbed side's magnitude.
    Detect,
    /// A bound: fail where the perturbation exceeds the original margin.
    Bound,
    /// A chain mutated on line `k` (1-based): fail at step `k − 1` or `k`.
    Line(usize),
}

/// The mutants of one check: `(label, mutated check, expectation)`.
fn mutants(c: &CheckSpec) -> Vec<(String, CheckSpec, Expect)> {
    let mut out = Vec::new();
    let mut with = |label: &str, kind: CheckKind, ex: Expect| {
        let mut m = c.clone();
        m.kind = kind;
        out.push((label.to_string(), m, ex));
    };
    match &c.kind {
        CheckKind::Equal(k) => with(
            "rhs·(1+δ)",
            CheckKind::Equal(k.with_rhs(bump(k.rhs(), 1.0))),
            Expect::Detect,
        ),
        CheckKind::Bound(k) => {
            let sign = if k.relation() == Relation::LessEq {
                1.0
            } else {
                -1.0
            };
            with(
                "lhs towards violation",
                CheckKind::Bound(k.with_lhs(bump(k.lhs(), sign))),
                Expect::Bound,
            );
        }
        CheckKind::Limit(k) => with(
            "target·(1+δ)",
            CheckKind::Limit(k.with_target(bump(k.target(), 1.0))),
            Expect::Detect,
        ),
        CheckKind::Gradient(k) => with(
            "exact·(1+δ)",
            CheckKind::Gradient(k.with_exact(bump(k.exact(), 1.0))),
            Expect::Detect,
        ),
        CheckKind::Chain(k) => {
            for (i, line) in k.lines().iter().enumerate() {
                with(
                    &format!("line {}·(1+δ)", i + 1),
                    CheckKind::Chain(k.with_line(i, bump(&line.expr, 1.0))),
                    Expect::Line(i + 1),
                );
            }
        }
        CheckKind::Estimator(k) => with(
            "exact·(1+δ)",
            CheckKind::Estimator(k.with_exact(bump(k.exact(), 1.0))),
            Expect::Detect,
        ),
        // Shapes have no side to perturb; their power is still reported.
        CheckKind::Monotone(_) | CheckKind::Convex(_) => {}
    }
    out
}

/// Runs one check as `check` would (same seed), with the Holm correction over itself.
fn run_one(engine: &Engine, file: &DerivationFile, index: usize, c: &CheckSpec) -> CheckResult {
    let seed = mix_seed(1, &file.path, file.seed.unwrap_or(0), index);
    let r = run_check(&engine.with_seed(seed), c, seed);
    let mut files = vec![FileResult {
        path: file.path.clone(),
        title: String::new(),
        checks: vec![r],
        load_errors: Vec::new(),
        diagnostics: Vec::new(),
    }];
    apply_holm(&mut files);
    files.remove(0).checks.remove(0)
}

/// The largest magnitude of the perturbed side over the judged points of the original run.
fn perturbed_scale(orig: &CheckResult, kind: &CheckKind) -> f64 {
    orig.points
        .iter()
        .filter(|p| p.judged)
        .map(|p| match kind {
            CheckKind::Bound(_) | CheckKind::Gradient(_) | CheckKind::Estimator(_) => p.lhs.abs(),
            _ => p.rhs.abs().max(p.lhs.abs()),
        })
        .fold(0.0, f64::max)
}

/// Whether a mutant that did not fail was allowed not to, and why.
fn excuse(orig: &CheckResult, mutated: &CheckResult, c: &CheckSpec, ex: Expect) -> Option<String> {
    let scale = perturbed_scale(orig, &c.kind);
    let needed = DELTA * scale;
    match ex {
        Expect::Detect => match mutated.power {
            Some(p) if p >= needed => {
                Some(format!("declares power {p:.1e} ≥ δ·|side| = {needed:.1e}"))
            }
            None => Some("declares it cannot detect any error (power ∞)".into()),
            _ if scale == 0.0 => Some("the perturbed side is 0 (a relative change is none)".into()),
            _ => None,
        },
        Expect::Bound => {
            // The bound still holds where the original margin exceeds the perturbation.
            let holds = orig.points.iter().filter(|p| p.judged).all(|p| {
                let margin = -f64::from(p.sense) * p.difference;
                margin >= DELTA * p.lhs.abs()
            });
            holds.then(|| "the bound still holds: its margin exceeds δ·|lhs|".into())
        }
        Expect::Line(k) => {
            let steps = mutated.steps.as_ref()?;
            let low_power = steps
                .iter()
                .filter(|s| s.index + 1 == k || s.index == k)
                .all(|s| s.power.is_none_or(|p| p >= needed));
            low_power.then(|| format!("the steps around line {k} declare power ≥ {needed:.1e}"))
        }
    }
}

/// Every check in `derivations/` has a finite power, and every mutant of it fails (a chain at
/// the mutated line) or is excused by its declared power. Prints the power table and the
/// mutation results.
#[test]
fn shipped_checks_detect_a_relative_1e3_mutation() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("derivations");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("derivations/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let files: Vec<DerivationFile> = paths
        .iter()
        .map(|p| {
            let shown = format!("derivations/{}", p.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(p).expect("readable");
            crate::check::load_str(&shown, &text).expect("shipped files load")
        })
        .collect();
    let mut jobs = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        for (ci, c) in f.checks.iter().enumerate() {
            jobs.push((fi, ci, None));
            for m in mutants(c) {
                jobs.push((fi, ci, Some(m)));
            }
        }
    }
    let engines: Vec<Engine> = files
        .iter()
        .map(|f| super::run::engine_for(f).expect("engine"))
        .collect();
    let results: Vec<CheckResult> = jobs
        .par_iter()
        .map(|(fi, ci, m)| {
            let c = m.as_ref().map_or(&files[*fi].checks[*ci], |m| &m.1);
            run_one(&engines[*fi], &files[*fi], *ci, c)
        })
        .collect();
    let mut table =
        String::from("file | check | kind | verdict | power | mutation | verdict | why\n");
    let mut problems = Vec::new();
    let mut orig: Option<&CheckResult> = None;
    for ((fi, ci, m), r) in jobs.iter().zip(&results) {
        let f = &files[*fi];
        let c = &f.checks[*ci];
        let short: String = c.name.chars().take(48).collect();
        let Some((label, mc, ex)) = m else {
            orig = Some(r);
            let power = r.power.map_or("∞".into(), |p| format!("{p:.1e}"));
            table.push_str(&format!(
                "{} | {short} | {} | {} | {power}\n",
                f.path.trim_start_matches("derivations/"),
                r.kind,
                r.status
            ));
            if r.status != Status::Pass {
                problems.push(format!("{}: {} is {}", f.path, c.name, r.status));
            }
            if r.power.is_none() {
                problems.push(format!("{}: {} has infinite power", f.path, c.name));
            }
            continue;
        };
        let o = orig.expect("the original runs first");
        let caught = match ex {
            Expect::Line(k) => r
                .first_failing_step
                .flatten()
                .is_some_and(|s| s + 1 == *k || s == *k),
            _ => r.status == Status::Fail,
        };
        let why = if caught {
            match r.first_failing_step.flatten() {
                Some(s) => format!("caught at step {s}"),
                None => "caught".into(),
            }
        } else if let Some(e) = excuse(o, r, mc, *ex) {
            e
        } else {
            problems.push(format!(
                "{}: {} — mutation {label} is {} ({}), power {:?}",
                f.path, c.name, r.status, r.message, r.power
            ));
            "NOT CAUGHT".into()
        };
        table.push_str(&format!("  | | | | | {label} | {} | {why}\n", r.status));
    }
    println!("{table}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
