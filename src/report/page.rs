//! A small document model for reports (headings, paragraphs, tables, figures) rendered to one
//! self-contained HTML page and to Markdown with SVG files beside it.
//!
//! Commands other than `check` (`grad`, `sampler-test`) build a [`Page`] and hand it to the
//! binary, which writes `index.html`, `report.md`, the figures and `report.json`.

use std::fmt::Write as _;

use super::html::{STYLE, escape};

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
    fn text(self) -> &'static str {
        match self {
            Mark::Pass => "✓ pass",
            Mark::Fail => "✗ fail",
            Mark::Inconclusive => "? inconclusive",
            Mark::Error => "! error",
            Mark::Note => "",
        }
    }

    fn class(self) -> &'static str {
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

/// One table cell.
#[derive(Debug, Clone)]
pub enum Cell {
    /// Plain text.
    Text(String),
    /// A number, right-aligned in a monospace font (already formatted).
    Num(String),
    /// A status mark.
    Mark(Mark),
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

/// A table: a header row and rows; a highlighted row is a failing one.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column headings.
    pub header: Vec<String>,
    /// Rows of cells, each with whether to highlight it.
    pub rows: Vec<(Vec<Cell>, bool)>,
}

impl Table {
    /// A table with these column headings and no rows.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
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
    },
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

fn html_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => format!("<td>{}</td>", escape(s)),
        Cell::Num(s) => format!("<td class=\"num\">{}</td>", escape(s)),
        Cell::Mark(m) => format!("<td><span class=\"{}\">{}</span></td>", m.class(), m.text()),
    }
}

fn md_escape(s: &str) -> String {
    super::markdown::escape(s)
}

fn md_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) | Cell::Num(s) => md_escape(s),
        Cell::Mark(m) => m.text().to_string(),
    }
}

impl Page {
    /// An empty page with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Page {
            title: title.into(),
            provenance: None,
            blocks: Vec::new(),
        }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }

    /// The number of figures on the page.
    pub fn figure_count(&self) -> usize {
        self.blocks
            .iter()
            .filter(|b| matches!(b, Block::Figure { .. }))
            .count()
    }

    /// Renders one self-contained HTML page: inline CSS and SVG, nothing fetched. Headings get
    /// a table of contents at the top.
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
        let mut counts = [("fail", 0), ("error", 0), ("inconclusive", 0), ("pass", 0)];
        for b in &self.blocks {
            if let Block::Table(t) = b {
                for (cells, _) in &t.rows {
                    if let Some(m) = row_mark(cells) {
                        if let Some(c) = counts.iter_mut().find(|(w, _)| *w == m.class()) {
                            c.1 += 1;
                        }
                    }
                }
            }
        }
        if counts.iter().filter(|(_, n)| *n > 0).count() > 1 {
            h.push_str(&super::html::status_filter(&counts));
        }
        let headings: Vec<&String> = self
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Heading(t) => Some(t),
                _ => None,
            })
            .collect();
        if headings.len() > 1 {
            h.push_str("<nav><ul>\n");
            for (i, t) in headings.iter().enumerate() {
                let _ = writeln!(h, "<li><a href=\"#{}\">{}</a></li>", anchor(i), escape(t));
            }
            h.push_str("</ul></nav>\n");
        }
        let mut heading = 0;
        for b in &self.blocks {
            match b {
                Block::Heading(t) => {
                    let _ = writeln!(h, "<h2 id=\"{}\">{}</h2>", anchor(heading), escape(t));
                    heading += 1;
                }
                Block::Paragraph(t) => {
                    let _ = writeln!(h, "<p>{}</p>", escape(t));
                }
                Block::Verdict(m, t) => {
                    let _ = writeln!(
                        h,
                        "<p class=\"summary\"><span class=\"{}\">{}</span> {}</p>",
                        m.class(),
                        m.text(),
                        escape(t)
                    );
                }
                Block::Pre(t) => {
                    let _ = writeln!(h, "<pre>{}</pre>", escape(t));
                }
                Block::Table(t) => {
                    h.push_str("<table>\n<tr>");
                    for c in &t.header {
                        let _ = write!(h, "<th>{}</th>", escape(c));
                    }
                    h.push_str("</tr>\n");
                    // Failures first (a stable sort by the row's status mark).
                    let mut rows: Vec<&(Vec<Cell>, bool)> = t.rows.iter().collect();
                    rows.sort_by_key(|(cells, _)| row_mark(cells).map_or(4, Mark::rank));
                    for (cells, hl) in rows {
                        let status = row_mark(cells)
                            .filter(|m| *m != Mark::Note)
                            .map(|m| format!(" data-status=\"{}\"", m.class()))
                            .unwrap_or_default();
                        h.push_str(&format!(
                            "<tr{status}{}>",
                            if *hl { " class=\"failing\"" } else { "" }
                        ));
                        for c in cells {
                            h.push_str(&html_cell(c));
                        }
                        h.push_str("</tr>\n");
                    }
                    h.push_str("</table>\n");
                }
                Block::Figure { svg, caption } => {
                    let _ = writeln!(
                        h,
                        "<figure class=\"figure\">{}<figcaption>{}</figcaption></figure>",
                        super::plot::polish(svg),
                        escape(caption)
                    );
                }
            }
        }
        h.push_str("</body>\n</html>\n");
        h
    }

    /// Renders Markdown (it renders on GitHub) and the figures it links, as `(file name, SVG)`
    /// pairs named `figure-N.svg`.
    pub fn to_markdown(&self) -> (String, Vec<(String, String)>) {
        let mut m = format!("# {}\n", md_escape(&self.title));
        if let Some(p) = &self.provenance {
            m.push_str(&p.to_markdown());
        }
        let mut figures = Vec::new();
        for b in &self.blocks {
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
                Block::Table(t) => {
                    m.push('\n');
                    let _ = writeln!(
                        m,
                        "| {} |",
                        t.header
                            .iter()
                            .map(|c| md_escape(c))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    );
                    let _ = writeln!(m, "|{}", "---|".repeat(t.header.len()));
                    for (cells, hl) in &t.rows {
                        let strong = if *hl { "**" } else { "" };
                        let texts: Vec<String> = cells
                            .iter()
                            .enumerate()
                            .map(|(i, c)| {
                                if i == 0 && !strong.is_empty() {
                                    format!("{strong}{}{strong}", md_cell(c))
                                } else {
                                    md_cell(c)
                                }
                            })
                            .collect();
                        let _ = writeln!(m, "| {} |", texts.join(" | "));
                    }
                }
                Block::Figure { svg, caption } => {
                    let name = format!("figure-{}.svg", figures.len() + 1);
                    let _ = write!(m, "\n![{}]({name})\n", md_escape(caption));
                    figures.push((name, super::plot::polish(svg)));
                }
            }
        }
        (m, figures)
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
            });
        p
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
