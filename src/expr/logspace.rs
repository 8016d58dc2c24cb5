//! Logarithms taken in log space where the form allows: `log(exp(u))` is `u`, and the logarithm
//! of a product, quotient, power or square root of provably positive factors is the sum of their
//! logarithms.
//!
//! Written literally, `log(exp(-beta*E)/q)` is 0/0 in the far tails of an integral (both
//! `exp(-beta*E)` and `q` underflow), so a correct step had no real value there while the same
//! step with the logarithm expanded passed. Each rewrite is an identity wherever the original is
//! defined, and it is applied only where every factor is positive by construction (an
//! exponential, a positive constant, a product or power of such, an integral of such over
//! declared domains), so it never gives a value to an expression that has none: `log(x/y)` with
//! `x`, `y` of unknown sign is left alone and still reports `log` of a negative number.

use super::ast::{BinOp, Builtin, Constant, Expr, ExprKind};

/// `e` with every logarithm of positive factors expanded (recursively, inside bound operators
/// too). The value is unchanged wherever `e` has one; far in the tails, where the literal form
/// underflows to `log(0/0)`, the expanded form stays finite.
pub fn expand_logs(e: &Expr) -> Expr {
    if let ExprKind::Call {
        func: Builtin::Log,
        args,
    } = &e.kind
        && args.len() == 1
    {
        return log_of(&expand_logs(&args[0]), e);
    }
    e.try_map_children::<()>(&mut |c| Ok(expand_logs(c)))
        .unwrap_or_else(|()| e.clone())
}

/// `log(a)` in log space where `a`'s form allows; `at` gives the span of new nodes.
fn log_of(a: &Expr, at: &Expr) -> Expr {
    let sp = at.span;
    if is_constant(a) {
        // Nothing can underflow in a constant: keep `log(2*pi)` as written.
        return Expr::call(Builtin::Log, vec![a.clone()], sp);
    }
    match &a.kind {
        ExprKind::Call {
            func: Builtin::Exp,
            args,
        } if args.len() == 1 => return args[0].clone(),
        ExprKind::Call {
            func: Builtin::Sqrt,
            args,
        } if args.len() == 1 && nonnegative(&args[0]) => {
            return Expr::binary(BinOp::Mul, Expr::number(0.5, sp), log_of(&args[0], at), sp);
        }
        ExprKind::Binary {
            op: op @ (BinOp::Mul | BinOp::Div),
            lhs,
            rhs,
        } if nonnegative(lhs) && nonnegative(rhs) => {
            let op = if *op == BinOp::Mul {
                BinOp::Add
            } else {
                BinOp::Sub
            };
            return Expr::binary(op, log_of(lhs, at), log_of(rhs, at), sp);
        }
        ExprKind::Binary {
            op: BinOp::Pow,
            lhs,
            rhs,
        } if positive(lhs) => {
            return Expr::binary(BinOp::Mul, (**rhs).clone(), log_of(lhs, at), sp);
        }
        _ => {}
    }
    Expr::call(Builtin::Log, vec![a.clone()], sp)
}

/// Whether `e` is made of numbers and constants only.
fn is_constant(e: &Expr) -> bool {
    let mut constant = true;
    e.visit(&mut |n| {
        constant &= matches!(
            n.kind,
            ExprKind::Number(_) | ExprKind::Const(_) | ExprKind::Neg(_) | ExprKind::Binary { .. }
        ) || matches!(n.kind, ExprKind::Call { .. });
    });
    constant
}

/// Whether `e` is non-negative wherever it is defined, by its form alone. For `a, b ≥ 0`,
/// `log(a·b) = log a + log b`, `log(a/b) = log a − log b` and `log(sqrt(a)) = ½ log a` hold in
/// the extended reals, zeros included (both sides −∞, or both undefined).
fn nonnegative(e: &Expr) -> bool {
    positive(e)
        || match &e.kind {
            ExprKind::Call {
                func: Builtin::Abs, ..
            } => true,
            ExprKind::Call {
                func: Builtin::Sqrt,
                args,
            } => args.len() == 1 && nonnegative(&args[0]),
            ExprKind::Binary {
                op: BinOp::Mul | BinOp::Div | BinOp::Add,
                lhs,
                rhs,
            } => nonnegative(lhs) && nonnegative(rhs),
            ExprKind::Binary {
                op: BinOp::Pow,
                lhs,
                rhs,
            } => {
                nonnegative(lhs)
                    || rhs
                        .as_number()
                        .is_some_and(|k| k.fract() == 0.0 && (k / 2.0).fract() == 0.0)
            }
            _ => false,
        }
}

/// Whether `e` is positive wherever it is defined, by its form alone.
fn positive(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Number(v) => *v > 0.0 && v.is_finite(),
        ExprKind::Const(c) => *c == Constant::Pi,
        ExprKind::Call { func, args } => match func {
            Builtin::Exp | Builtin::Cosh | Builtin::Sigmoid | Builtin::Softplus => true,
            Builtin::Sqrt => args.len() == 1 && positive(&args[0]),
            Builtin::Min | Builtin::Max => args.iter().all(positive),
            _ => false,
        },
        ExprKind::Binary {
            op: BinOp::Mul | BinOp::Div | BinOp::Add,
            lhs,
            rhs,
        } => positive(lhs) && positive(rhs),
        ExprKind::Binary {
            op: BinOp::Pow,
            lhs,
            ..
        } => positive(lhs),
        // Over declared domains (never explicit limits, which may run backwards) the integral
        // of a positive integrand is positive.
        ExprKind::Integral { bindings, body } => {
            bindings.iter().all(|b| b.range.is_none()) && positive(body)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Bindings, eval, parse};

    fn expanded(src: &str) -> String {
        expand_logs(&parse(src).expect("parses")).to_string()
    }

    #[test]
    fn logs_of_positive_forms_are_expanded() {
        assert_eq!(expanded("log(exp(-b*E))"), "-b*E");
        assert_eq!(
            expanded("log(exp(-b*E)/(exp(-z^2/2)/sqrt(2*pi)))"),
            "-b*E - (-z^2/2 - log(sqrt(2*pi)))"
        );
        assert_eq!(expanded("log(2^x)"), "x*log(2)");
        // Non-negative factors (even powers, abs) split too: both sides are −∞ at a zero.
        assert_eq!(
            expanded("log(exp(-a)/sqrt(2*pi*s^2))"),
            "-a - 0.5*(log(2*pi) + log(s^2))"
        );
        // Inside bound operators too.
        assert_eq!(expanded("int[z](q*log(exp(-z^2)))"), "int[z](q*(-z^2))");
    }

    #[test]
    fn logs_of_unknown_sign_are_left_alone() {
        for src in [
            "log(x/y)",
            "log(x*exp(y))",
            "log(-exp(y))",
            "log(int[z=1..0](exp(-z)))",
        ] {
            assert_eq!(
                expanded(src),
                parse(src).expect("parses").to_string(),
                "{src}"
            );
        }
        // So `log` of a negative number still has no value.
        let mut b = Bindings::new();
        b.set("x", -1.0);
        b.set("y", 1.0);
        assert!(eval(&expand_logs(&parse("log(x/y)").expect("parses")), &b).is_err());
    }

    #[test]
    fn the_expanded_form_is_finite_where_the_literal_one_underflows() {
        let src = "log(exp(-0.5*z^2)/(exp(-z^2/2)/sqrt(2*pi)))";
        let e = parse(src).expect("parses");
        let mut b = Bindings::new();
        b.set("z", 3.0);
        let near = eval(&e, &b).expect("defined near");
        let exp_near = eval(&expand_logs(&e), &b).expect("defined");
        assert!((near - exp_near).abs() < 1e-12, "{near} vs {exp_near}");
        b.set("z", 60.0);
        assert!(eval(&e, &b).is_err(), "0/0 literally");
        let far = eval(&expand_logs(&e), &b).expect("finite in log space");
        assert!((far - 0.5 * (2.0 * std::f64::consts::PI).ln()).abs() < 1e-12);
    }
}
