//! Rendering one component of a generated output folder: a kustomize folder, or
//! a Helm chart whose dependencies ([`dependencies`]) are resolved by this
//! binary before `helm template` runs (reading [`chart`] metadata and Helm's
//! [`version_constraint`] syntax).

pub mod chart;
pub mod dependencies;
pub mod version_constraint;
