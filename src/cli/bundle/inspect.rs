//! `deploykf-cmp bundle inspect FILE`: what a bundle holds, as text or JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::bundle::inspect;

pub(super) const INSPECT_HELP: &str = "\
Show what a bundle holds, from its index and bundle manifest: the tool and values sets it was
made from, each image (name, digest, platforms, bytes stored, or \"in the base\" when a delta
leaves its manifest to its base), chart and generator, the totals, and for a delta the bundle
it was made against. Nothing is re-hashed (`bundle verify` does).

FILE is the bundle, or its first part FILE.part000 (parts are read as one file).

Examples:
  deploykf-cmp bundle inspect deploykf-0.1.5.tar
  deploykf-cmp bundle inspect deploykf-0.1.5.tar --output json | jq '.images[].name'";

/// `--output` of `bundle inspect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// `deploykf-cmp bundle inspect` flags.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle file (or FILE.part000)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The report's form
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

impl InspectArgs {
    pub fn run(self) -> Result<()> {
        let report = inspect::inspect(&self.file)?;
        let text = match self.output {
            Output::Text => report.text(),
            Output::Json => serde_json::to_string_pretty(&report)? + "\n",
        };
        super::super::write_stdout(&text)
    }
}
