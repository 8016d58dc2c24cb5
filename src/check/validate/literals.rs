//! Literal values of a derivation file as text: constant expressions, identifiers, bounds,
//! ranges `lo..hi`, variable domains (`"0..1"`, `"integer 0..2"`) and point ranges.

use super::*;

/// Evaluates a constant expression (numbers, `pi`, earlier parameters).
pub(super) fn constant_value(
    e: &Expr,
    known: &BTreeMap<String, ParamValue>,
) -> Result<f64, String> {
    let mut b = expr::Bindings::new();
    for (k, v) in known {
        match v {
            ParamValue::Number(x) => b.set(k, *x),
            ParamValue::List(xs) => b.set_list(k, xs.clone()),
        }
    }
    expr::eval(e, &b).map_err(|d| d.message)
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && s.trim_end_matches('\'')
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_')
}

fn parse_bound(s: &str) -> Result<f64, String> {
    match s.trim() {
        "inf" | "+inf" | "∞" => Ok(f64::INFINITY),
        "-inf" | "-∞" => Ok(f64::NEG_INFINITY),
        t => t
            .parse::<f64>()
            .map_err(|_| format!("`{t}` is not a number")),
    }
}

fn split_range(s: &str) -> Result<(f64, f64), String> {
    let Some((lo, hi)) = s.split_once("..") else {
        return Err(format!("`{s}` is not a range lo..hi"));
    };
    let (lo, hi) = (parse_bound(lo)?, parse_bound(hi)?);
    if lo.is_nan() || hi.is_nan() || lo >= hi {
        return Err(format!("the range {s} is empty: lo must be below hi"));
    }
    Ok((lo, hi))
}

/// Parses a variable domain: `"-inf..inf"`, `"0..1"`, `"integer 0..2"`.
pub(crate) fn parse_domain(s: &str) -> Result<VarDomain, String> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("integer") {
        let (lo, hi) = split_integer_range(rest)?;
        return Ok(VarDomain::Integer { lo, hi });
    }
    let s = s.strip_prefix("real").unwrap_or(s);
    let (lo, hi) = split_range(s)?;
    Ok(VarDomain::Continuous { lo, hi })
}

fn split_integer_range(s: &str) -> Result<(i64, i64), String> {
    let Some((lo, hi)) = s.trim().split_once("..") else {
        return Err(format!("`{}` is not an integer range lo..hi", s.trim()));
    };
    let lo: i64 = lo
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not an integer", lo.trim()))?;
    let hi: i64 = hi
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not an integer", hi.trim()))?;
    if lo > hi {
        return Err("an integer range needs lo <= hi".into());
    }
    let values = IntRange { lo, hi }.len();
    if values > MAX_DOMAIN_VALUES {
        return Err(format!(
            "an integer range may hold at most a million values; {lo}..{hi} holds {values}"
        ));
    }
    Ok((lo, hi))
}

pub(super) fn parse_point_range(s: &str) -> Result<PointRange, String> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix("integer") {
        let (lo, hi) = split_integer_range(rest)?;
        return Ok(PointRange::Integer(lo, hi));
    }
    if let Some(rest) = t.strip_suffix("log") {
        let (lo, hi) = split_range(rest)?;
        if lo <= 0.0 || !hi.is_finite() {
            return Err("a log range needs 0 < lo < hi < inf".into());
        }
        return Ok(PointRange::LogUniform(lo, hi));
    }
    let (lo, hi) = split_range(t)?;
    if !lo.is_finite() || !hi.is_finite() {
        return Err("test points need a finite range".into());
    }
    Ok(PointRange::Uniform(lo, hi))
}
