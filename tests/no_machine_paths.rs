//! The test sources name no absolute path of a developer's machine: a test may
//! read the repository, temporary folders it creates and `../shared`, nothing
//! else, so the suite passes on a fresh machine. Every string literal starting
//! with `/tmp`, `/work`, `/root` or `/home` in the Rust sources (`src/`,
//! `tests/`, `crates/*/src`, `crates/*/tests`, `fuzz/`) fails this test unless
//! the allow-list below names it with the reason it is data, not a place read.

use std::path::Path;

use regex::Regex;

/// (file, literal, why it is not read from the machine).
const ALLOWED: &[(&str, &str, &str)] = &[
    // Paths inside the sidecar container that deploy/ declares.
    ("tests/deploy_assets.rs", "/tmp", "the sidecar's /tmp mount"),
    ("tests/deploy_assets.rs", "/tmp/helm/cache", "the sidecar's HELM_CACHE_HOME"),
    ("tests/deploy_assets.rs", "/tmp/helm/config", "the sidecar's HELM_CONFIG_HOME"),
    ("tests/deploy_assets.rs", "/tmp/helm/data", "the sidecar's HELM_DATA_HOME"),
    ("tests/deploy_assets.rs", "/home/argocd/cmp-server/plugins", "a sidecar mount path"),
    ("tests/deploy_assets.rs", "/home/argocd/cmp-server/config/plugin.yaml", "a sidecar mount path"),
];

/// A string literal naming an absolute machine path (its content in group 1).
const PATTERN: &str = r#""((?:/tmp|/work|/root|/home)(?:/[^"\\]*)?)""#;

/// Every `.rs` file under `dir` (relative to the repository), sorted.
fn rust_files(root: &Path, dir: &str) -> Vec<String> {
    let mut files: Vec<String> = walkdir::WalkDir::new(root.join(dir))
        .into_iter()
        .filter_entry(|e| e.file_name() != "target")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn test_sources_name_no_machine_paths() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let literal = Regex::new(PATTERN).unwrap();
    let mut files = Vec::new();
    for dir in ["src", "tests", "crates", "fuzz"] {
        files.extend(rust_files(root, dir));
    }
    assert!(files.len() > 50, "only {} Rust files found under {}", files.len(), root.display());
    // This file holds the pattern's own examples.
    assert!(files.iter().any(|f| f == "tests/no_machine_paths.rs"));
    files.retain(|f| f != "tests/no_machine_paths.rs");

    let mut found = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for (n, line) in text.lines().enumerate() {
            for c in literal.captures_iter(line) {
                let path = &c[1];
                match ALLOWED.iter().position(|(f, p, _)| f == file && *p == path) {
                    Some(i) => used[i] = true,
                    None => found.push(format!("{file}:{}: \"{path}\"", n + 1)),
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "test sources name absolute machine paths; take fixtures from ../shared \
         (relative to CARGO_MANIFEST_DIR) or a temporary folder the test creates:\n{}",
        found.join("\n")
    );
    let stale: Vec<_> = ALLOWED.iter().zip(&used).filter(|(_, u)| !**u).map(|(a, _)| a).collect();
    assert!(stale.is_empty(), "allow-list entries no longer used: {stale:?}");
}

#[test]
fn the_pattern_catches_reads_of_machine_paths() {
    let literal = Regex::new(PATTERN).unwrap();
    for bad in [
        r#"std::fs::read_dir("/tmp/gen")"#,
        r#"format!("/work/shared/fixtures/sample-values/sample-values-{version}.yaml")"#,
        r#"Path::new("/root/.cache")"#,
        r#"for root in ["/tmp/gen", "/home/x"] {"#,
    ] {
        assert!(literal.is_match(bad), "{bad}");
    }
    for good in [r#"Path::new("/etc/hosts")"#, r#""/tmpfile""#, r#"root.join("tmp/x")"#] {
        assert!(!literal.is_match(good), "{good}");
    }
}
