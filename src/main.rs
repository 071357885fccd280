//! `deploykf-cmp`: Argo CD Config Management Plugin and air-gap toolkit for
//! deployKF. [`cli`] parses a command and reads the environment once
//! ([`settings`]); every render goes through [`pipeline`]: [`source`] (the
//! generator) → [`values`] → [`mirror`] overlay → [`generate`] (with
//! [`gomplateignore`]) → the output's image rewrite → [`output`] (the output
//! folder and its marker). In plugin mode [`plugin`] runs that render through
//! [`cache`] and hands the output to [`components`] (kustomize, helm);
//! [`inventory`] builds every component to list images and charts; the
//! `mirror` command copies them through [`registry`]. Temporary and staging
//! folders come from [`scratch`], which removes them on SIGTERM/SIGINT.

mod cache;
mod cli;
mod components;
mod deadline;
mod generate;
mod gomplateignore;
mod inventory;
mod mirror;
mod output;
mod pipeline;
mod plugin;
mod registry;
mod scratch;
mod settings;
mod source;
mod user_input;
mod values;

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
