//! Pulling Helm charts from OCI registries through `oci-client`: the client's
//! TLS (system roots plus extra PEM CAs, as helm honours `SSL_CERT_FILE`),
//! plain HTTP for registries listed as insecure, and authentication from
//! [`Credentials`] (basic; identity tokens exchanged at the registry's token
//! endpoint as docker does). Failures are classified ([`OciError`]) so callers
//! can tell the user what to fix; no secret ever reaches a message.
//! [`OciSettings`] (roots, insecure hosts, [`Timeouts`]) also configure the
//! plain reqwest client of [`ChartRegistry::http`] that copies share.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::credentials::{Auth, Credentials};

/// Helm's chart config media type.
pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
/// Helm's chart layer media type.
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// The layer media type of charts pushed by helm before 3.7.
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";

/// Why a registry call failed, for messages that say what to do.
#[derive(Debug)]
pub enum OciError {
    /// 401/403 from the registry or its token endpoint.
    Unauthorized(String),
    /// The manifest or tag does not exist.
    NotFound(String),
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
            OciError::Unauthorized(m) | OciError::NotFound(m) | OciError::Tls(m) | OciError::Unreachable(m) | OciError::Other(m) => f.write_str(m),
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

fn classify(error: OciDistributionError) -> OciError {
    match &error {
        OciDistributionError::RequestError(e) => classify_reqwest(e),
        OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => {
            OciError::Unauthorized(error.to_string())
        }
        OciDistributionError::ImageManifestNotFoundError(_) => OciError::NotFound(error.to_string()),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                OciError::Unauthorized(error.to_string())
            } else if codes.iter().any(|c| {
                matches!(c, OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound | OciErrorCode::BlobUnknown)
            }) {
                OciError::NotFound(error.to_string())
            } else {
                OciError::Other(error.to_string())
            }
        }
        OciDistributionError::ServerError { code: 401 | 403, .. } => OciError::Unauthorized(error.to_string()),
        OciDistributionError::ServerError { code: 404, .. } => OciError::NotFound(error.to_string()),
        _ => OciError::Other(chain(&error)),
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

/// The variables of [`Timeouts::from_env`], in seconds.
pub const CONNECT_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_CONNECT_TIMEOUT";
pub const READ_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_READ_TIMEOUT";
pub const REQUEST_TIMEOUT_ENV: &str = "DEPLOYKF_CMP_REQUEST_TIMEOUT";

impl Timeouts {
    /// The defaults, each replaced by its environment variable when set
    /// (seconds, decimals allowed, 0.1 to 3600).
    pub fn from_env() -> Result<Timeouts> {
        let mut t = Timeouts::default();
        for (name, field) in [(CONNECT_TIMEOUT_ENV, &mut t.connect), (READ_TIMEOUT_ENV, &mut t.read), (REQUEST_TIMEOUT_ENV, &mut t.request)] {
            if let Some(value) = std::env::var_os(name).filter(|v| !v.is_empty()) {
                *field = parse_seconds(&value.to_string_lossy()).with_context(|| format!("invalid {name}"))?;
            }
        }
        Ok(t)
    }

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

/// An OCI registry client for chart pulls. The OCI and plain HTTP clients are
/// built on first use (loading the system roots costs milliseconds).
pub struct ChartRegistry {
    client: OnceLock<Client>,
    http: OnceLock<reqwest::Client>,
    settings: OciSettings,
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
        Ok(ChartRegistry { client: OnceLock::new(), http: OnceLock::new(), settings: settings.clone() })
    }

    fn client(&self) -> Result<&Client, OciError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(self.settings.insecure_registries.clone()),
            extra_root_certificates: self
                .settings
                .extra_roots
                .iter()
                .map(|pem| Certificate { encoding: CertificateEncoding::Pem, data: pem.clone() })
                .collect(),
            connect_timeout: Some(Duration::from_secs(15)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("deploykf-cmp/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        };
        let client = Client::try_from(config).map_err(|e| OciError::Other(format!("cannot configure the OCI client: {}", chain(&e))))?;
        Ok(self.client.get_or_init(|| client))
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

    /// Docker's identity-token flow: the token is an OAuth2 refresh token
    /// posted to the realm of the registry's Bearer challenge for an access
    /// token. Registries without a Bearer challenge get it as a basic
    /// password under the user name `<token>`.
    async fn exchange_identity_token(&self, host: &str, repository: &str, token: &str) -> Result<RegistryAuth> {
        let ping = format!("{}://{host}/v2/", self.scheme(host));
        let response = self.http()?.get(&ping).send().await.map_err(|e| classify_reqwest(&e))?;
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(parse_bearer_challenge);
        let Some((realm, service)) = challenge else {
            return Ok(RegistryAuth::Basic("<token>".into(), token.into()));
        };
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
        let response = self.http()?.post(&realm).form(&form).send().await.map_err(|e| classify_reqwest(&e))?;
        let status = response.status();
        if status == 401 || status == 403 || status == 400 {
            return Err(OciError::Unauthorized(format!("the token endpoint {realm} refused the identity token ({status})")).into());
        }
        let body: serde_json::Value = response
            .error_for_status()
            .map_err(|e| classify_reqwest(&e))?
            .json()
            .await
            .map_err(|e| OciError::Other(format!("unreadable answer from the token endpoint {realm}: {e}")))?;
        let access = body.get("access_token").or_else(|| body.get("token")).and_then(|t| t.as_str());
        let access = access.ok_or_else(|| OciError::Other(format!("the token endpoint {realm} returned no access token")))?;
        Ok(RegistryAuth::Bearer(access.to_string()))
    }

    /// The chart manifest at `reference`'s tag; `Ok(None)` when the tag does not exist.
    pub async fn manifest(&self, reference: &Reference, auth: &RegistryAuth) -> Result<Option<ChartManifest>, OciError> {
        let (manifest, _digest) = match self.client()?.pull_image_manifest(reference, auth).await.map_err(classify) {
            Ok(found) => found,
            Err(OciError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
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
    /// `last` repeats its page and so ends the listing.
    async fn tags_paged(&self, reference: &Reference, auth: &RegistryAuth, page: usize) -> Result<Vec<String>, OciError> {
        let mut all: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last: Option<String> = None;
        loop {
            let tags = self.client()?.list_tags(reference, auth, Some(page), last.as_deref()).await.map_err(classify)?.tags;
            let next = tags.last().cloned();
            let before = all.len();
            all.extend(tags.into_iter().filter(|t| seen.insert(t.clone())));
            if all.len() == before {
                return Ok(all);
            }
            last = next;
        }
    }

    /// The chart archive of `manifest`, its sha256 checked against the layer digest.
    pub async fn chart_blob(&self, reference: &Reference, manifest: &ChartManifest) -> Result<Vec<u8>, OciError> {
        let mut out = Vec::new();
        self.client()?.pull_blob(reference, &manifest.layer, &mut out).await.map_err(classify)?;
        Ok(out)
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
