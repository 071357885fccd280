//! Decodes every real values file we have (deployKF generators' default
//! values, sample values, golden-run inputs) and round-trips each through the
//! encoder. Skips, with a message, when `../shared` is absent.

use std::path::{Path, PathBuf};
use std::time::Instant;

use gomplate::yaml;

mod support;
use support::fixtures;

/// The YAML files directly in `dir`, sorted.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

/// Every real values file as (name, text): each generator's
/// `default_values.yaml`, the sample values and the golden cases' values.
fn fixture_files() -> Option<Vec<(String, String)>> {
    let dir = fixtures::fixtures_dir()?;
    let mut files: Vec<(String, String)> = fixtures::generators()?
        .iter()
        .map(|g| {
            let name = format!("deploykf-{}: generator/default_values.yaml", g.version);
            (name, g.file("default_values.yaml").to_string())
        })
        .collect();
    let mut paths = yaml_files(&dir.join("sample-values"));
    for (case, _) in golden_cases()? {
        paths.extend(yaml_files(&case.join("values")));
    }
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        files.push((path.display().to_string(), text));
    }
    Some(files)
}

#[test]
fn real_values_files_decode_and_round_trip() {
    let Some(files) = fixture_files() else { return };
    // 6 generators, 10 sample values files, the golden cases' values.
    assert!(files.len() >= 20, "only {} values files", files.len());
    eprintln!("decoding {} values files", files.len());
    for (name, text) in files {
        let value = yaml::decode(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(value.as_map().is_some(), "{name}: not a map");
        let out = yaml::encode(&value).unwrap();
        let again = yaml::decode(&out).unwrap_or_else(|e| panic!("{name} re-encoded: {e}\n{out}"));
        assert_eq!(again, value, "{name} does not round-trip");
        // The encoder is deterministic: encoding the decoded output again is a fixed point.
        assert_eq!(yaml::encode(&again).unwrap(), out, "{name}");
    }
}

#[test]
fn default_values_decode_quickly() {
    let Some(generator) = fixtures::generator("0.1.5") else { return };
    let text = generator.file("default_values.yaml");
    yaml::decode(text).unwrap();
    let start = Instant::now();
    let runs = 5;
    for _ in 0..runs {
        yaml::decode(text).unwrap();
    }
    let per_run = start.elapsed() / runs;
    eprintln!("decoding {} bytes took {per_run:?}", text.len());
    // Generous bound for unoptimised test builds on a shared machine; release
    // builds take a few milliseconds.
    assert!(per_run.as_millis() < 500, "decoding took {per_run:?}");
}

/// The golden cases (folder and decoded `case.yaml`), sorted; `None`, with a
/// message, when the fixtures are absent.
fn golden_cases() -> Option<Vec<(PathBuf, gomplate::Map)>> {
    let root = fixtures::fixtures_dir()?.join("golden");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.yaml").is_file())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases in {}", root.display());
    let out = cases
        .into_iter()
        .map(|case| {
            let meta = std::fs::read_to_string(case.join("case.yaml")).unwrap();
            let meta = yaml::decode(&meta).unwrap().as_map().expect("case.yaml is a map").clone();
            (case, meta)
        })
        .collect();
    Some(out)
}

/// The `default_values.yaml` of the generator a golden case was rendered from.
fn default_values(meta: &gomplate::Map) -> String {
    let version = meta["source_version"].as_str().expect("source_version");
    let generator = fixtures::generator(version).expect("fixtures present");
    generator.file("default_values.yaml").to_string()
}

/// `spawner_ui_config.yaml` is `spawnerFormDefaults | toYAML | indent 2` of
/// the generator's defaults (the sample values leave it `{}`, which the deep
/// merge does not change), so the golden outputs show yaml.v3's exact bytes.
#[test]
fn encoder_matches_golden_to_yaml_output() {
    let Some(cases) = golden_cases() else { return };
    let mut checked = 0;
    for (case, meta) in &cases {
        let defaults = default_values(meta);
        let expected = case.join("expected/manifests/kubeflow-tools/notebooks/jupyter-web-app/files/spawner_ui_config.yaml");
        let expected = std::fs::read_to_string(&expected)
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
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
    assert_eq!(checked, cases.len());
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
    let Some(cases) = golden_cases() else { return };
    let mut checked = 0;
    for (case, meta) in &cases {
        let defaults = default_values(meta);
        let mut values = yaml::decode(&defaults).unwrap();
        for file in meta["values_files"].as_list().unwrap() {
            let text =
                std::fs::read_to_string(case.join("values").join(file.as_str().unwrap())).unwrap();
            values = merge(&values, &yaml::decode(&text).unwrap());
        }
        let expected_path =
            case.join("expected/manifests/deploykf-core/deploykf-profiles-generator/values.yaml");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
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
    assert_eq!(checked, 5 * cases.len());
    eprintln!("checked {checked} golden toJSON outputs");
}
