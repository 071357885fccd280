//! Tests for the credentials loader: key forms, entry forms, helpers, file
//! discovery, pull-secret content, and that no secret leaks into errors or
//! `Debug` output.

use super::*;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

const SECRET: &str = "s3cr3t:pa55-with-colon";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn parse(json: &str) -> Credentials {
    Credentials::parse(json.as_bytes(), Path::new("test.json")).expect("parses")
}

fn basic(user: &str, pass: &str) -> Auth {
    Auth::Basic {
        username: user.into(),
        password: pass.into(),
    }
}

/// Asserts neither the secret nor its base64 form appears in `text`.
fn assert_no_secret(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains("s3cr3t"), "secret leaked: {text}");
    assert!(
        !text.contains(&b64(&format!("alice:{SECRET}"))),
        "auth leaked: {text}"
    );
}

#[test]
fn registry_host_normalises_references_and_urls() {
    let cases = [
        ("oci://reg.example.com:5000/charts", "reg.example.com:5000"),
        ("reg.example.com:5000", "reg.example.com:5000"),
        ("https://reg.example.com/v2/", "reg.example.com"),
        ("http://reg.example.com", "reg.example.com"),
        (
            "https://user@reg.example.com:8443/v1/",
            "reg.example.com:8443",
        ),
        ("REG.Example.com/org/image:tag", "reg.example.com"),
        ("localhost:5000/img", "localhost:5000"),
        ("localhost/img", "localhost"),
        ("[::1]:5000/img", "[::1]:5000"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("library/nginx", "docker.io"),
        ("docker.io/library/nginx:1.25", "docker.io"),
        (
            "quay.io/jetstack/cert-manager-controller@sha256:abc",
            "quay.io",
        ),
        ("myregistry", "myregistry"),
    ];
    for (input, want) in cases {
        assert_eq!(registry_host(input), want, "registry_host({input:?})");
    }
}

#[test]
fn every_auths_key_form_matches_the_registry() {
    let keys = [
        ("reg.example.com", "reg.example.com"),
        ("reg.example.com:5000", "reg.example.com:5000"),
        ("https://reg.example.com", "reg.example.com"),
        ("http://reg.example.com", "reg.example.com"),
        ("https://reg.example.com/v2/", "reg.example.com"),
        ("https://reg.example.com/v1/", "reg.example.com"),
        ("https://reg.example.com:5000/v2/", "reg.example.com:5000"),
        ("reg.example.com/team", "reg.example.com"),
    ];
    for (key, registry) in keys {
        let creds = parse(&format!(
            r#"{{"auths": {{"{key}": {{"auth": "{}"}}}}}}"#,
            b64("u:p")
        ));
        for query in [registry.to_string(), format!("oci://{registry}/charts")] {
            assert_eq!(
                creds.for_registry(&query).unwrap(),
                basic("u", "p"),
                "key {key:?}, query {query:?}"
            );
        }
        assert_eq!(
            creds.for_registry("other.example.com").unwrap(),
            Auth::Anonymous,
            "key {key:?}"
        );
    }
    // A port is part of the registry's identity.
    let creds = parse(&format!(
        r#"{{"auths": {{"reg.example.com:5000": {{"auth": "{}"}}}}}}"#,
        b64("u:p")
    ));
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn docker_hub_aliases_are_one_registry() {
    let aliases = [
        "docker.io",
        "index.docker.io",
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
    ];
    for key in aliases {
        let creds = parse(&format!(
            r#"{{"auths": {{"{key}": {{"auth": "{}"}}}}}}"#,
            b64("hub:pw")
        ));
        for query in aliases
            .iter()
            .copied()
            .chain(["docker.io/library/nginx", "library/nginx"])
        {
            assert_eq!(
                creds.for_registry(query).unwrap(),
                basic("hub", "pw"),
                "key {key:?}, query {query:?}"
            );
        }
    }
}

#[test]
fn exact_key_wins_over_url_and_namespaced_keys() {
    let creds = parse(&format!(
        r#"{{"auths": {{
            "https://reg.example.com/v1/": {{"auth": "{}"}},
            "reg.example.com/team": {{"auth": "{}"}},
            "reg.example.com": {{"auth": "{}"}}
        }}}}"#,
        b64("url:1"),
        b64("ns:2"),
        b64("exact:3")
    ));
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        basic("exact", "3")
    );
    // Without the exact key, a URL key beats a namespaced one.
    let creds = parse(&format!(
        r#"{{"auths": {{"reg.example.com/team": {{"auth": "{}"}}, "https://reg.example.com/v1/": {{"auth": "{}"}}}}}}"#,
        b64("ns:2"),
        b64("url:1")
    ));
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        basic("url", "1")
    );
}

#[test]
fn entry_forms() {
    let cases: Vec<(String, Auth)> = vec![
        // base64 user:pass, password with ':'
        (format!(r#"{{"auth": "{}"}}"#, b64(&format!("alice:{SECRET}"))), basic("alice", SECRET)),
        // missing padding ("u:pw" encodes to "dTpwdw==")
        (r#"{"auth": "dTpwdw"}"#.into(), basic("u", "pw")),
        // trailing NULs trimmed from the password, as docker does
        (format!(r#"{{"auth": "{}"}}"#, b64("u:pw\0\0")), basic("u", "pw")),
        // whitespace/newlines inside the value (wrapped base64)
        (format!(r#"{{"auth": "{}\n"}}"#, b64("u:pw")), basic("u", "pw")),
        (r#"{"username": "bob", "password": "pw"}"#.into(), basic("bob", "pw")),
        // auth wins over username/password (docker decodes auth over them)
        (format!(r#"{{"username": "x", "password": "y", "auth": "{}"}}"#, b64("u:pw")), basic("u", "pw")),
        (r#"{"username": "<token>", "identitytoken": "refresh-tok"}"#.into(), Auth::IdentityToken("refresh-tok".into())),
        (format!(r#"{{"auth": "{}", "identitytoken": "refresh-tok"}}"#, b64("<token>:")), Auth::IdentityToken("refresh-tok".into())),
        (r#"{"registrytoken": "bearer-tok", "identitytoken": "refresh-tok"}"#.into(), Auth::Bearer("bearer-tok".into())),
        // Go's JSON decoding matches field names case-insensitively
        (format!(r#"{{"Auth": "{}"}}"#, b64("u:pw")), basic("u", "pw")),
        (r#"{"Username": "bob", "Password": "pw", "email": "b@example.com", "serveraddress": "x"}"#.into(), basic("bob", "pw")),
        // an empty entry (docker writes these beside a credsStore) is no credential
        ("{}".into(), Auth::Anonymous),
        (r#"{"auth": ""}"#.into(), Auth::Anonymous),
    ];
    for (entry, want) in cases {
        let creds = parse(&format!(
            r#"{{"auths": {{"reg.example.com": {entry}}}, "psFormat": "table", "unknown": [1]}}"#
        ));
        assert_eq!(
            creds.for_registry("reg.example.com").unwrap(),
            want,
            "entry {entry}"
        );
    }
}

#[test]
fn empty_entry_falls_through_to_another_key_for_the_same_registry() {
    let creds = parse(&format!(
        r#"{{"auths": {{"reg.example.com": {{}}, "https://reg.example.com/v2/": {{"auth": "{}"}}}}}}"#,
        b64("u:pw")
    ));
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        basic("u", "pw")
    );
}

#[test]
fn bad_auth_field_is_an_error_naming_file_and_key_without_the_secret() {
    for bad in [
        b64("s3cr3t-without-colon"),
        format!("{}!!", b64(&format!("alice:{SECRET}"))),
        b64(&format!(":{SECRET}")),
    ] {
        let creds = parse(&format!(
            r#"{{"auths": {{"reg.example.com": {{"auth": "{bad}"}}}}}}"#
        ));
        let err = creds.for_registry("reg.example.com").unwrap_err();
        let text = format!("{err:#} {err:?}");
        assert!(
            text.contains("test.json") && text.contains("reg.example.com"),
            "{text}"
        );
        assert!(!text.contains(&bad), "{text}");
        assert_no_secret(&text);
        // Another registry's lookup is unaffected.
        assert_eq!(
            creds.for_registry("other.example.com").unwrap(),
            Auth::Anonymous
        );
    }
}

#[test]
fn invalid_json_names_file_and_position_without_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        format!("{{\n  \"auths\": {{\n    \"reg\": {{\"password\": \"{SECRET}\" \"x\"}}\n}}"),
    )
    .unwrap();
    let err = Credentials::load(&path).unwrap_err();
    let text = format!("{err:#} {err:?}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("line 3") && text.contains("column"), "{text}");
    assert_no_secret(&text);
}

#[test]
fn wrong_shapes_are_errors_without_secrets() {
    for json in [
        format!(r#"["{SECRET}"]"#),
        format!(r#"{{"auths": ["{SECRET}"]}}"#),
        format!(r#"{{"auths": {{"reg": "{SECRET}"}}}}"#),
        format!(r#"{{"auths": {{"reg": {{"password": ["{SECRET}"]}}}}}}"#),
        r#"{"credHelpers": {"reg": 1}}"#.to_string(),
        r#"{"credsStore": 1}"#.to_string(),
    ] {
        let err = Credentials::parse(json.as_bytes(), Path::new("bad.json")).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("bad.json"), "{text}");
        assert_no_secret(&text);
    }
}

#[test]
fn empty_file_holds_no_credentials() {
    let creds = Credentials::parse(b"  \n", Path::new("empty.json")).unwrap();
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn debug_output_has_no_secrets() {
    let creds = parse(&format!(
        r#"{{"auths": {{
            "a.example.com": {{"auth": "{}"}},
            "b.example.com": {{"username": "alice", "password": "{SECRET}"}},
            "c.example.com": {{"identitytoken": "{SECRET}"}},
            "d.example.com": {{"registrytoken": "{SECRET}"}}
        }}}}"#,
        b64(&format!("alice:{SECRET}"))
    ));
    let text = format!("{creds:?}");
    assert!(
        text.contains("a.example.com") && text.contains("redacted"),
        "{text}"
    );
    assert_no_secret(&text);
    for host in [
        "a.example.com",
        "b.example.com",
        "c.example.com",
        "d.example.com",
    ] {
        let auth = creds.for_registry(host).unwrap();
        assert_ne!(auth, Auth::Anonymous);
        assert_no_secret(&format!("{auth:?}"));
    }
}

// ---- credential helpers ----

/// A temporary folder holding fake `docker-credential-*` scripts.
struct Helpers {
    dir: tempfile::TempDir,
}

impl Helpers {
    fn new() -> Helpers {
        Helpers {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `docker-credential-<suffix>`: it records its argument and stdin
    /// in `<suffix>.args` / `<suffix>.stdin`, then runs `body`.
    fn add(&self, suffix: &str, body: &str) {
        let log = self.dir.path().join(suffix);
        let script = format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{log}.args'\nif [ \"$1\" = noop ]; then exit 0; fi\ncat > '{log}.stdin'\n{body}\n",
            log = log.display()
        );
        let path = self.dir.path().join(format!("docker-credential-{suffix}"));
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // A process forked by another test while the file was open for writing
        // keeps it "busy" until it execs; wait until the script can run.
        for _ in 0..100 {
            match Command::new(&path).arg("noop").status() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                other => {
                    other.unwrap();
                    return;
                }
            }
        }
        panic!("{} stayed busy", path.display());
    }

    fn stdin_of(&self, suffix: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{suffix}.stdin"))).unwrap()
    }

    fn args_of(&self, suffix: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{suffix}.args"))).unwrap()
    }

    fn creds(&self, json: &str) -> Credentials {
        parse(json).with_helper_search_path(self.dir.path().as_os_str())
    }
}

#[test]
fn cred_helper_answers_basic_and_identity_token() {
    let helpers = Helpers::new();
    helpers.add(
        "test",
        &format!(r#"echo '{{"ServerURL":"x","Username":"alice","Secret":"{SECRET}"}}'"#),
    );
    helpers.add(
        "tok",
        r#"echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-tok"}'"#,
    );
    let creds = helpers.creds(
        r#"{"auths": {"reg.example.com": {}}, "credHelpers": {"reg.example.com": "test", "https://tok.example.com": "tok"}}"#,
    );
    assert_eq!(
        creds.for_registry("oci://reg.example.com/charts").unwrap(),
        basic("alice", SECRET)
    );
    assert_eq!(helpers.args_of("test"), "get");
    assert_eq!(helpers.stdin_of("test"), "reg.example.com");
    assert_eq!(
        creds.for_registry("tok.example.com").unwrap(),
        Auth::IdentityToken("refresh-tok".into())
    );
    // Registries without a helper entry use the file.
    assert_eq!(
        creds.for_registry("other.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn creds_store_is_the_default_and_cred_helpers_override_it() {
    let helpers = Helpers::new();
    helpers.add("store", r#"echo '{"Username":"from-store","Secret":"a"}'"#);
    helpers.add(
        "special",
        r#"echo '{"Username":"from-helper","Secret":"b"}'"#,
    );
    let creds = helpers.creds(&format!(
        r#"{{"credsStore": "store", "credHelpers": {{"special.example.com": "special"}},
            "auths": {{"reg.example.com": {{"auth": "{}"}}}}}}"#,
        b64("from-file:c")
    ));
    // As in docker and helm, credsStore takes over from inline entries.
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        basic("from-store", "a")
    );
    assert_eq!(
        creds.for_registry("special.example.com").unwrap(),
        basic("from-helper", "b")
    );
    // Docker Hub is asked for by docker's server address.
    assert_eq!(
        creds.for_registry("docker.io").unwrap(),
        basic("from-store", "a")
    );
    assert_eq!(helpers.stdin_of("store"), "https://index.docker.io/v1/");
}

#[test]
fn helper_without_credentials_means_anonymous() {
    let helpers = Helpers::new();
    helpers.add(
        "test",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    let creds = helpers.creds(r#"{"credsStore": "test"}"#);
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn missing_helper_binary_is_a_clear_error() {
    let helpers = Helpers::new();
    let creds = helpers.creds(r#"{"credHelpers": {"reg.example.com": "nonexistent"}}"#);
    let err = format!("{:#}", creds.for_registry("reg.example.com").unwrap_err());
    assert!(
        err.contains(
            "credential helper docker-credential-nonexistent not found on PATH: install it, or log in \
             with 'helm registry login' to write credentials into the file"
        ),
        "{err}"
    );
    assert!(
        err.contains("credHelpers") && err.contains("reg.example.com"),
        "{err}"
    );
}

#[test]
fn failing_helper_is_an_error_and_its_answer_never_leaks() {
    let helpers = Helpers::new();
    helpers.add("broken", "echo 'keychain is locked' >&2; exit 3");
    helpers.add("garbled", &format!("echo 'Username=alice Secret={SECRET}'"));
    let creds = helpers
        .creds(r#"{"credHelpers": {"a.example.com": "broken", "b.example.com": "garbled"}}"#);
    let err = format!("{:#}", creds.for_registry("a.example.com").unwrap_err());
    assert!(
        err.contains("docker-credential-broken failed") && err.contains("keychain is locked"),
        "{err}"
    );
    let err = creds.for_registry("b.example.com").unwrap_err();
    let text = format!("{err:#} {err:?}");
    assert!(text.contains("docker-credential-garbled"), "{text}");
    assert_no_secret(&text);
}

// ---- file discovery ----

/// A fake environment for `discover_in` / `from_helm_env_in`.
fn env(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
    let map: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_os_str().to_os_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Writes a config.json at `path` whose credentials for `reg.example.com`
/// have username `user`.
fn write_config(path: &Path, user: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            r#"{{"auths": {{"reg.example.com": {{"auth": "{}"}}}}}}"#,
            b64(&format!("{user}:pw"))
        ),
    )
    .unwrap();
}

fn user_of(creds: &Credentials) -> String {
    match creds.for_registry("reg.example.com").unwrap() {
        Auth::Basic { username, .. } => username,
        other => format!("{other:?}"),
    }
}

#[test]
fn discover_follows_the_documented_order() {
    let t = tempfile::tempdir().unwrap();
    let p = |s: &str| t.path().join(s);
    let authfile = p("flag/auth.json");
    let registry_auth_file = p("raf/auth.json");
    let runtime = p("run");
    let xdg_config = p("xdgconfig");
    let docker_config = p("dockercfg");
    let home = p("home");
    let helm = p("helm/config.json");
    write_config(&authfile, "flag");
    write_config(&registry_auth_file, "raf");
    write_config(&runtime.join("containers/auth.json"), "runtime");
    write_config(&xdg_config.join("containers/auth.json"), "xdgconfig");
    write_config(&docker_config.join("config.json"), "dockerconfig");
    write_config(&home.join(".docker/config.json"), "home");
    write_config(&helm, "helm");

    let mut vars: Vec<(&str, &Path)> = vec![
        ("HELM_REGISTRY_CONFIG", &helm),
        ("HOME", &home),
        ("DOCKER_CONFIG", &docker_config),
        ("XDG_CONFIG_HOME", &xdg_config),
        ("XDG_RUNTIME_DIR", &runtime),
        ("REGISTRY_AUTH_FILE", &registry_auth_file),
    ];
    let found = Credentials::discover_in(Some(&authfile), &env(&vars)).unwrap();
    assert_eq!(user_of(&found), "flag");
    assert!(found.describe().contains("--authfile"));
    // Each step removes the source just found: a variable, or a default file.
    let steps: [(&str, Option<&str>, Option<PathBuf>); 6] = [
        ("raf", Some("REGISTRY_AUTH_FILE"), None),
        ("runtime", None, Some(runtime.join("containers/auth.json"))),
        (
            "xdgconfig",
            None,
            Some(xdg_config.join("containers/auth.json")),
        ),
        ("dockerconfig", Some("DOCKER_CONFIG"), None),
        ("home", None, Some(home.join(".docker/config.json"))),
        ("helm", Some("HELM_REGISTRY_CONFIG"), None),
    ];
    for (want, var, file) in steps {
        let found = Credentials::discover_in(None, &env(&vars)).unwrap();
        assert_eq!(
            user_of(&found),
            want,
            "with {:?}",
            vars.iter().map(|v| v.0).collect::<Vec<_>>()
        );
        if let Some(var) = var {
            assert!(found.describe().contains(var), "{}", found.describe());
            vars.retain(|v| v.0 != var);
        }
        if let Some(file) = file {
            std::fs::remove_file(file).unwrap();
        }
    }
    // Only HELM_REGISTRY_CONFIG was left; without it there is nothing.
    assert_eq!(
        vars.iter().map(|v| v.0).collect::<Vec<_>>(),
        ["HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR"]
    );
    let none = Credentials::discover_in(None, &env(&vars)).unwrap();
    assert!(none.path.is_none());
    assert_eq!(
        none.for_registry("reg.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn missing_files_named_by_flag_or_variable_are_errors() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("nope/config.json");
    let err = format!(
        "{:#}",
        Credentials::discover_in(Some(&missing), &env(&[])).unwrap_err()
    );
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("--authfile"),
        "{err}"
    );
    for var in ["REGISTRY_AUTH_FILE", "HELM_REGISTRY_CONFIG"] {
        let err = format!(
            "{:#}",
            Credentials::discover_in(None, &env(&[(var, &missing)])).unwrap_err()
        );
        assert!(
            err.contains(&missing.display().to_string()) && err.contains(var),
            "{err}"
        );
        assert!(err.contains("does not exist"), "{err}");
    }
    let dir = t.path().join("nope");
    let err = format!(
        "{:#}",
        Credentials::discover_in(None, &env(&[("DOCKER_CONFIG", &dir)])).unwrap_err()
    );
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("DOCKER_CONFIG"),
        "{err}"
    );
    let err = format!(
        "{:#}",
        Credentials::from_helm_env_in(&env(&[("HELM_REGISTRY_CONFIG", &missing)])).unwrap_err()
    );
    assert!(
        err.contains(&missing.display().to_string()) && err.contains("HELM_REGISTRY_CONFIG"),
        "{err}"
    );
}

#[test]
fn from_helm_env_uses_only_helm_locations() {
    let t = tempfile::tempdir().unwrap();
    let p = |s: &str| t.path().join(s);
    let (named, helm_home, xdg, home) = (p("named.json"), p("helmhome"), p("xdg"), p("home"));
    write_config(&named, "named");
    write_config(&helm_home.join("registry/config.json"), "helmhome");
    write_config(&xdg.join("helm/registry/config.json"), "xdg");
    write_config(&home.join(".config/helm/registry/config.json"), "home");
    write_config(&home.join(".docker/config.json"), "docker");
    let mut vars: Vec<(&str, &Path)> = vec![
        ("HOME", &home),
        ("XDG_CONFIG_HOME", &xdg),
        ("HELM_CONFIG_HOME", &helm_home),
        ("HELM_REGISTRY_CONFIG", &named),
    ];
    for want in ["named", "helmhome", "xdg", "home"] {
        assert_eq!(
            user_of(&Credentials::from_helm_env_in(&env(&vars)).unwrap()),
            want
        );
        vars.pop();
    }
    // ~/.docker/config.json is not helm's file.
    let none = Credentials::from_helm_env_in(&env(&[("HOME", &p("empty-home"))])).unwrap();
    assert_eq!(
        none.for_registry("reg.example.com").unwrap(),
        Auth::Anonymous
    );
}

#[test]
fn load_reads_a_file_and_names_it() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("config.json");
    write_config(&path, "alice");
    let creds = Credentials::load(&path).unwrap();
    assert_eq!(creds.path.as_deref(), Some(path.as_path()));
    assert_eq!(user_of(&creds), "alice");
    let err = format!(
        "{:#}",
        Credentials::load(&t.path().join("missing.json")).unwrap_err()
    );
    assert!(err.contains("missing.json"), "{err}");
}

// ---- pull-secret content ----

#[test]
fn docker_config_json_for_one_registry_round_trips() {
    let creds = parse(&format!(
        r#"{{"auths": {{
            "https://reg.example.com/v2/": {{"auth": "{}"}},
            "other.example.com": {{"username": "bob", "password": "x"}},
            "index.docker.io": {{"username": "hub", "password": "y"}}
        }}}}"#,
        b64(&format!("alice:{SECRET}"))
    ));
    let value = creds
        .docker_config_json_for("oci://reg.example.com/charts")
        .unwrap();
    let auths = value["auths"].as_object().unwrap();
    assert_eq!(auths.len(), 1, "{auths:?}");
    let entry = &auths["reg.example.com"];
    assert_eq!(entry["username"], "alice");
    assert_eq!(entry["password"], SECRET);
    assert_eq!(entry["auth"], b64(&format!("alice:{SECRET}")));
    let back = parse(&value.to_string());
    assert_eq!(
        back.for_registry("reg.example.com").unwrap(),
        basic("alice", SECRET)
    );
    assert_eq!(
        back.for_registry("other.example.com").unwrap(),
        Auth::Anonymous
    );

    let hub = creds.docker_config_json_for("docker.io").unwrap();
    assert_eq!(
        hub["auths"]["https://index.docker.io/v1/"]["username"],
        "hub"
    );
}

#[test]
fn docker_config_json_for_refuses_helpers_tokens_and_absent_credentials() {
    let creds = parse(
        r#"{"credHelpers": {"helper.example.com": "ecr-login"},
            "auths": {"tok.example.com": {"identitytoken": "s3cr3t-token"}, "bearer.example.com": {"registrytoken": "s3cr3t-b"}}}"#,
    );
    let err = format!(
        "{:#}",
        creds
            .docker_config_json_for("helper.example.com")
            .unwrap_err()
    );
    assert!(
        err.contains("docker-credential-ecr-login")
            && err.contains("credHelpers")
            && err.contains("--authfile"),
        "{err}"
    );
    for host in ["tok.example.com", "bearer.example.com"] {
        let err = format!("{:#}", creds.docker_config_json_for(host).unwrap_err());
        assert!(err.contains("token") && err.contains(host), "{err}");
        assert_no_secret(&err);
    }
    let err = format!(
        "{:#}",
        creds
            .docker_config_json_for("none.example.com")
            .unwrap_err()
    );
    assert!(
        err.contains("no credentials for none.example.com") && err.contains("login"),
        "{err}"
    );

    let store = parse(r#"{"credsStore": "desktop", "auths": {"reg.example.com": {}}}"#);
    let err = format!(
        "{:#}",
        store.docker_config_json_for("reg.example.com").unwrap_err()
    );
    assert!(
        err.contains("docker-credential-desktop") && err.contains("credsStore"),
        "{err}"
    );
}

/// Set for the child process of `helper_is_found_through_the_real_path`.
const CHILD_DIR_VAR: &str = "DEPLOYKF_CMP_CREDS_TEST_HELPER_DIR";

#[test]
fn helper_is_found_through_the_real_path() {
    // PATH is process-global: put the fake helper first on PATH in a child
    // process running only `child_finds_helper_on_path`.
    let helpers = Helpers::new();
    helpers.add(
        "pathtest",
        r#"echo '{"Username":"via-path","Secret":"pw"}'"#,
    );
    let path = std::env::join_paths(std::iter::once(helpers.dir.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "credentials::tests::child_finds_helper_on_path",
            "--ignored",
            "--nocapture",
        ])
        .env("PATH", path)
        .env(CHILD_DIR_VAR, helpers.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(helpers.stdin_of("pathtest"), "reg.example.com");
}

/// Runs only as the child of `helper_is_found_through_the_real_path`.
#[test]
#[ignore = "run by helper_is_found_through_the_real_path with PATH set"]
fn child_finds_helper_on_path() {
    assert!(
        std::env::var_os(CHILD_DIR_VAR).is_some(),
        "run through helper_is_found_through_the_real_path"
    );
    let creds = parse(r#"{"credsStore": "pathtest"}"#);
    assert_eq!(
        creds.for_registry("reg.example.com").unwrap(),
        basic("via-path", "pw")
    );
}
