//! Tests of the kinds' tables and of the rule that only validation builds a kind.

use super::KINDS;
use crate::check::raw::{CHECK_FIELDS, COMMON_FIELDS};
use crate::check::spec::{CheckKind, load_str};

/// The raw table's field list is the shared fields and the union of the kinds' own fields, each
/// once: a field added to a kind without the table (or the reverse) fails here, not as a
/// silently refused key. (Its order, which serde's "unknown field" message shows, is pinned by
/// the CLI tests of that message.)
#[test]
fn the_raw_field_table_is_the_union_of_the_kinds_fields() {
    let mut union: Vec<&str> = vec!["name", "claim", "kind"];
    for (_, fields) in KINDS {
        for f in fields {
            if !union.contains(f) {
                union.push(f);
            }
        }
    }
    union.extend(["points", "at", "count", "certify"]);
    let mut table: Vec<&str> = CHECK_FIELDS.iter().map(|(name, _)| *name).collect();
    assert_eq!(table.len(), union.len(), "{table:?} vs {union:?}");
    table.sort_unstable();
    union.sort_unstable();
    assert_eq!(table, union);
    for f in COMMON_FIELDS {
        assert!(
            KINDS.iter().all(|(_, own)| !own.contains(&f)),
            "`{f}` is shared, not a kind's own field"
        );
    }
}

const HEAD: &str = "title = \"t\"\n[[check]]\nname = \"a\"\nclaim = \"C1\"\n";

/// A `limit` kind cannot be built with a short or empty ladder: its fields are private, so the
/// only way to one is `load_str`, which refuses such a ladder at its span. (Before, `CheckKind`
/// had public fields and `run_check` on `Limit { ladder: vec![], .. }` panicked.)
#[test]
fn an_invalid_kind_cannot_be_constructed_only_validation_builds_one() {
    let body = "kind = \"limit\"\nexpr = \"1/x\"\nvar = \"x\"\nto = \"inf\"\ntarget = \"0\"\n";
    for (ladder, ok) in [
        ("[]", false),
        ("[10.0, 100.0]", false),
        ("[10.0, 100.0, nan]", false),
        ("[10.0, 100.0, 1000.0]", true),
    ] {
        let text = format!("{HEAD}{body}ladder = {ladder}\n");
        match load_str("l.toml", &text) {
            Ok(f) => {
                assert!(ok, "ladder {ladder} was accepted");
                let CheckKind::Limit(limit) = &f.checks[0].kind else {
                    panic!("not a limit: {:?}", f.checks[0].kind);
                };
                assert!(limit.ladder().len() >= 3);
                assert!(limit.ladder().iter().all(|x| x.is_finite()));
            }
            Err(errs) => {
                assert!(!ok, "ladder {ladder} was refused: {}", errs[0].render());
                assert!(
                    errs.iter()
                        .any(|e| e.message == "a ladder needs at least 3 finite values"),
                    "{}",
                    errs[0].render()
                );
            }
        }
    }
}

/// Every kind's own fields are accepted by that kind only: a field of another kind is named
/// as not applying, at its own span.
#[test]
fn a_field_of_another_kind_is_named_where_it_is_written() {
    let text = format!(
        "{HEAD}kind = \"gradient\"\nloss = \"w^2\"\nwrt = \"w\"\nexact = \"2*w\"\nladder = [1.0, 2.0, 3.0]\n"
    );
    let errs = load_str("g.toml", &text).expect_err("ladder does not apply");
    assert_eq!(
        errs[0].message,
        "`ladder` does not apply to a `gradient` check"
    );
    assert_eq!(errs[0].location.line, 9);
    assert_eq!(errs[0].location.column, 10);
}
