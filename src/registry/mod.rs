//! Talking to OCI registries: credentials from docker-style config files
//! ([`credentials`]).

pub mod credentials;
pub mod oci;
