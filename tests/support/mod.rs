//! Support for integration tests that drive external tools: finding them
//! ([`tools`]), running a real OCI registry ([`registry`]) and building images
//! for it ([`images`]) or bundle files of them ([`bundle`]), a scripted misbehaving HTTP(S) server standing for a
//! registry or chart repository in fault injection ([`fault_server`]), a
//! rewriting TCP proxy in front of a server ([`proxy`]), and running deployKF's
//! app-of-apps through the Argo CD plugin harness ([`harness`]).

#![allow(dead_code)]

pub mod bundle;
pub mod fault_server;
pub mod file_server;
pub mod harness;
pub mod images;
pub mod proxy;
pub mod registry;
pub mod tools;
