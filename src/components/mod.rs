//! Building one component of a generated output folder, the one build the
//! plugin and the inventory share: a kustomize folder ([`kustomize`]), or a
//! Helm chart whose dependencies are first resolved by [`crate::charts`]
//! before `helm template` runs ([`helm`]); both run the real programs
//! ([`tool`]), located once per run by [`Tools`], which also holds the chart
//! pull settings. [`Build`] names which of the two a child Application asks
//! for; [`folder`] checks its path against the generator's output. [`build`]
//! does it all in place; the plugin splits it into [`prepare`] (`plugin
//! init`, on its own copy of a chart) and [`render`] (`plugin generate`).
//! [`chart_dependencies`] tells which versions a prepared chart got.

pub mod helm;
pub mod kustomize;
pub mod tool;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

use crate::charts::chart::{ChartMetadata, Dependency};
use crate::charts::dependencies::{self, ResolveOptions};
use crate::deadline::Deadline;
use crate::generator::output::lexical_clean;
use crate::settings::Settings;
use helm::{Helm, Release};
use kustomize::Kustomize;

/// How a child Application's manifests are built from the generator's output
/// (its plugin parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Build {
    /// `kustomize build` of `output_kustomize_path` (or the default `./argocd/`).
    Kustomize(String),
    /// `helm template` of `output_helm_path` with its `output_helm_values_files`.
    Helm { path: String, values_files: Vec<String> },
}

impl Build {
    /// The component's folder, relative to the generator's output.
    pub fn path(&self) -> &str {
        match self {
            Build::Kustomize(path) | Build::Helm { path, .. } => path,
        }
    }

    /// The plugin parameter naming the folder.
    fn parameter(&self) -> &'static str {
        match self {
            Build::Kustomize(_) => "output_kustomize_path",
            Build::Helm { .. } => "output_helm_path",
        }
    }
}

/// The programs component builds run and the chart pull settings, each made
/// on first use (the programs as [`Kustomize::locate`] and [`Helm::locate`]
/// find them, the pulls as [`ResolveOptions::from_settings`] reads them) and
/// then kept for the run.
pub struct Tools<'s> {
    settings: &'s Settings,
    helm_home: PathBuf,
    chart_cache: PathBuf,
    deadline: Option<Deadline>,
    kustomize: OnceLock<Kustomize>,
    helm: OnceLock<Helm>,
    pulls: OnceLock<ResolveOptions>,
}

impl<'s> Tools<'s> {
    /// The programs and chart registries named by `settings`: helm's homes go
    /// under `helm_home` when `HOME` is unusable, pulled charts are cached in
    /// `chart_cache`, and pulls still running at `deadline` fail.
    pub fn new(settings: &'s Settings, helm_home: PathBuf, chart_cache: PathBuf, deadline: Option<Deadline>) -> Tools<'s> {
        Tools {
            settings,
            helm_home,
            chart_cache,
            deadline,
            kustomize: OnceLock::new(),
            helm: OnceLock::new(),
            pulls: OnceLock::new(),
        }
    }

    /// kustomize, else `kubectl kustomize`.
    pub fn kustomize(&self) -> Result<&Kustomize> {
        if let Some(found) = self.kustomize.get() {
            return Ok(found);
        }
        let found = Kustomize::locate(|n| self.settings.var_os(n))?;
        Ok(self.kustomize.get_or_init(|| found))
    }

    /// helm.
    pub fn helm(&self) -> Result<&Helm> {
        if let Some(found) = self.helm.get() {
            return Ok(found);
        }
        let found = Helm::locate(|n| self.settings.var_os(n), &self.helm_home)?;
        Ok(self.helm.get_or_init(|| found))
    }

    /// How chart dependencies are pulled: credentials, CAs, insecure
    /// registries and timeouts from the settings, the cache and deadline.
    fn pulls(&self) -> Result<&ResolveOptions> {
        if let Some(made) = self.pulls.get() {
            return Ok(made);
        }
        let made = ResolveOptions {
            cache_dir: Some(self.chart_cache.clone()),
            deadline: self.deadline,
            ..ResolveOptions::from_settings(self.settings)?
        };
        Ok(self.pulls.get_or_init(|| made))
    }

    /// Locates the program `build` runs, so that a missing one fails before
    /// anything is rendered.
    pub fn check(&self, build: &Build) -> Result<()> {
        match build {
            Build::Kustomize(_) => self.kustomize().map(drop),
            Build::Helm { .. } => self.helm().map(drop),
        }
    }
}

/// Builds `build` from the generator's output `render_dir`: [`folder`], then
/// [`prepare`] in place (the folder must be the caller's own), then [`render`].
pub fn build(render_dir: &Path, build: &Build, tools: &Tools, release: &Release) -> Result<Vec<u8>> {
    let dir = folder(render_dir, build)?;
    prepare(&dir, build, tools)?;
    render(&dir, build, tools, release)
}

/// The component's folder in the generator's output `render_dir`; it must
/// exist and stay inside the output.
pub fn folder(render_dir: &Path, build: &Build) -> Result<PathBuf> {
    output_folder(render_dir, build.path(), build.parameter())
}

/// The first step of a build: a chart's dependencies fetched into `dir`'s
/// `charts/` (nothing to do for a kustomize folder).
pub fn prepare(dir: &Path, build: &Build, tools: &Tools) -> Result<()> {
    match build {
        Build::Kustomize(_) => Ok(()),
        Build::Helm { path, .. } => dependencies::resolve(dir, tools.pulls()?)
            .with_context(|| format!("cannot resolve the dependencies of the chart '{path}'")),
    }
}

/// The second step of a build: the manifests of the prepared folder `dir`
/// (`kustomize build`, or `helm template` as `release` with the chart's
/// `output_helm_values_files`).
pub fn render(dir: &Path, build: &Build, tools: &Tools, release: &Release) -> Result<Vec<u8>> {
    match build {
        Build::Kustomize(_) => tools.kustomize()?.build(dir, &[]),
        Build::Helm { values_files, .. } => tools.helm()?.template(dir, release, &chart_values_files(dir, values_files)?),
    }
}

/// A chart dependency and the version [`prepare`] placed for it.
#[derive(Clone, Debug)]
pub struct ResolvedDependency {
    pub dependency: Dependency,
    /// The version found in `charts/` (the constraint's match); `None` before
    /// [`prepare`].
    pub resolved_version: Option<String>,
}

/// The dependencies of the chart in `dir` (its `Chart.yaml`), each with the
/// version in its `charts/`.
pub fn chart_dependencies(dir: &Path) -> Result<Vec<ResolvedDependency>> {
    let charts = dir.join("charts");
    Ok(ChartMetadata::load(dir)?
        .dependencies
        .into_iter()
        .map(|dependency| ResolvedDependency { resolved_version: resolved_version(&charts, &dependency), dependency })
        .collect())
}

/// The version of `dep` placed in `charts/` (`<name>-<version>.tgz`; the
/// folder's `Chart.yaml` for a `file://` copy).
fn resolved_version(charts: &Path, dep: &Dependency) -> Option<String> {
    let prefix = format!("{}-", dep.name);
    let entries = std::fs::read_dir(charts).ok()?;
    let mut found = None;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(version) = name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tgz")) {
            if version.starts_with(|c: char| c.is_ascii_digit() || c == 'v') {
                found = Some(version.to_string());
            }
        } else if name == dep.name && entry.path().is_dir() {
            found = ChartMetadata::load(&entry.path()).ok().map(|m| m.version).filter(|v| !v.is_empty());
        }
    }
    found
}

/// The folder `rel` of the generator's output `render_dir`; it must exist and
/// stay inside the output.
fn output_folder(render_dir: &Path, rel: &str, parameter: &str) -> Result<PathBuf> {
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
fn chart_values_files(chart: &Path, entries: &[String]) -> Result<Vec<PathBuf>> {
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
