//! `ebmcheck check`: runs derivation files and prints one line per check, or the JSON report;
//! `--report DIR` also writes an HTML page, a Markdown report with SVG figures, and the JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ebmcheck::check::{
    RunOptions, RunResult, collect_files, final_before_holm, run_paths_streaming,
};
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
    /// Run only the checks whose claim id is TEXT, or whose name or file name contains TEXT
    /// (ignoring case). Selecting nothing is an error (exit 2).
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Also write DIR/index.html, DIR/report.md (with SVG figures) and DIR/report.json.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the checks; exit 0 all passed, 1 some check failed or was inconclusive or hit an error,
/// 2 a file could not be loaded (after running every other file) or `--filter` selected nothing.
///
/// Text output streams: each file's lines are printed as soon as its checks finish and the
/// run-wide Holm correction can no longer change them (in file order, so the output is the same
/// as printing at the end).
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
    let text_opts = TextOptions {
        color: crate::common::use_color(),
        timings: true,
    };
    let stream = args.format == Format::Text;
    let progress = Progress::new(crate::common::progress_allowed(args.quiet), files.len());
    // Files printed so far; streaming stops at the first file Holm may still change.
    let mut printed = 0usize;
    let mut held = false;
    let result = run_paths_streaming(
        &files,
        &opts,
        args.filter.as_deref(),
        &mut |done, _total, finished| {
            progress.set(done);
            if let Some(f) = finished {
                for d in &f.diagnostics {
                    progress.suspend(|| eprint!("{d}"));
                }
                if stream && !held && final_before_holm(f) {
                    let text = report::text::render_file(f, text_opts);
                    progress.suspend(|| out!("{text}"));
                    printed += 1;
                } else {
                    held = true;
                }
            }
        },
    );
    progress.finish();
    if let Some(f) = &args.filter {
        if result.files.is_empty() {
            return Err(Failure::invalid(format!(
                "error: `--filter {f}` selects no check\n  = help: the filter matches a claim id (`C6`), or part of a check's name or file name, ignoring case; `ebmcheck check --format json` lists them"
            )));
        }
    }
    match args.format {
        Format::Json => out!("{}", json(&result)?),
        Format::Text => {
            let mut rest = String::new();
            for f in &result.files[printed..] {
                rest.push_str(&report::text::render_file(f, text_opts));
            }
            rest.push_str(&report::text::render_summary(&result));
            out!("{rest}");
        }
    }
    if let Some(dir) = &args.report {
        write_report(dir, &result, args.seed)?;
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

/// A progress bar on standard error (`checking 3/14 files`) that appears only when the run takes
/// longer than a second, and only when enabled (stderr a terminal, not CI, not `--quiet`).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: std::time::Instant,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Self {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::hidden();
            bar.set_length(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} checking {pos}/{len} files [{elapsed}]",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar
        });
        Progress {
            bar,
            started: std::time::Instant::now(),
        }
    }

    fn set(&self, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            if self.started.elapsed() > Duration::from_secs(1) && bar.is_hidden() {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(120));
            }
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn write_report(dir: &Path, result: &RunResult, seed: u64) -> Result<(), Failure> {
    let title = "ebmcheck: derivation checks";
    let p = crate::common::provenance(Some(seed));
    let page = report::check_page::page(result, title, Some(&p));
    let (md, figures) = page.to_markdown();
    write_report_files(
        dir,
        &ReportFiles {
            html: page.to_html(),
            markdown: md,
            figures,
            json: crate::common::with_provenance(&json(result)?, &p),
        },
    )
}
