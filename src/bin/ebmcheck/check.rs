//! `ebmcheck check`: runs derivation files and prints one line per check, or the JSON report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use ebmcheck::check::{RunOptions, collect_files, run_paths};
use ebmcheck::report::{self, text::TextOptions};

use crate::common::{Failure, Format};

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
    let opts = RunOptions { seed: args.seed };
    let result = run_paths(&files, &opts, args.filter.as_deref());
    match args.format {
        Format::Json => {
            let json = report::to_json(&result)
                .map_err(|e| Failure::invalid(format!("error: cannot write JSON: {e}")))?;
            print!("{json}");
        }
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
    Ok(if result.has_load_errors() {
        ExitCode::from(crate::common::EXIT_INVALID)
    } else if result.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
