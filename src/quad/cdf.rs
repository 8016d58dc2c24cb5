//! placeholder
/// x
pub struct Cdf1d;
