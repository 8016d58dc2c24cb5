//! Tests of the engine: Monte-Carlo traces, engines from contexts, log-space free energies,
//! compiled and tree-evaluated integrands.

use super::*;
use crate::check::engine_for;
use crate::check::spec::load_str;

fn engine(defs: &str) -> Engine {
    let text = format!(
        "title = \"t\"\n[variables]\nz = \"-inf..inf\"\n[definitions]\n{defs}\n[[check]]\nname = \"n\"\nclaim = \"C5\"\nkind = \"equal\"\nlhs = \"1\"\nrhs = \"1\"\n"
    );
    let file = load_str("t", &text).unwrap_or_else(|e| panic!("{e:?}"));
    engine_for(&file).expect("engine")
}

fn value(e: &Engine, src: &str, point: &[(&str, f64)]) -> Value {
    let parsed = expr::parse(src).expect("parses");
    let prepared = e.prepare(&parsed).expect("prepares");
    let p: Point = point.iter().map(|(k, v)| ((*k).to_string(), *v)).collect();
    e.eval(&prepared, &p)
        .unwrap_or_else(|err| panic!("{src}: {err}"))
}

/// The trace of a Monte-Carlo average is the draws `eval` averaged: same seed, same mean,
/// `n` values over the chains; an expression without a top-level `mc` has none.
#[test]
fn monte_carlo_trace_reproduces_the_estimate() {
    let e = engine("\"E(z)\" = \"0.5*(z - 1)^2\"");
    let src = "2 + mc[z ~ exp(-beta*E(z)); n = 4000](z^2)";
    let prepared = e
        .prepare(&expr::parse(src).expect("parses"))
        .expect("prepares");
    let p: Point = [("beta".to_string(), 2.0)].into_iter().collect();
    let v = e.eval(&prepared, &p).expect("evaluates");
    let trace = e
        .monte_carlo_trace(&prepared, &p)
        .expect("evaluates")
        .expect("has an mc average");
    let n: usize = trace.iter().map(Vec::len).sum();
    assert_eq!(n, 4000);
    let mean = trace.iter().flatten().sum::<f64>() / 4000.0;
    assert!(
        (2.0 + mean - v.value).abs() < 1e-12,
        "{mean} vs {}",
        v.value
    );
    // ⟨z²⟩ = 1 + 1/β under the Gaussian at β = 2.
    assert!(
        (mean - 1.5).abs() < 5.0 * v.std_error,
        "{mean} ± {}",
        v.std_error
    );
    let none = e
        .prepare(&expr::parse("int[z](exp(-E(z)))").expect("parses"))
        .expect("prepares");
    assert!(e.monte_carlo_trace(&none, &p).expect("evaluates").is_none());
}

/// An engine from a context: parameters come from the context, a primed variable takes its
/// base name's domain, an integer domain is summed; the ML gradient of a Gibbs family
/// `exp(-w k)/Z` on k = 0..2 is `k_data - <k>`.
#[test]
fn engine_from_context_uses_domains_and_parameters() {
    let mut ctx = Context::new();
    ctx.set_param("w", 0.4);
    ctx.add_definition(expr::parse_definition("E(k) = w*k").expect("parses"))
        .expect("adds");
    let domains: BTreeMap<String, VarDomain> =
        [("k".to_string(), VarDomain::Integer { lo: 0, hi: 2 })]
            .into_iter()
            .collect();
    let e = Engine::new(ctx, domains);
    assert_eq!(e.params().number("w"), Some(0.4));
    let grad = value(&e, "diff[w](E(2)) - expect[k' ~ exp(-E(k'))](k')", &[]);
    let weights: Vec<f64> = (0..3).map(|k| (-0.4 * f64::from(k)).exp()).collect();
    let mean = (weights[1] + 2.0 * weights[2]) / weights.iter().sum::<f64>();
    assert!((grad.value - (2.0 - mean)).abs() <= grad.error.max(1e-14));
    let loss = e
        .prepare(&expr::parse("E(2) + log(sum[k'](exp(-E(k'))))").expect("parses"))
        .expect("prepares");
    let fd = e
        .richardson(&loss, &Point::new(), "w")
        .expect("differences");
    assert!((fd.value - grad.value).abs() <= fd.error + grad.error);
}

/// The reported error bound covers the true error of a Gaussian free energy, in log space
/// at large β where `Z` itself underflows.
#[test]
fn log_space_free_energy_is_exact_where_z_underflows() {
    let e = engine("\"E(z)\" = \"(z - 0.3)^2 + 1\"");
    for beta in [0.5, 10.0, 1e3, 1e5] {
        let f = value(
            &e,
            "-1/beta*log(int[z](exp(-beta*E(z))))",
            &[("beta", beta)],
        );
        let exact = 1.0 - 0.5 * (std::f64::consts::PI / beta).ln() / beta;
        assert!(
            (f.value - exact).abs() <= f.error.max(4.0 * f64::EPSILON),
            "β = {beta}: {} vs {exact} ± {}",
            f.value,
            f.error
        );
        assert!(f.converged());
    }
    // Linear space (a factor of unknown sign keeps the logarithm literal) agrees where Z is
    // representable …
    let lin = value(
        &e,
        "-1/beta*log(sign(beta)*int[z](exp(-beta*E(z))))",
        &[("beta", 10.0)],
    );
    let log = value(
        &e,
        "-1/beta*log(int[z](exp(-beta*E(z))))",
        &[("beta", 10.0)],
    );
    assert!((lin.value - log.value).abs() <= lin.error + log.error);
    // … and fails honestly where it is not (Z = e^{-1e5}·… underflows to 0).
    let parsed = expr::parse("-1/beta*log(sign(beta)*int[z](exp(-beta*E(z))))").expect("parses");
    let p: Point = [("beta".to_string(), 1e5)].into_iter().collect();
    assert!(e.eval(&e.prepare(&parsed).expect("prepares"), &p).is_err());
    // A positive factor is split off: `log(1*Z)` is `log 1 + log Z`, in log space.
    let split = value(
        &e,
        "-1/beta*log(1*int[z](exp(-beta*E(z))))",
        &[("beta", 1e5)],
    );
    let exact = 1.0 - 0.5 * (std::f64::consts::PI / 1e5).ln() / 1e5;
    assert!((split.value - exact).abs() <= split.error.max(4.0 * f64::EPSILON));
}

/// An integrand the compiler cannot take (it holds a bound operator) is evaluated through the
/// tree and gives the same integral.
#[test]
fn compiled_and_tree_integrands_agree() {
    let e = engine("\"E(z)\" = \"(z^2 - 1)^2 + 0.3*z\"");
    let compiled = value(&e, "log(int[z](exp(-beta*E(z))))", &[("beta", 3.0)]);
    let tree = value(
        &e,
        "log(int[z](exp(-beta*E(z) - min[u = 0..1](u^2 + 0*z))))",
        &[("beta", 3.0)],
    );
    assert!(
        (compiled.value - tree.value).abs() <= 2.0 * (compiled.error + tree.error) + 1e-10,
        "{compiled:?} vs {tree:?}"
    );
}

/// `d log Z/dβ = -⟨E⟩`: the symbolic route under the integral sign, the finite-difference
/// route, and the expectation agree.
#[test]
fn derivative_routes_agree_with_the_thermodynamic_identity() {
    let e = engine("\"E(z)\" = \"(z^2 - 1)^2 + 0.3*z\"");
    let d = value(
        &e,
        "diff[beta](log(int[z](exp(-beta*E(z)))))",
        &[("beta", 2.0)],
    );
    let mean = value(&e, "-expect[z ~ exp(-beta*E(z))](E(z))", &[("beta", 2.0)]);
    assert!(
        (d.value - mean.value).abs() <= 2.0 * (d.error + mean.error),
        "{d:?} vs {mean:?}"
    );
    let parsed = expr::parse("log(int[z](exp(-beta*E(z))))").expect("parses");
    let prepared = e.prepare(&parsed).expect("prepares");
    let p: Point = [("beta".to_string(), 2.0)].into_iter().collect();
    let fd = e.richardson(&prepared, &p, "beta").expect("fd");
    assert!(
        (fd.value - mean.value).abs() <= 2.0 * (fd.error + mean.error),
        "{fd:?} vs {mean:?}"
    );
}

/// A sum with explicit limits over a body holding an integral evaluates each term at its own
/// value of the index (bound nodes are cached per bindings, not per node).
#[test]
fn sums_over_integrals_evaluate_every_term() {
    let e = engine("\"E(z)\" = \"z^2\"");
    // Σ_{k=1..3} log ∫ exp(-k z²) dz = Σ ½ log(π/k)
    let v = value(&e, "sum[k = 1..3](log(int[z](exp(-k*E(z)))))", &[]);
    let exact: f64 = (1..=3)
        .map(|k| 0.5 * (std::f64::consts::PI / f64::from(k)).ln())
        .sum();
    assert!(
        (v.value - exact).abs() <= v.error + 1e-14,
        "{v:?} vs {exact}"
    );
}

/// The error of a constant hoisted out of an integrand (here the normaliser) and of inner
/// integrals in a tree-evaluated energy reaches the outer value's bound.
#[test]
fn hoisted_and_inner_errors_are_carried() {
    let e = engine("\"E(z)\" = \"(z^2 - 1)^2\"");
    let normaliser = value(&e, "int[u = -inf..inf](exp(-2*E(u)))", &[]);
    let ratio = value(
        &e,
        "int[z](exp(-2*E(z)) / int[u = -inf..inf](exp(-2*E(u))))",
        &[],
    );
    assert!((ratio.value - 1.0).abs() <= ratio.error, "{ratio:?}");
    assert!(
        ratio.error >= normaliser.error / normaliser.value,
        "{ratio:?} vs {normaliser:?}"
    );
    // An outer integral over a slice free energy carries the inner errors.
    let inner = value(
        &e,
        "log(int[u = -inf..inf](exp(-2*E(u) - 0.5*v^2)))",
        &[("v", 0.0)],
    );
    let outer = value(
        &e,
        "log(int[v = -inf..inf](exp(log(int[u = -inf..inf](exp(-2*E(u) - 0.5*v^2))))))",
        &[],
    );
    assert!(outer.error >= inner.error, "{outer:?} vs {inner:?}");
    let exact = value(
        &e,
        "log(int[u = -inf..inf](exp(-2*E(u)))) + 0.5*log(2*pi)",
        &[],
    );
    assert!(
        (outer.value - exact.value).abs() <= outer.error + exact.error,
        "{outer:?} vs {exact:?}"
    );
}

#[test]
fn log_sum_exp_of_a_sum_does_not_underflow() {
    let e = engine("\"E(k)\" = \"(k - 1)^2 + 5\"");
    let v = value(
        &e,
        "-1/beta*log(sum[k = 0..2](exp(-beta*E(k))))",
        &[("beta", 1e4)],
    );
    assert!((v.value - 5.0).abs() < 1e-12, "{v:?}");
}

fn error(e: &Engine, src: &str) -> EngineError {
    let parsed = expr::parse(src).expect("parses");
    let prepared = e.prepare(&parsed).expect("prepares");
    match e.eval(&prepared, &Point::new()) {
        Ok(v) => panic!("{src}: expected an error, got {}", v.value),
        Err(err) => err,
    }
}

/// An engine error keeps its kind, the span of the innermost part that failed (a bound
/// operator, an operation without a real value, a definition inlined at its call) and its help.
#[test]
fn errors_keep_their_span_and_help() {
    let e = engine("\"E(z)\" = \"-z\"");
    let src = "1 + int[z](exp(-E(z)))";
    let err = error(&e, src);
    assert_eq!(err.kind, EngineErrorKind::Diverges, "{err}");
    assert_eq!(
        err.span.map(|s| &src[s.start..s.end]),
        Some("int[z](exp(-E(z)))")
    );
    assert!(
        err.help.as_deref().is_some_and(|h| h.contains("`z`")),
        "{err:?}"
    );
    // A sum's limits beyond ±2^53 point at its variable; a `log` of a negative number at the
    // `log`, with the expression language's help.
    // An integrand that is not exp(-U) alone (integrated as a sign times exp(log|f|)) names its
    // own variable where it diverges, not the quadrature's internal `z1`.
    let src = "int[u = 0..1](1/(u - 1))";
    let err = error(&e, src);
    assert_eq!(err.kind, EngineErrorKind::Diverges, "{err}");
    assert!(
        err.message.contains("`u` = 1") && !err.message.contains("z1"),
        "{err}"
    );
    assert!(
        err.help.as_deref().is_some_and(|h| h.contains("`u`")),
        "{err:?}"
    );
    // … and in the integrand's words, since no energy was written.
    for src in ["int[u = 0..1](1/(u - 1))", "int[u = 1..inf](1/u)"] {
        let err = error(&e, src);
        assert_eq!(err.kind, EngineErrorKind::Diverges, "{src}: {err}");
        assert!(
            err.message.starts_with("the integral diverges: |f|")
                && !err.message.contains("energy")
                && !err.message.contains("βE"),
            "{src}: {err}"
        );
        assert!(
            err.help
                .as_deref()
                .is_some_and(|h| h.contains("|f| must be integrable")),
            "{src}: {err:?}"
        );
    }
    // An integrand exp(-U) keeps the energy's words.
    let err = error(&e, "int[u = 0..inf](exp(u))");
    assert!(err.message.contains("exp(-βE)"), "{err}");
    let src = "2 * sum[k = 0..1e300](k)";
    let err = error(&e, src);
    assert_eq!(err.span.map(|s| &src[s.start..s.end]), Some("k"), "{err}");
    let src = "int[z](exp(-z^2)) + log(-1 - int[z](exp(-z^2)))";
    let err = error(&e, src);
    assert_eq!(err.kind, EngineErrorKind::NoRealValue, "{err}");
    assert_eq!(
        err.span.map(|s| &src[s.start..s.end]),
        Some("log(-1 - int[z](exp(-z^2)))")
    );
    assert!(err.help.is_some(), "{err:?}");
    // A minimum that does not exist is placed at the `min` and says so.
    let src = "min[z](z)";
    let err = error(&e, src);
    assert_eq!(err.kind, EngineErrorKind::Diverges, "{err}");
    assert_eq!(err.span.map(|s| &src[s.start..s.end]), Some(src));
    assert!(
        err.help
            .as_deref()
            .is_some_and(|h| h.contains("bounded below")),
        "{err:?}"
    );
}

/// A sum takes the integers in `[lo, hi]` on every path: the expression evaluator's (a closed
/// body), the engine's (a body holding an integral; it used to round the limits, so
/// `sum[k = 0..2.6]` ran to 3 there and to 2 in the evaluator) and an integer domain's.
#[test]
fn every_sum_takes_the_same_integers() {
    let e = engine("\"G(w)\" = \"int[z](exp(-w*z^2))\"");
    let closed = value(&e, "sum[k = 0.5..2.6](k)", &[]);
    assert!(
        (closed.value - 3.0).abs() <= closed.error,
        "{}",
        closed.value
    );
    let root_pi = std::f64::consts::PI.sqrt();
    let nested = value(&e, "sum[k = 0.5..2.6](k * G(1))", &[]);
    assert!(
        (nested.value - 3.0 * root_pi).abs() <= nested.error.max(1e-12),
        "{} vs {}",
        nested.value,
        3.0 * root_pi
    );
}

/// A certifying engine: an integral's value is the midpoint of a certified enclosure of its
/// `log Z` and its error the half-width, which covers the closed form in 1D and 2D (and is
/// wider than the uncertified quadrature's claimed error, so it is the enclosure speaking);
/// whatever has no certified value is a `NotCertified` error, never an uncertified number.
#[test]
fn certified_integrals_enclose_the_truth_and_the_rest_is_refused() {
    let plain = engine("\"E(z)\" = \"0.5*z^2\"");
    let e = plain.certified(true);
    assert!(e.certifies() && !plain.certifies());
    for beta in [0.5, 2.0] {
        let p = [("beta", beta)];
        let truth = 0.5 * (2.0 * std::f64::consts::PI / beta).ln();
        let v = value(&e, "log(int[z](exp(-beta*E(z))))", &p);
        assert!(v.converged(), "{v:?}");
        assert!((v.value - truth).abs() <= v.error, "{v:?} vs {truth}");
        assert!(v.error <= CERTIFY_WIDTH_1D, "{v:?}");
        let q = value(&plain, "log(int[z](exp(-beta*E(z))))", &p);
        assert!(
            v.error > 10.0 * q.error,
            "certified {v:?}, quadrature {q:?}"
        );
        // Z itself, out of log space.
        let z = value(&e, "int[z](exp(-beta*E(z)))", &p);
        assert!((z.value - truth.exp()).abs() <= z.error, "{z:?}");
    }
    // 2D, correlated: log Z = log(2π / (β √3)).
    let two = "log(int[x = -inf..inf, y = -inf..inf](exp(-beta*(x^2 + y^2 + x*y))))";
    let v = value(&e, two, &[("beta", 1.0)]);
    let truth = (2.0 * std::f64::consts::PI / 3f64.sqrt()).ln();
    assert!(v.converged() && (v.value - truth).abs() <= v.error, "{v:?}");
    assert!(v.error <= CERTIFY_WIDTH_2D, "{v:?}");
    // No certified value: each is refused with the reason.
    let refused = [
        (
            "log(int[x = -inf..inf, y = -inf..inf, w = -inf..inf](exp(-(x^2 + y^2 + w^2))))",
            "3 continuous variables",
        ),
        (
            "log(int[z](exp(-E(z) + log(int[w = -inf..inf](exp(-(1 + z^2)*w^2))))))",
            "holds another bound operator",
        ),
        ("int[z](z^2*exp(-E(z)))", "not of exp(-U) alone"),
        ("expect[z ~ exp(-E(z))](z^2)", "an expectation"),
        ("mc[z ~ exp(-E(z)); n = 100](z)", "Monte-Carlo"),
        // Nothing bounds a flat valley's mass within the budget.
        (
            "log(int[x = -inf..inf, y = -inf..inf](exp(-(y - x^2)^2 - 1e-3*x^2)))",
            "nothing bounds it above",
        ),
    ];
    let p: Point = [("beta".to_string(), 1.0)].into_iter().collect();
    for (src, why) in refused {
        let prepared = e
            .prepare(&expr::parse(src).expect("parses"))
            .expect("prepares");
        match e.eval(&prepared, &p) {
            Err(err) => {
                assert_eq!(err.kind, EngineErrorKind::NotCertified, "{src}: {err}");
                assert!(err.message.contains(why), "{src}: {err}");
            }
            Ok(v) => panic!("{src}: an uncertified value {v:?}"),
        }
        // The same expression has a value without `certify` (the refusal is certification's).
        if !why.contains("bounds it") {
            assert!(plain.eval(&prepared, &p).is_ok(), "{src}");
        }
    }
    // A minimum keeps its certified gap: the closed form lies within it.
    let m = value(&e, "min[z](E(z - beta) + beta)", &[("beta", 0.7)]);
    assert!(m.converged() && (m.value - 0.7).abs() <= m.error, "{m:?}");
    // A sum over the integers is exact to its rounding bound, certified or not.
    let s = value(&e, "sum[k = 0..20](exp(-k))", &[]);
    let truth = (1.0 - (-21f64).exp()) / (1.0 - (-1f64).exp());
    assert!(
        s.converged() && (s.value - truth).abs() <= 4.0 * f64::EPSILON,
        "{s:?}"
    );
}

/// A minimum over an integer variable of an energy with an inner integral that depends on it
/// (so the integral is evaluated at every point, not hoisted) carries the inner integral's
/// error: the value found is only as good as the integral at the minimiser, and a minimiser
/// whose rival is within that error is not known to better than their distance.
#[test]
fn a_minimum_over_inner_integrals_carries_their_errors() {
    let ctx = Context::new();
    let domains: BTreeMap<String, VarDomain> =
        [("k".to_string(), VarDomain::Integer { lo: 0, hi: 3 })]
            .into_iter()
            .collect();
    let e = Engine::new(ctx, domains);
    let m = value(
        &e,
        "min[k]((k - 1)^2 + int[u = 0..1](sqrt(abs(u - 0.3*k))))",
        &[],
    );
    let inner = value(&e, "int[u = 0..1](sqrt(abs(u - 0.3)))", &[]);
    assert!(inner.error > 0.0, "{inner:?}");
    assert!((m.value - inner.value).abs() <= 1e-15, "{m:?} vs {inner:?}");
    assert!(m.error >= inner.error, "{m:?} vs {inner:?}");
    // k = 1 and k = 2 differ by 1e-12, far below the inner integrals' errors (which are
    // the same integral at both points).
    let a = value(
        &e,
        "argmin[k]((k - 1.5)^2 + 1e-12*k + int[u = 0..1](sqrt(abs(u - 0.3*abs(k - 1.5)))))",
        &[],
    );
    assert!((a.value - 1.0).abs() < 1e-12 && a.error >= 1.0, "{a:?}");
}
