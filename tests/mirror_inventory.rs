//! `deploykf-cmp mirror --source-path … --values … --mirror …`: the images of
//! the inventory (what `deploykf-cmp images --output list` prints) copied by
//! the mirror rules. A tiny generator written here (one Application, one
//! Deployment whose two images come from the values) names images pushed into
//! a real source `docker-registry`; they are copied to a second one (htpasswd
//! auth). Progress: plain lines off a terminal; bars on one (under `script`).
//! A chart component added to it checks that the inventory's charts are
//! planned from the same render. `verify` of the same inventory finds the
//! images missing before the copy and present after it. Skipped when docker-registry, htpasswd or
//! kubectl (helm and ../shared for the charts) are missing.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::file_server::{fixture_charts, FileServer};
use support::images::{random_layer, Pusher};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
use support::tools::{self, Tool};

const USER: &str = "mirror-bot";
const PASSWORD: &str = "Inventory-Pa55-plugh";

/// A minimal generator: `images.app` and `images.sidecar` of the values are
/// the two containers of one Deployment, built by one Application.
fn write_generator(root: &Path) {
    let files = [
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}\n"),
        ("helpers/.keep", ""),
        (
            "default_values.yaml",
            "images:\n  app: {repository: example.invalid/app, tag: \"1\"}\n  sidecar: {repository: example.invalid/sidecar, tag: \"1\"}\n",
        ),
        ("templates/argocd/kustomization.yaml", "resources: [app.yaml]\n"),
        (
            "templates/argocd/app.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: app, namespace: argocd}\nspec:\n  destination: {namespace: app}\n  source:\n    plugin:\n      parameters:\n        - {name: output_kustomize_path, string: ./manifests/app}\n",
        ),
        ("templates/manifests/app/kustomization.yaml", "resources: [deployment.yaml]\n"),
        (
            "templates/manifests/app/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: app}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"{{< .Values.images.app.repository >}}:{{< .Values.images.app.tag >}}\"\n        - name: sidecar\n          image: \"{{< .Values.images.sidecar.repository >}}:{{< .Values.images.sidecar.tag >}}\"\n",
        ),
    ];
    for (rel, text) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

/// A scratch folder with the generator, values naming images of `source`,
/// mirror rules sending them under `target/m/` (host dropped).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(source: &str, target: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        write_generator(&dir.path().join("generator"));
        fs::write(
            dir.path().join("values.yaml"),
            format!("images:\n  app: {{repository: {source}/inv/app, tag: \"1.0\"}}\n  sidecar: {{repository: {source}/inv/multi, tag: \"2\"}}\n"),
        )
        .unwrap();
        fs::write(dir.path().join("mirror.yaml"), format!("mirror:\n  images:\n    registry: {target}/m\n    layout: drop-host\n")).unwrap();
        Setup { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The binary run with `args` in the scratch folder, kubectl on `PATH`.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"));
        cmd.args(args);
        self.environment(&mut cmd);
        cmd
    }

    /// The scratch folder, kubectl on `PATH`, no ambient mirror, cache or CA settings.
    fn environment(&self, cmd: &mut Command) {
        let kubectl = tools::locate(Tool::Kubectl).expect("checked by the caller");
        let mut paths = vec![kubectl.parent().unwrap().to_path_buf()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        cmd.current_dir(self.dir.path())
            .env("PATH", std::env::join_paths(paths).unwrap())
            .env("HOME", self.path("home"))
            .env_remove("DEPLOYKF_CMP_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("SSL_CERT_FILE");
    }

    fn mirror_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> =
            ["mirror", "--source-path", "generator", "--values", "values.yaml", "--mirror", "mirror.yaml"].map(String::from).to_vec();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    fn run<S: AsRef<str>>(&self, args: &[S]) -> (Output, String, String) {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let out = self.command(&args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out, stdout, stderr)
    }
}

fn have_kubectl() -> bool {
    let found = tools::locate(Tool::Kubectl).is_some();
    if !found {
        assert!(!tools::in_ci(), "kubectl is missing: run {}", tools::INSTALL_SCRIPT);
        eprintln!("skipped: kubectl is missing (run {})", tools::INSTALL_SCRIPT);
    }
    found
}

#[test]
fn dry_run_plans_every_inventory_image() {
    if !have_kubectl() {
        return;
    }
    let setup = Setup::new("src.registry.test:5000", "dst.registry.test:5000");
    let (out, list, stderr) = setup.run(&["images", "--source-path", "generator", "--values", "values.yaml", "--output", "list"]);
    assert!(out.status.success(), "{stderr}");
    let inventory: Vec<&str> = list.lines().collect();
    assert_eq!(inventory, ["src.registry.test:5000/inv/app:1.0", "src.registry.test:5000/inv/multi:2"]);

    let (out, plan, stderr) = setup.run(&setup.mirror_args(&["--dry-run"]));
    assert!(out.status.success(), "{stderr}");
    let expected: String = inventory
        .iter()
        .map(|image| format!("{image} -> dst.registry.test:5000/m/{}\n", image.split_once('/').unwrap().1))
        .collect();
    assert_eq!(plan, expected, "{stderr}");
    assert!(stderr.contains("the inventory lists 2 images"), "{stderr}");
}

#[test]
fn the_inputs_are_exclusive_and_the_inventory_needs_mirror_rules() {
    let setup = Setup::new("src.registry.test:5000", "dst.registry.test:5000");
    fs::write(setup.path("images.txt"), "src.registry.test:5000/a:1\n").unwrap();
    let (out, _, stderr) = setup.run(&setup.mirror_args(&["--images-file", "images.txt", "--dry-run"]));
    assert_eq!(out.status.code(), Some(1), "a usage error: {stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    let (out, _, stderr) = setup.run(&["mirror", "--source-path", "generator", "--values", "values.yaml", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "a usage error: {stderr}");
    assert!(stderr.contains("--mirror"), "{stderr}");
    let (out, _, stderr) = setup.run(&["mirror", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "a usage error: {stderr}");
    assert!(stderr.contains("--images-file") && stderr.contains("--source-path"), "{stderr}");
}

#[test]
fn the_inventory_charts_are_planned_from_the_same_render() {
    if !have_kubectl() || tools::helm().is_none() {
        return;
    }
    let Some(charts) = fixture_charts() else { return };
    let kyverno = fs::read(charts.join("kyverno-3.0.1.tgz")).unwrap();
    let digest = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&kyverno));
    let server = FileServer::start(move |_| {
        let index = format!("apiVersion: v1\nentries:\n  kyverno:\n  - name: kyverno\n    version: 3.0.1\n    digest: {digest}\n    urls: [kyverno-3.0.1.tgz]\n");
        [("/charts/index.yaml".to_string(), index.into_bytes()), ("/charts/kyverno-3.0.1.tgz".to_string(), kyverno)].into()
    });
    let setup = Setup::new("src.registry.test:5000", "dst.registry.test:5000");
    // A second Application: a chart depending on the served kyverno and on a fork beside it.
    let generator = setup.path("generator/templates");
    let repo = format!("http://{}/charts", server.addr);
    let files = [
        ("argocd/kustomization.yaml", "resources: [app.yaml, chart.yaml]\n".to_string()),
        (
            "argocd/chart.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: chart, namespace: argocd}\nspec:\n  destination: {namespace: chart}\n  source:\n    plugin:\n      parameters:\n        - {name: output_helm_path, string: ./manifests/chart}\n".to_string(),
        ),
        (
            "manifests/chart/Chart.yaml",
            format!("apiVersion: v2\nname: chart\nversion: 1.0.0\ndependencies:\n  - {{name: kyverno, version: 3.0.1, repository: \"{repo}\"}}\n  - {{name: fork, version: 1.0.0, repository: \"file://../fork\"}}\n"),
        ),
        ("manifests/fork/Chart.yaml", "apiVersion: v2\nname: fork\nversion: 1.0.0\n".to_string()),
    ];
    for (rel, text) in files {
        fs::create_dir_all(generator.join(rel).parent().unwrap()).unwrap();
        fs::write(generator.join(rel), text).unwrap();
    }
    fs::write(
        setup.path("mirror.yaml"),
        "mirror:\n  images:\n    registry: dst.registry.test:5000/m\n    layout: drop-host\n  charts:\n    repository: oci://dst.registry.test:5000/m/charts\n",
    )
    .unwrap();

    let (out, plan, stderr) = setup.run(&setup.mirror_args(&["--dry-run"]));
    assert!(out.status.success(), "{stderr}");
    assert!(plan.contains(&format!("{repo} kyverno 3.0.1 -> oci://dst.registry.test:5000/m/charts/charts/kyverno\n")), "{plan}");
    assert!(plan.contains("src.registry.test:5000/inv/app:1.0 -> dst.registry.test:5000/m/inv/app:1.0\n"), "{plan}");
    assert!(stderr.contains("the inventory lists ") && stderr.contains(" images and 2 charts"), "{stderr}");
    assert!(stderr.contains("left out 1 file:// chart (deployKF's forks inside the generator, deployed from there; nothing to mirror): fork (file://../fork)"), "{stderr}");
    assert_eq!(server.count("/charts/kyverno-3.0.1.tgz"), 1, "one render, one download");
}

/// The digest the registry gives for `repo:tag` (any manifest type).
fn manifest_digest(host: &str, repo: &str, tag: &str, auth: bool) -> Option<String> {
    let mut req = reqwest::blocking::Client::builder().no_proxy().build().unwrap().head(format!("http://{host}/v2/{repo}/manifests/{tag}")).header(
        "accept",
        "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json",
    );
    if auth {
        req = req.basic_auth(USER, Some(PASSWORD));
    }
    let response = req.send().unwrap();
    response.status().is_success().then(|| response.headers()["docker-content-digest"].to_str().unwrap().to_string())
}

#[test]
fn copies_the_inventory_from_registry_to_registry() {
    if !have_kubectl() {
        return;
    }
    let Some(source) = TestRegistry::start(RegistryOptions::plain()) else { return };
    let Some(target) = TestRegistry::start(RegistryOptions::plain().auth(USER, PASSWORD)) else { return };
    let pusher = Pusher::new(&source.host(), None);
    let base = random_layer(11, 256 * 1024);
    let app = pusher.push_image("inv/app", "1.0", &[&base, &random_layer(12, 64 * 1024)], ("linux", "amd64"), false);
    let multi = pusher.push_multi_arch("inv/multi", "2", &[&base], 13);

    let setup = Setup::new(&source.host(), &target.host());
    write_docker_config(&setup.path("auth.json"), &target.host(), USER, PASSWORD);
    let args = setup.mirror_args(&[
        "--authfile",
        "auth.json",
        "--insecure-registry",
        &source.host(),
        "--insecure-registry",
        &target.host(),
    ]);
    // `verify` of the same inventory: missing before the copy, with the
    // Application using each image and the command copying them.
    let verify_args: Vec<String> = std::iter::once("verify".to_string()).chain(args[1..].iter().cloned()).collect();
    let (out, _, stderr) = setup.run(&verify_args);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for needle in [
        format!("{0}/m/inv/app:1.0 (from {1}/inv/app:1.0): missing the manifest 1.0 [used by app]", target.host(), source.host()),
        format!("{1}/inv/multi:2={0}/m/inv/multi:2\n", target.host(), source.host()),
        "deploykf-cmp mirror --images-file missing-images.txt --authfile auth.json".to_string(),
    ] {
        assert!(stderr.contains(&needle), "{needle:?} not in:\n{stderr}");
    }

    let (out, _, stderr) = setup.run(&args);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(manifest_digest(&target.host(), "m/inv/app", "1.0", true).as_deref(), Some(app.as_str()), "{stderr}");
    assert_eq!(manifest_digest(&target.host(), "m/inv/multi", "2", true).as_deref(), Some(multi.as_str()), "{stderr}");
    // Off a terminal: the plain line per image, then the summary.
    for (repo, tag) in [("inv/app", "1.0"), ("inv/multi", "2")] {
        let line = format!("copied {0}/{repo}:{tag} -> {1}/m/{repo}:{tag}\n", source.host(), target.host());
        assert!(stderr.contains(&line), "{line} in:\n{stderr}");
    }
    assert!(stderr.contains("images: 2 copied, 0 already present, 0 failed"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no terminal escapes off a terminal:\n{stderr}");
    assert!(!stderr.contains(PASSWORD));
    let (out, stdout, stderr) = setup.run(&verify_args);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains(&format!("present  image  {}/m/inv/app:1.0  app\n", target.host())), "{stdout}");

    let (out, _, stderr) = setup.run(&args);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("images: 0 copied, 2 already present, 0 failed"), "{stderr}");
}

/// On a terminal (stderr of `script`'s pseudo-terminal), bars are drawn and
/// each finished image still gets its line.
#[test]
fn draws_bars_on_a_terminal() {
    if !have_kubectl() {
        return;
    }
    let Some(script) = ["/usr/bin/script", "/bin/script"].into_iter().map(Path::new).find(|p| p.exists()) else {
        eprintln!("skipped: `script` (util-linux) is missing");
        return;
    };
    let Some(source) = TestRegistry::start(RegistryOptions::plain()) else { return };
    let Some(target) = TestRegistry::start(RegistryOptions::plain()) else { return };
    let pusher = Pusher::new(&source.host(), None);
    pusher.push_image("inv/app", "1.0", &[&random_layer(21, 4 << 20)], ("linux", "amd64"), false);
    pusher.push_multi_arch("inv/multi", "2", &[&random_layer(22, 1 << 20)], 23);
    let setup = Setup::new(&source.host(), &target.host());
    let args = setup.mirror_args(&["--insecure-registry", &source.host(), "--insecure-registry", &target.host()]);
    // A terminal of a usual size (`script`'s own has none).
    let line = std::iter::once(format!("stty cols 120 rows 40; {}", env!("CARGO_BIN_EXE_deploykf-cmp")))
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(script);
    setup.environment(&mut cmd);
    let out = cmd.args(["-qec", &line, "/dev/null"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains('\u{1b}'), "bars are drawn with terminal escapes:\n{text}");
    assert!(text.contains("images 0/2"), "the images bar:\n{text}");
    assert!(text.contains("B/4.00 MiB"), "the bytes bar of the image with a 4 MiB layer:\n{text}");
    for (repo, tag) in [("inv/app", "1.0"), ("inv/multi", "2")] {
        let line = format!("copied {0}/{repo}:{tag} -> {1}/m/{repo}:{tag}", source.host(), target.host());
        assert!(text.contains(&line), "{line} in:\n{text}");
    }
    assert!(text.contains("images: 2 copied"), "{text}");
}
