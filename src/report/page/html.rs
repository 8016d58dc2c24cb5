//! The one HTML renderer of report pages: a self-contained page (inline CSS and SVG, nothing
//! fetched, no script; the status filter is CSS only).

use std::fmt::Write as _;

use super::{Block, Cell, Inline, Mark, Page, Table, anchor, has_filter, row_mark};

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

pub(crate) fn html_mark(m: Mark) -> String {
    format!("<span class=\"{}\">{}</span>", m.class(), m.text())
}

pub(crate) fn html_inlines(content: &[Inline]) -> String {
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

/// The page as HTML.
pub(super) fn render(page: &Page) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&page.title),
        escape(&page.title)
    );
    if let Some(p) = &page.provenance {
        h.push_str(&p.to_html());
    }
    if !has_filter(&page.blocks) {
        let mut counts = [
            (Mark::Fail, 0),
            (Mark::Error, 0),
            (Mark::Inconclusive, 0),
            (Mark::Pass, 0),
        ];
        for b in &page.blocks {
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
    let headings: Vec<&String> = page
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Heading(t) => Some(t),
            _ => None,
        })
        .collect();
    if headings.len() > 1 && !page.no_contents {
        h.push_str("<nav><ul>\n");
        for (i, t) in headings.iter().enumerate() {
            let _ = writeln!(h, "<li><a href=\"#{}\">{}</a></li>", anchor(i), escape(t));
        }
        h.push_str("</ul></nav>\n");
    }
    let mut heading = 0;
    html_blocks(&mut h, &page.blocks, &mut heading);
    h.push_str("</body>\n</html>\n");
    h
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
                    crate::report::plot::polish(svg),
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
