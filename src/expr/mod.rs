//! The expression language: lexer, parser, printer, simplifier, symbolic derivative and evaluators.
//!
//! Users write energies and derivation steps as expressions (`0.5*(y - w*z)^2`); this module
//! parses them ([`parse`], [`parse_definition`]), resolves user definitions ([`Context`]),
//! differentiates them symbolically ([`derivative`], [`simplify`]), and evaluates them, either with
//! the reference tree walker ([`eval`]) or compiled to a flat program evaluated over batches of
//! points ([`Program`]), generic over [`num_traits::Float`] so that [`Dual`] numbers give
//! forward-mode derivatives. The syntax is documented in `docs/language.md`.

mod ast;
mod compile;
mod context;
mod diagnostic;
mod diff;
mod dual;
mod eval;
mod lexer;
mod parser;
mod print;
#[cfg(test)]
mod properties;
mod simplify;

pub use ast::{Arity, BinOp, Binding, Builtin, Constant, Expr, ExprKind, Extremum, RESERVED, Span};
pub use compile::{BatchScratch, LANES, MAX_UNROLLED_TERMS, Program};
pub use context::{
    Context, DefinitionError, MAX_INLINED_DEPTH, MAX_INLINED_NODES, free_variables, size_and_depth,
    substitute,
};
pub use diagnostic::{
    CompileError, Diagnostic, DiffError, ErrorKind, EvalError, ParseError, edit_distance, line_col,
    suggest,
};
pub use diff::{derivative, derivative_of};
pub use dual::Dual;
pub use eval::{
    Bindings, BoundEvaluator, MAX_SUM_TERMS, NoBoundEvaluator, Value, apply, apply1, binary, eval,
    eval_with, logsumexp, logsumexp2, max2, min2, pow, sigmoid, sign, softplus,
};
pub use lexer::{Tok, Token, greek_name, tokenize};
pub use parser::{Definition, MAX_DEPTH, parse, parse_definition};
pub use print::format_number;
pub use simplify::simplify;
