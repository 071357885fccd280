//! Helm charts as this binary reads and fetches them: [`chart`] metadata
//! (`Chart.yaml`, v1 `requirements.yaml`), Helm's [`version_constraint`]
//! syntax, chart [`repository`] indexes (the one `index.yaml` download, with
//! the chart cache), and [`dependencies`]: each dependency fetched from its
//! repository (`oci://` through the registry client, `https://` through
//! [`repository`], `file://`) into `charts/`.

pub mod chart;
pub mod dependencies;
pub mod repository;
pub mod version_constraint;
