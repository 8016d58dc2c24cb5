//! Tidy tests (as rust-analyzer has): the architecture rules of ARCHITECTURE.md, enforced.
//!
//! The layers of the library's top-level modules are read from the ```` ```layers ```` block of
//! ARCHITECTURE.md; every `crate::…` path in `src/` outside `#[cfg(test)]` code is an edge from
//! its file's top-level module to the module it names, and must point to a lower layer. Layers
//! marked `no-io` may not touch the environment, files, processes or the standard streams. Every
//! `.rs` file opens with a `//!` line, and none is longer than 800 lines unless its `//!` header
//! states why (a sentence starting `Long file:`). The checking functions are tested on planted
//! violations, so a rule that stopped catching anything would fail here too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[path = "tidy/scan.rs"]
mod scan;

use scan::{blank_comments, code_only, is_ident, strip_test_items, strip_test_items_with_spans};

/// One layer of the architecture: its rank (lower may be used by higher), its modules, and
/// whether it must do no I/O.
#[derive(Debug, Clone)]
struct Layer {
    rank: u32,
    modules: Vec<String>,
    no_io: bool,
}

/// Parses the ```` ```layers ```` block: each line is `RANK module module … [no-io] [(comment)]`.
fn parse_layers(markdown: &str) -> Result<Vec<Layer>, String> {
    let start = markdown
        .find("```layers\n")
        .ok_or("no ```layers block in ARCHITECTURE.md")?;
    let body = &markdown[start + "```layers\n".len()..];
    let end = body
        .find("```")
        .ok_or("the ```layers block is not closed")?;
    let mut layers = Vec::new();
    for line in body[..end].lines() {
        let line = line.split('(').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let rank: u32 = words
            .next()
            .and_then(|w| w.parse().ok())
            .ok_or_else(|| format!("layer line without a rank: `{line}`"))?;
        let mut layer = Layer {
            rank,
            modules: Vec::new(),
            no_io: false,
        };
        for w in words {
            if w == "no-io" {
                layer.no_io = true;
            } else if w.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                layer.modules.push(w.to_string());
            } else {
                return Err(format!("`{w}` is not a module name (line `{line}`)"));
            }
        }
        if layer.modules.is_empty() {
            return Err(format!("layer {rank} has no module"));
        }
        layers.push(layer);
    }
    if layers.is_empty() {
        return Err("the ```layers block is empty".into());
    }
    Ok(layers)
}

/// The command-line flags (`--name`) that string literals of non-test code mention.
fn flag_mentions(src: &str) -> Vec<String> {
    let code: Vec<char> = code_only(src).chars().collect();
    let (_, _, spans) = strip_test_items_with_spans(&code.iter().collect::<String>());
    let mut text: Vec<char> = blank_comments(src, false).chars().collect();
    for (a, b) in spans {
        for c in &mut text[a..b.min(code.len())] {
            *c = ' ';
        }
    }
    let in_string = |i: usize| code.get(i) == Some(&' ') && text[i] != ' ';
    let mut found = Vec::new();
    let mut i = 0;
    while i + 2 < text.len() {
        if text[i] == '-'
            && text[i + 1] == '-'
            && text[i + 2].is_ascii_lowercase()
            && in_string(i)
            && (i == 0 || !text[i - 1].is_ascii_alphanumeric() && text[i - 1] != '-')
        {
            let flag: String = text[i..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
                .collect();
            let line = text[..i].iter().filter(|c| **c == '\n').count() + 1;
            found.push(format!("line {line}: {flag}"));
            i += flag.len();
        } else {
            i += 1;
        }
    }
    found
}

/// The names a `crate::` (or `$crate::`) path starts with: one, or several for a group
/// `crate::{a::X, b}`.
fn crate_edges(code: &str) -> Vec<(usize, String)> {
    let mut edges = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("crate::") {
        let at = from + pos;
        from = at + "crate::".len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| is_ident(c) && c != '$') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = code[from..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item_start = true;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        if !word.is_empty() {
                            edges.push((line, std::mem::take(&mut word)));
                        }
                        item_start = true;
                    }
                    c if is_ident(c) && item_start => word.push(c),
                    _ => {
                        if !word.is_empty() {
                            edges.push((line, std::mem::take(&mut word)));
                            item_start = false;
                        }
                    }
                }
            }
            if !word.is_empty() {
                edges.push((line, word));
            }
        } else {
            let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                edges.push((line, name));
            }
        }
    }
    edges
}

/// The edges of `module`'s code that break the layering: to an unknown module, or to one of the
/// same or a higher layer. Each violation is a sentence naming the line.
fn back_edges(module: &str, code: &str, layers: &[Layer]) -> Vec<String> {
    let rank = |m: &str| {
        layers
            .iter()
            .find(|l| l.modules.iter().any(|x| x == m))
            .map(|l| l.rank)
    };
    let Some(own) = rank(module) else {
        return vec![format!(
            "module `{module}` is in no layer of ARCHITECTURE.md"
        )];
    };
    let mut bad = Vec::new();
    for (line, target) in crate_edges(code) {
        if target == module || target == "self" {
            continue;
        }
        match rank(&target) {
            Some(r) if r < own => {}
            Some(r) => bad.push(format!(
                "line {line}: `{module}` (layer {own}) uses `{target}` (layer {r})"
            )),
            None => bad.push(format!(
                "line {line}: `{module}` uses `{target}`, which is in no layer"
            )),
        }
    }
    bad
}

/// Uses of the outside world in code: environment, files, processes, standard streams, printing.
fn io_uses(code: &str) -> Vec<String> {
    const PATHS: [&str; 8] = [
        "std::env",
        "std::fs",
        "std::process",
        "std::io::stdout",
        "std::io::stderr",
        "std::io::stdin",
        "env::var",
        "fs::",
    ];
    const MACROS: [&str; 5] = ["print!", "println!", "eprint!", "eprintln!", "dbg!"];
    let mut found = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    for pat in PATHS.iter().chain(MACROS.iter()) {
        let mut from = 0;
        while let Some(pos) = code[from..].find(pat) {
            let at = from + pos;
            from = at + pat.len();
            let before = code[..at].chars().next_back();
            let qualified_ok = pat.starts_with("std") || before != Some(':');
            if before.is_none_or(|c| !is_ident(c)) && qualified_ok {
                found.push(format!("line {}: `{pat}`", line_of(at)));
            }
        }
    }
    // A group `use std::{env, fs, io::stdout}`.
    let mut from = 0;
    while let Some(pos) = code[from..].find("std::{") {
        let at = from + pos;
        from = at + "std::{".len();
        let group: String = code[from..].chars().take_while(|&c| c != ';').collect();
        for bad in ["env", "fs", "process", "stdout", "stderr", "stdin"] {
            let hit = group.split(|c: char| !is_ident(c)).any(|w| w == bad);
            if hit {
                found.push(format!("line {}: `std::{{{bad}}}`", line_of(at)));
            }
        }
    }
    found
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every library file (not the binary) with its top-level module and its code outside test-only
/// items; files of test-only modules are left out.
fn library_code() -> Vec<(PathBuf, String, String)> {
    let src = repo().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|p| !p.starts_with(src.join("bin")));
    let mut stripped = BTreeMap::new();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for p in &files {
        let text = std::fs::read_to_string(p).expect("readable source");
        let (code, test_mods) = strip_test_items(&code_only(&text));
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let parent = p.parent().expect("in src");
        let dir = if ["mod", "lib"].contains(&stem) {
            parent.to_path_buf()
        } else {
            parent.join(stem)
        };
        for m in test_mods {
            test_only.insert(dir.join(format!("{m}.rs")));
            test_only.insert(dir.join(m));
        }
        stripped.insert(p.clone(), code);
    }
    let mut out = Vec::new();
    for (p, code) in stripped {
        if test_only.iter().any(|t| p == *t || p.starts_with(t)) {
            continue;
        }
        let rel = p.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let module = first.trim_end_matches(".rs").to_string();
        out.push((p, module, code));
    }
    out
}

#[test]
fn layers_have_no_back_edges() {
    let doc = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let layers = parse_layers(&doc).unwrap_or_else(|e| panic!("{e}"));
    // Every top-level module of lib.rs is in exactly one layer, and every listed one exists.
    let lib = std::fs::read_to_string(repo().join("src/lib.rs")).expect("lib.rs");
    let declared: BTreeSet<String> = code_only(&lib)
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l
                .split(|c: char| !is_ident(c))
                .filter(|w| !w.is_empty())
                .collect();
            let k = words.iter().position(|w| *w == "mod")?;
            l.trim_end()
                .ends_with(';')
                .then(|| words.get(k + 1).map(|w| (*w).to_string()))?
        })
        .collect();
    let listed: Vec<String> = layers.iter().flat_map(|l| l.modules.clone()).collect();
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed.len(), listed_set.len(), "a module is listed twice");
    assert_eq!(
        declared, listed_set,
        "the modules of src/lib.rs and the layers of ARCHITECTURE.md differ"
    );
    let mut bad = Vec::new();
    let mut edges = 0;
    for (path, module, code) in library_code() {
        if module == "lib" {
            continue;
        }
        edges += crate_edges(&code).len();
        for b in back_edges(&module, &code, &layers) {
            bad.push(format!("{}: {b}", path.display()));
        }
    }
    assert!(
        edges > 50,
        "only {edges} crate:: edges found: is the parser broken?"
    );
    assert!(bad.is_empty(), "back-edges:\n{}", bad.join("\n"));
}

/// Library text names no command-line flag: the library is also called from Python and Rust, so
/// a fix is carried as data (`remedy::Remedy`, a reader's error kind, a budget's name) and the
/// binary words it with its flags (`src/bin/ebmcheck/hints.rs`). `src/testing` (test support) is
/// exempt.
#[test]
fn library_messages_name_no_command_line_flag() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for (path, module, _) in library_code() {
        if module == "testing" {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&path).expect("readable source");
        for f in flag_mentions(&text) {
            bad.push(format!("{}: {f}", path.display()));
        }
    }
    assert!(checked > 50, "only {checked} library files checked");
    assert!(
        bad.is_empty(),
        "library strings naming a command-line flag (word the fix as data, see remedy.rs):\n{}",
        bad.join("\n")
    );
}

#[test]
fn a_planted_flag_mention_is_caught_and_comments_and_tests_are_not() {
    let src = "//! Doc naming `--set`.\n\
               fn f() -> String { format!(\"use --sampler mh\") }\n\
               // a comment naming --over\n\
               fn g() -> &'static str { \"x - -y, a--b, and --\" }\n\
               #[cfg(test)]\nmod tests { fn t() { let _ = \"--budget x=1\"; } }\n";
    assert_eq!(flag_mentions(src), vec!["line 2: --sampler".to_string()]);
}

#[test]
fn numeric_modules_do_no_io() {
    let doc = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let layers = parse_layers(&doc).unwrap_or_else(|e| panic!("{e}"));
    let quiet: BTreeSet<&str> = layers
        .iter()
        .filter(|l| l.no_io)
        .flat_map(|l| l.modules.iter().map(String::as_str))
        .collect();
    assert!(quiet.contains("quad") && quiet.contains("engine"));
    let mut bad = Vec::new();
    let mut checked = 0;
    for (path, module, code) in library_code() {
        if quiet.contains(module.as_str()) {
            checked += 1;
            for b in io_uses(&code) {
                bad.push(format!("{}: {b}", path.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} numeric files checked");
    assert!(
        bad.is_empty(),
        "I/O in numeric modules:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_file_opens_with_a_module_doc() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "fuzz", "python/src"] {
        rust_files(&repo().join(dir), &mut files);
    }
    assert!(files.len() > 100, "only {} files found", files.len());
    let bad: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            !text.starts_with("//!")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        bad.is_empty(),
        "files without a leading `//!` line:\n{}",
        bad.join("\n")
    );
}

/// The most lines a `.rs` file of `src/`, `tests/` or `benches/` may have without a stated
/// reason (issue 15: a longer file is split into cohesive modules).
const MAX_LINES: usize = 800;

/// What is wrong with a file's length, if anything: over [`MAX_LINES`] lines while no sentence of
/// its leading `//!` block starts with `Long file:` and goes on to state a reason (three words or
/// more).
fn long_file_problem(text: &str) -> Option<String> {
    let lines = text.lines().count();
    if lines <= MAX_LINES {
        return None;
    }
    let header: Vec<&str> = text
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(str::trim)
        .collect();
    let header = header.join(" ");
    const LABEL: &str = "Long file:";
    let stated = header.match_indices(LABEL).any(|(at, _)| {
        let starts_sentence = header[..at]
            .trim_end()
            .chars()
            .next_back()
            .is_none_or(|c| matches!(c, '.' | '!' | '?'));
        let reason = header[at + LABEL.len()..].split(". ").next().unwrap_or("");
        starts_sentence && reason.split_whitespace().count() >= 3
    });
    (!stated).then(|| {
        format!(
            "{lines} lines (over {MAX_LINES}) and no `Long file:` sentence in its `//!` header: split it into cohesive modules, or state why it must stay whole"
        )
    })
}

#[test]
fn no_file_is_long_without_a_stated_reason() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(&repo().join(dir), &mut files);
    }
    assert!(files.len() > 100, "only {} files found", files.len());
    let mut bad = Vec::new();
    for p in &files {
        let rel = p
            .strip_prefix(repo())
            .expect("under the repository")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(p).expect("readable source");
        if let Some(problem) = long_file_problem(&text) {
            bad.push(format!("{rel}: {problem}"));
        }
    }
    assert!(bad.is_empty(), "long files:\n{}", bad.join("\n"));
}

// The checkers themselves, on planted violations.

const PLANTED_LAYERS: &str =
    "intro\n```layers\n1 budgets domain  no-io (shared)\n2 quad  no-io\n3 engine\n4 check\n```\n";

#[test]
fn a_planted_back_edge_is_caught() {
    let layers = parse_layers(PLANTED_LAYERS).expect("parses");
    assert_eq!(layers.len(), 4);
    assert!(layers[0].no_io && layers[1].no_io && !layers[2].no_io);
    assert_eq!(layers[0].modules, ["budgets", "domain"]);
    let src = "//! engine\nuse crate::quad::Energy;\nuse crate::check::spec::DerivationFile;\n";
    let bad = back_edges("engine", &code_only(src), &layers);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("line 3") && bad[0].contains("`check`"),
        "{bad:?}"
    );
    // Same layer is a back-edge too (no cycles inside a layer).
    let bad = back_edges("budgets", "use crate::domain::VarDomain;", &layers);
    assert_eq!(bad.len(), 1, "{bad:?}");
    // Grouped paths, `$crate`, fully qualified uses in expressions and unknown modules.
    let src = "use crate::{budgets, check::run, quad::{self, Domain}};\nfn f() { $crate::engine::x(); crate::nowhere::y() }";
    let bad = back_edges("quad", &code_only(src), &layers);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad.iter().any(|b| b.contains("`check`")));
    assert!(bad.iter().any(|b| b.contains("`engine`")));
    assert!(bad.iter().any(|b| b.contains("`nowhere`")));
    // A module missing from the list is an error, not a pass.
    assert_eq!(back_edges("report", "", &layers).len(), 1);
}

#[test]
fn comments_strings_and_test_code_are_not_edges() {
    let layers = parse_layers(PLANTED_LAYERS).expect("parses");
    let src = r##"//! see [`crate::check`]
/// Uses [`crate::check::Status`].
fn f() -> &'static str { let _c = '"'; let _q = '\''; "crate::check::x" }
/* crate::check /* nested */ crate::check */
const R: &str = r#"crate::check "quoted" "#;
#[cfg(test)]
mod tests {
    use crate::check::spec::load_str;
    fn g() { println!("{}", '}'); }
}
#[cfg(test)]
use crate::check::x;
#[cfg(not(test))]
use crate::check::y;
"##;
    let code = strip_test_items(&code_only(src)).0;
    let bad = back_edges("engine", &code, &layers);
    assert_eq!(
        bad.len(),
        1,
        "only the cfg(not(test)) use is an edge: {bad:?}"
    );
    assert!(bad[0].contains("line 14"), "{bad:?}");
    let (_, mods) = strip_test_items("#[cfg(test)]\n#[path = \"t.rs\"]\nmod status_tests;\n");
    assert_eq!(mods, ["status_tests"]);
}

#[test]
fn planted_io_is_caught() {
    let src = "use std::env;\nfn f() { let _ = std::env::var(\"X\"); println!(\"x\"); eprintln!(\"y\"); }\nuse std::{fs, io::stdout};\nfn g() { let _ = std::fs::read(\"p\"); dbg!(1); }\n";
    let found = io_uses(&code_only(src));
    for pat in [
        "std::env",
        "println!",
        "eprintln!",
        "std::{fs}",
        "std::{stdout}",
        "std::fs",
        "dbg!",
    ] {
        assert!(
            found.iter().any(|f| f.contains(pat)),
            "{pat} not caught: {found:?}"
        );
    }
    let clean = "use std::fmt::Write;\nfn f(s: &mut String) { let _ = write!(s, \"println!\"); let _ = format!(\"std::env\"); }\n#[cfg(test)]\nmod tests { fn t() { println!(\"ok in tests\"); } }\n";
    let found = io_uses(&strip_test_items(&code_only(clean)).0);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_planted_long_file_is_caught_unless_its_header_states_a_reason() {
    let body = |n: usize| "fn f() {}\n".repeat(n);
    // At the limit: fine without a reason.
    let at_limit = format!("//! A module.\n{}", body(MAX_LINES - 1));
    assert_eq!(at_limit.lines().count(), MAX_LINES);
    assert_eq!(long_file_problem(&at_limit), None);
    // One line over: caught, with its length.
    let over = format!("//! A module.\n{}", body(MAX_LINES));
    let problem = long_file_problem(&over);
    assert!(
        problem.as_ref().is_some_and(|p| p.contains("801 lines")),
        "{problem:?}"
    );
    // A reason stated in the header, on its own line or after another sentence: fine.
    for header in [
        "//! A module.\n//! Long file: one table of reference values, read best in one place.\n",
        "//! A module. Long file: the cases are one battery\n//! and read best together.\n",
    ] {
        let text = format!("{header}{}", body(MAX_LINES));
        assert_eq!(long_file_problem(&text), None, "{header}");
    }
    // Not a stated reason: an empty or one-word label, a label inside a sentence, a reason in an
    // ordinary comment or below the header.
    for header in [
        "//! A module. Long file:\n",
        "//! A module. Long file: tables.\n",
        "//! A module whose Long file: label is inside a sentence.\n",
        "//! A module.\n// Long file: a reason in an ordinary comment.\n",
        "//! A module.\nfn g() {}\n//! Long file: a reason below the header.\n",
    ] {
        let text = format!("{header}{}", body(MAX_LINES));
        assert!(long_file_problem(&text).is_some(), "{header}");
    }
}
