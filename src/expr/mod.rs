//! The expression language: lexer, parser, printer, simplifier, symbolic derivative and evaluators.
//!
//! Users write energies and derivation steps as expressions (`0.5*(y - w*z)^2`); this module
//! parses them ([`parse`], [`parse_definition`]), resolves user definitions ([`Context`]),
//! differentiates them symbolically ([`derivative`], [`simplify`]), and evaluates them, either with
//! the reference tree walker ([`eval`]) or compiled to a flat program evaluated over batches of
//! points ([`Program`]), generic over [`num_traits::Float`] so that [`Dual`] numbers give
//! forward-mode derivatives. The syntax is documented in `docs/language.md`.
//!
//! ```
//! use ebmcheck::expr::{Bindings, Context, Dual, Program, derivative, eval, parse, parse_definition};
//!
//! let mut ctx = Context::new();
//! ctx.add_definition(parse_definition("E(y, z) = 0.5*(y - w*z)^2 + 0.5*z^2")?)?;
//! let energy = ctx.inline(&parse("E(y, z) + softplus(z)")?)?;
//!
//! // Symbolic derivative, printed as re-parseable syntax.
//! let dz = derivative(&energy, "z", &ctx)?;
//! assert_eq!(dz.to_string(), "(w*z - y)*w + z + sigmoid(z)");
//!
//! // Reference evaluation, and the compiled program over (y, z) with w folded in.
//! let mut b = Bindings::new();
//! b.set("w", 2.0);
//! let p = Program::compile(&energy, &["y", "z"], &b)?;
//! let (y, z) = (1.0, 0.5);
//! let exact = eval(&dz, &b.with("y", y).with("z", z))?;
//! let dual = p.eval(&[Dual::constant(y), Dual::variable(z)]);
//! assert!((dual.eps - exact).abs() < 1e-12);
//! # Ok::<(), ebmcheck::expr::Diagnostic>(())
//! ```

mod ast;
mod compile;
mod context;
mod diagnostic;
mod diff;
mod dual;
mod eval;
mod interval;
mod lexer;
mod logspace;
mod mixture;
mod parser;
mod print;
#[cfg(test)]
mod properties;
mod rounding;
mod simplify;

pub use ast::{Arity, BinOp, Binding, Builtin, Constant, Expr, ExprKind, Extremum, RESERVED, Span};
pub use compile::{BatchScratch, LANES, MAX_UNROLLED_TERMS, Program};
pub use context::{
    Context, DefinitionError, MAX_INLINED_DEPTH, MAX_INLINED_NODES, free_variables, size_and_depth,
    substitute, with_span,
};
pub use diagnostic::{
    CompileError, Diagnostic, DiffError, ErrorKind, EvalError, MAX_MESSAGE_CHARS, ParseError,
    edit_distance, excerpt, is_invisible, line_col, suggest, visible,
};
pub use diff::{derivative, derivative_of};
pub use dual::Dual;
pub use eval::{
    Bindings, BoundEvaluator, MAX_SUM_TERMS, NoBoundEvaluator, Value, apply, apply1, binary, eval,
    eval_with, logsumexp, logsumexp2, max2, min2, pow, sigmoid, sign, softplus,
};
pub use interval::{Interval, LIBM_ULPS};
pub use lexer::{Tok, Token, greek_name, tokenize};
pub use logspace::expand_logs;
pub use mixture::{MAX_COMPONENTS, mixture_components};
pub use parser::{
    Definition, DefinitionHead, MAX_DEPTH, parse, parse_definition, parse_definition_head,
};
pub use print::{format_number, format_readable};
pub use rounding::rounding_error;
pub use simplify::simplify;
