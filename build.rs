//! Records the git commit the binary is built from (`EBMCHECK_GIT_HASH`), for the provenance
//! block of reports. Without git or outside a repository the variable is empty.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let hash = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    // Rebuild when HEAD moves: the HEAD file (branch switches) and the branch's ref.
    for path in [
        git(&["rev-parse", "--git-path", "HEAD"]),
        git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| git(&["rev-parse", "--git-path", &r])),
        git(&["rev-parse", "--git-path", "packed-refs"]),
    ]
    .into_iter()
    .flatten()
    {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rustc-env=EBMCHECK_GIT_HASH={hash}");
}
