//! Bad inputs to `deploykf-cmp generate`: each must exit 1, say what is wrong
//! (naming the file, entry or line), write nothing to stdout, and leave no
//! output folder, staging folder or temporary folder behind.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{
    list_files, minimal_generator, minimal_generator_zip_entries, write_tree, write_zip, Sandbox,
    ZipEntry,
};

/// Writes the minimal generator folder with `changes` applied (`None` removes).
fn generator_folder(sb: &Sandbox, changes: &[(&str, Option<&str>)]) -> PathBuf {
    let root = sb.path("generator");
    let mut files = minimal_generator();
    for (rel, content) in changes {
        files.retain(|(r, _)| r != rel);
        if let Some(c) = content {
            files.push((rel.to_string(), c.to_string()));
        }
    }
    write_tree(&root, &files);
    for dir in ["templates", "helpers"] {
        if files.iter().any(|(r, _)| r.starts_with(&format!("{dir}/"))) {
            continue;
        }
        if !changes.iter().any(|(r, c)| *r == dir && c.is_none()) {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
    }
    root
}

/// Asserts the failed run left no output behind.
fn assert_nothing_written(sb: &Sandbox, out: &Path) {
    assert!(!out.exists(), "output folder created: {}", out.display());
    sb.assert_no_staging_in(out.parent().unwrap());
    sb.assert_tmp_clean();
}

/// A zip holding the minimal generator plus `extra` entries.
fn hostile_zip(sb: &Sandbox, extra: &[ZipEntry]) -> PathBuf {
    let path = sb.path("hostile.zip");
    let base = minimal_generator_zip_entries();
    let mut entries: Vec<ZipEntry> = base.iter().map(|(n, c)| ZipEntry::File(n, c)).collect();
    for e in extra {
        entries.push(match e {
            ZipEntry::File(n, c) => ZipEntry::File(n, c),
            ZipEntry::Dir(n) => ZipEntry::Dir(n),
            ZipEntry::Symlink(n, t) => ZipEntry::Symlink(n, t),
            ZipEntry::Zeros(n, l) => ZipEntry::Zeros(n, *l),
        });
    }
    write_zip(&path, &entries);
    path
}

#[test]
fn zip_entry_with_parent_components_is_refused() {
    let sb = Sandbox::new();
    let zip = hostile_zip(&sb, &[ZipEntry::File("generator/../../escaped.txt", b"x")]);
    let out = sb.path("out");
    sb.generate(&zip, &[], &out).assert_fails_with(&[
        "generator/../../escaped.txt",
        "'..'",
        "hostile.zip",
    ]);
    assert_nothing_written(&sb, &out);
    assert!(
        !sb.path("escaped.txt").exists()
            && !sb.dir.path().parent().unwrap().join("escaped.txt").exists()
    );
}

#[test]
fn zip_entry_with_absolute_name_is_refused() {
    let sb = Sandbox::new();
    let target = sb.path("absolute-target.txt");
    let name = target.display().to_string();
    let zip = hostile_zip(&sb, &[ZipEntry::File(&name, b"x")]);
    let out = sb.path("out");
    sb.generate(&zip, &[], &out)
        .assert_fails_with(&[&name, "absolute"]);
    assert!(!target.exists());
    assert_nothing_written(&sb, &out);
}

#[test]
fn zip_symlink_entry_is_refused() {
    let sb = Sandbox::new();
    let zip = hostile_zip(
        &sb,
        &[ZipEntry::Symlink(
            "generator/templates/passwd.yaml",
            "/etc/passwd",
        )],
    );
    let out = sb.path("out");
    sb.generate(&zip, &[], &out)
        .assert_fails_with(&["generator/templates/passwd.yaml", "symbolic link"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn zip_bomb_is_refused_by_bytes_read() {
    let sb = Sandbox::new();
    // 300 MiB of zeros deflate to well under 1 MiB; the limit is 256 MiB.
    let zip = hostile_zip(
        &sb,
        &[ZipEntry::Zeros("generator/templates/bomb.yaml", 300 << 20)],
    );
    assert!(fs::metadata(&zip).unwrap().len() < 4 << 20);
    let out = sb.path("out");
    sb.generate(&zip, &[], &out)
        .assert_fails_with(&["more than 268435456 bytes", "generator/templates/bomb.yaml"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn zip_without_generator_folder_is_refused() {
    let sb = Sandbox::new();
    let zip = sb.path("empty.zip");
    write_zip(&zip, &[ZipEntry::File("other/file.txt", b"x")]);
    let out = sb.path("out");
    sb.generate(&zip, &[], &out)
        .assert_fails_with(&["'generator' does not exist within the zip"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn missing_source_path_is_reported() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    sb.generate(Path::new("nope.zip"), &[], &out)
        .assert_fails_with(&["the provided --source-path 'nope.zip' does not exist"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn source_path_that_is_not_a_zip_or_folder_is_refused() {
    let sb = Sandbox::new();
    let file = sb.path("generator.tar");
    fs::write(&file, "x").unwrap();
    let out = sb.path("out");
    sb.generate(&file, &[], &out)
        .assert_fails_with(&["must be a folder or a .zip file"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn missing_marker_is_refused() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[(".deploykf_generator", None)]);
    let out = sb.path("out");
    sb.generate(&g, &[], &out)
        .assert_fails_with(&["invalid generator source: marker file is missing"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn unsupported_schema_is_refused() {
    let sb = Sandbox::new();
    let g = generator_folder(
        &sb,
        &[(".deploykf_generator", Some(r#"{"generator_schema": "v2"}"#))],
    );
    let out = sb.path("out");
    sb.generate(&g, &[], &out)
        .assert_fails_with(&["unsupported schema version 'v2'"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn missing_templates_helpers_or_default_values_are_refused() {
    for (missing, message) in [
        ("templates", "templates directory is missing"),
        ("helpers", "helpers directory is missing"),
        ("default_values.yaml", "default values file is missing"),
    ] {
        let sb = Sandbox::new();
        let mut changes: Vec<(&str, Option<&str>)> = vec![(missing, None)];
        if missing == "templates" {
            changes.push(("templates/hello.yaml", None));
        }
        if missing == "helpers" {
            changes.push(("helpers/names.tpl", None));
        }
        let g = generator_folder(&sb, &changes);
        let out = sb.path("out");
        sb.generate(&g, &[], &out).assert_fails_with(&[message]);
        assert_nothing_written(&sb, &out);
    }
}

#[test]
fn missing_values_file_is_named() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let out = sb.path("out");
    sb.generate(&g, &[Path::new("missing-values.yaml")], &out)
        .assert_fails_with(&["values file 'missing-values.yaml'", "cannot read it"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn non_empty_output_without_marker_is_refused_and_untouched() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let out = sb.path("precious");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "do not delete").unwrap();
    sb.generate(&g, &[], &out)
        .assert_fails_with(&["is not safe to clean: no '.deploykf_output' marker found"]);
    assert_eq!(list_files(&out), vec!["notes.txt"]);
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "do not delete"
    );
    sb.assert_no_staging_in(sb.dir.path());
    sb.assert_tmp_clean();
}

#[test]
fn output_path_that_is_a_file_is_refused() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let out = sb.path("out.txt");
    fs::write(&out, "x").unwrap();
    sb.generate(&g, &[], &out)
        .assert_fails_with(&["is not a directory"]);
    assert_eq!(fs::read_to_string(&out).unwrap(), "x");
}

#[test]
fn both_or_neither_source_is_a_usage_error() {
    let sb = Sandbox::new();
    sb.run(&[
        "generate",
        "--source-version",
        "0.1.5",
        "--source-path",
        "x.zip",
        "-O",
        "out",
    ])
    .assert_fails_with(&["--source-path"]);
    sb.run(&["generate", "-O", "out"])
        .assert_fails_with(&["--source-version"]);
    sb.run(&["generate", "--source-path", "x.zip"])
        .assert_fails_with(&["--output-dir"]);
    assert!(!sb.path("out").exists());
}

#[test]
fn uncached_version_offline_says_what_to_do() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    // A version that has no release: the download fails whether or not there is network.
    let run = sb.run(&[
        "generate",
        "--source-version",
        "0.0.0-does-not-exist",
        "-O",
        out.to_str().unwrap(),
    ]);
    run.assert_fails_with(&[
        "deploykf-0.0.0-does-not-exist-generator.zip",
        "--source-path",
    ]);
    assert!(!sb
        .path("home/.deploykf/assets/deploykf-0.0.0-does-not-exist-generator.zip")
        .exists());
    assert_nothing_written(&sb, &out);
}

// The cases below need the template engine (YAML decoding, parsing, `fail`).

#[test]
fn values_file_with_yaml_syntax_error_names_file_and_line() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let values = sb.path("bad-values.yaml");
    fs::write(&values, "a: 1\nb:\n  c: [unclosed\nd: 2\n").unwrap();
    let out = sb.path("out");
    sb.generate(&g, &[&values], &out)
        .assert_fails_with(&["bad-values.yaml", "line "]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn a_second_yaml_document_in_a_values_file_is_refused_with_its_line() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let values = sb.path("two-docs.yaml");
    fs::write(&values, "greeting: one\n---\ngreeting: two\n").unwrap();
    let out = sb.path("out");
    sb.generate(&g, &[&values], &out)
        .assert_fails_with(&["two-docs.yaml': line 2 starts a second YAML document"]);
    assert_nothing_written(&sb, &out);
}

/// `/dev/zero`, a FIFO with no writer and a file over 16 MiB, as values,
/// mirror or images file: refused at once, naming the file (a FIFO read would
/// block forever, `/dev/zero` would fill memory).
#[test]
fn special_and_oversized_user_files_are_refused() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let fifo = sb.path("fifo.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let big = sb.path("big.yaml");
    fs::File::create(&big).unwrap().set_len((16 << 20) + 1).unwrap();
    let out = sb.path("out");
    let source = g.display().to_string();
    for (flag, what) in [("-f", "values file"), ("--mirror", "--mirror file")] {
        for (file, problem) in [
            ("/dev/zero".to_string(), "is not a regular file (a device)"),
            (fifo.display().to_string(), "is not a regular file (a FIFO)"),
            (big.display().to_string(), "is larger than the limit of 16 MiB"),
        ] {
            sb.run(&["generate", "--source-path", &source, flag, &file, "-O", "out"])
                .assert_fails_with(&[&format!("{what} '{file}' {problem}")]);
            assert_nothing_written(&sb, &out);
        }
    }
    let images = sb.run(&["mirror", "--dry-run", "--images-file", "/dev/zero"]);
    images.assert_fails_with(&["--images-file '/dev/zero' is not a regular file (a device)"]);
    let env = [("DEPLOYKF_CMP_MIRROR_CONFIG", fifo.to_str().unwrap())];
    sb.run_with_env(&["generate", "--source-path", &source, "-O", "out"], &env)
        .assert_fails_with(&["DEPLOYKF_CMP_MIRROR_CONFIG file", "is not a regular file (a FIFO)"]);
}

/// A 1 MiB line of an images file is quoted in the error cut to 200 bytes.
#[test]
fn a_huge_images_file_line_is_cut_in_the_error() {
    let sb = Sandbox::new();
    let line = format!("registry.example.com/{}:1", "Ab".repeat(1 << 19));
    fs::write(sb.path("images.txt"), format!("# images\n{line}\n")).unwrap();
    let run = sb.run(&["mirror", "--dry-run", "--images-file", "images.txt"]);
    run.assert_fails_with(&["images.txt:2: ", &format!("…({} bytes)", line.len())]);
    assert!(run.stderr.len() < 2000, "the line is echoed whole: {} bytes of stderr", run.stderr.len());
}

#[test]
fn values_file_that_is_not_a_map_is_named() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[]);
    let values = sb.path("list-values.yaml");
    fs::write(&values, "- a\n- b\n").unwrap();
    let out = sb.path("out");
    sb.generate(&g, &[&values], &out)
        .assert_fails_with(&["list-values.yaml", "must be a map"]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn template_syntax_error_names_template_and_line() {
    let sb = Sandbox::new();
    let g = generator_folder(
        &sb,
        &[(
            "templates/apps/broken.yaml",
            Some("ok: 1\nbad: {{< if .Values.greeting >}}\n"),
        )],
    );
    let out = sb.path("out");
    sb.generate(&g, &[], &out)
        .assert_fails_with(&["templates/apps/broken.yaml:"]);
    assert_nothing_written(&sb, &out);
}

/// A template allocating ~100 GB is a template error, not an abort.
#[test]
fn a_huge_string_in_a_template_is_a_clean_error() {
    let sb = Sandbox::new();
    let g = generator_folder(&sb, &[("templates/big.yaml", Some("a: 1\nb: {{< strings.Repeat 100000000000 \"x\" >}}\n"))]);
    let out = sb.path("out");
    let run = sb.generate(&g, &[], &out);
    run.assert_fails_with(&["templates/big.yaml:2:", "error calling Repeat", "over the limit of 64 MiB"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_nothing_written(&sb, &out);
}

#[test]
fn template_fail_shows_its_message() {
    let sb = Sandbox::new();
    let g = generator_folder(
        &sb,
        &[(
            "templates/z-check.yaml",
            Some("{{< fail \"the values are wrong: set greeting\" >}}\n"),
        )],
    );
    let out = sb.path("out");
    sb.generate(&g, &[], &out).assert_fails_with(&[
        "templates/z-check.yaml",
        "the values are wrong: set greeting",
    ]);
    assert_nothing_written(&sb, &out);
}

#[test]
fn failed_render_leaves_a_previous_output_untouched() {
    let sb = Sandbox::new();
    let out = sb.path("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join(".deploykf_output"), "{}").unwrap();
    fs::write(out.join("previous.yaml"), "kept").unwrap();
    let g = generator_folder(
        &sb,
        &[("templates/z-check.yaml", Some("{{< fail \"stop\" >}}"))],
    );
    sb.generate(&g, &[], &out).assert_fails_with(&["stop"]);
    assert_eq!(list_files(&out), vec![".deploykf_output", "previous.yaml"]);
    sb.assert_no_staging_in(sb.dir.path());
    sb.assert_tmp_clean();
}
