//! Talking to OCI registries: credentials from docker-style config files
//! ([`credentials`]), Helm chart pulls with TLS and auth ([`oci`]) and the
//! size and time bounds of what they read ([`limits`]).

pub mod copy;
pub mod credentials;
pub mod limits;
pub mod oci;
