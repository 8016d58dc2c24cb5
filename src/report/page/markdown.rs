//! The one Markdown renderer of report pages (it renders on GitHub), with the figures as SVG
//! files beside it. Text is escaped for CommonMark (`*`, `_`, `<`, `>` and the other ASCII
//! punctuation that could start markup), so expressions such as `1.2*x*y` and `<E>` read as
//! written; the rendering is tested with a CommonMark parser (`tests/cli_report_pages.rs`).

use std::fmt::Write as _;

use super::{Block, Cell, Inline, Page, Table};

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
            Inline::Text(s) | Inline::Aside(s) => escape_markdown(s),
            Inline::Code(s) => md_code(s, in_table),
            Inline::Mark(m) => m.text().to_string(),
        })
        .collect()
}

fn md_cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) | Cell::Num(s) => escape_markdown(s),
        Cell::Mark(m) => m.text().to_string(),
        Cell::Inlines(content) => md_inlines(content, true),
        Cell::Link { text, .. } => escape_markdown(text),
        Cell::Abbrev { full, .. } => escape_markdown(full),
    }
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
        .map(|(_, c)| escape_markdown(c))
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

/// The page as Markdown and its figures as `(file name, SVG)`.
pub(super) fn render(page: &Page) -> (String, Vec<(String, String)>) {
    let mut m = format!("# {}\n", escape_markdown(&page.title));
    if let Some(p) = &page.provenance {
        m.push_str(&p.to_markdown());
    }
    let mut figures = Vec::new();
    md_blocks(&mut m, &page.blocks, &mut figures);
    (m, figures)
}

fn md_blocks(m: &mut String, blocks: &[Block], figures: &mut Vec<(String, String)>) {
    for b in blocks {
        match b {
            Block::Heading(t) => {
                let _ = write!(m, "\n## {}\n", escape_markdown(t));
            }
            Block::Paragraph(t) => {
                let _ = write!(m, "\n{}\n", escape_markdown(t));
            }
            Block::Verdict(mark, t) => {
                let _ = write!(m, "\n**{}** {}\n", mark.text(), escape_markdown(t));
            }
            Block::Pre(t) => {
                let _ = write!(m, "\n```text\n{}\n```\n", t.trim_end());
            }
            Block::Table(t) => md_table(m, t),
            Block::Figure { svg, caption, file } => {
                let name = file
                    .clone()
                    .unwrap_or_else(|| format!("figure-{}.svg", figures.len() + 1));
                let _ = write!(m, "\n![{}]({name})\n", escape_markdown(caption));
                figures.push((name, crate::report::plot::polish(svg)));
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
