//! The lecture's claims by id (from the course's claims list), so files can name what they check.

/// A claim of the lecture: its id and a one-line summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// `C1` … `C13`.
    pub id: &'static str,
    /// What the lecture says, condensed.
    pub summary: &'static str,
}

/// Every claim of the lecture, in order.
pub const CLAIMS: &[Claim] = &[
    Claim {
        id: "C1",
        summary: "inference is argmin_y F(x, y); adding a constant to F changes neither the minimiser nor the Gibbs distribution",
    },
    Claim {
        id: "C2",
        summary: "Gibbs–Boltzmann P(y|x) = exp(-βF)/∫exp(-βF) is a normalised density; low energy gets high probability",
    },
    Claim {
        id: "C3",
        summary: "softmax is the discrete instance of Gibbs–Boltzmann",
    },
    Claim {
        id: "C4",
        summary: "β is arbitrary: P at β for F is P at 1 for βF",
    },
    Claim {
        id: "C5",
        summary: "latent variables are eliminated by the free energy F_β = -(1/β) log ∫ exp(-βE) dz",
    },
    Claim {
        id: "C6",
        summary: "as β → ∞, F_β → F_∞ = min_z E (Laplace rate)",
    },
    Claim {
        id: "C7",
        summary: "the four-line derivation of P(y|x) = exp(-βF_β)/∫ exp(-βF_β)",
    },
    Claim {
        id: "C8",
        summary: "k-means is an EBM with a discrete latent: F_∞ is the nearest-centroid distance, F_β the soft-min",
    },
    Claim {
        id: "C9",
        summary: "PCA is an unconditional EBM: F_∞ is the squared projection residual",
    },
    Claim {
        id: "C10",
        summary: "maximum likelihood is contrastive: L = F + (1/β) log ∫ exp(-βF) = -(1/β) log p",
    },
    Claim {
        id: "C11",
        summary: "the gradient chain ending in ∂L/∂w = ∂F/∂w - ∫ p(y'|x) ∂F(x,y')/∂w dy'",
    },
    Claim {
        id: "C12",
        summary: "the integral can be replaced by samples ŷ ~ p(y|x); CD-k is biased",
    },
    Claim {
        id: "C13",
        summary: "under the integral, low-energy y' are pushed up more (weighting by p(y'|x))",
    },
];

/// Whether `id` names a claim of the lecture.
pub fn is_known_claim(id: &str) -> bool {
    CLAIMS.iter().any(|c| c.id == id)
}
