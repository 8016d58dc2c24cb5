//! The Markdown report: the same tables as the HTML page (it renders on GitHub), figures as SVG
//! files beside it.

use std::fmt::Write as _;

use crate::check::{RunResult, Status};

use super::figures::figures as check_figures;

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓ pass",
        Status::Fail => "✗ fail",
        Status::Inconclusive => "? inconclusive",
        Status::Error => "! error",
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the Markdown report and the figures it links, as `(file name, SVG)` pairs.
pub fn render(run: &RunResult, title: &str) -> (String, Vec<(String, String)>) {
    let mut m = String::new();
    let mut figures = Vec::new();
    let s = &run.summary;
    let _ = writeln!(
        m,
        "# {}\n\n{} passed, {} failed, {} inconclusive, {} errors.\n",
        cell(title),
        s.pass,
        s.fail,
        s.inconclusive,
        s.error
    );
    m.push_str(
        "| file | claim | check | kind | status | worst discrepancy |\n|---|---|---|---|---|---|\n",
    );
    for f in &run.files {
        for c in &f.checks {
            let worst = cell(&super::text::worst_text(c));
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&f.path),
                c.claim,
                cell(&c.name),
                c.kind,
                mark(c.status),
                worst
            );
        }
        if !f.load_errors.is_empty() {
            let _ = writeln!(
                m,
                "| {} |  | could not be loaded |  | ! error |  |",
                cell(&f.path)
            );
        }
    }
    let mut n = 0;
    for f in &run.files {
        let _ = writeln!(m, "\n## {} — {}\n", cell(&f.path), cell(&f.title));
        for c in &f.checks {
            n += 1;
            let _ = writeln!(
                m,
                "### {} {} — {}\n\n{}\n",
                c.claim,
                cell(&c.name),
                mark(c.status),
                cell(&c.message)
            );
            if let Some(steps) = &c.steps {
                m.push_str("| step | relation | status | line i | line i+1 | difference | tolerance | note |\n|---|---|---|---|---|---|---|---|\n");
                for st in steps {
                    let strong = if st.status == Status::Pass { "" } else { "**" };
                    let _ = writeln!(
                        m,
                        "| {strong}{}{strong} | {} | {} | {:.10e} | {:.10e} | {:.2e} | {:.2e} | {} |",
                        st.index,
                        st.relation,
                        mark(st.status),
                        st.lhs,
                        st.rhs,
                        st.difference,
                        st.tolerance,
                        cell(st.note.as_deref().unwrap_or(""))
                    );
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
                figures.push((name, svg));
            }
        }
    }
    (m, figures)
}
