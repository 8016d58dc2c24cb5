//! A first-order bound on the rounding error of evaluating an expression in `f64`: the absolute
//! floor of every comparison, derived from the magnitudes that entered the computation (as
//! `approx` pairs an epsilon with a relative tolerance).
//!
//! A purely relative floor (a few ulps of the compared values) fails `1.2*x*y = x*y*1.2` when the
//! two sides round differently, and a difference of terms of size 1e-17 that cancels to 1.5e-33
//! against an exact 0. The bound here is a running error analysis: each operation adds half an
//! ulp of its result (a few for library functions), and the errors of its operands are carried
//! by its partial derivatives (computed with [`Dual`] numbers through the same [`apply`] the
//! evaluators use). Bound operators (integrals, minima, …) count as one rounding of their value:
//! their own numeric error is propagated by the engine.

use super::ast::{BinOp, Expr, ExprKind};
use super::dual::Dual;
use super::eval::{BoundEvaluator, apply, binary, eval_with};
use super::{Bindings, Diagnostic, ErrorKind, EvalError};

/// Half an ulp, relative.
const HALF_ULP: f64 = f64::EPSILON / 2.0;
/// Ulps a library function (`exp`, `sin`, `pow`, …) may be off.
const LIBM_ULPS: f64 = 4.0;

/// A bound on the absolute rounding error of `e`'s value at `bindings` (bound operators through
/// `hook`, which should return the values it already computed).
///
/// # Errors
/// Whatever prevents evaluation (as [`eval_with`]), and a sum or derivative evaluated term by
/// term (outside the hook), which is not walked a second time.
pub fn rounding_error(
    e: &Expr,
    bindings: &Bindings,
    hook: &mut dyn BoundEvaluator,
) -> Result<f64, EvalError> {
    walk(e, bindings, hook).map(|(_, err)| err)
}

/// `|slope| · err`, 0 when there is no error to carry (an infinite slope at an exact point).
fn carried(slope: f64, err: f64) -> f64 {
    if err == 0.0 { 0.0 } else { slope.abs() * err }
}

fn walk(e: &Expr, b: &Bindings, hook: &mut dyn BoundEvaluator) -> Result<(f64, f64), EvalError> {
    use ExprKind as K;
    Ok(match &e.kind {
        K::Number(v) => {
            // Integers below 2^53 are exact; a decimal such as 1.2 is rounded once.
            let exact = v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0;
            (*v, if exact { 0.0 } else { HALF_ULP * v.abs() })
        }
        K::Const(c) => (c.value(), HALF_ULP * c.value().abs()),
        K::Var(_) | K::Index { .. } => (eval_with(e, b, hook)?, 0.0),
        K::Neg(a) => {
            let (v, err) = walk(a, b, hook)?;
            (-v, err)
        }
        K::Binary { op, lhs, rhs } => {
            let (l, el) = walk(lhs, b, hook)?;
            let (r, er) = walk(rhs, b, hook)?;
            let v = binary(*op, l, r);
            let carried_err = match op {
                BinOp::Add | BinOp::Sub => el + er,
                BinOp::Mul => carried(r, el) + carried(l, er) + el * er,
                BinOp::Div => {
                    if er >= r.abs() {
                        f64::INFINITY
                    } else {
                        (el + carried(v, er)) / (r.abs() - er)
                    }
                }
                BinOp::Pow => {
                    let dl = binary(*op, Dual::variable(l), Dual::constant(r)).eps;
                    let dr = if l > 0.0 { v * l.ln() } else { 0.0 };
                    carried(dl, el) + carried(dr, er)
                }
            };
            let ulps = if *op == BinOp::Pow { LIBM_ULPS } else { 1.0 };
            (v, carried_err + ulps * HALF_ULP * v.abs())
        }
        K::Call { func, args } => {
            let mut vals = Vec::with_capacity(args.len());
            let mut errs = Vec::with_capacity(args.len());
            for a in args {
                let (v, err) = walk(a, b, hook)?;
                vals.push(v);
                errs.push(err);
            }
            let v = apply(*func, &vals);
            let mut err = LIBM_ULPS * HALF_ULP * v.abs();
            for (i, ei) in errs.iter().enumerate() {
                if *ei == 0.0 {
                    continue;
                }
                let duals: Vec<Dual> = vals
                    .iter()
                    .enumerate()
                    .map(|(j, x)| {
                        if i == j {
                            Dual::variable(*x)
                        } else {
                            Dual::constant(*x)
                        }
                    })
                    .collect();
                err += carried(apply(*func, &duals).eps, *ei);
            }
            (v, err)
        }
        // A sum or derivative evaluated term by term, not through the hook: walking it would
        // evaluate it a second time (and charge its terms to the run's `sum_terms` budget
        // twice), so the bound is not available and the caller keeps its relative floor.
        K::Sum { body, .. } | K::Derivative { body, .. } if !body.has_bound_operator() => {
            return Err(Diagnostic::new(
                ErrorKind::NeedsNumericEngine,
                e.span,
                "no rounding bound through a sum or derivative evaluated term by term",
            ));
        }
        // Bound operators come back from the hook (the engine's cache): one rounding of the
        // value at a few ulps (their numeric error is the engine's to carry).
        _ => {
            let v = eval_with(e, b, hook)?;
            (v, LIBM_ULPS * HALF_ULP * v.abs())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{NoBoundEvaluator, eval, parse};

    fn at(x: f64, y: f64) -> Bindings {
        Bindings::new().with("x", x).with("y", y)
    }

    fn bound(src: &str, b: &Bindings) -> (f64, f64) {
        let e = parse(src).expect("parses");
        let v = eval(&e, b).expect("evaluates");
        (
            v,
            rounding_error(&e, b, &mut NoBoundEvaluator).expect("bounds"),
        )
    }

    #[test]
    fn the_bound_covers_reassociation_and_cancellation() {
        // Seeded search over points: the two orders of a product differ by at most the sum of
        // their bounds, and so do the two sides of a cancellation.
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 20.0 - 10.0
        };
        for _ in 0..2000 {
            let b = at(next(), next());
            let (a, ea) = bound("1.2*x*y", &b);
            let (c, ec) = bound("x*y*1.2", &b);
            assert!((a - c).abs() <= ea + ec, "{a} vs {c}: {ea} + {ec}");
            let (d, ed) = bound("exp(x)*1e-17 - 1e-17*exp(x)", &b);
            assert!(d.abs() <= ed, "{d} > {ed}");
            let (f, ef) = bound("(x + y)^2 - (x^2 + 2*x*y + y^2)", &b);
            assert!(f.abs() <= ef, "{f} > {ef}");
        }
    }

    #[test]
    fn sums_evaluated_term_by_term_are_not_walked_twice() {
        let e = parse("sum[k=1..10](k*x)").expect("parses");
        assert!(rounding_error(&e, &at(0.3, 0.0), &mut NoBoundEvaluator).is_err());
    }

    #[test]
    fn literals_are_exact_sums_round_once_and_the_bound_is_tight() {
        let sum = bound("x + y", &at(1.0, 2.0)).1;
        assert!(
            (sum - 0.5 * f64::EPSILON * 3.0).abs() <= f64::MIN_POSITIVE,
            "{sum}"
        );
        assert!(bound("3", &at(0.0, 0.0)).1 <= 0.0);
        let (v, err) = bound("sin(x)*exp(y)", &at(0.3, 1.1));
        assert!(err > 0.0 && err < 1e-14 * v.abs(), "{err}");
    }
}
