//! The generator source: where a deployKF generator comes from (a folder, a
//! `.zip`, or a release version cached under `~/.deploykf/assets`, in plugin
//! mode under the cache folder, fetched by [`super::release`]), its
//! extraction or copy into a private temporary folder ([`super::archive`],
//! [`crate::folder::copy`]), its
//! verification (`.deploykf_generator` marker, `templates/`, `helpers/`,
//! `default_values.yaml`) and its hash, as the Go CLI's `internal/generate`
//! package does (`UnzipFile`, `CopyFolder`, `VerifyGeneratorSource`, `HashPath`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use registry::digest::Hasher;
use tempfile::TempDir;

use crate::generator::archive::{extract_generator_zip_packed, PackedFiles, ZipLimits};
use crate::generator::release::{artifact_name, download, normalize_version, release_asset_url};

/// The marker file every generator has at its root.
pub const GENERATOR_MARKER: &str = ".deploykf_generator";
/// The only generator schema this CLI understands.
pub const SUPPORTED_SCHEMA: &str = "v1";

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
            crate::folder::copy(&resolved, dir.path())
                .with_context(|| format!("cannot copy the --source-path '{}'", path.display()))?;
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
    // Go's `filepath.Walk` order (names sorted per folder, depth first), which
    // decides between paths equal in lower case; entries that are not folders
    // count as files (symbolic links are not descended).
    for entry in walkdir::WalkDir::new(path).min_depth(1).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list '{}'", path.display()))?;
        let name = entry.file_name().to_string_lossy();
        if !entry.file_type().is_dir() && !ignore_names.contains(&name.as_ref()) {
            files.push(crate::folder::slash_path(path, entry.path()));
        }
    }
    files.sort_by_cached_key(|f| f.to_lowercase());
    let mut hasher = Hasher::new();
    for rel in &files {
        let file_hash = hash_file(&path.join(rel))?;
        hasher.update(rel.as_bytes());
        hasher.update(file_hash.as_bytes());
    }
    Ok(hasher.hex())
}

fn hash_file(path: &Path) -> Result<String> {
    let mut file =
        fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut hasher = Hasher::new();
    io::copy(&mut file, &mut hasher)
        .with_context(|| format!("cannot read '{}'", path.display()))?;
    Ok(hasher.hex())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::archive::tests::zip_with;

    use registry::digest::sha256_hex as sha_hex;

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
        let mut expected = Hasher::new();
        for (rel, content) in [("a.txt", "A"), ("a/c.txt", "C"), ("B.txt", "B")] {
            expected.update(rel.as_bytes());
            expected.update(sha_hex(content.as_bytes()).as_bytes());
        }
        assert_eq!(
            hash_path(root, &[".gomplateignore"]).unwrap(),
            expected.hex()
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
