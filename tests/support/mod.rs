//! Support for integration tests that drive external tools: finding them
//! ([`tools`]), running a real OCI registry ([`registry`]) and building images
//! for it ([`images`]), a rewriting TCP proxy in front of a server
//! ([`proxy`]), a misbehaving HTTP(S) server for fault injection
//! ([`fault_server`]), and running deployKF's app-of-apps through the Argo CD plugin
//! harness ([`harness`]).

#![allow(dead_code)]

pub mod fault_server;
pub mod file_server;
pub mod harness;
pub mod images;
pub mod proxy;
pub mod registry;
pub mod tools;
