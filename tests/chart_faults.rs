//! Fault injection for chart pulls in plugin mode: `deploykf-cmp plugin init`
//! run as argocd-cmp-server runs it, for a Helm chart whose dependency comes
//! from a misbehaving server on 127.0.0.1 (`support::fault_server`): a hang, a
//! drip-feed, an endless body and 500s from a chart repository's `index.yaml`
//! and from an OCI chart manifest, an oversized manifest, a host that is not a
//! registry, an HTTPS registry naming a plain-HTTP token realm, and Docker Hub
//! reached at its API host. Every run must fail with exit 1 and an empty
//! stdout, name the host, end well within the configured deadline plus start-up
//! (a generous bound, far below the 30 s answer timeout), and peak below
//! 256 MiB (GNU time).

mod common;
mod support;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, write_tree, Run};
use support::fault_server::{pairs, Answer, FaultServer, Request};
use tempfile::TempDir;

/// The plugin deadline the runs get (`DEPLOYKF_CMP_DEADLINE_SECONDS`).
const DEADLINE_SECONDS: &str = "4";
/// A generous bound on a run's wall time: the deadline plus start-up and
/// render, below the 30 s answer and idle timeouts.
const ENDS_WITHIN: Duration = Duration::from_secs(25);
/// A run still going after this is killed (and the test fails).
const KILL_AFTER: Duration = Duration::from_secs(90);
/// Peak resident memory allowed, in KiB.
const PEAK_RSS_MAX_KIB: u64 = 256 * 1024;
const PASSWORD: &str = "Fault-pass-do-not-print";

/// A repository holding a generator whose Helm chart has one dependency,
/// its repository and version from the `values` parameter.
struct Site {
    dir: TempDir,
    helm_dir: PathBuf,
    time: PathBuf,
}

/// The outcome of one `plugin init`.
struct Outcome {
    run: Run,
    elapsed: Duration,
    peak_kib: u64,
}

fn site() -> Option<Site> {
    let helm = support::tools::helm()?;
    let time = support::tools::gnu_time()?;
    let dir = TempDir::new().unwrap();
    let files: Vec<(String, String)> = [
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}"),
        ("helpers/empty.tpl", ""),
        ("default_values.yaml", "deps:\n  repository: oci://127.0.0.1:1/charts\n  version: 3.0.1\n"),
        (
            "templates/manifests/demo-deps/Chart.yaml",
            "apiVersion: v2\nname: demo-deps\nversion: 1.0.0\ndependencies:\n  - name: kyverno\n    version: {{< .Values.deps.version | quote >}}\n    repository: {{< .Values.deps.repository | quote >}}\n",
        ),
        ("templates/manifests/demo-deps/values.yaml", "kyverno: {}\n"),
        ("templates/manifests/plain/Chart.yaml", "apiVersion: v2\nname: plain\nversion: 1.0.0\n"),
    ]
    .iter()
    .map(|(p, c)| (p.to_string(), c.to_string()))
    .collect();
    write_tree(&dir.path().join("repo/generator"), &files);
    for d in ["repo/deploy/app", "home", "tmp", "cache"] {
        fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    Some(Site { dir, helm_dir: helm.parent().unwrap().to_path_buf(), time })
}

impl Site {
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `plugin init` of the chart `demo-deps` with its dependency at `repository`.
    fn init(&self, repository: &str, env: &[(&str, String)]) -> Outcome {
        self.run("init", "./manifests/demo-deps/", repository, env)
    }

    /// `plugin <verb>` of the chart at `chart`, the dependency at `repository`,
    /// under GNU time, with the environment Argo CD gives a plugin plus `env`.
    fn run(&self, verb: &str, chart: &str, repository: &str, env: &[(&str, String)]) -> Outcome {
        let params = serde_json::json!([
            {"name": "source_path", "string": "../../generator"},
            {"name": "output_helm_path", "string": chart},
            {"name": "values", "string": format!("deps:\n  repository: {repository}\n  version: 3.0.1\n")},
        ]);
        let (stdout, stderr, rss) = (self.path("stdout"), self.path("stderr"), self.path("rss"));
        let mut cmd = Command::new(&self.time);
        cmd.args(["-f", "%M", "-o"])
            .arg(&rss)
            .arg(bin())
            .args(["plugin", verb])
            .current_dir(self.path("repo/deploy/app"))
            .env_clear()
            .env("PATH", env.iter().find(|(k, _)| *k == "PATH").map_or(self.helm_dir.as_os_str(), |(_, v)| v.as_ref()))
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("DEPLOYKF_CMP_CACHE_DIR", self.path("cache"))
            .env("DEPLOYKF_CMP_DEADLINE_SECONDS", DEADLINE_SECONDS)
            .env("ARGOCD_APP_NAME", "demo-deps")
            .env("ARGOCD_APP_NAMESPACE", "demo-ns")
            .env("ARGOCD_APP_SOURCE_REPO_URL", "https://git.example.com/platform/deploykf.git")
            .env("ARGOCD_APP_SOURCE_PATH", "deploy/app")
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
            .env("ARGOCD_APP_PARAMETERS", params.to_string())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).unwrap())
            .stderr(fs::File::create(&stderr).unwrap())
            .process_group(0);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("run GNU time");
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > KILL_AFTER {
                // The run's own process group: GNU time and the plugin under it.
                let group = libc::pid_t::try_from(child.id()).unwrap();
                assert!(group > 1);
                unsafe { libc::kill(-group, libc::SIGKILL) };
                let _ = child.wait();
                panic!("plugin {verb} did not end within {KILL_AFTER:?}:\n{}", fs::read_to_string(&stderr).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let elapsed = started.elapsed();
        let peak_kib = fs::read_to_string(&rss).unwrap().lines().last().and_then(|l| l.trim().parse().ok()).expect("GNU time's %M");
        let run = Run { code: status.code(), stdout: fs::read_to_string(&stdout).unwrap(), stderr: fs::read_to_string(&stderr).unwrap() };
        Outcome { run, elapsed, peak_kib }
    }
}

/// A failed run: exit 1, empty stdout, every needle on stderr, no password,
/// within [`ENDS_WITHIN`] and [`PEAK_RSS_MAX_KIB`].
fn assert_fault(outcome: &Outcome, needles: &[&str]) {
    let run = &outcome.run;
    assert_eq!(run.code, Some(1), "expected exit 1\nstderr:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout must stay empty:\n{}", run.stdout);
    for needle in needles {
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains(PASSWORD), "a password reached stderr:\n{}", run.stderr);
    assert!(outcome.elapsed < ENDS_WITHIN, "took {:?}:\n{}", outcome.elapsed, run.stderr);
    assert!(outcome.peak_kib <= PEAK_RSS_MAX_KIB, "peak RSS {} KiB:\n{}", outcome.peak_kib, run.stderr);
}

/// A chart repository whose `index.yaml` gets `fault`.
fn chart_repository(fault: fn() -> Answer) -> FaultServer {
    FaultServer::start(move |r: &Request| match r.path() {
        "/charts/index.yaml" => fault(),
        _ => Answer::reply(404, "text/plain", "no such file"),
    })
}

/// An OCI registry (plain HTTP) whose chart manifests get `fault`.
fn registry(fault: fn() -> Answer) -> FaultServer {
    FaultServer::start(move |r: &Request| {
        if r.path().starts_with("/v2/charts/kyverno/manifests/") {
            fault()
        } else {
            Answer::reply(404, "application/json", r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#)
        }
    })
}

fn insecure(server: &FaultServer) -> Vec<(&'static str, String)> {
    vec![("DEPLOYKF_CMP_INSECURE_REGISTRIES", server.addr.clone())]
}

fn hang() -> Answer {
    Answer::Hang
}

fn manifest_type() -> Vec<(String, String)> {
    pairs(&[("Content-Type", "application/vnd.oci.image.manifest.v1+json")])
}

/// A 200 whose body comes one byte per 100 ms, without end.
fn drip() -> Answer {
    Answer::Drip { status: 200, headers: manifest_type(), length: None, every: Duration::from_millis(100) }
}

fn endless() -> Answer {
    Answer::Endless { status: 200, headers: manifest_type(), fill: b'#' }
}

fn server_error() -> Answer {
    Answer::reply(500, "text/plain", "internal error")
}

#[test]
fn index_yaml_hang_ends_at_the_deadline_naming_the_host() {
    let Some(site) = site() else { return };
    let server = chart_repository(hang);
    let outcome = site.init(&format!("http://{}/charts", server.addr), &[]);
    assert_fault(&outcome, &[&server.addr, "deadline of 4 s", "DEPLOYKF_CMP_DEADLINE_SECONDS", "index"]);
}

#[test]
fn index_yaml_drip_feed_ends_at_the_deadline() {
    let Some(site) = site() else { return };
    let server = chart_repository(drip);
    let outcome = site.init(&format!("http://{}/charts", server.addr), &[]);
    assert_fault(&outcome, &[&server.addr, "deadline of 4 s", "index"]);
}

#[test]
fn endless_index_yaml_stops_at_its_limit() {
    let Some(site) = site() else { return };
    let server = chart_repository(endless);
    let outcome = site.init(&format!("http://{}/charts", server.addr), &[]);
    assert_fault(&outcome, &[&server.addr, "index.yaml", "larger than the limit of 64 MiB"]);
}

#[test]
fn index_yaml_500_names_the_host_and_status() {
    let Some(site) = site() else { return };
    let server = chart_repository(server_error);
    let outcome = site.init(&format!("http://{}/charts", server.addr), &[]);
    assert_fault(&outcome, &[&format!("HTTP 500 Internal Server Error from {}", server.addr)]);
}

#[test]
fn oci_manifest_hang_ends_at_the_deadline_naming_the_host() {
    let Some(site) = site() else { return };
    let server = registry(hang);
    let outcome = site.init(&format!("oci://{}/charts", server.addr), &insecure(&server));
    assert_fault(&outcome, &[&server.addr, "deadline of 4 s", "the manifest of charts/kyverno:3.0.1"]);
}

#[test]
fn oci_manifest_drip_feed_ends_at_the_deadline() {
    let Some(site) = site() else { return };
    let server = registry(drip);
    let outcome = site.init(&format!("oci://{}/charts", server.addr), &insecure(&server));
    assert_fault(&outcome, &[&server.addr, "deadline of 4 s", "manifest"]);
}

#[test]
fn endless_oci_manifest_stops_at_4_mib() {
    let Some(site) = site() else { return };
    let server = registry(endless);
    let outcome = site.init(&format!("oci://{}/charts", server.addr), &insecure(&server));
    assert_fault(&outcome, &[&server.addr, "the manifest of charts/kyverno:3.0.1", "larger than the limit of 4 MiB"]);
}

#[test]
fn oversized_oci_manifest_is_refused() {
    let Some(site) = site() else { return };
    let server = registry(|| Answer::reply(200, "application/vnd.oci.image.manifest.v1+json", vec![b' '; 16 << 20]));
    let outcome = site.init(&format!("oci://{}/charts", server.addr), &insecure(&server));
    assert_fault(&outcome, &[&server.addr, "larger than the limit of 4 MiB"]);
}

#[test]
fn oci_manifest_500_names_the_host_and_status() {
    let Some(site) = site() else { return };
    let server = registry(server_error);
    let outcome = site.init(&format!("oci://{}/charts", server.addr), &insecure(&server));
    assert_fault(&outcome, &[&format!("HTTP 500 Internal Server Error from {}", server.addr), "internal error"]);
}

/// A web server answering HTML is "not a registry"; a registry's own 404 for
/// the tag is "no such version".
#[test]
fn a_host_that_is_not_a_registry_is_told_apart_from_a_missing_version() {
    let Some(site) = site() else { return };
    let web = FaultServer::start(|_: &Request| Answer::reply(404, "text/html", "<html>Page not found</html>"));
    let outcome = site.init(&format!("oci://{}/charts", web.addr), &insecure(&web));
    assert_fault(&outcome, &[&format!("{} did not answer as an OCI registry", web.addr), "HTTP 404", "text/html"]);

    let registry = FaultServer::start(|r: &Request| {
        if r.path().contains("/tags/list") {
            Answer::reply(200, "application/json", r#"{"name":"charts/kyverno","tags":["2.0.0"]}"#)
        } else {
            Answer::reply(404, "application/json", r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#)
        }
    });
    let outcome = site.init(&format!("oci://{}/charts", registry.addr), &insecure(&registry));
    assert_fault(&outcome, &["no version of kyverno matching \"3.0.1\"", &registry.addr, "available: 2.0.0"]);
    assert!(!outcome.run.stderr.contains("did not answer as an OCI registry"), "{}", outcome.run.stderr);
}

/// An HTTPS registry whose Bearer realm is plain HTTP never gets the
/// credentials sent there.
#[test]
fn credentials_never_go_to_a_plain_http_realm_of_an_https_registry() {
    let Some(site) = site() else { return };
    let Some(openssl) = support::tools::openssl() else { return };
    let certs = site.path("certs");
    fs::create_dir_all(&certs).unwrap();
    support::registry::make_certificates(&openssl, &certs, &["127.0.0.1".to_string()]);
    let realm = FaultServer::start(|_: &Request| Answer::reply(200, "application/json", r#"{"token":"t"}"#));
    let challenge = format!("Bearer realm=\"http://{}/token\",service=\"fault\"", realm.addr);
    let registry = FaultServer::start_tls(&certs, move |r: &Request| match r.header("authorization") {
        Some(_) => Answer::reply(404, "application/json", r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#),
        None => Answer::Reply {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), challenge.clone()), ("Content-Type".into(), "application/json".into())],
            body: br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.to_vec(),
        },
    });
    let config = site.path("registry/config.json");
    support::registry::write_docker_config(&config, &registry.addr, "dkf", PASSWORD);
    let env = [("HELM_REGISTRY_CONFIG", config.display().to_string()), ("SSL_CERT_FILE", certs.join("ca.pem").display().to_string())];
    let outcome = site.init(&format!("oci://{}/charts", registry.addr), &env);
    assert_fault(&outcome, &[&registry.addr, "not HTTPS", "not sent in cleartext"]);
    let leaked: Vec<Request> = realm.requests().into_iter().filter(|r| r.header("authorization").is_some()).collect();
    assert!(leaked.is_empty(), "credentials sent to the http realm: {:?}", leaked.iter().map(|r| &r.target).collect::<Vec<_>>());
    assert!(!registry.requests().is_empty(), "the registry was asked");
}

/// `oci://docker.io/...` is fetched from registry-1.docker.io (seen through a
/// proxy), with the credentials docker stores under Docker Hub's legacy key.
#[test]
fn docker_hub_charts_are_fetched_from_registry_1_docker_io() {
    let Some(site) = site() else { return };
    let proxy = FaultServer::start(|r: &Request| {
        if r.header("authorization").is_none() {
            return Answer::Reply { status: 401, headers: vec![("WWW-Authenticate".into(), "Basic realm=\"hub\"".into())], body: Vec::new() };
        }
        if r.path().contains("/tags/list") {
            Answer::reply(200, "application/json", r#"{"name":"deploykf/kyverno","tags":["1.0.0"]}"#)
        } else {
            Answer::reply(404, "application/json", r#"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#)
        }
    });
    let config = site.path("registry/config.json");
    support::registry::write_docker_config(&config, "https://index.docker.io/v1/", "dkf", PASSWORD);
    let env = [
        ("HTTP_PROXY", format!("http://{}", proxy.addr)),
        ("DEPLOYKF_CMP_INSECURE_REGISTRIES", "docker.io".to_string()),
        ("HELM_REGISTRY_CONFIG", config.display().to_string()),
    ];
    let outcome = site.init("oci://docker.io/deploykf", &env);
    assert_fault(&outcome, &["no version of kyverno matching \"3.0.1\"", "available: 1.0.0"]);
    let requests = proxy.requests();
    assert!(requests.len() >= 3, "{requests:?}");
    for r in &requests {
        // The client first asks the host how to authenticate (`GET /v2/`).
        let to_chart = r.target.starts_with("http://registry-1.docker.io/v2/deploykf/kyverno/");
        assert!(to_chart || r.target == "http://registry-1.docker.io/v2/", "{}", r.target);
        assert_eq!(r.header("host"), Some("registry-1.docker.io"));
    }
    use base64::Engine;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("dkf:{PASSWORD}")));
    assert!(requests.iter().any(|r| r.header("authorization") == Some(basic.as_str())), "the Docker Hub credentials were sent");
}

/// A step that cannot be cut short cleanly (here a helm that never ends) is
/// stopped by the deadline's watchdog, which names it.
#[test]
fn a_hung_tool_is_stopped_by_the_deadline_watchdog() {
    let Some(site) = site() else { return };
    let fake = site.path("fake-bin");
    fs::create_dir_all(&fake).unwrap();
    let helm = fake.join("helm");
    fs::write(&helm, "#!/bin/sh\nexec /bin/sleep 20\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&helm, fs::Permissions::from_mode(0o755)).unwrap();
    let env = [("PATH", fake.display().to_string())];
    let init = site.run("init", "./manifests/plain/", "oci://127.0.0.1:1/charts", &env);
    assert_eq!(init.run.code, Some(0), "{}", init.run.stderr);
    let generate = site.run("generate", "./manifests/plain/", "oci://127.0.0.1:1/charts", &env);
    assert_fault(&generate, &["deadline of 4 s", "running helm template for the chart './manifests/plain/'"]);
}
