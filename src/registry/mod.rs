//! Talking to OCI registries: credentials from docker-style config files
//! ([`credentials`]), Helm chart pulls with TLS and auth ([`oci`]), copies
//! ([`copy`]), and what both clients share: how a registry's authentication
//! challenge is answered ([`auth`]), why a request failed ([`transport`]) and
//! the size and time bounds of what they read ([`limits`]).

pub mod auth;
pub mod copy;
pub mod credentials;
pub mod limits;
pub mod oci;
pub mod transport;
