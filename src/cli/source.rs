//! The source selection shared by `generate`, `images`, `charts` and `mirror`:
//! `--source-version`/`--source-path`, `--values` and `--mirror`, flattened
//! into each command's flags, and the generator and values layers they name.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::generator::source::GeneratorSource;
use crate::generator::values::Layer;
use crate::settings::Settings;

/// The generator, the values files and the mirror configuration file.
/// Each command states with its own groups which of these it requires.
#[derive(Debug, Args)]
#[group(skip)]
pub struct SourceArgs {
    /// A version tag from the 'deployKF/deployKF' GitHub repository (e.g. 0.1.5)
    #[arg(short = 'V', long, value_name = "VERSION")]
    pub source_version: Option<String>,

    /// A local path to a directory or '.zip' file containing a generator source
    #[arg(long, value_name = "PATH")]
    pub source_path: Option<PathBuf>,

    /// A YAML file containing configuration values (repeatable, or comma-separated)
    #[arg(short = 'f', long = "values", value_name = "FILE", value_delimiter = ',')]
    pub values: Vec<PathBuf>,

    /// A YAML file with a top-level `mirror:` section: the private mirrors' rules
    /// (over a `mirror:` key in the values and the file named by DEPLOYKF_CMP_MIRROR_CONFIG)
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,
}

impl SourceArgs {
    /// The generator named (an empty flag counts as absent, as in the Go
    /// CLI); `None` when neither flag is given. A release is looked up in
    /// `~/.deploykf/assets` and downloaded when missing.
    pub fn open(&self, settings: &Settings) -> Result<Option<GeneratorSource>> {
        let version = self.source_version.as_deref().filter(|v| !v.is_empty());
        let path = self.source_path.as_deref().filter(|p| !p.as_os_str().is_empty());
        match (version, path) {
            (Some(_), Some(_)) => bail!("only one of `--source-version` or `--source-path` may be provided"),
            (Some(version), None) => {
                GeneratorSource::from_version(version, &settings.assets_dir()?, settings.releases_url().as_deref()).map(Some)
            }
            (None, Some(path)) => GeneratorSource::from_path(path).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// [`SourceArgs::open`], requiring a source.
    pub fn require(&self, settings: &Settings) -> Result<GeneratorSource> {
        match self.open(settings)? {
            Some(source) => Ok(source),
            None => bail!("at least one of `--source-version` or `--source-path` must be provided"),
        }
    }

    /// The `--values` files, read.
    pub fn layers(&self) -> Result<Vec<Layer>> {
        Layer::read_all(&self.values)
    }
}
