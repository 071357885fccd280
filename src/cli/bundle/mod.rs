//! `deploykf-cmp bundle …`: offline bundles, one file per subcommand
//! (`create` in [`create`]).

mod create;

use anyhow::Result;
use clap::Subcommand;

use crate::settings::{self, Cmd, Settings};
use create::{CreateArgs, CREATE_HELP};

/// The `bundle` subcommands.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Write images, charts and generators into one reproducible file for an air gap
    #[command(long_about = CREATE_HELP, after_long_help = settings::help(Cmd::Mirror))]
    Create(CreateArgs),
}

impl BundleCommand {
    pub fn run(self, settings: &Settings) -> Result<()> {
        match self {
            BundleCommand::Create(args) => args.run(settings),
        }
    }
}
