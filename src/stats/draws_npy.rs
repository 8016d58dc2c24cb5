//! Reading draws from NumPy `.npy` bytes (format versions 1–3): shape `(draws,)` for one
//! variable, `(draws, dims)` or `(chains, draws, dims)`; little- or big-endian `f8`, `f4`, `i8`
//! or `i4`; C or Fortran order. Takes `&[u8]`: the caller reads the file. The header is parsed
//! with a budget (at most 64 KiB, the shape at most three dimensions) and the data length must
//! match the shape exactly.

use super::battery::Draws;

/// Why `.npy` bytes were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpyError {
    /// Not a `.npy` file.
    #[error("not a NumPy .npy file (the magic string \\x93NUMPY is missing)")]
    Magic,
    /// A header that cannot be read.
    #[error("the .npy header is malformed: {0}")]
    Header(String),
    /// An element type other than floats or integers.
    #[error(
        "element type `{0}` is not supported (save the draws as float64: `np.save(path, draws.astype(float))`)"
    )]
    Dtype(String),
    /// A shape other than 1, 2 or 3 dimensions, or one that holds no draws.
    #[error("{0}")]
    Shape(String),
    /// A last axis whose length is not the number of variables.
    #[error("an array of shape {shape:?} has {columns} columns but {} variables are named ({})", vars.len(), vars.join(", "))]
    Columns {
        /// The array's shape.
        shape: Vec<usize>,
        /// The length of its last axis.
        columns: usize,
        /// The variables the draws are of.
        vars: Vec<String>,
    },
    /// Fewer or more bytes than the shape needs.
    #[error("the data has {got} bytes, the shape {shape:?} needs {want}")]
    Length {
        /// Bytes present.
        got: usize,
        /// Bytes needed.
        want: usize,
        /// The shape.
        shape: Vec<usize>,
    },
    /// A value that is NaN or infinite.
    #[error("value {index} (chain {chain}, draw {draw}) is not finite")]
    NonFinite {
        /// Flat index.
        index: usize,
        /// Chain.
        chain: usize,
        /// Draw within the chain.
        draw: usize,
    },
    /// More values than the reader accepts.
    #[error("more than {0} values: split the file or thin the draws")]
    TooLarge(usize),
}

/// Largest header accepted.
const MAX_HEADER: usize = 1 << 16;

fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let k = format!("'{key}'");
    let at = header
        .find(&k)
        .ok_or_else(|| NpyError::Header(format!("no `{key}`")))?;
    let rest = header[at + k.len()..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| NpyError::Header(format!("no `:` after `{key}`")))?;
    Ok(rest.trim_start())
}

/// A NumPy array read from `.npy` bytes: its shape and its values in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape, at most three axes.
    pub shape: Vec<usize>,
    /// The values in C order, converted to f64 (not yet checked for finiteness).
    pub values: Vec<f64>,
}

/// Reads the array in `.npy` bytes (shapes of one to three axes).
///
/// # Errors
/// [`NpyError`] for bytes that are not a `.npy` file, an unsupported element type, more than
/// three axes, a data length that does not match the shape, or more than
/// [`super::draws_csv::MAX_VALUES`] values.
pub fn parse_npy_array(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(NpyError::Magic);
    }
    let major = bytes[6];
    let (len, start) = match major {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(NpyError::Header(format!("format version {major}"))),
    };
    if len > MAX_HEADER || start + len > bytes.len() {
        return Err(NpyError::Header("the header length is out of range".into()));
    }
    let header = std::str::from_utf8(&bytes[start..start + len])
        .map_err(|_| NpyError::Header("not text".into()))?;
    let descr = field(header, "descr")?;
    let descr = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or_else(|| NpyError::Header("`descr` is not a string".into()))?;
    let fortran = field(header, "fortran_order")?.starts_with("True");
    let shape_text = field(header, "shape")?;
    let shape_text = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| NpyError::Header("`shape` is not a tuple".into()))?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| NpyError::Header(format!("`{s}` in the shape")))
        })
        .collect::<Result<_, _>>()?;
    let (little, kind, size) = {
        let mut c = descr.chars();
        let order = c.next().unwrap_or('?');
        let rest: String = c.collect();
        let little = match order {
            '<' | '|' | '=' => true,
            '>' => false,
            _ => return Err(NpyError::Dtype(descr.to_string())),
        };
        match rest.as_str() {
            "f8" => (little, 'f', 8),
            "f4" => (little, 'f', 4),
            "i8" => (little, 'i', 8),
            "i4" => (little, 'i', 4),
            _ => return Err(NpyError::Dtype(descr.to_string())),
        }
    };
    if shape.is_empty() || shape.len() > 3 {
        return Err(NpyError::Shape(format!(
            "an array of shape {shape:?}: expected (draws,), (draws, dims) or (chains, draws, dims)"
        )));
    }
    let total = shape
        .iter()
        .try_fold(1usize, |acc, &k| acc.checked_mul(k))
        .filter(|&t| t <= super::draws_csv::MAX_VALUES)
        .ok_or(NpyError::TooLarge(super::draws_csv::MAX_VALUES))?;
    let data = &bytes[start + len..];
    if data.len() != total * size {
        return Err(NpyError::Length {
            got: data.len(),
            want: total * size,
            shape,
        });
    }
    let value = |i: usize| -> f64 {
        let b = &data[i * size..(i + 1) * size];
        let mut a = [0u8; 8];
        a[..size].copy_from_slice(b);
        if !little {
            a[..size].reverse();
        }
        match (kind, size) {
            ('f', 8) => f64::from_le_bytes(a),
            ('f', 4) => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            ('i', 8) => i64::from_le_bytes(a) as f64,
            _ => f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]])),
        }
    };
    let values = if fortran && shape.len() > 1 {
        // C position of multi-index (i0, i1[, i2]) from its Fortran position.
        let mut out = vec![0.0; total];
        let mut idx = vec![0usize; shape.len()];
        for f in 0..total {
            let c = idx.iter().zip(&shape).fold(0, |acc, (i, k)| acc * k + i);
            out[c] = value(f);
            for (i, k) in idx.iter_mut().zip(&shape) {
                *i += 1;
                if *i < *k {
                    break;
                }
                *i = 0;
            }
        }
        out
    } else {
        (0..total).map(value).collect()
    };
    Ok(NpyArray { shape, values })
}

/// Draws from one array: shape `(draws,)` for one variable, `(draws, dims)` or
/// `(chains, draws, dims)` with `dims` = the number of variables.
///
/// # Errors
/// [`NpyError::Shape`] for a shape that does not fit `vars` or holds no draws,
/// [`NpyError::NonFinite`] for a NaN or infinite value.
pub fn draws_from_array(a: &NpyArray, vars: &[String]) -> Result<Draws, NpyError> {
    let shape = &a.shape;
    let d = vars.len();
    let (draws, dims) = match shape.as_slice() {
        [n] if d == 1 => (*n, 1),
        [n, k] | [_, n, k] => (*n, *k),
        _ => {
            return Err(NpyError::Shape(format!(
                "an array of shape {shape:?}: expected (draws,) for one variable, (draws, dims) or (chains, draws, dims)"
            )));
        }
    };
    if dims != d {
        return Err(NpyError::Columns {
            shape: shape.clone(),
            columns: dims,
            vars: vars.to_vec(),
        });
    }
    if a.values.is_empty() {
        return Err(NpyError::Shape(format!(
            "an array of shape {shape:?} holds no draws"
        )));
    }
    if let Some(i) = a.values.iter().position(|v| !v.is_finite()) {
        return Err(NpyError::NonFinite {
            index: i,
            chain: i / (draws * dims),
            draw: (i / dims) % draws,
        });
    }
    Ok(Draws {
        dim: d,
        names: vars.to_vec(),
        // values.len() = chains·draws·dims, so this gives exactly `chains` chains.
        chains: a.values.chunks(draws * dims).map(<[f64]>::to_vec).collect(),
    })
}

/// Parses `.npy` bytes into draws named `vars`.
///
/// # Errors
/// [`NpyError`] for bytes that are not a `.npy` file, an unsupported element type, a shape that
/// does not fit `vars` (the last axis must have one entry per variable, except `(draws,)` for one
/// variable), a data length that does not match, a non-finite value, or more than
/// [`super::draws_csv::MAX_VALUES`] values.
pub fn parse_draws_npy(bytes: &[u8], vars: &[String]) -> Result<Draws, NpyError> {
    draws_from_array(&parse_npy_array(bytes)?, vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f8(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn shapes_orders_and_types() {
        let d = parse_draws_npy(
            &npy("<f8", false, "(3,)", &f8(&[1.0, 2.0, 3.0])),
            &names(&["y"]),
        )
        .expect("1D");
        assert_eq!(d.chains, vec![vec![1.0, 2.0, 3.0]]);
        let d = parse_draws_npy(
            &npy("<f8", false, "(2, 2)", &f8(&[1.0, 2.0, 3.0, 4.0])),
            &names(&["x", "y"]),
        )
        .expect("2D");
        assert_eq!(d.chains, vec![vec![1.0, 2.0, 3.0, 4.0]]);
        // Fortran order of the same 2×2 array [[1, 2], [3, 4]] stores 1, 3, 2, 4.
        let d = parse_draws_npy(
            &npy("<f8", true, "(2, 2)", &f8(&[1.0, 3.0, 2.0, 4.0])),
            &names(&["x", "y"]),
        )
        .expect("Fortran");
        assert_eq!(d.chains, vec![vec![1.0, 2.0, 3.0, 4.0]]);
        let d = parse_draws_npy(
            &npy("<f8", false, "(2, 2, 1)", &f8(&[1.0, 2.0, 3.0, 4.0])),
            &names(&["y"]),
        )
        .expect("3D");
        assert_eq!(d.chains, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        let be: Vec<u8> = [1.5_f64, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        let d = parse_draws_npy(&npy(">f8", false, "(2,)", &be), &names(&["y"])).expect("BE");
        assert_eq!(d.chains, vec![vec![1.5, -2.0]]);
        let f4: Vec<u8> = [0.5_f32, 0.25]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let d = parse_draws_npy(&npy("<f4", false, "(2,)", &f4), &names(&["y"])).expect("f4");
        assert_eq!(d.chains, vec![vec![0.5, 0.25]]);
    }

    #[test]
    fn bad_files_are_refused() {
        let y = names(&["y"]);
        assert!(matches!(
            parse_draws_npy(b"y\n1\n", &y),
            Err(NpyError::Magic)
        ));
        assert!(matches!(
            parse_draws_npy(&npy("<c16", false, "(1,)", &[0; 16]), &y),
            Err(NpyError::Dtype(_))
        ));
        assert!(matches!(
            parse_draws_npy(&npy("<f8", false, "(2, 3)", &f8(&[0.0; 6])), &y),
            Err(NpyError::Columns { columns: 3, .. })
        ));
        assert!(matches!(
            parse_draws_npy(&npy("<f8", false, "(3,)", &f8(&[0.0; 2])), &y),
            Err(NpyError::Length { .. })
        ));
        assert!(matches!(
            parse_draws_npy(&npy("<f8", false, "(2,)", &f8(&[0.0, f64::NAN])), &y),
            Err(NpyError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            parse_draws_npy(
                &npy("<f8", false, "(100000000000, 100000000000)", &[]),
                &names(&["x", "y"])
            ),
            Err(NpyError::Shape(_) | NpyError::TooLarge(_))
        ));
        let mut truncated = npy("<f8", false, "(1,)", &f8(&[0.0]));
        truncated.truncate(9);
        assert!(parse_draws_npy(&truncated, &y).is_err());
    }
}
