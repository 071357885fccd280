//! The values overlay: before rendering, every image and chart location in the
//! merged values is redirected by the [`MirrorRules`](super::config::MirrorRules)
//! ([`apply`]). The locations are found by the one values walk ([`walk`]),
//! which the inventory also uses to list the values' images ([`Visit`]).
//!
//! The walk is generic (no per-version list of paths); it finds:
//! - maps named `images` whose children hold a `repository` (deployKF's
//!   `images.<name>.{repository,tag}`): `repository` is rewritten, an empty
//!   `tag` stays empty (the templates fill it in);
//! - under a key ending in `Image`/`image`: a string that parses as an image
//!   reference (`launcherImage`, `image: "gcr.io/x:y"`), or a map holding
//!   `repository` (Helm-chart style, with a `registry` sibling when there is one);
//! - notebook spawner groups (`image`, `imageGroupOne`, ...: a map with a
//!   `value` string and/or an `options` list of image strings);
//! - maps named `charts` whose children hold a `repository` (https and oci;
//!   `file://` forks are left alone).
//!
//! The overlay leaves strings holding templates (`{{`, which includes
//! deployKF's `{{<`) alone and reports them as [`Outcome::Templated`]. Every
//! location found is reported, rewritten or not.

use anyhow::{anyhow, bail, Result};
use gomplate::{Map, Value};
use image_ref::ImageRef;

use super::config::MirrorRules;

/// What a location holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Image,
    ChartRepository,
}

/// What the overlay did at a location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Replaced by this value.
    Rewritten(String),
    /// Left as is by the rules: excluded, already mirrored, a `file://` chart,
    /// or charts without `mirror.charts`.
    Kept,
    /// Left as is because it holds a template; only rendering knows its value.
    Templated,
}

/// One image or chart location in the values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rewrite {
    /// Values path, e.g. `deploykf_dependencies.cert_manager.images.controller.repository`
    /// (list items as `[i]`).
    pub path: String,
    pub kind: Kind,
    /// The value before the overlay (for a Helm-style `registry` +
    /// `repository` pair, the two joined; both keys change, `path` names
    /// `repository`).
    pub old: String,
    pub outcome: Outcome,
}

impl Rewrite {
    /// The value after the overlay (a full reference for a `registry` +
    /// `repository` pair).
    #[cfg(test)]
    pub fn new_value(&self) -> &str {
        match &self.outcome {
            Outcome::Rewritten(new) => new,
            _ => &self.old,
        }
    }
}

/// Returns `values` with every image and chart location redirected, and the
/// list of locations found (in values-path order).
pub fn apply(values: &Map, rules: &MirrorRules) -> Result<(Map, Vec<Rewrite>)> {
    let mut redirect = Redirect { rules, found: Vec::new() };
    let out = walk(values, &mut redirect)?;
    Ok((out, redirect.found))
}

/// One image location of the values, as [`walk`] hands it to a [`Visit`].
#[derive(Debug)]
pub struct ImageSpot<'a> {
    /// Values path (list items as `[i]`; for a Helm-style `registry` +
    /// `repository` pair, `repository`).
    pub path: &'a str,
    /// The string found (never empty; a `registry` + `repository` pair joined
    /// with `/`).
    pub value: &'a str,
    /// Whether `value` is a map's `repository`, which its `tag` sibling (or
    /// rendering, when that is empty) completes.
    pub repository: bool,
    /// That `tag` sibling, a number as written.
    pub tag: Option<String>,
    /// Whether the location must hold an image reference (a `repository`
    /// under a map named `images`); elsewhere a string that does not parse is
    /// not an image.
    pub required: bool,
}

/// What [`walk`] does at each location it finds.
pub trait Visit {
    /// An image location: the reference to put there instead, if any.
    fn image(&mut self, spot: &ImageSpot<'_>) -> Result<Option<ImageRef>>;
    /// A chart repository URL (never empty) at `path`: the URL to put there
    /// instead, if any.
    fn chart_repository(&mut self, path: &str, url: &str) -> Result<Option<String>>;
}

/// The one walk over values for image and chart locations (see the module
/// header for what it finds): each is handed to `visit`, and the values are
/// returned with the replacements it gave.
pub fn walk(values: &Map, visit: &mut impl Visit) -> Result<Map> {
    Walk { visit }.map(values, "")
}

struct Walk<'v, V> {
    visit: &'v mut V,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Keys whose values are images: `image`, `*Image`, `*image`.
fn is_image_key(key: &str) -> bool {
    key.ends_with("Image") || key.ends_with("image")
}

/// Notebook spawner image groups: `imageGroupOne`, `imageGroupTwo`, ...
fn is_spawner_group_key(key: &str) -> bool {
    key.starts_with("imageGroup")
}

fn is_templated(s: &str) -> bool {
    s.contains("{{")
}

impl<V: Visit> Walk<'_, V> {
    fn map(&mut self, map: &Map, path: &str) -> Result<Map> {
        let mut out = Map::new();
        for (key, value) in map {
            let at = join(path, key);
            let new = match value {
                Value::Map(m) if key == "images" => self.images(m, &at)?,
                Value::Map(m) if key == "charts" => self.charts(m, &at)?,
                Value::String(s) if is_image_key(key) => self.image_string(s, &at)?,
                Value::Map(m) if is_image_key(key) || is_spawner_group_key(key) => {
                    self.image_map(m, &at)?
                }
                other => self.value(other, &at)?,
            };
            out.insert(key.clone(), new);
        }
        Ok(out)
    }

    fn value(&mut self, value: &Value, path: &str) -> Result<Value> {
        Ok(match value {
            Value::Map(m) => Value::map(self.map(m, path)?),
            Value::List(items) => Value::list(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| self.value(v, &format!("{path}[{i}]")))
                    .collect::<Result<_>>()?,
            ),
            other => other.clone(),
        })
    }

    /// `images:` — children holding `repository` are images, others are walked.
    fn images(&mut self, map: &Map, path: &str) -> Result<Value> {
        let mut out = Map::new();
        for (name, child) in map {
            let at = join(path, name);
            let new = match child {
                Value::Map(m) if m.contains_key("repository") => {
                    self.repository_map(m, &at, true)?
                }
                other => self.value(other, &at)?,
            };
            out.insert(name.clone(), new);
        }
        Ok(Value::map(out))
    }

    /// A map under an image key: `{repository, tag}` or a spawner group.
    fn image_map(&mut self, map: &Map, path: &str) -> Result<Value> {
        if map.get("repository").is_some_and(|v| v.as_str().is_some()) {
            return self.repository_map(map, path, false);
        }
        if !map.contains_key("value") && !map.contains_key("options") {
            return Ok(Value::map(self.map(map, path)?));
        }
        let mut out = map.clone();
        if let Some(Value::String(s)) = map.get("value") {
            out.insert("value".into(), self.image_string(s, &join(path, "value"))?);
        }
        if let Some(Value::List(options)) = map.get("options") {
            let mut new = Vec::with_capacity(options.len());
            for (i, option) in options.iter().enumerate() {
                let at = format!("{path}.options[{i}]");
                new.push(match option {
                    Value::String(s) => self.image_string(s, &at)?,
                    other => self.value(other, &at)?,
                });
            }
            out.insert("options".into(), Value::list(new));
        }
        Ok(Value::map(out))
    }

    /// A map whose `repository` names an image (with a `registry` sibling in
    /// Helm-chart style). `required`: see [`ImageSpot::required`].
    fn repository_map(&mut self, map: &Map, path: &str, required: bool) -> Result<Value> {
        let Some(Value::String(repository)) = map.get("repository") else {
            return Ok(Value::map(self.map(map, path)?));
        };
        let at = join(path, "repository");
        let tag = match map.get("tag") {
            Some(Value::String(s)) => Some(s.to_string()),
            Some(Value::Int(i)) => Some(i.to_string()),
            Some(Value::Float(f)) => Some(f.to_string()),
            _ => None,
        };
        let registry = map
            .get("registry")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty());
        let full = match registry {
            Some(registry) => format!("{registry}/{repository}"),
            None => repository.to_string(),
        };
        if full.trim().is_empty() {
            return Ok(Value::map(map.clone()));
        }
        let spot = ImageSpot { path: &at, value: &full, repository: true, tag, required };
        let mut out = map.clone();
        if let Some(new) = self.visit.image(&spot)? {
            if registry.is_none() {
                out.insert("repository".into(), Value::str(new.to_string()));
            } else {
                out.insert("registry".into(), Value::str(new.registry.as_str()));
                let mut repo = new.repository.clone();
                // A tag or digest written inside `repository` stays there.
                let shown = new.to_string();
                repo.push_str(&shown[new.registry.len() + 1 + new.repository.len()..]);
                out.insert("repository".into(), Value::str(repo));
            }
        }
        Ok(Value::map(out))
    }

    /// A string that may be an image: replaced when the visitor says so.
    fn image_string(&mut self, s: &str, path: &str) -> Result<Value> {
        if s.trim().is_empty() {
            return Ok(Value::str(s));
        }
        let spot = ImageSpot { path, value: s, repository: false, tag: None, required: false };
        Ok(match self.visit.image(&spot)? {
            Some(new) => Value::str(new.to_string()),
            None => Value::str(s),
        })
    }

    /// `charts:` — children holding a `repository` string are chart repositories.
    fn charts(&mut self, map: &Map, path: &str) -> Result<Value> {
        let mut out = Map::new();
        for (name, child) in map {
            let at = join(path, name);
            let new = match child {
                Value::Map(m) if m.get("repository").is_some_and(|r| r.as_str().is_some()) => {
                    let url = m["repository"].as_str().unwrap_or_default();
                    let mut m = m.as_ref().clone();
                    if !url.trim().is_empty() {
                        if let Some(new) = self.visit.chart_repository(&join(&at, "repository"), url)? {
                            m.insert("repository".into(), Value::str(new));
                        }
                    }
                    Value::map(m)
                }
                other => self.value(other, &at)?,
            };
            out.insert(name.clone(), new);
        }
        Ok(Value::map(out))
    }
}

/// The overlay's visitor: every location redirected by the rules, and recorded.
struct Redirect<'r> {
    rules: &'r MirrorRules,
    found: Vec<Rewrite>,
}

impl Visit for Redirect<'_> {
    /// Records the location and returns its mirrored reference, if any.
    fn image(&mut self, spot: &ImageSpot<'_>) -> Result<Option<ImageRef>> {
        let (s, path) = (spot.value, spot.path);
        if is_templated(s) {
            self.record(path, Kind::Image, s, Outcome::Templated);
            return Ok(None);
        }
        let image = match ImageRef::parse(s) {
            Ok(image) => image,
            Err(e) if spot.required => {
                return Err(anyhow!(
                    "values {path}: {s:?} is not a valid image reference: {e:#}"
                ))
            }
            Err(_) => return Ok(None),
        };
        let new = self
            .rules
            .try_rewrite_image(&image)
            .map_err(|e| anyhow!("values {path}: cannot mirror {s:?}: {e:#}"))?;
        let outcome = match &new {
            Some(n) => Outcome::Rewritten(n.to_string()),
            None => Outcome::Kept,
        };
        self.record(path, Kind::Image, s, outcome);
        Ok(new)
    }

    fn chart_repository(&mut self, path: &str, url: &str) -> Result<Option<String>> {
        if is_templated(url) {
            self.record(path, Kind::ChartRepository, url, Outcome::Templated);
            return Ok(None);
        }
        let new = match self.rules.try_rewrite_chart_repository(url) {
            Ok(new) => new,
            Err(e) => bail!("values {path}: cannot mirror chart repository {url:?}: {e:#}"),
        };
        let outcome = match &new {
            Some(n) => Outcome::Rewritten(n.clone()),
            None => Outcome::Kept,
        };
        self.record(path, Kind::ChartRepository, url, outcome);
        Ok(new)
    }
}

impl Redirect<'_> {
    fn record(&mut self, path: &str, kind: Kind, old: &str, outcome: Outcome) {
        self.found.push(Rewrite {
            path: path.to_string(),
            kind,
            old: old.to_string(),
            outcome,
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::mirror::config;

    fn yaml_map(text: &str) -> Map {
        match gomplate::yaml::decode(text).expect("test YAML") {
            Value::Map(m) => m.as_ref().clone(),
            other => panic!("expected a map, got {other:?}"),
        }
    }

    const MIRROR: &str = r#"
mirror:
  images:
    registry: registry.example.com/deploykf
  charts:
    repository: oci://registry.example.com/deploykf/charts
"#;

    fn rules(text: &str) -> MirrorRules {
        config::parse(&yaml_map(text)["mirror"], "test").unwrap()
    }

    fn get<'a>(map: &'a Map, path: &str) -> &'a Value {
        let mut parts = path.split('.');
        let mut cur = &map[parts.next().unwrap()];
        for p in parts {
            cur = &cur.as_map().unwrap_or_else(|| panic!("{path}: {p}"))[p];
        }
        cur
    }

    fn outcome(found: &[Rewrite], path: &str) -> Outcome {
        found
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no location {path} in {found:#?}"))
            .outcome
            .clone()
    }

    #[test]
    fn images_maps_rewrite_repository_and_keep_an_empty_tag() {
        let values = yaml_map(
            r#"
deploykf_dependencies:
  cert_manager:
    images:
      controller: {repository: quay.io/jetstack/cert-manager-controller, tag: ~, pullPolicy: IfNotPresent}
      kubectl: {repository: bitnami/kubectl, tag: "1.26"}
      notAnImage: {foo: bar}
"#,
        );
        let (out, found) = apply(&values, &rules(MIRROR)).unwrap();
        let base = "deploykf_dependencies.cert_manager.images";
        assert_eq!(
            get(&out, &format!("{base}.controller.repository")).as_str(),
            Some("registry.example.com/deploykf/quay.io/jetstack/cert-manager-controller")
        );
        assert_eq!(get(&out, &format!("{base}.controller.tag")), &Value::Nil);
        assert_eq!(
            get(&out, &format!("{base}.controller.pullPolicy")).as_str(),
            Some("IfNotPresent")
        );
        assert_eq!(
            get(&out, &format!("{base}.kubectl.tag")).as_str(),
            Some("1.26")
        );
        assert_eq!(
            get(&out, &format!("{base}.notAnImage.foo")).as_str(),
            Some("bar")
        );
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].path, format!("{base}.controller.repository"));
        assert_eq!(found[0].old, "quay.io/jetstack/cert-manager-controller");
        assert_eq!(found[0].kind, Kind::Image);
        assert_eq!(
            found[1].new_value(),
            "registry.example.com/deploykf/docker.io/bitnami/kubectl"
        );
    }

    #[test]
    fn an_invalid_repository_under_images_is_an_error_naming_the_path() {
        let values = yaml_map("a: {images: {x: {repository: \"Not/Valid\"}}}");
        let e = format!("{:#}", apply(&values, &rules(MIRROR)).unwrap_err());
        assert!(
            e.starts_with(
                "values a.images.x.repository: \"Not/Valid\" is not a valid image reference"
            ),
            "{e}"
        );
    }

    #[test]
    fn strings_and_maps_under_image_keys() {
        let values = yaml_map(
            r#"
kfp:
  launcherImage: "ghcr.io/deploykf/kubeflow-pipelines/kfp-launcher:2.1.0-deploykf.0"
  emptyImage: ""
  allowCustomImage: true
  cache:
    image: "gcr.io/google-containers/busybox:1.27"
  proseImage: "Not An Image"
  templatedImage: "{{< .Values.x >}}:latest"
  valuesOverrides:
    server:
      image: {registry: docker.io, repository: bitnami/minio, tag: "2023"}
    sidecar:
      image: {repository: quay.io/x/y, tag: ""}
  description: "docker.io/not/an/image/key"
"#,
        );
        let (out, found) = apply(&values, &rules(MIRROR)).unwrap();
        assert_eq!(
            get(&out, "kfp.launcherImage").as_str(),
            Some("registry.example.com/deploykf/ghcr.io/deploykf/kubeflow-pipelines/kfp-launcher:2.1.0-deploykf.0")
        );
        assert_eq!(get(&out, "kfp.emptyImage").as_str(), Some(""));
        assert_eq!(get(&out, "kfp.allowCustomImage"), &Value::Bool(true));
        assert_eq!(
            get(&out, "kfp.cache.image").as_str(),
            Some("registry.example.com/deploykf/gcr.io/google-containers/busybox:1.27")
        );
        assert_eq!(get(&out, "kfp.proseImage").as_str(), Some("Not An Image"));
        assert_eq!(
            get(&out, "kfp.templatedImage").as_str(),
            Some("{{< .Values.x >}}:latest")
        );
        assert_eq!(outcome(&found, "kfp.templatedImage"), Outcome::Templated);
        // Helm-chart style registry + repository.
        assert_eq!(
            get(&out, "kfp.valuesOverrides.server.image.registry").as_str(),
            Some("registry.example.com")
        );
        assert_eq!(
            get(&out, "kfp.valuesOverrides.server.image.repository").as_str(),
            Some("deploykf/docker.io/bitnami/minio")
        );
        assert_eq!(
            get(&out, "kfp.valuesOverrides.server.image.tag").as_str(),
            Some("2023")
        );
        assert_eq!(
            get(&out, "kfp.valuesOverrides.sidecar.image.repository").as_str(),
            Some("registry.example.com/deploykf/quay.io/x/y")
        );
        // Keys that are not image keys are not touched.
        assert_eq!(
            get(&out, "kfp.description").as_str(),
            Some("docker.io/not/an/image/key")
        );
        let paths: Vec<&str> = found.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "kfp.cache.image",
                "kfp.launcherImage",
                "kfp.templatedImage",
                "kfp.valuesOverrides.server.image.repository",
                "kfp.valuesOverrides.sidecar.image.repository",
            ]
        );
    }

    #[test]
    fn notebook_spawner_groups_rewrite_value_and_options() {
        let values = yaml_map(
            r#"
spawnerFormDefaults:
  imagePullPolicy: {readOnly: false, value: IfNotPresent}
  image:
    value: kubeflownotebookswg/jupyter-scipy:v1.8.0
    options: [kubeflownotebookswg/jupyter-scipy:v1.8.0, "ghcr.io/x/y:1"]
  imageGroupOne:
    value: kubeflownotebookswg/codeserver-python:v1.8.0
    options: [kubeflownotebookswg/codeserver-python:v1.8.0]
spawnerIcons:
  imageGroupOne: {icon: "", logo: "<svg/>"}
"#,
        );
        let (out, found) = apply(&values, &rules(MIRROR)).unwrap();
        assert_eq!(
            get(&out, "spawnerFormDefaults.image.value").as_str(),
            Some(
                "registry.example.com/deploykf/docker.io/kubeflownotebookswg/jupyter-scipy:v1.8.0"
            )
        );
        let options = get(&out, "spawnerFormDefaults.image.options")
            .as_list()
            .unwrap();
        assert_eq!(
            options[1].as_str(),
            Some("registry.example.com/deploykf/ghcr.io/x/y:1")
        );
        assert_eq!(
            get(&out, "spawnerFormDefaults.imageGroupOne.options").as_list().unwrap()[0].as_str(),
            Some("registry.example.com/deploykf/docker.io/kubeflownotebookswg/codeserver-python:v1.8.0")
        );
        assert_eq!(
            get(&out, "spawnerFormDefaults.imagePullPolicy.value").as_str(),
            Some("IfNotPresent")
        );
        assert_eq!(
            get(&out, "spawnerIcons.imageGroupOne.logo").as_str(),
            Some("<svg/>")
        );
        assert_eq!(found.len(), 5);
        assert!(found
            .iter()
            .any(|r| r.path == "spawnerFormDefaults.image.options[1]"));
    }

    #[test]
    fn charts_rewrite_https_and_oci_and_keep_file() {
        let values = yaml_map(
            r#"
deploykf_dependencies:
  cert_manager:
    charts:
      certManager: {name: cert-manager, version: 1.12.10, repository: https://charts.jetstack.io}
      trustManager: {name: trust-manager, version: 0.9.2-deploykf, repository: file://forks/trust-manager}
      fromOci: {name: x, version: 1.0.0, repository: oci://ghcr.io/deploykf/charts}
"#,
        );
        let (out, found) = apply(&values, &rules(MIRROR)).unwrap();
        let base = "deploykf_dependencies.cert_manager.charts";
        assert_eq!(
            get(&out, &format!("{base}.certManager.repository")).as_str(),
            Some("oci://registry.example.com/deploykf/charts/charts.jetstack.io")
        );
        assert_eq!(
            get(&out, &format!("{base}.certManager.version")).as_str(),
            Some("1.12.10")
        );
        assert_eq!(
            get(&out, &format!("{base}.trustManager.repository")).as_str(),
            Some("file://forks/trust-manager")
        );
        assert_eq!(
            get(&out, &format!("{base}.fromOci.repository")).as_str(),
            Some("oci://registry.example.com/deploykf/charts/ghcr.io/deploykf/charts")
        );
        assert_eq!(
            outcome(&found, &format!("{base}.trustManager.repository")),
            Outcome::Kept
        );
        assert!(found.iter().all(|r| r.kind == Kind::ChartRepository));
        // Without mirror.charts, chart repositories stay (reported as kept).
        let images_only = rules("mirror: {images: {registry: registry.example.com}}");
        let (out, found) = apply(&values, &images_only).unwrap();
        assert_eq!(
            get(&out, &format!("{base}.certManager.repository")).as_str(),
            Some("https://charts.jetstack.io")
        );
        assert!(found.iter().all(|r| r.outcome == Outcome::Kept));
    }

    #[test]
    fn excluded_images_are_reported_and_kept() {
        let r = rules("mirror: {images: {registry: registry.example.com/deploykf, exclude: [\"ghcr.io/deploykf\"]}}");
        let values = yaml_map("a: {images: {d: {repository: ghcr.io/deploykf/dashboard}, e: {repository: ghcr.io/dexidp/dex}}}");
        let (out, found) = apply(&values, &r).unwrap();
        assert_eq!(
            get(&out, "a.images.d.repository").as_str(),
            Some("ghcr.io/deploykf/dashboard")
        );
        assert_eq!(outcome(&found, "a.images.d.repository"), Outcome::Kept);
        assert!(matches!(
            outcome(&found, "a.images.e.repository"),
            Outcome::Rewritten(_)
        ));
    }

    // --- The sample values of every supported deployKF version ---------------

    /// Registries the overlay must not leave behind.
    const PUBLIC_HOSTS: &[&str] = &[
        "docker.io",
        "index.docker.io",
        "ghcr.io",
        "quay.io",
        "gcr.io",
        "k8s.gcr.io",
        "registry.k8s.io",
        "public.ecr.aws",
        "mcr.microsoft.com",
        "nvcr.io",
        "registry.gitlab.com",
    ];

    /// Keys containing "image" that hold no image (the leak check knows them
    /// by name so that a new image key in a later version is not missed).
    const NOT_IMAGE_KEYS: &[&str] = &[
        "defaultImageVariant",
        "imagePullPolicy",
        "imagePullSecrets",
        "spawnerIcons",
    ];

    /// Leaves of image maps that are not references (`1.12.10` reads as one).
    const NOT_IMAGE_LEAVES: &[&str] = &["tag", "pullPolicy"];

    /// Flattens every scalar leaf as `path -> value`, with the overlay's path syntax.
    fn leaves(value: &Value, path: &str, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Map(m) => m.iter().for_each(|(k, v)| leaves(v, &join(path, k), out)),
            Value::List(l) => l
                .iter()
                .enumerate()
                .for_each(|(i, v)| leaves(v, &format!("{path}[{i}]"), out)),
            other => {
                out.insert(path.to_string(), other.clone());
            }
        }
    }

    /// Public images or https chart repositories left anywhere in `values`.
    fn leaks(values: &Map) -> Vec<String> {
        let mut all = BTreeMap::new();
        leaves(&Value::map(values.clone()), "", &mut all);
        let mut leaks = Vec::new();
        for (path, value) in &all {
            let Some(s) = value.as_str() else { continue };
            // Anywhere: a string naming a public registry.
            if PUBLIC_HOSTS.iter().any(|h| s.starts_with(&format!("{h}/"))) {
                leaks.push(format!("{path}: {s}"));
                continue;
            }
            // Under a key mentioning images: any reference outside the mirror.
            let imageish = path
                .split(['.', '['])
                .any(|k| k.to_ascii_lowercase().contains("image") && !NOT_IMAGE_KEYS.contains(&k));
            let leaf = path.rsplit('.').next().unwrap_or_default();
            if imageish && !s.is_empty() && !NOT_IMAGE_LEAVES.contains(&leaf) {
                if let Ok(image) = ImageRef::parse(s) {
                    if image.registry != "registry.example.com" {
                        leaks.push(format!("{path}: {s}"));
                    }
                }
            }
            // Chart repositories served over http(s).
            if path.ends_with(".repository")
                && (s.starts_with("https://") || s.starts_with("http://"))
            {
                leaks.push(format!("{path}: {s}"));
            }
        }
        leaks
    }

    /// (images rewritten, charts rewritten, charts kept) for one version, with
    /// the generator zip and sample values of `fixtures` (`../shared/fixtures`).
    fn check_version(fixtures: &std::path::Path, version: &str) -> (usize, usize, usize) {
        let zip = fixtures.join(format!("generators/deploykf-{version}-generator.zip"));
        let source = crate::generator::source::GeneratorSource::from_path(&zip).unwrap();
        let defaults = std::fs::read_to_string(source.default_values_path()).unwrap();
        let sample = fixtures.join(format!("sample-values/sample-values-{version}.yaml"));
        let sample = std::fs::read_to_string(&sample)
            .unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
        let merged = gomplate::funcs::coll::merge_values(&yaml_map(&defaults), &yaml_map(&sample));
        let before = leaks(&merged);
        assert!(
            before.len() > 40,
            "{version}: the leak check must see the public images first: {before:?}"
        );

        let (out, found) = apply(&merged, &rules(MIRROR)).unwrap();
        assert_eq!(
            leaks(&out),
            Vec::<String>::new(),
            "{version}: left outside the mirror"
        );

        // Only reported locations changed, and each changed to what was reported.
        let (mut old, mut new) = (BTreeMap::new(), BTreeMap::new());
        leaves(&Value::map(merged), "", &mut old);
        leaves(&Value::map(out), "", &mut new);
        assert_eq!(
            old.keys().collect::<Vec<_>>(),
            new.keys().collect::<Vec<_>>()
        );
        for (path, value) in &new {
            let rewrite = found.iter().find(|r| &r.path == path);
            match rewrite {
                Some(r) => assert_eq!(value.as_str(), Some(r.new_value()), "{path}"),
                None => assert_eq!(
                    value, &old[path],
                    "{version}: {path} changed but is not reported"
                ),
            }
        }
        for r in &found {
            if let Outcome::Rewritten(n) = &r.outcome {
                match r.kind {
                    Kind::Image => assert!(n.starts_with("registry.example.com/deploykf/"), "{n}"),
                    Kind::ChartRepository => assert!(
                        n.starts_with("oci://registry.example.com/deploykf/charts/"),
                        "{n}"
                    ),
                }
            }
        }
        assert!(
            found.iter().all(|r| r.outcome != Outcome::Templated),
            "{found:#?}"
        );
        let count = |kind, rewritten: bool| {
            found
                .iter()
                .filter(|r| {
                    r.kind == kind && matches!(r.outcome, Outcome::Rewritten(_)) == rewritten
                })
                .count()
        };
        (
            count(Kind::Image, true),
            count(Kind::ChartRepository, true),
            count(Kind::ChartRepository, false),
        )
    }

    #[test]
    fn the_overlay_reaches_every_image_and_chart_in_the_sample_values() {
        // Images: every `images.*.repository` (50, 51 from 0.1.5), the `*Image`
        // strings and the cache `image` (2; 5 from 0.1.5 with the KFP v2
        // driver/launcher images), the spawner's 10 notebook images. Charts:
        // 6 https repositories, trust-manager becomes a `file://` fork in 0.1.2.
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
        if !fixtures.is_dir() {
            println!("skipping: {} is absent", fixtures.display());
            return;
        }
        for (version, expected) in [
            ("0.1.0", (62, 6, 0)),
            ("0.1.1", (62, 6, 0)),
            ("0.1.2", (62, 5, 1)),
            ("0.1.3", (62, 5, 1)),
            ("0.1.4", (62, 5, 1)),
            ("0.1.5", (66, 5, 1)),
        ] {
            assert_eq!(
                check_version(&fixtures, version),
                expected,
                "{version}: (images rewritten, charts rewritten, charts kept)"
            );
        }
    }
}
