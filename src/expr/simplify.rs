//! The simplifier: constant folding and algebraic identities so derivatives read like hand-written ones.
//!
//! Simplification is a bottom-up rebuild through smart constructors ([`add`], [`mul`], ...), which
//! the symbolic derivative also uses so that intermediate trees stay small.

use super::ast::{BinOp, Binding, Builtin, Expr, ExprKind, Span};

/// Whether `e` is the literal number `v` (exact comparison intended: literals are exact).
#[allow(clippy::float_cmp)]
fn is_num(e: &Expr, v: f64) -> bool {
    e.as_number() == Some(v)
}

fn num(v: f64, span: Span) -> Expr {
    Expr::number(v, span)
}

/// Folds a numeric result only when it is finite (never produce NaN or inf literals).
fn fold(v: f64, span: Span) -> Option<Expr> {
    v.is_finite().then(|| num(v, span))
}

/// `-a`, simplified: `--x = x`, `-(x - y) = y - x`, `-0 = 0`; in a product or quotient the sign
/// goes to the leftmost factor (`-(a*b)` is `-a*b`), so that it prints without parentheses.
pub fn neg(a: Expr, span: Span) -> Expr {
    if let Some(v) = a.as_number() {
        return num(-v + 0.0, span);
    }
    let a = match split_neg(a) {
        Ok(x) => return x,
        Err(a) => a,
    };
    match a.kind {
        ExprKind::Binary {
            op: BinOp::Sub,
            lhs,
            rhs,
        } => Expr::binary(BinOp::Sub, *rhs, *lhs, span),
        ExprKind::Binary {
            op: op @ (BinOp::Mul | BinOp::Div),
            lhs,
            rhs,
        } => {
            let left = neg(*lhs, span);
            Expr::binary(op, left, *rhs, span)
        }
        kind => Expr::neg(Expr::new(kind, a.span), span),
    }
}

/// `Ok(x)` when `e` is `-x`, including a product or quotient whose leftmost factor is negated.
fn split_neg(e: Expr) -> Result<Expr, Expr> {
    match e.kind {
        ExprKind::Neg(x) => Ok(*x),
        ExprKind::Binary {
            op: op @ (BinOp::Mul | BinOp::Div),
            lhs,
            rhs,
        } => match split_neg(*lhs) {
            Ok(l) => Ok(Expr::binary(op, l, *rhs, e.span)),
            Err(l) => Err(Expr::binary(op, l, *rhs, e.span)),
        },
        kind => Err(Expr::new(kind, e.span)),
    }
}

/// The numeric factor at the left end of a product chain: `2*x*y` is `(2, x*y)`.
fn leading_coefficient(e: &Expr) -> Option<(f64, Expr)> {
    if let Some(v) = e.as_number() {
        return Some((v, num(1.0, e.span)));
    }
    match &e.kind {
        ExprKind::Binary {
            op: BinOp::Mul,
            lhs,
            rhs,
        } => {
            let (c, rest) = leading_coefficient(lhs)?;
            Some((c, mul(rest, (**rhs).clone(), e.span)))
        }
        _ => None,
    }
}

/// `a + b`, simplified.
pub fn add(a: Expr, b: Expr, span: Span) -> Expr {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number())
        && let Some(e) = fold(x + y, span)
    {
        return e;
    }
    if is_num(&a, 0.0) {
        return b;
    }
    if is_num(&b, 0.0) {
        return a;
    }
    if a.same(&b) {
        return mul(num(2.0, span), a, span);
    }
    let b = match split_neg(b) {
        Ok(x) => return sub(a, x, span),
        Err(b) => b,
    };
    let a = match split_neg(a) {
        Ok(x) => return sub(b, x, span),
        Err(a) => a,
    };
    // Left-associated sums print without parentheses: a + (b ± c) = (a + b) ± c.
    match b.kind {
        ExprKind::Binary {
            op: op @ (BinOp::Add | BinOp::Sub),
            lhs,
            rhs,
        } => {
            let left = add(a, *lhs, span);
            if op == BinOp::Add {
                add(left, *rhs, span)
            } else {
                sub(left, *rhs, span)
            }
        }
        kind => Expr::binary(BinOp::Add, a, Expr::new(kind, b.span), span),
    }
}

/// `a - b`, simplified.
pub fn sub(a: Expr, b: Expr, span: Span) -> Expr {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number())
        && let Some(e) = fold(x - y, span)
    {
        return e;
    }
    if is_num(&b, 0.0) {
        return a;
    }
    if is_num(&a, 0.0) {
        return neg(b, span);
    }
    if a.same(&b) {
        return num(0.0, span);
    }
    match split_neg(b) {
        Ok(x) => add(a, x, span),
        Err(b) => Expr::binary(BinOp::Sub, a, b, span),
    }
}

/// `a * b`, simplified; numeric factors move to the left and combine.
pub fn mul(a: Expr, b: Expr, span: Span) -> Expr {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number())
        && let Some(e) = fold(x * y, span)
    {
        return e;
    }
    if is_num(&a, 0.0) || is_num(&b, 0.0) {
        return num(0.0, span);
    }
    if is_num(&a, 1.0) {
        return b;
    }
    if is_num(&b, 1.0) {
        return a;
    }
    if is_num(&a, -1.0) {
        return neg(b, span);
    }
    if is_num(&b, -1.0) {
        return neg(a, span);
    }
    let b = match split_neg(b) {
        Ok(y) => return neg(mul(a, y, span), span),
        Err(b) => b,
    };
    if b.as_number().is_some() && a.as_number().is_none() {
        return mul(b, a, span);
    }
    if let Some((c, rest)) = leading_coefficient(&b) {
        return match a.as_number() {
            Some(x) => match fold(x * c, span) {
                Some(k) => mul(k, rest, span),
                None => Expr::binary(BinOp::Mul, a, b, span),
            },
            None => mul(mul(num(c, span), a, span), rest, span),
        };
    }
    if let ExprKind::Binary {
        op: BinOp::Div,
        lhs,
        rhs,
    } = &b.kind
        && is_num(lhs, 1.0)
    {
        return div(a, (**rhs).clone(), span);
    }
    if a.same(&b) {
        return pow(a, num(2.0, span), span);
    }
    // Left-associated products print without parentheses: a*(b*c) = (a*b)*c.
    match b.kind {
        ExprKind::Binary {
            op: BinOp::Mul,
            lhs,
            rhs,
        } => {
            let left = mul(a, *lhs, span);
            mul(left, *rhs, span)
        }
        kind => Expr::binary(BinOp::Mul, a, Expr::new(kind, b.span), span),
    }
}

/// `a / b`, simplified.
pub fn div(a: Expr, b: Expr, span: Span) -> Expr {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number())
        && y != 0.0
        && let Some(e) = fold(x / y, span)
        && super::print::format_number(x / y).len() <= 10
    {
        return e;
    }
    if is_num(&b, 1.0) {
        return a;
    }
    if is_num(&a, 0.0) && b.as_number().is_none_or(|v| v != 0.0) {
        return num(0.0, span);
    }
    if a.same(&b) && a.as_number().is_none() {
        return num(1.0, span);
    }
    let a = match split_neg(a) {
        Ok(x) => return neg(div(x, b, span), span),
        Err(a) => a,
    };
    match split_neg(b) {
        Ok(y) => neg(div(a, y, span), span),
        Err(b) => Expr::binary(BinOp::Div, a, b, span),
    }
}

/// `a ^ b`, simplified.
pub fn pow(a: Expr, b: Expr, span: Span) -> Expr {
    if let (Some(x), Some(y)) = (a.as_number(), b.as_number())
        && y.fract() == 0.0
        && let Some(e) = fold(x.powf(y), span)
    {
        return e;
    }
    if is_num(&b, 1.0) {
        return a;
    }
    if is_num(&b, 0.0) || is_num(&a, 1.0) {
        return num(1.0, span);
    }
    Expr::binary(BinOp::Pow, a, b, span)
}

/// `f(args)`, simplified: `log(exp(u)) = u`, exact integer results folded (`exp(0) = 1`).
pub fn call(f: Builtin, args: Vec<Expr>, span: Span) -> Expr {
    if args.len() == 1 {
        let inner = &args[0];
        if f == Builtin::Log
            && let ExprKind::Call {
                func: Builtin::Exp,
                args: a,
            } = &inner.kind
            && a.len() == 1
        {
            return a[0].clone();
        }
        if f == Builtin::Sign
            && let ExprKind::Call {
                func: Builtin::Sign,
                ..
            } = &inner.kind
        {
            return inner.clone();
        }
    }
    let values: Option<Vec<f64>> = args.iter().map(Expr::as_number).collect();
    if let Some(vals) = values {
        let v = super::eval::apply(f, &vals);
        if v.is_finite() && v.fract() == 0.0 {
            return num(v, span);
        }
    }
    Expr::call(f, args, span)
}

fn binds(bs: &[Binding]) -> Vec<Binding> {
    bs.iter()
        .map(|b| Binding {
            var: b.var.clone(),
            span: b.span,
            range: b
                .range
                .as_ref()
                .map(|(lo, hi)| (simplify(lo), simplify(hi))),
        })
        .collect()
}

/// Simplifies bottom-up: constant folding (finite results only), `0*x`, `1*x`, `x^1`, `x^0`,
/// `--x`, `a + -b → a - b`, `x*x → x^2`, `x + x → 2*x`, `log(exp(u)) → u`, numeric factors first.
/// The result evaluates to the same value wherever the input is defined.
pub fn simplify(e: &Expr) -> Expr {
    use ExprKind as K;
    let s = e.span;
    let bx = |x: &Expr| Box::new(simplify(x));
    match &e.kind {
        K::Number(_) | K::Const(_) | K::Var(_) => e.clone(),
        K::Index { list, index } => Expr::new(
            K::Index {
                list: list.clone(),
                index: bx(index),
            },
            s,
        ),
        K::List(items) => Expr::new(K::List(items.iter().map(simplify).collect()), s),
        K::Neg(a) => neg(simplify(a), s),
        K::Binary { op, lhs, rhs } => {
            let (l, r) = (simplify(lhs), simplify(rhs));
            match op {
                BinOp::Add => add(l, r, s),
                BinOp::Sub => sub(l, r, s),
                BinOp::Mul => mul(l, r, s),
                BinOp::Div => div(l, r, s),
                BinOp::Pow => pow(l, r, s),
            }
        }
        K::Call { func, args } => call(*func, args.iter().map(simplify).collect(), s),
        K::UserCall { name, args } => Expr::new(
            K::UserCall {
                name: name.clone(),
                args: args.iter().map(simplify).collect(),
            },
            s,
        ),
        K::Integral { bindings, body } => Expr::new(
            K::Integral {
                bindings: binds(bindings),
                body: bx(body),
            },
            s,
        ),
        K::Sum { bindings, body } => Expr::new(
            K::Sum {
                bindings: binds(bindings),
                body: bx(body),
            },
            s,
        ),
        K::Extremum {
            kind,
            bindings,
            body,
        } => Expr::new(
            K::Extremum {
                kind: *kind,
                bindings: binds(bindings),
                body: bx(body),
            },
            s,
        ),
        K::Derivative {
            var,
            var_span,
            body,
        } => Expr::new(
            K::Derivative {
                var: var.clone(),
                var_span: *var_span,
                body: bx(body),
            },
            s,
        ),
        K::Limit {
            var,
            var_span,
            target,
            body,
        } => Expr::new(
            K::Limit {
                var: var.clone(),
                var_span: *var_span,
                target: bx(target),
                body: bx(body),
            },
            s,
        ),
        K::Expect {
            bindings,
            density,
            body,
        } => Expr::new(
            K::Expect {
                bindings: binds(bindings),
                density: bx(density),
                body: bx(body),
            },
            s,
        ),
        K::MonteCarlo {
            bindings,
            density,
            n,
            body,
        } => Expr::new(
            K::MonteCarlo {
                bindings: binds(bindings),
                density: bx(density),
                n: n.as_ref().map(|n| bx(n)),
                body: bx(body),
            },
            s,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn simp(src: &str) -> String {
        parse(src)
            .map(|e| simplify(&e).to_string())
            .unwrap_or_else(|e| e.render(src, ""))
    }

    #[test]
    fn identities() {
        for (src, want) in [
            ("0*x + 1*y", "y"),
            ("x^1 + x^0", "x + 1"),
            ("-(-x)", "x"),
            ("a + -b", "a - b"),
            ("a - -b", "a + b"),
            ("-a + b", "b - a"),
            ("x*2", "2*x"),
            ("2*(3*x)", "6*x"),
            ("x*x", "x^2"),
            ("x + x", "2*x"),
            ("log(exp(-b*y))", "-b*y"),
            ("0.5*(2*(y - w*z)*z)", "(y - w*z)*z"),
            ("(-a)*b", "-a*b"),
            ("-(a*b)", "-a*b"),
            ("x*(2*y)", "2*x*y"),
            ("1/2 + 1", "1.5"),
            ("1/3", "1/3"),
            ("exp(0) + log(1)", "1"),
            ("0/0", "0/0"),
            ("int[z](0*z + f)", "int[z](f)"),
        ] {
            assert_eq!(simp(src), want, "simplifying {src}");
        }
    }
}
