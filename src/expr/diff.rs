//! The symbolic derivative, including the rules for bound operators (under the integral sign).

use super::ast::{BinOp, Binding, Builtin, Expr, ExprKind, Extremum, Span};
use super::context::{Context, free_variables, substitute};
use super::diagnostic::{Diagnostic, DiffError, ErrorKind};
use super::simplify::{add, call, div, mul, neg, pow, simplify, sub};
use crate::budgets::{self, Budget};
use std::collections::HashMap;

/// The simplified derivative of `expr` with respect to the variable `var`, after inlining the
/// definitions of `ctx`.
///
/// Bound operators: `int`, `sum` and `expect` are differentiated under the operator (the limits
/// must not depend on `var`); `min[z](f)` by the envelope theorem (`∂f` at `z = argmin[z](f)`),
/// `argmin[z](f)` by the implicit function theorem; `lim` and `mc` are not differentiable
/// symbolically. A variable bound by an operator is a different variable from a free `var`
/// of the same name, so differentiating with respect to it gives 0.
///
/// # Errors
/// Inlining errors, limits that depend on `var`, `lim` or `mc` in the expression, an
/// optimisation over several variables.
pub fn derivative(expr: &Expr, var: &str, ctx: &Context) -> Result<Expr, DiffError> {
    let inlined = ctx.inline(expr)?;
    Ok(simplify(&derivative_of(&inlined, var)?))
}

fn depends(e: &Expr, var: &str) -> bool {
    free_variables(e).contains(var)
}

fn zero(span: Span) -> Expr {
    Expr::number(0.0, span)
}

fn one(span: Span) -> Expr {
    Expr::number(1.0, span)
}

fn check_ranges(bindings: &[Binding], var: &str, what: &str) -> Result<(), DiffError> {
    for b in bindings {
        if let Some((lo, hi)) = &b.range
            && (depends(lo, var) || depends(hi, var))
        {
            return Err(Diagnostic::new(
                ErrorKind::NotDifferentiable,
                b.span,
                format!("the limits of `{}` depend on `{var}`, so the derivative cannot be taken under the {what}", b.var),
            )
            .with_help("differentiate with limits that do not depend on the variable (the Leibniz boundary terms are not implemented)"));
        }
    }
    Ok(())
}

/// The derivative of an inlined expression with respect to `var`, lightly simplified while it is
/// built (apply [`simplify`] for the final form).
///
/// # Errors
/// As [`derivative`]; also a user call that was not inlined.
pub fn derivative_of(e: &Expr, var: &str) -> Result<Expr, DiffError> {
    let d = derivative_rec(e, var)?;
    check_derivative_size(&d, e.span)?;
    Ok(d)
}

/// A derivative must fit the `derivative_nodes` budget and the printable depth (so that what
/// `diff` prints parses again); nested `diff[..]` are checked level by level, before the next
/// level multiplies the size again.
fn check_derivative_size(d: &Expr, span: Span) -> Result<(), DiffError> {
    let (nodes, depth) = super::context::size_and_depth(d);
    if depth > super::parser::MAX_DEPTH {
        return Err(Diagnostic::new(
            ErrorKind::TooDeep,
            span,
            format!(
                "the derivative is nested {depth} levels deep, beyond the {} levels an expression may have",
                super::parser::MAX_DEPTH
            ),
        )
        .with_help("differentiate a simpler expression, or split it into definitions"));
    }
    budgets::check(Budget::DerivativeNodes, nodes as u128, "the derivative")
        .map_err(|b| Diagnostic::new(ErrorKind::TooLarge, span, b.message()).with_help(b.help()))
}

fn derivative_rec(e: &Expr, var: &str) -> Result<Expr, DiffError> {
    use ExprKind as K;
    let s = e.span;
    if !depends(e, var) && !matches!(e.kind, K::UserCall { .. }) {
        return Ok(zero(s));
    }
    let d = |x: &Expr| derivative_rec(x, var);
    Ok(match &e.kind {
        K::Number(_) | K::Const(_) | K::Index { .. } => zero(s),
        K::Var(v) => {
            if v == var {
                one(s)
            } else {
                zero(s)
            }
        }
        K::List(_) => {
            return Err(Diagnostic::new(
                ErrorKind::TypeMismatch,
                s,
                "a list has no derivative",
            ));
        }
        K::Neg(a) => neg(d(a)?, s),
        K::Binary { op, lhs, rhs } => {
            let (a, b) = (&**lhs, &**rhs);
            match op {
                BinOp::Add => add(d(a)?, d(b)?, s),
                BinOp::Sub => sub(d(a)?, d(b)?, s),
                BinOp::Mul => add(mul(d(a)?, b.clone(), s), mul(a.clone(), d(b)?, s), s),
                BinOp::Div => {
                    let (da, db) = (d(a)?, d(b)?);
                    let first = div(da, b.clone(), s);
                    let second = div(
                        mul(a.clone(), db, s),
                        pow(b.clone(), Expr::number(2.0, s), s),
                        s,
                    );
                    sub(first, second, s)
                }
                BinOp::Pow => {
                    let (da, db) = (d(a)?, d(b)?);
                    if !depends(b, var) {
                        // u^c: c*u^(c-1)*u'.
                        let exponent = sub(b.clone(), one(s), s);
                        mul(mul(b.clone(), pow(a.clone(), exponent, s), s), da, s)
                    } else if !depends(a, var) {
                        mul(
                            mul(e.clone(), call(Builtin::Log, vec![a.clone()], s), s),
                            db,
                            s,
                        )
                    } else {
                        // u^v (v' log u + v u'/u).
                        let t1 = mul(db, call(Builtin::Log, vec![a.clone()], s), s);
                        let t2 = div(mul(b.clone(), da, s), a.clone(), s);
                        mul(e.clone(), add(t1, t2, s), s)
                    }
                }
            }
        }
        K::Call { func, args } => call_derivative(*func, args, var, s)?,
        K::UserCall { name, .. } => {
            return Err(Diagnostic::new(
                ErrorKind::UnknownFunction,
                s,
                format!("`{name}` is not inlined"),
            )
            .with_help("differentiate through `derivative`, which inlines definitions first"));
        }
        K::Integral { bindings, body } | K::Sum { bindings, body } => {
            if bindings.iter().any(|b| b.var == var) {
                return Ok(zero(s));
            }
            let what = if matches!(e.kind, K::Integral { .. }) {
                "integral sign"
            } else {
                "sum"
            };
            check_ranges(bindings, var, what)?;
            let db = simplify(&d(body)?);
            if db.as_number().is_some_and(|v| v == 0.0) {
                return Ok(zero(s));
            }
            let kind = match &e.kind {
                K::Integral { .. } => K::Integral {
                    bindings: bindings.clone(),
                    body: Box::new(db),
                },
                _ => K::Sum {
                    bindings: bindings.clone(),
                    body: Box::new(db),
                },
            };
            Expr::new(kind, s)
        }
        K::Extremum {
            kind,
            bindings,
            body,
        } => {
            if bindings.iter().any(|b| b.var == var) {
                return Ok(zero(s));
            }
            check_ranges(bindings, var, "minimum")?;
            let [binding] = bindings.as_slice() else {
                return Err(Diagnostic::new(
                    ErrorKind::NotDifferentiable,
                    s,
                    format!(
                        "the derivative of `{}` over several variables is not implemented",
                        kind.keyword()
                    ),
                )
                .with_help("optimise over one variable, nesting the operators"));
            };
            let z = &binding.var;
            // For max, the maximiser is the minimiser of -f.
            let objective = match kind {
                Extremum::Max => neg(body.as_ref().clone(), s),
                _ => body.as_ref().clone(),
            };
            let argmin = Expr::new(
                K::Extremum {
                    kind: Extremum::Argmin,
                    bindings: bindings.clone(),
                    body: Box::new(objective.clone()),
                },
                s,
            );
            let at_min = |x: &Expr| -> Result<Expr, DiffError> {
                let map: HashMap<String, Expr> =
                    [(z.clone(), argmin.clone())].into_iter().collect();
                substitute(x, &map)
            };
            match kind {
                Extremum::Min | Extremum::Max => at_min(&simplify(&d(body)?))?,
                Extremum::Argmin => {
                    // z*(w) solves ∂f/∂z = 0, so dz*/dw = -(∂²f/∂z∂w) / (∂²f/∂z²) at z*.
                    let fz = derivative_of(body, z)?;
                    let fzw = simplify(&derivative_of(&fz, var)?);
                    let fzz = simplify(&derivative_of(&fz, z)?);
                    neg(div(at_min(&fzw)?, at_min(&fzz)?, s), s)
                }
            }
        }
        K::Derivative {
            var: inner, body, ..
        } => derivative_rec(&simplify(&derivative_of(body, inner)?), var)?,
        K::Limit { .. } => {
            return Err(Diagnostic::new(
                ErrorKind::NotDifferentiable,
                s,
                "a limit is not differentiable symbolically",
            )
            .with_help("the numeric engine differentiates limits by finite differences"));
        }
        K::MonteCarlo { .. } => {
            return Err(Diagnostic::new(
                ErrorKind::NotDifferentiable,
                s,
                "a Monte-Carlo average is not differentiable symbolically",
            )
            .with_help(
                "differentiate the expectation `expect[..](..)` instead, or use finite differences",
            ));
        }
        K::Expect {
            bindings,
            density,
            body,
        } => {
            if bindings.iter().any(|b| b.var == var) {
                return Ok(zero(s));
            }
            check_ranges(bindings, var, "expectation")?;
            // ∂E[g] = E[∂g] + E[g ∂log p] - E[g] E[∂log p] (the density is unnormalised).
            let expect = |b: Expr| {
                Expr::new(
                    K::Expect {
                        bindings: bindings.clone(),
                        density: density.clone(),
                        body: Box::new(b),
                    },
                    s,
                )
            };
            let dg = simplify(&d(body)?);
            let dlogp = simplify(&derivative_of(
                &simplify(&call(Builtin::Log, vec![(**density).clone()], s)),
                var,
            )?);
            let first = if dg.as_number().is_some_and(|v| v == 0.0) {
                zero(s)
            } else {
                expect(dg)
            };
            if dlogp.as_number().is_some_and(|v| v == 0.0) {
                return Ok(first);
            }
            let cov = sub(
                expect(mul((**body).clone(), dlogp.clone(), s)),
                mul(expect((**body).clone()), expect(dlogp), s),
                s,
            );
            add(first, cov, s)
        }
    })
}

fn call_derivative(f: Builtin, args: &[Expr], var: &str, s: Span) -> Result<Expr, DiffError> {
    let c = |g: Builtin, x: &Expr| call(g, vec![x.clone()], s);
    let two = || Expr::number(2.0, s);
    if matches!(f, Builtin::Min | Builtin::Max) {
        return minmax_derivative(f, args, var, s);
    }
    if f == Builtin::LogSumExp {
        let whole = call(f, args.to_vec(), s);
        let mut total = Expr::number(0.0, s);
        for a in args {
            let da = derivative_rec(a, var)?;
            let weight = c(Builtin::Exp, &sub(a.clone(), whole.clone(), s));
            total = add(total, mul(weight, da, s), s);
        }
        return Ok(total);
    }
    let Some(u) = args.first() else {
        return Err(Diagnostic::new(
            ErrorKind::WrongArity,
            s,
            format!("`{}` needs an argument", f.name()),
        ));
    };
    let du = derivative_rec(u, var)?;
    let outer = match f {
        Builtin::Exp | Builtin::Expm1 => c(Builtin::Exp, u),
        Builtin::Log => return Ok(div(du, u.clone(), s)),
        Builtin::Log1p => return Ok(div(du, add(Expr::number(1.0, s), u.clone(), s), s)),
        Builtin::Sqrt => return Ok(div(du, mul(two(), c(Builtin::Sqrt, u), s), s)),
        Builtin::Abs => c(Builtin::Sign, u),
        Builtin::Sign => return Ok(Expr::number(0.0, s)),
        Builtin::Sin => c(Builtin::Cos, u),
        Builtin::Cos => neg(c(Builtin::Sin, u), s),
        Builtin::Tan => return Ok(div(du, pow(c(Builtin::Cos, u), two(), s), s)),
        Builtin::Sinh => c(Builtin::Cosh, u),
        Builtin::Cosh => c(Builtin::Sinh, u),
        Builtin::Tanh => sub(Expr::number(1.0, s), pow(c(Builtin::Tanh, u), two(), s), s),
        Builtin::Sigmoid => mul(
            c(Builtin::Sigmoid, u),
            sub(Expr::number(1.0, s), c(Builtin::Sigmoid, u), s),
            s,
        ),
        Builtin::Softplus => c(Builtin::Sigmoid, u),
        Builtin::Min | Builtin::Max | Builtin::LogSumExp => Expr::number(0.0, s),
    };
    Ok(mul(outer, du, s))
}

/// `min(a, b) = (a + b)/2 - |a - b|/2`, so `min' = (a' + b')/2 - sign(a - b)(a' - b')/2`
/// (and `+` for max); variadic calls nest to the left.
fn minmax_derivative(f: Builtin, args: &[Expr], var: &str, s: Span) -> Result<Expr, DiffError> {
    let Some((last, rest)) = args.split_last() else {
        return Err(Diagnostic::new(
            ErrorKind::WrongArity,
            s,
            format!("`{}` needs an argument", f.name()),
        ));
    };
    if rest.is_empty() {
        return derivative_rec(last, var);
    }
    let a = if rest.len() == 1 {
        rest[0].clone()
    } else {
        Expr::call(f, rest.to_vec(), s)
    };
    let (da, db) = (derivative_rec(&a, var)?, derivative_rec(last, var)?);
    let half = |x: Expr| div(x, Expr::number(2.0, s), s);
    let mean = half(add(da.clone(), db.clone(), s));
    let switch = half(mul(
        call(Builtin::Sign, vec![sub(a, last.clone(), s)], s),
        sub(da, db, s),
        s,
    ));
    Ok(if f == Builtin::Min {
        sub(mean, switch, s)
    } else {
        add(mean, switch, s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn d(src: &str, var: &str) -> String {
        let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
        derivative(&e, var, &Context::new())
            .map(|e| e.to_string())
            .unwrap_or_else(|e| e.render(src, ""))
    }

    #[test]
    fn readable_derivatives() {
        for (src, var, want) in [
            ("x^2", "x", "2*x"),
            ("3*x + y", "x", "3"),
            ("exp(-x)", "x", "-exp(-x)"),
            ("log(x)", "x", "1/x"),
            ("abs(x)", "x", "sign(x)"),
            ("softplus(2*x)", "x", "2*sigmoid(2*x)"),
            ("0.5*(y - w*z)^2", "w", "(w*z - y)*z"),
            ("int[z](exp(-w*z^2))", "w", "int[z](-exp(-w*z^2)*z^2)"),
            ("int[w](w*x)", "w", "0"),
            ("min[z]((z - w)^2)", "w", "-2*(argmin[z]((z - w)^2) - w)"),
        ] {
            assert_eq!(d(src, var), want, "d/d{var} {src}");
        }
    }

    #[test]
    fn expectation_rule_covers_the_density() {
        let got = d("expect[y ~ exp(-w*y^2)](y^2)", "w");
        assert_eq!(
            got,
            "expect[y ~ exp(-w*y^2)](-(y^2)^2) - expect[y ~ exp(-w*y^2)](y^2)*expect[y ~ exp(-w*y^2)](-y^2)"
        );
    }

    #[test]
    fn limits_depending_on_the_variable_are_an_error() {
        assert!(d("int[z = 0..w](z)", "w").contains("depend on `w`"));
        assert!(d("lim[b -> inf](w/b)", "w").contains("not differentiable"));
        assert!(d("mc[y ~ exp(-w*y^2)](y)", "w").contains("not differentiable"));
    }
}
