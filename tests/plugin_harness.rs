//! The whole deployKF 0.1.5 app-of-apps through `argocd-cmp-harness --recurse`
//! with this project's `plugin.yaml`: the generator zip and the sample values
//! in a repository folder, every upstream chart repository pointed at a real
//! registry (Debian's docker-registry with htpasswd auth and TLS from a test
//! CA) holding the fixture charts, credentials only in `HELM_REGISTRY_CONFIG`.
//! The root and every child Application must render.

mod common;
mod support;

use std::fs;

use common::shared;
use support::harness::{default_values, point_charts_at, Tree, CHARTS, REPO_URL, VERSION};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};

const USER: &str = "deploykf";
const PASSWORD: &str = "s3cret-Registry-pass";

/// The values file pointing the manifests repo and every chart repository at
/// the test setup (JSON, which is YAML).
fn registry_values(registry_host: &str) -> String {
    let mut values = serde_json::json!({
        "argocd": {"source": {"repo": {"url": REPO_URL, "revision": "main", "path": "."}}}
    });
    point_charts_at(&mut values, registry_host);
    values.to_string()
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
    let tree = Tree::new(&shared);

    // The stand-in chart list is exactly the generator's remote charts.
    let defaults = default_values(&tree.zip);
    let https_charts = defaults.matches("repository: https://").count();
    assert_eq!(https_charts, CHARTS.len(), "deployKF {VERSION} has {https_charts} https chart repositories");
    for (_, _, tgz) in CHARTS {
        registry.push_chart(&tree.charts().join(tgz), "charts");
    }

    fs::write(tree.repo().join("registry-values.yaml"), registry_values(&registry.host())).unwrap();
    let app = tree.write_app_of_apps(&["registry-values.yaml"]);
    let docker_config = tree.path("registry/config.json");
    write_docker_config(&docker_config, &registry.host(), USER, PASSWORD);

    let run = tree.run_harness_with_registry(&app, &[helm, kubectl], &docker_config, &registry);
    assert!(!run.stderr.contains(PASSWORD), "the registry password reached the output:\n{}", run.stderr);
    run.assert_every_application_rendered();
    // Helm children pulled their upstream charts from the registry.
    let cert_manager = run.manifests("dkf-dep--cert-manager");
    assert!(cert_manager.contains("quay.io/jetstack/cert-manager-controller:v1.12.10"), "cert-manager chart rendered");
    let istio = run.manifests("dkf-dep--istio");
    assert!(istio.contains("kind: CustomResourceDefinition"), "--include-crds");
    assert!(istio.contains("istio/pilot:1.17.8"), "istiod chart rendered");
}
