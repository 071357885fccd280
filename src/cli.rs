//! The command line: `deploykf-cmp generate` with the flags of the Go
//! `deploykf generate` (`--source-version/-V`, `--source-path`,
//! `--values/-f` repeatable or comma-separated, `--output-dir/-O`), wiring the
//! stages together: source → output folder check → values → render → commit.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use clap::{ArgGroup, Args, Parser, Subcommand};

use crate::generate;
use crate::output::OutputDir;
use crate::source::{self, GeneratorSource};
use crate::values;

const GENERATE_HELP: &str = "\
Generate an output folder of Kubernetes manifests from a deployKF generator and values files.

Give exactly one generator source:
  --source-version  a deployKF release: its 'deploykf-<version>-generator.zip' from
                    '~/.deploykf/assets', downloaded from GitHub when not cached
  --source-path     a local generator folder or '.zip' file

Give any number of --values files; they are merged over the generator's
'default_values.yaml' (maps merge, lists and scalars replace, later files win).

The --output-dir is created when missing. A non-empty --output-dir is replaced only
when it holds the '.deploykf_output' marker of an earlier run; otherwise it is left
untouched and the command fails. It is only replaced when the whole render succeeds.

The '.deploykf_output' marker records: generated_at, source_version (with
--source-version), source_path, source_hash (sha256 of the zip or folder) and cli_version.

Examples:
  deploykf-cmp generate --source-version 0.1.5 --values ./values.yaml --output-dir ./GENERATOR_OUTPUT
  deploykf-cmp generate --source-path ./deploykf-0.1.5-generator.zip -f ./values.yaml -O ./out
  deploykf-cmp generate --source-path ./generator -f base.yaml,overrides.yaml -O ./out";

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
    #[command(long_about = GENERATE_HELP)]
    Generate(GenerateArgs),
    /// Copy images into a private registry (byte-exact, streaming, resumable)
    #[command(long_about = MIRROR_HELP)]
    Mirror(MirrorArgs),
}

const MIRROR_HELP: &str = "\
Copy images registry to registry: manifests byte for byte (digests unchanged, indexes with
their per-platform manifests), blobs streamed with bounded memory and checked against their
digest, skipping what the target already has (a re-run copies only what is missing) and
mounting blobs across repositories of the target.

--images-file lists one reference per line ('#' comments). A line 'SOURCE' goes where the
--mirror FILE rules send it; a line 'SOURCE=TARGET' names its target.

Credentials: --authfile, else REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker/config.json.
Extra CAs: SSL_CERT_FILE. Plain HTTP: --insecure-registry HOST[:PORT] (or
DEPLOYKF_CMP_INSECURE_REGISTRIES).

Exits non-zero listing every image that failed.";

/// `deploykf-cmp mirror` flags.
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// A file of image references, one per line (`SOURCE` or `SOURCE=TARGET`)
    #[arg(long, value_name = "FILE")]
    pub images_file: PathBuf,

    /// A mirror configuration (top-level `mirror:`) whose rules give the targets
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,

    /// A docker/podman style registry credentials file
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,

    /// Images copied at the same time (and blob transfers at the same time)
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
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> Result<()> {
        match self.command {
            Command::Generate(args) => args.run(),
            Command::Mirror(args) => args.run(),
        }
    }
}

impl GenerateArgs {
    /// Generates the output folder.
    pub fn run(self) -> Result<()> {
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
                GeneratorSource::from_version(version, &source::default_cache_dir()?)?
            }
            (None, Some(path)) => GeneratorSource::from_path(path)?,
            (None, None) => {
                bail!("at least one of `--source-version` or `--source-path` must be provided")
            }
        };
        let output = OutputDir::prepare(&self.output_dir)?;
        let values = values::load(&source.default_values_path(), &self.values)?;
        generate::render(&source, values, &output, Arc::new(generate::process_env()))?;
        output.commit()?;
        eprintln!("Generated manifests at: {}", self.output_dir.display());
        Ok(())
    }
}

impl MirrorArgs {
    /// Copies the images; fails listing every image that failed.
    pub fn run(self) -> Result<()> {
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
        let rules = match &self.mirror {
            Some(path) => Some(crate::mirror::config::load_file(path, "--mirror file")?),
            None => None,
        };
        let origin = self.images_file.display().to_string();
        let text = std::fs::read_to_string(&self.images_file)
            .with_context(|| format!("cannot read the --images-file {origin}"))?;
        let (jobs, left) = plan::parse_images(&text, &origin, rules.as_ref())?;
        for image in &left {
            eprintln!("not mirrored (excluded or already in the mirror): {image}");
        }
        if self.dry_run {
            for job in &jobs {
                println!("{} -> {}", job.source, job.target);
            }
            return self.write_config(&jobs, rules.as_ref());
        }
        let credentials = Credentials::discover(self.authfile.as_deref())?;
        let mut insecure = self.insecure_registries.clone();
        insecure.extend(crate::components::dependencies::parse_registry_list(
            &std::env::var(crate::components::dependencies::INSECURE_REGISTRIES_ENV).unwrap_or_default(),
        ));
        let extra_roots = match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
            Some(path) => oci::pem_certificates(std::path::Path::new(&path))?,
            None => Vec::new(),
        };
        let settings = oci::OciSettings { extra_roots, insecure_registries: insecure };
        let client = RegistryClient::new(&settings, credentials)?;
        let options = CopyOptions { jobs: self.jobs, platforms: self.platforms.clone() };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.jobs.clamp(2, 8))
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let report = runtime.block_on(copy::copy_all(client, jobs.clone(), options));
        eprintln!("{}", report.summary());
        if !report.failures.is_empty() {
            let list: Vec<String> = report.failures.iter().map(|(image, why)| format!("  {image}: {why}")).collect();
            bail!("{} of {} images failed:\n{}", report.failures.len(), jobs.len(), list.join("\n"));
        }
        self.write_config(&jobs, rules.as_ref())
    }

    fn write_config(&self, jobs: &[crate::registry::copy::CopyJob], rules: Option<&crate::mirror::config::MirrorRules>) -> Result<()> {
        use anyhow::Context;
        let Some(path) = &self.write_mirror else { return Ok(()) };
        let text = crate::registry::copy::plan::mirror_config(jobs, rules);
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
        let Command::Generate(args) = cli.command else { panic!("not generate") };
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
}
