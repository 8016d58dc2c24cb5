//! The tail and pole probes of the 1D rule: divergent tails and ends refused, heavy tails
//! sent to the exponential map, interior poles refused.

use super::*;

/// What the probes of a line found: a note, heavy tails, singular finite ends (see
/// [`probe_tails`]).
type Probed = (Option<String>, [bool; 2], [f64; 2]);

/// Refuses tails along which `exp(-βE)` does not decay fast enough to be integrable.
///
/// Returns `Some(reason)` for a borderline tail that may not converge, for each infinite end
/// (`[right, left]`) whether its weight decays like a power `|z|^-a` with `1.1 ≤ a < 3` (a
/// logarithmic energy such as Student-t's), to be integrated through an exponential map
/// ([`AxisMap::RightExp`]), and for each finite end where the energy is not finite the power
/// `c` of an integrable singularity `d^-c` of the weight at distance `d` from it when
/// `END_MAP_FROM ≤ c ≤ END_MAP_TO` (NaN otherwise), to be integrated through
/// [`AxisMap::EndLow`] or [`AxisMap::EndHigh`].
pub(super) fn probe_tails(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    beta: f64,
    centre: f64,
    e_star: f64,
    ls: f64,
) -> Result<Probed, QuadError> {
    let axis = line.axis();
    let mut note = None;
    let mut heavy = [false; 2];
    let mut end_slope = [f64::NAN; 2];
    let s = ls.max(centre.abs()).max(line.probe_scale());
    for (side, (end, dir)) in [(hi, 1.0), (lo, -1.0)].into_iter().enumerate() {
        if end.is_infinite() {
            let (r1, r2) = (super::super::PROBE_NEAR * s, super::super::PROBE_FAR * s);
            let (q1, q2) = match (
                line.energy(centre + dir * r1),
                line.energy(centre + dir * r2),
            ) {
                (Ok(e1), Ok(e2)) => (beta * (e1 - e_star), beta * (e2 - e_star)),
                (Err(QuadError::NotANumber { .. }), _) | (_, Err(QuadError::NotANumber { .. }))
                    if line.far_nan_is_artefact() =>
                {
                    continue;
                }
                (Err(e), _) | (_, Err(e)) => return Err(e),
            };
            let mut further = |r: f64| -> Result<f64, QuadError> {
                let z = centre + dir * r * s;
                if !z.is_finite() || z.abs() > 1e300 {
                    return Ok(f64::NAN);
                }
                // A NaN this far out ends the probes instead of failing the integral.
                Ok(line.energy(z).map_or(f64::NAN, |e| beta * (e - e_star)))
            };
            if super::super::ray_decides_divergence(
                q1,
                q2,
                super::super::LINE_DIVERGES_AT,
                &mut further,
            )? {
                return Err(QuadError::Diverges {
                    axis: Some(axis),
                    direction: super::super::direction_name(axis, dir > 0.0),
                });
            }
            if super::super::ray_grows_like_a_power(q1, q2) {
                continue;
            }
            let slope = super::super::ray_slope(q1, q2);
            heavy[side] = slope.is_some_and(|s| (HEAVY_TAIL_SLOPE..EXP_MAP_BELOW).contains(&s));
            if let Some(slope) = slope.filter(|s| *s < HEAVY_TAIL_SLOPE) {
                note = Some(format!(
                    "exp(-βE) decays only like |z|^-{slope:.3} as z{} → {}inf: the tail may be truncated",
                    axis + 1,
                    if dir > 0.0 { "+" } else { "-" }
                ));
            }
        } else {
            // A finite end: refuse E → -inf fast enough to make exp(-βE) non-integrable.
            let width = (hi - lo).min(ls);
            let width = if width.is_finite() { width } else { ls };
            let p = |d: f64| end - dir * d;
            let q1 = beta * (line.energy(p(width * 1e-6))? - e_star);
            let q2 = beta * (line.energy(p(width * 1e-12))? - e_star);
            // A minimum at the end rises from it as steeply (`z` at β = 1e8 falls by 100 over
            // the probes' six decades): an energy finite at the end is no pole there.
            let mut finite_at_end = || line.energy(end).is_ok_and(f64::is_finite);
            // `z^-a` is integrable at 0 only for `a < 1`: the critical slope, less the probes'
            // rounding (a slope of 0.95 was refused once, though `0.95·log z` integrates to 20).
            let critical = 2.0 - super::super::LINE_DIVERGES_AT;
            if q2 == f64::NEG_INFINITY || (q1 - q2) / 1e6f64.ln() >= critical && !finite_at_end() {
                return Err(QuadError::Diverges {
                    axis: Some(axis),
                    direction: format!(
                        "exp(-βE) is not integrable at z{} = {end} (the energy falls to -inf there)",
                        axis + 1
                    ),
                });
            }
            let c = (q1 - q2) / 1e6f64.ln();
            if (END_MAP_FROM..=END_MAP_TO).contains(&c) && !finite_at_end() {
                end_slope[side] = c;
            }
        }
    }
    Ok((note, heavy, end_slope))
}

/// The singularities `d^-c` of the weight at a finite end integrated through the exponential
/// end map ([`AxisMap::EndLow`]): from `c = 0.5` (below, halving the piece next to the end
/// converges fast enough) up to the critical slope. The mass beyond the map's last node, about
/// `e^{-(1-c)·700}` of the piece's, is added to the error (`line::end_map_cut`): for `c`
/// near 1 the result is not converged. `z^-0.946·e^{-0.46z}` claimed ±9.9e-10 with bisection
/// and was 1.65e-9 low (a stress run).
const END_MAP_FROM: f64 = 0.5;
/// See [`END_MAP_FROM`]: the critical slope less the probes' rounding.
const END_MAP_TO: f64 = 2.0 - super::super::LINE_DIVERGES_AT;

/// The decay `|z|^-a` of a tail below which it is reported as possibly truncated, and from
/// which on it is integrated through an exponential map (see [`gk::EXP_MAP_MAX_V`]).
const HEAVY_TAIL_SLOPE: f64 = 1.1;
/// The decay `|z|^-a` from which on a tail keeps the rational map, whose integrand
/// `(1-u)^(a-2)` at `u = 1` is then smooth enough for the rule (the exponential map spends
/// nodes on decades the rational one covers at once: in 2D, `2.5·log(1 + r²)`'s slices, of
/// decay 5, took 95 381 evaluations through it and 54 246 without; below 3 it wins: 544
/// evaluations against 1 804 for `1.1·log(1 + z²)`, 263 476 against 949 236 for
/// `1.6·log(1 + r²)` in 2D, whose slice free energies decay like `|z1|^-2.2`).
const EXP_MAP_BELOW: f64 = 3.0;

/// Refuses a minimiser at which the energy falls to `-inf` fast enough to make `exp(-βE)`
/// non-integrable: a pole inside the domain (`-1/z^2`, `2*log|z|`), which the minimum search
/// finds as a point of very low energy and no quadrature rule can integrate.
///
/// On each side of `m` it measures the fall of `β E` over successive decades of distance
/// `d_k = 10^-k · d_0`, down to a hundred times the minimiser's resolution. The point is a
/// non-integrable pole when every decade's fall is at least `0.95 ln 10` (the integrand grows at
/// least like `|z − m|^-0.95`) and the falls do not shrink towards `m` (each at least 0.9 of the
/// one before): a logarithmic pole keeps them equal and a power pole makes them grow, while a
/// smooth minimum, however narrow, makes them shrink a hundredfold per decade and a cusp
/// `|z − m|^a` by `10^-a`. At least three decades are required, else nothing is concluded.
pub(crate) fn probe_interior_pole(
    line: &mut dyn Line,
    lo: f64,
    hi: f64,
    beta: f64,
    m: f64,
    ls: f64,
) -> Result<(), QuadError> {
    const DECADE_FALL: f64 = 0.95 * std::f64::consts::LN_10;
    // Brent's resolution of a minimiser (see `find_minima`), and room above it.
    let d_last = 100.0 * (1.5e-8 * m.abs() + 1e-14 * ls);
    let d_first = 1e-2 * ls;
    for dir in [-1.0, 1.0] {
        let room = if dir > 0.0 { hi - m } else { m - lo };
        let mut d = d_first.min(0.5 * room);
        if d.is_nan() || d <= 0.0 || d < 1e3 * d_last {
            continue;
        }
        let mut prev_q = beta * line.energy(m + dir * d)?;
        let mut prev_fall = f64::NAN;
        let mut decades = 0;
        let mut pole = true;
        while d * 0.1 >= d_last {
            d *= 0.1;
            let q = beta * line.energy(m + dir * d)?;
            // An energy that overflows to -inf on a whole neighbourhood (`-exp(1/|z|)`), not
            // at one point, falls without bound: exp(-βE) is infinite there.
            let fall = if q == f64::NEG_INFINITY {
                f64::INFINITY
            } else {
                prev_q - q
            };
            if fall.is_nan()
                || fall < DECADE_FALL
                || (prev_fall.is_finite() && fall < 0.9 * prev_fall)
            {
                pole = false;
                break;
            }
            prev_fall = fall;
            prev_q = q;
            decades += 1;
        }
        if pole && decades >= 3 {
            let axis = line.axis();
            return Err(QuadError::Diverges {
                axis: Some(axis),
                direction: format!(
                    "exp(-βE) is not integrable near z{} = {:.6e} (the energy falls to -inf there)",
                    axis + 1,
                    m
                ),
            });
        }
    }
    Ok(())
}
