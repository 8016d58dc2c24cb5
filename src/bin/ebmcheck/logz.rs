//! `ebmcheck logz ENERGY --over z=LO..HI --beta B`: the log partition function with its error.

use std::process::ExitCode;

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::Bindings;
use ebmcheck::quad::{self, Domain, QuadError, QuadOptions, Status, VarDomain};
use ebmcheck::report;

use crate::common::{
    ExprOptions, Failure, Format, context, expression, json_line, number, range, split_assignment,
    unknown_names, unknown_names_failure,
};

/// Arguments of `ebmcheck logz`.
#[derive(Debug, clap::Args)]
pub struct LogzArgs {
    /// The energy E (it may begin with `-`, as in `-log(z)`).
    #[arg(value_name = "ENERGY", allow_hyphen_values = true)]
    pub energy: String,
    /// A continuous variable and its range, e.g. `z=-inf..inf` (repeat for 2–4 dimensions).
    #[arg(long = "over", value_name = "VAR=LO..HI", allow_hyphen_values = true)]
    pub over: Vec<String>,
    /// An integer variable summed over an inclusive range, e.g. `k=0..2`.
    #[arg(long = "sum", value_name = "K=LO..HI", allow_hyphen_values = true)]
    pub sum: Vec<String>,
    /// Inverse temperature, or a comma list (`1,10,100`) to tabulate.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub beta: String,
    /// A known minimiser coordinate, e.g. `z=0.3` (repeat a variable for several minima).
    #[arg(long = "hint", value_name = "VAR=VALUE", allow_hyphen_values = true)]
    pub hints: Vec<String>,
    /// Target error of log Z (absolute; the relative error of Z). Default: 1e-9 in 1D, 1e-8 in
    /// 2D, 1e-7 in 3D, 1e-5 in 4D.
    #[arg(long = "rel-tol", value_name = "R")]
    pub rel_tol: Option<f64>,
    /// Also compute a certified enclosure [lo, hi] of log Z from interval bounds of the energy
    /// on adaptively refined boxes (lower and upper sums): JSON field `certified`.
    #[arg(long)]
    pub certify: bool,
    /// Target width of the certified enclosure (with `--certify`).
    #[arg(long = "certify-width", value_name = "W", default_value_t = 1e-3)]
    pub certify_width: f64,
    /// Most boxes of the certified enclosure (with `--certify`).
    #[arg(long = "certify-boxes", value_name = "N", default_value_t = 200_000)]
    pub certify_boxes: usize,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// Computes log Z for each β; exit 0 converged, 1 not converged, 2 invalid input or divergent.
pub fn run(args: &LogzArgs) -> Result<ExitCode, Failure> {
    let ctx = context(&args.opts)?;
    let (_, inlined) = expression(&ctx, &args.energy)?;
    let mut names = Vec::new();
    let mut vars = Vec::new();
    for o in &args.over {
        let (v, lo, hi) = range(o, "--over")?;
        names.push(v);
        vars.push(VarDomain::Continuous { lo, hi });
    }
    for s in &args.sum {
        let (v, lo, hi) = range(s, "--sum")?;
        if lo.fract() != 0.0 || hi.fract() != 0.0 || !lo.is_finite() || !hi.is_finite() {
            return Err(Failure::invalid(format!(
                "error: `--sum {s}`: an integer range needs finite integer ends"
            )));
        }
        #[allow(clippy::cast_possible_truncation)]
        vars.push(VarDomain::Integer {
            lo: lo as i64,
            hi: hi as i64,
        });
        names.push(v);
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(Failure::invalid(format!(
                "error: the variable `{n}` is given twice (`--over`/`--sum`)\n  = help: give each variable once"
            )));
        }
    }
    if names.is_empty() {
        return Err(Failure::invalid(
            "error: no variable to integrate over\n  = help: add `--over z=-inf..inf`",
        ));
    }
    let bindings: Bindings = ctx.bindings();
    let unknown = unknown_names(&inlined, &names, &bindings);
    if !unknown.is_empty() {
        return Err(unknown_names_failure(
            &unknown,
            &format!("integrate over it with `--over {}=LO..HI`", unknown[0]),
        ));
    }
    let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
    let energy = ProgramEnergy::new(&inlined, &inputs, &bindings).map_err(|e| {
        Failure::invalid(format!(
            "error: the energy cannot be compiled: {e}\n  = help: `logz` takes a closed energy (no integrals inside)"
        ))
    })?;
    let domain = Domain::new(vars).map_err(|e| Failure::invalid(format!("error: {e}")))?;
    let betas = args
        .beta
        .split(',')
        .map(|b| number(b, "--beta"))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(b) = betas.iter().find(|b| !(b.is_finite() && **b > 0.0)) {
        return Err(Failure::invalid(format!(
            "error: --beta {b}: the inverse temperature must be positive and finite"
        )));
    }
    let mut opts = QuadOptions::default();
    if let Some(r) = args.rel_tol {
        if !(r.is_finite() && r > 0.0) {
            return Err(Failure::invalid(format!(
                "error: --rel-tol {r}: the tolerance must be positive"
            )));
        }
        opts.abs_tol = Some(r);
    }
    opts.hints = hints(&args.hints, &names)?;
    if args.certify && !(args.certify_width.is_finite() && args.certify_width > 0.0) {
        return Err(Failure::invalid(format!(
            "error: --certify-width {}: the width must be positive",
            args.certify_width
        )));
    }
    let mut results = Vec::new();
    let mut certified = Vec::new();
    for &beta in &betas {
        let r = if args.certify {
            quad::certify_log_partition(
                &energy,
                &domain,
                beta,
                &opts,
                args.certify_width,
                args.certify_boxes,
            )
            .map(|(lz, c)| {
                certified.push(c);
                lz
            })
        } else {
            quad::log_partition(&energy, &domain, beta, &opts)
        };
        match r {
            Ok(lz) => results.push((beta, lz)),
            Err(QuadError::Diverges { axis, direction }) => {
                // The library names variables by position; say the user's name.
                let mut direction = match axis.and_then(|a| names.get(a).map(|n| (a, n))) {
                    Some((a, n)) => direction.replace(&format!("z{} →", a + 1), &format!("{n} →")),
                    None => direction,
                };
                // A point named by position (`near z1 = 0.3`), highest index first.
                for (i, n) in names.iter().enumerate().rev() {
                    direction = direction.replace(&format!("z{} =", i + 1), &format!("{n} ="));
                }
                let beta = ebmcheck::expr::format_number(beta);
                return Err(Failure::invalid(format!(
                    "error: at beta = {beta}, the partition function diverges: {direction}\n  = help: exp(-beta*E) must be integrable: the energy must grow in every direction of the domain"
                )));
            }
            Err(e) => {
                let beta = ebmcheck::expr::format_number(beta);
                return Err(Failure::invalid(format!(
                    "error: at beta = {beta}: {}",
                    ebmcheck::engine::named_quad_error(&e, &names, false)
                )));
            }
        }
    }
    // Every minimum the search finds, to name them all.
    let lz: Vec<&quad::LogZ> = results.iter().map(|r| &r.1).collect();
    let minima = quad::minima_found(&energy, &domain, &opts, &lz);
    let run = report::logz::LogzRun {
        names,
        results,
        minima,
        certified: args.certify.then_some(certified),
    };
    match args.opts.format {
        Format::Json => outln!("{}", json_line(&report::logz::json(&run))?),
        Format::Text => out!("{}", report::logz::text(&run)),
    }
    let results = run.results;
    Ok(
        if results.iter().all(|(_, lz)| lz.status == Status::Converged) {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// Groups `--hint VAR=VALUE` into points: the k-th hint of each variable goes into point k;
/// unspecified coordinates are 0.
fn hints(texts: &[String], names: &[String]) -> Result<Vec<Vec<f64>>, Failure> {
    let mut points: Vec<Vec<f64>> = Vec::new();
    let mut seen = vec![0usize; names.len()];
    for t in texts {
        let (var, value) = split_assignment(t, "--hint", "z=0.3")?;
        let Some(i) = names.iter().position(|n| n == var) else {
            return Err(Failure::invalid(format!(
                "error: `--hint {t}`: `{var}` is not a variable of --over or --sum"
            )));
        };
        let x = number(value, "--hint")?;
        if seen[i] == points.len() {
            points.push(vec![0.0; names.len()]);
        }
        points[seen[i]][i] = x;
        seen[i] += 1;
    }
    Ok(points)
}
