//! Basins of attraction: the local minimisers worth a basin, polished, and the Mahalanobis metric
//! of the exact covariance that assigns a point to its nearest minimiser.

use super::*;

/// Local minimisers worth a basin, global first, at most [`MAX_BASINS`].
pub(super) fn basin_minima(
    energy: &dyn Energy,
    domain: &Domain,
    beta: f64,
    opts: &QuadOptions,
) -> Result<Vec<Vec<f64>>, QuadError> {
    let m = quad::minimize(energy, domain, opts)?;
    let mut out = vec![polish(energy, &m.argmin)];
    for (v, x) in &m.local_minima {
        if beta * (v - m.value) < BASIN_CUT && out.len() < MAX_BASINS {
            out.push(polish(energy, x));
        }
    }
    Ok(out)
}

/// A few Newton steps with finite-difference derivatives, kept only while they lower the energy:
/// the basin boundaries are bisectors of the minimisers, so their accuracy moves the regions.
fn polish(energy: &dyn Energy, x0: &[f64]) -> Vec<f64> {
    let d = x0.len();
    let mut x = x0.to_vec();
    let mut fx = energy.eval(&x);
    for _ in 0..4 {
        let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1.0)).collect();
        let at = |x: &[f64], i: usize, si: f64, j: usize, sj: f64| {
            let mut z = x.to_vec();
            z[i] += si * h[i];
            z[j] += sj * h[j];
            energy.eval(&z)
        };
        let mut g = nalgebra::DVector::zeros(d);
        let mut hess = nalgebra::DMatrix::zeros(d, d);
        for i in 0..d {
            g[i] = (at(&x, i, 1.0, i, 0.0) - at(&x, i, -1.0, i, 0.0)) / (2.0 * h[i]);
            for j in 0..d {
                hess[(i, j)] =
                    (at(&x, i, 1.0, j, 1.0) - at(&x, i, 1.0, j, -1.0) - at(&x, i, -1.0, j, 1.0)
                        + at(&x, i, -1.0, j, -1.0))
                        / (4.0 * h[i] * h[j]);
            }
        }
        let Some(step) = hess.lu().solve(&g) else {
            break;
        };
        let next: Vec<f64> = x.iter().zip(step.iter()).map(|(a, s)| a - s).collect();
        let fn_ = energy.eval(&next);
        if fn_.is_nan() || fn_ > fx || next.iter().any(|v| !v.is_finite()) {
            break;
        }
        x = next;
        fx = fn_;
    }
    x
}

pub(super) fn invert(cov: &[f64], d: usize) -> Vec<f64> {
    let m = nalgebra::DMatrix::from_row_slice(d, d, cov);
    match m.try_inverse() {
        Some(inv) => inv.transpose().as_slice().to_vec(),
        None => {
            let mut id = vec![0.0; d * d];
            for i in 0..d {
                id[i * d + i] = 1.0;
            }
            id
        }
    }
}

pub(super) fn mahalanobis(y: &[f64], m: &[f64], inv: &[f64]) -> f64 {
    let d = y.len();
    let mut s = 0.0;
    for i in 0..d {
        for j in 0..d {
            s += (y[i] - m[i]) * inv[i * d + j] * (y[j] - m[j]);
        }
    }
    s
}

pub(super) fn nearest(y: &[f64], minima: &[Vec<f64>], inv: &[f64]) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (k, m) in minima.iter().enumerate() {
        let s = mahalanobis(y, m, inv);
        if s < best.0 {
            best = (s, k);
        }
    }
    best.1
}
