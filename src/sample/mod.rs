//! Samplers for Gibbs densities: exact, random-walk Metropolis, MALA and HMC, behind one trait.
