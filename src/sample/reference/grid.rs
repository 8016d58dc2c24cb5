//! The tabulation grid of the indicator integrals in 1–2D and of the CDF of E in any dimension:
//! a midpoint tensor grid around the mass, visited in chunks, and the CDF of E tabulated at
//! quantile knots with its error from a grid of half the resolution.

use super::*;

/// Receives chunks of the grid: points (row-major), their energies and their weights.
type GridVisitor<'a> = dyn FnMut(&[f64], &[f64], &[f64]) + 'a;

/// A box for the tabulation grid.
#[derive(Debug, Clone)]
pub(super) struct Grid {
    pub(super) lo: Vec<f64>,
    pub(super) hi: Vec<f64>,
}

impl Grid {
    /// Mean ± [`BOX_SDS`] sd, clipped to the domain. The lower end is moved by an irrational
    /// fraction of a standard deviation so that the grid is not symmetric about the mean: ties in
    /// E between mirror points would put steps of several points' mass into the tabulated CDF.
    pub(super) fn around(means: &[f64], sds: &[f64], bounds: &[(f64, f64)]) -> Self {
        let lo = means
            .iter()
            .zip(sds)
            .zip(bounds)
            .map(|((m, s), (l, _))| (m - (BOX_SDS + 0.006_180_339_887) * s).max(*l))
            .collect();
        let hi = means
            .iter()
            .zip(sds)
            .zip(bounds)
            .map(|((m, s), (_, h))| (m + BOX_SDS * s).min(*h))
            .collect();
        Grid { lo, hi }
    }

    pub(super) fn per_axis(&self, points: usize) -> usize {
        let d = self.lo.len() as f64;
        ((points as f64).powf(1.0 / d).floor() as usize / 2 * 2).max(4)
    }

    /// Every cell of the midpoint grid with `n` cells per axis, with its energy half-range from
    /// central differences of neighbouring centres (one-sided at the box's faces), and the total
    /// weight.
    pub(super) fn cells(
        &self,
        energy: &dyn Energy,
        n: usize,
        beta: f64,
        e_star: f64,
    ) -> Result<(Vec<Cell>, f64), QuadError> {
        let d = self.lo.len();
        let mut es = Vec::with_capacity(n.pow(d as u32));
        let mut ws = Vec::with_capacity(n.pow(d as u32));
        let total = self.visit(energy, n, beta, e_star, &mut |_, e, w| {
            es.extend_from_slice(e);
            ws.extend_from_slice(w);
        })?;
        let mut cells = Vec::with_capacity(es.len());
        for idx in 0..es.len() {
            let mut r2 = 0.0;
            let (mut r, mut stride) = (idx, 1);
            for _ in 0..d {
                let k = r % n;
                r /= n;
                let up = if k + 1 < n { es[idx + stride] } else { es[idx] };
                let down = if k > 0 { es[idx - stride] } else { es[idx] };
                let span = if k + 1 < n && k > 0 { 2.0 } else { 1.0 };
                // Half the energy change across the cell along this axis.
                let a = 0.5 * (up - down) / span;
                if a.is_finite() {
                    r2 += a * a;
                }
                stride *= n;
            }
            cells.push(Cell {
                e: es[idx],
                r: r2.sqrt(),
                w: ws[idx],
            });
        }
        Ok((cells.into_iter().filter(|c| c.w > 0.0).collect(), total))
    }

    /// Calls `f(points, energies, weights)` on chunks of the midpoint grid with `n` cells per axis;
    /// returns the grid's total weight (times the cell volume).
    pub(super) fn visit(
        &self,
        energy: &dyn Energy,
        n: usize,
        beta: f64,
        e_star: f64,
        f: &mut GridVisitor<'_>,
    ) -> Result<f64, QuadError> {
        let d = self.lo.len();
        let h: Vec<f64> = (0..d)
            .map(|i| (self.hi[i] - self.lo[i]) / n as f64)
            .collect();
        let vol: f64 = h.iter().product();
        let total = n.pow(d as u32);
        const CHUNK: usize = 4096;
        let mut pts = Vec::with_capacity(CHUNK * d);
        let mut e = vec![0.0; CHUNK];
        let mut w = vec![0.0; CHUNK];
        let mut sum = 0.0;
        let mut start = 0;
        while start < total {
            let m = CHUNK.min(total - start);
            pts.clear();
            for idx in start..start + m {
                let mut r = idx;
                for i in 0..d {
                    pts.push(self.lo[i] + h[i] * ((r % n) as f64 + 0.5));
                    r /= n;
                }
            }
            energy.eval_batch(&pts, &mut e[..m]);
            for k in 0..m {
                if e[k].is_nan() {
                    return Err(QuadError::NotANumber {
                        point: pts[k * d..(k + 1) * d].to_vec(),
                    });
                }
                w[k] = (-beta * (e[k] - e_star)).exp() * vol;
                sum += w[k];
            }
            f(&pts, &e[..m], &w[..m]);
            start += m;
        }
        Ok(sum)
    }
}

/// A grid cell: energy at its centre, half-width of its energy range, Gibbs weight.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cell {
    pub(super) e: f64,
    pub(super) r: f64,
    pub(super) w: f64,
}

/// The tabulated CDF of E: knots (e_k, F_k), linear in between.
#[derive(Debug, Clone)]
pub(super) struct ECdf {
    pub(super) e: Vec<f64>,
    pub(super) f: Vec<f64>,
    /// Half the mass of the lowest grid cell: F at and below the minimum energy is taken as this,
    /// not 0, so that a draw exactly at the minimiser (a chain started there) keeps the
    /// Anderson–Darling statistic finite.
    pub(super) f_floor: f64,
}

impl ECdf {
    /// Knots of the CDF of E when each grid cell's weight is spread uniformly over its energy
    /// range `[E − r, E + r]` (exact for E linear in one dimension; the variance-matched uniform
    /// in more): this turns the O(h) error of point masses at an indicator's edge into a
    /// higher-order one. Knots are taken where the cumulative weight crosses each multiple of
    /// 1/knots, starting at the lowest energy. Above the highest energy F is 1 minus half the last
    /// cell's mass, never 1: the true F is below 1 there, and Anderson–Darling needs F < 1.
    pub(super) fn from_cells(cells: Vec<Cell>, knots: usize, e_star: f64) -> Self {
        let total: f64 = cells.iter().map(|c| c.w).sum();
        // Events: (energy, jump in F, change of density).
        let mut ev: Vec<(f64, f64, f64)> = Vec::with_capacity(2 * cells.len());
        for c in &cells {
            let w = c.w / total;
            if c.r > 1e-13 * (1.0 + c.e.abs()) {
                let dens = w / (2.0 * c.r);
                ev.push((c.e - c.r, 0.0, dens));
                ev.push((c.e + c.r, 0.0, -dens));
            } else {
                ev.push((c.e, w, 0.0));
            }
        }
        // Unstable: the events number twice the grid's cells (about two million in 2D), and the
        // stable sort's scratch copy made it 40 % of `sampler-test`'s CPU time. The unstable
        // sort is deterministic, so ties keep the same order run to run.
        ev.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let first = ev.first().map_or(e_star, |v| v.0);
        let mut e = vec![first];
        let mut f = vec![0.0];
        let (mut acc, mut dens, mut prev) = (0.0_f64, 0.0_f64, first);
        let mut level = 1.0 / knots as f64;
        let last = ev.len().saturating_sub(1);
        for (i, (x, jump, ddens)) in ev.iter().enumerate() {
            acc += dens.max(0.0) * (x - prev) + jump;
            dens += ddens;
            prev = *x;
            if acc >= level || i == last {
                if *x > e[e.len() - 1] {
                    e.push(*x);
                    f.push(acc.min(1.0));
                } else if let Some(v) = f.last_mut() {
                    *v = acc.min(1.0);
                }
                level = ((acc * knots as f64).floor() + 1.0) / knots as f64;
            }
        }
        let edge = |c: Option<&Cell>| c.map_or(0.0, |c| 0.5 * c.w / total);
        let top = edge(
            cells
                .iter()
                .max_by(|a, b| (a.e + a.r).total_cmp(&(b.e + b.r))),
        );
        let n = f.len();
        if n >= 2 {
            f[n - 1] = (1.0 - top).max(f[n - 2]);
        }
        let f_floor = edge(
            cells
                .iter()
                .min_by(|a, b| (a.e - a.r).total_cmp(&(b.e - b.r))),
        )
        .min(f.get(1).copied().unwrap_or(0.0));
        ECdf { e, f, f_floor }
    }

    pub(super) fn eval(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        let n = self.e.len();
        if x <= self.e[0] {
            return self.f_floor;
        }
        if x >= self.e[n - 1] {
            return self.f[n - 1];
        }
        let i = self.e.partition_point(|v| *v <= x);
        let (e0, e1, f0, f1) = (self.e[i - 1], self.e[i], self.f[i - 1], self.f[i]);
        (f0 + (f1 - f0) * (x - e0) / (e1 - e0)).max(self.f_floor)
    }
}

pub(super) fn e_cdf(
    energy: &dyn Energy,
    grid: &Grid,
    beta: f64,
    e_star: f64,
    z_ref: f64,
    points: usize,
) -> Result<(ECdf, f64), QuadError> {
    let n = grid.per_axis(points);
    let (fine_cells, total) = grid.cells(energy, n, beta, e_star)?;
    let box_err = (total / z_ref - 1.0).abs();
    let fine = ECdf::from_cells(fine_cells, E_CDF_KNOTS, e_star);
    let (coarse_cells, _) = grid.cells(energy, n / 2, beta, e_star)?;
    let coarse = ECdf::from_cells(coarse_cells, E_CDF_KNOTS, e_star);
    let diff = fine
        .e
        .iter()
        .chain(&coarse.e)
        .map(|e| (fine.eval(*e) - coarse.eval(*e)).abs())
        .fold(0.0, f64::max);
    Ok((fine, diff + box_err + 1.0 / E_CDF_KNOTS as f64))
}
