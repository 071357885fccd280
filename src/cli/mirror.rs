//! `deploykf-cmp mirror`: copy images and charts into private registries. The
//! flags are checked and turned into text lists (an `--images-file`, or the
//! inventory of a values set with its charts, and a `--charts-file`), then
//! [`crate::mirror::copy::run`] does the copy.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{ArgGroup, Args};

use super::source::{CopyInputArgs, CopyLists, RegistryArgs};
use crate::mirror::copy;
use crate::settings::Settings;

pub(super) const MIRROR_HELP: &str = "\
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

--write-lock FILE: once every copy succeeded, the lock file of what was copied: for each
source reference, the mirrored reference and the digest the mirror serves for its tag (JSON,
sorted, one entry per image; commit it next to the values and set mirror.images.lock to it
so that renders pin every image to 'repo:tag@sha256:...').

Exits non-zero listing every image and chart that failed.

Examples:
  deploykf-cmp mirror --images-file images.txt --mirror mirror.yaml
  deploykf-cmp mirror --images-file images.txt --mirror mirror.yaml --write-lock images.lock
  deploykf-cmp mirror --source-version 0.1.5 -f values.yaml --mirror mirror.yaml --dry-run
  deploykf-cmp charts --source-path deploykf-0.1.5-generator.zip -f values.yaml --output list > charts.txt
  deploykf-cmp mirror --charts-file charts.txt --mirror mirror.yaml";

/// `deploykf-cmp mirror` flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("images").args(["images_file", "source_version", "source_path"])))]
#[command(group(ArgGroup::new("input").required(true).multiple(true).args(["images_file", "source_version", "source_path", "charts_file"])))]
pub struct MirrorArgs {
    #[command(flatten)]
    pub inputs: CopyInputArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Images (and charts) copied at the same time, and blob transfers at the same time
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Copy only this platform of multi-platform images (os/arch[/variant], repeatable)
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,

    /// Print what would be copied, copy nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write the mirror configuration matching what was pushed to FILE (`-`: stdout)
    #[arg(long, value_name = "FILE")]
    pub write_mirror: Option<PathBuf>,

    /// After the copy, write FILE: for each source image, its mirrored reference and the
    /// digest the mirror serves (`mirror.images.lock` pins renders to it)
    #[arg(long, value_name = "FILE", conflicts_with = "dry_run")]
    pub write_lock: Option<PathBuf>,
}

/// Fails on a `--platform` that is not `os/arch[/variant]`.
pub(super) fn check_platforms(platforms: &[String]) -> Result<()> {
    for p in platforms {
        let parts = p.split('/').count();
        if !(2..=3).contains(&parts) || p.split('/').any(str::is_empty) {
            bail!("--platform {p:?}: write it as os/arch or os/arch/variant (e.g. linux/amd64)");
        }
    }
    Ok(())
}

impl MirrorArgs {
    /// Copies the images and charts; fails listing every one that failed.
    pub fn run(self, settings: &Settings) -> Result<()> {
        check_platforms(&self.platforms)?;
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        if self.inputs.inventory_given() && self.inputs.source.mirror.is_none() {
            bail!("--source-path/--source-version need --mirror FILE: its rules give the targets of the inventory's images");
        }
        let CopyLists { images, charts, rules, .. } = self.inputs.lists(settings)?;
        copy::run(
            &copy::Request {
                images,
                charts,
                images_file_given: self.inputs.images_file.is_some(),
                rules,
                authfile: self.registry.authfile,
                jobs: self.jobs,
                platforms: self.platforms,
                insecure_registries: self.registry.insecure_registries,
                dry_run: self.dry_run,
                write_mirror: self.write_mirror,
                write_lock: self.write_lock,
            },
            settings,
        )
    }
}
