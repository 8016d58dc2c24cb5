//! The CDF and quantile of a one-dimensional Gibbs density exp(−βE)/Z, tabulated by composite
//! Gauss–Legendre quadrature with a measured error, evaluated by monotone cubic Hermite interpolation.
//!
//! Construction: the global and local minima come from [`super::minimize`]; the support is grown
//! outwards from the outermost minima until β(E − E*) exceeds [`TAIL_CUT`] (mass beyond about
//! e^−TAIL_CUT relative to the peak); the support is cut into [`CDF_PIECES`] equal pieces, each
//! integrated by 8-point Gauss–Legendre on the piece and on its two halves. The halves give the
//! value used; their difference from the whole-piece rule is the quadrature error. The CDF at the
//! piece midpoints (known from the half-piece rules) checks the cubic Hermite interpolant (values
//! and the exact density as slopes) between the nodes: the largest midpoint discrepancy is the
//! interpolation error. [`Cdf1d::max_error`] adds the tail mass, the summed quadrature errors and
//! the interpolation error: it bounds |F̂ − F| everywhere up to the usual assumption that the
//! midpoint discrepancy is representative of the piece.

use super::{Domain, Energy, QuadError, QuadOptions, Status, minimize};

/// Number of equal pieces of the support.
pub const CDF_PIECES: usize = 4096;
/// The support ends where β(E − E*) exceeds this (e^−46 ≈ 1e−20).
pub const TAIL_CUT: f64 = 46.0;
/// A tabulation whose [`Cdf1d::max_error`] exceeds this is [`Status::NotConverged`].
pub const CDF_TOL: f64 = 1e-7;

const GL8_X: [f64; 4] = [
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
const GL8_W: [f64; 4] = [
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_5,
    0.101_228_536_290_376_3,
];

/// The 8 abscissae of the 8-point rule on [a, b], in a fixed order.
fn gl8_points(a: f64, b: f64, out: &mut Vec<f64>) {
    let (c, h) = (0.5 * (a + b), 0.5 * (b - a));
    for x in GL8_X {
        out.push(c - h * x);
        out.push(c + h * x);
    }
}

fn gl8_sum(a: f64, b: f64, w: &[f64]) -> f64 {
    let h = 0.5 * (b - a);
    GL8_W
        .iter()
        .enumerate()
        .map(|(i, wi)| wi * (w[2 * i] + w[2 * i + 1]))
        .sum::<f64>()
        * h
}

/// A tabulated CDF of exp(−βE)/Z on a 1D interval. See the module documentation.
#[derive(Debug, Clone)]
pub struct Cdf1d {
    nodes: Vec<f64>,
    cum: Vec<f64>,
    dens: Vec<f64>,
    /// Bound on |F̂(x) − F(x)| over x (tail mass + quadrature + interpolation errors).
    pub max_error: f64,
    /// Mass estimated beyond the tabulated support (both sides).
    pub tail_mass: f64,
    /// Whether `max_error` is within [`CDF_TOL`].
    pub status: Status,
    /// Global minimum of E.
    pub min_energy: f64,
    /// Local minimisers of E, sorted by position (the global one included).
    pub minimisers: Vec<f64>,
}

impl Cdf1d {
    /// Tabulates the CDF of exp(−βE)/Z on `lo..hi` (ends may be infinite).
    ///
    /// # Errors
    /// [`QuadError::NotANumber`] if E is NaN at a tabulation point,
    /// [`QuadError::Diverges`] if the density does not decay within the search, and the input
    /// errors of [`minimize`] (dimension, domain, β).
    pub fn new(energy: &dyn Energy, lo: f64, hi: f64, beta: f64) -> Result<Self, QuadError> {
        if energy.dim() != 1 {
            return Err(QuadError::DimensionMismatch {
                energy: energy.dim(),
                domain: 1,
            });
        }
        if !(beta > 0.0 && beta.is_finite()) {
            return Err(QuadError::InvalidBeta(beta));
        }
        let domain = Domain::continuous(&[(lo, hi)])?;
        let min = minimize(energy, &domain, &QuadOptions::default())?;
        let e_star = min.value;
        if !e_star.is_finite() {
            return Err(QuadError::InvalidDomain(
                "the energy has no finite value on the domain".into(),
            ));
        }
        let mut minimisers: Vec<f64> = std::iter::once(min.argmin[0])
            .chain(
                min.local_minima
                    .iter()
                    .filter(|(v, _)| beta * (v - e_star) < TAIL_CUT)
                    .map(|(_, x)| x[0]),
            )
            .collect();
        minimisers.sort_by(f64::total_cmp);
        let first = minimisers[0];
        let last = minimisers[minimisers.len() - 1];
        let excess = |x: f64| -> Result<f64, QuadError> {
            let e = energy.eval(&[x]);
            if e.is_nan() {
                return Err(QuadError::NotANumber { point: vec![x] });
            }
            Ok(beta * (e - e_star))
        };
        // Grow the support geometrically until the weight is negligible or the domain ends.
        let grow = |start: f64, sign: f64, bound: f64| -> Result<(f64, f64), QuadError> {
            let mut step = 1e-3 * start.abs().max(1.0) / beta.sqrt().max(1e-3);
            let mut x = start;
            for _ in 0..400 {
                let next = x + sign * step;
                if (sign > 0.0 && next >= bound) || (sign < 0.0 && next <= bound) {
                    return Ok((bound, 0.0));
                }
                x = next;
                let ex = excess(x)?;
                if ex > TAIL_CUT {
                    // The tail beyond decays at least as fast as the last step's growth rate.
                    return Ok((x, (-ex).exp() * step));
                }
                step *= 1.3;
            }
            Err(QuadError::Diverges {
                axis: Some(0),
                direction: super::direction_name(0, sign > 0.0),
            })
        };
        let (a, tail_a) = grow(first, -1.0, lo)?;
        let (b, tail_b) = grow(last, 1.0, hi)?;
        let n = CDF_PIECES;
        let h = (b - a) / n as f64;
        let nodes: Vec<f64> = (0..=n).map(|i| a + h * i as f64).collect();
        // Per piece: 8 points on the left half, 8 on the right half, 8 on the whole.
        let mut pts = Vec::with_capacity(n * 24 + n + 1);
        for i in 0..n {
            let (x0, x1) = (nodes[i], nodes[i + 1]);
            let m = 0.5 * (x0 + x1);
            gl8_points(x0, m, &mut pts);
            gl8_points(m, x1, &mut pts);
            gl8_points(x0, x1, &mut pts);
        }
        pts.extend_from_slice(&nodes);
        let mut e = vec![0.0; pts.len()];
        energy.eval_batch(&pts, &mut e);
        let mut w = Vec::with_capacity(e.len());
        for (x, ei) in pts.iter().zip(&e) {
            if ei.is_nan() {
                return Err(QuadError::NotANumber { point: vec![*x] });
            }
            w.push((-beta * (ei - e_star)).exp());
        }
        let mut cum = Vec::with_capacity(n + 1);
        let mut mid = Vec::with_capacity(n);
        let mut quad_err = 0.0;
        let mut acc = 0.0;
        cum.push(0.0);
        for i in 0..n {
            let (x0, x1) = (nodes[i], nodes[i + 1]);
            let m = 0.5 * (x0 + x1);
            let base = 24 * i;
            let left = gl8_sum(x0, m, &w[base..base + 8]);
            let right = gl8_sum(m, x1, &w[base + 8..base + 16]);
            let whole = gl8_sum(x0, x1, &w[base + 16..base + 24]);
            quad_err += (left + right - whole).abs();
            mid.push(acc + left);
            acc += left + right;
            cum.push(acc);
        }
        let z = acc;
        if !(z > 0.0 && z.is_finite()) {
            return Err(QuadError::InvalidDomain(format!(
                "the Gibbs weight integrates to {z} on the support [{a}, {b}]"
            )));
        }
        let node_w = &w[24 * n..];
        let cum: Vec<f64> = cum.iter().map(|c| c / z).collect();
        let dens: Vec<f64> = node_w.iter().map(|v| v / z).collect();
        let mut table = Cdf1d {
            nodes,
            cum,
            dens,
            max_error: 0.0,
            tail_mass: (tail_a + tail_b) / z,
            status: Status::Converged,
            min_energy: e_star,
            minimisers,
        };
        let interp_err = mid
            .iter()
            .enumerate()
            .map(|(i, m)| {
                (table.hermite(i, 0.5 * (table.nodes[i] + table.nodes[i + 1])) - m / z).abs()
            })
            .fold(0.0, f64::max);
        table.max_error = table.tail_mass + quad_err / z + interp_err;
        if table.max_error.is_nan() || table.max_error > CDF_TOL {
            table.status = Status::NotConverged;
        }
        Ok(table)
    }

    fn hermite(&self, i: usize, x: f64) -> f64 {
        let (x0, x1) = (self.nodes[i], self.nodes[i + 1]);
        let h = x1 - x0;
        let t = (x - x0) / h;
        let (t2, t3) = (t * t, t * t * t);
        let v = (2.0 * t3 - 3.0 * t2 + 1.0) * self.cum[i]
            + (t3 - 2.0 * t2 + t) * h * self.dens[i]
            + (-2.0 * t3 + 3.0 * t2) * self.cum[i + 1]
            + (t3 - t2) * h * self.dens[i + 1];
        // Clamping keeps the interpolant monotone across pieces.
        v.clamp(self.cum[i], self.cum[i + 1])
    }

    /// Lower end of the tabulated support.
    pub fn support(&self) -> (f64, f64) {
        (self.nodes[0], self.nodes[self.nodes.len() - 1])
    }

    /// F(x) = P(Y ≤ x), non-decreasing in x, 0 below the support and 1 above it.
    pub fn cdf(&self, x: f64) -> f64 {
        let n = self.nodes.len() - 1;
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= self.nodes[0] {
            return 0.0;
        }
        if x >= self.nodes[n] {
            return 1.0;
        }
        let h = (self.nodes[n] - self.nodes[0]) / n as f64;
        let i = (((x - self.nodes[0]) / h) as usize).min(n - 1);
        self.hermite(i, x)
    }

    /// P(a < Y ≤ b).
    pub fn mass(&self, a: f64, b: f64) -> f64 {
        (self.cdf(b) - self.cdf(a)).max(0.0)
    }

    /// The smallest x with F(x) ≥ u (bisection on the interpolant), for u in [0, 1].
    pub fn quantile(&self, u: f64) -> f64 {
        let (mut lo, mut hi) = self.support();
        if u.is_nan() {
            return f64::NAN;
        }
        for _ in 0..100 {
            let m = 0.5 * (lo + hi);
            if self.cdf(m) < u {
                lo = m;
            } else {
                hi = m;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::FnEnergy;
    use crate::stats::special;

    #[test]
    fn gaussian_cdf_and_quantile_match_the_closed_form() {
        // E = y²/4 at β = 2: βE = y²/2, N(0, 1).
        let e = FnEnergy::new(1, |y: &[f64]| 0.25 * y[0] * y[0]);
        let c = Cdf1d::new(&e, f64::NEG_INFINITY, f64::INFINITY, 2.0).expect("tabulates");
        assert_eq!(c.status, Status::Converged, "max_error {}", c.max_error);
        let sd = 1.0;
        let mut worst: f64 = 0.0;
        for k in -400..=400 {
            let x = k as f64 * 0.01;
            worst = worst.max((c.cdf(x) - special::cdf(x / sd)).abs());
        }
        // The stated bound must cover the true error.
        assert!(
            worst <= c.max_error.max(1e-15),
            "error {worst} > bound {}",
            c.max_error
        );
        for u in [0.001, 0.1, 0.5, 0.9] {
            let q = c.quantile(u);
            assert!(
                (special::cdf(q / sd) - u).abs() < 1e-9,
                "quantile({u}) = {q}"
            );
        }
    }

    #[test]
    fn double_well_on_a_half_line_has_honest_error_and_minima() {
        let e = FnEnergy::new(1, |y: &[f64]| (y[0] * y[0] - 1.0).powi(2));
        let c = Cdf1d::new(&e, f64::NEG_INFINITY, f64::INFINITY, 2.0).expect("tabulates");
        assert_eq!(c.minimisers.len(), 2, "{:?}", c.minimisers);
        // Symmetry: F(0) = 1/2 exactly.
        assert!((c.cdf(0.0) - 0.5).abs() <= c.max_error + 1e-15);
        let half = Cdf1d::new(&e, 0.0, f64::INFINITY, 2.0).expect("tabulates");
        assert!(
            (half.cdf(1.0) - (2.0 * c.cdf(1.0) - 1.0)).abs() <= half.max_error + 2.0 * c.max_error
        );
        assert!(
            Cdf1d::new(
                &FnEnergy::new(1, |y: &[f64]| -y[0]),
                0.0,
                f64::INFINITY,
                1.0
            )
            .is_err()
        );
    }
}
