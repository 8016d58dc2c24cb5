//! Expressions as presentation MathML, which browsers render natively, so a report page stays
//! self-contained: fractions, powers, square roots, integrals with their limits, sums, minima,
//! partial derivatives, limits and expectations, Greek letters and subscripts (`z_1`, `F_beta`).
//!
//! The printer walks the expression tree (no string rewriting) and adds only the parentheses the
//! tree needs. Text that does not parse is shown verbatim in `<mtext>`.

use crate::expr::{BinOp, Binding, Builtin, Constant, Expr, ExprKind, Extremum, greek_name, parse};

/// The MathML namespace.
pub const NAMESPACE: &str = "http://www.w3.org/1998/Math/MathML";

/// Escapes text for XML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A `<math>` element for the expression written as `text` (verbatim in `<mtext>` when it does
/// not parse).
pub fn math_of_text(text: &str) -> String {
    math(&inner_of_text(text))
}

/// The MathML content (without the `<math>` wrapper) of the expression written as `text`.
pub fn inner_of_text(text: &str) -> String {
    match parse(text) {
        Ok(e) => inner(&e),
        Err(_) => format!("<mtext>{}</mtext>", esc(text.trim())),
    }
}

/// Wraps MathML content in a `<math>` element.
pub fn math(content: &str) -> String {
    format!("<math xmlns=\"{NAMESPACE}\">{content}</math>")
}

/// The MathML content of an expression (without the `<math>` wrapper).
pub fn inner(e: &Expr) -> String {
    let mut out = String::new();
    write(&mut out, e);
    out
}

/// Binding strength: sums 1, products 2, unary minus 3, powers 4, atoms 5.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => match op {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul => 2,
            // A fraction bar groups its parts: it is an atom.
            BinOp::Div => 5,
            BinOp::Pow => 4,
        },
        ExprKind::Neg(_) => 3,
        // Big operators extend to the right: they bind like a sum when something follows.
        ExprKind::Integral { .. }
        | ExprKind::Sum { .. }
        | ExprKind::Extremum { .. }
        | ExprKind::Limit { .. } => 1,
        _ => 5,
    }
}

fn paren(out: &mut String, e: &Expr, need: bool) {
    if need {
        out.push_str("<mrow><mo>(</mo>");
        write(out, e);
        out.push_str("<mo>)</mo></mrow>");
    } else {
        write(out, e);
    }
}

/// A name: a Greek letter for its English name, `a_b` as a subscript, primes as `′`.
fn ident(name: &str) -> String {
    let primes = name.len() - name.trim_end_matches('\'').len();
    let base = name.trim_end_matches('\'');
    let core = match base.split_once('_') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => {
            format!("<msub>{}{}</msub>", letter(a), sub(b))
        }
        _ => letter(base),
    };
    if primes == 0 {
        core
    } else {
        format!("<msup>{core}<mo>{}</mo></msup>", "′".repeat(primes))
    }
}

fn sub(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_digit()) {
        format!("<mn>{}</mn>", esc(s))
    } else {
        ident(s)
    }
}

fn letter(s: &str) -> String {
    let greek = ('α'..='ω')
        .chain(['ϵ', 'ϑ'])
        .find(|&c| greek_name(c) == Some(s));
    match greek {
        Some(c) => format!("<mi>{c}</mi>"),
        None => format!("<mi>{}</mi>", esc(s)),
    }
}

fn args(out: &mut String, a: &[Expr]) {
    out.push_str("<mrow><mo>(</mo>");
    for (i, x) in a.iter().enumerate() {
        if i > 0 {
            out.push_str("<mo separator=\"true\">,</mo>");
        }
        write(out, x);
    }
    out.push_str("<mo>)</mo></mrow>");
}

/// `z`, or `z = lo..hi` as under/over scripts: returns (under, over).
fn binding_scripts(b: &Binding) -> (String, Option<String>) {
    match &b.range {
        Some((lo, hi)) => (inner(lo), Some(inner(hi))),
        None => (ident(&b.var), None),
    }
}

fn body(out: &mut String, e: &Expr) {
    paren(out, e, prec(e) < 2);
}

fn write(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number(v) => {
            let t = crate::expr::format_number(*v);
            match t.split_once('e') {
                Some((m, x)) => out.push_str(&format!(
                    "<mrow><mn>{m}</mn><mo>×</mo><msup><mn>10</mn><mn>{x}</mn></msup></mrow>"
                )),
                None => out.push_str(&format!("<mn>{t}</mn>")),
            }
        }
        ExprKind::Const(Constant::Pi) => out.push_str("<mi>π</mi>"),
        ExprKind::Const(Constant::Inf) => out.push_str("<mi>∞</mi>"),
        ExprKind::Var(v) => out.push_str(&ident(v)),
        ExprKind::Index { list, index } => {
            out.push_str(&format!("<msub>{}<mrow>", ident(list)));
            write(out, index);
            out.push_str("</mrow></msub>");
        }
        ExprKind::List(items) => {
            out.push_str("<mrow><mo>[</mo>");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str("<mo separator=\"true\">,</mo>");
                }
                write(out, x);
            }
            out.push_str("<mo>]</mo></mrow>");
        }
        ExprKind::Neg(x) => {
            out.push_str("<mrow><mo>−</mo>");
            paren(out, x, prec(x) < 3);
            out.push_str("</mrow>");
        }
        ExprKind::Binary { op, lhs, rhs } => {
            let p = prec(e);
            match op {
                BinOp::Add | BinOp::Sub => {
                    out.push_str("<mrow>");
                    paren(out, lhs, false);
                    out.push_str(if *op == BinOp::Add {
                        "<mo>+</mo>"
                    } else {
                        "<mo>−</mo>"
                    });
                    let r = prec(rhs);
                    let need = matches!(rhs.kind, ExprKind::Neg(_))
                        || (*op == BinOp::Sub && r <= 1)
                        || r < 1;
                    paren(out, rhs, need);
                    out.push_str("</mrow>");
                }
                BinOp::Mul => {
                    out.push_str("<mrow>");
                    paren(out, lhs, prec(lhs) < p);
                    out.push_str("<mo>·</mo>");
                    paren(
                        out,
                        rhs,
                        prec(rhs) <= p || matches!(rhs.kind, ExprKind::Neg(_)),
                    );
                    out.push_str("</mrow>");
                }
                BinOp::Div => {
                    out.push_str("<mfrac><mrow>");
                    write(out, lhs);
                    out.push_str("</mrow><mrow>");
                    write(out, rhs);
                    out.push_str("</mrow></mfrac>");
                }
                BinOp::Pow => {
                    out.push_str("<msup>");
                    paren(out, lhs, prec(lhs) <= 4);
                    out.push_str("<mrow>");
                    write(out, rhs);
                    out.push_str("</mrow></msup>");
                }
            }
        }
        ExprKind::Call { func, args: a } => match (func, a.as_slice()) {
            (Builtin::Sqrt, [x]) => {
                out.push_str("<msqrt>");
                write(out, x);
                out.push_str("</msqrt>");
            }
            (Builtin::Abs, [x]) => {
                out.push_str("<mrow><mo>|</mo>");
                write(out, x);
                out.push_str("<mo>|</mo></mrow>");
            }
            _ => {
                out.push_str(&format!(
                    "<mrow><mi>{}</mi><mo>&#x2061;</mo>",
                    esc(func.name())
                ));
                args(out, a);
                out.push_str("</mrow>");
            }
        },
        ExprKind::UserCall { name, args: a } => {
            out.push_str(&format!("<mrow>{}<mo>&#x2061;</mo>", ident(name)));
            args(out, a);
            out.push_str("</mrow>");
        }
        ExprKind::Integral { bindings, body: b } => {
            out.push_str("<mrow>");
            for bind in bindings {
                match binding_scripts(bind) {
                    (lo, Some(hi)) => out.push_str(&format!(
                        "<msubsup><mo>∫</mo><mrow>{lo}</mrow><mrow>{hi}</mrow></msubsup>"
                    )),
                    _ => out.push_str("<mo>∫</mo>"),
                }
            }
            body(out, b);
            for bind in bindings {
                out.push_str(&format!(
                    "<mspace width=\"0.2em\"/><mi>d</mi>{}",
                    ident(&bind.var)
                ));
            }
            out.push_str("</mrow>");
        }
        ExprKind::Sum { bindings, body: b } => {
            out.push_str("<mrow>");
            for bind in bindings {
                match &bind.range {
                    Some((lo, hi)) => out.push_str(&format!(
                        "<munderover><mo>∑</mo><mrow>{}<mo>=</mo>{}</mrow><mrow>{}</mrow></munderover>",
                        ident(&bind.var),
                        inner(lo),
                        inner(hi)
                    )),
                    None => out.push_str(&format!(
                        "<munder><mo>∑</mo><mrow>{}</mrow></munder>",
                        ident(&bind.var)
                    )),
                }
            }
            body(out, b);
            out.push_str("</mrow>");
        }
        ExprKind::Extremum {
            kind,
            bindings,
            body: b,
        } => {
            let word = match kind {
                Extremum::Min => "min",
                Extremum::Argmin => "argmin",
                Extremum::Max => "max",
            };
            let vars: Vec<String> = bindings.iter().map(|x| ident(&x.var)).collect();
            out.push_str(&format!(
                "<mrow><munder><mo>{word}</mo><mrow>{}</mrow></munder>",
                vars.join("<mo separator=\"true\">,</mo>")
            ));
            body(out, b);
            out.push_str("</mrow>");
        }
        ExprKind::Derivative { var, body: b, .. } => {
            out.push_str(&format!(
                "<mrow><mfrac><mo>∂</mo><mrow><mo>∂</mo>{}</mrow></mfrac>",
                ident(var)
            ));
            paren(out, b, prec(b) < 5);
            out.push_str("</mrow>");
        }
        ExprKind::Limit {
            var,
            target,
            body: b,
            ..
        } => {
            out.push_str(&format!(
                "<mrow><munder><mo>lim</mo><mrow>{}<mo>→</mo>{}</mrow></munder>",
                ident(var),
                inner(target)
            ));
            body(out, b);
            out.push_str("</mrow>");
        }
        ExprKind::Expect {
            bindings,
            density,
            body: b,
        } => {
            let vars: Vec<String> = bindings.iter().map(|x| ident(&x.var)).collect();
            out.push_str(&format!(
                "<mrow><msub><mi mathvariant=\"double-struck\">E</mi><mrow>{}<mo>∼</mo>{}</mrow></msub><mrow><mo>[</mo>",
                vars.join("<mo separator=\"true\">,</mo>"),
                inner(density)
            ));
            write(out, b);
            out.push_str("<mo>]</mo></mrow></mrow>");
        }
        ExprKind::MonteCarlo {
            bindings,
            density,
            n,
            body: b,
        } => {
            let vars: Vec<String> = bindings.iter().map(|x| ident(&x.var)).collect();
            let n = n
                .as_ref()
                .map(|n| {
                    format!(
                        "<mo separator=\"true\">;</mo><mi>n</mi><mo>=</mo>{}",
                        inner(n)
                    )
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "<mrow><msub><mover><mi mathvariant=\"double-struck\">E</mi><mo>^</mo></mover><mrow>{}<mo>∼</mo>{}{n}</mrow></msub><mrow><mo>[</mo>",
                vars.join("<mo separator=\"true\">,</mo>"),
                inner(density)
            ));
            write(out, b);
            out.push_str("<mo>]</mo></mrow></mrow>");
        }
    }
}

/// The MathML operator of a relation written in ASCII (`=`, `~`, `->`, `<=`, `>=`).
pub fn relation(rel: &str) -> &'static str {
    match rel {
        "=" | "==" => "=",
        "~" => "≈",
        "->" => "→",
        "<=" => "≤",
        ">=" => "≥",
        "<" => "<",
        ">" => ">",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parses(m: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse(m).unwrap_or_else(|e| panic!("{e}: {m}"))
    }

    #[test]
    fn typesets_fractions_powers_and_operators_as_well_formed_mathml() {
        for text in [
            "-1/beta * log(int[z](exp(-beta*E(x, y, z))))",
            "int[y = 0..1, z](y*z) + sum[k = 0..3](k^2)",
            "min[z](0.5*(y - w*z)^2) - argmin[z](z^2)",
            "diff[w](F_beta(y')) * lim[beta -> inf](1/beta)",
            "expect[y ~ exp(-E(y))](y^2) - mc[y ~ exp(-y^2); n = 100](y)",
            "sqrt(abs(x)) * c[1] + [1, 2] * 1e-300",
            "a - (b - c) - (-d) + x^(y^z) + (x^y)^z + (-x)^2",
            "a <& b", // does not parse: shown verbatim, escaped
        ] {
            let m = math_of_text(text);
            parses(&m);
        }
    }

    #[test]
    fn adds_only_the_parentheses_the_tree_needs() {
        let m = math_of_text("a - (b + c)");
        assert_eq!(m.matches("<mo>(</mo>").count(), 1, "{m}");
        let m = math_of_text("(a + b) + c");
        assert!(!m.contains("<mo>(</mo>"), "{m}");
        let m = math_of_text("(a*b)^2");
        assert_eq!(m.matches("<mo>(</mo>").count(), 1, "{m}");
        let m = math_of_text("(a/b)*c");
        assert!(!m.contains("<mo>(</mo>"), "{m}");
    }

    #[test]
    fn greek_letters_subscripts_and_primes() {
        let m = math_of_text("beta * F_beta + y'");
        assert!(m.contains("<mi>β</mi>"), "{m}");
        assert!(m.contains("<msub><mi>F</mi><mi>β</mi></msub>"), "{m}");
        assert!(m.contains("<msup><mi>y</mi><mo>′</mo></msup>"), "{m}");
        let m = math_of_text("z_1 + z2");
        assert!(m.contains("<msub><mi>z</mi><mn>1</mn></msub>"), "{m}");
    }
}
