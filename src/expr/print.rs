//! Printers: an S-expression form for tests and a re-parseable infix form with minimal parentheses.

use super::ast::{BinOp, Binding, Expr, ExprKind};
use std::fmt;

/// Formats a non-negative number so that it reads back as the same `f64`.
pub fn format_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-4..1e15).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Formats a number for people: `digits` decimals in fixed notation when `1e-3 <= |v| < 1e6` (or
/// `v` is 0), otherwise `digits` digits in exponent notation, so that `1e300` never prints as 301
/// digits and `1e-9` never as `0.000000`.
pub fn format_readable(v: f64, digits: usize) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        format!("{v:.digits$}")
    } else {
        format!("{v:.digits$e}")
    }
}

fn sexpr_bindings(out: &mut String, bindings: &[Binding]) {
    for b in bindings {
        out.push_str(" [");
        out.push_str(&b.var);
        if let Some((lo, hi)) = &b.range {
            out.push(' ');
            out.push_str(&lo.to_sexpr());
            out.push(' ');
            out.push_str(&hi.to_sexpr());
        }
        out.push(']');
    }
}

impl Expr {
    /// The S-expression form used by tests: `a + b*c^2` is `(+ a (* b (^ c 2)))`.
    pub fn to_sexpr(&self) -> String {
        use ExprKind as K;
        let list = |head: &str, items: &[Expr]| {
            let mut s = format!("({head}");
            for i in items {
                s.push(' ');
                s.push_str(&i.to_sexpr());
            }
            s.push(')');
            s
        };
        match &self.kind {
            K::Number(v) => format_number(*v),
            K::Const(c) => c.name().to_string(),
            K::Var(v) => v.clone(),
            K::Index { list, index } => format!("(index {list} {})", index.to_sexpr()),
            K::List(items) => list("list", items),
            K::Neg(a) => format!("(- {})", a.to_sexpr()),
            K::Binary { op, lhs, rhs } => {
                format!("({} {} {})", op.symbol(), lhs.to_sexpr(), rhs.to_sexpr())
            }
            K::Call { func, args } => list(func.name(), args),
            K::UserCall { name, args } => list(name, args),
            K::Integral { bindings, body }
            | K::Sum { bindings, body }
            | K::Extremum { bindings, body, .. } => {
                let head = match &self.kind {
                    K::Integral { .. } => "int",
                    K::Sum { .. } => "sum",
                    K::Extremum { kind, .. } => kind.keyword(),
                    _ => "",
                };
                let mut s = format!("({head}");
                sexpr_bindings(&mut s, bindings);
                format!("{s} {})", body.to_sexpr())
            }
            K::Derivative { var, body, .. } => format!("(diff {var} {})", body.to_sexpr()),
            K::Limit {
                var, target, body, ..
            } => {
                format!("(lim {var} {} {})", target.to_sexpr(), body.to_sexpr())
            }
            K::Expect {
                bindings,
                density,
                body,
            } => {
                let mut s = "(expect".to_string();
                sexpr_bindings(&mut s, bindings);
                format!("{s} {} {})", density.to_sexpr(), body.to_sexpr())
            }
            K::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => {
                let mut s = "(mc".to_string();
                sexpr_bindings(&mut s, bindings);
                s.push(' ');
                s.push_str(&density.to_sexpr());
                if let Some(n) = n {
                    s.push(' ');
                    s.push_str(&n.to_sexpr());
                }
                format!("{s} {})", body.to_sexpr())
            }
        }
    }
}

/// Precedence levels for printing: higher binds tighter.
const ADD: u8 = 1;
const MUL: u8 = 2;
const NEG: u8 = 3;
const POW: u8 = 4;
const ATOM: u8 = 5;

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinOp::Add | BinOp::Sub => ADD,
            BinOp::Mul | BinOp::Div => MUL,
            BinOp::Pow => POW,
        },
        ExprKind::Neg(_) => NEG,
        ExprKind::Number(v) if *v < 0.0 => NEG,
        _ => ATOM,
    }
}

fn write_paren(f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

fn write_bindings(f: &mut fmt::Formatter<'_>, bindings: &[Binding]) -> fmt::Result {
    for (i, b) in bindings.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{}", b.var)?;
        if let Some((lo, hi)) = &b.range {
            write!(f, " = {lo}..{hi}")?;
        }
    }
    Ok(())
}

fn write_args(f: &mut fmt::Formatter<'_>, name: &str, args: &[Expr]) -> fmt::Result {
    write!(f, "{name}(")?;
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{a}")?;
    }
    write!(f, ")")
}

/// Prints valid syntax with the fewest parentheses that preserve the tree:
/// `parse(&e.to_string())` has the same S-expression as `e`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExprKind as K;
        match &self.kind {
            K::Number(v) => write!(f, "{}", format_number(*v)),
            K::Const(c) => write!(f, "{}", c.name()),
            K::Var(v) => write!(f, "{v}"),
            K::Index { list, index } => write!(f, "{list}[{index}]"),
            K::List(items) => {
                write!(f, "[")?;
                for (i, a) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, "]")
            }
            K::Neg(a) => {
                write!(f, "-")?;
                // `-a*b` reads as `(-a)*b`, and `--a` is unreadable: parenthesise both.
                write_paren(f, a, precedence(a) <= NEG)
            }
            K::Binary { op, lhs, rhs } => {
                let p = precedence(self);
                let (lp, rp) = (precedence(lhs), precedence(rhs));
                let left_paren = if *op == BinOp::Pow { lp <= POW } else { lp < p };
                // The right operand of a left-associative operator needs parentheses at equal
                // precedence; a negation on the right is parenthesised for readability.
                let right_paren = match op {
                    BinOp::Pow => rp < POW,
                    _ => rp <= p || rp == NEG,
                };
                write_paren(f, lhs, left_paren)?;
                match op {
                    BinOp::Add | BinOp::Sub => write!(f, " {} ", op.symbol())?,
                    _ => write!(f, "{}", op.symbol())?,
                }
                write_paren(f, rhs, right_paren)
            }
            K::Call { func, args } => write_args(f, func.name(), args),
            K::UserCall { name, args } => write_args(f, name, args),
            K::Integral { bindings, body }
            | K::Sum { bindings, body }
            | K::Extremum { bindings, body, .. } => {
                let head = match &self.kind {
                    K::Integral { .. } => "int",
                    K::Sum { .. } => "sum",
                    K::Extremum { kind, .. } => kind.keyword(),
                    _ => "",
                };
                write!(f, "{head}[")?;
                write_bindings(f, bindings)?;
                write!(f, "]({body})")
            }
            K::Derivative { var, body, .. } => write!(f, "diff[{var}]({body})"),
            K::Limit {
                var, target, body, ..
            } => write!(f, "lim[{var} -> {target}]({body})"),
            K::Expect {
                bindings,
                density,
                body,
            } => {
                write!(f, "expect[")?;
                write_bindings(f, bindings)?;
                write!(f, " ~ {density}]({body})")
            }
            K::MonteCarlo {
                bindings,
                density,
                n,
                body,
            } => {
                write!(f, "mc[")?;
                write_bindings(f, bindings)?;
                write!(f, " ~ {density}")?;
                if let Some(n) = n {
                    write!(f, "; n = {n}")?;
                }
                write!(f, "]({body})")
            }
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn readable_numbers_never_run_long_or_lose_small_values() {
        assert_eq!(super::format_readable(4.543_894_2, 6), "4.543894");
        assert_eq!(super::format_readable(0.0, 4), "0.0000");
        assert_eq!(super::format_readable(1e300, 6), "1.000000e300");
        assert_eq!(super::format_readable(-2.5e-9, 4), "-2.5000e-9");
        assert_eq!(super::format_readable(f64::INFINITY, 6), "inf");
    }

    use crate::expr::parse;

    fn round_trip(src: &str, printed: &str) {
        let e = parse(src).unwrap_or_else(|err| panic!("{}", err.render(src, "")));
        assert_eq!(e.to_string(), printed, "printing {src:?}");
        let again = parse(printed).unwrap_or_else(|err| panic!("{}", err.render(printed, "")));
        assert_eq!(again.to_sexpr(), e.to_sexpr());
    }

    #[test]
    fn minimal_parentheses() {
        round_trip("(a + b) * c", "(a + b)*c");
        round_trip("a + (b + c)", "a + (b + c)");
        round_trip("(a + b) + c", "a + b + c");
        round_trip("a - (b - c)", "a - (b - c)");
        round_trip("(2^3)^2", "(2^3)^2");
        round_trip("2^3^2", "2^3^2");
        round_trip("(-2)^2", "(-2)^2");
        round_trip("-(a*b)", "-(a*b)");
        round_trip("-a*b", "-a*b");
        round_trip("a - -b", "a - (-b)");
        round_trip("1e-7 + 1e300 + 0.5", "1e-7 + 1e300 + 0.5");
        round_trip(
            "int[z = -inf..inf](exp(-z^2))",
            "int[z = -inf..inf](exp(-z^2))",
        );
        round_trip(
            "mc[y' ~ exp(-y'^2); n = 3](c[k])",
            "mc[y' ~ exp(-y'^2); n = 3](c[k])",
        );
        round_trip("lim[β → inf](1/β)", "lim[beta -> inf](1/beta)");
    }
}
