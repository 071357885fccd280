//! `deploykf-cmp verify`: whether the mirror holds every image and chart a
//! render uses. The inputs are `mirror`'s (an `--images-file`/`--charts-file`,
//! or the inventory of a values set with the mirror rules placing it), the
//! check is [`crate::mirror::verify`]'s; the answer is a table or JSON on
//! stdout and, when anything is missing, a non-zero exit with the command that
//! copies it.

use anyhow::{bail, Result};
use clap::{ArgGroup, Args};
use serde_json::json;

use super::source::{CopyInputArgs, CopyLists, RegistryArgs};
use super::write_stdout;
use crate::mirror::plan::{parse_charts, parse_images};
use crate::mirror::verify::{self, Item, Options, Status};
use crate::settings::Settings;

pub(super) const VERIFY_HELP: &str = "\
Check that the mirror holds every image and chart a render uses, asking the mirror registry
itself: each image's manifest; for an index, the manifests of the --platform platforms
(default linux/amd64); with --deep, every blob (config and layers) too; each chart's version
tag (as `helm push` tags it: '+' as '_').

The inputs are those of 'deploykf-cmp mirror': --source-path/--source-version with --values
(the inventory 'deploykf-cmp images' lists, runtime-only images included, and its charts,
each where the mirror rules send it: --mirror FILE, else 'mirror:' in the values, else the
file named by DEPLOYKF_CMP_MIRROR_CONFIG), or --images-file (SOURCE or SOURCE=TARGET lines,
targets from --mirror FILE) and --charts-file (REPOSITORY NAME VERSION [oci://TARGET] lines).

Credentials: --authfile, else where 'pull-secret' finds them (REGISTRY_AUTH_FILE, podman's
auth.json, DOCKER_CONFIG, ~/.docker/config.json, HELM_REGISTRY_CONFIG): the check pulls as
the cluster will. Extra CAs: SSL_CERT_FILE. Plain HTTP: --insecure-registry HOST[:PORT].

Output (stdout): a table of every image and chart (present or what is missing, and the
Applications using it), or --output json. Exits 1 when anything is missing or could not be
checked, printing on stderr each of them and the 'deploykf-cmp mirror' command (with the
lists to give it) that copies what is missing.

Examples:
  deploykf-cmp verify --source-version 0.1.5 -f values.yaml --mirror mirror.yaml
  deploykf-cmp verify --images-file images.txt --mirror mirror.yaml --authfile auth.json --deep
  deploykf-cmp verify --images-file images.txt --mirror mirror.yaml --platform linux/amd64 --platform linux/arm64 -o json";

/// `deploykf-cmp verify` flags.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("images").args(["images_file", "source_version", "source_path"])))]
#[command(group(ArgGroup::new("input").required(true).multiple(true).args(["images_file", "source_version", "source_path", "charts_file"])))]
pub struct VerifyArgs {
    #[command(flatten)]
    pub inputs: CopyInputArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// A platform an index must hold (os/arch[/variant], repeatable)
    #[arg(long = "platform", value_name = "OS/ARCH", default_value = "linux/amd64")]
    pub platforms: Vec<String>,

    /// Check every blob (config and layers) too
    #[arg(long)]
    pub deep: bool,

    /// How to print the answer
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    /// Checks at the same time
    #[arg(long, short = 'j', value_name = "N", default_value_t = 8)]
    pub jobs: usize,

}

/// `verify --output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// One line per image and chart
    Table,
    /// A JSON object: every item, and the fix
    Json,
}

impl VerifyArgs {
    /// Checks everything; fails naming what is missing and how to copy it.
    pub fn run(self, settings: &Settings) -> Result<()> {
        super::mirror::check_platforms(&self.platforms)?;
        if self.jobs == 0 {
            bail!("--jobs must be at least 1");
        }
        let items = self.items(settings)?;
        if items.is_empty() {
            bail!("nothing to verify: the inputs list no image or chart that the mirror rules place");
        }
        let client = self.registry.client(settings)?;
        let options = Options { platforms: self.platforms.clone(), deep: self.deep, jobs: self.jobs };
        let statuses = verify::run_checks(&client, &items, &options, None, None)?.expect("no deadline");
        let problems = verify::problems(&items, &statuses);
        let missing: Vec<&Item> = problems.iter().filter(|(_, s)| matches!(s, Status::Missing(_))).map(|(i, _)| *i).collect();
        let fix = (!missing.is_empty()).then(|| verify::fix_script(&missing, &self.fix_flags()));
        let text = match self.output {
            Output::Table => table(&items, &statuses),
            Output::Json => json_answer(&items, &statuses, fix.as_deref()),
        };
        write_stdout(&text)?;
        if problems.is_empty() {
            eprintln!("all {} images and charts are in the mirror", items.len());
            return Ok(());
        }
        let mut message = format!("{} of {} images and charts are not in the mirror:\n", problems.len(), items.len());
        for (item, status) in &problems {
            message += &format!("  {}\n", verify::describe(item, status));
        }
        if let Some(fix) = fix {
            message += &format!(
                "To copy what is missing:\n{fix}(on a site without access to the sources: the same lists to \
                 'deploykf-cmp bundle create' on a connected machine, then 'deploykf-cmp bundle push' here)"
            );
        }
        bail!("{}", message.trim_end())
    }

    /// The `mirror` flags of the fix besides the lists (no `--platform`:
    /// `mirror` then copies every platform, and a filtered copy would drop
    /// the others from the index).
    fn fix_flags(&self) -> String {
        let mut flags = String::new();
        if let Some(path) = &self.registry.authfile {
            flags += &format!(" --authfile {}", verify::shell_word(&path.display().to_string()));
        }
        for host in &self.registry.insecure_registries {
            flags += &format!(" --insecure-registry {}", verify::shell_word(host));
        }
        flags
    }

    /// What to check: the lists `mirror` would copy, placed by the rules.
    fn items(&self, settings: &Settings) -> Result<Vec<Item>> {
        let CopyLists { images, charts, used_by, rules } = self.inputs.lists(settings)?;
        if self.inputs.inventory_given() && rules.is_none() {
            bail!("no mirror configuration: pass --mirror FILE (or set 'mirror:' in the values, or {})", crate::settings::MIRROR_CONFIG_ENV);
        }
        let mut items = Vec::new();
        if let Some((text, origin)) = &images {
            let (jobs, left) = parse_images(text, origin, rules.as_ref())?;
            if !left.is_empty() {
                eprintln!("not checked: {} images the mirror rules leave alone (excluded or already in the mirror)", left.len());
            }
            for job in &jobs {
                let users = used_by.get(&job.rendered().to_string()).cloned().unwrap_or_else(|| [origin.clone()].into());
                items.push(Item::image(job, users));
            }
        }
        if let Some((text, origin)) = &charts {
            let (jobs, left) = parse_charts(text, origin, rules.as_ref())?;
            for note in &left {
                eprintln!("chart not checked: {note}");
            }
            for job in &jobs {
                let key = format!("{} {} {}", job.repository, job.name, job.version);
                let users = used_by.get(&key).cloned().unwrap_or_else(|| [origin.clone()].into());
                items.push(Item::chart(job, users));
            }
        }
        Ok(items)
    }
}

/// The table: `STATUS  KIND  TARGET  USED BY`, then what is missing of each.
fn table(items: &[Item], statuses: &[Status]) -> String {
    let mut rows: Vec<[String; 4]> = vec![["STATUS".into(), "KIND".into(), "TARGET".into(), "USED BY".into()]];
    for (item, status) in items.iter().zip(statuses) {
        let word = match status {
            Status::Present => "present",
            Status::Missing(_) => "missing",
            Status::Failed(_) => "error",
        };
        let used: Vec<&str> = item.used_by.iter().map(String::as_str).collect();
        rows.push([word.into(), item.kind.as_str().into(), item.target.clone(), used.join(",")]);
    }
    let widths: Vec<usize> = (0..4).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out += line.join("  ").trim_end();
        out.push('\n');
        match n.checked_sub(1).map(|i| &statuses[i]) {
            Some(Status::Missing(what)) => out += &format!("    missing: {}\n", what.join(", ")),
            Some(Status::Failed(why)) => out += &format!("    not checked: {why}\n"),
            _ => {}
        }
    }
    let present = statuses.iter().filter(|s| **s == Status::Present).count();
    out += &format!("{present} of {} present\n", items.len());
    out
}

/// The JSON answer: `items` (kind, source, target, status, missing, error,
/// used_by), the counts, and `fix` (the shell lines copying what is missing).
fn json_answer(items: &[Item], statuses: &[Status], fix: Option<&str>) -> String {
    let list: Vec<serde_json::Value> = items
        .iter()
        .zip(statuses)
        .map(|(item, status)| {
            let (word, missing, error) = match status {
                Status::Present => ("present", Vec::new(), None),
                Status::Missing(what) => ("missing", what.clone(), None),
                Status::Failed(why) => ("error", Vec::new(), Some(why.clone())),
            };
            json!({
                "kind": item.kind.as_str(), "source": item.source, "target": item.target, "status": word,
                "missing": missing, "error": error, "used_by": item.used_by,
            })
        })
        .collect();
    let present = statuses.iter().filter(|s| **s == Status::Present).count();
    let answer = json!({"items": list, "present": present, "total": items.len(), "fix": fix});
    serde_json::to_string_pretty(&answer).expect("JSON values serialise") + "\n"
}
