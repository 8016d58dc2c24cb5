//! Narrow features of a line that hold no minimum of their own (a needle's shoulder in the
//! nested rule's slices): breakpoints about them ([`feature_breaks`]).

use super::{Line, LineSpec, Mode, QuadError};

/// A narrow feature of a line ([`LineSpec::features`]): a mode's quadratic model says the line
/// holds a bump of that mode at `centre`, `width` wide, of energy `energy` at its centre.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Feature {
    pub centre: f64,
    pub width: f64,
    pub energy: f64,
}

/// Breakpoints about a narrow feature, in its widths each side of its centre: the pieces about
/// it are as long as the feature is wide, where the line's own pieces are a broad mode's.
const FEATURE_BREAKS: [f64; 2] = [1.0, 3.0];

/// Breakpoints for the narrow `features` of a line ([`LineSpec::features`], and the narrow
/// `cores` of its minima, `search::narrow_core`): each feature
/// inside `(lo, hi)`, narrower than the nearest mode of `used` and not one of them, whose
/// model energy is not negligible against the target (`β(E − E*)` below `faint_q`), and
/// present: the line's energy at its centre at most `1/β` above the model's (a model far from
/// its mode, such as a ring's tangent, says nothing there).
/// A needle on the flank of a broad mode forms a minimum only in the slices near its centre;
/// further along its ridge it is a shoulder 0.013 wide that nodes 0.2 apart passed over, and
/// those slices lost up to 3e-7 of their mass with 4e-11 claimed.
pub(super) fn feature_breaks(
    line: &mut dyn Line,
    spec: &LineSpec<'_>,
    cores: &[Feature],
    used: &[Mode],
    e0: f64,
    faint_q: f64,
) -> Result<Vec<f64>, QuadError> {
    let mut out = Vec::new();
    for f in spec.features.iter().chain(cores) {
        let (c, w) = (f.centre, f.width);
        if !(c > spec.lo && c < spec.hi && w.is_finite() && w > 0.0) {
            continue;
        }
        // Modes with widths (the significant ones) resolve their own scale: a feature within
        // two of its widths of a mode at most four times wider is that mode (a mode's pieces,
        // one width long beside it, resolve a bump a quarter as wide), and one at least as
        // wide as the nearest mode is no narrow feature. A needle's shoulder 0.3 wide beside a
        // broad mode's centre, inside the piece of width 2 next to it, is one (1e-8 of Z was
        // lost there).
        let sized = || {
            used.iter()
                .filter(|md| md.w_left.is_finite() && md.w_right.is_finite())
        };
        let narrowest = |md: &Mode| md.w_left.min(md.w_right);
        if sized().any(|md| (md.m - c).abs() <= 2.0 * w && narrowest(md) <= 4.0 * w) {
            continue;
        }
        let nearest = sized().min_by(|a, b| (a.m - c).abs().total_cmp(&(b.m - c).abs()));
        if nearest.is_some_and(|md| w >= narrowest(md)) {
            continue;
        }
        let q = spec.beta * (f.energy - e0);
        if q.is_nan() || q >= faint_q {
            continue;
        }
        let off_model = spec.beta * (line.energy(c)? - f.energy);
        if off_model.is_nan() || off_model > 1.0 {
            continue;
        }
        out.push(c);
        for k in FEATURE_BREAKS {
            for b in [c - k * w, c + k * w] {
                if b > spec.lo && b < spec.hi {
                    out.push(b);
                }
            }
        }
    }
    Ok(out)
}
