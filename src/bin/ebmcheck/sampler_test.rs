//! `ebmcheck sampler-test ENERGY --over VAR=LO..HI --beta B --samples FILE.csv`: are the draws
//! distributed as exp(−βE)/Z? Exact references by quadrature, the battery, a Holm verdict.
//! Several files (`--samples` repeated, a folder, `--label NAME=FILE`) are judged against one
//! reference, computed once. Files are CSV (extra columns ignored by name), NumPy `.npy` or
//! `.npz` (the array chosen by `--array` or the rule of `ebmcheck::stats::draws_npz`).

use std::process::ExitCode;
use std::sync::Arc;

use ebmcheck::engine::ProgramEnergy;
use ebmcheck::expr::Bindings;
use ebmcheck::quad::{Domain, VarDomain};
use ebmcheck::report;
use ebmcheck::report::compare::Cost;
use ebmcheck::report::sampler::SampleFile;
use ebmcheck::sample::{
    QuadReference, ReferenceError, ReferenceOptions, SamplerTestOutcome, judge_draws,
    quadrature_reference,
};
use ebmcheck::stats::draws_npz::is_zip;
use ebmcheck::stats::{
    CsvOptions, Draws, Verdict, parse_draws_csv_with, parse_draws_npy, parse_draws_npz,
};

use crate::common::{
    ExprOptions, Failure, Format, ReportFiles, context, expression, json_line, number, range,
    unknown_names, unknown_names_failure, write_report_files,
};
use crate::hints;

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
    /// Draws: a CSV file with a header naming the variables (optional `chain`/`walker` columns;
    /// other columns such as `draw` or `lp` are ignored), a NumPy .npy file (draws × dims or
    /// chains × draws × dims), a NumPy .npz archive (see --array), or a folder of them. Repeat to judge several files against one
    /// exact reference.
    #[arg(long, value_name = "FILE")]
    pub samples: Vec<std::path::PathBuf>,
    /// A labelled sample file, NAME=FILE (repeatable; combines with --samples).
    #[arg(long = "label", value_name = "NAME=FILE")]
    pub labels: Vec<String>,
    /// The CSV columns to read as the --over variables, in their order, e.g. `theta.0,theta.1`.
    #[arg(long, value_name = "COL,COL")]
    pub columns: Option<String>,
    /// What a sample cost in wall-clock seconds, LABEL=SECONDS (repeatable; LABEL as in the
    /// report: the file's stem or the --label name). The comparison then shows ESS per second;
    /// a CSV column `grad_evals` (or Stan's `n_leapfrog__`, `n_steps`, `num_steps`) gives ESS
    /// per gradient evaluation.
    #[arg(long = "cost", value_name = "LABEL=SECONDS")]
    pub costs: Vec<String>,
    /// The array of a .npz archive that holds the draws. Without it: one array per --over
    /// variable named after it, else the only array, else the array `draws` or `samples`.
    #[arg(long, value_name = "NAME")]
    pub array: Option<String>,
    /// Family-wise false-alarm rate (Holm's correction across all tests).
    #[arg(long, value_name = "A", default_value_t = 1e-3)]
    pub alpha: f64,
    /// Also write DIR/index.html, DIR/report.md (with SVG figures) and DIR/report.json; with
    /// several sample files, DIR holds the comparison report (ranking, bias/MCSE, ESS per draw,
    /// KS distances) and DIR/LABEL/ each file's own report.
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
    let inputs = sample_inputs(args)?;
    let columns = args.columns.as_ref().map(|c| {
        c.split(',')
            .map(|s| s.trim().to_string())
            .collect::<Vec<String>>()
    });
    let csv_opts = CsvOptions { columns };
    // Read every file before the (expensive) reference, so a bad file fails fast.
    let mut loaded = Vec::with_capacity(inputs.len());
    for (label, path) in inputs {
        let (draws, ignored, grad_evals) =
            read_draws(&path, &names, &csv_opts, args.array.as_deref())?;
        loaded.push((label, path, draws, ignored, grad_evals));
    }
    let seconds = cost_flags(
        &args.costs,
        &loaded.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
    )?;
    let energy = Arc::new(energy);
    let n_draws: usize = loaded.iter().map(|l| l.2.n()).sum();
    let costs: Vec<Cost> = loaded
        .iter()
        .map(|l| Cost {
            seconds: seconds.get(&l.0).copied(),
            grad_evals: l.4.as_ref().map(|g| g.1),
        })
        .collect();
    let exact = crate::common::with_spinner(
        crate::common::progress_allowed(false),
        &format!("computing the exact references for {n_draws} draws"),
        || {
            quadrature_reference(
        energy.clone(),
        &domain,
        beta,
        &names,
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
    let mut results: Vec<(String, String, SamplerTestOutcome, Vec<String>, Draws)> = Vec::new();
    for (label, path, draws, ignored, _) in loaded {
        let outcome = judge(&exact, &draws, args.alpha)?;
        results.push((label, path.display().to_string(), outcome, ignored, draws));
    }
    let single = results.len() == 1;
    let files: Vec<SampleFile<'_>> = results
        .iter()
        .zip(&costs)
        .map(|((label, file, outcome, ignored, _), cost)| SampleFile {
            label,
            file,
            outcome,
            ignored,
            cost: *cost,
        })
        .collect();
    let json = json_line(&report::sampler::json(&files, args.alpha))?;
    if let Some(dir) = &args.report {
        if !single {
            let title = format!(
                "sampler-test: {} samples of {} at β = {beta}",
                results.len(),
                args.energy
            );
            let pairs: Vec<(String, &SamplerTestOutcome)> =
                results.iter().map(|r| (r.0.clone(), &r.2)).collect();
            let mut page = report::compare::page_with_cost(&title, &pairs, &costs);
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
        for (f, (label, _, outcome, _, draws)) in files.iter().zip(&results) {
            let title = format!("sampler-test: {} at β = {beta} ({label})", args.energy);
            let mut page = report::sampler::page(&title, outcome, draws, &*energy, beta);
            let one = if single {
                json.clone()
            } else {
                json_line(&report::sampler::sample_json(f, true, true))?
            };
            let out = if single {
                dir.clone()
            } else {
                dir.join(safe_name(label))
            };
            let p = crate::common::provenance(None);
            page.provenance = Some(p.clone());
            write_report_files(
                &out,
                &ReportFiles::from_page(
                    &page,
                    crate::common::with_provenance(&format!("{one}\n"), &p),
                ),
            )?;
        }
    }
    match args.opts.format {
        Format::Json => outln!("{json}"),
        Format::Text => out!("{}", report::sampler::text_all(&files)),
    }
    let all_pass = results.iter().all(|r| r.2.report.verdict == Verdict::Pass);
    Ok(if all_pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--cost LABEL=SECONDS` flags as a map from label to seconds; every label must name a sample.
fn cost_flags(
    flags: &[String],
    labels: &[&str],
) -> Result<std::collections::HashMap<String, f64>, Failure> {
    let mut out = std::collections::HashMap::new();
    for f in flags {
        let parsed = f
            .rsplit_once('=')
            .and_then(|(l, v)| Some((l, v.trim().parse::<f64>().ok()?)))
            .filter(|(l, v)| !l.is_empty() && v.is_finite() && *v > 0.0);
        let Some((label, secs)) = parsed else {
            return Err(Failure::invalid(format!(
                "error: `--cost {f}` is not of the form LABEL=SECONDS with positive seconds\n  = help: write `--cost nuts=12.5`"
            )));
        };
        if !labels.contains(&label) {
            return Err(Failure::invalid(format!(
                "error: `--cost {f}`: no sample is labelled `{label}` (the samples are {})",
                labels.join(", ")
            )));
        }
        if out.insert(label.to_string(), secs).is_some() {
            return Err(Failure::invalid(format!(
                "error: `--cost`: the sample `{label}` is given two costs"
            )));
        }
    }
    Ok(out)
}

fn judge(exact: &QuadReference, draws: &Draws, alpha: f64) -> Result<SamplerTestOutcome, Failure> {
    judge_draws(exact, draws, alpha).map_err(|e| Failure::invalid(format!("error: {e}")))
}

/// A label usable as a folder name.
fn safe_name(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The files to judge, with their labels: `--samples` (a folder gives its *.csv, *.npy and *.npz
/// files, sorted) then `--label NAME=FILE`.
fn sample_inputs(args: &SamplerTestArgs) -> Result<Vec<(String, std::path::PathBuf)>, Failure> {
    let mut out = Vec::new();
    for p in &args.samples {
        if p.is_dir() {
            let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Failure::invalid(format!("error: cannot read {}: {e}", p.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.extension()
                        .is_some_and(|x| x == "csv" || x == "npy" || x == "npz")
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Failure::invalid(format!(
                    "error: the folder {} holds no .csv, .npy or .npz files",
                    p.display()
                )));
            }
            for f in files {
                let label = f
                    .file_stem()
                    .map_or_else(|| f.display().to_string(), |s| s.to_string_lossy().into());
                out.push((label, f));
            }
        } else {
            let label = p
                .file_stem()
                .map_or_else(|| p.display().to_string(), |s| s.to_string_lossy().into());
            out.push((label, p.clone()));
        }
    }
    for l in &args.labels {
        let Some((name, file)) = l
            .split_once('=')
            .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        else {
            return Err(Failure::invalid(format!(
                "error: `--label {l}` is not of the form NAME=FILE\n  = help: write `--label nuts=draws.csv`"
            )));
        };
        out.push((name.to_string(), file.into()));
    }
    if out.is_empty() {
        return Err(Failure::invalid(
            "error: no draws to test\n  = help: add `--samples draws.csv` (CSV with a header naming the variables, .npy or .npz)",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (label, _) in &out {
        if seen.contains(&label.as_str()) {
            return Err(Failure::invalid(format!(
                "error: two sample files are labelled `{label}`\n  = help: name them with `--label NAME=FILE`"
            )));
        }
        seen.push(label);
    }
    Ok(out)
}

/// A file's draws, the columns or arrays it ignored and its gradient-evaluation column's sum.
type ReadDraws = (Draws, Vec<String>, Option<(String, f64)>);

/// Reads one file of draws (CSV, .npy or .npz by content) and the columns (CSV) or arrays (.npz)
/// it ignored.
fn read_draws(
    path: &std::path::Path,
    names: &[String],
    csv_opts: &CsvOptions,
    array: Option<&str>,
) -> Result<ReadDraws, Failure> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::invalid(format!("error: cannot read {shown}: {e}")))?;
    if bytes.starts_with(b"\x93NUMPY") {
        let d = parse_draws_npy(&bytes, names)
            .map_err(|e| Failure::invalid(format!("error: {shown}: {}", hints::npy_error(&e))))?;
        return Ok((d, Vec::new(), None));
    }
    if is_zip(&bytes) {
        let d = parse_draws_npz(&bytes, names, array)
            .map_err(|e| Failure::invalid(format!("error: {shown}: {}", hints::npz_error(&e))))?;
        return Ok((d.draws, d.ignored, None));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::invalid(format!(
            "error: {shown} is neither UTF-8 CSV text nor a NumPy .npy file"
        ))
    })?;
    let d = parse_draws_csv_with(&text, names, csv_opts)
        .map_err(|e| Failure::invalid(format!("error: {shown}: {}", hints::csv_error(&e))))?;
    Ok((d.draws, d.ignored, d.grad_evals))
}
