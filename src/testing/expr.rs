//! Test support for the `expr` module: strategies, tolerances and reference problems.

use proptest::prelude::*;

/// Absolute tolerance of a symbolic derivative against a central difference.
pub const DIFF_ABS: f64 = 1e-6;
/// Relative tolerance (to `|f| + |f'|`) of a symbolic derivative against a central difference.
pub const DIFF_REL: f64 = 1e-5;
/// Relative step of the central difference: `h = DIFF_STEP * max(1, |x|)`.
pub const DIFF_STEP: f64 = 1e-5;
/// Relative tolerance of the compiled evaluator against the tree evaluator.
pub const COMPILED_REL: f64 = 1e-12;
/// Relative tolerance of dual-number derivatives against evaluated symbolic derivatives
/// (the two differ only by rounding, amplified by cancellation in long sums).
pub const DUAL_REL: f64 = 1e-9;

/// The variables of generated expressions.
pub const VARS: [&str; 2] = ["x", "y"];

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..40).prop_map(|n| format!("{}", f64::from(n) / 8.0)),
        Just("x".to_string()),
        Just("y".to_string()),
        Just("pi".to_string()),
    ]
}

/// Source text of random expressions in `x` and `y` that have a real, finite value and are
/// differentiable almost everywhere for `|x|, |y| <= 3`: logarithms and roots only of positive
/// arguments by construction (`log(1 + u^2)`), exponentials only of bounded arguments.
pub fn well_defined_expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} + {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} - {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} * {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} / (1 + {b}^2))")),
            inner.clone().prop_map(|a| format!("(-{a})")),
            inner.clone().prop_map(|a| format!("({a})^2")),
            inner.clone().prop_map(|a| format!("tanh({a})^3")),
            inner.clone().prop_map(|a| format!("exp(tanh({a}))")),
            inner.clone().prop_map(|a| format!("log(1 + ({a})^2)")),
            inner.clone().prop_map(|a| format!("log1p(sigmoid({a}))")),
            inner.clone().prop_map(|a| format!("sqrt(1 + ({a})^2)")),
            inner.clone().prop_map(|a| format!("softplus({a})")),
            inner.clone().prop_map(|a| format!("expm1(sin({a}))")),
            inner
                .clone()
                .prop_map(|a| format!("cos({a})*sinh(tanh({a}))")),
            inner.clone().prop_map(|a| format!("cosh(sigmoid({a}))")),
            inner.clone().prop_map(|a| format!("tan(tanh({a}))")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("min({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("max({a}, {b}, {c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("logsumexp({a}, {b})")),
            (inner.clone(), 2u32..5).prop_map(|(a, n)| format!("(1 + ({a})^2)^(-{n}/2)")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("(1 + sigmoid({a}))^tanh({b})")),
        ]
    })
}

/// Expressions that also contain bound operators, nested in each other (in bodies, in limits,
/// in the density of an expectation), next to unary minus, powers and products written without
/// parentheses, with primed names and Unicode forms: for print/parse round trips.
pub fn expr_with_bound_operators() -> impl Strategy<Value = String> {
    well_defined_expr().prop_recursive(3, 24, 2, |inner| {
        (inner.clone(), inner, 0usize..16).prop_map(|(a, b, k)| match k {
            // `b` may bind `t` again (case 0 nested): the limits then do not depend on this `t`.
            0 => format!("int[t = -inf..{b}]({a}*t)"),
            1 => format!("sum[k = 0..2](c[k]*{a})"),
            2 => format!("min[z]({a} + z^2)"),
            3 => format!("argmin[z, ]({a} + z^2)").replace(", ]", "]"),
            4 => format!("diff[x]({a})"),
            5 => format!("lim[y -> inf]({a})"),
            6 => format!("expect[z, w ~ exp(-z^2 - w^2)]({a} + {b})"),
            7 => format!("mc[z ~ exp(-z^2); n = 7]({a})"),
            8 => format!("∫[z](∂[x]({a}) + β)"),
            9 => format!("max[z = 0..1]({a}*z)"),
            10 => format!("int[y = 0..1, z](({a})*({b}))"),
            11 => format!("-int[z]({a})^2"),
            12 => format!("({a})*sum[k = 1..3](({b})/k)"),
            13 => format!("expect[y' ~ exp(-(1 + ({b})^2)*y'^2)](diff[w](({a})*w*y'))"),
            14 => format!("mc[z ~ exp(-z^2 - ({b})^2); n = 3](min[u]({a} + (u - z)^2))"),
            _ => format!("lim[beta -> inf](-1/beta*log(int[z](exp(-beta*(({a}) + z^2)))))"),
        })
    })
}

/// A point where generated expressions are evaluated.
pub fn point() -> impl Strategy<Value = (f64, f64)> {
    (-3.0..3.0f64, -3.0..3.0f64)
}

/// Arbitrary short text from the characters the lexer knows, and some it does not.
pub fn random_text() -> impl Strategy<Value = String> {
    const CHARS: &[char] = &[
        'a', 'b', 'x', 'y', 'z', 'e', 'p', 'i', 'n', 'f', '0', '1', '2', '9', '+', '-', '*', '/',
        '^', '(', ')', '[', ']', ',', '.', '=', '~', ';', '\'', ' ', '∫', 'Σ', '∂', 'β', 'π', '→',
        '$', 'é', '\n', '>', '_',
    ];
    proptest::collection::vec(proptest::sample::select(CHARS), 0..40)
        .prop_map(|v| v.into_iter().collect())
}

/// Random sequences of the language's tokens, glued with or without spaces.
pub fn token_soup() -> impl Strategy<Value = String> {
    const TOKENS: &[&str] = &[
        "x",
        "y'",
        "β",
        "c",
        "k",
        "1",
        "0.5",
        "1e-3",
        "inf",
        "pi",
        "+",
        "-",
        "*",
        "/",
        "^",
        "(",
        ")",
        "[",
        "]",
        ",",
        "=",
        "..",
        "~",
        ";",
        "->",
        "int",
        "sum",
        "min",
        "max",
        "argmin",
        "diff",
        "lim",
        "expect",
        "mc",
        "exp",
        "log",
        "logsumexp",
        "softplus",
        "F",
        "n",
    ];
    proptest::collection::vec((0..TOKENS.len(), any::<bool>()), 0..30).prop_map(|v| {
        v.into_iter()
            .map(|(i, space)| {
                if space {
                    format!("{} ", TOKENS[i])
                } else {
                    TOKENS[i].to_string()
                }
            })
            .collect()
    })
}

/// Inputs of the compiled evaluator's tests: ordinary values, and the edge values its NaN policy
/// is about (NaN, infinities, signed zeros, subnormals, values whose squares overflow).
pub fn edge_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => -3.0..3.0f64,
        1 => proptest::sample::select(vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            -1e300,
            1e154,
            1e-310,
            f64::MAX,
        ]),
    ]
}

/// Source text of expressions in `x` and `y` shaped to exercise every fused instruction of the
/// compiled evaluator (`(a + c)^2`, `a + b^2`, `a ± c*b`, `a^2 + b^2`, `a^2 + c*b`,
/// `a^2 + b^2 + c`), with operands that are inputs or computed, used once or shared.
pub fn fusable_expr() -> impl Strategy<Value = String> {
    let operand = proptest::sample::select(vec![
        "x", "y", "(x*y)", "exp(x)", "(x - y)", "sin(y)", "x^3",
    ]);
    let shapes = proptest::sample::select(vec![
        "({a} + {c})^2",
        "{a} + {b}^2",
        "{b}^2 + {a}",
        "{a} - {c}*{b}",
        "{a} + {c}*{b}",
        "{c}*{b} + {a}",
        "{a}^2 + {b}^2",
        "{a}^2 + {c}*{b}",
        "{c}*{b} + {a}^2",
        "{a}^2 - {c}*{b}",
        "{a}^2 + {b}^2 + {c}",
        "{a}^2 + {b}^2 - {c}",
        "({a}^2 + {b}^2 - {c})^2 + {c}*{a}",
        "({a}^2 + {b}^2 - 1)^2 + 0.2*{a} + log(1 + exp({b}))",
        "{a}^2*({a}^2 + {b}) + {c}*{a}^2",
        "0.5*({a} - {c}*{b})^2 + 0.5*{c}*{b}^2 + log(1 + exp({b}))",
    ]);
    (
        shapes,
        operand.clone(),
        operand,
        (-8i32..8).prop_map(|n| f64::from(n) / 4.0),
    )
        .prop_map(|(shape, a, b, c)| {
            shape
                .replace("{a}", a)
                .replace("{b}", b)
                .replace("{c}", &format!("({c})"))
        })
}

/// Whether a compiled value agrees with the tree evaluator's: both NaN, the same infinity, or
/// within [`COMPILED_REL`] relative to the larger magnitude (absolute below 1).
pub fn compiled_agrees(got: f64, want: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got.is_infinite()
            && want.is_infinite()
            && got.is_sign_positive() == want.is_sign_positive();
    }
    (got - want).abs() <= COMPILED_REL * got.abs().max(want.abs()).max(1.0)
}

/// A box `[x_lo, x_hi] × [y_lo, y_hi]` inside `[-3, 3]²` (some of zero width, some wide) and a
/// point of it given by fractions `(s, t)` in `[0, 1]²`, for interval-enclosure tests.
pub fn box_and_point() -> impl Strategy<Value = ([(f64, f64); 2], (f64, f64))> {
    let side = (
        -3.0..3.0f64,
        prop_oneof![Just(0.0), 0.0..0.1f64, 0.0..6.0f64],
    )
        .prop_map(|(lo, w): (f64, f64)| (lo, (lo + w).min(3.0)));
    ((side.clone(), side), (0.0..=1.0f64, 0.0..=1.0f64)).prop_map(|((a, b), st)| ([a, b], st))
}

/// A number as source text, parenthesised when negative.
fn num(x: f64) -> String {
    if x < 0.0 {
        format!("({x:?})")
    } else {
        format!("{x:?}")
    }
}

/// Source text of a quadratic form in `x` and `y` that reads each variable several times:
/// random curvatures (log-uniform over 1e-2..1e3, either sign), correlation up to 1.5 times
/// the definite limit (so definite, semi-definite and indefinite forms all occur), centre in
/// `[-40, 40]²`; either alone or as the negated terms of a two-component `-logsumexp`
/// mixture, for enclosure tests of the Taylor models.
pub fn quadratic_form() -> impl Strategy<Value = String> {
    let curvature = (any::<bool>(), -2.0..3.0f64)
        .prop_map(|(neg, u): (bool, f64)| if neg { -(10f64.powf(u)) } else { 10f64.powf(u) });
    let form = (
        curvature.clone(),
        curvature,
        -1.5..1.5f64,
        (-40.0..40.0f64, -40.0..40.0f64),
        -5.0..5.0f64,
    )
        .prop_map(|(a, c, r, (m, n), k)| {
            let b = 2.0 * r * (a * c).abs().sqrt();
            let (x, y) = (format!("(x - {})", num(m)), format!("(y - {})", num(n)));
            format!(
                "{} + {}*{x}^2 + {}*{x}*{y} + {}*{y}^2",
                num(k),
                num(a),
                num(b),
                num(c)
            )
        });
    prop_oneof![
        form.clone(),
        (form.clone(), form).prop_map(|(f, g)| format!("-logsumexp(-({f}), -({g}))")),
    ]
}

/// A box in `x` and `y` whose sides may be infinite at either end (a ray, the whole line), and
/// a point of it, for enclosure tests over unbounded boxes.
pub fn unbounded_box_and_point() -> impl Strategy<Value = ([(f64, f64); 2], (f64, f64))> {
    let side = (
        0u8..4,
        -50.0..50.0f64,
        0.0..30.0f64,
        0.0..=1.0f64,
        0.0..200.0f64,
    )
        .prop_map(|(kind, lo, w, t, far)| match kind {
            0 => ((lo, lo + w), lo + t * w),
            1 => ((lo, f64::INFINITY), lo + far),
            2 => ((f64::NEG_INFINITY, lo), lo - far),
            _ => ((f64::NEG_INFINITY, f64::INFINITY), lo),
        });
    (side.clone(), side).prop_map(|((a, s), (b, t))| ([a, b], (s, t)))
}
