//! `deploykf-cmp generate`: the flags of the Go `deploykf generate`
//! (`--source-version/-V`, `--source-path`, `--values/-f` repeatable or
//! comma-separated, `--output-dir/-O`) plus `--mirror`, → [`pipeline::generate`].

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::{ArgGroup, Args};

use super::source::SourceArgs;
use crate::mirror::steps::MirrorSettings;
use crate::pipeline::{self, Inputs, Mirroring};
use crate::settings::Settings;

pub(super) const GENERATE_HELP: &str = "\
Generate an output folder of Kubernetes manifests from a deployKF generator and values files.

Give exactly one generator source:
  --source-version  a deployKF release: its 'deploykf-<version>-generator.zip' from
                    '~/.deploykf/assets', downloaded from GitHub when not cached (or from
                    DEPLOYKF_CMP_RELEASES_URL/v<version>/, a mirror of the release downloads)
  --source-path     a local generator folder or '.zip' file

Give any number of --values files; they are merged over the generator's
'default_values.yaml' (maps merge, lists and scalars replace, later files win).

The --output-dir is created when missing. A non-empty --output-dir is replaced only
when it holds the '.deploykf_output' marker of an earlier run; otherwise it is left
untouched and the command fails. It is only replaced when the whole render succeeds.

The '.deploykf_output' marker records: generated_at, source_version (with
--source-version), source_path, source_hash (sha256 of the zip or folder) and cli_version.

Private mirrors: the mirror configuration comes from --mirror FILE, else a top-level
'mirror:' key in the merged values (removed before rendering), else the file named by
DEPLOYKF_CMP_MIRROR_CONFIG. With one, every image and chart location of the values is
redirected before rendering, the image references of the rendered YAML files are
rewritten by the same rules (pod specs, CRD containers, image env values and flags, and
ConfigMap data such as Katib's and Istio's injector's, where only the reference's text
changes; Istio's 'image: auto' stays), and any image left outside the mirror fails the
run (listing each image with its resource, field and ConfigMap key) unless
DEPLOYKF_CMP_MIRROR_ENFORCE=false.

Examples:
  deploykf-cmp generate --source-version 0.1.5 --values ./values.yaml --output-dir ./GENERATOR_OUTPUT
  deploykf-cmp generate --source-path ./deploykf-0.1.5-generator.zip -f ./values.yaml -O ./out
  deploykf-cmp generate --source-path ./generator -f base.yaml,overrides.yaml -O ./out";


/// `deploykf-cmp generate` flags (those of `deploykf generate`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["source_version", "source_path"])))]
pub struct GenerateArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// The output directory in which to generate the manifests
    #[arg(short = 'O', long, value_name = "DIR")]
    pub output_dir: PathBuf,
}

impl GenerateArgs {
    /// Generates the output folder.
    pub fn run(self, settings: &Settings) -> Result<()> {
        let source = self.source.require(settings)?;
        let mirror = MirrorSettings::new(self.source.mirror.as_deref(), settings)?;
        let layers = self.source.layers()?;
        let inputs = Inputs { source: &source, layers: &layers, mirror: &mirror, env: Arc::new(settings.vars().clone()) };
        pipeline::generate(&inputs, &self.output_dir, Mirroring::Everything)?;
        eprintln!("Generated manifests at: {}", self.output_dir.display());
        Ok(())
    }
}
