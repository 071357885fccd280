//! Scratch folders: the temporary and staging folders a run creates (the
//! generator source unpacked in `$TMPDIR`, the output staging beside
//! `--output-dir`, the render cache's `.tmp-*` folders, release downloads in
//! progress). Each is named with its owner, `<prefix><pid>.<start>.<pidns>-<random>`
//! (`start`: the process start time from `/proc`, so a reused pid is not
//! taken for the owner; `pidns`: the pid namespace the pid belongs to, since a
//! `/tmp` or cache may be shared with processes of other namespaces, whose
//! pids mean nothing here), and recorded so
//! that SIGTERM and SIGINT remove it before the process exits (Argo CD stops
//! the plugin with SIGTERM, then SIGKILL). Folders left by a killed process are
//! removed by the next run's [`sweep`] once their owner is gone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use tempfile::TempDir;

/// Every scratch folder this process created (removed ones included: their
/// names are random and never reused, so removing them again is a no-op).
static CREATED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Held while a folder is published (renamed into place, or moved into the
/// output folder): the signal handler waits for it, so a stop never leaves
/// half a commit.
static PUBLISHING: Mutex<()> = Mutex::new(());

/// Set once a stop signal arrived: the handler thread owns the exit from then on.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// When a stop signal arrived, waits for the handler thread to end the process
/// (it removes the scratch folders first); otherwise returns at once. The
/// main thread calls this before exiting, so an error caused by folders
/// vanishing under it neither wins the race nor reaches stderr.
pub fn wait_if_stopping() {
    while STOPPING.load(Ordering::SeqCst) {
        std::thread::park();
    }
}

/// How old a scratch folder of another pid namespace must be before it
/// counts as abandoned: its owner cannot be looked up from here (a container
/// restarted with a new namespace leaves folders nobody else will remove).
const FOREIGN_ABANDONED_AFTER: Duration = Duration::from_secs(24 * 3600);

/// This process as it appears in scratch folder names: `<pid>.<start>.<pidns>`.
fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id();
        format!("{pid}.{}.{}", start_time(pid).unwrap_or(0), pid_namespace())
    })
}

/// The inode of this process's pid namespace (`/proc/self/ns/pid` links to
/// `pid:[<inode>]`); 0 when unknown.
fn pid_namespace() -> u64 {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|link| link.to_str()?.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok())
        .unwrap_or(0)
}

/// The start time of process `pid` in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`); `Err` with `NotFound` when there is no such process.
fn start_time(pid: u32) -> std::io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) is in parentheses and may hold anything.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    rest.split_whitespace()
        .nth(19)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| std::io::Error::other("unreadable /proc stat"))
}

/// An owner of this pid namespace that is gone (pid 4194305 is above Linux's
/// `pid_max`), for tests of sweeping.
#[cfg(test)]
pub fn gone_owner() -> String {
    format!("4194305.1.{}", pid_namespace())
}

/// Whether the owner `<pid>.<start>.<pidns>` of a scratch entry `age` old is
/// gone: in this pid namespace, no such process or one started at another
/// time; in another, an entry older than [`FOREIGN_ABANDONED_AFTER`]. Unknown
/// (no `/proc`) counts as alive.
fn owner_gone(owner: &str, age: Duration) -> bool {
    let mut mine = self::owner().split('.').skip(1);
    let (my_start, my_ns) = (mine.next().unwrap_or("0"), mine.next().unwrap_or("0"));
    if my_start == "0" || my_ns == "0" {
        // No `/proc` here: every process would look gone.
        return false;
    }
    let mut parts = owner.split('.');
    let (Some(Ok(pid)), Some(Ok(start)), Some(ns), None) =
        (parts.next().map(str::parse::<u32>), parts.next().map(str::parse::<u64>), parts.next(), parts.next())
    else {
        return false;
    };
    if ns != my_ns {
        return age > FOREIGN_ABANDONED_AFTER;
    }
    match start_time(pid) {
        Ok(now) => start != 0 && now != start,
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// A new folder `<prefix><owner>-<random>` in `parent`, removed on drop and on
/// SIGTERM/SIGINT. `what` names it in errors.
pub fn dir_in(parent: &Path, prefix: &str, what: &str) -> Result<TempDir> {
    install_handler();
    // Created and recorded under the lock, so a signal never falls in between.
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", owner()))
        .tempdir_in(parent)
        .with_context(|| format!("cannot create {what} in '{}'", parent.display()))?;
    created.push(dir.path().to_path_buf());
    Ok(dir)
}

/// A new file `<prefix><owner>-<random>` in `parent` (a download before it is
/// renamed into place), removed on drop and on SIGTERM/SIGINT.
pub fn file_in(parent: &Path, prefix: &str, what: &str) -> Result<tempfile::NamedTempFile> {
    install_handler();
    let mut created = CREATED.lock().unwrap_or_else(|e| e.into_inner());
    let file = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", owner()))
        .tempfile_in(parent)
        .with_context(|| format!("cannot create {what} in '{}'", parent.display()))?;
    created.push(file.path().to_path_buf());
    Ok(file)
}

/// A new folder `<prefix><owner>-<random>` in the temporary folder (`$TMPDIR`),
/// after sweeping what killed runs left there under the same prefix.
pub fn temp_dir(prefix: &str, what: &str) -> Result<TempDir> {
    let parent = std::env::temp_dir();
    sweep(&parent, prefix);
    dir_in(&parent, prefix, what)
}

/// Runs `publish` (a rename into place) with signal cleanup held back, so a
/// stop arrives before or after it, never during.
pub fn publishing<T>(publish: impl FnOnce() -> T) -> T {
    let _guard = PUBLISHING.lock().unwrap_or_else(|e| e.into_inner());
    publish()
}

/// Whether `path` is a scratch entry `<prefix><owner>-<random>` whose owner
/// process is gone.
pub fn is_orphan(path: &Path, prefix: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    let Some((owner, _)) = name.strip_prefix(prefix).and_then(|rest| rest.split_once('-')) else { return false };
    let age = std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .unwrap_or(Duration::ZERO);
    owner_gone(owner, age)
}

/// Removes the entries `<prefix><owner>-*` of `dir` whose owner process is
/// gone. Errors are ignored: another run may be sweeping the same folder.
pub fn sweep(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if is_orphan(&path, prefix) {
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => drop(std::fs::remove_dir_all(&path)),
                Ok(_) => drop(std::fs::remove_file(&path)),
                Err(_) => {}
            }
        }
    }
}

/// Starts (once) the thread that, on SIGTERM or SIGINT, waits for a running
/// publication, removes every scratch folder and exits with 128 + the signal
/// number, as a shell reports a process killed by it.
fn install_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGINT]) else { return };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                STOPPING.store(true, Ordering::SeqCst);
                let _guard = PUBLISHING.lock().unwrap_or_else(|e| e.into_inner());
                for path in CREATED.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    remove_while_written(path);
                }
                let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
                eprintln!("deploykf-cmp: stopped by {name}; temporary folders removed");
                std::process::exit(128 + signal);
            }
        });
    });
}

/// Removes a scratch folder (or file) that the main thread may still be
/// writing into. It is first renamed aside, so the writer's next file fails
/// instead of racing the removal, then removed; a writer that made the folder
/// again (`create_dir_all`) gets the same, a bounded number of times. The
/// aside name keeps the owner's prefix, so a sweep finds it if this process
/// dies first.
fn remove_while_written(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return };
    for attempt in 0..100 {
        if std::fs::symlink_metadata(path).is_err() {
            return;
        }
        let aside = path.with_file_name(format!("{name}.removing{attempt}"));
        let target = if std::fs::rename(path, &aside).is_ok() { aside } else { path.to_path_buf() };
        if std::fs::remove_dir_all(&target).is_err() {
            let _ = std::fs::remove_file(&target);
        }
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_still_being_written_is_removed() {
        let dir = tempfile::TempDir::new().unwrap();
        let target = dir.path().join("staging");
        std::fs::create_dir_all(target.join("sub")).unwrap();
        let writing = target.clone();
        // Writes files until its folder is gone (as an extraction does).
        let writer = std::thread::spawn(move || {
            for i in 0..1_000_000 {
                if std::fs::write(writing.join("sub").join(format!("f{i}")), b"x").is_err() {
                    return;
                }
            }
        });
        std::thread::sleep(Duration::from_millis(20));
        remove_while_written(&target);
        writer.join().unwrap();
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing is left aside");
    }

    #[test]
    fn folders_of_gone_owners_are_swept_and_live_ones_kept() {
        let dir = tempfile::TempDir::new().unwrap();
        let mine = dir_in(dir.path(), ".x-", "a test folder").unwrap();
        let name = mine.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(name.starts_with(&format!(".x-{}.", std::process::id())), "{name}");
        let ns = pid_namespace();
        // A pid that cannot exist, and this pid with another start time (reused).
        let dead = dir.path().join(format!(".x-4194305.1.{ns}-abc"));
        let reused = dir.path().join(format!(".x-{}.1.{ns}-abc", std::process::id()));
        let other_prefix = dir.path().join(format!(".y-4194305.1.{ns}-abc"));
        // Owners in another pid namespace (a test process in its own, sharing
        // this folder): their pids mean nothing here, so only age counts.
        let foreign_new = dir.path().join(format!(".x-4194305.1.{}-abc", ns + 1));
        let foreign_old = dir.path().join(format!(".x-4194305.1.{}-def", ns + 1));
        for d in [&dead, &reused, &other_prefix, &foreign_new, &foreign_old] {
            std::fs::create_dir_all(d.join("sub")).unwrap();
        }
        let long_ago = SystemTime::now() - FOREIGN_ABANDONED_AFTER - Duration::from_secs(60);
        std::fs::File::open(&foreign_old).unwrap().set_modified(long_ago).unwrap();
        sweep(dir.path(), ".x-");
        assert!(mine.path().is_dir());
        assert!(!dead.exists() && !reused.exists() && !foreign_old.exists());
        assert!(other_prefix.exists() && foreign_new.exists());
    }
}
