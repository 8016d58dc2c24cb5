//! The sampler-test battery: is a set of draws distributed as exp(−E)/Z? Moments, region masses,
//! KS/AD, R̂, combined with Holm's correction into `pass` / `fail` / `inconclusive`.
//!
//! Design decisions (documented here because they decide verdicts):
//! * **Standard errors** of moments and masses come from the ESS of the tested functional
//!   ([`ess::ess_mean`], multi-chain, split); with `iid` the ESS is the number of draws.
//!   When the caller knows the exact sd of the functional it is used instead of the sample sd
//!   (better power, and a stuck sampler cannot shrink its own error bar).
//! * **Region masses** use the null standard error sqrt(p(1 − p)/ESS) with the ESS of the
//!   indicator. If the indicator is constant in every chain (a chain stuck in one mode), its ESS is
//!   undefined; we then use the smallest coordinate ESS, which is the conservative choice among
//!   what is known.
//! * **Estimated standard errors.** Unless `iid`, a moment's or mass's MCSE rests on an
//!   estimated τ̂, itself uncertain (relative sd ≈ √(20/ESS), Sokal 1997), so its z-score is
//!   referred to Student's t with ESS/10 degrees of freedom ([`ESS_DOF_FACTOR`]): at ESS 100 a
//!   z of 3.3 has p = 0.008 rather than 0.001. This is what lets the trust floor sit at 100.
//! * **KS / AD** need independent draws. Unless `iid`, each chain is thinned by
//!   ⌈2τ̂(1 + √(20/ESS))⌉ where τ̂ = S/ESS of the statistic: after thinning by 2τ the lag-1
//!   autocorrelation of an AR(1)-like chain is about e⁻⁴ ≈ 0.02, so the i.i.d. p-values stay
//!   calibrated (thinning by τ̂ alone leaves ~0.14 and inflates false alarms several-fold at
//!   α = 1e-4); the factor covers a τ̂ one standard deviation too small.
//! * **Trust.** A test whose ESS is below `min_ess` is not trusted: it cannot make the verdict
//!   `fail`, and it makes a `pass` `inconclusive`. For KS/AD the ESS is that of the statistic
//!   before thinning: it decides whether τ̂, hence the thinning, is reliable; the KS/AD
//!   p-values themselves are valid at any number of (independent) thinned draws.
//! * **R̂** (rank-normalised split, max over coordinates) is a diagnostic, not a p-value: with
//!   ≥ 2 chains and R̂ above [`ess::rhat_threshold`] — max(1.01, √(1 − 1/N' + q·M'/ESS)) for M'
//!   split chains of N' draws, q the 99.9 % point of χ²_{M'−1}/(M'−1): the spread of chain means
//!   the measured ESS allows ([`ess::rhat_check`]) — the verdict cannot be `pass` (it becomes
//!   `inconclusive` with the reason), but trusted rejections still give `fail`.
//! * **Real output.** Unless `iid`, every ESS is the smaller of Geyer's and batch means'
//!   ([`ess::ess_conservative`]); a stored chain whose autocorrelation peaks at a walker stride
//!   (emcee's flat output) is split into its walkers first; no test is trusted while the slowest
//!   coordinate's ESS is below `min_ess`, and region masses and CDF tests in 2–4D use at most
//!   that ESS.
//! * **Reasons.** [`BatteryReport::reason_codes`] lists, machine-readably, every trusted
//!   rejection (`reject`, verdict `fail`) and everything that blocks a `pass` (`low_ess`,
//!   `reject_untrusted`, `rhat`, `undefined`, verdict `inconclusive`), with the value, the
//!   threshold and, for low ESS, about how many more draws would reach the floor.
//! * **Non-finite draws** are a failure on their own (test "finite draws", p = 0).
//!
//! # Example: test a set of draws from your sampler
//! ```
//! use ebmcheck::stats::{BatteryOptions, Draws, Reference, Verdict, run_battery, special};
//! use rand::SeedableRng;
//! use rand_distr::{Distribution, StandardNormal};
//!
//! // Two autocorrelated chains with N(0, 1) marginals (AR(1), φ = 0.5), 20 000 draws each.
//! let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
//! let chains: Vec<Vec<f64>> = (0..2)
//!     .map(|_| {
//!         let mut x = 0.0_f64;
//!         (0..20_000)
//!             .map(|_| {
//!                 let z: f64 = StandardNormal.sample(&mut rng);
//!                 x = 0.5 * x + 0.75_f64.sqrt() * z;
//!                 x
//!             })
//!             .collect()
//!     })
//!     .collect();
//! let draws = Draws::new(1, chains).unwrap();
//! let reference = Reference::new()
//!     .moment("mean of y1", |y| y[0], 0.0, Some(1.0))
//!     .moment("mean of y1^2", |y| y[0] * y[0], 1.0, Some(2f64.sqrt()))
//!     .region("y1 > 1", |y| y[0] > 1.0, special::sf(1.0))
//!     .cdf("y1", |y| y[0], special::cdf);
//! let report = run_battery(&draws, &reference, &BatteryOptions::default()).unwrap();
//! assert_eq!(report.verdict, Verdict::Pass, "{}", report.evidence());
//! println!("{}", report.to_json());
//! ```

use super::{StatsError, ess, gof, test};
pub use ess::Interleaving;
use std::collections::BTreeMap;
use std::ops::Not as _;
use std::sync::Arc;
pub use test::Verdict;
use test::{Mde, StatisticalDecision, TestOutcome};

mod inputs;
mod report;

pub use inputs::{
    Cdf, Draws, ExactCdf, ExactMoment, ExactRegion, Functional, Indicator, Reference,
};
pub use report::{
    BatteryJson, BatteryOptions, BatteryReport, DEFAULT_MIN_ESS, InterleavingJson, Reason,
    ReasonJson, TestJson, assert_battery_passes,
};

/// Largest acceptable rank-normalised split R̂ for four chains (Vehtari et al. 2021); more
/// chains get [`ess::rhat_threshold`].
pub const RHAT_MAX: f64 = ess::RHAT_MAX_FEW_CHAINS;

fn as_refs(v: &[Vec<f64>]) -> Vec<&[f64]> {
    v.iter().map(|c| c.as_slice()).collect()
}

fn mean_of(v: &[Vec<f64>]) -> f64 {
    let n: usize = v.iter().map(|c| c.len()).sum();
    v.iter().flatten().sum::<f64>() / n as f64
}

/// Splits chains that interleave walkers (see [`ess::detect_interleaving`]): each chain is
/// examined coordinate by coordinate and split by the stride of the strongest evidence.
fn deinterleave_draws(draws: &Draws) -> (Draws, Option<Interleaving>) {
    let mut found: Option<Interleaving> = None;
    let mut chains = Vec::new();
    for c in &draws.chains {
        let best = (0..draws.dim)
            .filter_map(|j| {
                let col: Vec<f64> = c.iter().skip(j).step_by(draws.dim).copied().collect();
                ess::detect_interleaving(&col)
            })
            .max_by(|a, b| a.rho_stride.total_cmp(&b.rho_stride));
        match best {
            Some(il) => {
                if found.is_none_or(|f| il.rho_stride > f.rho_stride) {
                    found = Some(il);
                }
                chains.extend(ess::deinterleave(c, draws.dim, il.stride));
            }
            None => chains.push(c.clone()),
        }
    }
    (
        Draws {
            dim: draws.dim,
            names: draws.names.clone(),
            chains,
        },
        found,
    )
}

/// Runs the battery on `draws` against `reference`.
///
/// Unless `iid`: chains whose autocorrelation peaks at a walker stride are split into their
/// walkers first (noted in the report); every ESS is the conservative one
/// ([`ess::ess_conservative`]); no test is trusted while the slowest coordinate's ESS is below
/// `min_ess` (a joint quantity cannot be known better than its slowest coordinate), and region
/// masses and CDF tests in 2–4D use at most that ESS for their standard errors and thinning;
/// R̂ is judged against [`ess::rhat_check`]'s threshold, which accounts for the number of chains.
///
/// # Errors
/// [`StatsError`] for malformed draws or options; statistical outcomes are in the report.
pub fn run_battery(
    draws: &Draws,
    reference: &Reference,
    opts: &BatteryOptions,
) -> Result<BatteryReport, StatsError> {
    draws.validate()?;
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(StatsError::InvalidOption {
            name: "alpha",
            value: opts.alpha,
        });
    }
    if opts.min_ess.is_nan() || opts.min_ess < 0.0 {
        return Err(StatsError::InvalidOption {
            name: "min_ess",
            value: opts.min_ess,
        });
    }
    let n = draws.n();
    let mut decision = StatisticalDecision::new(opts.alpha, opts.min_ess);
    let bad = draws
        .chains
        .iter()
        .flatten()
        .filter(|v| !v.is_finite())
        .count();
    if bad > 0 {
        decision.add_p_value(
            "finite draws",
            bad as f64,
            0.0,
            None,
            format!(
                "{bad} of {} values are not finite (the sampler diverged)",
                n * draws.dim
            ),
            Mde::None,
        );
        let ctx = Context {
            iid: opts.iid,
            alpha: opts.alpha,
            min_ess: opts.min_ess,
            n,
            chains: draws.chains.len(),
            interleaving: None,
            notes: Vec::new(),
            coord_ess: Vec::new(),
            rhat: Vec::new(),
        };
        return Ok(report_from(decision.finish(), ctx));
    }
    let (split, interleaving) = if opts.iid {
        (draws.clone(), None)
    } else {
        deinterleave_draws(draws)
    };
    let mut notes = Vec::new();
    if let Some(il) = interleaving {
        notes.push(format!(
            "the draws interleave walkers: autocorrelation {:.2} at lag {} against {:.2} at lag 1, so each stored chain was split into {} walkers (draw i to walker i mod {})",
            il.rho_stride, il.stride, il.rho_1, il.stride, il.stride
        ));
    }
    let draws = &split;
    let n_used = draws.n();
    // With `iid`, chains are concatenated: chain boundaries carry no information.
    let dof_of = |e: f64| if opts.iid { None } else { dof(e) };
    let ess_of = |vals: &[Vec<f64>]| -> f64 {
        if opts.iid {
            n as f64
        } else {
            ess::ess_conservative(&as_refs(vals))
        }
    };
    let mut coord_ess = Vec::with_capacity(draws.dim);
    let mut rhat = Vec::new();
    for j in 0..draws.dim {
        let col = draws.map(&|y| y[j]);
        coord_ess.push((draws.names[j].clone(), ess_of(&col)));
        if !opts.iid && draws.chains.len() >= 2 {
            let check = ess::rhat_check(&as_refs(&col));
            rhat.push((draws.names[j].clone(), check));
        }
    }
    let slowest = coord_ess
        .iter()
        .map(|c| c.1)
        .filter(|e| e.is_finite())
        .fold(f64::INFINITY, f64::min);
    // Draws constant in every coordinate (a sampler that never moves) carry about one independent
    // value per chain.
    let fallback_ess = if slowest.is_finite() {
        slowest
    } else {
        draws.chains.len() as f64
    };
    // The trust floor of every test: no test is trusted beyond its slowest coordinate.
    let floor = if opts.iid {
        f64::INFINITY
    } else {
        fallback_ess
    };
    let joint = draws.dim > 1;
    for (name, r) in &rhat {
        match r {
            Some(c) if !c.disagrees() => {}
            Some(c) => decision.add_reason(format!(
                "chains disagree: R-hat of {name} is {:.3} > {:.3} (the threshold for {} split chains of {} draws); run longer or check mixing between modes",
                c.rhat, c.threshold, c.split_chains, c.draws_per_chain
            )),
            None => decision.add_reason(format!(
                "chains disagree: R-hat of {name} is undefined; run longer or check mixing between modes"
            )),
        }
    }

    for m in &reference.moments {
        let vals = draws.map(&*m.f);
        let est = mean_of(&vals);
        let mut e = ess_of(&vals);
        if e.is_nan() {
            e = fallback_ess;
        }
        let sd = m
            .exact_sd
            .unwrap_or_else(|| ess::pooled_sd(&as_refs(&vals)));
        add_z(
            &mut decision,
            &m.name,
            est,
            sd / e.sqrt(),
            (e, dof_of(e)),
            e.min(floor),
            m.exact,
        );
    }

    for r in &reference.regions {
        let vals = draws.map(&|y| if (r.indicator)(y) { 1.0 } else { 0.0 });
        let frac = mean_of(&vals);
        let mut e = ess_of(&vals);
        if e.is_nan() {
            e = fallback_ess;
        }
        // Capped at the slowest coordinate's ESS, the standard error is at least the true one:
        // the test is conservative by design (said in its detail).
        let capped = joint && e > floor;
        if joint {
            e = e.min(floor);
        }
        let se = (r.prob * (1.0 - r.prob) / e).sqrt();
        add_z(
            &mut decision,
            &format!("mass of {}", r.name),
            frac,
            se,
            (e, dof_of(e)),
            e.min(floor),
            r.prob,
        );
        if capped {
            decision.annotate_last(
                "; the indicator's own ESS is larger: its standard error uses the slowest coordinate's (conservative)",
            );
        }
    }

    for c in &reference.cdfs {
        let vals = draws.map(&*c.f);
        let (thinned, thin, e) = if opts.iid {
            (
                vals.iter().flatten().copied().collect::<Vec<f64>>(),
                1,
                n as f64,
            )
        } else {
            let e = ess::ess_conservative(&as_refs(&vals));
            let e = if e.is_nan() { fallback_ess } else { e };
            let e = if joint { e.min(floor) } else { e };
            let tau = if e.is_finite() && e > 0.0 {
                n_used as f64 / e
            } else {
                1.0
            };
            let thin = (2.0 * tau * (1.0 + tau_rel_sd(e))).ceil().max(1.0) as usize;
            let thinned = vals
                .iter()
                .flat_map(|ch| ch.iter().step_by(thin).copied())
                .collect();
            (thinned, thin, e)
        };
        let e_trust = e.min(floor);
        let m = thinned.len();
        let thin_note = if thin > 1 {
            format!(" after thinning by {thin}")
        } else {
            String::new()
        };
        let ks = gof::ks_test(&thinned, &*c.cdf);
        if c.error > 0.0 {
            let p = gof::ks_p_value(m, (ks.statistic - c.error).max(0.0));
            decision.add_p_value(
                &format!("KS of {}", c.name),
                ks.statistic,
                p,
                Some(e_trust),
                format!(
                    "KS distance of {} from its tabulated CDF is D = {:.4} on {m} draws{thin_note}; the table's error {:.1e} is subtracted (conservative)",
                    c.name, ks.statistic, c.error
                ),
                Mde::KsWithMargin(m, c.error),
            );
            continue;
        }
        decision.add_p_value(
            &format!("KS of {}", c.name),
            ks.statistic,
            ks.p_value,
            Some(e_trust),
            format!(
                "KS distance of {} from its exact CDF is D = {:.4} on {m} draws{thin_note}",
                c.name, ks.statistic
            ),
            Mde::Ks(m),
        );
        let ad = gof::ad_test(&thinned, &*c.cdf);
        decision.add_p_value(
            &format!("AD of {}", c.name),
            ad.statistic,
            ad.p_value,
            Some(e_trust),
            format!(
                "Anderson-Darling A² of {} is {:.3} on {m} draws{thin_note}",
                c.name, ad.statistic
            ),
            Mde::None,
        );
    }
    if !opts.iid {
        for (name, e) in &coord_ess {
            if (*e >= opts.min_ess).not() {
                decision.add_reason(format!(
                    "coordinate {name}: effective sample size {e:.0} is below {:.0}, so no test is trusted; run longer",
                    opts.min_ess
                ));
            }
        }
    }
    let ctx = Context {
        iid: opts.iid,
        alpha: opts.alpha,
        min_ess: opts.min_ess,
        n: n_used,
        chains: draws.chains.len(),
        interleaving,
        notes,
        coord_ess,
        rhat,
    };
    Ok(report_from(decision.finish(), ctx))
}

/// Relative standard deviation of an estimated autocorrelation time at `ess` effective draws:
/// Var(τ̂)/τ² ≈ 2(2M + 1)/S with Sokal's window M ≈ 5τ (Sokal 1997, "Monte Carlo methods in
/// statistical mechanics", eq. 3.19), i.e. ≈ √(20/ESS): 22 % at ESS 400, 45 % at 100. 0 for
/// non-finite or non-positive ESS (independent draws).
fn tau_rel_sd(ess: f64) -> f64 {
    if ess.is_finite() && ess > 0.0 {
        (ESS_DOF_FACTOR * 2.0 / ess).sqrt()
    } else {
        0.0
    }
}

/// ESS per degree of freedom of an MCSE that rests on an estimated autocorrelation time:
/// the long-run variance σ²τ̂ has relative variance ≈ 20/ESS (`tau_rel_sd`), which a scaled χ²
/// matches with ν = 2/(20/ESS) = ESS/10 degrees of freedom.
pub const ESS_DOF_FACTOR: f64 = 10.0;

/// Degrees of freedom of a z-score whose standard error rests on `ess` estimated effective
/// draws: ESS/[`ESS_DOF_FACTOR`] (at least 1); `None` (a normal reference) when the draws are
/// independent by declaration (`ess` infinite).
fn dof(ess: f64) -> Option<f64> {
    ess.is_finite().then(|| (ess / ESS_DOF_FACTOR).max(1.0))
}

/// A z-test whose standard error rests on `ess.0` effective draws, referred to Student's t with
/// `ess.1` degrees of freedom (the standard error is itself estimated; `None`: normal), and whose
/// trust rests on `ess_trust` (at most `ess.0`: the slowest coordinate's ESS caps it).
fn add_z(
    decision: &mut StatisticalDecision,
    name: &str,
    estimate: f64,
    se: f64,
    (ess, dof): (f64, Option<f64>),
    ess_trust: f64,
    exact: f64,
) {
    let t = match dof {
        Some(nu) => test::t_test(estimate, se, exact, nu),
        None => test::z_test(estimate, se, exact),
    };
    let floor_note = if ess_trust < ess {
        format!(", slowest coordinate {ess_trust:.0}")
    } else {
        String::new()
    };
    let dof_note = dof.map_or(String::new(), |nu| format!(", t with {nu:.0} dof"));
    let detail = format!(
        "{name} is {} ± {}, exact {}, z = {:.2} (ESS {ess:.0}{floor_note}{dof_note})",
        fmt_num(estimate),
        fmt_num(se),
        fmt_num(exact),
        t.z,
    );
    decision.add_p_value(name, t.z, t.p_value, Some(ess_trust), detail, Mde::Z(se));
}

fn fmt_num(x: f64) -> String {
    if x == 0.0 || (1e-3..1e5).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

/// What [`report_from`] needs besides the decision.
struct Context {
    iid: bool,
    alpha: f64,
    min_ess: f64,
    n: usize,
    chains: usize,
    interleaving: Option<Interleaving>,
    notes: Vec<String>,
    coord_ess: Vec<(String, f64)>,
    rhat: Vec<(String, Option<ess::RhatCheck>)>,
}

/// More draws needed to bring `ess` to `floor` at the measured ESS per draw (None if undefined).
fn more_draws_for(n: usize, ess: f64, floor: f64) -> Option<u64> {
    if !(ess > 0.0 && ess.is_finite()) || ess >= floor {
        return None;
    }
    let total = (n as f64 * floor / ess).ceil();
    Some((total - n as f64).max(1.0) as u64)
}

/// Largest R̂ for which more draws are predicted to help: beyond it the chains are more likely
/// stuck apart than slow.
const RHAT_MORE_DRAWS_MAX: f64 = 1.2;

/// More draws for R̂ to reach its threshold if the chains mix: R̂² − 1 ≈ M'/ESS falls as 1/N.
fn more_draws_for_rhat(n: usize, c: &ess::RhatCheck) -> Option<u64> {
    if c.rhat.is_nan() || c.rhat <= c.threshold || c.rhat > RHAT_MORE_DRAWS_MAX {
        return None;
    }
    let factor = (c.rhat * c.rhat - 1.0) / (c.threshold * c.threshold - 1.0);
    let total = (n as f64 * factor).ceil();
    Some((total - n as f64).max(1.0) as u64)
}

fn report_from(d: test::Decision, ctx: Context) -> BatteryReport {
    let mut codes = Vec::new();
    let fail = |code, variable: &str, value, threshold, message: String| Reason {
        code,
        verdict: Verdict::Fail,
        variable: variable.to_string(),
        value,
        threshold,
        more_draws: None,
        message,
    };
    for t in &d.tests {
        if t.reject && t.trusted {
            codes.push(fail(
                "reject",
                &t.name,
                t.adjusted_p,
                ctx.alpha,
                format!("{} (Holm p = {:.2e})", t.detail, t.adjusted_p),
            ));
        }
    }
    let mut inc = |code, variable: &str, value, threshold, more_draws, message: String| {
        codes.push(Reason {
            code,
            verdict: Verdict::Inconclusive,
            variable: variable.to_string(),
            value,
            threshold,
            more_draws,
            message,
        });
    };
    for (name, r) in &ctx.rhat {
        match r {
            Some(c) if !c.disagrees() => {}
            Some(c) => inc(
                "rhat",
                name,
                c.rhat,
                c.threshold,
                more_draws_for_rhat(ctx.n, c),
                format!(
                    "chains disagree: R-hat of {name} is {:.3} > {:.3}",
                    c.rhat, c.threshold
                ),
            ),
            None => inc(
                "rhat",
                name,
                f64::NAN,
                f64::NAN,
                None,
                format!("R-hat of {name} is undefined"),
            ),
        }
    }
    for (name, e) in &ctx.coord_ess {
        if !ctx.iid && (*e >= ctx.min_ess).not() {
            inc(
                "low_ess",
                name,
                *e,
                ctx.min_ess,
                more_draws_for(ctx.n, *e, ctx.min_ess),
                format!(
                    "coordinate {name}: effective sample size {e:.0} is below {:.0}",
                    ctx.min_ess
                ),
            );
        }
    }
    for t in &d.tests {
        if t.p_value.is_nan() {
            inc(
                "undefined",
                &t.name,
                f64::NAN,
                f64::NAN,
                None,
                format!("{}: the statistic is undefined (NaN)", t.name),
            );
        } else if !t.trusted {
            let e = t.ess.unwrap_or(f64::NAN);
            inc(
                if t.reject {
                    "reject_untrusted"
                } else {
                    "low_ess"
                },
                &t.name,
                e,
                ctx.min_ess,
                more_draws_for(ctx.n, e, ctx.min_ess),
                format!(
                    "{}: effective sample size {e:.0} is below {:.0}{}",
                    t.name,
                    ctx.min_ess,
                    if t.reject {
                        " (it would reject: a likely bug, confirm with more draws)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    let mut reasons = d.reasons;
    let mut more_draws = None;
    if d.verdict == Verdict::Inconclusive {
        let blockers: Vec<&Reason> = codes
            .iter()
            .filter(|r| r.verdict == Verdict::Inconclusive)
            .collect();
        if !blockers.is_empty() && blockers.iter().all(|r| r.more_draws.is_some()) {
            more_draws = blockers.iter().filter_map(|r| r.more_draws).max();
        }
        if let Some(m) = more_draws {
            reasons.push(format!(
                "about {m} more draws ({} in total, at the measured effective sample size per draw) would make this conclusive",
                ctx.n as u64 + m
            ));
        }
    }
    if d.verdict == Verdict::Pass {
        codes.clear();
    }
    let mut summary = d.summary;
    if let Some(m) = more_draws {
        summary.push_str(&format!(
            "; about {m} more draws would make this conclusive"
        ));
    }
    BatteryReport {
        verdict: d.verdict,
        n: ctx.n,
        ess: ctx.coord_ess,
        rhat: ctx
            .rhat
            .iter()
            .map(|(k, r)| (k.clone(), r.map_or(f64::NAN, |c| c.rhat)))
            .collect(),
        rhat_threshold: ctx
            .rhat
            .iter()
            .map(|(k, r)| (k.clone(), r.map_or(f64::NAN, |c| c.threshold)))
            .collect(),
        tests: d.tests,
        reasons,
        summary,
        reason_codes: codes,
        chains: ctx.chains,
        interleaving: ctx.interleaving,
        more_draws,
        notes: ctx.notes,
    }
}

#[cfg(test)]
mod tests;
