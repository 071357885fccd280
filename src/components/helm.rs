//! Helm components: `helm template` of a chart folder whose dependencies are
//! already in `charts/` (see [`crate::charts::dependencies`]), as the
//! [`Release`] Argo CD's settings name, and helm's home folders moved under a
//! writable folder when `HOME` is unusable (sidecars often run with `HOME=/`).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::tool::Tool;
use crate::settings::HELM_ENV;

/// The helm home variables and the folder each gets under the fallback folder.
const HOME_VARS: [(&str, &str); 3] = [("HELM_CACHE_HOME", "cache"), ("HELM_CONFIG_HOME", "config"), ("HELM_DATA_HOME", "data")];

/// The `helm` program and the environment it runs with.
#[derive(Clone, Debug)]
pub struct Helm {
    tool: Tool,
    envs: Vec<(String, OsString)>,
}

/// The release a chart is templated as: the settings Argo CD gives a plugin
/// for its Application.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    /// `--name-template` (Argo CD's application name).
    pub name: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    /// One `--api-versions` each.
    pub api_versions: Vec<String>,
}

impl Release {
    /// The arguments of `helm template CHART ...` with one `--values` per
    /// file, in order (always `--include-crds`).
    pub fn args(&self, chart: &Path, values_files: &[PathBuf]) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["template".into(), chart.as_os_str().to_owned()];
        let mut flag = |name: &str, value: &OsStr| {
            args.push(name.into());
            args.push(value.to_owned());
        };
        for (name, value) in [
            ("--name-template", &self.name),
            ("--namespace", &self.namespace),
            ("--kube-version", &self.kube_version),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                flag(name, OsStr::new(value));
            }
        }
        for file in values_files {
            flag("--values", file.as_os_str());
        }
        for api in &self.api_versions {
            flag("--api-versions", OsStr::new(api));
        }
        args.push("--include-crds".into());
        args
    }
}

/// Argo CD's `KUBE_API_VERSIONS` (comma-separated) as a list, empty entries dropped.
pub fn split_api_versions(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_string).collect()
}

impl Helm {
    /// `$DEPLOYKF_CMP_HELM`, else `helm` on `PATH` (read through `var`); an
    /// error saying what to install or set when there is none. When `HOME` is
    /// unusable, helm's cache/config/data homes not set already are placed
    /// under `fallback_home` (created).
    pub fn locate(var: impl Fn(&str) -> Option<OsString>, fallback_home: &Path) -> Result<Helm> {
        let path = var("PATH");
        let tool = Tool::locate("helm", HELM_ENV, var(HELM_ENV).as_deref(), path.as_deref())?;
        let Some(tool) = tool else {
            bail!(
                "cannot render a Helm chart: 'helm' was not found on PATH; install helm 3 in the plugin's \
                 container, or set {HELM_ENV} to a helm binary"
            );
        };
        let mut envs = Vec::new();
        if !home_is_usable(var("HOME").as_deref()) {
            for (name, sub) in HOME_VARS {
                if var(name).is_some_and(|v| !v.is_empty()) {
                    continue;
                }
                let dir = fallback_home.join(sub);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create the helm folder '{}' ({name})", dir.display()))?;
                envs.push((name.to_string(), dir.into_os_string()));
            }
        }
        Ok(Helm { tool, envs })
    }

    /// The environment helm runs with beyond ours (the helm homes, when moved).
    pub fn extra_env(&self) -> &[(String, OsString)] {
        &self.envs
    }

    /// The manifests `helm template` renders for the chart folder `chart`.
    pub fn template(&self, chart: &Path, release: &Release, values_files: &[PathBuf]) -> Result<Vec<u8>> {
        self.tool.run(&release.args(chart, values_files), self.extra_env())
    }
}

/// Whether `HOME` names a writable folder other than `/`.
fn home_is_usable(home: Option<&OsStr>) -> bool {
    let Some(home) = home.filter(|h| !h.is_empty()) else { return false };
    let home = Path::new(home);
    if home == Path::new("/") || !home.is_dir() {
        return false;
    }
    tempfile::Builder::new().prefix(".deploykf-cmp-probe-").tempfile_in(home).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn template_arguments_follow_argo_cd_settings() {
        let release = Release {
            name: Some("dkf-istio".into()),
            namespace: Some("istio-system".into()),
            kube_version: Some("1.28.2".into()),
            api_versions: split_api_versions("v1,apps/v1,,apps/v1/Deployment"),
        };
        let args: Vec<String> = release.args(Path::new("/c"), &[PathBuf::from("/c/values-overrides.yaml")]).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            args,
            [
                "template", "/c", "--name-template", "dkf-istio", "--namespace", "istio-system", "--kube-version",
                "1.28.2", "--values", "/c/values-overrides.yaml", "--api-versions", "v1", "--api-versions",
                "apps/v1", "--api-versions", "apps/v1/Deployment", "--include-crds"
            ]
        );
        let bare: Vec<OsString> = Release { namespace: Some(String::new()), ..Default::default() }.args(Path::new("c"), &[]);
        assert_eq!(bare, ["template", "c", "--include-crds"].map(OsString::from));
    }

    #[cfg(unix)]
    fn fake_helm(dir: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("helm");
        std::fs::write(&path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn helm_homes_move_only_when_home_is_unusable() {
        let bin = tempfile::TempDir::new().unwrap();
        fake_helm(bin.path());
        let fallback = tempfile::TempDir::new().unwrap();
        let home = tempfile::TempDir::new().unwrap();
        let locate = |vars: &[(&str, &OsStr)]| {
            let mut map: HashMap<String, OsString> =
                vars.iter().map(|(k, v)| (k.to_string(), v.to_os_string())).collect();
            map.insert("PATH".into(), bin.path().as_os_str().to_owned());
            Helm::locate(|n| map.get(n).cloned(), fallback.path()).unwrap()
        };
        assert!(locate(&[("HOME", home.path().as_os_str())]).extra_env().is_empty());
        let names = |h: Helm| h.extra_env().iter().map(|(k, v)| (k.clone(), PathBuf::from(v))).collect::<Vec<_>>();
        let moved = names(locate(&[("HOME", OsStr::new("/"))]));
        assert_eq!(
            moved,
            vec![
                ("HELM_CACHE_HOME".to_string(), fallback.path().join("cache")),
                ("HELM_CONFIG_HOME".to_string(), fallback.path().join("config")),
                ("HELM_DATA_HOME".to_string(), fallback.path().join("data")),
            ]
        );
        assert!(fallback.path().join("data").is_dir());
        // Unset HOME; a home variable the admin set is kept.
        let moved = names(locate(&[("HELM_CONFIG_HOME", OsStr::new("/etc/helm"))]));
        assert_eq!(moved.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["HELM_CACHE_HOME", "HELM_DATA_HOME"]);
    }

    #[test]
    fn a_missing_helm_says_what_to_do() {
        let empty = tempfile::TempDir::new().unwrap();
        let path = empty.path().as_os_str().to_owned();
        let err = Helm::locate(|n| (n == "PATH").then(|| path.clone()), empty.path()).unwrap_err().to_string();
        assert!(err.contains("'helm' was not found on PATH") && err.contains(HELM_ENV), "{err}");
    }
}
