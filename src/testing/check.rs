//! Test support for the `check` module: strategies that mutate derivation files.

use proptest::prelude::*;

/// The lecture's derivation files, as (name, text), compiled into the test binary.
pub const DERIVATIONS: &[(&str, &str)] = &[
    (
        "gaussian_latent",
        include_str!("../../derivations/gaussian_latent.toml"),
    ),
    ("gibbs", include_str!("../../derivations/gibbs.toml")),
    ("gradient", include_str!("../../derivations/gradient.toml")),
    ("kmeans", include_str!("../../derivations/kmeans.toml")),
    ("laplace", include_str!("../../derivations/laplace.toml")),
    (
        "latent_2d",
        include_str!("../../derivations/latent_2d.toml"),
    ),
    ("pca", include_str!("../../derivations/pca.toml")),
    ("softmax", include_str!("../../derivations/softmax.toml")),
    (
        "thermodynamics",
        include_str!("../../derivations/thermodynamics.toml"),
    ),
    (
        "chain_free_energy",
        include_str!("../../derivations/chain_free_energy.toml"),
    ),
    (
        "chain_gradient",
        include_str!("../../derivations/chain_gradient.toml"),
    ),
];

/// One edit of a text, at a position given as a fraction of its length.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Delete `len` characters.
    Delete(f64, usize),
    /// Insert a string.
    Insert(f64, String),
    /// Duplicate the line at this position.
    DuplicateLine(f64),
    /// Swap two lines.
    SwapLines(f64, f64),
}

fn char_index(text: &str, at: f64) -> usize {
    let n = text.chars().count();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = (at * n as f64) as usize;
    text.char_indices()
        .nth(i.min(n))
        .map_or(text.len(), |(b, _)| b)
}

/// Applies a mutation.
pub fn apply(text: &str, m: &Mutation) -> String {
    match m {
        Mutation::Delete(at, len) => {
            let start = char_index(text, *at);
            let end = text[start..]
                .char_indices()
                .nth(*len)
                .map_or(text.len(), |(b, _)| start + b);
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Insert(at, s) => {
            let i = char_index(text, *at);
            format!("{}{s}{}", &text[..i], &text[i..])
        }
        Mutation::DuplicateLine(at) | Mutation::SwapLines(at, _) => {
            let mut lines: Vec<&str> = text.lines().collect();
            if lines.is_empty() {
                return text.to_string();
            }
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let pick = |f: f64| ((f * lines.len() as f64) as usize).min(lines.len() - 1);
            match m {
                Mutation::DuplicateLine(_) => {
                    let i = pick(*at);
                    lines.insert(i, lines[i]);
                }
                Mutation::SwapLines(a, b) => {
                    let (i, j) = (pick(*a), pick(*b));
                    lines.swap(i, j);
                }
                _ => {}
            }
            lines.join("\n")
        }
    }
}

/// Fragments that are likely to break a derivation file in interesting ways.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"".to_string()),
        Just("[[check]]\n".to_string()),
        Just("kind = \"chain\"\n".to_string()),
        Just("steps = [{ expr = \"1\" }]\n".to_string()),
        Just("[points]\n".to_string()),
        Just(" = ".to_string()),
        Just("int[z](".to_string()),
        Just(")".to_string()),
        Just("..".to_string()),
        Just("inf".to_string()),
        Just("'".to_string()),
        Just("\u{3b2}".to_string()),
        "[ -~]{0,12}",
    ]
}

/// A random edit.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, 0usize..40).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (0.0..1.0f64, fragment()).prop_map(|(a, s)| Mutation::Insert(a, s)),
        (0.0..1.0f64).prop_map(Mutation::DuplicateLine),
        (0.0..1.0f64, 0.0..1.0f64).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

/// A lecture derivation file with one to four random edits.
pub fn mutated_derivation() -> impl Strategy<Value = (String, String)> {
    (
        0..DERIVATIONS.len(),
        prop::collection::vec(mutation(), 1..4),
    )
        .prop_map(|(i, ms)| {
            let (name, text) = DERIVATIONS[i];
            let mut t = text.to_string();
            for m in &ms {
                t = apply(&t, m);
            }
            (name.to_string(), t)
        })
}
