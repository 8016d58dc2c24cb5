//! The Pratt parser: a small binding-power table, spans on every node, errors with suggestions.

use super::ast::{BinOp, Binding, Builtin, Constant, Expr, ExprKind, Extremum, RESERVED, Span};
use super::diagnostic::{Diagnostic, ErrorKind, ParseError};
use super::lexer::{Tok, Token, tokenize};

mod bound;

/// The deepest expression tree the parser builds; deeper input is an error, so that the
/// recursive algorithms downstream cannot exhaust the stack. It equals the depth an inlined
/// expression may reach ([`super::MAX_INLINED_DEPTH`]), so that whatever the library prints
/// (a derivative, an inlined expression) parses again.
pub const MAX_DEPTH: usize = super::context::MAX_INLINED_DEPTH;

/// The deepest recursion of the parser: parentheses and prefix minus nest without adding tree
/// depth, and printing adds parentheses, so the bound is a multiple of [`MAX_DEPTH`].
const MAX_NESTING: usize = 3 * MAX_DEPTH + 8;

fn too_deep(span: Span, depth: usize) -> Diagnostic {
    Diagnostic::new(
        ErrorKind::TooDeep,
        span,
        format!("expression nested too deeply (more than {depth} levels)"),
    )
    .with_help(format!(
        "each operator of a chain such as `a + b + c` and each call or bracket is one level; the limit is {MAX_DEPTH} levels of the tree: split it into definitions or sums"
    ))
}

/// Binding power of prefix `-`: looser than `^`, so `-2^2 = -(2^2)`; tighter than `*`.
const PREFIX_MINUS_BP: u8 = 5;

/// Left and right binding powers of the infix operators; `^` is right-associative.
fn infix_binding_power(tok: &Tok) -> Option<(BinOp, u8, u8)> {
    Some(match tok {
        Tok::Plus => (BinOp::Add, 1, 2),
        Tok::Minus => (BinOp::Sub, 1, 2),
        Tok::Star => (BinOp::Mul, 3, 4),
        Tok::Slash => (BinOp::Div, 3, 4),
        Tok::Caret => (BinOp::Pow, 8, 7),
        _ => return None,
    })
}

/// A user definition `F(x, y) = body`, a named value `a = 2.5`, or a list `c = [0, 2, -1]`
/// (whose body is an [`ExprKind::List`]).
#[derive(Debug, Clone)]
pub struct Definition {
    /// The defined name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// Parameter names (empty for values and lists).
    pub params: Vec<String>,
    /// The right-hand side.
    pub body: Expr,
}

/// The head of a definition, `F(x, y)` or `a`: its name and parameters, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionHead {
    /// The defined name.
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// Parameter names, each once.
    pub params: Vec<String>,
}

/// Parses and validates a definition head alone (`F(beta, y)`, `a`), as a derivation file's
/// `[definitions]` keys are written: the same rules as the head of [`parse_definition`] (no
/// builtin or reserved name, no parameter twice).
///
/// # Errors
/// A [`ParseError`] locating the problem in `src`.
pub fn parse_definition_head(src: &str) -> Result<DefinitionHead, ParseError> {
    let mut p = Parser::new(src)?;
    if p.peek() == &Tok::Eof {
        return Err(Diagnostic::new(
            ErrorKind::EmptyInput,
            Span::new(0, src.len()),
            "empty definition head",
        )
        .with_help("write the head as `F(beta, y)`: a name and its parameters"));
    }
    let head = p.head()?;
    if p.peek() != &Tok::Eof {
        return Err(p
            .unexpected("the end of the definition head")
            .with_help("write the head as `F(beta, y)`: a name and its parameters"));
    }
    Ok(head)
}

/// Parses an expression.
///
/// # Errors
/// A [`ParseError`] locating the first problem, with a suggested fix where one is likely.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    with_parser_stack(src, parse_here)
}

/// Inputs longer than this many bytes are parsed on a thread with [`PARSER_STACK`] bytes of
/// stack: the parser recurses once per nesting level (up to [`MAX_NESTING`]), which a small
/// thread stack (2 MiB for test and worker threads) cannot hold. Shorter inputs cannot nest
/// that deeply and are parsed in place.
const PARSE_IN_PLACE_BYTES: usize = 512;

/// Stack of the parsing thread for long inputs.
const PARSER_STACK: usize = 256 << 20;

fn with_parser_stack<T: Send>(
    src: &str,
    f: fn(&str) -> Result<T, ParseError>,
) -> Result<T, ParseError> {
    if src.len() <= PARSE_IN_PLACE_BYTES {
        return f(src);
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("ebmcheck-parse".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || f(src));
        match handle {
            Ok(h) => h.join().unwrap_or_else(|_| {
                Err(Diagnostic::new(
                    ErrorKind::TooDeep,
                    Span::new(0, src.len()),
                    "the expression could not be parsed (the parser stopped)",
                ))
            }),
            // No thread: parse in place (the nesting limit still applies).
            Err(_) => f(src),
        }
    })
}

fn parse_here(src: &str) -> Result<Expr, ParseError> {
    let mut p = Parser::new(src)?;
    if p.peek() == &Tok::Eof {
        return Err(Diagnostic::new(
            ErrorKind::EmptyInput,
            Span::new(0, src.len()),
            "empty expression",
        )
        .with_help("write an expression such as `x^2 + 1`"));
    }
    let (e, _) = p.expr(0)?;
    p.finish()?;
    Ok(e)
}

/// Parses a definition: `F(beta, y) = expr`, `a = expr` or `c = [1, 2, 3]`.
///
/// # Errors
/// A [`ParseError`]: malformed syntax, a reserved or builtin name, a repeated parameter.
pub fn parse_definition(src: &str) -> Result<Definition, ParseError> {
    with_parser_stack(src, parse_definition_here)
}

fn parse_definition_here(src: &str) -> Result<Definition, ParseError> {
    let mut p = Parser::new(src)?;
    if p.peek() == &Tok::Eof {
        return Err(Diagnostic::new(
            ErrorKind::EmptyInput,
            Span::new(0, src.len()),
            "empty definition",
        )
        .with_help("write a definition such as `E(y, z) = (y - z)^2`"));
    }
    let DefinitionHead {
        name,
        name_span,
        params,
    } = p.head()?;
    if p.peek() != &Tok::Eq {
        return Err(p
            .unexpected("`=`")
            .with_help(format!("a definition reads `{name}(x, y) = expression`")));
    }
    p.bump();
    let body = if p.peek() == &Tok::LBracket && params.is_empty() {
        let open = p.bump().span;
        let mut items = Vec::new();
        if p.peek() != &Tok::RBracket {
            loop {
                items.push(p.expr(0)?.0);
                if p.peek() == &Tok::Comma {
                    p.bump();
                } else {
                    break;
                }
            }
        }
        let close = p.close(Tok::RBracket, open)?;
        Expr::new(ExprKind::List(items), open.to(close))
    } else {
        if p.peek() == &Tok::Eof {
            return Err(p.unexpected("an expression after `=`"));
        }
        p.expr(0)?.0
    };
    p.finish()?;
    Ok(Definition {
        name,
        name_span,
        params,
        body,
    })
}

fn check_definable(name: &str, span: Span) -> Result<(), ParseError> {
    if Builtin::from_name(name).is_some() {
        return Err(Diagnostic::new(
            ErrorKind::ReservedWord,
            span,
            format!("`{name}` is a builtin function and cannot be redefined"),
        )
        .with_help(format!("choose another name, such as `{name}_`")));
    }
    check_variable_name(name, span)
}

fn check_variable_name(name: &str, span: Span) -> Result<(), ParseError> {
    if RESERVED.contains(&name) || name == "pi" || name == "inf" {
        return Err(Diagnostic::new(
            ErrorKind::ReservedWord,
            span,
            format!("`{name}` is a reserved word and cannot name a variable"),
        )
        .with_help(format!("choose another name, such as `{name}_`")));
    }
    Ok(())
}

/// Whether `name` occurs free in `e`: `t` in `int[t = 0..1](t)` is bound there, so the limits
/// `0..int[t = 0..1](t)` of an outer `t` do not depend on the outer `t`.
fn mentions(e: &Expr, name: &str) -> bool {
    super::context::free_variables(e).contains(name)
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    nesting: usize,
}

type PResult<T> = Result<T, ParseError>;

/// Builds a bound-operator node once its body is parsed.
type MakeNode = Box<dyn FnOnce(Box<Expr>) -> ExprKind>;

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> PResult<Self> {
        Ok(Parser {
            src,
            toks: tokenize(src)?,
            pos: 0,
            nesting: 0,
        })
    }

    /// `F(x, y)` or `a`: a definable name and distinct, non-reserved parameter names.
    fn head(&mut self) -> PResult<DefinitionHead> {
        let (name, name_span) = match self.peek().clone() {
            Tok::Ident(n) => {
                let sp = self.bump().span;
                (n, sp)
            }
            _ => {
                return Err(self
                    .unexpected("a name to define")
                    .with_help("a definition reads `F(x, y) = expression` or `c = [1, 2, 3]`"));
            }
        };
        check_definable(&name, name_span)?;
        let mut params: Vec<String> = Vec::new();
        if self.peek() == &Tok::LParen {
            let open = self.bump().span;
            if self.peek() != &Tok::RParen {
                loop {
                    let (param, sp) = self.ident("a parameter name")?;
                    check_variable_name(&param, sp)?;
                    if params.contains(&param) {
                        return Err(Diagnostic::new(
                            ErrorKind::BadDefinition,
                            sp,
                            format!("parameter `{param}` appears twice"),
                        )
                        .with_help("give each parameter its own name"));
                    }
                    params.push(param);
                    if self.peek() == &Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            self.close(Tok::RParen, open)?;
        }
        Ok(DefinitionHead {
            name,
            name_span,
            params,
        })
    }

    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn span(&self) -> Span {
        self.toks
            .get(self.pos)
            .map_or(Span::new(self.src.len(), self.src.len()), |t| t.span)
    }

    fn bump(&mut self) -> Token {
        let t = self.toks.get(self.pos).cloned().unwrap_or(Token {
            tok: Tok::Eof,
            span: Span::new(self.src.len(), self.src.len()),
        });
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self, wanted: &str) -> Diagnostic {
        let tok = self.peek();
        if tok == &Tok::Eof {
            Diagnostic::new(
                ErrorKind::UnexpectedEnd,
                self.span(),
                format!("expected {wanted}, found end of input"),
            )
        } else if tok == &Tok::RParen {
            Diagnostic::new(
                ErrorKind::UnbalancedParenthesis,
                self.span(),
                format!("expected {wanted}, found `)`"),
            )
            .with_help("remove the unmatched `)`")
        } else {
            Diagnostic::new(
                ErrorKind::UnexpectedToken,
                self.span(),
                format!("expected {wanted}, found {}", tok.describe()),
            )
        }
    }

    fn ident(&mut self, wanted: &str) -> PResult<(String, Span)> {
        match self.peek().clone() {
            Tok::Ident(n) => Ok((n, self.bump().span)),
            _ => Err(self.unexpected(wanted)),
        }
    }

    fn expect(&mut self, tok: Tok, wanted: &str) -> PResult<Span> {
        if self.peek() == &tok {
            Ok(self.bump().span)
        } else {
            Err(self.unexpected(wanted))
        }
    }

    /// Consumes the closing bracket matching the one at `open`.
    fn close(&mut self, tok: Tok, open: Span) -> PResult<Span> {
        if self.peek() == &tok {
            return Ok(self.bump().span);
        }
        let (o, c) = if tok == Tok::RParen {
            ("(", ")")
        } else {
            ("[", "]")
        };
        if self.peek() == &Tok::Eof {
            Err(Diagnostic::new(
                ErrorKind::UnbalancedParenthesis,
                open,
                format!("unclosed `{o}`"),
            )
            .with_help(format!("add `{c}` at the end")))
        } else {
            Err(Diagnostic::new(
                ErrorKind::UnbalancedParenthesis,
                self.span(),
                format!(
                    "expected `{c}` to close the `{o}` at byte {}, found {}",
                    open.start,
                    self.peek().describe()
                ),
            )
            .with_help(format!("add `{c}` before this")))
        }
    }

    fn finish(&mut self) -> PResult<()> {
        match self.peek() {
            Tok::Eof => Ok(()),
            Tok::RParen => Err(Diagnostic::new(
                ErrorKind::UnbalancedParenthesis,
                self.span(),
                "unmatched `)`",
            )
            .with_help("remove it, or add the missing `(`")),
            _ => Err(self.unexpected("an operator or the end of input")),
        }
    }

    fn starts_operand(tok: &Tok) -> bool {
        matches!(tok, Tok::Number(_) | Tok::Ident(_) | Tok::LParen)
    }

    /// Parses an expression whose operators bind at least as tightly as `min_bp`;
    /// returns it with its tree depth.
    fn expr(&mut self, min_bp: u8) -> PResult<(Expr, usize)> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(too_deep(self.span(), MAX_NESTING));
        }
        let r = self.expr_inner(min_bp);
        self.nesting -= 1;
        match r {
            Ok((e, depth)) if depth > MAX_DEPTH => Err(too_deep(e.span, MAX_DEPTH)),
            r => r,
        }
    }

    fn expr_inner(&mut self, min_bp: u8) -> PResult<(Expr, usize)> {
        let (mut lhs, mut depth) = self.prefix()?;
        loop {
            let tok = self.peek().clone();
            if let Some((op, l_bp, r_bp)) = infix_binding_power(&tok) {
                if l_bp < min_bp {
                    break;
                }
                self.bump();
                if self.peek() == &Tok::Eof {
                    return Err(self.unexpected(&format!("an operand after `{}`", op.symbol())));
                }
                let (rhs, d) = self.expr(r_bp)?;
                depth = depth.max(d) + 1;
                if depth > MAX_DEPTH {
                    return Err(too_deep(lhs.span.to(rhs.span), MAX_DEPTH));
                }
                let span = lhs.span.to(rhs.span);
                lhs = Expr::binary(op, lhs, rhs, span);
            } else if Self::starts_operand(&tok) {
                let here = self.span();
                let left = self.src.get(lhs.span.start..lhs.span.end).unwrap_or("");
                let right = self.src.get(here.start..here.end).unwrap_or("");
                return Err(Diagnostic::new(
                    ErrorKind::MissingOperator,
                    here,
                    format!("expected an operator, found {}", tok.describe()),
                )
                .with_help(format!("did you mean `{left}*{right}`?")));
            } else {
                break;
            }
        }
        Ok((lhs, depth))
    }

    fn prefix(&mut self) -> PResult<(Expr, usize)> {
        let start = self.span();
        match self.peek().clone() {
            Tok::Minus => {
                self.bump();
                if self.peek() == &Tok::Eof {
                    return Err(self.unexpected("an operand after `-`"));
                }
                let (e, d) = self.expr(PREFIX_MINUS_BP)?;
                let span = start.to(e.span);
                Ok((Expr::neg(e, span), d + 1))
            }
            Tok::Plus => Err(Diagnostic::new(
                ErrorKind::UnexpectedToken,
                start,
                "unary `+` is not part of the language",
            )
            .with_help("remove the `+`")),
            Tok::Number(v) => {
                self.bump();
                Ok((Expr::new(ExprKind::Number(v), start), 1))
            }
            Tok::LParen => {
                self.bump();
                if self.peek() == &Tok::RParen {
                    return Err(self.unexpected("an expression inside `( )`"));
                }
                // The node keeps its own span; the parentheses are not part of the tree.
                let (e, d) = self.expr(0)?;
                self.close(Tok::RParen, start)?;
                Ok((e, d))
            }
            Tok::Ident(name) => {
                self.bump();
                self.identifier(name, start)
            }
            Tok::Eof => Err(self.unexpected("an expression")),
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn identifier(&mut self, name: String, start: Span) -> PResult<(Expr, usize)> {
        let next = self.peek().clone();
        if next == Tok::LBracket && RESERVED.contains(&name.as_str()) {
            return self.bound_operator(&name, start);
        }
        if name == "pi" || name == "inf" {
            if next == Tok::LParen {
                return Err(Diagnostic::new(
                    ErrorKind::UnexpectedToken,
                    start,
                    format!("`{name}` is a constant, not a function"),
                )
                .with_help(format!("did you mean `{name}*(`?")));
            }
            let c = if name == "pi" {
                Constant::Pi
            } else {
                Constant::Inf
            };
            return Ok((Expr::new(ExprKind::Const(c), start), 1));
        }
        if next == Tok::LParen {
            let open = self.bump().span;
            let mut args = Vec::new();
            let mut depth = 0;
            if self.peek() != &Tok::RParen {
                loop {
                    let (a, d) = self.expr(0)?;
                    depth = depth.max(d);
                    args.push(a);
                    if self.peek() == &Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            let close = self.close(Tok::RParen, open)?;
            let span = start.to(close);
            if let Some(b) = Builtin::from_name(&name) {
                if !b.arity().accepts(args.len()) {
                    return Err(Diagnostic::new(
                        ErrorKind::WrongArity,
                        span,
                        format!("`{name}` takes {}, found {}", b.arity(), args.len()),
                    )
                    .with_help(arity_help(b)));
                }
                return Ok((Expr::call(b, args, span), depth + 1));
            }
            if RESERVED.contains(&name.as_str()) {
                return Err(Diagnostic::new(
                    ErrorKind::UnexpectedToken,
                    start,
                    format!("`{name}` needs its bound variable in brackets"),
                )
                .with_help(format!("write `{name}[z](...)`")));
            }
            return Ok((
                Expr::new(ExprKind::UserCall { name, args }, span),
                depth + 1,
            ));
        }
        if next == Tok::LBracket {
            let open = self.bump().span;
            let (index, d) = self.expr(0)?;
            let close = self.close(Tok::RBracket, open)?;
            return Ok((
                Expr::new(
                    ExprKind::Index {
                        list: name,
                        index: Box::new(index),
                    },
                    start.to(close),
                ),
                d + 1,
            ));
        }
        if let Some(b) = Builtin::from_name(&name) {
            return Err(Diagnostic::new(
                ErrorKind::ReservedWord,
                start,
                format!("`{name}` is a function and cannot be used as a variable"),
            )
            .with_help(format!("did you mean `{}(...)`?", b.name())));
        }
        check_variable_name(&name, start)?;
        Ok((Expr::new(ExprKind::Var(name), start), 1))
    }
}

fn arity_help(b: Builtin) -> String {
    match b.arity() {
        super::ast::Arity::Exactly(1) => format!("write `{}(x)`", b.name()),
        super::ast::Arity::Exactly(_) | super::ast::Arity::AtLeast(_) => {
            format!("write `{}(a, b)`", b.name())
        }
    }
}

#[cfg(test)]
mod tests;
