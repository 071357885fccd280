//! Finding images in a component's rendered manifests, through the one
//! recognizer the mirror rewrite and leak check use
//! ([`manifests::images_in_stream`]): pod-spec images, and the runtime-only
//! ones no pod spec holds but controllers start later (the Istio sidecar
//! proxy of the injector's values, `*_IMAGE` env values such as Kubeflow
//! Pipelines' `V2_LAUNCHER_IMAGE`, `--executor-image` flags, the notebook
//! spawner's images, Katib's suggestion/metrics-collector images and trial
//! templates in ConfigMap data), and `image:` lines of templates. What is
//! listed here is what the rewrite redirects. The image locations of the
//! values are listed too ([`values_images`]), found by the overlay's walk.

use anyhow::Result;
use gomplate::Map;
use image_ref::ImageRef;

use crate::manifests;
use crate::manifests::recognize::{as_image, Place};
use crate::mirror::overlay::{self, ImageSpot, Visit};

/// How an image was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// In a pod spec of a rendered manifest.
    PodSpec,
    /// Elsewhere in a rendered manifest: used at runtime, in no pod spec.
    Runtime,
    /// In an `image:` line of text that is not YAML (a template).
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
    /// The field in the resource (a space enters a string: `data["x"] a.image`).
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

/// Every image of one component's manifests.
pub fn component_images(component: &str, stream: &str) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for image_use in manifests::images_in_stream(stream)? {
        let Ok(image) = ImageRef::parse(&image_use.image) else { continue };
        let how = match image_use.place {
            Place::PodSpec => How::PodSpec,
            Place::Runtime | Place::Composed => How::Runtime,
            Place::Text => How::Text,
            Place::Prefix | Place::Kustomization => continue,
        };
        let source = Source {
            how,
            component: Some(component.to_string()),
            resource: Some(image_use.resource),
            field: Some(image_use.field),
            values_path: None,
        };
        found.push(Found { image, source });
    }
    Ok(found)
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

/// The image locations of the merged values, where the mirror overlay finds
/// them ([`overlay::walk`]): `images.<name>.{repository,tag}` maps (Helm-style
/// `registry` siblings joined), image-key strings and spawner groups.
pub fn values_images(values: &Map) -> Vec<ValuesImage> {
    let mut list = ListImages(Vec::new());
    overlay::walk(values, &mut list).expect("listing values images cannot fail");
    list.0
}

/// The walk's visitor of [`values_images`]: records, replaces nothing.
struct ListImages(Vec<ValuesImage>);

impl Visit for ListImages {
    fn image(&mut self, spot: &ImageSpot<'_>) -> Result<Option<ImageRef>> {
        let Some(base) = as_image(spot.value) else { return Ok(None) };
        if spot.tag.as_deref().is_some_and(|t| t.contains("{{")) {
            return Ok(None);
        }
        let reference = match spot.tag.as_deref().filter(|t| !t.is_empty()) {
            Some(tag) => ImageRef::parse_loose(spot.value, Some(tag)).ok(),
            None if base.tag.is_some() || base.digest.is_some() || !spot.repository => Some(base.clone()),
            // An empty tag: rendering gives it, so any tag of the name matches.
            None => None,
        };
        self.0.push(ValuesImage { path: spot.path.to_string(), name: base.name(), reference });
        Ok(None)
    }

    fn chart_repository(&mut self, _path: &str, _url: &str) -> Result<Option<String>> {
        Ok(None)
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
        assert_eq!(spawner.source.field.as_deref(), Some("data[\"spawner_ui_config.yaml\"] spawnerFormDefaults.image.value"));
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

    /// deployKF 0.1.5 with its sample values, every component built (kustomize,
    /// or helm with the fixture charts): every image the inventory lists is
    /// redirected by the rewrite at the same resource and field, and no public
    /// reference is left, neither for the recognizer nor for deployKF's
    /// `image:` regex over the rewritten text.
    #[test]
    fn the_inventory_and_the_rewrite_agree_on_deploykf() {
        use crate::components::{self, chart_dependencies, helm::Release, Build, Tools};
        use crate::inventory::render;
        use crate::manifests::recognize::visit_text;
        use crate::settings::{Settings, HELM_ENV, KUBECTL_ENV};
        use std::path::{Path, PathBuf};

        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let fixtures = root.join("../shared/fixtures");
        let tool = |name: &str| [root.join(".tools/bin").join(name), PathBuf::from("/usr/bin").join(name), PathBuf::from("/usr/local/bin").join(name)].into_iter().find(|p| p.is_file());
        let (Some(kubectl), Some(helm)) = (tool("kubectl"), tool("helm")) else {
            eprintln!("skipped: needs kubectl and helm (.tools/bin or /usr/bin)");
            return;
        };
        if !fixtures.is_dir() {
            eprintln!("skipped: needs {}", fixtures.display());
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        // The components are rendered by the one build's render step; their
        // chart dependencies come from the fixtures instead of `prepare`.
        let vars = [(KUBECTL_ENV, kubectl.to_str().unwrap()), (HELM_ENV, helm.to_str().unwrap()), ("HOME", tmp.path().to_str().unwrap())];
        let settings = Settings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let tools = Tools::new(&settings, tmp.path().join("helm"), tmp.path().join("charts"), None);
        let source = crate::generator::source::GeneratorSource::from_path(&fixtures.join("generators/deploykf-0.1.5-generator.zip")).unwrap();
        let values = crate::generator::values::load(&source.default_values_path(), &crate::generator::values::Layer::read_all(&[fixtures.join("sample-values/sample-values-0.1.5.yaml")]).unwrap()).unwrap();
        let out_dir = tmp.path().join("out");
        render::render_generator(&source, values.as_map().unwrap().clone(), &out_dir).unwrap();
        let apps = render::applications(&render::app_of_apps_stream(&tools, &out_dir).unwrap()).unwrap();
        assert!(apps.len() >= 15, "{apps:?}");

        let rules = crate::mirror::config::parse(&gomplate::yaml::decode("images:\n  registry: mirror.example.com/dkf\n").unwrap(), "test").unwrap();
        let (mut listed, mut rewritten) = (0, 0);
        for app in &apps {
            let folder = components::folder(&out_dir, &app.build).unwrap();
            if let Build::Helm { .. } = &app.build {
                std::fs::create_dir_all(folder.join("charts")).unwrap();
                for dep in chart_dependencies(&folder).unwrap().into_iter().map(|d| d.dependency) {
                    if let Some(local) = dep.repository.strip_prefix("file://") {
                        crate::folder::copy(&folder.join(local), &folder.join("charts").join(&dep.name)).unwrap();
                    } else {
                        let tgz = [format!("{}-{}.tgz", dep.name, dep.version), format!("{}-v{}.tgz", dep.name, dep.version.trim_start_matches('v'))]
                            .iter()
                            .map(|f| fixtures.join("charts").join(f))
                            .find(|p| p.is_file())
                            .unwrap_or_else(|| panic!("no fixture chart for {} {}", dep.name, dep.version));
                        std::fs::copy(&tgz, folder.join("charts").join(tgz.file_name().unwrap())).unwrap();
                    }
                }
            }
            let release = Release { name: Some(app.name.clone()), namespace: app.namespace.clone(), ..Default::default() };
            let built = components::render(&folder, &app.build, &tools, &release).unwrap_or_else(|e| panic!("{}: {e:#}", app.name));
            let stream = String::from_utf8(built).unwrap();
            let inventory = component_images(&app.name, &stream).unwrap();
            let (out, uses) = manifests::rewrite_stream(&stream, &rules, None).unwrap();
            for found in &inventory {
                let (resource, field) = (found.source.resource.as_deref(), found.source.field.as_deref());
                let used = uses.iter().find(|u| Some(u.resource.as_str()) == resource && Some(u.field.as_str()) == field);
                let mirrored = used.and_then(|u| u.mirrored.as_deref()).and_then(|m| ImageRef::parse(m).ok());
                assert!(
                    mirrored.as_ref().is_some_and(|m| rules.is_mirrored(m)),
                    "{}: {} at {resource:?} {field:?} is listed but not redirected ({used:?})",
                    app.name,
                    found.image
                );
            }
            listed += inventory.len();
            rewritten += uses.iter().filter(|u| u.mirrored.is_some() && u.place != Place::Prefix).count();
            manifests::check(&uses, &rules).unwrap_or_else(|e| panic!("{}: {e}", app.name));
            let after = manifests::images_in_stream(&out).unwrap();
            manifests::check(&after, &rules).unwrap_or_else(|e| panic!("{}: after the rewrite: {e}", app.name));
            visit_text(&out, &app.name, "", &mut |spot| {
                let image = ImageRef::parse(spot.image).unwrap();
                assert!(rules.is_mirrored(&image), "{}: a public `image:` line is left: {}", app.name, spot.field);
                Ok(None)
            })
            .unwrap();
            // Independently of both: no public registry host starts a token
            // outside CRD schemas (prose).
            for doc in out.split("\n---").filter(|d| !d.contains("\nkind: CustomResourceDefinition\n")) {
                for line in doc.lines() {
                    for host in ["docker.io/", "gcr.io/", "ghcr.io/", "quay.io/", "registry.k8s.io/"] {
                        let starts_token = |i: usize| !line[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || "./-".contains(c));
                        assert!(
                            !line.match_indices(host).any(|(i, _)| starts_token(i)),
                            "{}: a public reference is left: {line}",
                            app.name
                        );
                    }
                }
            }
        }
        assert_eq!(listed, rewritten, "one redirect per listed image reference");
        assert!(listed > 80, "{listed} image references");
    }
}
