//! The one image recognizer: every place in a Kubernetes object where the
//! cluster will use an image reference. The after-render rewrite and the leak
//! check ([`super`]) and the inventory (`crate::inventory::scan`)
//! all see images through [`visit_object`] and [`visit_text`].
//!
//! The places:
//! - [`Place::PodSpec`]: the pod specs of the workload kinds (Pod,
//!   Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController,
//!   CronJob, PodTemplate) and of CRDs carrying pod templates (Argo Rollouts,
//!   Argo Workflows templates, Kubeflow Notebooks and training jobs): each
//!   container's `image`, whatever it holds but Istio's `auto` placeholder (an
//!   invalid one is then refused by the leak check);
//! - [`Place::Runtime`], anywhere else in an object, when the string parses
//!   as a reference: image keys (`image`, `*Image`, `*_IMAGE`; e.g. Katib
//!   Experiments' trial specs), env entries `{name: *_IMAGE, value}`,
//!   `--*-image=REF` and `--*-image REF` in `args`/`command`, the notebook
//!   spawner's `value`/`options` under an image key or `imageGroup*`, and
//!   Istio's injector values (`hub` + `proxy.image` + `tag` when the image
//!   has no `/`: a [`Place::Composed`] image, its hub written back); also
//!   inside strings holding YAML or JSON (ConfigMap data: `katib-config`,
//!   `trial-templates`, the injector's `values`), read the same way;
//! - [`Place::Text`]: strings that are not YAML or JSON (Go/Helm templates
//!   such as the injector's `config`), read line by line for `image: REF`;
//! - [`Place::Kustomization`]: a kustomization's `images[]` entries
//!   ([`visit_kustomization`]), the `name` kustomize matches container images
//!   by and the `newName` it writes in their place, so that a rewrite of the
//!   bases and of these names by the same rules keeps every match.
//!
//! Templated strings (`{{`, `$`), URLs, `auto` and prose are left alone
//! outside pod specs. A rewrite inside a string replaces only the reference's
//! text: comments and templates around it stay as they were.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};

use anyhow::{bail, Result};
use gomplate::{Map, Value};
use image_ref::ImageRef;
use regex::Regex;

/// The kind of place an image was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// A container of a pod spec.
    PodSpec,
    /// Elsewhere in an object: a controller starts it at runtime.
    Runtime,
    /// An `image:` line in text that is neither YAML nor JSON.
    Text,
    /// A repository prefix images are composed under (Istio's `hub`): mapped
    /// by the mirror rules like an image and checked like one, but not an
    /// image to copy.
    Prefix,
    /// An image composed from a prefix, a name and a tag (Istio's `hub` +
    /// `proxy.image` + `tag`): mapped like an image, but only its prefix is
    /// written, so it cannot carry a digest.
    Composed,
    /// A kustomization's `images[].name` or `images[].newName`: an image
    /// name without tag (kustomize keeps `newTag` and `digest` apart), mapped
    /// and checked like an image.
    Kustomization,
}

impl Place {
    /// Whether a digest-pinned reference can be written here.
    pub fn can_pin(self) -> bool {
        !matches!(self, Place::Prefix | Place::Composed | Place::Kustomization)
    }
}

/// One image reference where it was found.
pub struct Spot<'a> {
    /// `Kind/namespace/name`, or `Kind/name` without a namespace.
    pub resource: &'a str,
    /// The field (`spec.template.spec.containers[0].image`); inside a string,
    /// the string's field, a space, and the place inside it
    /// (`data["suggestion"] random.image`, `data["config"] ... line 12`).
    pub field: &'a str,
    /// The reference as written.
    pub image: &'a str,
    pub place: Place,
}

/// Called for each image; returns the reference to write in its place, if any.
pub type Visit<'f> = dyn FnMut(&Spot<'_>) -> Result<Option<String>> + 'f;

/// Istio's gateway placeholder: its injector replaces the literal `auto`.
const PLACEHOLDER: &str = "auto";

/// Visits every image of a Kubernetes object (entering `*List` items),
/// writing the replacements `f` returns.
pub fn visit_object(doc: &mut Value, f: &mut Visit<'_>) -> Result<()> {
    let Some(map) = doc.as_map() else {
        return Ok(());
    };
    let Some(kind) = map.get("kind").and_then(Value::as_str).map(str::to_string) else {
        return Ok(());
    };
    if kind.ends_with("List") && map.get("items").and_then(Value::as_list).is_some() {
        if let Some(items) = map_mut(doc).and_then(|m| m.get_mut("items")).and_then(list_mut) {
            for item in items.iter_mut() {
                visit_object(item, f)?;
            }
        }
        return Ok(());
    }
    let is_kustomization = matches!(kind.as_str(), "Kustomization" | "Component")
        && map.get("apiVersion").and_then(Value::as_str).is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"));
    if is_kustomization {
        return visit_kustomization(doc, f);
    }
    let resource = resource_name(&kind, map);
    let mut ctx = Ctx { resource: &resource, skip: BTreeSet::new(), swaps: Vec::new(), f };
    for (path, holder) in pod_spec_paths(&kind) {
        walk_path(doc, path, String::new(), *holder, &mut ctx)?;
    }
    walk_any(doc, "", &mut ctx)
}

/// Visits the images of a kustomization (a `kustomize.config.k8s.io`
/// Kustomization or Component, or the document of a kustomization file,
/// which needs no `kind:`):
/// each `images[]` entry's `name` and `newName` ([`Place::Kustomization`]),
/// then image keys anywhere else (inline patches) as in any object.
/// Kustomize compares `name` with container images as written, so it must be
/// mapped exactly as the bases' images are; `newTag` and `digest` stay.
pub fn visit_kustomization(doc: &mut Value, f: &mut Visit<'_>) -> Result<()> {
    let Some(map) = doc.as_map() else {
        return Ok(());
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("Kustomization").to_string();
    let resource = if map.contains_key("metadata") { resource_name(&kind, map) } else { kind };
    let mut ctx = Ctx { resource: &resource, skip: BTreeSet::new(), swaps: Vec::new(), f };
    if let Some(entries) = map_mut(doc).and_then(|m| m.get_mut("images")).and_then(list_mut) {
        for (i, entry) in entries.iter_mut().enumerate() {
            let Some(entry) = map_mut(entry) else { continue };
            for key in ["name", "newName"] {
                if let Some(slot) = entry.get_mut(key) {
                    ctx.slot(slot, &format!("images[{i}].{key}"), Place::Kustomization)?;
                }
            }
        }
    }
    walk_any(doc, "", &mut ctx)
}

/// Visits the `image: REF` lines of `text` (after deployKF's documented
/// extraction regex, `image: ["']?([^ {"']+)["']?`, where REF parses as a
/// reference);
/// returns the text with the replacements `f` gives, when there are any.
/// `field` prefixes the `line N` of each spot.
pub fn visit_text(text: &str, resource: &str, field: &str, f: &mut Visit<'_>) -> Result<Option<String>> {
    static LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"image: ["']?([^\s{"']+)["']?"#).expect("valid regex"));
    let mut out = String::new();
    let (mut copied, mut changed) = (0, false);
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        for c in LINE.captures_iter(line) {
            let m = c.get(1).expect("group 1");
            if as_image(m.as_str()).is_none() {
                continue;
            }
            let at = format!("{field}line {}", n + 1);
            let spot = Spot { resource, field: &at, image: m.as_str(), place: Place::Text };
            if let Some(new) = f(&spot)? {
                out.push_str(&text[copied..offset + m.start()]);
                out.push_str(&new);
                copied = offset + m.end();
                changed = true;
            }
        }
        offset += line.len();
    }
    if !changed {
        return Ok(None);
    }
    out.push_str(&text[copied..]);
    Ok(Some(out))
}

/// A string outside pod specs that is an image reference: not empty, not
/// templated, not the `auto` placeholder, and valid.
pub fn as_image(s: &str) -> Option<ImageRef> {
    let s = s.trim();
    if s.is_empty() || s == PLACEHOLDER || s.contains("{{") || s.contains('$') {
        return None;
    }
    ImageRef::parse(s).ok()
}

/// Keys holding images: `image`, `*Image`, `*image`, `*_IMAGE`.
pub fn is_image_key(key: &str) -> bool {
    key.ends_with("Image") || key.ends_with("image") || key.ends_with("_IMAGE")
}

/// `Kind/namespace/name` (`Kind/name` without a namespace; `generateName`
/// followed by `*` when there is no name).
fn resource_name(kind: &str, map: &Map) -> String {
    let meta = map.get("metadata").and_then(Value::as_map);
    let get = |k: &str| meta.and_then(|m| m.get(k)).and_then(Value::as_str).filter(|s| !s.is_empty());
    let name = match (get("name"), get("generateName")) {
        (Some(n), _) => n.to_string(),
        (None, Some(g)) => format!("{g}*"),
        (None, None) => "(unnamed)".to_string(),
    };
    match get("namespace") {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// True for kinds whose pod specs are read.
pub fn has_pod_specs(kind: &str) -> bool {
    !pod_spec_paths(kind).is_empty()
}

/// The walk's state for one object.
struct Ctx<'c, 'f> {
    resource: &'c str,
    /// Fields already visited (pod-spec images, Istio's composed images).
    skip: BTreeSet<String>,
    /// `(old, new)` of each reference replaced, to make the same replacements
    /// in the text of a string holding the object.
    swaps: Vec<(String, String)>,
    f: &'c mut Visit<'f>,
}

impl Ctx<'_, '_> {
    /// Offers the string in `slot` (outside pod specs: only a reference).
    fn slot(&mut self, slot: &mut Value, field: &str, place: Place) -> Result<()> {
        let Some(image) = slot.as_str() else { return Ok(()) };
        let usable = match place {
            Place::PodSpec => image != PLACEHOLDER,
            _ => as_image(image).is_some(),
        };
        if !usable || !self.skip.insert(field.to_string()) {
            return Ok(());
        }
        let image = image.to_string();
        if let Some(new) = (self.f)(&Spot { resource: self.resource, field, image: &image, place })? {
            self.swaps.push((image, new.clone()));
            *slot = Value::str(new);
        }
        Ok(())
    }

    /// A string that may hold images: YAML or JSON is walked like an object
    /// and the replacements made in its text; other text is read by lines.
    fn string(&mut self, slot: &mut Value, field: &str) -> Result<()> {
        let Some(text) = slot.as_str() else { return Ok(()) };
        if !text.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"image")) {
            return Ok(());
        }
        let text = text.to_string();
        let structured = text.contains('\n') || text.trim_start().starts_with(['{', '[']);
        let decoded = match structured.then(|| gomplate::yaml::decode(&text)) {
            Some(Ok(v @ (Value::Map(_) | Value::List(_)))) => Some(v),
            _ => None,
        };
        let mut nested = Ctx { resource: self.resource, skip: BTreeSet::new(), swaps: Vec::new(), f: &mut *self.f };
        let inner = format!("{field} ");
        let new = match decoded {
            Some(mut value) => {
                walk_any(&mut value, &inner, &mut nested)?;
                let mut rewritten = text.clone();
                let mut done = BTreeSet::new();
                for (old, new) in nested.swaps.iter().filter(|swap| done.insert(*swap)) {
                    let Some(replaced) = replace_tokens(&rewritten, old, new) else {
                        bail!("{} {field}: cannot find {old:?} as written in the text of this value to rewrite it", self.resource);
                    };
                    rewritten = replaced;
                }
                (!nested.swaps.is_empty()).then_some(rewritten)
            }
            None => {
                let swaps = &mut nested.swaps;
                let f = &mut *nested.f;
                visit_text(&text, self.resource, &inner, &mut |spot| {
                    let new = f(spot)?;
                    if let Some(new) = &new {
                        swaps.push((spot.image.to_string(), new.clone()));
                    }
                    Ok(new)
                })?
            }
        };
        if let Some(new) = new {
            self.swaps.append(&mut nested.swaps);
            *slot = Value::str(new);
        }
        Ok(())
    }
}

/// `text` with each whole-token `old` (not inside a longer reference)
/// replaced by `new`; `None` when there is none.
fn replace_tokens(text: &str, old: &str, new: &str) -> Option<String> {
    let is_ref = |c: char| c.is_ascii_alphanumeric() || "._/:@-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (i, _) in text.match_indices(old) {
        let end = i + old.len();
        if i < copied || text[..i].chars().next_back().is_some_and(is_ref) || text[end..].chars().next().is_some_and(is_ref) {
            continue;
        }
        out.push_str(&text[copied..i]);
        out.push_str(new);
        copied = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// `field.key`, or `field["key"]` for keys that are not plain words and for
/// the keys of ConfigMap/Secret data.
fn join(field: &str, key: &str) -> String {
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let data = matches!(field.rsplit(['.', ' ']).next(), Some("data" | "stringData" | "binaryData"));
    if !plain || data {
        format!("{field}[{key:?}]")
    } else if field.is_empty() || field.ends_with(' ') {
        format!("{field}{key}")
    } else {
        format!("{field}.{key}")
    }
}

/// Everything outside the pod specs: image keys, env entries, flags, spawner
/// groups, Istio's hub, and strings that may hold images.
fn walk_any(value: &mut Value, field: &str, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    match value {
        Value::Map(_) => {
            let map = map_mut(value).expect("a map");
            istio_hub(map, field, ctx)?;
            // An env entry `{name: X_IMAGE, value: REF}`.
            if map.get("name").and_then(Value::as_str).is_some_and(is_image_key) {
                if let Some(slot) = map.get_mut("value") {
                    ctx.slot(slot, &join(field, "value"), Place::Runtime)?;
                }
            }
            for (key, child) in map.iter_mut() {
                let at = join(field, key);
                match child {
                    Value::String(_) if is_image_key(key) => ctx.slot(child, &at, Place::Runtime)?,
                    Value::String(_) => ctx.string(child, &at)?,
                    Value::Map(_) if is_image_key(key) || key.starts_with("imageGroup") => {
                        let group = map_mut(child).expect("a map");
                        if let Some(slot) = group.get_mut("value") {
                            ctx.slot(slot, &join(&at, "value"), Place::Runtime)?;
                        }
                        if let Some(options) = group.get_mut("options").and_then(list_mut) {
                            for (i, option) in options.iter_mut().enumerate() {
                                ctx.slot(option, &format!("{at}.options[{i}]"), Place::Runtime)?;
                            }
                        }
                        walk_any(child, &at, ctx)?;
                    }
                    Value::List(_) if key == "args" || key == "command" => {
                        flag_images(list_mut(child).expect("a list"), &at, ctx)?;
                        walk_any(child, &at, ctx)?;
                    }
                    _ => walk_any(child, &at, ctx)?,
                }
            }
        }
        Value::List(_) => {
            for (i, item) in list_mut(value).expect("a list").iter_mut().enumerate() {
                let at = format!("{field}[{i}]");
                match item {
                    Value::String(_) => ctx.string(item, &at)?,
                    _ => walk_any(item, &at, ctx)?,
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// `--x-image REF` and `--x-image=REF` in an argument list.
fn flag_images(args: &mut [Value], field: &str, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    for i in 0..args.len() {
        let Some(arg) = args[i].as_str() else { continue };
        if !arg.starts_with('-') {
            continue;
        }
        let at = format!("{field}[{i}]");
        match arg.split_once('=') {
            Some((flag, value)) if flag.ends_with("-image") => {
                let (flag, value) = (flag.to_string(), value.to_string());
                let mut slot = Value::str(value.as_str());
                ctx.slot(&mut slot, &at, Place::Runtime)?;
                if let Some(new) = slot.as_str().filter(|new| *new != value) {
                    args[i] = Value::str(format!("{flag}={new}"));
                }
            }
            None if arg.ends_with("-image") && i + 1 < args.len() => {
                ctx.slot(&mut args[i + 1], &format!("{field}[{}]", i + 1), Place::Runtime)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Istio's injector values: `proxy.image`/`proxy_init.image` without a `/`
/// are names under `hub`, tagged `tag` (`-variant`), as istiod composes them.
/// The composed image is visited at the section's `image` field; a new
/// location is written back as a new `hub`. A hub no such image names is
/// still a public location istiod composes other names under (a pod's
/// `sidecar.istio.io/proxyImage`): it is visited as a [`Place::Prefix`].
fn istio_hub(map: &mut Map, field: &str, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    let Some(hub) = map.get("hub").and_then(Value::as_str).filter(|h| !h.is_empty()).map(str::to_string) else {
        return Ok(());
    };
    let scalar = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.to_string()),
        Some(Value::Int(i)) => Some(i.to_string()),
        Some(Value::Float(f)) => Some(f.to_string()),
        _ => None,
    };
    let mut tag = scalar(map.get("tag")).unwrap_or_default();
    if let Some(variant) = scalar(map.get("variant")).filter(|v| !v.is_empty()) {
        tag = format!("{tag}-{variant}");
    }
    let suffix = if tag.is_empty() { String::new() } else { format!(":{tag}") };
    let mut composed_under_hub = false;
    for section in ["proxy", "proxy_init"] {
        let name = map.get(section).and_then(Value::as_map).and_then(|p| p.get("image")).and_then(Value::as_str);
        let Some(name) = name.filter(|n| !n.contains('/') && !n.is_empty()).map(str::to_string) else {
            continue;
        };
        composed_under_hub = true;
        let at = join(&join(field, section), "image");
        let mut composed = Value::str(format!("{hub}/{name}{suffix}"));
        // The text holds the hub, not the composed image: only the hub's swap counts.
        let swaps = ctx.swaps.len();
        ctx.slot(&mut composed, &at, Place::Composed)?;
        ctx.swaps.truncate(swaps);
        ctx.skip.insert(at);
        let Some(new) = composed.as_str().filter(|c| *c != format!("{hub}/{name}{suffix}")) else {
            continue;
        };
        let Some(new_hub) = new.strip_suffix(&format!("/{name}{suffix}")) else {
            bail!("{} {}: the mirror location {new} does not end with '/{name}{suffix}', so it cannot be written as Istio's hub", ctx.resource, join(field, "hub"));
        };
        ctx.swaps.push((hub.clone(), new_hub.to_string()));
        map.insert("hub".to_string(), Value::str(new_hub));
    }
    if !composed_under_hub {
        let mut slot = Value::str(hub.as_str());
        ctx.slot(&mut slot, &join(field, "hub"), Place::Prefix)?;
        map.insert("hub".to_string(), slot);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Pod specs by kind.

/// One step of a path to a pod spec.
#[derive(Clone, Copy)]
enum Seg {
    /// The value under this key.
    Key(&'static str),
    /// The values under every key ending with this text.
    KeySuffix(&'static str),
    /// The values under every key.
    AnyKey,
    /// Every item of a list.
    Each,
}

/// What sits at the end of a path.
#[derive(Clone, Copy)]
enum Holder {
    /// A pod spec: `containers`, `initContainers`, `ephemeralContainers`.
    PodSpec,
    /// An Argo Workflows template: `container`, `script`, `initContainers`,
    /// `sidecars`, `containerSet.containers`.
    ArgoTemplate,
}

use Seg::{AnyKey, Each, Key, KeySuffix};

const POD: &[(&[Seg], Holder)] = &[(&[Key("spec")], Holder::PodSpec)];
const TEMPLATE: &[(&[Seg], Holder)] = &[(&[Key("spec"), Key("template"), Key("spec")], Holder::PodSpec)];
const POD_TEMPLATE: &[(&[Seg], Holder)] = &[(&[Key("template"), Key("spec")], Holder::PodSpec)];
const CRON_JOB: &[(&[Seg], Holder)] =
    &[(&[Key("spec"), Key("jobTemplate"), Key("spec"), Key("template"), Key("spec")], Holder::PodSpec)];
const TRAINING_JOB: &[(&[Seg], Holder)] =
    &[(&[Key("spec"), KeySuffix("ReplicaSpecs"), AnyKey, Key("template"), Key("spec")], Holder::PodSpec)];
const WORKFLOW: &[(&[Seg], Holder)] = &[(&[Key("spec"), Key("templates"), Each], Holder::ArgoTemplate)];
const CRON_WORKFLOW: &[(&[Seg], Holder)] =
    &[(&[Key("spec"), Key("workflowSpec"), Key("templates"), Each], Holder::ArgoTemplate)];

/// Where the pod specs of a kind are.
fn pod_spec_paths(kind: &str) -> &'static [(&'static [Seg], Holder)] {
    match kind {
        "Pod" => POD,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" | "Rollout"
        | "Notebook" => TEMPLATE,
        "PodTemplate" => POD_TEMPLATE,
        "CronJob" => CRON_JOB,
        "TFJob" | "PyTorchJob" | "MPIJob" | "XGBoostJob" | "PaddleJob" | "MXJob" => TRAINING_JOB,
        "Workflow" | "WorkflowTemplate" | "ClusterWorkflowTemplate" => WORKFLOW,
        "CronWorkflow" => CRON_WORKFLOW,
        _ => &[],
    }
}

fn walk_path(value: &mut Value, path: &[Seg], field: String, holder: Holder, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    let Some((seg, rest)) = path.split_first() else {
        match holder {
            Holder::PodSpec => {
                for key in ["containers", "initContainers", "ephemeralContainers"] {
                    container_list(value, key, &field, ctx)?;
                }
            }
            Holder::ArgoTemplate => {
                for key in ["container", "script"] {
                    if let Some(c) = map_mut(value).and_then(|m| m.get_mut(key)) {
                        container(c, &join(&field, key), ctx)?;
                    }
                }
                for key in ["initContainers", "sidecars"] {
                    container_list(value, key, &field, ctx)?;
                }
                if let Some(set) = map_mut(value).and_then(|m| m.get_mut("containerSet")) {
                    container_list(set, "containers", &join(&field, "containerSet"), ctx)?;
                }
            }
        }
        return Ok(());
    };
    match seg {
        Key(k) => {
            if let Some(child) = map_mut(value).and_then(|m| m.get_mut(*k)) {
                walk_path(child, rest, join(&field, k), holder, ctx)?;
            }
        }
        KeySuffix(_) | AnyKey => {
            if let Some(m) = map_mut(value) {
                for (k, child) in m.iter_mut() {
                    if let KeySuffix(s) = seg {
                        if !k.ends_with(s) {
                            continue;
                        }
                    }
                    walk_path(child, rest, join(&field, k), holder, ctx)?;
                }
            }
        }
        Each => {
            if let Some(items) = list_mut(value) {
                for (i, item) in items.iter_mut().enumerate() {
                    walk_path(item, rest, format!("{field}[{i}]"), holder, ctx)?;
                }
            }
        }
    }
    Ok(())
}

/// The containers of the list under `key` of `value`.
fn container_list(value: &mut Value, key: &str, field: &str, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    let Some(items) = map_mut(value).and_then(|m| m.get_mut(key)).and_then(list_mut) else {
        return Ok(());
    };
    let field = join(field, key);
    for (i, c) in items.iter_mut().enumerate() {
        container(c, &format!("{field}[{i}]"), ctx)?;
    }
    Ok(())
}

/// A container's `image`, when it is a string.
fn container(c: &mut Value, field: &str, ctx: &mut Ctx<'_, '_>) -> Result<()> {
    if let Some(slot) = map_mut(c).and_then(|m| m.get_mut("image")) {
        ctx.slot(slot, &join(field, "image"), Place::PodSpec)?;
    }
    Ok(())
}

fn map_mut(v: &mut Value) -> Option<&mut Map> {
    match v {
        Value::Map(m) => Some(Arc::make_mut(m)),
        _ => None,
    }
}

fn list_mut(v: &mut Value) -> Option<&mut Vec<Value>> {
    match v {
        Value::List(l) => Some(Arc::make_mut(l)),
        _ => None,
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifests::{check, images_in_stream, rewrite_stream, ImageUse};
    use crate::mirror::config::{self, MirrorRules};

    const MIRROR: &str = "m.example.com/dkf";

    fn rules() -> MirrorRules {
        config::parse(&gomplate::yaml::decode(&format!("images:\n  registry: {MIRROR}\n")).unwrap(), "test").unwrap()
    }

    /// `(place, "resource field", image)` of each use.
    fn spots(uses: &[ImageUse]) -> Vec<(Place, String, String)> {
        uses.iter().map(|u| (u.place, format!("{} {}", u.resource, u.field), u.image.clone())).collect()
    }

    /// The string under `data.key` of the first ConfigMap of `stream`.
    fn data(stream: &str, key: &str) -> String {
        let doc = gomplate::yaml::decode(stream.split("\n---\n").find(|d| d.contains("kind: ConfigMap")).unwrap()).unwrap();
        doc.as_map().unwrap()["data"].as_map().unwrap()[key].as_str().unwrap().to_string()
    }

    // Excerpts of deployKF 0.1.5's Katib ConfigMaps (kustomize output).
    const KATIB_CONFIG: &str = r#"apiVersion: v1
data:
  metrics-collector-sidecar: |-
    {
      "StdOut": {
        "image": "docker.io/kubeflowkatib/file-metrics-collector:v0.15.0"
      },
      "File": {
        "image": "docker.io/kubeflowkatib/file-metrics-collector:v0.15.0"
      },
      "TensorFlowEvent": {
        "image": "docker.io/kubeflowkatib/tfevent-metrics-collector:v0.15.0",
        "resources": {
          "limits": {
            "memory": "1Gi"
          }
        }
      }
    }
  suggestion: |-
    {
      "random": {
        "image": "docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0"
      },
      "multivariate-tpe": {
        "image": "docker.io/kubeflowkatib/suggestion-optuna:v0.15.0"
      }
    }
kind: ConfigMap
metadata:
  name: katib-config
  namespace: kubeflow
"#;

    const TRIAL_TEMPLATES: &str = r#"apiVersion: v1
data:
  enasCPUTemplate: |-
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: training-container
              image: docker.io/kubeflowkatib/enas-cnn-cifar10-cpu:v0.15.0
              command:
                - python3
                - "--architecture=\"${trialParameters.neuralNetworkArchitecture}\""
          restartPolicy: Never
kind: ConfigMap
metadata:
  name: trial-templates
  namespace: kubeflow
"#;

    #[test]
    fn katib_config_json_is_rewritten_in_place() {
        let uses = images_in_stream(KATIB_CONFIG).unwrap();
        let at = |key: &str, field: &str| format!("ConfigMap/kubeflow/katib-config data[{key:?}] {field}");
        assert_eq!(
            spots(&uses),
            [
                (Place::Runtime, at("metrics-collector-sidecar", "File.image"), "docker.io/kubeflowkatib/file-metrics-collector:v0.15.0".into()),
                (Place::Runtime, at("metrics-collector-sidecar", "StdOut.image"), "docker.io/kubeflowkatib/file-metrics-collector:v0.15.0".into()),
                (Place::Runtime, at("metrics-collector-sidecar", "TensorFlowEvent.image"), "docker.io/kubeflowkatib/tfevent-metrics-collector:v0.15.0".into()),
                (Place::Runtime, at("suggestion", "[\"multivariate-tpe\"].image"), "docker.io/kubeflowkatib/suggestion-optuna:v0.15.0".into()),
                (Place::Runtime, at("suggestion", "random.image"), "docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0".into()),
            ]
        );
        let (out, rewritten) = rewrite_stream(KATIB_CONFIG, &rules(), None).unwrap();
        assert!(rewritten.iter().all(|u| u.mirrored.as_deref() == Some(&format!("{MIRROR}/{}", u.image))));
        // Only the references change in the values' text: layout, order and the rest stay.
        for key in ["suggestion", "metrics-collector-sidecar"] {
            let expected = data(KATIB_CONFIG, key).replace("\"docker.io/", &format!("\"{MIRROR}/docker.io/"));
            assert_eq!(data(&out, key), expected);
        }
        check(&rewritten, &rules()).unwrap();
        assert!(images_in_stream(&out).unwrap().iter().all(|u| u.image.starts_with(MIRROR)));
    }

    #[test]
    fn trial_templates_are_jobs_in_strings() {
        let (out, uses) = rewrite_stream(TRIAL_TEMPLATES, &rules(), None).unwrap();
        assert_eq!(
            spots(&uses),
            [(
                Place::Runtime,
                "ConfigMap/kubeflow/trial-templates data[\"enasCPUTemplate\"] spec.template.spec.containers[0].image".into(),
                "docker.io/kubeflowkatib/enas-cnn-cifar10-cpu:v0.15.0".into()
            )]
        );
        let expected = data(TRIAL_TEMPLATES, "enasCPUTemplate").replace("image: docker.io/", &format!("image: {MIRROR}/docker.io/"));
        assert_eq!(data(&out, "enasCPUTemplate"), expected, "the template's `${{...}}` and quoting stay");
    }

    #[test]
    fn a_katib_configmap_image_left_public_fails_the_check_naming_configmap_key_and_image() {
        let stream = format!("{KATIB_CONFIG}---\n{TRIAL_TEMPLATES}");
        let err = check(&images_in_stream(&stream).unwrap(), &rules()).unwrap_err().to_string();
        assert!(err.starts_with("5 images are outside the mirror (m.example.com/dkf) and not excluded:"), "{err}");
        assert!(
            err.contains(
                "\n  docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0\n    ConfigMap/kubeflow/katib-config data[\"suggestion\"] random.image\n"
            ),
            "{err}"
        );
        assert!(
            err.contains("\n    ConfigMap/kubeflow/trial-templates data[\"enasCPUTemplate\"] spec.template.spec.containers[0].image\n"),
            "{err}"
        );
    }

    #[test]
    fn istio_injector_values_and_templates() {
        // Excerpt of istiod 1.17.8's injector ConfigMap as deployKF renders it,
        // plus a hub-relative proxy image as the chart's defaults give it.
        let stream = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector
  namespace: istio-system
data:
  values: |-
    {
      "global": {
        "hub": "docker.io/istio",
        "proxy": {
          "image": "docker.io/istio/proxyv2:1.17.8-distroless"
        },
        "proxy_init": {
          "image": "proxyv2"
        },
        "tag": "1.17.8"
      }
    }
  config: |-
    templates:
      grpc-simple: |
        spec:
          initContainers:
            - name: grpc-bootstrap-init
              image: busybox:1.28
          containers:
          - name: istio-proxy
          {{- if contains "/" .Values.global.proxy.image }}
            image: "{{ annotation .ObjectMeta `sidecar.istio.io/proxyImage` .Values.global.proxy.image }}"
          {{- else }}
            image: "{{ .ProxyImage }}"
          {{- end }}
"#;
        let (out, uses) = rewrite_stream(stream, &rules(), None).unwrap();
        let at = |f: &str| format!("ConfigMap/istio-system/istio-sidecar-injector {f}");
        assert_eq!(
            spots(&uses),
            [
                (Place::Text, at("data[\"config\"] templates[\"grpc-simple\"] line 4"), "busybox:1.28".into()),
                (Place::Composed, at("data[\"values\"] global.proxy_init.image"), "docker.io/istio/proxyv2:1.17.8".into()),
                (Place::Runtime, at("data[\"values\"] global.proxy.image"), "docker.io/istio/proxyv2:1.17.8-distroless".into()),
            ]
        );
        let config = data(&out, "config");
        assert_eq!(config, data(stream, "config").replace("busybox:1.28", &format!("{MIRROR}/docker.io/library/busybox:1.28")));
        let values = data(&out, "values");
        assert!(values.contains(&format!("\"hub\": \"{MIRROR}/docker.io/istio\",")), "{values}");
        assert!(values.contains("\"image\": \"proxyv2\""), "{values}");
        assert!(values.contains(&format!("\"image\": \"{MIRROR}/docker.io/istio/proxyv2:1.17.8-distroless\"")), "{values}");
        check(&uses, &rules()).unwrap();
        let again = images_in_stream(&out).unwrap();
        assert_eq!(again.len(), 3);
        assert!(again.iter().all(|u| u.image.starts_with(MIRROR)), "{again:?}");

        // Pinned: full references get the lock's digest; the composed proxy
        // image keeps its hub (istiod adds name and tag), and is not missing.
        let mut lock = crate::mirror::lock::Lock::default();
        let digest = format!("sha256:{}", "d".repeat(64));
        for source in ["busybox:1.28", "docker.io/istio/proxyv2:1.17.8", "docker.io/istio/proxyv2:1.17.8-distroless"] {
            let source = ImageRef::parse(source).unwrap();
            lock.insert(&source, rules().rewrite_image(&source).unwrap(), digest.clone());
        }
        let (pinned, uses) = rewrite_stream(stream, &rules(), Some(&lock.pins())).unwrap();
        assert_eq!(data(&pinned, "config"), config.replace("busybox:1.28", &format!("busybox:1.28@{digest}")));
        let values = data(&pinned, "values");
        assert!(values.contains(&format!("\"hub\": \"{MIRROR}/docker.io/istio\",")), "{values}");
        assert!(values.contains("\"image\": \"proxyv2\""), "{values}");
        assert!(values.contains(&format!("proxyv2:1.17.8-distroless@{digest}\"")), "{values}");
        assert_eq!(uses.iter().map(|u| u.pinned).collect::<Vec<_>>(), [true, false, true]);
        assert!(crate::manifests::unpinned(&uses, &rules()).is_empty());
    }

    #[test]
    fn an_istio_hub_no_image_is_composed_under_is_mapped_as_a_prefix() {
        // deployKF 0.1.5's injector values: the proxy images are full
        // references, so the hub names no image, but istiod would still
        // compose a pod's short `sidecar.istio.io/proxyImage` under it.
        let stream = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: istio-sidecar-injector
  namespace: istio-system
data:
  values: |-
    {
      "global": {
        "hub": "docker.io/istio",
        "proxy": {
          "image": "docker.io/istio/proxyv2:1.17.8"
        },
        "tag": "1.17.8"
      }
    }
"#;
        let hub = |u: &&ImageUse| u.place == Place::Prefix;
        let public = images_in_stream(stream).unwrap();
        assert_eq!(public.iter().filter(hub).map(|u| u.image.as_str()).collect::<Vec<_>>(), ["docker.io/istio"]);
        let err = check(&public, &rules()).unwrap_err().to_string();
        assert!(err.contains("\n  docker.io/istio\n    ConfigMap/istio-system/istio-sidecar-injector data[\"values\"] global.hub"), "{err}");

        let (out, uses) = rewrite_stream(stream, &rules(), None).unwrap();
        let values = data(&out, "values");
        assert!(values.contains(&format!("\"hub\": \"{MIRROR}/docker.io/istio\",")), "{values}");
        assert!(values.contains(&format!("\"image\": \"{MIRROR}/docker.io/istio/proxyv2:1.17.8\"")), "{values}");
        check(&uses, &rules()).unwrap();
        // The inventory lists images, not prefixes.
        let listed = crate::inventory::scan::component_images("istio", stream).unwrap();
        assert_eq!(listed.iter().map(|f| f.image.to_string()).collect::<Vec<_>>(), ["docker.io/istio/proxyv2:1.17.8"]);
    }

    #[test]
    fn crd_containers_flags_and_env() {
        let stream = r#"apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: random, namespace: team-1}
spec:
  trialTemplate:
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: docker.io/kubeflowkatib/mxnet-mnist:v0.15.0
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: workflow-controller, namespace: kubeflow}
spec:
  template:
    spec:
      containers:
        - name: c
          image: gcr.io/ml-pipeline/workflow-controller:v3.3.10
          args: ["--configmap", "workflow-controller-configmap", "--executor-image=gcr.io/ml-pipeline/argoexec:v3.3.10", "--image", "quay.io/x/y:1", "--other=docker.io/not/flagged:1"]
          env:
            - {name: V2_LAUNCHER_IMAGE, value: "ghcr.io/deploykf/kfp-launcher:2.1.0"}
            - {name: DOCS_URL, value: "https://example.com/image"}
"#;
        let (out, uses) = rewrite_stream(stream, &rules(), None).unwrap();
        assert_eq!(
            spots(&uses),
            [
                (Place::Runtime, "Experiment/team-1/random spec.trialTemplate.trialSpec.spec.template.spec.containers[0].image".into(), "docker.io/kubeflowkatib/mxnet-mnist:v0.15.0".into()),
                (Place::PodSpec, "Deployment/kubeflow/workflow-controller spec.template.spec.containers[0].image".into(), "gcr.io/ml-pipeline/workflow-controller:v3.3.10".into()),
                (Place::Runtime, "Deployment/kubeflow/workflow-controller spec.template.spec.containers[0].args[2]".into(), "gcr.io/ml-pipeline/argoexec:v3.3.10".into()),
                (Place::Runtime, "Deployment/kubeflow/workflow-controller spec.template.spec.containers[0].args[4]".into(), "quay.io/x/y:1".into()),
                (Place::Runtime, "Deployment/kubeflow/workflow-controller spec.template.spec.containers[0].env[0].value".into(), "ghcr.io/deploykf/kfp-launcher:2.1.0".into()),
            ]
        );
        assert!(out.contains(&format!("--executor-image={MIRROR}/gcr.io/ml-pipeline/argoexec:v3.3.10")), "{out}");
        assert!(out.contains("--other=docker.io/not/flagged:1") && out.contains("https://example.com/image"), "{out}");
        check(&uses, &rules()).unwrap();
    }

    #[test]
    fn placeholders_urls_templates_and_prose_are_left_alone() {
        let stream = r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: deploykf-istio-gateway, namespace: deploykf-istio-gateway}
spec:
  template:
    spec:
      containers:
        - name: istio-proxy
          # "auto" will be populated at runtime by the mutating webhook.
          image: auto
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data:
  image: auto
  helpImage: "https://example.com/images/help.png"
  templateImage: "{{ .Values.image }}"
  shellImage: "$(IMAGE)"
  notes: "see image: busybox:1.36 for debugging"
  readme: |
    The image to use: pick one.
"#;
        let (out, uses) = rewrite_stream(stream, &rules(), None).unwrap();
        assert_eq!(spots(&uses), [(Place::Text, "ConfigMap/c data[\"notes\"] line 1".into(), "busybox:1.36".into())]);
        assert!(out.starts_with("apiVersion: apps/v1\nkind: Deployment\n"), "passed through byte for byte: {out}");
        assert!(out.contains("          image: auto\n"), "{out}");
        check(&uses, &rules()).unwrap();
        // `auto` alone: nothing found, nothing rewritten, the check passes.
        let gateway = stream.split("---\n").next().unwrap();
        let (same, none) = rewrite_stream(gateway, &rules(), None).unwrap();
        assert_eq!((same.as_str(), none.len()), (gateway, 0));
        check(&none, &rules()).unwrap();
    }

    #[test]
    fn a_reference_the_text_spells_otherwise_is_an_error_not_a_silent_leak() {
        // JSON may escape `/`: the decoded reference is not in the text as written.
        let stream = "kind: ConfigMap\nmetadata: {name: katib-config, namespace: kubeflow}\ndata:\n  suggestion: '{\"random\": {\"image\": \"docker.io\\/kubeflowkatib\\/suggestion-hyperopt:v0.15.0\"}}'\n";
        assert_eq!(images_in_stream(stream).unwrap().len(), 1);
        let err = rewrite_stream(stream, &rules(), None).unwrap_err().to_string();
        assert_eq!(
            err,
            "ConfigMap/kubeflow/katib-config data[\"suggestion\"]: cannot find \"docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0\" as written in the text of this value to rewrite it"
        );
    }

    #[test]
    fn replacements_are_whole_tokens() {
        assert_eq!(
            replace_tokens("a: nginx:1\nb: nginx:10\nc: x/nginx:1\nd: \"nginx:1\"", "nginx:1", "m/nginx:1").as_deref(),
            Some("a: m/nginx:1\nb: nginx:10\nc: x/nginx:1\nd: \"m/nginx:1\"")
        );
        assert_eq!(replace_tokens("a: nginx:10", "nginx:1", "m/nginx:1"), None);
    }
}
