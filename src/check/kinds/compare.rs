//! The `equal` and `bound` check kinds: two sides compared at every test point, `lhs = rhs`
//! (statistically when a side is a Monte-Carlo estimate) or `lhs ≤ rhs` / `lhs ≥ rhs`.

use std::ops::Range;

use toml::Spanned;

use crate::check::hint;
use crate::check::raw::RawCheck;
use crate::check::result::{CheckResult, McTrace, PointResult, Status};
use crate::check::run::{
    CheckFailure, at_point, finish, free_vars, is_random, judge, prepare, sided, statistical_point,
    test_points, tolerance, worst,
};
use crate::check::spec::{CheckKind, CheckSpec, Relation, SourceExpr};
use crate::check::validate::Loader;
use crate::engine::Engine;
use crate::expr::Expr;

/// The fields of an `equal` check (beyond name, claim, kind and test points).
pub(crate) const EQUAL_FIELDS: &[&str] = &["lhs", "rhs", "tolerance"];
/// The fields of a `bound` check.
pub(crate) const BOUND_FIELDS: &[&str] = &["lhs", "rhs", "relation", "tolerance"];

/// The fields of an `equal` or `bound` table as read.
struct Raw<'a> {
    lhs: Option<&'a Spanned<String>>,
    rhs: Option<&'a Spanned<String>>,
    relation: Option<&'a Spanned<String>>,
}

impl<'a> Raw<'a> {
    fn read(c: &'a RawCheck) -> Self {
        Raw {
            lhs: c.text("lhs"),
            rhs: c.text("rhs"),
            relation: c.text("relation"),
        }
    }
}

/// The two sides and the extra tolerance, shared by `equal` and `bound`.
#[derive(Debug, Clone)]
struct Sides {
    lhs: SourceExpr,
    rhs: SourceExpr,
    tolerance: Option<f64>,
}

impl Sides {
    fn expressions(&self) -> Vec<&SourceExpr> {
        vec![&self.lhs, &self.rhs]
    }

    fn formulas(&self) -> Vec<(String, String)> {
        vec![
            ("left side".to_string(), self.lhs.text.clone()),
            ("right side".to_string(), self.rhs.text.clone()),
        ]
    }

    fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
        relation: Relation,
    ) -> Result<CheckResult, CheckFailure> {
        compare(
            engine,
            c,
            seed,
            &self.lhs,
            &self.rhs,
            relation,
            self.tolerance.unwrap_or(0.0),
        )
    }
}

/// Two expressions that agree at every test point (`kind = "equal"`).
#[derive(Debug, Clone)]
pub struct Equal {
    sides: Sides,
}

/// `lhs ≤ rhs` or `lhs ≥ rhs` at every test point (`kind = "bound"`).
#[derive(Debug, Clone)]
pub struct Bound {
    sides: Sides,
    relation: Relation,
}

impl Equal {
    /// The left side.
    pub fn lhs(&self) -> &SourceExpr {
        &self.sides.lhs
    }
    /// The right side.
    pub fn rhs(&self) -> &SourceExpr {
        &self.sides.rhs
    }
    /// The extra absolute tolerance on top of the propagated numerical errors.
    pub fn tolerance(&self) -> Option<f64> {
        self.sides.tolerance
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        self.sides.expressions()
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        self.sides.formulas()
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        self.sides.run(engine, c, seed, Relation::Equal)
    }

    /// The same check with the right side replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_rhs(&self, rhs: SourceExpr) -> Self {
        let mut out = self.clone();
        out.sides.rhs = rhs;
        out
    }
}

impl Bound {
    /// The left side.
    pub fn lhs(&self) -> &SourceExpr {
        &self.sides.lhs
    }
    /// `<=` or `>=`.
    pub fn relation(&self) -> Relation {
        self.relation
    }
    /// The right side.
    pub fn rhs(&self) -> &SourceExpr {
        &self.sides.rhs
    }
    /// The extra absolute tolerance.
    pub fn tolerance(&self) -> Option<f64> {
        self.sides.tolerance
    }

    pub(crate) fn expressions(&self) -> Vec<&SourceExpr> {
        self.sides.expressions()
    }

    pub(crate) fn formulas(&self) -> Vec<(String, String)> {
        self.sides.formulas()
    }

    pub(crate) fn run(
        &self,
        engine: &Engine,
        c: &CheckSpec,
        seed: u64,
    ) -> Result<CheckResult, CheckFailure> {
        self.sides.run(engine, c, seed, self.relation)
    }

    /// The same check with the left side replaced (test only: the mutation study).
    #[cfg(test)]
    pub(crate) fn with_lhs(&self, lhs: SourceExpr) -> Self {
        let mut out = self.clone();
        out.sides.lhs = lhs;
        out
    }
}

/// Validates an `equal` check.
pub(crate) fn equal(
    l: &mut Loader<'_>,
    c: &RawCheck,
    span: &Range<usize>,
    tolerance: Option<f64>,
) -> Option<CheckKind> {
    let kind = "equal";
    l.reject_foreign(c, kind, EQUAL_FIELDS);
    let raw = Raw::read(c);
    let lhs = l.required(raw.lhs, "lhs", kind, span);
    let rhs = l.required(raw.rhs, "rhs", kind, span);
    Some(CheckKind::Equal(Equal {
        sides: Sides {
            lhs: lhs?,
            rhs: rhs?,
            tolerance,
        },
    }))
}

/// Validates a `bound` check.
pub(crate) fn bound(
    l: &mut Loader<'_>,
    c: &RawCheck,
    span: &Range<usize>,
    tolerance: Option<f64>,
) -> Option<CheckKind> {
    let kind = "bound";
    l.reject_foreign(c, kind, BOUND_FIELDS);
    let raw = Raw::read(c);
    let lhs = l.required(raw.lhs, "lhs", kind, span);
    let rhs = l.required(raw.rhs, "rhs", kind, span);
    let relation = match raw.relation {
        Some(r) => match Relation::parse(r.get_ref()) {
            Some(rel @ (Relation::LessEq | Relation::GreaterEq)) => Some(rel),
            _ => {
                l.invalid(
                    r.span(),
                    format!("a bound's relation must be <= or >=, not `{}`", r.get_ref()),
                    None,
                );
                None
            }
        },
        None => {
            l.invalid(
                span.clone(),
                "a `bound` check needs `relation` (\"<=\" or \">=\")".into(),
                None,
            );
            None
        }
    };
    Some(CheckKind::Bound(Bound {
        sides: Sides {
            lhs: lhs?,
            rhs: rhs?,
            tolerance,
        },
        relation: relation?,
    }))
}

impl Equal {
    /// The draws behind the Monte-Carlo side of an `equal` check at its point of largest |z|, with
    /// the other side's value as the reference. `None` for other checks, or when the draws cannot be
    /// recomputed.
    pub(crate) fn monte_carlo_trace(&self, engine: &Engine, r: &CheckResult) -> Option<McTrace> {
        let (lhs, rhs) = (&self.sides.lhs, &self.sides.rhs);
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
pub(crate) fn hint_side(
    engine: &Engine,
    name: &str,
    src: &SourceExpr,
    points: &[&PointResult],
) -> hint::Side {
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
