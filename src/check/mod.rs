//! Derivation files and their checks: loading with diagnostics, the check kinds, the runner.
//!
//! ```text
//! derivations/*.toml ──spec::load_str──▶ DerivationFile ──run::run_file──▶ Vec<CheckResult>
//! ```
//! Only this module reads derivation files; it writes nothing (see `report` for output).

pub mod claims;
#[cfg(test)]
mod mutation;
pub mod result;
pub mod run;
pub mod spec;

use std::path::{Path, PathBuf};

pub use result::{
    CheckResult, FileResult, LoadError, McTrace, PointResult, RunResult, Status, Summary,
};
pub use run::{RunOptions, run_check, run_file};
pub use spec::{DerivationFile, SpecError, load_str};

/// Collects the derivation files under the given paths: files as given, folders searched
/// recursively for `*.toml`, each folder's files in sorted order.
///
/// # Errors
/// A path that does not exist or cannot be read, as a [`SpecError`] pointing at the path.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Box<SpecError>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect_dir(p, &mut out).map_err(|e| Box::new(io_error(p, &e)))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(Box::new(io_error(
                p,
                &std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            )));
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect_dir(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "toml") {
            out.push(e);
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> SpecError {
    SpecError {
        location: spec::Location {
            path: path.display().to_string(),
            line: 1,
            column: 1,
        },
        kind: spec::SpecErrorKind::Io,
        message: format!("cannot read {}: {e}", path.display()),
        help: Some("check the path; `ebmcheck check` takes files or folders of *.toml".into()),
        source_line: String::new(),
        width: 1,
    }
}

/// Reads and loads one file.
///
/// # Errors
/// The file cannot be read, or has load errors.
pub fn load_path(path: &Path) -> Result<DerivationFile, Vec<SpecError>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| vec![io_error(path, &e)])?;
    load_str(&shown, &text)
}
/// Loads and runs every file; files that fail to load are reported with their errors and the
/// others still run. `filter` keeps only checks whose name contains the substring.
pub fn run_paths(files: &[PathBuf], opts: &RunOptions, filter: Option<&str>) -> RunResult {
    run_paths_with_progress(files, opts, filter, &|_, _| {})
}

/// As [`run_paths`], calling `progress(files done, files total)` after each file.
pub fn run_paths_with_progress(
    files: &[PathBuf],
    opts: &RunOptions,
    filter: Option<&str>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> RunResult {
    let mut results = Vec::new();
    for (done, path) in files.iter().enumerate() {
        progress(done, files.len());
        let shown = path.display().to_string();
        match load_path(path) {
            Ok(mut file) => {
                if let Some(f) = filter {
                    file.checks.retain(|c| c.name.contains(f));
                }
                results.push(FileResult {
                    path: shown,
                    title: file.title.clone(),
                    checks: run_file(&file, opts),
                    load_errors: Vec::new(),
                    diagnostics: Vec::new(),
                });
            }
            Err(errors) => results.push(FileResult {
                path: shown,
                title: String::new(),
                checks: Vec::new(),
                load_errors: errors
                    .iter()
                    .map(|e| LoadError {
                        line: e.location.line,
                        column: e.location.column,
                        message: e.message.clone(),
                        help: e.help.clone(),
                    })
                    .collect(),
                diagnostics: errors.iter().map(SpecError::render).collect(),
            }),
        }
    }
    run::apply_holm(&mut results);
    RunResult::new(results)
}
