//! Helm charts as this binary reads and fetches them: [`chart`] metadata
//! (`Chart.yaml`, v1 `requirements.yaml`), Helm's [`version_constraint`]
//! syntax, and [`dependencies`]: each dependency fetched from its repository
//! (`oci://`, an `https://` repository's `index.yaml`, `file://`) into
//! `charts/`, with the chart cache.

pub mod chart;
pub mod dependencies;
pub mod version_constraint;
