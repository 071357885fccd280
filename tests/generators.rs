//! Every real deployKF generator (0.1.0–0.1.5, from `../shared/fixtures`)
//! renders with deployKF's own sample values (plus the sample overrides where
//! they exist) and produces a full output tree. Like every user, the test sets
//! the manifest repo (`argocd.source.repo.*`), which the generators require.
//! Skipped when `../shared` is absent.

mod common;

use std::path::PathBuf;

use common::{list_files, shared, Sandbox};

/// The values every deployKF user sets: where the output folder is committed.
const REPO_VALUES: &str = "argocd:\n  source:\n    repo:\n      url: \"https://git.example.com/platform/deploykf.git\"\n      revision: \"main\"\n      path: \"./GENERATOR_OUTPUT/\"\n";

#[test]
fn every_generator_renders_its_sample_values() {
    let Some(shared) = shared() else {
        eprintln!("skipping generator renders: ../shared is absent");
        return;
    };
    let mut failures = Vec::new();
    for version in ["0.1.0", "0.1.1", "0.1.2", "0.1.3", "0.1.4", "0.1.5"] {
        let zip = shared.join(format!(
            "fixtures/generators/deploykf-{version}-generator.zip"
        ));
        let samples = shared.join("fixtures/sample-values");
        let mut values: Vec<PathBuf> = vec![samples.join(format!("sample-values-{version}.yaml"))];
        let overrides = samples.join(format!("sample-values-overrides-{version}.yaml"));
        if overrides.is_file() {
            values.push(overrides);
        }
        let sb = Sandbox::new();
        let repo_values = sb.path("repo-values.yaml");
        std::fs::write(&repo_values, REPO_VALUES).unwrap();
        values.push(repo_values);
        let values: Vec<&std::path::Path> = values.iter().map(PathBuf::as_path).collect();
        let out = sb.path("out");
        let run = sb.generate(&zip, &values, &out);
        let files = list_files(&out);
        println!("{version}: exit {:?}, {} files", run.code, files.len());
        if run.code != Some(0) {
            println!("{version}: {}", run.stderr.trim());
            failures.push(version);
            continue;
        }
        // 0.1.0/0.1.1 put the apps in `argocd/`, later ones in `argocd/applications/`.
        let apps = files.iter().filter(|f| f.starts_with("argocd/")).count();
        let manifests = files.iter().filter(|f| f.starts_with("manifests/")).count();
        if apps < 10 || manifests < 100 || !files.contains(&".deploykf_output".to_string()) {
            println!(
                "{version}: output tree too small: {apps} argocd files, {manifests} manifests"
            );
            failures.push(version);
        }
    }
    assert!(failures.is_empty(), "generators failed: {failures:?}");
}
