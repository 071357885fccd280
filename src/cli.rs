//! The command line: `deploykf-cmp generate` with the flags of the Go
//! `deploykf generate` (`--source-version/-V`, `--source-path`,
//! `--values/-f` repeatable or comma-separated, `--output-dir/-O`), wiring the
//! stages together: source → output folder check → values → render → commit;
//! and `deploykf-cmp plugin init|generate`, the Argo CD plugin's commands.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::inventory;
use crate::plugin;
use crate::mirror::config as mirror_config;
use crate::mirror::steps::MirrorSettings;
use crate::pipeline::{self, Inputs, Mirroring};
use crate::mirror::pull_secret::{self, SecretRef};
use crate::registry::credentials::Credentials;
use crate::settings::{self, Cmd, Settings, MIRROR_CONFIG_ENV};
use crate::source::GeneratorSource;
use crate::user_input;
use crate::values::Layer;

const GENERATE_HELP: &str = "\
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

const PLUGIN_HELP: &str = "\
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

const PULL_SECRET_HELP: &str = "\
Print a 'kubernetes.io/dockerconfigjson' Secret for the mirror registries (--output secret,
the default), or the deployKF values that make its Kyverno ClusterPolicy clone that Secret
into every namespace and add it to every Pod (--output values; deployKF 0.1.3 and later).

This command writes credentials to stdout on purpose: redirect it to 'kubectl apply -f -'
or a protected file. Errors never show credentials.

Registries (the Secret holds only their entries):
  --registry      each one given (a host, host:port, image reference or oci:// URL)
  otherwise       from the mirror configuration (--mirror FILE, else the file named by
                  DEPLOYKF_CMP_MIRROR_CONFIG): the host of mirror.images.registry, of each
                  mirror.images.overrides[].to, and of an oci:// mirror.charts.repository
                  and mirror.charts.overrides[].to

Credentials come from --authfile, else REGISTRY_AUTH_FILE, else podman's auth.json, else
$DOCKER_CONFIG/config.json or ~/.docker/config.json, else helm's registry config. Each
registry needs a username/password entry in that file: credentials kept by a credential
helper (credsStore, credHelpers) or identity tokens are refused with an explanation.

The Secret is --name/--namespace, else mirror.pullSecret, else
'deploykf-registry-credentials' in 'argocd': the Secret the deploykf-cmp sidecar of
argocd-repo-server mounts for chart pulls, in a namespace the policy leaves alone.
--output values needs no credentials.

Examples:
  deploykf-cmp pull-secret --mirror mirror.yaml | kubectl apply -f -
  deploykf-cmp pull-secret --mirror mirror.yaml --output values > values-pull-secret.yaml
  deploykf-cmp pull-secret --registry registry.example.com:5000 --authfile auth.json \\
    --name my-registry --namespace argocd";

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
}

/// `deploykf-cmp plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Render the generator (cached) and prepare the requested output folder
    Init,
    /// Print the manifests of the requested output folder on stdout
    Generate,
}

const MIRROR_HELP: &str = "\
Copy images registry to registry: manifests byte for byte (digests unchanged, indexes with
their per-platform manifests), blobs streamed with bounded memory and checked against their
digest, skipping what the target already has (a re-run copies only what is missing) and
mounting blobs across repositories of the target.

The images: --images-file lists one reference per line ('#' comments). A line 'SOURCE'
goes where the --mirror FILE rules send it; a line 'SOURCE=TARGET' names its target.
Charts in OCI registries (oci://host/path/NAME:VERSION) are images here: list them as
host/path/NAME:VERSION. Or --source-path/--source-version with --values: the inventory of
that values set (the list 'deploykf-cmp images --output list' prints), each image sent
where the --mirror FILE rules (required then) send it; with mirror.charts in those rules
the inventory's charts too, from the same render (oci:// ones as images; https:// ones
unless --charts-file is given).

--charts-file lists charts of https:// chart repositories, one per line ('#' comments):
  REPOSITORY NAME VERSION [oci://TARGET]
e.g. 'https://charts.jetstack.io cert-manager v1.12.10' (`deploykf-cmp charts --output list`;
the JSON of `deploykf-cmp charts --output json` is read too). The chart goes to
TARGET/NAME, else where the mirror.charts rules of --mirror FILE send REPOSITORY. Each is read
through the repository's index.yaml, checked against its digest, and pushed as `helm push`
does (the .tgz unchanged as the layer, Chart.yaml as the config), tagged VERSION with '+'
as '_' and, for 'v1.2.3', also '1.2.3'. A tag already naming the same manifest is left alone.

Source aliases (mirror.images.sources in --mirror FILE): an image under a 'from' prefix is
pulled from its 'pullFrom' instead and pushed where the rules send the original name;
--dry-run prints 'SOURCE -> TARGET (pulled from ALIAS)'.

Progress: bars per image on a terminal (stderr), otherwise one line per finished image.

Credentials: --authfile, else REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker/config.json.
Extra CAs: SSL_CERT_FILE. Plain HTTP: --insecure-registry HOST[:PORT] (or
DEPLOYKF_CMP_INSECURE_REGISTRIES). Docker Hub (docker.io) is reached at registry-1.docker.io.

Failed requests are tried 5 times (timeouts below). Manifests over 4 MiB and token answers
over 1 MiB are refused.

Exits non-zero listing every image and chart that failed.

Examples:
  deploykf-cmp mirror --images-file images.txt --mirror mirror.yaml
  deploykf-cmp mirror --source-version 0.1.5 -f values.yaml --mirror mirror.yaml --dry-run
  deploykf-cmp charts --source-path deploykf-0.1.5-generator.zip -f values.yaml --output list > charts.txt
  deploykf-cmp mirror --charts-file charts.txt --mirror mirror.yaml";

/// `deploykf-cmp mirror` flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("images").args(["images_file", "source_version", "source_path"])))]
#[command(group(ArgGroup::new("input").required(true).multiple(true).args(["images_file", "source_version", "source_path", "charts_file"])))]
pub struct MirrorArgs {
    /// A file of image references, one per line (`SOURCE` or `SOURCE=TARGET`)
    #[arg(long, value_name = "FILE")]
    pub images_file: Option<PathBuf>,

    /// A file of https:// repository charts, one per line (`REPOSITORY NAME VERSION [oci://TARGET]`)
    #[arg(long, value_name = "FILE")]
    pub charts_file: Option<PathBuf>,

    /// Copy the inventory of this deployKF version (with --values) instead of --images-file
    #[arg(short = 'V', long, value_name = "VERSION")]
    pub source_version: Option<String>,

    /// Copy the inventory of this generator (directory or '.zip', with --values) instead of --images-file
    #[arg(long, value_name = "PATH")]
    pub source_path: Option<PathBuf>,

    /// A values file of the inventory (repeatable, or comma-separated)
    #[arg(short = 'f', long = "values", value_name = "FILE", value_delimiter = ',', conflicts_with = "images_file")]
    pub values: Vec<PathBuf>,

    /// A mirror configuration (top-level `mirror:`) whose rules give the targets
    /// (required with --source-path/--source-version)
    #[arg(long, value_name = "FILE", required_unless_present_any = ["images_file", "charts_file"])]
    pub mirror: Option<PathBuf>,

    /// A docker/podman style registry credentials file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,

    /// Images (and charts) copied at the same time, and blob transfers at the same time
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Copy only this platform of multi-platform images (os/arch[/variant], repeatable)
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,

    /// A registry (host[:port]) reached over plain HTTP (repeatable)
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,

    /// Print what would be copied, copy nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write the mirror configuration matching what was pushed to FILE (`-`: stdout)
    #[arg(long, value_name = "FILE")]
    pub write_mirror: Option<PathBuf>,

    /// With an inventory input: show the warnings kustomize, kubectl and helm print,
    /// instead of one line counting them
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// What `mirror` copies: image lines and their origin, chart lines of an inventory.
struct Lists {
    images: Option<(String, String)>,
    charts: Option<String>,
}

/// `deploykf-cmp generate` flags (those of `deploykf generate`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["source_version", "source_path"])))]
pub struct GenerateArgs {
    /// A version tag from the 'deployKF/deployKF' GitHub repository (e.g. 0.1.5)
    #[arg(short = 'V', long, value_name = "VERSION")]
    pub source_version: Option<String>,

    /// A local path to a directory or '.zip' file containing a generator source
    #[arg(long, value_name = "PATH")]
    pub source_path: Option<PathBuf>,

    /// A YAML file containing configuration values (repeatable, or comma-separated)
    #[arg(
        short = 'f',
        long = "values",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub values: Vec<PathBuf>,

    /// The output directory in which to generate the manifests
    #[arg(short = 'O', long, value_name = "DIR")]
    pub output_dir: PathBuf,

    /// A YAML file with a top-level `mirror:` section: redirect every image and chart to private mirrors
    /// (over a `mirror:` key in the values and the file named by DEPLOYKF_CMP_MIRROR_CONFIG)
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> Result<()> {
        let settings = Settings::from_process();
        match self.command {
            Command::Generate(args) => args.run(&settings),
            Command::Plugin(PluginCommand::Init) => plugin::init(settings),
            Command::Plugin(PluginCommand::Generate) => plugin::generate(settings),
            Command::PullSecret(args) => args.run(&settings),
            Command::Images(args) => args.run(false, &settings),
            Command::Charts(args) => args.run(true, &settings),
            Command::Mirror(args) => args.run(&settings),
        }
    }
}

impl GenerateArgs {
    /// Generates the output folder.
    pub fn run(self, settings: &Settings) -> Result<()> {
        let version = self.source_version.as_deref().filter(|v| !v.is_empty());
        let path = self
            .source_path
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty());
        let source = match (version, path) {
            (Some(_), Some(_)) => {
                bail!("only one of `--source-version` or `--source-path` may be provided")
            }
            (Some(version), None) => {
                GeneratorSource::from_version(version, &settings.assets_dir()?, settings.releases_url().as_deref())?
            }
            (None, Some(path)) => GeneratorSource::from_path(path)?,
            (None, None) => {
                bail!("at least one of `--source-version` or `--source-path` must be provided")
            }
        };
        let mirror = MirrorSettings::new(self.mirror.as_deref(), settings)?;
        let layers = Layer::read_all(&self.values)?;
        let inputs = Inputs { source: &source, layers: &layers, mirror: &mirror, env: Arc::new(settings.vars().clone()) };
        pipeline::generate(&inputs, &self.output_dir, Mirroring::Everything)?;
        eprintln!("Generated manifests at: {}", self.output_dir.display());
        Ok(())
    }
}

/// `deploykf-cmp pull-secret` flags.
#[derive(Debug, Args)]
pub struct PullSecretArgs {
    /// A YAML file with a top-level `mirror:` section (registries and `pullSecret`)
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,

    /// The docker config file holding the registry credentials
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,

    /// A registry to include (repeatable); replaces those of the mirror configuration
    #[arg(long, value_name = "HOST")]
    pub registry: Vec<String>,

    /// The Secret's name [default: mirror.pullSecret.name, else deploykf-registry-credentials]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The Secret's namespace [default: mirror.pullSecret.namespace, else argocd]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// What to print
    #[arg(long, value_enum, default_value_t = PullSecretOutput::Secret)]
    pub output: PullSecretOutput,
}

/// `pull-secret --output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PullSecretOutput {
    /// The Secret manifest, for `kubectl apply -f -`
    Secret,
    /// deployKF values enabling the image-pull-secrets ClusterPolicy with that Secret
    Values,
}

impl PullSecretArgs {
    /// Prints the Secret or the values.
    pub fn run(self, settings: &Settings) -> Result<()> {
        let env_file = settings.mirror_config();
        let mirror = mirror_config::resolve_sources(
            self.mirror.as_deref(),
            &mut Default::default(),
            env_file.as_deref(),
        )?;
        let secret = SecretRef::choose(
            self.name.as_deref(),
            self.namespace.as_deref(),
            mirror.as_ref(),
        )?;
        if self.output == PullSecretOutput::Values {
            return write_stdout(&pull_secret::deploykf_values_yaml(&secret));
        }
        let registries = match (&mirror, self.registry.is_empty()) {
            (_, false) => pull_secret::registries_from_flags(&self.registry),
            (Some(rules), true) => pull_secret::registries_from_mirror(rules),
            (None, true) => bail!(
                "no registry: pass --registry HOST, or --mirror FILE (or set \
                 {MIRROR_CONFIG_ENV}) with the mirror configuration"
            ),
        };
        let credentials = Credentials::discover_in(self.authfile.as_deref(), &|n| settings.var_os(n))?;
        let config = pull_secret::docker_config_json(&credentials, &registries)?;
        write_stdout(&pull_secret::secret_manifest(&secret, &config, &registries))
    }
}

const IMAGES_HELP: &str = "\
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

Examples:
  deploykf-cmp images --source-version 0.1.5 --values values.yaml
  deploykf-cmp images --source-path ./generator.zip -f values.yaml --output list > images.txt
  deploykf-cmp images --source-version 0.1.5 -f values.yaml --mirror mirror.yaml --output json";

const CHARTS_HELP: &str = "\
List every Helm chart dependency a deployKF values set deploys: each component chart's
Chart.yaml dependencies (name, version and the version pulled, repository, mirror
repository, component), after rendering as 'deploykf-cmp images' does.

--output list prints 'repository name version' lines, sorted and unique: the input of
'deploykf-cmp mirror --charts-file'. Charts of file:// repositories (deployKF's forks inside
the generator, deployed from there) are left out of the list, with a note on stderr.

Examples:
  deploykf-cmp charts --source-version 0.1.5 --values values.yaml
  deploykf-cmp charts --source-path ./generator.zip -f values.yaml --mirror mirror.yaml --output json";

/// `deploykf-cmp images` and `deploykf-cmp charts` flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["source_version", "source_path"])))]
pub struct InventoryArgs {
    /// A version tag from the 'deployKF/deployKF' GitHub repository (e.g. 0.1.5)
    #[arg(short = 'V', long, value_name = "VERSION")]
    pub source_version: Option<String>,

    /// A local path to a directory or '.zip' file containing a generator source
    #[arg(long, value_name = "PATH")]
    pub source_path: Option<PathBuf>,

    /// A YAML file containing configuration values (repeatable, or comma-separated)
    #[arg(short = 'f', long = "values", value_name = "FILE", value_delimiter = ',')]
    pub values: Vec<PathBuf>,

    /// A YAML file with a top-level `mirror:` section: show each entry's mirror location
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,

    /// How to print the inventory
    #[arg(short = 'o', long, value_enum, default_value_t = inventory::Format::Text)]
    pub output: inventory::Format,

    /// Show the warnings kustomize, kubectl and helm print, instead of one line counting them
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl InventoryArgs {
    /// Renders everything and prints the images (or, with `charts`, the charts).
    pub fn run(self, charts: bool, settings: &Settings) -> Result<()> {
        let source = match (self.source_version.as_deref(), self.source_path.as_deref()) {
            (Some(version), None) => {
                GeneratorSource::from_version(version, &settings.assets_dir()?, settings.releases_url().as_deref())?
            }
            (None, Some(path)) => GeneratorSource::from_path(path)?,
            _ => bail!("give exactly one of `--source-version` or `--source-path`"),
        };
        let rendered = inventory::render_all(&inventory::Request {
            source: &source,
            values_files: &self.values,
            mirror_file: self.mirror.as_deref(),
            verbose: self.verbose,
            settings,
        })?;
        let text = if charts {
            let entries = inventory::charts(&rendered);
            if self.output == inventory::Format::List {
                if let Some(note) = inventory::local_charts_note(&entries) {
                    eprintln!("{note}");
                }
            }
            inventory::format_charts(&entries, self.output)
        } else {
            inventory::format_images(&inventory::images(&rendered)?, self.output)
        };
        write_stdout(&text)
    }
}

/// Writes a command's result to stdout (an error, not a panic, when it is closed).
fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing to stdout")
}

impl MirrorArgs {
    /// Copies the images and charts; fails listing every one that failed.
    pub fn run(self, settings: &Settings) -> Result<()> {
        use crate::registry::copy::{self, client::RegistryClient, plan, CopyOptions};
        use crate::registry::{credentials::Credentials, oci};
        use anyhow::Context;

        for p in &self.platforms {
            let parts = p.split('/').count();
            if !(2..=3).contains(&parts) || p.split('/').any(str::is_empty) {
                bail!("--platform {p:?}: write it as os/arch or os/arch/variant (e.g. linux/amd64)");
            }
        }
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        if (self.source_path.is_some() || self.source_version.is_some()) && self.mirror.is_none() {
            bail!("--source-path/--source-version need --mirror FILE: its rules give the targets of the inventory's images");
        }
        let rules = match &self.mirror {
            Some(path) => Some(crate::mirror::config::load_file(path, "--mirror file")?),
            None => None,
        };
        let lists = self.lists(settings)?;
        let (jobs, left) = match &lists.images {
            Some((text, origin)) => plan::parse_images(text, origin, rules.as_ref())?,
            None => Default::default(),
        };
        for image in &left {
            eprintln!("not mirrored (excluded or already in the mirror): {image}");
        }
        let (chart_jobs, charts_left) = match &self.charts_file {
            Some(path) => {
                let origin = path.display().to_string();
                let text = user_input::read_file(path, "--charts-file")?;
                copy::charts::parse_charts(&text, &origin, rules.as_ref())?
            }
            // The inventory's charts, from the same render, when the rules place charts.
            None => match (&lists.charts, rules.as_ref().and_then(|r| r.charts.as_ref())) {
                (Some(text), Some(_)) => copy::charts::parse_charts(text, "the inventory's charts", rules.as_ref())?,
                _ => Default::default(),
            },
        };
        for chart in &charts_left {
            eprintln!("chart not mirrored: {chart}");
        }
        if self.dry_run {
            for job in &jobs {
                println!("{job}");
            }
            for job in &chart_jobs {
                println!("{job}");
            }
            return self.write_config(&jobs, &chart_jobs, rules.as_ref());
        }
        let credentials = Credentials::discover_in(self.authfile.as_deref(), &|n| settings.var_os(n))?;
        let mut insecure = self.insecure_registries.clone();
        insecure.extend(settings.insecure_registries());
        let extra_roots = match settings.extra_ca_file() {
            Some(path) => oci::pem_certificates(&path)?,
            None => Vec::new(),
        };
        let timeouts = settings.timeouts()?;
        let settings = oci::OciSettings { extra_roots, insecure_registries: insecure, timeouts, ..Default::default() };
        let client = RegistryClient::new(&settings, credentials)?;
        let options = CopyOptions { jobs: self.jobs, platforms: self.platforms.clone() };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.jobs.clamp(2, 8))
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let chart_report = runtime.block_on(copy::charts::mirror_all(&client, &chart_jobs, self.jobs));
        if !chart_jobs.is_empty() {
            eprintln!("{}", chart_report.summary());
        }
        let report = runtime.block_on(copy::copy_all(client, jobs.clone(), options));
        if !jobs.is_empty() || self.images_file.is_some() {
            eprintln!("{}", report.summary());
        }
        let mut failed: Vec<String> = Vec::new();
        if !chart_report.failures.is_empty() {
            let list: Vec<String> = chart_report.failures.iter().map(|(chart, why)| format!("  {chart}: {why}")).collect();
            failed.push(format!("{} of {} charts failed:\n{}", chart_report.failures.len(), chart_jobs.len(), list.join("\n")));
        }
        if !report.failures.is_empty() {
            let list: Vec<String> = report.failures.iter().map(|(image, why)| format!("  {image}: {why}")).collect();
            failed.push(format!("{} of {} images failed:\n{}", report.failures.len(), jobs.len(), list.join("\n")));
        }
        if !failed.is_empty() {
            bail!("{}", failed.join("\n"));
        }
        self.write_config(&jobs, &chart_jobs, rules.as_ref())
    }

    /// The image list (as `--images-file` text, and where it comes from) and,
    /// from an inventory, its chart list (`charts --output list`), both from
    /// one render.
    fn lists(&self, settings: &Settings) -> Result<Lists> {
        if let Some(path) = &self.images_file {
            let origin = path.display().to_string();
            let text = user_input::read_file(path, "--images-file")?;
            return Ok(Lists { images: Some((text, origin)), charts: None });
        }
        let source = match (self.source_version.as_deref(), self.source_path.as_deref()) {
            (Some(version), None) => {
                GeneratorSource::from_version(version, &settings.assets_dir()?, settings.releases_url().as_deref())?
            }
            (None, Some(path)) => GeneratorSource::from_path(path)?,
            (None, None) if self.charts_file.is_some() => return Ok(Lists { images: None, charts: None }),
            _ => bail!("give exactly one of `--images-file`, `--source-version` or `--source-path`"),
        };
        let rendered = inventory::render_all(&inventory::Request {
            source: &source,
            values_files: &self.values,
            mirror_file: self.mirror.as_deref(),
            verbose: self.verbose,
            settings,
        })?;
        let entries = inventory::images(&rendered)?;
        let charts = inventory::charts(&rendered);
        eprintln!("the inventory lists {} images and {} charts", entries.len(), charts.len());
        if let Some(note) = inventory::local_charts_note(&charts) {
            eprintln!("{note}");
        }
        // OCI charts copy as images: their lines join the image list.
        let (chart_images, charts) = inventory::oci_chart_copies(&charts, rendered.mirror.as_ref());
        let images = inventory::format_images(&entries, inventory::Format::List) + &chart_images;
        Ok(Lists {
            images: Some((images, "the inventory".to_string())),
            charts: Some(inventory::format_charts(&charts, inventory::Format::List)),
        })
    }

    fn write_config(
        &self,
        jobs: &[crate::registry::copy::CopyJob],
        charts: &[crate::registry::copy::charts::ChartJob],
        rules: Option<&crate::mirror::config::MirrorRules>,
    ) -> Result<()> {
        use anyhow::Context;
        let Some(path) = &self.write_mirror else { return Ok(()) };
        let text = crate::registry::copy::plan::mirror_config(jobs, charts, rules);
        if path.as_os_str() == "-" {
            print!("{text}");
            return Ok(());
        }
        std::fs::write(path, text).with_context(|| format!("cannot write the --write-mirror file {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
        assert_eq!(a.source_version.as_deref(), Some("0.1.5"));
        assert_eq!(
            a.values,
            vec![
                PathBuf::from("a.yaml"),
                PathBuf::from("b.yaml"),
                PathBuf::from("c.yaml")
            ]
        );
        assert_eq!(a.output_dir, PathBuf::from("out"));
        let a = parse(&["generate", "--source-path", "g.zip", "--output-dir", "o"]).unwrap();
        assert_eq!(a.source_path, Some(PathBuf::from("g.zip")));
        assert!(a.values.is_empty());
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
        assert_eq!(a.values, [PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]);
        assert_eq!(a.mirror, Some(PathBuf::from("m.yaml")));
        assert_eq!(a.output, inventory::Format::List);
        let Command::Charts(a) = parse(&["charts", "--source-path", "g.zip"]).unwrap().command else {
            panic!("not charts");
        };
        assert_eq!(a.output, inventory::Format::Text);
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
