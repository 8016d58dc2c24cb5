//! Reading draws from CSV text (header of variable names, optional `chain` / `walker` columns),
//! with errors that name the line and say how to fix the file. Takes `&str`: the caller reads
//! the file.
//!
//! Files as tools write them are accepted: columns that are not variables (`draw`, `iteration`,
//! `lp`, `log_prob`, ArviZ's `chain`/`draw` index, …) are ignored by name and reported, `chain`
//! and `walker` group rows into chains (both: one chain per pair), and `--columns` maps other
//! column names to the variables. A first line of numbers or a tab- or semicolon-separated
//! header gets a hint instead of a bare error.

use super::battery::Draws;
use std::collections::HashMap;

/// Column names that index draws rather than hold a variable: `chain` and `walker` group rows
/// into chains; `draw`, `iteration` and `step` number them (ignored: rows are in draw order).
pub const INDEX_COLUMNS: [&str; 5] = ["chain", "walker", "draw", "iteration", "step"];

/// Ignored columns that count gradient evaluations per draw (ours, Stan's, NumPyro's and
/// ArviZ's names); the first present is summed into [`CsvDraws::grad_evals`].
pub const GRAD_EVAL_COLUMNS: [&str; 4] = ["grad_evals", "n_leapfrog__", "n_steps", "num_steps"];

/// Why a CSV file of draws was refused.
///
/// The messages name no command-line flag (the library is also called from Python and Rust);
/// the `ebmcheck` binary words the variants that have a flag (`--columns`, `--over`,
/// `--budget`) in its own terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvErrorKind {
    /// The text has no header line.
    #[error("the file is empty (expected a header naming the variables)")]
    Empty,
    /// A variable of the target has no column: the variable and the header's columns.
    #[error(
        "missing column `{0}` (the header has {1}); name it in the header or map a column to it (`CsvOptions::columns`)"
    )]
    MissingColumnOf(String, String),
    /// A variable of the target has no column.
    #[error("missing column `{0}`")]
    MissingColumn(String),
    /// A column that is neither a variable nor `chain`.
    #[error("extra column `{0}` (not a variable, nor `chain`)")]
    ExtraColumn(String),
    /// A variable named like an index column (`chain`, `walker`, `draw`, …).
    #[error(
        "the variable `{0}` has the name of an index column; rename the variable (e.g. `{0}_`) or map a column to it (`CsvOptions::columns`)"
    )]
    ReservedName(String),
    /// The first line is numbers: the file has no header.
    #[error("the first line looks like numbers: add a header naming the columns, e.g. `{0}`")]
    NoHeader(String),
    /// The header is separated by another character than a comma.
    #[error(
        "the file looks {0}-separated: write it comma-separated (e.g. pandas `to_csv(path, index=False)`)"
    )]
    Separator(&'static str),
    /// The column map (`CsvOptions::columns`) names a column the header does not have, or the
    /// wrong number of columns.
    #[error("column map: {0}")]
    Columns(String),
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
    /// More chains than the `chains` budget allows.
    #[error("more than {0} chains, beyond the budget `chains`")]
    TooManyChains(u64),
    /// More rows than the reader accepts.
    #[error("more than {0} values: split the file or thin the draws")]
    TooLarge(usize),
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

/// How to read a CSV file of draws.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// The file's columns to read as the variables, in the order of the variables (`--columns`);
    /// `None` reads the columns named like the variables.
    pub columns: Option<Vec<String>>,
}

/// Draws read from CSV with what was ignored.
#[derive(Debug, Clone)]
pub struct CsvDraws {
    /// The draws, coordinates in the order of the variables.
    pub draws: Draws,
    /// Columns that were not read (bookkeeping such as `draw`, `lp`), in file order.
    pub ignored: Vec<String>,
    /// The columns that grouped rows into chains (`chain`, `walker`), if any.
    pub chain_columns: Vec<String>,
    /// A gradient-evaluation column ([`GRAD_EVAL_COLUMNS`]) and its sum over the rows read;
    /// `None` without one, or when one of its values is not a finite non-negative number.
    pub grad_evals: Option<(String, f64)>,
}

/// Largest number of values a CSV file may hold (rows × variables): 2·10⁸ (1.6 GB of f64).
pub const MAX_VALUES: usize = 200_000_000;

/// Parses draws from CSV text. The header names the columns: every name in `vars` once (any
/// order), optionally `chain` and/or `walker`, whose integer ids group rows into chains (chains
/// ordered by first appearance; rows are in draw order within each chain). Other columns are
/// ignored. Blank lines are skipped. The returned [`Draws`] has coordinates in the order of
/// `vars`, named by them.
///
/// # Errors
/// A [`CsvError`] naming the line: see [`parse_draws_csv_with`].
pub fn parse_draws_csv(text: &str, vars: &[String]) -> Result<Draws, CsvError> {
    parse_draws_csv_with(text, vars, &CsvOptions::default()).map(|d| d.draws)
}

fn looks_numeric(field: &str) -> bool {
    let f = field.trim();
    !f.is_empty() && f.parse::<f64>().is_ok()
}

/// Parses draws from CSV text with options; see [`parse_draws_csv`] for the layout.
///
/// # Errors
/// A [`CsvError`] naming the line: empty text, a header of numbers (no header), a tab- or
/// semicolon-separated header, a variable named like an index column, a missing or duplicate
/// column, a bad `--columns`, a row of the wrong length, a field that is not a number, NaN or
/// infinite, a chain id that is not an integer, more than [`MAX_VALUES`] values, or no rows.
pub fn parse_draws_csv_with(
    text: &str,
    vars: &[String],
    opts: &CsvOptions,
) -> Result<CsvDraws, CsvError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(err(1, CsvErrorKind::Empty));
    };
    let header = header.trim_start_matches('\u{feff}');
    if let Some(v) = vars.iter().find(|v| INDEX_COLUMNS.contains(&v.as_str())) {
        return Err(err(header_line, CsvErrorKind::ReservedName(v.clone())));
    }
    if !header.contains(',') {
        if header.contains('\t') {
            return Err(err(header_line, CsvErrorKind::Separator("tab")));
        }
        if header.contains(';') {
            return Err(err(header_line, CsvErrorKind::Separator("semicolon")));
        }
    }
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.iter().all(|n| looks_numeric(n)) {
        return Err(err(header_line, CsvErrorKind::NoHeader(vars.join(","))));
    }
    for (j, name) in names.iter().enumerate() {
        if names[..j].contains(name) {
            return Err(err(
                header_line,
                CsvErrorKind::DuplicateColumn((*name).to_string()),
            ));
        }
    }
    // The column read as each variable.
    let wanted: Vec<String> = match &opts.columns {
        Some(cols) => {
            if cols.len() != vars.len() {
                return Err(err(
                    header_line,
                    CsvErrorKind::Columns(format!(
                        "{} columns for {} variables ({})",
                        cols.len(),
                        vars.len(),
                        vars.join(", ")
                    )),
                ));
            }
            cols.clone()
        }
        None => vars.to_vec(),
    };
    let mut slot: Vec<Option<usize>> = vec![None; names.len()];
    for (k, w) in wanted.iter().enumerate() {
        match names.iter().position(|n| n == w) {
            Some(j) => slot[j] = Some(k),
            None if opts.columns.is_some() => {
                return Err(err(
                    header_line,
                    CsvErrorKind::Columns(format!(
                        "no column `{w}` (the header has {})",
                        names.join(", ")
                    )),
                ));
            }
            None => {
                return Err(err(
                    header_line,
                    CsvErrorKind::MissingColumnOf(w.clone(), names.join(", ")),
                ));
            }
        }
    }
    let chain_cols: Vec<usize> = (0..names.len())
        .filter(|&j| slot[j].is_none() && (names[j] == "chain" || names[j] == "walker"))
        .collect();
    let ignored: Vec<String> = (0..names.len())
        .filter(|&j| slot[j].is_none() && !chain_cols.contains(&j))
        .map(|j| names[j].to_string())
        .collect();
    let grad_col = GRAD_EVAL_COLUMNS.iter().find_map(|g| {
        (0..names.len()).find(|&j| slot[j].is_none() && !chain_cols.contains(&j) && names[j] == *g)
    });
    let mut grad_sum = Some(0.0_f64);
    let dim = vars.len();
    let mut index: HashMap<(i64, i64), usize> = HashMap::new();
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
        let mut key = (0_i64, 0_i64);
        for (ci, &j) in chain_cols.iter().enumerate() {
            let f = fields[j];
            let id = f
                .parse::<i64>()
                .or_else(|e| {
                    // ArviZ and pandas may write integer ids as floats (`0.0`).
                    f.parse::<f64>()
                        .ok()
                        .filter(|x| x.fract() == 0.0 && x.abs() < 9e15)
                        .map(|x| x as i64)
                        .ok_or(e)
                })
                .map_err(|_| err(line, CsvErrorKind::BadChain(f.to_string())))?;
            if ci == 0 {
                key.0 = id;
            } else {
                key.1 = id;
            }
        }
        for (j, f) in fields.iter().enumerate() {
            let Some(k) = slot[j] else { continue };
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
        if let Some(j) = grad_col {
            let g = fields[j]
                .parse::<f64>()
                .ok()
                .filter(|g| g.is_finite() && *g >= 0.0);
            grad_sum = grad_sum.zip(g).map(|(a, b)| a + b);
        }
        let next = chains.len();
        let c = *index.entry(key).or_insert(next);
        if c == next {
            // Checked before the chain is allocated.
            let most = crate::budgets::limit(crate::budgets::Budget::Chains);
            if crate::budgets::check(crate::budgets::Budget::Chains, next as u128 + 1, "").is_err()
            {
                return Err(err(line, CsvErrorKind::TooManyChains(most)));
            }
            chains.push(Vec::new());
        }
        chains[c].extend_from_slice(&row);
        rows += 1;
        if rows.saturating_mul(dim) > MAX_VALUES {
            return Err(err(line, CsvErrorKind::TooLarge(MAX_VALUES)));
        }
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
    Ok(CsvDraws {
        draws,
        ignored,
        chain_columns: chain_cols.iter().map(|&j| names[j].to_string()).collect(),
        grad_evals: grad_col
            .zip(grad_sum)
            .map(|(j, g)| (names[j].to_string(), g)),
    })
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
            (1, CsvErrorKind::MissingColumnOf("y".into(), "x".into()))
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
        assert_eq!(
            kind_at("0.5,1.5\n1,2\n", &["x", "y"]),
            (1, CsvErrorKind::NoHeader("x,y".into()))
        );
        assert_eq!(
            kind_at("x\ty\n1\t2\n", &["x", "y"]),
            (1, CsvErrorKind::Separator("tab"))
        );
        assert_eq!(
            kind_at("x;y\n1;2\n", &["x", "y"]),
            (1, CsvErrorKind::Separator("semicolon"))
        );
        assert_eq!(
            kind_at("chain,y\n0,1\n", &["chain"]),
            (1, CsvErrorKind::ReservedName("chain".into()))
        );
    }

    /// The library is called from Python and Rust too: its messages name no command-line flag
    /// (the binary adds `--columns`, `--over` and `--budget`, `tests/cli_sampler_test.rs`,
    /// `draws_errors_name_the_flags_that_fix_them`).
    #[test]
    fn messages_name_no_command_line_flag() {
        let kinds = [
            CsvErrorKind::MissingColumnOf("y".into(), "x".into()),
            CsvErrorKind::ExtraColumn("q".into()),
            CsvErrorKind::ReservedName("chain".into()),
            CsvErrorKind::Columns("1 columns for 2 variables (x, y)".into()),
            CsvErrorKind::TooManyChains(10),
        ];
        for kind in kinds {
            let m = err(1, kind).to_string();
            assert!(!m.contains("--"), "{m}");
        }
        let e = parse_draws_csv_with(
            "a,b\n1,2\n",
            &vars(&["x", "y"]),
            &CsvOptions {
                columns: Some(vars(&["a"])),
            },
        )
        .expect_err("one column for two variables");
        assert_eq!(
            e.to_string(),
            "line 1: column map: 1 columns for 2 variables (x, y)"
        );
    }

    #[test]
    fn a_gradient_column_is_summed() {
        let t = "x,n_leapfrog__,lp\n0.1,3,0\n0.2,7,0\n";
        let d = parse_draws_csv_with(t, &vars(&["x"]), &CsvOptions::default()).expect("reads");
        assert_eq!(d.grad_evals, Some(("n_leapfrog__".to_string(), 10.0)));
        assert_eq!(d.ignored, vars(&["n_leapfrog__", "lp"]));
        let bad = parse_draws_csv_with(
            "x,grad_evals\n0.1,3\n0.2,-1\n",
            &vars(&["x"]),
            &CsvOptions::default(),
        )
        .expect("reads");
        assert_eq!(bad.grad_evals, None);
        let none = parse_draws_csv_with("x,lp\n0.1,3\n", &vars(&["x"]), &CsvOptions::default())
            .expect("reads");
        assert_eq!(none.grad_evals, None);
    }

    #[test]
    fn extra_columns_are_ignored_and_reported() {
        let text = "chain,draw,lp,y,log_prob\n0,0,-1,0.5,-2\n0,1,-1,0.7,-2\n1,0,-1,0.1,-2\n";
        let d = parse_draws_csv_with(text, &vars(&["y"]), &CsvOptions::default()).expect("valid");
        assert_eq!(d.ignored, vars(&["draw", "lp", "log_prob"]));
        assert_eq!(d.chain_columns, vars(&["chain"]));
        assert_eq!(d.draws.chains, vec![vec![0.5, 0.7], vec![0.1]]);
        // chain and walker together: one chain per pair; float ids as pandas writes them.
        let text = "chain,walker,y\n0.0,0,1\n0.0,1,2\n1.0,0,3\n0.0,0,4\n";
        let d = parse_draws_csv(text, &vars(&["y"])).expect("valid");
        assert_eq!(d.chains, vec![vec![1.0, 4.0], vec![2.0], vec![3.0]]);
    }

    #[test]
    fn columns_map_file_columns_to_variables() {
        let text = "theta.1,theta.0,lp\n1,2,0\n3,4,0\n";
        let opts = CsvOptions {
            columns: Some(vars(&["theta.0", "theta.1"])),
        };
        let d = parse_draws_csv_with(text, &vars(&["x", "y"]), &opts).expect("valid");
        assert_eq!(d.draws.chains, vec![vec![2.0, 1.0, 4.0, 3.0]]);
        assert_eq!(d.draws.names, vars(&["x", "y"]));
        assert_eq!(d.ignored, vars(&["lp"]));
        let bad = CsvOptions {
            columns: Some(vars(&["theta.9", "theta.1"])),
        };
        let e = parse_draws_csv_with(text, &vars(&["x", "y"]), &bad).expect_err("no such column");
        assert!(matches!(e.kind, CsvErrorKind::Columns(_)), "{e}");
        let few = CsvOptions {
            columns: Some(vars(&["theta.0"])),
        };
        assert!(parse_draws_csv_with(text, &vars(&["x", "y"]), &few).is_err());
    }

    #[test]
    fn many_one_row_chains_are_read_in_linear_time() {
        // 100 000 chains of one row each: the chain lookup is a hash map, not a scan.
        let mut text = String::from("chain,y\n");
        for i in 0..100_000 {
            text.push_str(&format!("{i},{}\n", f64::from(i) * 1e-3));
        }
        let t = std::time::Instant::now();
        let d = parse_draws_csv(&text, &vars(&["y"])).expect("valid");
        assert_eq!(d.chains.len(), 100_000);
        assert!(t.elapsed().as_secs_f64() < 2.0, "{:?}", t.elapsed());
    }
}
