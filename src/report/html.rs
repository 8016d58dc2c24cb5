//! The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) with a summary
//! table and a section per check with its figure.

use std::fmt::Write as _;

use crate::check::{RunResult, Status};

use super::figures::figures;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's inline stylesheet, shared with [`super::page`].
pub(crate) const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-family:ui-monospace,monospace;white-space:nowrap}
.pass{color:#135e13}.fail{color:#a00;font-weight:bold}.inconclusive{color:#8a5a00}.error{color:#7a007a;font-weight:bold}
tr.failing{background:#fde8e8}code{background:#f4f4f4;padding:0 .2em}figure{margin:.8em 0}figcaption{font-size:.85em;color:#444}
.summary{font-size:1.1em;margin:1em 0}nav ul{columns:2;font-size:.9em}pre{background:#f6f6f6;padding:.5em;overflow-x:auto}";

fn status_cell(s: Status) -> String {
    let (mark, class) = match s {
        Status::Pass => ("✓ pass", "pass"),
        Status::Fail => ("✗ fail", "fail"),
        Status::Inconclusive => ("? inconclusive", "inconclusive"),
        Status::Error => ("! error", "error"),
    };
    format!("<span class=\"{class}\">{mark}</span>")
}

/// Renders a check run as a self-contained HTML page. Timings appear here (not in JSON).
pub fn render(run: &RunResult, title: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    let s = &run.summary;
    let _ = writeln!(
        h,
        "<p class=\"summary\">{} passed, {} failed, {} inconclusive, {} errors.</p>",
        s.pass, s.fail, s.inconclusive, s.error
    );
    h.push_str("<table>\n<tr><th>file</th><th>claim</th><th>check</th><th>kind</th><th>status</th><th>worst discrepancy</th><th>time</th></tr>\n");
    let mut n = 0;
    for f in &run.files {
        if !f.load_errors.is_empty() {
            let _ = writeln!(
                h,
                "<tr class=\"failing\"><td>{}</td><td></td><td>could not be loaded</td><td></td><td>{}</td><td></td><td></td></tr>",
                escape(&f.path),
                status_cell(Status::Error)
            );
            continue;
        }
        for c in &f.checks {
            n += 1;
            let _ = writeln!(
                h,
                "<tr{}><td>{}</td><td>{}</td><td><a href=\"#check-{n}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2} s</td></tr>",
                if c.status == Status::Pass {
                    ""
                } else {
                    " class=\"failing\""
                },
                escape(&f.path),
                escape(&c.claim),
                escape(&c.name),
                escape(&c.kind),
                status_cell(c.status),
                escape(&super::text::worst_text(c)),
                c.seconds
            );
        }
    }
    h.push_str("</table>\n");
    let mut n = 0;
    for f in &run.files {
        let _ = writeln!(h, "<h2>{} — {}</h2>", escape(&f.path), escape(&f.title));
        for d in &f.diagnostics {
            let _ = writeln!(h, "<pre>{}</pre>", escape(d));
        }
        for c in &f.checks {
            n += 1;
            let _ = writeln!(
                h,
                "<h3 id=\"check-{n}\">{} {} <code>{}</code> {}</h3>\n<p>{} (line {})</p>",
                escape(&c.claim),
                escape(&c.name),
                escape(&c.kind),
                status_cell(c.status),
                escape(&c.message),
                c.line
            );
            if let Some(steps) = &c.steps {
                h.push_str("<table>\n<tr><th>step</th><th>relation</th><th>status</th><th>line i</th><th>line i+1</th><th>difference</th><th>tolerance</th><th>note</th><th>hint</th></tr>\n");
                for s in steps {
                    let _ = writeln!(
                        h,
                        "<tr{}><td>{} (line {})</td><td>{}</td><td>{}</td><td class=\"num\">{:.10e}</td><td class=\"num\">{:.10e}</td><td class=\"num\">{:.2e}</td><td class=\"num\">{:.2e}</td><td>{}</td><td>{}</td></tr>",
                        if s.status == Status::Pass {
                            ""
                        } else {
                            " class=\"failing\""
                        },
                        s.index,
                        s.line,
                        escape(s.relation),
                        status_cell(s.status),
                        s.lhs,
                        s.rhs,
                        s.difference,
                        s.tolerance,
                        escape(s.note.as_deref().unwrap_or("")),
                        escape(s.hint.as_deref().unwrap_or(""))
                    );
                }
                h.push_str("</table>\n");
            }
            for (caption, svg) in figures(c) {
                let _ = writeln!(
                    h,
                    "<figure class=\"figure\">{svg}<figcaption>{}</figcaption></figure>",
                    escape(&caption)
                );
            }
            if let Some(w) = &c.worst {
                let inputs: Vec<String> = w
                    .inputs
                    .iter()
                    .map(|(k, v)| format!("{k} = {v:.6}"))
                    .collect();
                let _ = writeln!(
                    h,
                    "<p>worst point: {} — left {:.12e} ± {:.1e}, right {:.12e} ± {:.1e}</p>",
                    escape(&inputs.join(", ")),
                    w.lhs,
                    w.lhs_error,
                    w.rhs,
                    w.rhs_error
                );
            }
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}
