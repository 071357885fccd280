//! One case of the engine against Go: two values layers and a template,
//! rendered here the way `deploykf-cmp generate` does, or by the Go program in
//! `tests/go` (Go's own `text/template`, `fmt` and yaml.v3, set up like
//! gomplate 3.11 in the deployKF CLI). Used by the differential test and by
//! the case files' regeneration.

// Each test binary including this support module uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use gomplate::{Engine, MissingKey, NoHost, Value};

/// A template with its values: `defaults` with `overrides` merged over it.
#[derive(Clone, Debug, Default)]
pub struct Case {
    pub defaults: String,
    pub overrides: String,
    pub template: String,
}

/// What one side made of a case: the output, or the failure's message.
pub type Outcome = Result<Vec<u8>, String>;

/// True when both sides agree: equal outputs, or both failed.
pub fn agree(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// An outcome for a failure report.
pub fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(out) => format!("{:?}", String::from_utf8_lossy(out)),
        Err(e) => format!("error: {e}"),
    }
}

/// Renders a case with this engine as `deploykf-cmp generate` does: values
/// decoded, merged (the override wins), sent through YAML once more, and
/// `{"Values": ...}` as dot, with `{{<` `>}}` and `missingkey=error`.
pub fn render_here(case: &Case) -> Outcome {
    let layer = |text: &str| match gomplate::yaml::decode(text).map_err(|e| e.to_string())? {
        Value::Map(m) => Ok((*m).clone()),
        Value::Nil | Value::Missing => Ok(Default::default()),
        other => Err(format!("the top level is a {}, not a map", other.type_name())),
    };
    let merged = gomplate::funcs::coll::merge_values(&layer(&case.defaults)?, &layer(&case.overrides)?);
    let Ok(merged) = gomplate::yaml::encode(&Value::map(merged));
    let values = layer(&merged)?;
    let mut engine = Engine::new("{{<", ">}}");
    engine.set_missing_key(MissingKey::Error);
    engine.add_template("t", &case.template).map_err(|e| e.to_string())?;
    let dot = Value::map([("Values".to_string(), Value::map(values))].into_iter().collect());
    engine.render("t", &dot, &mut NoHost).map(String::into_bytes).map_err(|e| e.to_string())
}

/// Builds the Go program into the target folder, in a folder of its own for
/// each `user` (tests run in parallel; Go's build cache makes a rebuild
/// quick), or prints why not and returns `None` when `go` is missing. Under
/// `CI=true` a missing `go` fails instead.
pub fn build_go(user: &str) -> Option<PathBuf> {
    if Command::new("go").arg("version").output().is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "go is not installed (CI=true): run scripts/install-test-tools");
        println!("skipping: go is not installed (scripts/install-test-tools installs it)");
        return None;
    }
    let gopath = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gomplate-go-render").join(user).join("render");
    let status = Command::new("go")
        .args(["build", "-o"])
        .arg(&out)
        .arg("render")
        .env("GO111MODULE", "off")
        .env("GOPATH", std::env::join_paths([gopath, PathBuf::from("/usr/share/gocode")]).unwrap())
        .env("GOFLAGS", "")
        .status()
        .expect("go build");
    assert!(status.success(), "go build of tests/go/src/render failed (is golang-gopkg-yaml.v3-dev installed?)");
    Some(out)
}

/// Runs every case through the Go program `render` in one process.
pub fn render_go(render: &Path, cases: &[Case]) -> Vec<Outcome> {
    let mut child = Command::new(render)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", render.display()));
    let mut stdin = child.stdin.take().unwrap();
    let mut input = Vec::new();
    for case in cases {
        writeln!(input, "{} {} {}", case.defaults.len(), case.overrides.len(), case.template.len()).unwrap();
        input.extend_from_slice(case.defaults.as_bytes());
        input.extend_from_slice(case.overrides.as_bytes());
        input.extend_from_slice(case.template.as_bytes());
    }
    // Written from another thread so that a full stdout pipe cannot block both sides.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut outcomes = Vec::with_capacity(cases.len());
    for _ in cases {
        let mut header = String::new();
        stdout.read_line(&mut header).unwrap();
        let (kind, len) = header.trim_end().split_once(' ').unwrap_or_else(|| panic!("Go program: bad reply {header:?}"));
        let mut body = vec![0; len.parse().unwrap()];
        stdout.read_exact(&mut body).unwrap();
        outcomes.push(if kind == "ok" { Ok(body) } else { Err(String::from_utf8_lossy(&body).into_owned()) });
    }
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "the Go program failed");
    outcomes
}
