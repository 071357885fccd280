//! The render cache shared by concurrent plugin invocations: a generator render
//! is stored under the digest of its inputs (zip digest, merged values, the
//! environment the templates read) so every child Application of an app-of-apps
//! reuses one render. Entries are published atomically (render into a temp
//! folder, rename into place) under a lock, never served partially, and the
//! cache is kept under a size bound by evicting the least recently used.
//!
//! Layout of the cache folder:
//! - `<key>/`: a complete render. The rename from its temp folder is the
//!   publication: a folder with a key's name is complete by construction. Its
//!   mtime is the last use (LRU order).
//! - `<key>.lock`: the key's lock file (`flock`): exclusive while rendering or
//!   evicting, shared while a [`CacheEntry`] is held. Whoever deletes a lock file
//!   holds its lock, and a locker checks that the file it locked is still the
//!   one at the path, so deleting lock files never lets two holders in.
//! - `.tmp-<key>-<owner>-<random>/`: a render in progress (see
//!   [`crate::scratch`]; removed on SIGTERM/SIGINT, and by the next
//!   [`RenderCache::open`] once its owner process is gone or after
//!   [`STALE_AFTER`]). Never served.
//! - `.trash-<key>-<random>/`: an evicted entry being deleted.
//!
//! Other names are left alone, so the folder may hold other caches too.

use std::fs::{self, File, FileTimes, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context, Result};
use registry::digest::Hasher;

use crate::scratch;

/// How long a caller waits for another invocation's lock on the same key before
/// failing: below Argo CD's 60 s budget for a whole request.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(50);
/// Age after which an abandoned temp folder or an unused lock file is removed.
pub const STALE_AFTER: Duration = Duration::from_secs(3600);

/// Version of the key derivation: changing the framing changes every key.
const KEY_DOMAIN: &[u8] = b"deploykf-cmp render cache v1";

/// The digest of everything a render depends on: 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(pub String);

impl CacheKey {
    /// Builds a key from labelled parts (order matters; labels avoid ambiguity):
    /// sha256 over a domain tag, then each label and value, each prefixed with
    /// its length as a big-endian u64, so no two different part lists collide
    /// by moving bytes between neighbours.
    pub fn from_parts(parts: &[(&str, &[u8])]) -> CacheKey {
        let mut hasher = Hasher::new();
        let mut field = |bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        };
        field(KEY_DOMAIN);
        for (label, value) in parts {
            field(label.as_bytes());
            field(value);
        }
        CacheKey(hasher.hex())
    }

    /// Whether this is a key the cache stores (what [`CacheKey::from_parts`] makes).
    fn is_valid(name: &str) -> bool {
        name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// A cache folder.
#[derive(Clone, Debug)]
pub struct RenderCache {
    pub dir: PathBuf,
    /// Upper bound of the total size in bytes (apparent size of the entries'
    /// files). An entry in use is never evicted, so a single entry larger than
    /// the bound still stays while it is used.
    pub max_bytes: u64,
    lock_timeout: Duration,
}

/// A complete render, kept from eviction while this value lives (it holds a
/// shared lock on the key).
#[derive(Debug)]
pub struct CacheEntry {
    path: PathBuf,
    rendered: bool,
    _lock: KeyLock,
}

impl CacheEntry {
    /// The render's folder. Read it, never write into it: it is shared.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this call rendered the entry (a miss) rather than reusing it.
    pub fn was_rendered(&self) -> bool {
        self.rendered
    }
}

impl RenderCache {
    /// Opens (creating) the cache folder, and removes temp folders abandoned
    /// more than [`STALE_AFTER`] ago and leftovers of interrupted evictions.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<RenderCache> {
        fs::create_dir_all(dir).with_context(|| {
            format!("cannot create the render cache folder '{}': check that its volume is mounted and writable", dir.display())
        })?;
        let cache = RenderCache { dir: dir.to_path_buf(), max_bytes, lock_timeout: DEFAULT_LOCK_TIMEOUT };
        cache.sweep(SystemTime::now());
        Ok(cache)
    }

    /// Sets how long a call waits for another invocation's lock on the same key.
    #[cfg(test)]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> RenderCache {
        self.lock_timeout = timeout;
        self
    }

    /// The folder of a complete render for `key`: the cached one, or a new one
    /// made by `render(target)` (which must fill `target`, an empty folder) and
    /// then published. Concurrent callers with the same key render once.
    /// `target` is a temp folder renamed afterwards: the render must not record
    /// its own path in what it writes.
    ///
    /// The folder is not protected from eviction once this returns; callers
    /// that read it afterwards should prefer [`RenderCache::get_or_render_entry`].
    #[cfg(test)]
    pub fn get_or_render(&self, key: &CacheKey, render: &mut dyn FnMut(&Path) -> Result<()>) -> Result<PathBuf> {
        Ok(self.get_or_render_entry(key, render)?.path)
    }

    /// Like [`RenderCache::get_or_render`], returning the entry with a shared
    /// lock that keeps other invocations from evicting it while it is used.
    ///
    /// A miss takes the key's exclusive lock (waiting at most the lock timeout
    /// for another invocation rendering the same key), re-checks, renders into
    /// `.tmp-<key>-<random>`, renames that into place and evicts least recently
    /// used entries over the size bound. A render error removes the temp folder
    /// and is returned unchanged; nothing is published.
    pub fn get_or_render_entry(&self, key: &CacheKey, render: &mut dyn FnMut(&Path) -> Result<()>) -> Result<CacheEntry> {
        if !CacheKey::is_valid(&key.0) {
            bail!("invalid render cache key {:?}: expected 64 lowercase hex digits (CacheKey::from_parts)", key.0);
        }
        let target = self.dir.join(&key.0);
        let lock_path = self.dir.join(format!("{}.lock", key.0));
        let mut deadline = Instant::now() + self.lock_timeout;
        let mut rendered = false;
        loop {
            let shared = KeyLock::acquire(&lock_path, LockMode::Shared, deadline)?;
            if is_dir(&target) {
                touch(&target);
                if rendered {
                    self.evict(&key.0);
                }
                return Ok(CacheEntry { path: target, rendered, _lock: shared });
            }
            drop(shared);

            let exclusive = KeyLock::acquire(&lock_path, LockMode::Exclusive, deadline)?;
            if !is_dir(&target) {
                self.render_and_publish(&key.0, &target, render)?;
                rendered = true;
                // Our own render may have used the whole wait budget; only the
                // re-lock below is left, which waits for nobody but evictors.
                deadline = Instant::now() + self.lock_timeout;
            }
            drop(exclusive);
        }
    }

    /// Renders into a fresh temp folder and renames it to `target`. The caller
    /// holds the key's exclusive lock.
    fn render_and_publish(&self, key: &str, target: &Path, render: &mut dyn FnMut(&Path) -> Result<()>) -> Result<()> {
        let tmp = scratch::dir_in(&self.dir, &format!(".tmp-{key}-"), "a temp folder in the render cache")?;
        if let Err(err) = render(tmp.path()) {
            let _ = tmp.close();
            return Err(err);
        }
        scratch::publishing(|| fs::rename(tmp.path(), target)).with_context(|| {
            format!("cannot publish the render '{}' as '{}'", tmp.path().display(), target.display())
        })?;
        // The temp path no longer exists: keep TempDir from trying to delete it.
        let _ = tmp.keep();
        touch(target);
        Ok(())
    }

    /// Removes least recently used entries until the cache fits `max_bytes`,
    /// skipping `keep` and every entry another invocation has locked. Best
    /// effort: an entry that cannot be removed now is left for a later call.
    fn evict(&self, keep: &str) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.size).sum();
        if total <= self.max_bytes {
            return;
        }
        entries.sort_by_key(|e| e.used);
        for entry in entries {
            if total <= self.max_bytes {
                break;
            }
            if entry.key == keep {
                continue;
            }
            if self.remove_entry(&entry.key) {
                total = total.saturating_sub(entry.size);
            }
        }
    }

    /// Removes one entry unless another invocation holds its lock: renames it
    /// to a trash name first (atomic for readers), then deletes it. Returns
    /// whether the entry is gone.
    fn remove_entry(&self, key: &str) -> bool {
        let lock_path = self.dir.join(format!("{key}.lock"));
        let Ok(Some(lock)) = KeyLock::try_acquire(&lock_path, LockMode::Exclusive) else {
            return false;
        };
        let target = self.dir.join(key);
        if !is_dir(&target) {
            return false;
        }
        let trash = self.dir.join(format!(".trash-{key}-{}", unique_suffix()));
        if fs::rename(&target, &trash).is_err() {
            return false;
        }
        // Still holding the lock: waiters on this file notice it is gone and
        // reopen; new callers create a fresh one.
        let _ = fs::remove_file(&lock_path);
        drop(lock);
        let _ = fs::remove_dir_all(&trash);
        true
    }

    /// The complete entries with their size and last use.
    fn entries(&self) -> Vec<EntryInfo> {
        let Ok(read) = fs::read_dir(&self.dir) else { return Vec::new() };
        let mut out = Vec::new();
        for dirent in read.flatten() {
            let Ok(name) = dirent.file_name().into_string() else { continue };
            if !CacheKey::is_valid(&name) {
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(dirent.path()) else { continue };
            if !meta.is_dir() {
                continue;
            }
            let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            out.push(EntryInfo { size: tree_size(&dirent.path()), key: name, used });
        }
        out
    }

    /// Removes temp folders older than [`STALE_AFTER`] or whose owner process
    /// is gone, unused lock files older than that, and any trash left by an
    /// interrupted eviction. Errors are ignored: a
    /// concurrent invocation may be removing the same thing.
    fn sweep(&self, now: SystemTime) {
        let Ok(read) = fs::read_dir(&self.dir) else { return };
        let is_stale = |meta: &fs::Metadata| {
            meta.modified().ok().and_then(|m| now.duration_since(m).ok()).is_some_and(|age| age > STALE_AFTER)
        };
        for dirent in read.flatten() {
            let Ok(name) = dirent.file_name().into_string() else { continue };
            let path = dirent.path();
            let Ok(meta) = fs::symlink_metadata(&path) else { continue };
            let trash = name.starts_with(".trash-");
            // `.tmp-<key>-<owner>-<random>`: abandoned once its owner is gone
            // and nobody holds the key's lock (its renderer holds it
            // throughout; another host sharing the cache has other pids).
            let orphan = || {
                name.get(..70).is_some_and(|prefix| {
                    scratch::is_orphan(&path, prefix)
                        && matches!(KeyLock::try_acquire(&self.dir.join(format!("{}.lock", &prefix[5..69])), LockMode::Exclusive), Ok(Some(_)))
                })
            };
            let stale_tmp = name.starts_with(".tmp-") && (is_stale(&meta) || orphan());
            if meta.is_dir() && (trash || stale_tmp) {
                let _ = fs::remove_dir_all(&path);
            } else if let Some(key) = name.strip_suffix(".lock") {
                if CacheKey::is_valid(key) && is_stale(&meta) && !is_dir(&self.dir.join(key)) {
                    if let Ok(Some(_lock)) = KeyLock::try_acquire(&path, LockMode::Exclusive) {
                        if !is_dir(&self.dir.join(key)) {
                            let _ = fs::remove_file(&path);
                        }
                    }
                }
            }
        }
    }
}

/// What eviction needs to know of an entry.
struct EntryInfo {
    key: String,
    size: u64,
    used: SystemTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LockMode {
    Shared,
    Exclusive,
}

/// A held `flock` on a key's lock file, released on drop.
#[derive(Debug)]
struct KeyLock {
    _file: File,
}

impl KeyLock {
    /// Waits until `deadline` for the lock, failing with a message that says
    /// what holds it.
    fn acquire(path: &Path, mode: LockMode, deadline: Instant) -> Result<KeyLock> {
        let mut pause = Duration::from_millis(2);
        loop {
            if let Some(lock) = KeyLock::try_acquire(path, mode)? {
                return Ok(lock);
            }
            let now = Instant::now();
            if now >= deadline {
                bail!(
                    "timed out waiting for the render cache lock '{}': another deploykf-cmp invocation has been \
                     rendering the same inputs for too long; retry the sync, and if it keeps happening check the \
                     sidecar for hung processes or remove the folder's contents",
                    path.display()
                );
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    /// The lock if it is free now, `None` if another holder has it.
    fn try_acquire(path: &Path, mode: LockMode) -> Result<Option<KeyLock>> {
        // A lock file deleted (by an evictor holding it) between open and lock
        // is detected below; retry a few times against the fresh file.
        for _ in 0..8 {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .with_context(|| format!("cannot open the render cache lock '{}': check that the cache folder is writable", path.display()))?;
            let attempt = match mode {
                LockMode::Shared => file.try_lock_shared(),
                LockMode::Exclusive => file.try_lock(),
            };
            match attempt {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock the render cache lock '{}'", path.display()))
                }
            }
            if same_file(&file, path) {
                return Ok(Some(KeyLock { _file: file }));
            }
        }
        Ok(None)
    }
}

/// Whether `file` is still the file at `path`.
#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether `file` is still the file at `path` (without inode numbers, only
/// whether the path exists; lock files are then never removed while in use
/// because removal fails on open files).
#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

fn is_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Marks an entry as used now (its mtime orders eviction). Best effort: a
/// failure only makes the entry look older.
fn touch(path: &Path) {
    let now = SystemTime::now();
    if let Ok(dir) = File::open(path) {
        let _ = dir.set_times(FileTimes::new().set_accessed(now).set_modified(now));
    }
}

/// The apparent size of the files under `path` (symlinks not followed).
fn tree_size(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// A name suffix unique across processes and calls.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}-{nanos:08x}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use anyhow::anyhow;
    use tempfile::TempDir;

    use super::*;

    /// Set in child processes of `concurrent_threads_and_processes_render_once`.
    const CHILD_ENV: &str = "DEPLOYKF_CMP_CACHE_TEST_CHILD";
    const CHILD_TEST: &str = "cache::tests::child_process_get_or_render";
    const FILES: usize = 12;

    fn key(name: &str) -> CacheKey {
        CacheKey::from_parts(&[("name", name.as_bytes())])
    }

    /// A render that records each invocation in `counter`, takes `pause`, and
    /// writes [`FILES`] files (some nested) of `size` bytes each.
    fn counting_render(counter: PathBuf, pause: Duration, size: usize) -> impl FnMut(&Path) -> Result<()> {
        move |target: &Path| {
            let mut log = OpenOptions::new().create(true).append(true).open(&counter)?;
            std::io::Write::write_all(&mut log, b"render\n")?;
            for i in 0..FILES {
                let path = if i % 3 == 0 { target.join(format!("nested/{i}.yaml")) } else { target.join(format!("{i}.yaml")) };
                fs::create_dir_all(path.parent().unwrap())?;
                fs::write(&path, vec![b'x'; size])?;
                std::thread::sleep(pause / FILES as u32);
            }
            Ok(())
        }
    }

    fn renders(counter: &Path) -> usize {
        fs::read_to_string(counter).map(|s| s.lines().count()).unwrap_or(0)
    }

    /// Panics unless `path` holds the whole output of [`counting_render`].
    fn assert_complete(path: &Path) {
        let mut files = 0;
        let mut stack = vec![path.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    files += 1;
                }
            }
        }
        assert_eq!(files, FILES, "partial render served at {}", path.display());
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn render_folders_of_gone_processes_are_swept_unless_locked() {
        let tmp = TempDir::new().unwrap();
        let (a, b) = (CacheKey::from_parts(&[("a", b"1")]), CacheKey::from_parts(&[("b", b"2")]));
        let gone = tmp.path().join(format!(".tmp-{}-{}-x", a.0, scratch::gone_owner()));
        let gone_locked = tmp.path().join(format!(".tmp-{}-{}-x", b.0, scratch::gone_owner()));
        for d in [&gone, &gone_locked] {
            fs::create_dir_all(d.join("sub")).unwrap();
        }
        let _held = KeyLock::try_acquire(&tmp.path().join(format!("{}.lock", b.0)), LockMode::Exclusive).unwrap().unwrap();
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap();
        assert!(!gone.exists(), "an orphan is removed");
        assert!(gone_locked.exists(), "a folder whose key is locked is kept");
        // A live render of this process is kept.
        let mine = scratch::dir_in(&cache.dir, &format!(".tmp-{}-", a.0), "x").unwrap();
        RenderCache::open(tmp.path(), 1 << 30).unwrap();
        assert!(mine.path().is_dir());
    }

    fn set_age(path: &Path, age: Duration) {
        let when = SystemTime::now() - age;
        File::open(path).unwrap().set_times(FileTimes::new().set_modified(when).set_accessed(when)).unwrap();
    }

    #[test]
    fn key_is_stable_hex_sha256() {
        let k = CacheKey::from_parts(&[("zip", b"abc"), ("values", b"a: 1\n")]);
        // Pinned (computed independently with Python's hashlib over the documented
        // framing): a change here invalidates every deployed cache.
        assert_eq!(k.0, "94ac7cb856c15f4fe8244f6dabd134167b0684dd25bafb87b5b9e2fbb53538d6");
        assert!(CacheKey::is_valid(&k.0));
        assert_eq!(k, CacheKey::from_parts(&[("zip", b"abc"), ("values", b"a: 1\n")]));
    }

    #[test]
    fn key_changes_with_every_part_label_order_and_boundary() {
        let variants: Vec<Vec<(&str, &[u8])>> = vec![
            vec![],
            vec![("", b"")],
            vec![("", b""), ("", b"")],
            vec![("zip", b"abc"), ("values", b"a: 1")],
            vec![("zip", b"abd"), ("values", b"a: 1")],
            vec![("zip", b"abc"), ("values", b"a: 2")],
            vec![("zap", b"abc"), ("values", b"a: 1")],
            vec![("values", b"a: 1"), ("zip", b"abc")],
            vec![("zip", b"ab"), ("cvalues", b"a: 1")],
            vec![("zi", b"pabc"), ("values", b"a: 1")],
            vec![("zip", b"abc"), ("values", b"a: 1"), ("env", b"")],
            vec![("abc", b"zip"), ("a: 1", b"values")],
        ];
        let keys: HashSet<String> = variants.iter().map(|v| CacheKey::from_parts(v).0).collect();
        assert_eq!(keys.len(), variants.len());
    }

    #[test]
    fn miss_renders_then_hit_reuses_without_rendering() {
        let tmp = TempDir::new().unwrap();
        let counter = tmp.path().join("count");
        let cache = RenderCache::open(&tmp.path().join("cache"), 1 << 30).unwrap();
        let k = key("a");
        let first = cache.get_or_render_entry(&k, &mut counting_render(counter.clone(), Duration::ZERO, 10)).unwrap();
        assert!(first.was_rendered());
        assert_eq!(first.path(), cache.dir.join(&k.0));
        assert_complete(first.path());
        drop(first);
        let path = cache.get_or_render(&k, &mut |_: &Path| Err(anyhow!("must not render on a hit"))).unwrap();
        assert_eq!(path, cache.dir.join(&k.0));
        assert_eq!(renders(&counter), 1);
        assert_eq!(names(&cache.dir), vec![k.0.clone(), format!("{}.lock", k.0)]);
    }

    #[test]
    fn failing_render_leaves_nothing_and_next_call_renders() {
        let tmp = TempDir::new().unwrap();
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap();
        let k = key("fails");
        let mut calls = 0;
        let err = cache
            .get_or_render(&k, &mut |target: &Path| {
                calls += 1;
                fs::write(target.join("half.yaml"), "kind: x")?;
                Err(anyhow!("template values.yaml:3: boom"))
            })
            .unwrap_err();
        assert_eq!(format!("{err:#}"), "template values.yaml:3: boom");
        assert_eq!(calls, 1);
        assert!(names(tmp.path()).iter().all(|n| n.ends_with(".lock")), "left behind: {:?}", names(tmp.path()));

        let counter = tmp.path().join("count");
        let entry = cache.get_or_render_entry(&k, &mut counting_render(counter.clone(), Duration::ZERO, 1)).unwrap();
        assert!(entry.was_rendered());
        assert_complete(entry.path());
        assert_eq!(renders(&counter), 1);
    }

    #[test]
    #[ignore = "helper: run in child processes by concurrent_threads_and_processes_render_once"]
    fn child_process_get_or_render() {
        let Some(root) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else { return };
        let cache = RenderCache::open(&root.join("cache"), 1 << 30).unwrap();
        let mut render = counting_render(root.join("count"), Duration::from_millis(600), 100);
        let entry = cache.get_or_render_entry(&key("shared"), &mut render).unwrap();
        assert_complete(entry.path());
        println!("rendered={}", entry.was_rendered());
    }

    #[test]
    fn concurrent_threads_and_processes_render_once() {
        const N: usize = 4;
        let tmp = TempDir::new().unwrap();
        let root = tmp.path().to_path_buf();
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..N)
            .map(|_| {
                Command::new(&exe)
                    .args([CHILD_TEST, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
                    .env(CHILD_ENV, &root)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let threads: Vec<_> = (0..N)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let cache = RenderCache::open(&root.join("cache"), 1 << 30).unwrap();
                    let mut render = counting_render(root.join("count"), Duration::from_millis(600), 100);
                    let entry = cache.get_or_render_entry(&key("shared"), &mut render).unwrap();
                    assert_complete(entry.path());
                    entry.was_rendered()
                })
            })
            .collect();
        let mut rendered = 0;
        for t in threads {
            rendered += usize::from(t.join().unwrap());
        }
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "child failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
            // libtest prints "test <name> ... " on the same line before the helper's output.
            let flag = stdout.split("rendered=").nth(1).expect("the child ran the helper test");
            rendered += usize::from(flag.starts_with("true"));
        }
        assert_eq!(renders(&root.join("count")), 1, "the render ran more than once");
        assert_eq!(rendered, 1, "exactly one caller reports having rendered");
        assert_eq!(names(&root.join("cache")).len(), 2, "only the entry and its lock: {:?}", names(&root.join("cache")));
    }

    #[test]
    fn a_render_published_while_waiting_for_the_lock_is_reused() {
        // Another invocation holds the key (shared, as a reader would): the
        // caller misses, then waits for the exclusive lock. The entry is
        // published meanwhile; after the lock, the caller must re-check and
        // reuse it instead of rendering again.
        let tmp = TempDir::new().unwrap();
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap();
        let k = key("raced");
        let other = KeyLock::try_acquire(&tmp.path().join(format!("{}.lock", k.0)), LockMode::Shared).unwrap().unwrap();
        let caller = {
            let (cache, k) = (cache.clone(), k.clone());
            std::thread::spawn(move || {
                let mut calls = 0;
                let entry = cache.get_or_render_entry(&k, &mut |_: &Path| {
                    calls += 1;
                    Ok(())
                });
                (entry.map(|e| (e.path().to_path_buf(), e.was_rendered())), calls)
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        let staged = tmp.path().join(format!(".tmp-{}-other", k.0));
        fs::create_dir(&staged).unwrap();
        counting_render(tmp.path().join("count"), Duration::ZERO, 1)(&staged).unwrap();
        fs::rename(&staged, tmp.path().join(&k.0)).unwrap();
        drop(other);
        let (entry, calls) = caller.join().unwrap();
        let (path, rendered) = entry.unwrap();
        assert_eq!((calls, rendered), (0, false));
        assert_complete(&path);
    }

    #[test]
    fn a_reader_never_sees_a_partial_render() {
        let tmp = TempDir::new().unwrap();
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap();
        let k = key("slow");
        let target = cache.dir.join(&k.0);
        let done = Arc::new(AtomicBool::new(false));
        let observer = {
            let (done, target) = (done.clone(), target.clone());
            std::thread::spawn(move || {
                let mut looks = 0;
                while !done.load(Ordering::SeqCst) {
                    if target.exists() {
                        assert_complete(&target);
                    }
                    looks += 1;
                    std::thread::sleep(Duration::from_millis(1));
                }
                looks
            })
        };
        let counter = tmp.path().join("count");
        let path = cache.get_or_render(&k, &mut counting_render(counter, Duration::from_millis(240), 5)).unwrap();
        done.store(true, Ordering::SeqCst);
        assert!(observer.join().unwrap() > 10, "the observer looked while the render ran");
        assert_complete(&path);
    }

    #[test]
    fn eviction_keeps_the_bound_and_removes_least_recently_used_first() {
        let tmp = TempDir::new().unwrap();
        let counter = tmp.path().join("count");
        let entry_size = (FILES * 100) as u64;
        let cache = RenderCache::open(&tmp.path().join("cache"), entry_size * 5 / 2).unwrap();
        let mut render = counting_render(counter.clone(), Duration::ZERO, 100);
        let (a, b, c) = (key("a"), key("b"), key("c"));
        cache.get_or_render(&a, &mut render).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        cache.get_or_render(&b, &mut render).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        cache.get_or_render(&a, &mut render).unwrap(); // a hit: a is now more recent than b
        std::thread::sleep(Duration::from_millis(20));
        cache.get_or_render(&c, &mut render).unwrap();
        assert_eq!(renders(&counter), 3);
        let left = names(&cache.dir);
        assert!(left.contains(&a.0) && left.contains(&c.0), "{left:?}");
        assert!(!left.contains(&b.0) && !left.contains(&format!("{}.lock", b.0)), "b is the LRU entry: {left:?}");
        assert!(!left.iter().any(|n| n.starts_with(".trash-") || n.starts_with(".tmp-")), "{left:?}");
        let total: u64 = cache.entries().iter().map(|e| e.size).sum();
        assert_eq!(total, 2 * entry_size);
        assert!(total <= cache.max_bytes);
    }

    #[test]
    fn eviction_skips_entries_in_use_and_the_one_just_returned() {
        let tmp = TempDir::new().unwrap();
        let counter = tmp.path().join("count");
        let entry_size = (FILES * 100) as u64;
        let cache = RenderCache::open(&tmp.path().join("cache"), entry_size * 5 / 2).unwrap();
        let mut render = counting_render(counter.clone(), Duration::ZERO, 100);
        let (a, b, c, d) = (key("a"), key("b"), key("c"), key("d"));
        let held = cache.get_or_render_entry(&a, &mut render).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        cache.get_or_render(&b, &mut render).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        cache.get_or_render(&c, &mut render).unwrap();
        let left = names(&cache.dir);
        assert!(left.contains(&a.0), "a is in use, so b goes instead: {left:?}");
        assert!(!left.contains(&b.0) && left.contains(&c.0), "{left:?}");
        assert_complete(held.path());
        drop(held);

        // A bound smaller than one entry: everything else goes, the new one stays.
        let tiny = RenderCache::open(&cache.dir, 1).unwrap();
        let path = tiny.get_or_render(&d, &mut render).unwrap();
        assert_complete(&path);
        assert_eq!(names(&cache.dir), vec![d.0.clone(), format!("{}.lock", d.0)]);
    }

    #[test]
    fn entries_held_under_eviction_pressure_stay_complete() {
        // Four callers cycle through six keys in a cache that fits two entries:
        // every publication evicts, yet no held entry may change under its holder.
        let tmp = TempDir::new().unwrap();
        let entry_size = (FILES * 10) as u64;
        let root = tmp.path().to_path_buf();
        let workers: Vec<_> = (0..4)
            .map(|worker| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let cache = RenderCache::open(&root.join("cache"), entry_size * 2).unwrap();
                    let mut render = counting_render(root.join("count"), Duration::from_millis(6), 10);
                    for round in 0..12 {
                        let entry = cache.get_or_render_entry(&key(&((worker + round) % 6).to_string()), &mut render).unwrap();
                        assert_complete(entry.path());
                        std::thread::sleep(Duration::from_millis(5));
                        assert_complete(entry.path());
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert!(renders(&root.join("count")) > 6, "the bound forced re-renders of evicted keys");
        let left = names(&root.join("cache"));
        assert!(!left.iter().any(|n| n.starts_with(".trash-") || n.starts_with(".tmp-")), "{left:?}");
        let cache = RenderCache::open(&root.join("cache"), entry_size * 2).unwrap();
        assert!(cache.entries().iter().map(|e| e.size).sum::<u64>() <= 4 * entry_size, "{left:?}");
    }

    #[test]
    fn stale_temp_folders_are_cleaned_and_partial_ones_never_served() {
        let tmp = TempDir::new().unwrap();
        let k = key("k");
        let stale = tmp.path().join(format!(".tmp-{}-crashed", k.0));
        let fresh = tmp.path().join(format!(".tmp-{}-running", k.0));
        let trash = tmp.path().join(format!(".trash-{}-left", k.0));
        for dir in [&stale, &fresh, &trash] {
            fs::create_dir_all(dir.join("nested")).unwrap();
            fs::write(dir.join("nested/0.yaml"), "partial").unwrap();
        }
        set_age(&stale, Duration::from_secs(2 * 3600));
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap();
        assert!(!stale.exists() && !trash.exists());
        assert!(fresh.exists(), "a temp folder younger than an hour may belong to a running render");

        let counter = tmp.path().join("count");
        let path = cache.get_or_render(&k, &mut counting_render(counter.clone(), Duration::ZERO, 1)).unwrap();
        assert_eq!(path, tmp.path().join(&k.0));
        assert_complete(&path);
        assert_eq!(renders(&counter), 1);
    }

    #[test]
    fn unused_old_lock_files_are_removed_but_held_ones_kept() {
        let tmp = TempDir::new().unwrap();
        let (old, held) = (tmp.path().join(format!("{}.lock", key("old").0)), tmp.path().join(format!("{}.lock", key("held").0)));
        let _guard = KeyLock::try_acquire(&held, LockMode::Exclusive).unwrap().unwrap();
        fs::write(&old, "").unwrap();
        set_age(&old, Duration::from_secs(2 * 3600));
        set_age(&held, Duration::from_secs(2 * 3600));
        RenderCache::open(tmp.path(), 1 << 30).unwrap();
        assert!(!old.exists());
        assert!(held.exists());
    }

    #[test]
    fn waiting_for_a_hung_renderer_times_out_with_a_clear_error() {
        let tmp = TempDir::new().unwrap();
        let cache = RenderCache::open(tmp.path(), 1 << 30).unwrap().with_lock_timeout(Duration::from_millis(300));
        let k = key("hung");
        let _hung = KeyLock::try_acquire(&tmp.path().join(format!("{}.lock", k.0)), LockMode::Exclusive).unwrap().unwrap();
        let started = Instant::now();
        let err = cache.get_or_render(&k, &mut |_: &Path| Err(anyhow!("must not render"))).unwrap_err();
        let waited = started.elapsed();
        assert!(format!("{err:#}").contains("timed out waiting for the render cache lock"), "{err:#}");
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(5), "{waited:?}");
        assert!(!tmp.path().join(&k.0).exists());
    }

    #[test]
    fn keys_that_are_not_digests_are_refused() {
        let tmp = TempDir::new().unwrap();
        let cache = RenderCache::open(&tmp.path().join("cache"), 1 << 30).unwrap();
        for bad in ["../escape", "", "charts", &"A".repeat(64)] {
            let err = cache.get_or_render(&CacheKey(bad.to_string()), &mut |_: &Path| Ok(())).unwrap_err();
            assert!(format!("{err}").contains("invalid render cache key"), "{err}");
        }
        assert!(!tmp.path().join("escape").exists());
    }

    /// Fills a cache with `entries` renders of 200 files and times `hits`
    /// warm lookups (open + get), as each child Application does.
    fn time_hits(root: &Path, entries: usize, hits: usize) -> Vec<Duration> {
        let cache = RenderCache::open(root, u64::MAX).unwrap();
        for i in 0..entries {
            cache
                .get_or_render(&key(&i.to_string()), &mut |t: &Path| {
                    for f in 0..200 {
                        fs::write(t.join(format!("{f}.yaml")), "kind: ConfigMap\n")?;
                    }
                    Ok(())
                })
                .unwrap();
        }
        let mut times: Vec<Duration> = (0..hits)
            .map(|i| {
                let started = Instant::now();
                let cache = RenderCache::open(root, u64::MAX).unwrap();
                let entry = cache.get_or_render_entry(&key(&(i % entries).to_string()), &mut |_: &Path| Err(anyhow!("miss"))).unwrap();
                let took = started.elapsed();
                assert!(!entry.was_rendered());
                took
            })
            .collect();
        times.sort();
        times
    }

    #[test]
    fn a_warm_hit_is_far_below_the_generator_budget() {
        let tmp = TempDir::new().unwrap();
        let times = time_hits(tmp.path(), 20, 50);
        // The target for a warm child app's whole generator phase is 50 ms.
        assert!(times[times.len() / 2] < Duration::from_millis(10), "median hit {:?}", times[times.len() / 2]);
    }

    /// `cargo test --release --bin deploykf-cmp cache::tests::measure_hits -- --ignored --nocapture`
    #[test]
    #[ignore = "measurement: prints hit latencies"]
    fn measure_hits() {
        for entries in [10, 100] {
            let tmp = TempDir::new().unwrap();
            let times = time_hits(tmp.path(), entries, 1000);
            let pick = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
            println!(
                "{entries} entries: hit (open + get) median {:?}, p99 {:?}, max {:?}",
                pick(0.5),
                pick(0.99),
                times[times.len() - 1]
            );
        }
    }
}
