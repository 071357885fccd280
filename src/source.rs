//! The generator source: where a deployKF generator comes from (a folder, a
//! `.zip`, or a release version cached under `~/.deploykf/assets`, in plugin
//! mode under the cache folder), its
//! hostile-input-safe extraction into a private temporary folder, its
//! verification (`.deploykf_generator` marker, `templates/`, `helpers/`,
//! `default_values.yaml`) and its hash, as the Go CLI's `internal/generate`
//! package does (`UnzipFile`, `CopyFolder`, `VerifyGeneratorSource`, `HashPath`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::gomplateignore;

/// The marker file every generator has at its root.
pub const GENERATOR_MARKER: &str = ".deploykf_generator";
/// The only generator schema this CLI understands.
pub const SUPPORTED_SCHEMA: &str = "v1";
/// The top-level folder of a generator zip that holds the generator.
pub const ZIP_GENERATOR_FOLDER: &str = "generator";
/// The GitHub repository whose releases carry the generator zips.
pub const RELEASE_REPO: &str = "deployKF/deployKF";

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

/// A generator unpacked into a private temporary folder (removed on drop).
/// From a zip, the template files of `templates/` stay in memory
/// ([`GeneratorSource::packed_templates`]): only their folders and the ignore
/// files are written, which halves the files a render creates.
pub struct GeneratorSource {
    dir: TempDir,
    packed: PackedFiles,
    artifact_path: PathBuf,
    version: Option<String>,
    hash: String,
}

impl GeneratorSource {
    /// `--source-path`: a folder (copied) or a `.zip` file (its `generator/` folder
    /// extracted). `path` is reported in messages as the user gave it.
    pub fn from_path(path: &Path) -> Result<GeneratorSource> {
        let resolved = eval_symlinks(path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                anyhow!(
                    "the provided --source-path '{}' does not exist",
                    path.display()
                )
            } else {
                anyhow!(
                    "the provided --source-path '{}' cannot be read: {e}",
                    path.display()
                )
            }
        })?;
        let meta = fs::metadata(&resolved)
            .with_context(|| format!("cannot read the --source-path '{}'", path.display()))?;
        let dir = new_temp_dir()?;
        let mut packed = PackedFiles::default();
        if meta.is_file() && resolved.to_string_lossy().ends_with(".zip") {
            eprintln!("Using custom source file: {}", path.display());
            packed = extract_generator_zip_packed(&resolved, dir.path(), ZipLimits::default())?;
        } else if meta.is_dir() {
            eprintln!("Using custom source folder: {}", path.display());
            copy_folder(&resolved, dir.path())?;
        } else {
            bail!(
                "the provided --source-path '{}' must be a folder or a .zip file",
                path.display()
            );
        }
        let hash = hash_path(&resolved, &[".gomplateignore"]).with_context(|| {
            format!("cannot hash the generator source '{}'", resolved.display())
        })?;
        let source = GeneratorSource {
            dir,
            packed,
            artifact_path: resolved,
            version: None,
            hash,
        };
        source.verify()?;
        Ok(source)
    }

    /// `--source-version`: the release zip `deploykf-<V>-generator.zip` from the
    /// assets cache, downloaded ([`release_asset_url`]) when it is not cached yet. A leading
    /// `v` is accepted and dropped (`v0.1.5` and `0.1.5` are the same version).
    /// `releases_url` is the mirror of the release downloads, if any.
    pub fn from_version(version: &str, cache_dir: &Path, releases_url: Option<&str>) -> Result<GeneratorSource> {
        let version = normalize_version(version)?;
        fs::create_dir_all(cache_dir)
            .with_context(|| format!("cannot create the assets cache '{}'", cache_dir.display()))?;
        let name = artifact_name(&version);
        let artifact = cache_dir.join(&name);
        if !artifact.is_file() {
            let url = release_asset_url(&version, releases_url);
            eprintln!("Downloading deployKF generator source version '{version}' from {url}");
            download(&url, &artifact).map_err(|e| {
                anyhow!(
                    "could not download the deployKF generator source version '{version}' from {url}: {e:#}\n\
                     To work offline, put the release zip at '{}', or use --source-path with a local zip or folder",
                    artifact.display()
                )
            })?;
        }
        eprintln!(
            "Using cached deployKF generator source: {}",
            artifact.display()
        );
        let dir = new_temp_dir()?;
        let packed = extract_generator_zip_packed(&artifact, dir.path(), ZipLimits::default())?;
        let hash = hash_path(&artifact, &[]).with_context(|| {
            format!("cannot hash the generator source '{}'", artifact.display())
        })?;
        let source = GeneratorSource {
            dir,
            packed,
            artifact_path: artifact,
            version: Some(version),
            hash,
        };
        source.verify()?;
        Ok(source)
    }

    /// The unpacked generator's root (holds `templates/`, `helpers/`, ...).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `templates/`: what is rendered into the output folder.
    pub fn templates_dir(&self) -> PathBuf {
        self.root().join("templates")
    }

    /// The files of `templates/` kept in memory instead of the folder.
    pub fn packed_templates(&self) -> &PackedFiles {
        &self.packed
    }

    /// `helpers/`: nested templates available to every template as `helpers/<file>`.
    pub fn helpers_dir(&self) -> PathBuf {
        self.root().join("helpers")
    }

    /// `runtime/`: nested templates written at render time (`runtime/<file>`).
    pub fn runtime_dir(&self) -> PathBuf {
        self.root().join("runtime")
    }

    /// `default_values.yaml`: the lowest layer of the values.
    pub fn default_values_path(&self) -> PathBuf {
        self.root().join("default_values.yaml")
    }

    /// The `--source-version` used, if any (without a leading `v`).
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The resolved path of the zip or folder the generator came from.
    pub fn artifact_path(&self) -> &Path {
        &self.artifact_path
    }

    /// The sha256 of the artifact (see [`hash_path`]).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Checks the layout like the Go CLI's `VerifyGeneratorSource`.
    fn verify(&self) -> Result<()> {
        verify_layout(self.root())
    }
}

/// Checks that `root` is a generator this CLI supports, with the Go CLI's messages.
pub fn verify_layout(root: &Path) -> Result<()> {
    let marker = root.join(GENERATOR_MARKER);
    if !marker.is_file() {
        bail!("invalid generator source: marker file is missing");
    }
    let schema = read_generator_schema(&marker)?;
    if schema != SUPPORTED_SCHEMA {
        bail!("invalid generator source: unsupported schema version '{schema}'");
    }
    if !root.join("templates").is_dir() {
        bail!("invalid generator source: templates directory is missing");
    }
    if !root.join("helpers").is_dir() {
        bail!("invalid generator source: helpers directory is missing");
    }
    if !root.join("default_values.yaml").is_file() {
        bail!("invalid generator source: default values file is missing");
    }
    Ok(())
}

/// Reads `generator_schema` from the marker JSON. Like Go's `json.Unmarshal`
/// into a struct, the key matches case-insensitively when no exact key exists.
fn read_generator_schema(marker: &Path) -> Result<String> {
    let bytes =
        fs::read(marker).map_err(|e| anyhow!("failed to read generator marker file: {e}"))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow!("failed to parse generator marker file: {e}"))?;
    let field = match &json {
        serde_json::Value::Object(map) => map.get("generator_schema").or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("generator_schema"))
                .map(|(_, v)| v)
        }),
        serde_json::Value::Null => None,
        _ => bail!("failed to parse generator marker file: the marker is not a JSON object"),
    };
    match field {
        None | Some(serde_json::Value::Null) => bail!("generator marker file is missing 'generator_schema' field"),
        Some(serde_json::Value::String(s)) if s.is_empty() => {
            bail!("generator marker file is missing 'generator_schema' field")
        }
        Some(serde_json::Value::String(s)) => Ok(s.clone()),
        Some(other) => bail!("failed to parse generator marker file: 'generator_schema' must be a string, found {other}"),
    }
}

/// `v0.1.5` → `0.1.5`; refuses versions that could escape the cache folder.
pub fn normalize_version(version: &str) -> Result<String> {
    let v = version.strip_prefix('v').unwrap_or(version);
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        || v.contains("..")
    {
        bail!("invalid --source-version '{version}': expected a release version like '0.1.5'");
    }
    Ok(v.to_string())
}

/// The release asset's file name for a version (`deploykf-0.1.5-generator.zip`).
pub fn artifact_name(version: &str) -> String {
    format!("deploykf-{version}-generator.zip")
}

/// Where a release's generator zip is downloaded from:
/// `<base>/v<version>/deploykf-<version>-generator.zip`, with `base` from
/// `releases_url` (a mirror, see [`crate::settings::RELEASES_URL_ENV`]), else
/// GitHub's release downloads.
pub fn release_asset_url(version: &str, releases_url: Option<&str>) -> String {
    let base = releases_url.map_or_else(|| format!("https://github.com/{RELEASE_REPO}/releases/download"), str::to_string);
    format!("{base}/v{version}/{}", artifact_name(version))
}

/// The name prefix of a download in progress (see [`crate::scratch`]).
const DOWNLOAD_PREFIX: &str = ".download-";

/// Downloads `url` into a temporary file beside `dest`, then renames it into place.
fn download(url: &str, dest: &Path) -> Result<()> {
    let limits = ZipLimits::default();
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .timeout(std::time::Duration::from_secs(300))
        .user_agent(concat!("deploykf-cmp/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot create an HTTP client")?;
    let response = client.get(url).send()?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    crate::scratch::sweep(dir, DOWNLOAD_PREFIX);
    let mut tmp = crate::scratch::file_in(dir, DOWNLOAD_PREFIX, "a temporary file for the download")?;
    let copied = io::copy(&mut response.take(limits.max_total_bytes + 1), &mut tmp)?;
    if copied > limits.max_total_bytes {
        bail!(
            "the download is larger than {} bytes",
            limits.max_total_bytes
        );
    }
    tmp.flush()?;
    tmp.persist(dest)
        .with_context(|| format!("cannot save '{}'", dest.display()))?;
    Ok(())
}

fn new_temp_dir() -> Result<TempDir> {
    crate::scratch::temp_dir("deploykf-generator-source-", "a temporary folder for the generator source")
}

/// Go's `filepath.EvalSymlinks`: the path with symlinks resolved, kept relative
/// when it was relative and still lies under the working directory.
fn eval_symlinks(path: &Path) -> io::Result<PathBuf> {
    let canonical = fs::canonicalize(path)?;
    if path.is_relative() {
        if let Ok(cwd) = std::env::current_dir().and_then(fs::canonicalize) {
            if let Ok(rel) = canonical.strip_prefix(&cwd) {
                if rel.as_os_str().is_empty() {
                    return Ok(PathBuf::from("."));
                }
                return Ok(rel.to_path_buf());
            }
        }
    }
    Ok(canonical)
}

const S_IFMT: u32 = 0o170000;
const S_IFLNK: u32 = 0o120000;

/// Extracts the entries under the zip's top-level `generator/` folder into
/// `target` (like Go's `UnzipFile(path, target, "generator")`), refusing hostile
/// archives: names with `..` or absolute names, symlink entries, more entries or
/// more extracted bytes than `limits` allow. On error the caller discards `target`.
#[allow(dead_code)] // sources use `extract_generator_zip_packed`; kept for full extraction
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
    if name.starts_with(gomplateignore::IGNORE_FILE) {
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

#[cfg(unix)]
fn create_file(path: &Path, mode: u32) -> Result<fs::File> {
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
fn create_file(path: &Path, _mode: u32) -> Result<fs::File> {
    fs::File::create(path).with_context(|| format!("cannot create '{}'", path.display()))
}

/// Copies a generator folder (Go's `CopyFolder`). Symbolic links are followed
/// only when they resolve to a file inside `src`; others are refused.
pub fn copy_folder(src: &Path, dest: &Path) -> Result<()> {
    let root = fs::canonicalize(src).with_context(|| format!("cannot read '{}'", src.display()))?;
    copy_dir_contents(&root, &root, dest)
}

fn copy_dir_contents(root: &Path, dir: &Path, dest: &Path) -> Result<()> {
    fs::create_dir_all(dest).with_context(|| format!("cannot create '{}'", dest.display()))?;
    for entry in sorted_entries(dir)? {
        let path = entry.path();
        let target = dest.join(entry.file_name());
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot read '{}'", path.display()))?;
        if file_type.is_dir() {
            copy_dir_contents(root, &path, &target)?;
        } else if file_type.is_symlink() {
            let resolved = fs::canonicalize(&path).with_context(|| {
                format!(
                    "the symbolic link '{}' in the generator source is broken",
                    path.display()
                )
            })?;
            if !resolved.starts_with(root) || !resolved.is_file() {
                bail!(
                    "the symbolic link '{}' in the generator source must point to a file inside the source folder",
                    path.display()
                );
            }
            copy_file(&resolved, &target)?;
        } else {
            copy_file(&path, &target)?;
        }
    }
    Ok(())
}

fn copy_file(src: &Path, dest: &Path) -> Result<()> {
    let mode = file_mode(src);
    let mut input =
        fs::File::open(src).with_context(|| format!("cannot read '{}'", src.display()))?;
    let mut out = create_file(dest, mode)?;
    io::copy(&mut input, &mut out).with_context(|| format!("cannot copy '{}'", src.display()))?;
    Ok(())
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o644)
}

#[cfg(not(unix))]
fn file_mode(_path: &Path) -> u32 {
    0o644
}

fn sorted_entries(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("cannot list '{}'", dir.display()))?
        .collect::<io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list '{}'", dir.display()))?;
    entries.sort_by_key(|e| e.file_name());
    Ok(entries)
}

/// The source hash recorded in `.deploykf_output` (Go's `HashPath`): the sha256
/// of a file, or for a folder the sha256 over `relpath + hex(sha256(file))` of
/// every file (`/`-separated paths relative to the folder, sorted by their
/// lower-case form, stable over walk order), skipping files named in `ignore_names`.
pub fn hash_path(path: &Path, ignore_names: &[&str]) -> Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    if !meta.is_dir() {
        return hash_file(path);
    }
    let mut files = Vec::new();
    walk_files(path, "", ignore_names, &mut files)?;
    files.sort_by_cached_key(|f| f.to_lowercase());
    let mut hasher = Sha256::new();
    for rel in &files {
        let file_hash = hash_file(&path.join(rel))?;
        hasher.update(rel.as_bytes());
        hasher.update(file_hash.as_bytes());
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Go's `filepath.Walk` order (names sorted per folder, depth first); entries
/// that are not folders count as files (symbolic links are not descended).
fn walk_files(
    dir: &Path,
    prefix: &str,
    ignore_names: &[&str],
    out: &mut Vec<String>,
) -> Result<()> {
    for entry in sorted_entries(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot read '{}'", entry.path().display()))?;
        if file_type.is_dir() {
            walk_files(&entry.path(), &rel, ignore_names, out)?;
        } else if !ignore_names.contains(&name.as_str()) {
            out.push(rel);
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> Result<String> {
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    Ok(to_hex(&hasher.finalize()))
}

/// Lower-case hex, like Go's `hex.EncodeToString`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use zip::write::SimpleFileOptions;

    fn sha_hex(data: &[u8]) -> String {
        to_hex(&Sha256::digest(data))
    }

    #[test]
    fn hashes_a_file_as_sha256_of_its_bytes() {
        let dir = TempDir::new().unwrap();
        let p = dir.path().join("x.zip");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(
            hash_path(&p, &[]).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hashes_a_folder_like_hash_directory() {
        let dir = TempDir::new().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a")).unwrap();
        fs::create_dir_all(root.join("templates")).unwrap();
        fs::write(root.join("a/c.txt"), "C").unwrap();
        fs::write(root.join("a.txt"), "A").unwrap();
        fs::write(root.join("B.txt"), "B").unwrap();
        fs::write(root.join("templates/.gomplateignore"), "ignored").unwrap();
        // Walk order: B.txt, a/c.txt, a.txt ("B" < "a" bytewise, "a" < "a.txt").
        // Sorted by lower case: "a.txt" < "a/c.txt" ('.' < '/'), then "b.txt".
        // `.gomplateignore` files are skipped.
        let mut expected = Sha256::new();
        for (rel, content) in [("a.txt", "A"), ("a/c.txt", "C"), ("B.txt", "B")] {
            expected.update(rel.as_bytes());
            expected.update(sha_hex(content.as_bytes()).as_bytes());
        }
        assert_eq!(
            hash_path(root, &[".gomplateignore"]).unwrap(),
            to_hex(&expected.finalize())
        );
    }

    fn zip_with(entries: &[(&str, &[u8], Option<u32>)]) -> (TempDir, PathBuf) {
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

    fn layout(marker: &str) -> TempDir {
        let dir = TempDir::new().unwrap();
        fs::write(dir.path().join(GENERATOR_MARKER), marker).unwrap();
        fs::create_dir(dir.path().join("templates")).unwrap();
        fs::create_dir(dir.path().join("helpers")).unwrap();
        fs::write(dir.path().join("default_values.yaml"), "").unwrap();
        dir
    }

    #[test]
    fn verifies_the_layout_with_the_go_messages() {
        verify_layout(layout(r#"{"generator_schema": "v1"}"#).path()).unwrap();
        let err = |d: &TempDir| verify_layout(d.path()).unwrap_err().to_string();
        assert_eq!(
            err(&layout(r#"{"generator_schema": "v2"}"#)),
            "invalid generator source: unsupported schema version 'v2'"
        );
        assert_eq!(
            err(&layout("{}")),
            "generator marker file is missing 'generator_schema' field"
        );
        assert!(err(&layout("{")).starts_with("failed to parse generator marker file:"));
        let d = layout(r#"{"generator_schema": "v1"}"#);
        fs::remove_dir(d.path().join("helpers")).unwrap();
        assert_eq!(
            err(&d),
            "invalid generator source: helpers directory is missing"
        );
        fs::remove_dir(d.path().join("templates")).unwrap();
        assert_eq!(
            err(&d),
            "invalid generator source: templates directory is missing"
        );
        fs::remove_file(d.path().join(GENERATOR_MARKER)).unwrap();
        assert_eq!(err(&d), "invalid generator source: marker file is missing");
        let d = layout(r#"{"generator_schema": "v1"}"#);
        fs::remove_file(d.path().join("default_values.yaml")).unwrap();
        assert_eq!(
            err(&d),
            "invalid generator source: default values file is missing"
        );
    }

    #[test]
    fn versions_name_the_release_asset() {
        assert_eq!(normalize_version("v0.1.5").unwrap(), "0.1.5");
        assert_eq!(normalize_version("0.1.5").unwrap(), "0.1.5");
        assert!(normalize_version("../x").is_err());
        assert_eq!(
            release_asset_url("0.1.5", None),
            "https://github.com/deployKF/deployKF/releases/download/v0.1.5/deploykf-0.1.5-generator.zip"
        );
    }

    #[test]
    fn cached_version_is_used_without_network() {
        let (_d, zip) = zip_with(&[
            (
                "generator/.deploykf_generator",
                br#"{"generator_schema": "v1"}"#,
                None,
            ),
            ("generator/templates/", b"", None),
            ("generator/helpers/", b"", None),
            ("generator/default_values.yaml", b"a: 1\n", None),
        ]);
        let cache = TempDir::new().unwrap();
        fs::copy(&zip, cache.path().join("deploykf-9.9.9-generator.zip")).unwrap();
        let source = GeneratorSource::from_version("v9.9.9", cache.path(), None).unwrap();
        assert_eq!(source.version(), Some("9.9.9"));
        assert_eq!(source.hash(), sha_hex(&fs::read(&zip).unwrap()));
        assert!(source.default_values_path().is_file());
    }
}
