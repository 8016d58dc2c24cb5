//! Hints for a failing comparison: how the two sides differ, when one simple mistake explains the
//! values at every test point.
//!
//! A hint is a hypothesis about the mistake (a flipped sign, a factor such as 2 or β, a
//! reciprocal, one term with the wrong sign, a term too many, an additive constant) that is kept
//! only when, with the mistake undone, the comparison holds at *every* test point within the
//! check's own tolerance (the same error bounds and relative floor that judged it). A hypothesis
//! is never accepted from one point: what it predicts must vary across the points by much more
//! than the tolerance, so that agreement is evidence rather than coincidence. Statistical
//! (Monte-Carlo) comparisons get no hint.

use super::result::PointResult;
use super::run::tol;

/// One additive term of a side as written, with its signed value and error bound at each test
/// point (in the order of the points given to [`hint`]).
#[derive(Debug, Clone)]
pub(crate) struct Term {
    /// The term's text as written (without its leading sign).
    pub text: String,
    /// `(value, error)` per point, the sign included: the side is the sum of its terms.
    pub values: Vec<(f64, f64)>,
}

/// A side of the comparison: its name in a sentence (`the left side`, `line 3`) and its terms
/// (empty when it is one term or its terms could not be evaluated).
#[derive(Debug, Clone)]
pub(crate) struct Side {
    /// How a sentence names the side.
    pub name: String,
    /// The side's additive terms.
    pub terms: Vec<Term>,
}

/// Constant factors worth naming, with their printed form.
fn named_factors() -> Vec<(f64, &'static str)> {
    let pi = std::f64::consts::PI;
    let s = (2.0 * pi).sqrt();
    vec![
        (2.0, "2"),
        (0.5, "1/2"),
        (pi, "π"),
        (1.0 / pi, "1/π"),
        (2.0 * pi, "2π"),
        (1.0 / (2.0 * pi), "1/(2π)"),
        (s, "√(2π)"),
        (1.0 / s, "1/√(2π)"),
    ]
}

/// Whether a predicted value `p ± ep` matches the actual `a ± ea` within the check's tolerance:
/// its extra tolerance, the error bounds with the same safety factor, and the relative floor on
/// the largest magnitude that entered the prediction (`scale`).
fn agrees(a: f64, ea: f64, p: f64, ep: f64, extra: f64, scale: f64) -> bool {
    let t = extra
        + tol::ERROR_SAFETY * (ea + ep)
        + 2.0 * tol::RELATIVE_FLOOR * (a.abs().max(p.abs()).max(scale));
    a.is_finite() && p.is_finite() && (a - p).abs() <= t
}

/// Whether the numbers vary across the points by more than `by` (so that a relation between
/// them and another side, holding at every point, is not one coincidence repeated).
fn varies(xs: impl Iterator<Item = f64>, by: f64) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    hi - lo > by
}

/// How many times the largest tolerance the hypothesis' prediction must vary across the points.
const SPREAD: f64 = 100.0;

/// The fewest points a hint is drawn from.
const MIN_POINTS: usize = 3;

/// A hint explaining how `left` and `right` differ at the points, or `None` when no single
/// simple mistake explains every point. `points` are the comparison's points (`lhs` is the left
/// side's value, `rhs` the right side's); `extra` is the check's own tolerance. A hint about one
/// term looks in the left side's terms first, or in the right side's when `prefer_right` (in a
/// chain, the line shared with another failing step).
pub(crate) fn hint(
    points: &[&PointResult],
    extra: f64,
    left: &Side,
    right: &Side,
    prefer_right: bool,
) -> Option<String> {
    if points.len() < MIN_POINTS
        || points.iter().any(|p| {
            p.extra.contains_key("p_value")
                || !p.lhs.is_finite()
                || !p.rhs.is_finite()
                || !p.tolerance.is_finite()
        })
    {
        return None;
    }
    let max_tol = points.iter().map(|p| p.tolerance).fold(0.0, f64::max);
    let spread = SPREAD * max_tol.max(f64::MIN_POSITIVE);
    let (l, r) = (left.name.as_str(), right.name.as_str());

    // The whole of one side against a simple function of the other.
    let rhs_varies = varies(points.iter().map(|p| p.rhs), spread);
    if rhs_varies {
        let scaled = |c: &dyn Fn(&PointResult) -> f64| {
            points.iter().all(|p| {
                let c = c(p);
                agrees(
                    p.lhs,
                    p.lhs_error,
                    c * p.rhs,
                    c.abs() * p.rhs_error,
                    extra,
                    0.0,
                )
            })
        };
        if scaled(&|_| -1.0) {
            return Some(format!("sign flipped? {l} is minus {r} at every point"));
        }
        for (c, name) in named_factors() {
            if scaled(&|_| c) {
                return Some(format!(
                    "off by a factor {name}? {l} is {name} times {r} at every point"
                ));
            }
        }
        for var in points[0].inputs.keys() {
            let v = |p: &PointResult| p.inputs.get(var).copied().unwrap_or(f64::NAN);
            if !varies(points.iter().map(|p| v(p).abs().ln()), 1e-9) {
                continue;
            }
            if scaled(&|p| v(p)) {
                return Some(format!(
                    "off by a factor {var}? {l} is {var} times {r} at every point"
                ));
            }
            if scaled(&|p| 1.0 / v(p)) {
                return Some(format!(
                    "off by a factor 1/{var}? {l} is {r} divided by {var} at every point"
                ));
            }
        }
        if points.iter().all(|p| {
            let inv = 1.0 / p.rhs;
            agrees(p.lhs, p.lhs_error, inv, p.rhs_error * inv * inv, extra, 0.0)
        }) {
            return Some(format!(
                "reciprocal? {l} is 1 divided by {r} at every point"
            ));
        }
    }

    // One term of one side with the wrong sign, one term too many, one term off by a factor 2.
    let mut order = [(left, r, 1.0), (right, l, -1.0)];
    if prefer_right {
        order.swap(0, 1);
    }
    for (side, other, flip) in order {
        if side.terms.len() < 2 {
            continue;
        }
        for term in &side.terms {
            if term.values.len() != points.len()
                || (!varies(term.values.iter().map(|v| v.0), spread)
                    && !term.values.iter().all(|v| v.0.abs() > spread))
            {
                continue;
            }
            // The other side minus this side, against (f − 1)·term.
            for (f, what) in [
                (
                    -1.0,
                    "sign flipped? the sides agree at every point if the term `{t}` of {s} changes sign",
                ),
                (
                    0.0,
                    "a term too many (or missing on {o})? the sides agree at every point without the term `{t}` of {s}",
                ),
                (
                    0.5,
                    "off by a factor 2? the sides agree at every point if the term `{t}` of {s} is halved",
                ),
                (
                    2.0,
                    "off by a factor 1/2? the sides agree at every point if the term `{t}` of {s} is doubled",
                ),
            ] {
                let ok = points.iter().zip(&term.values).all(|(p, &(t, et))| {
                    let (this, e_this, o, e_o) = if flip > 0.0 {
                        (p.lhs, p.lhs_error, p.rhs, p.rhs_error)
                    } else {
                        (p.rhs, p.rhs_error, p.lhs, p.lhs_error)
                    };
                    let fixed = this + (f - 1.0) * t;
                    agrees(
                        o,
                        e_o,
                        fixed,
                        e_this + (f - 1.0f64).abs() * et,
                        extra,
                        this.abs() + t.abs(),
                    )
                });
                if ok {
                    return Some(
                        what.replace("{t}", &term.text)
                            .replace("{s}", &side.name)
                            .replace("{o}", other),
                    );
                }
            }
        }
    }

    // A constant difference while the sides themselves vary.
    if rhs_varies {
        let mut d: Vec<f64> = points.iter().map(|p| p.lhs - p.rhs).collect();
        d.sort_by(f64::total_cmp);
        let c = d[d.len() / 2];
        if points.iter().all(|p| {
            agrees(
                p.lhs,
                p.lhs_error,
                p.rhs + c,
                p.rhs_error,
                extra,
                p.rhs.abs() + c.abs(),
            )
        }) {
            return Some(format!(
                "off by an additive constant (a normaliser?) {l} minus {r} is {c:.6e} at every point"
            ));
        }
    }
    None
}

/// The additive terms of an expression as written: `(negated, sub-expression)` for each term of
/// the top-level sums and differences (`a - (b + c)` has the terms `a`, `-b`, `-c`).
pub(crate) fn split_terms(e: &crate::expr::Expr) -> Vec<(bool, &crate::expr::Expr)> {
    use crate::expr::{BinOp, ExprKind};
    let mut out = Vec::new();
    let mut stack = vec![(false, e)];
    while let Some((neg, e)) = stack.pop() {
        match &e.kind {
            ExprKind::Binary {
                op: op @ (BinOp::Add | BinOp::Sub),
                lhs,
                rhs,
            } => {
                // Pushed right first so that terms come out in written order.
                stack.push((neg ^ (*op == BinOp::Sub), rhs));
                stack.push((neg, lhs));
            }
            ExprKind::Neg(inner) => stack.push((!neg, inner)),
            _ => out.push((neg, e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn point(x: f64, lhs: f64, rhs: f64) -> PointResult {
        let t = tol::RELATIVE_FLOOR * lhs.abs().max(rhs.abs());
        PointResult {
            inputs: BTreeMap::from([("x".to_string(), x)]),
            lhs,
            rhs,
            lhs_error: 0.0,
            rhs_error: 0.0,
            difference: lhs - rhs,
            tolerance: t,
            status: super::super::result::Status::Fail,
            extra: BTreeMap::new(),
            sense: 0,
            judged: true,
        }
    }

    fn side(name: &str) -> Side {
        Side {
            name: name.into(),
            terms: vec![],
        }
    }

    fn hint_of(f: impl Fn(f64) -> (f64, f64)) -> Option<String> {
        let pts: Vec<PointResult> = [0.3, 0.9, 1.7, 2.2]
            .iter()
            .map(|&x| {
                let (l, r) = f(x);
                point(x, l, r)
            })
            .collect();
        let refs: Vec<&PointResult> = pts.iter().collect();
        hint(
            &refs,
            0.0,
            &side("the left side"),
            &side("the right side"),
            false,
        )
    }

    #[test]
    fn whole_side_hints_hold_at_every_point() {
        let g = |x: f64| x.sin() + x * x;
        assert!(
            hint_of(|x| (-g(x), g(x)))
                .unwrap()
                .starts_with("sign flipped?")
        );
        assert!(
            hint_of(|x| (2.0 * g(x), g(x)))
                .unwrap()
                .starts_with("off by a factor 2?")
        );
        assert!(
            hint_of(|x| (x * g(x), g(x)))
                .unwrap()
                .starts_with("off by a factor x?")
        );
        assert!(
            hint_of(|x| (1.0 / g(x), g(x)))
                .unwrap()
                .starts_with("reciprocal?")
        );
        assert!(
            hint_of(|x| (g(x) + 0.7, g(x)))
                .unwrap()
                .starts_with("off by an additive constant")
        );
    }

    #[test]
    fn no_hint_for_an_unrelated_difference_or_one_that_fits_one_point_only() {
        assert_eq!(hint_of(|x| (x.exp(), x * x)), None);
        // Minus the other side at three points of four.
        assert_eq!(
            hint_of(|x| (if x > 2.0 { 1.0 } else { -x.sin() }, x.sin())),
            None
        );
        // Constant sides: agreement at every point is one coincidence repeated.
        assert_eq!(hint_of(|_| (-1.5, 1.5)), None);
    }

    #[test]
    fn terms_split_in_written_order_with_signs() {
        let e = crate::expr::parse("a - (b + c) + -d").unwrap();
        let t: Vec<(bool, String)> = split_terms(&e)
            .into_iter()
            .map(|(n, e)| (n, e.to_sexpr()))
            .collect();
        assert_eq!(
            t,
            vec![
                (false, "a".into()),
                (true, "b".into()),
                (true, "c".into()),
                (true, "d".into())
            ]
        );
    }
}
