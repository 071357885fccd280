//! Rendering one component of a generated output folder: a kustomize folder
//! ([`kustomize`]), or a Helm chart whose dependencies are first resolved by
//! [`crate::charts`] before `helm template` runs ([`helm`]); both run the real
//! programs ([`tool`]). [`Build`] names which of the two a child Application
//! asks for; [`output_folder`] and [`chart_values_files`] check its paths
//! against the generator's output, for the plugin and the inventory alike.

pub mod helm;
pub mod kustomize;
pub mod tool;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::generator::output::lexical_clean;

/// How a child Application's manifests are built from the generator's output
/// (its plugin parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Build {
    /// `kustomize build` of `output_kustomize_path` (or the default `./argocd/`).
    Kustomize(String),
    /// `helm template` of `output_helm_path` with its `output_helm_values_files`.
    Helm { path: String, values_files: Vec<String> },
}

/// The folder `rel` of the generator's output `render_dir`; it must exist and
/// stay inside the output.
pub fn output_folder(render_dir: &Path, rel: &str, parameter: &str) -> Result<PathBuf> {
    let joined = lexical_clean(&render_dir.join(rel));
    if !joined.starts_with(render_dir) {
        bail!("the '{parameter}' '{rel}' leaves the generator's output: give a folder inside it, like './manifests/...'");
    }
    if !joined.is_dir() {
        bail!(
            "the '{parameter}' '{rel}' does not exist in the generator's output: check it against the folders \
             this generator version writes (child Applications get it from the app-of-apps)"
        );
    }
    Ok(joined)
}

/// The `output_helm_values_files` entries that exist (relative to the chart,
/// like the upstream plugin, which skips missing ones); an entry leaving the
/// chart is an error.
pub fn chart_values_files(chart: &Path, entries: &[String]) -> Result<Vec<PathBuf>> {
    let root = chart.canonicalize().with_context(|| format!("cannot read '{}'", chart.display()))?;
    let mut files = Vec::new();
    for rel in entries {
        let Ok(resolved) = chart.join(rel).canonicalize() else {
            continue;
        };
        if !resolved.starts_with(&root) {
            bail!("the Helm values file '{rel}' given in 'output_helm_values_files' is outside the chart folder");
        }
        if resolved.is_file() {
            files.push(resolved);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn output_folders_must_exist_inside_the_render() {
        let dir = tempfile::TempDir::new().unwrap();
        let render = dir.path().join("render");
        fs::create_dir_all(render.join("argocd")).unwrap();
        fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        assert_eq!(output_folder(&render, "./argocd/", "p").unwrap(), render.join("argocd"));
        let err = output_folder(&render, "./manifests/none/", "output_kustomize_path").unwrap_err().to_string();
        assert!(err.starts_with("the 'output_kustomize_path' './manifests/none/' does not exist"), "{err}");
        let err = output_folder(&render, "../elsewhere", "p").unwrap_err().to_string();
        assert!(err.contains("leaves the generator's output"), "{err}");
    }

    #[test]
    fn chart_values_files_skip_missing_and_refuse_escapes() {
        let dir = tempfile::TempDir::new().unwrap();
        let chart = dir.path().join("chart");
        fs::create_dir_all(&chart).unwrap();
        fs::write(chart.join("values-a.yaml"), "").unwrap();
        fs::write(dir.path().join("outside.yaml"), "").unwrap();
        let found = chart_values_files(&chart, &["./values-a.yaml".into(), "missing.yaml".into()]).unwrap();
        assert_eq!(found, [chart.canonicalize().unwrap().join("values-a.yaml")]);
        assert!(chart_values_files(&chart, &["../outside.yaml".into()]).is_err());
    }
}
