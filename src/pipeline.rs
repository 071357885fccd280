//! The one driver of a generator render, used by `generate`, the plugin,
//! `images`/`charts` and `mirror`: the generator's defaults and the user's
//! values layers merged in memory ([`values`]) → the mirror configuration
//! resolved and its overlay applied ([`steps::values_stage`]) → the render
//! into the output folder's staging copy ([`render::render`]) → the output's
//! image references rewritten and checked ([`steps::rewrite_dir`]) → the
//! commit that replaces the folder. [`cache_key`] names a render in the
//! plugin's render cache by a canonical, versioned serialization of its inputs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, Result};
use gomplate::{Map, Value};
use serde::Serialize;

use crate::cache::CacheKey;
use crate::generator::output::OutputDir;
use crate::generator::render::{self, Env};
use crate::generator::source::GeneratorSource;
use crate::generator::values::{self, Layer};
use crate::manifests;
use crate::mirror::config::MirrorRules;
use crate::mirror::steps::{self, MirrorSettings};

/// What a render is made of.
pub struct Inputs<'a> {
    pub source: &'a GeneratorSource,
    /// The user's values layers over the generator's defaults, lowest first.
    pub layers: &'a [Layer],
    /// Where the mirror configuration may come from, and whether leaks fail.
    pub mirror: &'a MirrorSettings,
    /// What the templates read with `getenv`.
    pub env: Arc<Env>,
}

/// What the mirror configuration does to a render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mirroring {
    /// The values overlaid, and the output's image references rewritten and
    /// checked (`generate`).
    Everything,
    /// The values overlaid only: the plugin rewrites and checks what kustomize
    /// or helm build from the output.
    ValuesOnly,
    /// The configuration resolved (its `mirror` key removed from the values)
    /// but nothing redirected: the inventory lists the upstream locations.
    Upstream,
}

/// The values stage: the generator's defaults with `inputs.layers` merged
/// over them, the `mirror` key removed, the overlay applied unless
/// `mirroring` is [`Mirroring::Upstream`]; with the rules in effect.
pub fn values(inputs: &Inputs<'_>, mirroring: Mirroring) -> Result<(Value, Option<MirrorRules>)> {
    let loaded = values::load(&inputs.source.default_values_path(), inputs.layers)?;
    if mirroring != Mirroring::Upstream {
        return steps::values_stage(loaded, inputs.mirror);
    }
    let Value::Map(map) = loaded else {
        return Err(anyhow!("the merged values are not a map"));
    };
    let mut map = Arc::unwrap_or_clone(map);
    let rules = inputs.mirror.resolve(&mut map)?;
    Ok((Value::map(map), rules))
}

/// The whole render of `inputs` into `output_dir`, which is replaced only
/// when every stage succeeded: a failure leaves it as it was.
pub fn generate(inputs: &Inputs<'_>, output_dir: &Path, mirroring: Mirroring) -> Result<()> {
    let output = OutputDir::prepare(output_dir)?;
    let (values, rules) = values(inputs, mirroring)?;
    let rewrite = rules.as_ref().filter(|_| mirroring == Mirroring::Everything);
    render(inputs.source, values, inputs.env.clone(), &output, rewrite, inputs.mirror.enforce)?;
    output.commit()
}

/// Renders `values` into `output`'s staging folder; with `rewrite`, rewrites
/// the image references of its YAML files by those rules (pinned by their
/// lock file, a relative path read from the working directory, images it
/// does not list counted on stderr) and, when `enforce`, fails on any image
/// left outside the mirror. The caller commits.
pub fn render(
    source: &GeneratorSource,
    values: Value,
    env: Arc<Env>,
    output: &OutputDir,
    rewrite: Option<&MirrorRules>,
    enforce: bool,
) -> Result<()> {
    render::render(source, values, output, env)?;
    if let Some(rules) = rewrite {
        let lock = steps::load_lock(rules, None)?;
        let uses = steps::rewrite_dir(output.staging(), rules, lock.as_ref())?;
        steps::report_rewrites(&uses, "the output folder");
        if lock.is_some() {
            // The folders are kustomize's input, holding bases and patches that
            // never deploy as written: unpinned images are counted, not refused.
            steps::check_lock(&uses, rules, false)?;
        }
        if enforce {
            // What a folder builds to is a base's image or a kustomization's
            // `newName` (any tag): both are among `uses`, so checking them all
            // checks every image `kustomize build` of the output deploys.
            manifests::check(&uses, rules)?;
        }
    }
    Ok(())
}

/// The version of [`cache_key`]'s serialization: raise it whenever what the
/// key covers or how it is written changes.
const KEY_FORMAT: u32 = 1;

/// Everything a render depends on, serialized as the render cache's key.
#[derive(Serialize)]
struct KeyInputs<'a> {
    format: u32,
    renderer: &'a str,
    /// The generator source's digest (its defaults and templates).
    source_sha256: &'a str,
    /// The user's layers merged, as canonical JSON (sorted keys).
    values: &'a str,
    /// The mirror rules in effect: the overlay is a function of them.
    mirror: Option<&'a MirrorRules>,
    env: &'a BTreeMap<String, String>,
}

/// The render cache's key of a render of the source `source_sha256` with the
/// merged user values `user_values`, the mirror `rules` and the template
/// environment `env`.
pub fn cache_key(
    source_sha256: &str,
    user_values: &Map,
    rules: Option<&MirrorRules>,
    env: &BTreeMap<String, String>,
) -> Result<CacheKey> {
    let values = gomplate::json::encode(&Value::map(user_values.clone()))
        .map_err(|e| anyhow!("cannot encode the values: {e}"))?;
    let inputs = KeyInputs {
        format: KEY_FORMAT,
        renderer: concat!("deploykf-cmp ", env!("CARGO_PKG_VERSION")),
        source_sha256,
        values: &values,
        mirror: rules,
        env,
    };
    let json = serde_json::to_vec(&inputs).map_err(|e| anyhow!("cannot serialize the render's inputs: {e}"))?;
    Ok(CacheKey::from_parts(&[("inputs", &json)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::config;

    fn map(text: &str) -> Map {
        gomplate::yaml::decode(text).unwrap().as_map().unwrap().clone()
    }

    fn rules(text: &str) -> MirrorRules {
        config::parse(&map(text)["mirror"], "test").unwrap()
    }

    #[test]
    fn the_cache_key_changes_with_every_input_and_not_with_key_order() {
        let env = BTreeMap::from([("ARGOCD_APP_SOURCE_PATH".to_string(), ".".to_string())]);
        let values = map("a: 1\nb: {c: 2}\n");
        let mirror = rules("mirror:\n  images:\n    registry: m.test/a\n");
        let key = |sha: &str, values: &Map, rules: Option<&MirrorRules>, env: &BTreeMap<String, String>| {
            cache_key(sha, values, rules, env).unwrap()
        };
        let base = key("s", &values, Some(&mirror), &env);
        assert_eq!(base, key("s", &map("b: {c: 2}\na: 1\n"), Some(&mirror), &env));
        assert_ne!(base, key("t", &values, Some(&mirror), &env));
        assert_ne!(base, key("s", &map("a: 2\nb: {c: 2}\n"), Some(&mirror), &env));
        assert_ne!(base, key("s", &values, None, &env));
        assert_ne!(base, key("s", &values, Some(&rules("mirror:\n  images:\n    registry: m.test/b\n")), &env));
        assert_ne!(base, key("s", &values, Some(&mirror), &BTreeMap::new()));
    }
}
