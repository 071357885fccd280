//! The whole deployKF 0.1.5 app-of-apps through `argocd-cmp-harness --recurse`
//! with this project's `plugin.yaml`: the generator zip and the sample values
//! in a repository folder, every upstream chart repository pointed at a real
//! registry (Debian's docker-registry with htpasswd auth and TLS from a test
//! CA) holding the fixture charts, credentials only in `HELM_REGISTRY_CONFIG`.
//! The root and every child Application must render.

mod common;
mod support;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use common::{bin, repo_root, shared};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
use tempfile::TempDir;

const REPO_URL: &str = "https://git.example.com/platform/deploykf.git";
const VERSION: &str = "0.1.5";
const USER: &str = "deploykf";
const PASSWORD: &str = "s3cret-Registry-pass";

/// Each remote chart of deployKF 0.1.5: its values path under the component,
/// and the fixture package (see ../shared/fixtures/charts/README.md).
const CHARTS: [(&str, &str, &str); 5] = [
    ("deploykf_dependencies.cert_manager", "certManager", "cert-manager-v1.12.10.tgz"),
    ("deploykf_dependencies.istio", "istioBase", "base-1.17.8.tgz"),
    ("deploykf_dependencies.istio", "istioDaemon", "istiod-1.17.8.tgz"),
    ("deploykf_dependencies.kyverno", "kyverno", "kyverno-3.0.1.tgz"),
    ("deploykf_core.deploykf_istio_gateway", "istioGateway", "gateway-1.17.8.tgz"),
];

/// `default_values.yaml` of a generator zip.
fn default_values(zip: &Path) -> String {
    let mut archive = zip::ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_name("generator/default_values.yaml").unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The values file pointing the manifests repo and every chart repository at
/// the test setup (JSON, which is YAML).
fn mirror_values(registry_host: &str) -> String {
    let mut values = serde_json::json!({
        "argocd": {"source": {"repo": {"url": REPO_URL, "revision": "main", "path": "."}}}
    });
    for (component, chart, _) in CHARTS {
        let mut node = &mut values;
        for key in component.split('.').chain(["charts", chart]) {
            node = node.as_object_mut().unwrap().entry(key).or_insert_with(|| serde_json::json!({}));
        }
        node["repository"] = serde_json::json!(format!("oci://{registry_host}/charts"));
    }
    values.to_string()
}

fn app_of_apps() -> String {
    format!(
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
            - \"./sample-values-{VERSION}.yaml\"
            - \"./sample-values-overrides-{VERSION}.yaml\"
            - \"./mirror-values.yaml\"
        - name: \"values\"
          string: |
            argocd:
              namespace: argocd
  destination:
    server: \"https://kubernetes.default.svc\"
    namespace: \"argocd\"
"
    )
}

/// The names of the Applications in a manifest stream written by the harness
/// (PyYAML `safe_dump_all`, sorted keys: top-level keys at column 0).
fn application_names(yaml: &str) -> Vec<String> {
    yaml.split("\n---")
        .filter(|doc| doc.lines().any(|l| l == "kind: Application"))
        .filter_map(|doc| {
            let meta = doc.split("\nmetadata:\n").nth(1)?;
            meta.lines().take_while(|l| l.starts_with("  ")).find_map(|l| l.strip_prefix("  name: ").map(str::to_string))
        })
        .collect()
}

#[test]
fn the_deploykf_app_of_apps_renders_through_the_harness() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures, argocd-cmp-harness) is absent");
        return;
    };
    let (Some(helm), Some(kubectl)) = (support::tools::helm(), support::tools::kubectl()) else { return };
    let Some(registry) = TestRegistry::start(RegistryOptions::default().tls().auth(USER, PASSWORD).helm()) else {
        return;
    };
    let fixtures = shared.join("fixtures");
    let zip = fixtures.join(format!("generators/deploykf-{VERSION}-generator.zip"));

    // The stand-in chart list is exactly the generator's remote charts.
    let defaults = default_values(&zip);
    let https_charts = defaults.matches("repository: https://").count();
    assert_eq!(https_charts, CHARTS.len(), "deployKF {VERSION} has {https_charts} https chart repositories");
    for (_, _, tgz) in CHARTS {
        registry.push_chart(&fixtures.join("charts").join(tgz), "charts");
    }

    let work = TempDir::new().unwrap();
    let repo = work.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    fs::copy(&zip, repo.join(zip.file_name().unwrap())).unwrap();
    for name in [format!("sample-values-{VERSION}.yaml"), format!("sample-values-overrides-{VERSION}.yaml")] {
        fs::copy(fixtures.join("sample-values").join(&name), repo.join(&name)).unwrap();
    }
    fs::write(repo.join("mirror-values.yaml"), mirror_values(&registry.host())).unwrap();
    let app = work.path().join("app-of-apps.yaml");
    fs::write(&app, app_of_apps()).unwrap();
    let docker_config = work.path().join("registry/config.json");
    write_docker_config(&docker_config, &registry.host(), USER, PASSWORD);

    // PATH: this binary, helm and kubectl first; the harness passes its environment on.
    let tools_bin = work.path().join("bin");
    fs::create_dir_all(&tools_bin).unwrap();
    for program in [bin(), helm, kubectl] {
        std::os::unix::fs::symlink(&program, tools_bin.join(program.file_name().unwrap())).unwrap();
    }
    let path = std::env::join_paths(
        std::iter::once(tools_bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let home = work.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let out = work.path().join("out");
    let run = Command::new("python3")
        .arg(shared.join("tools/argocd-cmp-harness"))
        .arg("--plugin")
        .arg(repo_root().join("plugin.yaml"))
        .arg("--app")
        .arg(&app)
        .arg("--repo")
        .arg(format!("{REPO_URL}={}", repo.display()))
        .arg("--recurse")
        .arg("--out")
        .arg(&out)
        .env("PATH", path)
        .env("HOME", &home)
        .env("HELM_REGISTRY_CONFIG", &docker_config)
        .env("SSL_CERT_FILE", registry.ca_pem_path().unwrap())
        .env("DEPLOYKF_CMP_CACHE_DIR", work.path().join("cache"))
        .env_remove("DEPLOYKF_CMP_HELM")
        .env_remove("DEPLOYKF_CMP_KUBECTL")
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .output()
        .expect("run python3");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains(PASSWORD), "the registry password reached the output:\n{stderr}");
    assert!(run.status.success(), "the harness reported failures:\n{stderr}");

    let summary: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["failed"], serde_json::json!([]), "{stderr}");
    let rendered: Vec<&str> =
        summary["applications"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    let root_yaml = fs::read_to_string(out.join("deploykf-app-of-apps.yaml")).unwrap();
    let children = application_names(&root_yaml);
    assert!(children.len() >= 15, "the app-of-apps lists {} Applications:\n{children:?}", children.len());
    for child in &children {
        assert!(rendered.contains(&child.as_str()), "{child} did not render; rendered: {rendered:?}\n{stderr}");
    }
    assert_eq!(rendered.len(), children.len() + 1, "{rendered:?}");
    for app in &summary["applications"].as_array().unwrap()[..] {
        assert!(app["manifests"].as_u64().unwrap() > 0, "{app}");
    }
    // Helm children pulled their upstream charts from the registry.
    let cert_manager = fs::read_to_string(out.join("dkf-dep--cert-manager.yaml")).unwrap();
    assert!(cert_manager.contains("quay.io/jetstack/cert-manager-controller:v1.12.10"), "cert-manager chart rendered");
    let istio = fs::read_to_string(out.join("dkf-dep--istio.yaml")).unwrap();
    assert!(istio.contains("kind: CustomResourceDefinition"), "--include-crds");
    assert!(istio.contains("istio/pilot:1.17.8"), "istiod chart rendered");
}
