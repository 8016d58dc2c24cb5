//! The expression language: lexer, parser, printer, simplifier, symbolic derivative and evaluators.
//!
//! Users write energies and derivation steps as expressions (`0.5*(y - w*z)^2`); this module
//! parses them ([`parse`], [`parse_definition`]), resolves user definitions ([`Context`]),
//! differentiates them symbolically ([`derivative`], [`simplify`]), and evaluates them, either with
//! the reference tree walker ([`eval`]) or compiled to a flat program evaluated over batches of
//! points ([`Program`]), generic over [`num_traits::Float`] so that [`Dual`] numbers give
//! forward-mode derivatives. The syntax is documented in `docs/language.md`.

mod ast;
mod diagnostic;
mod lexer;
mod parser;
mod print;

pub use ast::{Arity, BinOp, Binding, Builtin, Constant, Expr, ExprKind, Extremum, RESERVED, Span};
pub use diagnostic::{
    CompileError, Diagnostic, DiffError, ErrorKind, EvalError, ParseError, edit_distance, line_col,
    suggest,
};
pub use lexer::{Tok, Token, greek_name, tokenize};
pub use parser::{Definition, MAX_DEPTH, parse, parse_definition};
pub use print::format_number;
