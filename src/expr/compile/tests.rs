//! Tests of the compiled evaluator: constant folding, fusion, lists, sums and derivatives, batches
//! against single points, and the closure tree, the tape and fused programs against the
//! tree-walking evaluator (the reference) on random expressions at edge values, and its errors
//! against the evaluator's.

use super::*;
use crate::expr::{eval, parse};
use crate::testing::expr::{VARS, compiled_agrees, edge_value, fusable_expr, well_defined_expr};
use proptest::prelude::*;

fn program(src: &str, inputs: &[&str], b: &Bindings) -> Program {
    let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
    Program::compile(&e, inputs, b).unwrap_or_else(|e| panic!("{}", e.render(src, "")))
}

#[test]
fn constants_fold_and_powers_become_multiplications() {
    let mut b = Bindings::new();
    b.set("a", 2.0);
    let p = program("0.5*a*z^2 + exp(a)", &["z"], &b);
    // Square, scale (by one: dropped), add the folded constant; the input is a register.
    assert_eq!(p.len(), 2);
    let got = p.eval(&[3.0]);
    assert!((got - (9.0 + 2f64.exp())).abs() < 1e-12, "{got}");
}

#[test]
fn batches_match_single_points_including_the_tail() {
    let b = Bindings::new();
    let p = program(
        "(z1^2 + z2^2 - 1)^2 + 0.2*z1 + log(1 + exp(z2))",
        &["z1", "z2"],
        &b,
    );
    let n = 150;
    let z1: Vec<f64> = (0..n).map(|i| f64::from(i) * 0.01 - 0.7).collect();
    let z2: Vec<f64> = (0..n).map(|i| 1.0 - f64::from(i) * 0.013).collect();
    let mut out = vec![0.0; n as usize];
    p.eval_batch(&[&z1, &z2], &mut out);
    for i in 0..n as usize {
        let want = p.eval(&[z1[i], z2[i]]);
        assert!(
            (out[i] - want).abs() <= 1e-15 * want.abs().max(1.0),
            "point {i}"
        );
    }
    let mut short = vec![0.0; 3];
    p.eval_batch(&[&z1[..2], &z2], &mut short);
    assert!(short[2].is_nan() && short[1].is_finite());
}

#[test]
fn lists_sums_and_derivatives_compile() {
    let mut b = Bindings::new();
    b.set_list("c", vec![0.0, 2.0, -1.0]);
    let p = program(
        "c[k]*y + sum[j = 0..2](c[j]) + diff[y](y^3)",
        &["k", "y"],
        &b,
    );
    assert!((p.eval(&[1.0, 2.0]) - (4.0 + 1.0 + 12.0)).abs() < 1e-12);
    assert!(p.eval(&[3.0, 2.0]).is_nan());
    let e = parse("int[z](z)").unwrap_or_else(|e| panic!("{}", e.message));
    assert!(Program::compile(&e, &[], &b).is_err());
}

#[test]
fn polynomials_fuse_into_two_instructions() {
    let p = program(
        "(z1^2 + z2^2 - 1)^2 + 0.2*z1",
        &["z1", "z2"],
        &Bindings::new(),
    );
    // `z1*z1 + z2*z2 - 1`, then its square plus `0.2*z1`.
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p.tree.is_some());
}

#[test]
fn only_f64_takes_the_closure_path() {
    assert!(is_f64::<f64>());
    assert!(!is_f64::<f32>());
    assert!(!is_f64::<crate::expr::Dual>());
}

#[test]
fn an_input_alone_is_an_empty_program() {
    let p = program("y", &["x", "y"], &Bindings::new());
    assert!(p.is_empty());
    assert!((p.eval(&[1.0, 2.5]) - 2.5).abs() < 1e-15);
    assert!(p.eval(&[1.0]).is_nan());
    let ys: Vec<f64> = (0..70).map(f64::from).collect();
    let mut out = vec![0.0; 70];
    p.eval_batch(&[&ys, &ys], &mut out);
    assert!(out.iter().zip(&ys).all(|(o, y)| (o - y).abs() < 1e-15));
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(256))]
    /// Fused instructions, single points and full and partial batches, against the tree
    /// evaluator, at ordinary and edge inputs.
    #[test]
    fn fused_programs_match_the_tree(
        src in fusable_expr(),
        points in proptest::collection::vec((edge_value(), edge_value()), 1..150),
    ) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let p = Program::compile(&e, &VARS, &Bindings::new())
            .map_err(|e| TestCaseError::fail(e.message))?;
        let mut b = Bindings::new();
        let mut want = Vec::with_capacity(points.len());
        for &(x, y) in &points {
            b.set("x", x);
            b.set("y", y);
            let tree = eval(&e, &b).unwrap_or(f64::NAN);
            let single = p.eval(&[x, y]);
            prop_assert!(compiled_agrees(single, tree), "{src} at ({x}, {y}): compiled {single}, tree {tree}");
            let closures = p.eval_f64(&[x, y]);
            prop_assert!(compiled_agrees(closures, tree), "{src} at ({x}, {y}): closures {closures}, tree {tree}");
            let tape = p.eval_tape(&[x, y]);
            prop_assert!(compiled_agrees(tape, tree), "{src} at ({x}, {y}): tape {tape}, tree {tree}");
            want.push(tree);
        }
        let (xs, ys): (Vec<f64>, Vec<f64>) = points.iter().copied().unzip();
        let mut out = vec![0.0; points.len()];
        p.eval_batch(&[&xs, &ys], &mut out);
        for (i, (&got, &tree)) in out.iter().zip(&want).enumerate() {
            prop_assert!(compiled_agrees(got, tree), "{src} at point {i}: batch {got}, tree {tree}");
        }
    }
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(256))]
    /// Both one-point paths (closure tree and tape) against the tree evaluator, on the
    /// generated expressions of the property tests and at edge inputs.
    #[test]
    fn closure_tree_and_tape_match_the_tree(
        src in well_defined_expr(),
        (x, y) in (edge_value(), edge_value()),
    ) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let p = Program::compile(&e, &VARS, &Bindings::new())
            .map_err(|e| TestCaseError::fail(e.message))?;
        let mut b = Bindings::new();
        b.set("x", x);
        b.set("y", y);
        let tree = eval(&e, &b).unwrap_or(f64::NAN);
        for (path, got) in [
            ("closures", p.eval_f64(&[x, y])),
            ("generic", p.eval(&[x, y])),
            ("tape", p.eval_tape(&[x, y])),
        ] {
            prop_assert!(compiled_agrees(got, tree), "{src} at ({x}, {y}): {path} {got}, tree {tree}");
        }
        // A missing input is NaN on every path.
        prop_assert!(p.eval_f64(&[x]).is_nan() == p.eval_tape(&[x]).is_nan());
    }
}

#[test]
fn shared_values_keep_the_tape_and_lists_work_in_closures() {
    let p = program("exp(x) + exp(x)^2", &["x"], &Bindings::new());
    assert!(p.tree.is_none(), "{p:?}");
    assert!((p.eval(&[0.5]) - (0.5f64.exp() + 1f64.exp())).abs() < 1e-12);
    // A shared product of inputs is recomputed in place.
    let p = program("exp(x*y) + log(1 + (x*y)^2)", &["x", "y"], &Bindings::new());
    assert!(p.tree.is_some(), "{p:?}");
    let want = 0.75f64.exp() + (1.0 + 0.75f64 * 0.75).ln();
    assert!((p.eval_f64(&[0.5, 1.5]) - want).abs() < 1e-12);
    let mut b = Bindings::new();
    b.set_list("c", vec![0.0, 2.0, -1.0]);
    let p = program("c[k]*y + exp(y)", &["k", "y"], &b);
    assert!(p.tree.is_some(), "{p:?}");
    assert!((p.eval_f64(&[1.0, 3.0]) - (6.0 + 3f64.exp())).abs() < 1e-12);
    assert!(p.eval_f64(&[0.5, 3.0]).is_nan());
}

#[test]
fn program_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Program>();
}

#[test]
fn a_list_used_as_a_number_is_the_same_error_compiled_or_evaluated() {
    let mut b = Bindings::new();
    b.set_list("c", vec![0.0, 2.0]);
    let src = "1 + c";
    let e = parse(src).expect("parses");
    let evaluated = eval(&e, &b).expect_err("a list is not a number");
    let compiled = Program::compile(&e, &[], &b).expect_err("a list is not a number");
    for d in [&evaluated, &compiled] {
        assert_eq!(d.kind, ErrorKind::TypeMismatch);
        assert_eq!(d.message, "`c` is a list, not a number");
        assert_eq!(d.help.as_deref(), Some("index it as `c[k]`"));
        assert_eq!(&src[d.span.start..d.span.end], "c");
    }
}
