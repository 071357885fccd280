//! The application's copy of its git repository, as the cmp-server lays it out:
//! the working directory is `<repository>/<application path>`, and Argo CD
//! names no variable for the repository's root, so it is the working directory
//! minus `ARGOCD_APP_SOURCE_PATH`. Files named by parameters (values files,
//! the generator source) must resolve, after symbolic links, inside that root.

use std::io;
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

/// The repository copy an application renders from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// The repository root (canonical).
    root: PathBuf,
    /// The application's folder, the working directory (canonical).
    app_dir: PathBuf,
}

/// What a file stands for, for messages ("values file", ...).
#[derive(Clone, Copy, Debug)]
pub struct FileRole<'a> {
    /// The parameter that named it (`values_files`).
    pub parameter: &'a str,
    /// What it is (`values file`).
    pub what: &'a str,
}

impl Repository {
    /// The repository holding `app_dir`, whose path in the repository is
    /// `app_path` (`ARGOCD_APP_SOURCE_PATH`; unset or empty means the root).
    pub fn locate(app_dir: &Path, app_path: Option<&str>) -> Result<Repository> {
        let app_dir = app_dir
            .canonicalize()
            .with_context(|| format!("cannot read the working directory '{}'", app_dir.display()))?;
        let mut names = Vec::new();
        for component in Path::new(app_path.unwrap_or("")).components() {
            match component {
                Component::CurDir => {}
                Component::Normal(name) => names.push(name.to_owned()),
                Component::ParentDir if names.pop().is_some() => {}
                _ => bail!(
                    "ARGOCD_APP_SOURCE_PATH '{}' is not a path inside the repository: set the Application's \
                     spec.source.path to a relative folder of the repository",
                    app_path.unwrap_or_default()
                ),
            }
        }
        let mut root = app_dir.clone();
        for name in names.iter().rev() {
            if root.file_name() != Some(name.as_os_str()) || !root.pop() {
                bail!(
                    "cannot find the repository root: the working directory '{}' does not end with the \
                     application path '{}' (ARGOCD_APP_SOURCE_PATH)",
                    app_dir.display(),
                    app_path.unwrap_or_default()
                );
            }
        }
        Ok(Repository { root, app_dir })
    }

    /// `rel` (relative to the application's folder, as the upstream plugin
    /// reads it) resolved through symbolic links; it must exist and be inside
    /// the repository.
    pub fn resolve(&self, rel: &str, role: FileRole<'_>) -> Result<PathBuf> {
        self.resolve_below(&self.app_dir, rel, role, "the Application's spec.source.path in the repository")
    }

    /// A path of the mirror configuration (`mirror.images.lock`): relative to
    /// the repository root and inside it, or absolute (a file of the sidecar,
    /// used as it is).
    pub fn resolve_from_root(&self, path: &str, role: FileRole<'_>) -> Result<PathBuf> {
        if Path::new(path).is_absolute() {
            return Ok(PathBuf::from(path));
        }
        self.resolve_below(&self.root, path, role, "the repository root")
    }

    fn resolve_below(&self, base: &Path, rel: &str, role: FileRole<'_>, base_name: &str) -> Result<PathBuf> {
        let joined = base.join(rel);
        let resolved = joined.canonicalize().map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                anyhow!(
                    "the {} '{rel}' given in '{}' does not exist (looked for '{}'): the path is relative to {base_name}",
                    role.what,
                    role.parameter,
                    joined.display()
                )
            } else {
                anyhow!("cannot read the {} '{rel}' given in '{}': {e}", role.what, role.parameter)
            }
        })?;
        if !resolved.starts_with(&self.root) {
            bail!(
                "the {} '{rel}' given in '{}' resolves to '{}', outside the repository '{}': only files of the \
                 Application's repository can be used",
                role.what,
                role.parameter,
                resolved.display(),
                self.root.display()
            );
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const VALUES: FileRole<'static> = FileRole { parameter: "values_files", what: "values file" };

    fn repo() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path().canonicalize().unwrap().join("repo");
        fs::create_dir_all(root.join("apps/deploykf")).unwrap();
        fs::write(root.join("apps/deploykf/values.yaml"), "a: 1\n").unwrap();
        fs::write(root.join("common.yaml"), "b: 2\n").unwrap();
        fs::write(dir.path().join("outside.yaml"), "c: 3\n").unwrap();
        (dir, root)
    }

    #[test]
    fn the_root_is_the_working_directory_minus_the_app_path() {
        let (_dir, root) = repo();
        let app = root.join("apps/deploykf");
        for path in ["apps/deploykf", "./apps/deploykf/", "apps/x/../deploykf"] {
            let r = Repository::locate(&app, Some(path)).unwrap();
            assert_eq!(r.root, root, "{path}");
            assert_eq!(r.app_dir, app);
        }
        assert_eq!(Repository::locate(&root, Some(".")).unwrap().root, root);
        assert_eq!(Repository::locate(&root, None).unwrap().root, root);
        let err = Repository::locate(&app, Some("other/deploykf")).unwrap_err().to_string();
        assert!(err.contains("does not end with the application path 'other/deploykf'"), "{err}");
        assert!(Repository::locate(&app, Some("../x")).is_err());
        assert!(Repository::locate(&app, Some("/abs")).is_err());
    }

    #[test]
    fn files_resolve_inside_the_repository_only() {
        let (dir, root) = repo();
        let r = Repository::locate(&root.join("apps/deploykf"), Some("apps/deploykf")).unwrap();
        assert_eq!(r.resolve("values.yaml", VALUES).unwrap(), root.join("apps/deploykf/values.yaml"));
        assert_eq!(r.resolve("../../common.yaml", VALUES).unwrap(), root.join("common.yaml"));
        let err = r.resolve("../../../outside.yaml", VALUES).unwrap_err().to_string();
        assert!(err.contains("outside the repository"), "{err}");
        let lock = FileRole { parameter: "mirror.images.lock", what: "lock file" };
        assert_eq!(r.resolve_from_root("common.yaml", lock).unwrap(), root.join("common.yaml"));
        assert_eq!(r.resolve_from_root("/etc/site.lock", lock).unwrap(), PathBuf::from("/etc/site.lock"));
        let err = r.resolve_from_root("../outside.yaml", lock).unwrap_err().to_string();
        assert!(err.contains("outside the repository"), "{err}");
        let err = r.resolve_from_root("none.lock", lock).unwrap_err().to_string();
        assert!(err.ends_with("the path is relative to the repository root"), "{err}");
        let err = r.resolve("missing.yaml", VALUES).unwrap_err().to_string();
        assert!(err.starts_with("the values file 'missing.yaml' given in 'values_files' does not exist"), "{err}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("outside.yaml"), root.join("apps/deploykf/link.yaml")).unwrap();
            let err = r.resolve("link.yaml", VALUES).unwrap_err().to_string();
            assert!(err.contains("resolves to") && err.contains("outside the repository"), "{err}");
        }
    }
}
