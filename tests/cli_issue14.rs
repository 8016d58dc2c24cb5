//! Issue 14 leftovers: an extreme inverse temperature in `grad` ends quickly with a clear
//! answer, and `eval` evaluates a nested explicit sum.

mod common;

use common::ebmcheck;

#[test]
fn grad_at_beta_1e308_ends_quickly_with_a_clear_answer() {
    let start = std::time::Instant::now();
    let (code, out, err) = ebmcheck(&[
        "grad",
        "0.5*(y - w*z)^2 + 0.5*z^2",
        "--over",
        "y=-inf..inf",
        "--latent",
        "z=-inf..inf",
        "--data",
        "y=0.3,-1.2,0.8",
        "--wrt",
        "w",
        "--set",
        "w=1.5",
        "--beta",
        "1e308",
    ]);
    let seconds = start.elapsed().as_secs_f64();
    assert!(seconds < 30.0, "took {seconds:.1} s");
    // Never a pass: at β = 1e308 the quadrature cannot certify its values; the answer says so
    // (inconclusive, exit 1) or the input is refused (exit 2), with a reason.
    assert!(code == 1 || code == 2, "exit {code}: {out}{err}");
    assert!(!out.contains("status: pass"), "{out}");
    if code == 1 {
        assert!(out.contains("status: inconclusive"), "{out}");
        assert!(out.contains("note:"), "no reason given: {out}");
    } else {
        assert!(!err.trim().is_empty(), "no message: {out}");
    }
}

#[test]
fn eval_evaluates_a_nested_explicit_sum() {
    let (code, out, err) = ebmcheck(&["eval", "sum[i=1..3](sum[j=1..3](i*j))"]);
    assert_eq!(code, 0, "{err}");
    // (1 + 2 + 3)^2 = 36, printed with its error bound.
    let value: f64 = out
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no value: {out}"));
    // An integer sum of integers: exact in f64.
    assert!((value - 36.0).abs() < 1e-12, "{out}");
    assert!(out.contains('±'), "{out}");
    assert!(!out.contains("numeric engine") && !err.contains("numeric engine"));
}
