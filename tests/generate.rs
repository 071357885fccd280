//! Successful renders of small generators: the output tree, the marker, the
//! `.gomplateignore` phases, empty-output suppression, `file.Write` into
//! `runtime/`, values merging order, replacing a marked output folder, and the
//! example generator of this repository.

mod common;
#[path = "support/file_server.rs"]
#[allow(dead_code)]
mod file_server;

use std::fs;
use std::path::Path;

use common::{list_files, minimal_generator, repo_root, write_tree, Sandbox};

#[test]
fn renders_a_folder_generator_with_merged_values() {
    let sb = Sandbox::new();
    let g = sb.path("gen");
    let mut files = minimal_generator();
    files.extend(
        [
            ("templates/.gomplateignore_template", "skipped/\n{{<- if not .Values.extra >}}\nextra.yaml\n{{<- end >}}\n.gomplateignore\n.gomplateignore_template\n"),
            ("templates/skipped/never.yaml", "never: rendered\n"),
            ("templates/extra.yaml", "extra: {{< .Values.extra >}}\n"),
            ("templates/empty.yaml", "{{< if false >}}x{{< end >}}\n  \n"),
            ("templates/items.yaml", "{{< range .Values.items >}}- {{< . >}}\n{{< end >}}"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string())),
    );
    write_tree(&g, &files);
    let v1 = sb.path("v1.yaml");
    let v2 = sb.path("v2.yaml");
    fs::write(&v1, "greeting: hi\nextra: one\nitems: [x, y, z]\n").unwrap();
    fs::write(&v2, "greeting: hey\n").unwrap();
    let out = sb.path("out");
    let run = sb.generate(&g, &[&v1, &v2], &out);
    run.assert_ok();
    assert!(run.stdout.is_empty(), "stdout stays clean");
    assert!(
        run.stderr.contains("Using custom source folder: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("Generated manifests at: {}", out.display())),
        "{}",
        run.stderr
    );
    assert_eq!(
        list_files(&out),
        vec![".deploykf_output", "extra.yaml", "hello.yaml", "items.yaml"]
    );
    assert_eq!(
        fs::read_to_string(out.join("hello.yaml")).unwrap(),
        "message: hey\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("extra.yaml")).unwrap(),
        "extra: one\n"
    );
    assert_eq!(
        fs::read_to_string(out.join("items.yaml")).unwrap(),
        "- x\n- y\n- z\n"
    );
    // The source folder is copied, never modified.
    assert!(!g.join("templates/.gomplateignore").exists());
    assert!(!g.join("runtime").exists());
    sb.assert_tmp_clean();
    sb.assert_no_staging_in(sb.dir.path());
}

#[test]
fn marker_records_the_source() {
    let sb = Sandbox::new();
    let g = sb.path("gen");
    write_tree(&g, &minimal_generator());
    let out = sb.path("out");
    sb.generate(&g, &[], &out).assert_ok();
    let marker = fs::read_to_string(out.join(".deploykf_output")).unwrap();
    assert!(marker.starts_with("{\n  \"generated_at\": \""), "{marker}");
    assert!(!marker.ends_with('\n'));
    assert!(!marker.contains("source_version"));
    let canonical = fs::canonicalize(&g).unwrap();
    assert!(
        marker.contains(&format!("\"source_path\": \"{}\"", canonical.display())),
        "{marker}"
    );
    assert!(
        marker.contains(&format!(
            "\"cli_version\": \"v{}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{marker}"
    );
}

#[test]
fn source_version_is_downloaded_from_the_releases_mirror_once() {
    let sb = Sandbox::new();
    let bytes = common::write_minimal_generator_zip(&sb.path("release.zip"));
    let asset = "/releases/v7.7.8/deploykf-7.7.8-generator.zip";
    let server = file_server::FileServer::start(|_| [(asset.to_string(), bytes.clone())].into());
    let base = format!("http://{}/releases/", server.addr);
    let env = [("DEPLOYKF_CMP_RELEASES_URL", base.as_str())];

    let run = sb.run_with_env(&["generate", "--source-version", "7.7.8", "-O", "out"], &env);
    run.assert_ok();
    let url = format!("http://{}{asset}", server.addr);
    assert!(run.stderr.contains(&format!("Downloading deployKF generator source version '7.7.8' from {url}")), "{}", run.stderr);
    assert_eq!(fs::read(sb.path("home/.deploykf/assets/deploykf-7.7.8-generator.zip")).unwrap(), bytes);
    assert!(sb.path("out/.deploykf_output").is_file());
    sb.run_with_env(&["generate", "--source-version", "v7.7.8", "-O", "out"], &env).assert_ok();
    assert_eq!(server.count(asset), 1, "the second run uses the cached zip");

    let missing = sb.run_with_env(&["generate", "--source-version", "7.7.9", "-O", "out2"], &env);
    missing.assert_fails_with(&["could not download the deployKF generator source version '7.7.9'", "HTTP 404", "To work offline"]);
    assert!(!sb.path("home/.deploykf/assets/deploykf-7.7.9-generator.zip").exists());
    assert!(!sb.path("out2").exists());
}

#[test]
fn zip_source_version_is_recorded_and_hash_is_the_zip_sha256() {
    use sha2::{Digest, Sha256};
    let sb = Sandbox::new();
    let assets = sb.path("home/.deploykf/assets");
    fs::create_dir_all(&assets).unwrap();
    let zip = assets.join("deploykf-7.7.7-generator.zip");
    let hash: String = Sha256::digest(common::write_minimal_generator_zip(&zip))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = sb.path("out");
    let run = sb.run(&["generate", "--source-version", "v7.7.7", "-O", "out"]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("Using cached deployKF generator source: "),
        "{}",
        run.stderr
    );
    let marker = fs::read_to_string(out.join(".deploykf_output")).unwrap();
    assert!(marker.contains("\"source_version\": \"7.7.7\""), "{marker}");
    assert!(
        marker.contains(&format!("\"source_hash\": \"{hash}\"")),
        "{marker}"
    );
    assert!(
        marker.contains(&format!("\"source_path\": \"{}\"", zip.display())),
        "{marker}"
    );
}

#[test]
fn file_write_to_runtime_feeds_later_templates_and_escapes_are_refused() {
    let sb = Sandbox::new();
    let g = sb.path("gen");
    let mut files = minimal_generator();
    files.push((
        "templates/.gomplateignore_template".into(),
        concat!(
            "{{<- $runtime := path.Join (tmpl.Exec \"runtime/input_dir\") \"..\" \"runtime\" ->}}\n",
            "{{<- \"computed-once\" | file.Write (path.Join $runtime \"cached\") ->}}\n",
            ".gomplateignore\n"
        )
        .into(),
    ));
    files.push((
        "templates/uses-runtime.yaml".into(),
        "cached: {{< tmpl.Exec \"runtime/cached\" >}}\n".into(),
    ));
    write_tree(&g, &files);
    let out = sb.path("out");
    sb.generate(&g, &[], &out).assert_ok();
    assert_eq!(
        fs::read_to_string(out.join("uses-runtime.yaml")).unwrap(),
        "cached: computed-once\n"
    );

    // Also with a relative TMPDIR (the runtime folder path is then relative).
    let args = ["generate", "--source-path", "gen", "-O", "out-relative-tmp"];
    sb.run_with_tmpdir(&args, Path::new("tmp")).assert_ok();
    assert_eq!(
        fs::read_to_string(sb.path("out-relative-tmp/uses-runtime.yaml")).unwrap(),
        "cached: computed-once\n"
    );

    let escape = sb.path("escape");
    let mut files = minimal_generator();
    let target = sb.path("escaped.txt");
    files.push((
        "templates/evil.yaml".into(),
        format!("{{{{< \"x\" | file.Write \"{}\" >}}}}", target.display()),
    ));
    write_tree(&escape, &files);
    let out2 = sb.path("out2");
    sb.generate(&escape, &[], &out2)
        .assert_fails_with(&["templates/evil.yaml", &target.display().to_string()]);
    assert!(!target.exists());
    assert!(!out2.exists());
}

#[test]
fn a_marked_output_folder_is_replaced() {
    let sb = Sandbox::new();
    let g = sb.path("gen");
    write_tree(&g, &minimal_generator());
    let out = sb.path("out");
    sb.generate(&g, &[], &out).assert_ok();
    fs::write(out.join("stale.yaml"), "stale").unwrap();
    sb.generate(&g, &[], &out).assert_ok();
    assert_eq!(list_files(&out), vec![".deploykf_output", "hello.yaml"]);
}

#[test]
fn the_example_generator_renders() {
    let sb = Sandbox::new();
    let root = repo_root();
    let out = sb.path("example-out");
    let run = sb.generate(
        &root.join("examples/generator"),
        &[&root.join("examples/values.yaml")],
        &out,
    );
    run.assert_ok();
    let files = list_files(&out);
    for expected in [".deploykf_output", "argocd/app-of-apps.yaml"] {
        assert!(
            files.contains(&expected.to_string()),
            "{expected} missing from {files:?}"
        );
    }
    assert!(
        files.iter().any(|f| f.starts_with("manifests/")),
        "{files:?}"
    );
    // The switched-off component is ignored through the rendered .gomplateignore,
    // notes (*.md) are never rendered, and empty output is not written.
    assert!(!files.iter().any(|f| f.contains("dashboard")), "{files:?}");
    assert!(!files.iter().any(|f| f.ends_with(".md")), "{files:?}");
    let deployment =
        std::fs::read_to_string(out.join("manifests/greeter/deployment.yaml")).unwrap();
    assert!(
        deployment.contains("image: \"docker.io/library/nginx:1.27.0\""),
        "{deployment}"
    );
    assert!(deployment.contains("replicas: 2"), "{deployment}");
}
