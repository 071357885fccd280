//! Helm charts as OCI artifacts, as helm stores them: pulling (the chart
//! manifest of a tag, the chart archive layer checked against its digest) and
//! pushing a chart archive from anywhere ([`push_chart`]): the archive
//! unchanged as the layer (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`)
//! of an OCI image manifest whose config
//! (`application/vnd.cncf.helm.config.v1+json`) is the archive's `Chart.yaml`
//! as JSON, as helm marshals `chart.Metadata`. The manifest carries no
//! creation time, so the same archive always gives the same manifest digest: a
//! tag already naming it is left alone (a re-run pushes nothing). The tag is
//! the version with `+` as `_` (OCI tags cannot hold `+`); a version
//! `v<digit>…` is also tagged without the `v`, as deployKF's dependency
//! versions name it.

use std::io::Read;

use anyhow::{anyhow, bail, Context, Result};

use crate::client::{Failure, FailureKind, RawManifest, RegistryClient};
use crate::copy::retry;
use crate::digest::sha256;
use crate::limits;

/// Helm's chart config media type.
pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Helm's chart layer media type.
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The layer media type of charts pushed by helm before 3.7.
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// One chart found in a registry: its tag and chart layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartManifest {
    /// The tag the manifest was found under (`_` standing for `+`).
    pub tag: String,
    /// The chart archive layer's digest (`sha256:…`).
    pub digest: String,
    /// The chart archive layer's size in bytes.
    pub size: u64,
}

/// The chart manifest at `tag` of `repository`; `Ok(None)` when the registry
/// answers that the tag does not exist. Fails when the manifest is not a Helm chart.
pub async fn pull_manifest(client: &RegistryClient, host: &str, repository: &str, tag: &str) -> Result<Option<ChartManifest>, Failure> {
    let Some(manifest) = client.get_manifest(host, repository, tag).await? else { return Ok(None) };
    let doc: serde_json::Value = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| Failure::fatal(format!("the manifest of {repository}:{tag} on {host} is not JSON: {e}")))?;
    let config = doc["config"]["mediaType"].as_str().unwrap_or_default();
    if config != HELM_CONFIG_MEDIA_TYPE {
        return Err(Failure::fatal(format!(
            "{host}/{repository}:{tag} is not a Helm chart (config media type {config:?}, expected {HELM_CONFIG_MEDIA_TYPE})"
        )));
    }
    let layer = doc["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| matches!(l["mediaType"].as_str(), Some(HELM_CHART_MEDIA_TYPE | LEGACY_CHART_MEDIA_TYPE)))
        .ok_or_else(|| Failure::fatal(format!("{host}/{repository}:{tag} has no layer of media type {HELM_CHART_MEDIA_TYPE}")))?;
    let (Some(digest), Some(size)) = (layer["digest"].as_str(), layer["size"].as_u64()) else {
        return Err(Failure::fatal(format!("{host}/{repository}:{tag}: the chart layer has no digest or size")));
    };
    Ok(Some(ChartManifest { tag: tag.to_string(), digest: digest.to_string(), size }))
}

/// The chart archive of `manifest`, at most [`limits::CHART_ARCHIVE_MAX`]
/// bytes, its sha256 checked against the layer digest.
pub async fn pull_archive(client: &RegistryClient, host: &str, repository: &str, manifest: &ChartManifest) -> Result<Vec<u8>, Failure> {
    let digest = &manifest.digest;
    let what = format!("the chart layer {digest} of {repository}");
    if manifest.size > limits::CHART_ARCHIVE_MAX {
        return Err(Failure::new(
            FailureKind::Limit,
            format!("{what} on {host} is {} bytes, larger than the chart archive limit of {}", manifest.size, limits::size(limits::CHART_ARCHIVE_MAX)),
        ));
    }
    let response = client.get_blob(host, repository, digest, manifest.size).await?;
    let bytes = limits::read_limited(response, limits::CHART_ARCHIVE_MAX, client.timeouts())
        .await
        .map_err(|e| Failure::from_body(&what, "chart archive", e))?;
    let actual = sha256(&bytes);
    if &actual != digest {
        return Err(Failure::new(FailureKind::Corrupt, format!("{what} from {host} does not match its digest (got {actual})")));
    }
    Ok(bytes)
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
        "config": {"mediaType": HELM_CONFIG_MEDIA_TYPE, "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": HELM_CHART_MEDIA_TYPE, "digest": sha256(archive), "size": archive.len()}],
        "annotations": annotations,
    });
    let bytes = bytes::Bytes::from(serde_json::to_vec(&manifest).expect("a JSON value serialises"));
    let digest = sha256(&bytes);
    Ok((config, RawManifest { bytes, media_type: OCI_MANIFEST.into(), digest }))
}

/// Pushes a chart archive to `host/repository` under `tags` (helm's:
/// [`chart_tags`] of its version), each step retried while transient;
/// `Ok(false)` when every tag already named its manifest.
pub async fn push_chart(client: &RegistryClient, host: &str, repository: &str, archive: &[u8], tags: &[String]) -> Result<bool, Failure> {
    let (config, manifest) = chart_manifest(archive).map_err(|e| Failure::fatal(format!("{host}/{repository}: {e:#}")))?;
    let mut pushed = false;
    let mut blobs_done = false;
    for tag in tags {
        let what = format!("{host}/{repository}:{tag}");
        let present = retry(&what, || client.manifest_digest(host, repository, tag, true)).await?;
        if present.as_deref() == Some(manifest.digest.as_str()) {
            continue;
        }
        if !blobs_done {
            for blob in [&config[..], archive] {
                push_bytes(client, host, repository, blob).await?;
            }
            blobs_done = true;
        }
        retry(&what, || client.put_manifest(host, repository, tag, &manifest)).await?;
        pushed = true;
    }
    Ok(pushed)
}

/// Uploads `bytes` unless the repository has them.
async fn push_bytes(client: &RegistryClient, host: &str, repository: &str, bytes: &[u8]) -> Result<(), Failure> {
    let digest = sha256(bytes);
    let what = format!("blob {digest} to {host}/{repository}");
    if retry(&what, || client.has_blob(host, repository, &digest, true)).await? {
        return Ok(());
    }
    let body = bytes::Bytes::copy_from_slice(bytes);
    retry(&what, || {
        let chunk: Result<bytes::Bytes, std::io::Error> = Ok(body.clone());
        client.push_blob(host, repository, &digest, body.len() as u64, futures_util::stream::once(async move { chunk }))
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
}
