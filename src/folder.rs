//! Folder trees on disk: the one folder copy of the binary ([`copy`]: a
//! generator source folder, a chart into the plugin's working directory) with
//! its one symbolic-link rule, file creation with permission bits
//! ([`create_file`], also used by zip extraction), and the `/`-separated
//! names of walked entries ([`slash_path`]).

use std::fs;
use std::io;
use std::path::Path;

use anyhow::{bail, Context, Result};

/// Copies the folder `src` into `dest` (created), as Go's `CopyFolder` does:
/// files keep their permission bits, names are copied in sorted order. A
/// symbolic link is followed only when it resolves to a file inside `src`; a
/// link to a folder, outside `src` or broken is an error naming it.
pub fn copy(src: &Path, dest: &Path) -> Result<()> {
    let root = fs::canonicalize(src).with_context(|| format!("cannot read '{}'", src.display()))?;
    for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list '{}'", src.display()))?;
        let path = entry.path();
        let target = dest.join(path.strip_prefix(&root).expect("the walk stays below its root"));
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).with_context(|| format!("cannot create '{}'", target.display()))?;
        } else if entry.path_is_symlink() {
            let resolved = fs::canonicalize(path).with_context(|| {
                format!("the symbolic link '{}' in '{}' is broken", path.display(), src.display())
            })?;
            if !resolved.starts_with(&root) || !resolved.is_file() {
                bail!(
                    "the symbolic link '{}' in '{}' must point to a file inside that folder",
                    path.display(),
                    src.display()
                );
            }
            copy_file(&resolved, &target)?;
        } else {
            copy_file(path, &target)?;
        }
    }
    Ok(())
}

/// The `/`-separated path of `path` below `root` (a walk's entry), as Go's
/// walks name it.
pub fn slash_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).expect("a walk's entries are below its root");
    let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
    parts.join("/")
}

fn copy_file(src: &Path, dest: &Path) -> Result<()> {
    let mode = file_mode(src);
    let mut input = fs::File::open(src).with_context(|| format!("cannot read '{}'", src.display()))?;
    let mut out = create_file(dest, mode)?;
    io::copy(&mut input, &mut out).with_context(|| format!("cannot copy '{}'", src.display()))?;
    Ok(())
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0o644)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> u32 {
    0o644
}

/// Creates `path` for writing with the permission bits `mode` (before the umask).
#[cfg(unix)]
pub fn create_file(path: &Path, mode: u32) -> Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Keep the owner able to read and remove what we write.
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode | 0o600)
        .open(path)
        .with_context(|| format!("cannot create '{}'", path.display()))
}

#[cfg(not(unix))]
pub fn create_file(path: &Path, _mode: u32) -> Result<fs::File> {
    fs::File::create(path).with_context(|| format!("cannot create '{}'", path.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn copies_the_tree_with_modes_and_links_to_files_inside() {
        let dir = tempfile::TempDir::new().unwrap();
        let src = dir.path().join("src");
        fs::create_dir_all(src.join("a/b")).unwrap();
        fs::create_dir_all(src.join("empty")).unwrap();
        fs::write(src.join("a/b/file.txt"), "deep").unwrap();
        fs::write(src.join("run.sh"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        symlink("a/b/file.txt", src.join("link.txt")).unwrap();
        let dest = dir.path().join("dest");
        copy(&src, &dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("a/b/file.txt")).unwrap(), "deep");
        assert!(dest.join("empty").is_dir());
        assert_eq!(fs::metadata(dest.join("run.sh")).unwrap().permissions().mode() & 0o100, 0o100);
        let link = dest.join("link.txt");
        assert!(!fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link's file is copied");
        assert_eq!(fs::read_to_string(link).unwrap(), "deep");
    }

    #[test]
    fn links_to_folders_outside_or_broken_are_refused_by_name() {
        let dir = tempfile::TempDir::new().unwrap();
        fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        for (name, target) in [("out.txt", "../outside.txt"), ("sub", "inner"), ("gone.txt", "missing.txt")] {
            let src = dir.path().join(format!("src-{name}"));
            fs::create_dir_all(src.join("inner")).unwrap();
            symlink(target, src.join(name)).unwrap();
            let dest = dir.path().join(format!("dest-{name}"));
            let err = copy(&src, &dest).unwrap_err().to_string();
            assert!(err.contains(&format!("the symbolic link '{}'", src.join(name).display())), "{err}");
            assert!(!dest.join(name).exists(), "{name} is not copied");
        }
    }
}
