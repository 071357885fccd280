//! Checks of the deployment assets under `deploy/`: the kustomize components
//! build (with the real `kustomize` or `kubectl kustomize`) into a repo-server
//! with the sidecar Argo CD needs, the Helm values configure the same sidecar
//! and plugin, and the copies of `plugin.yaml` stay equal to the root one.

use std::path::{Path, PathBuf};
use std::process::Command;

use gomplate::{Map, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = repo().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn parse(text: &str, what: &str) -> Value {
    gomplate::yaml::decode(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
}

/// The value at `path` (map keys, or `[name]` for the list item with that `name`).
fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    let mut v = value;
    for step in path {
        v = match step.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(name) => named(v, name).unwrap_or_else(|| panic!("no item named {name:?} at {path:?}")),
            None => v.as_map().and_then(|m| m.get(*step)).unwrap_or_else(|| panic!("no key {step:?} at {path:?}")),
        };
    }
    v
}

fn named<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list.as_list()?.iter().find(|item| item.as_map().and_then(|m| m.get("name")).and_then(Value::as_str) == Some(name))
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    at(value, path).as_str().unwrap_or_else(|| panic!("{path:?} is not a string"))
}

fn map_at<'a>(value: &'a Value, path: &[&str]) -> &'a Map {
    at(value, path).as_map().unwrap_or_else(|| panic!("{path:?} is not a map"))
}

/// `name → value` of a container's `env`.
fn env_of(container: &Value) -> Map {
    let mut env = Map::new();
    for item in at(container, &["env"]).as_list().unwrap() {
        env.insert(str_at(item, &["name"]).to_string(), at(item, &["value"]).clone());
    }
    env
}

/// `mountPath → mount` of a container's `volumeMounts`.
fn mounts_of(container: &Value) -> Map {
    let mut mounts = Map::new();
    for item in at(container, &["volumeMounts"]).as_list().unwrap() {
        mounts.insert(str_at(item, &["mountPath"]).to_string(), item.clone());
    }
    mounts
}

/// Bytes of a Kubernetes binary quantity (`1Gi`, `512Mi`).
fn quantity(text: &str) -> u64 {
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let factor = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        other => panic!("unexpected unit {other:?} in {text:?}"),
    };
    n.parse::<u64>().unwrap() * factor
}

/// Builds a kustomization with `kustomize build` or `kubectl kustomize`;
/// `None` (the test is skipped) when neither is installed.
fn kustomize_build(dir: &Path) -> Option<Vec<Value>> {
    let runs = [("kustomize", vec!["build"]), ("kubectl", vec!["kustomize"])];
    for (tool, args) in runs {
        let output = match Command::new(tool).args(&args).arg(dir).output() {
            Ok(output) => output,
            Err(_) => continue,
        };
        assert!(
            output.status.success(),
            "{tool} {} {} failed:\n{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let text = String::from_utf8(output.stdout).unwrap();
        let docs = text.split("\n---\n").map(|doc| parse(doc, "kustomize output")).collect();
        return Some(docs);
    }
    eprintln!("skipped: neither kustomize nor kubectl is installed");
    None
}

fn plugin_yaml() -> Value {
    parse(&read("deploy/kustomize/sidecar/plugin.yaml"), "deploy/kustomize/sidecar/plugin.yaml")
}

#[test]
fn plugin_copy_matches_the_root_plugin_yaml() {
    let root = repo().join("plugin.yaml");
    if !root.exists() {
        eprintln!("skipped: no plugin.yaml at the repository root yet");
        return;
    }
    assert!(
        read("plugin.yaml") == read("deploy/kustomize/sidecar/plugin.yaml"),
        "deploy/kustomize/sidecar/plugin.yaml differs from plugin.yaml: run `cp plugin.yaml deploy/kustomize/sidecar/plugin.yaml` \
         and update configs.cmp.plugins.deploykf in deploy/helm/argocd-values.yaml"
    );
}

#[test]
fn plugin_is_named_deploykf_without_a_version() {
    let plugin = plugin_yaml();
    assert_eq!(str_at(&plugin, &["kind"]), "ConfigManagementPlugin");
    assert_eq!(str_at(&plugin, &["metadata", "name"]), "deploykf");
    assert!(!map_at(&plugin, &["spec"]).contains_key("version"), "a spec.version would rename the plugin");
}

#[test]
fn kustomize_example_adds_the_sidecar_to_the_repo_server() {
    let Some(docs) = kustomize_build(&repo().join("deploy/kustomize/example")) else { return };
    let deployment = docs
        .iter()
        .find(|d| str_at(d, &["kind"]) == "Deployment" && str_at(d, &["metadata", "name"]) == "argocd-repo-server")
        .expect("the build has the argocd-repo-server Deployment");
    let pod = at(deployment, &["spec", "template", "spec"]);
    let containers = at(pod, &["containers"]);
    assert!(named(containers, "argocd-repo-server").is_some(), "the patch merges, it does not replace the containers");
    let sidecar = named(containers, "deploykf-cmp").expect("the deploykf-cmp sidecar");

    assert_eq!(strs(at(sidecar, &["command"])), ["/var/run/argocd/argocd-cmp-server"]);
    assert_eq!(str_at(sidecar, &["image"]), "registry.example.internal/deploykf-cmp:0.1.0", "the overlay's `images:` applies");
    assert!(at(sidecar, &["securityContext", "runAsNonRoot"]).is_true());
    assert_eq!(at(sidecar, &["securityContext", "runAsUser"]).to_go_string(), "999");
    for bound in ["requests", "limits"] {
        let resources = map_at(sidecar, &["resources", bound]);
        assert!(resources.contains_key("cpu") && resources.contains_key("memory"), "resources.{bound}: {resources:?}");
    }

    let env = env_of(sidecar);
    let expected_env = [
        ("DEPLOYKF_CMP_CACHE_DIR", "/cache"),
        ("HELM_REGISTRY_CONFIG", "/etc/deploykf-cmp/registry/.dockerconfigjson"),
        ("SSL_CERT_FILE", "/etc/deploykf-cmp/ca/ca-bundle.crt"),
        ("HELM_CACHE_HOME", "/tmp/helm/cache"),
        ("HELM_CONFIG_HOME", "/tmp/helm/config"),
        ("HELM_DATA_HOME", "/tmp/helm/data"),
    ];
    for (name, value) in expected_env {
        assert_eq!(env.get(name).and_then(Value::as_str), Some(value), "env {name}");
    }

    let volumes = at(pod, &["volumes"]);
    let mounts = mounts_of(sidecar);
    let volume_of = |mount_path: &str| -> &Value {
        let mount = mounts.get(mount_path).unwrap_or_else(|| panic!("no mount at {mount_path}"));
        let name = str_at(mount, &["name"]);
        named(volumes, name).unwrap_or_else(|| panic!("the mount at {mount_path} names the undeclared volume {name}"))
    };
    for path in mounts.keys() {
        volume_of(path);
    }
    assert_eq!(str_at(volume_of("/var/run/argocd"), &["name"]), "var-files");
    assert_eq!(str_at(volume_of("/home/argocd/cmp-server/plugins"), &["name"]), "plugins");

    // The sidecar's own /tmp, not the repo-server's.
    let tmp = volume_of("/tmp");
    assert!(map_at(tmp, &[]).contains_key("emptyDir"));
    let repo_server_tmp = mounts_of(named(containers, "argocd-repo-server").unwrap());
    assert_ne!(str_at(tmp, &["name"]), str_at(&repo_server_tmp["/tmp"], &["name"]));

    // The cache volume is bounded, well above the renders' own bound.
    let cache = volume_of("/cache");
    let size_limit = quantity(str_at(cache, &["emptyDir", "sizeLimit"]));
    let max_mb: u64 = env.get("DEPLOYKF_CMP_CACHE_MAX_MB").and_then(Value::as_str).expect("a cache bound").parse().unwrap();
    assert!(2 * (max_mb << 20) <= size_limit, "the volume must leave room for renders in progress and pulled charts");

    let registry = &mounts["/etc/deploykf-cmp/registry"];
    assert!(at(registry, &["readOnly"]).is_true());
    let secret = volume_of("/etc/deploykf-cmp/registry");
    assert_eq!(str_at(secret, &["secret", "secretName"]), "deploykf-registry-credentials");
    let item = &at(secret, &["secret", "items"]).as_list().unwrap()[0];
    assert_eq!(str_at(item, &["key"]), ".dockerconfigjson", "the key `kubectl create secret docker-registry` writes");
    assert_eq!(format!("/etc/deploykf-cmp/registry/{}", str_at(item, &["path"])), env["HELM_REGISTRY_CONFIG"].as_str().unwrap());

    let ca = volume_of("/etc/deploykf-cmp/ca");
    assert_eq!(str_at(ca, &["configMap", "name"]), "deploykf-ca-bundle");
    let ca_item = &at(ca, &["configMap", "items"]).as_list().unwrap()[0];
    assert_eq!(format!("/etc/deploykf-cmp/ca/{}", str_at(ca_item, &["path"])), env["SSL_CERT_FILE"].as_str().unwrap());

    // The plugin config: a subPath mount of the generated ConfigMap (its name
    // carries kustomize's hash suffix), holding plugin.yaml byte for byte.
    let config = &mounts["/home/argocd/cmp-server/config/plugin.yaml"];
    assert_eq!(str_at(config, &["subPath"]), "plugin.yaml");
    let config_map_name = str_at(volume_of("/home/argocd/cmp-server/config/plugin.yaml"), &["configMap", "name"]);
    assert!(config_map_name.starts_with("deploykf-cmp-plugin"), "{config_map_name}");
    let config_map = docs
        .iter()
        .find(|d| str_at(d, &["kind"]) == "ConfigMap" && str_at(d, &["metadata", "name"]) == config_map_name)
        .expect("the volume names the generated ConfigMap");
    assert_eq!(str_at(config_map, &["metadata", "namespace"]), "argocd");
    assert_eq!(str_at(config_map, &["data", "plugin.yaml"]), read("deploy/kustomize/sidecar/plugin.yaml"));
}

fn strs(list: &Value) -> Vec<&str> {
    list.as_list().expect("a list").iter().map(|v| v.as_str().expect("a string")).collect()
}

#[test]
fn helm_values_configure_the_same_plugin() {
    let values = parse(&read("deploy/helm/argocd-values.yaml"), "deploy/helm/argocd-values.yaml");
    assert!(at(&values, &["configs", "cmp", "create"]).is_true(), "the chart must write argocd-cmp-cm");
    let plugins = map_at(&values, &["configs", "cmp", "plugins"]);
    let plugin = plugin_yaml();
    let name = str_at(&plugin, &["metadata", "name"]);
    assert_eq!(plugins.keys().collect::<Vec<_>>(), [name]);
    // The chart writes metadata.name from the key and `spec` from the value.
    assert!(
        plugins[name] == *at(&plugin, &["spec"]),
        "configs.cmp.plugins.{name} differs from the spec of deploy/kustomize/sidecar/plugin.yaml"
    );
}

#[test]
fn helm_sidecar_matches_the_kustomize_sidecar() {
    let values = parse(&read("deploy/helm/argocd-values.yaml"), "deploy/helm/argocd-values.yaml");
    let patch = parse(&read("deploy/kustomize/sidecar/repo-server-patch.yaml"), "repo-server-patch.yaml");
    let helm = at(&values, &["repoServer", "extraContainers", "[deploykf-cmp]"]);
    let kustomize = at(&patch, &["spec", "template", "spec", "containers", "[deploykf-cmp]"]);
    for key in ["image", "imagePullPolicy", "command", "args", "securityContext", "resources", "env"] {
        assert!(at(helm, &[key]) == at(kustomize, &[key]), "{key} differs between the Helm values and the kustomize patch");
    }

    let plugin_path = "/home/argocd/cmp-server/config/plugin.yaml";
    let (helm_mounts, kustomize_mounts) = (mounts_of(helm), mounts_of(kustomize));
    assert_eq!(helm_mounts.keys().collect::<Vec<_>>(), kustomize_mounts.keys().collect::<Vec<_>>());
    // The chart's ConfigMap holds one `<plugin>.yaml` per plugin.
    assert_eq!(str_at(&helm_mounts[plugin_path], &["name"]), "argocd-cmp-cm");
    let plugin_name = str_at(&plugin_yaml(), &["metadata", "name"]).to_string();
    assert_eq!(str_at(&helm_mounts[plugin_path], &["subPath"]), format!("{plugin_name}.yaml"));

    let helm_volumes = at(&values, &["repoServer", "volumes"]);
    let kustomize_volumes = at(&patch, &["spec", "template", "spec", "volumes"]);
    assert_eq!(str_at(helm_volumes, &["[argocd-cmp-cm]", "configMap", "name"]), "argocd-cmp-cm");
    for (path, mount) in &helm_mounts {
        let volume = str_at(mount, &["name"]);
        if ["var-files", "plugins"].contains(&volume) {
            continue; // declared by the chart
        }
        assert!(named(helm_volumes, volume).is_some(), "the mount at {path} names the undeclared volume {volume}");
        if path != plugin_path {
            assert!(mount == &kustomize_mounts[path], "the mounts at {path} differ");
            assert!(named(helm_volumes, volume) == named(kustomize_volumes, volume), "the volumes {volume} differ");
        }
    }
}

#[test]
fn app_of_apps_calls_the_plugin_with_announced_parameters() {
    let app = parse(&read("deploy/app-of-apps.yaml"), "deploy/app-of-apps.yaml");
    let plugin = plugin_yaml();
    assert_eq!(str_at(&app, &["spec", "source", "plugin", "name"]), str_at(&plugin, &["metadata", "name"]));
    let announced: Vec<&str> =
        at(&plugin, &["spec", "parameters", "static"]).as_list().unwrap().iter().map(|p| str_at(p, &["name"])).collect();
    let parameters = at(&app, &["spec", "source", "plugin", "parameters"]);
    for parameter in parameters.as_list().unwrap() {
        let name = str_at(parameter, &["name"]);
        assert!(announced.contains(&name), "{name} is not a parameter of the plugin");
    }
    assert!(named(parameters, "source_version").is_none(), "exactly one of source_version and source_path");
    assert!(str_at(parameters, &["[source_path]", "string"]).ends_with("-generator.zip"));
    assert!(!strs(at(parameters, &["[values_files]", "array"])).is_empty());
    let values = parse(str_at(parameters, &["[values]", "string"]), "the values parameter");
    assert_eq!(str_at(&values, &["argocd", "namespace"]), str_at(&app, &["metadata", "namespace"]));
}
