//! The `mirror` command's work once its inputs are text: image and chart
//! lists planned by the mirror rules ([`plan`], what is left out noted on
//! stderr), a dry run printing the plan, or the copy through the registry
//! client (its TLS roots, insecure registries, timeouts and credentials from
//! the environment) on an async runtime: images by the registry crate's copy,
//! charts downloaded from their chart repository ([`crate::charts::repository`])
//! and pushed as helm does; the reports, every failure listed, the mirror
//! configuration of what was pushed, and the lock of the digests the targets
//! serve ([`super::lock`]).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use registry::chart;
use registry::{CopyJob, CopyOptions, Credentials, OciSettings, RegistryClient};

use super::config::MirrorRules;
use super::lock::Lock;
use super::plan::{self, ChartJob};
use crate::charts::repository::{self, BlobCache};
use crate::settings::Settings;

/// What to copy and how.
pub struct Request {
    /// The image list (`--images-file` text) and where it comes from.
    pub images: Option<(String, String)>,
    /// The chart list (`--charts-file` text) and where it comes from.
    pub charts: Option<(String, String)>,
    /// Whether the images came from `--images-file` (its report is printed even when empty).
    pub images_file_given: bool,
    pub rules: Option<MirrorRules>,
    /// `--authfile`.
    pub authfile: Option<PathBuf>,
    /// Images and blob transfers at the same time.
    pub jobs: usize,
    /// `os/arch[/variant]` filters of multi-platform images.
    pub platforms: Vec<String>,
    /// `--insecure-registry` hosts (the environment's are added).
    pub insecure_registries: Vec<String>,
    pub dry_run: bool,
    /// Where to write the mirror configuration of what was pushed (`-`: stdout).
    pub write_mirror: Option<PathBuf>,
    /// Where to write the lock of the copied images' digests.
    pub write_lock: Option<PathBuf>,
}

/// Plans and copies (or, for a dry run, prints) the request; fails listing
/// every image and chart that failed.
pub fn run(request: &Request, settings: &Settings) -> Result<()> {
    let rules = request.rules.as_ref();
    let (jobs, left) = match &request.images {
        Some((text, origin)) => plan::parse_images(text, origin, rules)?,
        None => Default::default(),
    };
    for image in &left {
        eprintln!("not mirrored (excluded or already in the mirror): {image}");
    }
    let (chart_jobs, charts_left) = match &request.charts {
        Some((text, origin)) => plan::parse_charts(text, origin, rules)?,
        None => Default::default(),
    };
    for chart in &charts_left {
        eprintln!("chart not mirrored: {chart}");
    }
    if request.dry_run {
        for job in &jobs {
            println!("{job}");
        }
        for job in &chart_jobs {
            println!("{job}");
        }
        return write_config(request, &jobs, &chart_jobs);
    }
    let client = authfile_client(request.authfile.as_deref(), &request.insecure_registries, settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(request.jobs.clamp(2, 8))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let chart_report = runtime.block_on(mirror_charts(&client, &chart_jobs, request.jobs));
    if !chart_jobs.is_empty() {
        eprintln!("{}", chart_report.summary());
    }
    let options = CopyOptions { jobs: request.jobs, platforms: request.platforms.clone() };
    let report = runtime.block_on(registry::copy_all(client, jobs.clone(), options));
    if !jobs.is_empty() || request.images_file_given {
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
    if let Some(path) = &request.write_lock {
        // Each rendered name with its target and the digest the copy left
        // under the target's reference.
        let mut lock = Lock::default();
        for (job, digest) in &report.digests {
            lock.insert(job.rendered(), job.target.clone(), digest.clone());
        }
        lock.write(path)?;
        eprintln!("wrote the digests of {} images to the lock file '{}'", lock.entries.len(), path.display());
    }
    write_config(request, &jobs, &chart_jobs)
}

/// The registry client of `mirror` and `bundle`: credentials found from
/// `--authfile` and the environment, and [`registry_client`]'s settings.
pub fn authfile_client(authfile: Option<&std::path::Path>, insecure_registries: &[String], settings: &Settings) -> Result<RegistryClient> {
    let credentials = Credentials::discover_in(authfile, &|n| settings.var_os(n))?;
    registry_client(credentials, insecure_registries, settings)
}

/// A registry client with `credentials`, extra CAs from `SSL_CERT_FILE`,
/// plain-HTTP registries from `insecure_registries` and the environment, the
/// environment's timeouts.
pub fn registry_client(credentials: Credentials, insecure_registries: &[String], settings: &Settings) -> Result<RegistryClient> {
    let mut insecure = insecure_registries.to_vec();
    insecure.extend(settings.insecure_registries());
    let extra_roots = match settings.extra_ca_file() {
        Some(path) => registry::pem_certificates(&path)?,
        None => Vec::new(),
    };
    let timeouts = settings.timeouts()?;
    let oci_settings = OciSettings { extra_roots, insecure_registries: insecure, timeouts, ..Default::default() };
    RegistryClient::new(&oci_settings, credentials)
}

/// The outcome of mirroring charts.
#[derive(Debug, Default)]
struct ChartReport {
    pushed: usize,
    present: usize,
    /// `(chart, reason)` per failed chart.
    failures: Vec<(String, String)>,
}

impl ChartReport {
    fn summary(&self) -> String {
        format!("charts: {} pushed, {} already present, {} failed", self.pushed, self.present, self.failures.len())
    }
}

/// Mirrors every chart, `width` at a time (reported in the input's order);
/// never fails as a whole.
async fn mirror_charts(client: &RegistryClient, jobs: &[ChartJob], width: usize) -> ChartReport {
    use futures_util::StreamExt;
    let mut results = futures_util::stream::iter(jobs).map(|job| async move { (job, mirror_chart(client, job).await) }).buffered(width.max(1));
    let mut report = ChartReport::default();
    while let Some((job, result)) = results.next().await {
        match result {
            Ok(true) => {
                eprintln!("pushed chart {job}");
                report.pushed += 1;
            }
            Ok(false) => {
                eprintln!("present chart {job}");
                report.present += 1;
            }
            Err(e) => {
                eprintln!("FAILED chart {job}: {e:#}");
                report.failures.push((job.to_string(), format!("{e:#}")));
            }
        }
    }
    report
}

/// Downloads one chart from its repository and pushes it; `Ok(false)` when
/// every tag already named its manifest.
async fn mirror_chart(client: &RegistryClient, job: &ChartJob) -> Result<bool> {
    let http = client.client()?;
    let (archive, version) = repository::fetch_chart(http, client.timeouts(), &BlobCache(None), &job.repository, &job.name, &job.version).await?;
    let (host, repository) = job.target.split_once('/').ok_or_else(|| anyhow!("target {} has no repository", job.target))?;
    Ok(chart::push_chart(client, host, repository, &archive, &chart::chart_tags(&version)).await?)
}

fn write_config(request: &Request, jobs: &[CopyJob], charts: &[ChartJob]) -> Result<()> {
    let Some(path) = &request.write_mirror else { return Ok(()) };
    write_mirror_config(path, jobs, charts, request.rules.as_ref())
}

/// Writes the mirror configuration of `jobs` and `charts` (`--write-mirror`
/// of `mirror` and `bundle push`) to `path` (`-`: stdout).
pub fn write_mirror_config(path: &std::path::Path, jobs: &[CopyJob], charts: &[ChartJob], rules: Option<&MirrorRules>) -> Result<()> {
    let text = plan::mirror_config(jobs, charts, rules);
    if path.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    std::fs::write(path, text).with_context(|| format!("cannot write the --write-mirror file {}", path.display()))
}
