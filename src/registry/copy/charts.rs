//! `deploykf-cmp mirror --charts-file`: charts from `https://` chart
//! repositories pushed into an OCI registry, as `helm push` stores them.
//!
//! Per chart: the repository's `index.yaml` is read (with the dependency
//! resolver's code), the archive downloaded and checked against the index's
//! `digest` when it has one, then pushed unchanged as the layer
//! (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`) of an OCI image
//! manifest whose config (`application/vnd.cncf.helm.config.v1+json`) is the
//! archive's `Chart.yaml` as JSON, as helm marshals `chart.Metadata`. The
//! manifest carries no creation time, so the same archive always gives the same
//! manifest digest: a tag already naming it is left alone (a re-run pushes
//! nothing). The tag is the version with `+` as `_` (OCI tags cannot hold `+`);
//! a version `v<digit>…` is also tagged without the `v`, as deployKF's
//! dependency versions name it.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};

use super::client::{sha256_digest, with_query, Failure, RawManifest, RegistryClient, Scope};
use super::retry;
use crate::charts::dependencies::{http_get, index_entries, sha256_hex};
use crate::charts::version_constraint;
use crate::mirror::config::MirrorRules;
use crate::registry::limits::Timeouts;
use crate::registry::oci::{HELM_CHART_MEDIA_TYPE, HELM_CONFIG_MEDIA_TYPE};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One chart to mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartJob {
    /// The `https://` chart repository URL.
    pub repository: String,
    pub name: String,
    pub version: String,
    /// The target OCI repository of the chart (`host/path/<name>`, no scheme).
    pub target: String,
}

impl std::fmt::Display for ChartJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {} -> oci://{}", self.repository, self.name, self.version, self.target)
    }
}

/// Parses a charts file: lines `REPOSITORY NAME VERSION [oci://TARGET]` (`#`
/// comments; `deploykf-cmp charts --output list`), or the JSON array of
/// `deploykf-cmp charts --output json`. Without a target, `rules` give it
/// (`oci://…/<path>`, the chart name appended). Returns the jobs and notes on
/// the entries left out (`oci://` charts copy as images, `file://` ones are
/// inside the generator, repositories the rules leave alone).
pub fn parse_charts(text: &str, origin: &str, rules: Option<&MirrorRules>) -> Result<(Vec<ChartJob>, Vec<String>)> {
    let mut entries: Vec<(String, String, String, Option<String>, String)> = Vec::new();
    if text.trim_start().starts_with('[') {
        let doc: serde_json::Value = serde_json::from_str(text).with_context(|| format!("{origin}: invalid JSON"))?;
        for (i, e) in doc.as_array().into_iter().flatten().enumerate() {
            let field = |k: &str| e[k].as_str().map(str::to_string);
            let (Some(repository), Some(name), Some(version)) =
                (field("repository"), field("name"), field("resolved_version").or_else(|| field("version")))
            else {
                bail!("{origin}: entry {i} needs `repository`, `name` and `version`");
            };
            entries.push((repository, name, version, None, format!("{origin}: entry {i}")));
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = format!("{origin}:{}", i + 1);
            if !(3..=4).contains(&words.len()) {
                bail!("{at}: write `REPOSITORY NAME VERSION [oci://TARGET]` (e.g. `https://charts.jetstack.io cert-manager v1.12.10`)");
            }
            entries.push((words[0].into(), words[1].into(), words[2].into(), words.get(3).map(|t| t.to_string()), at));
        }
    }
    let mut jobs = Vec::new();
    let mut left = Vec::new();
    for (repository, name, version, target, at) in entries {
        if repository.starts_with("file://") {
            left.push(format!("{repository} {name} {version} (a file:// chart: it is inside the generator and deployed from there, nothing to mirror)"));
            continue;
        }
        if let Some(location) = repository.strip_prefix("oci://") {
            let image = format!("{}/{name}:{}", location.trim_end_matches('/'), version.replace('+', "_"));
            left.push(format!("{repository} {name} {version} (an oci:// chart copies as an image: put the line {image} in --images-file)"));
            continue;
        }
        if !(repository.starts_with("https://") || repository.starts_with("http://")) {
            bail!("{at}: {repository:?} is not a chart repository URL: write https://…, oci://… or file://…");
        }
        let target = match target {
            Some(t) => Some(t),
            None => match rules {
                Some(rules) => rules.try_rewrite_chart_repository(&repository).with_context(|| at.clone())?,
                None => bail!("{at}: no target for {repository}: add `oci://TARGET` to the line or give --mirror FILE with mirror.charts"),
            },
        };
        let Some(target) = target else {
            left.push(format!("{repository} {name} {version} (left alone by the mirror rules)"));
            continue;
        };
        let Some(location) = target.strip_prefix("oci://") else {
            bail!("{at}: the target {target} is not an oci:// repository");
        };
        let location = location.trim_end_matches('/');
        if location.is_empty() {
            bail!("{at}: empty target");
        }
        jobs.push(ChartJob { repository, name: name.clone(), version, target: format!("{location}/{name}") });
    }
    jobs.sort_by(|a, b| (&a.target, &a.version).cmp(&(&b.target, &b.version)));
    jobs.dedup();
    Ok((jobs, left))
}

/// The OCI tags of a chart version: `+` as `_`, and `v1.2.3` also as `1.2.3`.
pub fn chart_tags(version: &str) -> Vec<String> {
    let tag = version.replace('+', "_");
    let mut tags = vec![tag.clone()];
    if let Some(rest) = tag.strip_prefix('v').filter(|r| r.starts_with(|c: char| c.is_ascii_digit())) {
        tags.push(rest.to_string());
    }
    tags
}

/// The `Chart.yaml` of a chart archive (`<top>/Chart.yaml` in the gzipped tar).
pub fn chart_yaml(archive: &[u8]) -> Result<String> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(archive).read_to_end(&mut tar).context("the chart archive is not gzip")?;
    let mut at = 0usize;
    let mut long_name: Option<String> = None;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break;
        }
        let text = |r: std::ops::Range<usize>| {
            let field = &header[r];
            let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
            String::from_utf8_lossy(&field[..end]).into_owned()
        };
        let size = usize::from_str_radix(text(124..136).trim(), 8).map_err(|_| anyhow!("the chart archive has a corrupt tar header"))?;
        let data_start = at + 512;
        let data = tar.get(data_start..data_start + size).ok_or_else(|| anyhow!("the chart archive is truncated"))?;
        let kind = header[156];
        let prefix = text(345..500);
        let mut name = long_name.take().unwrap_or_else(|| if prefix.is_empty() { text(0..100) } else { format!("{prefix}/{}", text(0..100)) });
        match kind {
            b'L' => long_name = Some(String::from_utf8_lossy(data).trim_end_matches('\0').to_string()),
            b'x' => {
                // PAX records `LEN key=value\n`: only `path` matters here.
                let records = String::from_utf8_lossy(data);
                long_name = records.lines().find_map(|r| r.split_once(' ').and_then(|(_, kv)| kv.strip_prefix("path=")).map(str::to_string));
            }
            b'0' | 0 => {
                name = name.trim_start_matches("./").to_string();
                if name.matches('/').count() == 1 && name.ends_with("/Chart.yaml") {
                    return String::from_utf8(data.to_vec()).map_err(|_| anyhow!("{name} is not UTF-8"));
                }
            }
            _ => {}
        }
        at = data_start + size.div_ceil(512) * 512;
    }
    bail!("the chart archive has no <chart>/Chart.yaml")
}

/// `Chart.yaml` as helm's config JSON: `chart.Metadata`'s fields in its
/// declaration order, empty ones left out (`omitempty`).
pub fn config_json(chart_yaml: &str) -> Result<Vec<u8>> {
    let doc = gomplate::yaml::decode(chart_yaml).map_err(|e| anyhow!("Chart.yaml: {e}"))?;
    let map = doc.as_map().ok_or_else(|| anyhow!("Chart.yaml is not a mapping"))?;
    const FIELDS: [&str; 17] = [
        "name", "home", "sources", "version", "description", "keywords", "maintainers", "icon", "apiVersion", "condition",
        "tags", "appVersion", "deprecated", "annotations", "kubeVersion", "dependencies", "type",
    ];
    let mut out = String::from("{");
    for key in FIELDS {
        let Some(value) = map.get(key) else { continue };
        let json = match (key, value) {
            // Go strings: YAML numbers in string fields (version: 1.0) keep their text.
            ("name" | "home" | "version" | "description" | "icon" | "apiVersion" | "condition" | "tags" | "appVersion" | "kubeVersion" | "type", v) => {
                match scalar_text(v) {
                    Some(s) if !s.is_empty() => serde_json::Value::String(s).to_string(),
                    _ => continue,
                }
            }
            ("deprecated", gomplate::Value::Bool(true)) => "true".to_string(),
            ("deprecated", _) => continue,
            ("maintainers", v) => ordered_list(v, &["name", "email", "url"]),
            ("dependencies", v) => {
                ordered_list(v, &["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"])
            }
            (_, v) => match to_json(v) {
                serde_json::Value::Null => continue,
                serde_json::Value::Array(a) if a.is_empty() => continue,
                serde_json::Value::Object(o) if o.is_empty() => continue,
                j => j.to_string(),
            },
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(key).expect("a string serialises"));
        out.push(':');
        out.push_str(&json);
    }
    out.push('}');
    Ok(go_escape(&out).into_bytes())
}

/// Go's `json.Marshal` escapes `<`, `>`, `&`, U+2028 and U+2029 in strings
/// (these only occur inside strings in JSON text).
fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A list of Go structs (maintainers, dependencies) as JSON text: each map's
/// known keys in the struct's order, empty values left out.
fn ordered_list(v: &gomplate::Value, fields: &[&str]) -> String {
    let items: Vec<String> = v
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|item| item.as_map())
        .map(|map| {
            let parts: Vec<String> = fields
                .iter()
                .filter_map(|f| {
                    let j = to_json(map.get(*f)?);
                    let empty = match &j {
                        serde_json::Value::Null | serde_json::Value::Bool(false) => true,
                        serde_json::Value::String(s) => s.is_empty(),
                        serde_json::Value::Array(a) => a.is_empty(),
                        serde_json::Value::Object(o) => o.is_empty(),
                        _ => false,
                    };
                    (!empty).then(|| format!("{}:{}", serde_json::to_string(f).expect("a string serialises"), j))
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn scalar_text(v: &gomplate::Value) -> Option<String> {
    match v {
        gomplate::Value::String(s) => Some(s.to_string()),
        gomplate::Value::Int(i) => Some(i.to_string()),
        gomplate::Value::Float(f) => Some(f.to_string()),
        gomplate::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn to_json(v: &gomplate::Value) -> serde_json::Value {
    match v {
        gomplate::Value::Missing | gomplate::Value::Nil => serde_json::Value::Null,
        gomplate::Value::Bool(b) => (*b).into(),
        gomplate::Value::Int(i) => (*i).into(),
        gomplate::Value::Uint8(b) => (*b).into(),
        gomplate::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        gomplate::Value::String(s) => s.to_string().into(),
        gomplate::Value::List(l) => l.iter().map(to_json).collect(),
        gomplate::Value::Map(m) | gomplate::Value::Context(m) => m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect::<serde_json::Map<_, _>>().into(),
    }
}

/// The config blob and the OCI manifest helm would push for `archive`.
pub fn chart_manifest(archive: &[u8]) -> Result<(Vec<u8>, RawManifest)> {
    let yaml = chart_yaml(archive)?;
    let config = config_json(&yaml)?;
    let meta: serde_json::Value = serde_json::from_slice(&config).expect("written above");
    let mut annotations = serde_json::Map::new();
    for (key, field) in [("org.opencontainers.image.description", "description"), ("org.opencontainers.image.title", "name"), ("org.opencontainers.image.version", "version")] {
        if let Some(v) = meta[field].as_str() {
            annotations.insert(key.into(), v.into());
        }
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG_MEDIA_TYPE, "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": HELM_CHART_MEDIA_TYPE, "digest": sha256_digest(archive), "size": archive.len()}],
        "annotations": annotations,
    });
    let bytes = bytes::Bytes::from(serde_json::to_vec(&manifest).expect("a JSON value serialises"));
    let digest = sha256_digest(&bytes);
    Ok((config, RawManifest { bytes, media_type: OCI_MANIFEST.into(), digest }))
}

/// Downloads a chart archive through its repository's `index.yaml`, checked
/// against the index's digest when it has one. Returns the archive and the
/// index's version text.
pub async fn download(http: &reqwest::Client, timeouts: &Timeouts, job: &ChartJob) -> Result<(Vec<u8>, String)> {
    let base = reqwest::Url::parse(&format!("{}/", job.repository.trim_end_matches('/')))
        .with_context(|| format!("invalid repository URL {}", job.repository))?;
    let index_url = base.join("index.yaml")?;
    let text = http_get(http, timeouts, index_url.as_str()).await?;
    let text = String::from_utf8(text).map_err(|_| anyhow!("{index_url} is not UTF-8 text"))?;
    let index = gomplate::yaml::decode(&text).map_err(|e| anyhow!("{index_url}: {e}"))?;
    let entries = index_entries(&index, &job.name);
    if entries.is_empty() {
        bail!("no chart named {} in {index_url}", job.name);
    }
    let entry = match entries.iter().find(|e| e.version == job.version) {
        Some(e) => e,
        None => {
            let versions: Vec<String> = entries.iter().map(|e| e.version.clone()).collect();
            let chosen = version_constraint::select(&versions, &job.version).map_err(|e| anyhow!("invalid version {:?}: {e}", job.version))?;
            let chosen = chosen.ok_or_else(|| anyhow!("no version {} of {} in {index_url}", job.version, job.name))?;
            entries.iter().find(|e| &e.version == chosen).expect("chosen from entries")
        }
    };
    let url = entry.urls.first().ok_or_else(|| anyhow!("{index_url}: {} {} has no `urls`", job.name, entry.version))?;
    let url = base.join(url).with_context(|| format!("{index_url}: invalid chart URL {url}"))?;
    let bytes = http_get(http, timeouts, url.as_str()).await?;
    if let Some(expected) = entry.digest.as_deref().map(|d| d.trim_start_matches("sha256:").to_ascii_lowercase()) {
        let actual = sha256_hex(&bytes);
        if actual != expected {
            bail!("digest mismatch for {url}: index.yaml says sha256 {expected}, the download has {actual}: not pushed");
        }
    }
    Ok((bytes, entry.version.clone()))
}

/// The outcome of mirroring charts.
#[derive(Debug, Default)]
pub struct ChartReport {
    pub pushed: usize,
    pub present: usize,
    /// `(chart, reason)` per failed chart.
    pub failures: Vec<(String, String)>,
}

impl ChartReport {
    pub fn summary(&self) -> String {
        format!("charts: {} pushed, {} already present, {} failed", self.pushed, self.present, self.failures.len())
    }
}

/// Mirrors every chart, `width` at a time (reported in the input's order);
/// never fails as a whole.
pub async fn mirror_all(client: &RegistryClient, jobs: &[ChartJob], width: usize) -> ChartReport {
    use futures_util::StreamExt;
    let mut results = futures_util::stream::iter(jobs).map(|job| async move { (job, mirror_one(client, job).await) }).buffered(width.max(1));
    let mut report = ChartReport::default();
    while let Some((job, result)) = results.next().await {
        match result {
            Ok(true) => {
                eprintln!("pushed chart {job}");
                report.pushed += 1;
            }
            Ok(false) => {
                eprintln!("present chart {job}");
                report.present += 1;
            }
            Err(e) => {
                eprintln!("FAILED chart {job}: {e:#}");
                report.failures.push((job.to_string(), format!("{e:#}")));
            }
        }
    }
    report
}

/// Mirrors one chart; `Ok(false)` when every tag already named its manifest.
async fn mirror_one(client: &RegistryClient, job: &ChartJob) -> Result<bool> {
    let http = client.client().map_err(fail)?;
    let (archive, version) = download(http, client.timeouts(), job).await?;
    let (config, manifest) = chart_manifest(&archive)?;
    let (host, repository) = job.target.split_once('/').ok_or_else(|| anyhow!("target {} has no repository", job.target))?;
    let mut pushed = false;
    let mut blobs_done = false;
    for tag in chart_tags(&version) {
        let what = format!("{host}/{repository}:{tag}");
        let present = retry(&what, || client.manifest_digest(host, repository, &tag, true)).await.map_err(fail)?;
        if present.as_deref() == Some(manifest.digest.as_str()) {
            continue;
        }
        if !blobs_done {
            for blob in [&config[..], &archive[..]] {
                push_blob(client, host, repository, blob).await.map_err(fail)?;
            }
            blobs_done = true;
        }
        retry(&what, || client.put_manifest(host, repository, &tag, &manifest)).await.map_err(fail)?;
        pushed = true;
    }
    Ok(pushed)
}

fn fail(f: Failure) -> anyhow::Error {
    anyhow!(f.message)
}

/// Uploads `bytes` (monolithic `PUT`) unless the repository has them.
async fn push_blob(client: &RegistryClient, host: &str, repository: &str, bytes: &[u8]) -> Result<(), Failure> {
    let digest = sha256_digest(bytes);
    let what = format!("blob {digest} to {host}/{repository}");
    if retry(&what, || client.has_blob(host, repository, &digest, true)).await? {
        return Ok(());
    }
    let body = bytes::Bytes::copy_from_slice(bytes);
    retry(&what, || async {
        let location = client
            .start_upload(host, repository, None)
            .await?
            .ok_or_else(|| Failure::fatal("the registry mounted a blob that was not asked for"))?;
        let url = with_query(&location, "digest", &digest);
        let scope = Scope { host, repository, push: true, also_pull: None };
        let response = client
            .send(&scope, &what, |c| {
                c.put(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header(reqwest::header::CONTENT_LENGTH, body.len())
                    .body(body.clone())
            })
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            client.cancel_upload(host, repository, &location).await;
            return Err(Failure { transient: status.is_server_error() || status == 429, message: format!("{what}: {status}") });
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_replace_plus_and_drop_a_leading_v() {
        assert_eq!(chart_tags("v1.12.10"), ["v1.12.10", "1.12.10"]);
        assert_eq!(chart_tags("3.0.1"), ["3.0.1"]);
        assert_eq!(chart_tags("1.0.0+build.1"), ["1.0.0_build.1"]);
        assert_eq!(chart_tags("very"), ["very"]);
    }

    #[test]
    fn config_follows_helm_metadata_order_and_omits_empty_fields() {
        let yaml = "apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: 2\ndescription: A <demo> & co\nkeywords: []\nmaintainers:\n- name: me\n  email: me@example.com\nannotations:\n  b: x\n  a: y\ndeprecated: false\n";
        let json = String::from_utf8(config_json(yaml).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"name":"demo","version":"1.0.0","description":"A \u003cdemo\u003e \u0026 co","maintainers":[{"name":"me","email":"me@example.com"}],"apiVersion":"v2","appVersion":"2","annotations":{"a":"y","b":"x"}}"#
        );
    }

    #[test]
    fn lines_and_json_parse() {
        let text = "# charts\nhttps://charts.jetstack.io cert-manager v1.12.10 oci://mirror.example.com/charts\n\
                    oci://ghcr.io/x kyverno 3.0.1 oci://m/charts\n";
        let (jobs, left) = parse_charts(text, "f", None).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].target, "mirror.example.com/charts/cert-manager");
        assert_eq!(left.len(), 1);
        assert!(parse_charts("https://x cert-manager\n", "f", None).unwrap_err().to_string().contains("f:1"));
        assert!(parse_charts("https://x a 1.0\n", "f", None).unwrap_err().to_string().contains("no target"));
        let json = r#"[{"name":"kyverno","version":"3.0.x","resolved_version":"3.0.1","repository":"https://kyverno.github.io/kyverno"}]"#;
        let e = parse_charts(json, "f", None).unwrap_err().to_string();
        assert!(e.contains("f: entry 0: no target for https://kyverno.github.io/kyverno"), "{e}");
    }

    #[test]
    fn file_and_oci_lines_get_the_right_advice() {
        let text = "file://../trust-manager trust-manager 0.9.2-deploykf
oci://ghcr.io/x/ kyverno 3.0.1+up
";
        let (jobs, left) = parse_charts(text, "f", None).unwrap();
        assert!(jobs.is_empty());
        assert_eq!(left[0], "file://../trust-manager trust-manager 0.9.2-deploykf (a file:// chart: it is inside the generator and deployed from there, nothing to mirror)");
        assert_eq!(left[1], "oci://ghcr.io/x/ kyverno 3.0.1+up (an oci:// chart copies as an image: put the line ghcr.io/x/kyverno:3.0.1_up in --images-file)");
        let e = parse_charts("@jetstack cert-manager 1.0\n", "f", None).unwrap_err().to_string();
        assert_eq!(e, "f:1: \"@jetstack\" is not a chart repository URL: write https://…, oci://… or file://…");
    }
}
