//! Monte-Carlo statistics: effective sample size, standard errors, goodness of fit, multiple testing.

pub mod ess;
pub mod gof;
pub mod multiple;
pub mod special;
pub mod test;
