//! The generator render of one plugin request, through the shared render cache:
//! the generator source (a zip or folder in the repository, or a release
//! version), the values layers (each `values_files` entry, the `values`
//! string, then `argocd.source.plugin.enabled: true`), and the environment the
//! generator's templates read with `getenv` — only those variables, so renders
//! are reproducible and child applications of one app-of-apps share a render.
//! The render itself is [`crate::pipeline`]'s, with the layers in memory. The
//! cache key ([`pipeline::cache_key`]) covers the source's sha256, the merged
//! values, the mirror configuration in effect (from a `mirror:` key of the
//! values or the sidecar's `DEPLOYKF_CMP_MIRROR_CONFIG` file: the overlay is a
//! function of the source's defaults, the values and these rules, so a changed
//! mirror never serves a stale render) and that environment.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use gomplate::Map;

use super::params::{Parameters, SourceParam};
use super::repo::{FileRole, Repository};
use crate::cache::{CacheEntry, RenderCache};
use crate::generator::release;
use crate::generator::render::Env;
use crate::generator::source::{self, GeneratorSource};
use crate::generator::values::{self, Layer};
use crate::mirror::config::MirrorRules;
use crate::mirror::steps::MirrorSettings;
use crate::pipeline::{self, Inputs, Mirroring};
use crate::settings::Settings;

/// The variables deployKF generators (0.1.0–0.1.5) read with `getenv`, taken
/// from the process environment.
const PROCESS_VARS: [&str; 3] =
    ["ARGOCD_APP_SOURCE_REPO_URL", "ARGOCD_APP_SOURCE_TARGET_REVISION", "ARGOCD_APP_SOURCE_PATH"];

/// The values layer the plugin always adds last: child Applications use the plugin.
pub const PLUGIN_VALUES: &str = "argocd:\n  source:\n    plugin:\n      enabled: true\n";

/// Where the generator comes from, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// A zip or folder of the repository (canonical path).
    Path(PathBuf),
    /// A release version (normalised, no leading `v`).
    Version(String),
}

/// Everything a generator render depends on.
#[derive(Debug)]
pub struct RenderRequest {
    source: Source,
    /// The user's values layers, lowest first.
    layers: Vec<Layer>,
    env: BTreeMap<String, String>,
    /// Where the mirror configuration may come from besides the values.
    mirror: MirrorSettings,
    /// Where release zips of `source_version` are kept ([`Settings::plugin_assets_dir`]).
    assets_dir: PathBuf,
    /// The mirror of the release downloads, if any.
    releases_url: Option<String>,
}

/// A finished render, kept from eviction while this value lives.
#[derive(Debug)]
pub struct Rendered {
    entry: CacheEntry,
}

impl Rendered {
    /// The output folder (in the shared cache: read it, never write into it).
    pub fn dir(&self) -> &Path {
        self.entry.path()
    }

    /// Whether the render was made now (`false`: reused from the cache).
    pub fn rendered_now(&self) -> bool {
        self.entry.was_rendered()
    }
}

impl RenderRequest {
    /// The request for `params`: the source and values files are resolved in
    /// `repo` (they must exist inside it).
    pub fn new(params: &Parameters, repo: &Repository, settings: &Settings) -> Result<RenderRequest> {
        let source = match params.source()? {
            SourceParam::Path(rel) => {
                Source::Path(repo.resolve(&rel, FileRole { parameter: "source_path", what: "generator source" })?)
            }
            SourceParam::Version(version) => Source::Version(
                release::normalize_version(&version)
                    .map_err(|_| {
                        let version = crate::user_input::quote(&version);
                        anyhow!("invalid 'source_version' {version}: expected a deployKF release like \"0.1.5\"")
                    })?,
            ),
        };
        let mut layers = Vec::new();
        for rel in &params.values_files {
            let file = repo.resolve(rel, FileRole { parameter: "values_files", what: "values file" })?;
            let text = values::read_values_file(&file, "values file")
                .with_context(|| format!("cannot read the values file '{rel}' given in 'values_files'"))?;
            layers.push(Layer { label: format!("values file '{rel}'"), text });
        }
        if let Some(text) = &params.values {
            values::single_document(text).map_err(|line| {
                anyhow!("the 'values' parameter: line {line} starts a second YAML document, which would be ignored: put all values in one document")
            })?;
            layers.push(Layer { label: "the 'values' parameter".into(), text: text.clone() });
        }
        layers.push(Layer { label: "the plugin's values".into(), text: PLUGIN_VALUES.into() });
        Ok(RenderRequest {
            source,
            layers,
            env: template_env(params, settings.vars()),
            mirror: MirrorSettings::new(None, settings)?,
            assets_dir: settings.plugin_assets_dir(),
            releases_url: settings.releases_url(),
        })
    }

    /// The output folder of this request's render: from `cache` when an
    /// identical render is there, else rendered now and stored.
    pub fn render(&self, cache: &RenderCache) -> Result<Rendered> {
        let merged = self.merged_user_map()?;
        // The rules in effect (an invalid config fails here, before rendering).
        let rules = self.mirror.resolve(&mut merged.clone())?;
        let (hash, mut opened) = match &self.source {
            Source::Path(path) => {
                let ignore: &[&str] = if path.is_dir() { &[".gomplateignore"] } else { &[] };
                let hash = source::hash_path(path, ignore)
                    .with_context(|| format!("cannot hash the generator source '{}'", path.display()))?;
                (hash, None)
            }
            Source::Version(version) => {
                let artifact = self.assets_dir.join(release::artifact_name(version));
                if artifact.is_file() {
                    let hash = source::hash_path(&artifact, &[])
                        .with_context(|| format!("cannot hash the generator source '{}'", artifact.display()))?;
                    (hash, None)
                } else {
                    // Not downloaded yet: download (and unpack) it now.
                    let source = GeneratorSource::from_version(version, &self.assets_dir, self.releases_url.as_deref())?;
                    (source.hash().to_string(), Some(source))
                }
            }
        };
        let key = pipeline::cache_key(&hash, &merged, rules.as_ref(), &self.env)?;
        let env: Arc<Env> = Arc::new(self.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        let entry = cache.get_or_render_entry(&key, &mut |target| {
            let source = match opened.take() {
                Some(source) => source,
                None => self.open_source()?,
            };
            // The pod images of the folder are not rewritten: `plugin generate`
            // rewrites and checks what kustomize or helm build from it.
            let inputs = Inputs { source: &source, layers: &self.layers, mirror: &self.mirror, env: env.clone() };
            pipeline::generate(&inputs, target, Mirroring::ValuesOnly)
        })?;
        Ok(Rendered { entry })
    }

    fn open_source(&self) -> Result<GeneratorSource> {
        match &self.source {
            Source::Path(path) => GeneratorSource::from_path(path),
            Source::Version(version) => GeneratorSource::from_version(version, &self.assets_dir, self.releases_url.as_deref()),
        }
    }

    /// The mirror configuration of this request: a `mirror:` key in its
    /// values, else the sidecar's `DEPLOYKF_CMP_MIRROR_CONFIG` file.
    pub fn mirror_rules(&self) -> Result<Option<MirrorRules>> {
        self.mirror.resolve(&mut self.merged_user_map()?)
    }

    /// Whether an image outside the mirror fails the render.
    pub fn mirror_enforced(&self) -> bool {
        self.mirror.enforce
    }

    /// The user's layers merged, as canonical JSON.
    #[cfg(test)]
    fn merged_user_values(&self) -> Result<String> {
        gomplate::json::encode(&gomplate::Value::map(self.merged_user_map()?)).map_err(|e| anyhow!("{e}"))
    }

    /// The user's layers merged (the generator's defaults are covered by the
    /// source's digest).
    fn merged_user_map(&self) -> Result<Map> {
        let maps = self.layers.iter().map(Layer::map).collect::<Result<Vec<_>>>()?;
        Ok(values::merge_layers(maps))
    }
}

/// The environment the generator's templates read: the application's source
/// (`ARGOCD_APP_SOURCE_*`) and its generator parameters (`PARAM_SOURCE_VERSION`,
/// `PARAM_SOURCE_PATH`, `PARAM_VALUES`, and `ARGOCD_APP_PARAMETERS` without the
/// output parameters, which differ between child applications and which the
/// templates do not read), so every child Application gets the same parameters.
pub fn template_env(params: &Parameters, vars: &HashMap<String, String>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for name in PROCESS_VARS {
        if let Some(value) = vars.get(name) {
            env.insert(name.to_string(), value.clone());
        }
    }
    for (name, value) in [
        ("PARAM_SOURCE_VERSION", &params.source_version),
        ("PARAM_SOURCE_PATH", &params.source_path),
        ("PARAM_VALUES", &params.values),
    ] {
        if let Some(value) = value {
            env.insert(name.to_string(), value.clone());
        }
    }
    env.insert("ARGOCD_APP_PARAMETERS".to_string(), params.generator_parameters_json());
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_see_only_the_variables_they_read() {
        let params = Parameters::from_json(
            r#"[{"name":"source_version","string":"0.1.5"},{"name":"values","string":"a: 1"},
                {"name":"output_kustomize_path","string":"./manifests/x/"}]"#,
        )
        .unwrap();
        let vars: HashMap<String, String> = [
            ("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/r.git"),
            ("ARGOCD_APP_SOURCE_PATH", "."),
            ("ARGOCD_APP_NAME", "dkf-x"),
            ("HOME", "/"),
            ("PARAM_SOURCE_PATH", "ignored: the JSON parameters win"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env = template_env(&params, &vars);
        let expected: BTreeMap<String, String> = [
            ("ARGOCD_APP_PARAMETERS", r#"[{"name":"source_version","string":"0.1.5"},{"name":"values","string":"a: 1"}]"#),
            ("ARGOCD_APP_SOURCE_PATH", "."),
            ("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/r.git"),
            ("PARAM_SOURCE_VERSION", "0.1.5"),
            ("PARAM_VALUES", "a: 1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(env, expected);
    }

    fn request(layers: &[&str]) -> RenderRequest {
        RenderRequest {
            source: Source::Version("0.1.5".into()),
            layers: layers.iter().map(|t| Layer { label: "layer".into(), text: t.to_string() }).collect(),
            env: BTreeMap::new(),
            mirror: MirrorSettings::default(),
            assets_dir: PathBuf::new(),
            releases_url: None,
        }
    }

    #[test]
    fn merged_values_are_canonical() {
        let a = request(&["b: 2\na: {x: 1}\n", "a: {y: [1, 2]}\n", PLUGIN_VALUES]).merged_user_values().unwrap();
        let b = request(&["a:\n  y: [1, 2]\n  x: 1\nb: 2\n", PLUGIN_VALUES]).merged_user_values().unwrap();
        assert_eq!(a, b);
        assert_eq!(a, r#"{"a":{"x":1,"y":[1,2]},"argocd":{"source":{"plugin":{"enabled":true}}},"b":2}"#);
        let err = request(&["- a\n"]).merged_user_values().unwrap_err().to_string();
        assert!(err.starts_with("layer: the top level must be a map"), "{err}");
    }
}
