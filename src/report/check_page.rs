//! The page of a `check` run, as a [`Page`]: the summary, the status filter, an overview table
//! linking to every check (failures first), the files, and a section per check — failures
//! open, passing checks collapsed — with its message, hint, typeset formulas (MathML, a list of
//! expressions in Markdown), the step table of a chain, figures and worst point.

use std::fmt::Write as _;

use crate::check::{CheckResult, FileResult, PointResult, RunResult, Status};

use super::figures::figures;
use super::mathml;
use super::page::{
    Block, Cell, Inline, Mark, Page, Section, Table, escape, html_inlines, html_mark,
};
use super::provenance::Provenance;
use super::text::{step_number, step_tolerance};

/// The last component of a file's path, for the overview's narrow "file" column (the full path is
/// the cell's tooltip and is listed under "Files").
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or(path)
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

/// The check's expressions as typeset formulas (HTML). A chain is one line per row with the
/// relation to the line before; each step shows its status and both sides' values at the worst
/// test point, and a failing step is highlighted (`class="failing"`, `data-failing-step`).
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
                            html_mark(Mark::of(s.status)),
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
                                .map(|n| format!(
                                    "<br>hint: {}",
                                    html_inlines(&Inline::with_code(n))
                                ))
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

/// The check's expressions in Markdown: one list item per expression, as code.
fn formulas_markdown(c: &CheckResult) -> String {
    let mut m = String::new();
    for (role, text) in &c.formulas {
        let _ = writeln!(
            m,
            "- {}: `{}`",
            super::page::escape_markdown(role),
            text.replace('`', "'")
        );
    }
    m
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

/// The page of a check run. Timings appear here (in the HTML), not in JSON.
pub fn page(run: &RunResult, title: &str, provenance: Option<&Provenance>) -> Page {
    let mut page = Page::new(title);
    page.provenance = provenance.cloned();
    page.no_contents = true;
    let s = &run.summary;
    page.push(Block::Inlines {
        class: Some("summary".into()),
        content: vec![Inline::Text(format!(
            "{} passed, {} failed, {} inconclusive, {} errors.",
            s.pass, s.fail, s.inconclusive, s.error
        ))],
    });
    page.push(Block::Filter(vec![
        (Mark::Fail, s.fail),
        (Mark::Error, s.error),
        (Mark::Inconclusive, s.inconclusive),
        (Mark::Pass, s.pass),
    ]));
    // Every check with its number (anchors) and file, failures first, file order within a status.
    let mut all: Vec<(usize, &FileResult, &CheckResult)> = Vec::new();
    for f in &run.files {
        for c in &f.checks {
            all.push((all.len() + 1, f, c));
        }
    }
    all.sort_by_key(|(n, _, c)| (Mark::of(c.status).rank(), *n));
    page.push(Block::Table(overview(run, &all)));
    page.push(Block::Paragraph("Files:".into()));
    page.push(Block::List(
        run.files
            .iter()
            .map(|f| {
                vec![
                    Inline::Code(f.path.clone()),
                    Inline::Text(format!(" — {}", f.title)),
                ]
            })
            .collect(),
    ));
    for f in run.files.iter().filter(|f| !f.load_errors.is_empty()) {
        page.push(Block::Heading(format!("{} (not loaded)", f.path)));
        for d in &f.diagnostics {
            page.push(Block::Pre(d.clone()));
        }
    }
    let failing: Vec<_> = all
        .iter()
        .filter(|(_, _, c)| c.status != Status::Pass)
        .collect();
    if !failing.is_empty() {
        page.push(Block::Heading("Checks that did not pass".into()));
        for (n, f, c) in failing {
            page.push(Block::Section(check_section(*n, f, c)));
        }
    }
    let passing: Vec<_> = all
        .iter()
        .filter(|(_, _, c)| c.status == Status::Pass)
        .collect();
    if !passing.is_empty() {
        page.push(Block::Heading(format!(
            "Checks that passed ({}; click one to open it)",
            passing.len()
        )));
        for (n, f, c) in passing {
            let mut section = check_section(*n, f, c);
            section.collapsed = Some(vec![
                Inline::Mark(Mark::of(c.status)),
                Inline::Text(format!(" {} {} ", c.claim, c.name)),
                Inline::Aside(format!("({})", f.path)),
            ]);
            page.push(Block::Section(section));
        }
    }
    page
}

/// The overview: a row per check (failures first; files that could not be loaded among the
/// errors), its name linking to its section; the time column only in HTML.
fn overview(run: &RunResult, all: &[(usize, &FileResult, &CheckResult)]) -> Table {
    let mut t = Table::new([
        "status",
        "claim",
        "check",
        "kind",
        "worst discrepancy",
        "file",
        "time",
    ]);
    t.class = Some("overview".into());
    t.html_only = vec![6];
    // Rows in the order the HTML sorts them into (a stable sort by status), so both formats
    // list them alike: files that could not be loaded go first among the errors.
    let row = |n: usize, f: &FileResult, c: &CheckResult| {
        (
            vec![
                Cell::Mark(Mark::of(c.status)),
                Cell::Text(c.claim.clone()),
                Cell::Link {
                    text: c.name.clone(),
                    href: format!("#check-{n}"),
                },
                Cell::Text(c.kind.clone()),
                Cell::Num(super::text::worst_text(c)),
                Cell::Abbrev {
                    short: file_name(&f.path).to_string(),
                    full: f.path.clone(),
                },
                Cell::Num(format!("{:.2} s", c.seconds)),
            ],
            c.status != Status::Pass,
        )
    };
    for (n, f, c) in all.iter().filter(|(_, _, c)| c.status == Status::Fail) {
        let (cells, hl) = row(*n, f, c);
        t.row(cells, hl);
    }
    for f in run.files.iter().filter(|f| !f.load_errors.is_empty()) {
        t.row(
            vec![
                Cell::Mark(Mark::Error),
                "".into(),
                "could not be loaded".into(),
                "".into(),
                "".into(),
                Cell::Text(f.path.clone()),
                "".into(),
            ],
            true,
        );
    }
    for (n, f, c) in all.iter().filter(|(_, _, c)| c.status != Status::Fail) {
        let (cells, hl) = row(*n, f, c);
        t.row(cells, hl);
    }
    t
}

/// One check: heading, message, hint, formulas, the step table of a chain, figures, worst point.
fn check_section(n: usize, f: &FileResult, c: &CheckResult) -> Section {
    let mut blocks = vec![Block::Paragraph(format!(
        "{} ({}:{})",
        c.message, f.path, c.line
    ))];
    if let Some(hint) = &c.hint {
        blocks.push(Block::Hint(hint.clone()));
    }
    if !c.formulas.is_empty() {
        blocks.push(Block::Raw {
            html: formulas_html(c),
            markdown: formulas_markdown(c),
        });
    }
    if let Some(steps) = &c.steps {
        let hints = steps.iter().any(|s| s.hint.is_some());
        let mut header = vec![
            "step",
            "relation",
            "status",
            "line i",
            "line i+1",
            "difference",
            "tolerance",
            "note",
        ];
        if hints {
            header.push("hint");
        }
        let mut t = Table::new(header);
        t.plain_rows = true;
        for s in steps {
            let mut cells = vec![
                Cell::Text(format!("{} (line {})", s.index, s.line)),
                Cell::Text(s.relation.to_string()),
                Cell::Mark(Mark::of(s.status)),
                Cell::Num(step_number(s.lhs, 10)),
                Cell::Num(step_number(s.rhs, 10)),
                Cell::Num(step_number(s.difference, 2)),
                Cell::Num(step_tolerance(s.difference, s.tolerance)),
                Cell::Text(s.note.clone().unwrap_or_default()),
            ];
            if hints {
                cells.push(Cell::Inlines(Inline::with_code(
                    s.hint.as_deref().unwrap_or(""),
                )));
            }
            t.row(cells, s.status != Status::Pass);
        }
        blocks.push(Block::Table(t));
    }
    for (k, (caption, svg)) in figures(c).into_iter().enumerate() {
        let file = if k == 0 {
            format!("figure-{n}.svg")
        } else {
            format!("figure-{n}-{}.svg", k + 1)
        };
        blocks.push(Block::Figure {
            svg,
            caption,
            file: Some(file),
        });
    }
    if let Some(w) = &c.worst {
        let inputs: Vec<String> = w
            .inputs
            .iter()
            .map(|(k, v)| format!("{k} = {v:.6}"))
            .collect();
        blocks.push(Block::Paragraph(format!(
            "worst point: {} — {}",
            inputs.join(", "),
            sides_text(w)
        )));
    }
    Section {
        id: format!("check-{n}"),
        heading: vec![
            Inline::Text(format!("{} {} ", c.claim, c.name)),
            Inline::Code(c.kind.clone()),
            Inline::Text(" ".into()),
            Inline::Mark(Mark::of(c.status)),
        ],
        status: Some(Mark::of(c.status)),
        collapsed: None,
        blocks,
    }
}
