//! Unit tests of the page model: each block, cell and inline in HTML and in Markdown.

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
