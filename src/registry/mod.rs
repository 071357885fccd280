//! Talking to OCI registries: credentials from docker-style config files
//! ([`credentials`]) and Helm chart pulls with TLS and auth ([`oci`]).

pub mod copy;
pub mod credentials;
pub mod oci;
