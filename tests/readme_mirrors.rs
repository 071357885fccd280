//! The `## Mirrors` section of README.md says what it does: every ```yaml
//! example in it is a mirror configuration the binary accepts, and each row of
//! the table after it (`| image or chart | result |`) is what the binary does
//! with that configuration (`mirror --dry-run` for images and charts,
//! `pull-secret --output values` for the pull secret). The section's key table
//! also names every key the configuration parser accepts, and the mirror
//! configuration of deploy/README.md's offline walk-through is valid.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use common::{bin, repo_root};

/// The README text from `## Mirrors` up to the next `## ` heading.
fn mirrors_section() -> String {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("\n## Mirrors\n").expect("README.md has a `## Mirrors` section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 4);
    rest[..end].to_string()
}

/// One example: its YAML and the `(input, result)` rows of the table after it.
struct Example {
    yaml: String,
    rows: Vec<(String, String)>,
}

fn examples(section: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("```yaml") {
            let yaml: Vec<&str> = lines.by_ref().take_while(|l| l.trim_start() != "```").collect();
            out.push(Example { yaml: yaml.join("\n") + "\n", rows: Vec::new() });
        } else if let (Some(example), Some(row)) = (out.last_mut(), line.strip_prefix("| ")) {
            let cells: Vec<&str> = row.trim_end_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 2, "a row of two cells: {line}");
            if cells[0] != "image or chart" && !cells[0].starts_with("---") {
                example.rows.push((cells[0].trim_matches('`').to_string(), cells[1].to_string()));
            }
        }
    }
    out
}

fn run(args: &[&str], mirror: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--mirror")
        .arg(mirror)
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `TARGET` or `TARGET (pulled from ALIAS)` as the dry run prints a result cell.
fn planned(result: &str) -> String {
    match result.split_once(" (pulled from ") {
        Some((target, alias)) => {
            format!("{} (pulled from {})", target.trim_matches('`'), alias.trim_end_matches(')').trim_matches('`'))
        }
        None => result.trim_matches('`').to_string(),
    }
}

/// Checks one table row against the binary.
fn check_row(dir: &Path, mirror: &Path, input: &str, result: &str) {
    let left_alone = result == "not mirrored";
    if input == "pull secret" {
        let (namespace, name) = result.trim_matches('`').split_once('/').expect("NAMESPACE/NAME");
        let out = run(&["pull-secret", "--output", "values"], mirror);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            stdout.contains(&format!("- existingSecret: {name}\n")) && stdout.contains(&format!("existingSecretNamespace: {namespace}\n")),
            "{input} -> {result}:\n{stdout}"
        );
    } else if input.contains(' ') {
        let charts = dir.join("charts.txt");
        fs::write(&charts, format!("{input}\n")).unwrap();
        let out = run(&["mirror", "--dry-run", "--charts-file", charts.to_str().unwrap()], mirror);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{input}: {stderr}");
        if left_alone {
            assert_eq!(stdout, "", "{input} is not mirrored");
            assert!(stderr.contains(&format!("chart not mirrored: {input} (")), "{input}: {stderr}");
        } else {
            assert_eq!(stdout, format!("{input} -> {}\n", planned(result)), "{input}");
        }
    } else {
        let images = dir.join("images.txt");
        fs::write(&images, format!("{input}\n")).unwrap();
        let out = run(&["mirror", "--dry-run", "--images-file", images.to_str().unwrap()], mirror);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{input}: {stderr}");
        if left_alone {
            assert_eq!(stdout, "", "{input} is not mirrored");
            assert!(stderr.contains("not mirrored (excluded or already in the mirror): "), "{input}: {stderr}");
        } else {
            let (source, plan) = stdout.trim_end().split_once(" -> ").unwrap_or_else(|| panic!("{input}: {stdout}"));
            assert!(source.ends_with(input.trim_start_matches("docker.io/")), "{input} is read as {source}");
            assert_eq!(plan, planned(result), "{input}");
        }
    }
}

#[test]
fn every_example_parses_and_does_what_its_table_says() {
    let section = mirrors_section();
    let examples = examples(&section);
    assert!(examples.len() >= 6, "keep-host, drop-host, overrides/exclude, charts, sources, pullSecret: {}", examples.len());
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror.yaml");
    let mut rows = 0;
    for example in &examples {
        assert!(!example.rows.is_empty(), "a table follows the example:\n{}", example.yaml);
        fs::write(&mirror, &example.yaml).unwrap();
        for (input, result) in &example.rows {
            check_row(dir.path(), &mirror, input, result);
            rows += 1;
        }
    }
    // Each kind of example is there.
    let all: String = examples.iter().map(|e| e.yaml.as_str()).collect();
    for needle in ["layout: drop-host", "overrides:", "exclude:", "charts:", "sources:", "pullFrom:", "pullSecret:"] {
        assert!(all.contains(needle), "an example uses {needle}");
    }
    assert!(rows >= 15, "{rows} rows");
}

/// The keys the parser accepts at `path`, from its unknown-key error.
fn known_keys(dir: &Path, yaml: &str, path: &str) -> Vec<String> {
    let file = dir.join("bad.yaml");
    fs::write(&file, yaml).unwrap();
    let out = run(&["pull-secret", "--output", "values"], &file);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    let wanted = format!("{path}.zzzzzzzz: unknown key (known keys: ");
    let at = stderr.find(&wanted).unwrap_or_else(|| panic!("{wanted} in {stderr}"));
    let list = &stderr[at + wanted.len()..];
    list[..list.find(')').unwrap()].split(", ").map(str::to_string).collect()
}

#[test]
fn the_key_table_names_every_key_the_parser_accepts() {
    let section = mirrors_section();
    let table: Vec<&str> = section.lines().filter(|l| l.starts_with("| `mirror.")).collect();
    let row = |key: &str| -> String {
        table
            .iter()
            .find(|l| l[2..].split(" | ").next().unwrap().split(", ").any(|k| k == format!("`{key}`")))
            .unwrap_or_else(|| panic!("the key table has a row for {key}"))
            .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let images = "images: {registry: r.example.com}";
    let maps = [
        ("mirror: {zzzzzzzz: 1}".to_string(), "mirror"),
        ("mirror: {images: {registry: r.example.com, zzzzzzzz: 1}}".to_string(), "mirror.images"),
        (format!("mirror: {{{images}, charts: {{zzzzzzzz: 1}}}}"), "mirror.charts"),
        (format!("mirror: {{{images}, pullSecret: {{zzzzzzzz: 1}}}}"), "mirror.pullSecret"),
    ];
    for (yaml, path) in &maps {
        for key in known_keys(dir.path(), yaml, path) {
            let full = format!("{path}.{key}");
            // A map's keys are documented below it (`mirror.images` by `mirror.images.registry`...).
            let documented = table.iter().any(|l| l.contains(&format!("`{full}`")) || l.contains(&format!("`{full}.")) || l.contains(&format!("`{full}[]`")));
            assert!(documented, "the key table documents {full}");
        }
    }
    let images_with = "images: {registry: r.example.com";
    let items = [
        (format!("mirror: {{{images_with}, overrides: [{{zzzzzzzz: 1}}]}}}}"), "mirror.images.overrides[0]", "mirror.images.overrides[]"),
        (format!("mirror: {{{images_with}, sources: [{{zzzzzzzz: 1}}]}}}}"), "mirror.images.sources[0]", "mirror.images.sources[]"),
        (format!("mirror: {{{images}, charts: {{repository: oci://r.example.com/c, overrides: [{{zzzzzzzz: 1}}]}}}}"), "mirror.charts.overrides[0]", "mirror.charts.overrides[]"),
    ];
    for (yaml, path, documented_as) in &items {
        let line = row(documented_as);
        for key in known_keys(dir.path(), yaml, path) {
            assert!(line.contains(&format!("{key}: ")), "the row of {documented_as} names {key}: {line}");
        }
    }
}

#[test]
fn the_offline_walk_through_mirror_config_is_valid() {
    let guide = fs::read_to_string(repo_root().join("deploy/README.md")).unwrap();
    let start = guide.find("```yaml\n## mirror.yaml\n").expect("deploy/README.md shows its mirror.yaml") + "```yaml\n".len();
    let yaml = &guide[start..start + guide[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror.yaml");
    fs::write(&mirror, yaml).unwrap();
    check_row(
        dir.path(),
        &mirror,
        "docker.io/bitnami/os-shell:12-debian-12-r20",
        "`registry.example.internal/deploykf/docker.io/bitnami/os-shell:12-debian-12-r20` (pulled from `docker.io/bitnamilegacy/os-shell:12-debian-12-r20`)",
    );
    check_row(
        dir.path(),
        &mirror,
        "https://charts.jetstack.io cert-manager v1.12.10",
        "`oci://registry.example.internal/deploykf/charts/charts.jetstack.io/cert-manager`",
    );
    check_row(dir.path(), &mirror, "pull secret", "`argocd/deploykf-registry-credentials`");
}
