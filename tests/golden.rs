//! Golden replays: every case in `../shared/fixtures/golden/` is rendered with
//! its generator zip and values files (in order) and compared with the real Go
//! CLI's output by `../shared/tools/compare-generator-output`, which must say
//! `MATCH`. Skipped (with a message) when `../shared` is absent.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{shared, Sandbox};

/// The fields of a `case.yaml` the replay needs.
struct Case {
    name: String,
    dir: PathBuf,
    source_version: String,
    values_files: Vec<String>,
}

/// Reads `case.yaml` (a fixed, simple layout: `key: "value"` lines and a
/// `values_files:` list of `- "file"` items).
fn read_case(dir: &Path) -> Case {
    let text = fs::read_to_string(dir.join("case.yaml")).unwrap();
    let unquote = |s: &str| s.trim().trim_matches('"').trim_matches('\'').to_string();
    let mut source_version = None;
    let mut values_files = Vec::new();
    let mut in_values = false;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("source_version:") {
            source_version = Some(unquote(v));
        }
        if line.starts_with("values_files:") {
            in_values = true;
            continue;
        }
        if in_values {
            match line.trim_start().strip_prefix("- ") {
                Some(item) if line.starts_with(' ') || line.starts_with('-') => {
                    values_files.push(unquote(item))
                }
                _ => in_values = false,
            }
        }
    }
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
        source_version: source_version.expect("case.yaml has source_version"),
        values_files,
    }
}

#[test]
fn golden_cases_match_the_go_cli() {
    let Some(shared) = shared() else {
        eprintln!("skipping golden replays: ../shared is absent");
        return;
    };
    let yaml_ok = Command::new("python3")
        .args(["-c", "import yaml"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(yaml_ok, "python3 with PyYAML is needed to compare outputs (run `bash .ci/run` to install python3-yaml)");
    let mut dirs: Vec<PathBuf> = fs::read_dir(shared.join("fixtures/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no golden cases found");
    let mut failures = Vec::new();
    for dir in dirs {
        let case = read_case(&dir);
        let sb = Sandbox::new();
        let zip = shared.join(format!(
            "fixtures/generators/deploykf-{}-generator.zip",
            case.source_version
        ));
        let values: Vec<PathBuf> = case
            .values_files
            .iter()
            .map(|f| case.dir.join("values").join(f))
            .collect();
        let values: Vec<&Path> = values.iter().map(PathBuf::as_path).collect();
        let out = sb.path("out");
        let run = sb.generate(&zip, &values, &out);
        if run.code != Some(0) {
            println!("{}: generate failed: {}", case.name, run.stderr.trim());
            failures.push(case.name);
            continue;
        }
        let compare = Command::new("python3")
            .arg(shared.join("tools/compare-generator-output"))
            .arg(case.dir.join("expected"))
            .arg(&out)
            .output()
            .expect("run compare-generator-output");
        let report = String::from_utf8_lossy(&compare.stdout);
        let last = report.lines().last().unwrap_or("").to_string();
        println!("{}: {last}", case.name);
        if !last.starts_with("MATCH") {
            println!("{report}");
            failures.push(case.name);
        }
    }
    assert!(failures.is_empty(), "golden cases differ: {failures:?}");
}
