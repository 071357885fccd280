//! The bundle file format shared by `bundle create` and the commands that read
//! a bundle (`push`, `inspect`, `verify`): entry names, media types,
//! annotation keys, the serde types of `index.json` and of the bundle manifest
//! `deploykf-bundle.json`, and the names of split parts and of the checksum
//! file. docs/bundle-format.md describes the format in prose.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The first entry: the OCI image layout marker.
pub const OCI_LAYOUT: &str = "oci-layout";
/// The content of [`OCI_LAYOUT`].
pub const OCI_LAYOUT_JSON: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// The second entry: the layout's index of every manifest.
pub const INDEX_JSON: &str = "index.json";
/// The third entry: the bundle manifest (also stored as a blob).
pub const BUNDLE_MANIFEST: &str = "deploykf-bundle.json";
/// The directories before the blobs, in order.
pub const BLOB_DIRS: [&str; 2] = ["blobs/", "blobs/sha256/"];

/// `org.opencontainers.image.ref.name`: the name of an `index.json` entry.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// What an `index.json` entry is (a [`Kind`]).
pub const KIND: &str = "io.deploykf.bundle.kind";
/// `org.opencontainers.image.title`: the file name of an artifact's layer.
pub const TITLE: &str = "org.opencontainers.image.title";

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The OCI empty descriptor's media type (config of the artifacts below).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// The OCI empty descriptor's content.
pub const OCI_EMPTY_JSON: &[u8] = b"{}";
/// Artifact type and layer media type of a generator zip.
pub const GENERATOR_TYPE: &str = "application/vnd.deploykf.generator.v1+zip";
/// Artifact type and layer media type of the bundle manifest.
pub const BUNDLE_MANIFEST_TYPE: &str = "application/vnd.deploykf.bundle.manifest.v1+json";
/// The ref name of the bundle manifest's artifact.
pub const BUNDLE_MANIFEST_REF: &str = "deploykf-bundle:manifest";
/// The [`BundleManifest::schema_version`] written.
pub const SCHEMA_VERSION: u32 = 1;

/// The ref name of a generator's artifact.
pub fn generator_ref(version: &str) -> String {
    format!("deploykf-generator:{version}")
}

/// The path of a blob inside the tar (`blobs/sha256/<hex>`); `None` unless
/// `digest` is `sha256:` and 64 lowercase hex digits.
pub fn blob_path(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then(|| format!("blobs/sha256/{hex}"))
}

/// Part `n` of a split bundle `file`: `FILE.part000`, `FILE.part001`, …
pub fn part_path(file: &Path, n: usize) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".part{n:03}"));
    PathBuf::from(name)
}

/// The checksum file beside `file`: `FILE.sha256`, in `sha256sum` format (the
/// whole tar's line first, then one line per part).
pub fn sha256_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// The files of the bundle `file` in stream order: `file` itself, or its
/// parts (`file` may also name the first part, `FILE.part000`). The first
/// element is the bundle's own name (without a part suffix).
pub fn files(file: &Path) -> std::io::Result<(PathBuf, Vec<PathBuf>)> {
    let text = file.as_os_str().to_string_lossy();
    let base = match text.strip_suffix(".part000") {
        Some(base) => PathBuf::from(base),
        None if file.exists() => return Ok((file.to_path_buf(), vec![file.to_path_buf()])),
        None => file.to_path_buf(),
    };
    let parts: Vec<PathBuf> = (0..).map(|n| part_path(&base, n)).take_while(|p| p.exists()).collect();
    if parts.is_empty() {
        let missing = format!("neither {} nor {} exists", base.display(), part_path(&base, 0).display());
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, missing));
    }
    Ok((base, parts))
}

/// What an `index.json` entry holds ([`KIND`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Image,
    Chart,
    Generator,
    BundleManifest,
}

impl Kind {
    /// The annotation value.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Chart => "chart",
            Kind::Generator => "generator",
            Kind::BundleManifest => "bundle-manifest",
        }
    }
}

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The entry's [`REF_NAME`].
    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.get(REF_NAME).map(String::as_str)
    }

    /// The entry's [`KIND`]; `None` when absent or unknown.
    #[allow(dead_code, reason = "read by the bundle readers (push, inspect, verify)")]
    pub fn kind(&self) -> Option<Kind> {
        serde_json::from_value(self.annotations.get(KIND)?.as_str().into()).ok()
    }
}

/// `index.json`: every manifest of the bundle, sorted by [`REF_NAME`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
}

/// `deploykf-bundle.json`: what a bundle holds and what it was made from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleManifest {
    pub schema_version: u32,
    /// `deploykf-cmp <version>`.
    pub tool: String,
    pub sets: Vec<SourceSet>,
    pub images: Vec<Image>,
    pub charts: Vec<Chart>,
    pub generators: Vec<Generator>,
    pub blobs: Blobs,
    /// Digests referenced but not stored, sorted: blobs of the base of a delta,
    /// per-platform manifests not selected by `--platform`.
    pub external: Vec<String>,
    /// The bundle a delta was made against (`--since`); `None` for a full bundle.
    pub base: Option<Base>,
}

/// One values set the inventory was taken from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceSet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The file name (no folders) of a `--source-path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_path: Option<String>,
    /// The generator zip's digest (`None` for a generator folder).
    #[serde(default)]
    pub generator_digest: Option<String>,
    /// The `--values` files' digests, in order.
    pub values_digests: Vec<String>,
}

/// One image (its `index.json` entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// The source reference, as the render names it (with its registry).
    pub name: String,
    /// Where it was pulled from when a source alias applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_from: Option<String>,
    pub digest: String,
    pub media_type: String,
    pub size: u64,
    /// The platforms stored (`os/arch[/variant]`); empty for a single manifest
    /// without a platform.
    pub platforms: Vec<String>,
}

/// One chart of an https:// repository, stored as an OCI chart artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Chart {
    /// The `https://` chart repository URL.
    pub repository: String,
    pub name: String,
    pub version: String,
    /// Its `index.json` ref name (`<host>/<path>/<name>:<tag>`).
    #[serde(rename = "ref")]
    pub reference: String,
    /// The chart artifact manifest's digest.
    pub digest: String,
}

/// One generator zip.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    pub version: String,
    /// The zip's digest.
    pub digest: String,
    pub size: u64,
}

/// The blobs stored in the file, apart from the bundle manifest's own two
/// (its JSON and its artifact manifest).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blobs {
    pub count: u64,
    pub bytes: u64,
    /// Their digests, sorted: what a later `--since` leaves out.
    pub digests: Vec<String>,
}

/// The base of a delta bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Base {
    /// The sha256 (hex) of the base bundle file; `None` when only its manifest was given.
    pub sha256: Option<String>,
    /// The digest of the base's `deploykf-bundle.json`.
    pub manifest: String,
}

impl BundleManifest {
    /// The JSON written to the bundle (pretty, maps sorted, ending in a newline).
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a bundle manifest serialises");
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_accept_only_sha256_hex() {
        let hex = "a".repeat(64);
        assert_eq!(blob_path(&format!("sha256:{hex}")), Some(format!("blobs/sha256/{hex}")));
        assert_eq!(blob_path(&format!("sha256:{}", "A".repeat(64))), None);
        assert_eq!(blob_path(&format!("sha512:{hex}")), None);
        assert_eq!(blob_path("sha256:../../etc"), None);
    }

    #[test]
    fn parts_and_checksum_sit_beside_the_file() {
        assert_eq!(part_path(Path::new("out/b.tar"), 2), PathBuf::from("out/b.tar.part002"));
        assert_eq!(sha256_path(Path::new("out/b.tar")), PathBuf::from("out/b.tar.sha256"));
    }

    #[test]
    fn the_files_of_a_bundle_are_it_or_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.tar");
        for n in 0..3 {
            std::fs::write(part_path(&file, n), "x").unwrap();
        }
        for name in [file.clone(), part_path(&file, 0)] {
            let (base, parts) = files(&name).unwrap();
            assert_eq!((base.as_path(), parts.len()), (file.as_path(), 3));
        }
        assert!(files(&dir.path().join("none.tar")).unwrap_err().to_string().contains("none.tar.part000"));
    }

    #[test]
    fn kinds_read_back_from_annotations() {
        let mut d = Descriptor { media_type: OCI_MANIFEST.into(), digest: "sha256:x".into(), size: 1, artifact_type: None, annotations: BTreeMap::new() };
        d.annotations.insert(KIND.into(), Kind::BundleManifest.as_str().into());
        assert_eq!(d.kind(), Some(Kind::BundleManifest));
        d.annotations.insert(KIND.into(), "other".into());
        assert_eq!(d.kind(), None);
    }

    #[test]
    fn the_manifest_round_trips() {
        let m = BundleManifest { schema_version: SCHEMA_VERSION, tool: "deploykf-cmp 0.1.0".into(), ..Default::default() };
        let back: BundleManifest = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(back, m);
        assert!(String::from_utf8(m.to_json()).unwrap().contains("\"schemaVersion\": 1"));
    }
}
