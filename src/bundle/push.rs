//! `bundle push`: a bundle's images and charts pushed into the private
//! registry, under the targets the mirror rules give (the layout of `mirror`:
//! [`plan::parse_images`] for images, [`plan::parse_charts`] and
//! [`chart_tags`] for charts), through the registry client of
//! `mirror`.
//!
//! 1. Plan (no network): each image and chart of the bundle becomes a unit
//!    (target repository, tags, the manifests below its top one in
//!    push order, its blobs), read from the bundle's stored manifests.
//! 2. Check: a unit whose tags already name its manifest is skipped whole.
//!    Every digest the bundle does not store (the base of a delta, platforms
//!    left out) must be in the target repository (a top manifest of the base:
//!    by digest, then fetched from there and put under the tags; an index of
//!    a `--platform` base: the reduced index its tags name), or
//!    mountable from another repository of the push using it; an index child
//!    of a platform the bundle left out is dropped from the pushed index
//!    instead (a reduced index, as `mirror --platform` pushes). Anything missing fails the push,
//!    listing every digest, before a blob or manifest is sent.
//! 3. Blobs, `jobs` at a time in the file's order: a blob the target
//!    repository has is skipped (`HEAD`); one pushed to another repository in
//!    this run is mounted; the others are read from the bundle with their
//!    sha256 checked before they are committed: up to 1 MiB read whole, then
//!    sent; larger ones streamed and hashed on the way; each in the registry
//!    client's one streamed `PUT ?digest=`. A blob whose bytes do not match its digest is never committed (the
//!    upload breaks and is cancelled) and the error names the blob and the
//!    bundle file. Memory stays bounded: each transfer holds a few chunks.
//! 4. Manifests, once every blob of their unit is in: children by digest,
//!    then the top one under each tag. A re-run pushes only what is missing.
//!    Each image's digest under its tag is returned as a [`Lock`].
//!
//! [`extract_generators`] writes the bundle's generator zips
//! (`--extract-generator`).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;

use super::format::{Kind, GENERATOR_TYPE, TITLE};
use super::read::{is_index_type, is_manifest_type, references, Bundle, Child};
use crate::mirror::config::MirrorRules;
use registry::chart::chart_tags;
use registry::copy::{chart_alias, retry};
use registry::digest::sha256 as sha256_digest;
use registry::{CopyJob, Failure, RawManifest, RegistryClient};

use crate::mirror::lock::Lock;
use crate::mirror::plan::{self, ChartJob};

/// Bytes read from the bundle per chunk of an upload.
const CHUNK: usize = 1 << 20;

/// Blobs up to this size go up in one `PUT` (as `mirror` sends them).
const SMALL: u64 = 1 << 20;

/// Uploads of blobs this large are announced on stderr (they take a while).
const NOTE_SIZE: u64 = 64 << 20;

/// What to push, and how.
pub struct Request<'a> {
    pub rules: &'a MirrorRules,
    /// Blob transfers and manifest pushes at the same time.
    pub jobs: usize,
    /// Print the plan, push nothing.
    pub dry_run: bool,
}

/// The outcome of a push.
pub struct Pushed {
    /// The images and charts as `mirror` plans them (for `--write-mirror`).
    pub images: Vec<CopyJob>,
    pub charts: Vec<ChartJob>,
    /// Each image's rendered name, target and the digest its target tag
    /// names after the push (for `--write-lock`); empty after a dry run.
    pub lock: Lock,
}

/// One image or chart to push.
struct Unit {
    /// `SOURCE -> TARGET`, as progress and errors name it.
    label: String,
    host: String,
    repository: String,
    /// The tags (or the digest) the top manifest goes under.
    references: Vec<String>,
    /// The top manifest's digest.
    top: String,
    /// Pinned by digest: its index cannot be reduced.
    pinned: bool,
    /// The platforms the bundle holds (index children of others may be dropped).
    platforms: Vec<String>,
    /// Manifests below and including the top, children first.
    manifests: Vec<Node>,
    /// Config and layer digests with their sizes.
    blobs: BTreeMap<String, u64>,
}

/// A manifest of a unit.
struct Node {
    digest: String,
    media_type: String,
    /// `None` when the bundle does not store it.
    bytes: Option<bytes::Bytes>,
    /// The index entries of an index (with their platforms).
    children: Vec<Child>,
}

/// Counters of one push.
#[derive(Default)]
struct Stats {
    pushed: AtomicU64,
    present: AtomicU64,
    blobs_uploaded: AtomicU64,
    blobs_mounted: AtomicU64,
    blobs_present: AtomicU64,
    bytes_uploaded: AtomicU64,
    manifests: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// Plans the bundle's images and charts under the mirror rules.
fn plan(bundle: &Bundle, rules: &MirrorRules) -> Result<(Vec<Unit>, Vec<CopyJob>, Vec<ChartJob>)> {
    let origin = format!("the bundle {}", bundle.name());
    let mut units = Vec::new();
    let mut image_jobs = Vec::new();
    for image in &bundle.manifest.images {
        let (jobs, left) = plan::parse_images(&image.name, &origin, Some(rules))?;
        let Some(job) = jobs.into_iter().next() else {
            eprintln!("not pushed (the mirror rules leave it alone): {}", left.first().map(ToString::to_string).unwrap_or_default());
            continue;
        };
        let target = &job.target;
        let mut references: Vec<String> = target.tag.iter().chain(target.digest.iter().filter(|_| target.tag.is_none())).cloned().collect();
        let mut unit = unit(bundle, format!("{} -> {target}", image.name), &target.registry, &target.repository, &image.digest)?;
        unit.pinned = target.tag.is_none();
        unit.platforms = image.platforms.clone();
        if let Some(top) = unit.manifests.last().and_then(|n| n.bytes.clone().map(|b| (n, b))) {
            let raw = RawManifest { bytes: top.1, media_type: top.0.media_type.clone(), digest: top.0.digest.clone() };
            references.extend(chart_alias(&raw, target.tag.as_deref()));
        }
        unit.references = references;
        units.push(unit);
        image_jobs.push(job);
    }
    let mut chart_jobs = Vec::new();
    for chart in &bundle.manifest.charts {
        let line = format!("{} {} {}", chart.repository, chart.name, chart.version);
        let (jobs, left) = plan::parse_charts(&line, &origin, Some(rules))?;
        let Some(job) = jobs.into_iter().next() else {
            eprintln!("chart not pushed: {}", left.join("; "));
            continue;
        };
        let (host, repository) = job.target.split_once('/').ok_or_else(|| anyhow!("chart target {} has no repository", job.target))?;
        let mut unit = unit(bundle, job.to_string(), host, repository, &chart.digest)?;
        unit.references = chart_tags(&chart.version);
        units.push(unit);
        chart_jobs.push(job);
    }
    Ok((units, image_jobs, chart_jobs))
}

/// The manifests and blobs below `top`, read from the bundle.
fn unit(bundle: &Bundle, label: String, host: &str, repository: &str, top: &str) -> Result<Unit> {
    enum Step {
        Visit(String, String),
        Emit(Node),
    }
    let mut manifests = Vec::new();
    let mut blobs = BTreeMap::new();
    let mut seen = HashSet::new();
    let media_type = bundle.index.iter().find(|d| d.digest == top).map(|d| d.media_type.clone());
    let media_type = media_type.ok_or_else(|| anyhow!("{}: {top} has no index.json entry", bundle.name()))?;
    // Depth-first; a manifest is emitted after its children (push order).
    let mut stack = vec![Step::Visit(top.to_string(), media_type)];
    while let Some(step) = stack.pop() {
        let (digest, media_type) = match step {
            Step::Emit(node) => {
                manifests.push(node);
                continue;
            }
            Step::Visit(digest, media_type) => (digest, media_type),
        };
        if !seen.insert(digest.clone()) {
            continue;
        }
        let Some(bytes) = bundle.blobs.contains_key(&digest).then(|| bundle.read_blob(&digest)).transpose()? else {
            // Not stored: the target must have it (checked before pushing).
            stack.push(Step::Emit(Node { digest, media_type, bytes: None, children: Vec::new() }));
            continue;
        };
        let refs = references(&bytes).with_context(|| format!("{}: manifest {digest}", bundle.name()))?;
        let children = if is_index_type(&media_type) { refs.clone() } else { Vec::new() };
        stack.push(Step::Emit(Node { digest, media_type, bytes: Some(bytes::Bytes::from(bytes)), children }));
        for r in refs {
            if is_manifest_type(&r.media_type) {
                stack.push(Step::Visit(r.digest, r.media_type));
            } else {
                blobs.insert(r.digest, r.size);
            }
        }
    }
    Ok(Unit {
        label,
        host: host.to_string(),
        repository: repository.to_string(),
        references: Vec::new(),
        top: top.to_string(),
        pinned: false,
        platforms: Vec::new(),
        manifests,
        blobs,
    })
}

/// Pushes the bundle at `path`; fails listing every image and chart that
/// failed, or every digest missing in the target.
pub fn push(path: &Path, request: &Request, client: RegistryClient) -> Result<Pushed> {
    let bundle = Arc::new(Bundle::open(path)?);
    let (units, images, charts) = plan(&bundle, request.rules)?;
    if request.dry_run {
        for unit in &units {
            println!("{}", unit.label);
        }
        return Ok(Pushed { images, charts, lock: Lock::default() });
    }
    // Image units come first, in the order of `images`.
    let labels: Vec<String> = units[..images.len()].iter().map(|u| u.label.clone()).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(request.jobs.clamp(2, 8))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let pusher = Pusher { client, bundle, jobs: request.jobs.max(1), stats: Stats::default(), served: Mutex::default() };
    runtime.block_on(pusher.run(units))?;
    let served = pusher.served.into_inner().unwrap();
    let mut lock = Lock::default();
    for (job, label) in images.iter().zip(&labels) {
        let digest = served.get(label).ok_or_else(|| anyhow!("{label}: pushed, but its digest was not recorded"))?;
        lock.insert(job.rendered(), job.target.clone(), digest.clone());
    }
    Ok(Pushed { images, charts, lock })
}

struct Pusher {
    client: RegistryClient,
    bundle: Arc<Bundle>,
    jobs: usize,
    stats: Stats,
    /// Unit label → the digest its references name once pushed.
    served: Mutex<BTreeMap<String, String>>,
}

/// `(host, digest)` → the repositories of the push using the blob.
type Holders = BTreeMap<(String, String), BTreeSet<String>>;

/// A unit after the check: what is left to push.
struct Todo {
    unit: Unit,
    /// The top manifest as pushed (reduced when children were dropped).
    top: RawManifest,
    /// The references not naming it yet.
    references: Vec<String>,
    /// External manifests to leave out (present in the target, or dropped).
    skip: HashSet<String>,
}

impl Pusher {
    async fn run(&self, units: Vec<Unit>) -> Result<()> {
        let start = Instant::now();
        // The repositories of this push using each blob: where a blob the
        // bundle does not store may be mounted from.
        let mut holders = Holders::new();
        for u in &units {
            for digest in u.blobs.keys() {
                holders.entry((u.host.clone(), digest.clone())).or_default().insert(u.repository.clone());
            }
        }
        let checked: Vec<_> = futures_util::stream::iter(units)
            .map(|unit| self.check(unit, &holders))
            .buffered(self.jobs)
            .collect()
            .await;
        let (mut todo, mut missing, mut failures) = (Vec::new(), Vec::new(), Vec::new());
        for result in checked {
            match result {
                Ok(Ok(Some(t))) => todo.push(t),
                Ok(Ok(None)) => {}
                Ok(Err(lines)) => missing.extend(lines),
                Err((label, e)) => failures.push(format!("  {label}: {e}")),
            }
        }
        if !missing.is_empty() {
            let failed = if failures.is_empty() { String::new() } else { format!("\nand the check failed for:\n{}", failures.join("\n")) };
            bail!(
                "{} digests the bundle does not store are missing in the target registry (push the base bundle of this delta first, or the images it was made against):\n{}{failed}",
                missing.len(),
                missing.join("\n")
            );
        }
        // Blobs in the file's order, each with the repositories needing it.
        let mut needs: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for t in &todo {
            for digest in t.unit.blobs.keys().filter(|d| self.bundle.blobs.contains_key(*d)) {
                needs.entry(digest.clone()).or_default().push((t.unit.host.clone(), t.unit.repository.clone()));
            }
        }
        let mut order: Vec<(String, Vec<(String, String)>)> = needs.into_iter().collect();
        order.sort_by_key(|(d, _)| self.bundle.blobs[d].offset);
        let results: Vec<(String, Result<(), Failure>)> = futures_util::stream::iter(order)
            .map(|(digest, targets)| async move {
                let r = self.push_blob(&digest, &targets).await;
                (digest, r)
            })
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        let failed_blobs: BTreeMap<String, String> = results.into_iter().filter_map(|(d, r)| r.err().map(|e| (d, e.message))).collect();
        let failed_blobs = &failed_blobs;
        let outcomes: Vec<_> = futures_util::stream::iter(todo)
            .map(|t| async move {
                if let Some((d, why)) = t.unit.blobs.keys().find_map(|d| failed_blobs.get(d).map(|w| (d, w))) {
                    return Err(format!("  {}: blob {d}: {why}", t.unit.label));
                }
                self.push_manifests(&t).await.map_err(|e| format!("  {}: {e}", t.unit.label))?;
                eprintln!("pushed {}", t.unit.label);
                add(&self.stats.pushed, 1);
                Ok(())
            })
            .buffer_unordered(self.jobs)
            .collect()
            .await;
        failures.extend(outcomes.into_iter().filter_map(Result::err));
        eprintln!("{}", self.summary(failures.len(), start));
        if !failures.is_empty() {
            bail!("{} images and charts failed:\n{}", failures.len(), failures.join("\n"));
        }
        Ok(())
    }

    fn summary(&self, failed: usize, start: Instant) -> String {
        let s = &self.stats;
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "images and charts: {} pushed, {} already present, {failed} failed; manifests pushed: {}; blobs: {} uploaded ({:.1} MiB), {} mounted, {} already present; {:.1}s",
            g(&s.pushed),
            g(&s.present),
            g(&s.manifests),
            g(&s.blobs_uploaded),
            g(&s.bytes_uploaded) as f64 / 1048576.0,
            g(&s.blobs_mounted),
            g(&s.blobs_present),
            start.elapsed().as_secs_f64()
        )
    }

    /// What is left of `unit`: `Ok(Ok(None))` when the target has it all,
    /// `Ok(Err(lines))` naming each external digest the target lacks.
    async fn check(&self, unit: Unit, holders: &Holders) -> Result<Result<Option<Todo>, Vec<String>>, (String, Failure)> {
        let fail = |e: Failure| (unit.label.clone(), e);
        let (host, repo) = (unit.host.as_str(), unit.repository.as_str());
        let mut present = Vec::new();
        for reference in &unit.references {
            let what = format!("{host}/{repo}:{reference}");
            present.push(retry(&what, || self.client.manifest_digest(host, repo, reference, true)).await.map_err(fail)?);
        }
        if present.iter().all(|p| p.as_deref() == Some(unit.top.as_str())) {
            self.served.lock().unwrap().insert(unit.label.clone(), unit.top.clone());
            eprintln!("present {}", unit.label);
            add(&self.stats.present, 1);
            return Ok(Ok(None));
        }
        if let Some(reduced) = self.reduced_base_index(&unit, &present).await.map_err(fail)? {
            eprintln!("present {} (as the index of platforms {} its base was pushed as)", unit.label, unit.platforms.join(", "));
            self.served.lock().unwrap().insert(unit.label.clone(), reduced);
            add(&self.stats.present, 1);
            return Ok(Ok(None));
        }
        let mut skip = HashSet::new();
        let mut dropped = HashSet::new();
        let mut missing = Vec::new();
        let stored = |d: &str| self.bundle.blobs.contains_key(d);
        for node in unit.manifests.iter().filter(|n| n.bytes.is_none()) {
            let what = format!("{host}/{repo}@{}", node.digest);
            if retry(&what, || self.client.manifest_digest(host, repo, &node.digest, true)).await.map_err(fail)?.is_some() {
                skip.insert(node.digest.clone());
                continue;
            }
            // An index child of a platform the bundle left out.
            let platform = unit.manifests.iter().flat_map(|n| &n.children).find(|c| c.digest == node.digest).and_then(Child::platform_text);
            if let Some(p) = platform.filter(|p| !unit.platforms.is_empty() && !unit.platforms.contains(p)) {
                skip.insert(node.digest.clone());
                dropped.insert(node.digest.clone());
                eprintln!("{}: platform {p} is not in the bundle, left out of the pushed index", unit.label);
                continue;
            }
            missing.push(format!("  manifest {} (of {})", node.digest, unit.label));
        }
        for digest in unit.blobs.keys().filter(|d| !stored(d)) {
            let what = format!("{host}/{repo}@{digest}");
            if retry(&what, || self.client.has_blob(host, repo, digest, true)).await.map_err(fail)? {
                add(&self.stats.blobs_present, 1);
                continue;
            }
            if !self.mount_from_any(host, repo, digest, holders).await.map_err(fail)? {
                missing.push(format!("  blob {digest} (of {})", unit.label));
            }
        }
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
        let top_node = unit.manifests.last().expect("a unit has its top manifest");
        let mut references = unit.references.clone();
        let mut top = match top_node.bytes.clone() {
            Some(bytes) => RawManifest { bytes, media_type: top_node.media_type.clone(), digest: top_node.digest.clone() },
            // A delta's manifest its base holds: the target has it by digest
            // (checked above); tagged with the bytes the target serves.
            None => {
                let what = format!("{host}/{repo}@{}", unit.top);
                let got = retry(&what, || self.client.get_manifest(host, repo, &unit.top)).await.map_err(fail)?;
                let top = got.filter(|m| m.digest == unit.top).ok_or_else(|| {
                    fail(Failure::fatal(format!("{what}: the target no longer serves the manifest of the delta's base")))
                })?;
                let tag = references.first().filter(|_| !unit.pinned).cloned();
                references.extend(chart_alias(&top, tag.as_deref()));
                present.resize(references.len(), None);
                top
            }
        };
        if !dropped.is_empty() {
            if unit.pinned {
                return Err(fail(Failure::fatal("the image is pinned by digest and the bundle lacks some of its platforms; push a bundle with all platforms")));
            }
            let mut doc: serde_json::Value = serde_json::from_slice(&top.bytes).map_err(|e| fail(Failure::fatal(format!("unreadable index: {e}"))))?;
            if let Some(entries) = doc["manifests"].as_array_mut() {
                entries.retain(|e| !e["digest"].as_str().is_some_and(|d| dropped.contains(d)));
            }
            let bytes = bytes::Bytes::from(serde_json::to_vec(&doc).expect("a JSON value serialises"));
            top = RawManifest { digest: sha256_digest(&bytes), bytes, media_type: top.media_type };
        }
        let references: Vec<String> = references
            .into_iter()
            .zip(&present)
            .filter(|(_, p)| p.as_deref() != Some(top.digest.as_str()))
            .map(|(r, _)| r)
            .collect();
        self.served.lock().unwrap().insert(unit.label.clone(), top.digest.clone());
        if references.is_empty() {
            eprintln!("present {}", unit.label);
            add(&self.stats.present, 1);
            return Ok(Ok(None));
        }
        Ok(Ok(Some(Todo { unit, top, references, skip })))
    }

    /// For a `--platform` delta whose top index its base holds: the digest
    /// every tag of `unit` names (`present`) when that is an index of exactly
    /// the bundle's platforms, the reduced index the base's push put there.
    async fn reduced_base_index(&self, unit: &Unit, present: &[Option<String>]) -> Result<Option<String>, Failure> {
        let top = unit.manifests.last().expect("a unit has its top manifest");
        let Some(Some(digest)) = present.first() else { return Ok(None) };
        if top.bytes.is_some() || unit.platforms.is_empty() || !is_index_type(&top.media_type) || present.iter().any(|p| p.as_ref() != Some(digest)) {
            return Ok(None);
        }
        let (host, repo) = (unit.host.as_str(), unit.repository.as_str());
        let what = format!("{host}/{repo}@{digest}");
        let Some(index) = retry(&what, || self.client.get_manifest(host, repo, digest)).await? else { return Ok(None) };
        let children = references(&index.bytes).map_err(|e| Failure::fatal(format!("{what}: {e:#}")))?;
        let mut platforms: Vec<String> = children.iter().filter_map(Child::platform_text).collect();
        platforms.sort();
        platforms.dedup();
        Ok((platforms == unit.platforms).then(|| digest.clone()))
    }

    /// Mounts `digest` into `host/repo` from another repository of this push
    /// using it that has it; `false` when none has.
    async fn mount_from_any(&self, host: &str, repo: &str, digest: &str, holders: &Holders) -> Result<bool, Failure> {
        let others = holders.get(&(host.to_string(), digest.to_string())).into_iter().flatten().filter(|r| *r != repo);
        for from in others {
            let what = format!("{host}/{from}@{digest}");
            if !retry(&what, || self.client.has_blob(host, from, digest, false)).await? {
                continue;
            }
            if self.mount(host, repo, digest, from).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Mounts `digest` from `from`; `false` when the registry opened an upload instead.
    async fn mount(&self, host: &str, repo: &str, digest: &str, from: &str) -> Result<bool, Failure> {
        let what = format!("mount of {digest} into {host}/{repo}");
        match retry(&what, || self.client.start_upload(host, repo, Some((digest, from)))).await? {
            None => {
                add(&self.stats.blobs_mounted, 1);
                Ok(true)
            }
            Some(location) => {
                self.client.cancel_upload(host, repo, &location).await;
                Ok(false)
            }
        }
    }

    /// Puts one stored blob into every repository of `targets`.
    async fn push_blob(&self, digest: &str, targets: &[(String, String)]) -> Result<(), Failure> {
        let size = self.bundle.blobs[digest].size;
        let mut first: Option<&str> = None;
        for (host, repo) in targets {
            let what = format!("{host}/{repo}@{digest}");
            if retry(&what, || self.client.has_blob(host, repo, digest, true)).await? {
                add(&self.stats.blobs_present, 1);
                first.get_or_insert(repo);
                continue;
            }
            if let Some(from) = first.filter(|f| *f != repo.as_str()) {
                if self.mount(host, repo, digest, from).await? {
                    continue;
                }
            }
            if size >= NOTE_SIZE {
                eprintln!("uploading {digest} ({:.0} MiB) to {host}/{repo}", size as f64 / 1048576.0);
            }
            retry(&format!("upload of {digest} to {host}/{repo}"), || self.upload(host, repo, digest, size)).await?;
            add(&self.stats.blobs_uploaded, 1);
            add(&self.stats.bytes_uploaded, size);
            first.get_or_insert(repo);
        }
        Ok(())
    }

    /// One upload of a stored blob through the registry client's streamed
    /// `PUT ?digest=` (the registry checks the digest too). Up to [`SMALL`]
    /// bytes: read whole and checked first. Larger: read from the bundle and
    /// hashed on the way; a mismatch ends the body with an error, so the
    /// upload is never committed.
    async fn upload(&self, host: &str, repo: &str, digest: &str, size: u64) -> Result<(), Failure> {
        let what = format!("upload of blob {digest} to {host}/{repo}");
        if size <= SMALL {
            let (bundle, d) = (self.bundle.clone(), digest.to_string());
            let bytes = tokio::task::spawn_blocking(move || bundle.read_blob(&d))
                .await
                .map_err(|e| Failure::fatal(format!("{what}: reading the bundle: {e}")))?
                .map_err(|e| Failure::fatal(format!("{e:#}")))?;
            let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)) });
            return self.client.push_blob(host, repo, digest, size, body).await;
        }
        // The bundle is read on a blocking thread, a few chunks ahead of the upload.
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(2);
        let corrupt = Arc::new(Mutex::new(None::<String>));
        let reader = {
            let (bundle, digest, corrupt) = (self.bundle.clone(), digest.to_string(), corrupt.clone());
            tokio::task::spawn_blocking(move || -> Result<(), String> {
                let mut blob = bundle.open_blob(&digest).map_err(|e| format!("{e:#}"))?;
                loop {
                    let mut chunk = vec![0u8; CHUNK];
                    let mut filled = 0;
                    let result = loop {
                        match blob.read(&mut chunk[filled..]) {
                            Ok(0) => break Ok(()),
                            Ok(n) => {
                                filled += n;
                                if filled == CHUNK {
                                    break Ok(());
                                }
                            }
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            Err(e) => break Err(e),
                        }
                    };
                    if let Err(e) = result {
                        let message = e.to_string();
                        if e.kind() == std::io::ErrorKind::InvalidData {
                            *corrupt.lock().unwrap() = Some(message.clone());
                        }
                        let _ = sender.blocking_send(Err(e));
                        return Err(message);
                    }
                    if filled == 0 {
                        return Ok(());
                    }
                    chunk.truncate(filled);
                    if sender.blocking_send(Ok(bytes::Bytes::from(chunk))).is_err() {
                        return Err("the upload stopped".to_string());
                    }
                }
            })
        };
        let body = futures_util::stream::unfold(receiver, |mut r| async move { r.recv().await.map(|item| (item, r)) });
        let pushed = self.client.push_blob(host, repo, digest, size, body).await;
        let read = reader.await.unwrap_or_else(|e| Err(format!("reading the bundle: {e}")));
        let corrupt = corrupt.lock().unwrap().clone();
        match (corrupt, pushed, read) {
            // A corrupt blob is never committed, and retrying cannot help.
            (Some(message), _, _) => Err(Failure::fatal(message)),
            (None, Err(e), _) => Err(e),
            (None, Ok(()), Err(why)) => Err(Failure::fatal(format!("{what}: {why}"))),
            (None, Ok(()), Ok(())) => Ok(()),
        }
    }

    /// The manifests of a unit whose blobs are in: children by digest (unless
    /// present), then the top one under each reference.
    async fn push_manifests(&self, todo: &Todo) -> Result<(), Failure> {
        let (host, repo) = (todo.unit.host.as_str(), todo.unit.repository.as_str());
        let (_, children) = todo.unit.manifests.split_last().expect("a unit has its top manifest");
        for node in children.iter().filter(|n| !todo.skip.contains(&n.digest)) {
            let Some(bytes) = node.bytes.clone() else { continue };
            let what = format!("{host}/{repo}@{}", node.digest);
            if retry(&what, || self.client.manifest_digest(host, repo, &node.digest, true)).await?.is_some() {
                continue;
            }
            let manifest = RawManifest { bytes, media_type: node.media_type.clone(), digest: node.digest.clone() };
            retry(&what, || self.client.put_manifest(host, repo, &node.digest, &manifest)).await?;
            add(&self.stats.manifests, 1);
        }
        for reference in &todo.references {
            let what = format!("{host}/{repo}:{reference}");
            retry(&what, || self.client.put_manifest(host, repo, reference, &todo.top)).await?;
            add(&self.stats.manifests, 1);
        }
        Ok(())
    }
}

/// Writes each generator zip of the bundle into `dir` under the file name it
/// had on the connected side (its layer's `org.opencontainers.image.title`,
/// e.g. `deploykf-0.1.5-generator.zip`, the release asset's name), else as
/// `deploykf-<version>-generator.zip`; its digest checked, each file written
/// whole or not at all. Returns the files written.
pub fn extract_generators(path: &Path, dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let bundle = Bundle::open(path)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the --extract-generator folder {}", dir.display()))?;
    let mut written = Vec::new();
    for entry in bundle.entries(Kind::Generator) {
        let at = || format!("{}: generator manifest {}", bundle.name(), entry.digest);
        let manifest: serde_json::Value = serde_json::from_slice(&bundle.read_blob(&entry.digest)?).with_context(at)?;
        let layer = manifest["layers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["mediaType"] == GENERATOR_TYPE)
            .ok_or_else(|| anyhow!("{}: no {GENERATOR_TYPE} layer", at()))?;
        let digest = layer["digest"].as_str().unwrap_or_default();
        let version = bundle.manifest.generators.iter().find(|g| g.digest == digest).map(|g| g.version.as_str());
        let title = layer["annotations"][TITLE].as_str().filter(|t| t.ends_with(".zip") && plain_file_name(t));
        let name = match (title, version) {
            (Some(title), _) => title.to_string(),
            (None, Some(v)) if plain_file_name(v) => format!("deploykf-{v}-generator.zip"),
            _ => bail!("{}: the generator {digest} has neither a usable file name nor version", at()),
        };
        let target = dir.join(name);
        let mut temp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write into {}", dir.display()))?;
        let mut blob = bundle.open_blob(digest)?;
        std::io::copy(&mut blob, temp.as_file_mut()).with_context(|| format!("{}: extracting the generator {digest}", bundle.name()))?;
        temp.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
        written.push(target);
    }
    if written.is_empty() {
        bail!("{}: the bundle holds no generator zip", bundle.name());
    }
    Ok(written)
}

/// A name of one plain file (no folders, no `..`, no hidden file).
fn plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}
