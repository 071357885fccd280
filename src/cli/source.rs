//! The flag groups commands share, flattened into each command's flags: the
//! source selection of `generate`, `images`, `charts`, `mirror` and `verify`
//! (`--source-version`/`--source-path`, `--values` and `--mirror`: the
//! generator and values layers they name); the copy inputs of `mirror` and
//! `verify` (`--images-file`, `--charts-file` or an inventory: the lists they
//! give); the registry access of `mirror`, `verify` and `bundle`
//! (`--authfile`, `--insecure-registry`: the one client they make).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use registry::RegistryClient;

use crate::generator::source::GeneratorSource;
use crate::generator::values::Layer;
use crate::inventory;
use crate::mirror::config::MirrorRules;
use crate::settings::Settings;
use crate::user_input;

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

/// What to copy or check: an `--images-file` and a `--charts-file`, or the
/// inventory of a values set with the mirror rules placing it. Each command
/// states with its own groups which of these it requires.
#[derive(Debug, Args)]
#[group(skip)]
pub struct CopyInputArgs {
    /// A file of image references, one per line (`SOURCE` or `SOURCE=TARGET`)
    #[arg(long, value_name = "FILE", conflicts_with = "values")]
    pub images_file: Option<PathBuf>,

    /// A file of https:// repository charts, one per line (`REPOSITORY NAME VERSION [oci://TARGET]`)
    #[arg(long, value_name = "FILE")]
    pub charts_file: Option<PathBuf>,

    // The inventory instead of --images-file: its generator, values and the
    // mirror rules giving the targets.
    #[command(flatten)]
    pub source: SourceArgs,

    /// With an inventory input: show the warnings kustomize, kubectl and helm print,
    /// instead of one line counting them
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// The lists [`CopyInputArgs`] name: texts in the formats of `--images-file`
/// and `--charts-file`, each with where it comes from.
#[derive(Default)]
pub struct CopyLists {
    pub images: Option<(String, String)>,
    pub charts: Option<(String, String)>,
    /// The Applications using each image and chart (an inventory's).
    pub used_by: BTreeMap<String, BTreeSet<String>>,
    /// The mirror rules: `--mirror`, or for an inventory also the values' and
    /// the environment's.
    pub rules: Option<MirrorRules>,
}

impl CopyInputArgs {
    /// Whether an inventory (a generator source) is asked for.
    pub fn inventory_given(&self) -> bool {
        self.source.source_path.is_some() || self.source.source_version.is_some()
    }

    /// The lists, from the files or from one render of the inventory (its
    /// https:// charts when the rules place charts and no `--charts-file` is
    /// given).
    pub fn lists(&self, settings: &Settings) -> Result<CopyLists> {
        let read = |path: &PathBuf, what| -> Result<(String, String)> { Ok((user_input::read_file(path, what)?, path.display().to_string())) };
        let charts_file = self.charts_file.as_ref().map(|p| read(p, "--charts-file")).transpose()?;
        let source = match &self.images_file {
            Some(_) => None,
            None => self.source.open(settings)?,
        };
        let Some(source) = source else {
            let rules = match &self.source.mirror {
                Some(path) => Some(crate::mirror::config::load_file(path, "--mirror file")?),
                None => None,
            };
            let images = self.images_file.as_ref().map(|p| read(p, "--images-file")).transpose()?;
            return Ok(CopyLists { images, charts: charts_file, used_by: BTreeMap::new(), rules });
        };
        let rendered = inventory::render_all(&inventory::Request {
            source: &source,
            values_files: &self.source.values,
            mirror_file: self.source.mirror.as_deref(),
            verbose: self.verbose,
            settings,
        })?;
        let rules = rendered.mirror.clone();
        let lists = inventory::copy_lists(&rendered)?;
        let charts = match charts_file {
            Some(charts) => Some(charts),
            None => rules.as_ref().is_some_and(|r| r.charts.is_some()).then(|| (lists.charts, "the inventory's charts".to_string())),
        };
        Ok(CopyLists { images: Some((lists.images, "the inventory".to_string())), charts, used_by: lists.used_by, rules })
    }
}

/// How `mirror`, `verify` and `bundle` reach registries.
#[derive(Debug, Args)]
#[group(skip)]
pub struct RegistryArgs {
    /// A docker/podman style registry credentials file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,

    /// A registry (host[:port]) reached over plain HTTP (repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
}

impl RegistryArgs {
    /// The registry client: credentials from `--authfile`, else
    /// `REGISTRY_AUTH_FILE`, `DOCKER_CONFIG`, `~/.docker/config.json`.
    pub fn client(&self, settings: &Settings) -> Result<RegistryClient> {
        crate::mirror::copy::authfile_client(self.authfile.as_deref(), &self.insecure_registries, settings)
    }
}
