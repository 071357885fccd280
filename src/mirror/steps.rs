//! The mirror's steps in a render ([`crate::pipeline`] runs them): where the
//! configuration may come from ([`MirrorSettings`]), the values stage (find
//! the configuration, drop the `mirror` key, apply the overlay) and the
//! after-render stages (rewrite the image references of an output folder or a
//! manifest stream, pinned to the lock's digests when `mirror.images.lock` is
//! set, then the lock and leak checks).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context, Result};
use gomplate::{Map, Value};

use super::config::{self, MirrorRules};
use super::lock::Lock;
use crate::manifests::{self, ImageUse};
use super::overlay::{self, Kind, Outcome};
use crate::settings::{Settings, MIRROR_ENFORCE_ENV};

/// Where a mirror configuration may come from besides a `mirror:` key in the
/// values, and whether leaks fail the render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorSettings {
    /// `--mirror FILE` (highest precedence).
    pub cli_file: Option<PathBuf>,
    /// The file named by `DEPLOYKF_CMP_MIRROR_CONFIG` (lowest precedence).
    pub env_file: Option<PathBuf>,
    /// Whether an image outside the mirror fails the render.
    pub enforce: bool,
}

impl MirrorSettings {
    /// The settings from the environment (`DEPLOYKF_CMP_MIRROR_CONFIG`,
    /// [`MIRROR_ENFORCE_ENV`]) and the `--mirror` file, if any.
    pub fn new(cli_file: Option<&Path>, settings: &Settings) -> Result<MirrorSettings> {
        Ok(MirrorSettings {
            cli_file: cli_file.map(Path::to_path_buf),
            env_file: settings.mirror_config(),
            enforce: settings.mirror_enforce()?,
        })
    }

    /// The mirror configuration of the highest-precedence source present
    /// (see [`config::resolve_sources`]), removing the `mirror` key from `values`.
    pub fn resolve(&self, values: &mut Map) -> Result<Option<MirrorRules>> {
        config::resolve_sources(self.cli_file.as_deref(), values, self.env_file.as_deref())
    }
}

/// The values stage: resolves the mirror configuration (removing the `mirror`
/// key from `values`) and applies the overlay; prints a one-line summary on
/// stderr. Without a configuration the values stay as they are (but for the
/// `mirror` key).
pub fn values_stage(values: Value, settings: &MirrorSettings) -> Result<(Value, Option<MirrorRules>)> {
    let Value::Map(map) = values else {
        return Ok((values, None));
    };
    if settings.cli_file.is_none() && settings.env_file.is_none() && !map.contains_key("mirror") {
        // Nothing to do: keep the map as it is (no copy).
        return Ok((Value::Map(map), None));
    }
    let mut map = Arc::unwrap_or_clone(map);
    let Some(rules) = settings.resolve(&mut map)? else {
        return Ok((Value::map(map), None));
    };
    let (mirrored, found) = overlay::apply(&map, &rules)?;
    let count = |kind| found.iter().filter(|r| r.kind == kind && matches!(r.outcome, Outcome::Rewritten(_))).count();
    eprintln!(
        "deploykf-cmp: mirror ({}): {} images, {} charts redirected in the values",
        rules.origin,
        count(Kind::Image),
        count(Kind::ChartRepository)
    );
    Ok((Value::map(mirrored), Some(rules)))
}

/// The lock file `mirror.images.lock` of `rules` names, if any: a relative
/// path is joined to `base` (the working directory when `None`).
pub fn load_lock(rules: &MirrorRules, base: Option<&Path>) -> Result<Option<Lock>> {
    let Some(path) = &rules.lock else { return Ok(None) };
    let path = match base {
        Some(base) => base.join(path),
        None => PathBuf::from(path),
    };
    Lock::load(&path).with_context(|| format!("mirror.images.lock of the mirror configuration ({})", rules.origin)).map(Some)
}

/// Rewrites the image references of every YAML manifest below `dir` (Helm chart
/// templates excluded, see [`manifests::scan_dir`]) by `rules`, pinned by
/// `lock` when given, writing the files that change; returns every image
/// found, each with its file. Kustomizations' `images[]` names are rewritten
/// by the same rules as the bases they retag ([`manifests::rewrite_file`]).
pub fn rewrite_dir(dir: &Path, rules: &MirrorRules, lock: Option<&Lock>) -> Result<Vec<ImageUse>> {
    let pins = lock.map(Lock::pins);
    let mut uses = Vec::new();
    let mut files: Vec<PathBuf> = manifests::scan_dir(dir)?.into_iter().filter_map(|u| u.file).collect();
    files.dedup();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("{}: cannot read it", file.display()))?;
        let (rewritten, found) =
            manifests::rewrite_file(&file, &text, rules, pins.as_ref()).with_context(|| format!("{}", file.display()))?;
        if rewritten != text {
            std::fs::write(&file, &rewritten).with_context(|| format!("cannot write '{}'", file.display()))?;
        }
        uses.extend(found.into_iter().map(|u| ImageUse { file: Some(file.clone()), ..u }));
    }
    Ok(uses)
}

/// The plugin's after-render stage: the manifest stream with its image references
/// rewritten by `rules` and pinned by `lock`, refused when enforcing and an
/// image stays outside the mirror or the lock.
pub fn rewrite_manifests(manifests: Vec<u8>, rules: &MirrorRules, lock: Option<&Lock>, enforce: bool) -> Result<Vec<u8>> {
    let text = String::from_utf8(manifests).map_err(|_| anyhow!("the rendered manifests are not UTF-8 text"))?;
    let pins = lock.map(Lock::pins);
    let (rewritten, uses) =
        manifests::rewrite_stream(&text, rules, pins.as_ref()).context("cannot rewrite the rendered manifests")?;
    report_rewrites(&uses, "the manifests");
    if lock.is_some() {
        check_lock(&uses, rules, enforce)?;
    }
    if enforce {
        manifests::check(&uses, rules).with_context(refused)?;
    }
    Ok(rewritten.into_bytes())
}

/// The lock check after a pinned rewrite: the images left unpinned (see
/// [`manifests::unpinned`]) refuse the render when `enforce`, naming each
/// with its resource and field; otherwise stderr counts them.
pub fn check_lock(uses: &[ImageUse], rules: &MirrorRules, enforce: bool) -> Result<()> {
    let missing = manifests::unpinned(uses, rules);
    if missing.is_empty() {
        return Ok(());
    }
    if !enforce {
        eprintln!("deploykf-cmp: mirror: {} image references left unpinned (not in the lock file)", missing.len());
        return Ok(());
    }
    let mut list: Vec<String> = missing
        .iter()
        .map(|u| {
            let file = u.file.as_ref().map(|f| format!(" (in {})", f.display())).unwrap_or_default();
            format!("  {}: {} {}{file}", u.effective(), u.resource, u.field)
        })
        .collect();
    list.sort();
    list.dedup();
    Err(anyhow!(
        "{} image reference{} not in the lock file {} (mirror.images.lock):\n{}\n\
         Copy the images with `deploykf-cmp mirror ... --write-lock FILE` and commit the lock file",
        list.len(),
        if list.len() == 1 { " is" } else { "s are" },
        rules.lock.as_deref().unwrap_or_default(),
        list.join("\n")
    ))
    .with_context(refused)
}

/// The context of a render refused by a check.
fn refused() -> String {
    format!("the render is refused ({MIRROR_ENFORCE_ENV}=false turns this check off)")
}

/// Prints how many image references were rewritten in `place`, if any.
pub fn report_rewrites(uses: &[ImageUse], place: &str) {
    let rewritten = uses.iter().filter(|u| u.mirrored.is_some()).count();
    if rewritten > 0 {
        eprintln!("deploykf-cmp: mirror: {rewritten} image references rewritten in {place} after rendering");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::MIRROR_CONFIG_ENV;
    use std::fs;

    fn vars(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn yaml(text: &str) -> Value {
        gomplate::yaml::decode(text).unwrap()
    }

    const MIRROR: &str = "mirror:\n  images:\n    registry: mirror.test/dkf\n  charts:\n    repository: oci://mirror.test/charts\n";

    #[test]
    fn settings_come_from_the_environment() {
        let s = MirrorSettings::new(Some(Path::new("m.yaml")), &vars(&[(MIRROR_CONFIG_ENV, "/etc/m.yaml")])).unwrap();
        assert_eq!(
            s,
            MirrorSettings { cli_file: Some("m.yaml".into()), env_file: Some("/etc/m.yaml".into()), enforce: true }
        );
        for (value, enforce) in [("false", false), ("0", false), ("No", false), ("true", true), ("", true)] {
            let s = MirrorSettings::new(None, &vars(&[(MIRROR_ENFORCE_ENV, value), (MIRROR_CONFIG_ENV, "")])).unwrap();
            assert_eq!((s.enforce, s.env_file), (enforce, None), "{value:?}");
        }
        let err = MirrorSettings::new(None, &vars(&[(MIRROR_ENFORCE_ENV, "maybe")])).unwrap_err().to_string();
        assert_eq!(err, "DEPLOYKF_CMP_MIRROR_ENFORCE must be 'true' or 'false', not 'maybe'");
    }

    #[test]
    fn the_values_stage_removes_the_key_and_applies_the_overlay() {
        let plain = yaml("images:\n  web:\n    repository: nginx\n    tag: '1.25'\n");
        let (out, rules) = values_stage(plain.clone(), &MirrorSettings::default()).unwrap();
        assert_eq!((out, rules), (plain, None));

        let (out, rules) = values_stage(yaml("mirror: null\na: 1\n"), &MirrorSettings::default()).unwrap();
        assert_eq!((out, rules), (yaml("a: 1\n"), None));

        let values = yaml(&format!(
            "{MIRROR}images:\n  web:\n    repository: nginx\n    tag: '1.25'\n\
             charts:\n  x:\n    repository: https://charts.example.com/stable\n    version: 1.0.0\n"
        ));
        let (out, rules) = values_stage(values, &MirrorSettings::default()).unwrap();
        assert_eq!(rules.unwrap().origin, "values");
        assert_eq!(
            out,
            yaml(
                "images:\n  web:\n    repository: mirror.test/dkf/docker.io/library/nginx\n    tag: '1.25'\n\
                 charts:\n  x:\n    repository: oci://mirror.test/charts/charts.example.com/stable\n    version: 1.0.0\n"
            )
        );
    }

    #[test]
    fn an_invalid_config_in_the_values_is_an_error_naming_the_key() {
        let err = values_stage(yaml("mirror:\n  images: {registry: m.test, colour: red}\n"), &MirrorSettings::default())
            .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("values") && msg.contains("colour"), "{msg}");
    }

    #[test]
    fn rewrite_dir_rewrites_manifests_and_configmaps_but_not_chart_templates() {
        let dir = tempfile::TempDir::new().unwrap();
        let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n";
        let config = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  image: nginx:1.25\n";
        fs::create_dir_all(dir.path().join("app")).unwrap();
        fs::create_dir_all(dir.path().join("chart/templates")).unwrap();
        fs::write(dir.path().join("app/deploy.yaml"), deploy).unwrap();
        fs::write(dir.path().join("app/config.yaml"), config).unwrap();
        fs::write(dir.path().join("chart/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n").unwrap();
        fs::write(dir.path().join("chart/templates/deploy.yaml"), deploy).unwrap();
        let rules = config::parse(&yaml(MIRROR).as_map().unwrap()["mirror"], "test").unwrap();

        let uses = rewrite_dir(dir.path(), &rules, None).unwrap();
        assert_eq!(uses.len(), 2, "{uses:?}");
        for (u, file) in uses.iter().zip(["app/config.yaml", "app/deploy.yaml"]) {
            assert_eq!(u.mirrored.as_deref(), Some("mirror.test/dkf/docker.io/library/nginx:1.25"));
            assert_eq!(u.file.as_deref(), Some(dir.path().join(file).as_path()));
            let written = fs::read_to_string(dir.path().join(file)).unwrap();
            assert!(written.contains("image: mirror.test/dkf/docker.io/library/nginx:1.25"), "{written}");
        }
        assert_eq!(fs::read_to_string(dir.path().join("chart/templates/deploy.yaml")).unwrap(), deploy);
        manifests::check(&uses, &rules).unwrap();
    }

    #[test]
    fn rewrite_manifests_refuses_a_leak_only_when_enforcing() {
        let rules = config::parse(&yaml(MIRROR).as_map().unwrap()["mirror"], "test").unwrap();
        let stream = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\nspec:\n  containers:\n    - name: a\n      image: \"{{ .Values.x }}\"\n";
        let err = rewrite_manifests(stream.as_bytes().to_vec(), &rules, None, true).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("{{ .Values.x }}") && msg.contains("Pod/n/p spec.containers[0].image"), "{msg}");
        assert!(msg.contains(MIRROR_ENFORCE_ENV), "{msg}");
        assert_eq!(rewrite_manifests(stream.as_bytes().to_vec(), &rules, None, false).unwrap(), stream.as_bytes());
    }

    #[test]
    fn a_lock_pins_images_and_an_image_missing_from_it_is_refused_when_enforcing() {
        let rules = config::parse(&yaml(MIRROR).as_map().unwrap()["mirror"], "test").unwrap();
        let stream = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\nspec:\n  containers:\n    - name: a\n      image: nginx:1.25\n      env:\n        - {name: HELPER_IMAGE, value: busybox:1.36}\n";
        let digest = format!("sha256:{}", "e".repeat(64));
        let mut lock = Lock::default();
        let nginx = image_ref::ImageRef::parse("nginx:1.25").unwrap();
        lock.insert(&nginx, rules.rewrite_image(&nginx).unwrap(), digest.clone());

        let err = format!("{:#}", rewrite_manifests(stream.as_bytes().to_vec(), &rules, Some(&lock), true).unwrap_err());
        assert!(err.contains("1 image reference is not in the lock file"), "{err}");
        assert!(err.contains("mirror.test/dkf/docker.io/library/busybox:1.36: Pod/n/p spec.containers[0].env[0].value"), "{err}");
        assert!(err.contains("--write-lock") && err.contains(MIRROR_ENFORCE_ENV), "{err}");

        let out = String::from_utf8(rewrite_manifests(stream.as_bytes().to_vec(), &rules, Some(&lock), false).unwrap()).unwrap();
        assert!(out.contains(&format!("image: mirror.test/dkf/docker.io/library/nginx:1.25@{digest}")), "{out}");
        assert!(out.contains("value: mirror.test/dkf/docker.io/library/busybox:1.36\n"), "tag-only: {out}");

        let busybox = image_ref::ImageRef::parse("busybox:1.36").unwrap();
        lock.insert(&busybox, rules.rewrite_image(&busybox).unwrap(), digest.clone());
        let out = String::from_utf8(rewrite_manifests(stream.as_bytes().to_vec(), &rules, Some(&lock), true).unwrap()).unwrap();
        assert!(out.contains(&format!("value: mirror.test/dkf/docker.io/library/busybox:1.36@{digest}")), "{out}");
        // Pinning is idempotent.
        let again = rewrite_manifests(out.clone().into_bytes(), &rules, Some(&lock), true).unwrap();
        assert_eq!(String::from_utf8(again).unwrap(), out);
    }
}
