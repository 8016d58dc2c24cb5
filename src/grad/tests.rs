//! Unit tests of the gradient module: closed forms, the decision, CD-k's predicted bias, and
//! the power of the check against deliberately wrong estimators.

use super::*;

fn gaussian_problem(mu: f64, a: f64, beta: f64, data: &[f64]) -> GradProblem {
    let mut context = Context::new();
    context.set_param("mu", mu);
    context.set_param("a", a);
    GradProblem {
        context,
        energy: parse("0.5*a*(y - mu)^2").expect("parses"),
        predicted: vec![Variable::continuous("y", f64::NEG_INFINITY, f64::INFINITY)],
        latent: vec![],
        data: vec![data.to_vec()],
        wrt: vec!["mu".into()],
        beta,
    }
}

#[test]
fn exact_gradient_of_a_gaussian_matches_the_closed_form() {
    // ∂L/∂μ = mean(−a(y_i − μ)) − ⟨−a(y' − μ)⟩ = −a(ȳ − μ).
    let data = [0.5, 1.5, 2.5];
    let r = run(
        &gaussian_problem(0.2, 1.3, 2.0, &data),
        &GradOptions::default(),
    )
    .expect("runs");
    let want = -1.3 * (1.5 - 0.2);
    assert!(
        (r.params[0].exact.value - want).abs() < 1e-7,
        "{:?}",
        r.params[0]
    );
    assert_eq!(r.status, Status::Pass);
}
