//! Derivation files and their checks: loading with diagnostics, the check kinds, the runner.
//!
//! ```text
//! derivations/*.toml ──spec::load_str──▶ DerivationFile ──run::run_file──▶ Vec<CheckResult>
//! ```
//! Only this module reads derivation files; it writes nothing (see `report` for output).

pub mod claims;
mod hint;
mod kinds;
#[cfg(test)]
mod mutation;
mod raw;
pub mod result;
pub mod run;
mod source;
pub mod spec;
mod validate;

use std::path::{Path, PathBuf};

use crate::budgets::{self, Budget};

pub use result::{
    CheckResult, FileResult, LoadError, McTrace, PointResult, RunResult, Status, Summary,
};
pub use run::{RunOptions, engine_for, run_check, run_file};
pub use spec::{DerivationFile, SpecError, load_str};

/// Collects the derivation files under the given paths: files as given, folders searched
/// recursively for `*.toml`, each folder's files in sorted order.
///
/// Only regular files are read (a FIFO or a device such as `/dev/zero` is an error, not a read
/// that blocks or never ends); each folder is visited once, however many symbolic links lead to
/// it, so link loops end; the walk is iterative and stops at the `files` budget.
///
/// # Errors
/// A path that does not exist, is not a regular file or folder, or cannot be read, or a walk
/// beyond the budget, as a [`SpecError`] pointing at the path.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Box<SpecError>> {
    let mut out = Vec::new();
    let mut walk = Walk::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            let e = if e.kind() == std::io::ErrorKind::NotFound {
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder")
            } else {
                e
            };
            Box::new(io_error(p, &e))
        })?;
        if meta.is_dir() {
            walk.dir(p, &mut out)?;
        } else if meta.is_file() {
            out.push(p.clone());
        } else {
            return Err(Box::new(not_regular(p, &meta)));
        }
    }
    Ok(out)
}

/// The state of a folder walk: folders seen (by canonical path) and entries visited.
#[derive(Default)]
struct Walk {
    seen: std::collections::HashSet<PathBuf>,
    visited: u64,
}

impl Walk {
    fn dir(&mut self, root: &Path, out: &mut Vec<PathBuf>) -> Result<(), Box<SpecError>> {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let canonical =
                std::fs::canonicalize(&dir).map_err(|e| Box::new(io_error(&dir, &e)))?;
            if !self.seen.insert(canonical) {
                continue;
            }
            let mut entries: Vec<PathBuf> = Vec::new();
            for entry in std::fs::read_dir(&dir).map_err(|e| Box::new(io_error(&dir, &e)))? {
                let entry = entry.map_err(|e| Box::new(io_error(&dir, &e)))?;
                self.visited += 1;
                if let Err(e) = budgets::check(
                    Budget::Files,
                    u128::from(self.visited),
                    format!("the walk of {}", root.display()),
                ) {
                    let mut err = io_error(root, &std::io::Error::other(e.message()));
                    err.kind = spec::SpecErrorKind::Invalid;
                    err.message = e.message();
                    err.help = Some(format!("name fewer folders, or {}", e.help()));
                    return Err(Box::new(err));
                }
                entries.push(entry.path());
            }
            entries.sort();
            let mut subdirs = Vec::new();
            for e in entries {
                // Follows a link to see what it names; a broken link is skipped.
                let Ok(meta) = std::fs::metadata(&e) else {
                    continue;
                };
                if meta.is_dir() {
                    subdirs.push(e);
                } else if e.extension().is_some_and(|x| x == "toml") {
                    if !meta.is_file() {
                        return Err(Box::new(not_regular(&e, &meta)));
                    }
                    out.push(e);
                }
            }
            // Depth first, each folder's subfolders in sorted order.
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(())
    }
}

fn not_regular(path: &Path, meta: &std::fs::Metadata) -> SpecError {
    let what = file_kind(meta);
    let mut e = io_error(
        path,
        &std::io::Error::other(format!("it is {what}, not a regular file")),
    );
    e.help = Some(
        "`ebmcheck check` reads only regular files and folders of *.toml; FIFOs and devices are refused so that a read cannot block or never end".into(),
    );
    e
}

#[cfg(unix)]
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn file_kind(_meta: &std::fs::Metadata) -> &'static str {
    "a special file"
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
/// Whether `--filter TEXT` selects a check: case-insensitively, TEXT equals the claim id, or
/// occurs in the check's name or in its file's path.
pub fn filter_matches(filter: &str, path: &str, claim: &str, name: &str) -> bool {
    let f = filter.to_lowercase();
    claim.to_lowercase() == f
        || name.to_lowercase().contains(&f)
        || path.to_lowercase().contains(&f)
}

/// Loads and runs every file; files that fail to load are reported with their errors and the
/// others still run. `filter` keeps only the checks [`filter_matches`] selects; a loaded file
/// with no selected check is left out of the result.
pub fn run_paths(files: &[PathBuf], opts: &RunOptions, filter: Option<&str>) -> RunResult {
    run_paths_with_progress(files, opts, filter, &|_, _| {})
}

/// As [`run_paths`], calling `progress(files done, files total)` before each file.
pub fn run_paths_with_progress(
    files: &[PathBuf],
    opts: &RunOptions,
    filter: Option<&str>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> RunResult {
    run_paths_streaming(files, opts, filter, &mut |done, total, _| {
        if done < total {
            progress(done, total);
        }
    })
}

/// As [`run_paths`], calling `on_file(files done, files total, just finished)` before the first
/// file (with `None`) and after each file (with its result before the run-wide Holm correction;
/// [`final_before_holm`] tells whether that correction can still change it).
pub fn run_paths_streaming(
    files: &[PathBuf],
    opts: &RunOptions,
    filter: Option<&str>,
    on_file: &mut dyn FnMut(usize, usize, Option<&FileResult>),
) -> RunResult {
    let mut results = Vec::new();
    on_file(0, files.len(), None);
    for (done, path) in files.iter().enumerate() {
        let shown = path.display().to_string();
        let result = match load_path(path) {
            Ok(mut file) => {
                if let Some(f) = filter {
                    file.checks
                        .retain(|c| filter_matches(f, &shown, &c.claim, &c.name));
                }
                if file.checks.is_empty() && filter.is_some() {
                    on_file(done + 1, files.len(), None);
                    continue;
                }
                FileResult {
                    path: shown,
                    title: file.title.clone(),
                    checks: run_file(&file, opts),
                    load_errors: Vec::new(),
                    diagnostics: Vec::new(),
                }
            }
            Err(errors) => FileResult {
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
            },
        };
        on_file(done + 1, files.len(), Some(&result));
        results.push(result);
    }
    run::apply_holm(&mut results);
    RunResult::new(results)
}

/// Whether the run-wide Holm correction ([`run::apply_holm`]) cannot change this file's checks:
/// it only turns a passing statistical comparison into a failure when its p-value is at most
/// the family-wise α, so a file whose passing comparisons all have larger p-values is final.
pub fn final_before_holm(file: &FileResult) -> bool {
    file.checks.iter().flat_map(|c| &c.points).all(|p| {
        p.status != Status::Pass
            || p.extra
                .get("p_value")
                .is_none_or(|&pv| pv > run::tol::ALPHA)
    })
}
