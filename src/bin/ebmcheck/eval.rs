//! `ebmcheck eval EXPR`: the value of an expression at the `--set` point.

use crate::common::{ExprOptions, Failure, Format, context, expression, finite, json_object};
use ebmcheck::expr::eval;
use std::process::ExitCode;

/// Arguments of `ebmcheck eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The expression (it may begin with `-`, as in `-2^2`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// Prints the value with full precision (it reads back as the same `f64`).
///
/// # Errors
/// Invalid input (exit 2): syntax, unknown names, a value that is not a finite real number.
pub fn run(args: &EvalArgs) -> Result<ExitCode, Failure> {
    let ctx = context(&args.opts)?;
    let (parsed, inlined) = expression(&ctx, &args.expr)?;
    let v = eval(&inlined, &ctx.bindings()).map_err(|d| Failure::diagnostic(&d, &args.expr, ""))?;
    let v = finite(v, &parsed, &args.expr)?;
    match args.opts.format {
        Format::Text => println!("{}", ebmcheck::expr::format_number(v)),
        Format::Json => println!("{}", json_object(&[("value", serde_json::json!(v))])),
    }
    Ok(ExitCode::SUCCESS)
}
