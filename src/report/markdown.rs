//! The Markdown report: the same tables as the HTML page (it renders on GitHub), figures as SVG
//! files beside it. Text is escaped for CommonMark (`*`, `_`, `<`, `>` and the other ASCII
//! punctuation that could start markup), so expressions such as `1.2*x*y` and `<E>` read as
//! written; the rendering is tested with a CommonMark parser.

use std::fmt::Write as _;

use crate::check::{CheckResult, FileResult, RunResult, Status};

use super::figures::figures as check_figures;
use super::provenance::Provenance;
use super::text::{step_number, step_tolerance};

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓ pass",
        Status::Fail => "✗ fail",
        Status::Inconclusive => "? inconclusive",
        Status::Error => "! error",
    }
}

/// Escapes text for CommonMark (and GitHub tables): every ASCII punctuation character that can
/// start markup gets a backslash, and a newline becomes a space.
pub fn escape(s: &str) -> String {
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

fn cell(s: &str) -> String {
    escape(s)
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

/// Renders the Markdown report and the figures it links, as `(file name, SVG)` pairs.
pub fn render(run: &RunResult, title: &str) -> (String, Vec<(String, String)>) {
    render_with(run, title, None)
}

/// As [`render`], with a provenance list under the title.
pub fn render_with(
    run: &RunResult,
    title: &str,
    provenance: Option<&Provenance>,
) -> (String, Vec<(String, String)>) {
    let mut m = String::new();
    let mut figures = Vec::new();
    let s = &run.summary;
    let _ = writeln!(m, "# {}", cell(title));
    if let Some(p) = provenance {
        m.push_str(&p.to_markdown());
    }
    let _ = writeln!(
        m,
        "\n{} passed, {} failed, {} inconclusive, {} errors.\n",
        s.pass, s.fail, s.inconclusive, s.error
    );
    let mut all: Vec<(usize, &FileResult, &CheckResult)> = Vec::new();
    for f in &run.files {
        for c in &f.checks {
            all.push((all.len() + 1, f, c));
        }
    }
    all.sort_by_key(|(n, _, c)| (rank(c.status), *n));
    m.push_str(
        "| status | claim | check | kind | worst discrepancy | file |\n|---|---|---|---|---|---|\n",
    );
    for f in run.files.iter().filter(|f| !f.load_errors.is_empty()) {
        let _ = writeln!(
            m,
            "| ! error |  | could not be loaded |  |  | {} |",
            cell(&f.path)
        );
    }
    for (_, f, c) in &all {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} |",
            mark(c.status),
            cell(&c.claim),
            cell(&c.name),
            cell(&c.kind),
            cell(&super::text::worst_text(c)),
            cell(&f.path),
        );
    }
    m.push_str("\nFiles:\n\n");
    for f in &run.files {
        let _ = writeln!(m, "- {} — {}", cell(&f.path), cell(&f.title));
    }
    for (n, f, c) in &all {
        let _ = writeln!(
            m,
            "\n### {} {} — {}\n\n{} ({}:{})\n",
            cell(&c.claim),
            cell(&c.name),
            mark(c.status),
            cell(&c.message),
            cell(&f.path),
            c.line
        );
        for (role, text) in &c.formulas {
            let _ = writeln!(m, "- {}: `{}`", cell(role), text.replace('`', "'"));
        }
        if !c.formulas.is_empty() {
            m.push('\n');
        }
        if let Some(h) = &c.hint {
            let _ = writeln!(m, "Hint: {}\n", cell(h));
        }
        if let Some(steps) = &c.steps {
            // The hint column only when some step has a hint.
            let hints = steps.iter().any(|s| s.hint.is_some());
            m.push_str(
                "| step | relation | status | line i | line i+1 | difference | tolerance | note |",
            );
            m.push_str(if hints {
                " hint |\n|---|---|---|---|---|---|---|---|---|\n"
            } else {
                "\n|---|---|---|---|---|---|---|---|\n"
            });
            for st in steps {
                let strong = if st.status == Status::Pass { "" } else { "**" };
                let _ = writeln!(
                    m,
                    "| {strong}{}{strong} | {} | {} | {} | {} | {} | {} | {} |",
                    st.index,
                    cell(st.relation),
                    mark(st.status),
                    step_number(st.lhs, 10),
                    step_number(st.rhs, 10),
                    step_number(st.difference, 2),
                    step_tolerance(st.difference, st.tolerance),
                    cell(st.note.as_deref().unwrap_or(""))
                );
                if hints {
                    m.pop();
                    let _ = writeln!(m, " {} |", cell(st.hint.as_deref().unwrap_or("")));
                }
            }
            m.push('\n');
        }
        for (k, (caption, svg)) in check_figures(c).into_iter().enumerate() {
            let name = if k == 0 {
                format!("figure-{n}.svg")
            } else {
                format!("figure-{n}-{}.svg", k + 1)
            };
            let _ = writeln!(m, "![{}]({name})\n", cell(&caption));
            figures.push((name, super::plot::polish(&svg)));
        }
    }
    (m, figures)
}
