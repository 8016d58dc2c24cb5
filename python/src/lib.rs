//! Python bindings of ebmcheck: the native module `ebmcheck._ebmcheck`, wrapped by the pure
//! Python package `ebmcheck` (dataclasses, NumPy and ArviZ input). Every function takes plain
//! values (an energy as text, variable bounds, draws as little-endian f64 bytes with their
//! shape) and returns the JSON text of the corresponding command; errors become `ValueError`
//! with the command's message. The GIL is released while the numbers are computed.

use std::sync::Arc;

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::{Context, free_variables, parse};
use ebmcheck::quad::{self, Domain, QuadOptions, VarDomain};
use ebmcheck::sample::{ReferenceOptions, SharedEnergy, judge_draws, quadrature_reference};
use ebmcheck::stats::Draws;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn invalid(msg: impl Into<String>) -> PyErr {
    PyValueError::new_err(msg.into())
}

/// Parses `energy`, binds `params`, checks that its free names are `names`, and compiles it.
fn compile(energy: &str, names: &[String], params: &[(String, f64)]) -> PyResult<ProgramEnergy> {
    let mut ctx = Context::new();
    for (k, v) in params {
        ctx.set_param(k, *v);
    }
    let parsed = parse(energy).map_err(|d| invalid(d.render(energy, "energy")))?;
    let inlined = ctx
        .inline(&parsed)
        .map_err(|d| invalid(d.render(energy, "energy")))?;
    let bindings = ctx.bindings();
    let unknown: Vec<String> = free_variables(&inlined)
        .into_iter()
        .filter(|v| !names.contains(v) && bindings.get(v).is_none())
        .collect();
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "the energy uses {} without a value: add it to `over` or give it a value in `params`",
            unknown.join(", ")
        )));
    }
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    ProgramEnergy::new(&inlined, &inputs, &bindings)
        .map_err(|e| invalid(format!("the energy cannot be compiled: {e}")))
}

fn domain(bounds: &[(f64, f64)]) -> PyResult<Domain> {
    for (lo, hi) in bounds {
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return Err(invalid(format!(
                "the range {lo}..{hi} is empty (the lower end must be below the upper)"
            )));
        }
    }
    Domain::new(
        bounds
            .iter()
            .map(|&(lo, hi)| VarDomain::Continuous { lo, hi })
            .collect(),
    )
    .map_err(|e| invalid(e.to_string()))
}

fn check_beta(beta: f64) -> PyResult<()> {
    if beta.is_finite() && beta > 0.0 {
        Ok(())
    } else {
        Err(invalid(format!(
            "beta = {beta}: the inverse temperature must be positive and finite"
        )))
    }
}

/// Draws from `(chains, draws, dim)` little-endian f64 bytes, in C order.
fn draws_from_bytes(
    data: &[u8],
    chains: usize,
    draws: usize,
    dim: usize,
    names: &[String],
) -> PyResult<Draws> {
    let n = chains
        .checked_mul(draws)
        .and_then(|v| v.checked_mul(dim))
        .ok_or_else(|| invalid("the array is too large"))?;
    if data.len() != n * 8 {
        return Err(invalid(format!(
            "{} bytes for an array of shape ({chains}, {draws}, {dim})",
            data.len()
        )));
    }
    if dim != names.len() {
        return Err(invalid(format!(
            "the draws have {dim} columns but `over` names {} variables",
            names.len()
        )));
    }
    let values: Vec<f64> = data
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
        .collect();
    let per = draws * dim;
    let chains: Vec<Vec<f64>> = (0..chains)
        .map(|c| values[c * per..(c + 1) * per].to_vec())
        .collect();
    let mut d = Draws::new(dim, chains).map_err(|e| invalid(e.to_string()))?;
    d.names = names.to_vec();
    Ok(d)
}

/// `sampler-test` as a call: the JSON of `ebmcheck sampler-test --format json`.
#[pyfunction]
#[pyo3(signature = (energy, names, bounds, beta, data, chains, draws, dim, alpha, params))]
#[allow(
    clippy::too_many_arguments,
    reason = "the Python call signature: pyo3 maps each argument to a keyword of `_ebmcheck.sampler_test`"
)]
fn sampler_test(
    py: Python<'_>,
    energy: &str,
    names: Vec<String>,
    bounds: Vec<(f64, f64)>,
    beta: f64,
    data: &[u8],
    chains: usize,
    draws: usize,
    dim: usize,
    alpha: f64,
    params: Vec<(String, f64)>,
) -> PyResult<String> {
    check_beta(beta)?;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(invalid(format!(
            "alpha = {alpha}: the false-alarm rate must be between 0 and 1"
        )));
    }
    if names.len() != bounds.len() || names.is_empty() {
        return Err(invalid(
            "`over` must name at least one variable with its range",
        ));
    }
    let program = compile(energy, &names, &params)?;
    let domain = domain(&bounds)?;
    let d = draws_from_bytes(data, chains, draws, dim, &names)?;
    let out = py.allow_threads(move || {
        let energy: SharedEnergy = Arc::new(program);
        let exact =
            quadrature_reference(energy, &domain, beta, &names, &ReferenceOptions::default())
                .map_err(|e| format!("the exact reference cannot be computed: {e}"))?;
        judge_draws(&exact, &d, alpha)
            .map(|o| o.to_json().to_string())
            .map_err(|e| e.to_string())
    });
    out.map_err(invalid)
}

/// `logz` as a call: log Z = log ∫ exp(−βE) with its error, as JSON.
#[pyfunction]
#[pyo3(signature = (energy, names, bounds, beta, rel_tol, params))]
fn logz(
    py: Python<'_>,
    energy: &str,
    names: Vec<String>,
    bounds: Vec<(f64, f64)>,
    beta: f64,
    rel_tol: Option<f64>,
    params: Vec<(String, f64)>,
) -> PyResult<String> {
    check_beta(beta)?;
    if names.len() != bounds.len() || names.is_empty() {
        return Err(invalid(
            "`over` must name at least one variable with its range",
        ));
    }
    let program = compile(energy, &names, &params)?;
    let domain = domain(&bounds)?;
    let mut opts = QuadOptions::default();
    if let Some(r) = rel_tol {
        if !(r.is_finite() && r > 0.0) {
            return Err(invalid(format!(
                "rel_tol = {r}: the tolerance must be positive"
            )));
        }
        opts.abs_tol = Some(r);
    }
    let out = py.allow_threads(move || {
        quad::log_partition(&program, &domain, beta, &opts)
            .map_err(|e| e.to_string())
            .and_then(|lz| {
                serde_json::to_string(&ebmcheck::report::logz::LogzCall::new(&lz, beta))
                    .map_err(|e| e.to_string())
            })
    });
    out.map_err(invalid)
}

/// `check` as a call: runs derivation files (or folders) and returns the JSON report.
#[pyfunction]
#[pyo3(signature = (paths, seed, filter))]
fn check(
    py: Python<'_>,
    paths: Vec<String>,
    seed: u64,
    filter: Option<String>,
) -> PyResult<String> {
    let paths: Vec<std::path::PathBuf> = paths.into_iter().map(Into::into).collect();
    let files = ebmcheck::check::collect_files(&paths).map_err(|e| invalid(e.render()))?;
    if files.is_empty() {
        return Err(invalid(
            "no derivation files (*.toml) under the given paths",
        ));
    }
    let opts = ebmcheck::check::RunOptions {
        seed,
        traces: false,
    };
    let out = py.allow_threads(move || {
        let result = ebmcheck::check::run_paths(&files, &opts, filter.as_deref());
        let all_passed = result.all_passed();
        let load_errors = result.has_load_errors();
        ebmcheck::report::to_json(&result)
            .map(|j| (j, all_passed, load_errors))
            .map_err(|e| e.to_string())
    });
    let (json, all_passed, load_errors) = out.map_err(invalid)?;
    Ok(serde_json::json!({
        "all_passed": all_passed,
        "load_errors": load_errors,
        "report": serde_json::from_str::<serde_json::Value>(&json).unwrap_or(serde_json::Value::Null),
    })
    .to_string())
}

/// The native module.
#[pymodule]
fn _ebmcheck(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sampler_test, m)?)?;
    m.add_function(wrap_pyfunction!(logz, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
