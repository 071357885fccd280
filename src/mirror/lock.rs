//! The image lock file: for each source reference a mirror copied, the
//! mirrored reference and the digest the mirror serves for it. `mirror
//! --write-lock` writes it ([`Lock::write`]); with `mirror.images.lock` set,
//! the after-render rewrite pins every image to `repo:tag@sha256:…` from it
//! ([`Pins`]), without asking a registry.
//!
//! The file is JSON (also valid YAML), keys sorted, one entry per source,
//! meant to be committed next to the values:
//!
//! ```json
//! {
//!   "version": 1,
//!   "images": {
//!     "docker.io/library/nginx:1.25": {
//!       "mirrored": "registry.example.com/deploykf/docker.io/library/nginx:1.25",
//!       "digest": "sha256:…"
//!     }
//!   }
//! }
//! ```
//!
//! Keys and `mirrored` are image references, read normalised (`nginx:1.25`
//! is `docker.io/library/nginx:1.25`); `digest` is the manifest's or, for a
//! multi-platform image, the index's digest.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use image_ref::ImageRef;
use serde::{Deserialize, Serialize};

/// The format version [`Lock::write`] writes and [`Lock::load`] reads.
pub const LOCK_VERSION: u32 = 1;

/// Where a source reference was mirrored, and the digest served there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockEntry {
    pub mirrored: ImageRef,
    /// `sha256:<hex>` of the manifest or index the mirror serves.
    pub digest: String,
}

impl LockEntry {
    /// The mirrored reference pinned to the digest (`repo:tag@sha256:…`).
    pub fn pinned(&self) -> ImageRef {
        ImageRef { digest: Some(self.digest.clone()), ..self.mirrored.clone() }
    }
}

/// The lock: entries by source reference (fully qualified, as `ImageRef` prints it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub entries: BTreeMap<String, LockEntry>,
}

/// The file's shape.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockFile {
    version: u32,
    images: BTreeMap<String, EntryFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    mirrored: String,
    digest: String,
}

impl Lock {
    /// Records that `source` was mirrored to `mirrored`, which serves `digest`.
    pub fn insert(&mut self, source: &ImageRef, mirrored: ImageRef, digest: String) {
        self.entries.insert(source.to_string(), LockEntry { mirrored, digest });
    }

    /// The file's text: sorted, stable, ending with a newline.
    pub fn to_text(&self) -> String {
        let file = LockFile {
            version: LOCK_VERSION,
            images: self
                .entries
                .iter()
                .map(|(k, e)| (k.clone(), EntryFile { mirrored: e.mirrored.to_string(), digest: e.digest.clone() }))
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a lock serializes");
        text.push('\n');
        text
    }

    /// Writes the lock to `path` whole or not at all (a temporary file beside
    /// it, renamed over it).
    pub fn write(&self, path: &Path) -> Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let fail = || format!("cannot write the lock file '{}'", path.display());
        let mut file = tempfile::NamedTempFile::new_in(dir).with_context(fail)?;
        file.write_all(self.to_text().as_bytes()).with_context(fail)?;
        file.persist(path).map_err(|e| e.error).with_context(fail)?;
        Ok(())
    }

    /// Reads the lock file `path` (a regular file, bounded like every user file).
    pub fn load(path: &Path) -> Result<Lock> {
        let text = crate::user_input::read_file(path, "lock file")?;
        Lock::parse(&text, &format!("lock file '{}'", path.display()))
    }

    /// Parses a lock's text; errors start with `origin` and name the entry.
    pub fn parse(text: &str, origin: &str) -> Result<Lock> {
        let file: LockFile = serde_json::from_str(text).map_err(|e| {
            anyhow!("{origin}: {e} (expected {{\"version\": {LOCK_VERSION}, \"images\": {{SOURCE: {{\"mirrored\": REF, \"digest\": \"sha256:…\"}}}}}}, as `deploykf-cmp mirror --write-lock` writes it)")
        })?;
        if file.version != LOCK_VERSION {
            bail!("{origin}: version {} is not supported: this deploykf-cmp reads version {LOCK_VERSION}", file.version);
        }
        let mut lock = Lock::default();
        for (key, entry) in file.images {
            let at = || format!("{origin}: images[{}]", crate::user_input::quote(&key));
            let source = ImageRef::parse(&key).with_context(at)?;
            let mirrored = ImageRef::parse(&entry.mirrored).with_context(|| format!("{}.mirrored", at()))?;
            if !entry.digest.starts_with("sha256:") {
                bail!("{}.digest: {} is not a sha256 digest", at(), crate::user_input::quote(&entry.digest));
            }
            mirrored.with_digest(&entry.digest).with_context(|| format!("{}.digest", at()))?;
            if lock.entries.contains_key(&source.to_string()) {
                bail!("{}: {source} is listed twice (under two spellings)", at());
            }
            lock.insert(&source, mirrored, entry.digest);
        }
        Ok(lock)
    }

    /// The lookup the render's rewrite uses.
    pub fn pins(&self) -> Pins {
        let mut by_name = HashMap::new();
        // A mirrored name first: the render holds it once the values are mirrored.
        for entry in self.entries.values() {
            by_name.entry(lookup_key(&entry.mirrored)).or_insert_with(|| entry.pinned());
        }
        for (source, entry) in &self.entries {
            by_name.entry(source_key(source)).or_insert_with(|| entry.pinned());
        }
        Pins { by_name }
    }
}

/// A reference's key in [`Pins`]: without its digest when it has a tag (an
/// already pinned reference finds its entry again).
fn lookup_key(image: &ImageRef) -> String {
    match image.tag {
        Some(_) => ImageRef { digest: None, ..image.clone() }.to_string(),
        None => image.to_string(),
    }
}

fn source_key(source: &str) -> String {
    ImageRef::parse(source).map(|r| lookup_key(&r)).unwrap_or_else(|_| source.to_string())
}

/// The digest-pinned reference of each source and mirrored reference of a lock.
pub struct Pins {
    by_name: HashMap<String, ImageRef>,
}

impl Pins {
    /// The pinned reference for `image` (a mirrored or a source reference),
    /// if the lock lists it.
    pub fn get(&self, image: &ImageRef) -> Option<&ImageRef> {
        self.by_name.get(&lookup_key(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    fn sample() -> Lock {
        let mut lock = Lock::default();
        let m = |s: &str| ImageRef::parse(s).unwrap();
        lock.insert(&m("quay.io/x/y:2"), m("m.test/quay.io/x/y:2"), digest('b'));
        lock.insert(&m("nginx:1.25"), m("m.test/docker.io/library/nginx:1.25"), digest('a'));
        lock
    }

    #[test]
    fn the_text_is_sorted_and_round_trips() {
        let lock = sample();
        let text = lock.to_text();
        assert!(text.starts_with("{\n  \"version\": 1,\n  \"images\": {\n    \"docker.io/library/nginx:1.25\": {"), "{text}");
        assert!(text.find("docker.io/library/nginx").unwrap() < text.find("quay.io/x/y:2\"").unwrap());
        assert_eq!(Lock::parse(&text, "t").unwrap(), lock);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("images.lock");
        lock.write(&path).unwrap();
        let first = std::fs::read(&path).unwrap();
        Lock::load(&path).unwrap().write(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), first);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }

    #[test]
    fn pins_find_sources_and_mirrored_names() {
        let pins = sample().pins();
        let pinned = format!("m.test/docker.io/library/nginx:1.25@{}", digest('a'));
        for name in ["nginx:1.25", "m.test/docker.io/library/nginx:1.25", &pinned] {
            assert_eq!(pins.get(&ImageRef::parse(name).unwrap()).map(ToString::to_string), Some(pinned.clone()), "{name}");
        }
        assert!(pins.get(&ImageRef::parse("nginx:1.26").unwrap()).is_none());
    }

    #[test]
    fn bad_files_name_the_entry() {
        let err = |text: &str| format!("{:#}", Lock::parse(text, "lock file 'l'").unwrap_err());
        assert!(err("{\"version\": 2, \"images\": {}}").contains("version 2 is not supported"));
        assert!(err("{\"version\": 1}").contains("missing field `images`"));
        let e = err("{\"version\": 1, \"images\": {\"nginx:1\": {\"mirrored\": \"m.test/n:1\", \"digest\": \"sha256:12\"}}}");
        assert!(e.starts_with("lock file 'l': images[\"nginx:1\"].digest"), "{e}");
        let e = err("{\"version\": 1, \"images\": {\"Bad Ref\": {\"mirrored\": \"m.test/n:1\", \"digest\": \"x\"}}}");
        assert!(e.starts_with("lock file 'l': images[\"Bad Ref\"]"), "{e}");
        let e = err(&format!(
            "{{\"version\": 1, \"images\": {{\"nginx:1\": {{\"mirrored\": \"m.test/n:1\", \"digest\": \"{0}\"}}, \"docker.io/library/nginx:1\": {{\"mirrored\": \"m.test/n:1\", \"digest\": \"{0}\"}}}}}}",
            digest('c')
        ));
        assert!(e.contains("listed twice"), "{e}");
        assert!(err("{\"version\": 1, \"images\": {}, \"extra\": 1}").contains("unknown field `extra`"));
    }
}
