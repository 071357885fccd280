//! The command line, one file per command, each turning its flags into one
//! call: `generate` ([`generate`]), `plugin init|generate` ([`plugin`]),
//! `pull-secret` ([`pull_secret`]), `images` and `charts` ([`inventory`]),
//! `mirror` ([`mirror`]), `verify` ([`verify`]) and `bundle
//! create|push|inspect|verify` ([`bundle`]); the source selection they share is
//! one flattened group ([`source`]). The environment is read once here
//! ([`Settings`]) and handed to the command; each command's `--help` ends with
//! the variables it reads.

mod bundle;
mod generate;
mod inventory;
mod mirror;
mod plugin;
mod pull_secret;
mod source;
mod verify;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::settings::{self, Cmd, Settings};
use bundle::BundleCommand;
use generate::{GenerateArgs, GENERATE_HELP};
use inventory::{InventoryArgs, CHARTS_HELP, IMAGES_HELP};
use mirror::{MirrorArgs, MIRROR_HELP};
use plugin::{PluginCommand, PLUGIN_HELP};
use pull_secret::{PullSecretArgs, PULL_SECRET_HELP};
use verify::{VerifyArgs, VERIFY_HELP};

/// deployKF's generator, Argo CD plugin and air-gap toolkit in one binary.
#[derive(Debug, Parser)]
#[command(name = "deploykf-cmp", version, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate Kubernetes manifests from deployKF templates and config values
    #[command(long_about = GENERATE_HELP, after_long_help = settings::help(Cmd::Generate))]
    Generate(GenerateArgs),
    /// The Argo CD plugin's commands (run by argocd-cmp-server)
    #[command(long_about = PLUGIN_HELP, after_long_help = settings::help(Cmd::Plugin), subcommand)]
    Plugin(PluginCommand),
    /// Print the image pull Secret for the mirror registry, or deployKF's values using it
    #[command(long_about = PULL_SECRET_HELP, after_long_help = settings::help(Cmd::PullSecret))]
    PullSecret(PullSecretArgs),
    /// List every container image a values set deploys (rendered, runtime-only included)
    #[command(long_about = IMAGES_HELP, after_long_help = settings::help(Cmd::Inventory))]
    Images(InventoryArgs),
    /// List every Helm chart dependency a values set deploys
    #[command(long_about = CHARTS_HELP, after_long_help = settings::help(Cmd::Inventory))]
    Charts(InventoryArgs),
    /// Copy images into a private registry (byte-exact, streaming, resumable)
    #[command(long_about = MIRROR_HELP, after_long_help = settings::help(Cmd::Mirror))]
    Mirror(MirrorArgs),
    /// Check that the mirror holds every image and chart a render uses
    #[command(long_about = VERIFY_HELP, after_long_help = settings::help(Cmd::Verify))]
    Verify(VerifyArgs),
    /// Offline bundles: one file carrying images, charts and generators across an air gap
    #[command(subcommand)]
    Bundle(BundleCommand),
}

impl Cli {
    /// Runs the chosen subcommand with the process environment.
    pub fn run(self) -> Result<()> {
        let settings = Settings::from_process();
        match self.command {
            Command::Generate(args) => args.run(&settings),
            Command::Plugin(command) => command.run(settings),
            Command::PullSecret(args) => args.run(&settings),
            Command::Images(args) => args.run(false, &settings),
            Command::Charts(args) => args.run(true, &settings),
            Command::Mirror(args) => args.run(&settings),
            Command::Verify(args) => args.run(&settings),
            Command::Bundle(command) => command.run(&settings),
        }
    }
}

/// Writes a command's result to stdout (an error, not a panic, when it is closed).
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("writing to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::PathBuf;

    fn parse(args: &[&str]) -> Result<GenerateArgs, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("deploykf-cmp").chain(args.iter().copied()))?;
        let Command::Generate(args) = cli.command else {
            panic!("not generate");
        };
        Ok(args)
    }

    #[test]
    fn the_command_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn each_command_help_ends_with_the_variables_it_reads() {
        let mut cli = Cli::command();
        for (name, cmd) in [
            ("generate", Cmd::Generate),
            ("plugin", Cmd::Plugin),
            ("pull-secret", Cmd::PullSecret),
            ("images", Cmd::Inventory),
            ("charts", Cmd::Inventory),
            ("mirror", Cmd::Mirror),
            ("verify", Cmd::Verify),
            ("bundle create", Cmd::BundleCreate),
            ("bundle push", Cmd::BundlePush),
        ] {
            let mut command = &mut cli;
            for word in name.split(' ') {
                command = command.find_subcommand_mut(word).unwrap();
            }
            let help = command.render_long_help().to_string();
            assert!(help.trim_end().ends_with(&settings::help(cmd)), "{name}:\n{help}");
        }
    }

    #[test]
    fn parses_the_go_cli_flags() {
        let a = parse(&[
            "generate",
            "-V",
            "0.1.5",
            "-f",
            "a.yaml,b.yaml",
            "--values",
            "c.yaml",
            "-O",
            "out",
        ])
        .unwrap();
        assert_eq!(a.source.source_version.as_deref(), Some("0.1.5"));
        assert_eq!(
            a.source.values,
            vec![
                PathBuf::from("a.yaml"),
                PathBuf::from("b.yaml"),
                PathBuf::from("c.yaml")
            ]
        );
        assert_eq!(a.output_dir, PathBuf::from("out"));
        let a = parse(&["generate", "--source-path", "g.zip", "--output-dir", "o"]).unwrap();
        assert_eq!(a.source.source_path, Some(PathBuf::from("g.zip")));
        assert!(a.source.values.is_empty());
    }

    #[test]
    fn sources_are_exclusive_and_one_is_required() {
        assert!(parse(&[
            "generate",
            "-V",
            "0.1.5",
            "--source-path",
            "g.zip",
            "-O",
            "o"
        ])
        .is_err());
        assert!(parse(&["generate", "-O", "o"]).is_err());
        assert!(
            parse(&["generate", "--source-path", "g.zip"]).is_err(),
            "--output-dir is required"
        );
    }

    #[test]
    fn parses_the_inventory_commands() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("deploykf-cmp").chain(args.iter().copied()));
        let Command::Images(a) = parse(&["images", "-V", "0.1.5", "-f", "a.yaml,b.yaml", "--mirror", "m.yaml", "-o", "list"])
            .unwrap()
            .command
        else {
            panic!("not images");
        };
        assert_eq!(a.source.values, [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]);
        assert_eq!(a.source.mirror, Some(PathBuf::from("m.yaml")));
        assert_eq!(a.output, crate::inventory::Format::List);
        let Command::Charts(a) = parse(&["charts", "--source-path", "g.zip"]).unwrap().command else {
            panic!("not charts");
        };
        assert_eq!(a.output, crate::inventory::Format::Text);
        assert!(parse(&["images", "-f", "v.yaml"]).is_err(), "a source is required");
        assert!(parse(&["charts", "-V", "0.1.5", "--source-path", "g.zip"]).is_err());
        assert!(parse(&["images", "-V", "0.1.5", "--output", "yaml"]).is_err());
    }

    #[test]
    fn parses_the_plugin_commands() {
        let parse = |args: &[&str]| Cli::try_parse_from(std::iter::once("deploykf-cmp").chain(args.iter().copied()));
        assert!(matches!(parse(&["plugin", "init"]).unwrap().command, Command::Plugin(PluginCommand::Init)));
        assert!(matches!(parse(&["plugin", "generate"]).unwrap().command, Command::Plugin(PluginCommand::Generate)));
        assert!(parse(&["plugin"]).is_err());
        assert!(parse(&["plugin", "init", "--output-dir", "x"]).is_err());
    }
}
