//! The engine's cases as data: every `tests/cases/*.txt` holds values, a
//! template and the outcome Go's own `text/template`, `fmt` and yaml.v3 give
//! (rendered by `tests/go`, set up like gomplate 3.11), and this runner checks
//! the engine against it. A new case is a new file.
//!
//! A file is a comment (what the case shows), then sections, each starting
//! with a line `--- NAME`: `values`, optionally `overrides` (merged over the
//! values), `template`, and either `output` (the exact text) or `error` (Go's
//! message; the engine must fail too, its wording may differ). A section's
//! text ends before the line break that precedes the next `---` line (or the
//! end of the file): a text ending with a line break has an empty line there.
//!
//! `scripts/regenerate-engine-cases` rewrites every file's `output`/`error`
//! with Go's outcome (`REGENERATE_CASES=1`). Where `go` is installed, a normal
//! run also checks that each file still holds Go's outcome. A file whose
//! comment has a line `# not-go: REASON` records where gomplate's own YAML
//! fork differs from the stock yaml.v3 the Go program uses: its outcome is
//! written by hand and never compared with Go. A file with a line
//! `# differs: REASON` records Go's outcome for a difference listed in
//! COMPATIBILITY.md: the engine is not checked against it (it must still
//! differ, so that a fix updates the file and COMPATIBILITY.md).

use std::path::{Path, PathBuf};

mod support;
use support::reference::{self, show, Case, Outcome};

const SECTIONS: &[&str] = &["values", "overrides", "template", "output", "error"];

/// One case file: its comment, its case and the outcome it records.
struct CaseFile {
    path: PathBuf,
    comment: String,
    /// The outcome is gomplate's, not stock Go's (`# not-go:`).
    not_go: bool,
    /// A known difference: the engine's outcome differs (`# differs:`).
    differs: bool,
    case: Case,
    want: Outcome,
}

fn parse(path: &Path) -> CaseFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut comment = String::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let name = line.trim_end_matches('\n').strip_prefix("--- ");
        match name {
            Some(name) if SECTIONS.contains(&name) => {
                assert!(
                    sections.iter().all(|(s, _)| s != name),
                    "{}:{}: a second `--- {name}` section",
                    path.display(),
                    n + 1
                );
                sections.push((name.to_string(), String::new()));
            }
            _ => match sections.last_mut() {
                Some((_, body)) => body.push_str(line),
                None => comment.push_str(line),
            },
        }
    }
    let mut section = |name: &str| {
        let i = sections.iter().position(|(s, _)| s == name)?;
        let mut body = sections.remove(i).1;
        if body.ends_with('\n') {
            body.pop();
        }
        Some(body)
    };
    let case = Case {
        defaults: section("values").unwrap_or_default(),
        overrides: section("overrides").unwrap_or_default(),
        template: section("template").unwrap_or_else(|| panic!("{}: no `--- template` section", path.display())),
    };
    let want = match (section("output"), section("error")) {
        (Some(out), None) => Ok(out.into_bytes()),
        (None, Some(err)) => Err(err),
        _ => panic!("{}: needs exactly one of `--- output` and `--- error`", path.display()),
    };
    let not_go = comment.lines().any(|l| l.starts_with("# not-go:"));
    let differs = comment.lines().any(|l| l.starts_with("# differs:"));
    CaseFile { path: path.to_path_buf(), comment, not_go, differs, case, want }
}

/// The file's text with `outcome` as its recorded outcome.
fn unparse(file: &CaseFile, outcome: &Outcome) -> String {
    let mut out = file.comment.clone();
    let mut section = |name: &str, body: &str| {
        out += &format!("--- {name}\n{body}\n");
    };
    section("values", &file.case.defaults);
    if !file.case.overrides.is_empty() {
        section("overrides", &file.case.overrides);
    }
    section("template", &file.case.template);
    match outcome {
        Ok(text) => section("output", std::str::from_utf8(text).expect("Go's output is not UTF-8")),
        Err(message) => section("error", message),
    }
    out
}

fn case_files() -> Vec<CaseFile> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no case files in {}", dir.display());
    paths.iter().map(|p| parse(p)).collect()
}

#[test]
fn engine_cases() {
    let files = case_files();
    let regenerate = std::env::var_os("REGENERATE_CASES").is_some();
    let go = reference::build_go("cases").map(|go| reference::render_go(&go, &files.iter().map(|f| f.case.clone()).collect::<Vec<_>>()));
    assert!(go.is_some() || !regenerate, "regenerating the cases needs go");
    let mut failures = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let name = file.path.file_name().unwrap().to_string_lossy();
        if let Some(go) = go.as_ref().filter(|_| !file.not_go) {
            if regenerate {
                std::fs::write(&file.path, unparse(file, &go[i])).unwrap();
                println!("regenerated {name}");
                continue;
            }
            if file.want != go[i] {
                failures.push(format!("{name}: the file records {}, Go gives {} (scripts/regenerate-engine-cases)", show(&file.want), show(&go[i])));
            }
        }
        let got = reference::render_here(&file.case);
        if file.differs {
            if reference::agree(&got, &file.want) {
                failures.push(format!("{name}: marked `# differs:` but the engine now agrees: remove the mark and the entry in COMPATIBILITY.md"));
            }
        } else if !reference::agree(&got, &file.want) {
            failures.push(format!("{name}: want {}\n  got {}", show(&file.want), show(&got)));
        }
    }
    println!("{} case files", files.len());
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}
