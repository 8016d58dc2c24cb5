//! Gauss–Kronrod G10–K21 nodes and weights, QUADPACK's error heuristic, and the 1D axis maps.

/// Kronrod abscissae of the 21-point rule (QUADPACK `qk21`) on [-1, 1]: the non-negative
/// half, descending, the last being the centre.
// QUADPACK's published constants, verbatim so they can be checked against the source.
#[allow(clippy::excessive_precision)]
pub(crate) const XGK21: [f64; 11] = [
    0.995_657_163_025_808_080_735_527_280_689_003,
    0.973_906_528_517_171_720_077_964_012_084_452,
    0.930_157_491_355_708_226_001_207_180_059_508,
    0.865_063_366_688_984_510_732_096_688_423_493,
    0.780_817_726_586_416_897_063_717_578_345_042,
    0.679_409_568_299_024_406_234_327_365_114_874,
    0.562_757_134_668_604_683_339_000_099_272_694,
    0.433_395_394_129_247_190_799_265_943_165_784,
    0.294_392_862_701_460_198_131_126_603_103_866,
    0.148_874_338_981_631_210_884_826_001_129_720,
    0.0,
];
/// Kronrod weights matching [`XGK21`].
// QUADPACK's published constants, verbatim so they can be checked against the source.
#[allow(clippy::excessive_precision)]
pub(crate) const WGK21: [f64; 11] = [
    0.011_694_638_867_371_874_278_064_396_062_192,
    0.032_558_162_307_964_727_478_818_972_459_390,
    0.054_755_896_574_351_996_031_381_300_244_580,
    0.075_039_674_810_919_952_767_043_140_916_190,
    0.093_125_454_583_697_605_535_065_465_083_366,
    0.109_387_158_802_297_641_899_210_590_325_805,
    0.123_491_976_262_065_851_077_958_109_831_074,
    0.134_709_217_311_473_325_928_054_001_771_707,
    0.142_775_938_577_060_080_797_094_273_138_717,
    0.147_739_104_901_338_491_374_841_515_972_068,
    0.149_445_554_002_916_905_664_936_468_389_821,
];
/// Gauss weights for the nodes `XGK21[1], XGK21[3], …, XGK21[9]` (the centre is not a node
/// of the 10-point Gauss rule).
// QUADPACK's published constants, verbatim so they can be checked against the source.
#[allow(clippy::excessive_precision)]
pub(crate) const WG21: [f64; 5] = [
    0.066_671_344_308_688_137_593_568_809_893_332,
    0.149_451_349_150_580_593_145_776_339_657_697,
    0.219_086_362_515_982_043_995_534_934_228_163,
    0.269_266_719_309_996_355_091_226_921_569_469,
    0.295_524_224_714_752_870_173_892_994_651_338,
];

/// Kronrod abscissae of the 7-point rule extending Gauss–Legendre G3, non-negative half,
/// descending, the last being the centre.
// Published Gauss–Kronrod constants (Laurie 1997 tables), checked by exactness tests below.
#[allow(clippy::excessive_precision)]
pub(crate) const XGK7: [f64; 4] = [
    0.960_491_268_708_020_283_423_507_092_629_080,
    0.774_596_669_241_483_377_035_853_079_956_480,
    0.434_243_749_346_802_558_002_071_502_844_628,
    0.0,
];
/// Kronrod weights matching [`XGK7`].
#[allow(clippy::excessive_precision)]
pub(crate) const WGK7: [f64; 4] = [
    0.104_656_226_026_467_265_193_823_857_192_073,
    0.268_488_089_868_333_440_728_569_280_666_710,
    0.401_397_414_775_962_222_905_051_818_618_432,
    0.450_916_538_658_474_142_345_110_087_045_571,
];
/// Gauss weights of G3 at `XGK7[1]` (5/9) and the centre (8/9).
pub(crate) const WG7: [f64; 2] = [5.0 / 9.0, 8.0 / 9.0];

/// Number of nodes of the short rule [`rule7`].
pub(crate) const NK7: usize = 7;

/// The [`NK7`] nodes of the G3–K7 rule mapped to `[a, b]`: centre, then ± pairs.
pub(crate) fn nodes7(a: f64, b: f64) -> [f64; NK7] {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut out = [c; NK7];
    for j in 0..3 {
        out[1 + 2 * j] = c - h * XGK7[j];
        out[2 + 2 * j] = c + h * XGK7[j];
    }
    out
}

/// Kronrod estimate, QUADPACK-style error estimate and `∫|f|` of the G3–K7 rule from values
/// at [`nodes7`] (the first [`NK7`] entries of `f`).
pub(crate) fn rule7(f: &[f64], half: f64, smooth: bool) -> (f64, f64, f64) {
    let fc = f[0];
    let mut resk = WGK7[3] * fc;
    let mut resabs = WGK7[3] * fc.abs();
    let mut resg = WG7[1] * fc;
    for j in 0..3 {
        let (f1, f2) = (f[1 + 2 * j], f[2 + 2 * j]);
        resk += WGK7[j] * (f1 + f2);
        resabs += WGK7[j] * (f1.abs() + f2.abs());
        if j == 1 {
            resg += WG7[0] * (f1 + f2);
        }
    }
    let mean = 0.5 * resk;
    let mut resasc = WGK7[3] * (fc - mean).abs();
    for j in 0..3 {
        resasc += WGK7[j] * ((f[1 + 2 * j] - mean).abs() + (f[2 + 2 * j] - mean).abs());
    }
    finish(resk, resg, resabs, resasc, half, smooth)
}

/// QUADPACK's error heuristic on a rule's Kronrod and Gauss sums (on [-1, 1]).
///
/// The heuristic shrinks `|K - G|` as if the Kronrod sum were far better than the Gauss one,
/// which holds for analytic integrands only. With `smooth` false (a piece ending where the
/// integrand may not be analytic: a minimiser, possibly a kink or `|u|^p`), the error is at
/// least `|K - G|` itself: `|u|^3.4` at a piece's end gave a true error 20 times the heuristic.
fn finish(
    resk: f64,
    resg: f64,
    resabs: f64,
    resasc: f64,
    half: f64,
    smooth: bool,
) -> (f64, f64, f64) {
    let h = half.abs();
    let result = resk * half;
    let resabs = resabs * h;
    let resasc = resasc * h;
    let raw = ((resk - resg) * half).abs();
    let mut err = raw;
    if resasc != 0.0 && err != 0.0 {
        // t^1.5 as t·√t: `powf` is a visible share of a 1D call.
        let t = 200.0 * err / resasc;
        err = resasc * (t * t.sqrt()).min(1.0);
        if !smooth {
            err = err.max(raw);
        }
    }
    if resabs > f64::MIN_POSITIVE / (50.0 * f64::EPSILON) {
        err = err.max(50.0 * f64::EPSILON * resabs);
    }
    (result, err, resabs)
}

/// Number of Kronrod nodes.
pub(crate) const NK: usize = 21;

/// The [`NK`] Kronrod nodes mapped to `[a, b]`, in a fixed order: centre, then ± pairs.
pub(crate) fn nodes(a: f64, b: f64) -> [f64; NK] {
    let c = 0.5 * (a + b);
    let h = 0.5 * (b - a);
    let mut out = [c; NK];
    for j in 0..NK / 2 {
        out[1 + 2 * j] = c - h * XGK21[j];
        out[2 + 2 * j] = c + h * XGK21[j];
    }
    out
}

/// Kronrod estimate, QUADPACK error estimate and `∫|f|` from values at [`nodes`] (one
/// component). Written for the fixed-size arrays so that the loops unroll: this is the inner
/// loop of every 1D integral.
pub(crate) fn rule(f: &[f64; NK], half: f64, smooth: bool) -> (f64, f64, f64) {
    const M: usize = NK / 2;
    let fc = f[0];
    let mut resk = WGK21[M] * fc;
    let mut resg = 0.0;
    let mut resabs = WGK21[M] * fc.abs();
    for j in 0..M {
        let (f1, f2) = (f[1 + 2 * j], f[2 + 2 * j]);
        resk += WGK21[j] * (f1 + f2);
        resabs += WGK21[j] * (f1.abs() + f2.abs());
        if j % 2 == 1 {
            resg += WG21[j / 2] * (f1 + f2);
        }
    }
    let mean = 0.5 * resk;
    let mut resasc = WGK21[M] * (fc - mean).abs();
    for j in 0..M {
        resasc += WGK21[j] * ((f[1 + 2 * j] - mean).abs() + (f[2 + 2 * j] - mean).abs());
    }
    finish(resk, resg, resabs, resasc, half, smooth)
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
    fn gk21_integrates_degree_31_polynomial_exactly_and_g10_degree_19() {
        // K21 with n = 10 Gauss nodes is exact to degree 3n + 1 = 31; G10 to 2n - 1 = 19.
        let xs = nodes(-1.0, 2.0);
        let exact = |p: i32| (2f64.powi(p + 1) - (-1f64).powi(p + 1)) / f64::from(p + 1);
        let f: [f64; 21] = std::array::from_fn(|i| xs[i].powi(30));
        let (r, _, _) = rule(&f, 1.5, true);
        assert!(
            (r - exact(30)).abs() < 1e-12 * exact(30),
            "{r} vs {}",
            exact(30)
        );
        // A degree-19 integrand: K21 and G10 agree, so the error estimate is at rounding level.
        let f: [f64; 21] = std::array::from_fn(|i| xs[i].powi(18) + xs[i].powi(19));
        let (r, e, _) = rule(&f, 1.5, true);
        let want = exact(18) + exact(19);
        assert!((r - want).abs() < 1e-12 * want, "{r} vs {want}");
        assert!(e < 1e-10 * want, "error estimate {e}");
    }

    #[test]
    fn gk7_is_exact_to_degree_11_and_g3_to_degree_5() {
        let xs = nodes7(-1.0, 2.0);
        let exact = |p: i32| (2f64.powi(p + 1) - (-1f64).powi(p + 1)) / f64::from(p + 1);
        for p in 0..=11 {
            let f: [f64; NK7] = std::array::from_fn(|i| xs[i].powi(p));
            let (r, _, _) = rule7(&f, 1.5, true);
            assert!(
                (r - exact(p)).abs() < 1e-13 * exact(p).abs().max(1.0),
                "x^{p}: {r} vs {}",
                exact(p)
            );
        }
        // Degree 12 is not integrated exactly by K7.
        let f: [f64; NK7] = std::array::from_fn(|i| xs[i].powi(12));
        assert!((rule7(&f, 1.5, true).0 - exact(12)).abs() > 1e-6 * exact(12));
        // G3 is exact to degree 5: K7 and G3 agree there, so the error estimate is at rounding.
        let f: [f64; NK7] = std::array::from_fn(|i| xs[i].powi(4) + xs[i].powi(5));
        let (r, e, _) = rule7(&f, 1.5, true);
        let want = exact(4) + exact(5);
        assert!(
            (r - want).abs() < 1e-13 * want && e < 1e-12 * want,
            "{r} {e}"
        );
        let f: [f64; NK7] = std::array::from_fn(|i| xs[i].powi(6));
        assert!(
            rule7(&f, 1.5, true).1 > 1e-6,
            "G3 is not exact for x^6: the estimate must see it"
        );
    }
}
