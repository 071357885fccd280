//! Rendering one component of a generated output folder: a kustomize folder
//! ([`kustomize`]), or a Helm chart whose dependencies are first resolved by
//! [`crate::charts`] before `helm template` runs ([`helm`]); both run the real
//! programs ([`tool`]).

pub mod helm;
pub mod kustomize;
pub mod tool;
