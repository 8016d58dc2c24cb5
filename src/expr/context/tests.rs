//! Tests of the context: inlining (arguments substituted, capture avoided, a derivative at a value
//! differentiated first), cycles and unknown functions, exponential inlining refused, lists and
//! free variables.

use super::*;
use crate::expr::{parse, parse_definition};

fn ctx(defs: &[&str]) -> Result<Context, String> {
    let mut c = Context::new();
    let parsed = defs
        .iter()
        .map(|d| parse_definition(d).map_err(|e| e.render(d, "")))
        .collect::<Result<Vec<_>, _>>()?;
    c.add_definitions(parsed)
        .map_err(|e| e.diagnostic.render(defs[e.index], ""))?;
    Ok(c)
}

fn inlined(defs: &[&str], src: &str) -> String {
    let c = ctx(defs).unwrap_or_else(|e| panic!("{e}"));
    let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
    c.inline(&e)
        .map(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{}", e.render(src, "")))
}

#[test]
fn inlining_substitutes_arguments() {
    assert_eq!(
        inlined(&["E(y, z) = (y - w*z)^2"], "E(1, a + b)"),
        "(1 - w*(a + b))^2"
    );
    assert_eq!(inlined(&["a = 2.5", "f(x) = a*x"], "f(3)"), "2.5*3");
}

#[test]
fn a_derivative_evaluated_at_a_value_is_differentiated_first() {
    assert_eq!(inlined(&["G(w, y) = diff[w](w^3*y)"], "G(2, v)"), "12*v");
}

#[test]
fn inlining_avoids_capture() {
    let defs = [
        "F(beta, y) = -1/beta*log(int[z](exp(-beta*E(y, z))))",
        "E(y, z) = (y - z)^2",
    ];
    assert_eq!(
        inlined(&defs, "F(b, z)"),
        "-1/b*log(int[z_1](exp(-b*(z - z_1)^2)))"
    );
}

#[test]
fn cycles_and_unknown_functions_are_errors() {
    let self_call = ctx(&["F(x) = F(x) + 1"]).err().unwrap_or_default();
    assert!(self_call.contains("calls itself"), "{self_call}");
    let cycle = ctx(&["F(x) = G(x)", "G(x) = H(x)", "H(x) = F(x)"])
        .err()
        .unwrap_or_default();
    assert!(cycle.contains("F -> G -> H -> F"), "{cycle}");
    let unknown = ctx(&["F(x) = exp2(x)"]).err().unwrap_or_default();
    assert!(unknown.contains("did you mean `exp`?"), "{unknown}");
    let arity = ctx(&["G(x, y) = x", "F(x) = G(x)"])
        .err()
        .unwrap_or_default();
    assert!(arity.contains("takes 2 arguments"), "{arity}");
}

#[test]
fn exponential_inlining_is_an_error_not_an_exhausted_memory() {
    let mut defs = vec!["F0(x) = x + 1".to_string()];
    for i in 1..40 {
        defs.push(format!("F{i}(x) = F{}(x) * F{}(x)", i - 1, i - 1));
    }
    let refs: Vec<&str> = defs.iter().map(String::as_str).collect();
    let c = ctx(&refs).unwrap_or_else(|e| panic!("{e}"));
    let e = parse("F39(2)").unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(
        c.inline(&e).err().map(|e| e.kind),
        Some(ErrorKind::TooLarge)
    );
}

#[test]
fn lists_and_free_variables() {
    let c = ctx(&["c = [0, 2, -1]", "f(k) = c[k]*w"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.bindings().list("c"), Some(&[0.0, 2.0, -1.0][..]));
    let e = parse("sum[k = 0..2](f(k)) + int[z](z*y)").unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(
        c.free_variables(&e).ok(),
        Some(vec!["w".to_string(), "y".to_string()])
    );
}
