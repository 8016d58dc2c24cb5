//! CLI tests of `ebmcheck check --report DIR`: the three files, one figure per check that has
//! one, well-formed SVG, and a page that loads nothing from outside itself.

mod common;

fn run_report(args: &[&str], dir: &std::path::Path) -> i32 {
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    let args: Vec<&str> = args.iter().copied().chain(["--report", dir]).collect();
    common::ebmcheck(&args).0
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ebmcheck-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn report_files_figures_and_self_containment() {
    let dir = temp_dir("all");
    let code = run_report(&["check", "--quiet"], &dir);
    assert_eq!(code, 0);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("report.json")).expect("report.json"),
    )
    .expect("json");
    assert_eq!(json["schema"], 1);

    // One figure per limit, gradient, Monte-Carlo and chain check; a Monte-Carlo comparison
    // (kind `equal`) also gets its running estimate and the histogram of its single-sample
    // estimates.
    let mut with_figure = 0;
    let mut traced = 0;
    for f in json["files"].as_array().expect("files") {
        for c in f["checks"].as_array().expect("checks") {
            let kind = c["kind"].as_str().expect("kind");
            let mc = c["points"]
                .as_array()
                .expect("points")
                .iter()
                .any(|p| p["extra"]["p_value"].is_number());
            if matches!(kind, "limit" | "gradient" | "chain") || mc {
                with_figure += 1;
            }
            if mc && kind == "equal" {
                traced += 1;
            }
        }
    }
    assert!(with_figure >= 10);
    assert!(
        traced >= 2,
        "the Monte-Carlo comparisons of monte_carlo.toml"
    );
    let with_figure = with_figure + 2 * traced;
    assert_eq!(
        html.matches("<svg").count(),
        with_figure,
        "one inline figure per check that has one, three per Monte-Carlo comparison"
    );
    assert_eq!(
        html.matches("<figcaption>`").count(),
        2 * traced,
        "running-estimate and histogram captions name the expression"
    );
    assert_eq!(
        html.matches("running Monte-Carlo estimate at").count(),
        traced
    );
    assert_eq!(html.matches("single-sample estimates at").count(), traced);
    assert_eq!(
        common::check_report_folder(&dir, &html, &md),
        with_figure,
        "one SVG file per figure"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn failing_chain_step_is_highlighted() {
    let dir = temp_dir("chain");
    let code = run_report(
        &[
            "check",
            "--quiet",
            "tests/data/wrong/chains/c11_sign_flipped.toml",
        ],
        &dir,
    );
    assert_eq!(code, 1);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert!(
        html.contains("<tr class=\"failing\"><td>4 (line"),
        "step 4 highlighted"
    );
    let md = std::fs::read_to_string(dir.join("report.md")).expect("report.md");
    // The step cell names its line in both formats (one page model renders both).
    assert!(md.contains("| **4 (line "), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
