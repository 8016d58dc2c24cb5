//! `ebmcheck diff EXPR --wrt VAR`: the simplified symbolic derivative, and its value when every variable is set.

use crate::common::{
    ExprOptions, Failure, Format, all_set, context, expression, finite, json_line,
};
use ebmcheck::expr::{ErrorKind, Tok, derivative_of, eval, free_variables, simplify, tokenize};
use ebmcheck::report::diff::DiffReport;
use std::process::ExitCode;

/// Arguments of `ebmcheck diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The expression (it may begin with `-`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
    /// The variable to differentiate with respect to (`beta` and `β` are the same).
    #[arg(long, value_name = "VAR")]
    pub wrt: String,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// Prints the derivative as an expression `ebmcheck eval` accepts (text: on the first line, with
/// `= VALUE` on a second line when every variable is set and the value needs no numeric engine).
///
/// # Errors
/// Invalid input (exit 2), a derivative that does not exist symbolically, or a value at the point
/// that is not a finite real number.
pub fn run(args: &DiffArgs) -> Result<ExitCode, Failure> {
    let var = match tokenize(&args.wrt).ok().as_deref() {
        Some([t, end]) if end.tok == Tok::Eof => match &t.tok {
            Tok::Ident(name) => name.clone(),
            _ => return Err(bad_var(&args.wrt)),
        },
        _ => return Err(bad_var(&args.wrt)),
    };
    let ctx = context(&args.opts)?;
    let (_, inlined) = expression(&ctx, &args.expr)?;
    let d = derivative_of(&inlined, &var).map_err(|d| Failure::diagnostic(&d, &args.expr, ""))?;
    let d = simplify(&d);
    let vars: Vec<String> = free_variables(&d).into_iter().collect();
    let value = if all_set(&ctx, &vars) {
        match eval(&d, &ctx.bindings()) {
            Ok(v) => Some(finite(v, &d, &args.expr)?),
            Err(e) if e.kind == ErrorKind::NeedsNumericEngine => None,
            Err(e) => return Err(Failure::diagnostic(&e, &args.expr, "")),
        }
    } else {
        None
    };
    let report = DiffReport {
        schema: 1,
        derivative: d.to_string(),
        value,
    };
    match args.opts.format {
        Format::Text => out!("{}", ebmcheck::report::diff::text(&report)),
        Format::Json => outln!("{}", json_line(&report)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn bad_var(text: &str) -> Failure {
    Failure::invalid(format!(
        "error: `--wrt {text}` is not a variable name\n  = help: write a name such as `--wrt w`"
    ))
}
