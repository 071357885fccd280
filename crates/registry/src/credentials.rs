//! Registry credentials from docker-style config files (`config.json` as written
//! by `docker login`, `helm registry login` and podman's `auth.json`): the one
//! loader every command uses. It finds the file (`discover_in`, `from_helm_env_in`),
//! reads `auths`, `credHelpers` and `credsStore` the way docker, helm (oras-go)
//! and podman (containers/image) do, runs `docker-credential-<name>` helpers, and
//! builds single-registry `.dockerconfigjson` content for image pull secrets.
//! Secrets never appear in `Debug` output or errors.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use serde_json::Value;

/// How to authenticate to one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No entry for the registry: pull anonymously.
    Anonymous,
    /// `auth` (base64 `user:pass`) or `username`/`password`.
    Basic { username: String, password: String },
    /// `identitytoken`: an OAuth2 refresh token exchanged at the token endpoint.
    IdentityToken(String),
    /// `registrytoken`: a bearer token sent as is (`Authorization: Bearer ...`).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Auth::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// The Docker Hub server address docker uses as the `auths` / helper key.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";
/// The canonical name [`registry_host`] gives Docker Hub.
const DOCKER_HUB: &str = "docker.io";
/// What a docker credential helper prints when it holds nothing for a server.
const HELPER_NOT_FOUND: &str = "credentials not found in native keychain";
/// The username a helper returns alongside an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// The host (with port) of a registry named by a host, an image or chart
/// reference, or a URL — the key credentials are looked up by.
///
/// Strips `oci://`, `https://`, `http://` (any scheme), user info and the path;
/// lower-cases; maps the Docker Hub aliases (`index.docker.io`,
/// `registry-1.docker.io`, `https://index.docker.io/v1/`) to `docker.io`. A
/// reference with a path whose first component is not a host (no `.` or `:`,
/// not `localhost`), such as `library/nginx`, is on Docker Hub, as docker reads
/// it. Examples: `oci://reg.example.com:5000/charts` → `reg.example.com:5000`,
/// `https://host/v2/` → `host`.
pub fn registry_host(reference_or_url: &str) -> String {
    let s = reference_or_url.trim();
    let (had_scheme, rest) = match s.find("://") {
        Some(i) => (true, &s[i + 3..]),
        None => (false, s),
    };
    let (first, has_path) = match rest.find('/') {
        Some(i) => (&rest[..i], true),
        None => (rest, false),
    };
    // `user@host` in a URL authority.
    let host = if had_scheme {
        first.rsplit('@').next().unwrap_or(first)
    } else {
        first
    };
    let host = host.to_ascii_lowercase();
    if !had_scheme && has_path && host != "localhost" && !host.contains('.') && !host.contains(':')
    {
        return DOCKER_HUB.to_string();
    }
    canonical_host(host)
}

/// Maps the Docker Hub host aliases to `docker.io`.
fn canonical_host(host: String) -> String {
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        _ => host,
    }
}

/// The registry an `auths` or `credHelpers` key stands for, normalised as
/// docker's `ConvertToHostname`: scheme and path dropped (`quay.io/org` and
/// `https://quay.io/v1/` both mean `quay.io`), Docker Hub aliases merged.
fn key_host(key: &str) -> String {
    let rest = match key.find("://") {
        Some(i) => &key[i + 3..],
        None => key,
    };
    let host = rest.split('/').next().unwrap_or(rest);
    canonical_host(host.trim().to_ascii_lowercase())
}

/// The server address docker hands credential helpers for a registry.
fn helper_server_url(host: &str) -> String {
    if host == DOCKER_HUB {
        DOCKER_HUB_SERVER.to_string()
    } else {
        host.to_string()
    }
}

/// One `auths` entry, with `auth` still encoded (decoded at lookup, so a bad
/// entry only matters for its own registry, as in oras-go).
#[derive(Clone, Default, PartialEq, Eq)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identity_token: Option<String>,
    registry_token: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut fields = Vec::new();
        if self.auth.is_some() {
            fields.push("auth");
        }
        if self.username.is_some() {
            fields.push("username");
        }
        if self.password.is_some() {
            fields.push("password");
        }
        if self.identity_token.is_some() {
            fields.push("identitytoken");
        }
        if self.registry_token.is_some() {
            fields.push("registrytoken");
        }
        write!(f, "AuthEntry{{{}: <redacted>}}", fields.join(", "))
    }
}

impl AuthEntry {
    /// The credentials this entry holds, `None` when it holds none (docker
    /// writes `{}` entries next to a `credsStore`). Precedence as docker's
    /// registry client: registry token, identity token, then basic.
    fn to_auth(&self, file: &str, key: &str) -> Result<Option<Auth>> {
        if let Some(token) = non_empty(&self.registry_token) {
            return Ok(Some(Auth::Bearer(token.to_string())));
        }
        if let Some(token) = non_empty(&self.identity_token) {
            return Ok(Some(Auth::IdentityToken(token.to_string())));
        }
        if let Some(encoded) = non_empty(&self.auth) {
            let (username, password) = decode_auth(encoded).with_context(|| {
                format!(
                    "the \"auth\" field of the entry {key:?} in {file} is not base64 of \
                     username:password: log in again (docker login / helm registry login) \
                     to rewrite it"
                )
            })?;
            return Ok(Some(Auth::Basic { username, password }));
        }
        let username = self.username.clone().unwrap_or_default();
        let password = self.password.clone().unwrap_or_default();
        if username.is_empty() && password.is_empty() {
            return Ok(None);
        }
        Ok(Some(Auth::Basic { username, password }))
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// Decodes an `auth` value: base64 of `user:pass`, split at the first `:` (a
/// password may contain `:`). Padding may be missing or present; trailing NULs
/// are trimmed from the password as docker and podman do. Errors never quote
/// the value.
fn decode_auth(encoded: &str) -> Result<(String, String)> {
    let cleaned: String = encoded
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let unpadded = cleaned.trim_end_matches('=');
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = engine
        .decode(unpadded)
        .map_err(|_| anyhow!("invalid base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow!("not UTF-8 after decoding"))?;
    let (username, password) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("no ':' between username and password"))?;
    if username.is_empty() {
        bail!("empty username");
    }
    Ok((
        username.to_string(),
        password.trim_matches('\0').to_string(),
    ))
}

/// A loaded docker config file.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Where it was read from (for messages).
    pub path: Option<PathBuf>,
    /// What chose the file (`--authfile`, an environment variable, a default
    /// location), for messages.
    origin: Option<String>,
    /// `auths`, by key as written.
    auths: BTreeMap<String, AuthEntry>,
    /// `credHelpers`: key as written → helper suffix.
    cred_helpers: BTreeMap<String, String>,
    /// `credsStore`: the default helper suffix.
    creds_store: Option<String>,
    /// The search path for helpers; `None` reads `PATH` when a helper runs.
    helper_search_path: Option<OsString>,
}

/// Which source holds a registry's credentials.
enum Source<'a> {
    /// A `docker-credential-<suffix>` helper, from `credHelpers` (`per_registry`)
    /// or `credsStore`.
    Helper { suffix: &'a str, per_registry: bool },
    /// `auths` entries for the registry, best match first.
    File(Vec<(&'a String, &'a AuthEntry)>),
}

impl Credentials {
    /// Reads a docker config file; errors name the file (never its secrets).
    /// An empty file holds no credentials (as in docker); unknown keys are
    /// ignored; field names match case-insensitively (Go's JSON decoding).
    pub fn load(path: &Path) -> Result<Credentials> {
        let text = std::fs::read(path)
            .with_context(|| format!("reading registry credentials file {}", path.display()))?;
        Credentials::parse(&text, path)
    }

    /// Finds the credentials file the general commands use: `--authfile`, else
    /// `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else
    /// `$XDG_CONFIG_HOME/containers/auth.json` (podman's order), else
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, else helm's
    /// file ([`Credentials::from_helm_env_in`]), else none; the environment is
    /// read through `env`. A file named by the flag or a variable must exist;
    /// the default locations are skipped when absent.
    pub fn discover_in(
        authfile: Option<&Path>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Credentials> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(path) = authfile {
            return Self::load_named(path, "--authfile");
        }
        if let Some(file) = var("REGISTRY_AUTH_FILE") {
            return Self::load_named(Path::new(&file), "REGISTRY_AUTH_FILE");
        }
        let home = var("HOME").map(PathBuf::from);
        let xdg_config = var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".config")));
        let mut defaults = Vec::new();
        if let Some(dir) = var("XDG_RUNTIME_DIR") {
            defaults.push((
                Path::new(&dir).join("containers/auth.json"),
                "$XDG_RUNTIME_DIR/containers/auth.json",
            ));
        }
        if let Some(dir) = &xdg_config {
            defaults.push((
                dir.join("containers/auth.json"),
                "$XDG_CONFIG_HOME/containers/auth.json",
            ));
        }
        for (path, origin) in defaults {
            if path.is_file() {
                return Self::load_named(&path, origin);
            }
        }
        if let Some(dir) = var("DOCKER_CONFIG") {
            return Self::load_named(&Path::new(&dir).join("config.json"), "DOCKER_CONFIG");
        }
        if let Some(home) = &home {
            let path = home.join(".docker/config.json");
            if path.is_file() {
                return Self::load_named(&path, "~/.docker/config.json");
            }
        }
        Self::from_helm_env_in(env)
    }

    /// The file named by `HELM_REGISTRY_CONFIG` (an error when it does not
    /// exist), else helm's default `registry/config.json` under
    /// `HELM_CONFIG_HOME`, `$XDG_CONFIG_HOME/helm` or `~/.config/helm` when it
    /// exists, else no credentials; the environment read through `env`.
    pub fn from_helm_env_in(env: &dyn Fn(&str) -> Option<OsString>) -> Result<Credentials> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(file) = var("HELM_REGISTRY_CONFIG") {
            return Self::load_named(Path::new(&file), "HELM_REGISTRY_CONFIG");
        }
        // helmpath.ConfigPath("registry/config.json") on Linux.
        let config_home = var("HELM_CONFIG_HOME").map(PathBuf::from).or_else(|| {
            var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|h| Path::new(&h).join(".config")))
                .map(|dir| dir.join("helm"))
        });
        if let Some(dir) = config_home {
            let path = dir.join("registry/config.json");
            if path.is_file() {
                return Self::load_named(&path, "helm's default registry config");
            }
        }
        Ok(Credentials::default())
    }

    /// Loads a file chosen by `origin` (a flag or a variable); a missing file is
    /// an error naming both.
    fn load_named(path: &Path, origin: &str) -> Result<Credentials> {
        if !path.exists() {
            bail!(
                "registry credentials file {} (from {origin}) does not exist: create it with \
                 'helm registry login' / 'docker login', or point {origin} at an existing \
                 config.json",
                path.display()
            );
        }
        let mut creds =
            Self::load(path).with_context(|| format!("registry credentials named by {origin}"))?;
        creds.origin = Some(origin.to_string());
        Ok(creds)
    }

    /// Parses config.json content read from `path` (named in errors).
    fn parse(text: &[u8], path: &Path) -> Result<Credentials> {
        let file = path.display();
        let mut creds = Credentials {
            path: Some(path.to_path_buf()),
            ..Credentials::default()
        };
        if text.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(creds);
        }
        // serde_json's syntax errors describe the problem and position only,
        // never the input text, so they are safe to show.
        let root: Value = serde_json::from_slice(text).map_err(|e| {
            anyhow!(
                "{file} is not valid JSON (line {}, column {}): {}",
                e.line(),
                e.column(),
                syntax_message(&e)
            )
        })?;
        let Value::Object(root) = root else {
            bail!("{file} is not a docker config file: expected a JSON object at the top level");
        };
        if let Some(auths) = field(&root, "auths") {
            let Value::Object(auths) = auths else {
                if auths.is_null() {
                    return Ok(creds);
                }
                bail!("{file}: \"auths\" must be an object keyed by registry");
            };
            for (key, entry) in auths {
                let Value::Object(entry) = entry else {
                    if entry.is_null() {
                        continue;
                    }
                    bail!("{file}: the \"auths\" entry {key:?} must be an object");
                };
                let get = |name: &str| -> Result<Option<String>> {
                    match field(entry, name) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => bail!(
                            "{file}: \"{name}\" of the \"auths\" entry {key:?} must be a string"
                        ),
                    }
                };
                creds.auths.insert(
                    key.clone(),
                    AuthEntry {
                        auth: get("auth")?,
                        username: get("username")?,
                        password: get("password")?,
                        identity_token: get("identitytoken")?,
                        registry_token: get("registrytoken")?,
                    },
                );
            }
        }
        if let Some(helpers) = field(&root, "credHelpers") {
            match helpers {
                Value::Null => {}
                Value::Object(helpers) => {
                    for (key, helper) in helpers {
                        let Value::String(helper) = helper else {
                            bail!("{file}: the \"credHelpers\" entry {key:?} must be a string");
                        };
                        creds.cred_helpers.insert(key.clone(), helper.clone());
                    }
                }
                _ => bail!("{file}: \"credHelpers\" must be an object keyed by registry"),
            }
        }
        match field(&root, "credsStore") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => creds.creds_store = Some(s.clone()).filter(|s| !s.is_empty()),
            Some(_) => bail!("{file}: \"credsStore\" must be a string"),
        }
        Ok(creds)
    }

    /// The credentials for `registry` (a host, optionally with port, e.g.
    /// `registry.example.com:5000`; `docker.io` aliases included; references and
    /// URLs are reduced with [`registry_host`]).
    ///
    /// Order as docker and helm: a `credHelpers` entry for the registry, else
    /// `credsStore`, else the `auths` entries (the exact key first, then keys
    /// with a scheme or path that name the same host). A helper that holds
    /// nothing, or no entry at all, means anonymous.
    pub fn for_registry(&self, registry: &str) -> Result<Auth> {
        let host = registry_host(registry);
        match self.source_for(&host) {
            Source::Helper {
                suffix,
                per_registry,
            } => self.run_helper(suffix, &host).with_context(|| {
                let from = if per_registry {
                    "credHelpers"
                } else {
                    "credsStore"
                };
                format!(
                    "registry credentials for {host} ({from} in {})",
                    self.describe()
                )
            }),
            Source::File(entries) => {
                for (key, entry) in entries {
                    if let Some(auth) = entry.to_auth(&self.describe(), key)? {
                        return Ok(auth);
                    }
                }
                Ok(Auth::Anonymous)
            }
        }
    }

    /// `.dockerconfigjson` content holding only `registry`'s credentials, as
    /// `kubectl create secret docker-registry` writes it (`username`,
    /// `password`, `auth`). Refuses when a credential helper holds them, when
    /// the file holds a token kubelet cannot use, or when there are none.
    pub fn docker_config_json_for(&self, registry: &str) -> Result<Value> {
        let host = registry_host(registry);
        let auth = match self.source_for(&host) {
            Source::Helper {
                suffix,
                per_registry,
            } => {
                let from = if per_registry {
                    "credHelpers"
                } else {
                    "credsStore"
                };
                bail!(
                    "the credentials for {host} are kept by the credential helper \
                     docker-credential-{suffix} ({from} in {}), not in the file: a pull secret \
                     needs them inline. Log in into a separate file without a helper, e.g. \
                     'podman login --authfile creds.json {host}' or 'docker --config DIR login \
                     {host}' with a DIR whose config.json has no credsStore, and pass that file",
                    self.describe()
                );
            }
            Source::File(entries) => {
                let mut found = None;
                for (key, entry) in entries {
                    if let Some(auth) = entry.to_auth(&self.describe(), key)? {
                        found = Some(auth);
                        break;
                    }
                }
                found
            }
        };
        match auth {
            Some(Auth::Basic { username, password }) => {
                let key = helper_server_url(&host);
                let auth = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                Ok(serde_json::json!({
                    "auths": { key: { "username": username, "password": password, "auth": auth } }
                }))
            }
            Some(Auth::IdentityToken(_)) | Some(Auth::Bearer(_)) => bail!(
                "the credentials for {host} in {} are a token (identitytoken/registrytoken), \
                 which kubelet cannot use for image pulls: log in with a username and password \
                 (e.g. a robot or service account) and use that file",
                self.describe()
            ),
            Some(Auth::Anonymous) | None => bail!(
                "no credentials for {host} in {}: log in with 'docker login {host}', \
                 'podman login {host}' or 'helm registry login {host}' first",
                self.describe()
            ),
        }
    }

    /// Where the credentials came from, for messages: the file and what chose it.
    pub fn describe(&self) -> String {
        match (&self.path, &self.origin) {
            (Some(path), Some(origin)) => format!("{} (from {origin})", path.display()),
            (Some(path), None) => path.display().to_string(),
            (None, _) => "no registry credentials file".to_string(),
        }
    }

    /// Which source holds `host`'s credentials (docker's precedence).
    fn source_for(&self, host: &str) -> Source<'_> {
        // An exact key wins over a normalised match, as in docker and podman.
        let helper = self
            .cred_helpers
            .get(host)
            .or_else(|| {
                self.cred_helpers
                    .iter()
                    .find(|(k, _)| key_host(k) == host)
                    .map(|(_, v)| v)
            })
            .filter(|s| !s.is_empty());
        if let Some(suffix) = helper {
            return Source::Helper {
                suffix,
                per_registry: true,
            };
        }
        if let Some(suffix) = &self.creds_store {
            return Source::Helper {
                suffix,
                per_registry: false,
            };
        }
        let mut entries: Vec<(u8, &String, &AuthEntry)> = self
            .auths
            .iter()
            .filter(|(k, _)| key_host(k) == host)
            .map(|(k, e)| {
                let rank = if k.as_str() == host {
                    0
                } else if !k.contains('/') {
                    1 // an alias such as `index.docker.io`, or different case
                } else if k.contains("://") {
                    2 // `https://host`, `https://host/v2/`, ...
                } else {
                    3 // a namespaced key such as `quay.io/org`
                };
                (rank, k, e)
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
        Source::File(entries.into_iter().map(|(_, k, e)| (k, e)).collect())
    }

    /// Runs `docker-credential-<suffix> get` for `host` and reads its answer.
    fn run_helper(&self, suffix: &str, host: &str) -> Result<Auth> {
        let name = format!("docker-credential-{suffix}");
        let search = self
            .helper_search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"));
        let program = find_on_path(&name, search.as_deref()).ok_or_else(|| {
            anyhow!(
                "credential helper {name} not found on PATH: install it, or log in with \
                 'helm registry login' to write credentials into the file"
            )
        })?;
        let server = helper_server_url(host);
        let mut child = Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running credential helper {}", program.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading is judged by its exit status.
            let _ = stdin.write_all(server.as_bytes());
        }
        let output = child
            .wait_with_output()
            .with_context(|| format!("running credential helper {}", program.display()))?;
        if !output.status.success() {
            // The helper protocol reports errors on stdout; stdout of a failed
            // `get` carries no credentials.
            let message = String::from_utf8_lossy(&output.stdout).trim().to_string();
            // docker-credential-helpers print exactly HELPER_NOT_FOUND; some
            // helpers word it differently.
            if message == HELPER_NOT_FOUND || message.contains("credentials not found") {
                return Ok(Auth::Anonymous);
            }
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            let detail = [message, stderr]
                .into_iter()
                .find(|s| !s.is_empty())
                .map(|s| super::limits::excerpt(&s, 300))
                .unwrap_or_else(|| output.status.to_string());
            bail!("credential helper {name} failed for {server}: {detail}");
        }
        // Never show the helper's stdout: it holds the secret.
        let answer: Value = serde_json::from_slice(&output.stdout).map_err(|_| {
            anyhow!("credential helper {name} answered with something other than a JSON object for {server}")
        })?;
        let text = |field: &str| {
            answer
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let (username, secret) = (text("Username"), text("Secret"));
        Ok(match (username.as_str(), secret.is_empty()) {
            (_, true) if username.is_empty() => Auth::Anonymous,
            (TOKEN_USERNAME, _) => Auth::IdentityToken(secret),
            _ => Auth::Basic {
                username,
                password: secret,
            },
        })
    }

    /// Uses `path` (a `PATH`-style list) to find credential helpers.
    #[cfg(test)]
    fn with_helper_search_path(mut self, path: &OsStr) -> Self {
        self.helper_search_path = Some(path.to_os_string());
        self
    }
}

/// A JSON object's field by name, exact first, else case-insensitively
/// (Go's `encoding/json`, which docker and helm decode with, does the same).
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The position-free part of a serde_json error (its `Display` appends
/// "at line L column C", which the caller shows in its own words).
fn syntax_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// The first executable file named `name` in a `PATH`-style list.
fn find_on_path(name: &str, search: Option<&OsStr>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let search = search?;
    std::env::split_paths(search)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

#[cfg(test)]
mod tests;
