//! `ebmcheck grad ENERGY --over y=.. --data y=.. --wrt w --beta B [--mc N] [--cd K]`: command
//! line parsing and printing over [`ebmcheck::grad`], which computes the exact maximum-likelihood
//! gradient, its finite-difference cross-check, and the Monte-Carlo and CD-k estimates.
//!
//! Exit codes: 0 when exact and finite difference agree (and, with `--mc`, the estimate is
//! consistent with the exact value); 1 when not, or inconclusive; 2 invalid input. CD-k's bias
//! (`--cd K`) is a finding reported in its own block: it never changes the exit code.

use std::process::ExitCode;

use ebmcheck::domain::VarDomain;
use ebmcheck::estimate::Verdict;
use ebmcheck::expr::{Diagnostic, ErrorKind};
use ebmcheck::grad::{self, GradError, GradOptions, GradProblem, GradResult, Variable};

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
                crate::common::with_provenance(&format!("{}\n", result.to_json()), &p),
            ),
        )?;
    }
    match args.opts.format {
        Format::Json => {
            outln!("{}", result.to_json());
            for r in &result.reasons {
                eprintln!("note: {r}");
            }
        }
        Format::Text => out!("{}", text(&result)),
    }
    Ok(if result.status == grad::Status::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The text report: the loss, a table of exact and finite-difference values, the Monte-Carlo
/// and CD-k tables, notes and the status.
fn text(r: &GradResult) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "loss = {} ± {:.1e}  ({} data point{}, beta = {})",
        show(r.loss.value),
        r.loss.error,
        r.n_data,
        if r.n_data == 1 { "" } else { "s" },
        ebmcheck::expr::format_number(r.beta)
    );
    let _ = writeln!(
        out,
        "{:<10}  {:>22}  {:>9}  {:>22}  {:>9}  {:>9}  agree",
        "parameter", "exact gradient", "± error", "finite difference", "± error", "power"
    );
    for p in &r.params {
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9.1e}  {:>22}  {:>9.1e}  {:>9.1e}  {}",
            p.name,
            show(p.exact.value),
            p.exact.error,
            show(p.finite_difference.value),
            p.finite_difference.error,
            p.power,
            match p.agreement {
                Verdict::Pass => "yes",
                Verdict::Fail => "NO",
                _ => "cannot tell",
            }
        );
    }
    if let Some(mc) = &r.monte_carlo {
        let acc: Vec<String> = mc.acceptance.iter().map(|a| format!("{a:.2}")).collect();
        let _ = writeln!(
            out,
            "Monte Carlo: sampler {}, {} draws, acceptance {}",
            mc.sampler.name(),
            mc.draws,
            acc.join(" ")
        );
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9}  {:>9}  {:>8}  {:>9}",
            "parameter", "estimate", "mcse", "ess", "z-score", "power"
        );
        for p in &r.params {
            if let Some(m) = &p.monte_carlo {
                let _ = writeln!(
                    out,
                    "{:<10}  {:>22}  {:>9.2e}  {:>9.0}  {:>8.2}  {:>9.2e}",
                    p.name,
                    show(m.estimate.estimate),
                    m.estimate.mcse,
                    m.estimate.ess,
                    m.z,
                    m.power
                );
            }
        }
        let _ = writeln!(out, "{}", mc.summary);
    }
    if let Some(cd) = &r.contrastive_divergence {
        let _ = writeln!(
            out,
            "Contrastive divergence CD-{}: kernel {} (step {:.3e}), {} chains started at the data, acceptance {:.2}",
            cd.k,
            cd.sampler.name(),
            cd.step,
            cd.chains,
            cd.acceptance
        );
        let _ = writeln!(
            out,
            "{:<10}  {:>22}  {:>9}  {:>12}  {:>9}  {:>8}  {:>9}",
            "parameter", "CD estimate", "mcse", "bias", "rel. bias", "z-score", "shrink"
        );
        for p in &r.params {
            if let Some(c) = &p.contrastive_divergence {
                let _ = writeln!(
                    out,
                    "{:<10}  {:>22}  {:>9.2e}  {:>12.4e}  {:>9.3}  {:>8.2}  {:>9}{}",
                    p.name,
                    show(c.estimate.estimate),
                    c.estimate.mcse,
                    c.bias,
                    c.relative_bias,
                    c.z,
                    c.shrink_factor
                        .map_or_else(|| "-".to_string(), |f| format!("{f:.4}")),
                    if c.biased { "  biased" } else { "" }
                );
            }
        }
    }
    let said = r.monte_carlo.as_ref().map_or("", |m| m.summary.as_str());
    for reason in r.reasons.iter().filter(|x| !said.contains(x.as_str())) {
        let _ = writeln!(out, "note: {reason}");
    }
    let _ = writeln!(out, "status: {}", r.status.as_str());
    out
}

/// A number for the text table: 13 significant digits, decimal for moderate sizes.
fn show(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        let digits = 12 - x.abs().log10().floor().clamp(-3.0, 4.0) as i32;
        format!("{x:.0$}", usize::try_from(digits).unwrap_or(12))
    } else {
        format!("{x:.12e}")
    }
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
