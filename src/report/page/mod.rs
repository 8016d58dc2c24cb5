//! A small document model for reports (headings, paragraphs, tables, figures, collapsible
//! sections with a status) rendered to one self-contained HTML page and to Markdown with SVG
//! files beside it.
//!
//! Every command with a report (`check` in [`super::check_page`], `grad`, `sampler-test`) builds
//! a [`Page`] and hands it to the binary, which writes `index.html`, `report.md`, the figures and
//! `report.json`. The model is rendered by one HTML renderer (`html`) and one Markdown renderer
//! (`markdown`), whatever the command.

mod html;
mod markdown;
#[cfg(test)]
mod tests;

pub use html::escape;
pub(crate) use html::{html_inlines, html_mark};
pub use markdown::escape_markdown;

/// A verdict or status shown with a mark and a colour class that survives greyscale (the mark
/// carries the meaning, the colour only helps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// ✓ pass.
    Pass,
    /// ✗ fail.
    Fail,
    /// ? inconclusive.
    Inconclusive,
    /// ! error.
    Error,
    /// A neutral note (no mark).
    Note,
}

impl Mark {
    /// The mark and its word (`✓ pass`; empty for a note).
    pub fn text(self) -> &'static str {
        match self {
            Mark::Pass => "✓ pass",
            Mark::Fail => "✗ fail",
            Mark::Inconclusive => "? inconclusive",
            Mark::Error => "! error",
            Mark::Note => "",
        }
    }

    /// The CSS class (`pass`, `fail`, `inconclusive`, `error`; empty for a note).
    pub fn class(self) -> &'static str {
        match self {
            Mark::Pass => "pass",
            Mark::Fail => "fail",
            Mark::Inconclusive => "inconclusive",
            Mark::Error => "error",
            Mark::Note => "",
        }
    }

    /// Failures first: fail 0, error 1, inconclusive 2, pass 3, note 4.
    pub(crate) fn rank(self) -> u8 {
        match self {
            Mark::Fail => 0,
            Mark::Error => 1,
            Mark::Inconclusive => 2,
            Mark::Pass => 3,
            Mark::Note => 4,
        }
    }

    /// The mark of a verdict.
    pub fn of(verdict: crate::estimate::Verdict) -> Mark {
        match verdict {
            crate::estimate::Verdict::Pass => Mark::Pass,
            crate::estimate::Verdict::Fail => Mark::Fail,
            crate::estimate::Verdict::Inconclusive => Mark::Inconclusive,
            crate::estimate::Verdict::Error => Mark::Error,
        }
    }

    /// The mark for a status word as written in JSON (`pass`, `fail`, `inconclusive`, `error`).
    pub fn from_word(word: &str) -> Mark {
        match word {
            "pass" => Mark::Pass,
            "fail" => Mark::Fail,
            "inconclusive" => Mark::Inconclusive,
            "error" => Mark::Error,
            _ => Mark::Note,
        }
    }
}

/// A piece of running text: in a heading, a paragraph, a list item, a summary line or a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// Plain text.
    Text(String),
    /// Code (an expression, a path): `<code>` in HTML, a code span in Markdown.
    Code(String),
    /// A status mark.
    Mark(Mark),
    /// A side remark in a smaller, grey font (`class="where"`); plain text in Markdown.
    Aside(String),
}

impl Inline {
    /// Text in which the parts between backticks are code (as hints quote expressions).
    pub fn with_code(s: &str) -> Vec<Inline> {
        s.split('`')
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(i, part)| {
                if i % 2 == 1 {
                    Inline::Code(part.to_string())
                } else {
                    Inline::Text(part.to_string())
                }
            })
            .collect()
    }
}

/// One table cell.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Plain text.
    Text(String),
    /// A number, right-aligned in a monospace font (already formatted).
    Num(String),
    /// A status mark.
    Mark(Mark),
    /// Running text (code, marks).
    Inlines(Vec<Inline>),
    /// A link (to an anchor of the page, `#id`); plain text in Markdown.
    Link {
        /// The text.
        text: String,
        /// The target.
        href: String,
    },
    /// A short form with its full form as the HTML tooltip; Markdown, which has no tooltips,
    /// shows the full form.
    Abbrev {
        /// What HTML shows.
        short: String,
        /// The tooltip, and what Markdown shows.
        full: String,
    },
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Mark> for Cell {
    fn from(m: Mark) -> Self {
        Cell::Mark(m)
    }
}

/// A table: a header row and rows; a highlighted row is a failing one (in Markdown its first
/// cell is bold). In HTML the rows are sorted failures first (stably) and a row with a status
/// mark carries it as `data-status`, which the status filter reads.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Rows of cells, each with whether to highlight it.
    pub rows: Vec<(Vec<Cell>, bool)>,
    /// The table's CSS class (HTML).
    pub class: Option<String>,
    /// Rows carry no `data-status` and keep their order: a table inside a [`Section`], which
    /// the status filter shows or hides whole.
    pub plain_rows: bool,
    /// Columns left out of the Markdown (timings, which differ between runs).
    pub html_only: Vec<usize>,
}

impl Table {
    /// A table with these column headings and no rows.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            ..Table::default()
        }
    }

    /// Adds a row; `highlight` marks it as failing.
    pub fn row(&mut self, cells: Vec<Cell>, highlight: bool) {
        self.rows.push((cells, highlight));
    }
}

/// A block of a page.
#[derive(Debug, Clone)]
pub enum Block {
    /// A section heading (level 2) with an anchor id.
    Heading(String),
    /// A paragraph of plain text.
    Paragraph(String),
    /// A paragraph led by a status mark.
    Verdict(Mark, String),
    /// Preformatted text.
    Pre(String),
    /// A table.
    Table(Table),
    /// An SVG figure with a caption.
    Figure {
        /// The SVG document.
        svg: String,
        /// A caption (also the Markdown image's alternative text).
        caption: String,
        /// The SVG file's name beside the Markdown (`figure-N.svg`, N counting the page's
        /// figures, when `None`).
        file: Option<String>,
    },
    /// A paragraph of running text with an optional CSS class (HTML).
    Inlines {
        /// The CSS class of the paragraph.
        class: Option<String>,
        /// The text.
        content: Vec<Inline>,
    },
    /// A hint (a likely fix), its quoted expressions between backticks set as code.
    Hint(String),
    /// A bulleted list.
    List(Vec<Vec<Inline>>),
    /// Content already rendered for each format (typeset MathML and its Markdown alternative).
    /// The HTML is inserted as is; the Markdown, when not empty, after a blank line.
    Raw {
        /// HTML, inserted as is (the caller escapes).
        html: String,
        /// Markdown, inserted as is (the caller escapes).
        markdown: String,
    },
    /// The status filter (HTML radio buttons, CSS only) with the count of each status; nothing
    /// in Markdown. Without one, a page whose tables hold more than one status gets one at the
    /// top.
    Filter(Vec<(Mark, usize)>),
    /// A section with a level-3 heading.
    Section(Section),
}

/// A section: a level-3 heading with an anchor, its blocks, and a status that the status filter
/// reads; collapsed (HTML `<details>`) under a one-line summary when it has one.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// The heading's anchor id (what links to it: `#id`).
    pub id: String,
    /// The heading.
    pub heading: Vec<Inline>,
    /// The section's status (`data-status`).
    pub status: Option<Mark>,
    /// The summary line of a collapsed section (HTML only; Markdown shows the section open).
    pub collapsed: Option<Vec<Inline>>,
    /// The blocks under the heading.
    pub blocks: Vec<Block>,
}

/// A report page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The title (HTML `<title>` and the top heading).
    pub title: String,
    /// Where the report comes from, shown under the title.
    pub provenance: Option<super::provenance::Provenance>,
    /// The blocks in order.
    pub blocks: Vec<Block>,
    /// No table of contents (a page whose own table links to its sections).
    pub no_contents: bool,
}

/// The first status mark of a table row.
pub(crate) fn row_mark(cells: &[Cell]) -> Option<Mark> {
    cells.iter().find_map(|c| match c {
        Cell::Mark(m) => Some(*m),
        _ => None,
    })
}

fn anchor(i: usize) -> String {
    format!("section-{i}")
}

/// Whether a page holds a status filter block (at the top or in a section).
fn has_filter(blocks: &[Block]) -> bool {
    blocks.iter().any(|b| match b {
        Block::Filter(_) => true,
        Block::Section(s) => has_filter(&s.blocks),
        _ => false,
    })
}

impl Page {
    /// An empty page with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Page {
            title: title.into(),
            ..Page::default()
        }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }

    /// The number of figures on the page (in sections too).
    pub fn figure_count(&self) -> usize {
        fn count(blocks: &[Block]) -> usize {
            blocks
                .iter()
                .map(|b| match b {
                    Block::Figure { .. } => 1,
                    Block::Section(s) => count(&s.blocks),
                    _ => 0,
                })
                .sum()
        }
        count(&self.blocks)
    }

    /// Renders one self-contained HTML page: inline CSS and SVG, nothing fetched. Headings get
    /// a table of contents at the top (unless `no_contents`).
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// Renders Markdown (it renders on GitHub) and the figures it links, as `(file name, SVG)`
    /// pairs named `figure-N.svg` unless a figure names its file.
    pub fn to_markdown(&self) -> (String, Vec<(String, String)>) {
        markdown::render(self)
    }
}
