//! The inventory: `deploykf-cmp images` and `deploykf-cmp charts` list what a
//! values set deploys. The generator is rendered ([`render`]) and then every
//! component the app-of-apps would deploy is built as the plugin builds it;
//! images are read from the results ([`scan`]) — so tags left empty in the
//! values are the ones rendering gives — and the values' image locations are
//! added as sources of the images they produce. Runtime-only images (Istio
//! sidecar, notebook images, pipeline launcher/driver, workflow executor) are
//! found in the manifests that configure them.
//!
//! One invocation renders the generator once and builds each component once;
//! pulled charts are kept in the chart cache plugin mode uses
//! ([`Settings::cache_dir`]), so later runs reuse them. The tools' warnings on
//! stderr are summarised in one line unless the request is verbose.
//!
//! The inventory lists the *source* images and charts (what to copy into a
//! mirror): with a mirror configuration, each entry also shows where the
//! mirror rules send it, but rendering uses the upstream locations. Against
//! the inventory of an older render, [`images_added`] and [`charts_added`]
//! keep what an upgrade adds.

pub mod render;
pub mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use gomplate::{Map, Value};
use image_ref::ImageRef;
use serde_json::json;

use crate::components::tool::StderrCapture;
use crate::generator::source::GeneratorSource;
use crate::generator::values::Layer;
use crate::mirror::config::MirrorRules;
use crate::mirror::steps::MirrorSettings;
use crate::pipeline::{self, Inputs, Mirroring};
use crate::settings::Settings;
use render::Component;
use scan::{How, Source};

/// What to render: the generator, the values files, the mirror config.
pub struct Request<'a> {
    pub source: &'a GeneratorSource,
    pub values_files: &'a [PathBuf],
    /// `--mirror FILE`; else `mirror:` in the values, else the file named by
    /// `DEPLOYKF_CMP_MIRROR_CONFIG`.
    pub mirror_file: Option<&'a Path>,
    /// Pass the tools' stderr on whole instead of one summary line.
    pub verbose: bool,
    /// The environment: the mirror file, tools, chart registries and cache.
    pub settings: &'a Settings,
}

/// Everything rendered, ready for [`images`] and [`charts`].
pub struct Rendered {
    pub values: Map,
    pub mirror: Option<MirrorRules>,
    pub components: Vec<Component>,
}

/// Renders the generator and every child Application's component.
pub fn render_all(request: &Request<'_>) -> Result<Rendered> {
    let layers = Layer::read_all(request.values_files)?;
    // The mirror rules only say where each entry goes: rendering uses the upstream locations.
    let mirror = MirrorSettings {
        cli_file: request.mirror_file.map(Path::to_path_buf),
        env_file: request.settings.mirror_config(),
        enforce: false,
    };
    let inputs = Inputs { source: request.source, layers: &layers, mirror: &mirror, env: Default::default() };
    let (values, mirror) = pipeline::values(&inputs, Mirroring::Upstream)?;
    let Value::Map(values) = values else {
        return Err(anyhow!("the merged values are not a map"));
    };
    let values = std::sync::Arc::unwrap_or_clone(values);

    let scratch = crate::scratch::temp_dir("deploykf-cmp-inventory-", "a temporary folder for the inventory")?;
    let render_dir = scratch.path().join("output");
    render::render_generator(request.source, values.clone(), &render_dir)?;
    let tools = render::tools(request.settings, scratch.path())?;
    let capture = (!request.verbose).then(StderrCapture::start);
    let apps = render::applications(&render::app_of_apps_stream(&tools, &render_dir)?)?;
    if apps.is_empty() {
        return Err(anyhow!("the generator's app-of-apps ('argocd/' of its output) lists no Applications"));
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
    let components = render::build_all(&tools, &render_dir, &apps, jobs)?;
    if let Some(line) = capture.and_then(StderrCapture::summary) {
        eprintln!("{line}");
    }
    Ok(Rendered { values, mirror, components })
}

/// One image of the inventory.
#[derive(Clone, Debug)]
pub struct ImageEntry {
    pub image: ImageRef,
    /// Where the mirror rules send it (`None`: no rules, or excluded).
    pub mirrored: Option<String>,
    pub sources: BTreeSet<Source>,
}

impl ImageEntry {
    /// True when no rendered pod spec holds the image (it is started at runtime).
    pub fn runtime_only(&self) -> bool {
        !self.sources.iter().any(|s| s.how == How::PodSpec)
    }
}

/// Every image of the rendered components, each with its sources (an
/// untagged reference gets the `latest` it means); values locations are added to the images they produce (same name, and the same
/// tag unless the values leave it empty).
pub fn images(rendered: &Rendered) -> Result<Vec<ImageEntry>> {
    let mut entries: BTreeMap<String, ImageEntry> = BTreeMap::new();
    for component in &rendered.components {
        for found in scan::component_images(&component.app.name, &component.manifests)
            .with_context(|| format!("the manifests of the Application '{}'", component.app.name))?
        {
            // Istio's gateway Deployments say `image: auto`: the injector fills it in
            // (its proxy image is listed from the injector's configuration).
            if found.image.tag.is_none() && found.image.digest.is_none() && found.image.to_string() == "docker.io/library/auto" {
                continue;
            }
            let mut found = found;
            if found.image.tag.is_none() && found.image.digest.is_none() {
                // What the kubelet pulls for an untagged reference, written out.
                found.image = found.image.with_tag("latest").expect("`latest` is a valid tag");
            }
            let key = found.image.to_string();
            let entry = entries.entry(key).or_insert_with(|| ImageEntry {
                mirrored: mirrored(rendered.mirror.as_ref(), &found.image),
                image: found.image.clone(),
                sources: BTreeSet::new(),
            });
            entry.sources.insert(found.source);
        }
    }
    for location in scan::values_images(&rendered.values) {
        for entry in entries.values_mut() {
            let matches = match &location.reference {
                Some(r) => *r == entry.image,
                None => location.name == entry.image.name(),
            };
            if matches {
                entry.sources.insert(Source {
                    how: How::Values,
                    component: None,
                    resource: None,
                    field: None,
                    values_path: Some(location.path.clone()),
                });
            }
        }
    }
    Ok(entries.into_values().collect())
}

/// The entries of `new` whose reference `old` does not list: what an upgrade
/// from `old` adds (the set difference of `images --output list`).
pub fn images_added(new: Vec<ImageEntry>, old: &[ImageEntry]) -> Vec<ImageEntry> {
    let known: std::collections::HashSet<&ImageRef> = old.iter().map(|e| &e.image).collect();
    new.into_iter().filter(|e| !known.contains(&e.image)).collect()
}

fn mirrored(rules: Option<&MirrorRules>, image: &ImageRef) -> Option<String> {
    let rules = rules?;
    if rules.is_mirrored(image) {
        return Some(image.to_string());
    }
    rules.rewrite_image(image).map(|r| r.to_string())
}

/// One chart dependency of a component.
#[derive(Clone, Debug)]
pub struct ChartEntry {
    pub name: String,
    /// As `Chart.yaml` gives it (a version or a constraint).
    pub version: String,
    /// The version pulled for it.
    pub resolved_version: Option<String>,
    pub repository: String,
    pub mirrored_repository: Option<String>,
    /// The Application whose chart depends on it.
    pub component: String,
    /// The chart folder in the generator output.
    pub chart_path: String,
}

/// Every chart dependency of the rendered Helm components, by component.
pub fn charts(rendered: &Rendered) -> Vec<ChartEntry> {
    let mut out = Vec::new();
    for component in &rendered.components {
        let crate::components::Build::Helm { path, .. } = &component.app.build else { continue };
        for dep in &component.dependencies {
            let d = &dep.dependency;
            let mirrored_repository = rendered.mirror.as_ref().and_then(|m| m.rewrite_chart_repository(&d.repository));
            out.push(ChartEntry {
                name: d.name.clone(),
                version: d.version.clone(),
                resolved_version: dep.resolved_version.clone(),
                repository: d.repository.clone(),
                mirrored_repository,
                component: component.app.name.clone(),
                chart_path: path.clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.component, &a.name).cmp(&(&b.component, &b.name)));
    out
}

/// The entries of `new` whose chart (repository, name, version pulled) `old`
/// does not list: what an upgrade from `old` adds.
pub fn charts_added(new: Vec<ChartEntry>, old: &[ChartEntry]) -> Vec<ChartEntry> {
    let known: BTreeSet<(&str, &str, &str)> = old.iter().map(chart_key).collect();
    new.into_iter().filter(|e| !known.contains(&chart_key(e))).collect()
}

/// A chart as `charts --output list` prints it: repository, name, version pulled.
fn chart_key(e: &ChartEntry) -> (&str, &str, &str) {
    (e.repository.trim(), &e.name, e.resolved_version.as_deref().unwrap_or(&e.version))
}

/// The note for `charts --output list`, which leaves `file://` charts out:
/// they are inside the generator, so there is nothing to mirror.
pub fn local_charts_note(entries: &[ChartEntry]) -> Option<String> {
    let local: BTreeSet<String> = entries
        .iter()
        .filter(|e| is_local(e))
        .map(|e| format!("{} ({})", e.name, e.repository))
        .collect();
    if local.is_empty() {
        return None;
    }
    let list: Vec<String> = local.into_iter().collect();
    Some(format!(
        "left out {} file:// chart{} (deployKF's forks inside the generator, deployed from there; nothing to mirror): {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        list.join(", ")
    ))
}

/// The `oci://` charts of `entries` that the mirror rules place, as
/// `SOURCE=TARGET` image lines (an OCI chart copies as an image, tagged as
/// `helm push` tags it), and the other entries.
pub fn oci_chart_copies(entries: &[ChartEntry], rules: Option<&MirrorRules>) -> (String, Vec<ChartEntry>) {
    let mut lines = BTreeSet::new();
    let mut rest = Vec::new();
    for e in entries {
        let target = rules.and_then(|r| r.rewrite_chart_repository(&e.repository));
        match (e.repository.trim().strip_prefix("oci://"), target.as_deref().and_then(|t| t.strip_prefix("oci://"))) {
            (Some(source), Some(target)) => {
                let tag = e.resolved_version.as_deref().unwrap_or(&e.version).replace('+', "_");
                let (source, target) = (source.trim_end_matches('/'), target.trim_end_matches('/'));
                lines.insert(format!("{source}/{name}:{tag}={target}/{name}:{tag}\n", name = e.name));
            }
            _ => rest.push(e.clone()),
        }
    }
    (lines.into_iter().collect(), rest)
}

/// What `mirror` copies and `verify` checks for an inventory: the image lines
/// (`--images-file` text: the images, then the `oci://` charts the rules
/// place), the `https://` chart lines (`--charts-file` text), and for each
/// line's source (the image, or `REPOSITORY NAME VERSION`) the Applications
/// using it.
pub struct CopyLists {
    pub images: String,
    pub charts: String,
    pub used_by: BTreeMap<String, BTreeSet<String>>,
}

/// The [`CopyLists`] of a render, its counts noted on stderr.
pub fn copy_lists(rendered: &Rendered) -> Result<CopyLists> {
    let entries = images(rendered)?;
    let charts = charts(rendered);
    eprintln!("the inventory lists {} images and {} charts", entries.len(), charts.len());
    if let Some(note) = local_charts_note(&charts) {
        eprintln!("{note}");
    }
    let mut used_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in &entries {
        let users = e.sources.iter().filter_map(|s| s.component.clone());
        used_by.entry(e.image.to_string()).or_default().extend(users);
    }
    for e in &charts {
        let version = e.resolved_version.as_deref().unwrap_or(&e.version);
        let key = match e.repository.trim().strip_prefix("oci://") {
            Some(source) => format!("{}/{}:{}", source.trim_end_matches('/'), e.name, version.replace('+', "_")),
            None => format!("{} {} {version}", e.repository, e.name),
        };
        used_by.entry(key).or_default().insert(e.component.clone());
    }
    // OCI charts copy as images: their lines join the image list.
    let (chart_images, charts) = oci_chart_copies(&charts, rendered.mirror.as_ref());
    Ok(CopyLists {
        images: format_images(&entries, Format::List) + &chart_images,
        charts: format_charts(&charts, Format::List),
        used_by,
    })
}

fn is_local(entry: &ChartEntry) -> bool {
    entry.repository.trim_start().starts_with("file://")
}

/// `--output` of the inventory commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table
    Text,
    /// A JSON array of objects
    Json,
    /// One reference per line, sorted and unique (`mirror --images-file` input)
    List,
}

fn source_json(s: &Source) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert("how".into(), json!(s.how.as_str()));
    for (k, v) in [("component", &s.component), ("resource", &s.resource), ("field", &s.field), ("values_path", &s.values_path)] {
        if let Some(v) = v {
            o.insert(k.into(), json!(v));
        }
    }
    serde_json::Value::Object(o)
}

fn source_text(s: &Source) -> String {
    match s.how {
        How::Values => format!("values {}", s.values_path.as_deref().unwrap_or_default()),
        how => {
            let mut t = format!("{} {}", s.resource.as_deref().unwrap_or_default(), s.field.as_deref().unwrap_or_default());
            if how != How::PodSpec {
                t.push_str(&format!(" ({})", how.as_str()));
            }
            if let Some(c) = &s.component {
                t.push_str(&format!(" [{c}]"));
            }
            t
        }
    }
}

/// The image inventory in `format`.
pub fn format_images(entries: &[ImageEntry], format: Format) -> String {
    match format {
        Format::List => {
            let set: BTreeSet<String> = entries.iter().map(|e| e.image.to_string()).collect();
            set.into_iter().map(|s| s + "\n").collect()
        }
        Format::Json => {
            let array: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "image": e.image.to_string(),
                        "mirrored": e.mirrored,
                        "runtime_only": e.runtime_only(),
                        "sources": e.sources.iter().map(source_json).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&array).expect("JSON values serialise") + "\n"
        }
        Format::Text => {
            let mirror = entries.iter().any(|e| e.mirrored.is_some());
            let mut out = String::new();
            for e in entries {
                out.push_str(&e.image.to_string());
                if e.runtime_only() {
                    out.push_str("  (runtime only)");
                }
                out.push('\n');
                if mirror {
                    out.push_str(&format!("    mirror: {}\n", e.mirrored.as_deref().unwrap_or("(excluded: not mirrored)")));
                }
                for s in &e.sources {
                    out.push_str(&format!("    from: {}\n", source_text(s)));
                }
            }
            out.push_str(&format!("{} images\n", entries.len()));
            out
        }
    }
}

/// The chart inventory in `format` (`list`: `repository name version` lines,
/// without `file://` charts: see [`local_charts_note`]).
pub fn format_charts(entries: &[ChartEntry], format: Format) -> String {
    let version = |e: &ChartEntry| e.resolved_version.clone().unwrap_or_else(|| e.version.clone());
    match format {
        Format::List => {
            let set: BTreeSet<String> = entries
                .iter()
                .filter(|e| !is_local(e))
                .map(|e| format!("{} {} {}", e.repository, e.name, version(e)))
                .collect();
            set.into_iter().map(|s| s + "\n").collect()
        }
        Format::Json => {
            let array: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "name": e.name,
                        "version": e.version,
                        "resolved_version": e.resolved_version,
                        "repository": e.repository,
                        "mirrored_repository": e.mirrored_repository,
                        "component": e.component,
                        "chart": e.chart_path,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&array).expect("JSON values serialise") + "\n"
        }
        Format::Text => {
            let mut rows: Vec<[String; 5]> = vec![[
                "NAME".into(),
                "VERSION".into(),
                "REPOSITORY".into(),
                "MIRROR".into(),
                "COMPONENT".into(),
            ]];
            for e in entries {
                rows.push([
                    e.name.clone(),
                    version(e),
                    e.repository.clone(),
                    e.mirrored_repository.clone().unwrap_or_else(|| "-".into()),
                    e.component.clone(),
                ]);
            }
            let widths: Vec<usize> = (0..5).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
            let mut out = String::new();
            for row in rows {
                let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
                out.push_str(line.join("  ").trim_end());
                out.push('\n');
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(image: &str, sources: &[(How, &str)]) -> ImageEntry {
        ImageEntry {
            image: ImageRef::parse(image).unwrap(),
            mirrored: None,
            sources: sources
                .iter()
                .map(|(how, at)| Source {
                    how: *how,
                    component: Some("dkf-x".into()),
                    resource: Some("Deployment/ns/x".into()),
                    field: Some(at.to_string()),
                    values_path: None,
                })
                .collect(),
        }
    }

    #[test]
    fn images_merge_components_and_values_and_spell_out_latest() {
        let manifests = "kind: Deployment\nmetadata: {name: gw, namespace: ns}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: a, image: auto}\n        - {name: b, image: busybox}\n        - {name: c, image: 'ghcr.io/dexidp/dex:v2.39.1'}\n";
        let app = |name: &str| render::Application {
            name: name.into(),
            namespace: None,
            build: crate::components::Build::Kustomize("./manifests/x".into()),
        };
        let values = gomplate::yaml::decode("a:\n  images:\n    dex: {repository: ghcr.io/dexidp/dex, tag: ''}\n").unwrap();
        let rendered = Rendered {
            values: values.as_map().unwrap().clone(),
            mirror: Some(crate::mirror::config::parse(&gomplate::yaml::decode("images: {registry: m.example.com}").unwrap(), "test").unwrap()),
            components: ["dkf-a", "dkf-b"]
                .iter()
                .map(|n| Component { app: app(n), manifests: manifests.into(), dependencies: Vec::new() })
                .collect(),
        };
        let entries = images(&rendered).unwrap();
        let names: Vec<String> = entries.iter().map(|e| e.image.to_string()).collect();
        assert_eq!(names, ["docker.io/library/busybox:latest", "ghcr.io/dexidp/dex:v2.39.1"]);
        let dex = &entries[1];
        assert_eq!(dex.mirrored.as_deref(), Some("m.example.com/ghcr.io/dexidp/dex:v2.39.1"));
        let components: Vec<Option<&str>> = dex.sources.iter().map(|s| s.component.as_deref()).collect();
        assert_eq!(components, [Some("dkf-a"), Some("dkf-b"), None]);
        assert_eq!(dex.sources.last().unwrap().values_path.as_deref(), Some("a.images.dex.repository"));
    }

    #[test]
    fn chart_outputs() {
        let entry = |name: &str, repository: &str, mirrored: Option<&str>| ChartEntry {
            name: name.into(),
            version: "1.17.8".into(),
            resolved_version: Some("1.17.8".into()),
            repository: repository.into(),
            mirrored_repository: mirrored.map(str::to_string),
            component: "dkf-dep--istio".into(),
            chart_path: "manifests/deploykf-dependencies/istio".into(),
        };
        let entries = [
            entry("istiod", "https://istio-release.storage.googleapis.com/charts", Some("oci://m.example.com/charts")),
            entry("base", "https://istio-release.storage.googleapis.com/charts", None),
            entry("trust-manager", "file://../trust-manager", None),
        ];
        assert_eq!(
            format_charts(&entries, Format::List),
            "https://istio-release.storage.googleapis.com/charts base 1.17.8\n\
             https://istio-release.storage.googleapis.com/charts istiod 1.17.8\n",
            "file:// forks are not listed"
        );
        assert_eq!(
            local_charts_note(&entries).unwrap(),
            "left out 1 file:// chart (deployKF's forks inside the generator, deployed from there; nothing to mirror): trust-manager (file://../trust-manager)"
        );
        assert_eq!(local_charts_note(&entries[..2]), None);
        let text = format_charts(&entries, Format::Text);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME  ") && lines[0].contains(" VERSION  REPOSITORY"), "{text}");
        assert!(lines[2].contains(" -  ") && lines[2].ends_with("dkf-dep--istio"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&format_charts(&entries, Format::Json)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 3, "the JSON keeps every chart");
        assert_eq!(json[0]["mirrored_repository"], json!("oci://m.example.com/charts"));
        assert_eq!(json[1]["mirrored_repository"], serde_json::Value::Null);
    }

    #[test]
    fn oci_charts_placed_by_the_rules_copy_as_images() {
        let entry = |name: &str, version: &str, repository: &str| ChartEntry {
            name: name.into(),
            version: "~1".into(),
            resolved_version: Some(version.into()),
            repository: repository.into(),
            mirrored_repository: None,
            component: "c".into(),
            chart_path: "p".into(),
        };
        let entries = [
            entry("kyverno", "3.0.1+up", "oci://reg.local:5000/charts/"),
            entry("istiod", "1.17.8", "https://istio-release.storage.googleapis.com/charts"),
            entry("fork", "1.0.0", "file://../fork"),
        ];
        let doc = gomplate::yaml::decode("images: {registry: m.example.com}\ncharts: {repository: oci://m.example.com/charts}").unwrap();
        let rules = crate::mirror::config::parse(&doc, "test").unwrap();
        let (lines, rest) = oci_chart_copies(&entries, Some(&rules));
        assert_eq!(lines, "reg.local:5000/charts/kyverno:3.0.1_up=m.example.com/charts/reg.local_5000/charts/kyverno:3.0.1_up\n");
        let names: Vec<&str> = rest.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["istiod", "fork"]);
        // Without mirror.charts, nothing is placed.
        let doc = gomplate::yaml::decode("images: {registry: m.example.com}").unwrap();
        let (lines, rest) = oci_chart_copies(&entries, Some(&crate::mirror::config::parse(&doc, "test").unwrap()));
        assert_eq!((lines.as_str(), rest.len()), ("", 3));
    }

    #[test]
    fn list_output_is_sorted_unique_and_fully_qualified() {
        let entries = [entry("quay.io/b:1", &[(How::PodSpec, "f")]), entry("nginx:1", &[(How::Runtime, "g")])];
        assert_eq!(format_images(&entries, Format::List), "docker.io/library/nginx:1\nquay.io/b:1\n");
        assert!(!entries[0].runtime_only() && entries[1].runtime_only());
        let json: serde_json::Value = serde_json::from_str(&format_images(&entries, Format::Json)).unwrap();
        assert_eq!(json[1]["runtime_only"], json!(true));
        assert_eq!(json[1]["sources"][0]["how"], json!("runtime"));
        let text = format_images(&entries, Format::Text);
        assert!(text.contains("docker.io/library/nginx:1  (runtime only)\n    from: Deployment/ns/x g (runtime) [dkf-x]\n"), "{text}");
    }

    #[test]
    fn an_upgrade_adds_what_the_old_inventory_does_not_list() {
        let old = [entry("nginx:1", &[(How::PodSpec, "f")]), entry("quay.io/b:1", &[(How::PodSpec, "f")])];
        let new = vec![
            entry("docker.io/library/nginx:1", &[(How::PodSpec, "g")]),
            entry("quay.io/b:2", &[(How::PodSpec, "f")]),
            entry("ghcr.io/c:1", &[(How::Runtime, "f")]),
        ];
        assert_eq!(format_images(&images_added(new, &old), Format::List), "ghcr.io/c:1\nquay.io/b:2\n");
        let chart = |version: &str, resolved: Option<&str>| ChartEntry {
            name: "istiod".into(),
            version: version.into(),
            resolved_version: resolved.map(Into::into),
            repository: "https://istio.example.com/charts".into(),
            mirrored_repository: None,
            component: "c".into(),
            chart_path: "p".into(),
        };
        let old = [chart("~1.17", Some("1.17.8"))];
        // The same chart pulled under another constraint is not new; another version is.
        let added = charts_added(vec![chart("1.17.8", None), chart("~1.18", Some("1.18.0"))], &old);
        assert_eq!(format_charts(&added, Format::List), "https://istio.example.com/charts istiod 1.18.0\n");
    }
}
