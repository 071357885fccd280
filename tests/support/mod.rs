//! Support for integration tests that drive external tools: finding them
//! ([`tools`]) and running a real OCI registry ([`registry`]).

#![allow(dead_code)]

pub mod harness;
pub mod registry;
pub mod tools;
