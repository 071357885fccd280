//! Private mirrors end to end. The done-when test of the mirror issue:
//! deployKF 0.1.5's app-of-apps with its sample values and a values file
//! holding only a `mirror:` section, through `argocd-cmp-harness --recurse`,
//! every upstream chart only in the mirror (a real TLS+htpasswd registry) at
//! the paths the keep-host layout yields, renders with zero failures and not
//! one pod image outside `mirror.images.registry`. Then the leak check, the
//! sources' precedence and the render cache key, on a small generator through
//! `deploykf-cmp generate` and `plugin init`/`generate`.

mod common;
mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, shared, write_tree, Run};
use support::harness::{default_values, Tree, REPO_URL};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
use tempfile::TempDir;

const USER: &str = "deploykf";
const PASSWORD: &str = "s3cret-Mirror-pass";

/// A mirror config (a file or values holding only `mirror:`) for `host`.
fn mirror_config(host: &str) -> String {
    format!(
        "mirror:\n  images:\n    registry: {host}/deploykf\n  charts:\n    repository: oci://{host}/deploykf/charts\n"
    )
}

/// `(name, version, repository)` of every `oci://` chart dependency in the
/// `Chart.yaml` files below `dir` (the generator writes them one key a line).
fn oci_dependencies(dir: &Path) -> BTreeSet<(String, String, String)> {
    let mut found = BTreeSet::new();
    for entry in walk(dir) {
        if entry.file_name().is_none_or(|n| n != "Chart.yaml") {
            continue;
        }
        let text = fs::read_to_string(&entry).unwrap();
        let Some(deps) = text.split("\ndependencies:\n").nth(1) else { continue };
        for dep in deps.split("\n  - ") {
            let field = |key: &str| {
                dep.lines()
                    .map(|l| l.trim().trim_start_matches("- "))
                    .find_map(|l| l.strip_prefix(key))
                    .map(|v| v.trim().trim_matches('"').to_string())
            };
            if let (Some(name), Some(version), Some(repo)) = (field("name:"), field("version:"), field("repository:")) {
                if repo.starts_with("oci://") {
                    found.insert((name, version, repo));
                }
            }
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

/// The fixture package of chart `name` at `version` (`name-version.tgz`, or `name-vversion.tgz`).
fn fixture_chart(charts: &Path, name: &str, version: &str) -> PathBuf {
    let version = version.trim_start_matches('v');
    [format!("{name}-{version}.tgz"), format!("{name}-v{version}.tgz")]
        .iter()
        .map(|f| charts.join(f))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no fixture chart {name} {version} in {}", charts.display()))
}

#[test]
fn the_deploykf_tree_renders_from_the_mirror_only() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures, argocd-cmp-harness) is absent");
        return;
    };
    let (Some(helm), Some(kubectl)) = (support::tools::helm(), support::tools::kubectl()) else { return };
    let Some(registry) = TestRegistry::start(RegistryOptions::default().tls().auth(USER, PASSWORD).helm()) else {
        return;
    };
    let host = registry.host();
    let tree = Tree::new(&shared);
    let repo_values = serde_json::json!({"argocd": {"source": {"repo": {"url": REPO_URL, "revision": "main", "path": "."}}}});
    fs::write(tree.repo().join("repo-values.yaml"), repo_values.to_string()).unwrap();
    fs::write(tree.repo().join("mirror-values.yaml"), mirror_config(&host)).unwrap();

    // Where the mirror puts each chart, as the product computes it: the
    // chart dependencies `deploykf-cmp generate` writes with the same values
    // (the mirror from the values file; the output folder passes the leak check).
    let cli_out = tree.path("cli-out");
    let mut values: Vec<PathBuf> = Tree::sample_values().iter().map(|n| tree.repo().join(n)).collect();
    values.extend(["repo-values.yaml", "mirror-values.yaml"].map(|n| tree.repo().join(n)));
    let cli: Run = Command::new(bin())
        .arg("generate")
        .arg("--source-path")
        .arg(&tree.zip)
        .args(values.iter().flat_map(|v| [Path::new("-f"), v]))
        .arg("-O")
        .arg(&cli_out)
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE")
        .output()
        .unwrap()
        .into();
    cli.assert_ok();
    assert!(cli.stderr.contains("deploykf-cmp: mirror (values): "), "{}", cli.stderr);
    assert!(cli.stderr.contains(" 5 charts redirected"), "{}", cli.stderr);
    let dependencies = oci_dependencies(&cli_out);
    let upstream = default_values(&tree.zip).matches("repository: https://").count();
    assert_eq!(dependencies.len(), upstream, "one mirrored dependency per upstream chart: {dependencies:?}");
    let mut mirror_paths = BTreeSet::new();
    for (name, version, repository) in &dependencies {
        let path = repository
            .strip_prefix(&format!("oci://{host}/deploykf/charts/"))
            .unwrap_or_else(|| panic!("{name} comes from {repository}, not the mirror"));
        // keep-host: the source host is the first path component.
        assert!(path.split('/').next().unwrap().contains('.'), "{repository}");
        registry.push_chart(&fixture_chart(&tree.charts(), name, version), &format!("deploykf/charts/{path}"));
        mirror_paths.insert(format!("deploykf/charts/{path}/{name}"));
    }

    let app = tree.write_app_of_apps(&["repo-values.yaml", "mirror-values.yaml"]);
    let docker_config = tree.path("registry/config.json");
    write_docker_config(&docker_config, &host, USER, PASSWORD);
    let run = tree.run_harness_with_registry(&app, &[helm, kubectl], &docker_config, &registry);
    assert!(!run.stderr.contains(PASSWORD), "the registry password reached the output:\n{}", run.stderr);
    run.assert_every_application_rendered();

    // Zero pod images outside mirror.images.registry; Istio's gateway keeps
    // the `auto` placeholder its injector fills in.
    let images = run.images();
    assert!(images.len() >= 40, "only {} images: {images:?}", images.len());
    assert!(images.iter().any(|i| i == "auto"), "{images:?}");
    let prefix = format!("{host}/deploykf/");
    let leaks: Vec<&String> = images.iter().filter(|i| !i.starts_with(&prefix) && *i != "auto").collect();
    assert!(leaks.is_empty(), "pod images outside {prefix}: {leaks:#?}");
    // Images from values and from chart defaults alike, with their source host kept.
    let cert_manager = run.manifests("dkf-dep--cert-manager");
    assert!(cert_manager.contains(&format!("{prefix}quay.io/jetstack/cert-manager-controller:v1.12.10")), "chart default image");
    let istio = run.manifests("dkf-dep--istio");
    assert!(istio.contains(&format!("{prefix}docker.io/istio/pilot:1.17.8")), "istiod image");

    // Every chart came from the mirror: each mirrored chart was fetched,
    // nothing else was asked for (no other repository holds a chart).
    let log = fs::read_to_string(registry.log_path()).unwrap();
    for path in &mirror_paths {
        assert!(log.contains(&format!("/v2/{path}/manifests/")), "{path} was never pulled:\n{log}");
    }
    let fetched: BTreeSet<&str> = log
        .split("/v2/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/manifests/").map(|(repo, _)| repo))
        .collect();
    let fetched: BTreeSet<String> = fetched.into_iter().map(str::to_string).collect();
    assert_eq!(fetched, mirror_paths, "charts pulled from the registry");
}

// ---------------------------------------------------------------------------
// A small generator: one kustomize folder with a Deployment whose images come
// from the values (reached by the overlay), from the manifest itself (reached
// only after rendering), and, with `leak: true`, a Helm-style template string
// no rule can place; a ConfigMap shows the values the templates saw.

fn generator_files() -> Vec<(String, String)> {
    let files: &[(&str, &str)] = &[
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}"),
        ("default_values.yaml", "web:\n  image: docker.io/library/nginx:1.25\nleak: false\n"),
        ("helpers/none.tpl", ""),
        ("templates/manifests/app/kustomization.yaml", "resources:\n  - deploy.yaml\n"),
        (
            "templates/manifests/app/deploy.yaml",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: seen
  namespace: demo
data:
  image: {{< .Values.web.image | quote >}}
  mirror_key: {{< has .Values "mirror" | quote >}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: {{< .Values.web.image >}}
        - name: sidecar
          image: busybox:1.36
      {{<- if .Values.leak >}}
      initContainers:
        - name: setup
          image: "{{ .Values.setup.image }}"
      {{<- end >}}
"#,
        ),
    ];
    files.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const LEAK: &str = "{{ .Values.setup.image }}";

/// A repository with the generator and an app folder; the mirror files beside it.
struct Small {
    dir: TempDir,
}

impl Small {
    fn new() -> Small {
        let dir = TempDir::new().unwrap();
        write_tree(&dir.path().join("repo/generator"), &generator_files());
        for d in ["repo/app", "home", "tmp", "cache"] {
            fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        fs::write(dir.path().join("a.yaml"), mirror_config("a.registry.test")).unwrap();
        fs::write(dir.path().join("b.yaml"), mirror_config("b.registry.test")).unwrap();
        Small { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `deploykf-cmp generate` of the generator into `out`, with `args` and `env`.
    fn generate(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(bin());
        cmd.args(["generate", "--source-path", "repo/generator", "-O", "out"])
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap().into()
    }

    /// `plugin init` then `plugin generate` of `./manifests/app/` with `values`
    /// as the `values` parameter, the Argo CD environment and `env`.
    fn plugin(&self, values: &str, env: &[(&str, &str)], kubectl: &Path) -> Run {
        let params = serde_json::json!([
            {"name": "source_path", "string": "../generator"},
            {"name": "values", "string": values},
            {"name": "output_kustomize_path", "string": "./manifests/app/"},
        ]);
        let run = |verb: &str| -> Run {
            let mut cmd = Command::new(bin());
            cmd.args(["plugin", verb])
                .current_dir(self.path("repo/app"))
                .env_clear()
                .env("PATH", kubectl.parent().unwrap())
                .env("HOME", self.path("home"))
                .env("TMPDIR", self.path("tmp"))
                .env("DEPLOYKF_CMP_CACHE_DIR", self.path("cache"))
                .env("ARGOCD_APP_NAME", "app")
                .env("ARGOCD_APP_NAMESPACE", "demo")
                .env("ARGOCD_APP_SOURCE_REPO_URL", REPO_URL)
                .env("ARGOCD_APP_SOURCE_PATH", "app")
                .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
                .env("ARGOCD_APP_PARAMETERS", params.to_string());
            for (k, v) in env {
                cmd.env(k, v);
            }
            cmd.output().unwrap().into()
        };
        let init = run("init");
        if init.code != Some(0) {
            return init;
        }
        run("generate")
    }
}

/// Asserts a refused render: non-zero, nothing on stdout, the leak and its holder on stderr.
fn assert_leak_refused(run: &Run) {
    assert_ne!(run.code, Some(0), "a leaking render succeeded:\n{}", run.stdout);
    assert!(run.stdout.is_empty(), "stdout must stay empty:\n{}", run.stdout);
    for needle in ["1 image is outside the mirror", LEAK, "Deployment/demo/web spec.template.spec.initContainers[0].image"] {
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
}

#[test]
fn cli_generate_mirrors_the_output_folder_and_refuses_a_leak() {
    let s = Small::new();
    // --mirror wins over a mirror: key in the values, which is removed.
    fs::write(s.path("values.yaml"), mirror_config("values.registry.test")).unwrap();
    let run = s.generate(&["--mirror", "a.yaml", "-f", "values.yaml"], &[]);
    run.assert_ok();
    assert!(run.stderr.contains("deploykf-cmp: mirror (--mirror file 'a.yaml'): 1 images, 0 charts redirected"), "{}", run.stderr);
    let deploy = fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap();
    assert!(deploy.contains("image: a.registry.test/deploykf/docker.io/library/nginx:1.25"), "values overlay:\n{deploy}");
    assert!(deploy.contains("a.registry.test/deploykf/docker.io/library/busybox:1.36"), "after-render rewrite:\n{deploy}");
    assert!(deploy.contains("mirror_key: \"false\""), "the mirror key reached the templates:\n{deploy}");
    assert!(!deploy.contains("values.registry.test"), "{deploy}");

    // The values' mirror: key, then the environment's file.
    s.generate(&["-f", "values.yaml"], &[("DEPLOYKF_CMP_MIRROR_CONFIG", "b.yaml")]).assert_ok();
    let deploy = fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap();
    assert!(deploy.contains("values.registry.test/deploykf/docker.io/library/busybox:1.36"), "{deploy}");
    s.generate(&[], &[("DEPLOYKF_CMP_MIRROR_CONFIG", "b.yaml")]).assert_ok();
    let deploy = fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap();
    assert!(deploy.contains("b.registry.test/deploykf/docker.io/library/busybox:1.36"), "{deploy}");

    // A leak fails the run and leaves the earlier output as it was.
    fs::write(s.path("leak.yaml"), "leak: true\n").unwrap();
    let run = s.generate(&["--mirror", "a.yaml", "-f", "leak.yaml"], &[]);
    assert_leak_refused(&run);
    assert!(run.stderr.contains("(in "), "the file is named:\n{}", run.stderr);
    assert_eq!(fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap(), deploy);
    // Enforcement off: the render succeeds with the leak in it.
    let run = s.generate(&["--mirror", "a.yaml", "-f", "leak.yaml"], &[("DEPLOYKF_CMP_MIRROR_ENFORCE", "false")]);
    run.assert_ok();
    assert!(fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap().contains(LEAK));
    // Without a mirror nothing is checked or rewritten.
    s.generate(&["-f", "leak.yaml"], &[]).assert_ok();
    let deploy = fs::read_to_string(s.path("out/manifests/app/deploy.yaml")).unwrap();
    assert!(deploy.contains("image: busybox:1.36") && deploy.contains("image: docker.io/library/nginx:1.25"), "{deploy}");
}

#[test]
fn plugin_generate_refuses_a_leak_and_follows_a_changed_mirror() {
    let Some(kubectl) = support::tools::kubectl() else { return };
    let s = Small::new();
    let a = s.path("a.yaml").display().to_string();
    let b = s.path("b.yaml").display().to_string();

    let run = s.plugin("{}", &[("DEPLOYKF_CMP_MIRROR_CONFIG", &a)], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains("- image: a.registry.test/deploykf/docker.io/library/nginx:1.25"), "{}", run.stdout);
    assert!(run.stdout.contains("- image: a.registry.test/deploykf/docker.io/library/busybox:1.36"), "{}", run.stdout);
    // The ConfigMap (no pod spec) shows what the templates saw: the overlay's value.
    assert!(run.stdout.contains("\n  image: a.registry.test/deploykf/docker.io/library/nginx:1.25"), "{}", run.stdout);

    // The sidecar's mirror file changed: the cached render is not reused.
    let run = s.plugin("{}", &[("DEPLOYKF_CMP_MIRROR_CONFIG", &b)], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains("\n  image: b.registry.test/deploykf/docker.io/library/nginx:1.25"), "stale render:\n{}", run.stdout);
    assert!(!run.stdout.contains("a.registry.test"), "{}", run.stdout);
    // A mirror: key in the values wins over the sidecar's file.
    let run = s.plugin(&mirror_config("values.registry.test"), &[("DEPLOYKF_CMP_MIRROR_CONFIG", &b)], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains("values.registry.test/deploykf/docker.io/library/busybox:1.36"), "{}", run.stdout);
    assert!(!run.stdout.contains("b.registry.test"), "{}", run.stdout);

    // A leak: non-zero, nothing on stdout, the image and its resource listed.
    let run = s.plugin("leak: true\n", &[("DEPLOYKF_CMP_MIRROR_CONFIG", &a)], &kubectl);
    assert_leak_refused(&run);
    assert!(run.stderr.contains("DEPLOYKF_CMP_MIRROR_ENFORCE=false"), "{}", run.stderr);
    let run = s.plugin("leak: true\n", &[("DEPLOYKF_CMP_MIRROR_CONFIG", &a), ("DEPLOYKF_CMP_MIRROR_ENFORCE", "false")], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains(LEAK), "{}", run.stdout);
    // A bad enforcement setting is an error naming the variable.
    let run = s.plugin("{}", &[("DEPLOYKF_CMP_MIRROR_CONFIG", &a), ("DEPLOYKF_CMP_MIRROR_ENFORCE", "maybe")], &kubectl);
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("DEPLOYKF_CMP_MIRROR_ENFORCE must be 'true' or 'false', not 'maybe'"), "{}", run.stderr);
}

/// A lock as `mirror --write-lock` writes it, for the sources `(source, mirrored, digest)`.
fn lock_text(entries: &[(&str, &str, &str)]) -> String {
    let images: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(source, mirrored, digest)| (source.to_string(), serde_json::json!({"mirrored": mirrored, "digest": digest})))
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({"version": 1, "images": images})).unwrap()
}

#[test]
fn plugin_generate_pins_images_from_the_lock_and_refuses_one_missing_from_it() {
    let Some(kubectl) = support::tools::kubectl() else { return };
    let s = Small::new();
    let (nginx, busybox) = ("docker.io/library/nginx:1.25", "docker.io/library/busybox:1.36");
    let mirrored = |image: &str| format!("a.registry.test/deploykf/{image}");
    let (d1, d2) = (format!("sha256:{}", "1".repeat(64)), format!("sha256:{}", "2".repeat(64)));
    fs::create_dir_all(s.path("repo/locks")).unwrap();
    // The path is relative to the repository root, not the application's folder.
    let values = "mirror:\n  images:\n    registry: a.registry.test/deploykf\n    lock: locks/images.lock\n";

    fs::write(s.path("repo/locks/images.lock"), lock_text(&[(nginx, &mirrored(nginx), &d1), (busybox, &mirrored(busybox), &d2)])).unwrap();
    let run = s.plugin(values, &[], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains(&format!("- image: {}@{d1}", mirrored(nginx))), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("- image: {}@{d2}", mirrored(busybox))), "{}", run.stdout);
    // Not only pod specs: the ConfigMap's image value too.
    assert!(run.stdout.contains(&format!("\n  image: {}@{d1}", mirrored(nginx))), "{}", run.stdout);

    // busybox missing from the lock: refused, naming the image, resource and field.
    fs::write(s.path("repo/locks/images.lock"), lock_text(&[(nginx, &mirrored(nginx), &d1)])).unwrap();
    let run = s.plugin(values, &[], &kubectl);
    assert_ne!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.is_empty(), "stdout must stay empty:\n{}", run.stdout);
    for needle in [
        "1 image reference is not in the lock file locks/images.lock".to_string(),
        format!("  {}: Deployment/demo/web spec.template.spec.containers[1].image", mirrored(busybox)),
        "--write-lock FILE".to_string(),
        "DEPLOYKF_CMP_MIRROR_ENFORCE=false".to_string(),
    ] {
        assert!(run.stderr.contains(&needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
    // Not enforcing: left tag-only, counted on stderr.
    let run = s.plugin(values, &[("DEPLOYKF_CMP_MIRROR_ENFORCE", "false")], &kubectl);
    run.assert_ok();
    assert!(run.stdout.contains(&format!("- image: {}\n", mirrored(busybox))), "{}", run.stdout);
    assert!(run.stderr.contains("1 image references left unpinned"), "{}", run.stderr);

    // A lock file that is missing or damaged fails, naming it.
    fs::write(s.path("repo/locks/images.lock"), "{\"version\": 1, \"images\": {").unwrap();
    let run = s.plugin(values, &[], &kubectl);
    assert!(run.code != Some(0) && run.stderr.contains("lock file '") && run.stderr.contains("images.lock"), "{}", run.stderr);
    fs::remove_file(s.path("repo/locks/images.lock")).unwrap();
    let run = s.plugin(values, &[], &kubectl);
    assert!(run.code != Some(0) && run.stderr.contains("the lock file 'locks/images.lock' given in 'mirror.images.lock' does not exist"), "{}", run.stderr);
}
