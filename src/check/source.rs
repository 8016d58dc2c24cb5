//! Positions in derivation files: the byte-offset → line:column map and the loader's error type,
//! rendered as a compiler-style diagnostic (message, location, echoed line, caret, help).

use std::ops::Range;

use crate::expr;

/// Where a piece of text sits in a derivation file, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Path of the file as given by the user.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// What went wrong while loading a derivation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecErrorKind {
    /// The file is not valid TOML, or a value has the wrong type, or a key is unknown.
    Toml,
    /// An expression string does not parse.
    Parse,
    /// A name is used but never defined.
    UndefinedSymbol(String),
    /// `claim` names no claim of the lecture.
    UnknownClaim(String),
    /// A field is missing, does not apply to the check kind, or has a bad value.
    Invalid,
    /// The file could not be read.
    Io,
}

/// A loader error with its position, the echoed line and a suggested fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SpecError {
    /// Where the problem is.
    pub location: Location,
    /// The kind of problem.
    pub kind: SpecErrorKind,
    /// What is wrong, in one lowercase sentence.
    pub message: String,
    /// How to fix it, when we can tell.
    pub help: Option<String>,
    /// The line of the file the problem is on (echoed under the message).
    pub source_line: String,
    /// How many characters the caret underline spans (at least 1).
    pub width: usize,
}

impl SpecError {
    /// Renders the error as a compiler-style diagnostic: message, location, the echoed line, a
    /// caret under the spot and the suggestion.
    pub fn render(&self) -> String {
        let line_no = self.location.line.to_string();
        let pad = " ".repeat(line_no.len());
        if self.source_line.trim().is_empty() {
            // Nothing to point at (a missing file, an error at the end of the file): no frame.
            let mut out = format!("error: {}\n{pad}--> {}\n", self.message, self.location);
            if let Some(help) = &self.help {
                out.push_str(&format!("{pad} = help: {help}\n"));
            }
            return out;
        }
        // A long line is shown as a window of 160 characters around the spot, invisible
        // characters written as `U+200B`.
        const WINDOW: usize = 160;
        let col = self.location.column.saturating_sub(1);
        let skip = col.saturating_sub(WINDOW / 2);
        let shown: String = self.source_line.chars().skip(skip).take(WINDOW).collect();
        let lead = if skip > 0 { "…" } else { "" };
        let tail = if self.source_line.chars().count() > skip + WINDOW {
            "…"
        } else {
            ""
        };
        let before: String = shown.chars().take(col - skip).collect();
        let caret = expr::visible(&before).chars().count() + usize::from(skip > 0);
        let width = self.width.clamp(1, WINDOW);
        let mut out = format!(
            "error: {}\n{pad}--> {}\n{pad} |\n{line_no} | {lead}{}{tail}\n{pad} | {}{}\n",
            expr::excerpt(&self.message, expr::MAX_MESSAGE_CHARS),
            self.location,
            expr::visible(&shown),
            " ".repeat(caret),
            "^".repeat(width),
        );
        if let Some(help) = &self.help {
            out.push_str(&format!(
                "{pad} = help: {}\n",
                expr::excerpt(help, expr::MAX_MESSAGE_CHARS)
            ));
        }
        out
    }
}

/// Source text of one file with a byte-offset → line/column map (an index of line starts, so
/// that locating every expression of a large file stays linear).
pub(crate) struct SourceMap<'a> {
    pub(crate) path: &'a str,
    pub(crate) text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> SourceMap<'a> {
    pub(crate) fn new(path: &'a str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceMap {
            path,
            text,
            line_starts,
        }
    }

    /// Line and column (1-based, characters) of a byte offset, clamped into the text.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }

    /// Byte offset of a 1-based line and character column.
    pub(crate) fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let col_bytes: usize = self.text[start..]
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        start + col_bytes
    }

    fn line_text(&self, line: usize) -> String {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return String::new();
        };
        let end = self.line_starts.get(line).map_or(self.text.len(), |&e| e);
        self.text[start..end]
            .trim_end_matches(['\n', '\r'])
            .to_string()
    }

    pub(crate) fn error(
        &self,
        span: Range<usize>,
        kind: SpecErrorKind,
        message: impl Into<String>,
        help: Option<String>,
    ) -> SpecError {
        let (line, column) = self.line_col(span.start);
        let source_line = self.line_text(line);
        let end = span.end.min(self.text.len()).max(span.start);
        let (end_line, end_col) = self.line_col(end);
        let width = if end_line == line && end_col > column {
            end_col - column
        } else {
            1
        };
        SpecError {
            location: Location {
                path: self.path.to_string(),
                line,
                column,
            },
            kind,
            message: message.into(),
            help,
            source_line,
            width,
        }
    }
}
