//! CLI tests of `ebmcheck sampler-test` on files as tools write them: bookkeeping columns,
//! `--columns`, `.npy` and `.npz` archives, several files against one reference with their costs,
//! and the readers' errors worded with the flags that fix them.

use super::*;

/// Files as tools write them: bookkeeping columns ignored and reported, `--columns`, a chain
/// variable refused, `.npy`, several files against one reference, `"schema"` first.
#[test]
fn real_world_inputs_several_files_and_npy() {
    let mh = RandomWalkMetropolis::new(1.2).expect("valid");
    let chains = draws(&gauss(), &mh, &gauss_inits(), 600);
    // A CSV with ArviZ-like bookkeeping columns around the variables.
    let mut text = String::from("chain,draw,lp,x,y\n");
    for (c, chain) in chains.iter().enumerate() {
        for (i, row) in chain.chunks(2).enumerate() {
            text.push_str(&format!("{c},{i},-1.5,{:e},{:e}\n", row[0], row[1]));
        }
    }
    let a = temp_file("extra-cols.csv", &text);
    let _ca = Cleanup(a.clone());
    // The same draws as a (chains, draws, dims) .npy.
    let n = chains[0].len() / 2;
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {n}, 2), }}",
        chains.len()
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    npy.extend_from_slice(&u16::try_from(h.len()).expect("short").to_le_bytes());
    npy.extend_from_slice(h.as_bytes());
    for v in chains.iter().flatten() {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    let dir = std::env::temp_dir().join(format!("ebmcheck-npy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let b = dir.join("same.npy");
    std::fs::write(&b, &npy).expect("write npy");
    let (ap, bp) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );
    let label = format!("mh={ap}");
    let common = [
        "sampler-test",
        GAUSS,
        "--over",
        "x=-inf..inf",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--set",
        "rho=0.8",
        "--format",
        "json",
    ];
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--samples", &ap]);
    let one = ebmcheck(&args);
    assert!(one.stdout.starts_with("{\"schema\": 1"), "{}", one.stdout);
    let j = json(&one);
    assert_eq!(j["ignored_columns"], serde_json::json!(["draw", "lp"]));
    assert_eq!(j["chains"], 4);
    let report_dir = dir.join("compare");
    let rd = report_dir.to_string_lossy().into_owned();
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--label", &label, "--samples", &bp, "--report", &rd]);
    let two = ebmcheck(&args);
    // The comparison report: a ranking and one figure per measure, each file's own report beside.
    let html = std::fs::read_to_string(report_dir.join("index.html")).expect("comparison page");
    assert!(html.contains("Ranking") && html.contains("mh") && html.contains("same"));
    assert!(html.matches("<svg").count() >= 3, "three figures");
    assert!(report_dir.join("mh").join("index.html").exists());
    assert!(report_dir.join("same").join("report.json").exists());
    let _ = std::fs::remove_dir_all(&report_dir);
    assert!(two.code == 0 || two.code == 1, "{}", two.stderr);
    let j = json(&two);
    let samples = j["samples"].as_array().expect("one entry per file");
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0]["label"], "same");
    assert_eq!(samples[1]["label"], "mh");
    // The same draws give the same verdict and the same tests, read from either format.
    assert_eq!(samples[0]["verdict"], samples[1]["verdict"]);
    assert_eq!(samples[0]["tests"], samples[1]["tests"]);
    // --columns maps other names to the variables; a variable named `chain` is refused.
    let c = temp_file("renamed.csv", "a,b\n0.1,0.2\n0.3,0.1\n");
    let _cc = Cleanup(c.clone());
    let cp = c.to_string_lossy().into_owned();
    let mut args: Vec<&str> = common.to_vec();
    args.extend(["--samples", &cp, "--columns", "a,b"]);
    let r = ebmcheck(&args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let r = ebmcheck(&[
        "sampler-test",
        "chain^2/2",
        "--over",
        "chain=-inf..inf",
        "--beta",
        "1",
        "--samples",
        &ap,
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("index column"), "{}", r.stderr);
    let _ = std::fs::remove_file(&b);
    let _ = std::fs::remove_dir(&dir);
}

/// The readers' errors carry data and name no flag; the command adds the flag that fixes each:
/// `--columns` for a missing column or a column map of the wrong length, `--over` for a
/// variable named like an index column or an array with another number of columns.
#[test]
fn draws_errors_name_the_flags_that_fix_them() {
    let c = temp_file("flags_ab.csv", "a,b\n0.1,0.2\n0.3,0.1\n");
    let _cc = Cleanup(c.clone());
    let cp = c.to_string_lossy().into_owned();
    let run = |energy: &str, over: &[&str], extra: &[&str]| {
        let mut args = vec!["sampler-test", energy];
        for o in over {
            args.extend(["--over", o]);
        }
        args.extend(["--beta", "1"]);
        args.extend(extra);
        ebmcheck(&args)
    };
    let xy = ["x=-inf..inf", "y=-inf..inf"];
    let r = run("x^2 + y^2", &xy, &["--samples", &cp]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "line 1: missing column `x` (the header has a, b); name it in the header or map a column to it with --columns"
        ),
        "{}",
        r.stderr
    );
    let r = run("x^2 + y^2", &xy, &["--samples", &cp, "--columns", "a"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("line 1: --columns: 1 columns for 2 variables (x, y)"),
        "{}",
        r.stderr
    );
    let r = run("chain^2/2", &["chain=-inf..inf"], &["--samples", &cp]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "the variable `chain` has the name of an index column; rename the variable (e.g. `--over chain_=…`) or map a column to it with --columns"
        ),
        "{}",
        r.stderr
    );
    let one = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/samples/gauss_one_array.npz"
    );
    let r = run("x^2 + y^2", &xy, &["--samples", one, "--array", "lp"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("columns but --over names 2 variables (x, y)"),
        "{}",
        r.stderr
    );
}

/// `.npz` archives as NumPy writes them (`tests/data/samples/`, made by `np.savez` and
/// `np.savez_compressed` from the same 4 × 250 independent draws of the correlated Gaussian):
/// one array per variable, or one array `draws` beside `lp`; `--array` chooses; errors name the
/// archive's members.
#[test]
fn npz_archives_written_by_numpy() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/samples/");
    let per_var = format!("{data}gauss_per_variable.npz");
    let one = format!("{data}gauss_one_array.npz");
    let common = [
        "sampler-test",
        GAUSS,
        "--over",
        "x=-inf..inf",
        "--over",
        "y=-inf..inf",
        "--beta",
        "1",
        "--set",
        "rho=0.8",
        "--format",
        "json",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = common.to_vec();
        args.extend(extra);
        ebmcheck(&args)
    };
    let a = run(&["--samples", &per_var]);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let ja = json(&a);
    assert_eq!(ja["verdict"], "pass");
    assert_eq!(ja["chains"], 4);
    assert_eq!(ja["n"], 1000);
    assert_eq!(ja["ignored_columns"], serde_json::json!(["lp"]));
    let b = run(&["--samples", &one]);
    assert_eq!(b.code, 0, "{}{}", b.stdout, b.stderr);
    let jb = json(&b);
    // The same draws, read from either layout, give the same tests.
    assert_eq!(ja["tests"], jb["tests"]);
    let c = run(&["--samples", &one, "--array", "draws"]);
    assert_eq!(json(&c)["tests"], jb["tests"]);
    // `lp` is one array of (chains, draws): it is not (chains, draws, 2).
    let d = run(&["--samples", &one, "--array", "lp"]);
    assert_eq!(d.code, 2);
    assert!(d.stderr.contains("`lp.npy`"), "{}", d.stderr);
    let e = run(&["--samples", &one, "--array", "theta"]);
    assert_eq!(e.code, 2);
    assert!(
        e.stderr.contains("no array `theta`") && e.stderr.contains("draws, lp"),
        "{}",
        e.stderr
    );
    // Variables named otherwise than the arrays, several arrays: the command says how to choose.
    let f = ebmcheck(&[
        "sampler-test",
        "u^2/2",
        "--over",
        "u=-inf..inf",
        "--beta",
        "1",
        "--samples",
        &per_var,
    ]);
    assert_eq!(f.code, 2);
    assert!(
        f.stderr.contains("--array") && f.stderr.contains("x, y, lp"),
        "{}",
        f.stderr
    );
}

/// The comparison report with costs: `--cost LABEL=SECONDS` gives ESS per second, a
/// `grad_evals` column ESS per gradient evaluation, in the JSON, the table and a figure each.
#[test]
fn comparison_with_costs_per_second_and_per_gradient() {
    let mh = RandomWalkMetropolis::new(1.2).expect("valid");
    let chains = draws(&gauss(), &mh, &gauss_inits(), 601);
    let mut text = String::from("chain,x,y,grad_evals\n");
    for (c, chain) in chains.iter().enumerate() {
        for row in chain.chunks(2) {
            text.push_str(&format!("{c},{:e},{:e},3\n", row[0], row[1]));
        }
    }
    let a = temp_file("costly.csv", &text);
    let _ca = Cleanup(a.clone());
    let b = temp_file("cheap.csv", &csv(&["x", "y"], &chains));
    let _cb = Cleanup(b.clone());
    let (ap, bp) = (
        a.to_string_lossy().into_owned(),
        b.to_string_lossy().into_owned(),
    );
    let dir = std::env::temp_dir().join(format!("ebmcheck-cost-{}", std::process::id()));
    let rd = dir.to_string_lossy().into_owned();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "sampler-test",
            GAUSS,
            "--over",
            "x=-inf..inf",
            "--over",
            "y=-inf..inf",
            "--beta",
            "1",
            "--set",
            "rho=0.8",
            "--format",
            "json",
            "--samples",
            &ap,
            "--samples",
            &bp,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        v.extend(extra.iter().map(ToString::to_string));
        v
    };
    let run = |extra: &[&str]| {
        let v = args(extra);
        ebmcheck(&v.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let r = run(&["--cost", "cheap=2", "--cost", "costly=4", "--report", &rd]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let j = json(&r);
    let samples = j["samples"].as_array().expect("samples");
    let by = |l: &str| {
        samples
            .iter()
            .find(|s| s["label"] == l)
            .expect("labelled")
            .clone()
    };
    let (costly, cheap) = (by("costly"), by("cheap"));
    let n_draws = costly["n"].as_f64().expect("n");
    assert_eq!(costly["cost"]["grad_evals"].as_f64(), Some(3.0 * n_draws));
    assert_eq!(costly["cost"]["seconds"].as_f64(), Some(4.0));
    assert!(cheap["cost"]["grad_evals"].is_null());
    let min_ess = |s: &serde_json::Value| {
        s["ess"]
            .as_object()
            .expect("ess")
            .values()
            .filter_map(serde_json::Value::as_f64)
            .fold(f64::INFINITY, f64::min)
    };
    let per_s = cheap["cost"]["ess_per_second"]
        .as_f64()
        .expect("per second");
    assert!((per_s - min_ess(&cheap) / 2.0).abs() < 1e-9 * per_s);
    let per_g = costly["cost"]["ess_per_grad_eval"]
        .as_f64()
        .expect("per gradient");
    assert!((per_g - min_ess(&costly) / (3.0 * n_draws)).abs() < 1e-9 * per_g);
    let html = std::fs::read_to_string(dir.join("index.html")).expect("comparison page");
    assert!(html.contains("ESS per second") && html.contains("ESS per gradient"));
    assert!(
        html.matches("<svg").count() >= 5,
        "two cost figures besides three"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // A cost for a label that is not a sample, or a malformed one, is a usage error.
    for bad in ["nuts=3", "cheap=-1", "cheap"] {
        let r = run(&["--cost", bad]);
        assert_eq!(r.code, 2, "--cost {bad}: {}", r.stderr);
        assert!(r.stderr.contains("--cost"), "{}", r.stderr);
    }
}
