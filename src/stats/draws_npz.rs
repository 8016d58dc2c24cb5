//! Reading draws from NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): a zip archive
//! of `.npy` members, stored or deflated, with or without zip64 records (NumPy writes zip64
//! local headers). Takes `&[u8]`: the caller reads the file. Budgets: at most
//! [`MAX_MEMBERS`] members and [`MAX_MEMBER_BYTES`] bytes per decompressed member; every
//! offset is bounds-checked and every member's CRC-32 verified, so a hostile archive gives an
//! error, never a panic or an unbounded allocation.
//!
//! Which array holds the draws ([`parse_draws_npz`]), in this order:
//! 1. the member named by the caller (`--array NAME`; `NAME` or `NAME.npy`);
//! 2. one member per variable, named after the variables (`np.savez(f, x=xs, y=ys)`), each of
//!    shape `(draws,)` or `(chains, draws)`, all of one shape: they become the columns;
//! 3. the only member, when there is one;
//! 4. a member named `draws` or `samples`;
//!
//! otherwise an error lists the members. Errors in a member name it.

use super::battery::Draws;
use super::draws_npy::{NpyArray, NpyError, draws_from_array, parse_npy_array};

/// Most members read from one archive.
pub const MAX_MEMBERS: usize = 4096;
/// Most bytes of one decompressed member (the `.npy` value budget in f64 plus its header).
pub const MAX_MEMBER_BYTES: usize = super::draws_csv::MAX_VALUES * 8 + (1 << 16) + 128;

/// Why `.npz` bytes were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpzError {
    /// Not a readable zip archive.
    #[error("not a readable .npz (zip) archive: {0}")]
    Zip(String),
    /// A member that cannot be read or is not a valid array of draws.
    #[error("archive member `{member}`: {source}")]
    Member {
        /// The member's name in the archive.
        member: String,
        /// What is wrong with it.
        source: NpyError,
    },
    /// A member that cannot be extracted.
    #[error("archive member `{member}`: {reason}")]
    Extract {
        /// The member's name in the archive.
        member: String,
        /// What went wrong.
        reason: String,
    },
    /// The array asked for by name is not in the archive.
    #[error("{0}")]
    Choose(String),
    /// No rule picks the array of draws and none was asked for by name.
    #[error(
        "cannot tell which array holds the draws: {arrays}; choose one by name, or save one array per variable named after the variables ({})",
        vars.join(", ")
    )]
    Ambiguous {
        /// The archive's arrays, listed with their shapes.
        arrays: String,
        /// The variables the draws are of.
        vars: Vec<String>,
    },
}

/// Whether `bytes` start like a zip archive (local header or an empty archive's end record).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// One member of the central directory.
#[derive(Debug, Clone)]
struct Entry {
    name: String,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    offset: u64,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn zip_err(s: &str) -> NpzError {
    NpzError::Zip(s.to_string())
}

fn to_usize(v: u64, what: &str) -> Result<usize, NpzError> {
    usize::try_from(v).map_err(|_| zip_err(what))
}

/// The central directory's entries (zip64 end records and extra fields understood).
fn entries(b: &[u8]) -> Result<Vec<Entry>, NpzError> {
    const EOCD: u32 = 0x0605_4b50;
    // The end record is 22 bytes plus a comment of at most 65 535.
    let earliest = b.len().saturating_sub(22 + 0xFFFF);
    let eocd = (earliest..=b.len().saturating_sub(22))
        .rev()
        .find(|&i| u32_at(b, i) == Some(EOCD))
        .ok_or_else(|| zip_err("no end-of-central-directory record (truncated file?)"))?;
    let short = || zip_err("the end record is truncated");
    let mut count = u64::from(u16_at(b, eocd + 10).ok_or_else(short)?);
    let mut cd_offset = u64::from(u32_at(b, eocd + 16).ok_or_else(short)?);
    if count == 0xFFFF || cd_offset == 0xFFFF_FFFF {
        // Zip64: a locator just before the end record points at the zip64 end record.
        let loc = eocd
            .checked_sub(20)
            .filter(|&l| u32_at(b, l) == Some(0x0706_4b50))
            .ok_or_else(|| zip_err("a zip64 archive without its zip64 locator"))?;
        let rec = to_usize(
            u64_at(b, loc + 8).ok_or_else(short)?,
            "zip64 record offset out of range",
        )?;
        if u32_at(b, rec) != Some(0x0606_4b50) {
            return Err(zip_err("the zip64 end record is missing"));
        }
        count = u64_at(b, rec + 32).ok_or_else(short)?;
        cd_offset = u64_at(b, rec + 48).ok_or_else(short)?;
    }
    if count > MAX_MEMBERS as u64 {
        return Err(zip_err(&format!(
            "{count} members: more than the {MAX_MEMBERS} read"
        )));
    }
    let mut at = to_usize(cd_offset, "central directory offset out of range")?;
    let mut out = Vec::new();
    for _ in 0..count {
        let bad = || zip_err("a central directory entry is truncated or malformed");
        if u32_at(b, at) != Some(0x0201_4b50) {
            return Err(bad());
        }
        let method = u16_at(b, at + 10).ok_or_else(bad)?;
        let crc = u32_at(b, at + 16).ok_or_else(bad)?;
        let mut compressed = u64::from(u32_at(b, at + 20).ok_or_else(bad)?);
        let mut size = u64::from(u32_at(b, at + 24).ok_or_else(bad)?);
        let name_len = usize::from(u16_at(b, at + 28).ok_or_else(bad)?);
        let extra_len = usize::from(u16_at(b, at + 30).ok_or_else(bad)?);
        let comment_len = usize::from(u16_at(b, at + 32).ok_or_else(bad)?);
        let mut offset = u64::from(u32_at(b, at + 42).ok_or_else(bad)?);
        let name_bytes = b.get(at + 46..at + 46 + name_len).ok_or_else(bad)?;
        let name = String::from_utf8_lossy(name_bytes).into_owned();
        let extra = b
            .get(at + 46 + name_len..at + 46 + name_len + extra_len)
            .ok_or_else(bad)?;
        // Zip64 extra field (id 1): the 64-bit values of the fields saturated at 0xFFFFFFFF,
        // in the order size, compressed size, offset.
        let mut e = 0;
        while e + 4 <= extra.len() {
            let id = u16_at(extra, e).ok_or_else(bad)?;
            let len = usize::from(u16_at(extra, e + 2).ok_or_else(bad)?);
            let body = extra.get(e + 4..e + 4 + len).ok_or_else(bad)?;
            if id == 1 {
                let mut k = 0;
                for field in [&mut size, &mut compressed, &mut offset] {
                    if *field == 0xFFFF_FFFF {
                        *field = u64_at(body, k).ok_or_else(bad)?;
                        k += 8;
                    }
                }
            }
            e += 4 + len;
        }
        out.push(Entry {
            name,
            method,
            crc,
            compressed,
            size,
            offset,
        });
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

/// CRC-32 (IEEE, reflected, as zip uses).
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    !data.iter().fold(!0u32, |c, &byte| {
        table[((c ^ u32::from(byte)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// The decompressed bytes of one member, its length and CRC checked.
fn extract(b: &[u8], e: &Entry) -> Result<Vec<u8>, NpzError> {
    let err = |reason: String| NpzError::Extract {
        member: e.name.clone(),
        reason,
    };
    if e.size > MAX_MEMBER_BYTES as u64 {
        return Err(err(format!(
            "{} bytes uncompressed: more than the {MAX_MEMBER_BYTES} read",
            e.size
        )));
    }
    let local = to_usize(e.offset, "member offset out of range")?;
    if u32_at(b, local) != Some(0x0403_4b50) {
        return Err(err("its local header is missing".into()));
    }
    let name_len = usize::from(u16_at(b, local + 26).ok_or_else(|| err("truncated".into()))?);
    let extra_len = usize::from(u16_at(b, local + 28).ok_or_else(|| err("truncated".into()))?);
    let start = local + 30 + name_len + extra_len;
    let len = to_usize(e.compressed, "member size out of range")?;
    let data = start
        .checked_add(len)
        .and_then(|end| b.get(start..end))
        .ok_or_else(|| err("its data runs past the end of the archive".into()))?;
    let size = e.size as usize;
    let out = match e.method {
        0 => data.to_vec(),
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, size)
            .map_err(|x| err(format!("cannot inflate its data ({:?})", x.status)))?,
        m => {
            return Err(err(format!(
                "compression method {m} is not supported (only stored and deflate, as NumPy writes)"
            )));
        }
    };
    if out.len() != size {
        return Err(err(format!(
            "{} bytes after decompression, the directory says {size}",
            out.len()
        )));
    }
    if crc32(&out) != e.crc {
        return Err(err("CRC-32 mismatch (the archive is corrupt)".into()));
    }
    Ok(out)
}

/// The array name of a member: its file name without the `.npy` suffix.
fn array_name(member: &str) -> &str {
    member.strip_suffix(".npy").unwrap_or(member)
}

/// The array names held by `.npz` bytes, in archive order.
///
/// # Errors
/// [`NpzError::Zip`] when the bytes are not a readable zip archive.
pub fn npz_arrays(bytes: &[u8]) -> Result<Vec<String>, NpzError> {
    Ok(entries(bytes)?
        .iter()
        .map(|e| array_name(&e.name).to_string())
        .collect())
}

/// Draws read from an archive, with the members they came from.
#[derive(Debug, Clone)]
pub struct NpzDraws {
    /// The draws.
    pub draws: Draws,
    /// The members read (one, or one per variable).
    pub members: Vec<String>,
    /// The members not read.
    pub ignored: Vec<String>,
}

fn member_array(b: &[u8], e: &Entry) -> Result<NpyArray, NpzError> {
    parse_npy_array(&extract(b, e)?).map_err(|source| NpzError::Member {
        member: e.name.clone(),
        source,
    })
}

/// Reads the draws of `.npz` bytes, the array chosen by the rule in the module docs (`array`:
/// the caller's choice).
///
/// # Errors
/// [`NpzError`]: not a zip archive, a member that cannot be extracted or is not a valid `.npy`
/// array of draws for `vars` (naming the member), or no array chosen (listing the members).
pub fn parse_draws_npz(
    bytes: &[u8],
    vars: &[String],
    array: Option<&str>,
) -> Result<NpzDraws, NpzError> {
    let all = entries(bytes)?;
    let names: Vec<&str> = all.iter().map(|e| array_name(&e.name)).collect();
    let listed = || {
        if names.is_empty() {
            "the archive holds no arrays".to_string()
        } else {
            format!("the archive holds {}", names.join(", "))
        }
    };
    let others = |used: &[usize]| -> Vec<String> {
        (0..all.len())
            .filter(|i| !used.contains(i))
            .map(|i| names[i].to_string())
            .collect()
    };
    let single = |i: usize| -> Result<NpzDraws, NpzError> {
        let a = member_array(bytes, &all[i])?;
        let draws = draws_from_array(&a, vars).map_err(|source| NpzError::Member {
            member: all[i].name.clone(),
            source,
        })?;
        Ok(NpzDraws {
            draws,
            members: vec![names[i].to_string()],
            ignored: others(&[i]),
        })
    };
    if let Some(want) = array {
        let want = array_name(want);
        let i = names.iter().position(|n| *n == want).ok_or_else(|| {
            NpzError::Choose(format!("no array `{want}` in the archive: {}", listed()))
        })?;
        return single(i);
    }
    let per_var: Option<Vec<usize>> = vars
        .iter()
        .map(|v| names.iter().position(|n| n == v))
        .collect();
    if let Some(idx) = per_var.filter(|_| !vars.is_empty()) {
        return columns(bytes, &all, &idx, vars).map(|draws| NpzDraws {
            draws,
            members: idx.iter().map(|&i| names[i].to_string()).collect(),
            ignored: others(&idx),
        });
    }
    if all.len() == 1 {
        return single(0);
    }
    for want in ["draws", "samples"] {
        if let Some(i) = names.iter().position(|n| *n == want) {
            return single(i);
        }
    }
    Err(NpzError::Ambiguous {
        arrays: listed(),
        vars: vars.to_vec(),
    })
}

/// One array per variable, each `(draws,)` or `(chains, draws)`, all of one shape.
fn columns(bytes: &[u8], all: &[Entry], idx: &[usize], vars: &[String]) -> Result<Draws, NpzError> {
    let arrays: Vec<NpyArray> = idx
        .iter()
        .map(|&i| member_array(bytes, &all[i]))
        .collect::<Result<_, _>>()?;
    let shape = arrays[0].shape.clone();
    let (chains, draws) = match shape.as_slice() {
        [n] => (1, *n),
        [c, n] => (*c, *n),
        _ => {
            return Err(NpzError::Member {
                member: all[idx[0]].name.clone(),
                source: NpyError::Shape(format!(
                    "an array of shape {shape:?}: one array per variable must be (draws,) or (chains, draws)"
                )),
            });
        }
    };
    for (a, &i) in arrays.iter().zip(idx) {
        if a.shape != shape {
            return Err(NpzError::Member {
                member: all[i].name.clone(),
                source: NpyError::Shape(format!(
                    "shape {:?} differs from `{}`'s {shape:?}",
                    a.shape, all[idx[0]].name
                )),
            });
        }
        if let Some(k) = a.values.iter().position(|v| !v.is_finite()) {
            return Err(NpzError::Member {
                member: all[i].name.clone(),
                source: NpyError::NonFinite {
                    index: k,
                    chain: k / draws.max(1),
                    draw: k % draws.max(1),
                },
            });
        }
    }
    if chains * draws == 0 {
        return Err(NpzError::Member {
            member: all[idx[0]].name.clone(),
            source: NpyError::Shape(format!("an array of shape {shape:?} holds no draws")),
        });
    }
    let d = vars.len();
    let out = (0..chains)
        .map(|c| {
            let mut chain = Vec::with_capacity(draws * d);
            for t in 0..draws {
                for a in &arrays {
                    chain.push(a.values[c * draws + t]);
                }
            }
            chain
        })
        .collect();
    Ok(Draws {
        dim: d,
        names: vars.to_vec(),
        chains: out,
    })
}

/// Test helpers: `.npz` archives written as NumPy writes them (zip64 local headers), stored or
/// deflated.
#[cfg(test)]
pub(crate) mod write {
    use super::crc32;

    /// A `.npy` v1 file of little-endian f64 with the given shape.
    pub fn npy(shape: &[usize], values: &[f64]) -> Vec<u8> {
        let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
        let tuple = if dims.len() == 1 {
            format!("({},)", dims[0])
        } else {
            format!("({})", dims.join(", "))
        };
        let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {tuple}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        out
    }

    /// A zip archive of `members` (name, bytes), deflated when `deflate`, with NumPy's zip64
    /// local extra fields.
    pub fn npz(members: &[(&str, Vec<u8>)], deflate: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in members {
            let body = if deflate {
                miniz_oxide::deflate::compress_to_vec(data, 6)
            } else {
                data.clone()
            };
            let method: u16 = if deflate { 8 } else { 0 };
            let crc = crc32(data);
            let offset = out.len() as u32;
            let mut extra = Vec::new();
            extra.extend_from_slice(&1u16.to_le_bytes());
            extra.extend_from_slice(&16u16.to_le_bytes());
            extra.extend_from_slice(&(data.len() as u64).to_le_bytes());
            extra.extend_from_slice(&(body.len() as u64).to_le_bytes());
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&45u16.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&u32::MAX.to_le_bytes());
            out.extend_from_slice(&u32::MAX.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&(extra.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&extra);
            out.extend_from_slice(&body);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&45u16.to_le_bytes());
            central.extend_from_slice(&45u16.to_le_bytes());
            central.extend_from_slice(&0u16.to_le_bytes());
            central.extend_from_slice(&method.to_le_bytes());
            central.extend_from_slice(&[0; 4]);
            central.extend_from_slice(&crc.to_le_bytes());
            central.extend_from_slice(&(body.len() as u32).to_le_bytes());
            central.extend_from_slice(&(data.len() as u32).to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::write::{npy, npz};
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn crc_of_the_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn one_array_stored_or_deflated() {
        let a = npy(&[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        for deflate in [false, true] {
            let z = npz(&[("arr_0.npy", a.clone())], deflate);
            assert!(is_zip(&z));
            let d = parse_draws_npz(&z, &names(&["x", "y"]), None).expect("reads");
            assert_eq!(d.draws.chains, vec![vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]]);
            assert_eq!(d.members, vec!["arr_0"]);
            assert!(d.ignored.is_empty());
        }
    }

    #[test]
    fn the_choice_rule() {
        let x = npy(&[2, 3], &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]);
        let y = npy(&[2, 3], &[-1.0, -2.0, -3.0, -10.0, -20.0, -30.0]);
        let lp = npy(&[2, 3], &[0.0; 6]);
        let z = npz(
            &[
                ("x.npy", x.clone()),
                ("lp.npy", lp.clone()),
                ("y.npy", y.clone()),
            ],
            true,
        );
        // Rule 2: one (chains, draws) array per variable.
        let d = parse_draws_npz(&z, &names(&["x", "y"]), None).expect("per variable");
        assert_eq!(
            d.draws.chains,
            vec![
                vec![1.0, -1.0, 2.0, -2.0, 3.0, -3.0],
                vec![10.0, -10.0, 20.0, -20.0, 30.0, -30.0]
            ]
        );
        assert_eq!(d.members, vec!["x", "y"]);
        assert_eq!(d.ignored, vec!["lp"]);
        // Rule 1: the caller's choice, with or without `.npy`.
        // A 2-axis array chosen by name is (draws, dims).
        let d = parse_draws_npz(&z, &names(&["a", "b", "c"]), Some("x.npy")).expect("chosen");
        assert_eq!(d.draws.chains.len(), 1);
        assert_eq!(d.draws.chains[0], vec![1.0, 2.0, 3.0, 10.0, 20.0, 30.0]);
        let e = parse_draws_npz(&z, &names(&["q"]), Some("nope")).expect_err("absent");
        assert!(e.to_string().contains("x, lp, y"), "{e}");
        // No rule applies: the members are listed.
        let e = parse_draws_npz(&z, &names(&["q"]), None).expect_err("ambiguous");
        assert!(
            matches!(&e, NpzError::Ambiguous { arrays, .. } if arrays.contains("x")),
            "{e}"
        );
        // Rule 4: `draws` among others.
        let s = npy(&[2, 1], &[5.0, 6.0]);
        let z = npz(&[("lp.npy", lp), ("draws.npy", s)], false);
        let d = parse_draws_npz(&z, &names(&["q"]), None).expect("draws");
        assert_eq!(d.draws.chains, vec![vec![5.0, 6.0]]);
    }

    #[test]
    fn errors_name_the_member() {
        let good = npy(&[2], &[1.0, 2.0]);
        let nan = npy(&[2], &[1.0, f64::NAN]);
        let z = npz(&[("x.npy", good.clone()), ("y.npy", nan)], false);
        let e = parse_draws_npz(&z, &names(&["x", "y"]), None).expect_err("NaN");
        assert!(e.to_string().contains("`y.npy`"), "{e}");
        let short = npy(&[3], &[1.0, 2.0, 3.0]);
        let z = npz(&[("x.npy", good.clone()), ("y.npy", short)], true);
        let e = parse_draws_npz(&z, &names(&["x", "y"]), None).expect_err("shapes");
        assert!(
            e.to_string().contains("`y.npy`") && e.to_string().contains("differs"),
            "{e}"
        );
        let z = npz(&[("draws.npy", b"not numpy".to_vec())], false);
        let e = parse_draws_npz(&z, &names(&["x"]), None).expect_err("not npy");
        assert!(e.to_string().contains("`draws.npy`"), "{e}");
        let z = npz(&[("draws.npy", npy(&[2, 3], &[0.0; 6]))], false);
        let e = parse_draws_npz(&z, &names(&["x"]), None).expect_err("columns");
        assert!(e.to_string().contains("3 columns"), "{e}");
    }

    #[test]
    fn corrupt_and_truncated_archives_are_errors_not_panics() {
        let z = npz(&[("x.npy", npy(&[4], &[1.0, 2.0, 3.0, 4.0]))], true);
        let x = names(&["x"]);
        assert!(parse_draws_npz(&z, &x, None).is_ok());
        for cut in 0..z.len() {
            assert!(parse_draws_npz(&z[..cut], &x, None).is_err(), "cut {cut}");
        }
        // Flip each byte in turn: never a panic, and a changed value never passes the CRC.
        for i in 0..z.len() {
            let mut bad = z.clone();
            bad[i] ^= 0x5A;
            if let Ok(d) = parse_draws_npz(&bad, &x, None) {
                assert_eq!(d.draws.chains, vec![vec![1.0, 2.0, 3.0, 4.0]], "byte {i}");
            }
        }
        assert!(matches!(
            parse_draws_npz(b"PK\x03\x04 and nothing else", &x, None),
            Err(NpzError::Zip(_))
        ));
    }
}
