//! Tests of the Taylor models of quadratic parts ([`super::quadratic`]): exact ranges of
//! correlated quadratics over boxes, rays and the whole plane (closed forms), in up to four
//! variables, and soundness on random quadratic forms and mixtures over unbounded boxes.

use super::*;
use crate::expr::{Interval, parse};
use crate::testing::expr::{VARS, quadratic_form, unbounded_box_and_point};
use proptest::prelude::*;

fn program(src: &str, inputs: &[&str]) -> Program {
    let e = parse(src).unwrap_or_else(|e| panic!("{}", e.render(src, "")));
    Program::compile(&e, inputs, &Bindings::new())
        .unwrap_or_else(|e| panic!("{}", e.render(src, "")))
}

fn iv(lo: f64, hi: f64) -> Interval {
    Interval::new(lo, hi)
}

/// `781·u² + 890·u·v + 305·v²` at `u = z1 - 1`, `v = z2 - 2`: positive definite (4·781·305 >
/// 890²), minimum 0 at (1, 2). Plain intervals read `u` and `v` twice: over `[0, 2] × [1, 3]`
/// they give `890·[-1, 1]` for the cross term, a lower bound of -890.
const FORM: &str = "781*(z1 - 1)^2 + 890*(z1 - 1)*(z2 - 2) + 305*(z2 - 2)^2";

fn form(u: f64, v: f64) -> f64 {
    781.0 * u * u + 890.0 * u * v + 305.0 * v * v
}

#[test]
fn a_correlated_quadratic_gets_its_exact_range_around_its_minimum() {
    let p = program(FORM, &["z1", "z2"]);
    let enc = p.eval_interval(&[iv(0.0, 2.0), iv(1.0, 3.0)]);
    assert!(enc.lo <= 0.0 && enc.lo >= -1e-9, "{enc:?}");
    // Convex: the maximum is at a vertex.
    let top = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
        .iter()
        .map(|&(u, v)| form(u, v))
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(
        enc.hi >= top && enc.hi <= top * (1.0 + 1e-12),
        "{enc:?} against {top}"
    );
}

#[test]
fn a_correlated_quadratic_over_a_ray_is_bounded_by_its_face() {
    let p = program(FORM, &["z1", "z2"]);
    let enc = p.eval_interval(&[iv(1.5, f64::INFINITY), Interval::ENTIRE]);
    // The minimum lies on the face z1 = 1.5 (u = 0.5): min over v of 781u² + 890uv + 305v².
    let u = 0.5;
    let exact = 781.0 * u * u - (890.0 * u) * (890.0 * u) / (4.0 * 305.0);
    assert!(
        enc.lo <= exact && enc.lo >= exact - 1e-9 * exact,
        "{enc:?} against {exact}"
    );
    assert!(enc.hi.is_infinite(), "{enc:?}");
}

#[test]
fn a_mixture_of_correlated_quadratics_is_bounded_over_the_whole_plane() {
    // E = -log(e^{-q1} + e^{-1-q2}) ≥ -log(1 + e^{-1}); plain intervals give -inf (∞ - ∞ in
    // each cross term).
    let src =
        format!("-logsumexp(-({FORM}), -1 - 2*(z1 + 3)^2 + 3*(z1 + 3)*(z2 - 1) - 2*(z2 - 1)^2)");
    let p = program(&src, &["z1", "z2"]);
    let enc = p.eval_interval(&[Interval::ENTIRE, Interval::ENTIRE]);
    let floor = -(1.0 + (-1f64).exp()).ln();
    let at_min = p.eval_f64(&[1.0, 2.0]);
    assert!(
        enc.lo >= floor - 1e-9 && enc.lo <= at_min,
        "{enc:?}, floor {floor}, E(1, 2) = {at_min}"
    );
}

#[test]
fn four_correlated_variables_and_the_negated_form() {
    // Hessian: 2 on the diagonal, 1 beside it (positive definite); minimum 0 at the origin.
    let src = "a^2 + b^2 + c^2 + d^2 + a*b + b*c + c*d";
    let p = program(src, &["a", "b", "c", "d"]);
    let b = [iv(-1.0, 1.0); 4];
    let enc = p.eval_interval(&b);
    assert!(enc.lo <= 0.0 && enc.lo >= -1e-12, "{enc:?}");
    // Plain intervals: -3 from the three cross terms.
    let neg = program(&format!("-({src})"), &["a", "b", "c", "d"]).eval_interval(&b);
    assert!(neg.hi >= 0.0 && neg.hi <= 1e-12, "{neg:?}");
    // Concave over a bounded box: the lowest vertex, a = b = c = d = ±1, is -7.
    assert!(neg.lo <= -7.0 && neg.lo >= -7.0 - 1e-12, "{neg:?}");
    // Three active coordinates (one a point) use the same models.
    let three = p.eval_interval(&[iv(-1.0, 1.0), iv(-1.0, 1.0), iv(-1.0, 1.0), iv(0.0, 0.0)]);
    assert!(three.lo <= 0.0 && three.lo >= -1e-12, "{three:?}");
}

#[test]
fn forms_read_once_get_no_plan_and_indefinite_forms_keep_plain_bounds() {
    // Each input read once: plain intervals are exact, no models are built.
    assert!(
        program("(x - 1)^2 + 3*(y + 2)^2", &["x", "y"])
            .quad
            .is_none()
    );
    assert!(program(FORM, &["z1", "z2"]).quad.is_some());
    // Indefinite: x² - y² + x·y over [-1, 1]² is within [-1.25, 1.25]; the models state nothing
    // there and the plain enclosure [-3, 3]... contains the range.
    let p = program("x^2 - y^2 + x*y", &["x", "y"]);
    let enc = p.eval_interval(&[iv(-1.0, 1.0), iv(-1.0, 1.0)]);
    assert!(enc.lo <= -1.25 && enc.hi >= 1.25, "{enc:?}");
}

proptest! {
    #![proptest_config(crate::testing::proptest_config(512))]

    /// Over boxes with infinite sides, the enclosure of a random quadratic form or mixture of
    /// two contains its values at a point of the box, at its finite vertices and ends (where
    /// a convex form is largest) and at the point's projections on its finite faces.
    #[test]
    fn quadratic_enclosures_contain_point_values(src in quadratic_form(), (bx, (s, t)) in unbounded_box_and_point()) {
        let e = parse(&src).map_err(|e| TestCaseError::fail(e.render(&src, "")))?;
        let p = Program::compile(&e, &VARS, &Bindings::new()).map_err(|e| TestCaseError::fail(e.message))?;
        let enc = p.eval_interval(&[iv(bx[0].0, bx[0].1), iv(bx[1].0, bx[1].1)]);
        let coords = |(lo, hi): (f64, f64), x: f64| [x, lo, hi].into_iter().filter(|v| v.is_finite()).collect::<Vec<f64>>();
        for x in coords(bx[0], s) {
            for y in coords(bx[1], t) {
                let v = p.eval_f64(&[x, y]);
                // The point's own rounding: a few ulps of the terms' size.
                let slack = 1e-12 * (1.0 + v.abs());
                prop_assert!(v.is_nan() || (enc.lo <= v + slack && v - slack <= enc.hi), "{src} = {v} at ({x}, {y}) outside {enc:?} over {bx:?}");
            }
        }
    }
}
