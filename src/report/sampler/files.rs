//! One or several judged sample files of a `sampler-test` run: each file's JSON object, the
//! command's JSON ([`json`]) and the text of several files ([`text_all`]).

use super::*;

/// One judged sample file of a `sampler-test` run, as the command read it.
#[derive(Debug, Clone, Copy)]
pub struct SampleFile<'a> {
    /// The file's label (its stem or `--label NAME`).
    pub label: &'a str,
    /// The path as given.
    pub file: &'a str,
    /// The battery's outcome against the exact reference.
    pub outcome: &'a SamplerTestOutcome,
    /// The columns (CSV) or arrays (.npz) the reader ignored.
    pub ignored: &'a [String],
    /// What the sample cost, when known.
    pub cost: Cost,
}

/// The JSON of `sampler-test --format json`: one file's object ([`SampleJson`], with
/// `"schema": 1`), or for several files `{"schema": 1, "verdict", "alpha", "samples": [..]}`
/// (each entry a [`SampleJson`] without `schema`, with `label`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum SamplerTestReport<'a> {
    /// One file.
    One(Box<SampleJson<'a>>),
    /// Several files against one reference.
    Many(SamplerTestComparison<'a>),
}

/// Several files: the worst verdict, α and each file's object.
#[derive(Debug, Clone, Serialize)]
pub struct SamplerTestComparison<'a> {
    /// Always 1.
    pub schema: u32,
    /// The worst verdict of the files.
    pub verdict: Verdict,
    /// The family-wise false-alarm rate.
    pub alpha: f64,
    /// One object per file, in order.
    pub samples: Vec<SampleJson<'a>>,
}

/// One file's result: the battery's fields, `alpha`, `reference`, and the command's `file`,
/// `ignored_columns`, `cost` (when known) and `label` (with several files), keys in alphabetical
/// order after `schema` (the contract since the object was a sorted JSON map).
#[derive(Debug, Clone, Serialize)]
pub struct SampleJson<'a> {
    /// 1 when the object stands alone; absent inside `samples`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<u32>,
    /// The family-wise false-alarm rate.
    pub alpha: f64,
    /// Chains judged.
    pub chains: usize,
    /// What the sample cost (when a flag or a column says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostJson>,
    /// ESS by variable.
    pub ess: BTreeMap<&'a str, f64>,
    /// The file.
    pub file: &'a str,
    /// Columns or arrays the reader ignored.
    pub ignored_columns: &'a [String],
    /// The walker stride found, if any.
    pub interleaving: Option<InterleavingJson>,
    /// The file's label (several files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    /// Draws that would make an inconclusive verdict conclusive.
    pub more_draws: Option<u64>,
    /// Number of draws.
    pub n: usize,
    /// Notes on how the draws were read.
    pub notes: &'a [String],
    /// Machine-readable reasons.
    pub reasons: Vec<ReasonJson<'a>>,
    /// The exact reference's errors, status and notes.
    pub reference: ReferenceJson<'a>,
    /// R̂ by variable.
    pub rhat: BTreeMap<&'a str, f64>,
    /// R̂ threshold by variable.
    pub rhat_threshold: BTreeMap<&'a str, f64>,
    /// The summary sentence.
    pub summary: &'a str,
    /// Every test.
    pub tests: Vec<TestJson<'a>>,
    /// The verdict.
    pub verdict: Verdict,
}

/// A sample's cost and the slowest variable's ESS per unit of it, keys in alphabetical order.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CostJson {
    /// ESS per gradient evaluation.
    pub ess_per_grad_eval: Option<f64>,
    /// ESS per second.
    pub ess_per_second: Option<f64>,
    /// Gradient evaluations.
    pub grad_evals: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: Option<f64>,
}

/// One file's JSON object: with `"schema": 1` when it stands alone (`schema`), with its label
/// when several files are judged (`labelled`).
pub fn sample_json<'a>(f: &SampleFile<'a>, schema: bool, labelled: bool) -> SampleJson<'a> {
    let o = f.outcome;
    let b = o.report.json();
    let c = f.cost;
    SampleJson {
        schema: schema.then_some(1),
        alpha: o.alpha,
        chains: b.chains,
        cost: (c.seconds.is_some() || c.grad_evals.is_some()).then(|| CostJson {
            ess_per_grad_eval: c.ess_per_grad(o),
            ess_per_second: c.ess_per_second(o),
            grad_evals: c.grad_evals,
            seconds: c.seconds,
        }),
        ess: b.ess,
        file: f.file,
        ignored_columns: f.ignored,
        interleaving: b.interleaving,
        label: labelled.then_some(f.label),
        more_draws: b.more_draws,
        n: b.n,
        notes: b.notes,
        reasons: b.reasons,
        reference: o.exact.json(),
        rhat: b.rhat,
        rhat_threshold: b.rhat_threshold,
        summary: b.summary,
        tests: b.tests,
        verdict: b.verdict,
    }
}

/// The JSON of a run over `files` (at least one) at family-wise `alpha`.
pub fn json<'a>(files: &[SampleFile<'a>], alpha: f64) -> SamplerTestReport<'a> {
    if let [one] = files {
        return SamplerTestReport::One(Box::new(sample_json(one, true, false)));
    }
    SamplerTestReport::Many(SamplerTestComparison {
        schema: 1,
        verdict: files
            .iter()
            .map(|f| f.outcome.report.verdict)
            .max()
            .unwrap_or(Verdict::Inconclusive),
        alpha,
        samples: files.iter().map(|f| sample_json(f, false, true)).collect(),
    })
}

/// The text output of a run: each file's table ([`text`]), headed by its label and path when
/// there are several, after the columns its reader ignored.
pub fn text_all(files: &[SampleFile<'_>]) -> String {
    let single = files.len() == 1;
    let mut s = String::new();
    for f in files {
        if !single {
            let _ = writeln!(s, "== {} ({})", f.label, f.file);
        }
        if !f.ignored.is_empty() {
            let _ = writeln!(s, "ignored columns: {}", f.ignored.join(", "));
        }
        s.push_str(&text(f.outcome));
        if !single {
            s.push('\n');
        }
    }
    s
}
