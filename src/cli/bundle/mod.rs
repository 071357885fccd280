//! `deploykf-cmp bundle …`: offline bundles, one file per subcommand
//! (`create` in [`create`], `push` in [`push`], `inspect` in [`inspect`],
//! `verify` in [`verify`]).

mod create;
mod inspect;
mod push;
mod verify;

use anyhow::Result;
use clap::Subcommand;

use crate::settings::{self, Cmd, Settings};
use create::{CreateArgs, CREATE_HELP};
use inspect::{InspectArgs, INSPECT_HELP};
use push::{PushArgs, PUSH_HELP};
use verify::{VerifyArgs, VERIFY_HELP};

/// The `bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write images, charts and generators into one reproducible file for an air gap
    #[command(long_about = CREATE_HELP, after_long_help = settings::help(Cmd::BundleCreate))]
    Create(CreateArgs),
    /// Push a bundle's images and charts into the private registry (offline side)
    #[command(long_about = PUSH_HELP, after_long_help = settings::help(Cmd::BundlePush))]
    Push(PushArgs),
    /// Show what a bundle holds: versions, images, charts, generators, sizes
    #[command(long_about = INSPECT_HELP)]
    Inspect(InspectArgs),
    /// Re-check every digest of a bundle and that everything it references is there
    #[command(long_about = VERIFY_HELP)]
    Verify(VerifyArgs),
}

impl BundleCommand {
    pub fn run(self, settings: &Settings) -> Result<()> {
        match self {
            BundleCommand::Create(args) => args.run(settings),
            BundleCommand::Push(args) => args.run(settings),
            BundleCommand::Inspect(args) => args.run(),
            BundleCommand::Verify(args) => args.run(),
        }
    }
}
