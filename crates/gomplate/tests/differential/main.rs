//! The differential test: random templates and values (`generate.rs`)
//! rendered by this engine and by Go's own `text/template`, `fmt` and yaml.v3
//! (`support/reference.rs`), compared output for output and failure against
//! failure.
//!
//! Needs `go` and Debian's yaml.v3 (`scripts/install-test-tools`); without
//! `go` it skips with a message, except under `CI=true`, where it fails.
//! `DIFFERENTIAL_SEEDS=N` runs seeds `0..N` instead of the fixed set.

mod generate;
#[path = "../support/mod.rs"]
mod support;

use generate::Gen;
use support::reference::{self, agree, show, Case};

/// Seeds run on every test run: enough cases to cover the generator's
/// choices, few enough to finish in seconds.
const SEEDS: u64 = 3000;

#[test]
fn engine_agrees_with_go_on_random_templates() {
    let Some(go) = reference::build_go("differential") else { return };
    let seeds = std::env::var("DIFFERENTIAL_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(SEEDS);
    let cases: Vec<Case> = (0..seeds).map(|seed| Gen::new(seed).case()).collect();
    let want = reference::render_go(&go, &cases);
    let mut disagreements = Vec::new();
    let mut rendered = 0;
    for (seed, (case, want)) in cases.iter().zip(&want).enumerate() {
        let got = reference::render_here(case);
        rendered += usize::from(got.is_ok() && want.is_ok());
        if !agree(&got, want) {
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
    assert!(
        disagreements.is_empty(),
        "{} of {} cases disagree with Go; the first ones:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}
