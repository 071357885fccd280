//! `deploykf-cmp mirror` against a misbehaving registry
//! (`support::fault_server`): a server that accepts and never answers,
//! one that drip-feeds, endless manifest, error and blob bodies, 500s, a wrong
//! blob digest, an oversized manifest, a host that is no registry (told apart
//! from a missing tag), a plain HTTP registry reached over https, an https
//! registry whose token realm is plain http, and a silent host shared by
//! several images (not waited for by each). Each run uses small timeouts (1 s of silence, 3 s per
//! request) and is checked for its exit code, a message naming the host, an
//! end within a generous bound, and peak memory (VmHWM sampled from /proc).

mod support;

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::fault_server::{pairs, Answer, FaultServer, Request};
use support::images::digest;
use support::tools::{self, Tool};

/// A run ends well within this (the slowest case, a drip-feed, takes 5
/// attempts of 3 s plus backoff); a run still going after [`KILL_AFTER`] is killed.
const BOUND: Duration = Duration::from_secs(60);
const KILL_AFTER: Duration = Duration::from_secs(150);
/// Peak resident memory allowed to a run.
const MAX_PEAK_KIB: u64 = 256 << 10;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

struct Run {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    peak_kib: u64,
}

/// Runs `mirror` copying `ADDR/src/app:1` to `ADDR/dst/app:1` (the target
/// is the same server) with `--insecure-registry ADDR` when `insecure`, and
/// measures it.
fn mirror(addr: &str, insecure: bool, env: &[(&str, String)], authfile_json: &str) -> Run {
    mirror_images(addr, 1, insecure, env, authfile_json)
}

/// [`mirror`] of `count` images: `src/app`, then `src/app1`, `src/app2`…
fn mirror_images(addr: &str, count: usize, insecure: bool, env: &[(&str, String)], authfile_json: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images.txt");
    let name = |i: usize| if i == 0 { "app".to_string() } else { format!("app{i}") };
    let lines: String = (0..count).map(|i| format!("{addr}/src/{0}:1={addr}/dst/{0}:1\n", name(i))).collect();
    fs::write(&images, lines).unwrap();
    let auth = dir.path().join("auth.json");
    fs::write(&auth, authfile_json).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"));
    command.args(["mirror", "--images-file"]).arg(&images).arg("--authfile").arg(&auth);
    if insecure {
        command.args(["--insecure-registry", addr]);
    }
    command
        .env("HOME", dir.path())
        .env("DOCKER_CONFIG", dir.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("DEPLOYKF_CMP_INSECURE_REGISTRIES")
        .env("DEPLOYKF_CMP_CONNECT_TIMEOUT", "2")
        .env("DEPLOYKF_CMP_READ_TIMEOUT", "1")
        .env("DEPLOYKF_CMP_REQUEST_TIMEOUT", "3")
        .envs(env.iter().map(|(k, v)| (*k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().expect("run deploykf-cmp");
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        // VmHWM is the high-water mark so far: the last sample before the exit is the peak (or near it).
        if let Some(kib) = fs::read_to_string(&status_file).ok().as_deref().and_then(vm_hwm_kib) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > KILL_AFTER {
            child.kill().unwrap();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Run { code: status.code(), stderr: reader.join().unwrap(), elapsed, peak_kib }
}

fn vm_hwm_kib(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The checks every fault case shares: failure, the host named, bounded time and memory.
fn assert_failed_cleanly(run: &Run, host: &str, expected: &[&str]) {
    let stderr = &run.stderr;
    assert_eq!(run.code, Some(1), "exit code; stderr:\n{stderr}");
    assert!(stderr.contains(" images failed:"), "{stderr}");
    assert!(stderr.contains(host), "the message names {host}:\n{stderr}");
    for text in expected {
        assert!(stderr.contains(text), "the message says {text:?}:\n{stderr}");
    }
    assert!(run.elapsed < BOUND, "finished in {:?} (bound {BOUND:?}):\n{stderr}", run.elapsed);
    assert!(run.peak_kib > 0, "memory was sampled");
    assert!(run.peak_kib <= MAX_PEAK_KIB, "peak RSS {} KiB > {MAX_PEAK_KIB} KiB:\n{stderr}", run.peak_kib);
    let reason = stderr.lines().last().unwrap_or_default();
    eprintln!("ok in {:.1}s, peak {} KiB: {reason}", run.elapsed.as_secs_f64(), run.peak_kib);
}

const NO_AUTH: &str = r#"{"auths":{}}"#;

const API_VERSION: &[(&str, &str)] = &[("Docker-Distribution-API-Version", "registry/2.0"), ("Content-Type", "application/json")];

/// `/v2/` answers as a registry; the target repository has nothing.
fn registry_basics(request: &Request) -> Option<Answer> {
    if request.path() == "/v2/" {
        return Some(Answer::full(200, API_VERSION, b"{}".to_vec()));
    }
    if request.path().starts_with("/v2/dst/") && request.method == "HEAD" {
        return Some(Answer::full(404, API_VERSION, Vec::new()));
    }
    None
}

/// An image manifest naming one layer of `bytes` (and an empty config).
fn manifest_for(layer: &[u8]) -> Vec<u8> {
    let config = b"{}";
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest(layer), "size": layer.len()}],
    }))
    .unwrap()
}

const MANIFEST_HEADERS: &[(&str, &str)] = &[("Content-Type", OCI_MANIFEST)];

#[test]
fn a_registry_that_accepts_and_never_answers_times_out() {
    let server = FaultServer::start(|_: &Request| Answer::Hang);
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["timed out", "DEPLOYKF_CMP_READ_TIMEOUT", "gave up after 5 attempts"]);
}

#[test]
fn a_host_that_never_answered_is_not_waited_for_again_by_every_image() {
    let server = FaultServer::start(|_: &Request| Answer::Hang);
    // One image at a time: each would otherwise wait out its own 5 attempts.
    let run = mirror_images(&server.addr, 6, true, &[("DEPLOYKF_CMP_JOBS_UNUSED", String::new())], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["6 of 6 images failed", "requests in this run, not tried again"]);
    let probes = server.requests().len();
    assert!(probes <= 5 + 4, "the hanging host got {probes} requests");
}

#[test]
fn a_drip_fed_manifest_hits_the_request_deadline() {
    let server = FaultServer::start(|request: &Request| {
        registry_basics(request).unwrap_or(Answer::Drip { status: 200, headers: pairs(MANIFEST_HEADERS), length: Some(1 << 20), every: Duration::from_millis(200) })
    });
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["timed out", "/v2/src/app/manifests/1", "gave up after 5 attempts"]);
}

#[test]
fn an_endless_manifest_stops_at_the_manifest_limit() {
    let server = FaultServer::start(|request: &Request| registry_basics(request).unwrap_or(Answer::Endless { status: 200, headers: pairs(MANIFEST_HEADERS), fill: b' ' }));
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["/v2/src/app/manifests/1", "larger than the limit of 4 MiB"]);
}

#[test]
fn an_oversized_manifest_is_refused_not_pushed() {
    // 100 MiB of valid JSON announced by its Content-Length.
    let layer = b"layer".to_vec();
    let mut doc: serde_json::Value = serde_json::from_slice(&manifest_for(&layer)).unwrap();
    doc["annotations"] = serde_json::json!({ "padding": "x".repeat(100 << 20) });
    let huge = serde_json::to_vec(&doc).unwrap();
    let server = FaultServer::start(move |request: &Request| {
        if let Some(reply) = registry_basics(request) {
            return reply;
        }
        match (request.method.as_str(), request.path()) {
            ("GET", "/v2/src/app/manifests/1") => Answer::full(200, MANIFEST_HEADERS, huge.clone()),
            ("GET", p) if p.starts_with("/v2/src/app/blobs/") => Answer::full(200, &[], b"layer".to_vec()),
            _ => Answer::full(201, &[("Location", "/v2/dst/app/blobs/uploads/1")], Vec::new()),
        }
    });
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["/v2/src/app/manifests/1", "larger than the limit of 4 MiB"]);
    let pushed: Vec<Request> = server.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert!(pushed.is_empty(), "nothing is pushed: {pushed:?}");
}

#[test]
fn five_hundreds_with_endless_error_bodies_are_retried_then_reported() {
    let server = FaultServer::start(|request: &Request| registry_basics(request).unwrap_or(Answer::Endless { status: 500, headers: Vec::new(), fill: b'e' }));
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["500 Internal Server Error", "gave up after 5 attempts"]);
    let gets = server.requests().iter().filter(|r| r.path() == "/v2/src/app/manifests/1").count();
    assert_eq!(gets, 5, "the manifest is asked for once per attempt");
}

/// A server whose layer blob is `served` while the manifest names `layer`;
/// the target accepts uploads. Returns the server.
fn serving_a_wrong_blob(layer: Vec<u8>, served: Answer) -> FaultServer {
    let manifest = manifest_for(&layer);
    let (config_digest, served) = (digest(b"{}"), std::sync::Mutex::new(Some(served)));
    FaultServer::start(move |request: &Request| {
        if let Some(reply) = registry_basics(request) {
            return reply;
        }
        match (request.method.as_str(), request.path()) {
            ("GET", "/v2/src/app/manifests/1") => Answer::full(200, MANIFEST_HEADERS, manifest.clone()),
            ("GET", p) if p.ends_with(&config_digest) => Answer::full(200, &[], b"{}".to_vec()),
            ("GET", p) if p.starts_with("/v2/src/app/blobs/") => {
                served.lock().unwrap().take().unwrap_or(Answer::full(500, &[], Vec::new()))
            }
            ("POST", _) => Answer::full(202, &[("Location", "/v2/dst/app/blobs/uploads/1")], Vec::new()),
            ("PATCH", _) => Answer::full(202, &[("Location", "/v2/dst/app/blobs/uploads/1")], Vec::new()),
            _ => Answer::full(201, &[], Vec::new()),
        }
    })
}

#[test]
fn a_blob_of_the_wrong_digest_is_reported_and_not_committed() {
    let layer = b"the layer the manifest names".to_vec();
    let server = serving_a_wrong_blob(layer.clone(), Answer::full(200, &[], b"something else entirely!!!!!".to_vec()));
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    let url = format!("GET http://{}/v2/src/app/blobs/{}", server.addr, digest(&layer));
    assert_failed_cleanly(&run, &server.addr, &[&url, "corrupt source blob, not pushed"]);
    let sent: Vec<Request> =
        server.requests().into_iter().filter(|r| r.method == "PATCH" || r.path().contains(&format!("digest={}", digest(&layer)))).collect();
    assert!(sent.is_empty(), "nothing of the wrong blob is sent: {sent:?}");
}

#[test]
fn an_endless_blob_is_cut_at_its_descriptor_size() {
    // Over 1 MiB: the streamed upload path. (Were the first 2 MiB the
    // layer, cutting there would copy it correctly.)
    let layer = vec![8u8; 2 << 20];
    let server = serving_a_wrong_blob(layer.clone(), Answer::Endless { status: 200, headers: Vec::new(), fill: 7 });
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &[&format!("/v2/src/app/blobs/{}", digest(&layer)), "(expected 2097152 bytes", "corrupt source blob"]);
    let committed = format!("digest={}", digest(&layer));
    assert!(!server.requests().iter().any(|r| r.path().contains(&committed)), "the blob is never committed");
}

#[test]
fn a_host_that_is_no_registry_is_told_apart_from_a_missing_tag() {
    let server = FaultServer::start(|_: &Request| Answer::full(404, &[("Content-Type", "text/html")], b"<html>not here</html>".to_vec()));
    let run = mirror(&server.addr, true, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &["did not answer as an OCI registry", "/v2/ answered HTTP 404 Not Found"]);
    assert!(!run.stderr.contains("manifest unknown"), "{}", run.stderr);

    // A registry that does not have the tag says so, naming the URL and status.
    let registry = FaultServer::start(|request: &Request| registry_basics(request).unwrap_or(Answer::full(404, API_VERSION, Vec::new())));
    let run = mirror(&registry.addr, true, &[], NO_AUTH);
    let url = format!("GET http://{}/v2/src/app/manifests/1 answered 404 Not Found", registry.addr);
    assert_failed_cleanly(&run, &registry.addr, &["manifest unknown", &url, "the tag or repository does not exist there"]);
}

#[test]
fn a_plain_http_registry_reached_over_https_suggests_insecure_registry() {
    let server = FaultServer::start(|request: &Request| registry_basics(request).unwrap_or(Answer::full(404, API_VERSION, Vec::new())));
    let run = mirror(&server.addr, false, &[], NO_AUTH);
    assert_failed_cleanly(&run, &server.addr, &[&format!("--insecure-registry {}", server.addr)]);
}

#[test]
fn credentials_go_to_an_https_token_realm_never_to_a_plain_http_one() {
    let Some(openssl) = tools::require(&[Tool::Openssl]).map(|mut t| t.remove(0)) else { return };
    let certs = tempfile::tempdir().unwrap();
    support::registry::make_certificates(&openssl, certs.path(), &["localhost".to_string()]);
    let realm = FaultServer::start(|_: &Request| Answer::full(200, &[("Content-Type", "application/json")], br#"{"token":"t"}"#.to_vec()));
    let realm_url = format!("http://{}/token", realm.addr);
    let registry = FaultServer::start_tls(certs.path(), move |request: &Request| {
        if request.authorization().starts_with("Bearer ") {
            return Answer::full(404, API_VERSION, Vec::new());
        }
        let challenge = format!("Bearer realm=\"{realm_url}\",service=\"faulty\"");
        Answer::full(401, &[("WWW-Authenticate", &challenge)], Vec::new())
    });
    let auth = base64_auth("mirror-bot", "Realm-Secret-42");
    let authfile = serde_json::json!({"auths": {&registry.addr: {"auth": auth}}}).to_string();
    let ca = [("SSL_CERT_FILE", certs.path().join("ca.pem").display().to_string())];
    let run = mirror(&registry.addr, false, &ca, &authfile);
    assert_failed_cleanly(&run, &registry.addr, &[&format!("plain-http token realm http://{}/token", realm.addr), "refusing to send the credentials"]);
    assert!(!run.stderr.contains("Realm-Secret-42") && !run.stderr.contains(&auth), "{}", run.stderr);
    assert!(realm.requests().is_empty(), "the realm got no request: {:?}", realm.requests());

    // An https realm on another host gets them, as docker and containerd send them.
    let realm = FaultServer::start_tls(certs.path(), |_: &Request| {
        Answer::full(200, &[("Content-Type", "application/json")], br#"{"token":"from-https-realm"}"#.to_vec())
    });
    let realm_url = format!("https://localhost:{}/token", realm.addr.rsplit(':').next().unwrap());
    let registry = FaultServer::start_tls(certs.path(), move |request: &Request| match request.authorization() {
        "Bearer from-https-realm" => Answer::full(404, API_VERSION, Vec::new()),
        _ => Answer::full(401, &[("WWW-Authenticate", &format!("Bearer realm=\"{realm_url}\",service=\"faulty\""))], Vec::new()),
    });
    let authfile = serde_json::json!({"auths": {&registry.addr: {"auth": auth}}}).to_string();
    let run = mirror(&registry.addr, false, &ca, &authfile);
    assert_failed_cleanly(&run, &registry.addr, &["manifest unknown"]);
    let asked = realm.requests();
    assert!(asked.iter().any(|r| r.path().starts_with("/token?") && r.authorization() == format!("Basic {auth}")), "{asked:?}");
}

fn base64_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
