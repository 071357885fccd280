//! Talking to OCI registries, for any caller that has (source, target) jobs:
//! credentials from docker-style config files ([`credentials`]), how hosts
//! are reached ([`connection`]: TLS roots, plain-HTTP registries, timeouts),
//! the one client with its one authentication flow and one error type
//! ([`client`], answering challenges by the rules of [`auth`], transport
//! errors classified by [`transport`], every body bounded by [`limits`]),
//! image copies with retries and progress ([`copy`]), Helm charts pulled
//! from and pushed to registries ([`chart`]), and the project's one sha256
//! ([`digest`]).

pub mod auth;
pub mod chart;
pub mod client;
pub mod connection;
pub mod copy;
pub mod credentials;
pub mod digest;
pub mod limits;
pub mod transport;

pub use client::{Failure, FailureKind, RawManifest, RegistryClient, Scope};
pub use connection::{pem_certificates, OciSettings};
pub use copy::{copy_all, CopyJob, CopyOptions, Report};
pub use credentials::{Auth, Credentials};
pub use limits::Timeouts;
