//! Monte-Carlo statistics: effective sample size, standard errors, goodness of fit, multiple testing.

pub mod special;
pub mod ess;
pub mod multiple;
pub mod gof;
