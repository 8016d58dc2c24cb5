//! Hostile input, table-driven: every case ends with the expected exit code (2 for a refusal, or
//! a correct answer), a message naming the place or the limit, within a time bound and a bound
//! on the child's peak resident memory (`VmHWM` from `/proc/<pid>/status`, sampled every
//! millisecond while the child runs, where `/proc` exists).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ebmcheck");

/// One hostile case.
struct Case {
    name: &'static str,
    args: Vec<String>,
    /// Files to write into the case's folder first: (relative path, content).
    files: Vec<(String, String)>,
    /// Expected exit code.
    code: i32,
    /// Substrings that must appear in stderr (or stdout for a correct answer).
    says: Vec<&'static str>,
    /// Bound on wall time.
    seconds: f64,
    /// Bound on peak RSS in MiB.
    mib: u64,
}

fn case(name: &'static str, args: &[&str], code: i32, says: &[&'static str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| (*s).to_string()).collect(),
        files: Vec::new(),
        code,
        says: says.to_vec(),
        seconds: 10.0,
        mib: 200,
    }
}

impl Case {
    fn file(mut self, path: &str, content: String) -> Self {
        self.files.push((path.to_string(), content));
        self
    }
    fn within(mut self, seconds: f64, mib: u64) -> Self {
        self.seconds = seconds;
        self.mib = mib;
        self
    }
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    seconds: f64,
    peak_kib: Option<u64>,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the binary in `dir`, killing it after `limit`; samples its peak RSS while it runs.
fn run_in(dir: &Path, args: &[String], limit: Duration) -> Outcome {
    let start = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let mut out_pipe = child.stdout.take().expect("stdout");
    let mut err_pipe = child.stderr.take().expect("stderr");
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let mut peak: Option<u64> = None;
    let code = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = Some(peak.map_or(kib, |p| p.max(kib)));
        }
        match child.try_wait().expect("wait") {
            Some(status) => break status.code(),
            None if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    Outcome {
        code,
        stdout,
        stderr,
        seconds,
        peak_kib: peak,
    }
}

fn case_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ebmcheck-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const HEAD: &str = "title = \"t\"\n";

fn estimator_file(replicates: &str) -> String {
    format!(
        "{HEAD}[variables]\ny = \"-inf..inf\"\n[definitions]\n\"F(w, y)\" = \"0.5*(y - w)^2\"\n[points]\nw = 0.5\nbeta = 1\n[[check]]\nname = \"est\"\nclaim = \"C12\"\nkind = \"estimator\"\nestimator = \"single\"\nvar = \"y'\"\nenergy = \"beta*F(w, y')\"\nof = \"diff[w](F(w, y'))\"\nexact = \"expect[y' ~ exp(-beta*F(w, y'))](diff[w](F(w, y')))\"\nreplicates = {replicates}\n"
    )
}

/// An integral whose evaluation at one point takes minutes (over 300 s on the 2-core machine).
const SLOW: &str = "int[y](exp(-a*y^2) * int[z](exp(-z^2 - 0.1*z^4 + sin(3*z*y)) * int[u](exp(-u^2 - 0.1*u^4 + cos(u*z*y)))))";

fn equal_file(defs: &str, lhs: &str) -> String {
    format!(
        "{HEAD}[variables]\nx = \"-1..1\"\n[definitions]\n{defs}[points]\nx = \"-1..1\"\n[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"{lhs}\"\nrhs = \"x\"\n"
    )
}

fn chain_of_definitions(n: usize) -> String {
    let mut defs = String::from("\"a0(x)\" = \"x\"\n");
    for i in 1..n {
        defs.push_str(&format!("\"a{i}(x)\" = \"a{}(x)\"\n", i - 1));
    }
    equal_file(&defs, &format!("a{}(x)", n - 1))
}

fn cases() -> Vec<Case> {
    let grad = |mc: &str| {
        vec![
            "grad",
            "0.5*(y-w)^2",
            "--over",
            "y=-inf..inf",
            "--data",
            "y=0.5",
            "--wrt",
            "w",
            "--set",
            "w=1",
            "--beta",
            "1",
            "--mc",
        ]
        .into_iter()
        .map(str::to_string)
        .chain([mc.to_string()])
        .collect::<Vec<_>>()
    };
    let owned = |v: Vec<String>| v;
    let mut def_chain = vec![
        "eval".to_string(),
        "a40".into(),
        "--set".into(),
        "x=1".into(),
    ];
    def_chain.extend(["--def".into(), "a0=x".into()]);
    for i in 1..=40 {
        def_chain.extend(["--def".into(), format!("a{i}=a{}+a{}", i - 1, i - 1)]);
    }
    let mut nested_diff = "x^x*sin(x)/x".to_string();
    for _ in 0..12 {
        nested_diff = format!("diff[x]({nested_diff})");
    }
    let flat: Vec<&str> = vec!["1"; 201];
    vec![
        case("replicates_i64_max", &["check", "f.toml"], 2, &["budget `replicates`", "f.toml:18:14", "--budget replicates=N"])
            .file("f.toml", estimator_file("9223372036854775807")),
        case("replicates_1e11", &["check", "f.toml"], 2, &["budget `replicates`"])
            .file("f.toml", estimator_file("100000000000")),
        Case { args: owned(grad("18446744073709551615")), ..case("grad_mc_u64_max", &[], 2, &["budget `draws`", "--budget draws=N"]) },
        Case { args: owned(grad("100000000000")), ..case("grad_mc_1e11", &[], 2, &["budget `draws`"]) },
        // 100 000 definitions in a chain: loads in linear time, no stack overflow, refused by depth.
        case("chain_of_100k_definitions", &["check", "f.toml"], 1, &["nest too deeply", "f.toml"])
            .file("f.toml", chain_of_definitions(100_000))
            .within(20.0, 600),
        // A 2 MB expression: refused by the byte budget before tokenizing.
        case("two_megabyte_expression", &["check", "f.toml"], 2, &["budget `expression_bytes`", "f.toml:11:8"])
            .file("f.toml", equal_file("", &"x+".repeat(1 << 20)))
            .within(10.0, 300),
        case("i64_extreme_integer_range", &["check", "f.toml"], 2, &["at most a million values", "f.toml:3:5"])
            .file("f.toml", format!("{HEAD}[variables]\nk = \"integer -9223372036854775808..9223372036854775807\"\n[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"k\"\nrhs = \"k\"\n")),
        case("sum_beyond_2_53", &["eval", "sum[k=1e17..1e17](1)"], 2, &["2^53", "1:5"]),
        case("sum_beyond_i64", &["eval", "sum[k=-1e19..1e19](1)"], 2, &["2^53"]),
        case("nested_sums_in_logz", &["logz", "sum[i=0..4000](sum[j=0..4000](exp(-x^2)))", "--over", "x=-inf..inf", "--beta", "1"], 2, &["sum"]),
        case("nested_sums_in_a_check", &["check", "f.toml"], 1, &["budget `sum_terms`", "f.toml:11:36"])
            .file("f.toml", equal_file("", "int[z=-1..1](sum[i=0..4000](sum[j=0..4000](exp(-z^2))))*0 + x"))
            .within(15.0, 300),
        Case { args: def_chain, ..case("chain_of_named_values", &[], 2, &["budget `inlined_nodes`", "--budget inlined_nodes=N"]) },
        case("twelve_nested_derivatives", &["eval", &nested_diff, "--set", "x=1.5"], 2, &[]),
        case("definition_head_duplicate_parameter", &["check", "f.toml"], 2, &["parameter `x` appears twice", "f.toml:5:7"])
            .file("f.toml", equal_file("\"F(x, x)\" = \"x\"\n", "F(x, x)")),
        case("definition_head_builtin", &["check", "f.toml"], 2, &["`exp` is a builtin", "f.toml:5:2"])
            .file("f.toml", equal_file("\"exp(x)\" = \"x\"\n", "x")),
        case("definition_head_reserved", &["check", "f.toml"], 2, &["`int` is a reserved word", "f.toml:5:2"])
            .file("f.toml", equal_file("\"int(x)\" = \"x\"\n", "x")),
        case("count_under_points_is_the_count", &["check", "f.toml", "--format", "json"], 0, &["at 3 test points"])
            .file("f.toml", format!("{HEAD}[variables]\ny = \"-2..2\"\n[points]\ny = \"-2..2\"\ncount = 3\n[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"y\"\nrhs = \"y\"\n")),
        case("count_under_points_as_a_range", &["check", "f.toml"], 2, &["number of test points", "f.toml:6:9"])
            .file("f.toml", format!("{HEAD}[variables]\ny = \"-2..2\"\n[points]\ny = \"-2..2\"\ncount = \"0..1\"\n[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"y\"\nrhs = \"y\"\n")),
        case("flat_sum_of_201_terms", &["eval", &flat.join("+")], 0, &["201"]),
        case("number_beyond_f64", &["eval", "1e309"], 2, &["largest floating-point number", "1:1"]),
        case("hexadecimal_literal", &["eval", "0x10"], 2, &["base-16", "`16`"]),
        case("zero_width_space", &["eval", "x\u{200b}+1", "--set", "x=1"], 2, &["U+200B", "1:2"]),
        case("right_to_left_override", &["eval", "x+\u{202e}1", "--set", "x=1"], 2, &["U+202E"]),
        case("byte_order_mark", &["eval", "\u{feff}x", "--set", "x=1"], 2, &["U+FEFF"]),
        case("set_nan", &["eval", "x+1", "--set", "x=nan"], 2, &["--set x=nan", "NaN"]),
        case("huge_number_printed_with_exponent", &["eval", "1e300"], 0, &["1e300"]),
        case("minimum_that_does_not_exist", &["check", "f.toml"], 1, &["the minimum does not exist", "as `x` → -inf"])
            .file("f.toml", format!("{HEAD}[variables]\nx = \"-inf..inf\"\n[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"min[x](y*x - x^2 - x^4*y)\"\nrhs = \"0\"\nat = [{{ y = 1 }}]\n")),
        case("variable_given_twice", &["logz", "-x^2", "--over", "x=-inf..inf", "--over", "x=-inf..inf", "--beta", "1"], 2, &["`x` is given twice"]),
        case("nan_energy_names_the_variables", &["logz", "log(x)+y^2", "--over", "y=-inf..inf", "--over", "x=-1..1", "--beta", "1"], 2, &["NaN", "y = ", "x = "]),
        case("dev_zero", &["check", "/dev/zero"], 2, &["character device"]),
        case("missing_file", &["check", "no-such.toml"], 2, &["no such file or folder"]),
        case("budget_flag_unknown", &["--budget", "nonsense=1", "eval", "1"], 2, &["unknown budget `nonsense`"]),
        // A triple nested integral with an oscillating innermost integrand takes minutes per
        // point; the per-point clock stops it, naming the budget (issue 13).
        case("a_slow_point_stops_at_its_time_budget", &["--budget", "point_seconds=1", "check", "f.toml"], 1, &["took more than 1 s", "`point_seconds`", "--budget point_seconds=N"])
            .file("f.toml", format!("{HEAD}[variables]\ny = \"-inf..inf\"\nz = \"-inf..inf\"\nu = \"-inf..inf\"\n[points]\na = \"0.5..2\"\n[[check]]\nname = \"c\"\nclaim = \"C7\"\nkind = \"equal\"\nlhs = \"{SLOW}\"\nrhs = \"{SLOW}\"\n"))
            .within(8.0, 200),
        case("too_many_chains", &["--budget", "chains=3", "sampler-test", "0.5*y^2", "--over", "y=-inf..inf", "--beta", "1", "--samples", "d.csv"], 2, &["more than 3 chains", "budget `chains`", "d.csv", "line 5"])
            .file("d.csv", "chain,y\n0,0.1\n1,0.2\n2,0.3\n3,0.4\n".to_string()),
        case("budget_flag_raises", &["--budget", "sum_terms=1e9", "eval", "sum[k=1..10](k)"], 0, &["55"]),
    ]
}

/// Builds a case's file-system fixture in its folder.
type Fixture = fn(&Path);

/// Cases that need a file-system fixture (symbolic links, a FIFO): Unix only.
#[cfg(unix)]
fn unix_cases() -> Vec<(Case, Fixture)> {
    fn links(dir: &Path) {
        let d = dir.join("loop");
        std::fs::create_dir_all(&d).expect("dir");
        let _ = std::os::unix::fs::symlink(".", d.join("a"));
        let _ = std::os::unix::fs::symlink(".", d.join("b"));
        let _ = std::os::unix::fs::symlink("..", d.join("up"));
        std::fs::write(
            d.join("ok.toml"),
            format!("{HEAD}[[check]]\nname = \"c\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"1\"\nrhs = \"1\"\n"),
        )
        .expect("write");
    }
    fn fifo(dir: &Path) {
        let d = dir.join("pipes");
        std::fs::create_dir_all(&d).expect("dir");
        let ok = Command::new("mkfifo").arg(d.join("x.toml")).status();
        assert!(ok.is_ok_and(|s| s.success()), "mkfifo");
    }
    vec![
        (
            case("symlink_loops", &["check", "loop"], 0, &["1 passed"]).within(10.0, 200),
            links,
        ),
        (
            case(
                "fifo_named_toml",
                &["check", "pipes"],
                2,
                &["FIFO", "pipes/x.toml"],
            ),
            fifo,
        ),
    ]
}

#[cfg(not(unix))]
fn unix_cases() -> Vec<(Case, Fixture)> {
    Vec::new()
}

#[test]
fn hostile_inputs_are_refused_in_bounded_time_and_memory() {
    let mut all: Vec<(Case, Option<Fixture>)> = cases().into_iter().map(|c| (c, None)).collect();
    all.extend(unix_cases().into_iter().map(|(c, f)| (c, Some(f))));
    let mut failures = Vec::new();
    let mut measured = 0;
    for (c, fixture) in &all {
        let dir = case_dir(c.name);
        for (path, content) in &c.files {
            std::fs::write(dir.join(path), content).expect("write fixture");
        }
        if let Some(f) = fixture {
            f(&dir);
        }
        let out = run_in(&dir, &c.args, Duration::from_secs_f64(c.seconds * 2.0));
        let both = format!("{}{}", out.stdout, out.stderr);
        let mut problems = Vec::new();
        if out.code != Some(c.code) {
            problems.push(format!("exit {:?}, expected {}", out.code, c.code));
        }
        for s in &c.says {
            if !both.contains(s) {
                problems.push(format!("output lacks {s:?}"));
            }
        }
        if out.code.is_some() && out.seconds > c.seconds {
            problems.push(format!("took {:.1} s > {} s", out.seconds, c.seconds));
        }
        if let Some(kib) = out.peak_kib {
            measured += 1;
            if kib > c.mib * 1024 {
                problems.push(format!("peak RSS {} MiB > {} MiB", kib / 1024, c.mib));
            }
        }
        if out.stderr.len() > 16_384 {
            problems.push(format!(
                "stderr of {} bytes (messages must be bounded)",
                out.stderr.len()
            ));
        }
        if both.contains("panicked") || both.contains("stack overflow") {
            problems.push("a panic".into());
        }
        println!(
            "{:<40} exit {:?} {:>6.2} s peak {:>6} KiB",
            c.name,
            out.code,
            out.seconds,
            out.peak_kib.map_or("?".to_string(), |k| k.to_string())
        );
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n--- stderr (first 600 bytes) ---\n{}",
                c.name,
                problems.join("; "),
                out.stderr.chars().take(600).collect::<String>()
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    if Path::new("/proc/self/status").exists() {
        assert!(measured > 0, "peak RSS was never sampled");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn what_diff_prints_eval_accepts() {
    // 150 nested sines and 105 unary minuses: printed derivatives parse again.
    let deep = format!("{}x{}", "sin(".repeat(150), ")".repeat(150));
    let minuses = format!("{}x^3", "-".repeat(105));
    for src in [deep, minuses] {
        let dir = case_dir("diff_round_trip");
        let d = run_in(
            &dir,
            &["diff".into(), src.clone(), "--wrt".into(), "x".into()],
            Duration::from_secs(20),
        );
        assert_eq!(d.code, Some(0), "{}", d.stderr);
        let printed = d.stdout.trim().to_string();
        let e = run_in(
            &dir,
            &["eval".into(), printed, "--set".into(), "x=0.3".into()],
            Duration::from_secs(20),
        );
        assert_eq!(e.code, Some(0), "{}", e.stderr);
        let v: f64 = e.stdout.trim().parse().expect("a number");
        assert!(v.is_finite());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
