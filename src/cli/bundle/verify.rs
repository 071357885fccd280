//! `deploykf-cmp bundle verify FILE`: a bundle's digests and references
//! checked offline; non-zero exit naming every problem.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::bundle::verify;

pub(super) const VERIFY_HELP: &str = "\
Check a bundle without a registry, e.g. after it crossed the air gap: every stored blob is
re-hashed against its digest, the whole file and each part against FILE.sha256 when it is
beside the file, every manifest reachable from index.json is walked and each blob it
references must be stored with its size or listed as external (a delta's base, platforms left
out), and the bundle manifest must agree with the file.

FILE is the bundle, or its first part FILE.part000 (parts are read as one file, never joined).
Exits 1 listing every problem found.

Example:
  deploykf-cmp bundle verify /media/usb/deploykf-0.1.5.tar";

/// `deploykf-cmp bundle verify` flags.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle file (or FILE.part000)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

impl VerifyArgs {
    pub fn run(self) -> Result<()> {
        let outcome = verify::verify(&self.file)?;
        let name = self.file.display();
        if !outcome.problems.is_empty() {
            bail!("{name}: {} problems found:\n  {}", outcome.problems.len(), outcome.problems.join("\n  "));
        }
        super::super::write_stdout(&format!("{}\n", outcome.summary(&name.to_string())))
    }
}
