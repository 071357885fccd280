//! Generator zips, extracted defensively (Go's `UnzipFile(path, target,
//! "generator")`): only the top-level `generator/` folder, no `..` or absolute
//! entries, no symlinks, bounded entries and bytes ([`ZipLimits`]); the
//! template files can stay in memory ([`PackedFiles`]) for the render.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};

use crate::folder::create_file;
use crate::generator::ignore;

/// The top-level folder of a generator zip that holds the generator.
pub const ZIP_GENERATOR_FOLDER: &str = "generator";

/// Limits that keep a hostile zip from exhausting the machine.
#[derive(Clone, Copy, Debug)]
pub struct ZipLimits {
    /// Most entries an archive may hold.
    pub max_entries: usize,
    /// Most bytes all extracted files may hold together (counted while reading).
    pub max_total_bytes: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        // The real generators hold ~900 entries and ~5 MiB.
        ZipLimits {
            max_entries: 20_000,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

/// Extracts the entries under the zip's top-level `generator/` folder into
/// `target` (like Go's `UnzipFile(path, target, "generator")`), refusing hostile
/// archives: names with `..` or absolute names, symlink entries, more entries or
/// more extracted bytes than `limits` allow. On error the caller discards `target`.
#[cfg(test)]
pub fn extract_generator_zip(zip_path: &Path, target: &Path, limits: ZipLimits) -> Result<()> {
    extract(zip_path, target, limits, false).map(|_| ())
}

/// Like [`extract_generator_zip`], but the regular files under `templates/`
/// (except `.gomplateignore*` files, which the render reads and writes on
/// disk) are returned instead of written. Below `templates/` only the folders
/// of files on disk are created (a render only needs folders that hold files).
pub fn extract_generator_zip_packed(
    zip_path: &Path,
    target: &Path,
    limits: ZipLimits,
) -> Result<PackedFiles> {
    extract(zip_path, target, limits, true)
}

/// The zip archive, read into memory once and shared by its readers.
type Archive = zip::ZipArchive<io::Cursor<Arc<[u8]>>>;

/// Template files held in the (compressed) zip instead of on disk: path
/// relative to `templates/` (`/`-separated) → entry and the mode the
/// extracted file would have had. Read them through [`PackedFiles::reader`].
#[derive(Default)]
pub struct PackedFiles {
    archive: Option<Archive>,
    files: BTreeMap<String, (usize, u32)>,
}

impl PackedFiles {
    /// Every held path (relative to `templates/`), sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// A reader of the held files (one per thread: reading needs `&mut`).
    pub fn reader(&self) -> PackedReader<'_> {
        PackedReader {
            archive: self.archive.clone(),
            files: &self.files,
        }
    }
}

/// Reads held template files (see [`PackedFiles`]).
pub struct PackedReader<'a> {
    archive: Option<Archive>,
    files: &'a BTreeMap<String, (usize, u32)>,
}

impl PackedReader<'_> {
    /// The contents and mode of `templates/<rel>`, if it is held.
    pub fn read(&mut self, rel: &str) -> Option<io::Result<(Vec<u8>, u32)>> {
        let &(index, mode) = self.files.get(rel)?;
        let archive = self.archive.as_mut()?;
        let mut read = || -> io::Result<Vec<u8>> {
            let entry = archive.by_index(index).map_err(io::Error::other)?;
            // The declared sizes were checked against the limits at
            // extraction: hold an entry to its declared size.
            let size = entry.size();
            let mut content = Vec::with_capacity(size.min(1 << 24) as usize);
            entry.take(size + 1).read_to_end(&mut content)?;
            if content.len() as u64 > size {
                return Err(io::Error::other("the entry is larger than the zip says"));
            }
            Ok(content)
        };
        Some(read().map(|content| (content, mode)))
    }
}

/// The path under `templates/` of a file kept in memory, or `None` when it is
/// written to disk.
fn packed_path(inner: &Path) -> Option<String> {
    let mut parts = inner.components();
    if parts.next() != Some(Component::Normal("templates".as_ref())) {
        return None;
    }
    let rel: Vec<&str> = parts
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    let name = rel.last()?;
    if name.starts_with(ignore::IGNORE_FILE) {
        return None;
    }
    Some(rel.join("/"))
}

fn extract(zip_path: &Path, target: &Path, limits: ZipLimits, pack: bool) -> Result<PackedFiles> {
    // One read of the archive instead of thousands of small reads and seeks.
    let bytes = fs::read(zip_path)
        .with_context(|| format!("cannot open the zip '{}'", zip_path.display()))?;
    let mut archive: Archive = zip::ZipArchive::new(io::Cursor::new(Arc::from(bytes)))
        .with_context(|| format!("'{}' is not a valid zip file", zip_path.display()))?;
    let context = || format!("refusing the zip '{}'", zip_path.display());
    if archive.len() > limits.max_entries {
        return Err(anyhow!(
            "it has {} entries, more than the limit of {}",
            archive.len(),
            limits.max_entries
        ))
        .with_context(context);
    }
    // Check every entry's header before writing anything.
    let mut selected = Vec::new();
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).with_context(context)?;
        let name = entry.name().to_string();
        let rel = safe_entry_path(&name).with_context(context)?;
        if entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK) {
            return Err(anyhow!("entry '{name}' is a symbolic link")).with_context(context);
        }
        let mut parts = rel.components();
        if parts.next() != Some(Component::Normal(ZIP_GENERATOR_FOLDER.as_ref())) {
            continue;
        }
        let inner: PathBuf = parts.collect();
        selected.push((i, name, inner, entry.is_dir(), entry.unix_mode()));
    }
    if selected.is_empty() {
        bail!(
            "the provided extractPath '{ZIP_GENERATOR_FOLDER}' does not exist within the zip '{}'",
            zip_path.display()
        );
    }
    let mut total: u64 = 0;
    let mut packed = PackedFiles::default();
    let mut created = std::collections::HashSet::new();
    let mut create_dir = |dir: &Path| -> Result<()> {
        if created.insert(dir.to_path_buf()) {
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create '{}'", dir.display()))?;
        }
        Ok(())
    };
    let templates = target.join("templates");
    for (i, name, inner, is_dir, mode) in selected {
        let dest = target.join(&inner);
        let in_templates = inner.starts_with("templates") && inner != Path::new("templates");
        if is_dir {
            // With packing, the folders below `templates/` are implied by the
            // files they hold; only those of files on disk are created.
            create_dir(if pack && in_templates {
                &templates
            } else {
                &dest
            })?;
            continue;
        }
        if inner.as_os_str().is_empty() {
            continue;
        }
        let held = if pack { packed_path(&inner) } else { None };
        if held.is_some() {
            create_dir(&templates)?;
        } else if let Some(parent) = dest.parent() {
            create_dir(parent)?;
        }
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("cannot read zip entry '{name}'"))?;
        let mode = mode.map(|m| m & 0o777).unwrap_or(0o644);
        let budget = limits.max_total_bytes - total;
        let mut limited = (&mut entry).take(budget + 1);
        let written = match held {
            Some(rel) => {
                // Counted by its declared size; reading it never yields more
                // (see `PackedReader::read`). The mode is the one
                // `create_file` would give it (the umask applies when the
                // output is created).
                packed.files.insert(rel, (i, mode | 0o600));
                limited.into_inner().size()
            }
            None => {
                let mut out = create_file(&dest, mode)?;
                io::copy(&mut limited, &mut out)
                    .with_context(|| format!("cannot extract zip entry '{name}'"))?
            }
        };
        if written > budget {
            return Err(anyhow!(
                "its entries hold more than {} bytes uncompressed (limit reached at entry '{name}')",
                limits.max_total_bytes
            ))
            .with_context(context);
        }
        total += written;
    }
    if !packed.files.is_empty() {
        packed.archive = Some(archive);
    }
    Ok(packed)
}

/// The relative path of a zip entry, refusing absolute names and `..` components.
fn safe_entry_path(name: &str) -> Result<PathBuf> {
    if name.starts_with('/') || name.starts_with('\\') || name.as_bytes().get(1) == Some(&b':') {
        bail!("entry '{name}' has an absolute path");
    }
    if name.contains('\0') {
        bail!("entry '{name}' has a NUL byte in its name");
    }
    let mut out = PathBuf::new();
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => bail!("entry '{name}' has a '..' path component"),
            p => out.push(p),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tempfile::TempDir;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    pub(crate) fn zip_with(entries: &[(&str, &[u8], Option<u32>)]) -> (TempDir, PathBuf) {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("g.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        for (name, data, mode) in entries {
            let mut opts = SimpleFileOptions::default();
            if let Some(m) = mode {
                opts = opts.unix_permissions(*m);
            }
            if name.ends_with('/') {
                w.add_directory(*name, opts).unwrap();
            } else {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap();
        (dir, path)
    }

    #[test]
    fn extracts_only_the_generator_folder() {
        let (_d, zip) = zip_with(&[
            ("generator/", b"", None),
            ("generator/templates/a.yaml", b"a: 1", None),
            ("other/x.txt", b"x", None),
            ("generatorX/y.txt", b"y", None),
        ]);
        let out = TempDir::new().unwrap();
        extract_generator_zip(&zip, out.path(), ZipLimits::default()).unwrap();
        assert_eq!(
            fs::read_to_string(out.path().join("templates/a.yaml")).unwrap(),
            "a: 1"
        );
        assert!(!out.path().join("x.txt").exists());
        assert!(!out.path().join("y.txt").exists());
    }

    #[test]
    fn packs_template_files_and_writes_the_rest() {
        let (_d, zip) = zip_with(&[
            ("generator/templates/a/b.yaml", b"b: 1", Some(0o100640)),
            ("generator/templates/a/.gomplateignore_template", b"x", None),
            ("generator/templates/empty/", b"", None),
            ("generator/templates/c/", b"", None),
            ("generator/templates/c/d.yaml", b"d", None),
            ("generator/helpers/h.tpl", b"h", None),
        ]);
        let out = TempDir::new().unwrap();
        let packed = extract_generator_zip_packed(&zip, out.path(), ZipLimits::default()).unwrap();
        assert_eq!(packed.paths().collect::<Vec<_>>(), ["a/b.yaml", "c/d.yaml"]);
        let mut reader = packed.reader();
        assert_eq!(
            reader.read("a/b.yaml").unwrap().unwrap(),
            (b"b: 1".to_vec(), 0o640)
        );
        assert!(reader.read("a/.gomplateignore_template").is_none());
        assert!(out.path().join("templates/a").is_dir());
        assert!(!out.path().join("templates/a/b.yaml").exists());
        assert!(out
            .path()
            .join("templates/a/.gomplateignore_template")
            .is_file());
        // Folders of held files only are not created.
        assert!(out.path().join("templates").is_dir());
        assert!(!out.path().join("templates/empty").exists());
        assert!(!out.path().join("templates/c").exists());
        assert!(out.path().join("helpers/h.tpl").is_file());
    }

    #[test]
    fn refuses_escaping_and_absolute_entries() {
        for name in ["generator/../../evil.txt", "/etc/evil.txt", "../evil.txt"] {
            let (_d, zip) = zip_with(&[("generator/ok.txt", b"ok", None), (name, b"x", None)]);
            let out = TempDir::new().unwrap();
            let err = format!(
                "{:#}",
                extract_generator_zip(&zip, out.path(), ZipLimits::default()).unwrap_err()
            );
            assert!(err.contains(name), "{err}");
            assert!(
                !out.path().join("ok.txt").exists(),
                "nothing extracted before the check"
            );
        }
    }

    #[test]
    fn refuses_symlink_entries() {
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("g.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&path).unwrap());
        w.add_symlink(
            "generator/link",
            "/etc/passwd",
            SimpleFileOptions::default(),
        )
        .unwrap();
        w.finish().unwrap();
        let out = TempDir::new().unwrap();
        let err = format!(
            "{:#}",
            extract_generator_zip(&path, out.path(), ZipLimits::default()).unwrap_err()
        );
        assert!(
            err.contains("generator/link") && err.contains("symbolic link"),
            "{err}"
        );
    }

    #[test]
    fn enforces_entry_and_size_limits() {
        let (_d, zip) = zip_with(&[
            ("generator/a", b"1234", None),
            ("generator/b", b"5678", None),
        ]);
        let out = TempDir::new().unwrap();
        let err = extract_generator_zip(
            &zip,
            out.path(),
            ZipLimits {
                max_entries: 1,
                max_total_bytes: 100,
            },
        );
        assert!(format!("{:#}", err.unwrap_err()).contains("more than the limit of 1"));
        let err = extract_generator_zip(
            &zip,
            out.path(),
            ZipLimits {
                max_entries: 10,
                max_total_bytes: 6,
            },
        );
        assert!(format!("{:#}", err.unwrap_err()).contains("more than 6 bytes"));
        extract_generator_zip(
            &zip,
            out.path(),
            ZipLimits {
                max_entries: 10,
                max_total_bytes: 8,
            },
        )
        .unwrap();
    }

    #[test]
    fn missing_generator_folder_is_an_error() {
        let (_d, zip) = zip_with(&[("other/a", b"1", None)]);
        let out = TempDir::new().unwrap();
        let err = format!(
            "{:#}",
            extract_generator_zip(&zip, out.path(), ZipLimits::default()).unwrap_err()
        );
        assert!(
            err.contains("'generator' does not exist within the zip"),
            "{err}"
        );
    }
}
