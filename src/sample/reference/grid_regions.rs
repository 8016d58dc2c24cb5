//! Region masses on the grid in 2D: the Mahalanobis basins of the minima (cells a boundary may
//! cross are split), or quartile bins of every coordinate when there is one minimum.

use super::*;

/// Sub-points per axis of a cell that a basin boundary may cross, by dimension (2–4).
fn split_for(d: usize) -> usize {
    match d {
        0..=2 => 64,
        3 => 8,
        _ => 4,
    }
}

/// Adds the weight `w` of the cell centred at `y` (sides `h`) to the basins `acc`. A cell the
/// Voronoi boundary may cross (its two smallest squared distances differ by less than their change
/// across the cell) is split among the basins by `split`^d sub-points at equal weight; other cells
/// go whole to their basin. Returns whether the cell was split: a hyperplane crosses at most
/// d·split^(d−1) of the sub-cells, so a split cell's misassigned mass is at most w·d/split.
fn split_cell(
    y: &[f64],
    h: &[f64],
    w: f64,
    minima: &[Vec<f64>],
    inv: &[f64],
    split: usize,
    acc: &mut [f64],
) -> bool {
    let d = y.len();
    let mut best = (f64::INFINITY, f64::INFINITY, 0usize);
    let mut spread = 0.0_f64;
    for (k, m) in minima.iter().enumerate() {
        let s = mahalanobis(y, m, inv);
        // |∇ d²| · h/2 plus the quadratic term bounds the change of d² across the cell.
        let mut change = 0.0;
        for i in 0..d {
            let g: f64 = (0..d).map(|j| 2.0 * inv[i * d + j] * (y[j] - m[j])).sum();
            change += g.abs() * 0.5 * h[i] + inv[i * d + i].abs() * 0.25 * h[i] * h[i];
        }
        spread = spread.max(change);
        if s < best.0 {
            best = (s, best.0, k);
        } else if s < best.1 {
            best.1 = s;
        }
    }
    if best.1 - best.0 > 2.0 * spread {
        acc[best.2] += w;
        return false;
    }
    let subs = split.pow(d as u32);
    let share = w / subs as f64;
    let mut z = vec![0.0; d];
    for idx in 0..subs {
        let mut r = idx;
        for i in 0..d {
            z[i] = y[i] + h[i] * (((r % split) as f64 + 0.5) / split as f64 - 0.5);
            r /= split;
        }
        acc[nearest(&z, minima, inv)] += share;
    }
    true
}

/// The weight `exp(−β(E − E*))` on a grid, as [`Grid::visit`] evaluates it.
#[derive(Clone, Copy)]
pub(super) struct GridWeight<'a> {
    pub(super) energy: &'a dyn Energy,
    pub(super) grid: &'a Grid,
    pub(super) beta: f64,
    pub(super) e_star: f64,
}

/// Region masses on the grid of `weight` with about `points` points: the Mahalanobis
/// basins of `minima` (metric `inv`) when there are several, else quartile bins of every
/// coordinate. Returns the regions and their largest error.
pub(super) fn regions_nd(
    mut reference: Reference,
    weight: &GridWeight<'_>,
    minima: &[Vec<f64>],
    inv: &[f64],
    names: &[String],
    points: usize,
) -> Result<(Reference, f64), QuadError> {
    let GridWeight {
        energy,
        grid,
        beta,
        e_star,
    } = *weight;
    let d = grid.lo.len();
    let n = grid.per_axis(points);
    if minima.len() >= 2 {
        // Masses on the grid with n cells per axis, and the splitting error.
        let masses = |n: usize| -> Result<(Vec<f64>, f64), QuadError> {
            let mut acc = vec![0.0; minima.len()];
            let mut split_mass = 0.0;
            let h: Vec<f64> = (0..d)
                .map(|i| (grid.hi[i] - grid.lo[i]) / n as f64)
                .collect();
            let split = split_for(d);
            let total = grid.visit(energy, n, beta, e_star, &mut |p, _, w| {
                for (y, wk) in p.chunks_exact(d).zip(w) {
                    if split_cell(y, &h, *wk, minima, inv, split, &mut acc) {
                        split_mass += wk;
                    }
                }
            })?;
            let split_err = split_mass / total * d as f64 / split as f64;
            Ok((acc.iter().map(|a| a / total).collect(), split_err))
        };
        // A coarse pass without splitting first: the mass of cells the Voronoi boundary may
        // cross shrinks like the cell size, so it predicts the fine grid's splitting error. When
        // that is far above what the region tests allow (a continuum of minima, as on the ring,
        // makes nearly every cell a boundary cell), the expensive fine pass is skipped and the
        // caller uses its fallback.
        let n_coarse = (n / 16).max(8);
        let h_coarse: Vec<f64> = (0..d)
            .map(|i| (grid.hi[i] - grid.lo[i]) / n_coarse as f64)
            .collect();
        let mut acc_coarse = vec![0.0; minima.len()];
        let mut boundary = 0.0;
        let total_coarse = grid.visit(energy, n_coarse, beta, e_star, &mut |p, _, w| {
            for (y, wk) in p.chunks_exact(d).zip(w) {
                if split_cell(y, &h_coarse, *wk, minima, inv, 1, &mut acc_coarse) {
                    boundary += wk;
                }
            }
        })?;
        let predicted =
            boundary / total_coarse * (n_coarse as f64 / n as f64) * d as f64 / split_for(d) as f64;
        if predicted > 10.0 * REGION_MAX_ERROR {
            return Ok((reference, predicted));
        }
        let ((fine, split_err), (coarse, _)) = (masses(n)?, masses(n / 2)?);
        let err = split_err
            + fine
                .iter()
                .zip(&coarse)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
        for (k, m) in minima.iter().enumerate() {
            let at: Vec<String> = names
                .iter()
                .zip(m)
                .map(|(nm, v)| format!("{nm}={v:.4}"))
                .collect();
            let (mins, inv) = (minima.to_vec(), inv.to_vec());
            reference = reference.region(
                &format!("the basin of the minimum at ({})", at.join(", ")),
                move |y| nearest(y, &mins, &inv) == k,
                fine[k],
            );
        }
        Ok((reference, err))
    } else {
        // One minimum: quartile bins of every coordinate, cut at grid lines shared by both
        // resolutions.
        let mut err: f64 = 0.0;
        for axis in 0..d {
            let columns = |n: usize| -> Result<Vec<f64>, QuadError> {
                let mut acc = vec![0.0; n];
                let h = (grid.hi[axis] - grid.lo[axis]) / n as f64;
                let total = grid.visit(energy, n, beta, e_star, &mut |p, _, w| {
                    for (y, wk) in p.chunks_exact(d).zip(w) {
                        let c = (((y[axis] - grid.lo[axis]) / h) as usize).min(n - 1);
                        acc[c] += wk;
                    }
                })?;
                Ok(acc.iter().map(|a| a / total).collect())
            };
            let (fine, coarse) = (columns(n)?, columns(n / 2)?);
            let h = (grid.hi[axis] - grid.lo[axis]) / n as f64;
            let mut cuts = Vec::new();
            let mut acc = 0.0;
            let mut target = 1;
            for c in (0..n).step_by(2) {
                acc += fine[c] + fine[c + 1];
                if target < 4 && acc >= target as f64 / 4.0 {
                    cuts.push(c + 2);
                    target += 1;
                }
            }
            let mut edges = vec![0];
            edges.extend(cuts.iter().copied().filter(|c| *c < n));
            edges.push(n);
            edges.dedup();
            for k in 0..edges.len() - 1 {
                let (a, b) = (edges[k], edges[k + 1]);
                let p: f64 = fine[a..b].iter().sum();
                let q: f64 = coarse[a / 2..b / 2].iter().sum();
                err = err.max((p - q).abs());
                let lo = if a == 0 {
                    f64::NEG_INFINITY
                } else {
                    grid.lo[axis] + h * a as f64
                };
                let hi = if b == n {
                    f64::INFINITY
                } else {
                    grid.lo[axis] + h * b as f64
                };
                reference = reference.region(
                    &bin_label(k, &names[axis], lo, hi),
                    move |y| y[axis] > lo && y[axis] <= hi,
                    p,
                );
            }
        }
        Ok((reference, err))
    }
}
