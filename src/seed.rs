//! The one seed mixer: every seed the crate derives from another (a chain's from the run's, a
//! check's from the run, its file and its index, a Monte-Carlo node's from the engine's seed, the
//! point and the node) is computed here, from SplitMix64 (Steele, Lea & Flood 2014) and, for
//! names, the FNV-1a hash of their bytes.
//!
//! The functions are fixed arithmetic on `u64` with the byte order spelt out, so the same seed
//! gives the same streams on every platform and with every Rust release (unlike
//! `std::collections::hash_map::DefaultHasher`, whose output Rust does not promise to keep).
//! Changing them changes every Monte-Carlo output of the crate.

/// SplitMix64's increment: the odd integer nearest 2^64/φ.
pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function (Stafford's "mix13" finaliser): a bijection of 64-bit words in
/// which every output bit depends on every input bit.
#[must_use]
pub fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood 2014): the state advanced by [`GAMMA`], then [`finalize`]d.
#[must_use]
pub fn splitmix64(z: u64) -> u64 {
    finalize(z.wrapping_add(GAMMA))
}

/// The seed of stream `index` under seed `seed`: two SplitMix rounds, so neighbouring seeds and
/// indices give unrelated streams (`sample::chain_seed` is this function).
#[must_use]
pub fn stream(seed: u64, index: u64) -> u64 {
    splitmix64(splitmix64(seed) ^ splitmix64(index.wrapping_add(0x5851_F42D_4C95_7F2D)))
}

/// A stable 64-bit hash of bytes (FNV-1a), to turn a name (a file path, a variable) into a word
/// that [`finalize`] or [`stream`] then mixes. Not collision-resistant against an adversary.
#[must_use]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The seed of one check: from the run's seed, the file's path and `seed` field, and the check's
/// index in the file (so checks are independent of each other and of the order they run in).
#[must_use]
pub fn check_seed(run: u64, path: &str, file_seed: u64, index: usize) -> u64 {
    finalize(
        run ^ hash_bytes(path.as_bytes()).rotate_left(17)
            ^ file_seed.rotate_left(31)
            ^ (index as u64).wrapping_mul(GAMMA),
    )
}

/// The seed of one Monte-Carlo node evaluation: from the engine's seed, a word identifying the
/// point (the bindings, folded with [`stream`]) and the node's position in the source, so results
/// do not depend on evaluation order or threads. Its chains then take [`stream`]s of it.
#[must_use]
pub fn node_seed(seed: u64, point: u64, position: u64) -> u64 {
    seed ^ point ^ position.rotate_left(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_outputs() {
        // The first outputs of SplitMix64 seeded with 0 (the reference C implementation's
        // `next()` is `splitmix64(state)` with the state advanced by γ each call).
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(GAMMA), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn stream_and_hash_are_pinned() {
        // Computed independently (Python): every chain's seed depends on `stream`, every check's
        // test points on `check_seed` (`hash_bytes` and `finalize`).
        assert_eq!(stream(1, 2), 0x70CA_995D_8398_614A);
        assert_ne!(stream(1, 0), stream(0, 1));
        assert_eq!(hash_bytes(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash_bytes(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(finalize(1), 0x5692_161D_100B_05E5);
        assert_eq!(
            check_seed(1, "a", 0, 0),
            finalize(1 ^ 0xaf63_dc4c_8601_ec8c_u64.rotate_left(17))
        );
    }
}
