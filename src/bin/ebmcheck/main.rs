//! The `ebmcheck` command-line tool: a thin layer over the library's public API.
//!
//! Exit codes: 0 success, 1 a check failed or was inconclusive, 2 invalid input or usage.
//! Every `--format json` output is one JSON object whose first field is `"schema": 1`.
//! Standard output goes through [`common::out`] (a closed pipe ends the program quietly), so
//! `print!` is denied here.
#![deny(clippy::print_stdout)]

#[macro_use]
mod common;
mod check;
mod diff;
mod eval;
mod grad;
mod hints;
mod logz;
mod sampler_test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Checks the mathematics of energy-based models, symbolically and numerically.
#[derive(Debug, Parser)]
#[command(name = "ebmcheck", version, about)]
struct Cli {
    /// When to colour the output: `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: common::ColorChoice,
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
    #[command(after_help = CHECK_EXAMPLES)]
    Check(check::CheckArgs),
    /// Evaluate a closed expression (integrals, minima, expectations included) with its error.
    #[command(after_help = EVAL_EXAMPLES)]
    Eval(eval::EvalArgs),
    /// Differentiate an expression symbolically.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(diff::DiffArgs),
    /// The log partition function log ∫ exp(-βE) and the free energy, with an error bound.
    #[command(after_help = LOGZ_EXAMPLES)]
    Logz(logz::LogzArgs),
    /// The exact maximum-likelihood gradient, cross-checked by finite differences and Monte Carlo.
    #[command(after_help = GRAD_EXAMPLES)]
    Grad(grad::GradArgs),
    /// Test draws from a sampler against exp(-βE)/Z: exact references, Holm verdict.
    #[command(after_help = SAMPLER_TEST_EXAMPLES)]
    SamplerTest(sampler_test::SamplerTestArgs),
}

const CHECK_EXAMPLES: &str = "Examples:
  ebmcheck check                                   # every derivations/*.toml
  ebmcheck check derivations/kmeans.toml --filter c6
  ebmcheck check --format json --seed 7 --report target/report";

const EVAL_EXAMPLES: &str = "Examples:
  ebmcheck eval \"logsumexp(1000, 1000)\"
  ebmcheck eval \"E(1, 2)\" --def \"E(y, z) = 0.5*(y - w*z)^2\" --set w=0.5
  ebmcheck eval \"int[z](exp(-z^2))\"                 # value ± error bound";

const DIFF_EXAMPLES: &str = "Examples:
  ebmcheck diff \"0.5*(y - w*z)^2\" --wrt w
  ebmcheck diff \"0.5*(y - w*z)^2 + softplus(z)\" --wrt z --set y=1 --set w=2 --set z=0.3";

const LOGZ_EXAMPLES: &str = "Examples:
  ebmcheck logz \"(z^2 - 1)^2\" --over z=-inf..inf --beta 1,100,10000
  ebmcheck logz \"(z1^2 + z2^2 - 1)^2\" --over z1=-inf..inf --over z2=-inf..inf --beta 1e4 --format json
  ebmcheck logz \"0.5*k^2 + z^2\" --sum k=0..3 --over z=0..1 --beta 2";

const GRAD_EXAMPLES: &str = "Examples:
  ebmcheck grad \"0.5*(y - w*z)^2 + 0.5*z^2\" --over y=-inf..inf --latent z=-inf..inf \\
      --data y=0.3,-1.2,0.8 --wrt w --set w=1.5 --beta 2 --mc 40000 --sampler mh
  ebmcheck grad \"0.5*(y - m)^2\" --over y=-inf..inf --data y=0.9,1.1,1.3 --wrt m \\
      --set m=-1 --beta 1 --cd 1
  ebmcheck grad \"0.5*(y - m)^2\" --over y=-inf..inf --data y=1 --wrt m --set m=0 \\
      --beta 1 --report target/grad";

const SAMPLER_TEST_EXAMPLES: &str = "Tests run (each against an exact reference computed by quadrature; Holm's correction at --alpha):
  - mean of each coordinate and of its square, the cross moments y_i*y_j, and the mean of E;
  - region masses: the basins of the energy's minima, or quartile bins of every coordinate
    when there is one minimum (3-4D and basins too fine for the grid: bins of every coordinate,
    cut between the minima where they separate along it);
  - Kolmogorov-Smirnov and Anderson-Darling tests of each coordinate's CDF (1D) and of the CDF of
    E (every dimension), on draws thinned by twice the autocorrelation time;
  - finite draws; and with 2 or more chains the rank-normalised split R-hat (a diagnostic: above
    its limit the verdict cannot be pass). Tests whose effective sample size is too small cannot
    fail and make a pass inconclusive.

Examples:
  ebmcheck sampler-test \"0.5*y^2\" --over y=-inf..inf --beta 1 --samples draws.csv
  ebmcheck sampler-test \"(x^2 + y^2 - 1)^2\" --over x=-inf..inf --over y=-inf..inf \\
      --beta 1 --samples draws.csv --report target/sampler
  ebmcheck sampler-test \"(y^2 - 1)^2\" --over y=-inf..inf --beta 4 --samples draws.csv --format json";

fn main() -> ExitCode {
    let cli = Cli::parse();
    common::set_color(cli.color);
    // Budget errors name the flag that raises them (the library's own wording names none).
    ebmcheck::budgets::set_raise_wording(hints::raise_budget);
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
