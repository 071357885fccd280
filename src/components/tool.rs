//! The external programs components are rendered with (`kustomize`, `kubectl`,
//! `helm`): finding them (an environment variable naming the binary, else
//! `PATH`) and running them with stdout captured, so a caller prints manifests
//! only after the program succeeded. A successful run's stderr (kustomize
//! deprecation warnings, klog lines) is passed on to ours, or kept by a
//! [`StderrCapture`] that commands building many components summarise in one line.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

/// An external program, located.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    /// The program's usual name (`helm`), for messages.
    pub name: &'static str,
    /// The executable.
    pub path: PathBuf,
}

impl Tool {
    /// The binary named by the variable `env_var` (when set and not empty),
    /// else `name` on `path_var` (a `PATH`-style list); `None` when neither
    /// gives one. A variable naming something that is not an executable file is
    /// an error naming the variable.
    pub fn locate(name: &'static str, env_var: &str, env_value: Option<&OsStr>, path_var: Option<&OsStr>) -> Result<Option<Tool>> {
        if let Some(value) = env_value.filter(|v| !v.is_empty()) {
            let path = PathBuf::from(value);
            let path = if path.components().count() == 1 { find_on_path(value, path_var).unwrap_or(path) } else { path };
            if !is_executable(&path) {
                bail!(
                    "{env_var} is set to '{}', which is not an executable file: point it at a {name} binary, or unset it to use '{name}' from PATH",
                    path.display()
                );
            }
            return Ok(Some(Tool { name, path }));
        }
        Ok(find_on_path(OsStr::new(name), path_var).map(|path| Tool { name, path }))
    }

    /// Runs the program with `args` and extra environment `envs`: returns its
    /// stdout on success (its stderr is passed on to ours). On failure, the
    /// error quotes the command line and the program's stderr.
    pub fn run(&self, args: &[OsString], envs: &[(String, OsString)]) -> Result<Vec<u8>> {
        let mut cmd = Command::new(&self.path);
        cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let shown = self.command_line(args);
        let output = cmd.output().with_context(|| format!("cannot run `{shown}` ('{}')", self.path.display()))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            let detail = stderr.trim();
            let status = match output.status.code() {
                Some(code) => format!("exit status {code}"),
                None => "killed by a signal".to_string(),
            };
            if detail.is_empty() {
                bail!("`{shown}` failed ({status})");
            }
            bail!("`{shown}` failed ({status}):\n{detail}");
        }
        if !stderr.trim().is_empty() {
            let mut capture = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
            match capture.as_mut() {
                Some(lines) => lines.extend(stderr.lines().filter(|l| !l.trim().is_empty()).map(|l| (self.name, l.to_string()))),
                None => eprint!("{stderr}"),
            }
        }
        Ok(output.stdout)
    }

    /// `name arg...` as shown in messages: the first two arguments (the verb
    /// and the folder), then how many more.
    fn command_line(&self, args: &[OsString]) -> String {
        let mut shown: Vec<String> = std::iter::once(self.name.to_string())
            .chain(args.iter().take(2).map(|a| a.to_string_lossy().into_owned()))
            .collect();
        if args.len() > 2 {
            shown.push(format!("... ({} more arguments)", args.len() - 2));
        }
        shown.join(" ")
    }
}

/// The stderr lines of successful runs, by program, while a [`StderrCapture`] is alive.
static CAPTURED: Mutex<Option<Vec<(&'static str, String)>>> = Mutex::new(None);

/// Keeps the stderr of successful tool runs (on every thread) instead of
/// passing it on, until [`summary`](Self::summary) or drop.
pub struct StderrCapture(());

impl StderrCapture {
    /// Starts capturing (a capture already running is restarted).
    pub fn start() -> StderrCapture {
        *CAPTURED.lock().unwrap_or_else(|e| e.into_inner()) = Some(Vec::new());
        StderrCapture(())
    }

    /// Stops capturing: one line counting the lines each program printed
    /// (`kubectl printed 54 warning lines; --verbose shows them`), `None`
    /// when none did.
    pub fn summary(self) -> Option<String> {
        let lines = CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        let mut counts: Vec<(&str, usize)> = Vec::new();
        for (name, _) in &lines {
            match counts.iter_mut().find(|(n, _)| n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name, 1)),
            }
        }
        if counts.is_empty() {
            return None;
        }
        let parts: Vec<String> = counts
            .iter()
            .map(|(name, n)| format!("{name} printed {n} warning line{}", if *n == 1 { "" } else { "s" }))
            .collect();
        Some(format!("{}; --verbose shows them", parts.join(", ")))
    }
}

impl Drop for StderrCapture {
    fn drop(&mut self) {
        CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}

/// The first executable `name` in the folders of `path_var`.
pub fn find_on_path(name: &OsStr, path_var: Option<&OsStr>) -> Option<PathBuf> {
    let path_var = path_var?;
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn the_variable_wins_over_path() {
        let dir = tempfile::TempDir::new().unwrap();
        let on_path = script(dir.path(), "helm", "true");
        let other = tempfile::TempDir::new().unwrap();
        let named = script(other.path(), "my-helm", "true");
        let path_var = dir.path().as_os_str();
        let found = Tool::locate("helm", "X_HELM", Some(named.as_os_str()), Some(path_var)).unwrap().unwrap();
        assert_eq!(found.path, named);
        let found = Tool::locate("helm", "X_HELM", None, Some(path_var)).unwrap().unwrap();
        assert_eq!(found.path, on_path);
        // A bare name in the variable is looked up on PATH.
        let found = Tool::locate("helm", "X_HELM", Some(OsStr::new("helm")), Some(path_var)).unwrap().unwrap();
        assert_eq!(found.path, on_path);
    }

    #[test]
    fn missing_programs_are_none_and_bad_variables_are_errors() {
        let dir = tempfile::TempDir::new().unwrap();
        fs::write(dir.path().join("helm"), "not executable").unwrap();
        assert_eq!(Tool::locate("helm", "X_HELM", None, Some(dir.path().as_os_str())).unwrap(), None);
        assert_eq!(Tool::locate("helm", "X_HELM", None, None).unwrap(), None);
        let err = Tool::locate("helm", "X_HELM", Some(OsStr::new("/nonexistent/helm")), None).unwrap_err();
        assert!(err.to_string().contains("X_HELM is set to '/nonexistent/helm'"), "{err}");
    }

    #[test]
    fn run_returns_stdout_or_an_error_with_stderr() {
        let dir = tempfile::TempDir::new().unwrap();
        let ok = Tool { name: "ok", path: script(dir.path(), "ok", "echo \"out $1 $X\"; echo warn >&2") };
        let out = ok.run(&["a".into()], &[("X".into(), "x".into())]).unwrap();
        assert_eq!(out, b"out a x\n");
        let bad = Tool { name: "bad", path: script(dir.path(), "bad", "echo partial; echo 'it broke' >&2; exit 3") };
        let err = bad.run(&["b".into()], &[]).unwrap_err().to_string();
        assert_eq!(err, "`bad b` failed (exit status 3):\nit broke");
    }

    #[test]
    fn a_capture_keeps_warnings_and_summarises_them_in_one_line() {
        let dir = tempfile::TempDir::new().unwrap();
        let warner = Tool { name: "warner", path: script(dir.path(), "warner", "echo ok; echo '# Warning: a' >&2; echo >&2; echo 'I1205 klog' >&2") };
        let bad = Tool { name: "failer", path: script(dir.path(), "failer", "echo 'its error' >&2; exit 1") };
        let capture = StderrCapture::start();
        assert_eq!(warner.run(&[], &[]).unwrap(), b"ok\n");
        std::thread::scope(|s| {
            s.spawn(|| warner.run(&[], &[]).unwrap());
        });
        // A failure keeps its stderr in its error, not in the capture.
        assert!(bad.run(&[], &[]).unwrap_err().to_string().contains("its error"));
        let summary = capture.summary().unwrap();
        assert!(summary.contains("warner printed 4 warning lines"), "{summary}");
        assert!(summary.ends_with("--verbose shows them") && !summary.contains("failer"), "{summary}");
    }
}
