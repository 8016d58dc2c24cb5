//! `ebmcheck eval EXPR`: the value of a closed expression at the `--set` point. Expressions with
//! bound operators (`int`, `sum`, `min`, `expect`, `diff`, `mc`, …) go through the numeric
//! engine and print their error bound.

use std::collections::BTreeMap;
use std::process::ExitCode;

use crate::common::{ExprOptions, Failure, Format, context, expression, finite, json_line, range};
use ebmcheck::domain::VarDomain;
use ebmcheck::engine::{Engine, EngineError, Point};
use ebmcheck::expr::{Diagnostic, ErrorKind, Tok, eval, tokenize};
use ebmcheck::report::{self, eval::EvalReport};

/// Arguments of `ebmcheck eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The expression (it may begin with `-`, as in `-2^2`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
    /// The domain of a variable that a bound operator ranges over without written limits, e.g.
    /// `z=0..inf` for `int[z](...)`. Default: the whole real line.
    #[arg(long = "over", value_name = "VAR=LO..HI", allow_hyphen_values = true)]
    pub over: Vec<String>,
    /// Seed of Monte-Carlo averages (`mc[...]`).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub opts: ExprOptions,
}

/// Prints the value with full precision (it reads back as the same `f64`); a value from the
/// numeric engine is followed by `± error` (and its Monte-Carlo standard error, if any).
///
/// # Errors
/// Invalid input (exit 2): syntax, unknown names, a value that is not a finite real number, an
/// integral that diverges. A numeric step that did not converge is exit 1.
pub fn run(args: &EvalArgs) -> Result<ExitCode, Failure> {
    let ctx = context(&args.opts)?;
    let (parsed, inlined) = expression(&ctx, &args.expr)?;
    let plain = match eval(&inlined, &ctx.bindings()) {
        Ok(v) => Some(v),
        Err(d) if d.kind == ErrorKind::NeedsNumericEngine => None,
        Err(d) => return Err(Failure::diagnostic(&d, &args.expr, "")),
    };
    if let Some(v) = plain {
        let v = finite(v, &parsed, &args.expr)?;
        print(&EvalReport::plain(v), args.opts.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let domains = domains(args)?;
    let engine = Engine::new(ctx, domains).with_seed(args.seed);
    let fail = |e: &EngineError| {
        let help = e.help.clone().unwrap_or_else(|| {
            "every name must have a value (`--set NAME=VALUE`) or be bound by an operator; give a bound variable limits (`int[z = 0..1](...)`) or `--over z=LO..HI`".to_string()
        });
        match e.span {
            // The part of the expression that failed, under a caret.
            Some(span) => Failure::diagnostic(
                &Diagnostic::new(ErrorKind::NeedsNumericEngine, span, e.message.clone())
                    .with_help(help),
                &args.expr,
                "",
            ),
            None => Failure::invalid(format!(
                "error: `{}` cannot be evaluated: {e}\n  = help: {help}",
                args.expr
            )),
        }
    };
    let prepared = engine.prepare(&parsed).map_err(|e| fail(&e))?;
    let v = engine
        .eval(&prepared, &Point::new())
        .map_err(|e| fail(&e))?;
    let value = finite(v.value, &parsed, &args.expr)?;
    print(&EvalReport::engine(value, &v), args.opts.format)?;
    Ok(if v.converged() && v.error.is_finite() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints the result in the chosen format.
fn print(report: &EvalReport, format: Format) -> Result<(), Failure> {
    match format {
        Format::Text => out!("{}", report::eval::text(report)),
        Format::Json => outln!("{}", json_line(report)?),
    }
    Ok(())
}

/// Domains for the bound variables written without limits: `--over` ones, and the real line for
/// every other name in the expression or the definitions.
fn domains(args: &EvalArgs) -> Result<BTreeMap<String, VarDomain>, Failure> {
    let mut out = BTreeMap::new();
    for text in std::iter::once(&args.expr).chain(&args.opts.defs) {
        for t in tokenize(text).unwrap_or_default() {
            if let Tok::Ident(name) = t.tok {
                out.insert(
                    name,
                    VarDomain::Continuous {
                        lo: f64::NEG_INFINITY,
                        hi: f64::INFINITY,
                    },
                );
            }
        }
    }
    for o in &args.over {
        let (v, lo, hi) = range(o, "--over")?;
        out.insert(v, VarDomain::Continuous { lo, hi });
    }
    Ok(out)
}
