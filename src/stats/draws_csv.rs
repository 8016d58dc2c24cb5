//! Reading draws from CSV text (header of variable names, optional `chain` column), with errors
//! that name the line. Takes `&str`: the caller reads the file.

use super::battery::Draws;

/// Why a CSV file of draws was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvErrorKind {
    /// The text has no header line.
    #[error("the file is empty (expected a header naming the variables)")]
    Empty,
    /// A variable of the target has no column.
    #[error("missing column `{0}`")]
    MissingColumn(String),
    /// A column that is neither a variable nor `chain`.
    #[error("extra column `{0}` (not a variable of --over, nor `chain`)")]
    ExtraColumn(String),
    /// A column name appears twice.
    #[error("column `{0}` appears twice")]
    DuplicateColumn(String),
    /// A row with the wrong number of fields.
    #[error("{got} fields, the header has {expected}")]
    Ragged {
        /// Number of header columns.
        expected: usize,
        /// Number of fields on this row.
        got: usize,
    },
    /// A field that is not a number.
    #[error("`{text}` in column `{column}` is not a number")]
    NotANumber {
        /// Column name.
        column: String,
        /// The field.
        text: String,
    },
    /// NaN or an infinity.
    #[error("`{text}` in column `{column}` is not finite")]
    NonFinite {
        /// Column name.
        column: String,
        /// The field.
        text: String,
    },
    /// A chain id that is not an integer.
    #[error("chain id `{0}` is not an integer")]
    BadChain(String),
    /// A header but no draws.
    #[error("no rows of draws after the header")]
    NoRows,
}

/// A refused CSV file: the 1-based line and what is wrong there.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct CsvError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: CsvErrorKind,
}

fn err(line: usize, kind: CsvErrorKind) -> CsvError {
    CsvError { line, kind }
}

/// Parses draws from CSV text. The header names the columns: every name in `vars` exactly once
/// (any order) and optionally `chain`, whose integer ids group rows into chains (chains ordered
/// by first appearance; rows are in draw order within each chain). Blank lines are skipped.
/// The returned [`Draws`] has coordinates in the order of `vars`, named by them.
///
/// # Errors
/// A [`CsvError`] naming the line: empty text, missing, extra or duplicate column, a row of
/// the wrong length, a field that is not a number, NaN or infinite, a chain id that is not an
/// integer, or no rows.
pub fn parse_draws_csv(text: &str, vars: &[String]) -> Result<Draws, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(err(1, CsvErrorKind::Empty));
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    // Column j of the file goes to coordinate slot[j] (None for the chain column).
    let mut slot: Vec<Option<usize>> = Vec::with_capacity(names.len());

    for (j, name) in names.iter().enumerate() {
        if names[..j].contains(name) {
            return Err(err(
                header_line,
                CsvErrorKind::DuplicateColumn((*name).to_string()),
            ));
        }
        if *name == "chain" {
            slot.push(None);
        } else if let Some(k) = vars.iter().position(|v| v == name) {
            slot.push(Some(k));
        } else {
            return Err(err(
                header_line,
                CsvErrorKind::ExtraColumn((*name).to_string()),
            ));
        }
    }
    if let Some(v) = vars.iter().find(|v| !names.contains(&v.as_str())) {
        return Err(err(header_line, CsvErrorKind::MissingColumn(v.clone())));
    }
    let dim = vars.len();
    let mut ids: Vec<i64> = Vec::new();
    let mut chains: Vec<Vec<f64>> = Vec::new();
    let mut row = vec![0.0; dim];
    let mut rows = 0usize;
    for (line, l) in lines {
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        if fields.len() != names.len() {
            return Err(err(
                line,
                CsvErrorKind::Ragged {
                    expected: names.len(),
                    got: fields.len(),
                },
            ));
        }
        let mut chain = 0_i64;
        for (j, f) in fields.iter().enumerate() {
            match slot[j] {
                None => {
                    chain = f
                        .parse::<i64>()
                        .map_err(|_| err(line, CsvErrorKind::BadChain((*f).to_string())))?;
                }
                Some(k) => {
                    let x = f.parse::<f64>().map_err(|_| {
                        err(
                            line,
                            CsvErrorKind::NotANumber {
                                column: names[j].to_string(),
                                text: (*f).to_string(),
                            },
                        )
                    })?;
                    if !x.is_finite() {
                        return Err(err(
                            line,
                            CsvErrorKind::NonFinite {
                                column: names[j].to_string(),
                                text: (*f).to_string(),
                            },
                        ));
                    }
                    row[k] = x;
                }
            }
        }
        let c = match ids.iter().position(|&i| i == chain) {
            Some(c) => c,
            None => {
                ids.push(chain);
                chains.push(Vec::new());
                ids.len() - 1
            }
        };
        chains[c].extend_from_slice(&row);
        rows += 1;
    }
    if rows == 0 {
        return Err(err(header_line + 1, CsvErrorKind::NoRows));
    }
    let draws = Draws {
        dim,
        names: vars.to_vec(),
        chains,
    };
    draws
        .validate()
        .map_err(|_| err(header_line, CsvErrorKind::NoRows))?;
    Ok(draws)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    fn kind_at(text: &str, v: &[&str]) -> (usize, CsvErrorKind) {
        match parse_draws_csv(text, &vars(v)) {
            Err(e) => (e.line, e.kind),
            Ok(d) => panic!("accepted {text:?} as {d:?}"),
        }
    }

    #[test]
    fn columns_are_reordered_and_chains_grouped() {
        let d = parse_draws_csv("y,chain,x\n1,0,2\n3,1,4\n\n5,0,6\r\n", &vars(&["x", "y"]))
            .expect("valid");
        assert_eq!(d.dim, 2);
        assert_eq!(d.names, vars(&["x", "y"]));
        assert_eq!(d.chains, vec![vec![2.0, 1.0, 6.0, 5.0], vec![4.0, 3.0]]);
        let single = parse_draws_csv("y\n-1e-3\n 2 \n", &vars(&["y"])).expect("valid");
        assert_eq!(single.chains, vec![vec![-1e-3, 2.0]]);
    }

    #[test]
    fn bad_files_name_the_line() {
        assert_eq!(kind_at("", &["y"]), (1, CsvErrorKind::Empty));
        assert_eq!(
            kind_at("x\n1\n", &["x", "y"]),
            (1, CsvErrorKind::MissingColumn("y".into()))
        );
        assert_eq!(
            kind_at("y,z\n1,2\n", &["y"]),
            (1, CsvErrorKind::ExtraColumn("z".into()))
        );
        assert_eq!(
            kind_at("y,y\n1,2\n", &["y"]),
            (1, CsvErrorKind::DuplicateColumn("y".into()))
        );
        assert_eq!(
            kind_at("y\n1\n2,3\n", &["y"]),
            (
                3,
                CsvErrorKind::Ragged {
                    expected: 1,
                    got: 2
                }
            )
        );
        assert_eq!(
            kind_at("y\n1\nabc\n", &["y"]),
            (
                3,
                CsvErrorKind::NotANumber {
                    column: "y".into(),
                    text: "abc".into()
                }
            )
        );
        for bad in ["NaN", "inf", "-inf", "1e999"] {
            let (line, kind) = kind_at(&format!("y\n0\n0\n{bad}\n"), &["y"]);
            assert_eq!(line, 4);
            assert!(matches!(kind, CsvErrorKind::NonFinite { .. }), "{kind:?}");
        }
        assert_eq!(
            kind_at("y,chain\n1,a\n", &["y"]),
            (2, CsvErrorKind::BadChain("a".into()))
        );
        assert_eq!(
            kind_at("y,chain\n1,1.5\n", &["y"]),
            (2, CsvErrorKind::BadChain("1.5".into()))
        );
        assert_eq!(kind_at("y\n", &["y"]), (2, CsvErrorKind::NoRows));
    }
}
