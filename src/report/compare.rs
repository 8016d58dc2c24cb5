//! The comparison report of `ebmcheck sampler-test` with several sample files of one target:
//! each file judged against the same exact reference, ranked, with one figure per measure (bias
//! of every moment and region mass in units of its Monte-Carlo standard error, ESS per draw, KS
//! distances) and the verdict of each.

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

fn num(x: f64, digits: usize) -> Cell {
    if x.is_finite() {
        Cell::Num(format!("{x:.digits$}"))
    } else {
        Cell::Num("—".into())
    }
}

/// The comparison page: a ranking table (verdict first — pass before inconclusive before fail —
/// then the largest |bias|/MCSE), then one figure per measure. `samples` pairs each label with
/// its outcome, all judged against the same reference.
pub fn page(title: &str, samples: &[(String, &SamplerTestOutcome)]) -> Page {
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
    let mut table = Table::new([
        "rank",
        "sample",
        "verdict",
        "draws",
        "chains",
        "max |bias|/MCSE",
        "ESS per draw",
        "max KS D",
        "why",
    ]);
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
        table.row(
            vec![
                Cell::Num((rank + 1).to_string()),
                Cell::Text(label.clone()),
                Cell::Mark(Mark::of(r.verdict)),
                Cell::Num(r.n.to_string()),
                Cell::Num(r.chains.to_string()),
                num(s.max_abs_z, 2),
                num(s.min_ess_per_draw, 4),
                num(s.max_ks, 4),
                Cell::Text(why),
            ],
            r.verdict == crate::stats::Verdict::Fail,
        );
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
        vars,
        &|o: &SamplerTestOutcome, v: &str| {
            o.report
                .ess
                .iter()
                .find(|(k, _)| k == v)
                .map_or(f64::NAN, |(_, e)| e / o.report.n.max(1) as f64)
        },
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
    }
}
