//! The `ebmcheck` command-line tool: a thin layer over the library's public API.
//!
//! Exit codes: 0 success, 1 a check failed or was inconclusive, 2 invalid input or usage.
//! Every `--format json` output is one JSON object whose first field is `"schema": 1`.

mod check;
mod common;
mod diff;
mod eval;
mod grad;
mod logz;
mod sampler_test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Checks the mathematics of energy-based models, symbolically and numerically.
#[derive(Debug, Parser)]
#[command(name = "ebmcheck", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Raise (or lower) a work limit, `NAME=N`, e.g. `sum_terms=1e9` (repeatable). The budgets
    /// and their defaults are listed in ARCHITECTURE.md: sum_terms, unrolled_terms, definitions,
    /// expression_bytes, inlined_nodes, derivative_nodes, replicates, draws, chains, files, points
    #[arg(long = "budget", value_name = "NAME=N", global = true)]
    budgets: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check derivation files (default: every file in derivations/).
    Check(check::CheckArgs),
    /// Evaluate an expression at a point.
    Eval(eval::EvalArgs),
    /// Differentiate an expression symbolically.
    Diff(diff::DiffArgs),
    /// The log partition function log ∫ exp(-βE) and the free energy, with an error bound.
    Logz(logz::LogzArgs),
    /// The exact maximum-likelihood gradient, cross-checked by finite differences and Monte Carlo.
    Grad(grad::GradArgs),
    /// Test draws from a sampler against exp(-βE)/Z: exact references, Holm verdict.
    SamplerTest(sampler_test::SamplerTestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    for setting in &cli.budgets {
        if let Err(message) = ebmcheck::budgets::set_from_str(setting) {
            eprintln!("error: --budget {setting}: {message}");
            return ExitCode::from(2);
        }
    }
    ebmcheck::budgets::start_run();
    let result = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Logz(args) => logz::run(&args),
        Command::Grad(args) => grad::run(&args),
        Command::SamplerTest(args) => sampler_test::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprint!("{}", failure.message);
            if !failure.message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(failure.code)
        }
    }
}
