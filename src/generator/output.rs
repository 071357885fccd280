//! The output folder of a render: the Go CLI's rules (created when missing; a
//! non-empty folder is only replaced when it holds the `.deploykf_output`
//! marker), made all-or-nothing: the render goes into a staging folder beside
//! the target, and only a successful render replaces the target's content.
//! Also owns the marker file itself (`RunInfo`).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::scratch;

/// The name prefix of staging folders (see [`scratch`] for the rest of the name).
const STAGING_PREFIX: &str = ".deploykf-output-";

/// The marker file that makes an output folder safe to clean.
pub const OUTPUT_MARKER: &str = ".deploykf_output";

/// An output folder being rendered: the target and its staging folder.
pub struct OutputDir {
    given: PathBuf,
    target: PathBuf,
    staging: TempDir,
}

impl OutputDir {
    /// Checks that `given` may be replaced and creates the staging folder
    /// beside it (creating missing parent folders). Nothing in the target changes.
    pub fn prepare(given: &Path) -> Result<OutputDir> {
        if given.as_os_str().is_empty() {
            bail!("the --output-dir must not be empty");
        }
        let target = absolute_clean(given)?;
        check_replaceable(&target, given)?;
        let parent = target.parent().with_context(|| {
            format!(
                "output directory '{}' has no parent folder",
                given.display()
            )
        })?;
        fs::create_dir_all(parent).with_context(|| {
            format!(
                "cannot create the parent folder of the output directory '{}'",
                given.display()
            )
        })?;
        // Staging left beside it by a killed run goes first.
        scratch::sweep(parent, STAGING_PREFIX);
        let staging = scratch::dir_in(parent, STAGING_PREFIX, "a staging folder")?;
        Ok(OutputDir {
            given: given.to_path_buf(),
            target,
            staging,
        })
    }

    /// The folder as the user gave it (what `runtime/output_dir` holds).
    pub fn given(&self) -> &Path {
        &self.given
    }

    /// The absolute, lexically cleaned target folder.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where the render writes; becomes the target's content on [`commit`](Self::commit).
    pub fn staging(&self) -> &Path {
        self.staging.path()
    }

    /// Replaces the target's content with the staging folder's content (a
    /// SIGTERM waits for it to finish).
    pub fn commit(self) -> Result<()> {
        scratch::publishing(|| self.publish())
    }

    fn publish(self) -> Result<()> {
        check_replaceable(&self.target, &self.given)?;
        let given = self.given.display().to_string();
        match fs::symlink_metadata(&self.target) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                set_dir_mode(self.staging.path(), 0o755)?;
                let staging = self.staging.keep();
                fs::rename(&staging, &self.target).with_context(|| {
                    let _ = fs::remove_dir_all(&staging);
                    format!("cannot move the rendered files into the output directory '{given}'")
                })?;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("cannot read the output directory '{given}'"))
            }
            Ok(_) => {
                for entry in read_entries(&self.target)? {
                    remove_path(&entry)
                        .with_context(|| format!("cannot clean '{}'", entry.display()))?;
                }
                for entry in read_entries(self.staging.path())? {
                    let dest = self
                        .target
                        .join(entry.file_name().expect("entry has a name"));
                    fs::rename(&entry, &dest).with_context(|| {
                        format!(
                            "cannot move '{}' into the output directory '{given}'",
                            dest.display()
                        )
                    })?;
                }
            }
        }
        Ok(())
    }
}

/// The Go CLI's `CleanOutputDirectory` check, without cleaning.
fn check_replaceable(target: &Path, given: &Path) -> Result<()> {
    let meta = match fs::metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the output directory '{}'", given.display()))
        }
    };
    if !meta.is_dir() {
        bail!("output directory '{}' is not a directory", given.display());
    }
    if read_entries(target)?.is_empty() {
        return Ok(());
    }
    if !target.join(OUTPUT_MARKER).is_file() {
        bail!(
            "output directory '{}' is not safe to clean: no '{OUTPUT_MARKER}' marker found",
            given.display()
        );
    }
    Ok(())
}

fn read_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list '{}'", dir.display()))? {
        out.push(
            entry
                .with_context(|| format!("cannot list '{}'", dir.display()))?
                .path(),
        );
    }
    Ok(out)
}

fn remove_path(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

#[cfg(unix)]
fn set_dir_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of '{}'", path.display()))
}

#[cfg(not(unix))]
fn set_dir_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved lexically (like Go's `filepath.Abs`).
pub fn absolute_clean(path: &Path) -> Result<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("cannot read the working directory")?
            .join(path)
    };
    Ok(lexical_clean(&joined))
}

/// Resolves `.` and `..` components without touching the file system.
pub fn lexical_clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What `.deploykf_output` records about a render (Go's `RunInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunInfo {
    /// RFC 3339 UTC time of the run, in seconds.
    pub generated_at: String,
    /// `--source-version`, when used.
    pub source_version: Option<String>,
    /// The resolved path of the source zip or folder.
    pub source_path: String,
    /// sha256 of the source (see `source::hash_path`).
    pub source_hash: String,
    /// `v` + this binary's version.
    pub cli_version: String,
}

impl RunInfo {
    /// A run happening now with this binary.
    pub fn now(
        source_version: Option<String>,
        source_path: String,
        source_hash: String,
    ) -> RunInfo {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        RunInfo {
            generated_at: rfc3339_utc(secs),
            source_version: source_version.filter(|v| !v.is_empty()),
            source_path,
            source_hash,
            cli_version: concat!("v", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }

    /// The marker's text as Go's `json.MarshalIndent(info, "", "  ")` writes it:
    /// 2-space indent, no trailing newline, Go's string escaping; empty
    /// `source_version`, `source_path` and `source_hash` are omitted.
    pub fn to_json(&self) -> String {
        let mut fields = vec![("generated_at", self.generated_at.as_str())];
        if let Some(v) = self.source_version.as_deref().filter(|v| !v.is_empty()) {
            fields.push(("source_version", v));
        }
        if !self.source_path.is_empty() {
            fields.push(("source_path", &self.source_path));
        }
        if !self.source_hash.is_empty() {
            fields.push(("source_hash", &self.source_hash));
        }
        fields.push(("cli_version", &self.cli_version));
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  {}: {}", go_json_string(k), go_json_string(v)))
            .collect();
        format!("{{\n{}\n}}", body.join(",\n"))
    }

    /// Writes the marker into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(OUTPUT_MARKER);
        fs::write(&path, self.to_json())
            .with_context(|| format!("cannot write '{}'", path.display()))
    }
}

/// A JSON string literal as Go 1.20's `encoding/json` writes it (HTML-safe escapes).
pub fn go_json_string(s: &str) -> String {
    gomplate::json::quote(s, gomplate::json::Escapes::EncodingJson)
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (Go's `time.RFC3339` in UTC).
pub fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        // The generated_at of the deployKF examples 0.1.0 golden marker.
        assert_eq!(rfc3339_utc(1_688_963_071), "2023-07-10T04:24:31Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn marker_json_matches_go_marshal_indent() {
        let info = RunInfo {
            generated_at: "2023-07-10T04:24:31Z".into(),
            source_version: Some("0.1.0".into()),
            source_path: "/Users/mathew/.deploykf/assets/deploykf-0.1.0-generator.zip".into(),
            source_hash: "2497b3b96e9cc533cba017fb1c6b6b5a8218f08ecaa8e308c18ca201747ad4f6".into(),
            cli_version: "v0.1.0".into(),
        };
        // Byte for byte the marker of the golden case examples-0.1.0.
        let expected = "{\n  \"generated_at\": \"2023-07-10T04:24:31Z\",\n  \"source_version\": \"0.1.0\",\n  \
            \"source_path\": \"/Users/mathew/.deploykf/assets/deploykf-0.1.0-generator.zip\",\n  \
            \"source_hash\": \"2497b3b96e9cc533cba017fb1c6b6b5a8218f08ecaa8e308c18ca201747ad4f6\",\n  \
            \"cli_version\": \"v0.1.0\"\n}";
        assert_eq!(info.to_json(), expected);
        let no_version = RunInfo {
            source_version: None,
            ..info
        };
        assert!(!no_version.to_json().contains("source_version"));
    }

    #[test]
    fn escapes_strings_like_go() {
        assert_eq!(
            go_json_string("a<b>&\"\\\n\u{1}"),
            r#""a\u003cb\u003e\u0026\"\\\n\u0001""#
        );
        assert_eq!(
            go_json_string("\u{8}\u{c}\u{2028}"),
            r#""\u0008\u000c\u2028""#
        );
    }

    #[test]
    fn refuses_a_non_empty_folder_without_marker_and_keeps_it() {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("mine.txt"), "keep me").unwrap();
        let err = OutputDir::prepare(&out).err().expect("refused");
        assert!(
            err.to_string()
                .contains("is not safe to clean: no '.deploykf_output' marker found"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(out.join("mine.txt")).unwrap(), "keep me");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no staging folder left behind"
        );
    }

    #[test]
    fn replaces_a_marked_folder_only_on_commit() {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        fs::write(out.join(OUTPUT_MARKER), "{}").unwrap();
        fs::write(out.join("old.yaml"), "old").unwrap();
        let output = OutputDir::prepare(&out).unwrap();
        fs::write(output.staging().join("new.yaml"), "new").unwrap();
        assert!(out.join("old.yaml").exists(), "untouched before commit");
        output.commit().unwrap();
        assert!(!out.join("old.yaml").exists());
        assert!(!out.join(OUTPUT_MARKER).exists(), "the old marker goes too");
        assert_eq!(fs::read_to_string(out.join("new.yaml")).unwrap(), "new");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "staging folder removed"
        );
    }

    #[test]
    fn creates_a_missing_folder_and_drops_staging_on_failure() {
        let dir = TempDir::new().unwrap();
        let out = dir.path().join("a/b/out");
        let output = OutputDir::prepare(&out).unwrap();
        fs::write(output.staging().join("x"), "x").unwrap();
        output.commit().unwrap();
        assert_eq!(fs::read_to_string(out.join("x")).unwrap(), "x");

        let other = dir.path().join("other");
        let output = OutputDir::prepare(&other).unwrap();
        drop(output);
        assert!(!other.exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only 'a' remains"
        );
    }

    #[test]
    fn cleans_paths_lexically() {
        assert_eq!(
            lexical_clean(Path::new("/a/./b/../c")),
            PathBuf::from("/a/c")
        );
    }
}
