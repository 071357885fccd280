//! End-to-end checks of the registry test support: a real `docker-registry`
//! with TLS and htpasswd auth, charts pushed and pulled back with the real
//! helm, credentials rejected when wrong, and a kill/restart keeping storage.

mod support;

use std::fs;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
use support::tools::{self, Tool};

const USER: &str = "mirror-bot";
const PASSWORD: &str = "s3cret-Pa55-for-tests";

/// A packaged chart from the shared fixtures, or `None` (skip) when `../shared` is absent.
fn fixture_chart(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared")).join("fixtures/charts").join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED: {} is absent (shared fixtures not beside the repository)", path.display());
        None
    }
}

fn sha256(path: &std::path::Path) -> String {
    format!("{:x}", Sha256::digest(fs::read(path).unwrap()))
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn tls_htpasswd_registry_round_trips_a_chart_with_helm() {
    let Some(chart) = fixture_chart("kyverno-3.0.1.tgz") else { return };
    let Some(mut registry) = TestRegistry::start(RegistryOptions::plain().tls().auth(USER, PASSWORD).helm()) else {
        return;
    };
    assert!(registry.url().starts_with("https://127.0.0.1:"), "{}", registry.url());
    assert_eq!(registry.host(), format!("127.0.0.1:{}", registry.port()));

    // Auth is enforced: anonymous and wrong-password requests get 401.
    assert_eq!(registry.v2_status(None), 401);
    assert_eq!(registry.v2_status(Some((USER, "wrong-password"))), 401);
    assert_eq!(registry.v2_status(Some((USER, PASSWORD))), 200);

    let pushed = registry.push_chart(&chart, "charts");
    assert_eq!(pushed.reference, format!("{}/charts/kyverno:3.0.1", registry.helm_host()));
    assert!(pushed.digest.starts_with("sha256:") && pushed.digest.len() == 71, "{}", pushed.digest);

    // Other clients reach the same registry over TLS at 127.0.0.1 with the test CA.
    if let Some(skopeo) = tools::skopeo() {
        let authfile = tempfile::tempdir().unwrap();
        let authfile_json = authfile.path().join("auth.json");
        write_docker_config(&authfile_json, &registry.host(), USER, PASSWORD);
        let out = std::process::Command::new(&skopeo)
            .args(["inspect", "--raw", "--authfile"])
            .arg(&authfile_json)
            .arg("--cert-dir")
            .arg(registry.cert_dir().unwrap())
            .arg(format!("docker://{}/charts/kyverno:3.0.1", registry.host()))
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo inspect over TLS failed:\n{}", text(&out));
        assert_eq!(format!("sha256:{:x}", Sha256::digest(&out.stdout)), pushed.digest);
    }

    // helm pull with the CA and the logged-in registry config gets the same bytes back.
    let pull = |registry: &TestRegistry| {
        let dest = tempfile::tempdir().unwrap();
        let out = registry
            .helm_command()
            .args(["pull", &format!("oci://{}/charts/kyverno", registry.helm_host()), "--version", "3.0.1", "--destination"])
            .arg(dest.path())
            .args(registry.helm_tls_args())
            .output()
            .unwrap();
        assert!(out.status.success(), "helm pull failed:\n{}", text(&out));
        assert!(text(&out).contains(&pushed.digest), "helm pull did not report digest {}:\n{}", pushed.digest, text(&out));
        let pulled = dest.path().join("kyverno-3.0.1.tgz");
        assert_eq!(sha256(&pulled), sha256(&chart), "pulled chart differs from the pushed one");
    };
    pull(&registry);

    // The same pull with a wrong password in a docker config.json is refused,
    // and neither helm nor the registry log shows any password.
    let wrong_config = tempfile::tempdir().unwrap();
    let wrong_config_json = wrong_config.path().join("config.json");
    write_docker_config(&wrong_config_json, &registry.helm_host(), USER, "wrong-password");
    let out = registry
        .helm_command()
        .env("HELM_REGISTRY_CONFIG", &wrong_config_json)
        .args(["pull", &format!("oci://{}/charts/kyverno", registry.helm_host()), "--version", "3.0.1", "--destination"])
        .arg(wrong_config.path())
        .args(registry.helm_tls_args())
        .output()
        .unwrap();
    let output = text(&out);
    assert!(!out.status.success(), "helm pull with a wrong password succeeded:\n{output}");
    assert!(output.contains("401") || output.to_lowercase().contains("unauthorized"), "{output}");
    assert!(!output.contains("wrong-password") && !output.contains(PASSWORD), "helm printed a secret");
    let log = fs::read_to_string(registry.log_path()).unwrap();
    assert!(!log.contains(PASSWORD) && !log.contains("wrong-password"), "registry log holds a secret");

    // Killed and restarted: same port, same storage, the chart is still there.
    let port = registry.port();
    registry.stop();
    assert!(!registry.is_running());
    assert!(std::net::TcpStream::connect(registry.host()).is_err(), "port {port} still open after stop()");
    registry.restart();
    assert!(registry.is_running());
    assert_eq!(registry.port(), port);
    pull(&registry);
}

#[test]
fn plain_http_registry_with_auth_serves_helm_and_skopeo() {
    let Some(chart) = fixture_chart("kyverno-3.0.1.tgz") else { return };
    let Some(skopeo) = tools::require_one(Tool::Skopeo) else { return };
    let Some(registry) = TestRegistry::start(RegistryOptions::plain().auth(USER, PASSWORD).helm()) else { return };
    assert!(registry.url().starts_with("http://127.0.0.1:"));
    assert_eq!(registry.ca_pem_path(), None);
    assert_eq!(registry.v2_status(None), 401);

    let pushed = registry.push_chart(&chart, "/deploykf/charts/");
    assert_eq!(pushed.reference, format!("{}/deploykf/charts/kyverno:3.0.1", registry.host()));

    // skopeo reads the same docker config.json format and sees the manifest helm pushed.
    let authfile = tempfile::tempdir().unwrap();
    let authfile_json = authfile.path().join("auth.json");
    write_docker_config(&authfile_json, &registry.host(), USER, PASSWORD);
    let out = std::process::Command::new(&skopeo)
        .args(["inspect", "--raw", "--tls-verify=false", "--authfile"])
        .arg(&authfile_json)
        .arg(format!("docker://{}", pushed.reference))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo inspect failed:\n{}", text(&out));
    let manifest = out.stdout;
    assert_eq!(format!("sha256:{:x}", Sha256::digest(&manifest)), pushed.digest);
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json");
}

#[test]
fn tools_are_found_in_the_project_folder_before_path() {
    let Some(helm) = tools::helm() else { return };
    let project = tools::project_bin().join("helm");
    if project.is_file() {
        assert_eq!(helm, project);
    }
    let out = std::process::Command::new(&helm).args(["version", "--short"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("v3."), "{}", text(&out));
}
