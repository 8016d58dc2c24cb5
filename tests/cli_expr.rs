//! Tests of `ebmcheck eval` and `ebmcheck diff` that run the real binary.
// The CLI promises full-precision output that reads back as the same f64: exact comparison intended.
#![allow(clippy::float_cmp)]

mod common;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let (code, stdout, stderr) = common::ebmcheck(args);
    Run {
        code,
        stdout,
        stderr,
    }
}

fn value(args: &[&str]) -> f64 {
    let r = run(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    r.stdout
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{args:?} printed {:?}: {e}", r.stdout))
}

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first_field = r.stdout.trim_start().trim_start_matches('{').trim_start();
    assert!(
        first_field.starts_with("\"schema\": 1"),
        "schema is not first: {}",
        r.stdout
    );
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{}: {e}", r.stdout))
}

#[test]
fn eval_prints_values_that_round_trip() {
    assert_eq!(value(&["eval", "-2^2"]), -4.0);
    assert_eq!(value(&["eval", "2^3^2"]), 512.0);
    assert_eq!(value(&["eval", "-log(2)"]), -std::f64::consts::LN_2);
    assert_eq!(value(&["eval", "softplus(800)"]), 800.0);
    assert_eq!(
        value(&["eval", "logsumexp(1000, 1000)"]),
        1000.0 + std::f64::consts::LN_2
    );
    assert_eq!(value(&["eval", "0.1 + 0.2"]), 0.1 + 0.2);
    assert_eq!(value(&["eval", "2.5E+4 * 1e-3"]), 25.0);
    assert_eq!(value(&["eval", "β*beta", "--set", "beta=3"]), 9.0);
}

#[test]
fn eval_with_definitions_sets_and_lists() {
    let v = value(&[
        "eval",
        "F(2, 1)",
        "--def",
        "E(y, z) = 0.5*(y - w*z)^2 + 0.5*a*z^2",
        "--def",
        "F(y, z) = E(y, z) + c[1]",
        "--set",
        "w=2",
        "--set",
        "a=-1",
        "--set",
        "c=[0, 2, -1]",
        "--set",
        "unused=7",
    ]);
    // E(2, 1) = 0.5*(2 - 2*1)^2 + 0.5*(-1)*1^2 = -0.5, plus c[1] = 2.
    assert_eq!(v, 1.5);
    assert_eq!(
        value(&["eval", "sum[k = 0..2](c[k])", "--def", "c = [0, 2, -1]"]),
        1.0
    );
}

#[test]
fn eval_json_has_schema_first() {
    let j = json(&run(&["eval", "1 + 2", "--format", "json"]));
    assert_eq!(j["schema"], 1);
    assert_eq!(j["value"], 3.0);
}

#[test]
fn diff_prints_an_expression_eval_accepts() {
    let sets = [
        "--set", "y=1.5", "--set", "w=0.7", "--set", "z=-0.3", "--set", "a=2",
    ];
    let energy = "0.5*(y - w*z)^2 + 0.5*a*z^2 + log(1 + exp(z))";
    for var in ["z", "w", "y"] {
        let mut args = vec!["diff", energy, "--wrt", var, "--format", "json"];
        args.extend(sets);
        let j = json(&run(&args));
        let d = j["derivative"].as_str().unwrap_or_default().to_string();
        let v = j["value"].as_f64().unwrap_or(f64::NAN);
        let mut eval_args = vec!["eval", d.as_str()];
        eval_args.extend(sets);
        assert_eq!(value(&eval_args), v, "d/d{var} = {d}");
        // h = 1e-6: the central difference agrees to about 1e-9.
        let f = |shift: f64| {
            let set = format!("{var}={}", sets_value(&sets, var) + shift);
            let mut a: Vec<String> = vec!["eval".into(), energy.into()];
            a.extend(sets.iter().map(|s| (*s).to_string()));
            a.push("--set".into());
            a.push(set);
            value(&a.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let cd = (f(1e-6) - f(-1e-6)) / 2e-6;
        assert!(
            (cd - v).abs() < 1e-7,
            "d/d{var}: {v} vs central difference {cd}"
        );
    }
    let r = run(&["diff", "x^3", "--wrt", "x"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "3*x^2"));
    let r = run(&["diff", "-x^2", "--wrt", "x", "--set", "x=2"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "-2*x\n= -4\n"));
    let j = json(&run(&["diff", "x*y", "--wrt", "x", "--format", "json"]));
    assert_eq!(j["derivative"], "y");
    assert!(
        j.get("value").is_none(),
        "value without every variable set: {j}"
    );
}

fn sets_value(sets: &[&str], var: &str) -> f64 {
    sets.iter()
        .filter_map(|s| s.strip_prefix(&format!("{var}=")))
        .find_map(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Asserts exit code 2 and a diagnostic with the position, the caret line and the suggestion.
fn bad(args: &[&str], position: &str, caret: &str, help: &str) {
    let r = run(args);
    assert_eq!(
        r.code, 2,
        "{args:?} exited {}: {}{}",
        r.code, r.stdout, r.stderr
    );
    assert!(r.stdout.is_empty(), "{args:?} printed {:?}", r.stdout);
    assert!(
        r.stderr.contains(position),
        "{args:?}: no {position:?} in\n{}",
        r.stderr
    );
    assert!(
        r.stderr
            .lines()
            .any(|l| l.trim_end().ends_with(caret) && l.contains(" | ")),
        "{args:?}: no caret {caret:?} in\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(help),
        "{args:?}: no {help:?} in\n{}",
        r.stderr
    );
}

#[test]
fn bad_input_exits_2_with_position_caret_and_suggestion() {
    bad(
        &["eval", "2 + exp2(z)"],
        "1:5",
        "^^^^",
        "did you mean `exp`?",
    );
    bad(&["eval", "(1 + 2"], "1:1", "^", "add `)`");
    bad(&["eval", "1 + 2)"], "1:6", "^", "remove");
    bad(&["eval", "1 + 2y"], "1:5", "^^", "did you mean `2*y`?");
    bad(&["eval", "exp(1, 2)"], "1:1", "^^^^^^^^^", "write `exp(x)`");
    bad(&["eval", "x + 1"], "1:1", "^", "--set x=");
    bad(
        &["eval", "betta", "--set", "beta=1"],
        "1:1",
        "^^^^^",
        "did you mean `beta`?",
    );
    bad(&["eval", ""], "1:1", "^", "write an expression");
    bad(&["eval", "1 $ 2"], "1:3", "^", "remove it");
    bad(
        &["eval", "F(1)", "--def", "F(x) = F(x) + 1"],
        "--def:1:8",
        "^^^^",
        "cannot be recursive",
    );
    bad(
        &["eval", "F(1, 2)", "--def", "F(x) = x"],
        "1:1",
        "^^^^^^^",
        "call it with 1 argument",
    );
    bad(&["eval", "int + 1"], "1:1", "^^^", "choose another name");
}

#[test]
fn values_that_are_not_real_numbers_are_errors() {
    for (expr, culprit) in [
        ("log(-1)", "`log(-1)` has no real value"),
        ("0/0", "`0/0` has no real value"),
        ("1 + sqrt(-1)", "`sqrt(-1)` has no real value"),
    ] {
        let r = run(&["eval", expr]);
        assert_eq!(r.code, 2, "{expr}: {}", r.stdout);
        assert!(
            r.stdout.is_empty() && r.stderr.contains(culprit),
            "{expr}: {}",
            r.stderr
        );
    }
    let r = run(&["eval", "exp(1000)"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not a finite real number"),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["eval"]).code, 2);
    assert_eq!(run(&["eval", "1", "--format", "xml"]).code, 2);
    assert_eq!(run(&["diff", "x"]).code, 2);
    assert_eq!(run(&["diff", "x", "--wrt", "2x"]).code, 2);
    assert_eq!(run(&["eval", "1", "--set", "novalue"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
}

#[test]
fn bound_operators_go_through_the_numeric_engine_in_eval() {
    // `eval` evaluates integrals through the engine and prints the error bound.
    let r = run(&["eval", "int[z](exp(-z^2))"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("1.7724538509"), "{}", r.stdout);
    assert!(r.stdout.contains(" ± "), "{}", r.stdout);
    let r = run(&[
        "diff",
        "int[z](exp(-w*z^2))",
        "--wrt",
        "w",
        "--set",
        "w=1",
        "--format",
        "json",
    ]);
    let j = json(&r);
    assert_eq!(j["derivative"], "int[z](-exp(-w*z^2)*z^2)");
}

#[test]
fn derivatives_inside_eval_and_greek_variables() {
    assert_eq!(value(&["eval", "diff[x](x^3)", "--set", "x=2"]), 12.0);
    assert_eq!(value(&["eval", "∂[β](β^2)", "--set", "beta=3"]), 6.0);
    let r = run(&["diff", "exp(-β*z)", "--wrt", "β"]);
    assert_eq!((r.code, r.stdout.trim()), (0, "-exp(-beta*z)*z"));
    let r = run(&["diff", "lim[b -> inf](w/b)", "--wrt", "w"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not differentiable symbolically"),
        "{}",
        r.stderr
    );
}
