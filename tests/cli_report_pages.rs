//! The three report pages (check, grad, sampler-test) rendered by the binary: typeset MathML that
//! is well-formed, the failing chain step marked with both sides' values, failures before passes,
//! passing checks collapsed, the status filter, a provenance block on every page and in
//! report.json, and a report.md that a CommonMark renderer reads as written.

mod common;

use common::ebmcheck;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ebmcheck-pages-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn read(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `<math>` element of a page parses as XML in the MathML namespace; returns how many.
fn mathml_well_formed(html: &str) -> usize {
    let mut n = 0;
    for part in html.split("<math").skip(1) {
        let end = part.find("</math>").expect("closed math");
        let text = format!("<math{}</math>", &part[..end]);
        let doc = roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("MathML does not parse ({e}): <math{}", &part[..end]));
        assert_eq!(
            doc.root_element().tag_name().namespace(),
            Some("http://www.w3.org/1998/Math/MathML")
        );
        n += 1;
    }
    n
}

fn provenance(html: &str, json: &str, schema_first: bool) {
    assert!(html.contains("class=\"provenance\""), "no provenance block");
    for key in ["ebmcheck", "command", "date", "cores"] {
        assert!(
            html.contains(&format!("<dt>{key}</dt>")),
            "provenance lacks {key}"
        );
    }
    let v: serde_json::Value = serde_json::from_str(json).expect("report.json");
    let compact: String = json.chars().filter(|c| !c.is_whitespace()).collect();
    if schema_first {
        assert!(compact.starts_with("{\"schema\":1"), "schema stays first");
    }
    let p = &v["provenance"];
    assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        p["command"]
            .as_str()
            .is_some_and(|c| c.starts_with("ebmcheck "))
    );
    assert!(p["cores"].as_u64().is_some_and(|c| c >= 1));
    assert!(p["date"].as_str().is_some_and(|d| d.ends_with('Z')));
}

#[test]
fn check_page_typesets_the_derivation_and_marks_the_failing_step() {
    let dir = temp_dir("check");
    let d = dir.to_str().expect("utf-8");
    let (code, _, err) = ebmcheck(&[
        "check",
        "--quiet",
        "derivations/kmeans.toml",
        "tests/data/wrong/chains/c11_sign_flipped.toml",
        "tests/data/wrong/flipped_sign.toml",
        "--report",
        d,
    ]);
    assert_eq!(code, 1, "{err}");
    let html = read(&dir, "index.html");
    let md = read(&dir, "report.md");
    common::check_report_folder(&dir, &html, &md);
    provenance(&html, &read(&dir, "report.json"), true);
    // Every side and chain line typeset, all well-formed.
    assert!(mathml_well_formed(&html) >= 10);
    // The failing step (step 4 of the C11 chain) is marked and shows both sides' values.
    let marked = html
        .split("data-failing-step=\"")
        .nth(1)
        .expect("a failing step is marked");
    assert!(marked.starts_with("4\""), "{}", &marked[..20]);
    let row = &marked[..marked.find("</tr>").expect("row")];
    assert!(row.contains("<math") && row.contains("line 4 = ") && row.contains("line 5 = "));
    // Failures first in the overview; passing checks collapsed; the status filter.
    let first_pass = html.find("data-status=\"pass\"").expect("a pass");
    let last_fail = html.rfind("data-status=\"fail\"").expect("a fail");
    let overview_end = html.find("</table>").expect("overview");
    assert!(html[..overview_end].rfind("data-status=\"fail\"") < Some(first_pass));
    assert!(
        last_fail > first_pass,
        "failure sections follow the overview"
    );
    assert!(html.contains("<details class=\"check\" data-status=\"pass\">"));
    assert!(html.contains("id=\"show-fail\""));
    // The hint column is shown only when some step has a hint.
    let has_hint = html.contains("<th>hint</th>");
    let json: serde_json::Value = serde_json::from_str(&read(&dir, "report.json")).expect("json");
    let any_hint = json["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["checks"].as_array().cloned().unwrap_or_default())
        .flat_map(|c| c["steps"].as_array().cloned().unwrap_or_default())
        .any(|s| !s["hint"].is_null());
    assert_eq!(has_hint, any_hint);
    // Figures: fonts of at least 12 px, no grey-only palette.
    for part in html.split("font-size=\"").skip(1) {
        let size: f64 = part[..part.find('"').expect("quote")]
            .parse()
            .expect("number");
        assert!(size >= 12.0, "font-size {size}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The HTML a CommonMark renderer makes of a Markdown text.
fn commonmark(md: &str) -> String {
    let mut out = String::new();
    let parser = pulldown_cmark::Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES);
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

#[test]
fn report_md_renders_expressions_as_written() {
    let dir = temp_dir("md");
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("stars.toml");
    std::fs::write(
        &file,
        "title = \"1.2*x*y and <E> under_scores\"\n[variables]\nx = \"-1..1\"\ny = \"-1..1\"\n[[check]]\nname = \"1.2*x*y is x*y*1.2 with <E> and a_b_c\"\nclaim = \"C1\"\nkind = \"equal\"\nlhs = \"1.2*x*y\"\nrhs = \"x*y*1.2\"\n",
    )
    .expect("write");
    let out = dir.join("out");
    let (code, _, err) = ebmcheck(&[
        "check",
        "--quiet",
        file.to_str().expect("utf-8"),
        "--report",
        out.to_str().expect("utf-8"),
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let html = commonmark(&read(&out, "report.md"));
    assert!(!html.contains("<em>"), "markup from expressions: {html}");
    assert!(!html.contains("<E>"), "a raw tag: {html}");
    assert!(
        html.contains("1.2*x*y and &lt;E&gt; under_scores"),
        "{html}"
    );
    assert!(
        html.contains("1.2*x*y is x*y*1.2 with &lt;E&gt; and a_b_c"),
        "{html}"
    );
    assert!(html.contains("<table>"), "the summary table renders");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grad_and_sampler_pages_have_provenance_and_well_formed_figures() {
    let dir = temp_dir("grad");
    let d = dir.to_str().expect("utf-8");
    let (code, _, err) = ebmcheck(&[
        "grad",
        "0.5*(y - m)^2",
        "--over",
        "y=-inf..inf",
        "--data",
        "y=0.5,1.5",
        "--wrt",
        "m",
        "--set",
        "m=0",
        "--beta",
        "1",
        "--mc",
        "4000",
        "--sampler",
        "exact",
        "--report",
        d,
    ]);
    assert_eq!(code, 0, "{err}");
    let html = read(&dir, "index.html");
    common::check_report_folder(&dir, &html, &read(&dir, "report.md"));
    provenance(&html, &read(&dir, "report.json"), true);
    let _ = std::fs::remove_dir_all(&dir);

    let dir = temp_dir("sampler");
    std::fs::create_dir_all(&dir).expect("dir");
    // Two chains of an AR(1) process with N(0, 1) marginals (fixed generator).
    let mut state: u64 = 7;
    let mut uniform = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut csv = String::from("chain,y\n");
    for chain in 0..2 {
        let mut y = 0.0f64;
        for _ in 0..3000 {
            let (u, v) = (uniform(), uniform());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            y = 0.5 * y + 0.75f64.sqrt() * z;
            csv.push_str(&format!("{chain},{y}\n"));
        }
    }
    std::fs::write(dir.join("draws.csv"), csv).expect("csv");
    let out = dir.join("out");
    let (code, _, err) = ebmcheck(&[
        "sampler-test",
        "0.5*y^2",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--samples",
        dir.join("draws.csv").to_str().expect("utf-8"),
        "--report",
        out.to_str().expect("utf-8"),
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let html = read(&out, "index.html");
    common::check_report_folder(&out, &html, &read(&out, "report.md"));
    // (Where sampler-test puts `"schema"` is its own JSON's business.)
    provenance(&html, &read(&out, "report.json"), false);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grad_page_shows_each_comparisons_verdict_and_power() {
    // At β = 1e308 the exact gradient has no finite error bound: the comparison with the finite
    // difference cannot fail, so its row must read inconclusive (never the bare "agree" as a
    // pass), and the table shows the power it had.
    let dir = temp_dir("grad-inconclusive");
    let d = dir.to_str().expect("utf-8");
    let (code, out, err) = ebmcheck(&[
        "grad",
        "0.5*(y - w*z)^2 + 0.5*z^2",
        "--over",
        "y=-inf..inf",
        "--latent",
        "z=-inf..inf",
        "--data",
        "y=0.3,-1.2,0.8",
        "--wrt",
        "w",
        "--set",
        "w=1.5",
        "--beta",
        "1e308",
        "--report",
        d,
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let html = read(&dir, "index.html");
    let table = &html[html.find("<th>power</th>").expect("a power column")..];
    let row = &table[table.find("<td>w</td>").expect("the row of w")..];
    let row = &row[..row.find("</tr>").expect("row end")];
    assert!(row.contains("inconclusive"), "{row}");
    assert!(!row.contains("pass"), "{row}");
    let _ = std::fs::remove_dir_all(&dir);

    // A comparison that can fail and agrees: pass, with a finite power in the same row.
    let dir = temp_dir("grad-pass");
    let d = dir.to_str().expect("utf-8");
    let (code, out, err) = ebmcheck(&[
        "grad",
        "0.5*(y - m)^2",
        "--over",
        "y=-inf..inf",
        "--data",
        "y=1",
        "--wrt",
        "m",
        "--set",
        "m=0",
        "--beta",
        "1",
        "--report",
        d,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let html = read(&dir, "index.html");
    let table = &html[html.find("<th>power</th>").expect("a power column")..];
    let row = &table[table.find("<td>m</td>").expect("the row of m")..];
    let row = &row[..row.find("</tr>").expect("row end")];
    assert!(row.contains("pass"), "{row}");
    assert!(row.contains("e-"), "a finite power: {row}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_line_with_no_value_reads_no_value_and_the_file_column_names_the_file() {
    let dir = temp_dir("no-value");
    let folder = dir.join("a folder with a long name").join("derivations");
    std::fs::create_dir_all(&folder).expect("dir");
    let file = folder.join("diverging_line.toml");
    std::fs::write(
        &file,
        r#"title = "A chain whose second line diverges"
[variables]
z = "-inf..inf"
[points]
beta = "0.3..5 log"
[[check]]
name = "a sign flipped in one exponent"
claim = "C1"
kind = "chain"
steps = [
  { expr = "int[z](exp(-beta*0.5*z^2))", note = "the partition function" },
  { expr = "int[z](exp(beta*0.5*z^2))", note = "a sign flipped" },
  { expr = "sqrt(2*pi/beta)", note = "Gaussian integral" },
]
"#,
    )
    .expect("toml");
    let out = dir.join("report");
    let (code, text, err) = ebmcheck(&[
        "check",
        file.to_str().expect("utf-8"),
        "--report",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{text}{err}");
    let html = read(&out, "index.html");
    let md = read(&out, "report.md");
    // The worst discrepancy of a step with no value is not a number.
    assert!(text.contains("no value to compare"), "{text}");
    assert!(html.contains("no value to compare"), "overview");
    for (name, page) in [("index.html", &html), ("report.md", &md)] {
        assert!(!page.contains("NaN"), "{name} prints NaN");
        assert!(page.contains("no value"), "{name}");
    }
    // The overview's file column shows the file's name; its full path is the tooltip.
    let full = file.to_str().expect("utf-8");
    assert!(
        html.contains(&format!("title=\"{full}\">diverging_line.toml</td>")),
        "file cell"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
