//! Synthetic container images pushed straight to a test registry (HTTP or
//! HTTPS) through the distribution HTTP API: deterministic pseudo-random gzip
//! layers, config JSON, OCI and Docker v2 manifests, and OCI indexes over two
//! platforms. A [`SyntheticSet`] looks like a deployKF image set: many
//! repositories sharing base layers, a few multi-arch images and optionally one
//! big layer.

use std::io::Write;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// `size` pseudo-random bytes from `seed` (xorshift; incompressible), gzip-wrapped
/// without compression so the layer is about `size` bytes.
pub fn random_layer(seed: u64, size: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut raw = vec![0u8; size];
    for chunk in raw.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(size + 1024), flate2::Compression::none());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

/// Pushes blobs and manifests to one registry (plain HTTP) as `user`.
pub struct Pusher {
    base: String,
    auth: Option<(String, String)>,
    http: reqwest::blocking::Client,
}

impl Pusher {
    /// A pusher for `http://host` with optional basic auth.
    pub fn new(host: &str, auth: Option<(&str, &str)>) -> Pusher {
        let http = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(600)).build().unwrap();
        Pusher { base: format!("http://{host}"), auth: auth.map(|(u, p)| (u.into(), p.into())), http }
    }

    /// A pusher for `https://host`, trusting the CA certificate `ca_pem` (PEM bytes).
    pub fn tls(host: &str, ca_pem: &[u8], auth: Option<(&str, &str)>) -> Pusher {
        let ca = reqwest::Certificate::from_pem(ca_pem).unwrap();
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        Pusher { base: format!("https://{host}"), auth: auth.map(|(u, p)| (u.into(), p.into())), http }
    }

    fn req(&self, method: reqwest::Method, url: &str) -> reqwest::blocking::RequestBuilder {
        let r = self.http.request(method, url);
        match &self.auth {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }

    /// Uploads `bytes` to `repo` (monolithic) unless present; returns the digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let d = digest(bytes);
        let head = self.req(reqwest::Method::HEAD, &format!("{}/v2/{repo}/blobs/{d}", self.base)).send().unwrap();
        if head.status().is_success() {
            return d;
        }
        let start = self.req(reqwest::Method::POST, &format!("{}/v2/{repo}/blobs/uploads/", self.base)).send().unwrap();
        assert_eq!(start.status(), 202, "start upload to {repo}: {:?}", start.text());
        let location = start.headers()["location"].to_str().unwrap().to_string();
        let location = if location.starts_with("http") { location } else { format!("{}{location}", self.base) };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = self
            .req(reqwest::Method::PUT, &format!("{location}{sep}digest={d}"))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert_eq!(put.status(), 201, "commit blob {d} to {repo}: {:?}", put.text());
        d
    }

    /// Puts manifest `bytes` under `reference`; returns their digest.
    pub fn push_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> String {
        let r = self
            .req(reqwest::Method::PUT, &format!("{}/v2/{repo}/manifests/{reference}", self.base))
            .header("content-type", media_type)
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "put manifest {repo}:{reference}: {:?}", r.text());
        digest(bytes)
    }

    /// Pushes a single-platform image (config + `layers`); returns the manifest
    /// digest. `docker` picks Docker v2 media types instead of OCI.
    pub fn push_image(&self, repo: &str, tag: &str, layers: &[&[u8]], platform: (&str, &str), docker: bool) -> String {
        let (manifest, media) = self.image_manifest(repo, layers, platform, docker);
        self.push_manifest(repo, tag, media, &manifest)
    }

    fn image_manifest(&self, repo: &str, layers: &[&[u8]], (os, arch): (&str, &str), docker: bool) -> (Vec<u8>, &'static str) {
        let diff_ids: Vec<String> = layers.iter().map(|l| digest(l)).collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": arch, "os": os,
            "config": {"Cmd": ["/bin/app"], "Labels": {"repo": repo}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap();
        let (manifest_type, config_type, layer_type) =
            if docker { (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER) } else { (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER) };
        let config_digest = self.push_blob(repo, &config);
        let layer_descs: Vec<serde_json::Value> = layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": layer_type, "size": l.len(), "digest": self.push_blob(repo, l)}))
            .collect();
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": manifest_type,
            "config": {"mediaType": config_type, "size": config.len(), "digest": config_digest},
            "layers": layer_descs,
        });
        // Pretty-printed with a trailing newline, as some tools write them: a copy must keep the bytes.
        let mut bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        bytes.push(b'\n');
        (bytes, manifest_type)
    }

    /// Pushes an OCI index over linux/amd64 and linux/arm64 images built from
    /// `shared` plus one layer of each platform's own; returns the index digest.
    pub fn push_multi_arch(&self, repo: &str, tag: &str, shared: &[&[u8]], seed: u64) -> String {
        let mut entries = Vec::new();
        for (i, arch) in ["amd64", "arm64"].into_iter().enumerate() {
            let own = random_layer(seed * 10 + i as u64, 48 * 1024);
            let mut layers: Vec<&[u8]> = shared.to_vec();
            layers.push(&own);
            let (manifest, media) = self.image_manifest(repo, &layers, ("linux", arch), false);
            let d = self.push_manifest(repo, &digest(&manifest), media, &manifest);
            entries.push(serde_json::json!({
                "mediaType": media, "size": manifest.len(), "digest": d,
                "platform": {"architecture": arch, "os": "linux"},
            }));
        }
        let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries})).unwrap();
        self.push_manifest(repo, tag, OCI_INDEX, &index)
    }
}

/// One image of a [`SyntheticSet`].
#[derive(Clone, Debug)]
pub struct SyntheticImage {
    /// `repo:tag` (no host).
    pub name: String,
    /// The digest its tag points at.
    pub digest: String,
    pub multi_arch: bool,
}

/// A deployKF-like set of images in one registry.
#[derive(Clone, Debug)]
pub struct SyntheticSet {
    pub images: Vec<SyntheticImage>,
    /// Digest of the big layer, when one was made.
    pub big_layer: Option<String>,
}

impl SyntheticSet {
    /// Pushes `count` images under `prefix/` (every 5th multi-arch, every 3rd
    /// Docker v2), all sharing two base layers, some sharing a middle layer;
    /// with `big_layer_mib`, image 0 also carries a layer of that size.
    pub fn push(pusher: &Pusher, prefix: &str, count: usize, big_layer_mib: Option<usize>) -> SyntheticSet {
        let base_a = random_layer(1, 2 << 20);
        let base_b = random_layer(2, 512 << 10);
        let middle = random_layer(3, 1 << 20);
        let big = big_layer_mib.map(|m| random_layer(4, m << 20));
        let mut images = Vec::new();
        for i in 0..count {
            let repo = format!("{prefix}/app-{i}");
            let tag = format!("v1.{i}.0");
            let own = random_layer(100 + i as u64, 256 * 1024 + i * 1024);
            let mut layers: Vec<&[u8]> = vec![&base_a, &base_b];
            if i % 2 == 0 {
                layers.push(&middle);
            }
            let multi_arch = i % 5 == 4;
            let digest = if multi_arch {
                pusher.push_multi_arch(&repo, &tag, &layers, 1000 + i as u64)
            } else {
                if i == 0 {
                    if let Some(b) = &big {
                        layers.push(b);
                    }
                }
                layers.push(&own);
                pusher.push_image(&repo, &tag, &layers, ("linux", "amd64"), i % 3 == 1)
            };
            images.push(SyntheticImage { name: format!("{repo}:{tag}"), digest, multi_arch });
        }
        SyntheticSet { images, big_layer: big.as_deref().map(digest) }
    }
}
