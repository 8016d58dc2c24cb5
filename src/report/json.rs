//! JSON on one line, as the commands print it: serde serialisation with a formatter that puts
//! `", "` and `": "` between the fields of the outer object (or of every object) and nothing
//! inside arrays, so the derived result types print the same bytes as the hand-built objects
//! they replaced. Non-finite numbers are `null` (serde_json's rule, as for `json!`).

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::ser::Formatter;
use std::io;

/// Which objects get a space after their `,` and `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// Only the outermost object (`logz`, `eval`, `sampler-test`): nested values are compact.
    Outer,
    /// Every object, at any depth (`grad`); arrays stay compact.
    Objects,
}

/// A serde_json formatter for [`Spacing`]: compact, except the separators of spaced objects.
struct LineFormatter {
    spacing: Spacing,
    /// One entry per open container: whether it is a spaced object.
    open: Vec<bool>,
}

impl LineFormatter {
    fn spaced(&self) -> bool {
        self.open.last().copied().unwrap_or(false)
    }
}

impl Formatter for LineFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.push(false);
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.pop();
        writer.write_all(b"]")
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let spaced = match self.spacing {
            Spacing::Outer => self.open.is_empty(),
            Spacing::Objects => true,
        };
        self.open.push(spaced);
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open.pop();
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        match (first, self.spaced()) {
            (true, _) => Ok(()),
            (false, true) => writer.write_all(b", "),
            (false, false) => writer.write_all(b","),
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(if self.spaced() { b": " } else { b":" })
    }
}

/// Serialises a result on one line (no trailing newline) with the given [`Spacing`]. Every
/// command's result type puts `"schema": 1` first.
///
/// # Errors
/// Only if a value cannot be represented in JSON (a map key that is not a string).
pub fn to_json_line<T: Serialize>(
    value: &T,
    spacing: Spacing,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        LineFormatter {
            spacing,
            open: Vec::new(),
        },
    );
    value.serialize(&mut ser)?;
    // serde_json writes only valid UTF-8.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// A JSON object whose keys keep the order given (parameter names in `--wrt` order, variable
/// names in declaration order), where a `BTreeMap` would sort them.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered<'a, T>(pub Vec<(&'a str, T)>);

impl<T: Serialize> Serialize for Ordered<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outer_spacing_matches_the_hand_built_objects() {
        let v = serde_json::json!({"a": [1.5, f64::NAN], "b": {"c": 1, "d": "x"}});
        // `json!` sorts keys; the outer object is spaced, the rest compact, NaN is null.
        assert_eq!(
            to_json_line(&v, Spacing::Outer).expect("json"),
            r#"{"a": [1.5,null], "b": {"c":1,"d":"x"}}"#
        );
        assert_eq!(
            to_json_line(&v, Spacing::Objects).expect("json"),
            r#"{"a": [1.5,null], "b": {"c": 1, "d": "x"}}"#
        );
    }

    #[test]
    fn ordered_keeps_the_key_order() {
        let o = Ordered(vec![("w", 1.0), ("a", f64::INFINITY)]);
        assert_eq!(
            to_json_line(&o, Spacing::Objects).expect("json"),
            r#"{"w": 1.0, "a": null}"#
        );
    }
}
