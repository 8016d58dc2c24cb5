//! The `monotone` and `convex` check kinds: the shape of `expr` in `var` on a finite range,
//! judged on a grid of consecutive values (monotone) or consecutive slopes (convex, concave).

use std::ops::Range;

use toml::Spanned;

use crate::check::raw::RawCheck;
use crate::check::result::CheckResult;
use crate::check::run::{
    CheckFailure, at_point, finish, floor, free_vars, judge, prepare, sided, test_points, tol,
    tolerance,
};
use crate::check::spec::{CheckKind, CheckSpec, Direction, Relation, SourceExpr};
use crate::check::validate::Loader;
use crate::engine::{Engine, Point, Termination, Value};

/// The fields of a `monotone` check (beyond name, claim, kind and test points).
pub(crate) const MONOTONE_FIELDS: &[&str] = &["expr", "var", "range", "direction"];
/// The fields of a `convex` check.
pub(crate) const CONVEX_FIELDS: &[&str] = &["expr", "var", "range", "sense"];

/// The fields of a `monotone` or `convex` table as read.
struct Raw<'a> {
    expr: Option<&'a Spanned<String>>,
    var: Option<&'a Spanned<String>>,
    range: Option<&'a Spanned<String>>,
    direction: Option<&'a Spanned<String>>,
    sense: Option<&'a Spanned<String>>,
}

impl<'a> Raw<'a> {
    fn read(c: &'a RawCheck) -> Self {
        Raw {
            expr: c.text("expr"),
            var: c.text("var"),
            range: c.text("range"),
            direction: c.text("direction"),
            sense: c.text("sense"),
        }
    }
}

/// `expr` as a function of `var` on a finite, non-empty `range`: what `monotone` and `convex`
/// share.
#[derive(Debug, Clone)]
struct Curve {
    expr: SourceExpr,
    var: String,
    range: (f64, f64),
}

impl Curve {
    /// Validates the shared fields, in file order (each missing or invalid one is reported).
    fn read(l: &mut Loader<'_>, raw: &Raw<'_>, kind: &str, span: &Range<usize>) -> Option<Curve> {
        let expr = l.required(raw.expr, "expr", kind, span);
        let var = l.variable_name(raw.var, "var", kind, span);
        let range = l.range_field(raw.range, kind, span);
        Some(Curve {
            expr: expr?,
            var: var?,
            range: range?,
        })
    }
}

/// `expr` is monotone in `var` on `range` (`kind = "monotone"`); the range is finite and
/// non-empty.
#[derive(Debug, Clone)]
pub struct Monotone {
    curve: Curve,
    direction: Direction,
}

/// `expr` is convex (or concave) in `var` on `range` (`kind = "convex"`); the range is finite
/// and non-empty.
#[derive(Debug, Clone)]
pub struct Convex {
    curve: Curve,
    concave: bool,
}

impl Monotone {
    /// The expression.
    pub fn expr(&self) -> &SourceExpr {
        &self.curve.expr
    }
    /// The variable.
    pub fn var(&self) -> &str {
        &self.curve.var
    }
    /// The range of the variable.
    pub fn range(&self) -> (f64, f64) {
        self.curve.range
    }
    /// The claimed direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        shape(
            engine,
            c,
            seed,
            &self.curve,
            Shape::Monotone(self.direction),
        )
    }
}

impl Convex {
    /// The expression.
    pub fn expr(&self) -> &SourceExpr {
        &self.curve.expr
    }
    /// The variable.
    pub fn var(&self) -> &str {
        &self.curve.var
    }
    /// The range of the variable.
    pub fn range(&self) -> (f64, f64) {
        self.curve.range
    }
    /// `true` for concave.
    pub fn concave(&self) -> bool {
        self.concave
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        let s = Shape::Convex {
            concave: self.concave,
        };
        shape(engine, c, seed, &self.curve, s)
    }
}

/// Validates a `monotone` check.
pub(crate) fn monotone(l: &mut Loader<'_>, c: &RawCheck, span: &Range<usize>) -> Option<CheckKind> {
    let kind = "monotone";
    l.reject_foreign(c, kind, MONOTONE_FIELDS);
    let raw = Raw::read(c);
    let curve = Curve::read(l, &raw, kind, span);
    let direction = match raw.direction {
        Some(d) => match d.get_ref().as_str() {
            "increasing" => Some(Direction::Increasing),
            "non-decreasing" => Some(Direction::NonDecreasing),
            "decreasing" => Some(Direction::Decreasing),
            "non-increasing" => Some(Direction::NonIncreasing),
            other => {
                l.invalid(
                    d.span(),
                    format!("unknown direction `{other}`"),
                    Some("use increasing, non-decreasing, decreasing or non-increasing"),
                );
                None
            }
        },
        None => {
            l.invalid(
                span.clone(),
                "a `monotone` check needs `direction`".into(),
                None,
            );
            None
        }
    };
    Some(CheckKind::Monotone(Monotone {
        curve: curve?,
        direction: direction?,
    }))
}

/// Validates a `convex` check.
pub(crate) fn convex(l: &mut Loader<'_>, c: &RawCheck, span: &Range<usize>) -> Option<CheckKind> {
    let kind = "convex";
    l.reject_foreign(c, kind, CONVEX_FIELDS);
    let raw = Raw::read(c);
    let curve = Curve::read(l, &raw, kind, span);
    let concave = match raw.sense {
        None => Some(false),
        Some(s) => match s.get_ref().as_str() {
            "convex" => Some(false),
            "concave" => Some(true),
            other => {
                l.invalid(
                    s.span(),
                    format!("unknown sense `{other}`"),
                    Some("use convex or concave"),
                );
                None
            }
        },
    };
    Some(CheckKind::Convex(Convex {
        curve: curve?,
        concave: concave?,
    }))
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

fn shape(
    engine: &Engine,
    c: &CheckSpec,
    seed: u64,
    curve: &Curve,
    shape: Shape,
) -> Result<CheckResult, CheckFailure> {
    let (expr, var, range) = (&curve.expr, curve.var.as_str(), curve.range);
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
