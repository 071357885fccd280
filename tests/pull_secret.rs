//! `deploykf-cmp pull-secret`, run as a binary: the Secret holds only the
//! chosen registries' credentials, its name and namespace come from flags,
//! the mirror's `pullSecret` or the defaults, the values output is what
//! deployKF's generator reads, and refusals (credential helpers, tokens,
//! missing entries) exit 1 without a secret anywhere in the output.

mod common;

use std::fs;
use std::path::Path;

use base64::Engine;
use common::{bin, list_files, shared, Run, Sandbox};
use gomplate::Value;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Passwords in the test config; none may leak where it does not belong.
const MIRROR_PASSWORD: &str = "mirror-Pa55";
const HUB_PASSWORD: &str = "hub-Pa55";
const OTHER_PASSWORD: &str = "other-Pa55";
const TOKEN: &str = "refresh-t0ken";

/// A docker config with several registries: `reg.example.com` (`auth`),
/// Docker Hub (under docker's legacy key), `other.example.com:5000`
/// (`username`/`password`) and `token.example.com` (an identity token).
fn several_registries() -> String {
    format!(
        r#"{{"auths": {{
  "reg.example.com": {{"auth": "{}"}},
  "https://index.docker.io/v1/": {{"auth": "{}"}},
  "other.example.com:5000": {{"username": "other", "password": "{OTHER_PASSWORD}"}},
  "token.example.com": {{"identitytoken": "{TOKEN}"}}
}}}}"#,
        B64.encode(format!("robot:{MIRROR_PASSWORD}")),
        B64.encode(format!("hub:{HUB_PASSWORD}")),
    )
}

/// Runs the binary in `sb` with only the environment the test gives (no
/// credentials or mirror config leaking in from the machine).
fn run(sb: &Sandbox, args: &[&str], env: &[(&str, &Path)]) -> Run {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(args).current_dir(sb.dir.path()).env_clear();
    cmd.env("HOME", sb.path("home"))
        .env("TMPDIR", sb.path("tmp"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run deploykf-cmp").into()
}

fn write(sb: &Sandbox, name: &str, text: &str) -> String {
    fs::write(sb.path(name), text).unwrap();
    name.to_string()
}

fn get<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| {
        v.as_map()
            .and_then(|m| m.get(*k))
            .unwrap_or_else(|| panic!("no {k:?} in {v:?} (path {path:?})"))
    })
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v:?}"))
}

/// The Secret on stdout: (name, namespace, decoded `.dockerconfigjson`).
fn parse_secret(stdout: &str) -> (String, String, serde_json::Value) {
    let doc = gomplate::yaml::decode(stdout).expect("stdout is YAML");
    assert_eq!(text(get(&doc, &["apiVersion"])), "v1");
    assert_eq!(text(get(&doc, &["kind"])), "Secret");
    assert_eq!(text(get(&doc, &["type"])), "kubernetes.io/dockerconfigjson");
    let data = get(&doc, &["data"]).as_map().unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), [".dockerconfigjson"]);
    let decoded = B64
        .decode(text(&data[".dockerconfigjson"]))
        .expect("base64 data");
    let config = serde_json::from_slice(&decoded).expect(".dockerconfigjson is JSON");
    (
        text(get(&doc, &["metadata", "name"])).to_string(),
        text(get(&doc, &["metadata", "namespace"])).to_string(),
        config,
    )
}

/// The `auths` keys of a decoded `.dockerconfigjson`.
fn auth_keys(config: &serde_json::Value) -> Vec<String> {
    config["auths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// Asserts no password or token of the test config appears in `run`'s output,
/// in clear or base64.
fn assert_no_secrets(run: &Run, allowed: &[&str]) {
    let all = format!("{}{}", run.stdout, run.stderr);
    for secret in [MIRROR_PASSWORD, HUB_PASSWORD, OTHER_PASSWORD, TOKEN] {
        if allowed.contains(&secret) {
            continue;
        }
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
        for user in ["robot", "hub"] {
            let encoded = B64.encode(format!("{user}:{secret}"));
            assert!(!all.contains(&encoded), "{secret} leaked (base64):\n{all}");
        }
    }
}

#[test]
fn the_secret_holds_only_the_chosen_registry() {
    let sb = Sandbox::new();
    let auth = write(&sb, "auth.json", &several_registries());
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--authfile",
            &auth,
        ],
        &[],
    );
    r.assert_ok();
    let (name, namespace, config) = parse_secret(&r.stdout);
    assert_eq!(
        (name.as_str(), namespace.as_str()),
        ("deploykf-registry-credentials", "argocd")
    );
    assert_eq!(auth_keys(&config), ["reg.example.com"]);
    let entry = &config["auths"]["reg.example.com"];
    assert_eq!(entry["username"], "robot");
    assert_eq!(entry["password"], MIRROR_PASSWORD);
    assert_eq!(
        entry["auth"],
        B64.encode(format!("robot:{MIRROR_PASSWORD}"))
    );
    // The other registries' credentials are nowhere, not even encoded.
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let decoded = config.to_string();
    for other in [HUB_PASSWORD, OTHER_PASSWORD, TOKEN] {
        assert!(
            !decoded.contains(other) && !r.stdout.contains(other),
            "{other} leaked"
        );
    }

    // Docker Hub by any of its names is docker's legacy key; a port is kept.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--authfile",
            &auth,
            "--registry",
            "index.docker.io",
            "--registry",
            "oci://other.example.com:5000/charts",
        ],
        &[],
    );
    r.assert_ok();
    let (_, _, config) = parse_secret(&r.stdout);
    assert_eq!(
        auth_keys(&config),
        ["https://index.docker.io/v1/", "other.example.com:5000"]
    );
    assert_eq!(
        config["auths"]["https://index.docker.io/v1/"]["password"],
        HUB_PASSWORD
    );
    assert_eq!(
        config["auths"]["other.example.com:5000"]["password"],
        OTHER_PASSWORD
    );
    assert!(!r
        .stdout
        .contains(&B64.encode(format!("robot:{MIRROR_PASSWORD}"))));
}

#[test]
fn the_mirror_config_names_the_registries_and_the_secret() {
    let sb = Sandbox::new();
    let auth = write(&sb, "auth.json", &several_registries());
    let mirror = write(
        &sb,
        "mirror.yaml",
        "mirror:\n  images:\n    registry: reg.example.com/deploykf\n  pullSecret: {name: mirror-pull, namespace: kyverno}\n",
    );
    let r = run(
        &sb,
        &["pull-secret", "--mirror", &mirror, "--authfile", &auth],
        &[],
    );
    r.assert_ok();
    let (name, namespace, config) = parse_secret(&r.stdout);
    assert_eq!(
        (name.as_str(), namespace.as_str()),
        ("mirror-pull", "kyverno")
    );
    assert_eq!(auth_keys(&config), ["reg.example.com"]);

    // Flags win over the mirror's pullSecret, one at a time.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--mirror",
            &mirror,
            "--authfile",
            &auth,
            "--name",
            "mine",
        ],
        &[],
    );
    let (name, namespace, _) = parse_secret(&r.assert_ok().stdout);
    assert_eq!((name.as_str(), namespace.as_str()), ("mine", "kyverno"));
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--mirror",
            &mirror,
            "--authfile",
            &auth,
            "--namespace",
            "argocd",
        ],
        &[],
    );
    let (name, namespace, _) = parse_secret(&r.assert_ok().stdout);
    assert_eq!(
        (name.as_str(), namespace.as_str()),
        ("mirror-pull", "argocd")
    );

    // --registry replaces the mirror's registries.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--mirror",
            &mirror,
            "--authfile",
            &auth,
            "--registry",
            "docker.io",
        ],
        &[],
    );
    let (_, _, config) = parse_secret(&r.assert_ok().stdout);
    assert_eq!(auth_keys(&config), ["https://index.docker.io/v1/"]);

    // A pullSecret without namespace takes the default one; an OCI chart
    // repository on another host is a registry of the mirror too; the mirror
    // file may also come from the sidecar's variable.
    let mirror2 = write(
        &sb,
        "mirror2.yaml",
        "mirror:\n  images:\n    registry: reg.example.com/deploykf\n  charts:\n    repository: oci://other.example.com:5000/charts\n  pullSecret: {name: mirror-pull}\n",
    );
    let r = run(
        &sb,
        &["pull-secret", "--authfile", &auth],
        &[("DEPLOYKF_CMP_MIRROR_CONFIG", &sb.path(&mirror2))],
    );
    let (name, namespace, config) = parse_secret(&r.assert_ok().stdout);
    assert_eq!(
        (name.as_str(), namespace.as_str()),
        ("mirror-pull", "argocd")
    );
    assert_eq!(
        auth_keys(&config),
        ["other.example.com:5000", "reg.example.com"]
    );
}

#[test]
fn credentials_are_discovered_like_the_other_commands() {
    let sb = Sandbox::new();
    fs::create_dir(sb.path("docker")).unwrap();
    write(&sb, "docker/config.json", &several_registries());
    let r = run(
        &sb,
        &["pull-secret", "--registry", "reg.example.com"],
        &[("DOCKER_CONFIG", &sb.path("docker"))],
    );
    let (_, _, config) = parse_secret(&r.assert_ok().stdout);
    assert_eq!(
        config["auths"]["reg.example.com"]["password"],
        MIRROR_PASSWORD
    );
}

#[test]
fn the_values_are_what_deploykf_reads() {
    let sb = Sandbox::new();
    // No credentials needed: the values hold only the Secret's name.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--output",
            "values",
            "--name",
            "mirror-pull",
            "--namespace",
            "argocd",
        ],
        &[],
    );
    r.assert_ok();
    assert_no_secrets(&r, &[]);
    let doc = gomplate::yaml::decode(&r.stdout).expect("values are YAML");
    let policy = get(
        &doc,
        &[
            "deploykf_dependencies",
            "kyverno",
            "clusterPolicies",
            "imagePullSecrets",
        ],
    );
    assert_eq!(get(policy, &["enabled"]), &Value::Bool(true));
    let creds = get(policy, &["registryCredentials"])
        .as_list()
        .expect("a list");
    assert_eq!(creds.len(), 1);
    assert_eq!(text(get(&creds[0], &["existingSecret"])), "mirror-pull");
    assert_eq!(text(get(&creds[0], &["existingSecretNamespace"])), "argocd");
    // Only those keys: excludeNamespaces keeps deployKF's default.
    assert_eq!(
        policy.as_map().unwrap().keys().collect::<Vec<_>>(),
        ["enabled", "registryCredentials"]
    );

    // The defaults, and the mirror's pullSecret, apply to the values too.
    let mirror = write(
        &sb,
        "mirror.yaml",
        "mirror:\n  images: {registry: reg.example.com}\n  pullSecret: {name: from-mirror, namespace: kyverno}\n",
    );
    for (args, name, namespace) in [
        (vec![], "deploykf-registry-credentials", "argocd"),
        (vec!["--mirror", mirror.as_str()], "from-mirror", "kyverno"),
    ] {
        let r = run(
            &sb,
            &[&["pull-secret", "--output", "values"], &args[..]].concat(),
            &[],
        );
        let doc = gomplate::yaml::decode(&r.assert_ok().stdout).unwrap();
        let path = [
            "deploykf_dependencies",
            "kyverno",
            "clusterPolicies",
            "imagePullSecrets",
            "registryCredentials",
        ];
        let cred = &get(&doc, &path).as_list().unwrap()[0];
        assert_eq!(text(get(cred, &["existingSecret"])), name);
        assert_eq!(text(get(cred, &["existingSecretNamespace"])), namespace);
    }
}

/// deployKF 0.1.5's generator, given the values output, hands them to its
/// kyverno app, whose ClusterPolicy clones `existingSecret` from
/// `existingSecretNamespace`. Skipped when `../shared` is absent.
#[test]
fn deploykf_renders_the_values_into_its_kyverno_policy_config() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared is absent");
        return;
    };
    let sb = Sandbox::new();
    let r = run(
        &sb,
        &["pull-secret", "--output", "values", "--name", "mirror-pull"],
        &[],
    );
    write(&sb, "pull-secret-values.yaml", &r.assert_ok().stdout);
    write(
        &sb,
        "repo.yaml",
        "argocd:\n  source:\n    repo:\n      url: \"https://git.example.com/p/d.git\"\n      revision: main\n      path: ./out/\n",
    );
    let zip = shared.join("fixtures/generators/deploykf-0.1.5-generator.zip");
    let samples = shared.join("fixtures/sample-values");
    let out = sb.path("out");
    sb.generate(
        &zip,
        &[
            &samples.join("sample-values-0.1.5.yaml"),
            &samples.join("sample-values-overrides-0.1.5.yaml"),
            &sb.path("repo.yaml"),
            &sb.path("pull-secret-values.yaml"),
        ],
        &out,
    )
    .assert_ok();
    let kyverno = "manifests/deploykf-dependencies/kyverno";
    assert!(list_files(&out)
        .iter()
        .any(|f| f.ends_with("ClusterPolicy-image-pull-secrets.yaml")));
    let values = fs::read_to_string(out.join(kyverno).join("values.yaml")).unwrap();
    let values = gomplate::yaml::decode(&values).expect("kyverno values.yaml");
    let policy = get(
        &values,
        &["deployKF", "kyverno", "clusterPolicies", "imagePullSecrets"],
    );
    assert_eq!(get(policy, &["enabled"]), &Value::Bool(true));
    let cred = &get(policy, &["registryCredentials"]).as_list().unwrap()[0];
    assert_eq!(text(get(cred, &["existingSecret"])), "mirror-pull");
    assert_eq!(text(get(cred, &["existingSecretNamespace"])), "argocd");
    // argocd, where the Secret lives, stays excluded from the policy.
    let excluded = get(policy, &["excludeNamespaces"]).as_list().unwrap();
    assert!(
        excluded.iter().any(|n| n.as_str() == Some("argocd")),
        "{excluded:?}"
    );
}

#[test]
fn a_creds_store_config_is_refused_without_showing_a_secret() {
    let sb = Sandbox::new();
    let only_store = write(&sb, "store.json", r#"{"credsStore": "desktop"}"#);
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--authfile",
            &only_store,
        ],
        &[],
    );
    r.assert_fails_with(&[
        "reg.example.com",
        "docker-credential-desktop",
        "credsStore",
        "store.json",
        "inline",
    ]);

    // A credsStore wins over `auths` (as in docker): the stale inline entry is
    // not used, and not shown.
    let mixed = write(
        &sb,
        "mixed.json",
        &format!(
            r#"{{"credsStore": "desktop", "auths": {{"reg.example.com": {{"auth": "{}"}}}}}}"#,
            B64.encode(format!("robot:{MIRROR_PASSWORD}"))
        ),
    );
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--authfile",
            &mixed,
        ],
        &[],
    );
    r.assert_fails_with(&["docker-credential-desktop", "credsStore"]);
    assert_no_secrets(&r, &[]);
}

#[test]
fn refusals_name_the_registry_and_what_to_do() {
    let sb = Sandbox::new();
    let auth = write(&sb, "auth.json", &several_registries());

    // No entry for the registry.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "missing.example.com",
            "--authfile",
            &auth,
        ],
        &[],
    );
    r.assert_fails_with(&[
        "no credentials for missing.example.com",
        "auth.json",
        "login missing.example.com",
    ]);
    assert_no_secrets(&r, &[]);

    // One missing registry of several fails the whole command: no partial Secret.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--registry",
            "missing.example.com",
            "--authfile",
            &auth,
        ],
        &[],
    );
    r.assert_fails_with(&["missing.example.com"]);
    assert_no_secrets(&r, &[]);

    // From the mirror config: the error says which key named the registry.
    let mirror = write(
        &sb,
        "mirror.yaml",
        "mirror:\n  images:\n    registry: reg.example.com/deploykf\n    overrides:\n      - {from: quay.io, to: quay-mirror.example.com/quay}\n",
    );
    let r = run(
        &sb,
        &["pull-secret", "--mirror", &mirror, "--authfile", &auth],
        &[],
    );
    r.assert_fails_with(&[
        "quay-mirror.example.com",
        "mirror.images.overrides[0].to",
        "mirror.yaml",
        "--registry",
    ]);
    assert_no_secrets(&r, &[]);

    // Identity tokens cannot be used by kubelet.
    let r = run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "token.example.com",
            "--authfile",
            &auth,
        ],
        &[],
    );
    r.assert_fails_with(&["token.example.com", "identitytoken"]);
    assert_no_secrets(&r, &[]);

    // No registry at all.
    let r = run(&sb, &["pull-secret", "--authfile", &auth], &[]);
    r.assert_fails_with(&["no registry", "--registry", "--mirror"]);

    // A missing --authfile, invalid names, a bad --output.
    run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--authfile",
            "nope.json",
        ],
        &[],
    )
    .assert_fails_with(&["nope.json", "--authfile", "does not exist"]);
    run(
        &sb,
        &[
            "pull-secret",
            "--registry",
            "reg.example.com",
            "--authfile",
            &auth,
            "--name",
            "Bad_Name",
        ],
        &[],
    )
    .assert_fails_with(&["--name", "Bad_Name"]);
    run(
        &sb,
        &["pull-secret", "--output", "values", "--namespace", "a.b"],
        &[],
    )
    .assert_fails_with(&["--namespace", "a.b"]);
    run(&sb, &["pull-secret", "--output", "json"], &[])
        .assert_fails_with(&["--output", "secret", "values"]);
}
