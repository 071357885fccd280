//! The offline site, end to end, for deployKF 0.1.5 with its sample values.
//!
//! The test re-runs itself in a private network, mount and pid namespace
//! (`unshare`) whose own hosts file maps every public host name to a loopback
//! address of its own (the machine's `/etc/hosts` is left alone). There:
//!
//! - fake public registries (Debian's docker-registry, TLS from a throw-away
//!   CA naming the real hosts) answer as `registry-1.docker.io`, `ghcr.io`,
//!   `quay.io`, `gcr.io`, ... and every other host the inventory names, while
//!   `docker.io` answers every request with a redirect to `www.docker.com`, as
//!   Docker Hub does; the https chart repositories serve the fixture charts;
//! - `deploykf-cmp images`/`charts --output list` give the inventory; each
//!   image is created synthetically (some as multi-arch indexes), Bitnami's
//!   only under `docker.io/bitnamilegacy`, where upstream moved them;
//! - `deploykf-cmp mirror` copies images and charts into a private TLS +
//!   htpasswd registry (`registry.site.internal`) with a mirror config that
//!   aliases `docker.io/bitnami` to `docker.io/bitnamilegacy`;
//! - the public side is switched off and the whole app-of-apps is unfolded
//!   through `argocd-cmp-harness` with only the site-wide mirror config
//!   (enforced), the site CA and `HELM_REGISTRY_CONFIG`;
//! - every image reference of the unfolded tree, found by the test's own scan
//!   of the output text (pod specs, CRD fields, ConfigMap data, flags), must be
//!   in the private registry with its index children and blobs; no public
//!   reference may be left, and every Application must render.
//!
//! The second test crosses a true gap instead, as an upgrade: on the
//! connected side `deploykf-cmp bundle create` writes one file for deployKF
//! 0.1.4 with its sample values and a delta for 0.1.5 `--since` that file,
//! which stores no blob the 0.1.4 file stores (no machine reaches both
//! sides). The public side is switched off; the delta alone is refused (its
//! base is not there yet); `bundle push` fills the private registry from the
//! 0.1.4 file, then the delta goes on top (extracting the generator zip and
//! writing the image lock), and every inventory image's digest there
//! (`skopeo inspect --raw`, and the lock) equals the source's; `bundle
//! create` takes the same mirror configuration for its source alias. The
//! 0.1.5 tree is then checked as above.

mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bin, shared, Run};
use regex::Regex;
use support::harness::{Tree, REPO_URL};
use support::images::{random_layer, Pusher, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use support::registry::{make_certificates, write_docker_config, RegistryOptions, TestRegistry};
use support::tools::{self, Tool};
use tempfile::TempDir;

/// Set in the re-run inside the namespaces.
const INSIDE: &str = "DEPLOYKF_CMP_TEST_OFFLINE_SITE_NAMESPACE";

/// How the images and charts reach the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Crossing {
    /// `deploykf-cmp mirror`, registry to registry.
    Mirror,
    /// `bundle create` of 0.1.4 and of a 0.1.5 delta, the public side off,
    /// then `bundle push` of both.
    Bundle,
}

impl Crossing {
    fn test_name(self) -> &'static str {
        match self {
            Crossing::Mirror => "the_offline_site_pulls_every_image_from_the_private_registry",
            Crossing::Bundle => "the_offline_site_across_the_gap_with_a_bundle",
        }
    }
}

/// The site's private registry and its credentials.
const SITE_HOST: &str = "registry.site.internal";
const USER: &str = "site-mirror";
const PASSWORD: &str = "s3cret-Offline-site-pass";

/// Registry hosts that always run, whether the inventory names them or not
/// (Docker Hub's API host stands for `docker.io`).
const PUBLIC_REGISTRIES: [&str; 6] = ["registry-1.docker.io", "ghcr.io", "quay.io", "gcr.io", "registry.k8s.io", "public.ecr.aws"];

/// The https chart repositories of deployKF 0.1.5 and 0.1.4: (host, path, fixture charts).
const CHART_REPOSITORIES: [(&str, &str, &[&str]); 3] = [
    ("charts.jetstack.io", "", &["cert-manager-v1.12.10.tgz", "cert-manager-v1.12.2.tgz"]),
    (
        "istio-release.storage.googleapis.com",
        "charts",
        &["base-1.17.8.tgz", "istiod-1.17.8.tgz", "gateway-1.17.8.tgz", "base-1.17.3.tgz", "istiod-1.17.3.tgz", "gateway-1.17.3.tgz"],
    ),
    ("kyverno.github.io", "kyverno", &["kyverno-3.0.1.tgz"]),
];

/// The release the bundle crossing upgrades from.
const OLD_VERSION: &str = "0.1.4";

/// Where Docker Hub's registry name sends every request (a web site, served too).
const DOCKER_HUB_WEB: &str = "https://www.docker.com/";

/// The mirror configuration of the site.
fn mirror_config() -> String {
    format!(
        "mirror:\n  images:\n    registry: {SITE_HOST}/deploykf\n    sources:\n      - from: docker.io/bitnami\n        \
         pullFrom: docker.io/bitnamilegacy\n  charts:\n    repository: oci://{SITE_HOST}/deploykf/charts\n"
    )
}

#[test]
fn the_offline_site_pulls_every_image_from_the_private_registry() {
    offline_site(Crossing::Mirror);
}

#[test]
fn the_offline_site_across_the_gap_with_a_bundle() {
    offline_site(Crossing::Bundle);
}

/// Runs the site in its namespaces (the test re-run inside them).
fn offline_site(crossing: Crossing) {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures, argocd-cmp-harness) is absent");
        return;
    };
    if std::env::var_os(INSIDE).is_some() {
        inside_the_namespace(&shared, crossing);
        return;
    }
    let unshare = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"];
    let probe = Command::new("unshare").args(unshare).arg("true").stderr(Stdio::piped()).output();
    match probe {
        Ok(out) if out.status.success() => {}
        other => {
            let why = match other {
                Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
                Err(e) => e.to_string(),
            };
            tools::unavailable::<()>(&format!(
                "the offline site needs a private network and mount namespace (`unshare {}` as root): {why}",
                unshare.join(" ")
            ));
            return;
        }
    }
    // Everything started inside dies with the namespace's first process.
    let status = Command::new("unshare")
        .args(unshare)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", crossing.test_name(), "--nocapture", "--test-threads=1"])
        .env(INSIDE, "1")
        .status()
        .expect("run unshare");
    assert!(status.success(), "the offline site failed inside its namespace (its output is above)");
}

/// A web server (Python's http.server over TLS) on `ADDRESS:443`: `files DIR`
/// serves a folder, `redirect URL` answers every request with a 301 to URL.
const WEB_SERVER: &str = r#"
import functools, http.server, ssl, sys
address, cert, key, mode, arg = sys.argv[1:6]
class Handler(http.server.SimpleHTTPRequestHandler):
    def redirect(self):
        self.send_response(301)
        self.send_header("Location", arg)
        self.send_header("Content-Length", "0")
        self.end_headers()
if mode == "redirect":
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
        setattr(Handler, "do_" + method, Handler.redirect)
    handler = Handler
else:
    handler = functools.partial(Handler, directory=arg)
server = http.server.ThreadingHTTPServer((address, 443), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
"#;

/// The fake public internet: host names on loopback addresses in the
/// namespace's hosts file, registries and web servers answering under them.
struct World {
    dir: TempDir,
    openssl: PathBuf,
    hosts: Vec<(IpAddr, String)>,
    registries: BTreeMap<String, TestRegistry>,
    web: Vec<(String, Child)>,
    /// Every CA of the fake public side.
    cas: Vec<PathBuf>,
}

impl World {
    /// Brings `lo` up and puts an empty hosts file over `/etc/hosts` (inside the namespace only).
    fn new(openssl: PathBuf) -> World {
        let dir = tempfile::Builder::new().prefix("offline-site-").tempdir().unwrap();
        let world = World { dir, openssl, hosts: Vec::new(), registries: BTreeMap::new(), web: Vec::new(), cas: Vec::new() };
        world.write_hosts();
        run_ok(Command::new("ip").args(["link", "set", "lo", "up"]));
        run_ok(Command::new("mount").arg("--bind").arg(world.dir.path().join("hosts")).arg("/etc/hosts"));
        world
    }

    fn write_hosts(&self) {
        let mut text = "127.0.0.1 localhost\n".to_string();
        for (ip, name) in &self.hosts {
            text += &format!("{ip} {name}\n");
        }
        // Rewritten in place: the bind mount holds the inode.
        fs::write(self.dir.path().join("hosts"), text).unwrap();
    }

    /// A loopback address of its own for `name`, in the hosts file.
    fn address(&mut self, name: &str) -> IpAddr {
        if let Some((ip, _)) = self.hosts.iter().find(|(_, n)| n == name) {
            return *ip;
        }
        let last = u8::try_from(self.hosts.len() + 2).expect("fewer than 250 hosts");
        let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 1, last));
        self.hosts.push((ip, name.to_string()));
        self.write_hosts();
        ip
    }

    /// A registry (anonymous, TLS) answering as `host` on port 443.
    fn start_registry(&mut self, host: &str) -> &TestRegistry {
        if !self.registries.contains_key(host) {
            let ip = self.address(host);
            let registry = TestRegistry::start(RegistryOptions::default().tls().named(ip, &[host])).expect("docker-registry");
            self.cas.push(registry.ca_pem_path().unwrap());
            self.registries.insert(host.to_string(), registry);
        }
        &self.registries[host]
    }

    /// A web server answering as `host` on port 443 (see [`WEB_SERVER`]).
    fn start_web(&mut self, host: &str, mode: &str, arg: &str) {
        let ip = self.address(host);
        let dir = self.dir.path().join("web").join(host);
        fs::create_dir_all(&dir).unwrap();
        make_certificates(&self.openssl, &dir, &[host.to_string()]);
        self.cas.push(dir.join("ca.pem"));
        let script = self.dir.path().join("web-server.py");
        fs::write(&script, WEB_SERVER).unwrap();
        let log = fs::File::create(dir.join("requests.log")).unwrap();
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(ip.to_string())
            .arg(dir.join("server.pem"))
            .arg(dir.join("server.key"))
            .args([mode, arg])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("run python3");
        let mut ready = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "the web server for {host} did not start");
        self.web.push((host.to_string(), child));
    }

    /// One PEM file with every CA of the fake public side.
    fn ca_bundle(&self) -> PathBuf {
        let path = self.dir.path().join("public-cas.pem");
        let pem: Vec<u8> = self.cas.iter().flat_map(|ca| fs::read(ca).unwrap()).collect();
        fs::write(&path, pem).unwrap();
        path
    }

    /// Stops every public registry and web server; their names still resolve.
    fn switch_off(&mut self) {
        let public: Vec<String> = self.registries.keys().cloned().chain(self.web.iter().map(|(h, _)| h.clone())).collect();
        self.registries.clear();
        for (_, child) in &mut self.web {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.web.clear();
        for (ip, name) in self.hosts.iter().filter(|(_, n)| public.contains(n)) {
            let connected = TcpStream::connect_timeout(&(*ip, 443).into(), Duration::from_secs(5));
            assert!(connected.is_err(), "{name} still answers after the switch-off");
        }
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for (_, child) in &mut self.web {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run_ok(command: &mut Command) -> String {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{command:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(host, repository, tag)` of a fully qualified `host/repo:tag` reference.
fn split_reference(reference: &str) -> (String, String, String) {
    let (host, rest) = reference.split_once('/').unwrap_or_else(|| panic!("not fully qualified: {reference}"));
    let (repository, tag) = match rest.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (rest, "latest"),
    };
    (host.to_string(), repository.to_string(), tag.to_string())
}

/// The registry host serving `host`'s API (`docker.io` is served by `registry-1.docker.io`).
fn api_host(host: &str) -> &str {
    if host == "docker.io" {
        "registry-1.docker.io"
    } else {
        host
    }
}

fn inside_the_namespace(shared: &Path, crossing: Crossing) {
    let (Some(helm), Some(kubectl)) = (tools::helm(), tools::kubectl()) else { return };
    let Some(found) = tools::require(&[Tool::Openssl, Tool::Skopeo, Tool::DockerRegistry, Tool::Htpasswd]) else { return };
    let (openssl, skopeo) = (found[0].clone(), found[1].clone());
    let mut world = World::new(openssl);
    let tree = Tree::new(shared);
    let site = tree.path("site");
    fs::create_dir_all(&site).unwrap();

    // The public side: Docker Hub, the other registries, the chart repositories.
    world.start_web("docker.io", "redirect", DOCKER_HUB_WEB);
    let docker_web = world.dir.path().join("www.docker.com");
    fs::create_dir_all(&docker_web).unwrap();
    fs::write(docker_web.join("index.html"), "<!DOCTYPE html><title>Docker</title>\n").unwrap();
    world.start_web("www.docker.com", "files", docker_web.to_str().unwrap());
    for host in PUBLIC_REGISTRIES {
        world.start_registry(host);
    }
    for (host, path, charts) in CHART_REPOSITORIES {
        let root = world.dir.path().join("charts").join(host);
        let dir = root.join(path);
        fs::create_dir_all(&dir).unwrap();
        for chart in charts {
            fs::copy(tree.charts().join(chart), dir.join(chart)).unwrap();
        }
        let url = format!("https://{host}/{path}").trim_end_matches('/').to_string();
        run_ok(Command::new(&helm).args(["repo", "index"]).arg(&dir).args(["--url", &url]));
        world.start_web(host, "files", root.to_str().unwrap());
    }

    // The inventory, as an admin would take it (no mirror yet).
    let repo_values = serde_json::json!({"argocd": {"source": {"repo": {"url": REPO_URL, "revision": "main", "path": "."}}}});
    fs::write(tree.repo().join("repo-values.yaml"), repo_values.to_string()).unwrap();
    let mut values: Vec<PathBuf> = Tree::sample_values().iter().map(|n| tree.repo().join(n)).collect();
    values.push(tree.repo().join("repo-values.yaml"));
    let home = tree.path("admin-home");
    fs::create_dir_all(&home).unwrap();
    let public_cas = world.ca_bundle();
    let admin = |args: &[&str], cas: &Path| -> Run {
        Command::new(bin())
            .args(args)
            .env("HOME", &home)
            .env("SSL_CERT_FILE", cas)
            .env("DEPLOYKF_CMP_HELM", &helm)
            .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
            .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .output()
            .unwrap()
            .into()
    };
    let inventory = |command: &str, zip: &Path, values: &[PathBuf]| -> String {
        let mut args = vec![command.to_string(), "--source-path".into(), zip.display().to_string()];
        for v in values {
            args.extend(["-f".to_string(), v.display().to_string()]);
        }
        args.extend(["--output".into(), "list".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = admin(&args, &public_cas);
        run.assert_ok();
        run.stdout
    };
    let images_list = inventory("images", &tree.zip, &values);
    let charts_list = inventory("charts", &tree.zip, &values);
    let images: Vec<&str> = images_list.lines().filter(|l| !l.trim().is_empty()).collect();
    println!("inventory: {} images, {} chart lines", images.len(), charts_list.lines().count());
    assert!(images.len() >= 60, "the inventory of 0.1.5 lists only {} images:\n{images_list}", images.len());
    // The release the bundle crossing upgrades from, with its own sample values.
    let fixtures = shared.join("fixtures");
    let old_zip = fixtures.join(format!("generators/deploykf-{OLD_VERSION}-generator.zip"));
    let mut old_values: Vec<PathBuf> = [format!("sample-values-{OLD_VERSION}.yaml"), format!("sample-values-overrides-{OLD_VERSION}.yaml")]
        .iter()
        .map(|n| fixtures.join("sample-values").join(n))
        .collect();
    old_values.push(tree.repo().join("repo-values.yaml"));
    let old_list = if crossing == Crossing::Bundle { inventory("images", &old_zip, &old_values) } else { String::new() };
    let old_only: Vec<&str> = old_list.lines().filter(|l| !l.trim().is_empty() && !images.contains(l)).collect();
    if crossing == Crossing::Bundle {
        println!("inventory of {OLD_VERSION}: {} images, {} of them not in 0.1.5", old_list.lines().count(), old_only.len());
        assert!(!old_only.is_empty() && old_only.len() < images.len(), "{OLD_VERSION} and 0.1.5 should share most images:\n{old_list}");
    }

    // A synthetic image per inventory entry, in the registry of its host.
    let base = random_layer(7, 64 << 10);
    let mut pushed = BTreeSet::new();
    let mut source_digests = BTreeMap::new();
    for (i, reference) in images.iter().chain(&old_only).enumerate() {
        assert!(!reference.contains('@'), "a digest-pinned image cannot be made synthetically: {reference}");
        let (host, mut repository, tag) = split_reference(reference);
        // Upstream moved Bitnami's images: the old path no longer exists.
        if host == "docker.io" {
            if let Some(name) = repository.strip_prefix("bitnami/") {
                repository = format!("bitnamilegacy/{name}");
            }
        }
        let api = api_host(&host).to_string();
        let registry = world.start_registry(&api);
        let ca = fs::read(registry.ca_pem_path().unwrap()).unwrap();
        let pusher = Pusher::tls(&api, &ca, None);
        let own = random_layer(1000 + i as u64, 16 << 10);
        let digest = if i % 4 == 3 {
            pusher.push_multi_arch(&repository, &tag, &[&base], 2000 + i as u64)
        } else {
            pusher.push_image(&repository, &tag, &[&base, &own], ("linux", "amd64"), i % 3 == 1)
        };
        source_digests.insert(reference.to_string(), digest);
        pushed.insert(format!("{api}/{repository}:{tag}"));
    }
    let public_hosts: BTreeSet<String> = world.hosts.iter().map(|(_, n)| n.clone()).collect();
    println!("public side: {} images in {} registries; hosts {public_hosts:?}", pushed.len(), world.registries.len());

    // The world behaves like the real one for a peer tool: skopeo reaches
    // docker.io through registry-1.docker.io; docker.io itself only redirects.
    // Again: the inventory's hosts may have added registries.
    let public_cas = world.ca_bundle();
    let cert_dir = world.dir.path().join("skopeo-certs");
    fs::create_dir_all(&cert_dir).unwrap();
    fs::copy(&public_cas, cert_dir.join("ca.crt")).unwrap();
    let hub_image = images.iter().find(|i| i.starts_with("docker.io/library/")).or(images.iter().find(|i| i.starts_with("docker.io/")));
    let hub_image = hub_image.expect("the inventory names Docker Hub images");
    let hub_image = hub_image.replace("docker.io/bitnami/", "docker.io/bitnamilegacy/");
    run_ok(Command::new(&skopeo).args(["inspect", "--raw", "--no-creds", "--cert-dir"]).arg(&cert_dir).arg(format!("docker://{hub_image}")));
    let mut web = reqwest::blocking::Client::builder();
    for ca in reqwest::Certificate::from_pem_bundle(&fs::read(&public_cas).unwrap()).unwrap() {
        web = web.add_root_certificate(ca);
    }
    let web = web
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap();
    let answer = web.get("https://docker.io/v2/").send().unwrap();
    assert_eq!(answer.status().as_u16(), 301, "docker.io must not serve the registry API");
    assert_eq!(answer.headers()["location"], DOCKER_HUB_WEB);

    // The site: a private TLS + htpasswd registry, its mirror config and credentials.
    let site_ip = world.address(SITE_HOST);
    let private = TestRegistry::start(RegistryOptions::default().tls().auth(USER, PASSWORD).named(site_ip, &[SITE_HOST]))
        .expect("docker-registry");
    let site_ca = private.ca_pem_path().unwrap();
    let mirror_file = site.join("mirror.yaml");
    fs::write(&mirror_file, mirror_config()).unwrap();
    let authfile = site.join("registry/config.json");
    write_docker_config(&authfile, SITE_HOST, USER, PASSWORD);
    let all_cas = site.join("all-cas.pem");
    fs::write(&all_cas, [fs::read(&public_cas).unwrap(), fs::read(&site_ca).unwrap()].concat()).unwrap();

    // What goes wrong is collected, so one run shows every gap.
    let mut failures: Vec<String> = Vec::new();
    let images_file = site.join("images.txt");
    let charts_file = site.join("charts.txt");
    fs::write(&images_file, &images_list).unwrap();
    fs::write(&charts_file, &charts_list).unwrap();
    let (mirror, auth) = (mirror_file.display().to_string(), authfile.display().to_string());
    let bundle = site.join("deploykf-0.1.5-delta.tar");
    let old_bundle = site.join(format!("deploykf-{OLD_VERSION}.tar"));
    match crossing {
        Crossing::Mirror => {
            for (list, flag) in [(&images_file, "--images-file"), (&charts_file, "--charts-file")] {
                let list = list.display().to_string();
                let run = admin(&["mirror", flag, &list, "--mirror", &mirror, "--authfile", &auth], &all_cas);
                assert!(!format!("{}{}", run.stdout, run.stderr).contains(PASSWORD), "the password reached the output");
                println!("mirror {flag}: exit {:?}\n{}", run.code, tail(&run.stderr, 40));
                if run.code != Some(0) {
                    failures.push(format!("mirror {flag} exited {:?}: {}", run.code, tail(&run.stderr, 15)));
                }
            }
        }
        Crossing::Bundle => {
            // The connected side: the files, written with the public CAs only.
            let create = |zip: &Path, values: &[PathBuf], output: &Path, since: Option<&Path>| {
                let mut args = vec!["bundle".to_string(), "create".into(), "--source-path".into(), zip.display().to_string()];
                for v in values {
                    args.extend(["-f".to_string(), v.display().to_string()]);
                }
                args.extend(["--mirror".into(), mirror.clone(), "--output".into(), output.display().to_string()]);
                args.extend(since.map(|s| format!("--since={}", s.display())));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let run = admin(&args, &public_cas);
                println!("bundle create {}: exit {:?}\n{}", output.display(), run.code, tail(&run.stderr, 20));
                assert_eq!(run.code, Some(0), "bundle create {} failed:\n{}", output.display(), tail(&run.stderr, 30));
            };
            create(&old_zip, &old_values, &old_bundle, None);
            create(&tree.zip, &values, &bundle, Some(&old_bundle));
            let (old_blobs, new_blobs) = (stored_blobs(&old_bundle), stored_blobs(&bundle));
            let both: Vec<&String> = new_blobs.intersection(&old_blobs).collect();
            println!("bundles: {OLD_VERSION} stores {} blobs, the 0.1.5 delta {} ({} in both)", old_blobs.len(), new_blobs.len(), both.len());
            assert!(both.is_empty(), "the delta stores blobs its base stores: {both:?}");
        }
    }

    world.switch_off();

    if crossing == Crossing::Bundle {
        // The offline side: the file, the site's CA and credentials, nothing public.
        let generators = site.join("generator");
        let lock = site.join("images.lock");
        let (file, old_file, gen, lock_file) =
            (bundle.display().to_string(), old_bundle.display().to_string(), generators.display().to_string(), lock.display().to_string());
        for f in [&old_file, &file] {
            let run = admin(&["bundle", "verify", f], &site_ca);
            println!("bundle verify {f}: exit {:?}\n{}{}", run.code, run.stdout, tail(&run.stderr, 20));
            if run.code != Some(0) {
                failures.push(format!("bundle verify {f} exited {:?}: {}", run.code, tail(&run.stderr, 15)));
            }
        }
        let push = |args: &[&str]| {
            let run = admin(&[&["bundle", "push"], args, &["--mirror", &mirror, "--authfile", &auth]].concat(), &site_ca);
            assert!(!format!("{}{}", run.stdout, run.stderr).contains(PASSWORD), "the password reached the output");
            println!("bundle push {}: exit {:?}\n{}", args[0], run.code, tail(&run.stderr, 40));
            run
        };
        // The delta before its base: refused, listing what is missing.
        let run = push(&[&file]);
        if run.code != Some(1) || !run.stderr.contains("the bundle does not store are missing in the target registry") {
            failures.push(format!("bundle push of the delta without its base exited {:?}: {}", run.code, tail(&run.stderr, 15)));
        }
        for args in [vec![old_file.as_str()], vec![&file, "--extract-generator", &gen, "--write-lock", &lock_file]] {
            let run = push(&args);
            if run.code != Some(0) {
                failures.push(format!("bundle push {} exited {:?}: {}", args[0], run.code, tail(&run.stderr, 15)));
            }
        }
        let lock: serde_json::Value = fs::read(&lock).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        for reference in &images {
            let entry = &lock["images"][*reference];
            if entry["digest"] != source_digests[*reference].as_str() || entry["mirrored"] != format!("{SITE_HOST}/deploykf/{reference}").as_str() {
                failures.push(format!("{reference}: the lock of the delta's push says {entry}, the source {}", source_digests[*reference]));
            }
        }
        let zips: Vec<PathBuf> = fs::read_dir(&generators).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
        if zips.len() != 1 || zips[0].file_name() != tree.zip.file_name() || fs::read(&zips[0]).ok() != fs::read(&tree.zip).ok() {
            failures.push(format!("--extract-generator wrote {zips:?}, not the generator zip"));
        }
        let cert_dir = private.cert_dir().unwrap();
        for (reference, digest) in &source_digests {
            let out = Command::new(&skopeo)
                .args(["inspect", "--raw", "--cert-dir"])
                .arg(&cert_dir)
                .args(["--creds", &format!("{USER}:{PASSWORD}")])
                .arg(format!("docker://{SITE_HOST}/deploykf/{reference}"))
                .env("REGISTRY_AUTH_FILE", site.join("none.json"))
                .output()
                .unwrap();
            let pushed = support::images::digest(&out.stdout);
            if !out.status.success() || pushed != *digest {
                failures.push(format!("{reference}: the site registry holds {pushed} (skopeo exit {:?}), the source {digest}", out.status.code()));
            }
        }
    }

    // Unfold the whole tree with only the site's configuration.
    let app = tree.write_app_of_apps(&["repo-values.yaml"]);
    let run = tree.run_harness(
        &app,
        &[helm, kubectl],
        &[
            ("DEPLOYKF_CMP_MIRROR_CONFIG", mirror_file.clone().into()),
            ("DEPLOYKF_CMP_MIRROR_ENFORCE", "true".into()),
            ("SSL_CERT_FILE", site_ca.clone().into()),
            ("HELM_REGISTRY_CONFIG", authfile.clone().into()),
        ],
    );
    assert!(!run.stderr.contains(PASSWORD), "the registry password reached the output");
    let failed = run.summary["failed"].as_array().cloned().unwrap_or_default();
    let rendered = run.summary["applications"].as_array().map_or(0, Vec::len);
    println!("harness: {rendered} Applications rendered, {} failed", failed.len());
    if !run.success || !failed.is_empty() {
        failures.push(format!("{} render failures: {failed:?}\n{}", failed.len(), tail(&run.stderr, 30)));
    }

    // Every reference in the tree, by the test's own scan of its strings.
    let strings = output_strings(&run.out);
    if strings.is_empty() {
        failures.push("the harness wrote no manifests".to_string());
    } else {
        check_tree(&strings, &public_hosts, &images, &site_ca, &mut failures);
    }
    assert!(failures.is_empty(), "the offline site is not complete:\n\n{}", failures.join("\n\n"));
}

/// Checks the references [`Scan`] finds in `strings` against the site
/// registry and the inventory `images`; adds what is wrong to `failures`.
fn check_tree(strings: &[(String, String)], public_hosts: &BTreeSet<String>, images: &[&str], site_ca: &Path, failures: &mut Vec<String>) {
    let found = Scan::new(public_hosts).run(strings);
    println!(
        "tree: {} strings; {} private image references; private prefixes (hubs): {:?}; \
         {} public references in CRD descriptions ignored",
        strings.len(),
        found.images.len(),
        found.prefixes,
        found.documentation
    );
    let checker = Checker::new(site_ca);
    let mut missing = Vec::new();
    for reference in &found.images {
        if let Err(e) = checker.check(reference) {
            missing.push(format!("{reference}: {e}"));
        }
    }
    let total = found.images.len();
    let present = total - missing.len();
    println!("{present}/{total} image references present in {SITE_HOST}");
    println!("{} public references left, {} image fields outside {SITE_HOST}", found.public.len(), found.outside.len());
    if !missing.is_empty() {
        failures.push(format!("{present}/{total} image references present; missing:\n  {}", missing.join("\n  ")));
    }
    if !found.public.is_empty() {
        failures.push(format!("{} public references left:\n  {}", found.public.len(), found.public.join("\n  ")));
    }
    if !found.outside.is_empty() {
        failures.push(format!("{} image fields outside {SITE_HOST}:\n  {}", found.outside.len(), found.outside.join("\n  ")));
    }
    // The inventory is what the tree deploys: each entry is in the tree at
    // its mirror location (keep-host layout below SITE_HOST/deploykf).
    let absent: Vec<&str> =
        images.iter().copied().filter(|i| !found.images.contains(&format!("{SITE_HOST}/deploykf/{i}"))).collect();
    if !absent.is_empty() {
        failures.push(format!("{} inventory images are not in the tree as mirrored:\n  {}", absent.len(), absent.join("\n  ")));
    }
}

/// The `blobs/sha256/<hex>` entry names of a bundle file.
fn stored_blobs(file: &Path) -> BTreeSet<String> {
    let mut archive = tar::Archive::new(fs::File::open(file).unwrap());
    let entries = archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned());
    entries.filter(|name| name.starts_with("blobs/sha256/") && name.len() > "blobs/sha256/".len()).collect()
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Every string of every manifest the harness wrote, as (location, text):
/// `FILE KIND/NAME .path.to.field` (read with PyYAML, as the harness writes it).
fn output_strings(out: &Path) -> Vec<(String, String)> {
    const TO_JSON: &str = "import json, sys, yaml\n\
        json.dump([list(yaml.safe_load_all(open(f))) for f in sys.argv[1:]], sys.stdout, default=str)";
    let mut files: Vec<PathBuf> = fs::read_dir(out)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "yaml"));
    files.sort();
    if files.is_empty() {
        return Vec::new();
    }
    let json = run_ok(Command::new("python3").args(["-c", TO_JSON]).args(&files));
    let streams: Vec<Vec<serde_json::Value>> = serde_json::from_str(&json).unwrap();
    let mut strings = Vec::new();
    for (file, docs) in files.iter().zip(streams) {
        let file = file.file_name().unwrap().to_string_lossy();
        for doc in docs {
            let name = format!("{}/{}", doc["kind"].as_str().unwrap_or("?"), doc["metadata"]["name"].as_str().unwrap_or("?"));
            collect_strings(&doc, &format!("{file} {name} "), &mut strings);
        }
    }
    strings
}

fn collect_strings(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(s) => out.push((at.to_string(), s.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(item, &format!("{at}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                collect_strings(item, &format!("{at}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// What [`Scan::run`] found.
#[derive(Default)]
struct Found {
    /// `SITE_HOST/...` references with a tag or digest (`:latest` added to an
    /// `image` field without one).
    images: BTreeSet<String>,
    /// `SITE_HOST/...` references without one (Istio's `hub`, registry values).
    prefixes: BTreeSet<String>,
    /// Public references, with their location.
    public: Vec<String>,
    /// `image` fields (structured or in embedded YAML/JSON) outside the site registry.
    outside: Vec<String>,
    /// Public references in CRD schema descriptions (documentation; not counted).
    documentation: usize,
}

/// The test's own reference finder. It knows nothing of Kubernetes kinds: it
/// reads every string of the tree, so ConfigMap data, templates, flags and
/// env values are scanned alike.
struct Scan {
    /// `SITE_HOST/path[:tag][@digest]`.
    private: Regex,
    /// A public host at the start of a token, followed by a path.
    public: Regex,
    /// An `image` key (YAML or JSON) and its value on one line of embedded text.
    image_key: Regex,
}

impl Scan {
    fn new(public_hosts: &BTreeSet<String>) -> Scan {
        let site = regex::escape(SITE_HOST);
        let hosts: Vec<String> = public_hosts
            .iter()
            .map(String::as_str)
            .chain(["docker.io", "index.docker.io", "registry-1.docker.io"])
            .filter(|h| *h != SITE_HOST)
            .map(regex::escape)
            .collect();
        Scan {
            private: Regex::new(&format!(
                r"{site}/[a-z0-9][a-z0-9._/-]*[a-z0-9](?::[A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})?(?:@sha256:[0-9a-f]{{64}})?"
            ))
            .unwrap(),
            public: Regex::new(&format!(r#"(?:^|[^A-Za-z0-9._/-])((?:{})/[A-Za-z0-9][^\s"'\\,;)}}\]]*)"#, hosts.join("|"))).unwrap(),
            image_key: Regex::new(r#"(?m)(?:^|[\s{,"'-])"?image"?[ \t]*:[ \t]*"?([^"\s,}]+)"#).unwrap(),
        }
    }

    fn run(&self, strings: &[(String, String)]) -> Found {
        let mut found = Found::default();
        let outside = |value: &str| {
            let templated = value.contains("{{") || value.contains("$(") || value.contains("${");
            !value.is_empty() && !templated && value != "auto" && !value.starts_with(&format!("{SITE_HOST}/"))
        };
        for (at, text) in strings {
            let image_field = at.ends_with(".image");
            for m in self.private.find_iter(text) {
                let reference = m.as_str();
                if reference.rsplit('/').next().unwrap().contains(':') || reference.contains('@') {
                    found.images.insert(reference.to_string());
                } else if image_field && reference == text {
                    // What the cluster pulls: the implied tag.
                    found.images.insert(format!("{reference}:latest"));
                } else {
                    found.prefixes.insert(reference.to_string());
                }
            }
            let documentation = at.ends_with(".description");
            for c in self.public.captures_iter(text) {
                if documentation {
                    found.documentation += 1;
                } else {
                    found.public.push(format!("{at}: {}", &c[1]));
                }
            }
            if image_field && outside(text) {
                found.outside.push(format!("{at}: {text}"));
            }
            for c in self.image_key.captures_iter(text) {
                if outside(c[1].trim_matches('\'')) && !documentation {
                    found.outside.push(format!("{at}: (embedded) image: {}", &c[1]));
                }
            }
        }
        found
    }
}

/// Checks images in the site registry: manifest, index children and blobs.
struct Checker {
    http: reqwest::blocking::Client,
}

impl Checker {
    fn new(ca: &Path) -> Checker {
        let pem = fs::read(ca).unwrap();
        let http = reqwest::blocking::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Checker { http }
    }

    fn get(&self, url: &str, head: bool) -> Result<reqwest::blocking::Response, String> {
        let accept = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST, "application/vnd.docker.distribution.manifest.list.v2+json"];
        let method = if head { reqwest::Method::HEAD } else { reqwest::Method::GET };
        let response = self
            .http
            .request(method, url)
            .basic_auth(USER, Some(PASSWORD))
            .header("accept", accept.join(", "))
            .send()
            .map_err(|e| format!("{url}: {e}"))?;
        match response.status().as_u16() {
            200 => Ok(response),
            code => Err(format!("{url}: HTTP {code}")),
        }
    }

    /// `SITE_HOST/repo:tag[@digest]` is complete in the registry.
    fn check(&self, reference: &str) -> Result<(), String> {
        let rest = reference.strip_prefix(&format!("{SITE_HOST}/")).unwrap();
        let (name, target) = match rest.split_once('@') {
            Some((name, digest)) => (name, digest.to_string()),
            None => {
                let (name, tag) = rest.rsplit_once(':').unwrap();
                (name, tag.to_string())
            }
        };
        let repository = name.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or(name, |(r, _)| r);
        let base = format!("https://{SITE_HOST}/v2/{repository}");
        let manifest: serde_json::Value =
            self.get(&format!("{base}/manifests/{target}"), false)?.json().map_err(|e| format!("{reference}: {e}"))?;
        let mut manifests = vec![manifest];
        if let Some(children) = manifests[0]["manifests"].as_array().cloned() {
            manifests.clear();
            for child in children {
                let digest = child["digest"].as_str().ok_or("an index entry without a digest")?;
                let child = self.get(&format!("{base}/manifests/{digest}"), false)?;
                manifests.push(child.json().map_err(|e| format!("{reference} child {digest}: {e}"))?);
            }
        }
        for manifest in &manifests {
            let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
            for blob in std::iter::once(&manifest["config"]).chain(&layers) {
                let digest = blob["digest"].as_str().ok_or("a descriptor without a digest")?;
                self.get(&format!("{base}/blobs/{digest}"), true)?;
            }
        }
        Ok(())
    }
}

#[test]
fn the_scan_finds_references_in_every_field() {
    let hosts: BTreeSet<String> = ["quay.io", "ghcr.io"].map(String::from).into();
    let site = |rest: &str| format!("{SITE_HOST}/deploykf/{rest}");
    let katib = format!(
        "{{\n  \"image\": \"{}\",\n  \"other\": \"docker.io/kubeflowkatib/suggestion-optuna:v0.15.0\"\n}}",
        site("docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0")
    );
    let strings: Vec<(String, String)> = [
        ("a Deployment/x .spec.template.spec.containers[0].image", site("quay.io/a/b:1")),
        ("a Deployment/x .spec.template.spec.containers[0].args[0]", format!("--executor-image={}", site("quay.io/e:2"))),
        ("a Deployment/x .spec.template.spec.containers[1].image", "auto".to_string()),
        ("a Deployment/x .spec.template.spec.containers[2].image", site("docker.io/library/auto")),
        ("a ConfigMap/katib-config .data.suggestion", katib),
        ("a ConfigMap/injector .data.config", "initContainers:\n- image: busybox:1.28\n  name: x".to_string()),
        ("a ConfigMap/injector .data.values", "{\"hub\": \"docker.io/istio\", \"tag\": \"1.17.8\"}".to_string()),
        ("a Deployment/x .metadata.annotations.docs", "https://quay.io/repository/a/b".to_string()),
        ("a CRD/y .spec.versions[0].schema.description", "Example: ghcr.io/kyverno/kyverno:latest".to_string()),
        ("a Pod/p .spec.containers[0].image", "{{ .Values.image }}".to_string()),
    ]
    .into_iter()
    .map(|(at, text)| (at.to_string(), text))
    .collect();
    let found = Scan::new(&hosts).run(&strings);
    let expected: BTreeSet<String> = [
        site("quay.io/a/b:1"),
        site("quay.io/e:2"),
        site("docker.io/library/auto:latest"),
        site("docker.io/kubeflowkatib/suggestion-hyperopt:v0.15.0"),
    ]
    .into();
    assert_eq!(found.images, expected);
    assert_eq!(found.prefixes, BTreeSet::new());
    assert_eq!(
        found.public,
        [
            "a ConfigMap/katib-config .data.suggestion: docker.io/kubeflowkatib/suggestion-optuna:v0.15.0",
            "a ConfigMap/injector .data.values: docker.io/istio",
        ]
    );
    assert_eq!(found.outside, ["a ConfigMap/injector .data.config: (embedded) image: busybox:1.28"]);
    assert_eq!(found.documentation, 1);
}
