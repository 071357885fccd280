//! `deploykf-cmp images` and `deploykf-cmp charts`: what a values set
//! deploys, → [`crate::inventory`].

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Args};

use super::source::SourceArgs;
use super::write_stdout;
use crate::generator::source::GeneratorSource;
use crate::inventory;
use crate::settings::Settings;

pub(super) const IMAGES_HELP: &str = "\
List every container image a deployKF values set deploys.

The generator is rendered (as 'generate' does, into a temporary folder), then every
component its app-of-apps deploys is built as the Argo CD plugin builds it: 'kustomize
build' of the Application's output folder, or its chart with the dependencies pulled and
'helm template' run. Images come from the pod specs of the results (tags left empty in
the values are the ones rendering gives), plus runtime-only images that no pod spec
holds: the Istio sidecar proxy, notebook images of the spawner, Kubeflow Pipelines'
launcher and driver, Argo's workflow executor, Katib's suggestion, metrics-collector
and trial-template images in its ConfigMaps; the same places the mirror rewrite
redirects. Each image lists where it came from (resource and field, values path).

The images listed are the upstream ones (what to copy into a mirror); with a mirror
configuration (--mirror FILE, else 'mirror:' in the values, else the file named by
DEPLOYKF_CMP_MIRROR_CONFIG) each also shows its mirror location.

Needs kustomize (or kubectl) and helm, found like the plugin finds them
(DEPLOYKF_CMP_KUSTOMIZE, DEPLOYKF_CMP_KUBECTL, DEPLOYKF_CMP_HELM, else PATH); chart
registries use HELM_REGISTRY_CONFIG, SSL_CERT_FILE and DEPLOYKF_CMP_INSECURE_REGISTRIES.
Pulled charts are cached in DEPLOYKF_CMP_CACHE_DIR (else $XDG_CACHE_HOME/deploykf-cmp, else
~/.cache/deploykf-cmp) for the next run. The tools' warnings (kustomize deprecations, klog
lines) are counted in one line on stderr; --verbose shows them.

--output list prints one fully qualified reference per line, sorted and unique: the
input of 'deploykf-cmp mirror --images-file'.

Upgrades: --since-source-version OLD (or --since-source-path P) and/or --since-values FILE
render the old deployKF version and values too (the old values default to --values, the old
source to the new one) and list only the images the new render adds: the references the
old render's list does not hold. The list feeds 'mirror --images-file' and
'bundle create --images-file', so an upgrade copies only what it adds.

Examples:
  deploykf-cmp images --source-version 0.1.5 --values values.yaml
  deploykf-cmp images --source-version 0.1.5 -f values.yaml --since-source-version 0.1.4 --output list > new-images.txt
  deploykf-cmp images --source-path ./generator.zip -f values.yaml --output list > images.txt
  deploykf-cmp images --source-version 0.1.5 -f values.yaml --mirror mirror.yaml --output json";


pub(super) const CHARTS_HELP: &str = "\
List every Helm chart dependency a deployKF values set deploys: each component chart's
Chart.yaml dependencies (name, version and the version pulled, repository, mirror
repository, component), after rendering as 'deploykf-cmp images' does.

--output list prints 'repository name version' lines, sorted and unique: the input of
'deploykf-cmp mirror --charts-file'. Charts of file:// repositories (deployKF's forks inside
the generator, deployed from there) are left out of the list, with a note on stderr.

--since-source-version/--since-source-path/--since-values list only the charts the new
render adds to the old one (repository, name and version pulled), as for 'images'.

Examples:
  deploykf-cmp charts --source-version 0.1.5 --values values.yaml
  deploykf-cmp charts --source-path ./generator.zip -f values.yaml --mirror mirror.yaml --output json";


/// `deploykf-cmp images` and `deploykf-cmp charts` flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["source_version", "source_path"])))]
pub struct InventoryArgs {
    #[command(flatten)]
    pub source: SourceArgs,

    /// List only what is new since this older deployKF version (rendered with --since-values, else --values)
    #[arg(long, value_name = "VERSION", conflicts_with = "since_source_path")]
    pub since_source_version: Option<String>,

    /// List only what is new since this older generator (folder or .zip)
    #[arg(long, value_name = "PATH")]
    pub since_source_path: Option<PathBuf>,

    /// The values files of the older render (repeatable, or comma-separated; default: --values)
    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    pub since_values: Vec<PathBuf>,

    /// How to print the inventory
    #[arg(short = 'o', long, value_enum, default_value_t = inventory::Format::Text)]
    pub output: inventory::Format,

    /// Show the warnings kustomize, kubectl and helm print, instead of one line counting them
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl InventoryArgs {
    /// Renders everything and prints the images (or, with `charts`, the charts);
    /// with a `--since-*` flag, only those the older render does not list.
    pub fn run(self, charts: bool, settings: &Settings) -> Result<()> {
        let source = self.source.require(settings)?;
        let render = |source: &GeneratorSource, values_files: &[PathBuf]| {
            inventory::render_all(&inventory::Request {
                source,
                values_files,
                mirror_file: self.source.mirror.as_deref(),
                verbose: self.verbose,
                settings,
            })
        };
        let rendered = render(&source, &self.source.values)?;
        let old = match self.since_source(settings)? {
            Some(old_source) => {
                let values = if self.since_values.is_empty() { &self.source.values } else { &self.since_values };
                eprintln!("rendering the older version to compare with");
                Some(render(&old_source, values)?)
            }
            None if !self.since_values.is_empty() => Some(render(&source, &self.since_values)?),
            None => None,
        };
        let text = if charts {
            let mut entries = inventory::charts(&rendered);
            if let Some(old) = &old {
                let total = entries.len();
                entries = inventory::charts_added(entries, &inventory::charts(old));
                eprintln!("{} of {total} chart dependencies are new", entries.len());
            }
            if self.output == inventory::Format::List {
                if let Some(note) = inventory::local_charts_note(&entries) {
                    eprintln!("{note}");
                }
            }
            inventory::format_charts(&entries, self.output)
        } else {
            let mut entries = inventory::images(&rendered)?;
            if let Some(old) = &old {
                let total = entries.len();
                entries = inventory::images_added(entries, &inventory::images(old)?);
                eprintln!("{} of {total} images are new", entries.len());
            }
            inventory::format_images(&entries, self.output)
        };
        write_stdout(&text)
    }

    /// The older generator of `--since-source-version`/`--since-source-path`.
    fn since_source(&self, settings: &Settings) -> Result<Option<GeneratorSource>> {
        let old = SourceArgs {
            source_version: self.since_source_version.clone(),
            source_path: self.since_source_path.clone(),
            values: Vec::new(),
            mirror: None,
        };
        old.open(settings)
    }
}
