//! The HTML report: one self-contained page (inline CSS and SVG, nothing fetched) with a summary
//! table and a section per check with its figure.

use std::fmt::Write as _;

use crate::check::{CheckResult, FileResult, PointResult, RunResult, Status};

use super::figures::figures;
use super::mathml;
use super::provenance::Provenance;
use super::text::{step_number, step_tolerance};

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's inline stylesheet, shared with [`super::page`]. Status colours are from the
/// Okabe–Ito palette (distinguishable with colour-blindness); the marks ✓ ✗ ? ! carry the
/// meaning in greyscale. The status filter is CSS only (`:has`), so the page has no script.
pub(crate) const STYLE: &str = ".hint{border-left:4px solid #E69F00;padding-left:.5em}
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45;font-size:16px}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right;font-family:ui-monospace,monospace;white-space:nowrap}
.pass{color:#006e4f}.fail{color:#b34700;font-weight:bold}.inconclusive{color:#7a5a00}.error{color:#8a3d73;font-weight:bold}
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

/// The last component of a file's path, for the overview's narrow "file" column (the full path is
/// the cell's tooltip and is listed under "Files").
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or(path)
}

fn status_cell(s: Status) -> String {
    let (mark, class) = match s {
        Status::Pass => ("✓ pass", "pass"),
        Status::Fail => ("✗ fail", "fail"),
        Status::Inconclusive => ("? inconclusive", "inconclusive"),
        Status::Error => ("! error", "error"),
    };
    format!("<span class=\"{class}\">{mark}</span>")
}

/// Failures first: fail, error, inconclusive, pass.
fn rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Inconclusive => 2,
        Status::Pass => 3,
    }
}

/// The radio buttons of the status filter (CSS only; see [`STYLE`]).
pub(crate) fn status_filter(counts: &[(&str, usize)]) -> String {
    let mut h = String::from(
        "<div class=\"filter\">show: <label><input type=\"radio\" name=\"show\" id=\"show-all\" checked> all</label><label><input type=\"radio\" name=\"show\" id=\"show-failing\"> all but passing</label>",
    );
    for (word, n) in counts {
        if *n > 0 {
            let _ = write!(
                h,
                "<label><input type=\"radio\" name=\"show\" id=\"show-{word}\"> {word} ({n})</label>"
            );
        }
    }
    h.push_str("</div>\n");
    h
}

/// A number for a formula's side: 10 significant digits.
fn value(x: f64) -> String {
    if x.is_nan() {
        "no value".into()
    } else if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.10}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        format!("{x:.9e}")
    }
}

/// The check's expressions as typeset formulas. A chain is one line per row with the relation to
/// the line before; each step shows its status and both sides' values at the worst test point,
/// and a failing step is highlighted (`class="failing"`, `data-failing-step`).
fn formulas_html(c: &CheckResult) -> String {
    if c.formulas.is_empty() {
        return String::new();
    }
    let mut h = String::from("<table class=\"formulas\">\n");
    if let Some(steps) = &c.steps {
        for (i, (_, text)) in c.formulas.iter().enumerate() {
            let step = i.checked_sub(1).and_then(|k| steps.get(k));
            let (rel, class, side) = match step {
                Some(s) => {
                    let failing = s.status != Status::Pass;
                    (
                        mathml::math(&format!("<mo>{}</mo>", mathml::relation(s.relation))),
                        if failing {
                            format!(" class=\"failing\" data-failing-step=\"{}\"", s.index)
                        } else {
                            String::new()
                        },
                        format!(
                            "<td>{} step {}{}</td><td class=\"where\">line {} = {}<br>line {} = {}{}</td>",
                            status_cell(s.status),
                            s.index,
                            s.note
                                .as_deref()
                                .map(|n| format!(": {}", escape(n)))
                                .unwrap_or_default(),
                            s.index,
                            value(s.lhs),
                            s.index + 1,
                            value(s.rhs),
                            s.hint
                                .as_deref()
                                .map(|n| format!("<br>hint: {}", hint_html(n)))
                                .unwrap_or_default()
                        ),
                    )
                }
                None => (
                    String::new(),
                    String::new(),
                    "<td></td><td></td>".to_string(),
                ),
            };
            let _ = writeln!(
                h,
                "<tr{class}><td class=\"rel\">{rel}</td><td>{}</td>{side}</tr>",
                mathml::math_of_text(text)
            );
        }
    } else {
        for (role, text) in &c.formulas {
            let _ = writeln!(
                h,
                "<tr><td class=\"where\">{}</td><td>{}</td></tr>",
                escape(role),
                mathml::math_of_text(text)
            );
        }
        if let Some(w) = &c.worst {
            let _ = writeln!(
                h,
                "<tr{}><td class=\"where\">at the worst point</td><td class=\"where\">{}</td></tr>",
                if c.status == Status::Pass {
                    ""
                } else {
                    " class=\"failing\""
                },
                escape(&sides_text(w))
            );
        }
    }
    h.push_str("</table>\n");
    h
}

/// Both sides of a point with their uncertainty: `± 2 SE` for a Monte-Carlo side, `±` the error
/// bound for a deterministic one.
fn sides_text(w: &PointResult) -> String {
    let ((l, lh), (r, rh)) = super::figures::sides(w);
    let is_mc = w.extra.contains_key("std_error");
    let mc_left = super::figures::mc_on_left(w);
    let tag = |mc: bool| if mc { " (Monte Carlo, ± 2 SE)" } else { "" };
    format!(
        "left {} ± {lh:.1e}{}, right {} ± {rh:.1e}{}",
        value(l),
        tag(is_mc && mc_left),
        value(r),
        tag(is_mc && !mc_left)
    )
}

/// Renders a check run as a self-contained HTML page. Timings appear here (not in JSON).
pub fn render(run: &RunResult, title: &str) -> String {
    render_with(run, title, None)
}

/// As [`render`], with a provenance block under the title.
pub fn render_with(run: &RunResult, title: &str, provenance: Option<&Provenance>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    if let Some(p) = provenance {
        h.push_str(&p.to_html());
    }
    let s = &run.summary;
    let _ = writeln!(
        h,
        "<p class=\"summary\">{} passed, {} failed, {} inconclusive, {} errors.</p>",
        s.pass, s.fail, s.inconclusive, s.error
    );
    h.push_str(&status_filter(&[
        ("fail", s.fail),
        ("error", s.error),
        ("inconclusive", s.inconclusive),
        ("pass", s.pass),
    ]));
    // Every check with its number (anchors) and file, failures first, file order within a status.
    let mut all: Vec<(usize, &FileResult, &CheckResult)> = Vec::new();
    for f in &run.files {
        for c in &f.checks {
            all.push((all.len() + 1, f, c));
        }
    }
    all.sort_by_key(|(n, _, c)| (rank(c.status), *n));
    h.push_str("<table class=\"overview\">\n<tr><th>status</th><th>claim</th><th>check</th><th>kind</th><th>worst discrepancy</th><th>file</th><th>time</th></tr>\n");
    for f in run.files.iter().filter(|f| !f.load_errors.is_empty()) {
        let _ = writeln!(
            h,
            "<tr class=\"failing\" data-status=\"error\"><td>{}</td><td></td><td>could not be loaded</td><td></td><td></td><td>{}</td><td></td></tr>",
            status_cell(Status::Error),
            escape(&f.path)
        );
    }
    for (n, f, c) in &all {
        let _ = writeln!(
            h,
            "<tr data-status=\"{}\"{}><td>{}</td><td>{}</td><td><a href=\"#check-{n}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td title=\"{}\">{}</td><td class=\"num\">{:.2} s</td></tr>",
            c.status.as_str(),
            if c.status == Status::Pass {
                ""
            } else {
                " class=\"failing\""
            },
            status_cell(c.status),
            escape(&c.claim),
            escape(&c.name),
            escape(&c.kind),
            escape(&super::text::worst_text(c)),
            escape(&f.path),
            escape(file_name(&f.path)),
            c.seconds
        );
    }
    h.push_str("</table>\n<p>Files:</p>\n<ul>\n");
    for f in &run.files {
        let _ = writeln!(
            h,
            "<li><code>{}</code> — {}</li>",
            escape(&f.path),
            escape(&f.title)
        );
    }
    h.push_str("</ul>\n");
    for f in run.files.iter().filter(|f| !f.load_errors.is_empty()) {
        let _ = writeln!(h, "<h2>{} (not loaded)</h2>", escape(&f.path));
        for d in &f.diagnostics {
            let _ = writeln!(h, "<pre>{}</pre>", escape(d));
        }
    }
    let failing: Vec<_> = all
        .iter()
        .filter(|(_, _, c)| c.status != Status::Pass)
        .collect();
    if !failing.is_empty() {
        h.push_str("<h2>Checks that did not pass</h2>\n");
        for (n, f, c) in failing {
            h.push_str(&check_section(*n, f, c));
        }
    }
    let passing: Vec<_> = all
        .iter()
        .filter(|(_, _, c)| c.status == Status::Pass)
        .collect();
    if !passing.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Checks that passed ({}; click one to open it)</h2>",
            passing.len()
        );
        for (n, f, c) in passing {
            let _ = writeln!(
                h,
                "<details class=\"check\" data-status=\"pass\"><summary>{} {} {} <span class=\"where\">({})</span></summary>",
                status_cell(c.status),
                escape(&c.claim),
                escape(&c.name),
                escape(&f.path)
            );
            h.push_str(&check_section(*n, f, c));
            h.push_str("</details>\n");
        }
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// A hint as HTML: escaped, with the expressions it quotes between backticks set as code.
fn hint_html(hint: &str) -> String {
    escape(hint)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// One check: heading, message, formulas, the step table of a chain, figures.
fn check_section(n: usize, f: &FileResult, c: &CheckResult) -> String {
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<section data-status=\"{}\"><h3 id=\"check-{n}\">{} {} <code>{}</code> {}</h3>\n<p>{} ({}:{})</p>",
        c.status.as_str(),
        escape(&c.claim),
        escape(&c.name),
        escape(&c.kind),
        status_cell(c.status),
        escape(&c.message),
        escape(&f.path),
        c.line
    );
    if let Some(hint) = &c.hint {
        let _ = writeln!(h, "<p class=\"hint\">hint: {}</p>", hint_html(hint));
    }
    h.push_str(&formulas_html(c));
    if let Some(steps) = &c.steps {
        let hints = steps.iter().any(|s| s.hint.is_some());
        h.push_str("<table>\n<tr><th>step</th><th>relation</th><th>status</th><th>line i</th><th>line i+1</th><th>difference</th><th>tolerance</th><th>note</th>");
        if hints {
            h.push_str("<th>hint</th>");
        }
        h.push_str("</tr>\n");
        for s in steps {
            let _ = write!(
                h,
                "<tr{}><td>{} (line {})</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>",
                if s.status == Status::Pass {
                    ""
                } else {
                    " class=\"failing\""
                },
                s.index,
                s.line,
                escape(s.relation),
                status_cell(s.status),
                step_number(s.lhs, 10),
                step_number(s.rhs, 10),
                step_number(s.difference, 2),
                step_tolerance(s.difference, s.tolerance),
                escape(s.note.as_deref().unwrap_or(""))
            );
            if hints {
                let _ = write!(h, "<td>{}</td>", hint_html(s.hint.as_deref().unwrap_or("")));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    for (caption, svg) in figures(c) {
        let _ = writeln!(
            h,
            "<figure class=\"figure\">{}<figcaption>{}</figcaption></figure>",
            super::plot::polish(&svg),
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
            "<p>worst point: {} — {}</p>",
            escape(&inputs.join(", ")),
            escape(&sides_text(w))
        );
    }
    h.push_str("</section>\n");
    h
}
