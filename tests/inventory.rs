//! `deploykf-cmp images` and `deploykf-cmp charts` on deployKF 0.1.5 with its
//! sample values, every upstream chart served from a real registry holding
//! the fixture charts. The rendered tree is also built independently here
//! (`deploykf-cmp generate` in plugin mode, then `kubectl kustomize` / `helm
//! template` with the fixture charts copied into `charts/`), to check that
//! the inventory holds every pod-spec image of it, and that deployKF's own
//! extraction recipe (its `image:` regex over the same manifests) finds a
//! strict subset of it.

mod common;
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, shared};
use gomplate::Value;
use support::harness::{point_charts_at, CHARTS, VERSION};
use support::registry::{RegistryOptions, TestRegistry};
use tempfile::TempDir;


/// Values pointing every chart repository at `oci://HOST/charts` (JSON is YAML).
fn chart_values(host: &str) -> String {
    let mut values = serde_json::json!({});
    point_charts_at(&mut values, host);
    values.to_string()
}

/// Docker's normalisation of a reference as written (`nginx` →
/// `docker.io/library/nginx:latest`); `None` for strings that are no
/// reference, and for Istio's `auto`.
fn normalise(image: &str) -> Option<String> {
    let valid = regex::Regex::new(r"^[a-z0-9][a-z0-9._/:@-]*[a-zA-Z0-9_]$|^[a-z0-9]$").unwrap();
    if !valid.is_match(image.split('@').next().unwrap()) {
        return None;
    }
    if image == "auto" {
        return None; // Istio's gateway placeholder, filled in by its injector.
    }
    let last = image.rsplit('/').next().unwrap();
    let image = &if last.contains([':', '@']) { image.to_string() } else { format!("{image}:latest") };
    let (first, rest) = image.split_once('/').unwrap_or(("", image));
    Some(if first.is_empty() || (first == "docker.io" && !rest.contains('/')) {
        format!("docker.io/library/{rest}")
    } else if first.contains(['.', ':']) || first == "localhost" {
        image.to_string()
    } else {
        format!("docker.io/{image}")
    })
}

/// The pod-spec images of a manifest stream (the workload kinds).
fn pod_images(stream: &str, out: &mut BTreeSet<String>) {
    for doc in stream.split("\n---") {
        let Ok(Value::Map(map)) = gomplate::yaml::decode(doc.trim_start_matches("---")) else { continue };
        let kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
        let path: &[&str] = match kind {
            "Pod" => &["spec"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => &["spec", "template", "spec"],
            _ => continue,
        };
        let mut node = Some(&*map);
        for key in path {
            node = node.and_then(|m| m.get(*key)).and_then(Value::as_map);
        }
        let Some(spec) = node else { continue };
        for key in ["containers", "initContainers"] {
            for c in spec.get(key).and_then(Value::as_list).unwrap_or_default() {
                if let Some(image) = c.as_map().and_then(|m| m.get("image")).and_then(Value::as_str) {
                    out.insert(image.to_string());
                }
            }
        }
    }
}

/// deployKF's recipe: `image: ["']?([^ {"']+)["']?`, line by line.
fn recipe_images(stream: &str, out: &mut BTreeSet<String>) {
    let re = regex::Regex::new(r#"image: ["']?([^ {"']+)["']?"#).unwrap();
    for line in stream.lines() {
        for c in re.captures_iter(line) {
            out.insert(c[1].to_string());
        }
    }
}

fn run(cmd: &mut Command) -> String {
    run_both(cmd).0
}

/// stdout and stderr of a command that must succeed.
fn run_both(cmd: &mut Command) -> (String, String) {
    let out = cmd.output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed:\n{stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

/// Chart blobs the registry served so far (from its request log).
fn blob_downloads(registry: &TestRegistry) -> usize {
    let log = fs::read_to_string(registry.log_path()).unwrap();
    log.lines()
        .filter(|l| l.contains("response completed") && l.contains("http.request.method=GET") && l.contains("/blobs/sha256:"))
        .count()
}

/// The test's own build of every component of the generator output `render`.
fn build_components(render: &Path, fixtures: &Path, helm: &Path, kubectl: &Path) -> Vec<String> {
    let mut streams = Vec::new();
    let mut files = Vec::new();
    let mut dirs = vec![render.join("argocd/applications")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") && path.file_name().unwrap() != "kustomization.yaml" {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 15, "{} Applications", files.len());
    for file in files {
        let app = gomplate::yaml::decode(&fs::read_to_string(&file).unwrap()).unwrap();
        let app = app.as_map().unwrap();
        let get = |keys: &[&str]| {
            let mut node = Some(app);
            for key in &keys[..keys.len() - 1] {
                node = node.and_then(|m| m.get(*key)).and_then(Value::as_map);
            }
            node.and_then(|m| m.get(keys[keys.len() - 1])).cloned()
        };
        let name = get(&["metadata", "name"]).unwrap().as_str().unwrap().to_string();
        let namespace = get(&["spec", "destination", "namespace"]).unwrap().as_str().unwrap().to_string();
        let params = get(&["spec", "source", "plugin", "parameters"]).unwrap();
        let param = |n: &str| {
            params.as_list().unwrap().iter().find(|p| p.as_map().unwrap()["name"].as_str() == Some(n)).cloned()
        };
        if let Some(p) = param("output_kustomize_path") {
            let dir = render.join(p.as_map().unwrap()["string"].as_str().unwrap());
            streams.push(run(Command::new(kubectl).arg("kustomize").arg(dir)));
        } else {
            let rel = param("output_helm_path").unwrap().as_map().unwrap()["string"].as_str().unwrap().to_string();
            let chart = render.join(&rel);
            let meta = gomplate::yaml::decode(&fs::read_to_string(chart.join("Chart.yaml")).unwrap()).unwrap();
            fs::create_dir_all(chart.join("charts")).unwrap();
            for dep in meta.as_map().unwrap().get("dependencies").and_then(Value::as_list).unwrap_or_default() {
                let dep = dep.as_map().unwrap();
                let (dep_name, version) = (dep["name"].as_str().unwrap(), dep["version"].as_str().unwrap());
                if let Some(local) = dep.get("repository").and_then(Value::as_str).and_then(|r| r.strip_prefix("file://")) {
                    run(Command::new("cp").arg("-r").arg(chart.join(local)).arg(chart.join("charts").join(dep_name)));
                    continue;
                }
                let tgz = fs::read_dir(fixtures.join("charts"))
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| {
                        let f = p.file_name().unwrap().to_string_lossy();
                        f.strip_prefix(&format!("{dep_name}-")).is_some_and(|v| v.trim_start_matches('v') == format!("{version}.tgz"))
                    })
                    .unwrap_or_else(|| panic!("no fixture chart for {dep_name} {version}"));
                fs::copy(&tgz, chart.join("charts").join(tgz.file_name().unwrap())).unwrap();
            }
            let mut cmd = Command::new(helm);
            cmd.args(["template", &name]).arg(&chart).args(["--namespace", &namespace, "--include-crds"]);
            if let Some(files) = param("output_helm_values_files") {
                for f in files.as_map().unwrap()["array"].as_list().unwrap() {
                    let f = chart.join(f.as_str().unwrap());
                    if f.is_file() {
                        cmd.arg("--values").arg(f);
                    }
                }
            }
            streams.push(run(&mut cmd));
        }
    }
    streams
}

#[test]
fn the_inventory_of_deploykf_holds_every_rendered_and_runtime_image() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures) is absent");
        return;
    };
    let (Some(helm), Some(kubectl)) = (support::tools::helm(), support::tools::kubectl()) else { return };
    let Some(registry) = TestRegistry::start(RegistryOptions::plain().helm()) else { return };
    let fixtures = shared.join("fixtures");
    for (_, _, tgz) in CHARTS {
        registry.push_chart(&fixtures.join("charts").join(tgz), "charts");
    }
    let work = TempDir::new().unwrap();
    let zip = fixtures.join(format!("generators/deploykf-{VERSION}-generator.zip"));
    let mut values: Vec<PathBuf> = [format!("sample-values-{VERSION}.yaml"), format!("sample-values-overrides-{VERSION}.yaml")]
        .iter()
        .map(|n| fixtures.join("sample-values").join(n))
        .collect();
    let charts_file = work.path().join("charts.yaml");
    fs::write(&charts_file, chart_values(&registry.host())).unwrap();
    values.push(charts_file);
    let mirror_file = work.path().join("mirror.yaml");
    fs::write(&mirror_file, "mirror:\n  images:\n    registry: registry.example.com/deploykf\n  charts:\n    repository: oci://registry.example.com/deploykf/charts\n").unwrap();
    let home = work.path().join("home");
    fs::create_dir_all(&home).unwrap();

    let registry_host = registry.host();
    let inventory_run = |command: &str, output: &str, mirror: bool, verbose: bool| {
        let mut cmd = Command::new(bin());
        cmd.args([command, "--source-path"]).arg(&zip).args(["--output", output]);
        if verbose {
            cmd.arg("--verbose");
        }
        for v in &values {
            cmd.arg("--values").arg(v);
        }
        if mirror {
            cmd.arg("--mirror").arg(&mirror_file);
        }
        cmd.env("HOME", &home)
            .env("DEPLOYKF_CMP_HELM", &helm)
            .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
            .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", &registry_host)
            .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME");
        run_both(&mut cmd)
    };
    let inventory = |command: &str, output: &str, mirror: bool| inventory_run(command, output, mirror, false).0;

    // The three inventory runs go on while the test builds the tree itself.
    let (list_text, json_text, charts_text, streams) = std::thread::scope(|scope| {
        let list = scope.spawn(|| {
            let (list, stderr) = inventory_run("images", "list", false, false);
            // The tools' warnings: one line counting them.
            assert!(!stderr.contains("# Warning:"), "{stderr}");
            let summary: Vec<&str> = stderr.lines().filter(|l| l.ends_with("--verbose shows them")).collect();
            assert_eq!(summary.len(), 1, "{stderr}");
            assert!(summary[0].starts_with("kubectl printed "), "{stderr}");
            list
        });
        let json = scope.spawn(|| {
            let (json, stderr) = inventory_run("images", "json", true, true);
            assert!(stderr.contains("# Warning: 'commonLabels' is deprecated") && !stderr.contains("--verbose shows them"), "{stderr}");
            json
        });
        let charts = scope.spawn(|| inventory("charts", "json", true));
        let streams = independent_build(&zip, &values, work.path(), &fixtures, &helm, &kubectl);
        (list.join().unwrap(), json.join().unwrap(), charts.join().unwrap(), streams)
    });

    // Pulled charts are kept in the chart cache (~/.cache/deploykf-cmp here):
    // a later run downloads no chart again, and lists no file:// fork.
    let cached = fs::read_dir(home.join(".cache/deploykf-cmp/charts/sha256")).unwrap().count();
    assert_eq!(cached, CHARTS.len(), "one cached archive per pulled chart");
    let downloads = blob_downloads(&registry);
    assert!(downloads >= CHARTS.len(), "the first runs pulled the charts ({downloads})");
    let (charts_list, stderr) = inventory_run("charts", "list", false, false);
    assert_eq!(blob_downloads(&registry), downloads, "the second run takes the charts from the cache:\n{stderr}");
    assert_eq!(charts_list.lines().count(), CHARTS.len(), "{charts_list}");
    assert!(!charts_list.contains("file://"), "{charts_list}");
    let note: Vec<&str> = stderr.lines().filter(|l| l.contains("file://")).collect();
    assert_eq!(note.len(), 1, "{stderr}");
    assert!(note[0].starts_with("left out 1 file:// chart") && note[0].contains("trust-manager"), "{stderr}");
    let (mut pods, mut recipe) = (BTreeSet::new(), BTreeSet::new());
    for s in &streams {
        pod_images(s, &mut pods);
        recipe_images(s, &mut recipe);
    }
    check_images(&list_text, &json_text, &pods, &recipe);

    // The list is the input of `deploykf-cmp mirror --images-file`.
    let list_file = work.path().join("images.txt");
    fs::write(&list_file, &list_text).unwrap();
    let plan = run(Command::new(bin()).args(["mirror", "--dry-run", "--images-file"]).arg(&list_file).arg("--mirror").arg(&mirror_file));
    assert_eq!(plan.lines().count(), list_text.lines().count(), "one copy per listed image:\n{plan}");
    assert!(plan.contains("docker.io/istio/proxyv2:1.17.8-distroless -> registry.example.com/deploykf/"), "{plan}");

    // `mirror` with the inventory as input renders once for images and charts:
    // the same plan, plus the charts (here in an OCI registry), which copy as
    // images to where the rendered values send Helm.
    let mut cmd = Command::new(bin());
    cmd.args(["mirror", "--dry-run", "--source-path"]).arg(&zip).arg("--mirror").arg(&mirror_file);
    for v in &values {
        cmd.arg("--values").arg(v);
    }
    cmd.env("HOME", &home)
        .env("DEPLOYKF_CMP_HELM", &helm)
        .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
        .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", &registry_host)
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .env_remove("DEPLOYKF_CMP_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME");
    let (inventory_plan, stderr) = run_both(&mut cmd);
    let (image_lines, chart_lines): (Vec<&str>, Vec<&str>) = inventory_plan.lines().partition(|l| !l.starts_with(&format!("{registry_host}/charts/")));
    assert_eq!(image_lines, plan.lines().collect::<Vec<_>>(), "{stderr}");
    assert_eq!(chart_lines.len(), CHARTS.len(), "{inventory_plan}");
    let charts: serde_json::Value = serde_json::from_str(&charts_text).unwrap();
    let kyverno = charts.as_array().unwrap().iter().find(|c| c["name"] == "kyverno").unwrap();
    let target = kyverno["mirrored_repository"].as_str().unwrap().strip_prefix("oci://").unwrap();
    assert!(chart_lines.contains(&format!("{registry_host}/charts/kyverno:3.0.1 -> {target}/kyverno:3.0.1").as_str()), "{inventory_plan}");
    assert!(stderr.contains(&format!("the inventory lists {} images and {} charts", list_text.lines().count(), CHARTS.len() + 1)), "{stderr}");
    assert!(stderr.contains("left out 1 file:// chart"), "{stderr}");
    check_charts(&charts_text, &registry.host());
}

/// `deploykf-cmp generate` in plugin mode, then every component built by the test.
fn independent_build(zip: &Path, values: &[PathBuf], work: &Path, fixtures: &Path, helm: &Path, kubectl: &Path) -> Vec<String> {
    let render = work.join("render");
    let plugin_values = work.join("plugin.yaml");
    fs::write(&plugin_values, "argocd:\n  source:\n    repo: {url: 'https://git.example.com/r.git'}\n    plugin: {enabled: true}\n").unwrap();
    let mut gen = Command::new(bin());
    gen.arg("generate").arg("--source-path").arg(zip).arg("--output-dir").arg(&render);
    for v in values.iter().chain([&plugin_values]) {
        gen.arg("--values").arg(v);
    }
    gen.env("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/r.git")
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
        .env("ARGOCD_APP_SOURCE_PATH", ".")
        .env("ARGOCD_APP_PARAMETERS", "[]");
    run(&mut gen);
    build_components(&render, fixtures, helm, kubectl)
}

/// (1) `--output list` holds every pod-spec image and runtime-only ones; (2)
/// the recipe finds a strict subset; (4) JSON carries the same images with
/// sources and mirror locations.
fn check_images(list_text: &str, json_text: &str, pods: &BTreeSet<String>, recipe: &BTreeSet<String>) {
    let list: Vec<&str> = list_text.lines().collect();
    let mut sorted = list.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(list, sorted, "sorted and unique");
    let listed: BTreeSet<String> = list.iter().map(|s| s.to_string()).collect();
    assert!(pods.len() > 30, "{pods:?}");
    for image in pods.iter().filter(|i| *i != "auto") {
        let n = normalise(image).unwrap_or_else(|| panic!("pod image {image:?} is no reference"));
        assert!(listed.contains(&n), "the pod image {image} ({n}) is missing from the inventory:\n{list_text}");
    }
    let runtime_expected = [
        "docker.io/istio/proxyv2:1.17.8-distroless",
        "ghcr.io/deploykf/kubeflow-pipelines/kfp-launcher:2.1.0-deploykf.0",
        "ghcr.io/deploykf/kubeflow-pipelines/kfp-driver:2.1.0-deploykf.0",
    ];
    for image in runtime_expected {
        assert!(listed.contains(image), "runtime image {image} missing:\n{list_text}");
        assert!(!pods.iter().any(|p| normalise(p).as_deref() == Some(image)), "{image} is in a pod spec after all");
    }
    assert!(listed.iter().any(|i| i.contains("kubeflownotebookswg/jupyter-scipy")), "a notebook image:\n{list_text}");
    assert!(listed.iter().any(|i| i.contains("/argoexec:")), "the argo executor:\n{list_text}");

    // (2) deployKF's regex recipe finds a strict subset.
    let recipe: BTreeSet<String> = recipe.iter().filter_map(|i| normalise(i)).collect();
    assert!(recipe.len() > 30, "{recipe:?}");
    let missed: Vec<&String> = recipe.difference(&listed).collect();
    assert!(missed.is_empty(), "the recipe finds images the inventory lacks: {missed:?}");
    assert!(recipe.len() < listed.len(), "not strictly smaller: {} vs {}", recipe.len(), listed.len());

    // (4) JSON (with a mirror) and text carry the same images, with sources.
    let json: serde_json::Value = serde_json::from_str(json_text).unwrap();
    let entries = json.as_array().unwrap();
    let json_images: BTreeSet<String> = entries.iter().map(|e| e["image"].as_str().unwrap().to_string()).collect();
    assert_eq!(json_images, listed);
    let proxy = entries.iter().find(|e| e["image"] == "docker.io/istio/proxyv2:1.17.8-distroless").unwrap();
    assert_eq!(proxy["runtime_only"], true, "{proxy}");
    assert_eq!(proxy["mirrored"], "registry.example.com/deploykf/docker.io/istio/proxyv2:1.17.8-distroless", "{proxy}");
    assert!(
        proxy["sources"].as_array().unwrap().iter().any(|s| s["resource"].as_str().unwrap_or_default().starts_with("ConfigMap/istio-system/istio-sidecar-injector")),
        "{proxy}"
    );
    let launcher = entries.iter().find(|e| e["image"] == runtime_expected[1]).unwrap();
    let launcher_sources = launcher["sources"].as_array().unwrap();
    assert!(
        // ml-pipeline reads it from this ConfigMap (env valueFrom).
        launcher_sources.iter().any(|s| s["how"] == "runtime"
            && s["component"] == "kf-tools--pipelines"
            && s["resource"] == "ConfigMap/kubeflow/pipeline-install-config"),
        "{launcher}"
    );
    assert!(launcher_sources.iter().any(|s| s["values_path"] == "kubeflow_tools.pipelines.kfpV2.launcherImage"), "{launcher}");
    // A tag left empty in the values, resolved by rendering, keeps its values path.
    let cert_manager = entries
        .iter()
        .find(|e| e["image"] == "quay.io/jetstack/cert-manager-controller:v1.12.10")
        .expect("the cert-manager controller");
    assert_eq!(cert_manager["runtime_only"], false);
    assert!(cert_manager["sources"].as_array().unwrap().iter().any(|s| s["how"] == "pod-spec"), "{cert_manager}");
    assert!(
        cert_manager["sources"].as_array().unwrap().iter().any(|s| s["values_path"]
            == "deploykf_dependencies.cert_manager.images.certManagerController.repository"),
        "its tag is empty (~) in the values: {cert_manager}"
    );
    assert!(
        proxy["sources"].as_array().unwrap().iter().any(|s| s["values_path"] == "deploykf_dependencies.istio.images.istioProxy.repository"),
        "{proxy}"
    );

    assert!(
        entries.iter().filter(|e| e["runtime_only"] == true).all(|e| e["sources"].as_array().unwrap().iter().all(|s| s["how"] != "pod-spec")),
        "runtime-only entries have no pod-spec source"
    );
}

/// (3) `charts --output json`: each chart with its version and component.
fn check_charts(charts_text: &str, registry_host: &str) {
    let charts: serde_json::Value = serde_json::from_str(charts_text).unwrap();
    let charts = charts.as_array().unwrap();
    let found: BTreeSet<(String, String, String)> = charts
        .iter()
        .map(|c| {
            if c["repository"].as_str().unwrap().starts_with("file://") {
                assert_eq!(c["mirrored_repository"], serde_json::Value::Null, "a fork in the generator: {c}");
            } else {
                assert_eq!(c["repository"], format!("oci://{registry_host}/charts"), "{c}");
                assert!(c["mirrored_repository"].as_str().unwrap().starts_with("oci://registry.example.com/deploykf/charts"), "{c}");
            }
            (c["name"].as_str().unwrap().into(), c["version"].as_str().unwrap().into(), c["component"].as_str().unwrap().into())
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("base", "1.17.8", "dkf-dep--istio"),
        ("cert-manager", "1.12.10", "dkf-dep--cert-manager"),
        ("gateway", "1.17.8", "dkf-core--deploykf-istio-gateway"),
        ("istiod", "1.17.8", "dkf-dep--istio"),
        ("kyverno", "3.0.1", "dkf-dep--kyverno"),
        ("trust-manager", "0.9.2-deploykf", "dkf-dep--cert-manager"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(found, expected);
    let cm = charts.iter().find(|c| c["name"] == "cert-manager").unwrap();
    assert_eq!(cm["resolved_version"], "v1.12.10", "{cm}");
}

#[test]
fn a_bad_mirror_file_fails_before_anything_renders() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures) is absent");
        return;
    };
    let zip = shared.join(format!("fixtures/generators/deploykf-{VERSION}-generator.zip"));
    let work = TempDir::new().unwrap();
    let mirror = work.path().join("mirror.yaml");
    fs::write(&mirror, "images:\n  registry: r.example.com\n").unwrap();
    for command in ["images", "charts"] {
        let out = Command::new(bin())
            .args([command, "--source-path"])
            .arg(&zip)
            .arg("--mirror")
            .arg(&mirror)
            .env("DEPLOYKF_CMP_HELM", "/nonexistent/helm")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(stderr.contains("mirror.yaml") && stderr.contains("put it under a top-level `mirror:` key"), "{stderr}");
    }
}

/// `images --since-source-path` and `charts --since-source-path` from deployKF
/// 0.1.4 to 0.1.5, each with its sample values: exactly the references the
/// 0.1.5 list holds and the 0.1.4 list does not, computed here from two full
/// `--output list` runs of each command.
#[test]
fn the_upgrade_diff_lists_exactly_what_0_1_5_adds_to_0_1_4() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures) is absent");
        return;
    };
    let (Some(helm), Some(kubectl)) = (support::tools::helm(), support::tools::kubectl()) else { return };
    let Some(registry) = TestRegistry::start(RegistryOptions::plain().helm()) else { return };
    let fixtures = shared.join("fixtures");
    for entry in fs::read_dir(fixtures.join("charts")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "tgz") {
            registry.push_chart(&entry.path(), "charts");
        }
    }
    let work = TempDir::new().unwrap();
    let charts_file = work.path().join("charts.yaml");
    fs::write(&charts_file, chart_values(&registry.host())).unwrap();
    let version_args = |version: &str| -> (PathBuf, Vec<PathBuf>) {
        let zip = fixtures.join(format!("generators/deploykf-{version}-generator.zip"));
        let mut values: Vec<PathBuf> = [format!("sample-values-{version}.yaml"), format!("sample-values-overrides-{version}.yaml")]
            .iter()
            .map(|n| fixtures.join("sample-values").join(n))
            .collect();
        values.push(charts_file.clone());
        (zip, values)
    };
    let (old_zip, old_values) = version_args("0.1.4");
    let (new_zip, new_values) = version_args("0.1.5");
    let home = work.path().join("home");
    fs::create_dir_all(&home).unwrap();
    let registry_host = registry.host();
    let inventory = |command: &str, zip: &Path, values: &[PathBuf], since: bool| {
        let mut cmd = Command::new(bin());
        cmd.args([command, "--output", "list", "--source-path"]).arg(zip);
        for v in values {
            cmd.arg("--values").arg(v);
        }
        if since {
            cmd.arg("--since-source-path").arg(&old_zip);
            for v in &old_values {
                cmd.arg("--since-values").arg(v);
            }
        }
        cmd.env("HOME", &home)
            .env("DEPLOYKF_CMP_HELM", &helm)
            .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
            .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", &registry_host)
            .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME");
        run_both(&mut cmd)
    };
    let lines = |text: &str| -> BTreeSet<String> { text.lines().map(str::to_string).collect() };
    for command in ["images", "charts"] {
        let old = lines(&inventory(command, &old_zip, &old_values, false).0);
        let new = lines(&inventory(command, &new_zip, &new_values, false).0);
        let (added, stderr) = inventory(command, &new_zip, &new_values, true);
        let expected: Vec<String> = new.difference(&old).cloned().collect();
        assert!(!expected.is_empty() && expected.len() < new.len(), "{command}: {} of {}", expected.len(), new.len());
        // Sorted and unique like every list, and exactly the difference.
        assert_eq!(added.lines().collect::<Vec<_>>(), expected, "{command}:\n{stderr}");
        eprintln!("{command}: 0.1.5 lists {}, 0.1.4 {}, the upgrade adds {}", new.len(), old.len(), expected.len());
    }
}
