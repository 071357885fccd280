//! Helm chart dependencies, resolved without `helm dependency build`: each entry
//! of `Chart.yaml` `dependencies` (or v1 `requirements.yaml`) is fetched from its
//! repository (`oci://` through the registry client with registry credentials,
//! `https://` through the repository's `index.yaml`, `file://` folders) and
//! placed in `charts/`. Like helm, every dependency is fetched whatever its
//! `condition`, and `alias` does not change the file name.
//!
//! Remote charts land in `charts/<name>-<version>.tgz`. `file://` charts are
//! copied as folders into `charts/<name>/`: helm template loads a folder subchart
//! exactly like an archive, and a copy needs no tar writer and keeps the files
//! byte for byte. Both are written to a dot-named temporary (helm ignores
//! `charts/.*`) and renamed into place.
//!
//! With a cache folder, archives are kept under `<cache>/sha256/<hex>` by
//! content digest (the OCI layer digest, or the index entry's `digest`): a second
//! resolve still asks the registry which digest a tag names (or reads the
//! index), but does not download the archive again. Entries are checked against
//! their digest when read and written atomically, so concurrent processes may
//! share the folder.
//!
//! Every download is bounded ([`registry::limits`]: `index.yaml`
//! 64 MiB, chart archives 32 MiB, OCI manifests 4 MiB), every request honours
//! the [`Timeouts`] of `DEPLOYKF_CMP_*_TIMEOUT` and, in plugin mode, every fetch is
//! cut short at the run's [`Deadline`] with a message naming what was being
//! fetched from which host.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use registry::chart::{self, ChartManifest};
use registry::{Auth, Credentials, Failure, FailureKind, OciSettings, RegistryClient, Timeouts};

use super::chart::{ChartMetadata, Dependency};
use super::repository::{self, first_few, write_atomic, BlobCache};
use super::version_constraint::{self, VersionConstraint};
use crate::deadline::{self, Deadline};
use crate::settings::{Settings, INSECURE_REGISTRIES_ENV};

/// Where and how dependencies are fetched.
#[derive(Clone, Debug, Default)]
pub struct ResolveOptions {
    /// Registry credentials (from `HELM_REGISTRY_CONFIG`).
    pub credentials: Credentials,
    /// A folder caching pulled chart archives by digest, shared across runs.
    pub cache_dir: Option<PathBuf>,
    /// PEM file of extra CAs to trust (`SSL_CERT_FILE`).
    pub extra_ca_file: Option<PathBuf>,
    /// Registries (`host[:port]`) reached over plain HTTP instead of HTTPS.
    pub insecure_registries: Vec<String>,
    /// When the resolve must be done (plugin mode); `None`: no deadline.
    pub deadline: Option<Deadline>,
    /// Connect, read and request timeouts of every download.
    pub timeouts: Timeouts,
}

impl ResolveOptions {
    /// Credentials from `HELM_REGISTRY_CONFIG`, extra CAs from `SSL_CERT_FILE`,
    /// insecure registries from `DEPLOYKF_CMP_INSECURE_REGISTRIES`, timeouts
    /// from `DEPLOYKF_CMP_*_TIMEOUT`; no cache.
    pub fn from_settings(settings: &Settings) -> Result<ResolveOptions> {
        Ok(ResolveOptions {
            credentials: Credentials::from_helm_env_in(&|name| settings.var_os(name))?,
            cache_dir: None,
            extra_ca_file: settings.extra_ca_file(),
            insecure_registries: settings.insecure_registries(),
            deadline: None,
            timeouts: settings.timeouts()?,
        })
    }
}

/// Fetches every dependency of the chart at `chart_dir` into `chart_dir/charts/`
/// as `<name>-<version>.tgz` (`file://` ones as the folder `charts/<name>`).
/// Runs its own single-threaded tokio runtime: do not call it from async code.
/// With a deadline, a fetch still running at it fails naming what it was fetching.
pub fn resolve(chart_dir: &Path, options: &ResolveOptions) -> Result<()> {
    let chart = ChartMetadata::load(chart_dir)?;
    let remote: Vec<&Dependency> = chart.dependencies.iter().filter(|d| !d.repository.is_empty()).collect();
    if remote.is_empty() {
        return Ok(());
    }
    let charts = chart_dir.join("charts");
    std::fs::create_dir_all(&charts).with_context(|| format!("cannot create {}", charts.display()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut fetcher = Fetcher { options, registry: None };
        for dep in remote {
            let fetch = fetcher.fetch(chart_dir, &charts, dep);
            let fetched = match options.deadline {
                Some(deadline) => tokio::time::timeout_at(deadline.at.into(), fetch).await.unwrap_or_else(|_| Err(deadline.expired())),
                None => fetch.await,
            };
            fetched.with_context(|| format!("chart {}: dependency {} version {:?} from {}", chart.name, dep.name, dep.version, dep.repository))?;
        }
        Ok(())
    })
}

struct Fetcher<'a> {
    options: &'a ResolveOptions,
    registry: Option<RegistryClient>,
}

impl Fetcher<'_> {
    /// The registry client of the options, built on first use.
    fn registry(&mut self) -> Result<&RegistryClient> {
        if self.registry.is_none() {
            let extra_roots = match &self.options.extra_ca_file {
                Some(path) => registry::pem_certificates(path)?,
                None => Vec::new(),
            };
            let settings = OciSettings {
                extra_roots,
                insecure_registries: self.options.insecure_registries.clone(),
                timeouts: self.options.timeouts,
                activity: Some(|what| deadline::doing(what)),
                ..Default::default()
            };
            self.registry = Some(RegistryClient::new(&settings, self.options.credentials.clone())?);
        }
        Ok(self.registry.as_ref().expect("set above"))
    }

    async fn fetch(&mut self, chart_dir: &Path, charts: &Path, dep: &Dependency) -> Result<()> {
        let repo = dep.repository.trim();
        if let Some(path) = repo.strip_prefix("file://") {
            copy_local_chart(chart_dir, charts, dep, path)
        } else if let Some(location) = repo.strip_prefix("oci://") {
            let (host, path) = location.split_once('/').unwrap_or((location, ""));
            let options = self.options;
            pull_oci(self.registry()?, options, charts, dep, host, path).await
        } else if repo.starts_with("https://") || repo.starts_with("http://") {
            let cache = BlobCache(self.options.cache_dir.as_deref());
            let registry = self.registry()?;
            let http = registry.client().map_err(anyhow::Error::new)?;
            let (bytes, version) = repository::fetch_chart(http, registry.timeouts(), &cache, repo, &dep.name, &dep.version).await?;
            write_atomic(charts, &format!("{}-{version}.tgz", dep.name), &bytes)?;
            Ok(())
        } else {
            bail!(
                "unsupported repository {repo:?}: use oci://host/path, https://… (a chart repository URL) or file://path; \
                 repository names (@name) need `helm repo add`, which this plugin does not read"
            )
        }
    }
}

fn join_repo(path: &str, name: &str) -> String {
    let path = path.trim_matches('/');
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}/{name}")
    }
}

/// `file://` dependencies: the folder relative to the chart, checked against the
/// requested version as helm does, copied to `charts/<name>`.
fn copy_local_chart(chart_dir: &Path, charts: &Path, dep: &Dependency, path: &str) -> Result<()> {
    let source = chart_dir.join(path);
    let local = ChartMetadata::load(&source).with_context(|| format!("file://{path} is not a chart folder"))?;
    let constraint = VersionConstraint::parse(&dep.version).map_err(|e| anyhow!("invalid version {:?}: {e}", dep.version))?;
    let version = version_constraint::parse_version(&local.version);
    if !version.is_some_and(|v| constraint.matches(&v)) {
        bail!("the chart in {} has version {:?}, which does not satisfy {:?}: update `version` in Chart.yaml", source.display(), local.version, dep.version);
    }
    let staging = tempfile::Builder::new().prefix(".tmp-").tempdir_in(charts).context("cannot create a temporary folder in charts/")?;
    copy_tree(&source, staging.path())?;
    let target = charts.join(&dep.name);
    if target.exists() {
        std::fs::remove_dir_all(&target).with_context(|| format!("cannot replace {}", target.display()))?;
    }
    let staged = staging.keep();
    std::fs::rename(&staged, &target).with_context(|| format!("cannot move the chart into {}", target.display()))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&dest)?;
            copy_tree(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest).with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Turns a registry failure into a message naming the registry and saying what to do.
fn explain(error: Failure, options: &ResolveOptions, host: &str, repository: &str) -> anyhow::Error {
    let detail = error.message;
    match error.kind {
        FailureKind::Denied if error.status.is_some() => {
            let anonymous = matches!(options.credentials.for_registry(host), Ok(Auth::Anonymous));
            let config = match (&options.credentials.path, anonymous) {
                (Some(path), false) => format!("in the file named by HELM_REGISTRY_CONFIG ({})", path.display()),
                (Some(path), true) => format!(
                    "in the file named by HELM_REGISTRY_CONFIG ({}): it has no entry for {host}, add one (`helm registry login {host}`)",
                    path.display()
                ),
                (None, _) => "in a docker config file named by HELM_REGISTRY_CONFIG (unset: no credentials were sent)".into(),
            };
            let status = error.status.unwrap_or(401);
            anyhow!("401 Unauthorized from {host} for {repository}: check the credentials for {host} {config} (HTTP {status})")
        }
        FailureKind::Unreachable => anyhow!(
            "cannot connect to the registry {host} for {repository}: {detail}: check that {host} is reachable from here; \
             a registry serving plain HTTP must be listed in {INSECURE_REGISTRIES_ENV}"
        ),
        FailureKind::Tls => anyhow!(
            "TLS connection to {host} failed for {repository}: {detail}: if {host} uses a private CA, set SSL_CERT_FILE \
             to a PEM file holding it; a registry serving plain HTTP must be listed in {INSECURE_REGISTRIES_ENV}"
        ),
        FailureKind::NotFound => anyhow!("{repository} not found on {host}: {detail}: push the chart there or fix `repository`"),
        FailureKind::NotARegistry => anyhow!("{detail}"),
        _ => anyhow!("registry {host}, {repository}: {detail}"),
    }
}

async fn pull_oci(registry: &RegistryClient, options: &ResolveOptions, charts: &Path, dep: &Dependency, host: &str, path: &str) -> Result<()> {
    let repository = join_repo(path, &dep.name);
    let explain = |e: Failure| explain(e, options, host, &repository);
    let requested = dep.version.trim();
    let mut found: Option<ChartManifest> = None;
    if version_constraint::is_exact(requested) {
        let mut tags = vec![requested.to_string()];
        if !requested.starts_with('v') {
            tags.push(format!("v{requested}"));
        }
        for tag in tags {
            if let Some(manifest) = chart::pull_manifest(registry, host, &repository, &tag.replace('+', "_")).await.map_err(explain)? {
                found = Some(manifest);
                break;
            }
        }
    }
    let manifest = match found {
        Some(m) => m,
        None => {
            let tags = registry.tags(host, &repository).await.map_err(explain)?;
            let chosen = version_constraint::select(&tags, requested).map_err(|e| anyhow!("invalid version {requested:?}: {e}"))?;
            let Some(tag) = chosen else {
                bail!(
                    "no version of {} matching {requested:?} in oci://{host}/{} (available: {}): set a version the registry has, or push the chart there",
                    dep.name,
                    path.trim_matches('/'),
                    first_few(&tags)
                );
            };
            chart::pull_manifest(registry, host, &repository, &tag.replace('+', "_"))
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow!("tag {tag} of {repository} on {host} vanished while resolving"))?
        }
    };
    let hex = manifest.digest.strip_prefix("sha256:").unwrap_or(&manifest.digest).to_string();
    let cache = BlobCache(options.cache_dir.as_deref());
    let bytes = match cache.get(&hex) {
        Some(bytes) => bytes,
        None => {
            let bytes = chart::pull_archive(registry, host, &repository, &manifest).await.map_err(explain)?;
            cache.put(&hex, &bytes)?;
            bytes
        }
    };
    let version = manifest.tag.replace('_', "+");
    write_atomic(charts, &format!("{}-{version}.tgz", dep.name), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests;
