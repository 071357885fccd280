//! `deploykf-cmp plugin init|generate`: the commands of the Argo CD Config
//! Management Plugin (run by argocd-cmp-server), → [`crate::plugin`].

use anyhow::Result;
use clap::Subcommand;

use crate::plugin;
use crate::settings::Settings;

pub(super) const PLUGIN_HELP: &str = "\
The commands of the Argo CD Config Management Plugin 'deploykf' (see plugin.yaml).
Argo CD's cmp-server runs 'init' then 'generate' in a copy of the application's
repository path, with the application's parameters in ARGOCD_APP_PARAMETERS.

Parameters (as the upstream deployKF plugin):
  source_version            a deployKF release, e.g. 0.1.5 (exactly one of these two)
  source_path               a generator .zip or folder in the repository
  values_files              values files in the repository (array, later ones win)
  values                    values as a YAML string (over values_files)
  output_kustomize_path     the output folder to 'kustomize build' (default ./argocd/)
  output_helm_path          the output chart to 'helm template' (at most one of the two)
  output_helm_values_files  values files of that chart (array, missing ones skipped)

When the deadline passes, the command fails naming the host and what it was fetching.
'generate' prints the manifests on stdout and nothing else; on any failure it
prints nothing there and exits non-zero.";


/// `deploykf-cmp plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Render the generator (cached) and prepare the requested output folder
    Init,
    /// Print the manifests of the requested output folder on stdout
    Generate,
}

impl PluginCommand {
    /// Runs the plugin command with the process environment `settings`.
    pub fn run(self, settings: Settings) -> Result<()> {
        match self {
            PluginCommand::Init => plugin::init(settings),
            PluginCommand::Generate => plugin::generate(settings),
        }
    }
}
