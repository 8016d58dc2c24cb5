//! Reports: text tables for the terminal, JSON, Markdown and a self-contained HTML page with SVG
//! figures.
//!
//! Rendering functions return strings; only the binary writes them out.

pub mod chains;
pub mod check_page;
pub mod compare;
pub mod diff;
pub mod eval;
pub mod figures;
pub mod grad;
pub mod json;
pub mod logz;
pub mod mathml;
pub mod page;
pub mod plot;
pub mod provenance;
pub mod sampler;
pub mod text;

use serde::Serialize;

pub use json::{Spacing, to_json_line};

/// Serialises a result as pretty JSON ending in a newline. Every result type of the crate puts
/// `"schema": 1` first.
///
/// # Errors
/// Only if a value cannot be represented in JSON (non-finite numbers are written as `null`).
pub fn to_json<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(value)?;
    s.push('\n');
    Ok(s)
}
