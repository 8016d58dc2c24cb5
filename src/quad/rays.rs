//! Divergence along rays: the growth of `β(E − E*)` far out along a direction, probed at
//! [`PROBE_NEAR`] and [`PROBE_FAR`], decides whether `exp(-βE)` is integrable there.

use super::*;

/// Distances (in units of the energy's length scale) at which a ray's tail is probed.
pub(crate) const PROBE_NEAR: f64 = 1e8;
/// See [`PROBE_NEAR`].
pub(crate) const PROBE_FAR: f64 = 1e16;

/// The growth rate of `β(E − E*)` along a ray, per unit of `log r`, from its values `q1` and
/// `q2` at [`PROBE_NEAR`] and [`PROBE_FAR`]; `None` when the energy is `+inf` far out (a wall).
pub(crate) fn ray_slope(q1: f64, q2: f64) -> Option<f64> {
    if q2 == f64::INFINITY {
        None
    } else if q1 == f64::NEG_INFINITY || q2 == f64::NEG_INFINITY {
        Some(f64::NEG_INFINITY)
    } else {
        Some((q2 - q1) / (PROBE_FAR / PROBE_NEAR).ln())
    }
}

/// Whether `β(E − E*)` grows between the probes like a power of `r` with exponent at least 0.5
/// (not a logarithm): then `exp(-βE)` decays faster than any power along the ray, for any β.
pub(crate) fn ray_grows_like_a_power(q1: f64, q2: f64) -> bool {
    q1 > 0.0 && q2 > q1 && (q2 / q1).ln() / (PROBE_FAR / PROBE_NEAR).ln() >= 0.5
}

/// Radii beyond [`PROBE_FAR`] (each the square of the one before, in length scales) at which
/// [`ray_decides_divergence`] looks when the first two probes cannot tell a slow power from a
/// logarithm.
pub(crate) const PROBE_FURTHER: [f64; 3] = [1e32, 1e64, 1e128];

/// The divergence decision of one ray from `β(E − E*)` at [`PROBE_NEAR`] and [`PROBE_FAR`]
/// (`q1`, `q2`) and, fetched through `further` only when those two cannot decide, at
/// [`PROBE_FURTHER`] (times the same length scale; a non-finite value ends the list).
///
/// On radii that square each time, a logarithmic growth `c·log r + b` keeps the ratio of
/// successive values near 2, and its slope per unit of `log r` is `c` (the constant cancels);
/// a power `r^a` multiplies the ratio by `r^a` each time, however small `a` is (`|z|^0.05`:
/// 2.5, 6.3, 40, 1585). A power is normalisable along the ray at any β; a logarithm with
/// slope `c` makes `exp(-βE)` decay like `r^-c`, integrable in one dimension only when
/// `c > 1` (`0.5·log(1 + z²)` at β = 1 has `c = 1` exactly: divergent). The ray diverges when
/// the growth is not a power and the far slope is at most `diverges_at` (1 + 1e-6 in 1D,
/// where the rounding of the probes is far below 1e-6; the nD rays keep 0.95, since one ray's
/// slope does not decide a d-dimensional integral), or the energy falls below `E*` far out.
pub(crate) fn ray_decides_divergence(
    q1: f64,
    q2: f64,
    diverges_at: f64,
    further: &mut dyn FnMut(f64) -> Result<f64, QuadError>,
) -> Result<bool, QuadError> {
    if ray_grows_like_a_power(q1, q2) {
        return Ok(false);
    }
    let Some(slope) = ray_slope(q1, q2) else {
        return Ok(false);
    };
    if q2 < 0.0 || slope == f64::NEG_INFINITY {
        return Ok(true);
    }
    if slope.is_nan() || slope > diverges_at.max(1.0) + 0.1 {
        return Ok(false);
    }
    // Ambiguous: a slope near the critical one, or a slow growth that may be a small power.
    let mut rs = vec![PROBE_NEAR, PROBE_FAR];
    let mut qs = vec![q1, q2];
    for r in PROBE_FURTHER {
        let q = further(r)?;
        if !q.is_finite() {
            break;
        }
        rs.push(r);
        qs.push(q);
    }
    let n = qs.len();
    if n >= 4 && qs.iter().all(|q| *q > 0.0) {
        let ratios: Vec<f64> = qs.windows(2).map(|w| w[1] / w[0]).collect();
        let rising = ratios.windows(2).all(|w| w[1] > w[0] * (1.0 + 1e-9));
        if rising && ratios[ratios.len() - 1] > 2.2 {
            return Ok(false);
        }
    }
    // Clearly sub-critical between the first probes (the rule before the further ones): a
    // slice far out whose energy varies below its own rounding reads a slope of 0 there.
    if slope < RAY_DIVERGES_AT {
        return Ok(true);
    }
    let far_slope = (qs[n - 1] - qs[n - 2]) / (rs[n - 1] / rs[n - 2]).ln();
    Ok(qs[n - 1] < 0.0 || far_slope <= diverges_at)
}

/// The critical slope of a 1D ray (see [`ray_decides_divergence`]): `exp(-βE) ~ r^-c` is
/// integrable only for `c > 1`; 1e-6 above it is far beyond the probes' rounding.
pub(crate) const LINE_DIVERGES_AT: f64 = 1.0 + 1e-6;
/// The nD rays' threshold (the old one): a single direction's slope does not decide a
/// d-dimensional integral, so only clearly sub-critical slopes are refused there.
pub(crate) const RAY_DIVERGES_AT: f64 = 0.95;

/// Name of a direction for messages: `z2 → +inf` (1-based variable index).
pub(crate) fn direction_name(axis: usize, positive: bool) -> String {
    format!(
        "exp(-βE) does not decay as z{} → {}inf",
        axis + 1,
        if positive { "+" } else { "-" }
    )
}
