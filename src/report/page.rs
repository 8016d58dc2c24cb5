//! A small document model for reports (headings, paragraphs, tables, figures, collapsible
//! sections with a status) rendered to one self-contained HTML page and to Markdown with SVG
//! files beside it.
//!
//! Every command with a report (`check` in [`super::check_page`], `grad`, `sampler-test`) builds
//! a [`Page`] and hands it to the binary, which writes `index.html`, `report.md`, the figures and
//! `report.json`.

use std::fmt::Write as _;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's inline stylesheet. Status colours are from the
/// Okabe–Ito palette (distinguishable with colour-blindness); the marks ✓ ✗ ? ! carry the
/// meaning in greyscale. The status filter is CSS only (`:has`), so the page has no script.
pub(crate) const STYLE: &str = ".hint{border-left:4px solid #E69F00;padding-left:.5em}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45;font-size:16px}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-family:ui-monospace,monospace;white-space:nowrap}
.pass{color:#006e4f}.fail{color:#b34700;font-weight:bold}.inconclusive{color:#7a5a00}.error{color:#8a3d73;font-weight:bold}
.pass,.fail,.inconclusive,.error{white-space:nowrap}
tr.failing{background:#fbe3d0}code{background:#f4f4f4;padding:0 .2em}figure{margin:.8em 0}figcaption{font-size:.9em;color:#333}
.summary{font-size:1.1em;margin:1em 0}nav ul{columns:2;font-size:.95em}pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere}
.provenance{font-size:.9em;background:#f7f7f7;border:1px solid #ddd;padding:.3em .8em;margin:1em 0}.provenance dl{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.4em 0}.provenance dd{margin:0;overflow-wrap:anywhere}
math{font-size:1.1em}.formulas td{vertical-align:middle}.formulas td.rel{text-align:center;font-size:1.2em}.formulas tr.failing td{background:#fbe3d0}
.formulas .where{font-size:.9em;color:#333}details.check{margin:.4em 0;border:1px solid #ddd;padding:.2em .6em}details.check>summary{cursor:pointer}
.filter{margin:.6em 0}.filter label{margin-right:1em}.overview{display:block;overflow-x:auto}.overview td:nth-child(3){min-width:16em}.overview td:nth-child(6){overflow-wrap:anywhere;max-width:18em;font-size:.9em}
body:has(#show-failing:checked) [data-status=pass]{display:none}
body:has(#show-fail:checked) [data-status]:not([data-status=fail]){display:none}
body:has(#show-inconclusive:checked) [data-status]:not([data-status=inconclusive]){display:none}
body:has(#show-error:checked) [data-status]:not([data-status=error]){display:none}
body:has(#show-pass:checked) [data-status]:not([data-status=pass]){display:none}";

/// Escapes text for CommonMark (and GitHub tables): every ASCII punctuation character that can
/// start markup gets a backslash, and a newline becomes a space.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '<' | '>' | '#' | '+' | '!' | '|'
            | '~' | '&' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

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
    fn rank(self) -> u8 {
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
fn row_mark(cells: &[Cell]) -> Option<Mark> {
    cells.iter().find_map(|c| match c {
        Cell::Mark(m) => Some(*m),
        _ => None,
    })
}

fn anchor(i: usize) -> String {
    format!("section-{i}")
}

fn html_mark(m: Mark) -> String {
    format!("<span class=\"{}\">{}</span>", m.class(), m.text())
}

fn html_inlines(content: &[Inline]) -> String {
    content
        .iter()
        .map(|i| match i {
            Inline::Text(s) => escape(s),
            Inline::Code(s) => format!("<code>{}</code>", escape(s)),
            Inline::Mark(m) => html_mark(*m),
            Inline::Aside(s) => format!("<span class=\"where\">{}</span>", escape(s)),
        })
        .collect()
}

fn html_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => format!("<td>{}</td>", escape(s)),
        Cell::Num(s) => format!("<td class=\"num\">{}</td>", escape(s)),
        Cell::Mark(m) => format!("<td>{}</td>", html_mark(*m)),
        Cell::Inlines(content) => format!("<td>{}</td>", html_inlines(content)),
        Cell::Link { text, href } => {
            format!("<td><a href=\"{}\">{}</a></td>", escape(href), escape(text))
        }
        Cell::Abbrev { short, full } => {
            format!("<td title=\"{}\">{}</td>", escape(full), escape(short))
        }
    }
}

pub(crate) fn md_escape(s: &str) -> String {
    escape_markdown(s)
}

/// A Markdown code span: backticks become quotes, and in a table a pipe is escaped (GitHub
/// reads `\|` in a code span inside a table as a pipe).
fn md_code(s: &str, in_table: bool) -> String {
    let s = s.replace('`', "'").replace(['\n', '\r'], " ");
    let s = if in_table { s.replace('|', "\\|") } else { s };
    format!("`{s}`")
}

fn md_inlines(content: &[Inline], in_table: bool) -> String {
    content
        .iter()
        .map(|i| match i {
            Inline::Text(s) | Inline::Aside(s) => md_escape(s),
            Inline::Code(s) => md_code(s, in_table),
            Inline::Mark(m) => m.text().to_string(),
        })
        .collect()
}

fn md_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) | Cell::Num(s) => md_escape(s),
        Cell::Mark(m) => m.text().to_string(),
        Cell::Inlines(content) => md_inlines(content, true),
        Cell::Link { text, .. } => md_escape(text),
        Cell::Abbrev { full, .. } => md_escape(full),
    }
}

/// Whether a page holds a status filter block (at the top or in a section).
fn has_filter(blocks: &[Block]) -> bool {
    blocks.iter().any(|b| match b {
        Block::Filter(_) => true,
        Block::Section(s) => has_filter(&s.blocks),
        _ => false,
    })
}

/// The HTML of a table.
fn html_table(h: &mut String, t: &Table) {
    match &t.class {
        Some(c) => {
            let _ = write!(h, "<table class=\"{}\">\n<tr>", escape(c));
        }
        None => h.push_str("<table>\n<tr>"),
    }
    for c in &t.header {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    h.push_str("</tr>\n");
    let mut rows: Vec<&(Vec<Cell>, bool)> = t.rows.iter().collect();
    if !t.plain_rows {
        // Failures first (a stable sort by the row's status mark).
        rows.sort_by_key(|(cells, _)| row_mark(cells).map_or(4, Mark::rank));
    }
    for (cells, hl) in rows {
        let status = row_mark(cells)
            .filter(|m| *m != Mark::Note && !t.plain_rows)
            .map(|m| format!(" data-status=\"{}\"", m.class()))
            .unwrap_or_default();
        let _ = write!(
            h,
            "<tr{status}{}>",
            if *hl { " class=\"failing\"" } else { "" }
        );
        for c in cells {
            h.push_str(&html_cell(c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// The Markdown of a table (rows in their order; the `html_only` columns left out).
fn md_table(m: &mut String, t: &Table) {
    let keep = |i: &usize| !t.html_only.contains(i);
    m.push('\n');
    let header: Vec<String> = t
        .header
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(i))
        .map(|(_, c)| md_escape(c))
        .collect();
    let _ = writeln!(m, "| {} |", header.join(" | "));
    let _ = writeln!(m, "|{}", "---|".repeat(header.len()));
    for (cells, hl) in &t.rows {
        let strong = if *hl { "**" } else { "" };
        let texts: Vec<String> = cells
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(i))
            .enumerate()
            .map(|(k, (_, c))| {
                if k == 0 && !strong.is_empty() {
                    format!("{strong}{}{strong}", md_cell(c))
                } else {
                    md_cell(c)
                }
            })
            .collect();
        let _ = writeln!(m, "| {} |", texts.join(" | "));
    }
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
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        if let Some(p) = &self.provenance {
            h.push_str(&p.to_html());
        }
        if !has_filter(&self.blocks) {
            let mut counts = [
                (Mark::Fail, 0),
                (Mark::Error, 0),
                (Mark::Inconclusive, 0),
                (Mark::Pass, 0),
            ];
            for b in &self.blocks {
                if let Block::Table(t) = b {
                    for (cells, _) in &t.rows {
                        if let Some(m) = row_mark(cells) {
                            if let Some(c) = counts.iter_mut().find(|(w, _)| *w == m) {
                                c.1 += 1;
                            }
                        }
                    }
                }
            }
            if counts.iter().filter(|(_, n)| *n > 0).count() > 1 {
                h.push_str(&status_filter(&counts));
            }
        }
        let headings: Vec<&String> = self
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading(t) => Some(t),
                _ => None,
            })
            .collect();
        if headings.len() > 1 && !self.no_contents {
            h.push_str("<nav><ul>\n");
            for (i, t) in headings.iter().enumerate() {
                let _ = writeln!(h, "<li><a href=\"#{}\">{}</a></li>", anchor(i), escape(t));
            }
            h.push_str("</ul></nav>\n");
        }
        let mut heading = 0;
        html_blocks(&mut h, &self.blocks, &mut heading);
        h.push_str("</body>\n</html>\n");
        h
    }

    /// Renders Markdown (it renders on GitHub) and the figures it links, as `(file name, SVG)`
    /// pairs named `figure-N.svg` unless a figure names its file.
    pub fn to_markdown(&self) -> (String, Vec<(String, String)>) {
        let mut m = format!("# {}\n", md_escape(&self.title));
        if let Some(p) = &self.provenance {
            m.push_str(&p.to_markdown());
        }
        let mut figures = Vec::new();
        md_blocks(&mut m, &self.blocks, &mut figures);
        (m, figures)
    }
}

/// The radio buttons of the status filter (CSS only; see [`STYLE`]): all, all but passing, and
/// each status present with its count.
fn status_filter(counts: &[(Mark, usize)]) -> String {
    let mut h = String::from(
        "<div class=\"filter\">show: <label><input type=\"radio\" name=\"show\" id=\"show-all\" checked> all</label><label><input type=\"radio\" name=\"show\" id=\"show-failing\"> all but passing</label>",
    );
    for (mark, n) in counts {
        if *n > 0 && *mark != Mark::Note {
            let word = mark.class();
            let _ = write!(
                h,
                "<label><input type=\"radio\" name=\"show\" id=\"show-{word}\"> {word} ({n})</label>"
            );
        }
    }
    h.push_str("</div>\n");
    h
}

fn status_attr(status: Option<Mark>) -> String {
    status
        .filter(|m| *m != Mark::Note)
        .map(|m| format!(" data-status=\"{}\"", m.class()))
        .unwrap_or_default()
}

fn html_blocks(h: &mut String, blocks: &[Block], heading: &mut usize) {
    for b in blocks {
        match b {
            Block::Heading(t) => {
                let _ = writeln!(h, "<h2 id=\"{}\">{}</h2>", anchor(*heading), escape(t));
                *heading += 1;
            }
            Block::Paragraph(t) => {
                let _ = writeln!(h, "<p>{}</p>", escape(t));
            }
            Block::Verdict(m, t) => {
                let _ = writeln!(
                    h,
                    "<p class=\"summary\">{} {}</p>",
                    html_mark(*m),
                    escape(t)
                );
            }
            Block::Pre(t) => {
                let _ = writeln!(h, "<pre>{}</pre>", escape(t));
            }
            Block::Table(t) => html_table(h, t),
            Block::Figure { svg, caption, .. } => {
                let _ = writeln!(
                    h,
                    "<figure class=\"figure\">{}<figcaption>{}</figcaption></figure>",
                    super::plot::polish(svg),
                    escape(caption)
                );
            }
            Block::Inlines { class, content } => {
                let class = class
                    .as_ref()
                    .map(|c| format!(" class=\"{}\"", escape(c)))
                    .unwrap_or_default();
                let _ = writeln!(h, "<p{class}>{}</p>", html_inlines(content));
            }
            Block::Hint(t) => {
                let _ = writeln!(
                    h,
                    "<p class=\"hint\">hint: {}</p>",
                    html_inlines(&Inline::with_code(t))
                );
            }
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(h, "<li>{}</li>", html_inlines(item));
                }
                h.push_str("</ul>\n");
            }
            Block::Raw { html, .. } => h.push_str(html),
            Block::Filter(counts) => h.push_str(&status_filter(counts)),
            Block::Section(s) => {
                let status = status_attr(s.status);
                if let Some(summary) = &s.collapsed {
                    let _ = writeln!(
                        h,
                        "<details class=\"check\"{status}><summary>{}</summary>",
                        html_inlines(summary)
                    );
                }
                let _ = writeln!(
                    h,
                    "<section{status}><h3 id=\"{}\">{}</h3>",
                    escape(&s.id),
                    html_inlines(&s.heading)
                );
                html_blocks(h, &s.blocks, heading);
                h.push_str("</section>\n");
                if s.collapsed.is_some() {
                    h.push_str("</details>\n");
                }
            }
        }
    }
}

fn md_blocks(m: &mut String, blocks: &[Block], figures: &mut Vec<(String, String)>) {
    for b in blocks {
        match b {
            Block::Heading(t) => {
                let _ = write!(m, "\n## {}\n", md_escape(t));
            }
            Block::Paragraph(t) => {
                let _ = write!(m, "\n{}\n", md_escape(t));
            }
            Block::Verdict(mark, t) => {
                let _ = write!(m, "\n**{}** {}\n", mark.text(), md_escape(t));
            }
            Block::Pre(t) => {
                let _ = write!(m, "\n```text\n{}\n```\n", t.trim_end());
            }
            Block::Table(t) => md_table(m, t),
            Block::Figure { svg, caption, file } => {
                let name = file
                    .clone()
                    .unwrap_or_else(|| format!("figure-{}.svg", figures.len() + 1));
                let _ = write!(m, "\n![{}]({name})\n", md_escape(caption));
                figures.push((name, super::plot::polish(svg)));
            }
            Block::Inlines { content, .. } => {
                let _ = write!(m, "\n{}\n", md_inlines(content, false));
            }
            Block::Hint(t) => {
                let _ = write!(m, "\nHint: {}\n", md_inlines(&Inline::with_code(t), false));
            }
            Block::List(items) => {
                m.push('\n');
                for item in items {
                    let _ = writeln!(m, "- {}", md_inlines(item, false));
                }
            }
            Block::Raw { markdown, .. } => {
                if !markdown.is_empty() {
                    m.push('\n');
                    m.push_str(markdown);
                    if !markdown.ends_with('\n') {
                        m.push('\n');
                    }
                }
            }
            Block::Filter(_) => {}
            Block::Section(s) => {
                let _ = write!(m, "\n### {}\n", md_inlines(&s.heading, false));
                md_blocks(m, &s.blocks, figures);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Page {
        let mut p = Page::new("a <title>");
        let mut t = Table::new(["test", "status", "p"]);
        t.row(
            vec![
                "mean | y".into(),
                Mark::Pass.into(),
                Cell::Num("0.5".into()),
            ],
            false,
        );
        t.row(
            vec!["mass".into(), Mark::Fail.into(), Cell::Num("1e-9".into())],
            true,
        );
        p.push(Block::Verdict(Mark::Fail, "1 of 2 tests rejects".into()))
            .push(Block::Heading("tests".into()))
            .push(Block::Table(t))
            .push(Block::Heading("figures".into()))
            .push(Block::Figure {
                svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(),
                caption: "histogram".into(),
                file: None,
            });
        p
    }

    /// A page as `check` builds one: a status filter, a linked overview table with a column
    /// only in HTML, a list, and sections (one open, one collapsed) with running text, a raw
    /// block and a plain table inside.
    fn sectioned() -> Page {
        let mut p = Page::new("checks");
        p.no_contents = true;
        p.push(Block::Inlines {
            class: Some("summary".into()),
            content: vec![Inline::Text("1 passed, 1 failed.".into())],
        });
        p.push(Block::Filter(vec![
            (Mark::Fail, 1),
            (Mark::Error, 0),
            (Mark::Pass, 1),
        ]));
        let mut t = Table::new(["status", "check", "file", "time"]);
        t.class = Some("overview".into());
        t.html_only = vec![3];
        t.row(
            vec![
                Mark::Fail.into(),
                Cell::Link {
                    text: "a*b".into(),
                    href: "#check-1".into(),
                },
                Cell::Abbrev {
                    short: "x.toml".into(),
                    full: "dir/x.toml".into(),
                },
                Cell::Num("0.10 s".into()),
            ],
            true,
        );
        p.push(Block::Table(t));
        p.push(Block::List(vec![vec![
            Inline::Code("dir/x.toml".into()),
            Inline::Text(" — a <title>".into()),
        ]]));
        p.push(Block::Heading("Checks that did not pass".into()));
        let mut steps = Table::new(["step", "status", "hint"]);
        steps.plain_rows = true;
        steps.row(vec!["1".into(), Mark::Pass.into(), "".into()], false);
        steps.row(
            vec![
                "2".into(),
                Mark::Fail.into(),
                Cell::Inlines(Inline::with_code("use `a | b` here")),
            ],
            true,
        );
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".to_string();
        p.push(Block::Section(Section {
            id: "check-1".into(),
            heading: vec![
                Inline::Text("C1 a*b ".into()),
                Inline::Code("chain".into()),
                Inline::Text(" ".into()),
                Inline::Mark(Mark::Fail),
            ],
            status: Some(Mark::Fail),
            collapsed: None,
            blocks: vec![
                Block::Hint("write `x^2`".into()),
                Block::Raw {
                    html: "<math><mi>x</mi></math>\n".into(),
                    markdown: "- lhs: `x`\n".into(),
                },
                Block::Table(steps),
                Block::Figure {
                    svg: svg.clone(),
                    caption: "steps".into(),
                    file: Some("figure-1.svg".into()),
                },
            ],
        }));
        p.push(Block::Section(Section {
            id: "check-2".into(),
            heading: vec![Inline::Text("C2 ok".into())],
            status: Some(Mark::Pass),
            collapsed: Some(vec![
                Inline::Mark(Mark::Pass),
                Inline::Text(" C2 ok ".into()),
                Inline::Aside("(dir/x.toml)".into()),
            ]),
            blocks: vec![
                Block::Paragraph("fine".into()),
                Block::Figure {
                    svg,
                    caption: "limit".into(),
                    file: Some("figure-2-1.svg".into()),
                },
            ],
        }));
        p
    }

    #[test]
    fn html_renders_sections_filter_links_and_raw_blocks() {
        let p = sectioned();
        let h = p.to_html();
        // The explicit filter, once, with the statuses present; no table of contents.
        assert_eq!(h.matches("<div class=\"filter\">").count(), 1);
        assert!(h.contains("id=\"show-fail\"> fail (1)"));
        assert!(h.contains("id=\"show-pass\"> pass (1)"));
        assert!(!h.contains("id=\"show-error\""));
        assert!(!h.contains("<nav>"));
        // The overview: its class, a link to the section, a tooltip with the full path, and
        // the HTML-only column.
        assert!(h.contains(
            "<table class=\"overview\">\n<tr><th>status</th><th>check</th><th>file</th><th>time</th></tr>"
        ));
        assert!(h.contains(
            "<tr data-status=\"fail\" class=\"failing\"><td><span class=\"fail\">✗ fail</span></td><td><a href=\"#check-1\">a*b</a></td><td title=\"dir/x.toml\">x.toml</td><td class=\"num\">0.10 s</td></tr>"
        ));
        assert!(h.contains("<ul>\n<li><code>dir/x.toml</code> — a &lt;title&gt;</li>\n</ul>"));
        assert!(h.contains("<p class=\"summary\">1 passed, 1 failed.</p>"));
        // The open section: status, anchor, heading with code and mark, hint with code, the
        // raw block as is, a plain table (no data-status, rows in order).
        assert!(h.contains(
            "<section data-status=\"fail\"><h3 id=\"check-1\">C1 a*b <code>chain</code> <span class=\"fail\">✗ fail</span></h3>\n<p class=\"hint\">hint: write <code>x^2</code></p>\n<math><mi>x</mi></math>\n<table>"
        ));
        assert!(h.contains(
            "<tr><td>1</td><td><span class=\"pass\">✓ pass</span></td><td></td></tr>\n<tr class=\"failing\"><td>2</td>"
        ));
        assert!(h.contains("<td>use <code>a | b</code> here</td>"));
        // The collapsed section: a summary line, then the section, closed in order.
        assert!(h.contains(
            "<details class=\"check\" data-status=\"pass\"><summary><span class=\"pass\">✓ pass</span> C2 ok <span class=\"where\">(dir/x.toml)</span></summary>\n<section data-status=\"pass\"><h3 id=\"check-2\">C2 ok</h3>\n<p>fine</p>\n<figure"
        ));
        assert!(h.contains("</figure>\n</section>\n</details>\n</body>"));
        assert_eq!(p.figure_count(), 2);
        assert!(h.find("id=\"check-1\"") < h.find("id=\"check-2\""));
    }

    #[test]
    fn markdown_renders_sections_flat_with_named_figures() {
        let (m, figs) = sectioned().to_markdown();
        // No filter; the HTML-only column left out; the link as text, the full path shown;
        // a failing row's first cell bold.
        assert!(!m.contains("show"));
        assert!(m.contains(
            "\n| status | check | file |\n|---|---|---|\n| **✗ fail** | a\\*b | dir/x.toml |\n"
        ));
        assert!(!m.contains("0.10 s"));
        assert!(m.contains("\n1 passed, 1 failed.\n"));
        assert!(m.contains("\n- `dir/x.toml` — a \\<title\\>\n"));
        // Sections open, level 3, in order; running text with code spans; the raw block's
        // Markdown; a pipe in a code span of a table cell escaped.
        assert!(m.contains("\n### C1 a\\*b `chain` ✗ fail\n"));
        assert!(m.contains("\nHint: write `x^2`\n\n- lhs: `x`\n"));
        assert!(!m.contains("<math"));
        assert!(m.contains("| **2** | ✗ fail | use `a \\| b` here |"));
        assert!(m.contains("| 1 | ✓ pass |  |"));
        assert!(m.contains("\n### C2 ok\n\nfine\n"));
        assert!(m.find("### C1") < m.find("### C2"));
        assert!(!m.contains("where") && !m.contains("details"));
        // Figures under the names given.
        assert!(m.contains("![steps](figure-1.svg)") && m.contains("![limit](figure-2-1.svg)"));
        let names: Vec<&str> = figs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["figure-1.svg", "figure-2-1.svg"]);
    }

    #[test]
    fn with_code_splits_quoted_parts_and_keeps_text_around_them() {
        assert_eq!(
            Inline::with_code("write `x^2` not `x*x`."),
            vec![
                Inline::Text("write ".into()),
                Inline::Code("x^2".into()),
                Inline::Text(" not ".into()),
                Inline::Code("x*x".into()),
                Inline::Text(".".into()),
            ]
        );
        assert_eq!(
            Inline::with_code("plain"),
            vec![Inline::Text("plain".into())]
        );
    }

    #[test]
    fn html_escapes_highlights_and_inlines_figures() {
        let h = sample().to_html();
        assert!(h.contains("<title>a &lt;title&gt;</title>"));
        assert!(h.contains("<tr data-status=\"fail\" class=\"failing\"><td>mass</td>"));
        // Failures first, and a status filter.
        assert!(h.find("<td>mass</td>") < h.find("<td>mean | y</td>"));
        assert!(h.contains("id=\"show-fail\""));
        assert!(h.contains("<span class=\"fail\">✗ fail</span>"));
        assert!(h.contains("<figure class=\"figure\"><svg"));
        assert!(h.contains("href=\"#section-1\""));
        assert_eq!(sample().figure_count(), 1);
    }

    #[test]
    fn markdown_escapes_pipes_and_names_figure_files() {
        let (m, figs) = sample().to_markdown();
        assert!(m.contains("| mean \\| y | ✓ pass | 0.5 |"));
        assert!(m.contains("| **mass** | ✗ fail | 1e-9 |"));
        assert!(m.contains("![histogram](figure-1.svg)"));
        assert_eq!(figs.len(), 1);
        assert_eq!(figs[0].0, "figure-1.svg");
    }
}
