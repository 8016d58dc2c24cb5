//! Log-space adaptive quadrature of partition functions in 1–4 dimensions, with global minimisation.
