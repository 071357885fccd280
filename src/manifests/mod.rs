//! Rendered manifests, as YAML streams: the after-render rewrite to the mirrors
//! ([`rewrite_stream`]), pinned to a lock's digests, the images a lock left
//! unpinned ([`unpinned`]), the leak check that fails a render with an image
//! outside the mirrors ([`check`]), plain listing for the inventory
//! ([`images_in_stream`], [`scan_dir`]), and the stream's documents decoded
//! for other readers ([`decode_stream`]).
//!
//! Input is a multi-document YAML stream as `kustomize build` and `helm
//! template` print it, or a file of `generate`'s output folder (kustomize's
//! input: [`rewrite_file`]); each object's images are found by the one
//! recognizer ([`recognize`]): pod specs, CRD container fields, image keys, env
//! and flags, the YAML, JSON or templates held in ConfigMap data, and a
//! kustomization's `images[]` names (a `kustomization.yaml` needs no `kind:`);
//! `*List` kinds are entered through `items`. CustomResourceDefinitions are passed
//! through unread. A document the YAML reader refuses is read line by line
//! for `image: REF` (an error for the workload kinds, which must parse).
//!
//! A document with no image to rewrite is passed through byte for byte. A
//! rewritten document is re-encoded by the engine's YAML encoder, keeping its
//! `---` line and the comments before its first key (`# Source: ...`): its
//! other comments are dropped and its keys come out sorted. Inside a string
//! (a ConfigMap value) only the reference's text is replaced.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use gomplate::Value;
use image_ref::ImageRef;

use crate::mirror::config::MirrorRules;
use crate::mirror::lock::Pins;

pub mod recognize;

use recognize::{Place, Spot};

/// An image reference found in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageUse {
    /// The image as the manifest had it.
    pub image: String,
    /// The reference written in its place, when it was rewritten.
    pub mirrored: Option<String>,
    /// Whether the reference now held is pinned to a lock's digest.
    pub pinned: bool,
    /// `Kind/namespace/name`, or `Kind/name` without a namespace.
    pub resource: String,
    /// The path of the image in the resource
    /// (`spec.template.spec.containers[0].image`, `data["suggestion"] random.image`).
    pub field: String,
    /// The kind of place holding it.
    pub place: Place,
    /// The file holding the resource, for [`scan_dir`]; `None` for a stream.
    pub file: Option<PathBuf>,
}

impl ImageUse {
    /// The image the output holds: the mirrored one when rewritten.
    pub fn effective(&self) -> &str {
        self.mirrored.as_deref().unwrap_or(&self.image)
    }
}

/// Rewrites every image reference of the stream by `rules` and lists every
/// one found (rewritten or not: excluded, already mirrored, or not a valid
/// reference, which [`check`] then refuses). With `pins`, each image the
/// lock lists by its mirrored or its source name is then written as the
/// lock's `repo:tag@sha256:…` (where a digest can be written: [`Place::can_pin`]).
///
/// Errors name the document (1-based, in stream order) and the line of the
/// stream for a YAML error, and the resource and field for an image whose
/// mirror location is not a valid reference.
pub fn rewrite_stream(text: &str, rules: &MirrorRules, pins: Option<&Pins>) -> Result<(String, Vec<ImageUse>)> {
    rewrite_text(text, false, rules, pins)
}

/// [`rewrite_stream`] over the text of the file `path`: a kustomization file
/// ([`is_kustomization_file`]) is read as a Kustomization even without
/// `kind:`, its `images[]` names redirected like the images they match.
pub fn rewrite_file(path: &Path, text: &str, rules: &MirrorRules, pins: Option<&Pins>) -> Result<(String, Vec<ImageUse>)> {
    rewrite_text(text, is_kustomization_file(path), rules, pins)
}

/// Whether kustomize reads `path` as a kustomization: `kustomization.yaml`,
/// `kustomization.yml` or `Kustomization`.
pub fn is_kustomization_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml" || n == "Kustomization")
}

/// [`rewrite_stream`]; with `kustomization`, the document is a kustomization file's (whatever its `kind:`).
fn rewrite_text(
    text: &str,
    kustomization: bool,
    rules: &MirrorRules,
    pins: Option<&Pins>,
) -> Result<(String, Vec<ImageUse>)> {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut uses = Vec::new();
    for chunk in split_stream(text) {
        let rewritten = chunk.visit(kustomization, &mut uses, &mut |spot| {
            let Ok(parsed) = parse_use(spot.image, spot.place) else {
                return Ok((None, false));
            };
            let mirrored = rules.try_rewrite_image(&parsed).with_context(|| {
                format!(
                    "{}, {} {} (image {:?})",
                    chunk.describe(),
                    spot.resource,
                    spot.field,
                    spot.image
                )
            })?;
            let pinned = pins.filter(|_| spot.place.can_pin()).and_then(|p| {
                p.get(mirrored.as_ref().unwrap_or(&parsed)).or_else(|| p.get(&parsed))
            });
            let written = pinned.or(mirrored.as_ref()).map(|r| written_use(r, spot.place));
            Ok((written.filter(|m| m != spot.image), pinned.is_some()))
        })?;
        match rewritten {
            Some(Rewritten::Value(doc)) => chunk.reemit(&doc, &mut out)?,
            Some(Rewritten::Text(t)) => out.push_str(&t),
            None => out.push_str(chunk.text),
        }
    }
    Ok((out, uses))
}

/// The uses a lock should have pinned but did not list: every image left
/// unpinned where a digest can be written ([`Place::can_pin`]), not excluded
/// by `rules`, and a valid reference.
pub fn unpinned<'a>(uses: &'a [ImageUse], rules: &MirrorRules) -> Vec<&'a ImageUse> {
    uses.iter()
        .filter(|u| !u.pinned && u.place.can_pin())
        .filter(|u| parse_use(u.effective(), u.place).is_ok_and(|r| !rules.exclude.iter().any(|p| p.matches(&r))))
        .collect()
}

/// The name a prefix ([`Place::Prefix`]) is probed with: a prefix is mapped
/// and checked as the images under it are, without Docker's implicit
/// `library/` that a one-component Docker Hub name would get.
const PREFIX_PROBE: &str = "x";

/// The reference a use stands for: the image, or for a prefix an image under it.
fn parse_use(written: &str, place: Place) -> Result<ImageRef> {
    let image = match place {
        Place::Prefix => ImageRef::parse(&format!("{written}/{PREFIX_PROBE}")),
        _ => ImageRef::parse(written),
    };
    Ok(image?)
}

/// What a use becomes when `mirrored` is written in its place.
fn written_use(mirrored: &ImageRef, place: Place) -> String {
    let text = mirrored.to_string();
    match place {
        Place::Prefix => text.strip_suffix(&format!("/{PREFIX_PROBE}")).map(str::to_string).unwrap_or(text),
        _ => text,
    }
}

/// The documents of a YAML stream, split as [`rewrite_stream`] splits it,
/// each decoded or the error naming it (`document N (line L): ...`); empty
/// and null documents and a prologue of comments are left out.
pub fn decode_stream(text: &str) -> Vec<Result<Value>> {
    split_stream(text)
        .into_iter()
        .filter(|chunk| chunk.number > 0)
        .filter_map(|chunk| match gomplate::yaml::decode(chunk.text) {
            Ok(Value::Nil | Value::Missing) => None,
            Ok(value) => Some(Ok(value)),
            Err(e) => Some(Err(anyhow!("{}: {e}", chunk.describe()))),
        })
        .collect()
}

/// Every image reference of the stream, as written (no rules applied).
pub fn images_in_stream(text: &str) -> Result<Vec<ImageUse>> {
    images_in_text(text, false)
}

/// [`images_in_stream`]; with `kustomization`, the document is a kustomization file's (whatever its `kind:`).
fn images_in_text(text: &str, kustomization: bool) -> Result<Vec<ImageUse>> {
    let mut uses = Vec::new();
    for chunk in split_stream(text) {
        chunk.visit(kustomization, &mut uses, &mut |_| Ok((None, false)))?;
    }
    Ok(uses)
}

/// Every image reference of the `*.yaml`/`*.yml` and `Kustomization` files
/// below `dir`, in path order, each with its file (kustomization files read
/// as [`rewrite_file`] reads them).
///
/// Documents that are not Kubernetes objects contribute nothing; a file
/// whose workload is not valid YAML is an error naming it. Helm chart templates (the
/// `templates/` folder next to a `Chart.yaml`) are not manifests yet and are
/// skipped.
pub fn scan_dir(dir: &Path) -> Result<Vec<ImageUse>> {
    let mut uses = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !is_chart_templates(e));
    for entry in walker {
        let entry = entry.with_context(|| format!("cannot walk {}", dir.display()))?;
        let path = entry.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml")
            || is_kustomization_file(path);
        if !entry.file_type().is_file() || !is_yaml {
            continue;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read it as UTF-8 text", path.display()))?;
        let found = images_in_text(&text, is_kustomization_file(path))
            .with_context(|| format!("{}", path.display()))?;
        uses.extend(found.into_iter().map(|u| ImageUse {
            file: Some(path.to_path_buf()),
            ..u
        }));
    }
    Ok(uses)
}

/// True for a chart's `templates` folder (Helm templates, not YAML yet).
fn is_chart_templates(entry: &walkdir::DirEntry) -> bool {
    entry.file_type().is_dir()
        && entry.file_name() == "templates"
        && entry
            .path()
            .parent()
            .is_some_and(|p| p.join("Chart.yaml").is_file())
}

/// The leak check: fails, listing every offending image with the resources
/// and fields holding it, when an image (the mirrored one when rewritten) is
/// neither under the mirror (`registry` or an override's `to`) nor excluded.
/// An image that is not a valid reference cannot be placed and fails too.
pub fn check(uses: &[ImageUse], rules: &MirrorRules) -> Result<()> {
    // (image, reason) -> sorted, deduplicated holders
    let mut offending: std::collections::BTreeMap<(String, Option<String>), Vec<String>> =
        Default::default();
    for u in uses {
        let image = u.effective();
        let reason = match parse_use(image, u.place) {
            Ok(r) if rules.is_mirrored(&r) || rules.exclude.iter().any(|p| p.matches(&r)) => {
                continue
            }
            Ok(_) => None,
            Err(e) => Some(format!("{e:#}")),
        };
        let mut holder = format!("{} {}", u.resource, u.field);
        if let Some(file) = &u.file {
            holder = format!("{holder} (in {})", file.display());
        }
        offending
            .entry((image.to_string(), reason))
            .or_default()
            .push(holder);
    }
    if offending.is_empty() {
        return Ok(());
    }
    let mut targets = vec![rules.registry.to_string()];
    targets.extend(rules.overrides.iter().map(|o| o.to.to_string()));
    targets.sort();
    targets.dedup();
    let count = offending.len();
    let mut msg = format!(
        "{count} image{} outside the mirror ({}) and not excluded:",
        if count == 1 { " is" } else { "s are" },
        targets.join(", ")
    );
    for ((image, reason), mut holders) in offending {
        holders.sort();
        holders.dedup();
        msg.push_str(&format!("\n  {image}"));
        if let Some(reason) = reason {
            msg.push_str(&format!(" ({reason})"));
        }
        for h in holders {
            msg.push_str(&format!("\n    {h}"));
        }
    }
    let origin = if rules.origin.is_empty() {
        String::new()
    } else {
        format!(" (config from {})", rules.origin)
    };
    msg.push_str(&format!(
        "\nMirror each image and point mirror.images.overrides at it, or list it in \
         mirror.images.exclude when it already comes from a private registry{origin}."
    ));
    Err(anyhow!(msg))
}

// ---------------------------------------------------------------------------
// The stream.

/// Called for each image of a document: the reference to write in its place,
/// if any, and whether the reference now held is pinned to a lock's digest.
type Replace<'f> = dyn FnMut(&Spot<'_>) -> Result<(Option<String>, bool)> + 'f;

/// A document whose images were rewritten: its value, or (when it is not
/// YAML the reader accepts) its text.
enum Rewritten {
    Value(Value),
    Text(String),
}

/// One document of a stream: its text (with its `---` line, if any).
struct Chunk<'a> {
    text: &'a str,
    /// 1-based number of the document in the stream.
    number: usize,
    /// 1-based line of the stream where `text` starts.
    line: usize,
    /// The `---` line (with its newline), when the document has one.
    marker: Option<&'a str>,
}

/// `---` (document start) or `...` (document end) lines: three characters at
/// column 0 followed by nothing or by a blank.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// True for lines holding nothing but blanks or a comment.
fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// Splits a stream into its documents at `---` lines and after `...` lines.
/// Text before the first `---` counts as a document only when it holds more
/// than blanks and comments.
fn split_stream(text: &str) -> Vec<Chunk<'_>> {
    let mut chunks = Vec::new();
    // The open chunk: start offset, first line, marker line.
    let mut start = 0;
    let mut start_line = 1;
    let mut marker: Option<&str> = None;
    let mut pos = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let end = pos + line.len();
        if is_marker(line, "---") {
            if pos > start || marker.is_some() {
                chunks.push(Chunk {
                    text: &text[start..pos],
                    number: 0,
                    line: start_line,
                    marker,
                });
            }
            (start, start_line, marker) = (pos, i + 1, Some(line));
        } else if is_marker(line, "...") {
            chunks.push(Chunk {
                text: &text[start..end],
                number: 0,
                line: start_line,
                marker,
            });
            (start, start_line, marker) = (end, i + 2, None);
        }
        pos = end;
    }
    if pos > start || marker.is_some() {
        chunks.push(Chunk {
            text: &text[start..pos],
            number: 0,
            line: start_line,
            marker,
        });
    }
    let mut number = 0;
    for (i, chunk) in chunks.iter_mut().enumerate() {
        let prologue = i == 0
            && chunk.marker.is_none()
            && chunk.text.split_inclusive('\n').all(is_blank_or_comment);
        // A prologue of comments is not a document (number 0).
        if !prologue {
            number += 1;
            chunk.number = number;
        }
    }
    chunks
}

impl Chunk<'_> {
    /// "document N (line L)" for messages.
    fn describe(&self) -> String {
        format!("document {} (line {})", self.number, self.line)
    }

    /// Visits the document's images with `f`, adding each to `uses`; returns
    /// the document when `f` replaced one. Empty and null documents and
    /// CustomResourceDefinitions (most of a chart's bytes; the YAML reader is
    /// stricter than Go's in rare corners of their descriptions) are not read.
    /// With `kustomization`, the document is a kustomization file's (whatever its `kind:`).
    fn visit(
        &self,
        kustomization: bool,
        uses: &mut Vec<ImageUse>,
        f: &mut Replace<'_>,
    ) -> Result<Option<Rewritten>> {
        if self.number == 0 || self.plain_kind() == Some("CustomResourceDefinition") {
            return Ok(None);
        }
        let mut changed = false;
        let mut record = |spot: &Spot<'_>| {
            let (mirrored, pinned) = f(spot)?;
            changed |= mirrored.is_some();
            uses.push(ImageUse {
                image: spot.image.to_string(),
                mirrored: mirrored.clone(),
                pinned,
                resource: spot.resource.to_string(),
                field: spot.field.to_string(),
                place: spot.place,
                file: None,
            });
            Ok(mirrored)
        };
        let mut doc = match gomplate::yaml::decode(self.text) {
            Ok(Value::Nil) | Ok(Value::Missing) => return Ok(None),
            Ok(v) => v,
            Err(_)
                if self
                    .plain_kind()
                    .is_some_and(|k| !recognize::has_pod_specs(k)) =>
            {
                let resource = format!(
                    "{} ({})",
                    self.plain_kind().unwrap_or_default(),
                    self.describe()
                );
                return Ok(
                    recognize::visit_text(self.text, &resource, "", &mut record)?
                        .map(Rewritten::Text),
                );
            }
            Err(e) if e.line > 0 => {
                bail!(
                    "document {}: line {}: {}",
                    self.number,
                    self.line + e.line - 1,
                    e.message
                )
            }
            Err(e) => bail!("{}: {}", self.describe(), e.message),
        };
        if kustomization {
            recognize::visit_kustomization(&mut doc, &mut record)?;
        } else {
            recognize::visit_object(&mut doc, &mut record)?;
        }
        Ok(changed.then_some(Rewritten::Value(doc)))
    }

    /// The value of the document's one top-level `kind:` line when it is a
    /// plain word (`None` for flow-style documents, aliases, tags, or more
    /// than one such line: those are decoded).
    fn plain_kind(&self) -> Option<&str> {
        let mut kinds = self.text.lines().filter_map(|l| l.strip_prefix("kind:"));
        let value = kinds.next()?;
        if kinds.next().is_some() {
            return None;
        }
        let value = value.split(" #").next().unwrap_or_default().trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        (!value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric())).then_some(value)
    }

    /// Writes the re-encoded document: its `---` line (a bare `---` when that
    /// line held content), the comments before its first key, then `doc`.
    fn reemit(&self, doc: &Value, out: &mut String) -> Result<()> {
        let mut body = self.text;
        if let Some(marker) = self.marker {
            body = &body[marker.len()..];
            let rest = marker[3..].trim();
            if rest.is_empty() || rest.starts_with('#') {
                out.push_str(marker);
            } else {
                out.push_str("---\n");
            }
        }
        for line in body.split_inclusive('\n') {
            if !is_blank_or_comment(line) {
                break;
            }
            out.push_str(line);
        }
        let encoded = gomplate::yaml::encode(doc).map_err(|e| {
            anyhow!(
                "{}: cannot encode the rewritten document: {e}",
                self.describe()
            )
        })?;
        out.push_str(&encoded);
        if !encoded.ends_with('\n') {
            out.push('\n');
        }
        if body
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| is_marker(l, "..."))
        {
            out.push_str("...\n");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::config;

    const MIRROR: &str = "registry.example.com/deploykf";

    fn rules(extra: &str) -> MirrorRules {
        let text = format!("images:\n  registry: {MIRROR}\n{extra}");
        let value = gomplate::yaml::decode(&text).unwrap();
        config::parse(&value, "test").unwrap()
    }

    fn mirrored(image: &str) -> String {
        let r = ImageRef::parse(image).unwrap();
        format!("{MIRROR}/{}", r.path_with_host())
            + &r.tag.map(|t| format!(":{t}")).unwrap_or_default()
    }

    /// (resource, field, image, mirrored) of each use, for compact asserts.
    fn summary(uses: &[ImageUse]) -> Vec<(String, String, String, Option<String>)> {
        uses.iter()
            .map(|u| {
                (
                    u.resource.clone(),
                    u.field.clone(),
                    u.image.clone(),
                    u.mirrored.clone(),
                )
            })
            .collect()
    }

    fn fields(uses: &[ImageUse]) -> Vec<String> {
        uses.iter()
            .map(|u| format!("{} {}", u.resource, u.field))
            .collect()
    }

    #[test]
    fn decode_stream_skips_prologues_and_empty_documents_and_names_bad_ones() {
        let stream = "# Source: a\n---\nkind: A\n...\n---\n---\nnull\n--- # b\nkind: B\n---\na: [\n";
        let docs = decode_stream(stream);
        assert_eq!(docs.len(), 3, "{docs:?}");
        let kind = |d: &Result<Value>| d.as_ref().unwrap().as_map().unwrap()["kind"].as_str().unwrap().to_string();
        assert_eq!((kind(&docs[0]), kind(&docs[1])), ("A".to_string(), "B".to_string()));
        let err = docs[2].as_ref().unwrap_err().to_string();
        assert!(err.starts_with("document 5 (line 10): "), "{err}");
        assert!(decode_stream("# only a comment\n---\n").is_empty());
    }

    #[test]
    fn documents_without_pod_specs_pass_through_undecoded() {
        // Helm prints CRDs verbatim; they are passed through without parsing.
        let crd = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: profiles.kubeflow.org
spec:
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          properties:
            apiVersion:
              description: 'APIVersion defines the versioned schema of this representation
              of an object.'
              type: string
";
        let broken_crd = format!("{crd}  bad: [\n");
        let pod = "apiVersion: v1\nkind: \"Pod\" # a comment\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: nginx:1.25}]\n";
        let stream = format!("{broken_crd}---\n{pod}");
        let (out, uses) = rewrite_stream(&stream, &rules(""), None).unwrap();
        assert!(out.starts_with(&broken_crd), "{out}");
        assert_eq!(fields(&uses), ["Pod/p spec.containers[0].image"]);
        // A flow-style document or one with two `kind:` lines is decoded as before.
        assert!(images_in_stream("{kind: ConfigMap, data: {a: 'x\ny'}, bad: [}\n").is_err());
        assert!(images_in_stream("kind: Pod\nkind: ConfigMap\n").is_err());
    }

    #[test]
    fn an_object_the_reader_refuses_is_read_by_lines() {
        let broken = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n  x: [\n  image: nginx:1.25\n";
        let (out, uses) = rewrite_stream(broken, &rules(""), None).unwrap();
        assert_eq!(out, broken.replace("nginx:1.25", &mirrored("nginx:1.25")));
        assert_eq!(
            summary(&uses),
            [(
                "ConfigMap (document 1 (line 1))".into(),
                "line 5".into(),
                "nginx:1.25".into(),
                Some(mirrored("nginx:1.25"))
            )]
        );
        // A workload must parse.
        assert!(rewrite_stream(&broken.replace("ConfigMap", "Deployment"), &rules(""), None).is_err());
    }

    #[test]
    fn every_workload_kind() {
        let stream = "\
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec:
  containers: [{name: a, image: nginx:1.25}]
  initContainers: [{name: b, image: busybox}]
  ephemeralContainers: [{name: c, image: ghcr.io/x/debug:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns}
spec: {template: {spec: {containers: [{name: a, image: quay.io/q/d:1}]}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
spec: {template: {spec: {containers: [{name: a, image: s:1}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec: {template: {spec: {initContainers: [{name: a, image: ds:1}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec: {template: {spec: {containers: [{name: a, image: rs:1}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {generateName: job-}
spec: {template: {spec: {containers: [{name: a, image: job:1}]}}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec: {template: {spec: {containers: [{name: a, image: rc:1}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: cj:1}]}}}}}
---
apiVersion: kubeflow.org/v1
kind: Notebook
metadata: {name: nb, namespace: user}
spec: {template: {spec: {containers: [{name: a, image: nb:1}]}}}
---
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata: {name: pt}
spec:
  pytorchReplicaSpecs:
    Master: {template: {spec: {containers: [{name: a, image: pt-master:1}]}}}
    Worker: {template: {spec: {containers: [{name: a, image: pt-worker:1}]}}}
---
apiVersion: kubeflow.org/v1
kind: TFJob
metadata: {name: tf}
spec: {tfReplicaSpecs: {PS: {template: {spec: {containers: [{name: a, image: tf:1}]}}}}}
---
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf}
spec:
  templates:
  - name: steps
    steps: [[{name: x, template: c}]]
  - name: c
    container: {image: wf-container:1}
    initContainers: [{name: i, image: wf-init:1}]
    sidecars: [{name: s, image: wf-sidecar:1}]
  - name: s
    script: {image: wf-script:1, source: echo}
  - name: set
    containerSet: {containers: [{name: m, image: wf-set:1}]}
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: cwf}
spec: {workflowSpec: {templates: [{name: c, container: {image: cwf:1}}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: no-images}
data: {image: auto, url: 'https://cm.example.com/x:1'}
";
        let uses = images_in_stream(stream).unwrap();
        assert_eq!(
            fields(&uses),
            [
                "Pod/ns/p spec.containers[0].image",
                "Pod/ns/p spec.initContainers[0].image",
                "Pod/ns/p spec.ephemeralContainers[0].image",
                "Deployment/ns/d spec.template.spec.containers[0].image",
                "StatefulSet/s spec.template.spec.containers[0].image",
                "DaemonSet/ds spec.template.spec.initContainers[0].image",
                "ReplicaSet/rs spec.template.spec.containers[0].image",
                "Job/job-* spec.template.spec.containers[0].image",
                "ReplicationController/rc spec.template.spec.containers[0].image",
                "CronJob/cj spec.jobTemplate.spec.template.spec.containers[0].image",
                "Notebook/user/nb spec.template.spec.containers[0].image",
                "PyTorchJob/pt spec.pytorchReplicaSpecs.Master.template.spec.containers[0].image",
                "PyTorchJob/pt spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].image",
                "TFJob/tf spec.tfReplicaSpecs.PS.template.spec.containers[0].image",
                "Workflow/wf spec.templates[1].container.image",
                "Workflow/wf spec.templates[1].initContainers[0].image",
                "Workflow/wf spec.templates[1].sidecars[0].image",
                "Workflow/wf spec.templates[2].script.image",
                "Workflow/wf spec.templates[3].containerSet.containers[0].image",
                "CronWorkflow/cwf spec.workflowSpec.templates[0].container.image",
            ]
        );
        assert_eq!(uses[0].image, "nginx:1.25");
        assert!(uses.iter().all(|u| u.mirrored.is_none()));

        // The rewrite reaches the same places, and nothing else.
        let (out, rewritten) = rewrite_stream(stream, &rules(""), None).unwrap();
        assert_eq!(fields(&rewritten), fields(&uses));
        let again = images_in_stream(&out).unwrap();
        assert_eq!(fields(&again), fields(&uses));
        for (before, after) in uses.iter().zip(&again) {
            assert_eq!(after.image, mirrored(&before.image), "{}", before.field);
        }
        assert!(out.ends_with("\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: no-images}\ndata: {image: auto, url: 'https://cm.example.com/x:1'}\n"), "{out}");
        check(&rewritten, &rules("")).unwrap();
    }

    #[test]
    fn list_kinds_are_entered() {
        let stream = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: a, namespace: n}
  spec: {template: {spec: {containers: [{name: a, image: nginx}]}}}
- apiVersion: v1
  kind: PodList
  items:
  - {kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: busybox:1}]}}
";
        let (out, uses) = rewrite_stream(stream, &rules(""), None).unwrap();
        assert_eq!(
            summary(&uses),
            [
                (
                    "Deployment/n/a".into(),
                    "spec.template.spec.containers[0].image".into(),
                    "nginx".into(),
                    Some(format!("{MIRROR}/docker.io/library/nginx")),
                ),
                (
                    "Pod/p".into(),
                    "spec.containers[0].image".into(),
                    "busybox:1".into(),
                    Some(format!("{MIRROR}/docker.io/library/busybox:1")),
                ),
            ]
        );
        let reread: Vec<_> = images_in_stream(&out)
            .unwrap()
            .into_iter()
            .map(|u| u.image)
            .collect();
        assert_eq!(
            reread,
            [
                format!("{MIRROR}/docker.io/library/nginx"),
                format!("{MIRROR}/docker.io/library/busybox:1")
            ]
        );
    }

    #[test]
    fn unchanged_documents_are_byte_identical_and_comments_kept() {
        let stream = "\
# leading comment of the stream
---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:   {name: cm}   # odd spacing kept
data:
  z: '1'
  a: \"2\"
---
# Source: chart/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # inner comment (dropped: the document is re-encoded)
spec:
  template:
    spec:
      containers:
      - name: web
        image: \"nginx:1.25\"
      - name: mirrored
        image: registry.example.com/deploykf/docker.io/library/x:1
---   # marker comment
# Source: chart/templates/already.yaml
kind: Deployment
apiVersion: apps/v1
metadata: {name: already}
spec: {template: {spec: {containers: [{name: a, image: 'registry.example.com/deploykf/y:1'}]}}}
";
        let (out, uses) = rewrite_stream(stream, &rules(""), None).unwrap();
        let expected = "\
# leading comment of the stream
---
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:   {name: cm}   # odd spacing kept
data:
  z: '1'
  a: \"2\"
---
# Source: chart/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - image: registry.example.com/deploykf/docker.io/library/nginx:1.25
          name: web
        - image: registry.example.com/deploykf/docker.io/library/x:1
          name: mirrored
---   # marker comment
# Source: chart/templates/already.yaml
kind: Deployment
apiVersion: apps/v1
metadata: {name: already}
spec: {template: {spec: {containers: [{name: a, image: 'registry.example.com/deploykf/y:1'}]}}}
";
        assert_eq!(out, expected);
        assert_eq!(uses.len(), 3);
        assert_eq!(uses[1].mirrored, None, "already under the mirror");
        assert_eq!(uses[2].mirrored, None);

        // Without anything to rewrite the whole stream comes back as it was.
        let (same, _) = rewrite_stream(&out, &rules(""), None).unwrap();
        assert_eq!(same, out);
    }

    #[test]
    fn excluded_and_invalid_images_stay() {
        let stream = "\
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: a, image: private.example.com/team/app:2}
  - {name: b, image: '{{inputs.parameters.image}}'}
";
        let r = rules("  exclude: [\"private.example.com/*\"]\n");
        let (out, uses) = rewrite_stream(stream, &r, None).unwrap();
        assert_eq!(out, stream, "nothing rewritten, so byte-identical");
        assert!(uses.iter().all(|u| u.mirrored.is_none()));
        let err = check(&uses, &r).unwrap_err().to_string();
        assert!(
            !err.contains("private.example.com"),
            "excluded images pass: {err}"
        );
        assert!(
            err.contains("  {{inputs.parameters.image}} (invalid image reference")
                && err.contains("\n    Pod/p spec.containers[1].image"),
            "{err}"
        );
    }

    #[test]
    fn check_lists_each_offender_once_sorted() {
        let stream = "\
kind: Deployment
metadata: {name: b, namespace: ns}
spec: {template: {spec: {containers: [{name: a, image: quay.io/z/z:1}, {name: b, image: nginx}]}}}
---
kind: Deployment
metadata: {name: a, namespace: ns}
spec: {template: {spec: {containers: [{name: a, image: nginx}], initContainers: [{name: i, image: registry.example.com/deploykf/ok:1}]}}}
";
        let r =
            rules("  overrides: [{from: docker.io/bitnami, to: registry.example.com/bitnami}]\n");
        let mut uses = images_in_stream(stream).unwrap();
        uses.extend(uses.clone()); // duplicates are listed once
        let err = check(&uses, &r).unwrap_err().to_string();
        assert_eq!(
            err,
            "2 images are outside the mirror (registry.example.com/bitnami, registry.example.com/deploykf) and not excluded:
  nginx
    Deployment/ns/a spec.template.spec.containers[0].image
    Deployment/ns/b spec.template.spec.containers[1].image
  quay.io/z/z:1
    Deployment/ns/b spec.template.spec.containers[0].image
Mirror each image and point mirror.images.overrides at it, or list it in mirror.images.exclude when it already comes from a private registry (config from test)."
        );
        // After the rewrite, the same stream passes.
        let (_, rewritten) = rewrite_stream(stream, &r, None).unwrap();
        check(&rewritten, &r).unwrap();
    }

    #[test]
    fn parse_errors_name_document_and_line() {
        let stream = "\
kind: ConfigMap
metadata: {name: a}
---
# comment
kind: Deployment
metadata:
  name: [unclosed
---
kind: ConfigMap
";
        // The engine's line for the document alone, which starts at stream line 4.
        // (A workload: documents of other kinds are not decoded.)
        let alone =
            gomplate::yaml::decode("# comment\nkind: Deployment\nmetadata:\n  name: [unclosed\n")
                .unwrap_err();
        assert!(alone.line > 1);
        let err = images_in_stream(stream).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("document 2: line {}: {}", alone.line + 3, alone.message)
        );
        let err = rewrite_stream(stream, &rules(""), None).unwrap_err().to_string();
        assert!(err.starts_with("document 2: line "), "{err}");
    }

    #[test]
    fn unusable_mirror_location_names_the_resource() {
        let long = format!("docker.io/{}/app:1", "a".repeat(240));
        let stream = format!("kind: Pod\nmetadata: {{name: p, namespace: n}}\nspec: {{containers: [{{name: a, image: {long}}}]}}\n");
        let err = rewrite_stream(&stream, &rules(""), None).unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.starts_with("document 1 (line 1), Pod/n/p spec.containers[0].image")
                && text.contains("mirror.images.overrides"),
            "{text}"
        );
    }

    #[test]
    fn stream_markers() {
        // `...` ends a document; `--- {flow}` holds content; empty documents pass.
        let stream = "\
--- {kind: Pod, metadata: {name: a}, spec: {containers: [{name: a, image: nginx}]}}
...
---
---
kind: Pod
metadata: {name: b}
spec: {containers: [{name: a, image: busybox}]}
";
        let (out, uses) = rewrite_stream(stream, &rules(""), None).unwrap();
        assert_eq!(uses.len(), 2);
        assert!(out.starts_with("---\nkind: Pod\n"), "{out}");
        assert!(out.contains("\n...\n---\n---\n"), "{out}");
        let again: Vec<_> = images_in_stream(&out)
            .unwrap()
            .into_iter()
            .map(|u| u.image)
            .collect();
        assert_eq!(again, [mirrored("nginx"), mirrored("busybox")]);
    }

    /// A kustomization's `images[]` names are mapped exactly as the images
    /// of its bases, so kustomize's textual match still happens after the
    /// rewrite; `newName` is mapped too, `newTag` and `digest` stay.
    #[test]
    fn kustomization_images_are_mapped_like_the_bases() {
        let digest = format!("sha256:{}", "b".repeat(64));
        let kustomization = format!(
            "resources: [deployment.yaml]
images:
  - name: gcr.io/ml-pipeline/api-server
    newTag: 2.1.0
  - name: kubeflow/training-operator
    newName: docker.io/kubeflow/training-operator
  - name: nginx
    newName: ghcr.io/example/nginx
    digest: {digest}
  - name: private.example.com/team/app
    newTag: '2'
  - name: registry.example.com/deploykf/ghcr.io/x/y
    newName: '{{{{ not an image }}}}'
"
        );
        let base = "kind: Deployment
metadata: {name: d}
spec:
  template:
    spec:
      containers:
        - {name: a, image: 'gcr.io/ml-pipeline/api-server:dummy'}
        - {name: b, image: 'kubeflow/training-operator:v1'}
        - {name: c, image: nginx}
";
        let r = rules("  exclude: [private.example.com]\n");
        let path = Path::new("x/kustomization.yaml");
        let (out, uses) = rewrite_file(path, &kustomization, &r, None).unwrap();
        let out = gomplate::yaml::decode(&out).unwrap();
        let entries: Vec<_> = out.as_map().unwrap()["images"].as_list().unwrap().iter().map(|e| e.as_map().unwrap().clone()).collect();
        let get = |i: usize, key: &str| entries[i].get(key).and_then(Value::as_str).map(str::to_string);
        assert_eq!(get(0, "name"), Some(format!("{MIRROR}/gcr.io/ml-pipeline/api-server")));
        assert_eq!(get(0, "newTag").as_deref(), Some("2.1.0"));
        assert_eq!(get(1, "name"), Some(format!("{MIRROR}/docker.io/kubeflow/training-operator")));
        assert_eq!(get(1, "newName"), get(1, "name"));
        assert_eq!(get(2, "name"), Some(format!("{MIRROR}/docker.io/library/nginx")));
        assert_eq!(get(2, "newName"), Some(format!("{MIRROR}/ghcr.io/example/nginx")));
        assert_eq!(get(2, "digest"), Some(digest.clone()));
        assert_eq!(get(3, "name").as_deref(), Some("private.example.com/team/app"), "excluded");
        assert_eq!(get(4, "newName").as_deref(), Some("{{ not an image }}"), "not a reference: left alone");
        assert_eq!(
            summary(&uses)[..2],
            [
                ("Kustomization".into(), "images[0].name".into(), "gcr.io/ml-pipeline/api-server".into(), get(0, "name")),
                ("Kustomization".into(), "images[1].name".into(), "kubeflow/training-operator".into(), get(1, "name")),
            ]
        );
        assert!(uses.iter().all(|u| u.place == Place::Kustomization), "{uses:?}");
        check(&uses, &r).unwrap();

        // Each base image, rewritten, is its entry's rewritten name with the base's tag.
        let (_, base_uses) = rewrite_stream(base, &r, None).unwrap();
        for (u, i) in base_uses.iter().zip(0..) {
            let tag = u.image.split_once(':').map(|(_, t)| format!(":{t}")).unwrap_or_default();
            assert_eq!(u.mirrored, get(i, "name").map(|n| n + &tag));
        }

        // Only a kustomization file, or a kustomize.config.k8s.io kind, is read as one.
        let (same, none) = rewrite_stream(&kustomization, &r, None).unwrap();
        assert_eq!((same, none.len()), (kustomization.clone(), 0));
        let typed = format!("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n{kustomization}");
        let (_, typed_uses) = rewrite_stream(&typed, &r, None).unwrap();
        assert_eq!(fields(&typed_uses), fields(&uses));
        let flux = format!("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n{kustomization}");
        assert!(images_in_stream(&flux).unwrap().is_empty());
        let (_, kind_only) = rewrite_file(path, &format!("kind: Kustomization\n{kustomization}"), &r, None).unwrap();
        assert_eq!(fields(&kind_only), fields(&uses));

        // A lock pins no entry: kustomize keeps the digest apart from the name.
        let mut lock = crate::mirror::lock::Lock::default();
        let api = ImageRef::parse("gcr.io/ml-pipeline/api-server").unwrap();
        lock.insert(&api, r.rewrite_image(&api).unwrap(), digest.clone());
        let (_, pinned) = rewrite_file(path, &kustomization, &r, Some(&lock.pins())).unwrap();
        assert!(pinned.iter().all(|u| !u.pinned) && unpinned(&pinned, &r).is_empty());

        // scan_dir reads the third name kustomize accepts too.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Kustomization"), &kustomization).unwrap();
        assert_eq!(fields(&scan_dir(dir.path()).unwrap()), fields(&uses));
    }

    #[test]
    fn scan_dir_reads_yaml_files_and_skips_chart_templates() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app/chart/templates")).unwrap();
        std::fs::write(
            root.join("app/deploy.yaml"),
            "kind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: [{name: a, image: nginx}]}}}\n",
        )
        .unwrap();
        std::fs::write(root.join("app/values.yml"), "image: not-a-manifest\n").unwrap();
        std::fs::write(root.join("app/notes.txt"), "{{ not yaml").unwrap();
        std::fs::write(
            root.join("app/chart/Chart.yaml"),
            "name: c\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("app/chart/templates/d.yaml"),
            "{{- if .Values.x }}\nkind: Pod\n",
        )
        .unwrap();
        let uses = scan_dir(root).unwrap();
        assert_eq!(
            fields(&uses),
            ["Deployment/d spec.template.spec.containers[0].image"]
        );
        assert_eq!(
            uses[0].file.as_deref(),
            Some(root.join("app/deploy.yaml").as_path())
        );

        std::fs::write(root.join("app/broken.yaml"), "a: [\n").unwrap();
        let err = format!("{:#}", scan_dir(root).unwrap_err());
        assert!(err.contains("broken.yaml: document 1: line"), "{err}");
    }

    /// kubectl kustomize over components of a real 0.1.5 render: every pod
    /// image is rewritten under the mirror and the check passes; the
    /// un-rewritten stream fails the check naming each resource.
    #[test]
    fn rendered_deploykf_components() {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
        let local_kubectl = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/kubectl");
        let kubectl = if local_kubectl.is_file() {
            local_kubectl
        } else {
            PathBuf::from("/usr/bin/kubectl")
        };
        if !kubectl.is_file() || !shared.is_dir() {
            eprintln!(
                "skipped: needs {} and {}",
                kubectl.display(),
                shared.display()
            );
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let argo = tmp.path().join("argo.yaml");
        std::fs::write(
            &argo,
            "argocd:\n  source:\n    repo:\n      url: https://github.com/example/deploykf.git\n      revision: main\n      path: ./out/\n",
        )
        .unwrap();
        let out_dir = tmp.path().join("out");
        let source = crate::generator::source::GeneratorSource::from_path(&shared.join("generators/deploykf-0.1.5-generator.zip")).unwrap();
        let layers = crate::generator::values::Layer::read_all(&[shared.join("sample-values/sample-values-0.1.5.yaml"), argo]).unwrap();
        let mirror = crate::mirror::steps::MirrorSettings::default();
        let inputs = crate::pipeline::Inputs { source: &source, layers: &layers, mirror: &mirror, env: Default::default() };
        crate::pipeline::generate(&inputs, &out_dir, crate::pipeline::Mirroring::Everything).unwrap();

        let r = rules(
            "  overrides: [{from: ghcr.io/deploykf, to: registry.example.com/deploykf-own}]\n",
        );
        let mut total = 0;
        for component in [
            "kubeflow-tools/volumes/volumes-web-app",
            "kubeflow-tools/tensorboards/tensorboard-controller",
            "kubeflow-tools/pipelines",
        ] {
            let built = std::process::Command::new(&kubectl)
                .arg("kustomize")
                .arg(out_dir.join("manifests").join(component))
                .output()
                .unwrap();
            assert!(
                built.status.success(),
                "{}",
                String::from_utf8_lossy(&built.stderr)
            );
            let stream = String::from_utf8(built.stdout).unwrap();
            // At least one image per Deployment.
            let found = images_in_stream(&stream).unwrap();
            let deployments = stream.matches("\nkind: Deployment\n").count();
            assert!(found.len() >= deployments && deployments > 0, "{component}");

            let err = check(&found, &r).unwrap_err().to_string();
            for u in &found {
                assert!(err.contains(&format!("\n  {}\n", u.image)), "{err}");
                assert!(
                    err.contains(&format!("    {} {}", u.resource, u.field)),
                    "{err}"
                );
            }

            let (out, uses) = rewrite_stream(&stream, &r, None).unwrap();
            assert_eq!(fields(&uses), fields(&found), "{component}");
            check(&uses, &r).unwrap();
            let after = images_in_stream(&out).unwrap();
            assert_eq!(after.len(), found.len());
            for (u, a) in uses.iter().zip(&after) {
                assert_eq!(
                    Some(&a.image),
                    u.mirrored.as_ref(),
                    "{} {}",
                    u.resource,
                    u.field
                );
                assert!(
                    a.image.starts_with("registry.example.com/deploykf/")
                        || a.image.starts_with("registry.example.com/deploykf-own/"),
                    "{}",
                    a.image
                );
            }
            // Re-encoded documents mean what the originals did, images aside.
            let (before, after) = (split_stream(&stream), split_stream(&out));
            assert_eq!(before.len(), after.len());
            for (b, a) in before.iter().zip(&after) {
                if b.plain_kind() == Some("CustomResourceDefinition") {
                    assert_eq!(a.text, b.text);
                    continue;
                }
                let mut expected = gomplate::yaml::decode(b.text).unwrap();
                recognize::visit_object(&mut expected, &mut |spot| {
                    let image = ImageRef::parse(spot.image).unwrap();
                    Ok(r.rewrite_image(&image).map(|m| m.to_string()))
                })
                .unwrap();
                assert_eq!(
                    gomplate::yaml::decode(a.text).unwrap(),
                    expected,
                    "{}",
                    a.text
                );
            }
            // No document is lost or added: same count of `---`.
            assert_eq!(
                out.matches("\n---\n").count(),
                stream.matches("\n---\n").count()
            );
            total += found.len();
        }
        assert!(total >= 10, "{total} pod images found");

        // The output folder itself scans cleanly (chart templates skipped).
        let scanned = scan_dir(&out_dir).unwrap();
        assert!(
            scanned.iter().any(|u| u.resource
                == "Deployment/team-1/ml-pipeline-visualizationserver"
                && u.file
                    .as_ref()
                    .is_some_and(|f| f.ends_with("pipelines/resources/profile-resources.yaml"))),
            "{scanned:#?}"
        );
        assert!(scanned.iter().all(|u| !u
            .file
            .as_ref()
            .unwrap()
            .to_string_lossy()
            .contains("/templates/")));
    }
}
