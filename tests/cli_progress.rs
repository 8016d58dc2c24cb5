//! Progress on standard error: `check` shows an elapsed-time progress line on a terminal (run
//! under a pseudo-terminal by util-linux `script`), and never writes spinner bytes to a pipe or
//! into `--format json` output.

use std::process::Command;

/// Files whose checks take more than the second after which progress appears.
const SLOW: [&str; 3] = ["derivations", "tests/data/right", "tests/data/wrong/chains"];

/// Bytes that only the progress line writes: its text, a carriage return, an escape sequence
/// and the braille spinner frames.
fn has_progress_bytes(s: &str) -> bool {
    s.contains("checking ")
        || s.contains('\r')
        || s.contains('\u{1b}')
        || s.chars().any(|c| ('\u{2800}'..='\u{28ff}').contains(&c))
}

#[test]
fn pipes_and_json_get_no_progress_bytes() {
    let run = |json: bool| {
        let mut args = vec!["check"];
        args.extend(SLOW);
        if json {
            args.extend(["--format", "json"]);
        }
        let out = Command::new(env!("CARGO_BIN_EXE_ebmcheck"))
            .args(&args)
            .env_remove("CI")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("the binary runs");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for json in [false, true] {
        let (out, err) = run(json);
        assert!(!has_progress_bytes(&out), "stdout (json {json}): {out}");
        assert!(!has_progress_bytes(&err), "stderr (json {json}): {err}");
        if json {
            let v: serde_json::Value = serde_json::from_str(&out).expect("pure JSON");
            assert_eq!(v["schema"], 1);
        }
    }
}

/// Quotes a word for `sh -c`.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs `sh -c inner` with a pseudo-terminal as its terminal (util-linux `script`), outside CI,
/// and returns what the terminal showed.
fn on_a_terminal(inner: &str) -> String {
    let out = Command::new("script")
        .args(["-qec", inner, "/dev/null"])
        .env_remove("CI")
        .env("TERM", "xterm")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_sees_progress_while_json_on_stdout_stays_clean() {
    if Command::new("script").arg("--version").output().is_err() {
        // Without util-linux `script` there is no pseudo-terminal to run under; the pipe test
        // above still holds. Said on the test's output so that the skip is visible.
        println!("skipped: util-linux `script` is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ebmcheck-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("out.json");
    let bin = env!("CARGO_BIN_EXE_ebmcheck");
    // Standard error is the pseudo-terminal (progress shown there); standard output goes to a
    // file as JSON.
    let inner = format!(
        "{} check {} --format json > {}",
        sh_quote(bin),
        SLOW.join(" "),
        sh_quote(json.to_str().expect("utf-8 path"))
    );
    let terminal = on_a_terminal(&inner);
    assert!(
        terminal.contains("checking ") && terminal.contains(" files ["),
        "no progress on the terminal: {terminal:?}"
    );
    assert!(
        terminal
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
        "no spinner frame on the terminal: {terminal:?}"
    );
    let written = std::fs::read_to_string(&json).expect("out.json");
    assert!(!has_progress_bytes(&written), "{written}");
    let v: serde_json::Value = serde_json::from_str(&written).expect("pure JSON");
    assert_eq!(v["schema"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn long_monte_carlo_work_in_grad_shows_progress_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        println!("skipped: util-linux `script` is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ebmcheck-grad-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("grad.json");
    let bin = env!("CARGO_BIN_EXE_ebmcheck");
    // Three million HMC draws: a few seconds, past the second after which progress appears.
    let args = [
        "grad",
        "0.5*(y-w)^2",
        "--over",
        "y=-inf..inf",
        "--data",
        "y=0.1,0.2,0.3",
        "--wrt",
        "w",
        "--set",
        "w=0.5",
        "--beta",
        "1",
        "--mc",
        "3000000",
        "--sampler",
        "hmc",
        "--format",
        "json",
    ];
    let quoted: Vec<String> = args.iter().map(|a| sh_quote(a)).collect();
    let inner = format!(
        "{} {} > {}",
        sh_quote(bin),
        quoted.join(" "),
        sh_quote(json.to_str().expect("utf-8 path"))
    );
    let terminal = on_a_terminal(&inner);
    assert!(
        terminal.contains(
            "computing the exact gradient, finite differences and 3000000 Monte-Carlo draws (hmc)"
        ),
        "no progress on the terminal: {terminal:?}"
    );
    assert!(
        terminal
            .chars()
            .any(|c| ('\u{2800}'..='\u{28ff}').contains(&c)),
        "no spinner frame on the terminal: {terminal:?}"
    );
    let written = std::fs::read_to_string(&json).expect("grad.json");
    assert!(!has_progress_bytes(&written), "{written}");
    let v: serde_json::Value = serde_json::from_str(&written).expect("pure JSON");
    assert_eq!(v["schema"], 1);
    // The same run into a pipe writes no progress bytes to standard error.
    let piped = Command::new(bin)
        .args(args)
        .env_remove("CI")
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(!has_progress_bytes(&err), "stderr in a pipe: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}
