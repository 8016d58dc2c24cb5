//! The comparison report of `ebmcheck sampler-test` with several sample files of one target:
//! each file judged against the same exact reference, ranked, with one figure per measure (bias
//! of every moment and region mass in units of its Monte-Carlo standard error, ESS per draw, KS
//! distances) and the verdict of each; ESS per second and per gradient evaluation when the
//! caller knows what each sample cost ([`Cost`]).

use super::page::{Block, Cell, Mark, Page, Table};
use super::plot::grouped_errorbars;
use crate::sample::SamplerTestOutcome;
use crate::stats::TestOutcome;

/// What a test measures, from its name.
fn is_ks(t: &TestOutcome) -> bool {
    t.name.starts_with("KS of ")
}

fn is_z(t: &TestOutcome) -> bool {
    !t.name.starts_with("KS of ") && !t.name.starts_with("AD of ") && t.name != "finite draws"
}

/// What producing a sample cost, when a flag or a column says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Cost {
    /// Wall-clock seconds (`--cost LABEL=SECONDS`).
    pub seconds: Option<f64>,
    /// Gradient evaluations: the sum of a per-draw column such as `grad_evals` or Stan's
    /// `n_leapfrog__`.
    pub grad_evals: Option<f64>,
}

impl Cost {
    /// The slowest variable's ESS per second, when the seconds are known and positive.
    pub fn ess_per_second(&self, o: &SamplerTestOutcome) -> Option<f64> {
        per(min_ess(o), self.seconds)
    }

    /// The slowest variable's ESS per gradient evaluation, when the count is known and positive.
    pub fn ess_per_grad(&self, o: &SamplerTestOutcome) -> Option<f64> {
        per(min_ess(o), self.grad_evals)
    }
}

fn per(ess: f64, cost: Option<f64>) -> Option<f64> {
    cost.filter(|c| *c > 0.0 && c.is_finite())
        .map(|c| ess / c)
        .filter(|v| v.is_finite())
}

/// The slowest variable's ESS.
fn min_ess(o: &SamplerTestOutcome) -> f64 {
    o.report
        .ess
        .iter()
        .map(|(_, e)| *e)
        .filter(|e| e.is_finite())
        .fold(f64::INFINITY, f64::min)
}

/// One row of the ranking: the sample's worst |bias|/MCSE, its slowest ESS per draw and its
/// largest KS distance.
struct Summary {
    max_abs_z: f64,
    min_ess_per_draw: f64,
    max_ks: f64,
}

fn summary(o: &SamplerTestOutcome) -> Summary {
    let r = &o.report;
    let max_abs_z = r
        .tests
        .iter()
        .filter(|t| is_z(t))
        .map(|t| t.statistic.abs())
        .filter(|z| z.is_finite())
        .fold(0.0, f64::max);
    let min_ess_per_draw = r
        .ess
        .iter()
        .map(|(_, e)| e / r.n.max(1) as f64)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let max_ks = r
        .tests
        .iter()
        .filter(|t| is_ks(t))
        .map(|t| t.statistic)
        .filter(|d| d.is_finite())
        .fold(0.0, f64::max);
    Summary {
        max_abs_z,
        min_ess_per_draw,
        max_ks,
    }
}

/// Three significant digits, or a dash when unknown.
fn sig(x: Option<f64>) -> Cell {
    match x {
        Some(v) if v.is_finite() => Cell::Num(format!("{v:.3e}")),
        _ => Cell::Num("—".into()),
    }
}

fn num(x: f64, digits: usize) -> Cell {
    if x.is_finite() {
        Cell::Num(format!("{x:.digits$}"))
    } else {
        Cell::Num("—".into())
    }
}

/// The comparison page without costs: [`page_with_cost`] with none known.
pub fn page(title: &str, samples: &[(String, &SamplerTestOutcome)]) -> Page {
    page_with_cost(title, samples, &[])
}

/// The comparison page: a ranking table (verdict first — pass before inconclusive before fail —
/// then the largest |bias|/MCSE), then one figure per measure. `samples` pairs each label with
/// its outcome, all judged against the same reference; `costs` (in the order of `samples`, may
/// be shorter) adds ESS per second and per gradient evaluation to the table, each with a figure,
/// when at least one sample's cost is known.
pub fn page_with_cost(
    title: &str,
    samples: &[(String, &SamplerTestOutcome)],
    costs: &[Cost],
) -> Page {
    let cost_of = |i: usize| costs.get(i).copied().unwrap_or_default();
    let any_seconds = (0..samples.len()).any(|i| cost_of(i).ess_per_second(samples[i].1).is_some());
    let any_grad = (0..samples.len()).any(|i| cost_of(i).ess_per_grad(samples[i].1).is_some());
    let mut page = Page::new(title);
    let mut order: Vec<usize> = (0..samples.len()).collect();
    let sums: Vec<Summary> = samples.iter().map(|(_, o)| summary(o)).collect();
    order.sort_by(|&a, &b| {
        samples[a]
            .1
            .report
            .verdict
            .cmp(&samples[b].1.report.verdict)
            .then(sums[a].max_abs_z.total_cmp(&sums[b].max_abs_z))
    });
    page.push(Block::Heading("Ranking".into()));
    page.push(Block::Paragraph(format!(
        "{} sample files judged against one exact reference (computed once) at family-wise α = {}. \
         Ranked by verdict, then by the largest bias of a moment or region mass in units of its \
         Monte-Carlo standard error (|z|); ESS per draw is that of the slowest variable.",
        samples.len(),
        samples.first().map_or(f64::NAN, |s| s.1.alpha)
    )));
    let mut header = vec![
        "rank",
        "sample",
        "verdict",
        "draws",
        "chains",
        "max |bias|/MCSE",
        "ESS per draw",
    ];
    if any_seconds {
        header.push("ESS per second");
    }
    if any_grad {
        header.push("ESS per gradient");
    }
    header.extend(["max KS D", "why"]);
    let mut table = Table::new(header);
    for (rank, &i) in order.iter().enumerate() {
        let (label, o) = &samples[i];
        let r = &o.report;
        let s = &sums[i];
        let why = r
            .reason_codes
            .iter()
            .map(|c| c.message.clone())
            .take(2)
            .collect::<Vec<_>>()
            .join("; ");
        let mut cells = vec![
            Cell::Num((rank + 1).to_string()),
            Cell::Text(label.clone()),
            Cell::Mark(Mark::of(r.verdict)),
            Cell::Num(r.n.to_string()),
            Cell::Num(r.chains.to_string()),
            num(s.max_abs_z, 2),
            num(s.min_ess_per_draw, 4),
        ];
        if any_seconds {
            cells.push(sig(cost_of(i).ess_per_second(o)));
        }
        if any_grad {
            cells.push(sig(cost_of(i).ess_per_grad(o)));
        }
        cells.extend([num(s.max_ks, 4), Cell::Text(why)]);
        table.row(cells, r.verdict == crate::stats::Verdict::Fail);
    }
    page.push(Block::Table(table));

    // One figure per measure; categories are the first sample's tests (all share the reference).
    let Some((_, first)) = samples.first() else {
        return page;
    };
    let figure = |page: &mut Page,
                  caption: &str,
                  ylabel: &str,
                  categories: Vec<String>,
                  value: &dyn Fn(&SamplerTestOutcome, &str) -> f64| {
        if categories.is_empty() {
            return;
        }
        let groups: Vec<(String, Vec<(f64, f64)>)> = samples
            .iter()
            .map(|(label, o)| {
                (
                    label.clone(),
                    categories.iter().map(|c| (value(o, c), 0.0)).collect(),
                )
            })
            .collect();
        let short: Vec<String> = (1..=categories.len()).map(|i| i.to_string()).collect();
        match grouped_errorbars(
            caption,
            ylabel,
            "quantity (numbered below)",
            &short,
            &groups,
        ) {
            Ok(svg) => {
                page.push(Block::Figure {
                    svg,
                    caption: caption.to_string(),
                    file: None,
                });
                let list = categories
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{} = {c}", i + 1))
                    .collect::<Vec<_>>()
                    .join("; ");
                page.push(Block::Paragraph(list));
            }
            Err(e) => {
                page.push(Block::Paragraph(format!("{caption}: no figure ({})", e.0)));
            }
        }
    };
    let stat = |o: &SamplerTestOutcome, name: &str| {
        o.report
            .tests
            .iter()
            .find(|t| t.name == name)
            .map_or(f64::NAN, |t| t.statistic)
    };
    page.push(Block::Heading(
        "Bias in units of the Monte-Carlo standard error".into(),
    ));
    let z_names: Vec<String> = first
        .report
        .tests
        .iter()
        .filter(|t| is_z(t))
        .map(|t| t.name.clone())
        .collect();
    figure(
        &mut page,
        "bias / MCSE (z) of each moment and region mass, per sample",
        "(estimate - exact) / MCSE",
        z_names,
        &stat,
    );
    page.push(Block::Heading("Effective sample size per draw".into()));
    let vars: Vec<String> = first.report.ess.iter().map(|(k, _)| k.clone()).collect();
    figure(
        &mut page,
        "ESS per draw of each variable, per sample",
        "ESS / draws",
        vars.clone(),
        &|o: &SamplerTestOutcome, v: &str| {
            o.report
                .ess
                .iter()
                .find(|(k, _)| k == v)
                .map_or(f64::NAN, |(_, e)| e / o.report.n.max(1) as f64)
        },
    );
    // ESS per unit of cost: only the samples whose cost is known, one bar per variable.
    let per_cost =
        |page: &mut Page, heading: &str, unit: &str, cost: &dyn Fn(&Cost) -> Option<f64>| {
            let groups: Vec<(String, Vec<(f64, f64)>)> = samples
                .iter()
                .enumerate()
                .filter_map(|(i, (label, o))| {
                    let c = cost(&cost_of(i)).filter(|c| *c > 0.0 && c.is_finite())?;
                    Some((
                        label.clone(),
                        o.report.ess.iter().map(|(_, e)| (e / c, 0.0)).collect(),
                    ))
                })
                .collect();
            if groups.is_empty() {
                return;
            }
            page.push(Block::Heading(heading.into()));
            let caption = format!("ESS {unit} of each variable, per sample whose cost is known");
            match grouped_errorbars(&caption, &format!("ESS {unit}"), "variable", &vars, &groups) {
                Ok(svg) => page.push(Block::Figure {
                    svg,
                    caption,
                    file: None,
                }),
                Err(e) => page.push(Block::Paragraph(format!("{caption}: no figure ({})", e.0))),
            };
        };
    per_cost(
        &mut page,
        "Effective sample size per second",
        "per second",
        &|c| c.seconds,
    );
    per_cost(
        &mut page,
        "Effective sample size per gradient evaluation",
        "per gradient evaluation",
        &|c| c.grad_evals,
    );
    page.push(Block::Heading("Kolmogorov–Smirnov distances".into()));
    let ks: Vec<String> = first
        .report
        .tests
        .iter()
        .filter(|t| is_ks(t))
        .map(|t| t.name.clone())
        .collect();
    figure(
        &mut page,
        "KS distance D of each statistic from its exact CDF, per sample",
        "D",
        ks,
        &stat,
    );
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quad::{Domain, FnEnergy};
    use crate::sample::{ReferenceOptions, judge_draws, quadrature_reference};
    use crate::stats::Draws;
    use std::sync::Arc;

    #[test]
    fn the_comparison_ranks_a_correct_sample_above_a_biased_one_with_figures() {
        let energy = Arc::new(FnEnergy::new(1, |y: &[f64]| 0.5 * y[0] * y[0]));
        let domain = Domain::continuous(&[(f64::NEG_INFINITY, f64::INFINITY)]).expect("domain");
        let exact = quadrature_reference(
            energy,
            &domain,
            1.0,
            &["y".to_string()],
            &ReferenceOptions::default(),
        )
        .expect("reference");
        // Quantiles of N(0, 1) (a perfect sample) and the same shifted by 0.2.
        let n = 4000;
        let good: Vec<f64> = (0..n)
            .map(|i| crate::stats::special::quantile((f64::from(i) + 0.5) / f64::from(n)))
            .collect();
        let bad: Vec<f64> = good.iter().map(|v| v + 0.2).collect();
        let judge = |v: Vec<f64>| {
            judge_draws(&exact, &Draws::new(1, vec![v]).expect("draws"), 1e-3).expect("judged")
        };
        let (a, b) = (judge(good), judge(bad));
        let p = page(
            "comparison",
            &[("zz-shifted".into(), &b), ("zz-good".into(), &a)],
        );
        assert_eq!(p.figure_count(), 3);
        let html = p.to_html();
        let first = html.find("zz-good").expect("good listed");
        let second = html.find("zz-shifted").expect("shifted listed");
        assert!(first < second, "the correct sample ranks first");
        // Costs: 2 s for one sample, gradient counts for both; a column and a figure each.
        let costs = [
            Cost {
                seconds: Some(2.0),
                grad_evals: Some(8000.0),
            },
            Cost {
                seconds: None,
                grad_evals: Some(4000.0),
            },
        ];
        let p = page_with_cost(
            "comparison",
            &[("zz-shifted".into(), &b), ("zz-good".into(), &a)],
            &costs,
        );
        assert_eq!(p.figure_count(), 5);
        let html = p.to_html();
        assert!(html.contains("ESS per second") && html.contains("ESS per gradient"));
        let ess_b = b.report.ess[0].1;
        let want = format!("{:.3e}", ess_b / 2.0);
        assert!(
            html.contains(&want),
            "ESS per second {want} of the shifted sample"
        );
        assert_eq!(costs[1].ess_per_grad(&a), Some(a.report.ess[0].1 / 4000.0));
        assert_eq!(costs[1].ess_per_second(&a), None);
        assert_eq!(Cost::default().ess_per_grad(&a), None);
    }
}
