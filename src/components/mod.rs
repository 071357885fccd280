//! Rendering one component of a generated output folder: a kustomize folder
//! ([`kustomize`]), or a Helm chart whose dependencies ([`dependencies`]) are
//! resolved by this binary (reading [`chart`] metadata and Helm's
//! [`version_constraint`] syntax) before `helm template` runs ([`helm`]); both
//! run the real programs ([`tool`]).

pub mod chart;
pub mod dependencies;
pub mod helm;
pub mod kustomize;
pub mod tool;
pub mod version_constraint;
