//! Whitened frames and their partitions: the cuts of the first and the cross-check's
//! partitions, each axis's pieces with its tail maps (cut short at a far finite bound), and
//! the whitening aligned with the one bounded coordinate of a half-space or a slab.

use crate::quad::gk::AxisMap;
use nalgebra::DMatrix;

/// Breakpoints of the first whitened partition (module docs): 0 and ±3.
pub(super) const CUTS: [f64; 3] = [-3.0, 0.0, 3.0];
/// Breakpoints of the cross-check's partition: none on the minimiser or on the first
/// partition's cuts or their dyadic refinements, so that a feature between the first rule's
/// nodes (a funnel's neck along an axis through the minimiser) lies on the second's.
pub(super) const CROSS_CUTS: [f64; 4] = [-4.5, -1.5, 1.5, 4.5];
/// The cross-check's breakpoints when a bound is finite: [`CROSS_CUTS`] and the minimiser.
pub(super) const FINITE_CROSS_CUTS: [f64; 5] = [-4.5, -1.5, 0.0, 1.5, 4.5];
/// On a domain with a finite bound, a first estimate on fewer than this many boxes times
/// `2^d` is cross-checked (`integrate_problem`).
pub(super) const PREASYMPTOTIC_BOXES: usize = 64;

/// Pieces of one whitened axis `t ∈ [tlo, thi]`: breakpoints at `cuts` (those inside), tails
/// mapped. A finite axis that no cut divides is cut at a third of its length when `third`
/// (the cross-check's partition, whose boxes must differ from the first's).
pub(super) fn axis_pieces(
    tlo: f64,
    thi: f64,
    cuts: &[f64],
    third: bool,
) -> Vec<(f64, f64, AxisMap)> {
    let mut bps: Vec<f64> = cuts
        .iter()
        .copied()
        .filter(|&b| b > tlo && b < thi)
        .collect();
    // The third also when the only cut is the minimiser's (the first partition has it too).
    if third && bps.iter().all(|&b| b == 0.0) && tlo.is_finite() && thi.is_finite() {
        let t = tlo + (thi - tlo) / 3.0;
        if t != 0.0 {
            bps.push(t);
            bps.sort_by(f64::total_cmp);
        }
    }
    if tlo.is_finite() {
        bps.insert(0, tlo);
    }
    if thi.is_finite() {
        bps.push(thi);
    }
    let mut out = Vec::new();
    if tlo == f64::NEG_INFINITY {
        let o = bps[0];
        out.push((
            0.0,
            1.0,
            AxisMap::Left {
                origin: o,
                scale: TAIL_SCALE,
            },
        ));
    }
    let n = bps.len();
    for (k, w) in bps.windows(2).enumerate() {
        // A piece from the outermost cut to a finite bound far beyond goes through the tail
        // map cut short at the bound, as an infinite tail would: linear, the rule's nodes sat
        // in its far part and read the weight's fall beyond the cut as nothing (a Gaussian
        // 0.1 wide in the box [-10, 40]³ claimed ±1e-7 and was 4e-3 low: the mass beyond 3σ).
        let long = w[1] - w[0] > TAIL_SCALE;
        let outer_lo = k == 0 && tlo.is_finite() && n > 2 && w[1] <= 0.0;
        let outer_hi = k + 2 == n && thi.is_finite() && n > 2 && w[0] >= 0.0;
        if long && (outer_hi || outer_lo) {
            let len = w[1] - w[0];
            let map = if outer_hi {
                AxisMap::Right {
                    origin: w[0],
                    scale: TAIL_SCALE,
                }
            } else {
                AxisMap::Left {
                    origin: w[1],
                    scale: TAIL_SCALE,
                }
            };
            out.push((0.0, len / (len + TAIL_SCALE), map));
        } else {
            out.push((w[0], w[1], AxisMap::Linear));
        }
    }
    if thi == f64::INFINITY {
        let o = bps[bps.len() - 1];
        out.push((
            0.0,
            1.0,
            AxisMap::Right {
                origin: o,
                scale: TAIL_SCALE,
            },
        ));
    }
    out
}

/// Scale of the whitened tail maps (`x = o ± s·u/(1-u)`), in whitened units.
pub(super) const TAIL_SCALE: f64 = 3.0;

/// `M = Pᵀ L' P/√β` with `L' L'ᵀ = P Σ Pᵀ` (`P` the permutation bringing coordinate `k`
/// first) and `log |det M|`: `M Mᵀ = Σ/β`, and row `k` of `M` is `L'_00/√β` on the diagonal
/// alone. `None` when the permuted `Σ` has no Cholesky factor.
pub(super) fn aligned_whitening(
    sigma: &DMatrix<f64>,
    k: usize,
    beta: f64,
) -> Option<(DMatrix<f64>, f64)> {
    let d = sigma.nrows();
    let order: Vec<usize> = std::iter::once(k)
        .chain((0..d).filter(|&i| i != k))
        .collect();
    let permuted = DMatrix::from_fn(d, d, |a, b| sigma[(order[a], order[b])]);
    let l = nalgebra::Cholesky::new(permuted)?.l();
    let mut m = DMatrix::zeros(d, d);
    for a in 0..d {
        for b in 0..d {
            m[(order[a], order[b])] = l[(a, b)] / beta.sqrt();
        }
    }
    let log_det = (0..d).map(|a| l[(a, a)].ln()).sum::<f64>() - 0.5 * d as f64 * beta.ln();
    log_det.is_finite().then_some((m, log_det))
}

/// Whether a Hessian's Cholesky factor `L` is usable for whitening: its diagonal spans less
/// than a factor 1e6 (the Hessian's condition below about 1e12), all positive and finite.
pub(super) fn well_conditioned(l: &DMatrix<f64>) -> bool {
    let d = l.nrows();
    let mx = (0..d).map(|i| l[(i, i)]).fold(0.0f64, f64::max);
    let mn = (0..d).map(|i| l[(i, i)]).fold(f64::INFINITY, f64::min);
    mn > 1e-6 * mx && mn > 0.0 && mx.is_finite()
}

/// The Hessian's whitening at a minimum of energy `e`, from the Cholesky factor `L` of the
/// Hessian: `M = L⁻ᵀ/√β` (`M Mᵀ = (βH)⁻¹`), `log |det M|`, and the Laplace `log Z` of the
/// minimum's Gaussian. `None` when `Lᵀ` has no inverse.
pub(super) fn hessian_whitening(
    l: &DMatrix<f64>,
    beta: f64,
    e: f64,
) -> Option<(DMatrix<f64>, f64, f64)> {
    let d = l.nrows() as f64;
    let lt_inv = l.transpose().try_inverse()?;
    let log_det_l: f64 = (0..l.nrows()).map(|i| l[(i, i)].ln()).sum();
    let laplace = -beta * e + 0.5 * d * (2.0 * std::f64::consts::PI / beta).ln() - log_det_l;
    Some((
        lt_inv / beta.sqrt(),
        -0.5 * d * beta.ln() - log_det_l,
        laplace,
    ))
}
