//! Reference problems and named constants of the gradient module's tests (`crate::grad`).

use crate::expr::{Context, parse};
use crate::grad::{GradProblem, Variable};

/// Agreement of exact, finite-difference and closed-form gradients.
pub const CLOSED_FORM_TOL: f64 = 1e-7;
/// Required power of the check against a wrong estimator (issue 5).
pub const POWER: f64 = 0.99;
/// Seeds of the fast power tests (each must reject).
pub const FAST_SEEDS: u64 = 5;
/// Seeds of the ignored power runs.
pub const POWER_SEEDS: u64 = 100;

fn problem(
    energy: &str,
    params: &[(&str, f64)],
    data: &[f64],
    wrt: &[&str],
    beta: f64,
) -> GradProblem {
    let mut context = Context::new();
    for (n, v) in params {
        context.set_param(n, *v);
    }
    GradProblem {
        context,
        energy: parse(energy).unwrap_or_else(|d| panic!("{energy}: {}", d.message)),
        predicted: vec![Variable::continuous("y", f64::NEG_INFINITY, f64::INFINITY)],
        latent: vec![],
        data: vec![data.to_vec()],
        wrt: wrt.iter().map(|w| (*w).to_string()).collect(),
        beta,
    }
}

/// The Gaussian `E = ½a(y − μ)²` at μ = `mu`, a = `a`, with ∂L/∂μ = −a(ȳ − μ) (the marginal
/// `∫ exp(−βE)` does not depend on μ) and ∂L/∂a = mean ½(y_i − μ)² − 1/(2aβ).
pub fn gaussian(mu: f64, a: f64, beta: f64, data: &[f64]) -> GradProblem {
    problem(
        "0.5*a*(y - mu)^2",
        &[("mu", mu), ("a", a)],
        data,
        &["mu", "a"],
        beta,
    )
}

/// Data drawn once from N(1, 1) (the data-generating μ is 1; the gradient checks evaluate at
/// μ = −1, away from it, where the gradient is large).
pub const GAUSSIAN_DATA: [f64; 8] = [1.37, 0.12, 2.05, 0.64, 1.81, 0.93, -0.22, 1.48];

/// The tilted double well `E = a(y² − 1)² + w y` at a = 1, w = 0.3, β = 1.
pub fn double_well() -> GradProblem {
    problem(
        "a*(y^2 - 1)^2 + w*y",
        &[("a", 1.0), ("w", 0.3)],
        &[0.9, -1.1, 1.2],
        &["w", "a"],
        1.0,
    )
}
