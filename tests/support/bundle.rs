//! Small bundle files written by tests that read bundles (`bundle push`,
//! `inspect`, `verify`) without `bundle create`: synthetic images (layers,
//! configs, manifests, two-platform indexes), generator zips and the bundle
//! manifest laid out as docs/bundle-format.md says, in a plain ustar writer
//! (fixed order, mtime 0, modes 0644/0755), whole or cut into parts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::images::{digest, random_layer, OCI_INDEX, OCI_MANIFEST};

const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const GENERATOR_TYPE: &str = "application/vnd.deploykf.generator.v1+zip";
const BUNDLE_MANIFEST_TYPE: &str = "application/vnd.deploykf.bundle.manifest.v1+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// A bundle being assembled in memory.
#[derive(Default)]
pub struct TestBundle {
    blobs: BTreeMap<String, Vec<u8>>,
    /// index.json entries by ref name.
    index: BTreeMap<String, Value>,
    images: Vec<Value>,
    generators: Vec<Value>,
    external: BTreeSet<String>,
}

/// An image added to a [`TestBundle`].
#[derive(Clone, Debug)]
pub struct TestImage {
    /// The source reference (`quay.io/org/app:1.0`).
    pub name: String,
    /// The top manifest's (or index's) digest.
    pub digest: String,
    /// Digests of its layers, per platform manifest.
    pub layers: Vec<String>,
    /// Per-platform manifest digests of an index.
    pub children: Vec<String>,
}

impl TestBundle {
    /// Stores `bytes` as a blob; returns its digest.
    pub fn blob(&mut self, bytes: &[u8]) -> String {
        let d = digest(bytes);
        self.blobs.insert(d.clone(), bytes.to_vec());
        d
    }

    fn manifest(&mut self, layers: &[&[u8]], arch: &str) -> (Vec<u8>, Vec<String>) {
        let config = serde_json::to_vec(&json!({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})).unwrap();
        let config_digest = self.blob(&config);
        let mut digests = Vec::new();
        let descriptors: Vec<Value> = layers
            .iter()
            .map(|l| {
                let d = self.blob(l);
                digests.push(d.clone());
                json!({"mediaType": OCI_LAYER, "digest": d, "size": l.len()})
            })
            .collect();
        let manifest = serde_json::to_vec_pretty(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config.len()},
            "layers": descriptors,
        }))
        .unwrap();
        self.blob(&manifest);
        (manifest, digests)
    }

    /// Adds an image `name` of `layers`: one manifest for one architecture,
    /// an index over several (each with one layer of its own besides `layers`).
    pub fn image(&mut self, name: &str, layers: &[&[u8]], arches: &[&str], seed: u64) -> TestImage {
        let (top, media_type, platforms, children, all_layers) = if arches.len() == 1 {
            let (m, l) = self.manifest(layers, arches[0]);
            (m, OCI_MANIFEST, vec![format!("linux/{}", arches[0])], Vec::new(), l)
        } else {
            let mut entries = Vec::new();
            let mut children = Vec::new();
            let mut all = Vec::new();
            for (i, arch) in arches.iter().enumerate() {
                let own = random_layer(seed * 10 + i as u64, 16 * 1024);
                let mut with_own: Vec<&[u8]> = layers.to_vec();
                with_own.push(&own);
                let (m, l) = self.manifest(&with_own, arch);
                children.push(digest(&m));
                all.extend(l);
                entries.push(json!({"mediaType": OCI_MANIFEST, "digest": digest(&m), "size": m.len(), "platform": {"os": "linux", "architecture": arch}}));
            }
            let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})).unwrap();
            let platforms = arches.iter().map(|a| format!("linux/{a}")).collect();
            (index, OCI_INDEX, platforms, children, all)
        };
        let d = self.blob(&top);
        self.index.insert(
            name.to_string(),
            json!({"mediaType": media_type, "digest": d, "size": top.len(),
                   "annotations": {"org.opencontainers.image.ref.name": name, "io.deploykf.bundle.kind": "image"}}),
        );
        self.images.push(json!({"name": name, "digest": d, "mediaType": media_type, "size": top.len(), "platforms": platforms}));
        TestImage { name: name.to_string(), digest: d, layers: all_layers, children }
    }

    /// Adds a generator zip of `version`.
    pub fn generator(&mut self, version: &str, zip: &[u8]) -> String {
        let title = format!("deploykf-{version}-generator.zip");
        let d = self.artifact(&format!("deploykf-generator:{version}"), "generator", GENERATOR_TYPE, zip, &title);
        self.generators.push(json!({"version": version, "digest": digest(zip), "size": zip.len()}));
        d
    }

    /// An artifact manifest of one layer (`bytes`), indexed as `name`.
    fn artifact(&mut self, name: &str, kind: &str, media_type: &str, bytes: &[u8], title: &str) -> String {
        let empty = self.blob(b"{}");
        let layer = self.blob(bytes);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": media_type,
            "config": {"mediaType": EMPTY, "digest": empty, "size": 2},
            "layers": [{"mediaType": media_type, "digest": layer, "size": bytes.len(),
                        "annotations": {"org.opencontainers.image.title": title}}],
        }))
        .unwrap();
        let d = self.blob(&manifest);
        self.index.insert(
            name.to_string(),
            json!({"mediaType": OCI_MANIFEST, "digest": d, "size": manifest.len(), "artifactType": media_type,
                   "annotations": {"org.opencontainers.image.ref.name": name, "io.deploykf.bundle.kind": kind}}),
        );
        d
    }

    /// Leaves `digest` out of the file, declared external (as a delta does).
    pub fn omit(&mut self, digest: &str) {
        self.blobs.remove(digest);
        self.external.insert(digest.to_string());
    }

    /// Writes the bundle to `path`; returns its bytes.
    pub fn write(&self, path: &Path) -> Vec<u8> {
        let mut me = TestBundle {
            blobs: self.blobs.clone(),
            index: self.index.clone(),
            images: self.images.clone(),
            generators: self.generators.clone(),
            external: self.external.clone(),
        };
        // The artifacts' config ({}) is content of the bundle like any blob.
        me.blob(b"{}");
        let counted: Vec<String> = me.blobs.keys().cloned().collect();
        let manifest = json!({
            "schemaVersion": 1, "tool": "deploykf-cmp test", "sets": [],
            "images": me.images, "charts": [], "generators": me.generators,
            "blobs": {"count": counted.len(), "bytes": me.blobs.values().map(Vec::len).sum::<usize>(), "digests": counted},
            "external": me.external, "base": null,
        });
        let mut manifest = serde_json::to_vec_pretty(&manifest).unwrap();
        manifest.push(b'\n');
        me.artifact("deploykf-bundle:manifest", "bundle-manifest", BUNDLE_MANIFEST_TYPE, &manifest, "deploykf-bundle.json");
        let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": me.index.values().collect::<Vec<_>>()})).unwrap();
        let mut tar = Tar::default();
        tar.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        tar.file("index.json", &index);
        tar.file("deploykf-bundle.json", &manifest);
        tar.dir("blobs/");
        tar.dir("blobs/sha256/");
        for (d, bytes) in &me.blobs {
            tar.file(&format!("blobs/sha256/{}", d.trim_start_matches("sha256:")), bytes);
        }
        let bytes = tar.finish();
        std::fs::write(path, &bytes).unwrap();
        bytes
    }
}

/// Cuts `file` into `FILE.part000`, … of at most `size` bytes and removes it.
pub fn split(file: &Path, size: usize) -> Vec<PathBuf> {
    let bytes = std::fs::read(file).unwrap();
    let mut parts = Vec::new();
    for (i, chunk) in bytes.chunks(size).enumerate() {
        let part = PathBuf::from(format!("{}.part{i:03}", file.display()));
        std::fs::write(&part, chunk).unwrap();
        parts.push(part);
    }
    std::fs::remove_file(file).unwrap();
    parts
}

/// The offset of a stored blob's bytes in a bundle's `bytes`.
pub fn blob_offset(bytes: &[u8], digest: &str) -> usize {
    let name = format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"));
    let mut at = 0;
    while at + 512 <= bytes.len() {
        let header = &bytes[at..at + 512];
        let entry = String::from_utf8_lossy(&header[..100]).trim_end_matches('\0').to_string();
        let size = usize::from_str_radix(String::from_utf8_lossy(&header[124..135]).trim_matches(['\0', ' ']), 8).unwrap_or(0);
        if entry == name {
            return at + 512;
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    panic!("{name} is not in the bundle");
}

/// A ustar writer (names up to 100 bytes).
#[derive(Default)]
struct Tar {
    out: Vec<u8>,
}

impl Tar {
    fn header(&mut self, name: &str, size: usize, mode: &str, kind: u8) {
        assert!(name.len() <= 100, "{name}");
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(format!("{mode}\0").as_bytes());
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        h[156] = kind;
        h[257..265].copy_from_slice(b"ustar\x0000");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.out.extend_from_slice(&h);
    }

    fn file(&mut self, name: &str, bytes: &[u8]) {
        self.header(name, bytes.len(), "0000644", b'0');
        self.out.extend_from_slice(bytes);
        self.out.resize(self.out.len().div_ceil(512) * 512, 0);
    }

    fn dir(&mut self, name: &str) {
        self.header(name, 0, "0000755", b'5');
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.resize(self.out.len() + 1024, 0);
        self.out
    }
}
