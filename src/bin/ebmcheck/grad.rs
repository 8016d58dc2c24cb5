//! `ebmcheck grad ENERGY --over y=.. --data y=.. --wrt w --beta B [--mc N] [--cd K]`: command
//! line parsing and printing over [`ebmcheck::grad`], which computes the exact maximum-likelihood
//! gradient, its finite-difference cross-check, and the Monte-Carlo and CD-k estimates.
//!
//! Exit codes: 0 when exact and finite difference agree (and, with `--mc`, the estimate is
//! consistent with the exact value); 1 when not, or inconclusive; 2 invalid input. CD-k's bias
//! (`--cd K`) is a finding reported in its own block: it never changes the exit code.

use std::process::ExitCode;

use ebmcheck::domain::VarDomain;
use ebmcheck::expr::{Diagnostic, ErrorKind};
use ebmcheck::grad::{self, GradError, GradOptions, GradProblem, Variable};

use crate::common::{
    ExprOptions, Failure, Format, ReportFiles, context, expression, write_report_files,
};
use crate::common::{number, range, unknown_names_failure};

/// A sampler of `(y', z) ~ exp(−βE)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SamplerKind {
    /// Exact: categorical over the integer variables (marginals by quadrature), inverse CDF of
    /// one continuous variable.
    Exact,
    /// Random-walk Metropolis with an adapted step.
    Mh,
    /// Metropolis-adjusted Langevin, gradients from the symbolic derivative.
    Mala,
    /// Hamiltonian Monte Carlo, gradients from the symbolic derivative.
    Hmc,
    /// Unadjusted Langevin: deliberately biased, to see that the test catches it.
    #[value(hide = true)]
    Ula,
}

impl From<SamplerKind> for grad::SamplerKind {
    fn from(k: SamplerKind) -> Self {
        match k {
            SamplerKind::Exact => grad::SamplerKind::Exact,
            SamplerKind::Mh => grad::SamplerKind::Mh,
            SamplerKind::Mala => grad::SamplerKind::Mala,
            SamplerKind::Hmc => grad::SamplerKind::Hmc,
            SamplerKind::Ula => grad::SamplerKind::Ula,
        }
    }
}

/// Arguments of `ebmcheck grad`.
#[derive(Debug, clap::Args)]
pub struct GradArgs {
    /// The energy `E(y, z)` (or `F(y)` without latents).
    #[arg(value_name = "ENERGY", allow_hyphen_values = true)]
    pub energy: String,
    /// A continuous predicted variable and its range, e.g. `y=-inf..inf`.
    #[arg(long = "over", value_name = "Y=LO..HI", allow_hyphen_values = true)]
    pub over: Vec<String>,
    /// An integer predicted variable and its inclusive range, e.g. `k=0..3`.
    #[arg(long = "sum", value_name = "Y=LO..HI", allow_hyphen_values = true)]
    pub sum: Vec<String>,
    /// A continuous latent variable, integrated out.
    #[arg(long = "latent", value_name = "Z=LO..HI", allow_hyphen_values = true)]
    pub latent: Vec<String>,
    /// An integer latent variable, summed out.
    #[arg(
        long = "latent-sum",
        value_name = "Z=LO..HI",
        allow_hyphen_values = true
    )]
    pub latent_sum: Vec<String>,
    /// Observed values of a predicted variable, `Y=v1,v2,...` (the same count for each).
    #[arg(long = "data", value_name = "Y=VALUES", allow_hyphen_values = true)]
    pub data: Vec<String>,
    /// The parameters to differentiate in, comma-separated (values from `--set`).
    #[arg(long = "wrt", value_name = "W[,W2...]")]
    pub wrt: String,
    /// Inverse temperature.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub beta: String,
    /// Total number of Monte-Carlo draws over all chains (MCMC: rounded up to a multiple of
    /// the number of chains, 4).
    #[arg(long, value_name = "N")]
    pub mc: Option<usize>,
    /// The sampler (default: exact for one continuous or only integer variables, else mh).
    #[arg(long, value_enum)]
    pub sampler: Option<SamplerKind>,
    /// Seed of the samplers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Contrastive divergence CD-K: chains started at the data take K kernel steps (the
    /// `--sampler` kernel if it is a Markov one, else MALA; `--mc` chains, default 40000). Its
    /// bias is reported in a `contrastive_divergence` block and does not change the exit code.
    #[arg(long, value_name = "K")]
    pub cd: Option<usize>,
    /// Initial step of the Markov kernel (MH proposal sd, MALA/ULA time step, HMC leapfrog
    /// step); default scaled as 1/√β.
    #[arg(long, value_name = "H")]
    pub step: Option<f64>,
    /// Also write DIR/index.html, DIR/report.md (with SVG figures) and DIR/report.json.
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
    /// Sample at this inverse temperature instead of `--beta`: a deliberately wrong sampler,
    /// to see that the statistical test catches it.
    #[arg(long = "sample-beta", value_name = "B", hide = true)]
    pub sample_beta: Option<f64>,
    #[command(flatten)]
    pub opts: ExprOptions,
}

fn declare(texts: &[String], flag: &str, integer: bool) -> Result<Vec<Variable>, Failure> {
    let mut out = Vec::new();
    for t in texts {
        let (name, lo, hi) = range(t, flag)?;
        let domain = if integer {
            if lo.fract() != 0.0 || hi.fract() != 0.0 || !lo.is_finite() || !hi.is_finite() {
                return Err(Failure::invalid(format!(
                    "error: `{flag} {t}`: an integer range needs finite integer ends"
                )));
            }
            #[allow(clippy::cast_possible_truncation, reason = "finite integer ends")]
            VarDomain::Integer {
                lo: lo as i64,
                hi: hi as i64,
            }
        } else {
            VarDomain::Continuous { lo, hi }
        };
        out.push(Variable { name, domain });
    }
    Ok(out)
}

/// The library's error as the CLI prints it (exit 2); a numeric error that names a part of the
/// energy shows it under a caret.
fn failure(e: &GradError, energy: &str) -> Failure {
    if let GradError::UnknownNames(names) = e {
        return unknown_names_failure(names, "declare it with `--over`/`--latent`");
    }
    let help = e
        .remedy()
        .map(|r| crate::hints::remedy(&r))
        .or_else(|| e.help());
    if let GradError::Numeric {
        span: Some(span), ..
    } = e
        && span.end <= energy.len()
    {
        let d = Diagnostic::new(ErrorKind::NoRealValue, *span, e.to_string());
        let d = match help {
            Some(h) => d.with_help(h),
            None => d,
        };
        return Failure::diagnostic(&d, energy, "");
    }
    let mut message = format!("error: {e}");
    if let Some(help) = help {
        message.push_str("\n  = help: ");
        message.push_str(&help);
    }
    Failure::invalid(message)
}

/// Runs the check; exit 0 pass, 1 fail or inconclusive, 2 invalid input.
pub fn run(args: &GradArgs) -> Result<ExitCode, Failure> {
    let ctx = context(&args.opts)?;
    let (parsed, _) = expression(&ctx, &args.energy)?;
    let mut predicted = declare(&args.over, "--over", false)?;
    predicted.extend(declare(&args.sum, "--sum", true)?);
    let mut latent = declare(&args.latent, "--latent", false)?;
    latent.extend(declare(&args.latent_sum, "--latent-sum", true)?);
    let beta = number(&args.beta, "--beta")?;
    let wrt: Vec<String> = args.wrt.split(',').map(|w| w.trim().to_string()).collect();
    if wrt.iter().any(String::is_empty) {
        return Err(Failure::invalid(format!(
            "error: `--wrt {}` names an empty parameter\n  = help: write `--wrt w` or `--wrt w,a`",
            args.wrt
        )));
    }
    let data = parse_data(&args.data, &predicted)?;
    let problem = GradProblem {
        context: ctx,
        energy: parsed,
        predicted,
        latent,
        data,
        wrt,
        beta,
    };
    let options = GradOptions {
        mc: args.mc,
        sampler: args.sampler.map(Into::into),
        step: args.step,
        seed: args.seed,
        sample_beta: args.sample_beta,
        cd: args.cd,
        keep_draws: args.report.is_some(),
        ..GradOptions::default()
    };
    let what = match (args.mc, args.cd) {
        (Some(n), _) => format!(
            "exact gradient, finite differences and {n} Monte-Carlo draws{}",
            args.sampler
                .and_then(|s| clap::ValueEnum::to_possible_value(&s))
                .map(|v| format!(" ({})", v.get_name()))
                .unwrap_or_default()
        ),
        (None, Some(k)) => format!("exact gradient, finite differences and CD-{k}"),
        (None, None) => "exact gradient and finite differences".to_string(),
    };
    let result = crate::common::with_spinner(
        crate::common::progress_allowed(false),
        &format!("computing the {what}"),
        || grad::run(&problem, &options),
    )
    .map_err(|e| failure(&e, &args.energy))?;
    let json = ebmcheck::report::to_json_line(
        &ebmcheck::report::grad::json(&result),
        ebmcheck::report::Spacing::Objects,
    )
    .map_err(|e| Failure::invalid(format!("error: cannot write the JSON result: {e}")))?;
    if let Some(dir) = &args.report {
        let command = format!(
            "ebmcheck grad {}",
            crate::common::shell_words(&std::env::args().skip(2).collect::<Vec<_>>())
        );
        let mut page = ebmcheck::report::grad::page(&result, &command);
        let p = crate::common::provenance(Some(args.seed));
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
        Format::Json => {
            outln!("{json}");
            for r in &result.reasons {
                eprintln!("note: {r}");
            }
        }
        Format::Text => out!("{}", ebmcheck::report::grad::text(&result)),
    }
    Ok(if result.status == grad::Status::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--data Y=v1,v2,...` into one column per predicted variable (in declaration order); the
/// library checks domains and counts.
fn parse_data(texts: &[String], ys: &[Variable]) -> Result<Vec<Vec<f64>>, Failure> {
    let mut cols: Vec<Option<Vec<f64>>> = vec![None; ys.len()];
    for t in texts {
        let Some((var, values)) = t.split_once('=').map(|(a, b)| (a.trim(), b.trim())) else {
            return Err(Failure::invalid(format!(
                "error: `--data {t}` is not of the form Y=VALUE[,VALUE...]\n  = help: write `--data y=0.5,1.2`"
            )));
        };
        let Some(i) = ys.iter().position(|v| v.name == var) else {
            return Err(Failure::invalid(format!(
                "error: `--data {t}`: `{var}` is not a predicted variable (declare it with --over or --sum)"
            )));
        };
        if cols[i].is_some() {
            return Err(Failure::invalid(format!(
                "error: `--data {t}`: `{var}` has data twice"
            )));
        }
        let mut col = Vec::new();
        for v in values.split(',') {
            let x = number(v, "--data")?;
            col.push(x);
        }
        cols[i] = Some(col);
    }
    let mut out = Vec::new();
    for (v, c) in ys.iter().zip(cols) {
        let Some(c) = c else {
            return Err(Failure::invalid(format!(
                "error: the predicted variable `{}` has no data\n  = help: add `--data {}=VALUE[,VALUE...]`",
                v.name, v.name
            )));
        };
        out.push(c);
    }
    Ok(out)
}
