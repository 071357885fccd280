//! The deployKF app-of-apps through `argocd-cmp-harness --recurse` with this
//! project's `plugin.yaml`: a repository folder holding the generator zip and
//! the sample values, an app-of-apps Application naming them, and the harness
//! run with this binary, helm and kubectl first on `PATH`.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// The repository URL the Applications name (mapped to the repository folder).
pub const REPO_URL: &str = "https://git.example.com/platform/deploykf.git";
/// The deployKF version of the tree.
pub const VERSION: &str = "0.1.5";

/// Each remote chart of deployKF 0.1.5: the component's values path, the
/// chart's key under `charts`, and the fixture package
/// (see ../shared/fixtures/charts/README.md).
pub const CHARTS: [(&str, &str, &str); 5] = [
    ("deploykf_dependencies.cert_manager", "certManager", "cert-manager-v1.12.10.tgz"),
    ("deploykf_dependencies.istio", "istioBase", "base-1.17.8.tgz"),
    ("deploykf_dependencies.istio", "istioDaemon", "istiod-1.17.8.tgz"),
    ("deploykf_dependencies.kyverno", "kyverno", "kyverno-3.0.1.tgz"),
    ("deploykf_core.deploykf_istio_gateway", "istioGateway", "gateway-1.17.8.tgz"),
];

/// Sets `charts.<chart>.repository` of every chart in [`CHARTS`] to
/// `oci://<host>/charts` in `values` (a JSON object, which is YAML).
pub fn point_charts_at(values: &mut serde_json::Value, host: &str) {
    for (component, chart, _) in CHARTS {
        let mut node = &mut *values;
        for key in component.split('.').chain(["charts", chart]) {
            node = node.as_object_mut().unwrap().entry(key).or_insert_with(|| serde_json::json!({}));
        }
        node["repository"] = serde_json::json!(format!("oci://{host}/charts"));
    }
}

/// `default_values.yaml` of a generator zip.
pub fn default_values(zip: &Path) -> String {
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_name("generator/default_values.yaml").unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The names of the Applications in a manifest stream written by the harness
/// (PyYAML `safe_dump_all`, sorted keys: top-level keys at column 0).
pub fn application_names(yaml: &str) -> Vec<String> {
    yaml.split("\n---")
        .filter(|doc| doc.lines().any(|l| l == "kind: Application"))
        .filter_map(|doc| {
            let meta = doc.split("\nmetadata:\n").nth(1)?;
            meta.lines().take_while(|l| l.starts_with("  ")).find_map(|l| l.strip_prefix("  name: ").map(str::to_string))
        })
        .collect()
}

/// A work folder with the repository (`repo/`: the generator zip and the
/// sample values of [`VERSION`]) and the app-of-apps.
pub struct Tree {
    pub work: TempDir,
    /// `../shared`.
    pub shared: PathBuf,
    /// The generator zip in the shared fixtures.
    pub zip: PathBuf,
}

impl Tree {
    /// The repository folder with the generator zip and the sample values.
    pub fn new(shared: &Path) -> Tree {
        let fixtures = shared.join("fixtures");
        let zip = fixtures.join(format!("generators/deploykf-{VERSION}-generator.zip"));
        let tree = Tree { work: TempDir::new().unwrap(), shared: shared.to_path_buf(), zip };
        fs::create_dir_all(tree.repo()).unwrap();
        fs::copy(&tree.zip, tree.repo().join(tree.zip.file_name().unwrap())).unwrap();
        for name in Tree::sample_values() {
            fs::copy(fixtures.join("sample-values").join(&name), tree.repo().join(&name)).unwrap();
        }
        tree
    }

    /// The sample values files (in the repository's top folder).
    pub fn sample_values() -> [String; 2] {
        [format!("sample-values-{VERSION}.yaml"), format!("sample-values-overrides-{VERSION}.yaml")]
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    /// The repository folder.
    pub fn repo(&self) -> PathBuf {
        self.path("repo")
    }

    /// The fixture charts folder.
    pub fn charts(&self) -> PathBuf {
        self.shared.join("fixtures/charts")
    }

    /// Writes the app-of-apps Application: the generator zip, the sample
    /// values then `values_files` (repository paths), and the `values`
    /// parameter `argocd.namespace: argocd`. Returns its path.
    pub fn write_app_of_apps(&self, values_files: &[&str]) -> PathBuf {
        let mut files = String::new();
        for name in Tree::sample_values().iter().map(String::as_str).chain(values_files.iter().copied()) {
            files += &format!("            - \"./{name}\"\n");
        }
        let app = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: deploykf-app-of-apps
  namespace: argocd
spec:
  project: default
  source:
    repoURL: \"{REPO_URL}\"
    targetRevision: \"main\"
    path: \".\"
    plugin:
      name: \"deploykf\"
      parameters:
        - name: \"source_path\"
          string: \"./deploykf-{VERSION}-generator.zip\"
        - name: \"values_files\"
          array:
{files}        - name: \"values\"
          string: |
            argocd:
              namespace: argocd
  destination:
    server: \"https://kubernetes.default.svc\"
    namespace: \"argocd\"
"
        );
        let path = self.path("app-of-apps.yaml");
        fs::write(&path, app).unwrap();
        path
    }

    /// Runs the harness with the registry's credentials only in
    /// `HELM_REGISTRY_CONFIG` (`docker_config`) and its CA in `SSL_CERT_FILE`.
    pub fn run_harness_with_registry(
        &self,
        app: &Path,
        programs: &[PathBuf],
        docker_config: &Path,
        registry: &crate::support::registry::TestRegistry,
    ) -> HarnessRun {
        let ca = registry.ca_pem_path().expect("a TLS registry");
        self.run_harness(
            app,
            programs,
            &[("HELM_REGISTRY_CONFIG", docker_config.into()), ("SSL_CERT_FILE", ca.into())],
        )
    }

    /// Runs the harness over the app-of-apps (`--recurse --out OUT`) with
    /// `env` added; `programs` (this binary, helm, kubectl) go first on `PATH`.
    pub fn run_harness(&self, app: &Path, programs: &[PathBuf], env: &[(&str, OsString)]) -> HarnessRun {
        let tools_bin = self.path("bin");
        fs::create_dir_all(&tools_bin).unwrap();
        let binary = PathBuf::from(env!("CARGO_BIN_EXE_deploykf-cmp"));
        for program in std::iter::once(&binary).chain(programs) {
            let link = tools_bin.join(program.file_name().unwrap());
            if !link.exists() {
                std::os::unix::fs::symlink(program, link).unwrap();
            }
        }
        let path = std::env::join_paths(
            std::iter::once(tools_bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let home = self.path("home");
        fs::create_dir_all(&home).unwrap();
        let out = self.path("out");
        let mut command = Command::new("python3");
        command
            .arg(self.shared.join("tools/argocd-cmp-harness"))
            .arg("--plugin")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin.yaml"))
            .arg("--app")
            .arg(app)
            .arg("--repo")
            .arg(format!("{REPO_URL}={}", self.repo().display()))
            .arg("--recurse")
            .arg("--out")
            .arg(&out)
            .env("PATH", path)
            .env("HOME", &home)
            .env("DEPLOYKF_CMP_CACHE_DIR", self.path("cache"))
            .env_remove("DEPLOYKF_CMP_HELM")
            .env_remove("DEPLOYKF_CMP_KUBECTL")
            .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE");
        for (name, value) in env {
            command.env(name, value);
        }
        let run = command.output().expect("run python3");
        let summary = fs::read_to_string(out.join("summary.json"))
            .ok()
            .map(|text| serde_json::from_str(&text).unwrap())
            .unwrap_or(serde_json::Value::Null);
        HarnessRun { success: run.status.success(), stderr: String::from_utf8_lossy(&run.stderr).into_owned(), out, summary }
    }
}

/// What a harness run left.
pub struct HarnessRun {
    pub success: bool,
    pub stderr: String,
    /// The `--out` folder: `<app>.yaml` per Application and `summary.json`.
    pub out: PathBuf,
    /// `summary.json` (`null` when the harness wrote none).
    pub summary: serde_json::Value,
}

impl HarnessRun {
    /// The manifests the harness wrote for the Application `name`.
    pub fn manifests(&self, name: &str) -> String {
        fs::read_to_string(self.out.join(format!("{name}.yaml"))).unwrap_or_else(|e| panic!("{name}.yaml: {e}"))
    }

    /// Asserts a run without failures in which the root and every child
    /// Application it lists rendered, each with manifests; returns the children.
    pub fn assert_every_application_rendered(&self) -> Vec<String> {
        let stderr = &self.stderr;
        assert!(self.success, "the harness reported failures:\n{stderr}");
        assert_eq!(self.summary["failed"], serde_json::json!([]), "{stderr}");
        let apps = self.summary["applications"].as_array().unwrap();
        let rendered: Vec<&str> = apps.iter().map(|a| a["name"].as_str().unwrap()).collect();
        let children = application_names(&self.manifests("deploykf-app-of-apps"));
        assert!(children.len() >= 15, "the app-of-apps lists {} Applications:\n{children:?}", children.len());
        for child in &children {
            assert!(rendered.contains(&child.as_str()), "{child} did not render; rendered: {rendered:?}\n{stderr}");
        }
        assert_eq!(rendered.len(), children.len() + 1, "{rendered:?}");
        for app in apps {
            assert!(app["manifests"].as_u64().unwrap() > 0, "{app}");
        }
        children
    }

    /// The distinct pod images of every rendered Application (`summary.json` `images`).
    pub fn images(&self) -> Vec<String> {
        self.summary["images"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_string()).collect()
    }
}
