//! The command line's words for library errors: the library names no flag (it is also called
//! from Python and Rust), so the hints that name `--columns`, `--over`, `--array`, `--set`,
//! `--data`, `--sampler` or `--budget` are added here, from the errors' structured data
//! (`ebmcheck::remedy::Remedy`, the readers' error kinds, the budget's name).

use ebmcheck::expr::Diagnostic;
use ebmcheck::remedy::{Remedy, SamplerFix};
use ebmcheck::stats::{CsvError, CsvErrorKind, NpyError, NpzError};

/// How to raise a work budget, for `ebmcheck::budgets::set_raise_wording`.
pub fn raise_budget(name: &'static str) -> String {
    format!("if this much work is intended, raise the limit with `--budget {name}=N`")
}

/// A remedy in the command line's words.
pub fn remedy(r: &Remedy) -> String {
    match r {
        Remedy::SetNumber(name) => format!("give it a value, as in `--set {name}=1`"),
        Remedy::SetList(name) => format!("give it a value, as in `--set {name}=[1, 2]`"),
        Remedy::MakeList(name) => format!("set it to a list, as in `--set {name}=[1, 2]`"),
        Remedy::DeclarePredicted => {
            "declare it with `--over y=-inf..inf` (or `--sum k=0..3` for an integer)".into()
        }
        Remedy::DeclareOrSet => "declare it with `--over`/`--latent`".into(),
        Remedy::AddData(name) => format!("add `--data {name}=VALUE[,VALUE...]`"),
        Remedy::Sampler(SamplerFix::NarrowOrMcmc) => {
            "narrow the integer ranges, or use --sampler mh on continuous variables".into()
        }
        Remedy::Sampler(SamplerFix::Mcmc) => "use --sampler mh, mala or hmc".into(),
        Remedy::Sampler(SamplerFix::Exact) => "use --sampler exact for integer variables".into(),
        Remedy::ClosedEnergy => "`grad --mc` takes a closed energy (no integrals inside)".into(),
    }
}

/// A diagnostic whose help is its remedy in the command line's words, when it has one.
pub fn diagnostic(d: &Diagnostic) -> Diagnostic {
    match &d.remedy {
        Some(r) => {
            let words = remedy(r);
            d.clone().with_help(words)
        }
        None => d.clone(),
    }
}

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
