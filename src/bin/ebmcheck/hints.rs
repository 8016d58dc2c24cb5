//! The command line's words for library errors: the library names no flag (it is also called
//! from Python and Rust), so the hints that name `--columns`, `--over`, `--array` or `--budget`
//! are added here, from the errors' structured data.

use ebmcheck::stats::{CsvError, CsvErrorKind, NpyError, NpzError};

/// A CSV reader's error as the command line shows it (after the file's name).
pub fn csv_error(e: &CsvError) -> String {
    let kind = match &e.kind {
        CsvErrorKind::MissingColumnOf(var, header) => format!(
            "missing column `{var}` (the header has {header}); name it in the header or map a column to it with --columns"
        ),
        CsvErrorKind::ExtraColumn(c) => {
            format!("extra column `{c}` (not a variable of --over, nor `chain`)")
        }
        CsvErrorKind::ReservedName(v) => format!(
            "the variable `{v}` has the name of an index column; rename the variable (e.g. `--over {v}_=…`) or map a column to it with --columns"
        ),
        CsvErrorKind::Columns(what) => format!("--columns: {what}"),
        CsvErrorKind::TooManyChains(_) => format!(
            "{}; if this many are intended, raise the limit with `--budget chains=N`",
            e.kind
        ),
        other => other.to_string(),
    };
    format!("line {}: {kind}", e.line)
}

/// A `.npy` reader's error as the command line shows it.
pub fn npy_error(e: &NpyError) -> String {
    match e {
        NpyError::Columns {
            shape,
            columns,
            vars,
        } => format!(
            "an array of shape {shape:?} has {columns} columns but --over names {} variables ({})",
            vars.len(),
            vars.join(", ")
        ),
        other => other.to_string(),
    }
}

/// A `.npz` reader's error as the command line shows it.
pub fn npz_error(e: &NpzError) -> String {
    match e {
        NpzError::Member { member, source } => {
            format!("archive member `{member}`: {}", npy_error(source))
        }
        NpzError::Ambiguous { arrays, vars } => format!(
            "cannot tell which array holds the draws: {arrays}; choose one with `--array NAME`, or save one array per variable named after the variables ({})",
            vars.join(", ")
        ),
        other => other.to_string(),
    }
}
