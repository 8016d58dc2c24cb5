//! The raw layer of a derivation file: what serde reads from the TOML, every value with its byte
//! span, before any validation; and the help added to serde's own messages.

use std::collections::BTreeMap;

use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::kinds::chain::RawStep;

use crate::expr;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub(crate) title: Spanned<String>,
    pub(crate) source: Option<Spanned<String>>,
    pub(crate) seed: Option<Spanned<i64>>,
    #[serde(default)]
    pub(crate) parameters: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) variables: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) definitions: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) points: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub(crate) count: Option<Spanned<i64>>,
    /// Every check of the file asks for certified values unless it says otherwise.
    #[serde(default)]
    pub(crate) certify: Option<Spanned<bool>>,
    #[serde(default, rename = "check")]
    pub(crate) checks: Vec<Spanned<RawCheck>>,
}

/// The type of a check field's value, as serde reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A string (an expression, a name, a keyword).
    Text,
    /// A number.
    Number,
    /// An integer.
    Integer,
    /// Any TOML value (`to`: a number or a string).
    Value,
    /// A list of numbers.
    Numbers,
    /// A list of integers.
    Integers,
    /// The steps of a chain.
    Steps,
    /// A table of test-point ranges.
    Points,
    /// A list of explicit test points.
    At,
    /// A boolean.
    Bool,
}

/// Every field a `[[check]]` table may hold, with the type of its value: the fields every kind
/// shares ([`COMMON_FIELDS`]) and each kind's own (the union of the kinds' `FIELDS`;
/// `kinds::tests` keeps the two in step). The order is a CLI contract: serde's "unknown field"
/// message lists the names in it.
pub(crate) const CHECK_FIELDS: [(&str, Ty); 33] = [
    ("name", Ty::Text),
    ("claim", Ty::Text),
    ("kind", Ty::Text),
    ("lhs", Ty::Text),
    ("rhs", Ty::Text),
    ("relation", Ty::Text),
    ("tolerance", Ty::Number),
    ("expr", Ty::Text),
    ("var", Ty::Text),
    ("to", Ty::Value),
    ("target", Ty::Text),
    ("rate", Ty::Text),
    ("ladder", Ty::Numbers),
    ("range", Ty::Text),
    ("direction", Ty::Text),
    ("sense", Ty::Text),
    ("loss", Ty::Text),
    ("wrt", Ty::Text),
    ("exact", Ty::Text),
    ("steps", Ty::Steps),
    ("estimator", Ty::Text),
    ("energy", Ty::Text),
    ("of", Ty::Text),
    ("sizes", Ty::Integers),
    ("replicates", Ty::Integer),
    ("k", Ty::Integer),
    ("start", Ty::Text),
    ("step", Ty::Number),
    ("predicted", Ty::Text),
    ("points", Ty::Points),
    ("at", Ty::At),
    ("count", Ty::Integer),
    ("certify", Ty::Bool),
];

/// The fields every check kind shares; the others belong to kinds.
pub(crate) const COMMON_FIELDS: [&str; 7] =
    ["name", "claim", "kind", "points", "at", "count", "certify"];

/// The names of [`CHECK_FIELDS`], for serde's messages.
const CHECK_FIELD_NAMES: [&str; CHECK_FIELDS.len()] = {
    let mut out = [""; CHECK_FIELDS.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = CHECK_FIELDS[i].0;
        i += 1;
    }
    out
};

/// A field's value as read, with its span.
#[derive(Debug)]
pub(crate) enum RawField {
    Text(Spanned<String>),
    Number(Spanned<f64>),
    Integer(Spanned<i64>),
    Value(Spanned<toml::Value>),
    Numbers(Spanned<Vec<f64>>),
    Integers(Spanned<Vec<i64>>),
    Steps(Spanned<Vec<Spanned<RawStep>>>),
    Points(BTreeMap<String, Spanned<toml::Value>>),
    At(Vec<BTreeMap<String, Spanned<f64>>>),
    Bool(Spanned<bool>),
}

impl RawField {
    /// The value's span (a points table or a list of points has none of its own).
    pub(crate) fn span(&self) -> Option<Range<usize>> {
        match self {
            RawField::Text(v) => Some(v.span()),
            RawField::Number(v) => Some(v.span()),
            RawField::Integer(v) => Some(v.span()),
            RawField::Value(v) => Some(v.span()),
            RawField::Numbers(v) => Some(v.span()),
            RawField::Integers(v) => Some(v.span()),
            RawField::Steps(v) => Some(v.span()),
            RawField::Bool(v) => Some(v.span()),
            RawField::Points(_) | RawField::At(_) => None,
        }
    }
}

/// One `[[check]]` table as read: its fields by name, each value typed by [`CHECK_FIELDS`] and
/// spanned. The `kind` decides which fields apply; each kind reads its own (`kinds::*::Raw`).
///
/// Not a serde-tagged enum on `kind`: an internally tagged enum buffers the table into serde's
/// `Content`, which loses the spans of the values and the "unknown field" message listing the
/// known fields (with its "did you mean" help), both CLI contracts. So serde reads every field
/// by its type here, and the loader dispatches on `kind` itself.
#[derive(Debug, Default)]
pub(crate) struct RawCheck {
    fields: BTreeMap<&'static str, RawField>,
}

/// A typed accessor of [`RawCheck`]: the field `key` when it holds that variant.
macro_rules! accessor {
    ($(#[$doc:meta] $name:ident: $variant:ident => $ty:ty;)*) => {$(
        #[$doc]
        pub(crate) fn $name(&self, key: &str) -> Option<&$ty> {
            match self.fields.get(key) {
                Some(RawField::$variant(v)) => Some(v),
                _ => None,
            }
        }
    )*};
}

impl RawCheck {
    /// The fields present, in [`CHECK_FIELDS`] order.
    pub(crate) fn present(&self) -> impl Iterator<Item = (&'static str, &RawField)> {
        CHECK_FIELDS
            .iter()
            .filter_map(|(name, _)| self.fields.get(name).map(|f| (*name, f)))
    }

    accessor! {
        /// A string field.
        text: Text => Spanned<String>;
        /// A number field.
        number: Number => Spanned<f64>;
        /// An integer field.
        integer: Integer => Spanned<i64>;
        /// A field of any TOML value.
        value: Value => Spanned<toml::Value>;
        /// A list of numbers.
        numbers: Numbers => Spanned<Vec<f64>>;
        /// A list of integers.
        integers: Integers => Spanned<Vec<i64>>;
        /// The steps of a chain.
        steps: Steps => Spanned<Vec<Spanned<RawStep>>>;
        /// A table of test-point ranges.
        points: Points => BTreeMap<String, Spanned<toml::Value>>;
        /// A list of explicit test points.
        at: At => Vec<BTreeMap<String, Spanned<f64>>>;
        /// A boolean field.
        flag: Bool => Spanned<bool>;
    }
}

/// Reads a key: the index of a known field, or serde's "unknown field" error (at the key's span).
struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldSeed {
    type Value = usize;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        CHECK_FIELDS
            .iter()
            .position(|(name, _)| *name == v)
            .ok_or_else(|| E::unknown_field(v, &CHECK_FIELD_NAMES))
    }
}

/// Reads a value of the given type as the derived code read an `Option<Spanned<T>>` field, so
/// serde's messages and spans for a value of the wrong type are unchanged.
struct ValueSeed(Ty);

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Option<RawField>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<RawField>, D::Error> {
        Ok(match self.0 {
            Ty::Text => Option::deserialize(d)?.map(RawField::Text),
            Ty::Number => Option::deserialize(d)?.map(RawField::Number),
            Ty::Integer => Option::deserialize(d)?.map(RawField::Integer),
            Ty::Value => Option::deserialize(d)?.map(RawField::Value),
            Ty::Numbers => Option::deserialize(d)?.map(RawField::Numbers),
            Ty::Integers => Option::deserialize(d)?.map(RawField::Integers),
            Ty::Steps => Option::deserialize(d)?.map(RawField::Steps),
            Ty::Points => Option::deserialize(d)?.map(RawField::Points),
            Ty::At => Option::deserialize(d)?.map(RawField::At),
            Ty::Bool => Option::deserialize(d)?.map(RawField::Bool),
        })
    }
}

impl<'de> Deserialize<'de> for RawCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("RawCheck", &CHECK_FIELD_NAMES, CheckVisitor)
    }
}

struct CheckVisitor;

impl<'de> Visitor<'de> for CheckVisitor {
    type Value = RawCheck;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct RawCheck")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCheck, A::Error> {
        let mut c = RawCheck::default();
        while let Some(i) = map.next_key_seed(FieldSeed)? {
            let (name, ty) = CHECK_FIELDS[i];
            if c.fields.contains_key(name) {
                return Err(de::Error::duplicate_field(name));
            }
            if let Some(v) = map.next_value_seed(ValueSeed(ty))? {
                c.fields.insert(name, v);
            }
        }
        Ok(c)
    }
    /// A check written as an array reads its fields by position, as serde's derive did.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawCheck, A::Error> {
        let mut c = RawCheck::default();
        for (i, (name, ty)) in CHECK_FIELDS.iter().enumerate() {
            match seq.next_element_seed(ValueSeed(*ty))? {
                Some(Some(v)) => {
                    c.fields.insert(name, v);
                }
                Some(None) => {}
                None => {
                    return Err(de::Error::invalid_length(
                        i,
                        &"struct RawCheck with 33 elements",
                    ));
                }
            }
        }
        Ok(c)
    }
}

/// The help under a serde/TOML error: the closest field for an unknown one, the quoting rule for
/// a value of the wrong type.
pub(crate) fn toml_help(message: &str) -> Option<String> {
    if message.starts_with("unknown field") {
        // serde says "unknown field `rsh`, expected one of `name`, `claim`, ...".
        let quoted: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
        if let Some((typo, fields)) = quoted.split_first() {
            let swapped = |f: &&str| {
                let (a, b): (Vec<char>, Vec<char>) = (typo.chars().collect(), f.chars().collect());
                a.len() == b.len() && {
                    let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
                    diff.len() == 2
                        && diff[1] == diff[0] + 1
                        && a[diff[0]] == b[diff[1]]
                        && a[diff[1]] == b[diff[0]]
                }
            };
            let best = fields
                .iter()
                .find(|f| swapped(f))
                .copied()
                .or_else(|| expr::suggest(typo, fields.iter().copied()));
            if let Some(f) = best {
                return Some(format!("did you mean `{f}`?"));
            }
        }
        Some("check the spelling; docs/derivations.md lists every field of each check kind".into())
    } else if message.contains("invalid type") {
        Some("expressions are strings in double quotes; numbers and lists are bare".into())
    } else {
        None
    }
}
