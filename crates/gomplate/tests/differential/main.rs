//! The differential test: random templates and values (`generate.rs`)
//! rendered by this engine and by Go's own `text/template`, `fmt` and yaml.v3
//! (`../go/src/render`, set up like gomplate 3.11 in the deployKF CLI), compared
//! output for output and failure against failure.
//!
//! Needs `go` and Debian's yaml.v3 (`scripts/install-test-tools`); without
//! `go` it skips with a message, except under `CI=true`, where it fails.
//! `DIFFERENTIAL_SEEDS=N` runs N seeds instead of the fixed set.

mod generate;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use generate::{Case, Gen, Known};
use gomplate::{Engine, MissingKey, NoHost, Value};

/// Seeds run on every test run: enough cases to cover the generator's
/// choices, few enough to finish in seconds.
const SEEDS: u64 = 3000;

/// The outcome of one case on one side: the output, or a failure.
type Outcome = Result<Vec<u8>, String>;

#[test]
fn engine_agrees_with_go_on_random_templates() {
    let Some(render) = build_reference() else { return };
    let seeds = std::env::var("DIFFERENTIAL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SEEDS);
    let known = Known::default();
    let cases: Vec<Case> = (0..seeds).map(|seed| Gen::new(seed, known).case()).collect();
    let go = run_reference(&render, &cases);
    let mut disagreements = Vec::new();
    let mut rendered = 0;
    for (seed, (case, want)) in cases.iter().zip(&go).enumerate() {
        let got = render_here(case);
        let agree = match (&got, want) {
            (Ok(a), Ok(b)) => {
                rendered += 1;
                a == b
            }
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !agree {
            disagreements.push(format!(
                "seed {seed}\n--- defaults\n{}--- overrides\n{}--- template\n{}\n--- Go\n{}\n--- here\n{}\n",
                case.defaults,
                case.overrides,
                case.template,
                show(want),
                show(&got)
            ));
        }
    }
    println!(
        "{} cases compared, {} agree ({rendered} rendered on both sides, the rest failed on both)",
        cases.len(),
        cases.len() - disagreements.len()
    );
    if std::env::var_os("DIFFERENTIAL_SHOW").is_some() {
        for (case, want) in cases.iter().zip(&go).take(8) {
            println!("--- defaults\n{}--- overrides\n{}--- template\n{}\n--- Go\n{}\n", case.defaults, case.overrides, case.template, show(want));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree with Go; the first ones:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Ok(out) => format!("{:?}", String::from_utf8_lossy(out)),
        Err(e) => format!("error: {e}"),
    }
}

/// Renders a case with this engine the way `deploykf-cmp generate` does:
/// values decoded, merged (override wins), and sent through YAML once more.
fn render_here(case: &Case) -> Outcome {
    let layer = |text: &str| match gomplate::yaml::decode(text).map_err(|e| e.to_string())? {
        Value::Map(m) => Ok((*m).clone()),
        Value::Nil | Value::Missing => Ok(Default::default()),
        other => Err(format!("the top level is a {}, not a map", other.type_name())),
    };
    let merged = gomplate::funcs::coll::merge_values(&layer(&case.defaults)?, &layer(&case.overrides)?);
    let values = layer(&gomplate::yaml::encode(&Value::map(merged))?)?;
    let mut engine = Engine::new("{{<", ">}}");
    engine.set_missing_key(MissingKey::Error);
    engine.add_template("t", &case.template).map_err(|e| e.to_string())?;
    let dot = Value::map([("Values".to_string(), Value::map(values))].into_iter().collect());
    engine.render("t", &dot, &mut NoHost).map(String::into_bytes).map_err(|e| e.to_string())
}

/// Builds the Go program into the target folder (Go's build cache makes
/// repeated builds quick), or says why not.
fn build_reference() -> Option<PathBuf> {
    if Command::new("go").arg("version").output().is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(!ci, "go is not installed (CI=true): run scripts/install-test-tools");
        println!("skipping: go is not installed (scripts/install-test-tools installs it)");
        return None;
    }
    let gopath = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gomplate-differential/render");
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

/// Runs every case through the Go program in one process.
fn run_reference(render: &Path, cases: &[Case]) -> Vec<Outcome> {
    let mut child = Command::new(render).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("run the Go program");
    let mut stdin = child.stdin.take().unwrap();
    let mut input = Vec::new();
    for case in cases {
        write!(input, "{} {} {}\n", case.defaults.len(), case.overrides.len(), case.template.len()).unwrap();
        input.extend_from_slice(case.defaults.as_bytes());
        input.extend_from_slice(case.overrides.as_bytes());
        input.extend_from_slice(case.template.as_bytes());
    }
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut outcomes = Vec::new();
    for _ in cases {
        let mut header = String::new();
        stdout.read_line(&mut header).unwrap();
        let (kind, len) = header.trim_end().split_once(' ').unwrap_or_else(|| panic!("bad reply {header:?}"));
        let mut body = vec![0; len.parse().unwrap()];
        stdout.read_exact(&mut body).unwrap();
        outcomes.push(if kind == "ok" { Ok(body) } else { Err(String::from_utf8_lossy(&body).into_owned()) });
    }
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "the Go program failed");
    outcomes
}
