//! Dependency resolution against local servers: a chart repository served by a
//! std-only HTTP server, and (when Debian's `docker-registry` is installed) a
//! real OCI registry with htpasswd auth. Chart archives come from
//! `../shared/fixtures/charts`; tests needing them skip with a message when absent.

use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::settings::INSECURE_REGISTRIES_ENV;


fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().unwrap().join(name)).unwrap()
}

#[path = "../../../tests/support/file_server.rs"]
mod file_server;
use file_server::{fixture_charts as fixtures, FileServer};

fn write_chart(dir: &Path, dependencies: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("Chart.yaml"), format!("apiVersion: v2\nname: parent\nversion: 1.0.0\ndependencies:\n{dependencies}")).unwrap();
}

/// A chart repository at `/charts`: kyverno (relative URL, digest, possibly
/// wrong), istio base 1.17.3/1.17.8 (absolute URLs, no digest) and
/// cert-manager v1.12.2/v1.12.10 (digests).
fn chart_repo(kyverno_digest: Option<&str>) -> FileServer {
    let mut files = HashMap::new();
    for name in ["kyverno-3.0.1.tgz", "base-1.17.3.tgz", "base-1.17.8.tgz", "cert-manager-v1.12.2.tgz", "cert-manager-v1.12.10.tgz"] {
        files.insert(format!("/charts/{name}"), fixture(name));
    }
    let digest = |name: &str| registry::digest::sha256_hex(&files[&format!("/charts/{name}")]);
    let kyverno = kyverno_digest.map_or_else(|| digest("kyverno-3.0.1.tgz"), String::from);
    let (cm10, cm2) = (digest("cert-manager-v1.12.10.tgz"), digest("cert-manager-v1.12.2.tgz"));
    FileServer::start(move |addr| {
        let index = format!(
            "apiVersion: v1\nentries:\n  kyverno:\n  - name: kyverno\n    version: 3.0.1\n    digest: {kyverno}\n    urls: [kyverno-3.0.1.tgz]\n  base:\n  - name: base\n    version: 1.17.3\n    urls: [http://{addr}/charts/base-1.17.3.tgz]\n  - name: base\n    version: 1.17.8\n    urls: [http://{addr}/charts/base-1.17.8.tgz]\n  cert-manager:\n  - name: cert-manager\n    version: v1.12.10\n    digest: {cm10}\n    urls: [cert-manager-v1.12.10.tgz]\n  - name: cert-manager\n    version: v1.12.2\n    digest: {cm2}\n    urls: [cert-manager-v1.12.2.tgz]\n"
        );
        files.insert("/charts/index.yaml".into(), index.into_bytes());
        files
    })
}

fn err(result: Result<()>) -> String {
    format!("{:#}", result.unwrap_err())
}

#[test]
fn chart_repository_index_semver_alias_condition_and_cache() {
    if fixtures().is_none() {
        return;
    }
    let repo = chart_repo(None);
    let url = format!("http://{}/charts", repo.addr);
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let options = ResolveOptions { cache_dir: Some(cache.clone()), ..Default::default() };
    let deps = format!(
        "  - alias: kyverno-alias\n    condition: kyverno.enabled\n    name: kyverno\n    version: \"3.0.1\"\n    repository: \"{url}/\"\n  - name: base\n    version: \"~1.17.0\"\n    repository: \"{url}\"\n  - name: cert-manager\n    version: \"1.12.10\"\n    repository: \"{url}\"\n"
    );
    for (round, chart) in ["first", "second"].iter().enumerate() {
        let chart_dir = work.path().join(chart);
        write_chart(&chart_dir, &deps);
        resolve(&chart_dir, &options).unwrap();
        let charts = chart_dir.join("charts");
        assert_eq!(std::fs::read(charts.join("kyverno-3.0.1.tgz")).unwrap(), fixture("kyverno-3.0.1.tgz"));
        assert_eq!(std::fs::read(charts.join("base-1.17.8.tgz")).unwrap(), fixture("base-1.17.8.tgz"), "~1.17.0 picks the highest");
        assert_eq!(std::fs::read(charts.join("cert-manager-v1.12.10.tgz")).unwrap(), fixture("cert-manager-v1.12.10.tgz"));
        let mut names: Vec<String> = std::fs::read_dir(&charts).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["base-1.17.8.tgz", "cert-manager-v1.12.10.tgz", "kyverno-3.0.1.tgz"], "no temporaries left");
        // Archives with an index digest are downloaded once; the index is read every time.
        assert_eq!(repo.count("/charts/kyverno-3.0.1.tgz"), 1);
        assert_eq!(repo.count("/charts/cert-manager-v1.12.10.tgz"), 1);
        assert_eq!(repo.count("/charts/base-1.17.8.tgz"), round + 1, "no digest, no cache");
        assert_eq!(repo.count("/charts/index.yaml"), 3 * (round + 1));
    }
    assert!(cache.join("sha256").join(registry::digest::sha256_hex(&fixture("kyverno-3.0.1.tgz"))).is_file());
}

#[test]
fn chart_repository_errors_name_the_dependency_and_what_to_do() {
    if fixtures().is_none() {
        return;
    }
    let repo = chart_repo(Some(&"deadbeef".repeat(8)));
    let url = format!("http://{}/charts", repo.addr);
    let work = tempfile::tempdir().unwrap();

    write_chart(work.path(), &format!("  - name: kyverno\n    version: 3.0.1\n    repository: {url}\n"));
    let message = err(resolve(work.path(), &ResolveOptions::default()));
    assert!(message.contains("dependency kyverno version \"3.0.1\" from http://"), "{message}");
    assert!(message.contains("digest mismatch") && message.contains("says sha256 deadbeefdeadbeef"), "{message}");
    assert!(!work.path().join("charts/kyverno-3.0.1.tgz").exists());

    write_chart(work.path(), &format!("  - name: base\n    version: \">=2.0.0 <3.0.0\"\n    repository: {url}\n"));
    let message = err(resolve(work.path(), &ResolveOptions::default()));
    assert!(message.contains("no version of base matching \">=2.0.0 <3.0.0\"") && message.contains("available: 1.17.3, 1.17.8"), "{message}");

    write_chart(work.path(), &format!("  - name: nothere\n    version: 1.0.0\n    repository: {url}\n"));
    let message = err(resolve(work.path(), &ResolveOptions::default()));
    assert!(message.contains("no chart named nothere"), "{message}");

    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    write_chart(work.path(), &format!("  - name: base\n    version: 1.17.8\n    repository: http://{closed}/charts\n"));
    let message = err(resolve(work.path(), &ResolveOptions::default()));
    assert!(message.contains("cannot connect") && message.contains("reachable"), "{message}");
}

#[test]
fn file_dependencies_are_copied_and_version_checked() {
    let work = tempfile::tempdir().unwrap();
    let fork = work.path().join("forks/trust-manager");
    std::fs::create_dir_all(fork.join("templates")).unwrap();
    std::fs::write(fork.join("Chart.yaml"), "apiVersion: v2\nname: trust-manager\nversion: 0.9.2-deploykf\n").unwrap();
    std::fs::write(fork.join("templates/a.yaml"), "kind: ConfigMap\n").unwrap();
    write_chart(work.path(), "  - alias: tm\n    name: trust-manager\n    version: 0.9.2-deploykf\n    repository: file://forks/trust-manager\n");
    resolve(work.path(), &ResolveOptions::default()).unwrap();
    let copied = work.path().join("charts/trust-manager");
    assert_eq!(std::fs::read_to_string(copied.join("templates/a.yaml")).unwrap(), "kind: ConfigMap\n");
    assert!(copied.join("Chart.yaml").is_file());
    // Resolving again replaces the copy.
    std::fs::write(fork.join("templates/a.yaml"), "kind: Secret\n").unwrap();
    resolve(work.path(), &ResolveOptions::default()).unwrap();
    assert_eq!(std::fs::read_to_string(copied.join("templates/a.yaml")).unwrap(), "kind: Secret\n");
    assert_eq!(std::fs::read_dir(work.path().join("charts")).unwrap().count(), 1, "no temporaries left");

    write_chart(work.path(), "  - name: trust-manager\n    version: 1.0.0\n    repository: file://forks/trust-manager\n");
    let message = err(resolve(work.path(), &ResolveOptions::default()));
    assert!(message.contains("has version \"0.9.2-deploykf\", which does not satisfy \"1.0.0\""), "{message}");
}

#[test]
fn charts_without_remote_dependencies_are_left_alone() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("Chart.yaml"), "apiVersion: v2\nname: plain\nversion: 1.0.0\n").unwrap();
    resolve(work.path(), &ResolveOptions::default()).unwrap();
    assert!(!work.path().join("charts").exists());
    write_chart(work.path(), "  - name: x\n    version: 1.0.0\n    repository: \"@stable\"\n");
    assert!(err(resolve(work.path(), &ResolveOptions::default())).contains("unsupported repository \"@stable\""));
}

const USER: &str = "chartpuller";
const PASSWORD: &str = "s3cret-Pa55word";

/// Debian's `docker-registry` on 127.0.0.1 with htpasswd auth, killed on drop.
struct Registry {
    child: Child,
    host: String,
    storage: PathBuf,
    tls: bool,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry over plain HTTP.
    fn start() -> Option<Registry> {
        Registry::start_with(false, true)
    }

    /// With `tls`, the registry serves HTTPS with a certificate for 127.0.0.1
    /// signed by a CA written to `ca.pem` in its folder; with `htpasswd`, it
    /// wants user `USER`, password `PASSWORD`, else it is open.
    fn start_with(tls: bool, htpasswd: bool) -> Option<Registry> {
        let found = |tool: &str| Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        if !found("docker-registry") || !found("htpasswd") {
            eprintln!("skipped: docker-registry or htpasswd not installed (apt-get install docker-registry apache2-utils)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let entry = Command::new("htpasswd").args(["-Bbn", USER, PASSWORD]).output().unwrap();
        assert!(entry.status.success());
        std::fs::write(dir.path().join("htpasswd"), &entry.stdout).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            storage.display(),
        );
        if htpasswd {
            config.insert_str(config.find("http:").unwrap(), &format!("auth:\n  htpasswd:\n    realm: test\n    path: {}\n", dir.path().join("htpasswd").display()));
        }
        if tls {
            make_certificates(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.path().join("server.pem").display(),
                dir.path().join("server.key").display()
            ));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .args(["serve", &dir.path().join("config.yml").to_string_lossy()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let registry = Registry { child, host, storage, tls, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&registry.host).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }

    /// The registry client of this registry, with `password` for `USER`.
    fn client(&self, password: &str) -> RegistryClient {
        let extra_roots = if self.tls { registry::pem_certificates(&self.ca_file()).unwrap() } else { Vec::new() };
        let insecure_registries = if self.tls { Vec::new() } else { vec![self.host.clone()] };
        let settings = OciSettings { extra_roots, insecure_registries, ..Default::default() };
        RegistryClient::new(&settings, self.credentials(password)).unwrap()
    }

    /// Credentials of `USER` with `password` for this registry.
    fn credentials(&self, password: &str) -> Credentials {
        use base64::Engine;
        let config = self._dir.path().join(format!("config-{}.json", registry::digest::sha256_hex(password.as_bytes())));
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
        std::fs::write(&config, serde_json::json!({"auths": {&self.host: {"auth": auth}}}).to_string()).unwrap();
        Credentials::load(&config).unwrap()
    }

    /// Pushes a chart archive the way `helm push` lays it out.
    async fn push(&self, repository: &str, tag: &str, archive: Vec<u8>) {
        chart::push_chart(&self.client(PASSWORD), &self.host, repository, &archive, &[tag.to_string()]).await.unwrap();
    }

    fn ca_file(&self) -> PathBuf {
        self._dir.path().join("ca.pem")
    }

    fn blob_path(&self, bytes: &[u8]) -> PathBuf {
        let hex = registry::digest::sha256_hex(bytes);
        self.storage.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(&hex).join("data")
    }
}

/// A test CA (`ca.pem`) and a server certificate for 127.0.0.1 (`server.pem`, `server.key`).
fn make_certificates(dir: &Path) {
    let run = |args: &str| {
        let status = Command::new("sh").arg("-c").arg(args).current_dir(dir).stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        assert!(status.success(), "openssl failed: {args}");
    };
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=deploykf-cmp test CA' -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1'");
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n").unwrap();
    run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf");
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn oci_registry_versions_cache_and_auth_errors() {
    if fixtures().is_none() {
        return;
    }
    let Some(registry) = Registry::start() else { return };
    let host = registry.host.clone();
    let work = tempfile::tempdir().unwrap();
    let charts = work.path().join("charts");
    std::fs::create_dir_all(&charts).unwrap();
    let options = ResolveOptions {
        insecure_registries: vec![host.clone()],
        cache_dir: Some(work.path().join("cache")),
        ..Default::default()
    };
    let dep = |name: &str, version: &str| Dependency {
        name: name.into(),
        version: version.into(),
        repository: format!("oci://{host}/charts"),
        alias: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        registry.push("charts/cert-manager", "v1.12.10", fixture("cert-manager-v1.12.10.tgz")).await;
        registry.push("charts/cert-manager", "v1.12.2", fixture("cert-manager-v1.12.2.tgz")).await;
        registry.push("charts/base", "1.17.3", fixture("base-1.17.3.tgz")).await;
        registry.push("charts/base", "1.17.8", fixture("base-1.17.8.tgz")).await;
        registry.push("charts/kyverno", "3.0.1", fixture("kyverno-3.0.1.tgz")).await;

        let client = registry.client(PASSWORD);
        let pull = |d: Dependency, options: ResolveOptions| {
            let (client, charts, host) = (&client, charts.clone(), host.clone());
            async move { pull_oci(client, &options, &charts, &d, &host, "/charts").await }
        };

        // Exact version X served by tag vX; a range resolved through the tag list.
        pull(dep("cert-manager", "1.12.10"), options.clone()).await.unwrap();
        assert_eq!(std::fs::read(charts.join("cert-manager-v1.12.10.tgz")).unwrap(), fixture("cert-manager-v1.12.10.tgz"));
        pull(dep("base", "~1.17.0"), options.clone()).await.unwrap();
        assert_eq!(std::fs::read(charts.join("base-1.17.8.tgz")).unwrap(), fixture("base-1.17.8.tgz"));
        pull(dep("cert-manager", "1.12.x"), options.clone()).await.unwrap();

        let message = format!("{:#}", pull(dep("kyverno", "9.9.9"), options.clone()).await.unwrap_err());
        assert!(message.contains("no version of kyverno matching \"9.9.9\"") && message.contains("available: 3.0.1"), "{message}");

        let message = format!("{:#}", pull(dep("nothere", "1.0.0"), options.clone()).await.unwrap_err());
        assert!(message.contains(&format!("charts/nothere not found on {host}")) && message.contains("push the chart"), "{message}");

        // A client with the wrong password.
        let wrong = "not-the-Pa55word";
        let fresh = registry.client(wrong);
        let wrong_options = ResolveOptions { credentials: registry.credentials(wrong), ..options.clone() };
        let result = pull_oci(&fresh, &wrong_options, &charts, &dep("kyverno", "3.0.1"), &host, "charts").await;
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains(&format!("401 Unauthorized from {host} for charts/kyverno")), "{message}");
        assert!(message.contains("HELM_REGISTRY_CONFIG"), "{message}");
        assert!(!message.contains(wrong) && !message.contains(PASSWORD), "{message}");

        // The cache serves the blob once the registry has lost it; without the cache the pull fails.
        pull(dep("kyverno", "3.0.1"), options.clone()).await.unwrap();
        std::fs::remove_file(registry.blob_path(&fixture("kyverno-3.0.1.tgz"))).unwrap();
        std::fs::remove_file(charts.join("kyverno-3.0.1.tgz")).unwrap();
        pull(dep("kyverno", "3.0.1"), options.clone()).await.unwrap();
        assert_eq!(std::fs::read(charts.join("kyverno-3.0.1.tgz")).unwrap(), fixture("kyverno-3.0.1.tgz"));
        let uncached = ResolveOptions { cache_dir: None, ..options.clone() };
        assert!(pull(dep("kyverno", "3.0.1"), uncached).await.is_err());
    });

    // Through resolve(): no credentials for the registry gives the HELM_REGISTRY_CONFIG hint.
    let chart_dir = work.path().join("chart");
    write_chart(&chart_dir, &format!("  - name: base\n    version: 1.17.8\n    repository: oci://{host}/charts\n"));
    let message = err(resolve(&chart_dir, &options));
    assert!(message.contains("dependency base version \"1.17.8\" from oci://"), "{message}");
    assert!(message.contains(&format!("401 Unauthorized from {host} for charts/base")), "{message}");

    // A plain-HTTP registry not listed as insecure: the message names the setting.
    let message = err(resolve(&chart_dir, &ResolveOptions::default()));
    assert!(message.contains(INSECURE_REGISTRIES_ENV), "{message}");

    // Unreachable registry.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    write_chart(&chart_dir, &format!("  - name: base\n    version: 1.17.8\n    repository: oci://{closed}/charts\n"));
    let message = err(resolve(&chart_dir, &ResolveOptions { insecure_registries: vec![closed.clone()], ..Default::default() }));
    assert!(message.contains(&format!("cannot connect to the registry {closed}")), "{message}");
}

#[test]
fn oci_registry_over_tls_with_a_private_ca() {
    if fixtures().is_none() {
        return;
    }
    let has_openssl = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !has_openssl {
        eprintln!("skipped: openssl not installed");
        return;
    }
    let Some(registry) = Registry::start_with(true, true) else { return };
    let host = registry.host.clone();
    let work = tempfile::tempdir().unwrap();
    let chart_dir = work.path().join("chart");
    write_chart(&chart_dir, &format!("  - name: kyverno\n    version: 3.0.1\n    repository: oci://{host}/charts\n"));

    // Without the CA: a TLS error pointing at SSL_CERT_FILE.
    let message = err(resolve(&chart_dir, &ResolveOptions::default()));
    assert!(message.contains(&format!("TLS connection to {host} failed")) && message.contains("SSL_CERT_FILE"), "{message}");

    // With the CA the handshake succeeds (anonymous pulls then meet the htpasswd wall)...
    let options = ResolveOptions { extra_ca_file: Some(registry.ca_file()), ..Default::default() };
    let message = err(resolve(&chart_dir, &options));
    assert!(message.contains(&format!("401 Unauthorized from {host} for charts/kyverno")), "{message}");

    // ...and an authenticated pull over HTTPS gets the chart.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        registry.push("charts/kyverno", "3.0.1", fixture("kyverno-3.0.1.tgz")).await;
        let client = registry.client(PASSWORD);
        let charts = chart_dir.join("charts");
        std::fs::create_dir_all(&charts).unwrap();
        let dep = Dependency { name: "kyverno".into(), version: "3.0.1".into(), repository: format!("oci://{host}/charts"), alias: None };
        pull_oci(&client, &options, &charts, &dep, &host, "charts").await.unwrap();
        assert_eq!(std::fs::read(charts.join("kyverno-3.0.1.tgz")).unwrap(), fixture("kyverno-3.0.1.tgz"));
    });
}

/// `helm` from `DEPLOYKF_CMP_HELM` or PATH, if any.
fn helm() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DEPLOYKF_CMP_HELM") {
        return Some(PathBuf::from(path));
    }
    let out = Command::new("sh").args(["-c", "command -v helm"]).output().ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// End to end with the real helm: charts pushed by `helm push`, resolved here
/// (oci://, https index, file:// folder), then rendered by `helm template`.
#[test]
fn helm_pushed_charts_resolve_and_render_with_helm_template() {
    if fixtures().is_none() {
        return;
    }
    let Some(helm) = helm() else {
        eprintln!("skipped: helm not found (set DEPLOYKF_CMP_HELM or put helm on PATH)");
        return;
    };
    let Some(registry) = Registry::start_with(false, false) else { return };
    let host = registry.host.clone();
    let work = tempfile::tempdir().unwrap();
    let helm_env = |cmd: &mut Command| {
        cmd.env("HELM_CACHE_HOME", work.path().join("helm/cache"))
            .env("HELM_CONFIG_HOME", work.path().join("helm/config"))
            .env("HELM_DATA_HOME", work.path().join("helm/data"));
    };
    let archive = fixtures().unwrap().join("cert-manager-v1.12.10.tgz");
    let mut push = Command::new(&helm);
    push.args(["push", &archive.to_string_lossy(), &format!("oci://{host}/charts"), "--plain-http"]);
    helm_env(&mut push);
    let out = push.output().unwrap();
    assert!(out.status.success(), "helm push: {}", String::from_utf8_lossy(&out.stderr));

    let repo = chart_repo(None);
    let chart_dir = work.path().join("deploykf-cert-manager");
    let fork = chart_dir.join("forks/trust-manager");
    std::fs::create_dir_all(fork.join("templates")).unwrap();
    std::fs::write(fork.join("Chart.yaml"), "apiVersion: v2\nname: trust-manager\nversion: 0.9.2-deploykf\n").unwrap();
    std::fs::write(fork.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: trust-manager-fork\n").unwrap();
    write_chart(
        &chart_dir,
        &format!(
            "  - alias: cert-manager\n    name: cert-manager\n    version: \"1.12.10\"\n    repository: oci://{host}/charts\n  - alias: trust-manager\n    name: trust-manager\n    version: 0.9.2-deploykf\n    repository: file://forks/trust-manager\n  - alias: kyverno\n    condition: kyvernoEnabled\n    name: kyverno\n    version: 3.0.1\n    repository: http://{}/charts\n",
            repo.addr
        ),
    );
    let options = ResolveOptions { insecure_registries: vec![host.clone()], ..Default::default() };
    resolve(&chart_dir, &options).unwrap();
    assert_eq!(std::fs::read(chart_dir.join("charts/cert-manager-v1.12.10.tgz")).unwrap(), std::fs::read(&archive).unwrap());

    let mut template = Command::new(&helm);
    template.args(["template", "test", &chart_dir.to_string_lossy(), "--namespace", "ns", "--set", "kyvernoEnabled=false"]);
    helm_env(&mut template);
    let out = template.output().unwrap();
    let rendered = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "helm template: {}", String::from_utf8_lossy(&out.stderr));
    assert!(rendered.contains("name: test-cert-manager-webhook"), "cert-manager subchart rendered");
    assert!(rendered.contains("name: trust-manager-fork"), "file:// folder subchart rendered");
    assert!(!rendered.contains("kyverno"), "condition honoured by helm, not by resolve");
}

#[test]
fn concurrent_resolves_share_one_cache() {
    if fixtures().is_none() {
        return;
    }
    let repo = chart_repo(None);
    let work = tempfile::tempdir().unwrap();
    let options = ResolveOptions { cache_dir: Some(work.path().join("cache")), ..Default::default() };
    let deps = format!("  - name: kyverno\n    version: 3.0.1\n    repository: http://{}/charts\n  - name: cert-manager\n    version: 1.12.x\n    repository: http://{}/charts\n", repo.addr, repo.addr);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (dir, options, deps) = (work.path().join(format!("chart{i}")), options.clone(), deps.clone());
            std::thread::spawn(move || {
                write_chart(&dir, &deps);
                resolve(&dir, &options).map(|()| dir)
            })
        })
        .collect();
    for thread in threads {
        let dir = thread.join().unwrap().unwrap();
        assert_eq!(std::fs::read(dir.join("charts/kyverno-3.0.1.tgz")).unwrap(), fixture("kyverno-3.0.1.tgz"));
        assert_eq!(std::fs::read(dir.join("charts/cert-manager-v1.12.10.tgz")).unwrap(), fixture("cert-manager-v1.12.10.tgz"));
    }
    let cached: Vec<_> = std::fs::read_dir(work.path().join("cache/sha256")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(cached.len(), 2, "one entry per archive, no temporaries: {cached:?}");
}

/// A server on 127.0.0.1 that accepts connections, reads nothing and never
/// answers, until it is dropped (or after 60 s).
struct SilentServer {
    addr: String,
    stop: std::sync::mpsc::Sender<()>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end && stopped.recv_timeout(Duration::from_millis(20)) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                if let Ok((stream, _)) = listener.accept() {
                    held.push(stream);
                }
            }
        });
        SilentServer { addr, stop }
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        let _ = self.stop.send(());
    }
}

#[test]
fn chart_pulls_and_index_downloads_honour_the_configured_timeouts() {
    let server = SilentServer::start();
    let addr = server.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let chart_dir = work.path().join("chart");
    // A read timeout of 1 s ends each fetch long before the run's deadline of
    // 40 s, which the defaults (30 s of silence) would reach first.
    let options = ResolveOptions {
        insecure_registries: vec![addr.clone()],
        deadline: crate::deadline::Deadline::since(40, std::time::SystemTime::now()),
        timeouts: Timeouts { connect: Duration::from_secs(1), read: Duration::from_secs(1), request: Duration::from_secs(2) },
        ..Default::default()
    };
    for repository in [format!("http://{addr}/charts"), format!("oci://{addr}/charts")] {
        write_chart(&chart_dir, &format!("  - name: base\n    version: 1.17.8\n    repository: {repository}\n"));
        let message = err(resolve(&chart_dir, &options));
        assert!(message.contains(&addr) && !message.contains("deadline"), "{repository}: {message}");
        assert!(message.contains("timed out") || message.contains("sent nothing"), "{repository}: {message}");
    }
}
