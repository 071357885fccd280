//! Finding images in a component's rendered manifests:
//! - pod-spec images, through [`manifests::images_in_stream`];
//! - runtime-only images, which no pod spec holds but which controllers start
//!   later: the Istio sidecar proxy (`hub`/`proxy.image`/`tag` in the
//!   `values` of the `istio-sidecar-injector` ConfigMap), images passed to
//!   controllers in container `env` (`*_IMAGE`, e.g. Kubeflow Pipelines'
//!   `V2_LAUNCHER_IMAGE`/`V2_DRIVER_IMAGE`) and `args` (`--executor-image`),
//!   and `image` keys anywhere else, also inside YAML held in strings
//!   (ConfigMap data: the notebook spawner's `image.value/options` and
//!   `imageGroup*`, Katib's collectors and suggestions, Kyverno policies);
//! - a last line-based pass with deployKF's documented extraction regex
//!   (`image: ["']?([^ {"']+)["']?`), so nothing that recipe finds is missed.
//!
//! Only strings that parse as image references count; templated strings
//! (`{{`) are not images.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use anyhow::{anyhow, Result};
use gomplate::{Map, Value};
use regex::Regex;

use crate::mirror::manifests;
use crate::mirror::reference::ImageRef;

/// How an image was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// In a pod spec of a rendered manifest.
    PodSpec,
    /// Elsewhere in a rendered manifest: used at runtime, in no pod spec.
    Runtime,
    /// Only by the line-based regex pass (an `image:` line in some text).
    Text,
    /// In the values (an `images.<name>` entry or an image key).
    Values,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::PodSpec => "pod-spec",
            How::Runtime => "runtime",
            How::Text => "text",
            How::Values => "values",
        }
    }
}

/// Where one image was found.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub how: How,
    /// The Application whose manifests hold it.
    pub component: Option<String>,
    /// `Kind/namespace/name`.
    pub resource: Option<String>,
    /// The field in the resource (`>` enters YAML held in a string).
    pub field: Option<String>,
    /// The values path.
    pub values_path: Option<String>,
}

/// An image and where it was found.
#[derive(Clone, Debug)]
pub struct Found {
    pub image: ImageRef,
    pub source: Source,
}

/// The documents of a `kustomize build`/`helm template` stream (split at
/// `---` lines), each with its text and decoded value (or why it does not
/// decode); empty documents are skipped.
pub fn documents(stream: &str) -> Vec<(Result<Value>, &str)> {
    let mut texts = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in stream.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            texts.push(&stream[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    texts.push(&stream[start..]);
    let mut docs = Vec::new();
    for (i, text) in texts.into_iter().enumerate() {
        match gomplate::yaml::decode(text) {
            Ok(Value::Nil | Value::Missing) => {}
            Ok(v) => docs.push((Ok(v), text)),
            Err(e) => docs.push((Err(anyhow!("document {} of the manifests: {e}", i + 1)), text)),
        }
    }
    docs
}

/// deployKF's extraction recipe (its private-registry docs).
static RECIPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"image: ["']?([^ {"']+)["']?"#).expect("valid regex"));

/// The image strings deployKF's regex recipe finds in `text` (as written),
/// line by line as `grep -o` applies it.
pub fn recipe_matches(text: &str) -> Vec<&str> {
    text.lines()
        .flat_map(|line| RECIPE.captures_iter(line).filter_map(|c| c.get(1)).map(|m| m.as_str()))
        .collect()
}

/// Every image of one component's manifests.
pub fn component_images(component: &str, stream: &str) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for (doc, text) in documents(stream) {
        let doc = match doc {
            Ok(doc) => doc,
            Err(e) => {
                // The engine's YAML reader is stricter than Kubernetes' with
                // some CRD descriptions: such documents hold no workload, and
                // the line-based pass still reads them.
                if !text.lines().any(|l| l.trim_end() == "kind: CustomResourceDefinition") {
                    eprintln!("deploykf-cmp: warning: in {component}: {e:#}; only its `image:` lines are read");
                }
                for s in recipe_matches(text) {
                    if let Ok(image) = ImageRef::parse(s) {
                        let source = Source {
                            how: How::Text,
                            component: Some(component.to_string()),
                            resource: None,
                            field: Some("image:".into()),
                            values_path: None,
                        };
                        found.push(Found { image, source });
                    }
                }
                continue;
            }
        };
        let Some(map) = doc.as_map() else { continue };
        let resource = resource_name(map);
        let source = |how: How, field: String| Source {
            how,
            component: Some(component.to_string()),
            resource: Some(resource.clone()),
            field: Some(field),
            values_path: None,
        };
        let mut seen_fields = BTreeSet::new();
        let mut seen_images = BTreeSet::new();
        for image_use in manifests::images_in_stream(text)? {
            let Ok(image) = ImageRef::parse(&image_use.image) else { continue };
            seen_fields.insert(image_use.field.clone());
            seen_images.insert(image.to_string());
            found.push(Found { image, source: source(How::PodSpec, image_use.field) });
        }
        let mut runtime = Vec::new();
        if map.get("kind").and_then(Value::as_str) == Some("ConfigMap") {
            istio_injector(map, &mut runtime);
        }
        walk(&doc, "", &mut runtime);
        for (field, image) in runtime {
            if seen_fields.contains(&field) {
                continue;
            }
            seen_images.insert(image.to_string());
            found.push(Found { image, source: source(How::Runtime, field) });
        }
        for s in recipe_matches(text) {
            let Ok(image) = ImageRef::parse(s) else { continue };
            if seen_images.insert(image.to_string()) {
                found.push(Found { image, source: source(How::Text, "image:".into()) });
            }
        }
    }
    Ok(found)
}

/// `Kind/namespace/name` (`Kind/name` without a namespace).
fn resource_name(map: &Map) -> String {
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("(no kind)");
    let meta = map.get("metadata").and_then(Value::as_map);
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let name = get("name").unwrap_or("(unnamed)");
    match get("namespace") {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path.ends_with('>') {
        format!("{path}{key}")
    } else {
        format!("{path}.{key}")
    }
}

/// A string that is an image reference (not templated, not empty).
fn as_image(s: &str) -> Option<ImageRef> {
    let s = s.trim();
    if s.is_empty() || s.contains("{{") || s.contains('$') {
        return None;
    }
    ImageRef::parse(s).ok()
}

/// Keys holding images: `image`, `*Image`, `*image`, `*_IMAGE`.
fn is_image_key(key: &str) -> bool {
    key.ends_with("Image") || key.ends_with("image") || key.ends_with("_IMAGE")
}

/// Collects `(field, image)` for image keys, env entries, `-image` arguments,
/// spawner groups, and YAML/JSON held in multi-line strings.
fn walk(value: &Value, path: &str, out: &mut Vec<(String, ImageRef)>) {
    match value {
        Value::Map(map) => {
            // An env entry `{name: X_IMAGE, value: ref}`.
            if let (Some(name), Some(v)) = (map.get("name").and_then(Value::as_str), map.get("value").and_then(Value::as_str)) {
                if is_image_key(name) {
                    if let Some(image) = as_image(v) {
                        out.push((join(path, "value"), image));
                    }
                }
            }
            for (key, child) in map.iter() {
                let at = join(path, key);
                match child {
                    Value::String(s) if is_image_key(key) => {
                        if let Some(image) = as_image(s) {
                            out.push((at, image));
                        }
                    }
                    Value::Map(group) if is_image_key(key) || key.starts_with("imageGroup") => {
                        if let Some(image) = group.get("value").and_then(Value::as_str).and_then(as_image) {
                            out.push((join(&at, "value"), image));
                        }
                        if let Some(options) = group.get("options").and_then(Value::as_list) {
                            for (i, option) in options.iter().enumerate() {
                                if let Some(image) = option.as_str().and_then(as_image) {
                                    out.push((format!("{at}.options[{i}]"), image));
                                }
                            }
                        }
                        walk(child, &at, out);
                    }
                    Value::List(args) if key == "args" || key == "command" => {
                        flag_images(args, &at, out);
                        walk(child, &at, out);
                    }
                    _ => walk(child, &at, out),
                }
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) if s.contains('\n') && s.contains("image") => {
            if let Ok(inner @ (Value::Map(_) | Value::List(_))) = gomplate::yaml::decode(s) {
                walk(&inner, &format!("{path}>"), out);
            }
        }
        _ => {}
    }
}

/// `--x-image REF` and `--x-image=REF` in an argument list.
fn flag_images(args: &[Value], path: &str, out: &mut Vec<(String, ImageRef)>) {
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = arg.as_str() else { continue };
        if !arg.starts_with('-') {
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg, None),
        };
        if !flag.ends_with("-image") {
            continue;
        }
        let (value, index) = match inline {
            Some(v) => (Some(v), i),
            None => (args.get(i + 1).and_then(Value::as_str), i + 1),
        };
        if let Some(image) = value.and_then(as_image) {
            out.push((format!("{path}[{index}]"), image));
        }
    }
}

/// The Istio sidecar (and init) images of an `istio-sidecar-injector`
/// ConfigMap: `global.hub` + `global.proxy.image` + `global.tag` (and
/// `global.variant`) from its `values` JSON, as istiod composes them; an
/// image holding a `/` is used as it is.
fn istio_injector(map: &Map, out: &mut Vec<(String, ImageRef)>) {
    let name = map.get("metadata").and_then(Value::as_map).and_then(|m| m.get("name")).and_then(Value::as_str);
    if !name.is_some_and(|n| n.starts_with("istio-sidecar-injector")) {
        return;
    }
    let Some(text) = map.get("data").and_then(Value::as_map).and_then(|d| d.get("values")).and_then(Value::as_str) else {
        return;
    };
    let Ok(Value::Map(values)) = gomplate::yaml::decode(text) else { return };
    let Some(global) = values.get("global").and_then(Value::as_map) else { return };
    let scalar = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.to_string()),
        Some(Value::Int(i)) => Some(i.to_string()),
        Some(Value::Float(f)) => Some(f.to_string()),
        _ => None,
    };
    let hub = scalar(global.get("hub")).unwrap_or_default();
    let mut tag = scalar(global.get("tag")).unwrap_or_default();
    if let Some(variant) = scalar(global.get("variant")).filter(|v| !v.is_empty()) {
        tag = format!("{tag}-{variant}");
    }
    for section in ["proxy", "proxy_init"] {
        let Some(image) = global.get(section).and_then(Value::as_map).and_then(|p| scalar(p.get("image"))) else {
            continue;
        };
        let full = if image.contains('/') || hub.is_empty() {
            image.clone()
        } else if tag.is_empty() {
            format!("{hub}/{image}")
        } else {
            format!("{hub}/{image}:{tag}")
        };
        if let Some(image) = as_image(&full) {
            out.push((format!("data.values>global.{section}.image"), image));
        }
    }
}

/// An image location in the values: a full reference, or a repository whose
/// tag is empty (rendering gives it).
#[derive(Clone, Debug)]
pub struct ValuesImage {
    pub path: String,
    /// `registry/repository` (normalised).
    pub name: String,
    /// The tag or digest, when the values give one.
    pub reference: Option<ImageRef>,
}

/// The image locations of the merged values: `images.<name>.{repository,tag}`
/// maps (Helm-style `registry` siblings joined), and image-key strings and
/// spawner groups (as the mirror overlay finds them).
pub fn values_images(values: &Map) -> Vec<ValuesImage> {
    let mut out = Vec::new();
    values_walk(values, "", &mut out);
    out
}

fn values_walk(map: &Map, path: &str, out: &mut Vec<ValuesImage>) {
    for (key, child) in map.iter() {
        let at = join(path, key);
        match child {
            Value::Map(m) if m.get("repository").and_then(Value::as_str).is_some() && !at.contains(".charts.") => {
                let repository = m.get("repository").and_then(Value::as_str).unwrap_or_default();
                let registry = m.get("registry").and_then(Value::as_str).filter(|r| !r.is_empty());
                let full = match registry {
                    Some(r) => format!("{r}/{repository}"),
                    None => repository.to_string(),
                };
                let tag = match m.get("tag") {
                    Some(Value::String(s)) => Some(s.to_string()),
                    Some(Value::Int(i)) => Some(i.to_string()),
                    Some(Value::Float(f)) => Some(f.to_string()),
                    _ => None,
                };
                if full.contains("{{") || tag.as_deref().is_some_and(|t| t.contains("{{")) {
                    continue;
                }
                if let Ok(base) = ImageRef::parse(&full) {
                    let reference = match tag.as_deref().filter(|t| !t.is_empty()) {
                        Some(t) => ImageRef::parse_loose(&full, Some(t)).ok(),
                        None if base.tag.is_some() || base.digest.is_some() => Some(base.clone()),
                        None => None,
                    };
                    out.push(ValuesImage { path: join(&at, "repository"), name: base.name(), reference });
                }
            }
            Value::String(s) if is_image_key(key) => {
                if let Some(image) = as_image(s) {
                    out.push(ValuesImage { path: at, name: image.name(), reference: Some(image) });
                }
            }
            Value::Map(m) if is_image_key(key) || key.starts_with("imageGroup") => {
                if let Some(image) = m.get("value").and_then(Value::as_str).and_then(as_image) {
                    out.push(ValuesImage { path: join(&at, "value"), name: image.name(), reference: Some(image) });
                }
                if let Some(options) = m.get("options").and_then(Value::as_list) {
                    for (i, option) in options.iter().enumerate() {
                        if let Some(image) = option.as_str().and_then(as_image) {
                            out.push(ValuesImage { path: format!("{at}.options[{i}]"), name: image.name(), reference: Some(image) });
                        }
                    }
                }
                values_walk(m, &at, out);
            }
            Value::Map(m) => values_walk(m, &at, out),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(m) = item.as_map() {
                        values_walk(m, &format!("{at}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(found: &[Found], how: How) -> Vec<String> {
        let mut v: Vec<String> = found.iter().filter(|f| f.source.how == how).map(|f| f.image.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn finds_pod_specs_runtime_images_and_recipe_lines() {
        let stream = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: ml-pipeline, namespace: kubeflow}
spec:
  template:
    spec:
      containers:
        - name: api
          image: gcr.io/ml-pipeline/api-server:2.0.5
          env:
            - {name: V2_LAUNCHER_IMAGE, value: "gcr.io/ml-pipeline/kfp-launcher:2.0.5"}
            - {name: OTHER, value: "gcr.io/not/an-image-var:1"}
          args: ["--executor-image", "quay.io/argoproj/argoexec:v3.3.10", "--x-image={{ .Tpl }}"]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global":{"hub":"docker.io/istio","tag":"1.17.8","proxy":{"image":"proxyv2"},"proxy_init":{"image":"proxyv2"}}}'
  config: |
    template: |
      image: "{{ .ProxyImage }}"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: jupyter-web-app-config, namespace: kubeflow}
data:
  spawner_ui_config.yaml: |
    spawnerFormDefaults:
      image:
        value: kubeflownotebookswg/jupyter-scipy:v1.7.0
        options: [kubeflownotebookswg/jupyter-pytorch-full:v1.7.0]
      imageGroupOne:
        value: kubeflownotebookswg/codeserver-python:v1.7.0
  notes: "see image: busybox:1.36 for debugging"
"#;
        let found = component_images("c", stream).unwrap();
        assert_eq!(images(&found, How::PodSpec), ["gcr.io/ml-pipeline/api-server:2.0.5"]);
        assert_eq!(
            images(&found, How::Runtime),
            [
                "docker.io/istio/proxyv2:1.17.8",
                "docker.io/istio/proxyv2:1.17.8",
                "docker.io/kubeflownotebookswg/codeserver-python:v1.7.0",
                "docker.io/kubeflownotebookswg/jupyter-pytorch-full:v1.7.0",
                "docker.io/kubeflownotebookswg/jupyter-scipy:v1.7.0",
                "gcr.io/ml-pipeline/kfp-launcher:2.0.5",
                "quay.io/argoproj/argoexec:v3.3.10",
            ]
        );
        assert_eq!(images(&found, How::Text), ["docker.io/library/busybox:1.36"]);
        let launcher = found.iter().find(|f| f.image.repository == "ml-pipeline/kfp-launcher").unwrap();
        assert_eq!(launcher.source.resource.as_deref(), Some("Deployment/kubeflow/ml-pipeline"));
        assert_eq!(launcher.source.field.as_deref(), Some("spec.template.spec.containers[0].env[0].value"));
        let spawner = found.iter().find(|f| f.image.repository.ends_with("jupyter-scipy")).unwrap();
        assert_eq!(spawner.source.field.as_deref(), Some("data.spawner_ui_config.yaml>spawnerFormDefaults.image.value"));
    }

    #[test]
    fn the_recipe_regex_reads_image_lines_as_deploykf_documents_it() {
        let text = "image: \"a/b:1\"\n  image: 'c:2'\nimage: {{ x }}\n- image: d@sha256:00\n";
        assert_eq!(recipe_matches(text), ["a/b:1", "c:2", "d@sha256:00"]);
    }

    #[test]
    fn values_images_keep_paths_and_leave_empty_tags_to_rendering() {
        let values = gomplate::yaml::decode(
            r#"
deploykf_core:
  deploykf_auth:
    images:
      dex: {repository: ghcr.io/dexidp/dex, tag: v2.37.0}
      oauth2Proxy: {repository: quay.io/oauth2-proxy/oauth2-proxy, tag: ""}
    charts:
      x: {repository: "https://charts.example.com"}
kubeflow_tools:
  notebooks:
    spawnerFormDefaults:
      image: {value: "kubeflownotebookswg/jupyter:v1", options: ["kubeflownotebookswg/jupyter:v1"]}
"#,
        )
        .unwrap();
        let found = values_images(values.as_map().unwrap());
        let shown: Vec<(String, String, Option<String>)> =
            found.iter().map(|v| (v.path.clone(), v.name.clone(), v.reference.as_ref().map(ToString::to_string))).collect();
        assert_eq!(
            shown,
            [
                ("deploykf_core.deploykf_auth.images.dex.repository".into(), "ghcr.io/dexidp/dex".into(), Some("ghcr.io/dexidp/dex:v2.37.0".into())),
                ("deploykf_core.deploykf_auth.images.oauth2Proxy.repository".into(), "quay.io/oauth2-proxy/oauth2-proxy".into(), None),
                (
                    "kubeflow_tools.notebooks.spawnerFormDefaults.image.value".into(),
                    "docker.io/kubeflownotebookswg/jupyter".into(),
                    Some("docker.io/kubeflownotebookswg/jupyter:v1".into())
                ),
                (
                    "kubeflow_tools.notebooks.spawnerFormDefaults.image.options[0]".into(),
                    "docker.io/kubeflownotebookswg/jupyter".into(),
                    Some("docker.io/kubeflownotebookswg/jupyter:v1".into())
                ),
            ]
        );
    }
}
