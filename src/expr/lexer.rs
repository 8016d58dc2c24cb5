//! The lexer: numbers, identifiers (with primes; Greek letters spelled out), operators and symbols.

use super::ast::Span;
use super::diagnostic::{Diagnostic, ErrorKind, is_invisible};
use crate::budgets::{self, Budget};

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A non-negative number literal.
    Number(f64),
    /// An identifier, with Greek letters replaced by their English names (`β` → `beta`);
    /// `∫`, `Σ`, `∂` become the keywords `int`, `sum`, `diff`.
    Ident(String),
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `^`
    Caret,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `=`
    Eq,
    /// `..`
    DotDot,
    /// `~`
    Tilde,
    /// `;`
    Semi,
    /// `->` or `→`
    Arrow,
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token is shown in error messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Number(v) => format!("number `{v}`"),
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Slash => "`/`".into(),
            Tok::Caret => "`^`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Eq => "`=`".into(),
            Tok::DotDot => "`..`".into(),
            Tok::Tilde => "`~`".into(),
            Tok::Semi => "`;`".into(),
            Tok::Arrow => "`->`".into(),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// A token and its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The kind.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// The English name of a Greek letter (`π` is `pi`, the constant), if `c` is one.
pub fn greek_name(c: char) -> Option<&'static str> {
    Some(match c {
        'α' => "alpha",
        'β' => "beta",
        'γ' => "gamma",
        'δ' => "delta",
        'ε' | 'ϵ' => "epsilon",
        'ζ' => "zeta",
        'η' => "eta",
        'θ' | 'ϑ' => "theta",
        'ι' => "iota",
        'κ' => "kappa",
        'λ' => "lambda",
        'μ' => "mu",
        'ν' => "nu",
        'ξ' => "xi",
        'ο' => "omicron",
        'π' => "pi",
        'ρ' => "rho",
        'σ' | 'ς' => "sigma",
        'τ' => "tau",
        'υ' => "upsilon",
        'φ' | 'ϕ' => "phi",
        'χ' => "chi",
        'ψ' => "psi",
        'ω' => "omega",
        'Γ' => "Gamma",
        'Δ' => "Delta",
        'Θ' => "Theta",
        'Λ' => "Lambda",
        'Ξ' => "Xi",
        'Π' => "Pi",
        'Φ' => "Phi",
        'Ψ' => "Psi",
        'Ω' => "Omega",
        _ => return None,
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || greek_name(c).is_some()
}

fn is_ident_continue(c: char) -> bool {
    is_ident_start(c) || c.is_ascii_digit()
}

/// Splits `src` into tokens, ending with [`Tok::Eof`].
///
/// # Errors
/// A stray character, a malformed number, or a number glued to a name (`2y`).
pub fn tokenize(src: &str) -> Result<Vec<Token>, Diagnostic> {
    // The budget is checked before anything is allocated for the text.
    if let Err(e) = budgets::check(Budget::ExpressionBytes, src.len() as u128, "the expression") {
        return Err(
            Diagnostic::new(ErrorKind::TooLarge, Span::new(0, 0), e.message()).with_help(e.help()),
        );
    }
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(src.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = |t: Tok| Token {
            tok: t,
            span: Span::new(start, start + c.len_utf8()),
        };
        let next = chars.get(i + 1).map(|&(_, c)| c);
        match c {
            '+' => out.push(single(Tok::Plus)),
            '*' => out.push(single(Tok::Star)),
            '/' => out.push(single(Tok::Slash)),
            '^' => out.push(single(Tok::Caret)),
            '(' => out.push(single(Tok::LParen)),
            ')' => out.push(single(Tok::RParen)),
            '[' => out.push(single(Tok::LBracket)),
            ']' => out.push(single(Tok::RBracket)),
            ',' => out.push(single(Tok::Comma)),
            '=' => out.push(single(Tok::Eq)),
            '~' => out.push(single(Tok::Tilde)),
            ';' => out.push(single(Tok::Semi)),
            '→' => out.push(single(Tok::Arrow)),
            '∫' => out.push(single(Tok::Ident("int".into()))),
            'Σ' | '∑' => out.push(single(Tok::Ident("sum".into()))),
            '∂' => out.push(single(Tok::Ident("diff".into()))),
            '∞' => out.push(single(Tok::Ident("inf".into()))),
            '−' => out.push(single(Tok::Minus)),
            '·' | '×' => out.push(single(Tok::Star)),
            '-' if next == Some('>') => {
                out.push(Token {
                    tok: Tok::Arrow,
                    span: Span::new(start, start + 2),
                });
                i += 2;
                continue;
            }
            '-' => out.push(single(Tok::Minus)),
            '.' if next == Some('.') => {
                out.push(Token {
                    tok: Tok::DotDot,
                    span: Span::new(start, start + 2),
                });
                i += 2;
                continue;
            }
            c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let mut j = i;
                while j < chars.len() && chars[j].1.is_ascii_digit() {
                    j += 1;
                }
                // A single `.` followed by a digit is a decimal point; `..` is a range.
                if j < chars.len()
                    && chars[j].1 == '.'
                    && chars.get(j + 1).is_some_and(|&(_, d)| d.is_ascii_digit())
                {
                    j += 1;
                    while j < chars.len() && chars[j].1.is_ascii_digit() {
                        j += 1;
                    }
                } else if j < chars.len()
                    && chars[j].1 == '.'
                    && chars.get(j + 1).is_none_or(|&(_, d)| d != '.')
                {
                    // `1.` is accepted as `1.0`.
                    j += 1;
                }
                // An exponent only when it is complete (`1e-3`); `2e` alone is `2` glued to `e`.
                if j < chars.len() && matches!(chars[j].1, 'e' | 'E') {
                    let mut k = j + 1;
                    if k < chars.len() && matches!(chars[k].1, '+' | '-') {
                        k += 1;
                    }
                    if k < chars.len() && chars[k].1.is_ascii_digit() {
                        while k < chars.len() && chars[k].1.is_ascii_digit() {
                            k += 1;
                        }
                        j = k;
                    }
                }
                let end = byte_at(j);
                let text = &src[start..end];
                let value: f64 = text.parse().map_err(|_| {
                    Diagnostic::new(
                        ErrorKind::BadNumber,
                        Span::new(start, end),
                        format!("malformed number `{text}`"),
                    )
                })?;
                if value.is_infinite() {
                    return Err(Diagnostic::new(
                        ErrorKind::BadNumber,
                        Span::new(start, end),
                        format!(
                            "the number `{text}` is beyond the largest floating-point number (about 1.8e308)"
                        ),
                    )
                    .with_help("write `inf` for infinity, or rescale the expression"));
                }
                if j < chars.len() && is_ident_continue(chars[j].1) {
                    let mut k = j;
                    while k < chars.len() && (is_ident_continue(chars[k].1) || chars[k].1 == '\'') {
                        k += 1;
                    }
                    let name = &src[end..byte_at(k)];
                    let radix = match name.chars().next() {
                        Some('x' | 'X') => Some(16),
                        Some('b' | 'B') => Some(2),
                        Some('o' | 'O') => Some(8),
                        _ => None,
                    };
                    if text == "0" && name.len() > 1 {
                        if let Some(radix) = radix {
                            let digits = &name[1..];
                            let help = match u64::from_str_radix(digits, radix) {
                                Ok(v) => format!("write it in decimal: `{v}`"),
                                Err(_) => "write numbers in decimal".to_string(),
                            };
                            return Err(Diagnostic::new(
                                ErrorKind::BadNumber,
                                Span::new(start, byte_at(k)),
                                format!("`{text}{name}` looks like a base-{radix} literal; numbers are decimal"),
                            )
                            .with_help(help));
                        }
                    }
                    return Err(Diagnostic::new(
                        ErrorKind::MissingOperator,
                        Span::new(start, byte_at(k)),
                        format!("a number followed by a name: `{text}{name}`"),
                    )
                    .with_help(format!("did you mean `{text}*{name}`?")));
                }
                out.push(Token {
                    tok: Tok::Number(value),
                    span: Span::new(start, end),
                });
                i = j;
                continue;
            }
            c if is_ident_start(c) => {
                let mut name = String::new();
                let mut j = i;
                while j < chars.len() && is_ident_continue(chars[j].1) {
                    let ch = chars[j].1;
                    match greek_name(ch) {
                        Some(g) => name.push_str(g),
                        None => name.push(ch),
                    }
                    j += 1;
                }
                while j < chars.len() && matches!(chars[j].1, '\'' | '′') {
                    name.push('\'');
                    j += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(name),
                    span: Span::new(start, byte_at(j)),
                });
                i = j;
                continue;
            }
            _ => {
                let help = match c {
                    '{' | '}' => "use parentheses `(` `)` for grouping",
                    '!' | '&' | '|' | '<' | '>' => {
                        "the language has only `+ - * / ^` and functions"
                    }
                    '\'' => "a prime must follow a name, as in `y'`",
                    '%' => "there is no modulo operator",
                    _ => "remove it",
                };
                let (shown, help) = if is_invisible(c) {
                    (
                        format!("U+{:04X} (an invisible character)", u32::from(c)),
                        "delete it: invisible and direction-changing characters are not part of the language",
                    )
                } else {
                    (format!("`{c}`"), help)
                };
                return Err(Diagnostic::new(
                    ErrorKind::StrayCharacter,
                    Span::new(start, start + c.len_utf8()),
                    format!("unexpected character {shown}"),
                )
                .with_help(help));
            }
        }
        i += 1;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        tokenize(src)
            .map(|t| t.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn numbers_ranges_and_primes() {
        assert_eq!(
            kinds("0..1"),
            vec![Tok::Number(0.0), Tok::DotDot, Tok::Number(1.0), Tok::Eof]
        );
        assert_eq!(kinds("2.5E+4"), vec![Tok::Number(25000.0), Tok::Eof]);
        assert_eq!(kinds("1e-3"), vec![Tok::Number(1e-3), Tok::Eof]);
        assert_eq!(kinds("y''"), vec![Tok::Ident("y''".into()), Tok::Eof]);
        assert_eq!(kinds("β"), vec![Tok::Ident("beta".into()), Tok::Eof]);
        assert_eq!(kinds("->"), vec![Tok::Arrow, Tok::Eof]);
    }

    #[test]
    fn glued_number_and_name_suggests_multiplication() {
        let e = tokenize("1 + 2y").err();
        assert_eq!(e.as_ref().map(|e| e.kind), Some(ErrorKind::MissingOperator));
        assert_eq!(
            e.and_then(|e| e.help),
            Some("did you mean `2*y`?".to_string())
        );
    }
}
