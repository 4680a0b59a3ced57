//! Deterministic simulation: an in-process origin and other pieces for engine simulations.

pub mod origin;
