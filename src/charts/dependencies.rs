//! Helm chart dependencies, resolved without `helm dependency build`: each entry
//! of `Chart.yaml` `dependencies` (or v1 `requirements.yaml`) is fetched from its
//! repository (`oci://` through an OCI client with registry credentials,
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
//! Every download is bounded ([`crate::registry::limits`]: `index.yaml`
//! 64 MiB, chart archives 32 MiB, OCI manifests 4 MiB), every request honours
//! the [`Timeouts`] of `DEPLOYKF_CMP_*_TIMEOUT` and, in plugin mode, every fetch is
//! cut short at the run's [`Deadline`] with a message naming what was being
//! fetched from which host.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use sha2::{Digest, Sha256};

use super::chart::{ChartMetadata, Dependency};
use super::version_constraint::{self, VersionConstraint};
use crate::deadline::{self, Deadline};
use crate::registry::credentials::Credentials;
use crate::registry::limits::{self, BodyError, Timeouts};
use crate::registry::oci::{self, ChartManifest, ChartRegistry, OciError, OciSettings};
use crate::registry::transport;
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
    registry: Option<ChartRegistry>,
}

impl Fetcher<'_> {
    fn registry(&mut self) -> Result<&ChartRegistry> {
        if self.registry.is_none() {
            let extra_roots = match &self.options.extra_ca_file {
                Some(path) => oci::pem_certificates(path)?,
                None => Vec::new(),
            };
            let settings = OciSettings {
                extra_roots,
                insecure_registries: self.options.insecure_registries.clone(),
                timeouts: self.options.timeouts,
                ..Default::default()
            };
            self.registry = Some(ChartRegistry::new(&settings)?);
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
            let repository = join_repo(path, &dep.name);
            let auth = self.registry()?.auth(&options.credentials, host, &repository).await.map_err(|e| match e.downcast::<OciError>() {
                Ok(failure) => explain(failure, options, host, &repository, false),
                Err(other) => other,
            })?;
            let registry = self.registry.as_ref().expect("created by auth");
            pull_oci(registry, self.options, charts, dep, host, path, &auth).await
        } else if repo.starts_with("https://") || repo.starts_with("http://") {
            let cache = self.options.cache_dir.clone();
            let registry = self.registry()?;
            download_from_index(registry.http()?, registry.timeouts(), cache.as_deref(), charts, dep, repo).await
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

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    let target = dir.join(name);
    tmp.persist(&target).map_err(|e| anyhow!("cannot write {}: {}", target.display(), e.error))?;
    Ok(target)
}

/// The lower-case hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The cache of chart archives, keyed by sha256.
struct BlobCache<'a>(Option<&'a Path>);

impl BlobCache<'_> {
    /// The cached archive with this hex sha256, if present and intact.
    fn get(&self, hex: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.0?.join("sha256").join(hex)).ok()?;
        (sha256_hex(&bytes) == hex).then_some(bytes)
    }

    fn put(&self, hex: &str, bytes: &[u8]) -> Result<()> {
        let Some(root) = self.0 else { return Ok(()) };
        let dir = root.join("sha256");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the chart cache {}", dir.display()))?;
        write_atomic(&dir, hex, bytes).map(|_| ())
    }
}

fn first_few(items: &[String]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    let shown: Vec<&str> = items.iter().take(10).map(String::as_str).collect();
    let more = if items.len() > shown.len() { format!(", … ({} in all)", items.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// Turns an OCI failure into a message naming the registry and saying what to do.
fn explain(error: OciError, options: &ResolveOptions, host: &str, repository: &str, anonymous: bool) -> anyhow::Error {
    match error {
        OciError::Unauthorized(detail) => {
            let config = match (&options.credentials.path, anonymous) {
                (Some(path), false) => format!("in the file named by HELM_REGISTRY_CONFIG ({})", path.display()),
                (Some(path), true) => format!(
                    "in the file named by HELM_REGISTRY_CONFIG ({}): it has no entry for {host}, add one (`helm registry login {host}`)",
                    path.display()
                ),
                (None, _) => "in a docker config file named by HELM_REGISTRY_CONFIG (unset: no credentials were sent)".into(),
            };
            anyhow!("401 Unauthorized from {host} for {repository}: check the credentials for {host} {config} ({detail})")
        }
        OciError::Unreachable(detail) => anyhow!(
            "cannot connect to the registry {host} for {repository}: {detail}: check that {host} is reachable from here; \
             a registry serving plain HTTP must be listed in {INSECURE_REGISTRIES_ENV}"
        ),
        OciError::Tls(detail) => anyhow!(
            "TLS connection to {host} failed for {repository}: {detail}: if {host} uses a private CA, set SSL_CERT_FILE \
             to a PEM file holding it; a registry serving plain HTTP must be listed in {INSECURE_REGISTRIES_ENV}"
        ),
        OciError::NotFound(detail) => anyhow!("{repository} not found on {host}: {detail}: push the chart there or fix `repository`"),
        OciError::NotARegistry(detail) => anyhow!("{detail}"),
        OciError::Other(detail) => anyhow!("registry {host}, {repository}: {detail}"),
    }
}

async fn pull_oci(
    registry: &ChartRegistry,
    options: &ResolveOptions,
    charts: &Path,
    dep: &Dependency,
    host: &str,
    path: &str,
    auth: &RegistryAuth,
) -> Result<()> {
    let repository = join_repo(path, &dep.name);
    let reference = |tag: &str| Reference::with_tag(host.to_string(), repository.clone(), tag.replace('+', "_"));
    let anonymous = matches!(auth, RegistryAuth::Anonymous);
    let explain = |e: OciError| explain(e, options, host, &repository, anonymous);
    let requested = dep.version.trim();
    let mut found: Option<ChartManifest> = None;
    if version_constraint::is_exact(requested) {
        let mut tags = vec![requested.to_string()];
        if !requested.starts_with('v') {
            tags.push(format!("v{requested}"));
        }
        for tag in tags {
            if let Some(manifest) = registry.manifest(&reference(&tag), auth).await.map_err(explain)? {
                found = Some(manifest);
                break;
            }
        }
    }
    let manifest = match found {
        Some(m) => m,
        None => {
            let tags = registry.tags(&reference("latest"), auth).await.map_err(explain)?;
            let chosen = version_constraint::select(&tags, requested).map_err(|e| anyhow!("invalid version {requested:?}: {e}"))?;
            let Some(tag) = chosen else {
                bail!(
                    "no version of {} matching {requested:?} in oci://{host}/{} (available: {}): set a version the registry has, or push the chart there",
                    dep.name,
                    path.trim_matches('/'),
                    first_few(&tags)
                );
            };
            registry
                .manifest(&reference(tag), auth)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow!("tag {tag} of {repository} on {host} vanished while resolving"))?
        }
    };
    let hex = manifest.layer.digest.strip_prefix("sha256:").unwrap_or(&manifest.layer.digest).to_string();
    let cache = BlobCache(options.cache_dir.as_deref());
    let bytes = match cache.get(&hex) {
        Some(bytes) => bytes,
        None => {
            let bytes = registry.chart_blob(&reference(&manifest.tag), &manifest, auth).await.map_err(explain)?;
            cache.put(&hex, &bytes)?;
            bytes
        }
    };
    let version = manifest.tag.replace('_', "+");
    write_atomic(charts, &format!("{}-{version}.tgz", dep.name), &bytes)?;
    Ok(())
}

/// One entry of a chart repository's `index.yaml`.
pub(crate) struct IndexEntry {
    pub(crate) version: String,
    pub(crate) urls: Vec<String>,
    pub(crate) digest: Option<String>,
}

/// The entries of chart `name` in a decoded `index.yaml`.
pub(crate) fn index_entries(index: &gomplate::Value, name: &str) -> Vec<IndexEntry> {
    let Some(list) = index.as_map().and_then(|m| m.get("entries")).and_then(|e| e.as_map()).and_then(|e| e.get(name)).and_then(|l| l.as_list()) else {
        return Vec::new();
    };
    let text = |v: Option<&gomplate::Value>| match v {
        Some(gomplate::Value::String(s)) => Some(s.to_string()),
        Some(gomplate::Value::Int(i)) => Some(i.to_string()),
        Some(gomplate::Value::Float(f)) => Some(f.to_string()),
        _ => None,
    };
    list.iter()
        .filter_map(|entry| {
            let map = entry.as_map()?;
            Some(IndexEntry {
                version: text(map.get("version"))?,
                urls: map.get("urls").and_then(|u| u.as_list()).unwrap_or(&[]).iter().filter_map(|u| text(Some(u))).collect(),
                digest: text(map.get("digest")).filter(|d| !d.is_empty()),
            })
        })
        .collect()
}

/// `GET url` of a chart repository, at most [`limits::INDEX_MAX`] bytes (the
/// larger of the index and archive limits), with errors saying what to do.
pub(crate) async fn http_get(http: &reqwest::Client, timeouts: &Timeouts, url: &str) -> Result<Vec<u8>> {
    http_get_limited(http, timeouts, url, limits::INDEX_MAX, "a download").await
}

/// `GET url` (`what` it is), failing as soon as the body passes `limit` bytes
/// or stalls; errors name the host and the HTTP status.
async fn http_get_limited(http: &reqwest::Client, timeouts: &Timeouts, url: &str, limit: u64, what: &str) -> Result<Vec<u8>> {
    let host = reqwest::Url::parse(url).ok().map(|u| transport::host_port(&u)).unwrap_or_else(|| url.to_string());
    deadline::doing(format!("fetching {what} from {host} (GET {url})"));
    let failed = |e: BodyError| match e {
        BodyError::Http(e) => match oci::classify_reqwest(&e) {
            OciError::Tls(detail) => anyhow!(
                "TLS connection to {host} failed for {url}: {detail}: if the server uses a private CA, set SSL_CERT_FILE to a PEM file holding it"
            ),
            OciError::Unreachable(detail) => anyhow!("cannot connect to {host} for {url}: {detail}: check that the repository is reachable from here"),
            other => anyhow!("cannot fetch {url} from {host}: {other}"),
        },
        BodyError::TooLarge { limit } => anyhow!("{what} {url} from {host} is larger than the limit of {}", limits::size(limit)),
        stalled => anyhow!("cannot fetch {what} {url} from {host}: {stalled}"),
    };
    let response = limits::send(http.get(url), timeouts).await.map_err(failed)?;
    let status = response.status();
    if status == 401 || status == 403 {
        bail!("HTTP {status} from {host} for {url}: chart repositories that need credentials are not supported; mirror the chart to an OCI registry");
    }
    if !status.is_success() {
        bail!("HTTP {status} from {host} for {url}: check the repository URL");
    }
    limits::read_limited(response, limit, timeouts).await.map_err(failed)
}

async fn download_from_index(http: &reqwest::Client, timeouts: &Timeouts, cache_dir: Option<&Path>, charts: &Path, dep: &Dependency, repo: &str) -> Result<()> {
    let base = reqwest::Url::parse(&format!("{}/", repo.trim_end_matches('/'))).with_context(|| format!("invalid repository URL {repo}"))?;
    let index_url = base.join("index.yaml")?;
    let text = http_get_limited(http, timeouts, index_url.as_str(), limits::INDEX_MAX, "the chart repository index").await?;
    let text = String::from_utf8(text).map_err(|_| anyhow!("{index_url} is not UTF-8 text"))?;
    let index = gomplate::yaml::decode(&text).map_err(|e| anyhow!("{index_url}: {e}"))?;
    let entries = index_entries(&index, &dep.name);
    if entries.is_empty() {
        bail!("no chart named {} in {index_url}: check `name` and `repository`", dep.name);
    }
    let versions: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
    let chosen = version_constraint::select(&versions, &dep.version).map_err(|e| anyhow!("invalid version {:?}: {e}", dep.version))?;
    let Some(chosen) = chosen else {
        bail!("no version of {} matching {:?} in {index_url} (available: {}): set a version the repository has", dep.name, dep.version, first_few(&versions));
    };
    let entry = entries.iter().find(|e| &e.version == chosen).expect("chosen from entries");
    let url = entry.urls.first().ok_or_else(|| anyhow!("{index_url}: {} {} has no `urls`", dep.name, entry.version))?;
    let url = base.join(url).with_context(|| format!("{index_url}: invalid chart URL {url}"))?;
    let cache = BlobCache(cache_dir);
    let digest = entry.digest.as_deref().map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase());
    let cached = digest.as_deref().and_then(|hex| cache.get(hex));
    let bytes = match cached {
        Some(bytes) => bytes,
        None => {
            let bytes = http_get_limited(http, timeouts, url.as_str(), limits::CHART_ARCHIVE_MAX, "the chart archive").await?;
            if let Some(expected) = digest.as_deref() {
                let actual = sha256_hex(&bytes);
                if actual != expected {
                    bail!("digest mismatch for {url}: index.yaml says sha256 {expected}, the download has {actual}: the repository is inconsistent or the download was altered");
                }
                cache.put(expected, &bytes)?;
            }
            bytes
        }
    };
    write_atomic(charts, &format!("{}-{}.tgz", dep.name, entry.version), &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests;
