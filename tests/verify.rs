//! `deploykf-cmp verify` against real registries: a plain source registry
//! and a TLS+htpasswd mirror. The mirror lacks one image, one platform of a
//! multi-platform image (copied with `mirror --platform linux/arm64`, which
//! keeps only that platform in the index) and one
//! chart tag: `verify` exits 1 naming each and the `mirror` command that
//! copies them; that command, run as printed, fixes the images, and then
//! `verify` exits 0 (also with `--deep` and `--output json`).

mod common;
mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{bin, Run};
use support::images::Pusher;
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};

const USER: &str = "verify-bot";
const PASSWORD: &str = "s3cret-Verify-pass";

struct Setup {
    source: TestRegistry,
    mirror: TestRegistry,
    dir: tempfile::TempDir,
}

impl Setup {
    fn start() -> Option<Setup> {
        let source = TestRegistry::start(RegistryOptions::plain())?;
        let mirror = TestRegistry::start(RegistryOptions::plain().tls().auth(USER, PASSWORD))?;
        let dir = tempfile::tempdir().unwrap();
        write_docker_config(&dir.path().join("auth.json"), &mirror.host(), USER, PASSWORD);
        Some(Setup { source, mirror, dir })
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// `deploykf-cmp ARGS` with the mirror's CA, the source as plain HTTP,
    /// in the test folder.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = self.environment(Command::new(bin()));
        command.args(args);
        command
    }

    /// `command` with the test's environment and folder.
    fn environment(&self, mut command: Command) -> Command {
        command
            .current_dir(self.dir.path())
            .env("SSL_CERT_FILE", self.mirror.ca_pem_path().unwrap())
            .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", self.source.host())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join(".config"))
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .env_remove("HELM_REGISTRY_CONFIG")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let run: Run = self.command(args).output().unwrap().into();
        assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD), "the password reached the output");
        run
    }

    /// `SOURCE=TARGET` for `name` (`repo:tag`), targets under `deploykf/`.
    fn line(&self, name: &str) -> String {
        format!("{}/{name}={}/deploykf/{name}\n", self.source.host(), self.mirror.host())
    }
}

/// The shell lines `verify` printed after "To copy what is missing:".
fn fix_script(stderr: &str) -> String {
    let start = stderr.find("To copy what is missing:\n").expect("the fix is printed") + "To copy what is missing:\n".len();
    let rest = &stderr[start..];
    let end = rest.find("deploykf-cmp mirror").expect("the mirror command");
    let line_end = rest[end..].find('\n').map_or(rest.len(), |n| end + n);
    rest[..line_end].to_string()
}

fn run_script(setup: &Setup, script: &str) -> Run {
    let bin_dir = setup.path("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    let link = bin_dir.join("deploykf-cmp");
    if !link.exists() {
        std::os::unix::fs::symlink(bin(), &link).unwrap();
    }
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
    let mut command = setup.environment(Command::new("sh"));
    command.arg("-ec").arg(script).env("PATH", path);
    command.output().unwrap().into()
}

#[test]
fn verify_names_a_missing_image_platform_and_chart_and_the_fix_makes_it_pass() {
    let Some(setup) = Setup::start() else { return };
    let source = Pusher::new(&setup.source.host(), None);
    let small = support::images::random_layer(1, 4096);
    source.push_image("apps/present", "1.0", &[&small], ("linux", "amd64"), false);
    source.push_image("apps/absent", "2.0", &[&small], ("linux", "amd64"), true);
    source.push_multi_arch("apps/multi", "3.0", &[&small], 7);
    let mirror = Pusher::tls(&setup.mirror.host(), &fs::read(setup.mirror.ca_pem_path().unwrap()).unwrap(), Some((USER, PASSWORD)));
    // A chart of an https:// repository, as `mirror --charts-file` tags it: '+' as '_'.
    mirror.push_image("deploykf/charts/present-chart", "1.2.3_up", &[&small], ("linux", "amd64"), false);

    let authfile = setup.path("auth.json");
    let authfile = authfile.to_str().unwrap();
    // The mirror before the check: one image whole, the multi-platform one for arm64 only.
    fs::write(setup.path("setup.txt"), setup.line("apps/present:1.0")).unwrap();
    setup.run(&["mirror", "--images-file", "setup.txt", "--authfile", authfile]).assert_ok();
    fs::write(setup.path("setup-arm.txt"), setup.line("apps/multi:3.0")).unwrap();
    setup.run(&["mirror", "--images-file", "setup-arm.txt", "--authfile", authfile, "--platform", "linux/arm64"]).assert_ok();

    let images = [setup.line("apps/present:1.0"), setup.line("apps/absent:2.0"), setup.line("apps/multi:3.0")].concat();
    fs::write(setup.path("images.txt"), images).unwrap();
    let mirror_host = setup.mirror.host();
    fs::write(
        setup.path("charts.txt"),
        format!(
            "https://charts.example.com present-chart 1.2.3+up oci://{mirror_host}/deploykf/charts\n\
             https://charts.example.com absent-chart v0.9.0 oci://{mirror_host}/deploykf/charts\n"
        ),
    )
    .unwrap();
    let all = ["verify", "--images-file", "images.txt", "--charts-file", "charts.txt", "--authfile", authfile];
    let run = setup.run(&all);
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    let absent = format!("{mirror_host}/deploykf/apps/absent:2.0");
    let multi = format!("{mirror_host}/deploykf/apps/multi:3.0");
    // The table: each item present or missing, and where it is used.
    let row = |target: &str| run.stdout.lines().find(|l| l.contains(&format!(" {target} "))).unwrap_or_else(|| panic!("no row for {target}:\n{}", run.stdout)).to_string();
    assert!(row(&format!("{mirror_host}/deploykf/apps/present:1.0")).starts_with("present  image"), "{}", run.stdout);
    assert!(row(&absent).starts_with("missing  image") && row(&absent).ends_with("images.txt"), "{}", run.stdout);
    assert!(row(&multi).starts_with("missing  image"), "{}", run.stdout);
    assert!(row(&format!("oci://{mirror_host}/deploykf/charts/present-chart:1.2.3_up")).starts_with("present  chart"), "{}", run.stdout);
    assert!(row(&format!("oci://{mirror_host}/deploykf/charts/absent-chart:v0.9.0")).starts_with("missing  chart"), "{}", run.stdout);
    assert!(run.stdout.contains("2 of 5 present"), "{}", run.stdout);
    // stderr names each missing thing, then the command copying it.
    for needle in [
        "3 of 5 images and charts are not in the mirror:".to_string(),
        format!("{absent} (from {}/apps/absent:2.0): missing the manifest 2.0 [used by images.txt]", setup.source.host()),
        format!("{multi} (from {}/apps/multi:3.0): missing platform linux/amd64 (the index lists linux/arm64)", setup.source.host()),
        format!("oci://{mirror_host}/deploykf/charts/absent-chart:v0.9.0 (from https://charts.example.com absent-chart v0.9.0): missing the manifest v0.9.0 [used by charts.txt]"),
        "cat > missing-images.txt <<'EOF'\n".to_string(),
        setup.line("apps/absent:2.0"),
        setup.line("apps/multi:3.0"),
        format!("https://charts.example.com absent-chart v0.9.0 oci://{mirror_host}/deploykf/charts\n"),
        format!("deploykf-cmp mirror --images-file missing-images.txt --charts-file missing-charts.txt --authfile {authfile}\n"),
    ] {
        assert!(run.stderr.contains(&needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains(&setup.line("apps/present:1.0")), "a present image is not in the fix:\n{}", run.stderr);

    // The images' fix, run as printed, copies what was missing.
    let images_only = setup.run(&["verify", "--images-file", "images.txt", "--authfile", authfile]);
    assert_eq!(images_only.code, Some(1), "{}", images_only.stderr);
    let script = fix_script(&images_only.stderr);
    assert!(!script.contains("--charts-file"), "{script}");
    let fixed = run_script(&setup, &script);
    fixed.assert_ok();
    setup.run(&["verify", "--images-file", "images.txt", "--authfile", authfile]).assert_ok();

    // The chart pushed too: everything present, also blob by blob, in JSON.
    mirror.push_image("deploykf/charts/absent-chart", "v0.9.0", &[&small], ("linux", "amd64"), false);
    let run = setup.run(&[&all[..], &["--deep", "--output", "json", "--platform", "linux/amd64", "--platform", "linux/arm64"]].concat());
    run.assert_ok();
    let answer: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!((answer["present"].as_u64(), answer["total"].as_u64()), (Some(5), Some(5)), "{answer:#}");
    assert_eq!(answer["fix"], serde_json::Value::Null);
    assert!(run.stderr.contains("all 5 images and charts are in the mirror"), "{}", run.stderr);

    // Without --authfile, the credentials are found where pull-secret finds them.
    let run: Run = setup.command(&["verify", "--images-file", "images.txt"]).env("REGISTRY_AUTH_FILE", authfile).output().unwrap().into();
    run.assert_ok();
    let run: Run = setup.command(&["verify", "--images-file", "images.txt"]).output().unwrap().into();
    assert_eq!(run.code, Some(1), "no credentials: {}", run.stderr);
    assert!(run.stderr.contains("not checked: ") && run.stderr.contains("requires a login and no credentials were found"), "{}", run.stderr);
    assert!(!run.stderr.contains("To copy what is missing"), "an access error is no missing image:\n{}", run.stderr);
}

#[test]
fn verify_refuses_bad_flags_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images.txt");
    fs::write(&images, "docker.io/library/nginx:1=127.0.0.1:9/m/nginx:1\n").unwrap();
    let run = |extra: &[&str]| -> Run {
        Command::new(bin()).arg("verify").arg("--images-file").arg(&images).args(extra).output().unwrap().into()
    };
    let out = run(&["--platform", "linux"]);
    assert!(out.code == Some(1) && out.stderr.contains("write it as os/arch"), "{}", out.stderr);
    let out = run(&["--jobs", "0"]);
    assert!(out.code == Some(1) && out.stderr.contains("--jobs must be at least 1"), "{}", out.stderr);
    let out: Run = Command::new(bin()).args(["verify", "--mirror", "m.yaml"]).output().unwrap().into();
    assert!(out.code != Some(0) && out.stderr.contains("required arguments were not provided"), "an input is required: {}", out.stderr);
    assert!(Path::new(&images).is_file());
}

// ---------------------------------------------------------------------------
// The plugin's preflight (DEPLOYKF_CMP_VERIFY=true) through argocd-cmp-harness:
// a small generator whose app-of-apps lists two child Applications, each
// deploying images named at the mirror (a pod image, and one only a
// controller starts, from a `*_IMAGE` env entry). The mirror holds child-a's
// images, not child-b's pod image: child-b alone fails, naming it.

const REPO_URL: &str = "https://git.example.com/platform/verify.git";

/// An Application of the plugin rendering `./generator`, and its kustomize
/// output folder (none: the app-of-apps).
fn application(name: &str, output: Option<&str>) -> String {
    let output = output.map_or(String::new(), |o| format!("        - name: output_kustomize_path\n          string: {o}\n"));
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  \
         source:\n    repoURL: {REPO_URL}\n    targetRevision: main\n    path: .\n    plugin:\n      name: deploykf\n      parameters:\n        \
         - name: source_path\n          string: ./generator\n{output}  destination:\n    server: https://kubernetes.default.svc\n    namespace: demo\n"
    )
}

/// One child Application of [`preflight_generator`]: its name, the images of
/// its Deployment's containers, and images only a controller starts (`*_IMAGE`
/// env entries).
struct Child {
    name: String,
    pod_images: Vec<String>,
    runtime_images: Vec<String>,
}

/// A generator whose `argocd/` lists `children`, each a kustomize folder
/// holding one Deployment.
fn preflight_generator(children: &[Child]) -> Vec<(String, String)> {
    let mut files = vec![
        (".deploykf_generator".to_string(), "{\"generator_schema\": \"v1\"}".to_string()),
        ("default_values.yaml".to_string(), "unused: true\n".to_string()),
        ("helpers/none.tpl".to_string(), String::new()),
    ];
    let mut resources = String::from("resources:\n");
    for child in children {
        let name = &child.name;
        let mut containers = String::new();
        for (i, image) in child.pod_images.iter().enumerate() {
            containers += &format!("        - name: c{i}\n          image: \"{image}\"\n");
            if i == 0 {
                containers += "          env:\n";
                for (j, runtime) in child.runtime_images.iter().enumerate() {
                    containers += &format!("            - name: HELPER{j}_IMAGE\n              value: \"{runtime}\"\n");
                }
            }
        }
        let deployment = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: demo\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  \
             template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n{containers}"
        );
        resources += &format!("  - {name}.yaml\n");
        files.push((format!("templates/argocd/{name}.yaml"), application(name, Some(&format!("./manifests/{name}/")))));
        files.push((format!("templates/manifests/{name}/kustomization.yaml"), "resources:\n  - deploy.yaml\n".to_string()));
        files.push((format!("templates/manifests/{name}/deploy.yaml"), deployment));
    }
    files.push(("templates/argocd/kustomization.yaml".to_string(), resources));
    files
}

/// Runs the harness over the app-of-apps with the plugin's preflight on.
fn run_preflight(work: &Path, mirror: &TestRegistry, kubectl: &Path) -> (bool, String, serde_json::Value) {
    let bin_dir = work.join("bin");
    fs::create_dir_all(&bin_dir).unwrap();
    for program in [bin(), kubectl.to_path_buf()] {
        let link = bin_dir.join(program.file_name().unwrap());
        if !link.exists() {
            std::os::unix::fs::symlink(&program, link).unwrap();
        }
    }
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
    let out = work.join("out");
    let _ = fs::remove_dir_all(&out);
    let shared = common::shared().unwrap();
    let run = Command::new("python3")
        .arg(shared.join("tools/argocd-cmp-harness"))
        .arg("--plugin")
        .arg(common::repo_root().join("plugin.yaml"))
        .arg("--app")
        .arg(work.join("app-of-apps.yaml"))
        .arg("--repo")
        .arg(format!("{REPO_URL}={}", work.join("repo").display()))
        .arg("--recurse")
        .arg("--out")
        .arg(&out)
        .env("PATH", path)
        .env("HOME", work.join("home"))
        .env("DEPLOYKF_CMP_CACHE_DIR", work.join("cache"))
        .env("DEPLOYKF_CMP_VERIFY", "true")
        .env("HELM_REGISTRY_CONFIG", work.join("auth.json"))
        .env("SSL_CERT_FILE", mirror.ca_pem_path().unwrap())
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .env_remove("DEPLOYKF_CMP_KUBECTL")
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .env_remove("DEPLOYKF_CMP_VERIFY_CACHE_SECONDS")
        .output()
        .unwrap();
    let summary = fs::read_to_string(out.join("summary.json")).map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default();
    (run.status.success(), String::from_utf8_lossy(&run.stderr).into_owned(), summary)
}

#[test]
fn plugin_preflight_fails_only_the_child_missing_an_image() {
    let Some(_) = common::shared() else {
        eprintln!("SKIPPED: ../shared (argocd-cmp-harness) is absent");
        return;
    };
    let Some(kubectl) = support::tools::kubectl() else { return };
    let Some(mirror) = TestRegistry::start(RegistryOptions::plain().tls().auth(USER, PASSWORD)) else { return };
    let host = mirror.host();
    let work = tempfile::tempdir().unwrap();
    let child = |name: &str| Child {
        name: name.to_string(),
        pod_images: vec![format!("{host}/apps/{name}:1.0")],
        runtime_images: vec![format!("{host}/apps/helper:1.0")],
    };
    common::write_tree(&work.path().join("repo/generator"), &preflight_generator(&[child("child-a"), child("child-b")]));
    fs::write(work.path().join("app-of-apps.yaml"), application("verify-app-of-apps", None)).unwrap();
    fs::create_dir_all(work.path().join("home")).unwrap();
    write_docker_config(&work.path().join("auth.json"), &host, USER, PASSWORD);
    let pusher = Pusher::tls(&host, &fs::read(mirror.ca_pem_path().unwrap()).unwrap(), Some((USER, PASSWORD)));
    let layer = support::images::random_layer(3, 2048);
    for name in ["apps/child-a", "apps/helper"] {
        pusher.push_image(name, "1.0", &[&layer], ("linux", "amd64"), false);
    }

    let (success, stderr, summary) = run_preflight(work.path(), &mirror, &kubectl);
    assert!(!success, "child-b lacks its image:\n{stderr}");
    assert!(!stderr.contains(PASSWORD), "the password reached the output");
    let rendered: Vec<&str> = summary["applications"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(rendered, ["verify-app-of-apps", "child-a"], "{stderr}");
    let failed = summary["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{summary:#}");
    assert_eq!(failed[0]["name"], "child-b");
    let error = failed[0]["error"].as_str().unwrap();
    for needle in [
        "1 of 2 images and charts of './manifests/child-b/' are not in the mirror (DEPLOYKF_CMP_VERIFY=true)".to_string(),
        format!("{host}/apps/child-b:1.0: missing the manifest 1.0 [used by Deployment/demo/child-b]"),
    ] {
        assert!(error.contains(&needle), "{needle:?} not in: {error}");
    }
    assert!(!error.contains("apps/helper"), "only what is missing is listed: {error}");

    // Pushed, child-b renders; child-a's answers come from the cache: the
    // registry is asked about child-b's images only.
    pusher.push_image("apps/child-b", "1.0", &[&layer], ("linux", "amd64"), false);
    let asked = |image: &str| fs::read_to_string(mirror.log_path()).unwrap().matches(&format!("/v2/{image}/manifests/1.0")).count();
    let before = (asked("apps/child-a"), asked("apps/helper"), asked("apps/child-b"));
    let (success, stderr, summary) = run_preflight(work.path(), &mirror, &kubectl);
    assert!(success, "{stderr}");
    assert_eq!(summary["failed"], serde_json::json!([]));
    let after = (asked("apps/child-a"), asked("apps/helper"), asked("apps/child-b"));
    assert_eq!((after.0, after.1), (before.0, before.1), "present answers are cached");
    assert!(after.2 > before.2, "child-b's image was checked again");
}

// ---------------------------------------------------------------------------
// The benchmark of scripts/bench-verify.

/// `plugin init` then `plugin generate` of the child `name` of the tree in
/// `work/repo`, straight from the binary, with the preflight on, the mirror's
/// credentials and `env`; the run that failed, else `generate`'s.
fn plugin_run(work: &Path, name: &str, kubectl: &Path, env: &[(&str, &std::ffi::OsStr)]) -> Run {
    let params = serde_json::json!([
        {"name": "source_path", "string": "./generator"},
        {"name": "output_kustomize_path", "string": format!("./manifests/{name}/")},
    ]);
    let mut last = None;
    for verb in ["init", "generate"] {
        let mut command = Command::new(bin());
        command
            .args(["plugin", verb])
            .current_dir(work.join("repo"))
            .env_clear()
            .env("PATH", kubectl.parent().unwrap())
            .env("HOME", work.join("home"))
            .env("TMPDIR", work.join("tmp"))
            .env("DEPLOYKF_CMP_CACHE_DIR", work.join("cache"))
            .env("DEPLOYKF_CMP_VERIFY", "true")
            .env("HELM_REGISTRY_CONFIG", work.join("auth.json"))
            .env("ARGOCD_APP_NAME", name)
            .env("ARGOCD_APP_NAMESPACE", "demo")
            .env("ARGOCD_APP_SOURCE_REPO_URL", REPO_URL)
            .env("ARGOCD_APP_SOURCE_PATH", ".")
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("ARGOCD_APP_PARAMETERS", params.to_string())
            .envs(env.iter().copied());
        let run: Run = command.output().unwrap().into();
        if run.code != Some(0) {
            return run;
        }
        last = Some(run);
    }
    last.unwrap()
}

/// [`plugin_run`] against `mirror`, which must succeed; its stderr.
fn plugin_child(work: &Path, name: &str, mirror: &TestRegistry, kubectl: &Path) -> String {
    let ca = mirror.ca_pem_path().unwrap();
    let run = plugin_run(work, name, kubectl, &[("SSL_CERT_FILE", ca.as_os_str())]);
    run.assert_ok();
    run.stderr
}

#[test]
fn plugin_preflight_ends_by_the_deadline_naming_the_check() {
    let Some(kubectl) = support::tools::kubectl() else { return };
    let registry = support::fault_server::FaultServer::start(|_| support::fault_server::Answer::Hang);
    let work = tempfile::tempdir().unwrap();
    let image = format!("{}/apps/slow:1.0", registry.addr);
    let child = Child { name: "slow".into(), pod_images: vec![image], runtime_images: Vec::new() };
    common::write_tree(&work.path().join("repo/generator"), &preflight_generator(&[child]));
    for d in ["home", "tmp"] {
        fs::create_dir_all(work.path().join(d)).unwrap();
    }
    write_docker_config(&work.path().join("auth.json"), &registry.addr, USER, PASSWORD);
    let insecure = std::ffi::OsString::from(&registry.addr);
    let deadline = std::ffi::OsString::from("3");
    let run = plugin_run(
        work.path(),
        "slow",
        &kubectl,
        &[("DEPLOYKF_CMP_INSECURE_REGISTRIES", &insecure), ("DEPLOYKF_CMP_DEADLINE_SECONDS", &deadline)],
    );
    run.assert_fails_with(&[
        "the plugin's deadline of 3 s (DEPLOYKF_CMP_DEADLINE_SECONDS) passed while checking 1 images and charts of \
         './manifests/slow/' in the mirror (DEPLOYKF_CMP_VERIFY)",
    ]);
    assert!(!run.stderr.contains(PASSWORD));
}

/// The milliseconds the preflight reported (`… present in the mirror (N ms)`).
fn preflight_ms(stderr: &str) -> u64 {
    let line = stderr.lines().find(|l| l.starts_with("deploykf-cmp: verify: ")).unwrap_or_else(|| panic!("no verify line:\n{stderr}"));
    line.rsplit_once('(').and_then(|(_, r)| r.strip_suffix(" ms)")).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{line}"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// deployKF 0.1.5's inventory (sample values) placed in a TLS+htpasswd mirror
/// holding a small image under each target (every fifth an amd64+arm64
/// index): `verify` of the whole list (cold: a fresh process each run), and
/// with `--deep`, against a loop of `skopeo inspect --raw` over the same
/// references; then the plugin preflight of one child Application per
/// deployKF component holding that component's images, cold and warm.
#[test]
#[ignore = "benchmark: scripts/bench-verify"]
fn bench_verify_against_skopeo() {
    use std::time::Instant;
    use support::harness::{point_charts_at, CHARTS, VERSION};
    let Some(shared) = common::shared() else {
        eprintln!("SKIPPED: ../shared (fixtures) is absent");
        return;
    };
    let (Some(helm), Some(kubectl), Some(skopeo)) = (support::tools::helm(), support::tools::kubectl(), support::tools::skopeo()) else { return };
    let Some(charts) = TestRegistry::start(RegistryOptions::plain().helm()) else { return };
    let Some(mirror) = TestRegistry::start(RegistryOptions::plain().tls().auth(USER, PASSWORD)) else { return };
    let fixtures = shared.join("fixtures");
    for (_, _, tgz) in CHARTS {
        charts.push_chart(&fixtures.join("charts").join(tgz), "charts");
    }
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    for d in ["home", "tmp"] {
        fs::create_dir_all(work.join(d)).unwrap();
    }
    let mut chart_values = serde_json::json!({});
    point_charts_at(&mut chart_values, &charts.host());
    fs::write(work.join("charts.yaml"), chart_values.to_string()).unwrap();
    let host = mirror.host();
    fs::write(work.join("mirror.yaml"), format!("mirror:\n  images:\n    registry: {host}/deploykf\n")).unwrap();
    let auth = work.join("auth.json");
    write_docker_config(&auth, &host, USER, PASSWORD);

    // The inventory, with each image's place in the mirror.
    let t = Instant::now();
    let mut inventory = Command::new(bin());
    inventory.args(["images", "--output", "json", "--source-path"]).arg(fixtures.join(format!("generators/deploykf-{VERSION}-generator.zip")));
    for values in [format!("sample-values-{VERSION}.yaml"), format!("sample-values-overrides-{VERSION}.yaml")] {
        inventory.arg("-f").arg(fixtures.join("sample-values").join(values));
    }
    let out = inventory
        .arg("-f")
        .arg(work.join("charts.yaml"))
        .arg("--mirror")
        .arg(work.join("mirror.yaml"))
        .env("HOME", work.join("home"))
        .env("DEPLOYKF_CMP_HELM", &helm)
        .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
        .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", charts.host())
        .env("DEPLOYKF_CMP_CACHE_DIR", work.join("inventory-cache"))
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let inventory_s = t.elapsed().as_secs_f64();

    // The mirror: a small image (every fifth an index) under each target.
    let pusher = Pusher::tls(&host, &fs::read(mirror.ca_pem_path().unwrap()).unwrap(), Some((USER, PASSWORD)));
    let base = support::images::random_layer(11, 64 * 1024);
    let (mut lines, mut targets, mut by_component) = (String::new(), Vec::new(), std::collections::BTreeMap::<String, Child>::new());
    let t = Instant::now();
    for (n, entry) in entries.iter().enumerate() {
        let (source, target) = (entry["image"].as_str().unwrap(), entry["mirrored"].as_str().expect("every image is placed"));
        let (name, reference) = target.strip_prefix(&format!("{host}/")).unwrap().rsplit_once(['@', ':']).unwrap();
        if target.contains('@') {
            panic!("a digest-pinned image cannot be made up here: {target}");
        }
        let own = support::images::random_layer(100 + n as u64, 1024);
        if n % 5 == 0 {
            pusher.push_multi_arch(name, reference, &[&base], 100 + n as u64);
        } else {
            pusher.push_image(name, reference, &[&base, &own], ("linux", "amd64"), n % 2 == 0);
        }
        lines += &format!("{source}={target}\n");
        targets.push(target.to_string());
        for s in entry["sources"].as_array().unwrap() {
            let Some(component) = s["component"].as_str() else { continue };
            let child = by_component.entry(component.to_string()).or_insert_with(|| Child { name: component.to_string(), pod_images: Vec::new(), runtime_images: Vec::new() });
            let list = if s["how"] == "pod-spec" { &mut child.pod_images } else { &mut child.runtime_images };
            if !list.contains(&target.to_string()) {
                list.push(target.to_string());
            }
        }
    }
    let push_s = t.elapsed().as_secs_f64();
    fs::write(work.join("images.txt"), &lines).unwrap();
    println!("deployKF {VERSION} inventory: {} images (rendered in {inventory_s:.1}s), pushed to the TLS+htpasswd mirror in {push_s:.1}s", targets.len());

    let verify = |deep: bool| {
        let mut cmd = Command::new(bin());
        cmd.args(["verify", "--images-file"]).arg(work.join("images.txt")).arg("--authfile").arg(&auth);
        if deep {
            cmd.arg("--deep");
        }
        let t = Instant::now();
        let out = cmd.env("SSL_CERT_FILE", mirror.ca_pem_path().unwrap()).output().unwrap();
        let s = t.elapsed().as_secs_f64();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        s
    };
    let skopeo_loop = || {
        let t = Instant::now();
        for target in &targets {
            let out = Command::new(&skopeo)
                .args(["inspect", "--raw", "--authfile"])
                .arg(&auth)
                .arg("--cert-dir")
                .arg(mirror.cert_dir().unwrap())
                .arg(format!("docker://{target}"))
                .output()
                .unwrap();
            assert!(out.status.success(), "{target}: {}", String::from_utf8_lossy(&out.stderr));
        }
        t.elapsed().as_secs_f64()
    };
    let (mut ours, mut deep, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=3 {
        let (o, d, s) = (verify(false), verify(true), skopeo_loop());
        println!("round {round}: verify {o:.2}s, verify --deep {d:.2}s, skopeo inspect loop {s:.2}s ({:.2}x)", o / s);
        ours.push(o);
        deep.push(d);
        theirs.push(s);
    }
    let (o, d, s) = (median(ours), median(deep), median(theirs));
    println!("median: verify {o:.2}s (target <= 3 s), verify --deep {d:.2}s, skopeo inspect loop {s:.2}s: verify {:.2}x skopeo's time", o / s);

    // The plugin preflight per child: one child per component.
    let children: Vec<Child> = by_component.into_values().filter(|c| !c.pod_images.is_empty()).collect();
    common::write_tree(&work.join("repo/generator"), &preflight_generator(&children));
    let mut rows = Vec::new();
    for child in &children {
        let cold = preflight_ms(&plugin_child(work, &child.name, &mirror, &kubectl));
        let warm: Vec<u64> = (0..3).map(|_| preflight_ms(&plugin_child(work, &child.name, &mirror, &kubectl))).collect();
        let warm = median(warm.iter().map(|&w| w as f64).collect());
        println!("  {:45} {:3} images: preflight cold {cold:4} ms, warm {warm:3.0} ms", child.name, child.pod_images.len() + child.runtime_images.len());
        rows.push((cold as f64, warm));
    }
    let cold = median(rows.iter().map(|r| r.0).collect());
    let warm = median(rows.iter().map(|r| r.1).collect());
    let worst = rows.iter().map(|r| r.1).fold(0f64, f64::max);
    println!("plugin preflight over {} children: cold median {cold:.0} ms, warm median {warm:.0} ms, warm worst {worst:.0} ms (target <= 100 ms)", rows.len());
}
