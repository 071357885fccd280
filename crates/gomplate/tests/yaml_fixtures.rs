//! Decodes every real values file we have (deployKF generators' default
//! values, sample values, golden-run inputs) and round-trips each through the
//! encoder. Skips, with a message, when the fixtures are not on this machine.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gomplate::yaml;

fn fixture_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut add_dir = |dir: &Path, only: Option<&str>| {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_yaml = name.ends_with(".yaml") || name.ends_with(".yml");
            if path.is_file() && is_yaml && only.map_or(true, |o| o == name) {
                files.push(path);
            }
        }
    };
    for root in ["/tmp/gen", "/work/shared/fixtures/golden"] {
        let Ok(entries) = std::fs::read_dir(root) else {
            eprintln!("skipping {root}: not present");
            continue;
        };
        for entry in entries.flatten() {
            add_dir(&entry.path().join("generator"), Some("default_values.yaml"));
            add_dir(&entry.path().join("values"), None);
        }
    }
    add_dir(Path::new("/work/shared/fixtures/sample-values"), None);
    files.sort();
    files
}

#[test]
fn real_values_files_decode_and_round_trip() {
    let files = fixture_files();
    if files.is_empty() {
        eprintln!("no fixture files found; skipping");
        return;
    }
    eprintln!("decoding {} values files", files.len());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let value = yaml::decode(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(value.as_map().is_some(), "{}: not a map", path.display());
        let out = yaml::encode(&value).unwrap();
        let again = yaml::decode(&out)
            .unwrap_or_else(|e| panic!("{} re-encoded: {e}\n{out}", path.display()));
        assert_eq!(again, value, "{} does not round-trip", path.display());
        // The encoder is deterministic: encoding the decoded output again is a fixed point.
        assert_eq!(yaml::encode(&again).unwrap(), out, "{}", path.display());
    }
}

#[test]
fn default_values_decode_quickly() {
    let path = Path::new("/tmp/gen/0.1.5/generator/default_values.yaml");
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("skipping: {} not present", path.display());
        return;
    };
    yaml::decode(&text).unwrap();
    let start = Instant::now();
    let runs = 5;
    for _ in 0..runs {
        yaml::decode(&text).unwrap();
    }
    let per_run = start.elapsed() / runs;
    eprintln!("decoding {} bytes took {per_run:?}", text.len());
    // Generous bound for unoptimised test builds on a shared machine; release
    // builds take a few milliseconds.
    assert!(per_run.as_millis() < 500, "decoding took {per_run:?}");
}
