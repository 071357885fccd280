//! The import rules of the binary's module tree, read from the `crate::` and
//! `super::` paths in `src/` (tests included, comment lines skipped):
//!
//! - nothing imports `cli` but `main.rs`;
//! - only `main`, `cli` and `pipeline` import from every stage
//!   ([`STAGES`]), besides the commented exceptions of [`ALSO_SEE_EVERY_STAGE`].
//!
//! Only the top-level module of a path counts, so a `super::` inside an inline
//! `mod tests` is resolved from its file, which names the same top-level module
//! everywhere below `src/<module>/`. The scanner itself is checked on sample
//! sources that break each rule.
//!
//! The workspace crates (`crates/*`) import nothing of the binary: none
//! depends on the root package, and no source of theirs names it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use regex::Regex;

/// The top-level modules that may import from anything.
const SEE_EVERYTHING: &[&str] = &["main", "cli", "pipeline"];

/// The stages a render's data goes through.
const STAGES: &[&str] = &["generator", "manifests", "mirror", "charts", "components"];

/// Modules besides [`SEE_EVERYTHING`] that import from every stage today, and why.
const ALSO_SEE_EVERY_STAGE: &[(&str, &str)] = &[];

/// One import found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Import {
    file: String,
    line: usize,
    /// The absolute path below `crate::` (`generator::source::GeneratorSource`).
    path: String,
}

impl Import {
    fn top(&self) -> &str {
        self.path.split("::").next().unwrap_or("")
    }
}

/// The module path of a file under `src/` (`src/generator/mod.rs` → `generator`,
/// `src/main.rs` → the crate root, empty).
fn module_path(file: &str) -> Vec<String> {
    let rel = file.strip_prefix("src/").unwrap_or(file).trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "main")) {
        parts.pop();
    }
    parts
}

/// The top-level module a file belongs to (`main` for `src/main.rs`).
fn owner(file: &str) -> String {
    module_path(file).into_iter().next().unwrap_or_else(|| "main".to_string())
}

/// The paths of a use tree starting at `s[*i]`: `a::b`, `a::{b, c::d}`, `{a, b}`.
fn use_tree(s: &[u8], i: &mut usize) -> Vec<String> {
    let skip_space = |i: &mut usize| {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_space(i);
    if s.get(*i) == Some(&b'{') {
        *i += 1;
        let mut out = Vec::new();
        loop {
            skip_space(i);
            match s.get(*i) {
                None => return out,
                Some(b'}') => {
                    *i += 1;
                    return out;
                }
                Some(b',') => *i += 1,
                Some(_) => {
                    let before = *i;
                    out.extend(use_tree(s, i));
                    if *i == before {
                        *i += 1;
                    }
                }
            }
        }
    }
    let start = *i;
    while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_') {
        *i += 1;
    }
    let ident = String::from_utf8_lossy(&s[start..*i]).into_owned();
    if ident.is_empty() {
        return Vec::new();
    }
    if s[*i..].starts_with(b"::") {
        *i += 2;
        let rest = use_tree(s, i);
        if !rest.is_empty() {
            return rest
                .into_iter()
                .map(|r| if r == "self" { ident.clone() } else { format!("{ident}::{r}") })
                .collect();
        }
    }
    vec![ident]
}

/// Every `crate::` and `super::` path of `text`, resolved from `file`'s place.
fn imports(file: &str, text: &str) -> Vec<Import> {
    let here = module_path(file);
    let anchor = Regex::new(r"\b(crate::|(?:super::)+)").unwrap();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        // A use tree may span lines: read from this line to the end of the text.
        let offset = line.as_ptr() as usize - text.as_ptr() as usize;
        for m in anchor.find_iter(line) {
            let ups = m.as_str().matches("super::").count();
            let base: Vec<String> = if ups == 0 {
                Vec::new()
            } else if ups <= here.len() {
                here[..here.len() - ups].to_vec()
            } else {
                continue;
            };
            let bytes = text.as_bytes();
            let mut i = offset + m.end();
            for rest in use_tree(bytes, &mut i) {
                let mut path = base.clone();
                path.push(rest);
                out.push(Import { file: file.to_string(), line: n + 1, path: path.join("::") });
            }
        }
    }
    out
}

/// The rules broken by the given `(file under src/, text)` sources.
fn violations(sources: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stages_seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in sources {
        let own = owner(file);
        for import in imports(file, text) {
            let top = import.top().to_string();
            if top == own {
                continue;
            }
            let at = format!("{}:{}: crate::{}", import.file, import.line, import.path);
            if top == "cli" && own != "main" {
                found.push(format!("{at}: nothing but main.rs imports cli"));
            }
            if STAGES.contains(&top.as_str()) {
                stages_seen.entry(own.clone()).or_default().insert(top);
            }
        }
    }
    for (own, seen) in stages_seen {
        let excepted = ALSO_SEE_EVERY_STAGE.iter().any(|(m, _)| *m == own);
        if seen.len() == STAGES.len() && !SEE_EVERYTHING.contains(&own.as_str()) && !excepted {
            found.push(format!(
                "src/{own}: imports from every stage ({}); only {} do",
                STAGES.join(", "),
                SEE_EVERYTHING.join(", ")
            ));
        }
    }
    found
}

/// Every `.rs` file under `src/`, as `(src/..., text)`.
fn tree() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, String)> = walkdir::WalkDir::new(root.join("src"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn sample(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect()
}

#[test]
fn the_tree_keeps_the_import_rules() {
    let sources = tree();
    assert!(sources.iter().any(|(f, _)| f == "src/main.rs"), "src/main.rs not found");
    let broken = violations(&sources);
    assert!(broken.is_empty(), "import rules broken:\n{}", broken.join("\n"));
}

#[test]
fn every_exception_is_still_needed() {
    let sources = tree();
    let all: Vec<Import> = sources.iter().flat_map(|(f, t)| imports(f, t)).collect();
    for (own, _) in ALSO_SEE_EVERY_STAGE {
        let seen: BTreeSet<String> = all
            .iter()
            .filter(|i| owner(&i.file) == *own)
            .map(|i| i.top().to_string())
            .filter(|t| STAGES.contains(&t.as_str()))
            .collect();
        assert_eq!(
            seen.len(),
            STAGES.len(),
            "{own} no longer imports from every stage: remove it from ALSO_SEE_EVERY_STAGE"
        );
    }
}

#[test]
fn use_trees_and_super_paths_resolve_to_crate_paths() {
    let text = "use crate::{deadline, generator::{self, source::GeneratorSource}};\n\
                // use crate::cli::Cli; (a comment)\n\
                use super::release;\n\
                let x = super::super::plugin::params::read();\n";
    let paths: Vec<String> =
        imports("src/generator/source.rs", text).into_iter().map(|i| i.path).collect();
    assert_eq!(
        paths,
        [
            "deadline",
            "generator",
            "generator::source::GeneratorSource",
            "generator::release",
            "plugin::params::read"
        ]
    );
    assert_eq!(
        imports("src/cli/mod.rs", "use super::pipeline;")[0].path,
        "pipeline",
        "super:: of a top-level module is the crate root"
    );
}

#[test]
fn the_scanner_catches_each_broken_rule() {
    let broken = violations(&sample(&[
        ("src/main.rs", "mod cli;\nuse crate::cli::Cli;"),
        ("src/plugin/mod.rs", "fn f() {\n    crate::cli::run();\n}"),
        (
            "src/plugin/render.rs",
            "use crate::generator::source;\nuse crate::manifests;\nuse crate::mirror::steps;\n\
             use crate::charts::chart;\nuse crate::components::helm;",
        ),
        (
            "src/pipeline.rs",
            "use crate::generator::source;\nuse crate::manifests;\nuse crate::mirror::steps;\n\
             use crate::charts::chart;\nuse crate::components::helm;",
        ),
    ]));
    assert_eq!(
        broken,
        [
            "src/plugin/mod.rs:2: crate::cli::run: nothing but main.rs imports cli",
            "src/plugin: imports from every stage (generator, manifests, mirror, charts, \
             components); only main, cli, pipeline do",
        ]
    );
}

/// What a workspace crate's `Cargo.toml` and sources say that only the
/// binary's code may say: a dependency on the root package (by its name or
/// its path), `deploykf_cmp::` paths, or `crate::` paths of the binary's
/// top-level modules that the crate does not have itself.
fn crate_violations(name: &str, manifest: &str, sources: &[(String, String)]) -> Vec<String> {
    let binary_modules: BTreeSet<String> = tree().iter().map(|(f, _)| owner(f)).filter(|m| m != "main").collect();
    let root_path = Regex::new(r#"path\s*=\s*"\.\./\.\.?/?""#).unwrap();
    let mut found = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with("deploykf-cmp") || root_path.is_match(line) {
            found.push(format!("crates/{name}/Cargo.toml: {line}: a crate does not depend on the binary"));
        }
    }
    let own: BTreeSet<String> = sources.iter().map(|(f, _)| owner(f)).collect();
    for (file, text) in sources {
        for (n, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with("//") && line.contains("deploykf_cmp") {
                found.push(format!("crates/{name}/{file}:{}: names deploykf_cmp", n + 1));
            }
        }
        for import in imports(file, text) {
            let top = import.top().to_string();
            if binary_modules.contains(&top) && !own.contains(&top) {
                found.push(format!(
                    "crates/{name}/{file}:{}: crate::{}: a crate imports nothing of the binary",
                    import.line, import.path
                ));
            }
        }
    }
    found
}

#[test]
fn workspace_crates_import_nothing_of_the_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = Vec::new();
    let mut broken = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let sources: Vec<(String, String)> = walkdir::WalkDir::new(dir.join("src"))
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
            .map(|e| {
                let rel = e.path().strip_prefix(&dir).unwrap().to_string_lossy().into_owned();
                (rel, std::fs::read_to_string(e.path()).unwrap())
            })
            .collect();
        broken.extend(crate_violations(&name, &manifest, &sources));
        checked.push(name);
    }
    assert!(checked.iter().any(|c| c == "registry"), "crates/registry not found: {checked:?}");
    assert!(broken.is_empty(), "workspace crates reach into the binary:\n{}", broken.join("\n"));
}

#[test]
fn the_crate_check_catches_a_dependency_on_the_binary_and_its_paths() {
    let manifest = "[dependencies]\ndeploykf-cmp = { path = \"../..\" }\nimage-ref = { path = \"../image-ref\" }\n";
    let sources = sample(&[
        ("src/lib.rs", "pub mod client;\nuse crate::client::RegistryClient;"),
        ("src/client.rs", "use crate::deadline;\nuse deploykf_cmp::settings;"),
    ]);
    assert_eq!(
        crate_violations("registry", manifest, &sources),
        [
            "crates/registry/Cargo.toml: deploykf-cmp = { path = \"../..\" }: a crate does not depend on the binary",
            "crates/registry/src/client.rs:2: names deploykf_cmp",
            "crates/registry/src/client.rs:1: crate::deadline: a crate imports nothing of the binary",
        ]
    );
}
