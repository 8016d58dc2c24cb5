//! `ebmcheck check`: runs derivation files and prints one line per check, or the JSON report;
//! `--report DIR` also writes an HTML page, a Markdown report with SVG figures, and the JSON.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ebmcheck::check::{RunOptions, RunResult, collect_files, run_paths_with_progress};
use ebmcheck::report::{self, text::TextOptions};

use crate::common::{Failure, Format, ReportFiles, write_report_files};

/// Arguments of `ebmcheck check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Derivation files or folders (folders are searched for *.toml).
    #[arg(default_value = "derivations")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Seed of the random test points (same seed, same output).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run only the checks whose name contains this substring.
    #[arg(long)]
    pub filter: Option<String>,
    /// Also write DIR/index.html, DIR/report.md (with SVG figures) and DIR/report.json.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the checks; exit 0 all passed, 1 some check failed or was inconclusive or hit an error,
/// 2 a file could not be loaded (after running every other file).
pub fn run(args: &CheckArgs) -> Result<ExitCode, Failure> {
    let files = collect_files(&args.paths).map_err(|e| Failure::invalid(e.render()))?;
    if files.is_empty() {
        let shown: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Failure::invalid(format!(
            "error: no derivation files (*.toml) under {}\n  = help: name a file or a folder of derivation files",
            shown.join(", ")
        )));
    }
    let opts = RunOptions {
        seed: args.seed,
        traces: args.report.is_some(),
    };
    let show_progress =
        !args.quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    let result = with_progress(show_progress, files.len(), |progress| {
        run_paths_with_progress(&files, &opts, args.filter.as_deref(), progress)
    });
    match args.format {
        Format::Json => print!("{}", json(&result)?),
        Format::Text => {
            let color = std::io::stdout().is_terminal();
            print!(
                "{}",
                report::text::render_run(
                    &result,
                    TextOptions {
                        color,
                        timings: true
                    }
                )
            );
        }
    }
    for f in &result.files {
        for d in &f.diagnostics {
            eprint!("{d}");
        }
    }
    if let Some(dir) = &args.report {
        write_report(dir, &result)?;
    }
    Ok(if result.has_load_errors() {
        ExitCode::from(crate::common::EXIT_INVALID)
    } else if result.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn json(result: &RunResult) -> Result<String, Failure> {
    report::to_json(result).map_err(|e| Failure::invalid(format!("error: cannot write JSON: {e}")))
}

/// Runs `work` with a progress bar on stderr that appears only if the run takes longer than a
/// second (and only when `enabled`: stderr is a terminal, not CI, not `--quiet`).
fn with_progress<T: Send>(
    enabled: bool,
    total: usize,
    work: impl FnOnce(&(dyn Fn(usize, usize) + Sync)) -> T + Send,
) -> T {
    if !enabled {
        return work(&|_, _| {});
    }
    let bar = indicatif::ProgressBar::hidden();
    bar.set_length(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} files [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = std::time::Instant::now();
    let update = |done: usize, _total: usize| {
        bar.set_position(done as u64);
        if started.elapsed() > Duration::from_secs(1) && bar.is_hidden() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    };
    let out = work(&update);
    bar.finish_and_clear();
    out
}

fn write_report(dir: &Path, result: &RunResult) -> Result<(), Failure> {
    let title = "ebmcheck: derivation checks";
    let (md, figures) = report::markdown::render(result, title);
    write_report_files(
        dir,
        &ReportFiles {
            html: report::html::render(result, title),
            markdown: md,
            figures,
            json: json(result)?,
        },
    )
}
