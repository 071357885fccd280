//! `deploykf-cmp bundle push FILE`: the offline side of a bundle. The flags
//! of `mirror` (rules, credentials, plain-HTTP registries, jobs) become one
//! [`crate::bundle::push::push`], then `--write-mirror`,
//! `--write-lock` and `--extract-generator` write what the site commits.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::bundle::push;
use crate::cli::source::RegistryArgs;
use crate::mirror::copy::write_mirror_config;
use crate::settings::Settings;

pub(super) const PUSH_HELP: &str = "\
Push a bundle (made by `deploykf-cmp bundle create` on the connected side) into the private
registry: every image and chart goes where the --mirror FILE rules send it, the same targets
and tags `deploykf-cmp mirror` gives them (images under mirror.images, https:// charts under
mirror.charts as OCI charts, tagged VERSION with '+' as '_', 'v1.2.3' also as '1.2.3').

Manifests keep their digests. Blobs are read from the bundle in the file's order, --jobs at a
time, each hashed while it streams to the registry: a blob whose bytes do not match its digest
is never committed and the push fails naming it and the bundle file. What the target already
has is skipped (a re-run uploads nothing), blobs shared between repositories are mounted.

A delta bundle (`bundle create --since OLD`) stores only what OLD lacked: the rest must be in
the target already (OLD pushed before). An image whose manifest OLD holds is tagged from the
manifest the target holds by digest (or left alone when its tag names the index of the
bundle's platforms that a push of a --platform OLD wrote). When something is missing, the push fails before
sending anything, listing every missing digest.

FILE is the bundle, or its first part FILE.part000: parts are read as one file, never joined.

--write-mirror FILE writes the mirror configuration matching what was pushed (as `mirror
--write-mirror` does): the `mirror:` values for `generate`, the plugin and `pull-secret`.
--write-lock FILE writes the lock file `mirror --write-lock` writes for the same images: for
each rendered image, its target and the digest the target's tag names after the push (read
from the bundle, no extra registry request); set mirror.images.lock to it to pin the render.
--extract-generator DIR writes each generator zip of the bundle into DIR under the file name
it had on the connected side (deploykf-VERSION-generator.zip for a release zip), ready to
commit and to use with --source-path.

Credentials: --authfile, else REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker/config.json.
Extra CAs: SSL_CERT_FILE. Plain HTTP: --insecure-registry HOST[:PORT] (or
DEPLOYKF_CMP_INSECURE_REGISTRIES). The rules: --mirror FILE, else DEPLOYKF_CMP_MIRROR_CONFIG.

Examples:
  deploykf-cmp bundle push deploykf-0.1.5.tar --mirror mirror.yaml --authfile auth.json
  deploykf-cmp bundle push /media/usb/deploykf-0.1.5.tar.part000 --mirror mirror.yaml \\
      --write-mirror deploykf/mirror.yaml --write-lock deploykf/images.lock --extract-generator deploykf/";

/// `deploykf-cmp bundle push` flags.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The bundle file (or FILE.part000)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The mirror rules giving the targets (top-level `mirror:`; default: DEPLOYKF_CMP_MIRROR_CONFIG)
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Blob transfers and images at the same time
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Print what would be pushed where, push nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Write the mirror configuration matching what was pushed to FILE (`-`: stdout)
    #[arg(long, value_name = "FILE")]
    pub write_mirror: Option<PathBuf>,

    /// Once the push succeeded, write the image lock file (as `mirror --write-lock`) to FILE
    #[arg(long, value_name = "FILE")]
    pub write_lock: Option<PathBuf>,

    /// Write the bundle's generator zips into DIR (under their file names, e.g. deploykf-0.1.5-generator.zip)
    #[arg(long, value_name = "DIR")]
    pub extract_generator: Option<PathBuf>,
}

impl PushArgs {
    /// Pushes, then writes the mirror configuration and the generators.
    pub fn run(self, settings: &Settings) -> Result<()> {
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        let (path, what) = match (&self.mirror, settings.mirror_config()) {
            (Some(p), _) => (p.clone(), "--mirror file"),
            (None, Some(p)) => (p, "DEPLOYKF_CMP_MIRROR_CONFIG file"),
            (None, None) => bail!("give --mirror FILE (or set DEPLOYKF_CMP_MIRROR_CONFIG): its rules give the targets of the bundle's images and charts"),
        };
        let rules = crate::mirror::config::load_file(&path, what)?;
        let client = self.registry.client(settings)?;
        let request = push::Request { rules: &rules, jobs: self.jobs, dry_run: self.dry_run };
        let pushed = push::push(&self.file, &request, client)?;
        if let (Some(path), false) = (&self.write_lock, self.dry_run) {
            pushed.lock.write(path)?;
            eprintln!("wrote the digests of {} images to the lock file '{}'", pushed.lock.entries.len(), path.display());
        }
        if let Some(dir) = &self.extract_generator {
            if !self.dry_run {
                for zip in push::extract_generators(&self.file, dir)? {
                    eprintln!("wrote {}", zip.display());
                }
            }
        }
        match &self.write_mirror {
            Some(path) => write_mirror_config(path, &pushed.images, &pushed.charts, Some(&rules)),
            None => Ok(()),
        }
    }
}
