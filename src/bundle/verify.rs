//! `bundle verify`: a bundle checked without a registry. One sequential pass
//! re-hashes every stored blob against its name (and the whole file and each
//! part against `FILE.sha256` when it is there); then every descriptor
//! reachable from `index.json` must be stored with its size, or be listed in
//! the bundle manifest's `external`; and the bundle manifest must agree with
//! the layout (its own blob, its image, chart and generator entries, its blob
//! totals). Every problem is collected, so one run names them all.

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::Path;

use anyhow::{Context, Result};
use registry::digest::Hasher;

use super::format::{blob_path, sha256_path, Kind};
use super::read::{is_manifest_type, references, Bundle, HashingReader, Parts};

/// What a verification found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Each problem, naming the entry, digest or file.
    pub problems: Vec<String>,
    pub blobs: usize,
    pub bytes: u64,
    /// Manifests and indexes walked from `index.json`.
    pub manifests: usize,
    /// Referenced digests not stored (declared external).
    pub external: usize,
    /// Whether `FILE.sha256` was found and checked.
    pub checksum_file: bool,
}

impl Outcome {
    /// The one-line summary of a clean bundle.
    pub fn summary(&self, name: &str) -> String {
        format!(
            "{name}: OK: {} blobs ({:.1} MiB) re-hashed, {} manifests walked, {} external digests, {}",
            self.blobs,
            self.bytes as f64 / 1048576.0,
            self.manifests,
            self.external,
            if self.checksum_file { "the .sha256 file matches" } else { "no .sha256 file beside it" }
        )
    }
}

/// Verifies the bundle at `path` (a file or its parts). `Err` only when it
/// cannot be read as a bundle at all; content problems are in the outcome.
pub fn verify(path: &Path) -> Result<Outcome> {
    let bundle = Bundle::open(path)?;
    let mut outcome = Outcome::default();
    let hashes = rehash(&bundle, &mut outcome)?;
    check_checksum_file(&bundle.parts, &hashes, &mut outcome)?;
    walk(&bundle, &hashes.corrupt, &mut outcome);
    check_manifest(&bundle, &mut outcome);
    Ok(outcome)
}

/// The whole stream's and each part's sha256 (hex), and the blobs whose
/// bytes do not match their names.
struct StreamHashes {
    whole: String,
    parts: Vec<String>,
    corrupt: HashSet<String>,
}

/// Reads the stream once: every blob entry hashed against its name.
fn rehash(bundle: &Bundle, outcome: &mut Outcome) -> Result<StreamHashes> {
    let name = bundle.name();
    let reader = HashingReader::new(&bundle.parts);
    let mut archive = tar::Archive::new(reader);
    let mut corrupt = HashSet::new();
    for entry in archive.entries().with_context(|| format!("{name}: not a tar file"))? {
        let mut entry = entry.with_context(|| format!("{name}: unreadable tar entry"))?;
        let entry_name = entry.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(hex) = entry_name.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()) else { continue };
        let mut hasher = Hasher::new();
        let size = io::copy(&mut entry, &mut hasher).with_context(|| format!("{name}: reading {entry_name}"))?;
        let actual = hasher.hex();
        if actual != hex {
            outcome.problems.push(format!("{entry_name}: its {size} bytes hash to sha256:{actual}, not to its name (corrupt)"));
            corrupt.insert(format!("sha256:{hex}"));
        }
        outcome.blobs += 1;
        outcome.bytes += size;
    }
    let mut reader = archive.into_inner();
    io::copy(&mut reader, &mut io::sink()).with_context(|| format!("{name}: reading the end of the file"))?;
    let (whole, parts) = reader.finish();
    Ok(StreamHashes { whole, parts, corrupt })
}

/// Compares the stream's hashes with `FILE.sha256` (`sha256sum` format: the
/// whole file's line first, then one per part), when it exists.
fn check_checksum_file(parts: &Parts, hashes: &StreamHashes, outcome: &mut Outcome) -> Result<()> {
    let path = sha256_path(Path::new(parts.name()));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    outcome.checksum_file = true;
    let file_name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let whole_name = file_name(Path::new(parts.name()));
    let part_names: Vec<String> = if parts.files().count() > 1 { parts.files().map(|(p, _)| file_name(p)).collect() } else { Vec::new() };
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("{}:{}", path.display(), n + 1);
        let Some((hex, listed)) = line.split_once(char::is_whitespace) else {
            outcome.problems.push(format!("{at}: not a `sha256sum` line"));
            continue;
        };
        let listed = file_name(Path::new(listed.trim().trim_start_matches('*')));
        let actual = if listed == whole_name {
            &hashes.whole
        } else if let Some(i) = part_names.iter().position(|p| *p == listed) {
            &hashes.parts[i]
        } else {
            continue;
        };
        if hex != actual {
            outcome.problems.push(format!("{at}: {listed} has sha256 {actual}, the file lists {hex}"));
        }
    }
    Ok(())
}

/// Walks every descriptor reachable from `index.json` (past the `corrupt`
/// blobs, already reported).
fn walk(bundle: &Bundle, corrupt: &HashSet<String>, outcome: &mut Outcome) {
    let external: HashSet<&str> = bundle.manifest.external.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    let mut stack: Vec<(String, String, u64, String)> = bundle
        .index
        .iter()
        .map(|d| (d.digest.clone(), d.media_type.clone(), d.size, format!("index.json entry {}", d.ref_name().unwrap_or(&d.digest))))
        .collect();
    while let Some((digest, media_type, size, from)) = stack.pop() {
        if !seen.insert(digest.clone()) {
            continue;
        }
        if blob_path(&digest).is_none() {
            outcome.problems.push(format!("{from}: {digest:?} is not a sha256 digest"));
            continue;
        }
        let Some(stored) = bundle.blobs.get(&digest) else {
            if external.contains(digest.as_str()) {
                outcome.external += 1;
            } else {
                outcome.problems.push(format!("{from}: {digest} is neither stored nor listed in external (missing blob)"));
            }
            continue;
        };
        if stored.size != size {
            outcome.problems.push(format!("{from}: {digest} is {size} bytes in its descriptor, {} stored", stored.size));
            continue;
        }
        if !is_manifest_type(&media_type) || corrupt.contains(&digest) {
            continue;
        }
        outcome.manifests += 1;
        match bundle.read_blob(&digest).and_then(|bytes| references(&bytes)) {
            Ok(children) => {
                for c in children {
                    stack.push((c.digest, c.media_type, c.size, format!("manifest {digest} (from {from})")));
                }
            }
            Err(e) => outcome.problems.push(format!("{from}: manifest {digest}: {e:#}")),
        }
    }
}

/// The bundle manifest against the layout.
fn check_manifest(bundle: &Bundle, outcome: &mut Outcome) {
    let m = &bundle.manifest;
    let mut own = BTreeSet::from([bundle.manifest_digest.clone()]);
    match bundle.entries(Kind::BundleManifest).next() {
        None => outcome.problems.push("index.json has no bundle-manifest entry".to_string()),
        Some(d) => {
            own.insert(d.digest.clone());
            let holds_it = bundle
                .read_blob(&d.digest)
                .and_then(|b| references(&b))
                .is_ok_and(|children| children.iter().any(|c| c.digest == bundle.manifest_digest));
            if !holds_it {
                outcome.problems.push(format!(
                    "the bundle-manifest artifact {} does not hold deploykf-bundle.json ({})",
                    d.digest, bundle.manifest_digest
                ));
            }
        }
    }
    let indexed = |kind: Kind, name: &str, digest: &str| bundle.entries(kind).any(|d| d.ref_name() == Some(name) && d.digest == digest);
    for image in &m.images {
        if !indexed(Kind::Image, &image.name, &image.digest) {
            outcome.problems.push(format!("image {} ({}) has no matching index.json entry", image.name, image.digest));
        }
    }
    for chart in &m.charts {
        if !indexed(Kind::Chart, &chart.reference, &chart.digest) {
            outcome.problems.push(format!("chart {} ({}) has no matching index.json entry", chart.reference, chart.digest));
        }
    }
    for generator in &m.generators {
        if !bundle.blobs.contains_key(&generator.digest) && !m.external.contains(&generator.digest) {
            outcome.problems.push(format!("generator {} ({}) is not stored", generator.version, generator.digest));
        }
    }
    let listed: Vec<&String> = bundle.blobs.keys().filter(|d| !own.contains(*d)).collect();
    let bytes: u64 = bundle.blobs.iter().filter(|(d, _)| !own.contains(*d)).map(|(_, s)| s.size).sum();
    if m.blobs.count != listed.len() as u64 || m.blobs.bytes != bytes || m.blobs.digests.iter().ne(listed.iter().copied()) {
        outcome.problems.push(format!(
            "deploykf-bundle.json lists {} blobs of {} bytes, the file stores {} of {bytes} (besides the manifest's own)",
            m.blobs.count,
            m.blobs.bytes,
            listed.len()
        ));
    }
}
