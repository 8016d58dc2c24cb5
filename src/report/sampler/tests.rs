//! Tests of the figures' geometry: the standard normal's contours enclose their mass, quantiles
//! invert the CDF, and the 1D density is normalised.

use super::figures::{contour, hpd_levels, quantile};
use super::*;
use crate::quad::FnEnergy;
use crate::stats::special;

/// Tolerance of the figures' geometry: a grid cell of the ±5 sd window is 0.0625 sd wide.
const FIGURE_TOL: f64 = 0.02;

#[test]
fn contours_of_the_standard_normal_enclose_their_mass() {
    // For N(0, I₂), the highest-density region of mass m is the disc of radius √(−2 ln(1 − m)).
    let e = FnEnergy::new(2, |y: &[f64]| 0.5 * (y[0] * y[0] + y[1] * y[1]));
    let grid = density_2d(&e, 1.0, [(-5.0, 5.0), (-5.0, 5.0)]);
    let levels = hpd_levels(&grid.2);
    for (level, m) in levels.iter().zip(CONTOUR_MASSES) {
        let want = (-2.0 * (1.0 - m).ln()).sqrt();
        let segs = contour(&grid.0, &grid.1, &grid.2, *level);
        assert!(segs.len() > 50, "{m}: {} segments", segs.len());
        let worst = segs
            .iter()
            .flatten()
            .map(|(x, y)| ((x * x + y * y).sqrt() - want).abs())
            .fold(0.0, f64::max);
        assert!(worst < FIGURE_TOL, "{m}: radius off by {worst}");
    }
}

#[test]
fn quantiles_invert_the_cdf_and_the_1d_density_is_normalised() {
    for u in [0.001, 0.1, 0.5, 0.9, 0.999] {
        let q = quantile(&special::cdf, u, -0.5, 0.5);
        assert!((special::cdf(q) - u).abs() < 1e-12, "u = {u}: q = {q}");
    }
    let e = FnEnergy::new(1, |y: &[f64]| 0.5 * y[0] * y[0]);
    let d = density_1d(&e, 1.0, &linspace(-5.0, 5.0, GRID_1D));
    let peak = d.iter().map(|p| p.1).fold(0.0, f64::max);
    let want = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    assert!((peak - want).abs() < FIGURE_TOL * want, "{peak} vs {want}");
}
