//! `deploykf-cmp mirror --charts-file`: charts of an `http(s)://` chart
//! repository (a std-only server on 127.0.0.1 serving `index.yaml` and the
//! archives of `../shared/fixtures/charts`) pushed into a real
//! `docker-registry` with basic auth, then pulled back with `helm pull`, byte
//! for byte. Skipped when the fixtures, docker-registry, htpasswd or helm are
//! missing.

mod support;

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest as _, Sha256};
use support::file_server::{fixture_charts as fixtures, FileServer};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};

const USER: &str = "chart-bot";
const PASSWORD: &str = "Charts-Pa55-plugh";


fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// `/charts`: cert-manager v1.12.10 and kyverno 3.0.1 with their digests;
/// `/bad`: kyverno 3.0.1 whose index digest is wrong.
fn chart_repo(fixtures: &Path) -> FileServer {
    let cm = fs::read(fixtures.join("cert-manager-v1.12.10.tgz")).unwrap();
    let ky = fs::read(fixtures.join("kyverno-3.0.1.tgz")).unwrap();
    FileServer::start(move |_| {
        let index = |ky_digest: &str| {
            format!(
                "apiVersion: v1\nentries:\n  cert-manager:\n  - name: cert-manager\n    version: v1.12.10\n    digest: {}\n    urls: [cert-manager-v1.12.10.tgz]\n  kyverno:\n  - name: kyverno\n    version: 3.0.1\n    digest: {ky_digest}\n    urls: [kyverno-3.0.1.tgz]\n",
                sha256_hex(&cm)
            )
        };
        let mut files = HashMap::new();
        files.insert("/charts/index.yaml".to_string(), index(&sha256_hex(&ky)).into_bytes());
        files.insert("/bad/index.yaml".to_string(), index(&"0".repeat(64)).into_bytes());
        for dir in ["charts", "bad"] {
            files.insert(format!("/{dir}/cert-manager-v1.12.10.tgz"), cm.clone());
            files.insert(format!("/{dir}/kyverno-3.0.1.tgz"), ky.clone());
        }
        files
    })
}

fn mirror(dir: &Path, target: &TestRegistry, args: &[&str]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .arg("mirror")
        .args(args)
        .arg("--authfile")
        .arg(dir.join("auth.json"))
        .args(["--insecure-registry", &target.host()])
        .env_remove("DEPLOYKF_CMP_INSECURE_REGISTRIES")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

/// `helm pull oci://…/<repository> --version <version>`: the pulled archive.
fn helm_pull(target: &TestRegistry, dir: &Path, repository: &str, version: &str) -> Vec<u8> {
    let dest = dir.join(format!("pulled-{}-{version}", repository.replace('/', "_")));
    fs::create_dir_all(&dest).unwrap();
    let out = target
        .helm_command()
        .args(["pull", &format!("oci://{}/{repository}", target.helm_host()), "--version", version, "--destination"])
        .arg(&dest)
        .args(target.helm_tls_args())
        .output()
        .unwrap();
    assert!(out.status.success(), "helm pull {repository} {version}: {}", String::from_utf8_lossy(&out.stderr));
    let pulled: Vec<_> = fs::read_dir(&dest).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(pulled.len(), 1, "{pulled:?}");
    fs::read(&pulled[0]).unwrap()
}

#[test]
fn https_repository_charts_are_pushed_as_helm_does_and_pulled_back_unchanged() {
    let Some(fixtures) = fixtures() else { return };
    let Some(target) = TestRegistry::start(RegistryOptions::plain().auth(USER, PASSWORD).helm()) else { return };
    let repo = chart_repo(&fixtures);
    let dir = tempfile::tempdir().unwrap();
    write_docker_config(&dir.path().join("auth.json"), &target.host(), USER, PASSWORD);
    let host = target.host();
    let source = format!("http://{}/charts", repo.addr);
    // cert-manager goes where the mirror rules send its repository; kyverno names its target.
    let config = dir.path().join("mirror.yaml");
    fs::write(
        &config,
        format!("mirror:\n  images: {{registry: {host}}}\n  charts:\n    repository: oci://{host}/unused\n    overrides: [{{from: \"{source}\", to: \"oci://{host}/mirror/charts\"}}]\n"),
    )
    .unwrap();
    let charts = dir.path().join("charts.txt");
    fs::write(&charts, format!("# deployKF charts\n{source} cert-manager v1.12.10\n{source} kyverno 3.0.1 oci://{host}/other\n")).unwrap();
    let args = ["--charts-file", charts.to_str().unwrap(), "--mirror", config.to_str().unwrap()];

    let (out, stderr) = mirror(dir.path(), &target, &args.iter().copied().chain(["--dry-run"]).collect::<Vec<_>>());
    assert!(out.status.success(), "{stderr}");
    let planned = String::from_utf8_lossy(&out.stdout);
    assert!(planned.contains(&format!("{source} cert-manager v1.12.10 -> oci://{host}/mirror/charts/cert-manager")), "{planned}");
    assert!(planned.contains(&format!("{source} kyverno 3.0.1 -> oci://{host}/other/kyverno")), "{planned}");
    assert_eq!(repo.count("/charts/index.yaml"), 0, "a dry run fetches nothing");

    let (out, stderr) = mirror(dir.path(), &target, &args);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("charts: 2 pushed, 0 already present, 0 failed"), "{stderr}");

    target.helm_login();
    let cert_manager = fs::read(fixtures.join("cert-manager-v1.12.10.tgz")).unwrap();
    for version in ["1.12.10", "v1.12.10"] {
        let pulled = helm_pull(&target, dir.path(), "mirror/charts/cert-manager", version);
        assert!(pulled == cert_manager, "helm pull --version {version} gets the archive unchanged");
    }
    let kyverno = fs::read(fixtures.join("kyverno-3.0.1.tgz")).unwrap();
    assert!(helm_pull(&target, dir.path(), "other/kyverno", "3.0.1") == kyverno);

    // The config blob is byte for byte the one `helm push` writes for the same archive.
    let config_of = |repository: &str, tag: &str| {
        let (status, body) = get(&format!("{}/v2/{repository}/manifests/{tag}", target.url()));
        assert_eq!(status, 200, "{repository}:{tag}");
        let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(manifest["layers"][0]["mediaType"], "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
        let digest = manifest["config"]["digest"].as_str().unwrap().to_string();
        let (status, config) = get(&format!("{}/v2/{repository}/blobs/{digest}", target.url()));
        assert_eq!(status, 200);
        String::from_utf8(config).unwrap()
    };
    target.push_chart(&fixtures.join("cert-manager-v1.12.10.tgz"), "helm-pushed");
    let ours = config_of("mirror/charts/cert-manager", "v1.12.10");
    assert_eq!(ours, config_of("helm-pushed/cert-manager", "v1.12.10"));
    assert!(ours.starts_with(r#"{"name":"cert-manager","#), "{ours}");
    target.push_chart(&fixtures.join("kyverno-3.0.1.tgz"), "helm-pushed");
    assert_eq!(config_of("other/kyverno", "3.0.1"), config_of("helm-pushed/kyverno", "3.0.1"));

    // A re-run finds every tag naming the same manifest: nothing is pushed.
    let (out, stderr) = mirror(dir.path(), &target, &args);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("charts: 0 pushed, 2 already present, 0 failed"), "{stderr}");
}

#[test]
fn a_chart_not_matching_its_index_digest_is_not_pushed() {
    let Some(fixtures) = fixtures() else { return };
    let Some(target) = TestRegistry::start(RegistryOptions::plain().auth(USER, PASSWORD)) else { return };
    let repo = chart_repo(&fixtures);
    let dir = tempfile::tempdir().unwrap();
    write_docker_config(&dir.path().join("auth.json"), &target.host(), USER, PASSWORD);
    let host = target.host();
    // The JSON of `deploykf-cmp charts --output json`, targets from the mirror rules.
    let bad = format!("http://{}/bad", repo.addr);
    let config = dir.path().join("mirror.yaml");
    fs::write(&config, format!("mirror:\n  images: {{registry: {host}}}\n  charts:\n    overrides: [{{from: \"{bad}\", to: \"oci://{host}/m\"}}]\n    repository: oci://{host}/unused\n")).unwrap();
    let charts = dir.path().join("charts.json");
    fs::write(
        &charts,
        format!(
            r#"[{{"name":"kyverno","version":"3.0.x","resolved_version":"3.0.1","repository":"{bad}","component":"kyverno"}},
                {{"name":"cert-manager","version":"v1.12.10","resolved_version":null,"repository":"{bad}","component":"cert-manager"}}]"#
        ),
    )
    .unwrap();
    let (out, stderr) = mirror(dir.path(), &target, &["--charts-file", charts.to_str().unwrap(), "--mirror", config.to_str().unwrap()]);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("charts: 1 pushed, 0 already present, 1 failed"), "{stderr}");
    assert!(stderr.contains("1 of 2 charts failed"), "{stderr}");
    assert!(stderr.contains("kyverno") && stderr.contains("digest mismatch"), "{stderr}");
    assert_eq!(get(&format!("{}/v2/m/kyverno/tags/list", target.url())).0, 404, "nothing of kyverno was pushed");
    assert_eq!(get(&format!("{}/v2/m/cert-manager/manifests/v1.12.10", target.url())).0, 200);
}

/// The status and body of a `GET` with the target's basic credentials (a tiny std-only client).
fn get(url: &str) -> (u16, Vec<u8>) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {basic}\r\nAccept: application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map_or(response.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { unchunk(&response[split..]) } else { response[split..].to_vec() };
    (status, body)
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
    out
}
