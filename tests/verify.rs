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

/// An Application of the plugin rendering the generator with `registry:
/// REGISTRY` (a template of the generator, or with the value written in),
/// and its kustomize output folder (none: the app-of-apps).
fn application(name: &str, registry: &str, output: Option<&str>) -> String {
    let output = output.map_or(String::new(), |o| format!("        - name: output_kustomize_path\n          string: {o}\n"));
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  \
         source:\n    repoURL: {REPO_URL}\n    targetRevision: main\n    path: .\n    plugin:\n      name: deploykf\n      parameters:\n        \
         - name: source_path\n          string: ./generator\n        - name: values\n          string: \"registry: {registry}\"\n{output}  \
         destination:\n    server: https://kubernetes.default.svc\n    namespace: demo\n"
    )
}

/// The generator: `argocd/` lists child-a and child-b, each a kustomize folder.
fn preflight_generator() -> Vec<(String, String)> {
    let deployment = |name: &str, runtime: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: demo\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  \
             template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: main\n          \
             image: {{{{< .Values.registry >}}}}/apps/{name}:1.0\n          env:\n            - name: HELPER_IMAGE\n              \
             value: {{{{< .Values.registry >}}}}/apps/{runtime}:1.0\n"
        )
    };
    let mut files = vec![
        (".deploykf_generator".to_string(), "{\"generator_schema\": \"v1\"}".to_string()),
        ("default_values.yaml".to_string(), "registry: registry.invalid\n".to_string()),
        ("helpers/none.tpl".to_string(), String::new()),
        ("templates/argocd/kustomization.yaml".to_string(), "resources:\n  - child-a.yaml\n  - child-b.yaml\n".to_string()),
    ];
    for (name, runtime) in [("child-a", "helper"), ("child-b", "helper")] {
        files.push((format!("templates/argocd/{name}.yaml"), application(name, "{{< .Values.registry >}}", Some(&format!("./manifests/{name}/")))));
        files.push((format!("templates/manifests/{name}/kustomization.yaml"), "resources:\n  - deploy.yaml\n".to_string()));
        files.push((format!("templates/manifests/{name}/deploy.yaml"), deployment(name, runtime)));
    }
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
    common::write_tree(&work.path().join("repo/generator"), &preflight_generator());
    fs::write(work.path().join("app-of-apps.yaml"), application("verify-app-of-apps", &host, None)).unwrap();
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
        format!("1 of 2 images and charts of './manifests/child-b/' are not in the mirror (DEPLOYKF_CMP_VERIFY=true)"),
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
