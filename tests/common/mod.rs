//! Helpers shared by the CLI tests: running the binary, and the checks of `--report DIR` folders.

use std::path::Path;

/// Runs the binary with `args` in the package's folder: (exit code, stdout, stderr).
#[allow(dead_code)] // not every test crate runs the binary through this helper
pub fn ebmcheck(args: &[&str]) -> (i32, String, String) {
    ebmcheck_env(args, &[])
}

/// Runs the binary with `args` and extra environment variables: (exit code, stdout, stderr).
#[allow(dead_code)] // not every test crate sets environment variables
pub fn ebmcheck_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ebmcheck"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Checks a report folder: every SVG file beside the page is well-formed XML and linked from
/// `report.md`, every SVG inlined in the page is well-formed, and the page loads nothing from
/// outside itself (no external `src`, stylesheet, import, script or `url(...)`). Returns the
/// number of SVG files.
#[allow(dead_code)] // not every test crate writes reports
pub fn check_report_folder(dir: &Path, html: &str, md: &str) -> usize {
    let svgs: Vec<_> = std::fs::read_dir(dir)
        .expect("report folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    for p in &svgs {
        let text = std::fs::read_to_string(p).expect("svg");
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(md.contains(&format!("({name})")), "report.md links {name}");
    }
    for part in html.split("<svg").skip(1) {
        let end = part.find("</svg>").expect("closed svg");
        roxmltree::Document::parse(&format!("<svg{}</svg>", &part[..end]))
            .expect("inline svg parses");
    }
    let lower = html.to_lowercase();
    for bad in [
        "src=\"http",
        "src='http",
        "<link",
        "@import",
        "<script",
        "url(http",
    ] {
        assert!(!lower.contains(bad), "the page must not load `{bad}`");
    }
    svgs.len()
}
