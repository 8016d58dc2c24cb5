//! Gauss–Kronrod G7–K15 nodes and weights, QUADPACK's error heuristic, and the 1D axis maps.

/// Kronrod abscissae on [-1, 1] (non-negative half, descending; the last is the centre).
pub(crate) const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
/// Kronrod weights matching [`XGK`].
pub(crate) const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
/// Gauss weights for the nodes `XGK[1], XGK[3], XGK[5], XGK[7]`.
pub(crate) const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// The 15 Kronrod nodes mapped to `[a, b]`, in a fixed order: centre, then ± pairs.
pub(crate) fn nodes(a: f64, b: f64) -> [f64; 15] {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut out = [c; 15];
    for j in 0..7 {
        out[1 + 2 * j] = c - h * XGK[j];
        out[2 + 2 * j] = c + h * XGK[j];
    }
    out
}

/// Kronrod estimate, QUADPACK error estimate and `∫|f|` from values at [`nodes`] (one component).
pub(crate) fn rule(f: &[f64; 15], half: f64) -> (f64, f64, f64) {
    let fc = f[0];
    let mut resk = WGK[7] * fc;
    let mut resg = WG[3] * fc;
    let mut resabs = WGK[7] * fc.abs();
    for j in 0..7 {
        let s = f[1 + 2 * j] + f[2 + 2 * j];
        resk += WGK[j] * s;
        resabs += WGK[j] * (f[1 + 2 * j].abs() + f[2 + 2 * j].abs());
        if j % 2 == 1 {
            resg += WG[j / 2] * s;
        }
    }
    let mean = 0.5 * resk;
    let mut resasc = WGK[7] * (fc - mean).abs();
    for j in 0..7 {
        resasc += WGK[j] * ((f[1 + 2 * j] - mean).abs() + (f[2 + 2 * j] - mean).abs());
    }
    let h = half.abs();
    let result = resk * half;
    resabs *= h;
    resasc *= h;
    let mut err = ((resk - resg) * half).abs();
    if resasc != 0.0 && err != 0.0 {
        // t^1.5 as t·√t: `powf` is a visible share of a 1D call.
        let t = 200.0 * err / resasc;
        err = resasc * (t * t.sqrt()).min(1.0);
    }
    if resabs > f64::MIN_POSITIVE / (50.0 * f64::EPSILON) {
        err = err.max(50.0 * f64::EPSILON * resabs);
    }
    (result, err, resabs)
}

/// How a parameter `u` of one axis maps to the coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AxisMap {
    /// `x = u`.
    Linear,
    /// `x = origin + scale·u/(1-u)`, `u ∈ [0, 1)`.
    Right { origin: f64, scale: f64 },
    /// `x = origin - scale·u/(1-u)`, `u ∈ [0, 1)`.
    Left { origin: f64, scale: f64 },
}

impl AxisMap {
    /// Coordinate and Jacobian `dx/du` at `u`.
    pub(crate) fn apply(self, u: f64) -> (f64, f64) {
        match self {
            AxisMap::Linear => (u, 1.0),
            AxisMap::Right { origin, scale } => {
                let v = 1.0 - u;
                (origin + scale * u / v, scale / (v * v))
            }
            AxisMap::Left { origin, scale } => {
                let v = 1.0 - u;
                (origin - scale * u / v, scale / (v * v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gk15_integrates_degree_21_polynomial_exactly() {
        // K15 with n = 7 Gauss nodes is exact to degree 3n + 1 = 22.
        let xs = nodes(-1.0, 2.0);
        let f: [f64; 15] = std::array::from_fn(|i| xs[i].powi(20));
        let (r, _, _) = rule(&f, 1.5);
        let exact = (2f64.powi(21) + 1.0) / 21.0;
        assert!((r - exact).abs() < 1e-12 * exact, "{r} vs {exact}");
    }
}
