//! `ebmcheck grad ENERGY --over y=.. --data y=.. --wrt w --beta B [--mc N]`: the exact
//! maximum-likelihood gradient, its finite-difference cross-check, and a Monte-Carlo estimate
//! judged against it.
//!
//! The loss is `L(w) = mean_i F_w(y_i) + (1/β) log ∫ exp(−βF_w(y')) dy'` with
//! `F = −(1/β) log ∫ exp(−βE) dz` when there are latents. It is written as an expression and
//! evaluated by the engine, and so is the exact gradient
//! `mean_i ⟨∂E/∂w⟩_{p(z|y_i)} − ⟨∂E/∂w⟩_{p(y', z)}` (symbolic derivative, quadrature). The
//! finite difference is the engine's Richardson-extrapolated difference of `L`: a second,
//! independent route. With `--mc N` the contrastive term is replaced by an average over draws
//! of `(y', z)` from the model; the data term stays exact, so the estimate's only randomness is
//! the one the lecture's estimator has.

use std::collections::BTreeMap;
use std::process::ExitCode;

use ebmcheck::check::spec::VarDomain;
use ebmcheck::engine::{Engine, Point, ProgramEnergy, Value as EValue};
use ebmcheck::expr::{Bindings, Definition, Expr, Span, parse};
use ebmcheck::quad::{self, Cdf1d, Domain, Energy, FnEnergy, QuadError, QuadOptions};
use ebmcheck::sample::{
    Categorical, Estimate, FnTarget, Hmc, Kernel, Mala, RandomWalkMetropolis, iid_estimate,
    mc_estimate, rng_for, run_chains,
};
use ebmcheck::stats::{StatisticalDecision, Verdict, ess};
use rand::Rng as _;
use rayon::prelude::*;

use crate::common::{ExprOptions, Failure, Format, context, expression};
use crate::common::{number, range, unknown_names, unknown_names_failure};

/// Family-wise false-alarm rate of the Monte-Carlo z-tests (Holm across the parameters).
const ALPHA: f64 = 1e-3;
/// A standard error from fewer effective samples than this is not trusted.
const MIN_ESS: f64 = 400.0;
/// Relative agreement required of a Monte-Carlo average whose draws are all equal.
const CONSTANT_TOL: f64 = 1e-12;
/// Chains (MCMC) or parallel streams (exact sampler).
const CHAINS: usize = 4;
/// Warmup transitions of each MCMC chain (the step size adapts during warmup).
const WARMUP: usize = 2_000;
/// Chains whose split R-hat exceeds this disagree: the verdict cannot be `pass`.
const MAX_RHAT: f64 = 1.01;
/// Largest joint grid of integer variables enumerated by the exact categorical sampler.
const MAX_GRID: usize = 1_000_000;
/// Largest number of conditional 1D distributions the exact sampler tabulates.
const MAX_MIXED: usize = 10_000;
/// Name of the energy as a definition in the context (not a valid user name clash: checked).
const ENERGY_NAME: &str = "ebmcheckGradEnergy";

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
    /// Sample at this inverse temperature instead of `--beta`: a deliberately wrong sampler,
    /// to see that the statistical test catches it.
    #[arg(long = "sample-beta", value_name = "B", hide = true)]
    pub sample_beta: Option<f64>,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// A declared variable.
struct Var {
    name: String,
    domain: VarDomain,
}

fn declare(texts: &[String], flag: &str, integer: bool) -> Result<Vec<Var>, Failure> {
    let mut out = Vec::new();
    for t in texts {
        let (name, lo, hi) = range(t, flag)?;
        let domain = if integer {
            if lo.fract() != 0.0 || hi.fract() != 0.0 || !lo.is_finite() || !hi.is_finite() {
                return Err(Failure::invalid(format!(
                    "error: `{flag} {t}`: an integer range needs finite integer ends"
                )));
            }
            #[allow(clippy::cast_possible_truncation)]
            VarDomain::Integer {
                lo: lo as i64,
                hi: hi as i64,
            }
        } else {
            VarDomain::Continuous { lo, hi }
        };
        out.push(Var { name, domain });
    }
    Ok(out)
}

fn inside(d: &VarDomain, x: f64) -> bool {
    match *d {
        VarDomain::Continuous { lo, hi } => x >= lo && x <= hi,
        #[allow(clippy::cast_precision_loss)]
        VarDomain::Integer { lo, hi } => x.fract() == 0.0 && x >= lo as f64 && x <= hi as f64,
    }
}

/// A number as expression text (shortest round-trip form, parenthesised for signs).
fn lit(x: f64) -> String {
    format!("({x:e})")
}

fn engine_failure(e: &impl std::fmt::Display, what: &str) -> Failure {
    let text = e.to_string();
    let help = if text.contains("diverges") {
        "\n  = help: exp(-beta*E) must be integrable: the energy must grow in every direction of the domain"
    } else {
        ""
    };
    Failure::invalid(format!("error: {what}: {text}{help}"))
}

fn parse_text(text: &str) -> Result<Expr, Failure> {
    parse(text).map_err(|d| {
        Failure::invalid(format!(
            "error: internal expression `{text}` does not parse: {}",
            d.message
        ))
    })
}

/// Everything computed for one parameter.
struct Row {
    name: String,
    exact: EValue,
    model: EValue,
    fd: EValue,
    agree: bool,
    mc: Option<(Estimate, f64)>,
}

/// Runs the check; exit 0 pass, 1 fail or inconclusive, 2 invalid input.
pub fn run(args: &GradArgs) -> Result<ExitCode, Failure> {
    let mut ctx = context(&args.opts)?;
    let (parsed, inlined) = expression(&ctx, &args.energy)?;
    let mut ys = declare(&args.over, "--over", false)?;
    ys.extend(declare(&args.sum, "--sum", true)?);
    let mut zs = declare(&args.latent, "--latent", false)?;
    zs.extend(declare(&args.latent_sum, "--latent-sum", true)?);
    if ys.is_empty() {
        return Err(Failure::invalid(
            "error: no predicted variable\n  = help: declare it with `--over y=-inf..inf` (or `--sum k=0..3` for an integer)",
        ));
    }
    if ys.len() > 3 || zs.len() > 3 || ys.len() + zs.len() > 4 {
        return Err(Failure::invalid(
            "error: too many variables: y and z may have 1–3 dimensions each, at most 4 together",
        ));
    }
    let all: Vec<&Var> = ys.iter().chain(&zs).collect();
    let names: Vec<String> = all.iter().map(|v| v.name.clone()).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(Failure::invalid(format!(
                "error: the variable `{n}` is declared twice"
            )));
        }
        if n.ends_with('\'') {
            return Err(Failure::invalid(format!(
                "error: the variable `{n}` ends with a prime, which `grad` reserves for the model's samples\n  = help: rename it"
            )));
        }
    }
    let beta = number(&args.beta, "--beta")?;
    if !(beta.is_finite() && beta > 0.0) {
        return Err(Failure::invalid(format!(
            "error: --beta {beta}: the inverse temperature must be positive and finite"
        )));
    }
    let sample_beta = args.sample_beta.unwrap_or(beta);
    if !(sample_beta.is_finite() && sample_beta > 0.0) {
        return Err(Failure::invalid(format!(
            "error: --sample-beta {sample_beta}: the inverse temperature must be positive and finite"
        )));
    }

    // Parameters to differentiate in.
    let bindings = ctx.bindings();
    let wrt: Vec<String> = args.wrt.split(',').map(|w| w.trim().to_string()).collect();
    for w in &wrt {
        if w.is_empty() {
            return Err(Failure::invalid(format!(
                "error: `--wrt {}` names an empty parameter\n  = help: write `--wrt w` or `--wrt w,a`",
                args.wrt
            )));
        }
        if names.contains(w) {
            return Err(Failure::invalid(format!(
                "error: `--wrt {w}`: `{w}` is a variable, not a parameter"
            )));
        }
        if bindings.number(w).is_none() {
            return Err(Failure::invalid(format!(
                "error: `--wrt {w}`: the parameter `{w}` has no value\n  = help: give it one with `--set {w}=VALUE`"
            )));
        }
    }
    if let Some((_, w)) = wrt.iter().enumerate().find(|(i, w)| wrt[..*i].contains(w)) {
        return Err(Failure::invalid(format!(
            "error: `--wrt {}` lists `{w}` twice",
            args.wrt
        )));
    }

    // Every free name of the energy is a variable or a parameter with a value.
    let unknown = unknown_names(&inlined, &names, &bindings);
    if !unknown.is_empty() {
        return Err(unknown_names_failure(
            &unknown,
            "declare it with `--over`/`--latent`",
        ));
    }

    let data = parse_data(&args.data, &ys)?;
    let n_data = data.first().map_or(0, Vec::len);

    // The energy as a definition E(y..., z...), so the loss can be written as text.
    if ctx.definition(ENERGY_NAME).is_some() {
        return Err(Failure::invalid(format!(
            "error: `{ENERGY_NAME}` is reserved by `grad`"
        )));
    }
    ctx.add_definition(Definition {
        name: ENERGY_NAME.to_string(),
        name_span: Span::default(),
        params: names.clone(),
        body: parsed,
    })
    .map_err(|d| Failure::invalid(format!("error: {}", d.message)))?;
    let domains: BTreeMap<String, VarDomain> =
        all.iter().map(|v| (v.name.clone(), v.domain)).collect();
    let engine = Engine::new(ctx, domains);

    let b = lit(beta);
    let zlist: Vec<String> = zs.iter().map(|v| v.name.clone()).collect();
    let yprimes: Vec<String> = ys.iter().map(|v| format!("{}'", v.name)).collect();
    let call = |yargs: &[String]| -> String {
        let mut a = yargs.to_vec();
        a.extend(zlist.iter().cloned());
        format!("{ENERGY_NAME}({})", a.join(", "))
    };
    let data_args = |i: usize| -> Vec<String> { data.iter().map(|col| lit(col[i])).collect() };
    let model_binds = {
        let mut v = yprimes.clone();
        v.extend(zlist.iter().cloned());
        v.join(", ")
    };
    let n = lit(n_data as f64);
    // The loss.
    let data_free: Vec<String> = (0..n_data)
        .map(|i| {
            let e = call(&data_args(i));
            if zs.is_empty() {
                e
            } else {
                format!("(-1/{b}*log(int[{}](exp(-{b}*{e}))))", zlist.join(", "))
            }
        })
        .collect();
    let loss_text = format!(
        "({})/{n} + 1/{b}*log(int[{model_binds}](exp(-{b}*{})))",
        data_free.join(" + "),
        call(&yprimes)
    );
    let prepare = |text: &str| -> Result<Expr, Failure> {
        engine
            .prepare(&parse_text(text)?)
            .map_err(|e| engine_failure(&e, "the loss cannot be built"))
    };
    let loss_expr = prepare(&loss_text)?;
    let origin = Point::new();
    let loss = engine
        .eval(&loss_expr, &origin)
        .map_err(|e| engine_failure(&e, "the loss cannot be evaluated"))?;

    let mut rows = Vec::new();
    for w in &wrt {
        let data_terms: Vec<String> = (0..n_data)
            .map(|i| {
                let e = call(&data_args(i));
                if zs.is_empty() {
                    format!("diff[{w}]({e})")
                } else {
                    format!(
                        "expect[{} ~ exp(-{b}*{e})](diff[{w}]({e}))",
                        zlist.join(", ")
                    )
                }
            })
            .collect();
        let data_expr = prepare(&format!("({})/{n}", data_terms.join(" + ")))?;
        let e = call(&yprimes);
        let model_expr = prepare(&format!(
            "expect[{model_binds} ~ exp(-{b}*{e})](diff[{w}]({e}))"
        ))?;
        let what = format!("the gradient in `{w}`");
        let dv = engine
            .eval(&data_expr, &origin)
            .map_err(|e| engine_failure(&e, &what))?;
        let mv = engine
            .eval(&model_expr, &origin)
            .map_err(|e| engine_failure(&e, &what))?;
        let exact = EValue {
            value: dv.value - mv.value,
            error: dv.error + mv.error,
            converged: dv.converged && mv.converged,
            std_error: 0.0,
            ess: f64::INFINITY,
        };
        let fd = engine.richardson(&loss_expr, &origin, w).map_err(|e| {
            engine_failure(
                &e,
                &format!(
                    "the finite difference of the loss in `{w}` (steps up to ±1e-2·max(1, |{w}|))"
                ),
            )
        })?;
        let tol =
            2.0 * (exact.error + fd.error) + 1e-10 * exact.value.abs().max(fd.value.abs()).max(1.0);
        let agree = (exact.value - fd.value).abs() <= tol;
        rows.push(Row {
            name: w.clone(),
            exact,
            model: mv,
            fd,
            agree,
            mc: None,
        });
    }

    let mut reasons: Vec<String> = Vec::new();
    if !loss.converged || rows.iter().any(|r| !r.exact.converged || !r.fd.converged) {
        reasons.push(
            "a quadrature did not reach its tolerance: the exact values are not certified".into(),
        );
    }
    let mut mc_summary = None;
    let mut mc_verdict = Verdict::Pass;
    if let Some(total) = args.mc {
        if total == 0 {
            return Err(Failure::invalid(
                "error: --mc 0: the number of draws must be positive",
            ));
        }
        let kind = args.sampler.unwrap_or_else(|| default_sampler(&ys, &zs));
        let run = sample(
            &engine,
            &all,
            &wrt,
            &inlined,
            sample_beta,
            kind,
            total,
            args.seed,
        )?;
        let mut decision = StatisticalDecision::new(ALPHA, MIN_ESS);
        let mut mc_constant_mismatch: Vec<String> = Vec::new();
        for (row, values) in rows.iter_mut().zip(&run.values) {
            let refs: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
            let est = if run.iid {
                iid_estimate(&values.concat())
            } else {
                mc_estimate(&refs)
            };
            // The data term is exact: the estimate of the gradient is data − ⟨∂E/∂w⟩_draws.
            let data_term = row.exact.value + row.model.value;
            let estimate = Estimate {
                estimate: data_term - est.estimate,
                ..est
            };
            let gap = estimate.estimate - row.exact.value;
            let z = if est.sd > 0.0 {
                decision.add_z_test(
                    &format!("d loss / d {}", row.name),
                    estimate.estimate,
                    estimate.mcse,
                    estimate.ess,
                    row.exact.value,
                );
                gap / estimate.mcse
            } else if gap.abs() <= 2.0 * row.exact.error + CONSTANT_TOL * row.exact.value.abs() {
                // ∂E/∂w takes one value under the model: the average is exact, nothing to test.
                0.0
            } else {
                mc_constant_mismatch.push(format!(
                    "d loss / d {}: every draw gives the same value, and the estimate {} differs from the exact {}",
                    row.name, estimate.estimate, row.exact.value
                ));
                gap.signum() * f64::INFINITY
            };
            if !run.iid && refs.len() > 1 {
                let rhat = ess::split_rhat(&refs);
                if rhat > MAX_RHAT {
                    decision.add_reason(format!(
                        "d loss / d {}: split R-hat {rhat:.3} > {MAX_RHAT}: the chains disagree; run longer",
                        row.name
                    ));
                }
            }
            row.mc = Some((estimate, z));
        }
        let d = decision.finish();
        mc_verdict = if mc_constant_mismatch.is_empty() {
            d.verdict
        } else {
            reasons.extend(mc_constant_mismatch);
            Verdict::Fail
        };
        reasons.extend(d.reasons.iter().cloned());
        mc_summary = Some((kind, total, run.acceptance, d.summary));
    }

    let status = if rows.iter().any(|r| !r.agree) || mc_verdict == Verdict::Fail {
        "fail"
    } else if !reasons.is_empty() || mc_verdict == Verdict::Inconclusive {
        "inconclusive"
    } else {
        "pass"
    };

    match args.opts.format {
        Format::Json => {
            // Objects keep the contract's key order and the `--wrt` order (serde_json sorts).
            let obj = |f: &dyn Fn(&Row) -> String| -> String {
                let items: Vec<String> = rows
                    .iter()
                    .map(|r| format!("{}: {}", serde_json::json!(r.name), f(r)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            };
            let mut out = format!(
                "{{\"schema\": 1, \"loss\": {}, \"exact\": {}, \"finite_difference\": {}",
                finite_or_null(loss.value),
                obj(&|r| finite_or_null(r.exact.value).to_string()),
                obj(&|r| finite_or_null(r.fd.value).to_string())
            );
            if args.mc.is_some() {
                let mc = obj(&|r| match &r.mc {
                    Some((e, z)) => format!(
                        "{{\"estimate\": {}, \"mcse\": {}, \"ess\": {}, \"z\": {}}}",
                        finite_or_null(e.estimate),
                        finite_or_null(e.mcse),
                        finite_or_null(e.ess),
                        finite_or_null(*z)
                    ),
                    None => "null".to_string(),
                });
                out.push_str(&format!(", \"monte_carlo\": {mc}"));
            }
            out.push_str(&format!(", \"status\": {}}}", serde_json::json!(status)));
            println!("{out}");
            for r in &reasons {
                eprintln!("note: {r}");
            }
        }
        Format::Text => {
            println!(
                "loss = {} ± {:.1e}  ({n_data} data point{}, beta = {beta})",
                show(loss.value),
                loss.error,
                if n_data == 1 { "" } else { "s" }
            );
            println!(
                "{:<10}  {:>22}  {:>9}  {:>22}  {:>9}  agree",
                "parameter", "exact gradient", "± error", "finite difference", "± error"
            );
            for r in &rows {
                println!(
                    "{:<10}  {:>22}  {:>9.1e}  {:>22}  {:>9.1e}  {}",
                    r.name,
                    show(r.exact.value),
                    r.exact.error,
                    show(r.fd.value),
                    r.fd.error,
                    if r.agree { "yes" } else { "NO" }
                );
            }
            if let Some((kind, total, acceptance, summary)) = &mc_summary {
                let acc: Vec<String> = acceptance.iter().map(|a| format!("{a:.2}")).collect();
                println!(
                    "Monte Carlo: sampler {}, {total} draws, acceptance {}",
                    sampler_name(*kind),
                    acc.join(" ")
                );
                println!(
                    "{:<10}  {:>22}  {:>9}  {:>9}  {:>8}",
                    "parameter", "estimate", "mcse", "ess", "z"
                );
                for r in &rows {
                    if let Some((e, z)) = &r.mc {
                        println!(
                            "{:<10}  {:>22}  {:>9.2e}  {:>9.0}  {:>8.2}",
                            r.name,
                            show(e.estimate),
                            e.mcse,
                            e.ess,
                            z
                        );
                    }
                }
                println!("{summary}");
            }
            let said = mc_summary.as_ref().map_or("", |m| m.3.as_str());
            for r in reasons.iter().filter(|r| !said.contains(r.as_str())) {
                println!("note: {r}");
            }
            println!("status: {status}");
        }
    }
    Ok(if status == "pass" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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

fn finite_or_null(x: f64) -> serde_json::Value {
    if x.is_finite() {
        serde_json::json!(x)
    } else {
        serde_json::Value::Null
    }
}

fn sampler_name(k: SamplerKind) -> &'static str {
    match k {
        SamplerKind::Exact => "exact",
        SamplerKind::Mh => "mh",
        SamplerKind::Mala => "mala",
        SamplerKind::Hmc => "hmc",
    }
}

fn is_integer(v: &Var) -> bool {
    matches!(v.domain, VarDomain::Integer { .. })
}

/// Exact when it exists cheaply (at most one continuous variable), else mh.
fn default_sampler(ys: &[Var], zs: &[Var]) -> SamplerKind {
    let all: Vec<&Var> = ys.iter().chain(zs).collect();
    if all.iter().filter(|v| !is_integer(v)).count() <= 1 {
        SamplerKind::Exact
    } else {
        SamplerKind::Mh
    }
}

/// `--data Y=v1,v2,...` into one column per predicted variable (in declaration order).
fn parse_data(texts: &[String], ys: &[Var]) -> Result<Vec<Vec<f64>>, Failure> {
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
            if !x.is_finite() || !inside(&ys[i].domain, x) {
                return Err(Failure::invalid(format!(
                    "error: `--data {t}`: the value {x} is outside the domain of `{var}`"
                )));
            }
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
    if out.iter().any(|c| c.len() != out[0].len()) {
        let counts: Vec<String> = ys
            .iter()
            .zip(&out)
            .map(|(v, c)| format!("{} has {}", v.name, c.len()))
            .collect();
        return Err(Failure::invalid(format!(
            "error: the data counts differ ({}): the i-th values of all variables form the i-th data point",
            counts.join(", ")
        )));
    }
    Ok(out)
}

/// The integer points of the integer variables among `vars` (in order), at most [`MAX_GRID`].
fn integer_grid(vars: &[&Var]) -> Result<Vec<Vec<f64>>, Failure> {
    let mut grid: Vec<Vec<f64>> = vec![Vec::new()];
    for v in vars {
        let VarDomain::Integer { lo, hi } = v.domain else {
            continue;
        };
        let len = usize::try_from(hi - lo + 1).unwrap_or(usize::MAX);
        if grid.len().saturating_mul(len) > MAX_GRID {
            return Err(Failure::invalid(format!(
                "error: the exact sampler would enumerate more than {MAX_GRID} points\n  = help: narrow the integer ranges"
            )));
        }
        let mut next = Vec::with_capacity(grid.len() * len);
        for g in &grid {
            for k in lo..=hi {
                let mut p = g.clone();
                #[allow(clippy::cast_precision_loss)]
                p.push(k as f64);
                next.push(p);
            }
        }
        grid = next;
    }
    Ok(grid)
}

/// Exact draws with integer variables and one continuous variable `x`: the integer point `g`
/// from its marginal `∝ Z(g) = ∫ exp(-βE(g, x)) dx` (quadrature), then `x | g` by inversion.
fn exact_mixed(
    vars: &[&Var],
    energy: &ProgramEnergy,
    beta: f64,
    chains: usize,
    per_chain: &(dyn Fn(usize) -> usize + Sync),
    seed: u64,
) -> Result<Vec<Vec<f64>>, Failure> {
    let Some(xi) = vars.iter().position(|v| !is_integer(v)) else {
        return Err(Failure::invalid("error: internal: no continuous variable"));
    };
    let VarDomain::Continuous { lo, hi } = vars[xi].domain else {
        return Err(Failure::invalid("error: internal: no continuous variable"));
    };
    let grid = integer_grid(vars)?;
    if grid.len() > MAX_MIXED {
        return Err(Failure::invalid(format!(
            "error: the exact sampler would tabulate {} conditional distributions (at most {MAX_MIXED})\n  = help: narrow the integer ranges, or use --sampler mh on continuous variables",
            grid.len()
        )));
    }
    let full = |g: &[f64], x: f64| -> Vec<f64> {
        let mut p = g.to_vec();
        p.insert(xi, x);
        p
    };
    let line = Domain::continuous(&[(lo, hi)])
        .map_err(|e| engine_failure(&e, "the exact sampler's domain"))?;
    let conditionals: Vec<_> = grid
        .iter()
        .map(|g| FnEnergy::new(1, move |x: &[f64]| energy.eval(&full(g, x[0]))))
        .collect();
    // Each conditional's inverse CDF, and its log Z as the weight of its integer point.
    let tables: Vec<(Cdf1d, f64)> = conditionals
        .par_iter()
        .map(|e| {
            let cdf = Cdf1d::new(e, lo, hi, beta)?;
            let lz = quad::log_partition(e, &line, beta, &QuadOptions::default())?;
            Ok((cdf, lz.log_z))
        })
        .collect::<Result<_, QuadError>>()
        .map_err(|e| engine_failure(&e, "the exact sampler's conditional distributions"))?;
    let logw: Vec<f64> = tables.iter().map(|t| t.1).collect();
    let cat = Categorical::from_log_weights(&logw)
        .map_err(|e| Failure::invalid(format!("error: the exact categorical sampler: {e}")))?;
    Ok((0..chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = rng_for(seed, c as u64);
            let mut out = Vec::with_capacity(per_chain(c) * vars.len());
            for _ in 0..per_chain(c) {
                let k = cat.sample(&mut rng);
                let g = &grid[k];
                let u: f64 = rng.random();
                let x = tables[k]
                    .0
                    .quantile(u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON));
                out.extend(full(g, x));
            }
            out
        })
        .collect())
}

/// Draws of `∂E/∂w` for each parameter, per chain.
struct SampleRun {
    /// `values[k][c]`: the values of `∂E/∂w_k` along chain (or stream) `c`.
    values: Vec<Vec<Vec<f64>>>,
    /// Whether the draws are independent.
    iid: bool,
    /// Acceptance rate of each chain (1 for exact draws).
    acceptance: Vec<f64>,
}

fn compile(e: &Expr, names: &[String], params: &Bindings) -> Result<ProgramEnergy, Failure> {
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    ProgramEnergy::new(e, &inputs, params).map_err(|err| {
        Failure::invalid(format!(
            "error: the energy cannot be compiled for sampling: {err}\n  = help: `grad --mc` takes a closed energy (no integrals inside)"
        ))
    })
}

#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
fn sample(
    engine: &Engine,
    vars: &[&Var],
    wrt: &[String],
    energy_expr: &Expr,
    beta: f64,
    kind: SamplerKind,
    total: usize,
    seed: u64,
) -> Result<SampleRun, Failure> {
    let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    let params = engine.params().clone();
    let energy = compile(energy_expr, &names, &params)?;
    let mut obs = Vec::new();
    for w in wrt {
        let d = engine
            .derivative(energy_expr, w)
            .map_err(|e| engine_failure(&e, &format!("∂E/∂{w}")))?;
        obs.push(compile(&d, &names, &params)?);
    }
    let observe = |y: &[f64], k: usize| obs[k].eval(y);
    let dim = names.len();
    let integer = vars.iter().filter(|v| is_integer(v)).count();
    let chains = total.clamp(1, CHAINS);
    let per_chain = total.div_ceil(chains);
    // Independent streams split the total exactly; MCMC chains have equal lengths.
    let stream_len = |c: usize| total / chains + usize::from(c < total % chains);
    let collect = |draws: &[Vec<f64>]| -> Vec<Vec<Vec<f64>>> {
        (0..wrt.len())
            .map(|k| {
                draws
                    .iter()
                    .map(|c| c.chunks_exact(dim).map(|y| observe(y, k)).collect())
                    .collect()
            })
            .collect()
    };
    match kind {
        SamplerKind::Exact => {
            let draws: Vec<Vec<f64>> = if integer == dim {
                let grid = integer_grid(vars)?;
                let logw: Vec<f64> = grid.iter().map(|p| -beta * energy.eval(p)).collect();
                if logw.iter().any(|v| v.is_nan()) {
                    return Err(Failure::invalid("error: the energy is NaN on the grid"));
                }
                let cat = Categorical::from_log_weights(&logw).map_err(|e| {
                    Failure::invalid(format!("error: the exact categorical sampler: {e}"))
                })?;
                (0..chains)
                    .into_par_iter()
                    .map(|c| {
                        let mut rng = rng_for(seed, c as u64);
                        (0..stream_len(c))
                            .flat_map(|_| grid[cat.sample(&mut rng)].clone())
                            .collect()
                    })
                    .collect()
            } else if dim == 1 {
                let VarDomain::Continuous { lo, hi } = vars[0].domain else {
                    return Err(Failure::invalid(
                        "error: internal: expected a continuous variable",
                    ));
                };
                let cdf = Cdf1d::new(&energy, lo, hi, beta)
                    .map_err(|e| engine_failure(&e, "the inverse CDF"))?;
                (0..chains)
                    .into_par_iter()
                    .map(|c| {
                        let mut rng = rng_for(seed, c as u64);
                        (0..stream_len(c))
                            .map(|_| {
                                let u: f64 = rng.random();
                                cdf.quantile(u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON))
                            })
                            .collect()
                    })
                    .collect()
            } else if dim - integer == 1 {
                exact_mixed(vars, &energy, beta, chains, &stream_len, seed)?
            } else {
                return Err(Failure::invalid(
                    "error: the exact sampler handles at most one continuous variable (with any integer ones)\n  = help: use --sampler mh, mala or hmc",
                ));
            };
            Ok(SampleRun {
                values: collect(&draws),
                iid: true,
                acceptance: vec![1.0; chains],
            })
        }
        SamplerKind::Mh | SamplerKind::Mala | SamplerKind::Hmc => {
            if integer > 0 {
                return Err(Failure::invalid(
                    "error: the MCMC samplers need continuous variables\n  = help: use --sampler exact for integer variables",
                ));
            }
            let mut grads = Vec::new();
            for v in &names {
                let d = engine
                    .derivative(energy_expr, v)
                    .map_err(|e| engine_failure(&e, &format!("∂E/∂{v}")))?;
                grads.push(compile(&d, &names, &params)?);
            }
            let bounds: Vec<(f64, f64)> = vars
                .iter()
                .map(|v| match v.domain {
                    VarDomain::Continuous { lo, hi } => (lo, hi),
                    #[allow(clippy::cast_precision_loss)]
                    VarDomain::Integer { lo, hi } => (lo as f64, hi as f64),
                })
                .collect();
            let inside = |y: &[f64]| {
                y.iter()
                    .zip(&bounds)
                    .all(|(x, (lo, hi))| x >= lo && x <= hi)
            };
            let target = FnTarget::new(
                dim,
                |y: &[f64]| {
                    if inside(y) {
                        beta * energy.eval(y)
                    } else {
                        f64::INFINITY
                    }
                },
                |y: &[f64], g: &mut [f64]| {
                    if !inside(y) {
                        g.fill(0.0);
                        return f64::INFINITY;
                    }
                    for (gi, p) in g.iter_mut().zip(&grads) {
                        *gi = beta * p.eval(y);
                    }
                    beta * energy.eval(y)
                },
            );
            let domain = Domain::new(
                bounds
                    .iter()
                    .map(|&(lo, hi)| quad::VarDomain::Continuous { lo, hi })
                    .collect(),
            )
            .map_err(|e| Failure::invalid(format!("error: {e}")))?;
            let start = quad::minimize(&energy, &domain, &QuadOptions::default())
                .map_err(|e| engine_failure(&e, "the sampler's starting point"))?
                .argmin;
            let kernel: Box<dyn Kernel> = match kind {
                SamplerKind::Mala => Box::new(
                    Mala::new(0.5 / beta.sqrt())
                        .and_then(|k| k.with_adaptation(0.57))
                        .map_err(|e| Failure::invalid(format!("error: {e}")))?,
                ),
                SamplerKind::Hmc => Box::new(
                    Hmc::new(0.3 / beta.sqrt(), 10)
                        .and_then(|k| k.with_adaptation(0.8))
                        .map_err(|e| Failure::invalid(format!("error: {e}")))?,
                ),
                _ => Box::new(
                    RandomWalkMetropolis::new(1.0 / beta.sqrt())
                        .and_then(|k| k.with_adaptation(0.3))
                        .map_err(|e| Failure::invalid(format!("error: {e}")))?,
                ),
            };
            let inits = vec![start; chains];
            let set = run_chains(&target, kernel.as_ref(), &inits, WARMUP, per_chain, seed)
                .map_err(|e| Failure::invalid(format!("error: the sampler: {e}")))?;
            Ok(SampleRun {
                values: collect(&set.draws.chains),
                iid: false,
                acceptance: set.acceptance,
            })
        }
    }
}
