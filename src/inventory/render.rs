//! Rendering everything an app-of-apps deploys, for the inventory: the
//! generator (the same [`pipeline::render`] as `deploykf-cmp generate`, into a
//! temporary folder, in plugin mode so every child Application names its
//! output folder), then every child Application's component with the
//! plugin's own build ([`components::build`]): `kustomize build` of
//! `output_kustomize_path`, or the chart at `output_helm_path` with its
//! dependencies resolved and `helm template` run with the Application's name,
//! namespace and `output_helm_values_files`. Pulled charts go to the chart
//! cache of [`Settings::cache_dir`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use gomplate::{Map, Value};

use crate::components::helm::Release;
use crate::components::{self, Build, ResolvedDependency, Tools};
use crate::generator::output::OutputDir;
use crate::generator::render::Env;
use crate::generator::source::GeneratorSource;
use crate::manifests;
use crate::pipeline;
use crate::settings::Settings;

/// The values layer the inventory adds last: child Applications use the
/// plugin (so they carry their output folder), and a placeholder manifests
/// repository when none is set (the generator requires one; it only ends up
/// in the Applications' `repoURL`).
fn inventory_layer(values: &Map) -> Map {
    let mut plugin = Map::new();
    plugin.insert("enabled".into(), Value::Bool(true));
    let mut source = Map::new();
    source.insert("plugin".into(), Value::map(plugin));
    let url = lookup(values, &["argocd", "source", "repo", "url"]).and_then(Value::as_str).unwrap_or_default();
    if url.is_empty() {
        let mut repo = Map::new();
        repo.insert("url".into(), Value::str(PLACEHOLDER_REPO));
        source.insert("repo".into(), Value::map(repo));
    }
    let mut argocd = Map::new();
    argocd.insert("source".into(), Value::map(source));
    let mut top = Map::new();
    top.insert("argocd".into(), Value::map(argocd));
    top
}

/// The manifests repository the Applications name when the values give none.
const PLACEHOLDER_REPO: &str = "https://deploykf-cmp.invalid/inventory.git";

/// The value at `keys` below `map`.
pub fn lookup<'a>(map: &'a Map, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let value = map.get(*first)?;
    if rest.is_empty() {
        return Some(value);
    }
    lookup(value.as_map()?, rest)
}

/// The generator's output for `values` (merged values, `mirror` removed), in
/// `dir` (created; must not exist or be empty).
pub fn render_generator(source: &GeneratorSource, values: Map, dir: &Path) -> Result<()> {
    let layer = inventory_layer(&values);
    let values = Value::map(crate::generator::values::merge_layers(vec![values, layer]));
    // What the plugin's templates read with `getenv`, as Argo CD would set it.
    let env: Env = [
        ("ARGOCD_APP_SOURCE_REPO_URL", PLACEHOLDER_REPO),
        ("ARGOCD_APP_SOURCE_TARGET_REVISION", "HEAD"),
        ("ARGOCD_APP_SOURCE_PATH", "."),
        ("ARGOCD_APP_PARAMETERS", "[]"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let output = OutputDir::prepare(dir)?;
    pipeline::render(source, values, Arc::new(env), &output, None, false)?;
    output.commit()
}

/// A child Application of the app-of-apps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub name: String,
    pub namespace: Option<String>,
    pub build: Build,
}

/// A built component: its Application, its manifests, and for a chart the
/// dependencies of its `Chart.yaml` with the versions resolved.
#[derive(Debug)]
pub struct Component {
    pub app: Application,
    pub manifests: String,
    pub dependencies: Vec<ResolvedDependency>,
}

/// The child Applications in the stream `kustomize build argocd/` prints
/// (Applications without the deployKF plugin source are skipped).
pub fn applications(stream: &str) -> Result<Vec<Application>> {
    let mut apps = Vec::new();
    for doc in manifests::decode_stream(stream) {
        let doc = doc.context("the app-of-apps manifests")?;
        let Some(map) = doc.as_map() else { continue };
        if map.get("kind").and_then(Value::as_str) != Some("Application") {
            continue;
        }
        let name = lookup(map, &["metadata", "name"]).and_then(Value::as_str).unwrap_or_default().to_string();
        let namespace = lookup(map, &["spec", "destination", "namespace"]).and_then(Value::as_str).map(str::to_string);
        let Some(params) = lookup(map, &["spec", "source", "plugin", "parameters"]).and_then(Value::as_list) else {
            continue;
        };
        let param = |wanted: &str| {
            params.iter().filter_map(Value::as_map).find(|p| p.get("name").and_then(Value::as_str) == Some(wanted))
        };
        let string = |wanted: &str| param(wanted).and_then(|p| p.get("string")).and_then(Value::as_str).map(str::to_string);
        let build = match (string("output_kustomize_path"), string("output_helm_path")) {
            (Some(path), None) => Build::Kustomize(path),
            (None, Some(path)) => {
                let values_files = param("output_helm_values_files")
                    .and_then(|p| p.get("array"))
                    .and_then(Value::as_list)
                    .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .unwrap_or_default();
                Build::Helm { path, values_files }
            }
            _ => bail!("the Application '{name}' names neither output_kustomize_path nor output_helm_path (or both)"),
        };
        apps.push(Application { name, namespace, build });
    }
    Ok(apps)
}

/// The programs and chart pulls of the inventory's builds:
/// kustomize/kubectl and helm as the plugin finds them (same variables),
/// chart registry settings from `HELM_REGISTRY_CONFIG`, `SSL_CERT_FILE` and
/// `DEPLOYKF_CMP_INSECURE_REGISTRIES`, pulled charts cached in `charts/` of
/// [`Settings::cache_dir`]; helm's homes under `scratch` when `HOME` is
/// unusable. Both programs must be there.
pub fn tools<'s>(settings: &'s Settings, scratch: &Path) -> Result<Tools<'s>> {
    let tools = Tools::new(settings, scratch.join("helm"), settings.cache_dir().join("charts"), None);
    tools.kustomize()?;
    tools.helm()?;
    Ok(tools)
}

/// Builds `app` from the generator output `render_dir` with
/// [`components::build`] (in place: the folder is the inventory's own copy).
pub fn build(tools: &Tools, render_dir: &Path, app: &Application) -> Result<Component> {
    let what = || format!("the component of the Application '{}'", app.name);
    let release = Release { name: Some(app.name.clone()), namespace: app.namespace.clone(), ..Default::default() };
    let out = components::build(render_dir, &app.build, tools, &release).with_context(what)?;
    let dependencies = match &app.build {
        Build::Kustomize(_) => Vec::new(),
        Build::Helm { .. } => components::chart_dependencies(&components::folder(render_dir, &app.build)?).with_context(what)?,
    };
    Ok(Component { app: app.clone(), manifests: into_text(out, &app.name)?, dependencies })
}

/// Builds every application, `jobs` at a time, in the order given.
pub fn build_all(tools: &Tools, render_dir: &Path, apps: &[Application], jobs: usize) -> Result<Vec<Component>> {
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Result<Component>>>> = Mutex::new((0..apps.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(apps.len().max(1)) {
            scope.spawn(|| loop {
                let i = {
                    let mut n = next.lock().expect("lock");
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(app) = apps.get(i) else { break };
                let result = build(tools, render_dir, app);
                results.lock().expect("lock")[i] = Some(result);
            });
        }
    });
    results.into_inner().expect("lock").into_iter().map(|r| r.expect("every component built")).collect()
}

/// The generator output's `argocd/` folder built, for [`applications`].
pub fn app_of_apps_stream(tools: &Tools, render_dir: &Path) -> Result<String> {
    let argocd: PathBuf = render_dir.join("argocd");
    let out = tools
        .kustomize()?
        .build(&argocd, &[])
        .with_context(|| format!("cannot build the app-of-apps folder '{}'", argocd.display()))?;
    into_text(out, "app-of-apps")
}

fn into_text(bytes: Vec<u8>, app: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| anyhow!("the manifests of the Application '{app}' are not UTF-8"))
}
