//! The one registry client: it speaks the distribution HTTP API for image
//! copies, chart pulls and pushes alike. Manifests raw (bytes, media type,
//! digest), tag listings, blob HEAD/GET, cross-repository mounts and uploads
//! (streamed by the copy, or from any byte stream with
//! [`RegistryClient::push_blob`]), with the one authentication flow: `GET
//! /v2/` tells how a host wants to be authenticated (nothing, basic, or
//! `401` + `WWW-Authenticate: Bearer realm=…`), answered with the
//! [`Credentials`] of the host (basic, a registry token, or docker's
//! identity token exchanged at the realm); Bearer tokens are cached per host
//! and scope set, a stale one replaced once. The reqwest client comes from
//! [`OciSettings::http_client`], so TLS roots (`SSL_CERT_FILE`), insecure
//! (plain HTTP) registries and [`Timeouts`] are configured once.
//!
//! Requests for Docker Hub (`docker.io`) go to its API host
//! ([`OciSettings::base`]); credentials stay keyed by the registry's own
//! name. A host whose `/v2/` does not answer as a registry (a 404 without the
//! distribution API's error format, a web page, a redirect elsewhere) fails
//! every request with that explanation; so does one whose `/v2/` never
//! answered [`UNANSWERED_PROBES`] times. What a server sends is read through
//! [`limits`] (manifests, tag pages, tokens and error answers bounded while
//! streaming, silences bounded by [`Timeouts::read`]), and every request has
//! a deadline. Credentials never go to a plain `http://` token realm of an
//! `https://` registry ([`auth`]).
//!
//! Every error is a [`Failure`]: its [`FailureKind`], the HTTP status, whether
//! retrying may help, and a message naming the URL contacted, never a secret.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::auth::{self, basic_header, parse_bearer_challenge};
use crate::connection::OciSettings;
use crate::credentials::{Auth, Credentials};
use crate::digest::sha256;
use crate::limits::{self, BodyError, Timeouts};
use crate::transport::{self, Cause};

/// Every manifest media type a copy accepts.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Probes of `/v2/` without an answer after which a host that never answered
/// in this run is not tried again (each image would otherwise wait out its
/// own retries).
pub const UNANSWERED_PROBES: u32 = 5;

/// What kind of failure a [`Failure`] is, for callers that word their own advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The registry answered that the manifest, blob, tag or repository does not exist.
    NotFound,
    /// Authentication or authorization failed: 401/403, a refused token, no
    /// credentials for a registry that wants them, a realm that may not get them.
    Denied,
    /// The host answered, but not as an OCI registry (a web page, a redirect to a site).
    NotARegistry,
    /// An answer larger than its limit.
    Limit,
    /// The TLS handshake failed (untrusted CA, wrong host name, plain HTTP).
    Tls,
    /// No connection, or no answer in time.
    Unreachable,
    /// Content that does not match its digest or size.
    Corrupt,
    /// Anything else the registry answered or the client met.
    Other,
}

/// A failed registry operation: its kind, the HTTP status when the registry
/// answered one, whether retrying may help, and a message naming the URL or
/// host (never a secret).
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// Retrying may succeed (connection error, timeout, 5xx, 429).
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
    /// A failure of `kind` that retrying does not mend.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure { kind, status: None, transient: false, message: message.into() }
    }

    pub fn fatal(message: impl Into<String>) -> Failure {
        Failure::new(FailureKind::Other, message)
    }

    pub fn transient(message: impl Into<String>) -> Failure {
        Failure { transient: true, ..Failure::fatal(message) }
    }

    /// A request that got no (complete) answer: TLS, connection, timeout,
    /// broken body ([`transport::classify`]).
    pub fn from_reqwest(what: &str, e: &reqwest::Error) -> Failure {
        let (cause, text) = transport::classify(e);
        match cause {
            Cause::PlainHttp => {
                let host = e.url().map(transport::host_port).unwrap_or_else(|| "HOST".to_string());
                Failure::new(FailureKind::Tls, format!(
                    "{what}: TLS failed ({text}): the server answered in plain HTTP, not TLS; if {host} is a plain-HTTP registry, \
                     pass --insecure-registry {host} (or list it in DEPLOYKF_CMP_INSECURE_REGISTRIES)"
                ))
            }
            Cause::Tls => Failure::new(FailureKind::Tls, format!("{what}: TLS failed ({text}); trust the registry's CA with SSL_CERT_FILE")),
            Cause::Timeout => Failure { transient: true, ..Failure::new(FailureKind::Unreachable, format!("{what}: timed out ({text}); {TIMEOUT_HINT}")) },
            Cause::Connect => Failure { transient: true, ..Failure::new(FailureKind::Unreachable, format!("{what}: {text}")) },
            // A broken body is worth another try.
            Cause::Other => Failure::transient(format!("{what}: {text}")),
        }
    }

    /// The failure of an answer with an unexpected HTTP `status` from `host`
    /// (empty: not named) whose body was not read (`detail` says what it
    /// held, when known).
    pub fn from_code(what: &str, status: StatusCode, host: &str, detail: &str) -> Failure {
        let kind = match status.as_u16() {
            401 | 403 => FailureKind::Denied,
            404 => FailureKind::NotFound,
            _ => FailureKind::Other,
        };
        let from = if host.is_empty() { String::new() } else { format!(" from {host}") };
        let message = match kind {
            FailureKind::Denied => {
                format!("{what}: access denied (HTTP {status}{from}); check the credentials for this registry (--authfile, docker login)")
            }
            _ if detail.is_empty() => format!("{what}: HTTP {status}{from}"),
            _ => format!("{what}: HTTP {status}{from}: {detail}"),
        };
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT;
        Failure { kind, status: Some(status.as_u16()), transient, message }
    }

    /// The failure of an answer with an unexpected HTTP status: its body
    /// (the registry's error JSON, of which at most [`limits::ERROR_BODY_MAX`]
    /// is read) shown as its error codes, else as at most 300 characters.
    pub async fn from_status(what: &str, response: Response, timeouts: &Timeouts) -> Failure {
        let status = response.status();
        let host = transport::host_port(response.url());
        let body = limits::error_text(response, timeouts).await;
        let codes = error_codes(&body);
        let detail = if codes.is_empty() { limits::excerpt(&body, 300) } else { codes.join(", ") };
        Failure::from_code(what, status, &host, &detail)
    }

    /// A body that could not be read whole within its limit (`kind` names it).
    pub fn from_body(what: &str, kind: &str, error: BodyError) -> Failure {
        match error {
            BodyError::TooLarge { limit } => {
                Failure::new(FailureKind::Limit, format!("{what}: the {kind} is larger than the limit of {}", limits::size(limit)))
            }
            BodyError::Stalled(_) => Failure { transient: true, ..Failure::new(FailureKind::Unreachable, format!("{what}: timed out ({error}); {TIMEOUT_HINT}")) },
            BodyError::Http(e) => Failure::from_reqwest(what, &e),
        }
    }
}

/// The `code`s of a distribution API error answer (`{"errors":[{"code":…}]}`).
fn error_codes(body: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errors")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("code")?.as_str().map(str::to_string))
        .collect()
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
        let http = self.settings.http_client()?;
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
        self.settings.doing(&format!("asking {host} how to authenticate ({what})"));
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
        let content_type = header_str(response.headers(), CONTENT_TYPE.as_str()).unwrap_or_default();
        let html = content_type.eq_ignore_ascii_case("text/html");
        let shown_type = if content_type.is_empty() { "no Content-Type".to_string() } else { content_type.clone() };
        let challenge = if status == StatusCode::UNAUTHORIZED {
            let header = response.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).unwrap_or("");
            match parse_bearer_challenge(header) {
                Some((realm, service)) => Challenge::Bearer { realm, service },
                None => Challenge::Basic,
            }
        } else if status.is_server_error() {
            return Err(Failure::from_status(&what, response, self.timeouts()).await);
        } else if reqwest::Url::parse(&url).ok().is_none_or(|u| u.origin() != response.url().origin() || u.path() != response.url().path()) {
            Challenge::NotRegistry(format!("{what} was redirected to {} (HTTP {status}, {shown_type})", response.url()))
        } else if status == StatusCode::NOT_FOUND {
            // A registry may answer 404 in the distribution API's error format: that is still a registry.
            let api_header = response.headers().contains_key("docker-distribution-api-version");
            let body = limits::error_text(response, self.timeouts()).await;
            if api_header || !error_codes(&body).is_empty() {
                Challenge::None
            } else {
                Challenge::NotRegistry(format!("{what} answered HTTP {status} ({shown_type})"))
            }
        } else if status.is_success() && html {
            Challenge::NotRegistry(format!("{what} answered HTTP {status} with a web page ({shown_type})"))
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
            Challenge::NotRegistry(why) => Err(Failure::new(
                FailureKind::NotARegistry,
                format!("{host} did not answer as an OCI registry: {why}; the distribution API (/v2/) is not served there: check the host"),
            )),
            Challenge::Basic => match self.auth_for(host)? {
                Auth::Basic { username, password } => Ok(Some(basic_header(&username, &password))),
                Auth::IdentityToken(token) => Ok(Some(basic_header("<token>", &token))),
                Auth::Bearer(token) => Ok(Some(bearer_header(&token)?)),
                Auth::Anonymous => Err(Failure {
                    status: Some(401),
                    ..Failure::new(
                        FailureKind::Denied,
                        format!("{host} requires a login and no credentials were found for it; run `docker login {host}` or pass --authfile"),
                    )
                }),
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
            return Err(Failure::new(FailureKind::Denied, auth::cleartext_realm_refused(host, realm)));
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
        self.settings.doing(&format!("fetching a token for {host} from {realm}"));
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
            self.settings.doing(&format!("waiting for {what}"));
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
        self.settings.doing(&format!("waiting for {what}"));
        request.send().await.map_err(|e| Failure::from_reqwest(what, &e))
    }

    pub fn client(&self) -> Result<&reqwest::Client, Failure> {
        self.http()
    }

    /// `GET` a manifest by tag or digest (at most [`limits::MANIFEST_MAX`] bytes);
    /// `None` when the registry answers 404.
    pub async fn get_manifest(&self, host: &str, repository: &str, reference: &str) -> Result<Option<RawManifest>, Failure> {
        let url = self.manifest_url(host, repository, reference);
        let what = format!("the manifest of {repository}:{reference} (GET {url})");
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
        let digest = sha256(&bytes);
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

    /// Every tag of `repository`, asked 1000 at a time.
    pub async fn tags(&self, host: &str, repository: &str) -> Result<Vec<String>, Failure> {
        self.tags_paged(host, repository, 1000).await
    }

    /// Every tag, asked `page` at a time: each next page starts after the
    /// last tag seen (`n` and `last` of the distribution API), until a page
    /// brings nothing new. Registries that cap pages below `n` (and announce
    /// the rest only in a `Link` header) are followed too; one that ignores
    /// `last` repeats its page and so ends the listing. Each page is bounded
    /// by [`limits::TAG_LIST_PAGE_MAX`], the listing by [`limits::TAGS_MAX`].
    async fn tags_paged(&self, host: &str, repository: &str, page: usize) -> Result<Vec<String>, Failure> {
        let scope = Scope { host, repository, push: false, also_pull: None };
        let mut all: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<String> = None;
        loop {
            let mut url = format!("{}/v2/{repository}/tags/list?n={page}", self.base(host));
            if let Some(last) = &last {
                url.push_str("&last=");
                url.extend(url_escape(last));
            }
            let what = format!("the tags of {repository} (GET {url})");
            let response = self.send(&scope, &what, |c| c.get(&url)).await?;
            if !response.status().is_success() {
                return Err(Failure::from_status(&what, response, self.timeouts()).await);
            }
            let body = limits::read_limited(response, limits::TAG_LIST_PAGE_MAX, self.timeouts())
                .await
                .map_err(|e| Failure::from_body(&what, "tag listing page", e))?;
            let listing: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| Failure::fatal(format!("{what}: not a tag listing: {e}")))?;
            let tags: Vec<String> = match listing.get("tags") {
                Some(serde_json::Value::Array(tags)) => tags.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            };
            let next = tags.last().cloned();
            let before = all.len();
            all.extend(tags.into_iter().filter(|t| seen.insert(t.clone())));
            if all.len() == before {
                return Ok(all);
            }
            if all.len() > limits::TAGS_MAX {
                return Err(Failure::new(FailureKind::Limit, format!("{what}: more than the limit of {} tags", limits::TAGS_MAX)));
            }
            last = next;
        }
    }

    /// Uploads a blob of `size` bytes from any byte stream: `POST` opens the
    /// upload, then one `PUT …?digest=<digest>` streams `body` (at most
    /// [`Timeouts::blob`] of `size`) and commits it; the registry checks the
    /// digest and refuses a mismatch, which fails here and cancels the upload.
    /// Nothing is buffered beyond the stream's own chunks. The caller skips
    /// blobs the repository already has ([`has_blob`](Self::has_blob)) and
    /// retries: the stream is consumed by one attempt.
    pub async fn push_blob<S, B, E>(&self, host: &str, repository: &str, digest: &str, size: u64, body: S) -> Result<(), Failure>
    where
        S: futures_util::Stream<Item = Result<B, E>> + Send + 'static,
        bytes::Bytes: From<B>,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let location = self
            .start_upload(host, repository, None)
            .await?
            .ok_or_else(|| Failure::fatal("the registry mounted a blob that was not asked for"))?;
        let what = format!("upload of blob {digest} to {host}/{repository}");
        let scope = Scope { host, repository, push: true, also_pull: None };
        let request = self
            .http()?
            .put(with_query(&location, "digest", digest))
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .timeout(self.timeouts().blob(size))
            .body(reqwest::Body::wrap_stream(body));
        let response = match self.send_once(&scope, &what, request).await {
            Ok(response) => response,
            Err(e) => {
                self.cancel_upload(host, repository, &location).await;
                return Err(e);
            }
        };
        if !response.status().is_success() {
            let failure = Failure::from_status(&what, response, self.timeouts()).await;
            self.cancel_upload(host, repository, &location).await;
            return Err(failure);
        }
        Ok(())
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

/// Percent-escapes a query value.
fn url_escape(value: &str) -> impl Iterator<Item = char> + '_ {
    value.bytes().flat_map(|b| {
        let plain = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let text = if plain { (b as char).to_string() } else { format!("%{b:02X}") };
        text.chars().collect::<Vec<_>>()
    })
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

    #[test]
    fn statuses_become_kinds_with_the_status_and_the_transient_flag() {
        let f = |code: u16| Failure::from_code("GET http://h/v2/a/manifests/1", StatusCode::from_u16(code).unwrap(), "h", "MANIFEST_UNKNOWN");
        assert_eq!((f(404).kind, f(404).status, f(404).transient), (FailureKind::NotFound, Some(404), false));
        assert_eq!(f(404).message, "GET http://h/v2/a/manifests/1: HTTP 404 Not Found from h: MANIFEST_UNKNOWN");
        assert_eq!((f(401).kind, f(403).kind), (FailureKind::Denied, FailureKind::Denied));
        assert!(f(401).message.contains("access denied (HTTP 401 Unauthorized from h)"), "{}", f(401));
        assert!(f(500).transient && f(429).transient && f(408).transient && !f(400).transient);
        assert_eq!(f(502).kind, FailureKind::Other);
        assert_eq!(error_codes(r#"{"errors":[{"code":"DENIED"},{"code":"UNAUTHORIZED"}]}"#), ["DENIED", "UNAUTHORIZED"]);
        assert!(error_codes("<html>").is_empty());
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
            assert_eq!(m.digest, sha256(br#"{"schemaVersion":2}"#));
        }
        let log = log.lock().unwrap().clone();
        let tokens: Vec<&String> = log.iter().filter(|l| l.starts_with("/token")).collect();
        assert_eq!(tokens.len(), 1, "the token is cached: {log:?}");
        assert!(tokens[0].contains("scope=repository%3Aa%2Fb%3Apull") && tokens[0].contains("service=reg"), "{log:?}");
        let missing = client.get_manifest(&host, "a/c", "1").await.unwrap_err();
        assert!(missing.message.contains("access denied") && !missing.message.contains("pw"), "{missing}");
    }

    /// `(Host, path, authorization)` → (status, headers, body).
    type Respond = fn(&str, &str, &str) -> (&'static str, String, String);

    /// Serves `respond` on 127.0.0.1, one request per connection, at most 20,
    /// until the test ends; logs `Host METHOD path [authorization] body`.
    fn scripted(respond: Respond) -> (std::net::SocketAddr, std::sync::Arc<Mutex<Vec<String>>>) {
        use std::io::{BufRead, BufReader, Read, Write};
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
                let (mut host, mut auth, mut length) = (String::new(), String::new(), 0usize);
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
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                let method = request.split(' ').next().unwrap_or("").to_string();
                let path = request.split(' ').nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(format!("{host} {method} {path} [{auth}] {}", String::from_utf8_lossy(&body)));
                let (status, headers, body) = respond(&host, &path, &auth);
                let _ = write!(stream, "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            }
        });
        (addr, log)
    }

    /// A registry answering by `respond`, and a client with the identity
    /// token `refresh-TOKEN-value` for it.
    fn identity_registry(respond: Respond) -> (String, RegistryClient, std::sync::Arc<Mutex<Vec<String>>>) {
        let (addr, log) = scripted(respond);
        let host = addr.to_string();
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, serde_json::json!({"auths": {&host: {"identitytoken": "refresh-TOKEN-value"}}}).to_string()).unwrap();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        (host, RegistryClient::new(&settings, Credentials::load(&config).unwrap()).unwrap(), log)
    }

    /// `identity_registry`'s registry, with the token request answered by `token`.
    fn identity_answers(host: &str, path: &str, auth: &str, token: (&'static str, &str)) -> (&'static str, String, String) {
        match path {
            "/token" => (token.0, String::new(), token.1.to_string()),
            "/v2/a/b/manifests/1" if auth == "Bearer ACCESS-1" => {
                ("200 OK", "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n".into(), r#"{"schemaVersion":2}"#.into())
            }
            _ => ("401 Unauthorized", format!("WWW-Authenticate: Bearer realm=\"http://{host}/token\",service=\"reg.test\"\r\n"), String::new()),
        }
    }

    #[tokio::test]
    async fn refused_identity_tokens_are_denied_and_not_echoed() {
        let (host, client, _) = identity_registry(|host, path, auth| {
            identity_answers(host, path, auth, ("401 Unauthorized", r#"{"error":"invalid refresh-TOKEN-value"}"#))
        });
        let error = client.get_manifest(&host, "a/b", "1").await.unwrap_err();
        assert_eq!((error.kind, error.status), (FailureKind::Denied, Some(401)), "{error}");
        assert!(!error.message.contains("refresh-TOKEN-value"), "{error}");
    }

    #[tokio::test]
    async fn identity_tokens_are_exchanged_for_access_tokens() {
        let (host, client, log) =
            identity_registry(|host, path, auth| identity_answers(host, path, auth, ("200 OK", r#"{"access_token":"ACCESS-1"}"#)));
        let manifest = client.get_manifest(&host, "a/b", "1").await.unwrap().unwrap();
        assert_eq!(&manifest.bytes[..], br#"{"schemaVersion":2}"#);
        let log = log.lock().unwrap().clone();
        let post = log.iter().find(|l| l.contains(" POST /token ")).unwrap_or_else(|| panic!("no token exchange: {log:?}"));
        for field in ["grant_type=refresh_token", "refresh_token=refresh-TOKEN-value", "service=reg.test", "scope=repository%3Aa%2Fb%3Apull"] {
            assert!(post.contains(field), "{field} missing from {post}");
        }
    }

    #[tokio::test]
    async fn push_blob_streams_any_body_and_the_registry_checks_the_digest() {
        const BLOB: &[u8] = b"hello streamed world";
        let (addr, log) = scripted(|_, path, _| match path {
            "/v2/a/b/blobs/uploads/" => ("202 Accepted", "Location: /upload/1\r\n".into(), String::new()),
            p if p.starts_with("/upload/1?digest=") => {
                if p.ends_with(&sha256(BLOB)) {
                    ("201 Created", String::new(), String::new())
                } else {
                    ("400 Bad Request", "Content-Type: application/json\r\n".into(), r#"{"errors":[{"code":"DIGEST_INVALID"}]}"#.into())
                }
            }
            "/upload/1" => ("204 No Content", String::new(), String::new()),
            _ => ("200 OK", "Content-Type: application/json\r\n".into(), "{}".into()),
        });
        let host = addr.to_string();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        let client = RegistryClient::new(&settings, Credentials::default()).unwrap();
        let body = || {
            let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![Ok(BLOB[..6].to_vec().into()), Ok(BLOB[6..].to_vec().into())];
            futures_util::stream::iter(chunks)
        };
        client.push_blob(&host, "a/b", &sha256(BLOB), BLOB.len() as u64, body()).await.unwrap();
        let put = log.lock().unwrap().iter().find(|l| l.contains(" PUT /upload/1?digest=")).cloned().unwrap();
        assert!(put.ends_with("] hello streamed world"), "{put}");

        let error = client.push_blob(&host, "a/b", &sha256(b"other"), BLOB.len() as u64, body()).await.unwrap_err();
        assert_eq!((error.kind, error.status, error.transient), (FailureKind::Other, Some(400), false), "{error}");
        assert!(error.message.contains("DIGEST_INVALID"), "{error}");
        assert!(log.lock().unwrap().iter().any(|l| l.contains(" DELETE /upload/1 ")), "the refused upload is cancelled");
    }

    #[tokio::test]
    async fn tag_listing_follows_pages_until_one_brings_nothing_new() {
        // At most 2 tags per page whatever `n` asks (as capped registries do), after `last`.
        let (addr, log) = scripted(|_, path, _| {
            const TAGS: [&str; 5] = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "v2.1.0"];
            let last = path.split(['?', '&']).find_map(|kv| kv.strip_prefix("last="));
            let page: Vec<&str> = TAGS.iter().copied().filter(|t| last.is_none_or(|l| *t > l)).take(2).collect();
            ("200 OK", "Content-Type: application/json\r\n".into(), serde_json::json!({"name": "charts/x", "tags": page}).to_string())
        });
        let host = addr.to_string();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        let client = RegistryClient::new(&settings, Credentials::default()).unwrap();
        assert_eq!(client.tags(&host, "charts/x").await.unwrap(), ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "v2.1.0"]);
        let pages: Vec<String> = log.lock().unwrap().iter().filter(|l| l.contains("/tags/list")).cloned().collect();
        assert_eq!(pages.len(), 4, "{pages:?}");
        assert!(pages[0].contains("/tags/list?n=1000 "), "{pages:?}");
        assert!(pages[1].contains("last=1.1.0 ") && pages[3].contains("last=v2.1.0 "), "{pages:?}");
    }

    #[tokio::test]
    async fn docker_hub_is_fetched_from_registry_1_with_credentials_under_its_v1_key() {
        let (addr, log) = scripted(|_, path, auth| {
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
        assert!(log[1].starts_with("registry-1.docker.io GET /v2/library/busybox/manifests/1.36 [Basic "), "{log:?}");
    }

    #[tokio::test]
    async fn a_v2_redirected_to_a_web_site_is_no_registry() {
        let (addr, log) = scripted(|_, path, _| match path {
            "/v2/" => ("301 Moved Permanently", "Location: /welcome\r\n".into(), String::new()),
            _ => ("200 OK", "Content-Type: text/html\r\n".into(), "<html>hello</html>".into()),
        });
        let host = addr.to_string();
        let settings = OciSettings { insecure_registries: vec![host.clone()], ..Default::default() };
        let client = RegistryClient::new(&settings, Credentials::default()).unwrap();
        let error = client.get_manifest(&host, "library/busybox", "1.36").await.unwrap_err();
        assert!(!error.transient, "{error}");
        assert_eq!(error.kind, FailureKind::NotARegistry);
        assert!(error.message.contains(&format!("{host} did not answer as an OCI registry: GET http://{host}/v2/ was redirected to http://{host}/welcome")), "{error}");
        assert!(!log.lock().unwrap().iter().any(|l| l.contains("manifests")), "no manifest request follows");
    }

    #[test]
    fn scopes_name_the_mount_source() {
        let s = Scope { host: "h", repository: "a/b", push: true, also_pull: Some("c") };
        assert_eq!(s.scopes(), vec!["repository:a/b:pull,push", "repository:c:pull"]);
    }
}
