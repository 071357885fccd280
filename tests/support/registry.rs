//! A real OCI registry for integration tests: Debian's `docker-registry` (CNCF
//! Distribution) on `127.0.0.1` and a free port, storage in a temporary folder,
//! optional htpasswd auth and optional TLS with a throw-away CA; plus pushing
//! charts to it with the real `helm`, isolated from the user's helm and docker
//! configuration. Dropping a [`TestRegistry`] kills the server and removes its
//! files.
//!
//! helm 3.17 (containerd's resolver) always speaks plain HTTP to `localhost`
//! and loopback IPs, so helm reaches a TLS registry by a host name that
//! resolves to 127.0.0.1 ([`loopback_name`]), which the certificate also names.

use std::cell::Cell;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tempfile::TempDir;

use super::tools::{self, Tool};

/// The name `scripts/install-test-tools` maps to 127.0.0.1 in `/etc/hosts`
/// when the machine's own host name does not resolve there.
pub const FALLBACK_LOOPBACK_NAME: &str = "deploykf-registry.test";

/// How long [`TestRegistry::start`] and [`TestRegistry::restart`] wait for `/v2/` to answer.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// What kind of registry to start.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// Serve HTTPS with a certificate for `127.0.0.1`/`localhost` signed by a test CA.
    pub tls: bool,
    /// Require HTTP basic auth with this user and password (htpasswd, bcrypt).
    pub auth: Option<(String, String)>,
    /// The test also drives `helm` ([`TestRegistry::push_chart`], [`TestRegistry::helm_command`]):
    /// skip (or fail under CI) at start when it is missing.
    pub helm: bool,
}

impl RegistryOptions {
    /// Plain HTTP, anonymous access, no helm.
    pub fn plain() -> Self {
        Self::default()
    }

    /// Serve HTTPS with a test CA.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Require basic auth as `user`/`password`.
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Also require `helm`.
    pub fn helm(mut self) -> Self {
        self.helm = true;
        self
    }
}

/// A chart pushed by [`TestRegistry::push_chart`].
#[derive(Clone, Debug)]
pub struct PushedChart {
    /// `HELM_HOST/REPO_PATH/NAME:VERSION`, as helm printed it.
    pub reference: String,
    /// The manifest digest, `sha256:...`.
    pub digest: String,
}

/// A running `docker-registry serve` owned by one test.
pub struct TestRegistry {
    dir: TempDir,
    port: u16,
    opts: RegistryOptions,
    registry_bin: PathBuf,
    helm_bin: Option<PathBuf>,
    helm_name: String,
    child: Option<Child>,
    helm_logged_in: Cell<bool>,
}

impl TestRegistry {
    /// Starts a registry and waits until `/v2/` answers. `None` when a needed
    /// tool is missing (the test is skipped; under CI it panics instead, see
    /// [`tools::require`]). Panics when the registry does not come up.
    pub fn start(opts: RegistryOptions) -> Option<Self> {
        let mut needed = vec![Tool::DockerRegistry];
        if opts.tls {
            needed.push(Tool::Openssl);
        }
        if opts.auth.is_some() {
            needed.push(Tool::Htpasswd);
        }
        if opts.helm {
            needed.push(Tool::Helm);
        }
        let found = tools::require(&needed)?;
        let helm_name = match (opts.tls && opts.helm, loopback_name()) {
            (false, _) => "127.0.0.1".to_string(),
            (true, Some(name)) => name,
            (true, None) => {
                return tools::unavailable(&format!(
                    "helm needs a host name resolving to 127.0.0.1 to reach a TLS registry (it speaks plain \
                     HTTP to loopback IPs); neither this machine's host name nor {FALLBACK_LOOPBACK_NAME} \
                     does: run `bash {}`",
                    tools::INSTALL_SCRIPT
                ))
            }
        };
        let path_of = |t: Tool| needed.iter().position(|n| *n == t).map(|i| found[i].clone());

        let dir = tempfile::Builder::new().prefix("test-registry-").tempdir().expect("create registry temp folder");
        fs::create_dir_all(dir.path().join("storage")).expect("create registry storage folder");
        if opts.tls {
            make_certificates(&path_of(Tool::Openssl).unwrap(), dir.path(), &helm_name);
        }
        if let Some((user, password)) = &opts.auth {
            write_htpasswd(&path_of(Tool::Htpasswd).unwrap(), &dir.path().join("htpasswd"), user, password);
        }
        let mut registry = TestRegistry {
            dir,
            port: 0,
            opts,
            registry_bin: path_of(Tool::DockerRegistry).unwrap(),
            helm_bin: path_of(Tool::Helm),
            helm_name,
            child: None,
            helm_logged_in: Cell::new(false),
        };

        // A free port can be taken between probing and binding: try a few.
        let mut last_error = String::new();
        for _ in 0..5 {
            registry.port = free_port();
            registry.write_config();
            match registry.spawn_and_wait() {
                Ok(()) => return Some(registry),
                Err(e) if e.contains("address already in use") => last_error = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("docker-registry found no free port after 5 tries: {last_error}");
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `NAME:PORT` for helm: [`host`](Self::host) without TLS; with TLS a name
    /// resolving to 127.0.0.1 (see the module header), e.g. `vm:PORT`.
    pub fn helm_host(&self) -> String {
        format!("{}:{}", self.helm_name, self.port)
    }

    /// The port the registry listens on (unchanged across [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `https://127.0.0.1:PORT` or `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.opts.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// Whether the registry serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.opts.tls
    }

    /// The test CA certificate (PEM) that signed the server certificate; `None` without TLS.
    pub fn ca_pem_path(&self) -> Option<PathBuf> {
        self.opts.tls.then(|| self.dir.path().join("ca.pem"))
    }

    /// A folder holding the test CA as `ca.crt`, for skopeo's `--cert-dir`/`--dest-cert-dir`;
    /// `None` without TLS.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.opts.tls.then(|| self.dir.path().join("certs.d"))
    }

    /// The folder holding the registry's blobs and manifests.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The registry's log (its stdout and stderr, across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    /// Whether the server process is running.
    /// CPU seconds (user + system) the server has used so far (Linux `/proc`; 0 elsewhere).
    pub fn cpu_seconds(&self) -> f64 {
        let Some(child) = &self.child else { return 0.0 };
        let stat = fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (in ticks of 1/100 s).
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<f64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
        fields.get(11).zip(fields.get(12)).map(|(u, s)| (u + s) / 100.0).unwrap_or(0.0)
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the server (SIGKILL, as a crash would) and waits for it to exit.
    /// Storage, port and configuration are kept for [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs, then starts it again on the same port and
    /// storage and waits until `/v2/` answers.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(e) = self.spawn_and_wait() {
            panic!("restarting the registry on port {}: {e}", self.port);
        }
    }

    /// The HTTP status of `GET /v2/`, with basic auth when `credentials` is given.
    /// Panics when the registry cannot be reached.
    pub fn v2_status(&self, credentials: Option<(&str, &str)>) -> u16 {
        self.probe_v2(credentials).unwrap_or_else(|e| panic!("GET {}/v2/: {e}", self.url()))
    }

    /// A `helm` command isolated from the user's configuration: its registry
    /// config, cache, config and data folders are in the registry's temp folder.
    /// Panics unless the registry was started with [`RegistryOptions::helm`].
    pub fn helm_command(&self) -> Command {
        let helm = self.helm_bin.as_ref().expect("start the registry with RegistryOptions::helm() to use helm");
        let home = self.dir.path().join("helm");
        let mut cmd = Command::new(helm);
        cmd.env("HELM_REGISTRY_CONFIG", self.helm_registry_config())
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env_remove("HELM_DEBUG")
            .stdin(Stdio::null());
        cmd
    }

    /// The `HELM_REGISTRY_CONFIG` file [`helm_command`](Self::helm_command) uses.
    pub fn helm_registry_config(&self) -> PathBuf {
        self.dir.path().join("helm/registry/config.json")
    }

    /// The helm flags that make it trust this registry: `--ca-file CA` with TLS,
    /// `--plain-http` without (for `helm push`/`pull`, not `helm registry login`).
    pub fn helm_tls_args(&self) -> Vec<OsString> {
        match self.ca_pem_path() {
            Some(ca) => vec!["--ca-file".into(), ca.into_os_string()],
            None => vec!["--plain-http".into()],
        }
    }

    /// Records this registry's credentials in [`helm_registry_config`](Self::helm_registry_config)
    /// (no-op without auth): `helm registry login` with TLS; written directly for
    /// plain HTTP, which `helm registry login` does not speak.
    pub fn helm_login(&self) {
        let Some((user, password)) = &self.opts.auth else { return };
        if self.helm_logged_in.get() {
            return;
        }
        if let Some(ca) = self.ca_pem_path() {
            let mut cmd = self.helm_command();
            cmd.args(["registry", "login", &self.helm_host(), "--username", user, "--password-stdin", "--ca-file"])
                .arg(ca)
                .stdin(Stdio::piped());
            let out = run_with_stdin(cmd, password.as_bytes());
            assert!(out.status.success(), "helm registry login {} failed:\n{}", self.helm_host(), out_text(&out));
        } else {
            write_docker_config(&self.helm_registry_config(), &self.helm_host(), user, password);
        }
        self.helm_logged_in.set(true);
    }

    /// Pushes a packaged chart with the real helm: logs in (once), then
    /// `helm push TGZ oci://HELM_HOST/REPO_PATH`. Panics with helm's output on failure.
    pub fn push_chart(&self, tgz: &Path, repo_path: &str) -> PushedChart {
        self.helm_login();
        let target = format!("oci://{}/{}", self.helm_host(), repo_path.trim_matches('/'));
        let mut cmd = self.helm_command();
        cmd.arg("push").arg(tgz).arg(&target).args(self.helm_tls_args());
        let out = cmd.output().unwrap_or_else(|e| panic!("running helm push: {e}"));
        let text = out_text(&out);
        assert!(out.status.success(), "helm push {} {target} failed:\n{text}", tgz.display());
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
                .unwrap_or_else(|| panic!("helm push printed no {name:?} line:\n{text}"))
        };
        PushedChart { reference: field("Pushed:"), digest: field("Digest:") }
    }

    fn write_config(&self) {
        let q = |p: PathBuf| serde_json::to_string(&p.to_string_lossy()).unwrap();
        let mut yaml = format!(
            "version: 0.1\n\
             log:\n  level: info\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
             maintenance:\n    uploadpurging:\n      enabled: false\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret-{port}-{pid}\n",
            storage = q(self.storage_dir()),
            port = self.port,
            pid = std::process::id(),
        );
        if self.opts.tls {
            let d = self.dir.path();
            yaml += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                q(d.join("server.pem")),
                q(d.join("server.key"))
            );
        }
        if self.opts.auth.is_some() {
            yaml += &format!(
                "auth:\n  htpasswd:\n    realm: deploykf-test\n    path: {}\n",
                q(self.dir.path().join("htpasswd"))
            );
        }
        fs::write(self.dir.path().join("config.yml"), yaml).expect("write registry config.yml");
    }

    /// Spawns `docker-registry serve` and waits for `/v2/`; the error carries the log's tail.
    fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = OpenOptions::new().create(true).append(true).open(self.log_path()).expect("open registry.log");
        let child = Command::new(&self.registry_bin)
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("clone log handle")))
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.registry_bin.display()))?;
        self.child = Some(child);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().ok().flatten() {
                self.child = None;
                return Err(format!("docker-registry exited ({status}) on port {}:\n{}", self.port, self.log_tail()));
            }
            match self.probe_v2(None) {
                Ok(200 | 401) => return Ok(()),
                Ok(code) => return Err(format!("GET {}/v2/ answered {code}:\n{}", self.url(), self.log_tail())),
                Err(e) if Instant::now() >= deadline => {
                    self.stop();
                    return Err(format!(
                        "docker-registry did not answer on {} within {READY_TIMEOUT:?} ({e}):\n{}",
                        self.url(),
                        self.log_tail()
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// `GET /v2/` from a plain thread (reqwest's blocking client must not run
    /// on an async runtime, which a calling test might have).
    fn probe_v2(&self, credentials: Option<(&str, &str)>) -> Result<u16, String> {
        let url = format!("{}/v2/", self.url());
        let ca = self.ca_pem_path().map(|p| fs::read(p).expect("read test CA"));
        let credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
        std::thread::spawn(move || {
            let mut builder = reqwest::blocking::Client::builder().no_proxy().timeout(Duration::from_secs(5));
            if let Some(pem) = ca {
                builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem).map_err(|e| e.to_string())?);
            }
            let client = builder.build().map_err(|e| e.to_string())?;
            let mut req = client.get(&url);
            if let Some((user, password)) = credentials {
                req = req.basic_auth(user, Some(password));
            }
            req.send().map(|r| r.status().as_u16()).map_err(|e| format!("{e:?}"))
        })
        .join()
        .expect("probe thread panicked")
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes a docker `config.json` at `path` with `auths.<host>.auth` = base64(`user:password`).
pub fn write_docker_config(path: &Path, host: &str, user: &str, password: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let json = serde_json::json!({ "auths": { host: { "auth": auth } } });
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    fs::write(path, serde_json::to_string_pretty(&json).unwrap())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A name other than `localhost` that resolves to 127.0.0.1 (and only to
/// loopback addresses): this machine's host name, else [`FALLBACK_LOOPBACK_NAME`].
pub fn loopback_name() -> Option<String> {
    let hostname = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = [hostname.trim(), FALLBACK_LOOPBACK_NAME].into_iter().find(|n| resolves_to_loopback(n));
    name.map(str::to_string)
}

fn resolves_to_loopback(name: &str) -> bool {
    if name.is_empty() || name == "localhost" || name.parse::<IpAddr>().is_ok() {
        return false;
    }
    let Ok(addrs) = (name, 0).to_socket_addrs() else { return false };
    let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
    ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)) && ips.iter().all(|ip| ip.is_loopback())
}

/// A port that was free on 127.0.0.1 a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("bind 127.0.0.1:0").port()
}

/// A test CA (`ca.pem`) and a server certificate for `127.0.0.1`, `localhost`
/// and `name` signed by it (`server.pem`, `server.key`), all in `dir`.
pub fn make_certificates(openssl: &Path, dir: &Path, name: &str) {
    let run = |args: &[&str]| {
        let out = Command::new(openssl).args(args).current_dir(dir).stdin(Stdio::null()).output().expect("run openssl");
        assert!(out.status.success(), "openssl {} failed:\n{}", args.join(" "), out_text(&out));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(&[&["req", "-x509"][..], &ec, &[
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=deploykf-cmp test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]]
    .concat());
    run(&[&["req", "-new"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
    let mut san = "IP:127.0.0.1,DNS:localhost".to_string();
    if name.parse::<IpAddr>().is_err() && name != "localhost" {
        san += &format!(",DNS:{name}");
    }
    fs::write(
        dir.join("server.ext"),
        format!("subjectAltName={san}\n") + "\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    )
    .expect("write server.ext");
    fs::create_dir_all(dir.join("certs.d")).expect("create certs.d");
    fs::copy(dir.join("ca.pem"), dir.join("certs.d/ca.crt")).expect("copy ca.pem to certs.d/ca.crt");
    run(&[
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "2", "-days", "2",
        "-out", "server.pem", "-extfile", "server.ext",
    ]);
}

/// `user:bcrypt-hash` from `htpasswd -Bin` (password on stdin, not argv) into `path`.
fn write_htpasswd(htpasswd: &Path, path: &Path, user: &str, password: &str) {
    let mut cmd = Command::new(htpasswd);
    cmd.args(["-B", "-i", "-n", user]).stdin(Stdio::piped());
    let out = run_with_stdin(cmd, password.as_bytes());
    assert!(out.status.success(), "htpasswd -Bin {user} failed:\n{}", out_text(&out));
    File::create(path).and_then(|mut f| f.write_all(&out.stdout)).expect("write htpasswd file");
}

fn run_with_stdin(mut cmd: Command, input: &[u8]) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    child.stdin.take().unwrap().write_all(input).expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn out_text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
