//! `ebmcheck sampler-test ENERGY --over VAR=LO..HI --beta B --samples FILE.csv`: are the draws
//! distributed as exp(−βE)/Z? Exact references by quadrature, the battery, a Holm verdict.

use std::process::ExitCode;
use std::sync::Arc;

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::Bindings;
use ebmcheck::quad::{Domain, VarDomain};
use ebmcheck::report;
use ebmcheck::sample::{ReferenceError, ReferenceOptions, sampler_test};
use ebmcheck::stats::{Verdict, parse_draws_csv};

use crate::common::{
    ExprOptions, Failure, Format, ReportFiles, context, expression, number, range, unknown_names,
    unknown_names_failure, write_report_files,
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
    /// Also write DIR/index.html, DIR/report.md (with SVG figures) and DIR/report.json.
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
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
    let energy = Arc::new(energy);
    let outcome = crate::common::with_spinner(
        crate::common::progress_allowed(false),
        &format!(
            "computing the exact references and testing {} draws",
            draws.n()
        ),
        || {
            sampler_test(
        energy.clone(),
        &domain,
        beta,
        &names,
        &draws,
        args.alpha,
        &ReferenceOptions::default(),
            )
        },
    )
    .map_err(|e| match e {
        ReferenceError::Stats(e) => Failure::invalid(format!("error: {e}")),
        e => Failure::invalid(format!(
            "error: the exact reference cannot be computed: {e}\n  = help: exp(-beta*E) must be integrable over the --over ranges"
        )),
    })?;
    let json = outcome.to_json().to_string();
    if let Some(dir) = &args.report {
        let title = format!("sampler-test: {} at β = {beta}", args.energy);
        let mut page = report::sampler::page(&title, &outcome, &draws, &*energy, beta);
        let p = crate::common::provenance(None);
        page.provenance = Some(p.clone());
        write_report_files(
            dir,
            &ReportFiles::from_page(
                &page,
                crate::common::with_provenance(&format!("{json}\n"), &p),
            ),
        )?;
    }
    match args.opts.format {
        Format::Json => outln!("{json}"),
        Format::Text => out!("{}", report::sampler::text(&outcome)),
    }
    Ok(if outcome.report.verdict == Verdict::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
