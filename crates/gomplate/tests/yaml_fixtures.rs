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
            if path.is_file() && is_yaml && only.is_none_or(|o| o == name) {
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

/// The golden cases on this machine (folder and decoded `case.yaml`); none,
/// with a message, when the fixtures are not here.
fn golden_cases() -> Vec<(PathBuf, gomplate::Map)> {
    let root = Path::new("/work/shared/fixtures/golden");
    let Ok(cases) = std::fs::read_dir(root) else {
        eprintln!("skipping: {} not present", root.display());
        return Vec::new();
    };
    let mut out = Vec::new();
    for case in cases.flatten() {
        let case = case.path();
        let Ok(meta) = std::fs::read_to_string(case.join("case.yaml")) else {
            continue;
        };
        if let Some(meta) = yaml::decode(&meta).unwrap().as_map() {
            out.push((case, meta.clone()));
        }
    }
    out
}

/// `spawner_ui_config.yaml` is `spawnerFormDefaults | toYAML | indent 2` of
/// the generator's defaults (the sample values leave it `{}`, which the deep
/// merge does not change), so the golden outputs show yaml.v3's exact bytes.
#[test]
fn encoder_matches_golden_to_yaml_output() {
    let mut checked = 0;
    for (case, meta) in golden_cases() {
        let Some(version) = meta.get("source_version").and_then(|v| v.as_str()) else {
            continue;
        };
        let defaults = format!("/tmp/gen/{version}/generator/default_values.yaml");
        let expected = case.join("expected/manifests/kubeflow-tools/notebooks/jupyter-web-app/files/spawner_ui_config.yaml");
        let (Ok(defaults), Ok(expected)) = (
            std::fs::read_to_string(&defaults),
            std::fs::read_to_string(&expected),
        ) else {
            eprintln!("skipping {}: inputs not present", case.display());
            continue;
        };
        let values = yaml::decode(&defaults).unwrap();
        let mut node = &values;
        for key in ["kubeflow_tools", "notebooks", "spawnerFormDefaults"] {
            node = &node.as_map().unwrap()[key];
        }
        let body = expected
            .strip_prefix("spawnerFormDefaults:\n")
            .expect("header");
        let unindented: String = body
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
            .collect();
        assert_eq!(
            yaml::encode(node).unwrap(),
            unindented,
            "{}",
            case.display()
        );
        checked += 1;
    }
    eprintln!("checked {checked} golden toYAML outputs");
}

/// Deep merge as deployKF layers values files: maps merge, the rest replaces.
fn merge(base: &gomplate::Value, over: &gomplate::Value) -> gomplate::Value {
    match (base.as_map(), over.as_map()) {
        (Some(b), Some(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let merged = match out.get(k) {
                    Some(existing) => merge(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            gomplate::Value::map(out)
        }
        _ => over.clone(),
    }
}

/// The profiles generator's `values.yaml` holds `toJSON` of values
/// (`users: {{< ... | toJSON >}}`): ugorji's exact canonical bytes.
#[test]
fn json_encoder_matches_golden_to_json_output() {
    let mut checked = 0;
    for (case, meta) in golden_cases() {
        let version = meta["source_version"].as_str().unwrap();
        let Ok(defaults) =
            std::fs::read_to_string(format!("/tmp/gen/{version}/generator/default_values.yaml"))
        else {
            eprintln!("skipping {}: generator not present", case.display());
            continue;
        };
        let mut values = yaml::decode(&defaults).unwrap();
        for file in meta["values_files"].as_list().unwrap() {
            let text =
                std::fs::read_to_string(case.join("values").join(file.as_str().unwrap())).unwrap();
            values = merge(&values, &yaml::decode(&text).unwrap());
        }
        let expected_path =
            case.join("expected/manifests/deploykf-core/deploykf-profiles-generator/values.yaml");
        let Ok(expected) = std::fs::read_to_string(&expected_path) else {
            continue;
        };
        let mut gen = &values;
        for key in ["deploykf_core", "deploykf_profiles_generator"] {
            gen = &gen.as_map().unwrap()[key];
        }
        let gen = gen.as_map().unwrap();
        let defaults = gen["profileDefaults"].as_map().unwrap();
        for (prefix, value) in [
            ("  plugins: ", &defaults["plugins"]),
            ("  resourceQuotaSpec: ", &defaults["resourceQuotaSpec"]),
            ("users: ", &gen["users"]),
            ("groups: ", &gen["groups"]),
            ("profiles: ", &gen["profiles"]),
        ] {
            let line = expected
                .lines()
                .find(|l| l.starts_with(prefix))
                .expect(prefix);
            assert_eq!(
                gomplate::json::encode(value).unwrap(),
                &line[prefix.len()..],
                "{} {prefix}",
                case.display()
            );
            checked += 1;
        }
    }
    eprintln!("checked {checked} golden toJSON outputs");
}
