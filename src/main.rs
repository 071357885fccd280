//! `deploykf-cmp`: Argo CD Config Management Plugin and air-gap toolkit for
//! deployKF. [`cli`] parses a command and reads the environment once
//! ([`settings`]); every render goes through [`pipeline`]: the [`generator`]
//! stage (source → values) → the [`mirror`] overlay → the [`generator`]'s
//! render → the output's image rewrite and check over the rendered
//! [`manifests`] → the output folder and its marker. In plugin mode [`plugin`]
//! runs that render through [`cache`] and hands the output to [`components`]
//! (kustomize, helm, with chart dependencies from [`charts`]); [`inventory`]
//! builds every component to list images and charts; the `mirror` command
//! copies them through the `registry` crate, and `bundle create` packs them
//! into one file for an air gap ([`bundle`]). Temporary and staging
//! folders come from [`scratch`], which removes them on SIGTERM/SIGINT, and
//! folder trees are copied by [`folder`].

mod bundle;
mod cache;
mod charts;
mod cli;
mod components;
mod deadline;
mod folder;
mod generator;
mod inventory;
mod manifests;
mod mirror;
mod pipeline;
mod plugin;
mod scratch;
mod settings;
mod user_input;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 1 like cobra.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = cli.run();
    scratch::wait_if_stopping();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}
