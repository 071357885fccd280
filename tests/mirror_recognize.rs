//! The after-render rewrite beyond pod specs, through `deploykf-cmp generate
//! --mirror` on a small generator whose manifests hold excerpts of what
//! deployKF 0.1.5 renders: Katib's `katib-config` (JSON in ConfigMap data)
//! and `trial-templates` (Jobs as YAML in data), Istio's injector template
//! (`image:` lines in a Go template) and the gateway's `image: auto`. Each
//! reference is redirected in place, the text around it unchanged; `auto`
//! stays; without a mirror nothing changes.

mod common;

use std::fs;

use common::{bin, write_tree, Run};
use tempfile::TempDir;

const KATIB_CONFIG: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: katib-config
  namespace: kubeflow
data:
  suggestion: |-
    {
      "random": {
        "image": "docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0"
      },
      "enas": {
        "image": "docker.io/kubeflowkatib/suggestion-enas:v0.15.0",
        "resources": {"limits": {"memory": "200Mi"}}
      }
    }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: trial-templates
  namespace: kubeflow
data:
  defaultTrialTemplate.yaml: |-
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: training-container
              image: docker.io/kubeflowkatib/mxnet-mnist:v0.15.0
              command:
                - "python3"
                - "--lr=${trialParameters.learningRate}"
          restartPolicy: Never
"#;

const ISTIO: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector
  namespace: istio-system
data:
  config: |-
    templates:
      grpc-simple: |
        spec:
          initContainers:
            - name: grpc-bootstrap-init
              image: busybox:1.28
          containers:
          - name: istio-proxy
            image: "{{ .ProxyImage }}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: deploykf-istio-gateway
  namespace: deploykf-istio-gateway
spec:
  selector:
    matchLabels: {app: gateway}
  template:
    metadata:
      labels: {app: gateway}
    spec:
      containers:
        - name: istio-proxy
          # "auto" will be populated at runtime by the mutating webhook.
          image: auto
"#;

fn generator() -> Vec<(String, String)> {
    [
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}"),
        ("default_values.yaml", "{}\n"),
        ("helpers/none.tpl", ""),
        ("templates/manifests/app/kustomization.yaml", "resources:\n  - katib.yaml\n  - istio.yaml\n"),
        ("templates/manifests/app/katib.yaml", KATIB_CONFIG),
        ("templates/manifests/app/istio.yaml", ISTIO),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

fn generate(dir: &TempDir, mirror: bool) -> Run {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["generate", "--source-path", "generator", "-O", "out"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("TMPDIR", dir.path())
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE");
    if mirror {
        cmd.args(["--mirror", "mirror.yaml"]);
    }
    cmd.output().unwrap().into()
}

#[test]
fn configmap_images_are_rewritten_in_place_and_auto_stays() {
    let dir = TempDir::new().unwrap();
    write_tree(&dir.path().join("generator"), &generator());
    fs::write(dir.path().join("mirror.yaml"), "mirror:\n  images:\n    registry: mirror.example.com/dkf\n").unwrap();
    let read = |f: &str| fs::read_to_string(dir.path().join("out/manifests/app").join(f)).unwrap();

    // Without a mirror the manifests are as the templates wrote them.
    generate(&dir, false).assert_ok();
    assert_eq!(read("katib.yaml"), KATIB_CONFIG);
    assert_eq!(read("istio.yaml"), ISTIO);

    let run = generate(&dir, true);
    run.assert_ok();
    assert!(run.stderr.contains("mirror: 4 image references rewritten in the output folder"), "{}", run.stderr);
    // Both Katib ConfigMaps are re-encoded; their values change only where a reference was.
    let katib = read("katib.yaml");
    let in_place = |text: &str| text.replace("docker.io/kubeflowkatib/", "mirror.example.com/dkf/docker.io/kubeflowkatib/");
    for (key, value) in [
        ("suggestion", KATIB_CONFIG.split("suggestion: |-\n").nth(1).unwrap().split("---").next().unwrap()),
        ("defaultTrialTemplate.yaml", KATIB_CONFIG.split("defaultTrialTemplate.yaml: |-\n").nth(1).unwrap()),
    ] {
        assert!(katib.contains(&in_place(value.trim_end())), "{key} is not rewritten in place:\n{katib}");
    }
    assert!(!katib.contains(" \"docker.io/") && !katib.contains(" docker.io/"), "{katib}");
    // The injector's template: only `busybox:1.28` changes; the gateway keeps `auto`.
    let istio = read("istio.yaml");
    assert!(istio.contains("\n              image: mirror.example.com/dkf/docker.io/library/busybox:1.28\n"), "{istio}");
    assert!(istio.contains("\n            image: \"{{ .ProxyImage }}\"\n"), "{istio}");
    assert!(istio.ends_with(ISTIO.split("---\n").nth(1).unwrap()), "the gateway Deployment is untouched:\n{istio}");
}
