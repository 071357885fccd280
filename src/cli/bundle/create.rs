//! `deploykf-cmp bundle create`: the flags checked and turned into a
//! [`crate::bundle::create::Request`]: the values sets (each
//! `--source-version`/`--source-path` with the `--values` after it) rendered
//! into image and chart lists, plus `--images-file` and `--charts-file`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{ArgAction, ArgMatches, Args, FromArgMatches};

use crate::bundle::create::{self, SetInput};
use crate::bundle::format;
use crate::cli::source::{RegistryArgs, SourceArgs};
use crate::inventory;
use crate::settings::Settings;
use crate::user_input;

pub(super) const CREATE_HELP: &str = "\
Write one file holding everything an air-gapped site needs from the outside: the images
and charts of one or more values sets and their generator zips, for `deploykf-cmp bundle
push` on the other side (docs/bundle-format.md describes the file).

The file is a tar holding a standard OCI image layout: every image manifest and index byte
for byte (digests unchanged), every blob once, https:// charts as the OCI chart artifacts
`mirror` pushes, the generator zips, and deploykf-bundle.json (versions, references,
digests, sizes). index.json names each image by its full source reference, so standard tools
read single images out of it:
  skopeo copy oci-archive:bundle.tar:docker.io/library/busybox:1.36 docker://…
The same content gives the same bytes: its sha256 is printed and written to FILE.sha256
(sha256sum format), so a review can approve the file by checksum.

Inputs (any combination, at least one):
  --source-version V / --source-path P with --values F: a values set; its inventory (the
      images `deploykf-cmp images --output list` prints and the charts of `deploykf-cmp
      charts`) and its generator zip. Repeat for more sets, e.g. two versions for an
      upgrade: each --source-version/--source-path starts a set, the --values after it
      belong to it.
  --images-file F: one image reference per line ('#' comments), e.g. the sidecar image and
      Argo CD's own. 'SOURCE=TARGET' lines are read as SOURCE: targets are chosen at push.
  --mirror F: only its source aliases apply here (mirror.images.sources): an image under
      a 'from' prefix is pulled from its 'pullFrom' and stored under its own name.
  --charts-file F: https:// charts, 'REPOSITORY NAME VERSION' per line (or the JSON of
      `deploykf-cmp charts --output json`). oci:// charts go in --images-file as
      host/path/NAME:VERSION.

--platform os/arch keeps only those platforms of multi-platform images: the index is still
stored unchanged, the other platforms' manifests are listed as external.

--max-size SIZE cuts the file into FILE.part000, FILE.part001, … of at most SIZE bytes
(e.g. 4GiB, 700MiB, 650MB; K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024, kB/MB/GB/TB
of 1000). Concatenated they are the tar; `bundle push` reads them without joining.

--since OLD writes a delta: every blob OLD holds (manifests, configs, layers, chart and
generator contents) is left out and listed as external; index.json still names each image
and chart with its manifest's digest. OLD is an earlier bundle (FILE or FILE.part000) or its
deploykf-bundle.json. The delta records OLD's sha256 and manifest digest; push it onto a
registry that holds OLD's content.

Resuming: blobs are fetched into FILE.blobs/ beside the output, each streamed through a
sha256 check and kept only when its digest matches (a corrupt source blob fails its image).
A re-run after an interruption or a failure fetches only the blobs missing there. The tar
is written as FILE.partial and renamed when complete; FILE.blobs/ is removed on success.

Credentials: --authfile, else REGISTRY_AUTH_FILE, DOCKER_CONFIG, ~/.docker/config.json.
Extra CAs: SSL_CERT_FILE. Plain HTTP: --insecure-registry HOST[:PORT].

Examples:
  deploykf-cmp bundle create -V 0.1.5 -f values.yaml --images-file extra.txt --output deploykf-0.1.5.tar
  deploykf-cmp bundle create -V 0.1.4 -f values-old.yaml -V 0.1.5 -f values.yaml --output upgrade.tar
  deploykf-cmp bundle create -V 0.1.5 -f values.yaml --since deploykf-0.1.4.tar --max-size 4GiB --output delta.tar";

/// `deploykf-cmp bundle create` flags.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The bundle file to write (with --max-size: the name of its parts)
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,

    #[command(flatten)]
    pub sources: SourceSets,

    /// A file of image references, one per line (repeatable)
    #[arg(long, value_name = "FILE")]
    pub images_file: Vec<PathBuf>,

    /// A file of https:// repository charts, one per line (`REPOSITORY NAME VERSION`; repeatable)
    #[arg(long, value_name = "FILE")]
    pub charts_file: Vec<PathBuf>,

    /// Bundle only this platform of multi-platform images (os/arch[/variant], repeatable)
    #[arg(long = "platform", value_name = "OS/ARCH")]
    pub platforms: Vec<String>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Blob downloads at the same time
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    pub jobs: usize,

    /// Split the file into parts of at most SIZE bytes (e.g. 4GiB, 700MiB)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Write a delta leaving out the blobs of an earlier bundle (FILE, FILE.part000 or its deploykf-bundle.json)
    #[arg(long, value_name = "OLD")]
    pub since: Option<PathBuf>,

    /// Show the warnings kustomize, kubectl and helm print while rendering the inventory
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// The values sets: the source flags of [`SourceArgs`], repeatable, each
/// `--source-version`/`--source-path` starting a set that the `--values`
/// after it belong to (with one set, every `--values` belongs to it); and
/// `--mirror`, whose source aliases apply to every image.
#[derive(Debug, Default)]
pub struct SourceSets {
    pub sets: Vec<SourceArgs>,
    pub mirror: Option<PathBuf>,
}

impl Args for SourceSets {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SourceArgs::augment_args(cmd)
            .mut_arg("source_version", |a| a.action(ArgAction::Append).help("A deployKF version (e.g. 0.1.5): starts a values set (repeatable)"))
            .mut_arg("source_path", |a| a.action(ArgAction::Append).help("A generator folder or .zip: starts a values set (repeatable)"))
            .mut_arg("values", |a| a.help("A values file of the set started before it (repeatable, or comma-separated)"))
            .mut_arg("mirror", |a| {
                a.help("A mirror configuration file: only its source aliases apply (mirror.images.sources: pulled from pullFrom); targets are chosen at push")
            })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SourceSets {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let error = |message: &str| clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, format!("{message}\n"));
        let indexed = |id: &str| -> Vec<(usize, String)> {
            match (m.indices_of(id), m.get_raw(id)) {
                (Some(i), Some(v)) => i.zip(v.map(|v| v.to_string_lossy().into_owned())).collect(),
                _ => Vec::new(),
            }
        };
        let mut starts: Vec<(usize, SourceArgs)> = Vec::new();
        for (i, v) in indexed("source_version") {
            starts.push((i, SourceArgs { source_version: Some(v), source_path: None, values: Vec::new(), mirror: None }));
        }
        for (i, p) in indexed("source_path") {
            starts.push((i, SourceArgs { source_version: None, source_path: Some(p.into()), values: Vec::new(), mirror: None }));
        }
        starts.sort_by_key(|(i, _)| *i);
        for (i, file) in indexed("values") {
            let at = starts.iter().rposition(|(start, _)| *start < i);
            match (at, starts.len()) {
                (_, 0) => return Err(error("--values needs --source-version or --source-path")),
                (None, 1) | (Some(_), 1) => starts[0].1.values.push(file.into()),
                (None, _) => return Err(error(&format!("--values {file}: with several sets, give each set's --values after its --source-version/--source-path"))),
                (Some(at), _) => starts[at].1.values.push(file.into()),
            }
        }
        let mirror = m.get_one::<PathBuf>("mirror").cloned();
        Ok(SourceSets { sets: starts.into_iter().map(|(_, s)| s).collect(), mirror })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// Parses `4GiB`, `700MiB`, `650MB`, `1000000`: binary units with `K/M/G/T`
/// and `KiB…TiB`, decimal ones with `kB/KB/MB/GB/TB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?}: write a size such as 4GiB, 700MiB or 650MB"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        "T" | "TiB" => 1 << 40,
        "kB" | "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        other => return Err(format!("{text:?}: unknown unit {other:?} (use KiB, MiB, GiB, TiB, kB, MB, GB or TB)")),
    };
    let size = number.checked_mul(factor).ok_or_else(|| format!("{text:?}: too large"))?;
    if size < 1024 {
        return Err(format!("{text:?}: parts must hold at least 1KiB"));
    }
    Ok(size)
}

impl CreateArgs {
    /// Renders each set's inventory, then writes the bundle.
    pub fn run(self, settings: &Settings) -> Result<()> {
        for p in &self.platforms {
            if !(2..=3).contains(&p.split('/').count()) || p.split('/').any(str::is_empty) {
                bail!("--platform {p:?}: write it as os/arch or os/arch/variant (e.g. linux/amd64)");
            }
        }
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        if self.sources.sets.is_empty() && self.images_file.is_empty() && self.charts_file.is_empty() {
            bail!("nothing to bundle: give --source-version/--source-path with --values, --images-file or --charts-file");
        }
        if self.output.as_os_str().is_empty() || self.output.is_dir() {
            bail!("--output {}: name a file to write", self.output.display());
        }
        let mut images = Vec::new();
        let mut charts = Vec::new();
        for path in &self.images_file {
            images.push((user_input::read_file(path, "--images-file")?, path.display().to_string()));
        }
        for path in &self.charts_file {
            charts.push((user_input::read_file(path, "--charts-file")?, path.display().to_string()));
        }
        let mut sets = Vec::new();
        for source_args in &self.sources.sets {
            let (set, lists) = self.render(source_args, settings)?;
            images.push(lists.0);
            charts.push(lists.1);
            sets.push(set);
        }
        let rules = match &self.sources.mirror {
            Some(path) => Some(crate::mirror::config::load_file(path, "--mirror file")?),
            None => None,
        };
        create::run(
            &create::Request {
                output: self.output,
                rules,
                sets,
                images,
                charts,
                platforms: self.platforms,
                authfile: self.registry.authfile,
                insecure_registries: self.registry.insecure_registries,
                jobs: self.jobs,
                max_size: self.max_size,
                since: self.since,
            },
            settings,
        )
    }

    /// One set: its record, and its image and chart lists (with where they come from).
    #[allow(clippy::type_complexity)]
    fn render(&self, args: &SourceArgs, settings: &Settings) -> Result<(SetInput, ((String, String), (String, String)))> {
        let source = args.require(settings)?;
        let name = args.source_version.clone().unwrap_or_else(|| args.source_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
        let rendered = inventory::render_all(&inventory::Request {
            source: &source,
            values_files: &args.values,
            mirror_file: None,
            verbose: self.verbose,
            settings,
        })
        .with_context(|| format!("the inventory of {name}"))?;
        let entries = inventory::images(&rendered)?;
        let all_charts = inventory::charts(&rendered);
        eprintln!("{name}: the inventory lists {} images and {} charts", entries.len(), all_charts.len());
        if let Some(note) = inventory::local_charts_note(&all_charts) {
            eprintln!("{note}");
        }
        // oci:// charts are bundled as images, the others through the chart list.
        let (oci, https): (Vec<_>, Vec<_>) = all_charts.into_iter().partition(|c| c.repository.trim().starts_with("oci://"));
        let mut image_lines = inventory::format_images(&entries, inventory::Format::List);
        for c in &oci {
            let location = c.repository.trim().trim_start_matches("oci://").trim_end_matches('/');
            let version = c.resolved_version.as_deref().unwrap_or(&c.version).replace('+', "_");
            image_lines.push_str(&format!("{location}/{}:{version}\n", c.name));
        }
        let chart_lines = inventory::format_charts(&https, inventory::Format::List);
        let origin = format!("the inventory of {name}");

        let mut values_digests = Vec::new();
        for file in &args.values {
            let bytes = std::fs::read(file).with_context(|| format!("--values {}: cannot read it", file.display()))?;
            values_digests.push(registry::digest::sha256(&bytes));
        }
        let artifact = source.artifact_path();
        let zip = artifact.is_file().then(|| artifact.to_path_buf());
        let generator_digest = match &zip {
            Some(zip) => Some(format!("sha256:{}", hash_file(zip)?)),
            None => None,
        };
        let version = source.version().map(str::to_string).unwrap_or_else(|| tag_of(artifact));
        let set = format::SourceSet {
            source_version: args.source_version.clone(),
            source_path: args.source_path.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
            generator_digest,
            values_digests,
        };
        Ok((SetInput { set, generator: zip.map(|z| (version, z)) }, ((image_lines, origin.clone()), (chart_lines, origin))))
    }
}

/// The sha256 (hex) of a file, read in blocks.
fn hash_file(path: &std::path::Path) -> Result<String> {
    use registry::digest::Hasher;
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Hasher::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hasher.hex())
}

/// A tag naming a generator given by path: its file name without `.zip`,
/// characters a tag cannot hold as `_`.
fn tag_of(path: &std::path::Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".zip").unwrap_or(&name);
    let tag: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() || "_.-".contains(c) { c } else { '_' }).take(128).collect();
    if tag.is_empty() || tag.starts_with(['.', '-']) {
        format!("_{tag}")
    } else {
        tag
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn sources(args: &[&str]) -> Result<SourceSets, clap::Error> {
        let cli = Cli::try_parse_from(["deploykf-cmp", "bundle", "create", "-o", "b.tar"].iter().chain(args))?;
        let Command::Bundle(crate::cli::bundle::BundleCommand::Create(a)) = cli.command else { panic!("not bundle create") };
        Ok(a.sources)
    }

    fn sets(args: &[&str]) -> Result<Vec<SourceArgs>, clap::Error> {
        sources(args).map(|s| s.sets)
    }

    #[test]
    fn each_source_starts_a_set_with_the_values_after_it() {
        let s = sets(&["-V", "0.1.4", "-f", "a.yaml,b.yaml", "--source-path", "g.zip", "--values", "c.yaml"]).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].source_version.as_deref(), Some("0.1.4"));
        assert_eq!(s[0].values, vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]);
        assert_eq!(s[1].source_path, Some(PathBuf::from("g.zip")));
        assert_eq!(s[1].values, vec![PathBuf::from("c.yaml")]);
        // One set: the values may come first.
        assert_eq!(sets(&["-f", "a.yaml", "-V", "0.1.5"]).unwrap()[0].values, vec![PathBuf::from("a.yaml")]);
        let e = sets(&["-f", "a.yaml", "-V", "0.1.4", "-V", "0.1.5"]).unwrap_err().to_string();
        assert!(e.contains("after its --source-version"), "{e}");
        assert!(sets(&["-f", "a.yaml"]).unwrap_err().to_string().contains("needs --source-version"));
        assert_eq!(sources(&["-V", "0.1.5", "--mirror", "m.yaml"]).unwrap().mirror, Some(PathBuf::from("m.yaml")));
        assert!(sets(&[]).unwrap().is_empty());
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("700M"), Ok(700 << 20));
        assert_eq!(parse_size("650MB"), Ok(650_000_000));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert!(parse_size("12").unwrap_err().contains("at least 1KiB"));
        assert!(parse_size("4 parsecs").unwrap_err().contains("unknown unit"));
        assert!(parse_size("GiB").unwrap_err().contains("write a size"));
    }

    #[test]
    fn generator_tags_are_valid_tags() {
        assert_eq!(tag_of(std::path::Path::new("/x/deploykf-0.1.5-generator.zip")), "deploykf-0.1.5-generator");
        assert_eq!(tag_of(std::path::Path::new("my gen+1.zip")), "my_gen_1");
    }
}
