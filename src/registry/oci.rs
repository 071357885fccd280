//! Pulling Helm charts from OCI registries: manifests, tag listings and chart
//! layers over the distribution API with the project's HTTP client, every body
//! read through [`limits`] (size bounds and idle timeouts); TLS (system roots
//! plus extra PEM CAs, as helm honours `SSL_CERT_FILE`), plain HTTP for
//! registries listed as insecure, Docker Hub reached at its API host
//! (`registry-1.docker.io`), and authentication from [`Credentials`] (basic,
//! Bearer tokens from the registry's token endpoint, identity tokens exchanged
//! there as docker does; credentials never go to a plain-HTTP token endpoint of
//! an HTTPS registry). oci-client provides the reference and manifest types: its
//! own client reads bodies whole, without a bound. Failures are classified
//! ([`OciError`]) and name the host and HTTP status; no secret ever reaches a
//! message.
//! [`OciSettings`] (roots, insecure hosts, [`Timeouts`]) also configure the
//! plain reqwest client of [`ChartRegistry::http`] that copies share.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use sha2::{Digest, Sha256};

use super::credentials::{Auth, Credentials};
use super::limits::{self, BodyError};
use crate::deadline;
use crate::mirror::reference::api_host;

/// Helm's chart config media type.
pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Helm's chart layer media type.
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The layer media type of charts pushed by helm before 3.7.
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";
/// The manifest types a chart is stored under.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Why a registry call failed, for messages that say what to do.
#[derive(Debug)]
pub enum OciError {
    /// 401/403 from the registry or its token endpoint.
    Unauthorized(String),
    /// The registry answered that the manifest, tag or repository does not exist.
    NotFound(String),
    /// The host answered, but not as an OCI registry (a web page, a redirect to a site).
    NotARegistry(String),
    /// The TLS handshake failed (untrusted CA, wrong host name).
    Tls(String),
    /// No connection (refused, DNS, timeout).
    Unreachable(String),
    /// Anything else the registry or the client reported.
    Other(String),
}

impl std::fmt::Display for OciError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OciError::Unauthorized(m)
            | OciError::NotFound(m)
            | OciError::NotARegistry(m)
            | OciError::Tls(m)
            | OciError::Unreachable(m)
            | OciError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for OciError {}

/// The text of an error and all its sources.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Classifies a failed HTTP request (TLS, connection, authorization).
pub fn classify_reqwest(error: &reqwest::Error) -> OciError {
    let text = chain(error);
    let lower = text.to_lowercase();
    if ["certificate", "tls", "handshake", "corrupt message"].iter().any(|w| lower.contains(w)) {
        OciError::Tls(text)
    } else if error.is_connect() || error.is_timeout() {
        OciError::Unreachable(text)
    } else if error.status().is_some_and(|s| s == 401 || s == 403) {
        OciError::Unauthorized(text)
    } else {
        OciError::Other(text)
    }
}

/// A failed request or body read of `what` from `host`.
fn body_error(host: &str, what: &str, error: BodyError) -> OciError {
    match error {
        BodyError::Http(e) => classify_reqwest(&e),
        other => OciError::Other(format!("{what} from {host}: {other}")),
    }
}
/// Every certificate of a PEM bundle, one PEM block each (reqwest and
/// oci-client read only the first certificate of a bundle).
pub fn pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[start..].find(END).ok_or_else(|| anyhow!("{}: unterminated PEM certificate", path.display()))?;
        certs.push(rest.as_bytes()[start..start + end + END.len()].to_vec());
        rest = &rest[start + end + END.len()..];
    }
    if certs.is_empty() {
        anyhow::bail!("{}: no PEM certificate found (set SSL_CERT_FILE to a PEM bundle of CA certificates)", path.display());
    }
    Ok(certs)
}


/// Connection settings shared by every registry of one resolve.
#[derive(Clone, Debug, Default)]
pub struct OciSettings {
    /// Extra CA certificates (PEM, one per entry).
    pub extra_roots: Vec<Vec<u8>>,
    /// `host[:port]` of registries reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    pub timeouts: Timeouts,
    /// Host names sent to a fixed address instead of DNS (as curl's
    /// `--resolve`; a port of 0 keeps the URL's).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

/// Network timeouts of every registry and chart repository request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    /// Establishing a connection (TCP and TLS).
    pub connect: Duration,
    /// Silence: no byte of the answer (headers or body) for this long fails the request.
    pub read: Duration,
    /// A whole request whose size is bounded (manifests, tokens, checks,
    /// uploads' control requests): a server drip-feeding its answer fails
    /// after this long. Blob transfers get this plus their size at
    /// [`MIN_BLOB_RATE`].
    pub request: Duration,
}

/// Bytes per second a blob transfer must average (16 KiB/s, 128 kbit/s).
pub const MIN_BLOB_RATE: u64 = 16 << 10;

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { connect: Duration::from_secs(15), read: Duration::from_secs(30), request: Duration::from_secs(120) }
    }
}

impl Timeouts {
    /// The deadline of a blob transfer of `size` bytes.
    pub fn blob(&self, size: u64) -> Duration {
        self.request + Duration::from_secs(size / MIN_BLOB_RATE)
    }
}

/// Seconds (`30`, `0.5`) between 0.1 and 3600.
pub fn parse_seconds(text: &str) -> Result<Duration> {
    let shown: String = text.chars().take(40).collect();
    let seconds: f64 = text.trim().parse().map_err(|_| anyhow!("{shown:?} is not a number of seconds"))?;
    if !(0.1..=3600.0).contains(&seconds) {
        bail!("{shown:?} seconds is out of range (0.1 to 3600)");
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// An OCI registry client for chart pulls. The HTTP client is built on first
/// use (loading the system roots costs milliseconds); Bearer tokens are kept
/// per registry and repository for the client's life.
pub struct ChartRegistry {
    http: OnceLock<reqwest::Client>,
    settings: OciSettings,
    tokens: Mutex<HashMap<String, String>>,
}

/// One chart found in a registry: its tag and chart layer.
#[derive(Clone, Debug)]
pub struct ChartManifest {
    /// The tag the manifest was found under (`_` standing for `+`).
    pub tag: String,
    /// The chart archive layer (its digest keys the cache).
    pub layer: OciDescriptor,
}

impl ChartRegistry {
    /// A client trusting the system roots plus `settings.extra_roots` (checked here).
    pub fn new(settings: &OciSettings) -> Result<ChartRegistry> {
        for pem in &settings.extra_roots {
            reqwest::Certificate::from_pem(pem).context("invalid CA certificate (SSL_CERT_FILE)")?;
        }
        Ok(ChartRegistry { http: OnceLock::new(), settings: settings.clone(), tokens: Mutex::new(HashMap::new()) })
    }

    /// The plain HTTP client with the same trust roots and [`Timeouts`]
    /// (copies, chart repositories, token endpoints).
    pub fn http(&self) -> Result<&reqwest::Client, OciError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let timeouts = &self.settings.timeouts;
        let mut builder = reqwest::Client::builder().connect_timeout(timeouts.connect).read_timeout(timeouts.read);
        for (host, addr) in &self.settings.resolve {
            builder = builder.resolve(host, *addr);
        }
        for pem in &self.settings.extra_roots {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| OciError::Other(format!("invalid CA certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| OciError::Other(format!("cannot configure the HTTP client: {}", chain(&e))))?;
        Ok(self.http.get_or_init(|| http))
    }

    fn scheme(&self, host: &str) -> &'static str {
        if self.settings.insecure_registries.iter().any(|h| h == host) {
            "http"
        } else {
            "https"
        }
    }

    /// `scheme://api-host` of `host`: Docker Hub (`docker.io`, `index.docker.io`)
    /// answers at `registry-1.docker.io`, as the docker CLI and containers/image address it.
    fn base(&self, host: &str) -> String {
        format!("{}://{}", self.scheme(host), api_host(host))
    }

    /// The oci-client authentication for `host`, pulling `repository`.
    pub async fn auth(&self, credentials: &Credentials, host: &str, repository: &str) -> Result<RegistryAuth> {
        let auth = credentials.for_registry(host)?;
        #[allow(unreachable_patterns)]
        match auth {
            Auth::Anonymous => Ok(RegistryAuth::Anonymous),
            Auth::Basic { username, password } => Ok(RegistryAuth::Basic(username, password)),
            Auth::IdentityToken(token) => self.exchange_identity_token(host, repository, &token).await,
            other => Err(anyhow!("unsupported credential kind {other:?} for {host}: use `auth`, `username`/`password` or `identitytoken`")),
        }
    }

    /// The Bearer challenge of `host`'s `/v2/`, if it sends one.
    async fn bearer_challenge(&self, host: &str) -> Result<Option<(String, Option<String>)>, OciError> {
        let ping = format!("{}/v2/", self.base(host));
        deadline::doing(format!("asking {host} how to authenticate (GET {ping})"));
        let response = limits::send(self.http()?.get(&ping)).await.map_err(|e| body_error(host, "the /v2/ answer", e))?;
        Ok(header(response.headers(), WWW_AUTHENTICATE).as_deref().and_then(parse_bearer_challenge))
    }

    /// Refuses a token endpoint reached over plain HTTP for an HTTPS registry
    /// when credentials would go there; https realms on other hosts are used
    /// as docker and containerd use them.
    fn check_realm(&self, host: &str, realm: &str) -> Result<(), OciError> {
        if self.scheme(host) == "https" && !realm.to_ascii_lowercase().starts_with("https://") {
            return Err(OciError::Other(format!(
                "the HTTPS registry {host} names the token endpoint {} (realm), which is not HTTPS: the credentials for {host} \
                 are not sent in cleartext; fix the registry's token realm, or pull anonymously",
                limits::excerpt(realm, 200)
            )));
        }
        Ok(())
    }

    /// Docker's identity-token flow: the token is an OAuth2 refresh token
    /// posted to the realm of the registry's Bearer challenge for an access
    /// token. Registries without a Bearer challenge get it as a basic
    /// password under the user name `<token>`.
    async fn exchange_identity_token(&self, host: &str, repository: &str, token: &str) -> Result<RegistryAuth> {
        let Some((realm, service)) = self.bearer_challenge(host).await? else {
            return Ok(RegistryAuth::Basic("<token>".into(), token.into()));
        };
        self.check_realm(host, &realm)?;
        let scope = format!("repository:{repository}:pull");
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", "deploykf-cmp"),
            ("scope", scope.as_str()),
        ];
        if let Some(service) = service.as_deref() {
            form.push(("service", service));
        }
        deadline::doing(format!("exchanging the identity token for {host} at {realm}"));
        let response = limits::send(self.http()?.post(&realm).form(&form)).await.map_err(|e| body_error(host, "the token", e))?;
        let status = response.status();
        if status == 401 || status == 403 || status == 400 {
            return Err(OciError::Unauthorized(format!("the token endpoint {realm} refused the identity token ({status})")).into());
        }
        if !status.is_success() {
            return Err(OciError::Other(format!("HTTP {status} from the token endpoint {realm}")).into());
        }
        let access = read_token(response, &realm).await?;
        Ok(RegistryAuth::Bearer(access))
    }

    /// The `Authorization` value answering `challenge` from `host` for a pull of `repository`.
    async fn authorize(&self, host: &str, repository: &str, challenge: Option<&str>, auth: &RegistryAuth) -> Result<String, OciError> {
        let unauthorized = |why: &str| OciError::Unauthorized(format!("HTTP 401 from {host} for {repository}: {why}"));
        let challenge = challenge.unwrap_or_default();
        if let Some((realm, service)) = parse_bearer_challenge(challenge) {
            let basic = match auth {
                RegistryAuth::Bearer(token) => return Ok(format!("Bearer {token}")),
                RegistryAuth::Basic(user, password) => {
                    self.check_realm(host, &realm)?;
                    Some((user, password))
                }
                RegistryAuth::Anonymous => None,
            };
            let mut request = self.http()?.get(&realm).query(&[("scope", format!("repository:{repository}:pull"))]);
            if let Some(service) = &service {
                request = request.query(&[("service", service)]);
            }
            if let Some((user, password)) = basic {
                request = request.basic_auth(user, Some(password));
            }
            deadline::doing(format!("fetching a token for {host} from {realm}"));
            let response = limits::send(request).await.map_err(|e| body_error(host, "the token", e))?;
            let status = response.status();
            if status == 401 || status == 403 {
                return Err(unauthorized(&format!("the token endpoint {realm} refused the credentials (HTTP {status})")));
            }
            if !status.is_success() {
                return Err(OciError::Other(format!("HTTP {status} from the token endpoint {realm} of {host}")));
            }
            return Ok(format!("Bearer {}", read_token(response, &realm).await?));
        }
        if challenge.to_ascii_lowercase().starts_with("basic") {
            if let RegistryAuth::Basic(user, password) = auth {
                let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                return Ok(format!("Basic {pair}"));
            }
            return Err(unauthorized("the registry asks for credentials"));
        }
        Err(unauthorized("no WWW-Authenticate challenge to answer"))
    }

    /// `GET <registry>/v2/<repository>/<tail>`, answering the registry's
    /// authentication challenge once; the answer's status is not checked.
    async fn get(&self, host: &str, repository: &str, tail: &str, auth: &RegistryAuth, what: &str) -> Result<reqwest::Response, OciError> {
        let url = format!("{}/v2/{repository}/{tail}", self.base(host));
        let key = format!("{host}/{repository}");
        let mut authorization = self.tokens.lock().ok().and_then(|t| t.get(&key).cloned());
        // One challenge is answered per request (a stale cached token is replaced once).
        let mut answered = false;
        loop {
            let mut request = self.http()?.get(&url).header(ACCEPT, MANIFEST_ACCEPT);
            if let Some(value) = &authorization {
                request = request.header(AUTHORIZATION, value);
            }
            deadline::doing(format!("fetching {what} from {} (GET {url})", api_host(host)));
            let response = limits::send(request).await.map_err(|e| body_error(api_host(host), what, e))?;
            if response.status() != 401 || answered {
                return Ok(response);
            }
            answered = true;
            let challenge = header(response.headers(), WWW_AUTHENTICATE);
            let value = self.authorize(host, repository, challenge.as_deref(), auth).await?;
            if let Ok(mut tokens) = self.tokens.lock() {
                tokens.insert(key.clone(), value.clone());
            }
            authorization = Some(value);
        }
    }

    /// The chart manifest at `reference`'s tag; `Ok(None)` when the registry
    /// answers that the tag does not exist.
    pub async fn manifest(&self, reference: &Reference, auth: &RegistryAuth) -> Result<Option<ChartManifest>, OciError> {
        let (host, repository) = (reference.registry(), reference.repository());
        let tag = reference.tag().unwrap_or("latest");
        let what = format!("the manifest of {repository}:{tag}");
        let response = self.get(host, repository, &format!("manifests/{tag}"), auth, &what).await?;
        let host = api_host(host);
        if response.status() == 404 {
            return match failure(host, &what, response).await {
                OciError::NotFound(_) => Ok(None),
                other => Err(other),
            };
        }
        if !response.status().is_success() {
            return Err(failure(host, &what, response).await);
        }
        let content_type = header(response.headers(), CONTENT_TYPE).unwrap_or_default();
        let body = limits::read_limited(response, limits::MANIFEST_MAX).await.map_err(|e| body_error(host, &what, e))?;
        let manifest: OciImageManifest = serde_json::from_slice(&body).map_err(|e| {
            if content_type.contains("json") {
                OciError::Other(format!("{what} from {host} is not an OCI image manifest: {e}"))
            } else {
                not_a_registry(host, &what, "200", &content_type)
            }
        })?;
        Ok(Some(chart_layer(reference, manifest)?))
    }

    /// Every tag of `reference`'s repository.
    pub async fn tags(&self, reference: &Reference, auth: &RegistryAuth) -> Result<Vec<String>, OciError> {
        self.tags_paged(reference, auth, 1000).await
    }

    /// Every tag, asked `page` at a time: each next page starts after the
    /// last tag seen (`n` and `last` of the distribution API), until a page
    /// brings nothing new. Registries that cap pages below `n` (and announce
    /// the rest only in a `Link` header) are followed too; one that ignores
    /// `last` repeats its page and so ends the listing. Each page is bounded
    /// by [`limits::TAG_LIST_PAGE_MAX`], the listing by [`limits::TAGS_MAX`].
    async fn tags_paged(&self, reference: &Reference, auth: &RegistryAuth, page: usize) -> Result<Vec<String>, OciError> {
        let (host, repository) = (reference.registry(), reference.repository());
        let what = format!("the tags of {repository}");
        let mut all: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<String> = None;
        loop {
            let mut tail = format!("tags/list?n={page}");
            if let Some(last) = &last {
                tail.push_str("&last=");
                tail.extend(url_escape(last));
            }
            let response = self.get(host, repository, &tail, auth, &what).await?;
            let api = api_host(host);
            if !response.status().is_success() {
                return Err(failure(api, &what, response).await);
            }
            let body = limits::read_limited(response, limits::TAG_LIST_PAGE_MAX).await.map_err(|e| body_error(api, &what, e))?;
            let listing: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| OciError::Other(format!("{what} from {api}: not a tag listing: {e}")))?;
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
                return Err(OciError::Other(format!("{what} from {api}: more than the limit of {} tags", limits::TAGS_MAX)));
            }
            last = next;
        }
    }

    /// The chart archive of `manifest`, at most [`limits::CHART_ARCHIVE_MAX`]
    /// bytes, its sha256 checked against the layer digest.
    pub async fn chart_blob(&self, reference: &Reference, manifest: &ChartManifest, auth: &RegistryAuth) -> Result<Vec<u8>, OciError> {
        let (host, repository) = (reference.registry(), reference.repository());
        let digest = &manifest.layer.digest;
        let what = format!("the chart layer {digest} of {repository}");
        let api = api_host(host);
        if u64::try_from(manifest.layer.size).is_ok_and(|size| size > limits::CHART_ARCHIVE_MAX) {
            return Err(OciError::Other(format!(
                "{what} on {api} is {} bytes, larger than the chart archive limit of {}",
                manifest.layer.size,
                limits::size(limits::CHART_ARCHIVE_MAX)
            )));
        }
        let response = self.get(host, repository, &format!("blobs/{digest}"), auth, &what).await?;
        if !response.status().is_success() {
            return Err(failure(api, &what, response).await);
        }
        let bytes = limits::read_limited(response, limits::CHART_ARCHIVE_MAX).await.map_err(|e| body_error(api, &what, e))?;
        let actual = format!("sha256:{:x}", Sha256::digest(&bytes));
        if &actual != digest {
            return Err(OciError::Other(format!("{what} from {api} does not match its digest (got {actual})")));
        }
        Ok(bytes)
    }
}

/// A header's value as text.
fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Percent-escapes a query value.
fn url_escape(value: &str) -> impl Iterator<Item = char> + '_ {
    value.bytes().flat_map(|b| {
        let plain = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
        let text = if plain { (b as char).to_string() } else { format!("%{b:02X}") };
        text.chars().collect::<Vec<_>>()
    })
}

/// The access token of a token endpoint's answer (`token` or `access_token`).
async fn read_token(response: reqwest::Response, realm: &str) -> Result<String, OciError> {
    let body = limits::read_limited(response, limits::TOKEN_MAX)
        .await
        .map_err(|e| OciError::Other(format!("the answer of the token endpoint {realm}: {e}")))?;
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| OciError::Other(format!("unreadable answer from the token endpoint {realm}: {e}")))?;
    let access = json.get("access_token").or_else(|| json.get("token")).and_then(|t| t.as_str());
    access.map(str::to_string).ok_or_else(|| OciError::Other(format!("the token endpoint {realm} returned no access token")))
}

fn not_a_registry(host: &str, what: &str, status: &str, content_type: &str) -> OciError {
    let content_type = if content_type.is_empty() { "no Content-Type" } else { content_type };
    OciError::NotARegistry(format!(
        "{host} did not answer as an OCI registry for {what} (HTTP {status}, {content_type}): check the host of the \
         oci:// repository (it must serve the registry API under /v2/)"
    ))
}

/// The error of a non-success answer: the registry's own error codes (a
/// bounded, shortened excerpt of the body) or, for a 404 without them, a
/// host that is not a registry.
async fn failure(host: &str, what: &str, response: reqwest::Response) -> OciError {
    let status = response.status();
    let content_type = header(response.headers(), CONTENT_TYPE).unwrap_or_default();
    let registry_header = response.headers().contains_key("docker-distribution-api-version");
    let text = limits::error_text(response).await;
    let codes: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("errors")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("code")?.as_str().map(str::to_string))
        .collect();
    let detail = if codes.is_empty() { limits::excerpt(&text, 200) } else { codes.join(", ") };
    let message = format!("HTTP {status} from {host} for {what}{}", if detail.is_empty() { String::new() } else { format!(": {detail}") });
    match status.as_u16() {
        401 | 403 => OciError::Unauthorized(message),
        404 if codes.is_empty() && !registry_header => not_a_registry(host, what, status.as_str(), &content_type),
        404 => OciError::NotFound(message),
        _ => OciError::Other(message),
    }
}

fn chart_layer(reference: &Reference, manifest: OciImageManifest) -> Result<ChartManifest, OciError> {
    if manifest.config.media_type != HELM_CONFIG_MEDIA_TYPE {
        return Err(OciError::Other(format!(
            "{reference} is not a Helm chart (config media type {}, expected {HELM_CONFIG_MEDIA_TYPE})",
            manifest.config.media_type
        )));
    }
    let layer = manifest
        .layers
        .into_iter()
        .find(|l| l.media_type == HELM_CHART_MEDIA_TYPE || l.media_type == LEGACY_CHART_MEDIA_TYPE)
        .ok_or_else(|| OciError::Other(format!("{reference} has no layer of media type {HELM_CHART_MEDIA_TYPE}")))?;
    Ok(ChartManifest { tag: reference.tag().unwrap_or_default().to_string(), layer })
}

/// `realm` and `service` of a `Bearer realm="…",service="…"` challenge.
pub fn parse_bearer_challenge(header: &str) -> Option<(String, Option<String>)> {
    let rest = header.trim().strip_prefix("Bearer ").or_else(|| header.trim().strip_prefix("bearer "))?;
    let mut realm = None;
    let mut service = None;
    let mut chars = rest.trim();
    while !chars.is_empty() {
        let eq = chars.find('=')?;
        let key = chars[..eq].trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = &chars[eq + 1..];
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.as_str() {
            "realm" => realm = Some(value.to_string()),
            "service" => service = Some(value.to_string()),
            _ => {}
        }
        chars = next.trim_start_matches(',').trim();
    }
    Some((realm?, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let (realm, service) =
            parse_bearer_challenge(r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#).unwrap();
        assert_eq!(realm, "https://auth.example/token");
        assert_eq!(service.as_deref(), Some("registry.example"));
        assert!(parse_bearer_challenge(r#"Basic realm="Registry Realm""#).is_none());
    }

    /// Serves one scripted response per connection on 127.0.0.1 (the script
    /// gets the server's address) and returns each request, head and body,
    /// when the script is done.
    fn scripted_server(script: impl FnOnce(&str) -> Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let responses = script(&addr);
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    request.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&request).to_string();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                stream.read_exact(&mut body).unwrap();
                seen.push(format!("{head}{}", String::from_utf8_lossy(&body)));
                stream.write_all(response.as_bytes()).unwrap();
            }
            seen
        });
        (addr, thread)
    }

    fn reply(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
    }

    fn exchange(token_reply: String) -> (Result<RegistryAuth>, Vec<String>) {
        let (addr, server) = scripted_server(|addr| {
            let challenge = format!("WWW-Authenticate: Bearer realm=\"http://{addr}/token\",service=\"reg.test\"\r\n");
            vec![reply("401 Unauthorized", &challenge, ""), token_reply]
        });
        let registry = ChartRegistry::new(&OciSettings { insecure_registries: vec![addr.clone()], ..Default::default() }).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = runtime.block_on(registry.exchange_identity_token(&addr, "charts/kyverno", "refresh-TOKEN-value"));
        (result, server.join().unwrap())
    }

    #[test]
    fn identity_tokens_are_exchanged_for_access_tokens() {
        let (result, requests) = exchange(reply("200 OK", "Content-Type: application/json\r\n", r#"{"access_token":"ACCESS-1"}"#));
        assert_eq!(result.unwrap(), RegistryAuth::Bearer("ACCESS-1".into()));
        assert!(requests[0].starts_with("GET /v2/ "), "{}", requests[0]);
        let post = &requests[1];
        assert!(post.starts_with("POST /token "), "{post}");
        for field in ["grant_type=refresh_token", "refresh_token=refresh-TOKEN-value", "service=reg.test", "scope=repository%3Acharts%2Fkyverno%3Apull"] {
            assert!(post.contains(field), "{field} missing from {post}");
        }
    }

    #[test]
    fn refused_identity_tokens_are_unauthorized_and_not_echoed() {
        let (result, _) = exchange(reply("401 Unauthorized", "", r#"{"error":"invalid refresh-TOKEN-value"}"#));
        let error = result.unwrap_err();
        let message = format!("{error:#}");
        assert!(matches!(error.downcast_ref::<OciError>(), Some(OciError::Unauthorized(_))), "{message}");
        assert!(message.contains("refused the identity token") && !message.contains("refresh-TOKEN-value"), "{message}");
    }

    /// A registry listing `TAGS` at most 2 per page whatever `n` asks (as
    /// capped registries do), after the `last` query parameter; it stops after
    /// `requests` tag listings and returns their paths.
    fn paging_registry(requests: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read, Write};
        const TAGS: [&str; 5] = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "v2.1.0"];
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while seen.len() < requests {
                let (mut stream, _) = listener.accept().unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let path = String::from_utf8_lossy(&head).split(' ').nth(1).unwrap_or("").to_string();
                let last = path.split(['?', '&']).find_map(|kv| kv.strip_prefix("last=")).map(str::to_string);
                let page: Vec<&str> = TAGS.iter().copied().filter(|t| last.as_deref().is_none_or(|l| *t > l)).take(2).collect();
                let body = serde_json::json!({"name": "charts/x", "tags": page}).to_string();
                if path.contains("/tags/list") {
                    seen.push(path);
                }
                let _ = stream.write_all(reply("200 OK", "Content-Type: application/json\r\n", &body).as_bytes());
            }
            seen
        });
        (addr, thread)
    }

    #[test]
    fn tag_listing_follows_pages_until_one_brings_nothing_new() {
        let (addr, server) = paging_registry(4);
        let registry = ChartRegistry::new(&OciSettings { insecure_registries: vec![addr.clone()], ..Default::default() }).unwrap();
        let reference: Reference = format!("{addr}/charts/x:latest").parse().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let tags = runtime.block_on(registry.tags_paged(&reference, &RegistryAuth::Anonymous, 1000)).unwrap();
        assert_eq!(tags, ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "v2.1.0"]);
        let paths = server.join().unwrap();
        assert!(paths[0].ends_with("/tags/list?n=1000"), "{paths:?}");
        assert!(paths[1].ends_with("last=1.1.0") && paths[3].ends_with("last=v2.1.0"), "{paths:?}");
    }

    #[test]
    fn timeouts_are_seconds_in_range() {
        assert_eq!(parse_seconds("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_seconds(" 0.5 ").unwrap(), Duration::from_millis(500));
        for bad in ["0", "-1", "3601", "1e9", "NaN", "soon", ""] {
            let error = parse_seconds(bad).unwrap_err().to_string();
            assert!(error.contains("out of range") || error.contains("not a number"), "{bad}: {error}");
        }
        assert_eq!(Timeouts::default().blob(32 << 10), Duration::from_secs(122));
    }

    #[test]
    fn pem_bundle_is_split() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n").unwrap();
        let certs = pem_certificates(&file).unwrap();
        assert_eq!(certs.len(), 2);
        assert!(String::from_utf8_lossy(&certs[1]).contains("BBB"));
        std::fs::write(&file, "nothing").unwrap();
        assert!(pem_certificates(&file).unwrap_err().to_string().contains("SSL_CERT_FILE"));
    }
}
