//! The mirror configuration (`mirror:` in values, `--mirror FILE`, or the
//! sidecar's site-wide file) and the rules it defines for rewriting image
//! references and chart repositories to private mirrors.
//!
//! ```yaml
//! mirror:
//!   images:
//!     registry: registry.example.com/deploykf   # required target prefix
//!     layout: keep-host                         # or drop-host
//!     overrides:
//!       - {from: docker.io/bitnami, to: registry.example.com/bitnami}
//!     exclude: ["registry.example.com/*"]
//!     sources:                                  # where `deploykf-cmp mirror` pulls from
//!       - {from: docker.io/bitnami, pullFrom: docker.io/bitnamilegacy}
//!     lock: images.lock                         # pin images to these digests
//!   charts:
//!     repository: oci://registry.example.com/deploykf/charts
//!     overrides: [{from: "https://charts.jetstack.io", to: "oci://registry.example.com/jetstack"}]
//!   pullSecret: {name: deploykf-registry, namespace: argocd}
//! ```
//!
//! **Sources** ([`resolve_sources`]), highest precedence first: the `--mirror
//! FILE`, the top-level `mirror:` key of the merged values, the file named by
//! [`MIRROR_CONFIG_ENV`]. The highest source present wins *entirely*: configs
//! are never merged key by key, so what applies is always one readable
//! document. A `mirror: null` in the values counts as absent.
//!
//! **Prefixes** (`registry`, override `from`/`to`) are reference names without
//! tag or digest, normalised like Docker does for the host: a first component
//! without `.` or `:` that is not `localhost` means Docker Hub (`bitnami/kubectl`
//! is `docker.io/bitnami/kubectl`; `index.docker.io` is `docker.io`). Prefixes
//! never get Docker's implicit `library/`: official images are
//! `docker.io/library/<name>`. A prefix matches on whole path components:
//! `docker.io/bitnami` matches `docker.io/bitnami/kubectl`, not
//! `docker.io/bitnamiX/y`; a host alone (`ghcr.io`) matches all its images.
//!
//! **Images** ([`MirrorRules::rewrite_image`]): excluded images and images
//! already under the target or an override's `to` stay as they are; otherwise
//! the longest matching override replaces its `from` by its `to`; otherwise
//! `keep-host` gives `<registry>/<source host>/<path>` (a host port becomes a
//! path-safe component through [`ImageRef::path_with_host`]) and `drop-host`
//! gives `<registry>/<path>`. drop-host makes `ghcr.io/x/y` and `quay.io/x/y`
//! the same mirror image: use it only when no two sources share a path (or
//! separate them with overrides). Tags and digests are kept.
//!
//! **Excludes** are `path.Match`-style globs (`*`, `?`, `[a-z]`, `\` escapes)
//! over the normalised name (no tag, no digest), compared component by
//! component: `*` never crosses a `/`, and a pattern that matches the first
//! components of a name excludes everything beneath it, so
//! `registry.example.com/*` (or just `registry.example.com`) covers
//! `registry.example.com/a/b/c`.
//!
//! **Overrides** may nest (`docker.io/bitnami` and `docker.io/bitnami/kubectl`:
//! the longest wins), but two overrides may not share a `from` (which one would
//! apply?) nor a `to` (two sources would land on the same names).
//!
//! **Source aliases** (`images.sources`, [`MirrorRules::pull_source`]) change
//! only where `deploykf-cmp mirror` pulls an image from: the longest matching
//! `from` is replaced by its `pullFrom` (tag and digest kept). Rendering and
//! the mirror targets keep using the `from` name, the one the render holds.
//! deployKF 0.1.x deploys `docker.io/bitnami/*` images that upstream moved to
//! `docker.io/bitnamilegacy`.
//!
//! **Lock** (`images.lock`): the path of a lock file
//! ([`super::lock`]) as written; a relative path is resolved by the caller
//! (the repository root in plugin mode, the working directory otherwise).
//!
//! **Charts** ([`MirrorRules::rewrite_chart_repository`]): https/http and oci
//! repositories go under `charts.repository` following the image layout:
//! `keep-host` gives `<repository>/<host>/<path>` and `drop-host`
//! `<repository>/<path>`. A flat `<repository>` for every source would let two
//! repositories that publish a chart of the same name overwrite each other,
//! hence the host. `file://` (deployKF's forks in the generator) stays. The
//! longest matching `charts.overrides` URL prefix wins over the layout.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use gomplate::{Map, Value};
use image_ref::ImageRef;
use serde::Serialize;

use super::glob;
use crate::settings::MIRROR_CONFIG_ENV;

/// How a source image's location maps below the target registry prefix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// `<registry>/<source host>/<path>`: no collisions between sources.
    #[default]
    KeepHost,
    /// `<registry>/<path>`: shorter, but sources sharing a path collide.
    DropHost,
}

/// A normalised name prefix: a registry host and a path below it (maybe empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImagePrefix {
    pub registry: String,
    /// Path components joined by `/`; empty for the whole registry.
    pub path: String,
}

impl ImagePrefix {
    /// The repository below `image.registry` that remains once this prefix is
    /// stripped (`Some("")` for an exact match), or `None` when it does not match.
    fn strip<'a>(&self, image: &'a ImageRef) -> Option<&'a str> {
        if image.registry != self.registry {
            return None;
        }
        if self.path.is_empty() {
            return Some(&image.repository);
        }
        let rest = image.repository.strip_prefix(&self.path)?;
        if rest.is_empty() {
            Some(rest)
        } else {
            rest.strip_prefix('/')
        }
    }

    /// `(registry, repository)` for `rest` placed below this prefix.
    fn join(&self, rest: &str) -> (String, String) {
        let repository = match (self.path.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_string(),
            (false, true) => self.path.clone(),
            (false, false) => format!("{}/{rest}", self.path),
        };
        (self.registry.clone(), repository)
    }

    /// Number of name components (host included): longer prefixes win.
    fn depth(&self) -> usize {
        1 + self.path.split('/').filter(|c| !c.is_empty()).count()
    }
}

impl std::fmt::Display for ImagePrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.registry)
        } else {
            write!(f, "{}/{}", self.registry, self.path)
        }
    }
}

/// `mirror.images.overrides[]`: images under `from` go under `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageOverride {
    pub from: ImagePrefix,
    pub to: ImagePrefix,
}

/// `mirror.images.exclude[]`: a glob over normalised name components.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExcludePattern {
    /// The pattern as written.
    pub text: String,
    /// Normalised components (host first).
    components: Vec<String>,
}

impl ExcludePattern {
    /// True when the pattern matches the first components of `image`'s name.
    pub fn matches(&self, image: &ImageRef) -> bool {
        let mut name = std::iter::once(image.registry.as_str()).chain(image.repository.split('/'));
        self.components.iter().all(|p| {
            name.next()
                .is_some_and(|c| glob::matches(p.as_bytes(), c.as_bytes()))
        })
    }
}

/// `mirror.images.sources[]`: images named under `from` are pulled from `pull_from`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceAlias {
    pub from: ImagePrefix,
    pub pull_from: ImagePrefix,
}

/// `mirror.charts.overrides[]`: repositories under the URL `from` go under `to`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChartOverride {
    pub from: String,
    pub to: String,
}

/// `mirror.charts`: where chart repositories go.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChartRules {
    /// `oci://...` or `https://...`, without a trailing `/`.
    pub repository: String,
    pub overrides: Vec<ChartOverride>,
}

/// `mirror.pullSecret`: the Secret pods use to pull from the mirror.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PullSecret {
    pub name: String,
    pub namespace: Option<String>,
}

/// Parsed and validated mirror rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MirrorRules {
    /// Where the config came from (`--mirror file 'm.yaml'`, `values`, ...).
    pub origin: String,
    /// `mirror.images.registry`: the default target prefix.
    pub registry: ImagePrefix,
    pub layout: Layout,
    pub overrides: Vec<ImageOverride>,
    pub exclude: Vec<ExcludePattern>,
    /// `mirror.images.sources`: where `mirror` pulls images from.
    pub sources: Vec<SourceAlias>,
    /// `mirror.images.lock`: the lock file pinning images to digests, as written.
    pub lock: Option<String>,
    /// `mirror.charts`, when given; without it chart repositories stay.
    pub charts: Option<ChartRules>,
    pub pull_secret: Option<PullSecret>,
}

impl MirrorRules {
    /// Where `image` goes, or `None` when it is excluded (left as is).
    ///
    /// Also `None` for an image already under the target or an override's
    /// `to` (rewriting is idempotent), and for the rare source whose mirrored
    /// name would be invalid ([`try_rewrite_image`](Self::try_rewrite_image)
    /// says why).
    pub fn rewrite_image(&self, image: &ImageRef) -> Option<ImageRef> {
        self.try_rewrite_image(image).ok().flatten()
    }

    /// [`rewrite_image`](Self::rewrite_image), with an error when the mirrored
    /// name is not a valid reference (too long, typically).
    pub fn try_rewrite_image(&self, image: &ImageRef) -> Result<Option<ImageRef>> {
        if self.is_mirrored(image) || self.exclude.iter().any(|p| p.matches(image)) {
            return Ok(None);
        }
        let best = self
            .overrides
            .iter()
            .filter_map(|o| o.from.strip(image).map(|rest| (o, rest)))
            .max_by_key(|(o, _)| o.from.depth());
        let (registry, repository) = match (best, self.layout) {
            (Some((o, rest)), _) => o.to.join(rest),
            (None, Layout::KeepHost) => self.registry.join(&image.path_with_host()),
            (None, Layout::DropHost) => self.registry.join(&image.repository),
        };
        let mirrored = ImageRef {
            registry,
            repository,
            tag: image.tag.clone(),
            digest: image.digest.clone(),
        };
        let text = mirrored.to_string();
        match ImageRef::parse(&text) {
            Ok(parsed) if parsed == mirrored => Ok(Some(mirrored)),
            Ok(parsed) => bail!(
                "the mirror location of {image} would be {text}, which reads as {parsed}; add a mirror.images.overrides entry for it"
            ),
            Err(e) => Err(e).with_context(|| {
                format!("the mirror location of {image} is not a valid reference; add a mirror.images.overrides entry for it")
            }),
        }
    }

    /// Where `deploykf-cmp mirror` pulls `image` from: the longest matching
    /// `mirror.images.sources[].from` replaced by its `pullFrom`, or `None`
    /// when no alias applies. Tag and digest are kept; an error when the
    /// result is not a valid reference.
    pub fn pull_source(&self, image: &ImageRef) -> Result<Option<ImageRef>> {
        let Some((alias, rest)) = self
            .sources
            .iter()
            .filter_map(|a| a.from.strip(image).map(|rest| (a, rest)))
            .max_by_key(|(a, _)| a.from.depth())
        else {
            return Ok(None);
        };
        let (registry, repository) = alias.pull_from.join(rest);
        let pulled = ImageRef {
            registry,
            repository,
            tag: image.tag.clone(),
            digest: image.digest.clone(),
        };
        let text = pulled.to_string();
        match ImageRef::parse(&text) {
            Ok(parsed) if parsed == pulled => Ok(Some(pulled)),
            _ => bail!(
                "the alias {} -> {} makes {image} {text:?}, which is not a valid reference; adjust that mirror.images.sources entry",
                alias.from,
                alias.pull_from
            ),
        }
    }

    /// True when `image` is already under the target registry or an override's `to`.
    pub fn is_mirrored(&self, image: &ImageRef) -> bool {
        self.registry.strip(image).is_some()
            || self.overrides.iter().any(|o| o.to.strip(image).is_some())
    }

    /// Where a chart repository URL (`https://...` or `oci://...`) goes, or
    /// `None` when it is left alone (`file://` forks, no `mirror.charts`,
    /// already mirrored).
    pub fn rewrite_chart_repository(&self, url: &str) -> Option<String> {
        self.try_rewrite_chart_repository(url).ok().flatten()
    }

    /// [`rewrite_chart_repository`](Self::rewrite_chart_repository), with an
    /// error when the derived location is not a valid OCI repository.
    pub fn try_rewrite_chart_repository(&self, url: &str) -> Result<Option<String>> {
        let Some(charts) = &self.charts else {
            return Ok(None);
        };
        let Some((scheme, rest)) = split_url(url) else {
            return Ok(None);
        };
        if !matches!(scheme.as_str(), "https" | "http" | "oci") {
            return Ok(None);
        }
        let url = format!("{scheme}://{rest}");
        if url_strip(&charts.repository, &url).is_some()
            || charts
                .overrides
                .iter()
                .any(|o| url_strip(&o.to, &url).is_some())
        {
            return Ok(None);
        }
        let best = charts
            .overrides
            .iter()
            .filter_map(|o| url_strip(&o.from, &url).map(|rest| (o, rest)))
            .max_by_key(|(o, _)| o.from.len());
        let target = match best {
            Some((o, rest)) => url_join(&o.to, rest),
            None => {
                let (host, path) = rest.split_once('/').unwrap_or((rest.as_str(), ""));
                let below = match self.layout {
                    Layout::KeepHost => url_join(&host_component(host)?, path),
                    Layout::DropHost => path.to_string(),
                };
                url_join(&charts.repository, &below)
            }
        };
        if let Some(name) = target.strip_prefix("oci://") {
            // Helm appends the chart name: the result must stay a valid reference.
            ImageRef::parse(&format!("{name}/chart")).with_context(|| {
                format!("chart repository {url} would be mirrored at {target}, which is not a valid OCI repository; add a mirror.charts.overrides entry for it")
            })?;
        }
        Ok(Some(target))
    }
}

/// The host of a chart URL as a path component, as images' hosts are ([`ImageRef::path_with_host`]).
fn host_component(host: &str) -> Result<String> {
    let probe = ImageRef::parse(&format!("{host}/x/chart"))
        .with_context(|| format!("chart repository host {host:?} is not a valid registry host"))?;
    let path = probe.path_with_host();
    Ok(path.strip_suffix("/x/chart").unwrap_or(&path).to_string())
}

/// `(scheme, host/path)` of `scheme://host/path`, with the scheme and host
/// lowercased (both are case-insensitive) and no trailing `/`.
fn split_url(url: &str) -> Option<(String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let rest = rest.trim_end_matches('/');
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, None), |(h, p)| (h, Some(p)));
    let mut out = host.to_ascii_lowercase();
    if let Some(path) = path {
        out.push('/');
        out.push_str(path);
    }
    Some((scheme.to_ascii_lowercase(), out))
}

/// What is left of `url` below `prefix` (on a `/` boundary), `Some("")` when equal.
fn url_strip<'a>(prefix: &str, url: &'a str) -> Option<&'a str> {
    let rest = url.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix('/')
    }
}

fn url_join(base: &str, rest: &str) -> String {
    if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{rest}")
    }
}

/// Reads the mirror config from the highest-precedence source present and
/// removes the `mirror` key from `values` (it is not a deployKF value).
///
/// `cli_file` (`--mirror FILE`) and `env_file` (named by [`MIRROR_CONFIG_ENV`])
/// are YAML files with `mirror:` at the top level. The highest source present
/// wins entirely; lower ones are not read.
pub fn resolve_sources(
    cli_file: Option<&Path>,
    values: &mut Map,
    env_file: Option<&Path>,
) -> Result<Option<MirrorRules>> {
    let in_values = values.remove("mirror").filter(|v| !v.is_nil());
    if let Some(path) = cli_file {
        return load_file(path, "--mirror file").map(Some);
    }
    if let Some(value) = in_values {
        return parse(&value, "values").map(Some);
    }
    if let Some(path) = env_file {
        return load_file(path, &format!("{MIRROR_CONFIG_ENV} file")).map(Some);
    }
    Ok(None)
}

/// Loads a YAML file holding a top-level `mirror:` section.
pub fn load_file(path: &Path, what: &str) -> Result<MirrorRules> {
    let origin = format!("{what} '{}'", path.display());
    let text = crate::user_input::read_file(path, what)?;
    let doc = gomplate::yaml::decode(&text).map_err(|e| anyhow!("{origin}: {e}"))?;
    let Some(top) = doc.as_map() else {
        bail!(
            "{origin}: expected a map with a top-level `mirror:` key, found {}",
            doc.type_name()
        );
    };
    if let Some(key) = top.keys().find(|k| *k != "mirror") {
        let hint = if ["images", "charts", "pullSecret"].contains(&key.as_str()) {
            " (put it under a top-level `mirror:` key)"
        } else {
            " (the file holds only `mirror:`)"
        };
        bail!("{origin}: {key}: unknown top-level key{hint}");
    }
    match top.get("mirror") {
        Some(v) if !v.is_nil() => parse(v, &origin),
        _ => bail!(
            "{origin}: no `mirror:` section; write the config under a top-level `mirror:` key"
        ),
    }
}

/// Parses a `mirror:` section (the value under the key) naming `origin` in errors.
pub fn parse(value: &gomplate::Value, origin: &str) -> Result<MirrorRules> {
    Parser { origin }.mirror(value)
}

struct Parser<'a> {
    origin: &'a str,
}

impl Parser<'_> {
    fn err(&self, path: &str, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}: {path}: {msg}", self.origin)
    }

    fn map<'v>(&self, value: &'v Value, path: &str, keys: &[&str]) -> Result<&'v Map> {
        let map = value
            .as_map()
            .ok_or_else(|| self.err(path, format!("expected a map, found {}", describe(value))))?;
        for key in map.keys() {
            if !keys.contains(&key.as_str()) {
                let hint = match suggest(key, keys) {
                    Some(k) => format!(" (did you mean {k}?)"),
                    None => format!(" (known keys: {})", keys.join(", ")),
                };
                return Err(self.err(&format!("{path}.{key}"), format!("unknown key{hint}")));
            }
        }
        Ok(map)
    }

    /// A string key: `None` when absent or null.
    fn string<'v>(&self, map: &'v Map, key: &str, path: &str) -> Result<Option<&'v str>> {
        match map.get(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
            Some(Value::String(_)) => Err(self.err(&format!("{path}.{key}"), "must not be empty")),
            Some(v) => Err(self.err(
                &format!("{path}.{key}"),
                format!("expected a string, found {}", describe(v)),
            )),
        }
    }

    fn list<'v>(&self, map: &'v Map, key: &str, path: &str) -> Result<&'v [Value]> {
        match map.get(key) {
            None | Some(Value::Nil) => Ok(&[]),
            Some(Value::List(l)) => Ok(l),
            Some(v) => Err(self.err(
                &format!("{path}.{key}"),
                format!("expected a list, found {}", describe(v)),
            )),
        }
    }

    fn mirror(&self, value: &Value) -> Result<MirrorRules> {
        let top = self.map(value, "mirror", &["images", "charts", "pullSecret"])?;
        let images = match top.get("images") {
            Some(v) if !v.is_nil() => v,
            _ => {
                return Err(self.err(
                    "mirror.images",
                    "required: set mirror.images.registry to the registry prefix images are mirrored to",
                ))
            }
        };
        let images = self.map(
            images,
            "mirror.images",
            &["registry", "layout", "overrides", "exclude", "sources", "lock"],
        )?;
        let path = "mirror.images";
        let registry = self.string(images, "registry", path)?.ok_or_else(|| {
            self.err(
                "mirror.images.registry",
                "required: the registry prefix images are mirrored to (e.g. registry.example.com/deploykf)",
            )
        })?;
        let registry = self.prefix(registry, "mirror.images.registry")?;
        let layout = match self.string(images, "layout", path)? {
            None | Some("keep-host") => Layout::KeepHost,
            Some("drop-host") => Layout::DropHost,
            Some(other) => {
                return Err(self.err(
                    "mirror.images.layout",
                    format!("{other:?} is not a layout: use keep-host (the default) or drop-host"),
                ))
            }
        };
        let mut overrides: Vec<ImageOverride> = Vec::new();
        for (i, item) in self.list(images, "overrides", path)?.iter().enumerate() {
            let at = format!("mirror.images.overrides[{i}]");
            let map = self.map(item, &at, &["from", "to"])?;
            let field = |key: &str| {
                self.string(map, key, &at)?
                    .ok_or_else(|| self.err(&format!("{at}.{key}"), "required"))
            };
            let from = self.prefix(field("from")?, &format!("{at}.from"))?;
            let to = self.prefix(field("to")?, &format!("{at}.to"))?;
            for (j, other) in overrides.iter().enumerate() {
                if other.from == from {
                    return Err(self.err(
                        &format!("{at}.from"),
                        format!("{from} is already the source of mirror.images.overrides[{j}]; give each source one override"),
                    ));
                }
                if other.to == to {
                    return Err(self.err(
                        &format!("{at}.to"),
                        format!("{to} is already the target of mirror.images.overrides[{j}] (from {}); images from both sources would share names, give each its own target", other.from),
                    ));
                }
            }
            overrides.push(ImageOverride { from, to });
        }
        let mut exclude = Vec::new();
        for (i, item) in self.list(images, "exclude", path)?.iter().enumerate() {
            let at = format!("mirror.images.exclude[{i}]");
            let text = item.as_str().ok_or_else(|| {
                self.err(
                    &at,
                    format!("expected a pattern string, found {}", describe(item)),
                )
            })?;
            exclude.push(self.pattern(text, &at)?);
        }
        let mut sources: Vec<SourceAlias> = Vec::new();
        for (i, item) in self.list(images, "sources", path)?.iter().enumerate() {
            let at = format!("mirror.images.sources[{i}]");
            let map = self.map(item, &at, &["from", "pullFrom"])?;
            let field = |key: &str| {
                self.string(map, key, &at)?
                    .ok_or_else(|| self.err(&format!("{at}.{key}"), "required"))
            };
            let from = self.prefix(field("from")?, &format!("{at}.from"))?;
            let pull_from = self.prefix(field("pullFrom")?, &format!("{at}.pullFrom"))?;
            if pull_from == from {
                return Err(self.err(
                    &format!("{at}.pullFrom"),
                    format!("{pull_from} is the same as from; an alias names another place to pull from"),
                ));
            }
            if let Some(j) = sources.iter().position(|o| o.from == from) {
                return Err(self.err(
                    &format!("{at}.from"),
                    format!("{from} is already the source of mirror.images.sources[{j}]; give each source one pullFrom"),
                ));
            }
            sources.push(SourceAlias { from, pull_from });
        }
        let lock = self.string(images, "lock", path)?.map(str::to_string);
        let charts = match top.get("charts") {
            Some(v) if !v.is_nil() => Some(self.charts(v)?),
            _ => None,
        };
        let pull_secret = match top.get("pullSecret") {
            Some(v) if !v.is_nil() => Some(self.pull_secret(v)?),
            _ => None,
        };
        Ok(MirrorRules {
            origin: self.origin.to_string(),
            registry,
            layout,
            overrides,
            exclude,
            sources,
            lock,
            charts,
            pull_secret,
        })
    }

    /// A name prefix: `host[:port][/path]`, or a Docker Hub path (`bitnami`).
    fn prefix(&self, text: &str, at: &str) -> Result<ImagePrefix> {
        let text = text.trim().trim_end_matches('/');
        if text.contains("://") {
            return Err(self.err(at, format!("{text:?} is not a valid reference prefix: write it without a scheme (registry.example.com/path)")));
        }
        if has_tag_or_digest(text) {
            return Err(self.err(
                at,
                format!("{text:?} is not a valid reference prefix: a prefix has no tag or digest"),
            ));
        }
        let (registry, path) = split_host(text);
        // Two extra components: `docker.io/x` alone would read as `docker.io/library/x`.
        let probe = if path.is_empty() {
            format!("{registry}/x/x")
        } else {
            format!("{registry}/{path}/x/x")
        };
        let parsed = ImageRef::parse(&probe).map_err(|e| {
            self.err(
                at,
                format!("{text:?} is not a valid reference prefix: {e:#}"),
            )
        })?;
        let path = parsed
            .repository
            .strip_suffix("x/x")
            .map(|p| p.trim_end_matches('/').to_string())
            .unwrap_or(path);
        Ok(ImagePrefix {
            registry: parsed.registry,
            path,
        })
    }

    fn pattern(&self, text: &str, at: &str) -> Result<ExcludePattern> {
        let trimmed = text.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            return Err(self.err(at, "must not be empty"));
        }
        if has_tag_or_digest(trimmed) {
            return Err(self.err(
                at,
                format!(
                    "{text:?}: exclude patterns match image names; leave out the tag and digest"
                ),
            ));
        }
        let (registry, path) = split_host(trimmed);
        let components: Vec<String> = std::iter::once(registry)
            .chain(
                path.split('/')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
            )
            .collect();
        for c in &components {
            if c.is_empty() || !glob::valid(c.as_bytes()) {
                return Err(self.err(at, format!("{text:?} is not a valid pattern (empty component or unclosed [ or trailing \\)")));
            }
        }
        Ok(ExcludePattern {
            text: text.to_string(),
            components,
        })
    }

    fn charts(&self, value: &Value) -> Result<ChartRules> {
        let path = "mirror.charts";
        let map = self.map(value, path, &["repository", "overrides"])?;
        let repository = self.string(map, "repository", path)?.ok_or_else(|| {
            self.err(
                "mirror.charts.repository",
                "required: the oci:// (or https://) repository charts are mirrored to",
            )
        })?;
        let repository = self.chart_url(
            repository,
            "mirror.charts.repository",
            &["oci", "https", "http"],
        )?;
        let mut overrides: Vec<ChartOverride> = Vec::new();
        for (i, item) in self.list(map, "overrides", path)?.iter().enumerate() {
            let at = format!("mirror.charts.overrides[{i}]");
            let m = self.map(item, &at, &["from", "to"])?;
            let field = |key: &str| {
                self.string(m, key, &at)?
                    .ok_or_else(|| self.err(&format!("{at}.{key}"), "required"))
            };
            let from = self.chart_url(
                field("from")?,
                &format!("{at}.from"),
                &["https", "http", "oci"],
            )?;
            let to =
                self.chart_url(field("to")?, &format!("{at}.to"), &["oci", "https", "http"])?;
            for (j, other) in overrides.iter().enumerate() {
                if other.from == from {
                    return Err(self.err(&format!("{at}.from"), format!("{from} is already the source of mirror.charts.overrides[{j}]; give each source one override")));
                }
                if other.to == to {
                    return Err(self.err(&format!("{at}.to"), format!("{to} is already the target of mirror.charts.overrides[{j}] (from {}); charts of the same name would collide, give each its own target", other.from)));
                }
            }
            overrides.push(ChartOverride { from, to });
        }
        Ok(ChartRules {
            repository,
            overrides,
        })
    }

    /// A repository URL with one of `schemes`, normalised (lowercase scheme, no trailing `/`).
    fn chart_url(&self, text: &str, at: &str, schemes: &[&str]) -> Result<String> {
        let wanted = schemes
            .iter()
            .map(|s| format!("{s}://"))
            .collect::<Vec<_>>()
            .join(" or ");
        let (scheme, rest) = split_url(text)
            .filter(|(s, rest)| schemes.contains(&s.as_str()) && !rest.is_empty())
            .ok_or_else(|| {
                self.err(
                    at,
                    format!("{text:?} is not a repository URL: expected {wanted}"),
                )
            })?;
        if scheme == "oci" {
            ImageRef::parse(&format!("{rest}/chart")).map_err(|e| {
                self.err(at, format!("{text:?} is not a valid OCI repository: {e:#}"))
            })?;
        }
        Ok(format!("{scheme}://{rest}"))
    }

    fn pull_secret(&self, value: &Value) -> Result<PullSecret> {
        let path = "mirror.pullSecret";
        let map = self.map(value, path, &["name", "namespace"])?;
        let name = self.string(map, "name", path)?.ok_or_else(|| {
            self.err(
                "mirror.pullSecret.name",
                "required: the name of the image pull Secret",
            )
        })?;
        if !is_dns_name(name, 253, true) {
            return Err(self.err("mirror.pullSecret.name", format!("{name:?} is not a valid Secret name (lowercase letters, digits, '-' and '.', at most 253)")));
        }
        let namespace = self.string(map, "namespace", path)?;
        if let Some(ns) = namespace {
            if !is_dns_name(ns, 63, false) {
                return Err(self.err("mirror.pullSecret.namespace", format!("{ns:?} is not a valid namespace (lowercase letters, digits and '-', at most 63)")));
            }
        }
        Ok(PullSecret {
            name: name.to_string(),
            namespace: namespace.map(str::to_string),
        })
    }
}

/// Splits a prefix or pattern into its normalised host and path, Docker's way:
/// the first component is a host if it has `.` or `:`, is `localhost`, or has
/// uppercase letters; otherwise the host is `docker.io`.
fn split_host(text: &str) -> (String, String) {
    let (first, rest) = text.split_once('/').unwrap_or((text, ""));
    let is_host = first.contains(['.', ':'])
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase());
    if !is_host {
        return ("docker.io".to_string(), text.to_string());
    }
    let host = if first == "index.docker.io" {
        "docker.io"
    } else {
        first
    };
    (host.to_string(), rest.to_string())
}

/// True when a prefix or pattern carries a tag or digest: `@`, a `:` past the
/// first component, or a first component whose `:` is not followed by a port.
fn has_tag_or_digest(text: &str) -> bool {
    let mut components = text.split('/');
    let first = components.next().unwrap_or_default();
    let bad_port = first
        .split_once(':')
        .is_some_and(|(_, port)| port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()));
    text.contains('@') || bad_port || components.any(|c| c.contains(':'))
}

/// Kubernetes DNS-1123 subdomain (`dots`) or label names.
pub(crate) fn is_dns_name(s: &str, max: usize, dots: bool) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    s.len() <= max
        && if dots {
            s.split('.').all(part_ok)
        } else {
            part_ok(s)
        }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Map(_) | Value::Context(_) => "a map",
        Value::List(_) => "a list",
        Value::String(_) => "a string",
        Value::Int(_) | Value::Uint8(_) | Value::Float(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Nil | Value::Missing => "null",
    }
}

/// The known key closest to `key` (case-insensitive equal, or within two edits).
fn suggest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let key = key.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&key, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        gomplate::yaml::decode(text).expect("test YAML")
    }

    /// Parses the `mirror:` section of `text`.
    fn rules(text: &str) -> MirrorRules {
        let doc = yaml(text);
        parse(&doc.as_map().unwrap()["mirror"], "test").unwrap_or_else(|e| panic!("{e:#}"))
    }

    fn error(text: &str) -> String {
        let doc = yaml(text);
        match parse(&doc.as_map().unwrap()["mirror"], "test") {
            Ok(r) => panic!("expected an error, got {r:?}"),
            Err(e) => format!("{e:#}"),
        }
    }

    fn img(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{e:#}"))
    }

    fn mirrored(r: &MirrorRules, s: &str) -> Option<String> {
        r.rewrite_image(&img(s)).map(|i| i.to_string())
    }

    const EXAMPLE: &str = r#"
mirror:
  images:
    registry: registry.example.com/deploykf
    layout: keep-host
    overrides:
      - {from: docker.io/bitnami, to: registry.example.com/bitnami}
    exclude: ["registry.example.com/*"]
  charts:
    repository: oci://registry.example.com/deploykf/charts
    overrides: [{from: "https://charts.jetstack.io", to: "oci://registry.example.com/jetstack"}]
  pullSecret: {name: deploykf-registry, namespace: argocd}
"#;

    #[test]
    fn the_issue_example_parses() {
        let r = rules(EXAMPLE);
        assert_eq!(r.origin, "test");
        assert_eq!(r.registry.to_string(), "registry.example.com/deploykf");
        assert_eq!(r.layout, Layout::KeepHost);
        assert_eq!(r.overrides.len(), 1);
        assert_eq!(r.overrides[0].from.to_string(), "docker.io/bitnami");
        assert_eq!(r.exclude[0].text, "registry.example.com/*");
        let charts = r.charts.as_ref().unwrap();
        assert_eq!(
            charts.repository,
            "oci://registry.example.com/deploykf/charts"
        );
        assert_eq!(charts.overrides[0].from, "https://charts.jetstack.io");
        assert_eq!(
            r.pull_secret,
            Some(PullSecret {
                name: "deploykf-registry".into(),
                namespace: Some("argocd".into())
            })
        );
    }

    #[test]
    fn keep_host_puts_the_source_host_under_the_target() {
        let r = rules("mirror: {images: {registry: registry.example.com/deploykf}}");
        assert_eq!(r.layout, Layout::KeepHost);
        assert_eq!(
            mirrored(&r, "quay.io/jetstack/cert-manager-controller").as_deref(),
            Some("registry.example.com/deploykf/quay.io/jetstack/cert-manager-controller")
        );
        // Docker Hub shorthand is normalised first.
        assert_eq!(
            mirrored(&r, "nginx:1.25").as_deref(),
            Some("registry.example.com/deploykf/docker.io/library/nginx:1.25")
        );
        assert_eq!(
            mirrored(&r, "kubeflownotebookswg/kfam:v1.8.0").as_deref(),
            Some("registry.example.com/deploykf/docker.io/kubeflownotebookswg/kfam:v1.8.0")
        );
        // ghcr.io/x/y and quay.io/x/y stay apart.
        assert_ne!(mirrored(&r, "ghcr.io/x/y"), mirrored(&r, "quay.io/x/y"));
    }

    #[test]
    fn tag_and_digest_are_preserved() {
        let r = rules("mirror: {images: {registry: registry.example.com}}");
        let digest = format!("sha256:{}", "a".repeat(64));
        let out = r
            .rewrite_image(&img(&format!("ghcr.io/dexidp/dex:v2.37.0@{digest}")))
            .unwrap();
        assert_eq!(out.registry, "registry.example.com");
        assert_eq!(out.repository, "ghcr.io/dexidp/dex");
        assert_eq!(out.tag.as_deref(), Some("v2.37.0"));
        assert_eq!(out.digest.as_deref(), Some(digest.as_str()));
    }

    #[test]
    fn keep_host_with_a_port_gives_a_valid_reference() {
        let r = rules("mirror: {images: {registry: registry.example.com/m}}");
        let source = img("myhost:5000/team/app:1.0");
        let out = r.rewrite_image(&source).unwrap();
        let text = out.to_string();
        assert_eq!(
            ImageRef::parse(&text).unwrap(),
            out,
            "{text} must read back as itself"
        );
        assert_eq!(out.registry, "registry.example.com");
        assert_eq!(out.repository, format!("m/{}", source.path_with_host()));
        assert!(!out.repository.contains(':'), "{text}");
        assert_eq!(out.tag.as_deref(), Some("1.0"));
        // A target registry with a port is fine too.
        let r = rules("mirror: {images: {registry: \"localhost:5000\"}}");
        assert_eq!(
            mirrored(&r, "nginx").as_deref(),
            Some("localhost:5000/docker.io/library/nginx")
        );
    }

    #[test]
    fn a_mirrored_name_past_the_length_limit_asks_for_an_override() {
        let r = rules("mirror: {images: {registry: registry.example.com/deploykf}}");
        let source = img(&format!("quay.io/{}/{}", "a".repeat(120), "b".repeat(120)));
        let e = format!("{:#}", r.try_rewrite_image(&source).unwrap_err());
        assert!(e.contains("add a mirror.images.overrides entry"), "{e}");
        assert_eq!(r.rewrite_image(&source), None);
    }

    #[test]
    fn a_mirror_section_must_be_a_map() {
        assert_eq!(
            error("mirror: registry.example.com"),
            "test: mirror: expected a map, found a string"
        );
        let e = error("mirror: {images: {registry: r.example.com, overrides: {from: a, to: b}}}");
        assert_eq!(
            e,
            "test: mirror.images.overrides: expected a list, found a map"
        );
    }

    #[test]
    fn drop_host_drops_the_source_host_and_may_collide() {
        let r = rules("mirror: {images: {registry: registry.example.com/dkf, layout: drop-host}}");
        assert_eq!(
            mirrored(&r, "ghcr.io/kyverno/kyverno:v1.10.0").as_deref(),
            Some("registry.example.com/dkf/kyverno/kyverno:v1.10.0")
        );
        assert_eq!(mirrored(&r, "ghcr.io/x/y"), mirrored(&r, "quay.io/x/y"));
    }

    #[test]
    fn the_longest_matching_override_wins_on_component_boundaries() {
        let r = rules(
            r#"
mirror:
  images:
    registry: registry.example.com/deploykf
    overrides:
      - {from: docker.io/bitnami, to: registry.example.com/bitnami}
      - {from: bitnami/kubectl, to: registry.example.com/tools/kubectl}
      - {from: gcr.io, to: registry.example.com/gcr}
"#,
        );
        assert_eq!(r.overrides[1].from.to_string(), "docker.io/bitnami/kubectl");
        assert_eq!(
            mirrored(&r, "docker.io/bitnami/minio:2023").as_deref(),
            Some("registry.example.com/bitnami/minio:2023")
        );
        assert_eq!(
            mirrored(&r, "bitnami/kubectl:1.26").as_deref(),
            Some("registry.example.com/tools/kubectl:1.26")
        );
        // `docker.io/bitnami` does not match `docker.io/bitnamiX/...`.
        assert_eq!(
            mirrored(&r, "docker.io/bitnamix/y").as_deref(),
            Some("registry.example.com/deploykf/docker.io/bitnamix/y")
        );
        // A host alone matches all its images.
        assert_eq!(
            mirrored(&r, "gcr.io/kubebuilder/kube-rbac-proxy:v0.13.1").as_deref(),
            Some("registry.example.com/gcr/kubebuilder/kube-rbac-proxy:v0.13.1")
        );
    }

    #[test]
    fn excluded_and_already_mirrored_images_stay() {
        let r = rules(
            r#"
mirror:
  images:
    registry: mirror.example.com/deploykf
    overrides: [{from: docker.io/bitnami, to: mirror.example.com/bitnami}]
    exclude: ["registry.example.com/*", "docker.io/library/busy*", "gcr.io/[a-k]*/x", "internal.corp"]
"#,
        );
        // `*` matches a whole component and everything beneath it.
        assert_eq!(mirrored(&r, "registry.example.com/a"), None);
        assert_eq!(mirrored(&r, "registry.example.com/a/b/c:1"), None);
        assert_eq!(mirrored(&r, "busybox:1.27"), None);
        assert_eq!(mirrored(&r, "internal.corp/any/thing"), None);
        assert_eq!(mirrored(&r, "gcr.io/google/x"), None);
        assert!(
            mirrored(&r, "gcr.io/zeta/x").is_some(),
            "[a-k] excludes only a..k"
        );
        assert!(
            mirrored(&r, "gcr.io/google/y").is_some(),
            "the pattern names x only"
        );
        assert!(mirrored(&r, "nginx").is_some());
        // Under the target or an override's `to`: already mirrored.
        assert_eq!(
            mirrored(&r, "mirror.example.com/deploykf/quay.io/a/b:1"),
            None
        );
        assert_eq!(mirrored(&r, "mirror.example.com/bitnami/kubectl"), None);
        // Rewriting is idempotent.
        let once = r
            .rewrite_image(&img("quay.io/argoproj/argoexec:v3.3.10"))
            .unwrap();
        assert_eq!(r.rewrite_image(&once), None);
        assert!(r.is_mirrored(&once));
    }

    #[test]
    fn charts_keep_their_host_below_the_chart_repository() {
        let r = rules(EXAMPLE);
        // Override by URL prefix.
        assert_eq!(
            r.rewrite_chart_repository("https://charts.jetstack.io")
                .as_deref(),
            Some("oci://registry.example.com/jetstack")
        );
        assert_eq!(
            r.rewrite_chart_repository("https://istio-release.storage.googleapis.com/charts/").as_deref(),
            Some("oci://registry.example.com/deploykf/charts/istio-release.storage.googleapis.com/charts")
        );
        assert_eq!(
            r.rewrite_chart_repository("https://kyverno.github.io/kyverno")
                .as_deref(),
            Some("oci://registry.example.com/deploykf/charts/kyverno.github.io/kyverno")
        );
        assert_eq!(
            r.rewrite_chart_repository("oci://ghcr.io/deploykf/charts")
                .as_deref(),
            Some("oci://registry.example.com/deploykf/charts/ghcr.io/deploykf/charts")
        );
        assert_eq!(
            r.rewrite_chart_repository("HTTPS://Kyverno.GitHub.io/kyverno")
                .as_deref(),
            Some("oci://registry.example.com/deploykf/charts/kyverno.github.io/kyverno")
        );
        assert_eq!(
            r.rewrite_chart_repository("file://forks/trust-manager"),
            None
        );
        // Already mirrored: left alone (idempotent).
        assert_eq!(
            r.rewrite_chart_repository("oci://registry.example.com/deploykf/charts/x"),
            None
        );
        assert_eq!(
            r.rewrite_chart_repository("oci://registry.example.com/jetstack"),
            None
        );
        // `https://charts.jetstack.io` does not match `https://charts.jetstack.iox`.
        assert_eq!(
            r.rewrite_chart_repository("https://charts.jetstack.iox")
                .as_deref(),
            Some("oci://registry.example.com/deploykf/charts/charts.jetstack.iox")
        );
    }

    #[test]
    fn charts_follow_drop_host_and_need_a_charts_section() {
        let r = rules(
            "mirror: {images: {registry: r.example.com, layout: drop-host}, charts: {repository: oci://r.example.com/charts}}",
        );
        assert_eq!(
            r.rewrite_chart_repository("https://charts.jetstack.io")
                .as_deref(),
            Some("oci://r.example.com/charts")
        );
        assert_eq!(
            r.rewrite_chart_repository("https://kyverno.github.io/kyverno")
                .as_deref(),
            Some("oci://r.example.com/charts/kyverno")
        );
        let r = rules("mirror: {images: {registry: r.example.com}}");
        assert_eq!(
            r.rewrite_chart_repository("https://charts.jetstack.io"),
            None
        );
    }

    #[test]
    fn chart_hosts_with_a_port_stay_valid_oci_repositories() {
        let r = rules("mirror: {images: {registry: r.example.com}, charts: {repository: oci://r.example.com/charts}}");
        let out = r
            .rewrite_chart_repository("https://charts.local:8443/stable")
            .unwrap();
        let name = out.strip_prefix("oci://r.example.com/charts/").unwrap();
        assert!(!name.contains(':'), "{out}");
        assert!(name.ends_with("/stable"), "{out}");
        ImageRef::parse(&format!("r.example.com/charts/{name}/chart")).unwrap();
        // A path that cannot be an OCI repository asks for an override.
        let err = r
            .try_rewrite_chart_repository("https://example.com/Charts")
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("add a mirror.charts.overrides entry"),
            "{err:#}"
        );
    }

    #[test]
    fn unknown_keys_name_the_key_and_suggest() {
        let e = error("mirror: {images: {regsitry: r.example.com}}");
        assert_eq!(
            e,
            "test: mirror.images.regsitry: unknown key (did you mean registry?)"
        );
        let e = error("mirror: {images: {registry: r.example.com}, pullsecret: {name: x}}");
        assert!(
            e.contains("mirror.pullsecret: unknown key (did you mean pullSecret?)"),
            "{e}"
        );
        let e = error(
            "mirror: {images: {registry: r.example.com, overrides: [{from: a, to: b, wat: c}]}}",
        );
        assert!(
            e.contains("mirror.images.overrides[0].wat: unknown key (known keys: from, to)"),
            "{e}"
        );
    }

    #[test]
    fn invalid_targets_are_refused() {
        for (registry, says) in [
            ("https://registry.example.com", "without a scheme"),
            (
                "registry.example.com/Deploykf",
                "not a valid reference prefix",
            ),
            ("registry.example.com/x:1.0", "no tag or digest"),
            ("registry.example.com/x@sha256:abc", "no tag or digest"),
            ("nginx:1.0", "no tag or digest"),
        ] {
            let e = error(&format!("mirror: {{images: {{registry: \"{registry}\"}}}}"));
            assert!(e.starts_with("test: mirror.images.registry: "), "{e}");
            assert!(e.contains(says), "{registry}: {e}");
        }
        let e = error("mirror: {images: {layout: keep-host}}");
        assert!(
            e.starts_with("test: mirror.images.registry: required"),
            "{e}"
        );
        let e = error("mirror: {charts: {repository: oci://r.example.com}}");
        assert!(e.starts_with("test: mirror.images: required"), "{e}");
        let e = error("mirror: {images: {registry: 5}}");
        assert_eq!(
            e,
            "test: mirror.images.registry: expected a string, found a number"
        );
    }

    #[test]
    fn layout_is_one_of_two() {
        let e = error("mirror: {images: {registry: r.example.com, layout: flat}}");
        assert_eq!(e, "test: mirror.images.layout: \"flat\" is not a layout: use keep-host (the default) or drop-host");
    }

    #[test]
    fn overlapping_overrides_are_refused() {
        // Equal after normalisation.
        let e = error(
            "mirror: {images: {registry: r.example.com, overrides: [{from: docker.io/bitnami, to: r.example.com/a}, {from: bitnami, to: r.example.com/b}]}}",
        );
        assert!(e.starts_with("test: mirror.images.overrides[1].from: docker.io/bitnami is already the source of mirror.images.overrides[0]"), "{e}");
        let e = error(
            "mirror: {images: {registry: r.example.com, overrides: [{from: ghcr.io/x, to: r.example.com/a}, {from: quay.io/x, to: r.example.com/a/}]}}",
        );
        assert!(e.starts_with("test: mirror.images.overrides[1].to: r.example.com/a is already the target of mirror.images.overrides[0]"), "{e}");
        // Nested sources are fine.
        rules("mirror: {images: {registry: r.example.com, overrides: [{from: docker.io/bitnami, to: r.example.com/a}, {from: docker.io/bitnami/kubectl, to: r.example.com/b}]}}");
        let e =
            error("mirror: {images: {registry: r.example.com, overrides: [{from: ghcr.io/x}]}}");
        assert_eq!(e, "test: mirror.images.overrides[0].to: required");
        let e = error(
            "mirror: {images: {registry: r.example.com}, charts: {repository: oci://r.example.com/c, overrides: [{from: https://a.io, to: oci://r.example.com/a}, {from: https://a.io/, to: oci://r.example.com/b}]}}",
        );
        assert!(
            e.starts_with(
                "test: mirror.charts.overrides[1].from: https://a.io is already the source"
            ),
            "{e}"
        );
    }

    #[test]
    fn source_aliases_change_where_images_are_pulled_from_only() {
        let r = rules(
            "mirror: {images: {registry: r.example.com/m, sources: [{from: bitnami, pullFrom: docker.io/bitnamilegacy}, {from: docker.io/bitnami/os-shell, pullFrom: quay.io/shells/os-shell}]}}",
        );
        let pulled = |s: &str| r.pull_source(&img(s)).unwrap().map(|i| i.to_string());
        assert_eq!(
            pulled("docker.io/bitnami/kubectl:1.28.5").as_deref(),
            Some("docker.io/bitnamilegacy/kubectl:1.28.5")
        );
        // The longest `from` wins; tag and digest are kept.
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            pulled(&format!("bitnami/os-shell:12@{digest}")),
            Some(format!("quay.io/shells/os-shell:12@{digest}"))
        );
        // Whole components only; other images have no alias.
        assert_eq!(pulled("docker.io/bitnamix/kubectl:1"), None);
        assert_eq!(pulled("quay.io/bitnami/kubectl:1"), None);
        // An alias that leaves no repository is an error naming the entry.
        let r2 = rules("mirror: {images: {registry: r.example.com, sources: [{from: quay.io/a/b, pullFrom: ghcr.io}]}}");
        let e = format!("{:#}", r2.pull_source(&img("quay.io/a/b:1")).unwrap_err());
        assert!(e.contains("the alias quay.io/a/b -> ghcr.io makes quay.io/a/b:1 \"ghcr.io/:1\", which is not a valid reference"), "{e}");
        // The render and the target keep the `from` name.
        assert_eq!(
            mirrored(&r, "docker.io/bitnami/kubectl:1.28.5").as_deref(),
            Some("r.example.com/m/docker.io/bitnami/kubectl:1.28.5")
        );
    }

    #[test]
    fn source_alias_errors_name_the_key() {
        let e = error("mirror: {images: {registry: r.example.com, sources: [{from: docker.io/bitnami}]}}");
        assert_eq!(e, "test: mirror.images.sources[0].pullFrom: required");
        let e = error("mirror: {images: {registry: r.example.com, sources: [{from: bitnami, pull_from: x.io/y}]}}");
        assert!(e.starts_with("test: mirror.images.sources[0].pull_from: unknown key (did you mean pullFrom?)"), "{e}");
        let e = error("mirror: {images: {registry: r.example.com, sources: [{from: bitnami, pullFrom: docker.io/bitnami}]}}");
        assert!(e.starts_with("test: mirror.images.sources[0].pullFrom: docker.io/bitnami is the same as from"), "{e}");
        let e = error("mirror: {images: {registry: r.example.com, sources: [{from: bitnami, pullFrom: a.io/b}, {from: docker.io/bitnami/, pullFrom: c.io/d}]}}");
        assert!(e.starts_with("test: mirror.images.sources[1].from: docker.io/bitnami is already the source of mirror.images.sources[0]"), "{e}");
        let e = error("mirror: {images: {registry: r.example.com, sources: [{from: bitnami, pullFrom: \"https://a.io/b\"}]}}");
        assert!(e.starts_with("test: mirror.images.sources[0].pullFrom: \"https://a.io/b\" is not a valid reference prefix"), "{e}");
        let e = error("mirror: {images: {registry: r.example.com, sources: {from: a}}}");
        assert_eq!(e, "test: mirror.images.sources: expected a list, found a map");
    }

    #[test]
    fn chart_repository_must_be_oci_or_https() {
        let e = error("mirror: {images: {registry: r.example.com}, charts: {repository: r.example.com/charts}}");
        assert!(e.starts_with("test: mirror.charts.repository: \"r.example.com/charts\" is not a repository URL: expected oci:// or https://"), "{e}");
        let e = error("mirror: {images: {registry: r.example.com}, charts: {overrides: []}}");
        assert!(
            e.starts_with("test: mirror.charts.repository: required"),
            "{e}"
        );
        let e = error("mirror: {images: {registry: r.example.com}, charts: {repository: oci://r.example.com/Charts}}");
        assert!(e.contains("not a valid OCI repository"), "{e}");
        let r = rules("mirror: {images: {registry: r.example.com}, charts: {repository: https://charts.example.com/}}");
        assert_eq!(r.charts.unwrap().repository, "https://charts.example.com");
    }

    #[test]
    fn exclude_and_pull_secret_errors_name_the_key() {
        let e = error("mirror: {images: {registry: r.example.com, exclude: [\"nginx:1.0\"]}}");
        assert!(
            e.starts_with(
                "test: mirror.images.exclude[0]: \"nginx:1.0\": exclude patterns match image names"
            ),
            "{e}"
        );
        let e = error("mirror: {images: {registry: r.example.com, exclude: [\"ghcr.io/[a-\"]}}");
        assert!(e.starts_with("test: mirror.images.exclude[0]: "), "{e}");
        let e = error("mirror: {images: {registry: r.example.com, exclude: ghcr.io}}");
        assert_eq!(
            e,
            "test: mirror.images.exclude: expected a list, found a string"
        );
        let e = error("mirror: {images: {registry: r.example.com}, pullSecret: {name: Bad_Name}}");
        assert!(
            e.starts_with("test: mirror.pullSecret.name: \"Bad_Name\" is not a valid Secret name"),
            "{e}"
        );
        let e =
            error("mirror: {images: {registry: r.example.com}, pullSecret: {namespace: argocd}}");
        assert!(
            e.starts_with("test: mirror.pullSecret.name: required"),
            "{e}"
        );
        let r = rules("mirror: {images: {registry: r.example.com}, pullSecret: {name: regcred}}");
        assert_eq!(
            r.pull_secret,
            Some(PullSecret {
                name: "regcred".into(),
                namespace: None
            })
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn values_with_mirror(registry: &str) -> Map {
        let text = format!("mirror: {{images: {{registry: {registry}}}}}\nkeep: 1\n");
        yaml(&text).as_map().unwrap().clone()
    }

    #[test]
    fn the_highest_source_present_wins_and_mirror_leaves_the_values() {
        let dir = tempfile::tempdir().unwrap();
        let cli = write(
            dir.path(),
            "cli.yaml",
            "mirror: {images: {registry: cli.example.com}}",
        );
        let env = write(
            dir.path(),
            "env.yaml",
            "mirror: {images: {registry: env.example.com}}",
        );

        let mut values = values_with_mirror("values.example.com");
        let r = resolve_sources(Some(&cli), &mut values, Some(&env))
            .unwrap()
            .unwrap();
        assert_eq!(r.registry.registry, "cli.example.com");
        assert!(r.origin.starts_with("--mirror file '"), "{}", r.origin);
        assert!(!values.contains_key("mirror"));
        assert!(values.contains_key("keep"));

        let mut values = values_with_mirror("values.example.com");
        let r = resolve_sources(None, &mut values, Some(&env))
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.registry.registry.as_str(), r.origin.as_str()),
            ("values.example.com", "values")
        );
        assert!(!values.contains_key("mirror"));

        let mut values = yaml("mirror: null\nkeep: 1").as_map().unwrap().clone();
        let r = resolve_sources(None, &mut values, Some(&env))
            .unwrap()
            .unwrap();
        assert_eq!(r.registry.registry, "env.example.com");
        assert!(r.origin.starts_with(MIRROR_CONFIG_ENV), "{}", r.origin);
        assert!(!values.contains_key("mirror"));

        let mut values = Map::new();
        assert_eq!(resolve_sources(None, &mut values, None).unwrap(), None);
    }

    #[test]
    fn mirror_files_hold_a_top_level_mirror_key() {
        let dir = tempfile::tempdir().unwrap();
        let bare = write(dir.path(), "bare.yaml", "images: {registry: r.example.com}");
        let e = format!("{:#}", load_file(&bare, "--mirror file").unwrap_err());
        assert!(e.ends_with("bare.yaml': images: unknown top-level key (put it under a top-level `mirror:` key)"), "{e}");
        let empty = write(dir.path(), "empty.yaml", "");
        let e = format!("{:#}", load_file(&empty, "--mirror file").unwrap_err());
        assert!(
            e.contains("expected a map with a top-level `mirror:` key"),
            "{e}"
        );
        let bad = write(
            dir.path(),
            "bad.yaml",
            "mirror: {images: {registry: r.example.com, layot: x}}",
        );
        let e = format!("{:#}", load_file(&bad, "--mirror file").unwrap_err());
        assert!(
            e.contains("bad.yaml': mirror.images.layot: unknown key (did you mean layout?)"),
            "{e}"
        );
        let missing = dir.path().join("missing.yaml");
        let e = format!("{:#}", load_file(&missing, "--mirror file").unwrap_err());
        assert!(e.contains("missing.yaml': cannot read it"), "{e}");
    }
}
