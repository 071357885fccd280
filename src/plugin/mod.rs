//! Plugin mode: `deploykf-cmp plugin init` and `deploykf-cmp plugin generate`,
//! run by Argo CD's cmp-server in a fresh copy of the application's repository
//! path. The component build of [`crate::components`] is split over the two:
//! `init` renders the generator (through the shared render cache), checks the
//! requested output folder and, for a Helm chart, copies the chart into the
//! working directory and prepares it (its dependencies resolved); `generate`
//! renders that folder (`kustomize build` / `helm template`) and prints the
//! manifests on stdout, with their pod images rewritten to the private mirror
//! (pinned to the digests of `mirror.images.lock`, a path relative to the
//! repository root) and checked when one is configured (see
//! [`crate::mirror::steps`]) and, with `DEPLOYKF_CMP_VERIFY=true`, checked
//! present in the mirror registry first ([`crate::mirror::verify`]). State
//! between the two lives in the working directory
//! ([`STATE_DIR`]). Anything going wrong is an error (non-zero exit) with
//! nothing on stdout: an empty success would make Argo CD prune everything.
//! The request ends by its [`Deadline`] (`DEPLOYKF_CMP_DEADLINE_SECONDS`, counted from
//! the start of `init` for both commands),
//! before Argo CD's own timeout kills it without a word.

pub mod output_guard;
pub mod params;
pub mod render;
pub mod repo;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use registry::Credentials;

use crate::cache::RenderCache;
use crate::components::helm::{self, Release};
use crate::components::{self, Build, Tools};
use crate::deadline::{self, Deadline};
use crate::mirror::lock::Lock;
use crate::mirror::{steps, verify};
use crate::settings::{Settings, CACHE_DIR_ENV, VERIFY_ENV};
use params::Parameters;
use render::{RenderRequest, Rendered};
use repo::{FileRole, Repository};

/// The folder in the working directory holding what `init` leaves for `generate`.
pub const STATE_DIR: &str = ".deploykf-cmp";
/// The state file in [`STATE_DIR`].
const STATE_FILE: &str = "state.json";
/// The Helm chart copy in [`STATE_DIR`].
const CHART_DIR: &str = "chart";

/// `deploykf-cmp plugin init`.
pub fn init(settings: Settings) -> Result<()> {
    Invocation::new(settings)?.watched().init()
}

/// `deploykf-cmp plugin generate`: the manifests go to stdout only once complete.
pub fn generate(settings: Settings) -> Result<()> {
    let manifests = Invocation::new(settings)?.after_init()?.watched().generate()?;
    let mut stdout = io::stdout().lock();
    stdout.write_all(&manifests).and_then(|()| stdout.flush()).context("cannot write the manifests to stdout")
}

/// One run of the plugin: its environment, working directory and cache.
struct Invocation {
    settings: Settings,
    cwd: PathBuf,
    cache_dir: PathBuf,
    cache_max_bytes: u64,
    /// When the request started (for `generate`, when its `init` started).
    started: SystemTime,
    deadline: Option<Deadline>,
}

impl Invocation {
    fn new(settings: Settings) -> Result<Invocation> {
        let cwd = std::env::current_dir().context("cannot read the working directory")?;
        let cache_dir = settings.plugin_cache_dir();
        let cache_max_bytes = settings.cache_max_bytes()?;
        let started = SystemTime::now();
        let deadline = settings.deadline_since(started)?;
        Ok(Invocation { settings, cwd, cache_dir, cache_max_bytes, started, deadline })
    }

    /// For `generate`: the request started with its `init` (one budget for both).
    fn after_init(mut self) -> Result<Invocation> {
        if let Ok(state) = State::read(&self.state_dir()) {
            self.started = state.started;
            self.deadline = self.settings.deadline_since(self.started)?;
        }
        if let Some(deadline) = self.deadline.filter(|d| d.at <= Instant::now()) {
            deadline::doing("starting `plugin generate` (its `init` used the request's time)");
            return Err(deadline.expired());
        }
        Ok(self)
    }

    /// Starts the deadline's watchdog for this process.
    fn watched(self) -> Invocation {
        if let Some(deadline) = self.deadline {
            deadline.watch();
        }
        self
    }

    fn repository(&self) -> Result<Repository> {
        Repository::locate(&self.cwd, self.settings.vars().get("ARGOCD_APP_SOURCE_PATH").map(String::as_str))
    }

    fn state_dir(&self) -> PathBuf {
        self.cwd.join(STATE_DIR)
    }

    /// The generator's output for `params`, from the cache or rendered now.
    fn render(&self, params: &Parameters) -> Result<Rendered> {
        let started = Instant::now();
        deadline::doing("rendering the generator");
        let request = RenderRequest::new(params, &self.repository()?, &self.settings)?;
        let renders = self.cache_dir.join("renders");
        let cache = RenderCache::open(&renders, self.cache_max_bytes)
            .with_context(|| format!("cannot open the render cache '{}' (set {CACHE_DIR_ENV} to a writable folder)", renders.display()))?;
        let rendered = request.render(&cache)?;
        let how = if rendered.rendered_now() { "rendered" } else { "reused from the cache" };
        eprintln!("deploykf-cmp: generator output {how} in {} ms", started.elapsed().as_millis());
        Ok(rendered)
    }

    fn init(&self) -> Result<()> {
        let params = Parameters::from_vars(self.settings.vars())?;
        params.source()?;
        let output = params.output()?;
        // Fail before rendering when the output cannot be built anyway.
        let tools = self.tools();
        tools.check(&output)?;
        let rendered = self.render(&params)?;
        let render_dir = rendered.dir().to_path_buf();
        let state_dir = self.state_dir();
        if state_dir.exists() {
            std::fs::remove_dir_all(&state_dir).with_context(|| format!("cannot clean '{}'", state_dir.display()))?;
        }
        std::fs::create_dir_all(&state_dir).with_context(|| format!("cannot create '{}'", state_dir.display()))?;
        let folder = components::folder(&render_dir, &output)?;
        if let Build::Helm { path, .. } = &output {
            // The chart is prepared in a copy of its own: the render is shared.
            let copy = state_dir.join(CHART_DIR);
            crate::folder::copy(&folder, &copy)
                .with_context(|| format!("cannot copy the chart '{path}' into the working directory"))?;
            let started = Instant::now();
            components::prepare(&copy, &output, &tools)?;
            eprintln!("deploykf-cmp: chart dependencies resolved in {} ms", started.elapsed().as_millis());
        }
        State { render_dir, started: self.started }.write(&state_dir)
    }

    fn generate(&self) -> Result<Vec<u8>> {
        let params = Parameters::from_vars(self.settings.vars())?;
        let output = params.output()?;
        let state = State::read(&self.state_dir())?;
        let tools = self.tools();
        tools.check(&output)?;
        let component = output.path().to_string();
        let output_is_helm = matches!(output, Build::Helm { .. });
        let manifests = match &output {
            Build::Kustomize(rel) => {
                // The render `init` used, held from eviction while kustomize
                // reads it (made again if it was evicted meanwhile).
                let rendered = self.render(&params)?;
                if rendered.dir() != state.render_dir {
                    eprintln!("deploykf-cmp: the generator output changed since init");
                }
                let folder = components::folder(rendered.dir(), &output)?;
                deadline::doing(format!("running kustomize build for '{rel}'"));
                components::render(&folder, &output, &tools, &Release::default())
            }
            Build::Helm { path, .. } => {
                let chart = self.state_dir().join(CHART_DIR);
                if !chart.join("Chart.yaml").is_file() {
                    bail!(
                        "the chart '{path}' was not prepared in the working directory: `deploykf-cmp plugin init` \
                         must run before `deploykf-cmp plugin generate` (the plugin's init command)"
                    );
                }
                let vars = self.settings.vars();
                let release = Release {
                    name: vars.get("ARGOCD_APP_NAME").cloned(),
                    namespace: vars.get("ARGOCD_APP_NAMESPACE").cloned(),
                    kube_version: vars.get("KUBE_VERSION").cloned(),
                    api_versions: helm::split_api_versions(vars.get("KUBE_API_VERSIONS").map_or("", String::as_str)),
                };
                deadline::doing(format!("running helm template for the chart '{path}'"));
                components::render(&chart, &output, &tools, &release)
            }
        }?;
        if !self.settings.allow_empty()? {
            output_guard::ensure_objects(&manifests, output.path())?;
        }
        let repository = self.repository()?;
        let request = RenderRequest::new(&params, &repository, &self.settings)?;
        let manifests = match request.mirror_rules()? {
            Some(rules) => {
                let lock = match &rules.lock {
                    Some(path) => {
                        let file = repository.resolve_from_root(path, FileRole { parameter: "mirror.images.lock", what: "lock file" })?;
                        Some(Lock::load(&file)?)
                    }
                    None => None,
                };
                steps::rewrite_manifests(manifests, &rules, lock.as_ref(), request.mirror_enforced())?
            }
            None => manifests,
        };
        if self.settings.verify()? {
            self.preflight(&manifests, &component, output_is_helm.then(|| self.state_dir().join(CHART_DIR)).as_deref())?;
        }
        Ok(manifests)
    }

    /// The check of `DEPLOYKF_CMP_VERIFY`: the mirror holds every image of
    /// the rendered `manifests` (the recognizer's places, as rewritten) and,
    /// for the Helm chart copied to `chart`, the tag of each `oci://`
    /// dependency at the version `init` pulled; positive answers are remembered in
    /// the cache folder for `DEPLOYKF_CMP_VERIFY_CACHE_SECONDS`. Fails listing
    /// what is missing; runs within the request's deadline.
    fn preflight(&self, manifests: &[u8], component: &str, chart: Option<&Path>) -> Result<()> {
        let started = Instant::now();
        let text = std::str::from_utf8(manifests).context("the rendered manifests are not UTF-8 text")?;
        let mut items = verify::stream_images(text)?;
        if let Some(chart) = chart {
            // The version `init` pulled (a range resolved), else the pinned one.
            for d in components::chart_dependencies(chart)? {
                let version = d.resolved_version.as_deref().unwrap_or(&d.dependency.version);
                if semver::Version::parse(version.trim_start_matches('v')).is_ok() {
                    let used_by = [format!("the chart '{component}'")].into();
                    items.extend(verify::Item::oci_chart(&d.dependency.repository, &d.dependency.name, version, used_by));
                }
            }
        }
        let credentials = Credentials::from_helm_env_in(&|n| self.settings.var_os(n))?;
        let client = crate::mirror::copy::registry_client(credentials, &[], &self.settings)?;
        let ttl = self.settings.verify_cache_ttl()?;
        let cache = verify::PresentCache::new(self.cache_dir.join("verify"), ttl);
        let options = verify::Options { platforms: Vec::new(), deep: false, jobs: 8 };
        deadline::doing(format!("checking {} images and charts of '{component}' in the mirror ({VERIFY_ENV})", items.len()));
        let cache = (!ttl.is_zero()).then_some(&cache);
        let Some(statuses) = verify::run_checks(&client, &items, &options, cache, self.deadline.map(|d| d.at))? else {
            return Err(self.deadline.expect("only a deadline cuts the checks short").expired());
        };
        if let Some(cache) = cache {
            cache.prune();
        }
        let problems = verify::problems(&items, &statuses);
        if problems.is_empty() {
            eprintln!("deploykf-cmp: verify: {} images and charts present in the mirror ({} ms)", items.len(), started.elapsed().as_millis());
            return Ok(());
        }
        let list: Vec<String> = problems.iter().map(|(item, status)| format!("  {}", verify::describe(item, status))).collect();
        bail!(
            "{} of {} images and charts of '{component}' are not in the mirror ({VERIFY_ENV}=true):\n{}\n\
             copy them with 'deploykf-cmp mirror' ('deploykf-cmp verify' with the same values prints the command)",
            problems.len(),
            items.len(),
            list.join("\n")
        )
    }

    /// The programs and chart pulls of this run: helm's homes and pulled
    /// charts under the cache folder, pulls cut short at this run's deadline.
    fn tools(&self) -> Tools<'_> {
        Tools::new(&self.settings, self.cache_dir.join("helm"), self.cache_dir.join("charts"), self.deadline)
    }
}

/// What `init` leaves for `generate`.
#[derive(Debug, PartialEq, Eq)]
struct State {
    /// The generator's output folder (in the render cache).
    render_dir: PathBuf,
    /// When `init` started.
    started: SystemTime,
}

impl State {
    fn write(&self, state_dir: &Path) -> Result<()> {
        let path = state_dir.join(STATE_FILE);
        let started_ms = self.started.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let json = serde_json::json!({ "render_dir": self.render_dir.to_string_lossy(), "started_ms": started_ms });
        std::fs::write(&path, json.to_string()).with_context(|| format!("cannot write '{}'", path.display()))
    }

    fn read(state_dir: &Path) -> Result<State> {
        let path = state_dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow!(
                "no output of `deploykf-cmp plugin init` in the working directory ('{}': {e}): the plugin's init \
                 command must run before generate",
                path.display()
            )
        })?;
        let json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("'{}' is damaged", path.display()))?;
        let render_dir = json["render_dir"].as_str().with_context(|| format!("'{}' is damaged", path.display()))?;
        let started_ms = json["started_ms"].as_u64().with_context(|| format!("'{}' is damaged", path.display()))?;
        Ok(State { render_dir: PathBuf::from(render_dir), started: UNIX_EPOCH + Duration::from_millis(started_ms) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_a_missing_one_says_to_run_init() {
        let dir = tempfile::TempDir::new().unwrap();
        let started = UNIX_EPOCH + Duration::from_millis(1_780_000_000_123);
        let state = State { render_dir: PathBuf::from("/cache/renders/abc"), started };
        state.write(dir.path()).unwrap();
        assert_eq!(State::read(dir.path()).unwrap(), state);
        let err = State::read(&dir.path().join("none")).unwrap_err().to_string();
        assert!(err.contains("init command must run before generate"), "{err}");
    }
}
