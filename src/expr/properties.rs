//! Property tests of the expression language: round trips, derivatives, evaluators, robustness.

use crate::expr::{Bindings, Context, Dual, Program, derivative, eval, parse, parse_definition};
use crate::testing::expr::{
    COMPILED_REL, DIFF_ABS, DIFF_REL, DIFF_STEP, DUAL_REL, VARS, expr_with_bound_operators, point,
    random_text, token_soup, well_defined_expr,
};
use proptest::prelude::*;

fn at(x: f64, y: f64) -> Bindings {
    let mut b = Bindings::new();
    b.set("x", x);
    b.set("y", y);
    b
}

fn close(a: f64, b: f64, abs: f64, rel: f64) -> bool {
    (a - b).abs() <= abs + rel * a.abs().max(b.abs())
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(256))]

    #[test]
    fn print_then_parse_preserves_structure(src in prop_oneof![well_defined_expr(), expr_with_bound_operators()]) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let printed = e.to_string();
        let again = parse(&printed).map_err(|e| TestCaseError::fail(e.render(&printed, "")))?;
        prop_assert_eq!(again.to_sexpr(), e.to_sexpr(), "printed as {}", printed);
    }

    #[test]
    fn symbolic_derivative_matches_central_differences(src in well_defined_expr(), (x, y) in point()) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let d = derivative(&e, "x", &Context::new()).map_err(|e| TestCaseError::fail(e.message))?;
        let f = |x: f64| eval(&e, &at(x, y));
        let (Ok(f0), Ok(dv)) = (f(x), eval(&d, &at(x, y))) else {
            return Err(TestCaseError::fail(format!("{src} or its derivative {d} failed at ({x}, {y})")));
        };
        let h = DIFF_STEP * x.abs().max(1.0);
        let (Ok(fp), Ok(fm)) = (f(x + h), f(x - h)) else {
            return Err(TestCaseError::fail(format!("{src} failed near ({x}, {y})")));
        };
        let cd = (fp - fm) / (2.0 * h);
        let tol = DIFF_ABS + DIFF_REL * (f0.abs() + dv.abs());
        prop_assert!((dv - cd).abs() <= tol, "d/dx {} = {} is {} but the central difference is {}", src, d, dv, cd);
    }

    #[test]
    fn compiled_matches_tree_and_dual_matches_symbolic(src in well_defined_expr(), (x, y) in point()) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let tree = eval(&e, &at(x, y)).map_err(|e| TestCaseError::fail(e.message))?;
        let p = Program::compile(&e, &VARS, &Bindings::new()).map_err(|e| TestCaseError::fail(e.message))?;
        let single = p.eval(&[x, y]);
        prop_assert!(close(single, tree, COMPILED_REL, COMPILED_REL), "{}: compiled {} tree {}", src, single, tree);
        let mut out = [0.0; 3];
        p.eval_batch(&[&[x, 0.0, x], &[y, 1.0, y]], &mut out);
        prop_assert!(close(out[2], tree, COMPILED_REL, COMPILED_REL), "{}: batch {} tree {}", src, out[2], tree);
        // Forward mode through the compiled program, against the symbolic derivative.
        let d = derivative(&e, "x", &Context::new()).map_err(|e| TestCaseError::fail(e.message))?;
        let symbolic = eval(&d, &at(x, y)).map_err(|e| TestCaseError::fail(e.message))?;
        let dual = p.eval(&[Dual::variable(x), Dual::constant(y)]);
        prop_assert!(close(dual.re, tree, COMPILED_REL, COMPILED_REL));
        prop_assert!(close(dual.eps, symbolic, DUAL_REL, DUAL_REL), "{}: dual {} symbolic {} = {}", src, dual.eps, symbolic, d);
    }

    #[test]
    fn no_input_panics(src in prop_oneof![random_text(), token_soup()]) {
        exercise(&src);
    }
}

/// Runs every entry point on `src`; any outcome but a panic is acceptable.
fn exercise(src: &str) {
    let mut ctx = Context::new();
    if let Ok(def) = parse_definition(src) {
        let _ = ctx.add_definition(def);
    }
    let Ok(e) = parse(src) else { return };
    let _ = e.to_string();
    let _ = parse(&e.to_string());
    let mut b = at(0.5, -1.5);
    b.set_list("c", vec![1.0, 2.0]);
    b.set("k", 1.0);
    let _ = eval(&e, &b);
    if let Ok(inlined) = ctx.inline(&e) {
        if let Ok(d) = derivative(&inlined, "x", &ctx) {
            let _ = eval(&d, &b);
            let _ = d.to_string();
        }
        if let Ok(p) = Program::compile(&inlined, &["x", "y'"], &b) {
            let _ = p.eval(&[0.5, 1.0]);
            let _ = p.eval::<Dual>(&[Dual::variable(0.5)]);
            let mut out = [0.0; 70];
            p.eval_batch(&[&[0.5; 70], &[1.0; 3]], &mut out);
        }
    }
}

#[test]
fn known_awkward_inputs_do_not_panic() {
    for src in [
        "",
        "(",
        ")",
        "[",
        "]",
        "-",
        "--",
        "x^",
        "int[",
        "int[z",
        "int[z](",
        "lim[x ->]",
        "mc[z ~ 1; n = ](z)",
        "c[",
        "F(,)",
        "1..2",
        "..",
        "y'''",
        "'",
        "β'",
        "∂[x](x)",
        "sum[k = 0..1e300](k)",
        "x^1e300",
        "c[k]^-1",
        "max()",
        "logsumexp()",
        "1e999",
        "2^2^2^2^2^2",
        "exp(exp(exp(x)))",
    ] {
        exercise(src);
    }
}

#[test]
fn every_example_of_the_language_documentation_parses() {
    let doc = include_str!("../../docs/language.md");
    let mut in_block = false;
    let mut checked = 0;
    for line in doc.lines() {
        match line.trim() {
            "```ebm" => in_block = true,
            "```" => in_block = false,
            text if in_block && !text.is_empty() => {
                let ok = parse_definition(text).is_ok() || parse(text).is_ok();
                assert!(
                    ok,
                    "docs/language.md example does not parse: {text}\n{}",
                    parse(text)
                        .err()
                        .map(|e| e.render(text, ""))
                        .unwrap_or_default()
                );
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked >= 30, "only {checked} examples found");
}

#[test]
fn the_lecture_formulas_resolve_and_differentiate() {
    let defs = [
        "E(x, y, z) = 0.5*(y - w*x*z)^2 + 0.5*z^2",
        "F(beta, x, y) = -1/beta * log(int[z](exp(-beta*E(x, y, z))))",
        "P(beta, x, y) = exp(-beta*F(beta, x, y)) / int[y'](exp(-beta*F(beta, x, y')))",
        "L(beta, x, y) = F(beta, x, y) + 1/beta * log(int[y'](exp(-beta*F(beta, x, y'))))",
    ];
    let mut ctx = Context::new();
    for d in defs {
        let def = parse_definition(d)
            .map_err(|e| e.render(d, ""))
            .unwrap_or_else(|e| panic!("{e}"));
        ctx.add_definition(def)
            .map_err(|e| e.render(d, ""))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let l = parse("L(beta, x, y)").unwrap_or_else(|e| panic!("{}", e.message));
    let free = ctx
        .free_variables(&l)
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(free, ["beta", "w", "x", "y"]);
    let d = derivative(&l, "w", &ctx).unwrap_or_else(|e| panic!("{}", e.message));
    // Differentiated under both integral signs; no user call survives inlining.
    let printed = d.to_string();
    assert!(
        printed.contains("int[y']") && printed.contains("int[z]") && !printed.contains("F("),
        "{printed}"
    );
    let reparsed = parse(&printed).unwrap_or_else(|e| panic!("{}", e.render(&printed, "")));
    assert_eq!(reparsed.to_sexpr(), d.to_sexpr());
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(512))]

    /// The interval enclosure over a box contains the value at every point of the box, for
    /// every operator and function of the language (the point evaluators agree within
    /// rounding, so both are checked).
    #[test]
    fn interval_enclosure_contains_point_values(src in well_defined_expr(), (bx, (s, t)) in crate::testing::expr::box_and_point()) {
        use crate::expr::Interval;
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let p = Program::compile(&e, &VARS, &Bindings::new()).map_err(|e| TestCaseError::fail(e.message))?;
        let boxed = [Interval::new(bx[0].0, bx[0].1), Interval::new(bx[1].0, bx[1].1)];
        let enc = p.eval_interval(&boxed);
        let x = (bx[0].0 + s * (bx[0].1 - bx[0].0)).clamp(bx[0].0, bx[0].1);
        let y = (bx[1].0 + t * (bx[1].1 - bx[1].0)).clamp(bx[1].0, bx[1].1);
        for v in [p.eval_f64(&[x, y]), eval(&e, &at(x, y)).unwrap_or(f64::NAN)] {
            prop_assert!(v.is_nan() || enc.contains(v), "{src} = {v} at ({x}, {y}) outside {enc:?} over {bx:?}");
        }
        // A degenerate box is a point: the enclosure is tight there.
        let pt = p.eval_interval(&[Interval::point(x), Interval::point(y)]);
        let v = p.eval_f64(&[x, y]);
        prop_assert!(v.is_nan() || pt.contains(v), "{src}: {v} outside {pt:?}");
    }
}
