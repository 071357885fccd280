//! Plugin mode driven like argocd-cmp-server drives it: `plugin.yaml`'s
//! announcement through the harness, then `deploykf-cmp plugin init` and
//! `plugin generate` run directly in a repository copy with the environment
//! Argo CD builds (and nothing else), over a small generator shaped like
//! deployKF's (an app-of-apps folder, a kustomize folder, a Helm chart, a
//! template that `fail`s). Every failure must exit non-zero with nothing on
//! stdout and a message saying what to fix.

mod common;
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use common::{bin, repo_root, shared, write_tree, Run};
use tempfile::TempDir;

const REPO_URL: &str = "https://git.example.com/platform/deploykf.git";
/// A secret in the `values` parameter: it must never be printed.
const SECRET: &str = "hunter2-do-not-print";

/// A generator shaped like deployKF's: `argocd/` lists one child per
/// component with the plugin parameters the real generator writes (from
/// `getenv`), `manifests/` holds a kustomize folder and a Helm chart.
fn generator_files() -> Vec<(String, String)> {
    let files: &[(&str, &str)] = &[
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}"),
        (
            "default_values.yaml",
            "argocd:\n  source:\n    plugin:\n      enabled: false\napp:\n  greeting: hello\nfail_me: false\nslow: false\n\
             deps:\n  repository: oci://127.0.0.1:1/charts\n  version: 3.0.1\n",
        ),
        ("helpers/argocd.tpl", "{{<- define \"argocd.repo\" >}}{{< getenv \"ARGOCD_APP_SOURCE_REPO_URL\" | required \"required env-var 'ARGOCD_APP_SOURCE_REPO_URL' is not set\" | quote >}}{{<- end >}}"),
        ("templates/argocd/kustomization.yaml", "resources:\n  - apps.yaml\n  - seen.yaml\n"),
        (
            "templates/argocd/apps.yaml",
            r#"{{<- $params := getenv "ARGOCD_APP_PARAMETERS" | jsonArray >}}
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: demo-kustomize
spec:
  source:
    repoURL: {{< tmpl.Exec "argocd.repo" >}}
    path: {{< getenv "ARGOCD_APP_SOURCE_PATH" | quote >}}
    plugin:
      name: deploykf
      parameters:
        - name: output_kustomize_path
          string: ./manifests/demo-kustomize/
        {{<- range $params >}}
        - {{< . | toJSON >}}
        {{<- end >}}
"#,
        ),
        (
            "templates/argocd/seen.yaml",
            r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: seen-by-templates
data:
  plugin_enabled: {{< .Values.argocd.source.plugin.enabled | quote >}}
  source_version: {{< getenv "PARAM_SOURCE_VERSION" | quote >}}
  source_path: {{< getenv "PARAM_SOURCE_PATH" | quote >}}
  values_param_set: {{< ne (getenv "PARAM_VALUES") "" | quote >}}
  parameters: {{< getenv "ARGOCD_APP_PARAMETERS" | quote >}}
  home: {{< getenv "HOME" | quote >}}
  app_name: {{< getenv "ARGOCD_APP_NAME" | quote >}}
"#,
        ),
        ("templates/manifests/demo-kustomize/kustomization.yaml", "resources:\n  - greeting.yaml\n"),
        (
            "templates/manifests/demo-kustomize/greeting.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  greeting: {{< .Values.app.greeting | quote >}}\n",
        ),
        ("templates/manifests/demo-helm/Chart.yaml", "apiVersion: v2\nname: demo-helm\nversion: 1.0.0\n"),
        ("templates/manifests/demo-helm/values.yaml", "colour: red\n"),
        ("templates/manifests/demo-helm/values-overrides.yaml", "colour: {{< .Values.app.greeting >}}-blue\n"),
        (
            "templates/manifests/demo-helm/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n  namespace: {{ .Release.Namespace }}\ndata:\n  colour: {{ .Values.colour | quote }}\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  has_widgets: {{ .Capabilities.APIVersions.Has \"example.com/v1/Widget\" | quote }}\n",
        ),
        (
            "templates/manifests/demo-deps/Chart.yaml",
            "apiVersion: v2\nname: demo-deps\nversion: 1.0.0\ndependencies:\n  - name: kyverno\n    version: {{< .Values.deps.version | quote >}}\n    repository: {{< .Values.deps.repository | quote >}}\n",
        ),
        ("templates/manifests/demo-deps/values.yaml", "kyverno:\n  replicaCount: 1\n"),
        ("templates/manifests/demo-empty-kustomize/kustomization.yaml", "resources: []\n"),
        ("templates/manifests/demo-empty-helm/Chart.yaml", "apiVersion: v2\nname: demo-empty-helm\nversion: 1.0.0\n"),
        ("templates/manifests/demo-empty-helm/templates/nothing.yaml", "# only a comment\n{{- if .Values.enabled }}\nkind: ConfigMap\n{{- end }}\n"),
        // Many seconds of work when `slow` is set (5000 × 5000 empty iterations).
        ("templates/slow.yaml", "{{<- if .Values.slow >}}{{<- $l := strings.Split \"\" (strings.Repeat 5000 \"x\") >}}{{<- range $l >}}{{<- range $l >}}{{<- end >}}{{<- end >}}{{<- end >}}"),
        ("templates/fail.yaml", "{{<- if .Values.fail_me >}}{{< fail \"fail_me is set: remove it from your values\" >}}{{<- end >}}"),
    ];
    files.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// A repository copy with the generator folder, values files and an app path,
/// plus a private cache, home and temporary folder.
struct Repo {
    dir: TempDir,
    /// The application's path in the repository (`ARGOCD_APP_SOURCE_PATH`).
    app_path: &'static str,
    /// Folders of programs on `PATH` (the binary's folder is not needed: it is run directly).
    path: Vec<PathBuf>,
    extra_env: Vec<(String, String)>,
}

impl Repo {
    fn new() -> Repo {
        let dir = TempDir::new().unwrap();
        let repo = Repo { dir, app_path: "deploy/deploykf", path: Vec::new(), extra_env: Vec::new() };
        write_tree(&repo.root().join("generator"), &generator_files());
        fs::create_dir_all(repo.app_dir()).unwrap();
        fs::write(repo.app_dir().join("values.yaml"), "app:\n  greeting: hi\n").unwrap();
        fs::write(repo.root().join("common-values.yaml"), "app:\n  greeting: common\n").unwrap();
        fs::write(repo.dir.path().join("outside.yaml"), "app:\n  greeting: outside\n").unwrap();
        for d in ["home", "tmp", "cache", "empty-bin"] {
            fs::create_dir_all(repo.dir.path().join(d)).unwrap();
        }
        repo
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn app_dir(&self) -> PathBuf {
        self.root().join(self.app_path)
    }

    /// Puts the real kubectl and helm on PATH; `None` (skip) when missing.
    fn with_tools(mut self) -> Option<Repo> {
        let kubectl = support::tools::kubectl()?;
        let helm = support::tools::helm()?;
        self.path = vec![kubectl.parent().unwrap().to_path_buf(), helm.parent().unwrap().to_path_buf()];
        Some(self)
    }

    /// Runs `deploykf-cmp plugin <verb>` in the app folder with only the
    /// environment Argo CD gives a plugin, `params` as ARGOCD_APP_PARAMETERS.
    fn run(&self, verb: &str, app_name: &str, params: &serde_json::Value) -> Run {
        self.command(verb, app_name, params).output().expect("run deploykf-cmp").into()
    }

    /// The command [`Repo::run`] runs, for tests that spawn it.
    fn command(&self, verb: &str, app_name: &str, params: &serde_json::Value) -> Command {
        let path = if self.path.is_empty() {
            self.dir.path().join("empty-bin").into_os_string()
        } else {
            std::env::join_paths(&self.path).unwrap()
        };
        let mut cmd = Command::new(bin());
        cmd.args(["plugin", verb])
            .current_dir(self.app_dir())
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path().join("home"))
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("DEPLOYKF_CMP_CACHE_DIR", self.dir.path().join("cache"))
            .env("ARGOCD_APP_NAME", app_name)
            .env("ARGOCD_APP_NAMESPACE", "demo-ns")
            .env("ARGOCD_APP_PROJECT_NAME", "default")
            .env("ARGOCD_APP_REVISION", "0123456789abcdef0123456789abcdef01234567")
            .env("ARGOCD_APP_SOURCE_REPO_URL", REPO_URL)
            .env("ARGOCD_APP_SOURCE_PATH", self.app_path)
            .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
            .env("KUBE_VERSION", "1.28.2")
            .env("KUBE_API_VERSIONS", "v1,apps/v1,example.com/v1/Widget")
            .env("ARGOCD_APP_PARAMETERS", params.to_string());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `init` then (when it succeeded) `generate`, as the cmp-server does.
    fn render(&self, app_name: &str, params: &serde_json::Value) -> Run {
        let init = self.run("init", app_name, params);
        if init.code != Some(0) {
            return init;
        }
        assert!(init.stdout.is_empty(), "init printed on stdout:\n{}", init.stdout);
        self.run("generate", app_name, params)
    }
}

/// The generator parameters most tests use: the generator folder and a values file.
fn params(extra: &[serde_json::Value]) -> serde_json::Value {
    let mut list = vec![
        serde_json::json!({"name": "source_path", "string": "../../generator"}),
        serde_json::json!({"name": "values_files", "array": ["./values.yaml"]}),
    ];
    list.extend(extra.iter().cloned());
    serde_json::Value::Array(list)
}

fn string_param(name: &str, value: &str) -> serde_json::Value {
    serde_json::json!({"name": name, "string": value})
}

/// Asserts a failed run: non-zero, nothing on stdout, stderr has every needle and no secret.
fn assert_fails(run: &Run, needles: &[&str]) {
    assert_ne!(run.code, Some(0), "expected a failure\nstdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.code.is_some(), "killed by a signal:\n{}", run.stderr);
    assert!(run.stdout.is_empty(), "stdout must stay empty on failure:\n{}", run.stdout);
    for needle in needles {
        assert!(run.stderr.contains(needle), "stderr lacks {needle:?}:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains(SECRET), "a secret reached stderr:\n{}", run.stderr);
}

/// The `name: value` pairs of the ConfigMap named `name` in a manifest stream.
fn config_map(manifests: &str, name: &str) -> BTreeMap<String, String> {
    let doc = manifests
        .split("\n---")
        .find(|d| d.contains("kind: ConfigMap") && d.lines().any(|l| l.trim() == format!("name: {name}")))
        .unwrap_or_else(|| panic!("no ConfigMap {name} in:\n{manifests}"));
    let data = doc.split("\ndata:\n").nth(1).expect("ConfigMap data");
    data.lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let (k, v) = l.trim().split_once(": ")?;
            let v = v.trim();
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).or_else(|| {
                v.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
            });
            Some((k.to_string(), v.unwrap_or(l.trim().split_once(": ").unwrap().1).to_string()))
        })
        .collect()
}

#[test]
fn plugin_yaml_announces_every_parameter() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (argocd-cmp-harness) is absent");
        return;
    };
    let dir = TempDir::new().unwrap();
    let app = dir.path().join("app.yaml");
    fs::write(
        &app,
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  source:\n    repoURL: {REPO_URL}\n    path: .\n    plugin:\n      name: deploykf\n"),
    )
    .unwrap();
    let out = Command::new("python3")
        .arg(shared.join("tools/argocd-cmp-harness"))
        .arg("--plugin")
        .arg(repo_root().join("plugin.yaml"))
        .arg("--announce")
        .arg("--app")
        .arg(&app)
        .arg("--repo")
        .arg(format!("{REPO_URL}={}", dir.path().display()))
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let announced: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(String, String)> = announced
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert!(p["title"].as_str().is_some_and(|t| !t.is_empty()), "{p}");
            assert!(p["tooltip"].as_str().is_some_and(|t| t.len() > 20 && !t.contains("kusomtize")), "{p}");
            (p["name"].as_str().unwrap().to_string(), p["collectionType"].as_str().unwrap().to_string())
        })
        .collect();
    let expected = [
        ("source_version", "string"),
        ("source_path", "string"),
        ("values_files", "array"),
        ("values", "string"),
        ("output_kustomize_path", "string"),
        ("output_helm_path", "string"),
        ("output_helm_values_files", "array"),
    ];
    assert_eq!(got, expected.map(|(a, b)| (a.to_string(), b.to_string())));
    // No spec.version: the generator's children ask for plugin "deploykf".
    let plugin = fs::read_to_string(repo_root().join("plugin.yaml")).unwrap();
    assert!(!plugin.lines().any(|l| l.trim_start().starts_with("version:")), "{plugin}");
    assert!(plugin.contains("command: [deploykf-cmp, plugin, init]"));
    assert!(plugin.contains("command: [deploykf-cmp, plugin, generate]"));
}

#[test]
fn the_app_of_apps_renders_with_the_plugin_environment() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let p = params(&[string_param("values", &format!("app:\n  greeting: from-values\nsecret: {SECRET}\n"))]);
    let run = repo.render("deploykf-app-of-apps", &p);
    run.assert_ok();
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    let seen = config_map(&run.stdout, "seen-by-templates");
    assert_eq!(seen["plugin_enabled"], "true", "argocd.source.plugin.enabled is forced");
    assert_eq!(seen["source_path"], "../../generator");
    assert_eq!(seen["source_version"], "");
    assert_eq!(seen["values_param_set"], "true");
    // Only the variables the generator reads reach getenv.
    assert_eq!(seen["home"], "");
    assert_eq!(seen["app_name"], "");
    // The child gets the generator parameters, and an output path of its own.
    assert!(run.stdout.contains("name: demo-kustomize"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("repoURL: {REPO_URL}")), "{}", run.stdout);
    assert!(run.stdout.contains("path: deploy/deploykf"), "{}", run.stdout);
    assert!(run.stdout.contains("\"name\":\"values_files\""), "{}", run.stdout);
    assert!(run.stdout.contains("./manifests/demo-kustomize/"), "{}", run.stdout);
}

#[test]
fn a_kustomize_child_renders_and_values_layer_in_order() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let out = string_param("output_kustomize_path", "./manifests/demo-kustomize/");
    let run = repo.render("demo-kustomize", &params(std::slice::from_ref(&out)));
    run.assert_ok();
    assert_eq!(config_map(&run.stdout, "greeting")["greeting"], "hi");
    // values_files in order (later wins, paths may leave the app folder but not the repo), then `values`.
    let p = serde_json::json!([
        {"name": "source_path", "string": "../../generator"},
        {"name": "values_files", "array": ["./values.yaml", "../../common-values.yaml"]},
        out,
    ]);
    assert_eq!(config_map(&repo.render("demo-kustomize", &p).assert_ok().stdout, "greeting")["greeting"], "common");
    let mut with_values = p.as_array().unwrap().clone();
    with_values.push(string_param("values", "app:\n  greeting: last\n"));
    let run = repo.render("demo-kustomize", &serde_json::Value::Array(with_values));
    assert_eq!(config_map(&run.assert_ok().stdout, "greeting")["greeting"], "last");
}

#[test]
fn a_second_child_reuses_the_render() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let first = repo.run("init", "deploykf-app-of-apps", &params(&[]));
    first.assert_ok();
    assert!(first.stderr.contains("generator output rendered"), "{}", first.stderr);
    // A child differs only in its output parameters: same render.
    let child = params(&[string_param("output_kustomize_path", "./manifests/demo-kustomize/")]);
    let second = repo.run("init", "demo-kustomize", &child);
    second.assert_ok();
    assert!(second.stderr.contains("generator output reused from the cache"), "{}", second.stderr);
    // Different values: a new render.
    let other = params(&[string_param("values", "app:\n  greeting: other\n")]);
    let third = repo.run("init", "deploykf-app-of-apps", &other);
    assert!(third.assert_ok().stderr.contains("generator output rendered"), "{}", third.stderr);
}

#[test]
fn a_helm_child_renders_with_argo_cd_release_settings() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let p = params(&[
        string_param("output_helm_path", "./manifests/demo-helm/"),
        serde_json::json!({"name": "output_helm_values_files", "array": ["./values-overrides.yaml", "./missing.yaml"]}),
    ]);
    let run = repo.render("demo-helm", &p);
    run.assert_ok();
    let cm = config_map(&run.stdout, "demo-helm-cm");
    assert_eq!(cm["colour"], "hi-blue", "output_helm_values_files are used, missing ones skipped");
    assert_eq!(cm["kube"], "v1.28.2");
    assert_eq!(cm["has_widgets"], "true", "KUBE_API_VERSIONS reach --api-versions");
    assert!(run.stdout.contains("namespace: demo-ns"), "{}", run.stdout);
    // The chart was copied into the working directory; the cache stays untouched.
    assert!(repo.app_dir().join(".deploykf-cmp/chart/Chart.yaml").is_file());
}

#[test]
fn a_helm_child_works_when_home_is_root() {
    let Some(mut repo) = Repo::new().with_tools() else { return };
    repo.extra_env.push(("HOME".into(), "/".into()));
    let p = params(&[string_param("output_helm_path", "./manifests/demo-helm/")]);
    let run = repo.render("demo-helm", &p);
    run.assert_ok();
    assert!(repo.dir.path().join("cache/helm/config").is_dir(), "helm homes moved under the cache");
}

#[test]
fn source_parameters_must_be_exactly_one() {
    let repo = Repo::new();
    let both = params(&[string_param("source_version", "0.1.5"), string_param("values", &format!("x: {SECRET}"))]);
    assert_fails(&repo.run("init", "a", &both), &["both 'source_version' and 'source_path' were set", "remove one of them"]);
    let neither = serde_json::json!([{"name": "values", "string": format!("x: {SECRET}")}]);
    assert_fails(
        &repo.run("init", "a", &neither),
        &["neither 'source_version' nor 'source_path' was set", "add 'source_version'"],
    );
    assert_fails(&repo.run("init", "a", &serde_json::Value::Null), &["neither 'source_version' nor 'source_path'"]);
}

#[test]
fn output_paths_are_at_most_one_and_must_exist() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let both = params(&[
        string_param("output_kustomize_path", "./manifests/demo-kustomize/"),
        string_param("output_helm_path", "./manifests/demo-helm/"),
    ]);
    assert_fails(&repo.run("init", "a", &both), &["both 'output_kustomize_path' and 'output_helm_path' were set"]);
    assert_fails(&repo.run("generate", "a", &both), &["both 'output_kustomize_path' and 'output_helm_path'"]);
    let missing = params(&[string_param("output_kustomize_path", "./manifests/not-there/")]);
    assert_fails(&repo.run("init", "a", &missing), &["'output_kustomize_path' './manifests/not-there/' does not exist"]);
    let missing = params(&[string_param("output_helm_path", "./manifests/no-chart/")]);
    assert_fails(&repo.run("init", "a", &missing), &["'output_helm_path' './manifests/no-chart/' does not exist"]);
}

#[test]
fn values_files_must_exist_inside_the_repository() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let with = |files: &[&str]| {
        serde_json::json!([
            {"name": "source_path", "string": "../../generator"},
            {"name": "values_files", "array": files},
        ])
    };
    assert_fails(
        &repo.run("init", "a", &with(&["./values.yaml", "./nope.yaml"])),
        &["the values file './nope.yaml' given in 'values_files' does not exist"],
    );
    assert_fails(
        &repo.run("init", "a", &with(&["../../../outside.yaml"])),
        &["the values file '../../../outside.yaml'", "outside the repository"],
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(repo.dir.path().join("outside.yaml"), repo.app_dir().join("linked.yaml")).unwrap();
        assert_fails(&repo.run("init", "a", &with(&["./linked.yaml"])), &["the values file './linked.yaml'", "outside the repository"]);
    }
    // A FIFO (which would block the read) and a second YAML document (which would be ignored) are refused.
    assert!(Command::new("mkfifo").arg(repo.app_dir().join("fifo.yaml")).status().unwrap().success());
    assert_fails(&repo.run("init", "a", &with(&["./fifo.yaml"])), &["fifo.yaml' is not a regular file (a FIFO)"]);
    fs::write(repo.app_dir().join("two.yaml"), "app: {greeting: a}\n---\napp: {greeting: b}\n").unwrap();
    assert_fails(&repo.run("init", "a", &with(&["./two.yaml"])), &["two.yaml': line 2 starts a second YAML document"]);
    let mut two = with(&["./values.yaml"]);
    two.as_array_mut().unwrap().push(string_param("values", "a: 1\n--- {b: 2}\n"));
    assert_fails(&repo.run("init", "a", &two), &["the 'values' parameter: line 2 starts a second YAML document"]);
    // The generator source is held to the same rule.
    let p = serde_json::json!([{"name": "source_path", "string": "../../../"}]);
    assert_fails(&repo.run("init", "a", &p), &["the generator source '../../../'", "outside the repository"]);
}

#[test]
fn a_generator_fail_is_reported() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let p = params(&[string_param("values", "fail_me: true\n")]);
    assert_fails(&repo.run("init", "a", &p), &["fail_me is set: remove it from your values"]);
    // Without init's state, generate fails too (and says why).
    assert_fails(&repo.run("generate", "a", &p), &["init command must run before generate"]);
}

#[test]
fn missing_programs_are_named_with_the_variable_to_set() {
    // PATH is an empty folder and no DEPLOYKF_CMP_* override is set.
    let repo = Repo::new();
    let kustomize = params(&[string_param("output_kustomize_path", "./manifests/demo-kustomize/")]);
    assert_fails(
        &repo.run("init", "a", &kustomize),
        &["neither 'kustomize' nor 'kubectl' was found on PATH", "DEPLOYKF_CMP_KUSTOMIZE", "DEPLOYKF_CMP_KUBECTL"],
    );
    let helm = params(&[string_param("output_helm_path", "./manifests/demo-helm/")]);
    assert_fails(&repo.run("init", "a", &helm), &["'helm' was not found on PATH", "DEPLOYKF_CMP_HELM"]);

    // After a successful init, generate still refuses without the program.
    let Some(mut repo) = Repo::new().with_tools() else { return };
    repo.run("init", "a", &kustomize).assert_ok();
    repo.path.clear();
    assert_fails(&repo.run("generate", "a", &kustomize), &["neither 'kustomize' nor 'kubectl' was found on PATH"]);
    // A variable naming a missing binary is named in the error.
    repo.extra_env.push(("DEPLOYKF_CMP_KUBECTL".into(), "/nonexistent/kubectl".into()));
    assert_fails(&repo.run("generate", "a", &kustomize), &["DEPLOYKF_CMP_KUBECTL is set to '/nonexistent/kubectl'"]);
}

#[test]
fn a_component_rendering_no_object_fails_unless_allowed() {
    let Some(mut repo) = Repo::new().with_tools() else { return };
    let kustomize = params(&[string_param("output_kustomize_path", "./manifests/demo-empty-kustomize/")]);
    assert_fails(
        &repo.render("a", &kustomize),
        &["'./manifests/demo-empty-kustomize/' rendered no Kubernetes object", "DEPLOYKF_CMP_ALLOW_EMPTY=true"],
    );
    let helm = params(&[string_param("output_helm_path", "./manifests/demo-empty-helm/")]);
    assert_fails(&repo.render("a", &helm), &["'./manifests/demo-empty-helm/' rendered no Kubernetes object"]);
    // A site that wants an empty Application opts in.
    repo.extra_env.push(("DEPLOYKF_CMP_ALLOW_EMPTY".into(), "true".into()));
    assert!(!repo.render("a", &kustomize).assert_ok().stdout.contains("kind:"));
    repo.render("a", &helm).assert_ok();
    repo.extra_env.push(("DEPLOYKF_CMP_ALLOW_EMPTY".into(), "maybe".into()));
    assert_fails(&repo.run("generate", "a", &helm), &["DEPLOYKF_CMP_ALLOW_EMPTY must be 'true' or 'false', not \"maybe\""]);
}

/// A render killed mid-way (SIGKILL, after Argo CD's SIGTERM was ignored or
/// came too late) leaves its `.tmp-*` folder in the cache and its temporary
/// folders; the next `init` removes them. SIGTERM removes them at once.
#[test]
fn killed_renders_leave_nothing_after_the_next_run() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let renders = repo.dir.path().join("cache/renders");
    let names = |dir: &std::path::Path| -> Vec<String> {
        fs::read_dir(dir).map_or(Vec::new(), |d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
    };
    let slow = params(&[string_param("values", "slow: true\n")]);
    for signal in ["KILL", "TERM"] {
        let mut child = repo.command("init", "a", &slow).stdout(std::process::Stdio::null()).spawn().unwrap();
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let started = || names(&renders).iter().any(|n| n.starts_with(".tmp-")) && !names(&repo.dir.path().join("tmp")).is_empty();
        while !started() {
            assert!(child.try_wait().unwrap().is_none(), "init ended before its render started");
            assert!(std::time::Instant::now() < give_up, "the render never started");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap().success());
        let status = child.wait().unwrap();
        if signal == "KILL" {
            assert!(names(&renders).iter().any(|n| n.starts_with(".tmp-")), "the killed render left its folder");
            repo.run("init", "a", &params(&[])).assert_ok();
        } else {
            assert_eq!(status.code(), Some(143));
        }
        let left: Vec<String> = names(&renders).into_iter().filter(|n| n.starts_with(".tmp-")).collect();
        assert_eq!(left, Vec::<String>::new(), "after SIG{signal}");
        assert_eq!(names(&repo.dir.path().join("tmp")), Vec::<String>::new(), "after SIG{signal}");
    }
}

/// A cache bound that would wrap around (2^44 MiB is 2^64 bytes) is refused.
#[test]
fn the_cache_bound_is_range_checked() {
    let mut repo = Repo::new();
    repo.extra_env.push(("DEPLOYKF_CMP_CACHE_MAX_MB".into(), "17592186044416".into()));
    assert_fails(
        &repo.run("init", "a", &params(&[])),
        &["DEPLOYKF_CMP_CACHE_MAX_MB must be a whole number from 1 to 1048576, not \"17592186044416\""],
    );
}

/// `source_version` downloads into the cache folder: the sidecar's HOME is
/// `/`, read-only.
#[test]
fn source_version_zips_go_to_the_cache_not_home() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mut repo) = Repo::new().with_tools() else { return };
    let entries: Vec<(String, String)> =
        generator_files().into_iter().map(|(rel, text)| (format!("generator/{rel}"), text)).collect();
    let zip = repo.dir.path().join("release.zip");
    common::write_zip(&zip, &entries.iter().map(|(n, t)| common::ZipEntry::File(n, t.as_bytes())).collect::<Vec<_>>());
    let bytes = fs::read(&zip).unwrap();
    let asset = "/releases/v7.7.8/deploykf-7.7.8-generator.zip";
    let server = support::file_server::FileServer::start(|_| [(asset.to_string(), bytes.clone())].into());
    let home = repo.dir.path().join("home");
    fs::set_permissions(&home, fs::Permissions::from_mode(0o555)).unwrap();
    repo.extra_env.push(("DEPLOYKF_CMP_RELEASES_URL".into(), format!("http://{}/releases", server.addr)));
    let p = serde_json::json!([string_param("source_version", "7.7.8"), string_param("values", "app:\n  greeting: v\n")]);
    let run = repo.render("deploykf-app-of-apps", &p);
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
    run.assert_ok();
    assert!(run.stdout.contains("name: demo-kustomize"), "{}", run.stdout);
    assert_eq!(fs::read(repo.dir.path().join("cache/assets/deploykf-7.7.8-generator.zip")).unwrap(), bytes);
    assert!(fs::read_dir(&home).unwrap().next().is_none(), "nothing is written under HOME");
    assert_eq!(server.count(asset), 1, "init downloads once, generate reuses the zip");
}

#[test]
fn a_failing_kustomize_build_prints_nothing_on_stdout() {
    let Some(repo) = Repo::new().with_tools() else { return };
    // The kustomization of the app-of-apps references a file the values remove.
    let mut files = generator_files();
    files.retain(|(p, _)| p != "templates/argocd/seen.yaml");
    fs::remove_dir_all(repo.root().join("generator")).unwrap();
    write_tree(&repo.root().join("generator"), &files);
    assert_fails(&repo.render("deploykf-app-of-apps", &params(&[])), &["kustomize", "failed", "seen.yaml"]);
}

/// A chart whose dependency is in a private registry (TLS with a test CA,
/// htpasswd): pulled with the credentials of `HELM_REGISTRY_CONFIG` only; a
/// wrong password, an unreachable registry and a missing version each fail
/// `init` with nothing on stdout and without the password in any message.
#[test]
fn helm_dependencies_come_from_a_private_registry() {
    use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
    const PASSWORD: &str = "Registry-pass-do-not-print";
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixture charts) is absent");
        return;
    };
    let Some(mut repo) = Repo::new().with_tools() else { return };
    let Some(mut registry) = TestRegistry::start(RegistryOptions::default().tls().auth("dkf", PASSWORD).helm()) else {
        return;
    };
    registry.push_chart(&shared.join("fixtures/charts/kyverno-3.0.1.tgz"), "charts");
    let config = repo.dir.path().join("registry/config.json");
    repo.extra_env.push(("HELM_REGISTRY_CONFIG".into(), config.display().to_string()));
    repo.extra_env.push(("SSL_CERT_FILE".into(), registry.ca_pem_path().unwrap().display().to_string()));
    let host = registry.host();
    let deps = |version: &str| {
        params(&[
            string_param("output_helm_path", "./manifests/demo-deps/"),
            string_param("values", &format!("deps:\n  repository: oci://{host}/charts\n  version: {version}\n")),
        ])
    };
    let no_password = |run: &Run| {
        assert!(!run.stderr.contains(PASSWORD) && !run.stdout.contains(PASSWORD), "password printed:\n{}", run.stderr);
    };

    write_docker_config(&config, &host, "dkf", PASSWORD);
    let run = repo.render("demo-deps", &deps("3.0.1"));
    no_password(&run);
    run.assert_ok();
    assert!(run.stdout.contains("ghcr.io/kyverno/kyverno:"), "the kyverno chart rendered");
    assert!(repo.app_dir().join(".deploykf-cmp/chart/charts").is_dir());

    let missing = repo.run("init", "demo-deps", &deps("9.9.9"));
    no_password(&missing);
    assert_fails(&missing, &["kyverno", "9.9.9"]);

    write_docker_config(&config, &host, "dkf", "wrong-password");
    let denied = repo.run("init", "demo-deps", &deps("3.0.1"));
    assert!(!denied.stderr.contains("wrong-password"), "{}", denied.stderr);
    assert_fails(&denied, &[&host]);

    write_docker_config(&config, &host, "dkf", PASSWORD);
    registry.stop();
    let unreachable = repo.run("init", "demo-deps", &deps("3.0.1"));
    no_password(&unreachable);
    assert_fails(&unreachable, &[&host]);
}

#[test]
fn generate_shares_the_deadline_of_the_request_with_init() {
    let Some(repo) = Repo::new().with_tools() else { return };
    let p = params(&[string_param("output_kustomize_path", "./manifests/demo-kustomize/")]);
    repo.run("init", "demo-kustomize", &p).assert_ok();
    // As if init had started a minute ago: Argo CD's budget covers both
    // commands, so generate has no time left.
    let state = repo.app_dir().join(".deploykf-cmp/state.json");
    let mut json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&state).unwrap()).unwrap();
    let started = json["started_ms"].as_u64().expect("init records when it started");
    json["started_ms"] = (started - 60_000).into();
    fs::write(&state, json.to_string()).unwrap();
    let run = repo.run("generate", "demo-kustomize", &p);
    assert_fails(&run, &["deadline of 50 s (DEPLOYKF_CMP_DEADLINE_SECONDS) passed"]);
    // Within the budget it renders.
    json["started_ms"] = started.into();
    fs::write(&state, json.to_string()).unwrap();
    repo.run("generate", "demo-kustomize", &p).assert_ok();
}
