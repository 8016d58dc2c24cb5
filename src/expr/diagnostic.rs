//! Errors with a source span: the kind, a message, a suggested fix, and a renderer with a caret.

use super::ast::Span;
use crate::remedy::Remedy;
use std::fmt::Write as _;

/// What went wrong (every error of the `expr` module is a [`Diagnostic`] with one of these kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is empty or only whitespace.
    EmptyInput,
    /// A character that is not part of the language.
    StrayCharacter,
    /// A malformed number literal.
    BadNumber,
    /// A token where it cannot appear.
    UnexpectedToken,
    /// The input ended too early.
    UnexpectedEnd,
    /// `(` without `)` or `)` without `(`.
    UnbalancedParenthesis,
    /// Two operands side by side, as in `2y` or `2(x)`.
    MissingOperator,
    /// A function that is neither a builtin nor a definition.
    UnknownFunction,
    /// A call with the wrong number of arguments.
    WrongArity,
    /// A reserved word (`int`, `sum`, ...) or builtin function name used as a variable.
    ReservedWord,
    /// A definition that calls itself, directly or through others.
    RecursiveDefinition,
    /// The same name defined twice.
    DuplicateDefinition,
    /// A malformed definition.
    BadDefinition,
    /// A variable without a value.
    UnknownVariable,
    /// A list index outside the list.
    IndexOutOfRange,
    /// A list index that is not an integer.
    NonIntegerIndex,
    /// A list where a number is needed, or a number where a list is needed.
    TypeMismatch,
    /// A result that is not a real number (`log(-1)`, `0/0`).
    NoRealValue,
    /// A bound operator that the tree evaluator cannot evaluate without the numeric engine.
    NeedsNumericEngine,
    /// A node that has no symbolic derivative (`lim`, `mc`), or limits that depend on the variable.
    NotDifferentiable,
    /// A construct the compiled evaluator does not accept (bound operators, user calls).
    NotCompilable,
    /// A binding range or limit target that depends on its own bound variable.
    DependentRange,
    /// An expression nested deeper than the parser accepts.
    TooDeep,
    /// Input or work beyond a budget of [`crate::budgets`].
    TooLarge,
}

/// An error located in a source text, with an optional suggestion.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Where (bytes into the source the expression was parsed from).
    pub span: Span,
    /// A lowercase sentence without trailing period.
    pub message: String,
    /// The likely fix, e.g. "did you mean `exp`?".
    pub help: Option<String>,
    /// The fix as data, when the help is one a host words with its own means (the binary's
    /// flags); `help` holds the library's wording of it.
    /// (Boxed: a diagnostic travels in `Result`s and should stay small.)
    pub remedy: Option<Box<Remedy>>,
}

/// The longest message or help a [`Diagnostic`] keeps, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;

fn bounded(s: String) -> String {
    if s.len() <= MAX_MESSAGE_CHARS {
        s
    } else {
        excerpt(&s, MAX_MESSAGE_CHARS)
    }
}

/// Errors of the parser.
pub type ParseError = Diagnostic;
/// Errors of the evaluators.
pub type EvalError = Diagnostic;
/// Errors of the symbolic derivative.
pub type DiffError = Diagnostic;
/// Errors of [`super::Program::compile`].
pub type CompileError = Diagnostic;

impl Diagnostic {
    /// A diagnostic without help.
    /// A message longer than [`MAX_MESSAGE_CHARS`] (an inlined expression quoted whole) is cut.
    pub fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            span,
            message: bounded(message.into()),
            help: None,
            remedy: None,
        }
    }

    /// Adds a fix as data; the help becomes its library wording.
    #[must_use]
    pub fn with_remedy(mut self, remedy: Remedy) -> Self {
        self.help = Some(bounded(remedy.to_string()));
        self.remedy = Some(Box::new(remedy));
        self
    }

    /// Adds a suggestion.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(bounded(help.into()));
        self
    }

    /// The same diagnostic with its span moved `offset` bytes right, for an expression embedded
    /// at byte `offset` of a larger text (a TOML file); render it against that larger text.
    #[must_use]
    pub fn shifted(mut self, offset: usize) -> Self {
        self.span = self.span.shifted(offset);
        self
    }

    /// Renders the message, the position `origin:line:column` (just `line:column` when `origin`
    /// is empty), the source line with a caret under the span, and the help.
    ///
    /// ```text
    /// error: unknown function `exp2` at 1:5
    ///   |
    /// 1 | 2 + exp2(z)
    ///   |     ^^^^
    ///   = help: did you mean `exp`?
    /// ```
    pub fn render(&self, source: &str, origin: &str) -> String {
        self.render_with_offset(source, origin, 0, 0)
    }

    /// As [`Diagnostic::render`], adding `line_offset` to the reported line and `column_offset`
    /// to the column of positions on the first line (for a source that starts mid-line in a file).
    pub fn render_with_offset(
        &self,
        source: &str,
        origin: &str,
        line_offset: usize,
        column_offset: usize,
    ) -> String {
        let (line, col) = line_col(source, self.span.start);
        let shown_line = line + line_offset;
        let shown_col = if line == 1 { col + column_offset } else { col };
        let mut out = String::new();
        let at = if origin.is_empty() {
            format!("{shown_line}:{shown_col}")
        } else {
            format!("{origin}:{shown_line}:{shown_col}")
        };
        let _ = writeln!(out, "error: {} at {at}", self.message);
        let full = source.lines().nth(line - 1).unwrap_or("");
        // A long line is shown as a window of at most 160 characters around the span.
        const WINDOW: usize = 160;
        let skip = (col - 1).saturating_sub(WINDOW / 2);
        let shown: String = full.chars().skip(skip).take(WINDOW).collect();
        let cut_left = skip > 0;
        let cut_right = full.chars().count() > skip + WINDOW;
        let number = shown_line.to_string();
        let pad = " ".repeat(number.len());
        let _ = writeln!(out, "{pad} |");
        let lead = if cut_left { "…" } else { "" };
        let tail = if cut_right { "…" } else { "" };
        let _ = writeln!(out, "{number} | {lead}{}{tail}", visible(&shown));
        let start_byte = clamp_to_char(source, self.span.start);
        let end_byte = clamp_to_char(source, self.span.end.max(self.span.start));
        let spanned: String = source
            .get(start_byte..end_byte)
            .map(|s| s.chars().take_while(|&c| c != '\n').collect())
            .unwrap_or_default();
        let before: String = shown.chars().take(col - 1 - skip).collect();
        let caret_col = visible(&before).chars().count() + usize::from(cut_left);
        let shown_chars = visible(&shown).chars().count() + usize::from(cut_left);
        let width = visible(&spanned).chars().count().max(1);
        let width = width.min((shown_chars + 1).saturating_sub(caret_col).max(1));
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(caret_col),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// Whether `c` is invisible or reorders text when printed: control characters (NUL, escape),
/// zero-width and joiner characters, bidirectional marks and overrides, the byte-order mark.
pub fn is_invisible(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n')
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `s` with every invisible character (see [`is_invisible`]) written as `U+200B`, so that a
/// message shows what is really there.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_invisible) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_invisible(c) {
            let _ = write!(out, "U+{:04X}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// At most `max` characters of `s` (invisible characters shown, see [`visible`]), with the
/// number of characters left out when it is cut: long inputs do not flood a message.
pub fn excerpt(s: &str, max: usize) -> String {
    let total = s.chars().count();
    if total <= max {
        return visible(s).into_owned();
    }
    let head: String = s.chars().take(max).collect();
    format!("{}… ({} more characters)", visible(&head), total - max)
}

fn clamp_to_char(source: &str, byte: usize) -> usize {
    let mut b = byte.min(source.len());
    while b > 0 && !source.is_char_boundary(b) {
        b -= 1;
    }
    b
}

/// The 1-based line and column (in characters) of byte offset `byte` in `source`.
///
/// Offsets past the end map to the position just after the last character.
pub fn line_col(source: &str, byte: usize) -> (usize, usize) {
    let byte = clamp_to_char(source, byte);
    let before = &source[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = source[line_start..byte].chars().count() + 1;
    (line, col)
}

/// Whether the characters of `short` appear in order in `long`.
fn is_subsequence(short: &str, long: &str) -> bool {
    let mut it = long.chars();
    short.chars().all(|c| it.any(|l| l == c))
}

/// Levenshtein distance between two strings, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `name` by edit distance, if close enough to be a plausible typo
/// (or if `name` starts with it, as `exp2` starts with `exp`).
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| !c.is_empty() && *c != name)
        .map(|c| {
            let d = edit_distance(name, c);
            let d = if name.starts_with(c) || c.starts_with(name) {
                d.min(1)
            } else {
                d
            };
            (d, c)
        })
        // A suggestion must keep part of the name: `G` is not a typo of `F`.
        .filter(|(d, _)| *d <= limit && *d < name.chars().count())
        // Among equally close names, prefer one the typo is an abbreviation of (`sgn` → `sign`).
        .min_by_key(|(d, c)| (*d, !is_subsequence(name, c), c.len()))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        assert_eq!(line_col("β + x", 5), (1, 5));
        assert_eq!(line_col("a\nbc", 3), (2, 2));
        assert_eq!(line_col("ab", 10), (1, 3));
    }

    #[test]
    fn render_has_position_caret_and_help() {
        let d = Diagnostic::new(
            ErrorKind::UnknownFunction,
            Span::new(4, 8),
            "unknown function `exp2`",
        )
        .with_help("did you mean `exp`?");
        let r = d.render("2 + exp2(z)", "");
        assert_eq!(
            r,
            "error: unknown function `exp2` at 1:5\n  |\n1 | 2 + exp2(z)\n  |     ^^^^\n  = help: did you mean `exp`?\n"
        );
        let shifted = d.render_with_offset("2 + exp2(z)", "f.toml", 9, 10);
        assert!(shifted.contains("f.toml:10:15"), "{shifted}");
    }

    #[test]
    fn suggestions_find_close_names() {
        let names = ["exp", "expm1", "log", "sigmoid"];
        assert_eq!(suggest("exp2", names), Some("exp"));
        assert_eq!(suggest("sigmod", names), Some("sigmoid"));
        assert_eq!(suggest("zzzzzz", names), None);
        assert_eq!(suggest("G", ["F"]), None);
        assert_eq!(suggest("sgn", ["sin", "sign"]), Some("sign"));
    }
}
