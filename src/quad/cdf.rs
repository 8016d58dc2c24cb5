//! The cumulative distribution and quantile function of a 1D Gibbs density, tabulated by quadrature.
//!
//! [`Cdf1d`] turns `p(x) ∝ exp(-βE(x))` on an interval into an exact sampler by inversion: the
//! mass is tabulated on cells covering the effective support, the table's total is checked
//! against [`log_partition`](super::log_partition) (two independent integrations), and a
//! quantile is found by locating the cell and solving `F(x) = u` inside it by safeguarded Newton.

use super::{Domain, Energy, QuadError, QuadOptions, Status, VarDomain, gk, log_partition};

/// Beyond this many units of `β(E − E_min)` the density is below `e^-60` of its peak: the table
/// stops there (the neglected mass is far below the quadrature tolerance).
const TAIL_CUT: f64 = 60.0;
/// Cells of the first table; the table is doubled until it agrees with `log Z`.
const INITIAL_CELLS: usize = 256;
/// Largest table.
const MAX_CELLS: usize = 1 << 16;
/// Required agreement of the table's total mass with the partition function (relative).
const MASS_TOL: f64 = 1e-8;
/// Newton/bisection iterations of a quantile inside one cell.
const QUANTILE_ITERS: usize = 60;
/// A quantile is accepted when its in-cell mass is this close to the target.
const QUANTILE_MASS_TOL: f64 = 1e-15;

/// The CDF and quantile function of `p(x) ∝ exp(-βE(x))` on `[lo, hi]` (ends may be infinite).
#[derive(Debug, Clone)]
pub struct Cdf1d {
    /// Cell edges `x_0 < … < x_n` covering the effective support.
    edges: Vec<f64>,
    /// Cumulative normalised mass at each edge (`cum[0] = 0`, `cum[n] = 1`).
    cum: Vec<f64>,
    /// `β` and `E_min`, for evaluating the normalised density inside a cell.
    beta: f64,
    e_min: f64,
    /// Total mass of the table relative to `exp(-βE_min)`.
    mass: f64,
    /// Relative disagreement between the table's mass and `Z` from the adaptive quadrature.
    mass_error: f64,
    /// `log Z = log ∫ exp(-βE)` from the adaptive quadrature.
    pub log_z: f64,
    /// Whether the table agrees with `Z` to 1e-8 (relative) and the quadrature of `Z` converged.
    pub status: Status,
}

fn bad_domain(msg: &str) -> QuadError {
    QuadError::InvalidDomain(msg.to_string())
}

impl Cdf1d {
    /// Tabulates the CDF of `exp(-β energy)` on `[lo, hi]`.
    ///
    /// # Errors
    /// The errors of [`log_partition`] (divergent partition function, NaN energy, bad domain or
    /// β), and [`QuadError::DimensionMismatch`] unless the energy takes one variable.
    pub fn new(
        energy: &dyn Energy,
        lo: f64,
        hi: f64,
        beta: f64,
        opts: &QuadOptions,
    ) -> Result<Cdf1d, QuadError> {
        if energy.dim() != 1 {
            return Err(QuadError::DimensionMismatch {
                energy: energy.dim(),
                domain: 1,
            });
        }
        let domain = Domain::new(vec![VarDomain::Continuous { lo, hi }])?;
        let lz = log_partition(energy, &domain, beta, opts)?;
        let m = lz.argmin.first().copied().unwrap_or(0.0);
        let e_min = lz.min_energy;
        let excess = |x: f64| beta * (energy.eval(&[x]) - e_min);
        // Walk out from the minimiser with doubling steps until the density is negligible.
        let reach = |dir: f64, end: f64| -> Result<f64, QuadError> {
            let mut s = 1e-3 * m.abs().max(1.0);
            for _ in 0..2100 {
                let x = m + dir * s;
                if (dir < 0.0 && x <= end) || (dir > 0.0 && x >= end) {
                    return Ok(end);
                }
                let v = excess(x);
                if v.is_nan() {
                    return Err(QuadError::NotANumber { point: vec![x] });
                }
                if v > TAIL_CUT {
                    return Ok(x);
                }
                s *= 1.5;
                if !s.is_finite() {
                    break;
                }
            }
            Err(bad_domain(
                "the density does not decay within the range of f64",
            ))
        };
        let a = reach(-1.0, lo)?;
        let b = reach(1.0, hi)?;
        if a.partial_cmp(&b) != Some(std::cmp::Ordering::Less) {
            return Err(bad_domain("the effective support of the density is empty"));
        }
        let mut n = INITIAL_CELLS;
        loop {
            let (edges, masses) = tabulate(&excess, a, b, n)?;
            let mass: f64 = masses.iter().sum();
            let log_mass = mass.ln() - beta * e_min;
            let mass_error = (log_mass - lz.log_z).abs();
            if mass_error <= MASS_TOL.max(2.0 * lz.abs_error) || 2 * n > MAX_CELLS {
                let mut cum = Vec::with_capacity(n + 1);
                let mut acc = 0.0;
                cum.push(0.0);
                for w in &masses {
                    acc += w;
                    cum.push(acc / mass);
                }
                let ok = mass_error <= MASS_TOL.max(2.0 * lz.abs_error)
                    && lz.status == Status::Converged;
                return Ok(Cdf1d {
                    edges,
                    cum,
                    beta,
                    e_min,
                    mass,
                    mass_error,
                    log_z: lz.log_z,
                    status: if ok {
                        Status::Converged
                    } else {
                        Status::NotConverged
                    },
                });
            }
            n *= 2;
        }
    }

    /// Relative disagreement of the tabulated total mass with the adaptive quadrature's `Z`.
    pub fn mass_error(&self) -> f64 {
        self.mass_error
    }

    /// The CDF at `x`.
    pub fn cdf(&self, energy: &dyn Energy, x: f64) -> f64 {
        let n = self.edges.len() - 1;
        if x <= self.edges[0] {
            return 0.0;
        }
        if x >= self.edges[n] {
            return 1.0;
        }
        let k = (self.edges.partition_point(|&e| e <= x) - 1).min(n - 1);
        self.cum[k] + self.partial(energy, self.edges[k], x)
    }

    /// Normalised mass of `[a, x]` (inside one cell), by the 15-point Kronrod rule.
    fn partial(&self, energy: &dyn Energy, a: f64, x: f64) -> f64 {
        if x <= a {
            return 0.0;
        }
        let pts = gk::nodes(a, x);
        let mut f = [0.0; 15];
        for (v, p) in f.iter_mut().zip(pts) {
            *v = self.density(energy, p);
        }
        gk::rule(&f, 0.5 * (x - a)).0
    }

    fn density(&self, energy: &dyn Energy, x: f64) -> f64 {
        let v = (-self.beta * (energy.eval(&[x]) - self.e_min)).exp() / self.mass;
        if v.is_finite() { v } else { 0.0 }
    }

    /// The quantile `F⁻¹(u)` for `u` in (0, 1): the cell by binary search, then safeguarded
    /// Newton on the in-cell integral. `energy` must be the energy the table was built from.
    pub fn quantile(&self, energy: &dyn Energy, u: f64) -> f64 {
        let n = self.edges.len() - 1;
        let u = u.clamp(0.0, 1.0);
        let k = self.cum.partition_point(|&c| c < u).clamp(1, n) - 1;
        let (mut lo, mut hi) = (self.edges[k], self.edges[k + 1]);
        let target = u - self.cum[k];
        let a = lo;
        let width = hi - lo;
        let mut x = if self.cum[k + 1] > self.cum[k] {
            lo + (hi - lo) * (target / (self.cum[k + 1] - self.cum[k])).clamp(0.0, 1.0)
        } else {
            0.5 * (lo + hi)
        };
        for _ in 0..QUANTILE_ITERS {
            let g = self.partial(energy, a, x) - target;
            // The in-cell integral is accurate to about 1e-15 of the mass: iterating below
            // that only chases rounding.
            if g.abs() <= QUANTILE_MASS_TOL {
                return x;
            }
            if g > 0.0 {
                hi = x;
            } else {
                lo = x;
            }
            let d = self.density(energy, x);
            let newton = x - g / d;
            let next = if d > 0.0 && newton > lo && newton < hi {
                newton
            } else {
                0.5 * (lo + hi)
            };
            if (next - x).abs() <= 1e-13 * width {
                return next;
            }
            x = next;
        }
        x
    }
}

/// Cell edges and the mass `∫ exp(-(excess))` of each cell, by the 15-point Kronrod rule.
fn tabulate(
    excess: &dyn Fn(f64) -> f64,
    a: f64,
    b: f64,
    n: usize,
) -> Result<(Vec<f64>, Vec<f64>), QuadError> {
    let h = (b - a) / n as f64;
    let edges: Vec<f64> = (0..=n)
        .map(|i| if i == n { b } else { a + h * i as f64 })
        .collect();
    let mut masses = Vec::with_capacity(n);
    for w in edges.windows(2) {
        let pts = gk::nodes(w[0], w[1]);
        let mut f = [0.0; 15];
        for (v, p) in f.iter_mut().zip(pts) {
            let e = excess(p);
            if e.is_nan() {
                return Err(QuadError::NotANumber { point: vec![p] });
            }
            *v = (-e).exp();
        }
        masses.push(gk::rule(&f, 0.5 * (w[1] - w[0])).0.max(0.0));
    }
    Ok((edges, masses))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::FnEnergy;
    use crate::stats::special;

    /// Agreement of the tabulated CDF with a closed form.
    const CDF_TOL: f64 = 1e-9;

    #[test]
    fn gaussian_cdf_and_quantile_match_closed_form() {
        // E = (x - 1)^2 / 2 at β = 4: N(1, 1/4).
        let e = FnEnergy::new(1, |x: &[f64]| 0.5 * (x[0] - 1.0).powi(2));
        let c = Cdf1d::new(
            &e,
            f64::NEG_INFINITY,
            f64::INFINITY,
            4.0,
            &QuadOptions::default(),
        )
        .expect("tabulates");
        assert_eq!(c.status, Status::Converged, "mass error {}", c.mass_error());
        for x in [-0.5, 0.3, 1.0, 1.2, 2.1] {
            let want = special::cdf((x - 1.0) * 2.0);
            assert!((c.cdf(&e, x) - want).abs() < CDF_TOL, "x = {x}");
        }
        for u in [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999_999] {
            let want = 1.0 + 0.5 * special::quantile(u);
            let got = c.quantile(&e, u);
            assert!((got - want).abs() < 1e-7, "u = {u}: {got} vs {want}");
        }
    }

    #[test]
    fn double_well_on_half_line_is_normalised() {
        let e = FnEnergy::new(1, |x: &[f64]| (x[0] * x[0] - 4.0).powi(2) - x[0]);
        let c =
            Cdf1d::new(&e, 0.0, f64::INFINITY, 2.0, &QuadOptions::default()).expect("tabulates");
        assert_eq!(c.status, Status::Converged, "mass error {}", c.mass_error());
        let mid = c.quantile(&e, 0.5);
        assert!((c.cdf(&e, mid) - 0.5).abs() < CDF_TOL);
        assert!(c.cdf(&e, 0.0).abs() < CDF_TOL);
    }
}
