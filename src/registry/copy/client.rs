//! The one place that speaks the distribution HTTP API for copies: manifests
//! raw (bytes, media type, digest), blob HEAD/GET, cross-repository mounts and
//! streamed uploads, with registry authentication (no auth, basic, or the
//! token flow: `401` + `WWW-Authenticate: Bearer realm=…` → a token for the
//! needed scopes, fetched with the [`Credentials`] of the host). The reqwest
//! client comes from [`OciSettings::http_client`], as chart pulls' does, so TLS
//! roots (`SSL_CERT_FILE`), insecure (plain HTTP) registries and [`Timeouts`]
//! are configured once for the binary.
//!
//! Requests for Docker Hub (`docker.io`) go to its API host
//! ([`OciSettings::base`], as chart pulls address it); credentials stay keyed by the registry's own name. A host
//! whose `/v2/` does not answer as a registry (404, a web page, a redirect
//! elsewhere) fails every request with that explanation; so does one whose
//! `/v2/` never answered [`UNANSWERED_PROBES`] times. What a server sends
//! is read through [`limits`] (manifests, tokens and error answers bounded
//! while streaming, silences bounded by [`Timeouts::read`]), and every request
//! has a deadline. Credentials never go to a plain `http://` token realm of an
//! `https://` registry ([`auth`], the rules chart pulls follow too).
//!
//! Errors name the URL contacted, carry whether retrying may help
//! ([`Failure::transient`]) and never contain a secret.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sha2::{Digest as _, Sha256};

use crate::registry::credentials::{Auth, Credentials};
use crate::registry::limits::{self, BodyError, Timeouts};
use crate::registry::auth::{self, basic_header, parse_bearer_challenge};
use crate::registry::oci::OciSettings;
use crate::registry::transport::{self, Cause};

/// Every manifest media type a copy accepts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Probes of `/v2/` without an answer after which a host that never answered
/// in this run is not tried again (each image would otherwise wait out its
/// own retries).
pub const UNANSWERED_PROBES: u32 = 5;

/// A failed registry operation.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Retrying may succeed (connection error, 5xx, 429).
    pub transient: bool,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn fatal(message: impl Into<String>) -> Failure {
        Failure { transient: false, message: message.into() }
    }

    pub fn transient(message: impl Into<String>) -> Failure {
        Failure { transient: true, message: message.into() }
    }

    /// A request that got no (complete) answer: TLS, connection, timeout,
    /// broken body ([`transport::classify`]).
    pub fn from_reqwest(what: &str, e: &reqwest::Error) -> Failure {
        let (cause, text) = transport::classify(e);
        match cause {
            Cause::PlainHttp => {
                let host = e.url().map(transport::host_port).unwrap_or_else(|| "HOST".to_string());
                Failure::fatal(format!(
                    "{what}: TLS failed ({text}): the server answered in plain HTTP, not TLS; if {host} is a plain-HTTP registry, \
                     pass --insecure-registry {host} (or list it in DEPLOYKF_CMP_INSECURE_REGISTRIES)"
                ))
            }
            Cause::Tls => Failure::fatal(format!("{what}: TLS failed ({text}); trust the registry's CA with SSL_CERT_FILE")),
            Cause::Timeout => Failure::transient(format!("{what}: timed out ({text}); {TIMEOUT_HINT}")),
            // Connection errors and broken bodies are worth another try.
            Cause::Connect | Cause::Other => Failure::transient(format!("{what}: {text}")),
        }
    }

    /// A failure from an unexpected HTTP status (body: the registry's error
    /// JSON, of which at most [`limits::ERROR_BODY_MAX`] is read and 300
    /// characters shown).
    async fn from_status(what: &str, response: Response, timeouts: &Timeouts) -> Failure {
        let status = response.status();
        let body = limits::error_text(response, timeouts).await;
        let message = match status.as_u16() {
            401 | 403 => format!("{what}: access denied ({status}); check the credentials for this registry (--authfile, docker login)"),
            _ => format!("{what}: {status} {}", limits::excerpt(&body, 300)),
        };
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT;
        Failure { transient, message }
    }

    /// A body that could not be read whole within its limit (`kind` names it).
    fn from_body(what: &str, kind: &str, error: BodyError) -> Failure {
        match error {
            BodyError::TooLarge { limit } => Failure::fatal(format!("{what}: the {kind} is larger than {} KiB, the limit for it", limit >> 10)),
            BodyError::Stalled(_) => Failure::transient(format!("{what}: timed out ({error}); {TIMEOUT_HINT}")),
            BodyError::Http(e) => Failure::from_reqwest(what, &e),
        }
    }
}

/// The knobs named by a timeout's message.
const TIMEOUT_HINT: &str = "the limits are DEPLOYKF_CMP_CONNECT_TIMEOUT, DEPLOYKF_CMP_READ_TIMEOUT \
                            (silence) and DEPLOYKF_CMP_REQUEST_TIMEOUT (whole request), in seconds";

/// How a registry host asked to be authenticated (from `GET /v2/`).
#[derive(Clone, Debug)]
enum Challenge {
    None,
    Basic,
    Bearer { realm: String, service: Option<String> },
    /// `/v2/` did not answer as the distribution API: why.
    NotRegistry(String),
}

/// A fetched manifest.
#[derive(Clone, Debug)]
pub struct RawManifest {
    pub bytes: bytes::Bytes,
    pub media_type: String,
    /// `sha256:` of the bytes.
    pub digest: String,
}

/// The digest text of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Registry access for copies, shared by every task of a run.
pub struct RegistryClient {
    http: OnceLock<reqwest::Client>,
    settings: OciSettings,
    credentials: Credentials,
    challenges: Mutex<HashMap<String, Challenge>>,
    /// Hosts whose `/v2/` got no answer yet: failed probes and the last failure.
    unanswered: Mutex<HashMap<String, (u32, String)>>,
    /// `(host, scopes)` → `Authorization` header value.
    tokens: Mutex<HashMap<(String, String), HeaderValue>>,
    /// Serialises token fetches (one per host and scope set).
    token_lock: tokio::sync::Mutex<()>,
}

/// What a request needs to be allowed: `repository:<repo>:<actions>` scopes.
pub struct Scope<'a> {
    pub host: &'a str,
    pub repository: &'a str,
    pub push: bool,
    /// Another repository read from (a mount source).
    pub also_pull: Option<&'a str>,
}

impl Scope<'_> {
    fn scopes(&self) -> Vec<String> {
        let mut v = vec![format!("repository:{}:{}", self.repository, if self.push { "pull,push" } else { "pull" })];
        if let Some(from) = self.also_pull {
            v.push(format!("repository:{from}:pull"));
        }
        v
    }
}

impl RegistryClient {
    pub fn new(settings: &OciSettings, credentials: Credentials) -> anyhow::Result<RegistryClient> {
        settings.check_roots()?;
        Ok(RegistryClient {
            http: OnceLock::new(),
            settings: settings.clone(),
            credentials,
            challenges: Mutex::new(HashMap::new()),
            unanswered: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            token_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn http(&self) -> Result<&reqwest::Client, Failure> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = self.settings.http_client().map_err(|e| Failure::fatal(e.to_string()))?;
        Ok(self.http.get_or_init(|| http))
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.settings.timeouts
    }

    /// `http://` for registries marked insecure, else `https://`, and the
    /// host the registry's API answers at ([`OciSettings::base`]).
    pub fn base(&self, host: &str) -> String {
        self.settings.base(host)
    }

    /// The URL of a manifest.
    pub fn manifest_url(&self, host: &str, repository: &str, reference: &str) -> String {
        format!("{}/v2/{repository}/manifests/{reference}", self.base(host))
    }

    async fn challenge(&self, host: &str) -> Result<Challenge, Failure> {
        if let Some(c) = self.challenges.lock().unwrap().get(host) {
            return Ok(c.clone());
        }
        if let Some((probes, last)) = self.unanswered.lock().unwrap().get(host).filter(|(n, _)| *n >= UNANSWERED_PROBES) {
            return Err(Failure::fatal(format!("{host} gave no answer to {probes} requests in this run, not tried again (last: {last})")));
        }
        let url = format!("{}/v2/", self.base(host));
        let what = format!("GET {url}");
        let response = match self.http()?.get(&url).timeout(self.timeouts().request).send().await {
            Ok(response) => response,
            Err(e) => {
                let failure = Failure::from_reqwest(&what, &e);
                if failure.transient {
                    let mut unanswered = self.unanswered.lock().unwrap();
                    let entry = unanswered.entry(host.to_string()).or_default();
                    *entry = (entry.0 + 1, failure.message.clone());
                }
                return Err(failure);
            }
        };
        let status = response.status();
        let html = header_str(response.headers(), CONTENT_TYPE.as_str()).is_some_and(|t| t.eq_ignore_ascii_case("text/html"));
        let challenge = if status == StatusCode::UNAUTHORIZED {
            let header = response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).unwrap_or("");
            match parse_bearer_challenge(header) {
                Some((realm, service)) => Challenge::Bearer { realm, service },
                None => Challenge::Basic,
            }
        } else if status.is_server_error() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        } else if reqwest::Url::parse(&url).ok().is_none_or(|u| u.origin() != response.url().origin() || u.path() != response.url().path()) {
            Challenge::NotRegistry(format!("{what} was redirected to {} ({status})", response.url()))
        } else if status == StatusCode::NOT_FOUND || (status.is_success() && html) {
            Challenge::NotRegistry(format!("{what} answered {status}{}", if html { " with a web page (text/html)" } else { "" }))
        } else {
            Challenge::None
        };
        self.challenges.lock().unwrap().insert(host.to_string(), challenge.clone());
        Ok(challenge)
    }

    fn auth_for(&self, host: &str) -> Result<Auth, Failure> {
        self.credentials.for_registry(host).map_err(|e| Failure::fatal(format!("credentials for {host}: {e:#}")))
    }

    /// The `Authorization` header for `scope`, fetching a token when needed.
    async fn authorization(&self, scope: &Scope<'_>) -> Result<Option<HeaderValue>, Failure> {
        let host = scope.host;
        match self.challenge(host).await? {
            Challenge::None => Ok(None),
            Challenge::NotRegistry(why) => Err(Failure::fatal(format!(
                "{host} did not answer as a registry: {why}; the distribution API (/v2/) is not served there"
            ))),
            Challenge::Basic => match self.auth_for(host)? {
                Auth::Basic { username, password } => Ok(Some(basic_header(&username, &password))),
                Auth::IdentityToken(token) => Ok(Some(basic_header("<token>", &token))),
                Auth::Bearer(token) => Ok(Some(bearer_header(&token)?)),
                Auth::Anonymous => Err(Failure::fatal(format!(
                    "{host} requires a login and no credentials were found for it; run `docker login {host}` or pass --authfile"
                ))),
            },
            Challenge::Bearer { realm, service } => {
                let key = (host.to_string(), scope.scopes().join(" "));
                if let Some(h) = self.tokens.lock().unwrap().get(&key) {
                    return Ok(Some(h.clone()));
                }
                let _guard = self.token_lock.lock().await;
                if let Some(h) = self.tokens.lock().unwrap().get(&key) {
                    return Ok(Some(h.clone()));
                }
                let header = self.fetch_token(host, &realm, service.as_deref(), &scope.scopes()).await?;
                self.tokens.lock().unwrap().insert(key, header.clone());
                Ok(Some(header))
            }
        }
    }

    /// A token from the registry's realm. Credentials go only to an
    /// `https://` realm (any host, as docker and containerd do) unless the
    /// registry itself is plain HTTP.
    async fn fetch_token(&self, host: &str, realm: &str, service: Option<&str>, scopes: &[String]) -> Result<HeaderValue, Failure> {
        let what = format!("token for {host} from {realm}");
        let auth = self.auth_for(host)?;
        if !matches!(auth, Auth::Anonymous) && !auth::realm_may_get_credentials(self.settings.https(host), realm) {
            return Err(Failure::fatal(auth::cleartext_realm_refused(host, realm)));
        }
        let request = match &auth {
            Auth::Bearer(token) => return bearer_header(token),
            Auth::IdentityToken(token) => {
                let joined = scopes.join(" ");
                self.http()?.post(realm).form(&auth::refresh_token_form(token, &joined, service))
            }
            Auth::Basic { .. } | Auth::Anonymous => {
                let mut query: Vec<(&str, &str)> = scopes.iter().map(|s| ("scope", s.as_str())).collect();
                if let Some(s) = service {
                    query.push(("service", s));
                }
                let mut r = self.http()?.get(realm).query(&query);
                if let Auth::Basic { username, password } = &auth {
                    r = r.basic_auth(username, Some(password));
                }
                r
            }
        };
        let response =
            request.timeout(self.timeouts().request).send().await.map_err(|e| Failure::from_reqwest(&what, &e))?;
        if !response.status().is_success() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        }
        let bytes = limits::read_limited(response, limits::TOKEN_MAX, self.timeouts())
            .await
            .map_err(|e| Failure::from_body(&what, "token answer", e))?;
        let token = auth::access_token(&bytes).map_err(|e| Failure::fatal(format!("{what}: {e}")))?;
        bearer_header(&token)
    }

    /// Sends `build(client)` with authorization for `scope` and the request
    /// deadline of [`Timeouts::request`]; on a 401 drops a cached token and
    /// tries once more (tokens expire). `build` must be repeatable (no
    /// streamed body).
    pub async fn send(
        &self,
        scope: &Scope<'_>,
        what: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        self.send_within(scope, what, self.timeouts().request, build).await
    }

    /// [`send`](Self::send) with the deadline `timeout`.
    pub async fn send_within(
        &self,
        scope: &Scope<'_>,
        what: &str,
        timeout: Duration,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Failure> {
        for attempt in 0..2 {
            let mut request = build(self.http()?).timeout(timeout);
            if let Some(h) = self.authorization(scope).await? {
                request = request.header(AUTHORIZATION, h);
            }
            let response = request.send().await.map_err(|e| Failure::from_reqwest(what, &e))?;
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                let key = (scope.host.to_string(), scope.scopes().join(" "));
                if self.tokens.lock().unwrap().remove(&key).is_some() {
                    continue;
                }
            }
            return Ok(response);
        }
        unreachable!("the loop returns on its second pass")
    }

    /// Sends a request whose body is built once (a stream; the caller sets
    /// its deadline): authorization must already be cached by an earlier
    /// request of the same scope.
    pub async fn send_once(&self, scope: &Scope<'_>, what: &str, request: RequestBuilder) -> Result<Response, Failure> {
        let mut request = request;
        if let Some(h) = self.authorization(scope).await? {
            request = request.header(AUTHORIZATION, h);
        }
        request.send().await.map_err(|e| Failure::from_reqwest(what, &e))
    }

    pub fn client(&self) -> Result<&reqwest::Client, Failure> {
        self.http()
    }

    /// `GET` a manifest by tag or digest (at most [`limits::MANIFEST_MAX`] bytes);
    /// `None` when the registry answers 404.
    pub async fn get_manifest(&self, host: &str, repository: &str, reference: &str) -> Result<Option<RawManifest>, Failure> {
        let url = self.manifest_url(host, repository, reference);
        let what = format!("GET {url}");
        let scope = Scope { host, repository, push: false, also_pull: None };
        let response = self.send(&scope, &what, |c| c.get(&url).header(ACCEPT, MANIFEST_ACCEPT)).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        }
        let header_type = header_str(response.headers(), CONTENT_TYPE.as_str());
        let bytes = limits::read_limited(response, limits::MANIFEST_MAX, self.timeouts())
            .await
            .map_err(|e| Failure::from_body(&what, "manifest", e))?;
        let bytes = bytes::Bytes::from(bytes);
        let Ok(serde_json::Value::Object(doc)) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Err(Failure::fatal(format!(
                "{what}: the answer (Content-Type {}) is not a JSON manifest",
                header_type.as_deref().unwrap_or("none")
            )));
        };
        let media_type =
            doc.get("mediaType").and_then(|m| m.as_str()).map(str::to_string).or(header_type).unwrap_or_default();
        let digest = sha256_digest(&bytes);
        Ok(Some(RawManifest { bytes, media_type, digest }))
    }

    /// The digest the target holds under `reference` (`HEAD`), if any.
    pub async fn manifest_digest(&self, host: &str, repository: &str, reference: &str, push: bool) -> Result<Option<String>, Failure> {
        let url = self.manifest_url(host, repository, reference);
        let what = format!("HEAD {url}");
        let scope = Scope { host, repository, push, also_pull: None };
        let response = self.send(&scope, &what, |c| c.head(&url).header(ACCEPT, MANIFEST_ACCEPT)).await?;
        match response.status() {
            s if s.is_success() => Ok(header_str(response.headers(), "docker-content-digest")),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(Failure::from_status(&what, response, self.timeouts()).await),
        }
    }

    /// `PUT` manifest bytes under `reference` (a tag or their digest).
    pub async fn put_manifest(&self, host: &str, repository: &str, reference: &str, manifest: &RawManifest) -> Result<(), Failure> {
        let url = self.manifest_url(host, repository, reference);
        let what = format!("PUT {url}");
        let scope = Scope { host, repository, push: true, also_pull: None };
        let response = self
            .send(&scope, &what, |c| c.put(&url).header(CONTENT_TYPE, &manifest.media_type).body(manifest.bytes.clone()))
            .await?;
        if !response.status().is_success() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        }
        if let Some(d) = header_str(response.headers(), "docker-content-digest") {
            if d != manifest.digest {
                return Err(Failure::fatal(format!("{what}: the registry stored digest {d}, expected {}", manifest.digest)));
            }
        }
        Ok(())
    }

    /// The URL of a blob.
    pub fn blob_url(&self, host: &str, repository: &str, digest: &str) -> String {
        format!("{}/v2/{repository}/blobs/{digest}", self.base(host))
    }

    /// Whether the blob exists in `repository` (`HEAD`).
    pub async fn has_blob(&self, host: &str, repository: &str, digest: &str, push: bool) -> Result<bool, Failure> {
        let url = self.blob_url(host, repository, digest);
        let what = format!("HEAD {url}");
        let scope = Scope { host, repository, push, also_pull: None };
        let response = self.send(&scope, &what, |c| c.head(&url)).await?;
        match response.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(Failure::from_status(&what, response, self.timeouts()).await),
        }
    }

    /// `GET` a blob of `size` bytes, within [`Timeouts::blob`]; the caller
    /// streams the body (and cuts it at `size`).
    pub async fn get_blob(&self, host: &str, repository: &str, digest: &str, size: u64) -> Result<Response, Failure> {
        let url = self.blob_url(host, repository, digest);
        let what = format!("GET {url}");
        let scope = Scope { host, repository, push: false, also_pull: None };
        let response = self.send_within(&scope, &what, self.timeouts().blob(size), |c| c.get(&url)).await?;
        if !response.status().is_success() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        }
        Ok(response)
    }

    /// Starts an upload, or mounts `digest` from `mount_from`: `Ok(None)` when
    /// the mount succeeded, else the upload URL.
    pub async fn start_upload(
        &self,
        host: &str,
        repository: &str,
        mount: Option<(&str, &str)>,
    ) -> Result<Option<String>, Failure> {
        let base = self.base(host);
        let url = match mount {
            Some((digest, from)) => format!("{base}/v2/{repository}/blobs/uploads/?mount={digest}&from={from}"),
            None => format!("{base}/v2/{repository}/blobs/uploads/"),
        };
        let what = format!("POST {url}");
        let scope = Scope { host, repository, push: true, also_pull: mount.map(|(_, from)| from) };
        let response = self.send(&scope, &what, |c| c.post(&url).header("content-length", "0")).await?;
        match response.status() {
            StatusCode::CREATED if mount.is_some() => Ok(None),
            StatusCode::ACCEPTED => {
                let location = header_str(response.headers(), LOCATION.as_str())
                    .ok_or_else(|| Failure::fatal(format!("{what}: no Location in the answer")))?;
                Ok(Some(absolute(&base, &location)))
            }
            _ => Err(Failure::from_status(&what, response, self.timeouts()).await),
        }
    }

    /// Cancels an upload (best effort).
    pub async fn cancel_upload(&self, host: &str, repository: &str, location: &str) {
        let scope = Scope { host, repository, push: true, also_pull: None };
        let _ = self.send(&scope, "DELETE upload", |c| c.request(Method::DELETE, location)).await;
    }
}

/// `url` made absolute against `base` (registries may answer a path).
pub fn absolute(base: &str, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{base}{}{url}", if url.starts_with('/') { "" } else { "/" })
    }
}

/// `location` with `key=value` added to its query.
pub fn with_query(location: &str, key: &str, value: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}{key}={value}")
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|h| h.to_str().ok()).map(|s| s.split(';').next().unwrap_or(s).trim().to_string())
}

fn bearer_header(token: &str) -> Result<HeaderValue, Failure> {
    auth::bearer_header(token).ok_or_else(|| Failure::fatal("the registry token holds characters not allowed in a header"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn locations_and_queries() {
        assert_eq!(absolute("http://h:5000", "/v2/a/blobs/uploads/x?_state=s"), "http://h:5000/v2/a/blobs/uploads/x?_state=s");
        assert_eq!(absolute("http://h", "https://other/x"), "https://other/x");
        assert_eq!(with_query("http://h/u?_state=s", "digest", "sha256:ab"), "http://h/u?_state=s&digest=sha256:ab");
        assert_eq!(with_query("http://h/u", "digest", "d"), "http://h/u?digest=d");
    }

    /// A scripted registry with the token flow: `/v2/` challenges with
    /// Bearer, `/token` wants basic auth and returns a token per scope, the
    /// manifest wants that token. Returns the host and the request log.
    fn token_registry() -> (String, std::sync::Arc<Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let log = std::sync::Arc::new(Mutex::new(Vec::new()));
        let (realm, seen) = (format!("http://{host}/token"), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let mut auth = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("authorization: ").or_else(|| line.strip_prefix("Authorization: ")) {
                        auth = v.trim().to_string();
                    }
                }
                let path = request.split(' ').nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(format!("{path} [{auth}]"));
                let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("bot:pw"));
                let (status, headers, body) = if path.starts_with("/token") && auth == basic {
                    ("200 OK", String::new(), r#"{"token":"tok-1"}"#.to_string())
                } else if path == "/v2/a/b/manifests/1" && auth == "Bearer tok-1" {
                    ("200 OK", "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n".into(), r#"{"schemaVersion":2}"#.into())
                } else {
                    let challenge = format!("WWW-Authenticate: Bearer realm=\"{realm}\",service=\"reg\"\r\n");
                    ("401 Unauthorized", challenge, String::new())
                };
                let _ = write!(stream, "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        (host, log)
    }

    #[tokio::test]
    async fn token_flow_fetches_one_token_per_scope_with_basic_credentials() {
        let (host, log) = token_registry();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("bot:pw");
        std::fs::write(&config, serde_json::json!({"auths": {&host: {"auth": auth}}}).to_string()).unwrap();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        let client = RegistryClient::new(&settings, Credentials::load(&config).unwrap()).unwrap();
        for _ in 0..2 {
            let m = client.get_manifest(&host, "a/b", "1").await.unwrap().unwrap();
            assert_eq!(&m.bytes[..], br#"{"schemaVersion":2}"#);
            assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
            assert_eq!(m.digest, sha256_digest(br#"{"schemaVersion":2}"#));
        }
        let log = log.lock().unwrap().clone();
        let tokens: Vec<&String> = log.iter().filter(|l| l.starts_with("/token")).collect();
        assert_eq!(tokens.len(), 1, "the token is cached: {log:?}");
        assert!(tokens[0].contains("scope=repository%3Aa%2Fb%3Apull") && tokens[0].contains("service=reg"), "{log:?}");
        let missing = client.get_manifest(&host, "a/c", "1").await.unwrap_err();
        assert!(missing.message.contains("access denied") && !missing.message.contains("pw"), "{missing}");
    }

    /// Serves `respond(path, authorization)` → (status, headers, body) on
    /// 127.0.0.1, one request per connection, until the test ends; logs
    /// `Host path [authorization]`.
    fn scripted(respond: fn(&str, &str) -> (&'static str, String, String)) -> (std::net::SocketAddr, std::sync::Arc<Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = std::sync::Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(20) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap();
                let (mut host, mut auth) = (String::new(), String::new());
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line.trim().is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap_or_default();
                    match name.to_ascii_lowercase().as_str() {
                        "host" => host = value.trim().to_string(),
                        "authorization" => auth = value.trim().to_string(),
                        _ => {}
                    }
                }
                let path = request.split(' ').nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(format!("{host} {path} [{auth}]"));
                let (status, headers, body) = respond(&path, &auth);
                let _ = write!(stream, "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        (addr, log)
    }

    #[tokio::test]
    async fn docker_hub_is_fetched_from_registry_1_with_credentials_under_its_v1_key() {
        let (addr, log) = scripted(|path, auth| {
            let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("hub-user:hub-pw"));
            match path {
                "/v2/library/busybox/manifests/1.36" if auth == basic => {
                    ("200 OK", "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n".into(), r#"{"schemaVersion":2}"#.into())
                }
                _ => ("401 Unauthorized", "WWW-Authenticate: Basic realm=\"hub\"\r\n".into(), String::new()),
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("hub-user:hub-pw");
        std::fs::write(&config, serde_json::json!({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}).to_string()).unwrap();
        // Plain HTTP, and registry-1.docker.io pinned to the scripted server: nothing leaves the machine.
        let settings = OciSettings {
            insecure_registries: vec!["docker.io".into()],
            resolve: vec![("registry-1.docker.io".into(), addr)],
            ..Default::default()
        };
        let client = RegistryClient::new(&settings, Credentials::load(&config).unwrap()).unwrap();
        let image = image_ref::ImageRef::parse("docker.io/library/busybox:1.36").unwrap();
        let tag = image.tag.clone().unwrap();
        let manifest = client.get_manifest(&image.registry, &image.repository, &tag).await.unwrap().unwrap();
        assert_eq!(&manifest.bytes[..], br#"{"schemaVersion":2}"#);
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log.iter().all(|l| l.starts_with("registry-1.docker.io ")), "every request names registry-1.docker.io: {log:?}");
        assert!(log[1].starts_with("registry-1.docker.io /v2/library/busybox/manifests/1.36 [Basic "), "{log:?}");
    }

    #[tokio::test]
    async fn a_v2_redirected_to_a_web_site_is_no_registry() {
        let (addr, log) = scripted(|path, _| match path {
            "/v2/" => ("301 Moved Permanently", "Location: /welcome\r\n".into(), String::new()),
            _ => ("200 OK", "Content-Type: text/html\r\n".into(), "<html>hello</html>".into()),
        });
        let host = addr.to_string();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        let client = RegistryClient::new(&settings, Credentials::default()).unwrap();
        let error = client.get_manifest(&host, "library/busybox", "1.36").await.unwrap_err();
        assert!(!error.transient, "{error}");
        assert!(error.message.contains(&format!("{host} did not answer as a registry: GET http://{host}/v2/ was redirected to http://{host}/welcome")), "{error}");
        assert!(!log.lock().unwrap().iter().any(|l| l.contains("manifests")), "no manifest request follows");
    }

    #[test]
    fn scopes_name_the_mount_source() {
        let s = Scope { host: "h", repository: "a/b", push: true, also_pull: Some("c") };
        assert_eq!(s.scopes(), vec!["repository:a/b:pull,push", "repository:c:pull"]);
    }
}
