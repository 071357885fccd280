//! Helpers shared by the engine's integration tests.

pub mod fixtures;
pub mod reference;
