//! `ebmcheck sampler-test ENERGY --over VAR=LO..HI --beta B --samples FILE.csv`: are the draws
//! distributed as exp(−βE)/Z? Exact references by quadrature, the battery, a Holm verdict.

use std::process::ExitCode;
use std::sync::Arc;

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::Bindings;
use ebmcheck::quad::{Domain, VarDomain};
use ebmcheck::sample::{ReferenceOptions, quadrature_reference};
use ebmcheck::stats::{BatteryOptions, Verdict, parse_draws_csv, run_battery};

use crate::common::{
    ExprOptions, Failure, Format, context, expression, number, range, unknown_names,
    unknown_names_failure,
};

/// Arguments of `ebmcheck sampler-test`.
#[derive(Debug, clap::Args)]
pub struct SamplerTestArgs {
    /// The energy E (it may begin with `-`).
    #[arg(value_name = "ENERGY", allow_hyphen_values = true)]
    pub energy: String,
    /// A variable and its range, e.g. `y=-inf..inf` (repeat for 2–4 dimensions).
    #[arg(long = "over", value_name = "VAR=LO..HI", allow_hyphen_values = true)]
    pub over: Vec<String>,
    /// Inverse temperature: the target is exp(-βE)/Z.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub beta: String,
    /// CSV of draws: a header naming the variables, an optional `chain` column.
    #[arg(long, value_name = "FILE.csv")]
    pub samples: std::path::PathBuf,
    /// Family-wise false-alarm rate (Holm's correction across all tests).
    #[arg(long, value_name = "A", default_value_t = 1e-3)]
    pub alpha: f64,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// Runs the sampler test; exit 0 pass, 1 fail or inconclusive, 2 invalid input.
pub fn run(args: &SamplerTestArgs) -> Result<ExitCode, Failure> {
    let ctx = context(&args.opts)?;
    let (_, inlined) = expression(&ctx, &args.energy)?;
    let mut names = Vec::new();
    let mut bounds = Vec::new();
    for o in &args.over {
        let (v, lo, hi) = range(o, "--over")?;
        if names.contains(&v) {
            return Err(Failure::invalid(format!(
                "error: `--over {o}`: `{v}` is given twice"
            )));
        }
        names.push(v);
        bounds.push((lo, hi));
    }
    if names.is_empty() {
        return Err(Failure::invalid(
            "error: no variable to sample over\n  = help: add `--over y=-inf..inf`",
        ));
    }
    let beta = number(&args.beta, "--beta")?;
    if !(beta.is_finite() && beta > 0.0) {
        return Err(Failure::invalid(format!(
            "error: --beta {beta}: the inverse temperature must be positive and finite"
        )));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Failure::invalid(format!(
            "error: --alpha {}: the false-alarm rate must be between 0 and 1",
            args.alpha
        )));
    }
    let bindings: Bindings = ctx.bindings();
    let unknown = unknown_names(&inlined, &names, &bindings);
    if !unknown.is_empty() {
        return Err(unknown_names_failure(
            &unknown,
            &format!("sample over it with `--over {}=LO..HI`", unknown[0]),
        ));
    }
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    let energy = ProgramEnergy::new(&inlined, &inputs, &bindings).map_err(|e| {
        Failure::invalid(format!(
            "error: the energy cannot be compiled: {e}\n  = help: `sampler-test` takes a closed energy (no integrals inside)"
        ))
    })?;
    let domain = Domain::new(
        bounds
            .iter()
            .map(|&(lo, hi)| VarDomain::Continuous { lo, hi })
            .collect(),
    )
    .map_err(|e| Failure::invalid(format!("error: {e}")))?;
    let path = args.samples.display();
    let text = std::fs::read_to_string(&args.samples)
        .map_err(|e| Failure::invalid(format!("error: cannot read {path}: {e}")))?;
    let draws = parse_draws_csv(&text, &names)
        .map_err(|e| Failure::invalid(format!("error: {path}: {e}")))?;
    let exact = quadrature_reference(
        Arc::new(energy),
        &domain,
        beta,
        &names,
        &ReferenceOptions::default(),
    )
    .map_err(|e| {
        Failure::invalid(format!(
            "error: the exact reference cannot be computed: {e}\n  = help: exp(-beta*E) must be integrable over the --over ranges"
        ))
    })?;
    let report = run_battery(
        &draws,
        &exact.reference,
        &BatteryOptions {
            alpha: args.alpha,
            ..BatteryOptions::default()
        },
    )
    .map_err(|e| Failure::invalid(format!("error: {e}")))?;
    match args.opts.format {
        Format::Json => {
            let mut json = report.to_json();
            if let Some(obj) = json.as_object_mut() {
                obj.insert("alpha".into(), serde_json::json!(args.alpha));
                obj.insert(
                    "reference".into(),
                    serde_json::json!({
                        "moment_error": exact.moment_error,
                        "region_error": exact.region_error,
                        "e_cdf_error": exact.e_cdf_error,
                        "cdf_error": exact.cdf_error,
                        "status": exact.status,
                        "notes": exact.notes,
                    }),
                );
            }
            println!("{json}");
        }
        Format::Text => {
            println!(
                "{:<52} {:>11} {:>10} {:>10}  {:<6}  detail",
                "test", "statistic", "p", "Holm p", "reject"
            );
            for t in &report.tests {
                println!(
                    "{:<52} {:>11.4} {:>10.2e} {:>10.2e}  {:<6}  {}",
                    t.name,
                    t.statistic,
                    t.p_value,
                    t.adjusted_p,
                    if t.reject { "yes" } else { "no" },
                    t.detail
                );
            }
            let ess: Vec<String> = report
                .ess
                .iter()
                .map(|(k, v)| format!("{k} = {v:.0}"))
                .collect();
            println!(
                "draws: {}, effective sample size: {}",
                report.n,
                ess.join(", ")
            );
            for (k, v) in &report.rhat {
                println!("R-hat of {k}: {v:.4}");
            }
            for n in &exact.notes {
                println!("note: {n}");
            }
            let verdict = match report.verdict {
                Verdict::Pass => "pass".to_string(),
                Verdict::Fail => {
                    let failing: Vec<String> =
                        report.failures().iter().map(|t| t.detail.clone()).collect();
                    format!("fail: {}", failing.join("; "))
                }
                Verdict::Inconclusive => format!("inconclusive: {}", report.summary),
            };
            println!("verdict at alpha = {}: {verdict}", args.alpha);
        }
    }
    Ok(if report.verdict == Verdict::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
