//! The `logz` command's result: its JSON (one object for one β, a `results` table for several)
//! and its text table. The binary computes a [`LogzRun`] and prints [`json`] or [`text`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::expr::format_number;
use crate::quad::{Certified, LogZ, Status};

/// What one `logz` run computed: the variables, each β's result, the minima found and, with
/// `--certify`, each β's certified enclosure.
#[derive(Debug, Clone)]
pub struct LogzRun {
    /// The variables (`--over` then `--sum`), in the order of the results' points.
    pub names: Vec<String>,
    /// `(β, log Z)` for each β asked, in order.
    pub results: Vec<(f64, LogZ)>,
    /// Every minimum found, `(energy, point)`, lowest first.
    pub minima: Vec<(f64, Vec<f64>)>,
    /// With `--certify`: each β's enclosure (`None`: the energy has no interval enclosure).
    pub certified: Option<Vec<Option<Certified>>>,
}

/// The JSON of `logz --format json`: [`LogzOne`] for one β, [`LogzTable`] for several.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum LogzReport {
    /// One β: its fields at the top level.
    One(LogzOne),
    /// Several β: one row each under `results`.
    Table(LogzTable),
}

/// One β's result at the top level, keys in this order.
#[derive(Debug, Clone, Serialize)]
pub struct LogzOne {
    /// Always 1.
    pub schema: u32,
    /// `log Z`.
    pub log_z: f64,
    /// Its error bound.
    pub abs_error: f64,
    /// `−log Z / β`.
    pub free_energy: f64,
    /// The lowest energy found.
    pub min_energy: f64,
    /// A global minimiser, by variable name.
    pub argmin: BTreeMap<String, f64>,
    /// Every minimum found, lowest first.
    pub minima: Vec<MinimumJson>,
    /// Energy evaluations.
    pub evaluations: u64,
    /// `converged` or `not_converged`.
    pub status: Status,
    /// Why not converged, or a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `--certify`: the enclosure, or `null` when the energy has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certified: Option<Option<CertifiedJson>>,
}

/// One β's result as the Python binding's `logz` returns it (the same report layer; the
/// minimiser as a list in the order of the variables, `reason` always present).
#[derive(Debug, Clone, Serialize)]
pub struct LogzCall {
    /// Always 1.
    pub schema: u32,
    /// `log Z`.
    pub log_z: f64,
    /// Its error bound.
    pub abs_error: f64,
    /// `−log Z / β`.
    pub free_energy: f64,
    /// The lowest energy found.
    pub min_energy: f64,
    /// A global minimiser, in the order of the variables.
    pub argmin: Vec<f64>,
    /// Energy evaluations.
    pub evaluations: u64,
    /// `converged` or `not_converged`.
    pub status: Status,
    /// Why not converged, or a note (`null` when there is none).
    pub reason: Option<String>,
}

impl LogzCall {
    /// The result `lz` of `log Z` at `beta`.
    pub fn new(lz: &LogZ, beta: f64) -> Self {
        Self {
            schema: 1,
            log_z: lz.log_z,
            abs_error: lz.abs_error,
            free_energy: lz.free_energy(beta),
            min_energy: lz.min_energy,
            argmin: lz.argmin.clone(),
            evaluations: lz.evaluations,
            status: lz.status,
            reason: lz.reason.clone(),
        }
    }
}

/// Several β: `{"schema": 1, "results": [..]}`.
#[derive(Debug, Clone, Serialize)]
pub struct LogzTable {
    /// Always 1.
    pub schema: u32,
    /// One row per β, in order.
    pub results: Vec<LogzRow>,
}

/// One β's row of [`LogzTable`]: the fields of [`LogzOne`] and `beta`, keys in alphabetical
/// order (the contract since the rows were built as sorted JSON maps).
#[derive(Debug, Clone, Serialize)]
pub struct LogzRow {
    /// Error bound of `log_z`.
    pub abs_error: f64,
    /// A global minimiser, by variable name.
    pub argmin: BTreeMap<String, f64>,
    /// The inverse temperature.
    pub beta: f64,
    /// With `--certify`: the enclosure, or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certified: Option<Option<CertifiedJson>>,
    /// Energy evaluations.
    pub evaluations: u64,
    /// `−log Z / β`.
    pub free_energy: f64,
    /// `log Z`.
    pub log_z: f64,
    /// The lowest energy found.
    pub min_energy: f64,
    /// Every minimum found, lowest first.
    pub minima: Vec<MinimumJson>,
    /// Why not converged, or a note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `converged` or `not_converged`.
    pub status: Status,
}

/// One minimum: its energy and its point by variable name.
#[derive(Debug, Clone, Serialize)]
pub struct MinimumJson {
    /// The energy there.
    pub energy: f64,
    /// The point.
    pub point: BTreeMap<String, f64>,
}

/// A certified enclosure of `log Z`, keys in alphabetical order.
#[derive(Debug, Clone, Serialize)]
pub struct CertifiedJson {
    /// Boxes of the final partitions.
    pub boxes: usize,
    /// Upper bound (`null` when infinite).
    pub hi: f64,
    /// Interval evaluations.
    pub interval_evaluations: u64,
    /// Lower bound.
    pub lo: f64,
    /// Whether the far tails are extrapolated.
    pub tail_extrapolated: bool,
    /// `hi − lo`.
    pub width: f64,
}

impl From<&Certified> for CertifiedJson {
    fn from(c: &Certified) -> Self {
        CertifiedJson {
            boxes: c.boxes,
            hi: c.hi,
            interval_evaluations: c.interval_evaluations,
            lo: c.lo,
            tail_extrapolated: c.tail_extrapolated,
            width: c.width(),
        }
    }
}

fn by_name(names: &[String], x: &[f64]) -> BTreeMap<String, f64> {
    names.iter().cloned().zip(x.iter().copied()).collect()
}

impl LogzRun {
    /// The `i`-th β's certified field: absent without `--certify`, `null` without an enclosure.
    fn certified_json(&self, i: usize) -> Option<Option<CertifiedJson>> {
        self.certified.as_ref().map(|c| {
            c.get(i)
                .cloned()
                .flatten()
                .as_ref()
                .map(CertifiedJson::from)
        })
    }

    fn minima_json(&self) -> Vec<MinimumJson> {
        self.minima
            .iter()
            .map(|(e, x)| MinimumJson {
                energy: *e,
                point: by_name(&self.names, x),
            })
            .collect()
    }
}

/// The JSON result of a run: the top-level object for one β, a table for several.
pub fn json(run: &LogzRun) -> LogzReport {
    if let [(beta, lz)] = run.results.as_slice() {
        return LogzReport::One(LogzOne {
            schema: 1,
            log_z: lz.log_z,
            abs_error: lz.abs_error,
            free_energy: lz.free_energy(*beta),
            min_energy: lz.min_energy,
            argmin: by_name(&run.names, &lz.argmin),
            minima: run.minima_json(),
            evaluations: lz.evaluations,
            status: lz.status,
            reason: lz.reason.clone(),
            certified: run.certified_json(0),
        });
    }
    LogzReport::Table(LogzTable {
        schema: 1,
        results: run
            .results
            .iter()
            .enumerate()
            .map(|(i, (beta, lz))| LogzRow {
                abs_error: lz.abs_error,
                argmin: by_name(&run.names, &lz.argmin),
                beta: *beta,
                certified: run.certified_json(i),
                evaluations: lz.evaluations,
                free_energy: lz.free_energy(*beta),
                log_z: lz.log_z,
                min_energy: lz.min_energy,
                minima: run.minima_json(),
                reason: lz.reason.clone(),
                status: lz.status,
            })
            .collect(),
    })
}

/// The text table: one row per β, the minimiser, the minima found and the certified
/// enclosures.
pub fn text(run: &LogzRun) -> String {
    let mut out = String::new();
    let point_text = |x: &[f64]| -> String {
        run.names
            .iter()
            .zip(x)
            .map(|(n, v)| format!("{n} = {}", format_number(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "{:>10}  {:>22}  {:>9}  {:>22}  {:>22}  {:>10}  status",
        "beta", "log Z", "± error", "free energy", "min E", "evals"
    );
    for (beta, lz) in &run.results {
        let _ = writeln!(
            out,
            "{:>10}  {:>22}  {:>9.2e}  {:>22}  {:>22}  {:>10}  {}",
            format_number(*beta),
            format_number(lz.log_z),
            lz.abs_error,
            format_number(lz.free_energy(*beta)),
            format_number(lz.min_energy),
            lz.evaluations,
            if lz.status == Status::Converged {
                "converged".to_string()
            } else {
                format!("not converged: {}", lz.reason.clone().unwrap_or_default())
            }
        );
    }
    if let Some((_, first)) = run.results.first() {
        let _ = writeln!(out, "argmin: {}", point_text(&first.argmin));
    }
    if run.minima.len() > 1 {
        let _ = writeln!(out, "minima found ({}, lowest first):", run.minima.len());
        for (e, x) in &run.minima {
            let _ = writeln!(out, "  {}  (E = {})", point_text(x), format_number(*e));
        }
    }
    if let Some(certified) = &run.certified {
        for (i, (beta, _)) in run.results.iter().enumerate() {
            match certified.get(i).cloned().flatten() {
                Some(c) => {
                    let _ = writeln!(
                        out,
                        "certified at beta = {beta}: log Z in [{}, {}] (width {:.2e}, {} boxes{})",
                        c.lo,
                        c.hi,
                        c.width(),
                        c.boxes,
                        if c.tail_extrapolated {
                            "; mass beyond 1e13 length scales extrapolated"
                        } else {
                            ""
                        }
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "certified at beta = {beta}: not available (the energy has no interval enclosure)"
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{Domain, FnEnergy, QuadOptions, log_partition};

    /// The Python binding's object: `schema` first, then the fields in their order, the
    /// minimiser as a list and `reason` present (null) when there is none.
    #[test]
    fn the_python_object_has_schema_first_and_its_keys_in_order() {
        let e = FnEnergy::new(1, |z: &[f64]| 0.5 * z[0] * z[0]);
        let d = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
        let lz = log_partition(&e, &d, 2.0, &QuadOptions::default()).expect("integrates");
        let text = serde_json::to_string(&LogzCall::new(&lz, 2.0)).expect("serialises");
        let keys = [
            "schema",
            "log_z",
            "abs_error",
            "free_energy",
            "min_energy",
            "argmin",
            "evaluations",
            "status",
            "reason",
        ];
        let at: Vec<usize> = keys
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).expect("key present"))
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(text.starts_with("{\"schema\":1,"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert!(v["argmin"].is_array() && v["reason"].is_null(), "{text}");
        let truth = 0.5 * (std::f64::consts::PI).ln();
        assert!((v["log_z"].as_f64().expect("number") - truth).abs() <= lz.abs_error);
    }
}
