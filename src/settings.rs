//! The environment the binary reads: one snapshot of the process environment
//! taken at start ([`Settings::from_process`]), typed accessors that check
//! each variable when a command uses it (an error names the variable and the
//! value), and [`VARIABLES`], the one list that `--help` and the README's
//! "Environment" table are made from. The generator's templates read the
//! same snapshot with `getenv` ([`Settings::vars`]).

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, Context, Result};

use crate::deadline::{self, Deadline};
use registry::Timeouts;
use crate::user_input;

/// Names the cache folder.
pub const CACHE_DIR_ENV: &str = "DEPLOYKF_CMP_CACHE_DIR";
/// The render cache's size bound in MiB.
pub const CACHE_MAX_MB_ENV: &str = "DEPLOYKF_CMP_CACHE_MAX_MB";
/// Names the folder of downloaded release zips in plugin mode.
pub const ASSETS_DIR_ENV: &str = "DEPLOYKF_CMP_ASSETS_DIR";
/// `true` lets `plugin generate` print a stream without any Kubernetes object.
pub const ALLOW_EMPTY_ENV: &str = "DEPLOYKF_CMP_ALLOW_EMPTY";
/// The program used instead of `kustomize` on `PATH`.
pub const KUSTOMIZE_ENV: &str = "DEPLOYKF_CMP_KUSTOMIZE";
/// The program used instead of `kubectl` on `PATH` (for `kubectl kustomize`).
pub const KUBECTL_ENV: &str = "DEPLOYKF_CMP_KUBECTL";
/// The program used instead of `helm` on `PATH`.
pub const HELM_ENV: &str = "DEPLOYKF_CMP_HELM";
/// A site-wide mirror configuration file (lowest precedence).
pub const MIRROR_CONFIG_ENV: &str = "DEPLOYKF_CMP_MIRROR_CONFIG";
/// Turns the mirror leak check off with `false`.
pub const MIRROR_ENFORCE_ENV: &str = "DEPLOYKF_CMP_MIRROR_ENFORCE";
/// A mirror of the GitHub release downloads.
pub const RELEASES_URL_ENV: &str = "DEPLOYKF_CMP_RELEASES_URL";
/// Registries (`host[:port]`, comma or space separated) reached over plain HTTP.
pub const INSECURE_REGISTRIES_ENV: &str = "DEPLOYKF_CMP_INSECURE_REGISTRIES";
/// The plugin's deadline in seconds (`0`: none).
pub const DEADLINE_ENV: &str = "DEPLOYKF_CMP_DEADLINE_SECONDS";
/// `true` turns on the plugin's check that the mirror holds what a child renders.
pub const VERIFY_ENV: &str = "DEPLOYKF_CMP_VERIFY";
/// How long the plugin's check remembers a present image or chart, seconds.
pub const VERIFY_CACHE_SECONDS_ENV: &str = "DEPLOYKF_CMP_VERIFY_CACHE_SECONDS";
/// Registry connect timeout, seconds.
pub const CONNECT_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_CONNECT_TIMEOUT";
/// Registry read (silence) timeout, seconds.
pub const READ_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_READ_TIMEOUT";
/// Registry whole-request timeout, seconds.
pub const REQUEST_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_REQUEST_TIMEOUT";

/// The default render cache bound in MiB (a deployKF render is about 8 MiB).
const DEFAULT_CACHE_MAX_MB: u64 = 2048;
/// The largest render cache bound accepted, in MiB (1 TiB).
const MAX_CACHE_MAX_MB: u64 = 1 << 20;

/// A command, for the list of variables each one reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Generate,
    Plugin,
    PullSecret,
    /// `images` and `charts`.
    Inventory,
    Mirror,
    Verify,
    /// `bundle create` (`bundle inspect` and `bundle verify` read none).
    BundleCreate,
    BundlePush,
}

#[cfg(test)]
impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Generate => "generate",
            Cmd::Plugin => "plugin",
            Cmd::PullSecret => "pull-secret",
            Cmd::Inventory => "images, charts",
            Cmd::Mirror => "mirror",
            Cmd::Verify => "verify",
            Cmd::BundleCreate => "bundle create",
            Cmd::BundlePush => "bundle push",
        }
    }
}

use Cmd::{BundleCreate, BundlePush, Generate, Inventory, Mirror, Plugin, PullSecret, Verify};

/// One environment variable the binary reads.
#[derive(Debug)]
pub struct Variable {
    pub name: &'static str,
    /// What it means and its default, one sentence.
    pub meaning: &'static str,
    /// The commands reading it.
    pub commands: &'static [Cmd],
}

const TOOLS: &[Cmd] = &[Plugin, Inventory, Mirror, Verify, BundleCreate];

/// Every variable the binary reads, in the order `--help` and the README list them.
pub const VARIABLES: &[Variable] = &[
    Variable {
        name: CACHE_DIR_ENV,
        meaning: "the render and chart cache (default $XDG_CACHE_HOME/deploykf-cmp; else, in plugin mode, \
                  $TMPDIR/deploykf-cmp-cache, for the other commands ~/.cache/deploykf-cmp)",
        commands: TOOLS,
    },
    Variable {
        name: CACHE_MAX_MB_ENV,
        meaning: "the render cache's size bound in MiB (default 2048, 1 to 1048576)",
        commands: &[Plugin],
    },
    Variable {
        name: ASSETS_DIR_ENV,
        meaning: "where source_version release zips are kept (default $DEPLOYKF_CMP_CACHE_DIR/assets; never $HOME)",
        commands: &[Plugin],
    },
    Variable {
        name: ALLOW_EMPTY_ENV,
        meaning: "'true' lets 'plugin generate' print a render holding no Kubernetes object (default: an error, \
                  since Argo CD would prune every resource of the Application)",
        commands: &[Plugin],
    },
    Variable {
        name: RELEASES_URL_ENV,
        meaning: "a mirror of github.com/deployKF/deployKF/releases/download for --source-version and \
                  source_version (zips fetched from URL/vVERSION/)",
        commands: &[Generate, Plugin, Inventory, Mirror, Verify, BundleCreate],
    },
    Variable {
        name: MIRROR_CONFIG_ENV,
        meaning: "a file with a top-level 'mirror:' section (site-wide private mirrors; --mirror and a 'mirror:' \
                  key in the values win over it)",
        commands: &[Generate, Plugin, Inventory, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: MIRROR_ENFORCE_ENV,
        meaning: "'false' lets images outside the mirror through (default: refused)",
        commands: &[Generate, Plugin],
    },
    Variable {
        name: VERIFY_ENV,
        meaning: "'true' makes 'plugin generate' check, before printing, that the mirror registry holds every \
                  image of the child Application's render and the chart tags of its chart (credentials of \
                  HELM_REGISTRY_CONFIG; default false); a missing image fails the render, listing them",
        commands: &[Plugin],
    },
    Variable {
        name: VERIFY_CACHE_SECONDS_ENV,
        meaning: "seconds a present image or chart is remembered by the plugin's check, in the cache folder \
                  (default 600, 0 to 86400; 0: always ask the registry)",
        commands: &[Plugin],
    },
    Variable {
        name: DEADLINE_ENV,
        meaning: "the plugin request's deadline in seconds, counted from the start of init for both commands \
                  (default 50, below Argo CD's 60 s request timeout; 0: none); raise it together with Argo CD's \
                  timeouts (see deploy/README.md)",
        commands: &[Plugin],
    },
    Variable {
        name: KUSTOMIZE_ENV,
        meaning: "the kustomize program to use instead of kustomize on PATH",
        commands: TOOLS,
    },
    Variable {
        name: KUBECTL_ENV,
        meaning: "the kubectl program to use (for 'kubectl kustomize') when there is no kustomize",
        commands: TOOLS,
    },
    Variable { name: HELM_ENV, meaning: "the helm program to use instead of helm on PATH", commands: TOOLS },
    Variable {
        name: "HELM_REGISTRY_CONFIG",
        meaning: "docker config.json with the chart registries' credentials (also the last credentials file of \
                  mirror, pull-secret and bundle)",
        commands: &[Plugin, Inventory, Mirror, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: "SSL_CERT_FILE",
        meaning: "extra CA certificates (PEM) to trust for registries",
        commands: &[Plugin, Inventory, Mirror, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: INSECURE_REGISTRIES_ENV,
        meaning: "registries (host[:port], comma-separated) reached over plain HTTP",
        commands: &[Plugin, Inventory, Mirror, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: "REGISTRY_AUTH_FILE",
        meaning: "the registry credentials file when --authfile is not given",
        commands: &[Mirror, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: "DOCKER_CONFIG",
        meaning: "the folder of docker's config.json (credentials), after podman's auth.json",
        commands: &[Mirror, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: CONNECT_TIMEOUT_ENV,
        meaning: "seconds to connect to a registry (default 15, 0.1 to 3600)",
        commands: &[Plugin, Mirror, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: READ_TIMEOUT_ENV,
        meaning: "seconds of silence from a registry (default 30, 0.1 to 3600)",
        commands: &[Plugin, Mirror, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: REQUEST_TIMEOUT_ENV,
        meaning: "seconds for a whole manifest, token or check request (default 120, 0.1 to 3600; a blob gets \
                  this plus 1 s per 16 KiB)",
        commands: &[Plugin, Mirror, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: "HOME",
        meaning: "~/.deploykf/assets (release zips of --source-version), ~/.cache and the credentials files",
        commands: &[Generate, Inventory, Mirror, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable { name: "XDG_CACHE_HOME", meaning: "the base of the default cache folder", commands: TOOLS },
    Variable {
        name: "TMPDIR",
        meaning: "where temporary and staging folders are made (default /tmp)",
        commands: &[Generate, Plugin, Inventory, Mirror, Verify, BundleCreate],
    },
    Variable {
        name: "PATH",
        meaning: "where kustomize, kubectl, helm and credential helpers are found",
        commands: &[Plugin, Inventory, Mirror, PullSecret, Verify, BundleCreate, BundlePush],
    },
    Variable {
        name: "ARGOCD_APP_*, PARAM_*, KUBE_VERSION, KUBE_API_VERSIONS",
        meaning: "set by Argo CD's cmp-server: the Application, its parameters and the cluster's versions",
        commands: &[Plugin],
    },
];

/// Word-wraps `text` to lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The "Environment:" section of `cmd`'s `--help`: every variable it reads.
pub fn help(cmd: Cmd) -> String {
    const COLUMN: usize = 27;
    let mut out = String::from("Environment:\n");
    for var in VARIABLES.iter().filter(|v| v.commands.contains(&cmd)) {
        let lines = wrap(var.meaning, 90 - COLUMN);
        if var.name.len() + 2 < COLUMN - 1 {
            out += &format!("  {:<width$} {}\n", var.name, lines[0], width = COLUMN - 3);
        } else {
            out += &format!("  {}\n{:COLUMN$}{}\n", var.name, "", lines[0]);
        }
        for line in &lines[1..] {
            out += &format!("{:COLUMN$}{line}\n", "");
        }
    }
    out.trim_end().to_string()
}

/// The README's table of [`VARIABLES`] (Markdown), checked by a test.
#[cfg(test)]
fn readme_table() -> String {
    let mut out = String::from("| variable | read by | meaning |\n| --- | --- | --- |\n");
    for var in VARIABLES {
        let names: Vec<String> = var.name.split(", ").map(|n| format!("`{n}`")).collect();
        let commands: Vec<&str> = var.commands.iter().map(|c| c.name()).collect();
        out += &format!("| {} | {} | {} |\n", names.join(", "), commands.join(", "), var.meaning);
    }
    out
}

/// The environment of this run, read once.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// The variables whose names and values are UTF-8: what templates read.
    vars: HashMap<String, String>,
    /// Every variable with a UTF-8 name, values as they are (paths).
    os: HashMap<String, OsString>,
}

impl Settings {
    /// The process environment, as `getenv` sees it in the Go CLI.
    pub fn from_process() -> Settings {
        let os: HashMap<String, OsString> =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))).collect();
        let vars = os.iter().filter_map(|(k, v)| Some((k.clone(), v.clone().into_string().ok()?))).collect();
        Settings { vars, os }
    }

    /// Settings from `vars` alone.
    #[cfg(test)]
    pub fn from_vars(vars: HashMap<String, String>) -> Settings {
        let os = vars.iter().map(|(k, v)| (k.clone(), OsString::from(v))).collect();
        Settings { vars, os }
    }

    /// The variables with UTF-8 values: what templates read with `getenv`.
    pub fn vars(&self) -> &HashMap<String, String> {
        &self.vars
    }

    /// The variable `name` as it is (also non-UTF-8), for finding programs and files.
    pub fn var_os(&self, name: &str) -> Option<OsString> {
        self.os.get(name).cloned()
    }

    /// The variable `name` when set and not empty.
    fn path(&self, name: &str) -> Option<PathBuf> {
        self.os.get(name).filter(|v| !v.is_empty()).map(PathBuf::from)
    }

    /// A `true`/`false` variable: `Ok(default)` when unset or empty, `Err`
    /// with the value when it is none of the words of `yes`/`no`.
    fn flag<'a>(&'a self, name: &str, yes: &[&str], no: &[&str], default: bool) -> Result<bool, &'a str> {
        let Some(raw) = self.vars.get(name) else { return Ok(default) };
        match raw.trim().to_ascii_lowercase().as_str() {
            "" => Ok(default),
            v if yes.contains(&v) => Ok(true),
            v if no.contains(&v) => Ok(false),
            _ => Err(raw),
        }
    }

    /// The plugin's cache folder: `$DEPLOYKF_CMP_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/deploykf-cmp`, else `deploykf-cmp-cache` in the
    /// temporary folder (the sidecar's own `/tmp`; its `$HOME` is `/`).
    pub fn plugin_cache_dir(&self) -> PathBuf {
        self.path(CACHE_DIR_ENV)
            .or_else(|| self.path("XDG_CACHE_HOME").map(|d| d.join("deploykf-cmp")))
            .unwrap_or_else(|| std::env::temp_dir().join("deploykf-cmp-cache"))
    }

    /// The other commands' cache folder: as [`Settings::plugin_cache_dir`],
    /// but `~/.cache/deploykf-cmp` before the temporary folder.
    pub fn cache_dir(&self) -> PathBuf {
        self.path(CACHE_DIR_ENV)
            .or_else(|| self.path("XDG_CACHE_HOME").map(|d| d.join("deploykf-cmp")))
            .or_else(|| self.path("HOME").map(|h| h.join(".cache").join("deploykf-cmp")))
            .unwrap_or_else(|| std::env::temp_dir().join("deploykf-cmp-cache"))
    }

    /// The render cache's size bound in bytes ([`CACHE_MAX_MB_ENV`]).
    pub fn cache_max_bytes(&self) -> Result<u64> {
        Ok(user_input::env_number(&self.vars, CACHE_MAX_MB_ENV, 1..=MAX_CACHE_MAX_MB)?.unwrap_or(DEFAULT_CACHE_MAX_MB) << 20)
    }

    /// Where `source_version` release zips are kept in plugin mode:
    /// `$DEPLOYKF_CMP_ASSETS_DIR`, else `assets/` in the plugin's cache folder
    /// (never `$HOME`, which is `/` and read-only in the sidecar).
    pub fn plugin_assets_dir(&self) -> PathBuf {
        self.path(ASSETS_DIR_ENV).unwrap_or_else(|| self.plugin_cache_dir().join("assets"))
    }

    /// The assets cache of the command line, `$HOME/.deploykf/assets`, as the Go CLI uses.
    pub fn assets_dir(&self) -> Result<PathBuf> {
        let home = self.path("HOME").ok_or_else(|| {
            anyhow!("$HOME is not defined, so the assets cache '~/.deploykf/assets' cannot be found")
        })?;
        Ok(home.join(".deploykf").join("assets"))
    }

    /// The base URL of the release downloads' mirror ([`RELEASES_URL_ENV`]), trimmed.
    pub fn releases_url(&self) -> Option<String> {
        let base = self.vars.get(RELEASES_URL_ENV).map(|b| b.trim()).filter(|b| !b.is_empty())?;
        Some(base.trim_end_matches('/').to_string())
    }

    /// The site-wide mirror configuration file ([`MIRROR_CONFIG_ENV`]).
    pub fn mirror_config(&self) -> Option<PathBuf> {
        self.path(MIRROR_CONFIG_ENV)
    }

    /// Whether an image outside the mirror fails the render ([`MIRROR_ENFORCE_ENV`], default true).
    pub fn mirror_enforce(&self) -> Result<bool> {
        self.flag(MIRROR_ENFORCE_ENV, &["true", "1", "yes", "on"], &["false", "0", "no", "off"], true)
            .map_err(|raw| anyhow!("{MIRROR_ENFORCE_ENV} must be 'true' or 'false', not '{raw}'"))
    }

    /// Whether `plugin generate` may print a stream without objects ([`ALLOW_EMPTY_ENV`], default false).
    pub fn allow_empty(&self) -> Result<bool> {
        self.flag(ALLOW_EMPTY_ENV, &["true", "1"], &["false", "0"], false)
            .map_err(|raw| anyhow!("{ALLOW_EMPTY_ENV} must be 'true' or 'false', not {}", user_input::quote(raw)))
    }

    /// Whether `plugin generate` checks the mirror first ([`VERIFY_ENV`], default false).
    pub fn verify(&self) -> Result<bool> {
        self.flag(VERIFY_ENV, &["true", "1"], &["false", "0"], false)
            .map_err(|raw| anyhow!("{VERIFY_ENV} must be 'true' or 'false', not {}", user_input::quote(raw)))
    }

    /// How long a present answer of the plugin's check is kept ([`VERIFY_CACHE_SECONDS_ENV`], default 600 s).
    pub fn verify_cache_ttl(&self) -> Result<Duration> {
        let seconds = user_input::env_number(&self.vars, VERIFY_CACHE_SECONDS_ENV, 0..=86_400)?;
        Ok(Duration::from_secs(seconds.unwrap_or(600)))
    }

    /// The registries reached over plain HTTP ([`INSECURE_REGISTRIES_ENV`]).
    pub fn insecure_registries(&self) -> Vec<String> {
        parse_registry_list(self.vars.get(INSECURE_REGISTRIES_ENV).map_or("", String::as_str))
    }

    /// The PEM file of extra CAs (`SSL_CERT_FILE`).
    pub fn extra_ca_file(&self) -> Option<PathBuf> {
        self.path("SSL_CERT_FILE")
    }

    /// The plugin request's deadline ([`DEADLINE_ENV`]) counted from `started`
    /// (the start of its `init`); `None` for `0`.
    pub fn deadline_since(&self, started: SystemTime) -> Result<Option<Deadline>> {
        let seconds = user_input::env_number(&self.vars, DEADLINE_ENV, 0..=deadline::MAX_SECONDS)?;
        Ok(Deadline::since(seconds.unwrap_or(deadline::DEFAULT_SECONDS), started))
    }

    /// The registry timeouts: the defaults, each replaced by its variable when
    /// set (seconds, decimals allowed, 0.1 to 3600).
    pub fn timeouts(&self) -> Result<Timeouts> {
        let mut t = Timeouts::default();
        for (name, field) in
            [(CONNECT_TIMEOUT_ENV, &mut t.connect), (READ_TIMEOUT_ENV, &mut t.read), (REQUEST_TIMEOUT_ENV, &mut t.request)]
        {
            if let Some(value) = self.os.get(name).filter(|v| !v.is_empty()) {
                *field = parse_seconds(&value.to_string_lossy()).with_context(|| format!("invalid {name}"))?;
            }
        }
        Ok(t)
    }
}

/// Seconds (`30`, `0.5`) between 0.1 and 3600.
fn parse_seconds(text: &str) -> Result<Duration> {
    let shown = user_input::quote(text);
    let seconds: f64 = text.trim().parse().map_err(|_| anyhow!("{shown} is not a number of seconds"))?;
    if !(0.1..=3600.0).contains(&seconds) {
        anyhow::bail!("{shown} seconds is out of range (0.1 to 3600)");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Splits a comma- or space-separated list of registries.
pub fn parse_registry_list(text: &str) -> Vec<String> {
    text.split([',', ' ', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_seconds_in_range() {
        assert_eq!(parse_seconds("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_seconds(" 0.5 ").unwrap(), Duration::from_millis(500));
        for bad in ["0", "-1", "3601", "1e9", "NaN", "soon", ""] {
            let error = parse_seconds(bad).unwrap_err().to_string();
            assert!(error.contains("out of range") || error.contains("not a number"), "{bad}: {error}");
        }
    }

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn the_readme_lists_the_variables_of_this_file() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let (begin, end) = ("<!-- environment table: made from src/settings.rs -->\n", "<!-- end of the environment table -->");
        let start = readme.find(begin).expect("the README's environment table marker") + begin.len();
        let stop = start + readme[start..].find(end).expect("the end marker");
        let table = readme_table();
        assert!(readme[start..stop] == table, "README.md's environment table differs from settings::VARIABLES; make it:\n{table}");
    }

    #[test]
    fn every_variable_appears_in_the_help_of_each_command_reading_it() {
        for cmd in [Generate, Plugin, PullSecret, Inventory, Mirror, Verify, BundleCreate, BundlePush] {
            let text = help(cmd);
            for var in VARIABLES {
                let listed = text.lines().any(|l| l.strip_prefix("  ").and_then(|l| l.strip_prefix(var.name)).is_some_and(|rest| rest.is_empty() || rest.starts_with(' ')));
                assert_eq!(listed, var.commands.contains(&cmd), "{} in {cmd:?}:\n{text}", var.name);
            }
            assert!(text.lines().all(|l| l.len() <= 90), "{text}");
        }
    }

    #[test]
    fn the_deadline_is_range_checked_and_zero_turns_it_off() {
        let now = SystemTime::now();
        let seconds = |value: &str| settings(&[(DEADLINE_ENV, value)]).deadline_since(now).map(|d| d.map(|d| d.at));
        let default = settings(&[]).deadline_since(now).unwrap().unwrap().at - std::time::Instant::now();
        assert!(default > std::time::Duration::from_secs(deadline::DEFAULT_SECONDS - 5), "{default:?}");
        assert!(seconds(" 7 ").unwrap().unwrap() < std::time::Instant::now() + std::time::Duration::from_secs(8));
        assert!(seconds("0").unwrap().is_none());
        for bad in ["-1", "1.5", "ten", "86401", "17592186044416"] {
            let message = seconds(bad).unwrap_err().to_string();
            assert!(message.contains(DEADLINE_ENV) && message.contains(bad), "{message}");
        }
    }

    #[test]
    fn the_cache_folders_follow_the_variable_then_xdg_then_home() {
        let s = settings(&[(CACHE_DIR_ENV, "/c"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!((s.cache_dir(), s.plugin_cache_dir()), (PathBuf::from("/c"), PathBuf::from("/c")));
        let s = settings(&[(CACHE_DIR_ENV, ""), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(s.cache_dir(), PathBuf::from("/x/deploykf-cmp"));
        assert_eq!(s.plugin_cache_dir(), PathBuf::from("/x/deploykf-cmp"));
        let s = settings(&[("HOME", "/h")]);
        assert_eq!(s.cache_dir(), PathBuf::from("/h/.cache/deploykf-cmp"));
        assert_eq!(s.plugin_cache_dir(), std::env::temp_dir().join("deploykf-cmp-cache"));
        assert_eq!(settings(&[]).cache_dir(), std::env::temp_dir().join("deploykf-cmp-cache"));
        assert_eq!(s.plugin_assets_dir(), std::env::temp_dir().join("deploykf-cmp-cache/assets"));
        assert_eq!(settings(&[(ASSETS_DIR_ENV, "/a")]).plugin_assets_dir(), PathBuf::from("/a"));
        assert_eq!(s.assets_dir().unwrap(), PathBuf::from("/h/.deploykf/assets"));
        assert!(settings(&[]).assets_dir().unwrap_err().to_string().contains("$HOME is not defined"));
    }

    #[test]
    fn flags_accept_their_words_and_name_a_wrong_value() {
        for (value, enforce) in [("false", false), ("0", false), ("No", false), ("true", true), ("", true)] {
            assert_eq!(settings(&[(MIRROR_ENFORCE_ENV, value)]).mirror_enforce().unwrap(), enforce, "{value:?}");
        }
        let err = settings(&[(MIRROR_ENFORCE_ENV, "maybe")]).mirror_enforce().unwrap_err().to_string();
        assert_eq!(err, "DEPLOYKF_CMP_MIRROR_ENFORCE must be 'true' or 'false', not 'maybe'");
        assert!(settings(&[(ALLOW_EMPTY_ENV, " TRUE ")]).allow_empty().unwrap());
        assert!(!settings(&[]).allow_empty().unwrap());
        assert!(settings(&[(ALLOW_EMPTY_ENV, "yes")]).allow_empty().is_err());
    }

    #[test]
    fn numbers_and_lists_are_checked() {
        assert_eq!(settings(&[]).cache_max_bytes().unwrap(), 2048 << 20);
        assert_eq!(settings(&[(CACHE_MAX_MB_ENV, "1")]).cache_max_bytes().unwrap(), 1 << 20);
        assert!(settings(&[(CACHE_MAX_MB_ENV, "0")]).cache_max_bytes().unwrap_err().to_string().contains(CACHE_MAX_MB_ENV));
        let t = settings(&[(READ_TIMEOUT_ENV, "0.5")]).timeouts().unwrap();
        assert_eq!((t.read, t.connect), (Duration::from_millis(500), Timeouts::default().connect));
        let err = settings(&[(CONNECT_TIMEOUT_ENV, "soon")]).timeouts().unwrap_err();
        assert!(format!("{err:#}").contains(CONNECT_TIMEOUT_ENV), "{err:#}");
        assert_eq!(settings(&[(INSECURE_REGISTRIES_ENV, "a:5000, b,c")]).insecure_registries(), ["a:5000", "b", "c"]);
        assert_eq!(settings(&[(RELEASES_URL_ENV, " https://m.test/r/ ")]).releases_url().as_deref(), Some("https://m.test/r"));
        assert_eq!(settings(&[(RELEASES_URL_ENV, " ")]).releases_url(), None);
    }
}
