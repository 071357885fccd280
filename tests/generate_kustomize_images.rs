//! `deploykf-cmp generate --mirror` writes kustomize's input: bases holding
//! placeholder images (Kubeflow Pipelines' `gcr.io/ml-pipeline/api-server:dummy`)
//! and kustomizations whose `images:` entries retag them at build time. For
//! deployKF 0.1.5 with its sample values, every folder of the output holding
//! a kustomization that kustomize builds without the mirror must build with
//! it too, each container image being the mirror location of the image the
//! build without the mirror gives (same documents, same fields).

mod common;
mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, shared};
use gomplate::Value;
use tempfile::TempDir;

const MIRROR: &str = "mirror:
  images:
    registry: mirror.example.com/dkf
    overrides:
      - {from: docker.io/kubeflownotebookswg, to: mirror.example.com/notebooks}
";

/// Where the mirror configuration above sends `image` (Docker's
/// normalisation, then the override or the keep-host layout); Istio's
/// `auto` placeholder stays.
fn mirrored(image: &str) -> String {
    if image == "auto" {
        return image.to_string();
    }
    let last = image.rfind('/').map_or(0, |i| i + 1);
    let end = image.find('@').or_else(|| image[last..].find(':').map(|i| last + i)).unwrap_or(image.len());
    let (name, suffix) = image.split_at(end);
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let (host, path) = if first.contains(['.', ':']) || first == "localhost" {
        (if first == "index.docker.io" { "docker.io" } else { first }, rest)
    } else {
        ("docker.io", name)
    };
    let path = if host == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path.to_string() };
    match path.strip_prefix("kubeflownotebookswg/").filter(|_| host == "docker.io") {
        Some(rest) => format!("mirror.example.com/notebooks/{rest}{suffix}"),
        None => format!("mirror.example.com/dkf/{host}/{path}{suffix}"),
    }
}

#[test]
fn the_mapping_of_this_test() {
    for (image, expected) in [
        ("nginx", "mirror.example.com/dkf/docker.io/library/nginx"),
        ("kubeflow/training-operator:v1-5a5f92d", "mirror.example.com/dkf/docker.io/kubeflow/training-operator:v1-5a5f92d"),
        ("gcr.io/ml-pipeline/api-server:dummy", "mirror.example.com/dkf/gcr.io/ml-pipeline/api-server:dummy"),
        ("localhost:5000/a/b@sha256:0f", "mirror.example.com/dkf/localhost:5000/a/b@sha256:0f"),
        ("docker.io/kubeflownotebookswg/jupyter-web-app:v1.7.0", "mirror.example.com/notebooks/jupyter-web-app:v1.7.0"),
    ] {
        assert_eq!(mirrored(image), expected);
    }
}

/// `(document, field, image)` of every container image of a built stream:
/// each `image` of a list under `containers` or `initContainers`, at any
/// depth (where kustomize's `images:` transformer writes).
fn container_images(stream: &str) -> Vec<(String, String, String)> {
    fn walk(value: &Value, field: &str, doc: &str, out: &mut Vec<(String, String, String)>) {
        match value {
            Value::Map(map) => {
                for (key, child) in map.iter() {
                    let at = format!("{field}.{key}");
                    if key == "containers" || key == "initContainers" {
                        for (i, c) in child.as_list().unwrap_or_default().iter().enumerate() {
                            if let Some(image) = c.as_map().and_then(|m| m.get("image")).and_then(Value::as_str) {
                                out.push((doc.to_string(), format!("{at}[{i}].image"), image.to_string()));
                            }
                        }
                    }
                    walk(child, &at, doc, out);
                }
            }
            Value::List(list) => {
                for (i, item) in list.iter().enumerate() {
                    walk(item, &format!("{field}[{i}]"), doc, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (n, doc) in stream.split("\n---\n").enumerate() {
        let value = gomplate::yaml::decode(doc.trim_start_matches("---\n")).unwrap();
        let name = value.as_map().and_then(|m| m.get("metadata")).and_then(Value::as_map).and_then(|m| m.get("name"));
        let doc = format!("document {} ({})", n + 1, name.and_then(Value::as_str).unwrap_or_default());
        walk(&value, "", &doc, &mut out);
    }
    out
}

/// Every folder below `root` holding a kustomization, sorted.
fn kustomize_folders(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut has_kustomization = false;
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if ["kustomization.yaml", "kustomization.yml", "Kustomization"].iter().any(|n| entry.file_name() == *n) {
                has_kustomization = true;
            }
        }
        if has_kustomization {
            found.push(dir.strip_prefix(root).unwrap().to_path_buf());
        }
    }
    found.sort();
    found
}

/// `kubectl kustomize DIR`: the stream, or kustomize's error.
fn build(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let out = Command::new(kubectl).arg("kustomize").arg(dir).output().unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn kustomize_builds_of_a_mirrored_output_deploy_the_mirrored_images() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures) is absent");
        return;
    };
    let Some(kubectl) = support::tools::kubectl() else { return };
    let fixtures = shared.join("fixtures");
    let work = TempDir::new().unwrap();
    let argo = work.path().join("argo.yaml");
    fs::write(&argo, "argocd:\n  source:\n    repo:\n      url: https://github.com/example/deploykf.git\n      revision: main\n      path: ./out/\n").unwrap();
    let mirror = work.path().join("mirror.yaml");
    fs::write(&mirror, MIRROR).unwrap();
    let generate = |out: &str, with_mirror: bool| {
        let mut cmd = Command::new(bin());
        cmd.arg("generate").arg("--source-path").arg(fixtures.join("generators/deploykf-0.1.5-generator.zip"));
        for v in ["sample-values-0.1.5.yaml", "sample-values-overrides-0.1.5.yaml"] {
            cmd.arg("--values").arg(fixtures.join("sample-values").join(v));
        }
        cmd.arg("--values").arg(&argo).arg("--output-dir").arg(work.path().join(out));
        if with_mirror {
            cmd.arg("--mirror").arg(&mirror);
        }
        cmd.env("HOME", work.path()).env_remove("DEPLOYKF_CMP_MIRROR_CONFIG").env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE");
        let run = cmd.output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        work.path().join(out)
    };
    let (plain, mirrored_out) = (generate("plain", false), generate("mirrored", true));

    let folders = kustomize_folders(&plain);
    assert_eq!(folders, kustomize_folders(&mirrored_out));
    let pipelines = Path::new("manifests/kubeflow-tools/pipelines");
    assert!(folders.iter().any(|f| f == pipelines), "{folders:?}");
    let (mut built, mut images, mut pipeline_images) = (0, 0, 0);
    let mut unbuildable = Vec::new();
    for folder in &folders {
        let (before, after) =
            std::thread::scope(|s| {
                let after = s.spawn(|| build(&kubectl, &mirrored_out.join(folder)));
                (build(&kubectl, &plain.join(folder)), after.join().unwrap())
            });
        let Ok(before) = before else {
            // Not a buildable folder on its own (a patch folder of a parent).
            unbuildable.push(folder.display().to_string());
            continue;
        };
        let after = after.unwrap_or_else(|e| panic!("{}: builds without the mirror, not with it:\n{e}", folder.display()));
        let (before, after) = (container_images(&before), container_images(&after));
        let expected: Vec<_> = before.iter().map(|(d, f, i)| (d.clone(), f.clone(), mirrored(i))).collect();
        assert_eq!(after, expected, "{}: the build with the mirror deploys other images", folder.display());
        built += 1;
        images += before.len();
        if folder == pipelines {
            // Every Kubeflow Pipelines placeholder was retagged by deployKF's kustomization.
            assert!(after.iter().all(|(_, _, i)| !i.ends_with(":dummy")), "{after:?}");
            pipeline_images = after.len();
        }
    }
    eprintln!("{built} kustomize folders built ({images} container images), {} not buildable alone: {unbuildable:?}", unbuildable.len());
    assert!(built >= 50 && images >= 100, "{built} folders, {images} images");
    assert!(pipeline_images >= 10, "{} builds {pipeline_images} container images", pipelines.display());
}
