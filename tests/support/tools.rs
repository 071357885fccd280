//! Finds the external programs the integration tests drive (helm, kubectl,
//! docker-registry, htpasswd, skopeo, openssl, GNU time): the project tools folder
//! `.tools/bin` first (filled by `scripts/install-test-tools`), then `PATH`.
//!
//! A missing tool fails the test under CI (`CI=true`), so a broken install is
//! noticed; elsewhere the test is skipped with a message naming the script.

use std::env;
use std::path::{Path, PathBuf};

/// The script that installs every tool the tests look for.
pub const INSTALL_SCRIPT: &str = "scripts/install-test-tools";

/// An external program the tests may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Helm,
    Kubectl,
    DockerRegistry,
    Htpasswd,
    Skopeo,
    Openssl,
    /// GNU time (`/usr/bin/time`), for peak memory (`-f %M`).
    Time,
}

impl Tool {
    /// The executable's file name.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Helm => "helm",
            Tool::Kubectl => "kubectl",
            Tool::DockerRegistry => "docker-registry",
            Tool::Htpasswd => "htpasswd",
            Tool::Skopeo => "skopeo",
            Tool::Openssl => "openssl",
            Tool::Time => "time",
        }
    }
}

/// The project tools folder (`<repo>/.tools/bin`).
pub fn project_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin")
}

/// Where `tool` is: the project tools folder first, then `PATH`; `None` when absent.
pub fn locate(tool: Tool) -> Option<PathBuf> {
    let dirs = std::iter::once(project_bin())
        .chain(env::var_os("PATH").map(|p| env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    dirs.map(|d| d.join(tool.program())).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// True when running under CI (`CI` set to anything but empty, `0` or `false`).
pub fn in_ci() -> bool {
    env::var("CI").map(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false")).unwrap_or(false)
}

/// Paths of all `tools`, in order, or `None` after printing which are missing
/// (the caller returns early: the test is skipped). Panics instead under CI.
pub fn require(tools: &[Tool]) -> Option<Vec<PathBuf>> {
    let found: Vec<Option<PathBuf>> = tools.iter().map(|t| locate(*t)).collect();
    let missing: Vec<&str> =
        tools.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(t, _)| t.program()).collect();
    if missing.is_empty() {
        return Some(found.into_iter().flatten().collect());
    }
    unavailable(&format!(
        "missing test tool(s): {} (looked in {} and PATH); run `bash {INSTALL_SCRIPT}`",
        missing.join(", "),
        project_bin().display()
    ))
}

/// Reports that something a test needs is not set up: panics under CI, else
/// prints `SKIPPED: message` and returns `None` (the caller returns early).
pub fn unavailable<T>(message: &str) -> Option<T> {
    if in_ci() {
        panic!("{message}");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// Path of one tool, or `None` (skip) / panic (CI) as for [`require`].
pub fn require_one(tool: Tool) -> Option<PathBuf> {
    require(&[tool]).map(|mut v| v.remove(0))
}

/// `helm` (3.x), or skip/fail as for [`require`].
pub fn helm() -> Option<PathBuf> {
    require_one(Tool::Helm)
}

/// `kubectl`, or skip/fail as for [`require`].
pub fn kubectl() -> Option<PathBuf> {
    require_one(Tool::Kubectl)
}

/// `docker-registry` (CNCF Distribution), or skip/fail as for [`require`].
pub fn docker_registry() -> Option<PathBuf> {
    require_one(Tool::DockerRegistry)
}

/// `htpasswd` (apache2-utils), or skip/fail as for [`require`].
pub fn htpasswd() -> Option<PathBuf> {
    require_one(Tool::Htpasswd)
}

/// `skopeo`, or skip/fail as for [`require`].
pub fn skopeo() -> Option<PathBuf> {
    require_one(Tool::Skopeo)
}

/// `openssl`, or skip/fail as for [`require`].
pub fn openssl() -> Option<PathBuf> {
    require_one(Tool::Openssl)
}

/// GNU `time` (peak memory of a child), or skip/fail as for [`require`].
pub fn gnu_time() -> Option<PathBuf> {
    require_one(Tool::Time)
}
