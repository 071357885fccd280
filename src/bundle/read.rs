//! Reading a bundle file (docs/bundle-format.md): the file, or its parts
//! `FILE.part000`, `FILE.part001`, … read as one stream and never joined on
//! disk; the tar's entries checked in the agreed order (`oci-layout`,
//! `index.json`, `deploykf-bundle.json`, then `blobs/sha256/<hex>` sorted,
//! each once); the layout's index and the bundle manifest parsed; and each
//! blob's place in the stream, so that it can be read back on its own with
//! its sha256 checked as it is read; and the whole stream hashed (whole and
//! per part) in one pass. Opening reads the tar's headers only (seeking over
//! the blobs), so memory stays bounded whatever the blob sizes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use registry::digest::Hasher;

use super::format::{self, blob_path, BundleManifest, Descriptor, Index, Kind, BUNDLE_MANIFEST, INDEX_JSON, OCI_INDEX, OCI_LAYOUT, OCI_MANIFEST};

/// The largest `index.json`, bundle manifest or image manifest read into memory.
pub const JSON_MAX: u64 = 16 << 20;

/// The files a bundle is stored in, in order, read as one stream.
#[derive(Clone, Debug)]
pub struct Parts {
    /// `FILE`, without a part suffix (errors name it).
    name: String,
    /// Each file and its length.
    files: Vec<(PathBuf, u64)>,
}

impl Parts {
    /// `path`, or its parts when `path` names `FILE.part000` or only
    /// `FILE.part000`, `FILE.part001`, … exist ([`format::files`]).
    pub fn locate(path: &Path) -> Result<Parts> {
        let (base, paths) = format::files(path).with_context(|| format!("{}: no such bundle", path.display()))?;
        let mut files = Vec::new();
        for p in paths {
            let len = std::fs::metadata(&p).with_context(|| format!("cannot read the bundle {}", p.display()))?.len();
            files.push((p, len));
        }
        Ok(Parts { name: base.display().to_string(), files })
    }

    /// The bundle's name (`FILE`, also when it is stored in parts).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The files in order, with their lengths.
    pub fn files(&self) -> impl Iterator<Item = (&Path, u64)> {
        self.files.iter().map(|(p, n)| (p.as_path(), *n))
    }

    /// The length of the whole stream.
    pub fn len(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }

    /// A reader of the whole stream, at its start.
    pub fn reader(&self) -> PartsReader {
        PartsReader { parts: self.clone(), position: 0, open: None }
    }
}

/// The parts of a bundle as one seekable stream.
pub struct PartsReader {
    parts: Parts,
    position: u64,
    /// The part open now: its index, its start in the stream, the file.
    open: Option<(usize, u64, File)>,
}

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.open.is_none() {
            let mut start = 0;
            let Some(i) = self.parts.files.iter().position(|(_, len)| {
                let inside = self.position < start + len;
                if !inside {
                    start += len;
                }
                inside
            }) else {
                return Ok(0);
            };
            let path = &self.parts.files[i].0;
            let mut file = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            file.seek(SeekFrom::Start(self.position - start))?;
            self.open = Some((i, start, file));
        }
        let (i, start, file) = self.open.as_mut().expect("opened above");
        let end = *start + self.parts.files[*i].1;
        let want = buf.len().min((end - self.position) as usize);
        let n = file.read(&mut buf[..want])?;
        if n == 0 && want > 0 {
            // The part is shorter than when it was listed.
            let path = self.parts.files[*i].0.display().to_string();
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{path} was shortened while being read")));
        }
        self.position += n as u64;
        if self.position == end {
            self.open = None;
        }
        Ok(n)
    }
}

impl Seek for PartsReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
            SeekFrom::End(d) => self.parts.len().checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the bundle"))?;
        if target != self.position {
            self.position = target;
            self.open = None;
        }
        Ok(target)
    }
}

/// A descriptor referenced by a manifest: an index's entry (with its
/// platform) or an image manifest's config or layer.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Child {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<serde_json::Value>,
}

impl Child {
    /// `os/arch[/variant]` of an index entry, if it names one.
    pub fn platform_text(&self) -> Option<String> {
        let p = self.platform.as_ref()?;
        let mut s = format!("{}/{}", p["os"].as_str()?, p["architecture"].as_str()?);
        if let Some(v) = p["variant"].as_str() {
            s.push('/');
            s.push_str(v);
        }
        Some(s)
    }
}

/// Whether `media_type` is an image manifest, index or manifest list.
pub fn is_manifest_type(media_type: &str) -> bool {
    matches!(
        media_type,
        OCI_INDEX
            | OCI_MANIFEST
            | "application/vnd.docker.distribution.manifest.list.v2+json"
            | "application/vnd.docker.distribution.manifest.v2+json"
    )
}

/// Whether `media_type` is an index or manifest list.
pub fn is_index_type(media_type: &str) -> bool {
    media_type.contains("index") || media_type.contains("manifest.list")
}

/// The descriptors a manifest references: an index's `manifests`, an image
/// manifest's `config` and `layers` (`subject` is not content of the image).
pub fn references(bytes: &[u8]) -> Result<Vec<Child>> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        manifests: Vec<Child>,
        #[serde(default)]
        config: Option<Child>,
        #[serde(default)]
        layers: Vec<Child>,
    }
    let doc: Doc = serde_json::from_slice(bytes).context("not an OCI manifest or index")?;
    Ok(doc.manifests.into_iter().chain(doc.config).chain(doc.layers).collect())
}

/// The place of a stored blob in the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    pub offset: u64,
    pub size: u64,
}

/// An opened bundle: its parts, layout index, bundle manifest and blobs.
pub struct Bundle {
    pub parts: Parts,
    /// `index.json`'s `manifests`, in the file's order.
    pub index: Vec<Descriptor>,
    pub manifest: BundleManifest,
    /// The sha256 digest of the `deploykf-bundle.json` entry.
    pub manifest_digest: String,
    /// Stored blobs by digest.
    pub blobs: BTreeMap<String, Stored>,
}

impl Bundle {
    /// Opens `path` (a file or its parts) and reads the tar's headers, the
    /// index and the bundle manifest; errors name the file and entry.
    pub fn open(path: &Path) -> Result<Bundle> {
        let parts = Parts::locate(path)?;
        let name = parts.name().to_string();
        let total = parts.len();
        let mut header = [0u8; 512];
        parts.reader().take(512).read_exact(&mut header).ok();
        if &header[257..262] != b"ustar" {
            bail!("{name}: not a bundle: it does not start with a tar header (a bundle is the tar `bundle create` writes)");
        }
        let mut archive = tar::Archive::new(parts.reader());
        let entries = archive.entries_with_seek().with_context(|| format!("{name}: not a tar file"))?;
        let mut layout_seen = false;
        let mut index = None;
        let mut manifest = None;
        let mut blobs: BTreeMap<String, Stored> = BTreeMap::new();
        let mut last_blob = String::new();
        for (n, entry) in entries.enumerate() {
            let mut entry = entry.with_context(|| format!("{name}: unreadable tar entry {} (a damaged or truncated bundle?)", n + 1))?;
            let entry_name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
            let at = || format!("{name}: entry {} ({entry_name:?})", n + 1);
            let kind = entry.header().entry_type();
            if kind.is_dir() {
                if !matches!(entry_name.trim_end_matches('/'), "blobs" | "blobs/sha256") {
                    bail!("{}: unexpected folder in a bundle", at());
                }
                continue;
            }
            if !kind.is_file() {
                bail!("{}: a bundle holds regular files and folders only, not {kind:?}", at());
            }
            let size = entry.size();
            let offset = entry.raw_file_position();
            if offset.saturating_add(size) > total {
                bail!("{}: needs bytes up to {}, the bundle has {total}: it is truncated (a part missing or cut short?)", at(), offset + size);
            }
            match entry_name.as_str() {
                OCI_LAYOUT if n == 0 => {
                    let text = read_small(&mut entry, 4096).with_context(at)?;
                    let v: serde_json::Value = serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", at()))?;
                    if v["imageLayoutVersion"] != "1.0.0" {
                        bail!("{}: imageLayoutVersion is {}, expected \"1.0.0\"", at(), v["imageLayoutVersion"]);
                    }
                    layout_seen = true;
                }
                INDEX_JSON if layout_seen && index.is_none() => {
                    let bytes = read_small(&mut entry, JSON_MAX).with_context(at)?;
                    let parsed: Index = serde_json::from_slice(&bytes).with_context(|| format!("{}: not an OCI image index", at()))?;
                    if parsed.schema_version != 2 || parsed.media_type != OCI_INDEX {
                        bail!("{}: schemaVersion {} and mediaType {:?}, expected 2 and {OCI_INDEX}", at(), parsed.schema_version, parsed.media_type);
                    }
                    index = Some(parsed.manifests);
                }
                BUNDLE_MANIFEST if index.is_some() && manifest.is_none() => {
                    let bytes = read_small(&mut entry, JSON_MAX).with_context(at)?;
                    let parsed: BundleManifest =
                        serde_json::from_slice(&bytes).with_context(|| format!("{}: not a deployKF bundle manifest", at()))?;
                    manifest = Some((parsed, registry::digest::sha256(&bytes)));
                }
                _ => {
                    let Some(hex) = entry_name.strip_prefix("blobs/sha256/") else {
                        bail!(
                            "{}: not part of a bundle here (expected oci-layout, index.json, {BUNDLE_MANIFEST}, then blobs/sha256/…, in that order)",
                            at()
                        );
                    };
                    if manifest.is_none() {
                        bail!("{}: a blob before {BUNDLE_MANIFEST}; this is no bundle of deploykf-cmp bundle create", at());
                    }
                    if blob_path(&format!("sha256:{hex}")).is_none() {
                        bail!("{}: not a sha256 blob name (64 lowercase hex digits)", at());
                    }
                    if hex <= last_blob.as_str() {
                        bail!("{}: blobs are not sorted or stored twice (after {last_blob})", at());
                    }
                    last_blob = hex.to_string();
                    blobs.insert(format!("sha256:{hex}"), Stored { offset, size });
                }
            }
        }
        let (manifest, manifest_digest) = manifest.ok_or_else(|| {
            anyhow!("{name}: no {BUNDLE_MANIFEST} after oci-layout and index.json; this is no bundle of deploykf-cmp bundle create")
        })?;
        Ok(Bundle { parts, index: index.expect("the manifest follows the index"), manifest, manifest_digest, blobs })
    }

    /// The bundle's name (`FILE`).
    pub fn name(&self) -> &str {
        self.parts.name()
    }

    /// A reader of a stored blob that fails at its end when the bytes do not
    /// hash to `digest` (naming the blob and the bundle).
    pub fn open_blob(&self, digest: &str) -> Result<BlobReader> {
        let stored = *self.blobs.get(digest).ok_or_else(|| anyhow!("{}: blob {digest} is not stored in the bundle", self.name()))?;
        let mut reader = self.parts.reader();
        reader.seek(SeekFrom::Start(stored.offset)).with_context(|| format!("{}: seeking to blob {digest}", self.name()))?;
        Ok(BlobReader {
            inner: reader.take(stored.size),
            hasher: Hasher::new(),
            digest: digest.to_string(),
            bundle: self.name().to_string(),
        })
    }

    /// A stored blob read whole (at most [`JSON_MAX`] bytes), its digest checked.
    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>> {
        let mut reader = self.open_blob(digest)?;
        read_small(&mut reader, JSON_MAX).with_context(|| format!("{}: blob {digest}", self.name()))
    }

    /// The stored digests reachable from `digest` (itself included), walking
    /// stored manifests; digests not stored are skipped.
    pub fn reachable(&self, digest: &str) -> Result<BTreeSet<String>> {
        let mut found = BTreeSet::new();
        let mut stack = vec![(digest.to_string(), true)];
        while let Some((digest, manifest)) = stack.pop() {
            if !self.blobs.contains_key(&digest) || !found.insert(digest.clone()) || !manifest {
                continue;
            }
            let bytes = self.read_blob(&digest)?;
            let children = references(&bytes).with_context(|| format!("{}: manifest {digest}", self.name()))?;
            stack.extend(children.into_iter().map(|c| (c.digest, is_manifest_type(&c.media_type))));
        }
        Ok(found)
    }

    /// The index entries of `kind`.
    pub fn entries(&self, kind: Kind) -> impl Iterator<Item = &Descriptor> + '_ {
        self.index.iter().filter(move |d| d.kind() == Some(kind))
    }
}

/// The bytes of `reader`, failing when there are more than `limit`.
fn read_small(reader: &mut impl Read, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        bail!("larger than {} MiB, the limit for it", limit >> 20);
    }
    Ok(bytes)
}

/// A stored blob's bytes; at its end the sha256 is compared with the digest
/// and a mismatch is an [`io::ErrorKind::InvalidData`] error.
pub struct BlobReader {
    inner: io::Take<PartsReader>,
    hasher: Hasher,
    digest: String,
    bundle: String,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            let actual = self.hasher.clone().digest();
            if actual != self.digest {
                return Err(io::Error::new(io::ErrorKind::InvalidData, corrupt_blob(&self.bundle, &self.digest, &actual)));
            }
            return Ok(0);
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The error of a stored blob whose bytes hash to `actual`.
fn corrupt_blob(bundle: &str, digest: &str, actual: &str) -> String {
    format!("{bundle}: blob {digest} (entry blobs/sha256/{}) holds bytes of digest {actual}: the bundle is corrupt; check it with `deploykf-cmp bundle verify {bundle}` and copy it again", digest.trim_start_matches("sha256:"))
}

/// The stream of the parts, hashed whole and per part as it is read (a read
/// of a [`PartsReader`] never crosses a part's end): `bundle verify` against
/// `FILE.sha256`, `bundle create --since` for the base's sha256.
pub struct HashingReader {
    inner: PartsReader,
    ends: Vec<u64>,
    position: u64,
    whole: Hasher,
    part: Hasher,
    parts: Vec<String>,
}

impl HashingReader {
    /// A reader of the whole stream of `parts`, at its start.
    pub fn new(parts: &Parts) -> HashingReader {
        let mut end = 0;
        let ends = parts.files().map(|(_, len)| {
            end += len;
            end
        });
        HashingReader { inner: parts.reader(), ends: ends.collect(), position: 0, whole: Hasher::new(), part: Hasher::new(), parts: Vec::new() }
    }

    /// The whole stream's sha256 and each part's (hex).
    pub fn finish(self) -> (String, Vec<String>) {
        (self.whole.hex(), self.parts)
    }
}

impl Read for HashingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.whole.update(&buf[..n]);
        self.part.update(&buf[..n]);
        self.position += n as u64;
        if self.ends.get(self.parts.len()) == Some(&self.position) {
            let done = std::mem::take(&mut self.part);
            self.parts.push(done.hex());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_as_one_stream_and_seek_across_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("b.tar");
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        for (i, chunk) in data.chunks(300).enumerate() {
            std::fs::write(format::part_path(&base, i), chunk).unwrap();
        }
        for given in [base.clone(), format::part_path(&base, 0)] {
            let parts = Parts::locate(&given).unwrap();
            assert_eq!(parts.files().count(), 4);
            assert_eq!(parts.len(), 1000);
            assert_eq!(parts.name(), base.display().to_string());
            let mut all = Vec::new();
            parts.reader().read_to_end(&mut all).unwrap();
            assert_eq!(all, data);
            let mut r = parts.reader();
            r.seek(SeekFrom::Start(295)).unwrap();
            let mut ten = [0u8; 10];
            r.read_exact(&mut ten).unwrap();
            assert_eq!(&ten[..], &data[295..305]);
        }
        let e = format!("{:#}", Parts::locate(&dir.path().join("none.tar")).unwrap_err());
        assert!(e.contains("none.tar") && e.contains("none.tar.part000"), "{e}");
    }
}
