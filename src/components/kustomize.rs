//! Kustomize components: a folder of the generator's output built with the
//! real kustomize, either `kustomize build DIR` or `kubectl kustomize DIR`.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{bail, Result};

use super::tool::Tool;
use crate::settings::{KUBECTL_ENV, KUSTOMIZE_ENV};

/// The program that builds kustomizations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kustomize {
    /// `kustomize build DIR`.
    Standalone(Tool),
    /// `kubectl kustomize DIR`.
    Kubectl(Tool),
}

impl Kustomize {
    /// `$DEPLOYKF_CMP_KUSTOMIZE`, else `$DEPLOYKF_CMP_KUBECTL`, else `kustomize`
    /// on `PATH`, else `kubectl` on `PATH`; an error saying what to install or
    /// set when there is none. `var` reads an environment variable.
    pub fn locate(var: impl Fn(&str) -> Option<OsString>) -> Result<Kustomize> {
        let path = var("PATH");
        let kustomize_var = var(KUSTOMIZE_ENV).filter(|v| !v.is_empty());
        let kubectl_var = var(KUBECTL_ENV).filter(|v| !v.is_empty());
        if kustomize_var.is_some() {
            let tool = Tool::locate("kustomize", KUSTOMIZE_ENV, kustomize_var.as_deref(), path.as_deref())?;
            return Ok(Kustomize::Standalone(tool.expect("a set variable always gives a tool")));
        }
        if kubectl_var.is_some() {
            let tool = Tool::locate("kubectl", KUBECTL_ENV, kubectl_var.as_deref(), path.as_deref())?;
            return Ok(Kustomize::Kubectl(tool.expect("a set variable always gives a tool")));
        }
        if let Some(tool) = Tool::locate("kustomize", KUSTOMIZE_ENV, None, path.as_deref())? {
            return Ok(Kustomize::Standalone(tool));
        }
        if let Some(tool) = Tool::locate("kubectl", KUBECTL_ENV, None, path.as_deref())? {
            return Ok(Kustomize::Kubectl(tool));
        }
        bail!(
            "cannot render a kustomize folder: neither 'kustomize' nor 'kubectl' was found on PATH; \
             install one of them in the plugin's container, or set {KUSTOMIZE_ENV} to a kustomize binary \
             (or {KUBECTL_ENV} to a kubectl binary)"
        )
    }

    /// The program used.
    pub fn tool(&self) -> &Tool {
        match self {
            Kustomize::Standalone(tool) | Kustomize::Kubectl(tool) => tool,
        }
    }

    /// The manifests the kustomization in `dir` builds to.
    pub fn build(&self, dir: &Path, envs: &[(String, OsString)]) -> Result<Vec<u8>> {
        let verb = match self {
            Kustomize::Standalone(_) => "build",
            Kustomize::Kubectl(_) => "kustomize",
        };
        self.tool().run(&[verb.into(), dir.as_os_str().to_owned()], envs)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn exe(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, "#!/bin/sh\necho \"$0 $*\"\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn locate(vars: &[(&str, &Path)]) -> Result<Kustomize> {
        let vars: HashMap<String, OsString> =
            vars.iter().map(|(k, v)| (k.to_string(), v.as_os_str().to_owned())).collect();
        Kustomize::locate(|name| vars.get(name).cloned())
    }

    #[test]
    fn prefers_the_variables_then_kustomize_then_kubectl() {
        let bin = tempfile::TempDir::new().unwrap();
        let kubectl = exe(bin.path(), "kubectl");
        assert_eq!(locate(&[("PATH", bin.path())]).unwrap(), Kustomize::Kubectl(Tool { name: "kubectl", path: kubectl.clone() }));
        let kustomize = exe(bin.path(), "kustomize");
        assert_eq!(locate(&[("PATH", bin.path())]).unwrap(), Kustomize::Standalone(Tool { name: "kustomize", path: kustomize }));
        let other = tempfile::TempDir::new().unwrap();
        let named = exe(other.path(), "kubectl-1.28");
        assert_eq!(
            locate(&[("PATH", bin.path()), (KUBECTL_ENV, &named)]).unwrap(),
            Kustomize::Kubectl(Tool { name: "kubectl", path: named })
        );
    }

    #[test]
    fn none_found_says_what_to_install_or_set() {
        let empty = tempfile::TempDir::new().unwrap();
        let err = locate(&[("PATH", empty.path())]).unwrap_err().to_string();
        assert!(err.contains("neither 'kustomize' nor 'kubectl' was found on PATH"), "{err}");
        assert!(err.contains(KUSTOMIZE_ENV) && err.contains(KUBECTL_ENV), "{err}");
    }

    #[test]
    fn build_passes_the_folder() {
        let bin = tempfile::TempDir::new().unwrap();
        let k = Kustomize::Kubectl(Tool { name: "kubectl", path: exe(bin.path(), "kubectl") });
        let out = String::from_utf8(k.build(Path::new("/x/argocd"), &[]).unwrap()).unwrap();
        assert!(out.ends_with("kubectl kustomize /x/argocd\n"), "{out}");
    }
}
