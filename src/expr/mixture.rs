//! The components of an energy written as a mixture: `-logsumexp(a, b, …)`,
//! `-log(w1*exp(a) + w2*exp(b) + …)` or `min(E1, E2, …)`, up to a positive factor and an
//! added constant. Every mode of `exp(-E)` then lies at or near a minimum of one component,
//! so the quadrature's search for minima starts from theirs as well: a needle holding 2e-6 of
//! Z inside a broad mode's basin, which no grid or descent from elsewhere reaches, is the
//! minimum of its own component.

use super::{BinOp, Builtin, Expr, ExprKind};

/// Components at most (beyond, the search from each would cost more than it could find).
pub const MAX_COMPONENTS: usize = 32;

/// The component energies of `e` when it is a mixture of at least two (see the module's
/// documentation); empty otherwise. `constant` gives the value of a subexpression that does
/// not depend on the variables (`None` when it does, or has no value).
pub fn mixture_components(e: &Expr, constant: &dyn Fn(&Expr) -> Option<f64>) -> Vec<Expr> {
    let mut out = Vec::new();
    if !components(e, constant, &mut out) || out.len() < 2 || out.len() > MAX_COMPONENTS {
        return Vec::new();
    }
    out
}

/// A positive constant factor.
fn positive(e: &Expr, constant: &dyn Fn(&Expr) -> Option<f64>) -> bool {
    constant(e).is_some_and(|v| v > 0.0 && v.is_finite())
}

/// The components of `e` (an energy), pushed to `out`; `false` when `e` is no mixture.
fn components(e: &Expr, constant: &dyn Fn(&Expr) -> Option<f64>, out: &mut Vec<Expr>) -> bool {
    match &e.kind {
        ExprKind::Neg(x) => log_sum_terms(x, constant, out),
        ExprKind::Call {
            func: Builtin::Min,
            args,
        } => {
            out.extend(args.iter().cloned());
            true
        }
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::Mul if positive(lhs, constant) => components(rhs, constant, out),
            BinOp::Mul | BinOp::Div if positive(rhs, constant) => components(lhs, constant, out),
            BinOp::Add if constant(lhs).is_some() => components(rhs, constant, out),
            BinOp::Add | BinOp::Sub if constant(rhs).is_some() => components(lhs, constant, out),
            // `c - X`: the energy is `-X` shifted.
            BinOp::Sub if constant(lhs).is_some() => log_sum_terms(rhs, constant, out),
            _ => false,
        },
        _ => false,
    }
}

/// The component energies `-g` of `x = log Σ w·exp(g)` (or `logsumexp(g, …)`), up to a
/// positive factor and an added constant; `false` when `x` is not of that form.
fn log_sum_terms(x: &Expr, constant: &dyn Fn(&Expr) -> Option<f64>, out: &mut Vec<Expr>) -> bool {
    match &x.kind {
        ExprKind::Call {
            func: Builtin::LogSumExp,
            args,
        } => {
            out.extend(args.iter().map(|g| Expr::neg(g.clone(), g.span)));
            true
        }
        ExprKind::Call {
            func: Builtin::Log,
            args,
        } if args.len() == 1 => {
            let mut terms = Vec::new();
            sum_terms(&args[0], &mut terms);
            let start = out.len();
            for t in terms {
                match exp_exponent(t, constant) {
                    Some(g) => out.push(Expr::neg(g.clone(), g.span)),
                    // A constant term (a floor under the mixture) holds no mode.
                    None if constant(t).is_some() => {}
                    None => {
                        out.truncate(start);
                        return false;
                    }
                }
            }
            true
        }
        ExprKind::Neg(y) => components(y, constant, out),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::Mul if positive(lhs, constant) => log_sum_terms(rhs, constant, out),
            BinOp::Mul | BinOp::Div if positive(rhs, constant) => log_sum_terms(lhs, constant, out),
            BinOp::Add if constant(lhs).is_some() => log_sum_terms(rhs, constant, out),
            BinOp::Add | BinOp::Sub if constant(rhs).is_some() => log_sum_terms(lhs, constant, out),
            _ => false,
        },
        _ => false,
    }
}

/// The terms of a sum (`a + b + …`).
fn sum_terms<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Add,
            lhs,
            rhs,
        } => {
            sum_terms(lhs, out);
            sum_terms(rhs, out);
        }
        _ => out.push(e),
    }
}

/// `g` of a term `w·exp(g)`, `exp(g)·w` or `exp(g)/w` with `w` a positive constant.
fn exp_exponent<'e>(t: &'e Expr, constant: &dyn Fn(&Expr) -> Option<f64>) -> Option<&'e Expr> {
    match &t.kind {
        ExprKind::Call {
            func: Builtin::Exp,
            args,
        } if args.len() == 1 => Some(&args[0]),
        ExprKind::Binary { op, lhs, rhs } => match op {
            BinOp::Mul if positive(lhs, constant) => exp_exponent(rhs, constant),
            BinOp::Mul | BinOp::Div if positive(rhs, constant) => exp_exponent(lhs, constant),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Bindings, eval, free_variables, parse};

    fn comps(src: &str) -> Vec<String> {
        let e = parse(src).expect("parses");
        let constant = |c: &Expr| {
            if free_variables(c).iter().any(|v| v == "z" || v == "y") {
                None
            } else {
                eval(c, &Bindings::new().with("w", 2.0)).ok()
            }
        };
        mixture_components(&e, &constant)
            .iter()
            .map(|c| {
                // Printed at a point, to compare values rather than layouts.
                let b = Bindings::new()
                    .with("z", 0.7)
                    .with("y", -0.4)
                    .with("w", 2.0);
                format!("{:.6}", eval(c, &b).expect("evaluates"))
            })
            .collect()
    }

    fn values(srcs: &[&str]) -> Vec<String> {
        let b = Bindings::new()
            .with("z", 0.7)
            .with("y", -0.4)
            .with("w", 2.0);
        srcs.iter()
            .map(|s| {
                format!(
                    "{:.6}",
                    eval(&parse(s).expect("parses"), &b).expect("evaluates")
                )
            })
            .collect()
    }

    #[test]
    fn mixtures_are_split_into_their_components() {
        let a = "(z - 1)^2";
        let b = "3*(z + y)^2";
        for (src, want) in [
            (format!("-logsumexp(-{a}, -{b})"), vec![a, b]),
            (
                format!("2 - 0.5*logsumexp(-{a}, -{b}, -y^2)"),
                vec![a, b, "y^2"],
            ),
            (format!("-log(exp(-{a}) + w*exp(-{b}))"), vec![a, b]),
            (
                format!("-log(0.3*exp(-{a}) + exp(-{b})/7 + 1e-9)"),
                vec![a, b],
            ),
            (format!("min({a}, {b})"), vec![a, b]),
            (format!("w*(-log(exp(-{a}) + exp(-{b}))) + 4"), vec![a, b]),
            (format!("w - log(exp(-{a}) + exp(-{b}))"), vec![a, b]),
        ] {
            assert_eq!(comps(&src), values(&want), "{src}");
        }
    }

    #[test]
    fn other_energies_have_no_components() {
        for src in [
            "z^2 + y^2",
            "-logsumexp(-z^2)",
            "logsumexp(-z^2, -y^2)",
            "-log(exp(-z^2) + z^2)",
            "-(z - w)*logsumexp(-z^2, -y^2)",
            "max(z^2, y^2)",
        ] {
            assert!(comps(src).is_empty(), "{src}: {:?}", comps(src));
        }
    }
}
