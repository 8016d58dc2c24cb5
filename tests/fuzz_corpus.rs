//! Replays every input kept for the fuzz targets — the seeds in `fuzz/corpus/<target>/` and the
//! crashes, hangs and slow inputs found by fuzzing in `fuzz/regressions/<target>/` — through the
//! targets' own bodies (`ebmcheck::testing::fuzz`), so that a fixed crash stays fixed without the
//! nightly toolchain. Each input must finish without a panic within a time bound.

use ebmcheck::testing::fuzz::TARGETS;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Per input, in a release build on a loaded 2-core machine; libFuzzer's own limit in CI is 10 s.
const PER_INPUT: Duration = Duration::from_secs(10);

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut failures = Vec::new();
    for (name, body) in TARGETS {
        let corpus = inputs(&root.join("corpus").join(name));
        assert!(
            corpus.len() >= 5,
            "fuzz/corpus/{name} holds {} seeds; keep at least 5",
            corpus.len()
        );
        let regressions = inputs(&root.join("regressions").join(name));
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).expect("readable corpus file");
            let start = Instant::now();
            let outcome = std::panic::catch_unwind(|| body(&data));
            let took = start.elapsed();
            if outcome.is_err() {
                failures.push(format!("{}: panicked", path.display()));
            } else if took > PER_INPUT {
                failures.push(format!(
                    "{}: took {took:?} (> {PER_INPUT:?})",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn inputs_the_targets_refuse_return_quietly() {
    for (name, body) in TARGETS {
        for data in [
            &b""[..],
            b"\xff\xfe not utf-8",
            b"\n\n\n",
            b"((((((((((",
            b"\0",
        ] {
            let outcome = std::panic::catch_unwind(|| body(data));
            assert!(outcome.is_ok(), "{name} panicked on {data:?}");
        }
    }
}
