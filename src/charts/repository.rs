//! Helm chart repositories (`https://…/index.yaml`): the one download of a
//! repository's index and of the chart archive it names, used by dependency
//! resolution and by the `mirror` command alike. A version is picked as
//! written in the index, else by Helm's constraints; the archive is checked
//! against the index's `digest` when it has one, and kept in (or served
//! from) the [`BlobCache`]. Every download is bounded ([`limits::INDEX_MAX`],
//! [`limits::CHART_ARCHIVE_MAX`]), honours the [`Timeouts`], and records
//! what it fetches from which host for the plugin's deadline message.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use registry::digest::sha256_hex;
use registry::limits::{self, BodyError};
use registry::transport::{self, Cause};
use registry::Timeouts;

use super::version_constraint;
use crate::deadline;

/// One entry of a chart repository's `index.yaml`.
struct IndexEntry {
    version: String,
    urls: Vec<String>,
    digest: Option<String>,
}

/// The entries of chart `name` in a decoded `index.yaml`.
fn index_entries(index: &gomplate::Value, name: &str) -> Vec<IndexEntry> {
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

/// The first ten of `items`, for messages.
pub fn first_few(items: &[String]) -> String {
    if items.is_empty() {
        return "none".into();
    }
    let shown: Vec<&str> = items.iter().take(10).map(String::as_str).collect();
    let more = if items.len() > shown.len() { format!(", … ({} in all)", items.len()) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// `GET url` (`what` it is), failing as soon as the body passes `limit` bytes
/// or stalls; errors name the host and the HTTP status.
async fn get(http: &reqwest::Client, timeouts: &Timeouts, url: &str, limit: u64, what: &str) -> Result<Vec<u8>> {
    let host = reqwest::Url::parse(url).ok().map(|u| transport::host_port(&u)).unwrap_or_else(|| url.to_string());
    deadline::doing(format!("fetching {what} from {host} (GET {url})"));
    let failed = |e: BodyError| match e {
        BodyError::Http(e) => match transport::classify(&e) {
            (Cause::PlainHttp | Cause::Tls, detail) => anyhow!(
                "TLS connection to {host} failed for {url}: {detail}: if the server uses a private CA, set SSL_CERT_FILE to a PEM file holding it"
            ),
            (Cause::Timeout | Cause::Connect, detail) => {
                anyhow!("cannot connect to {host} for {url}: {detail}: check that the repository is reachable from here")
            }
            (Cause::Other, detail) => anyhow!("cannot fetch {url} from {host}: {detail}"),
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

/// Chart `name` at `version` (as written in the index, else the highest
/// version matching it as a constraint) from the chart repository at `repo`:
/// the archive and the index's version text.
pub async fn fetch_chart(http: &reqwest::Client, timeouts: &Timeouts, cache: &BlobCache<'_>, repo: &str, name: &str, version: &str) -> Result<(Vec<u8>, String)> {
    let base = reqwest::Url::parse(&format!("{}/", repo.trim_end_matches('/'))).with_context(|| format!("invalid repository URL {repo}"))?;
    let index_url = base.join("index.yaml")?;
    let text = get(http, timeouts, index_url.as_str(), limits::INDEX_MAX, "the chart repository index").await?;
    let text = String::from_utf8(text).map_err(|_| anyhow!("{index_url} is not UTF-8 text"))?;
    let index = gomplate::yaml::decode(&text).map_err(|e| anyhow!("{index_url}: {e}"))?;
    let entries = index_entries(&index, name);
    if entries.is_empty() {
        bail!("no chart named {name} in {index_url}: check `name` and `repository`");
    }
    let entry = match entries.iter().find(|e| e.version == version) {
        Some(entry) => entry,
        None => {
            let versions: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
            let chosen = version_constraint::select(&versions, version).map_err(|e| anyhow!("invalid version {version:?}: {e}"))?;
            let Some(chosen) = chosen else {
                bail!("no version of {name} matching {version:?} in {index_url} (available: {}): set a version the repository has", first_few(&versions));
            };
            entries.iter().find(|e| &e.version == chosen).expect("chosen from entries")
        }
    };
    let url = entry.urls.first().ok_or_else(|| anyhow!("{index_url}: {name} {} has no `urls`", entry.version))?;
    let url = base.join(url).with_context(|| format!("{index_url}: invalid chart URL {url}"))?;
    let digest = entry.digest.as_deref().map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase());
    if let Some(bytes) = digest.as_deref().and_then(|hex| cache.get(hex)) {
        return Ok((bytes, entry.version.clone()));
    }
    let bytes = get(http, timeouts, url.as_str(), limits::CHART_ARCHIVE_MAX, "the chart archive").await?;
    if let Some(expected) = digest.as_deref() {
        let actual = sha256_hex(&bytes);
        if actual != expected {
            bail!("digest mismatch for {url}: index.yaml says sha256 {expected}, the download has {actual}: the repository is inconsistent or the download was altered");
        }
        cache.put(expected, &bytes)?;
    }
    Ok((bytes, entry.version.clone()))
}

/// The cache of chart archives, keyed by sha256 (none: nothing is kept).
pub struct BlobCache<'a>(pub Option<&'a Path>);

impl BlobCache<'_> {
    /// The cached archive with this hex sha256, if present and intact.
    pub fn get(&self, hex: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.0?.join("sha256").join(hex)).ok()?;
        (sha256_hex(&bytes) == hex).then_some(bytes)
    }

    pub fn put(&self, hex: &str, bytes: &[u8]) -> Result<()> {
        let Some(root) = self.0 else { return Ok(()) };
        let dir = root.join("sha256");
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the chart cache {}", dir.display()))?;
        write_atomic(&dir, hex, bytes).map(|_| ())
    }
}

/// Writes `bytes` to `dir/name` through a temporary file and a rename.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    let target = dir.join(name);
    tmp.persist(&target).map_err(|e| anyhow!("cannot write {}: {}", target.display(), e.error))?;
    Ok(target)
}
