//! Image copies registry → registry, exact and resumable, of the (source,
//! target) [`CopyJob`]s a caller planned.
//!
//! Per image: the source manifest is fetched raw and pushed byte for byte (same
//! digest), by digest for the per-platform manifests of an index and by tag for
//! the top one. An image whose tag already points at the same digest on the
//! target is skipped whole; so is a child manifest already present. Blobs: a
//! blob this run has met in another repository of the same target registry
//! is mounted from there (`POST …/blobs/uploads/?mount=…&from=…`); a new one
//! is checked with `HEAD` (or, once the registry has shown it mounts, with a
//! mount from the repository itself, which opens the upload when the blob is
//! missing); a missing one is streamed from the source `GET` into one upload
//! `PATCH`, its sha256 computed on the way: a blob whose bytes do not match
//! its digest is cancelled (never committed) and the image fails. A re-run
//! thus redoes only what is missing. Every request costs the target an
//! authentication (a bcrypt check with htpasswd), so each blob takes as few
//! as the registry allows.
//!
//! `--platform os/arch` filters the children of an index (an index nested in
//! it, which names no platform, is copied whole). When every child matches,
//! the index is pushed unchanged. Otherwise a reduced index (the
//! original JSON without the other entries) is pushed under the tag: its
//! digest differs from the source's, as with `skopeo copy` selecting
//! instances; an image pinned by digest cannot be filtered and fails.
//!
//! Helm charts in OCI registries copy like images; a chart tagged
//! `v<digit>…` is also tagged without the `v` ([`chart_alias`]). Chart
//! archives from elsewhere are pushed as `helm push` does by [`crate::chart`].
//!
//! Images run `jobs` at a time and blob transfers at most `jobs` at a time;
//! transient failures (connection, timeout, 5xx, 429) are retried with
//! exponential backoff and jitter, [`ATTEMPTS`] times at most. Every attempt
//! has a deadline (see [`crate::Timeouts`]), so an operation's
//! retries end in bounded time too.
//!
//! Progress (bars on a terminal, plain lines otherwise) is reported through
//! [`progress::Progress`].

pub mod progress;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use image_ref::{api_host, ImageRef};
use tokio::sync::{OnceCell, Semaphore};

use crate::chart::HELM_CONFIG_MEDIA_TYPE;
use crate::client::{self, with_query, Failure, FailureKind, RawManifest, RegistryClient, Scope};
use crate::digest;
use progress::Progress;

/// One image to copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyJob {
    /// Where the image is pulled from.
    pub source: ImageRef,
    pub target: ImageRef,
    /// The name the render holds, when a source alias pulls it from elsewhere.
    pub original: Option<ImageRef>,
}

impl CopyJob {
    /// The name the render holds (the alias's `from` side, else the source).
    pub fn rendered(&self) -> &ImageRef {
        self.original.as_ref().unwrap_or(&self.source)
    }
}

impl std::fmt::Display for CopyJob {
    /// `SOURCE -> TARGET`, or `ORIGINAL -> TARGET (pulled from ALIAS)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.original {
            Some(original) => write!(f, "{original} -> {} (pulled from {})", self.target, self.source),
            None => write!(f, "{} -> {}", self.source, self.target),
        }
    }
}

/// Attempts per operation (first try included).
const ATTEMPTS: u32 = 5;

/// Run settings.
#[derive(Clone, Debug)]
pub struct CopyOptions {
    pub jobs: usize,
    /// `os/arch` or `os/arch/variant`; empty: all platforms.
    pub platforms: Vec<String>,
}

/// Counters of one run.
#[derive(Debug, Default)]
pub struct Stats {
    pub images_copied: AtomicU64,
    pub images_skipped: AtomicU64,
    pub manifests_pushed: AtomicU64,
    pub blobs_uploaded: AtomicU64,
    pub blobs_mounted: AtomicU64,
    pub blobs_skipped: AtomicU64,
    pub bytes_uploaded: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// The outcome of a run.
#[derive(Debug)]
pub struct Report {
    pub stats: Stats,
    /// `(source → target, reason)` for every failed image.
    pub failures: Vec<(String, String)>,
    /// Every image the target holds after the run (copied or already there),
    /// with the digest its target reference names.
    pub digests: Vec<(CopyJob, String)>,
    pub elapsed: Duration,
}

impl Report {
    /// The summary lines.
    pub fn summary(&self) -> String {
        let s = &self.stats;
        let g = Stats::get;
        format!(
            "images: {} copied, {} already present, {} failed; manifests pushed: {}; blobs: {} uploaded ({:.1} MiB), {} mounted, {} already present; {:.1}s",
            g(&s.images_copied),
            g(&s.images_skipped),
            self.failures.len(),
            g(&s.manifests_pushed),
            g(&s.blobs_uploaded),
            g(&s.bytes_uploaded) as f64 / 1048576.0,
            g(&s.blobs_mounted),
            g(&s.blobs_skipped),
            self.elapsed.as_secs_f64()
        )
    }
}

/// A repository of the target registry holding a blob, per `(target host,
/// digest)`, as learnt in this run (found there or pushed there), or the
/// failure of the first attempt.
type Known = Arc<OnceCell<Result<String, Failure>>>;

struct Engine {
    client: RegistryClient,
    options: CopyOptions,
    stats: Stats,
    transfers: Semaphore,
    known: Mutex<HashMap<(String, String), Known>>,
    /// Target hosts that have mounted a blob across repositories in this run.
    mounting: Mutex<HashSet<String>>,
    progress: Arc<dyn Progress>,
}

/// Whether an image was copied (`false`: the target had it) and the digest
/// its target reference names.
type Copied = (bool, String);

/// Copies every job; never fails as a whole (failures are in the report).
/// Progress goes to stderr: bars on a terminal, plain lines otherwise.
pub async fn copy_all(client: RegistryClient, jobs: Vec<CopyJob>, options: CopyOptions) -> Report {
    let progress: Arc<dyn Progress> = progress::for_stderr(jobs.len()).into();
    copy_all_with(client, jobs, options, progress).await
}

/// [`copy_all`] reporting to `progress`.
pub async fn copy_all_with(client: RegistryClient, jobs: Vec<CopyJob>, options: CopyOptions, progress: Arc<dyn Progress>) -> Report {
    let start = Instant::now();
    let width = options.jobs.max(1);
    let engine = Arc::new(Engine {
        client,
        transfers: Semaphore::new(width),
        options,
        stats: Stats::default(),
        known: Mutex::new(HashMap::new()),
        mounting: Mutex::new(HashSet::new()),
        progress,
    });
    let results: Vec<(CopyJob, Result<Copied, Failure>)> = futures_util::stream::iter(jobs.into_iter().enumerate())
        .map(|(index, job)| {
            let engine = engine.clone();
            async move {
                engine.progress.start(index, &job);
                let handle = tokio::spawn({
                    let engine = engine.clone();
                    let job = job.clone();
                    async move { engine.copy_image(index, &job).await }
                });
                let result = handle.await.unwrap_or_else(|e| Err(Failure::fatal(format!("the copy task failed: {e}"))));
                engine.progress.finish(index, &job, &result.as_ref().map(|(copied, _)| *copied).map_err(Failure::clone));
                (job, result)
            }
        })
        .buffer_unordered(width)
        .collect()
        .await;
    let (mut failures, mut digests) = (Vec::new(), Vec::new());
    for (job, result) in results {
        match result {
            Ok((copied, digest)) => {
                Stats::add(if copied { &engine.stats.images_copied } else { &engine.stats.images_skipped }, 1);
                digests.push((job, digest));
            }
            Err(e) => failures.push((job.to_string(), e.message)),
        }
    }
    let engine = Arc::try_unwrap(engine).unwrap_or_else(|_| panic!("all copy tasks are done"));
    Report { stats: engine.stats, failures, digests, elapsed: start.elapsed() }
}

/// Runs `op` until it succeeds, fails for good, or runs out of attempts.
pub async fn retry<T, F, Fut>(what: &str, mut op: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.transient && attempt < ATTEMPTS => {
                let jitter = Duration::from_millis(fastrand::u64(0..=delay.as_millis() as u64 / 2));
                eprintln!("retrying {what} in {:.1}s (attempt {attempt}/{ATTEMPTS}): {e}", (delay + jitter).as_secs_f64());
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) if e.transient => {
                return Err(Failure::fatal(format!("{e} (gave up after {ATTEMPTS} attempts)")));
            }
            Err(e) => return Err(e),
        }
    }
    unreachable!("the last attempt returns")
}

/// The blobs of an image manifest (config and layers; foreign layers, fetched
/// from their URLs, left out) with their sizes.
fn blobs_of(manifest: &RawManifest) -> Result<Vec<(String, u64)>, Failure> {
    let doc: serde_json::Value =
        serde_json::from_slice(&manifest.bytes).map_err(|e| Failure::fatal(format!("unreadable manifest: {e}")))?;
    if doc["schemaVersion"].as_u64() == Some(1) {
        return Err(Failure::fatal("schema 1 manifests are not supported"));
    }
    let descriptors = std::iter::once(&doc["config"]).chain(doc["layers"].as_array().into_iter().flatten());
    Ok(descriptors
        .filter(|d| d.get("urls").is_none())
        .filter_map(|d| d["digest"].as_str().map(|digest| (digest.to_string(), d["size"].as_u64().unwrap_or(0))))
        .collect())
}

/// True for an image index or a Docker manifest list.
pub fn is_index(m: &RawManifest) -> bool {
    m.media_type.contains("index") || m.media_type.contains("manifest.list")
}

/// The `os/arch[/variant]` of an index entry.
pub fn platform_of(entry: &serde_json::Value) -> String {
    let p = &entry["platform"];
    let mut s = format!("{}/{}", p["os"].as_str().unwrap_or(""), p["architecture"].as_str().unwrap_or(""));
    if let Some(v) = p["variant"].as_str() {
        s.push('/');
        s.push_str(v);
    }
    s
}

/// For a Helm chart tagged `v<digit>…`, the tag without the `v`: deployKF's
/// dependency versions name charts such as cert-manager without it.
pub fn chart_alias(manifest: &RawManifest, tag: Option<&str>) -> Option<String> {
    let rest = tag?.strip_prefix('v')?;
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(&manifest.bytes).ok()?;
    (doc["config"]["mediaType"] == HELM_CONFIG_MEDIA_TYPE).then(|| rest.to_string())
}

/// True when `platform` (`os/arch[/variant]`) is selected by `filters`.
pub fn platform_selected(filters: &[String], platform: &str) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| f == platform || (f.matches('/').count() == 1 && platform.starts_with(&format!("{f}/"))))
}

struct Side<'a> {
    host: &'a str,
    repository: &'a str,
    /// The index of the job in the run (for progress events).
    image: usize,
}

impl Engine {
    /// Copies one image; `Ok(false)` when the target already had it, with
    /// the digest the target reference names.
    async fn copy_image(&self, image: usize, job: &CopyJob) -> Result<Copied, Failure> {
        let (src, dst) = (&job.source, &job.target);
        let source = Side { host: &src.registry, repository: &src.repository, image };
        let target = Side { host: &dst.registry, repository: &dst.repository, image };
        let src_ref = src.digest.clone().or_else(|| src.tag.clone()).unwrap_or_default();
        let manifest = retry(&format!("{src}"), || self.client.get_manifest(source.host, source.repository, &src_ref))
            .await?
            .ok_or_else(|| self.not_found(source.host, source.repository, &src_ref, "the tag or repository"))?;
        if let Some(d) = &src.digest {
            if *d != manifest.digest {
                return Err(Failure::fatal(format!("{src}: the source served a manifest of digest {}", manifest.digest)));
            }
        }
        let dst_ref = dst.tag.clone().or_else(|| dst.digest.clone()).unwrap_or_default();
        let present = retry(&format!("{dst}"), || self.client.manifest_digest(target.host, target.repository, &dst_ref, true)).await?;
        // Unfiltered, the target's digest is the source's: an up-to-date image costs two requests.
        let alias = chart_alias(&manifest, dst.tag.as_deref());
        if present.as_deref() == Some(manifest.digest.as_str()) {
            return Ok((self.push_alias(&target, alias.as_deref(), &manifest).await?, manifest.digest));
        }
        let manifest = if is_index(&manifest) { self.copy_index(&source, &target, manifest, dst.digest.is_some()).await? } else { manifest };
        if present.as_deref() == Some(manifest.digest.as_str()) {
            return Ok((false, manifest.digest));
        }
        if !is_index(&manifest) {
            self.copy_blobs(&source, &target, &manifest).await?;
        }
        self.put_manifest(&source, &target, &dst_ref, &manifest, &format!("{dst}")).await?;
        Stats::add(&self.stats.manifests_pushed, 1);
        self.push_alias(&target, alias.as_deref(), &manifest).await?;
        Ok((true, manifest.digest))
    }

    /// A manifest the source answered 404 for (its `/v2/` answered as a registry).
    fn not_found(&self, host: &str, repository: &str, reference: &str, missing: &str) -> Failure {
        let url = self.client.manifest_url(host, repository, reference);
        Failure::fatal(format!(
            "manifest unknown: GET {url} answered 404 Not Found; {} answers as a registry, so {missing} does not exist there",
            api_host(host)
        ))
    }

    /// Tags `manifest` also as `alias` unless it already is; `Ok(true)` when it pushed.
    async fn push_alias(&self, target: &Side<'_>, alias: Option<&str>, manifest: &RawManifest) -> Result<bool, Failure> {
        let Some(alias) = alias else { return Ok(false) };
        let what = format!("{}/{}:{alias}", target.host, target.repository);
        let present = retry(&what, || self.client.manifest_digest(target.host, target.repository, alias, true)).await?;
        if present.as_deref() == Some(manifest.digest.as_str()) {
            return Ok(false);
        }
        retry(&what, || self.client.put_manifest(target.host, target.repository, alias, manifest)).await?;
        Stats::add(&self.stats.manifests_pushed, 1);
        Ok(true)
    }

    /// Copies the selected children of an index; returns the index to push.
    async fn copy_index(&self, source: &Side<'_>, target: &Side<'_>, index: RawManifest, pinned: bool) -> Result<RawManifest, Failure> {
        let mut doc: serde_json::Value = serde_json::from_slice(&index.bytes)
            .map_err(|e| Failure::fatal(format!("{}/{}: unreadable index: {e}", source.host, source.repository)))?;
        let entries = doc["manifests"].as_array().cloned().unwrap_or_default();
        let selected: Vec<serde_json::Value> =
            // An entry without a platform (a nested index) cannot be filtered: it is kept whole.
            entries.iter().filter(|e| e["platform"].is_null() || platform_selected(&self.options.platforms, &platform_of(e))).cloned().collect();
        if selected.is_empty() {
            return Err(Failure::fatal(format!(
                "{}/{}: no manifest for platform(s) {} in the index",
                source.host,
                source.repository,
                self.options.platforms.join(", ")
            )));
        }
        let children = futures_util::future::join_all(selected.iter().map(|e| async move {
            let digest = e["digest"].as_str().unwrap_or_default().to_string();
            self.copy_child(source, target, &digest).await
        }))
        .await;
        for r in children {
            r?;
        }
        if selected.len() == entries.len() {
            return Ok(index);
        }
        if pinned {
            return Err(Failure::fatal(format!(
                "{}/{}: the image is pinned by digest and --platform would change that digest; copy all platforms",
                source.host, source.repository
            )));
        }
        doc["manifests"] = serde_json::Value::Array(selected);
        let bytes = bytes::Bytes::from(serde_json::to_vec(&doc).expect("a JSON value serialises"));
        let digest = digest::sha256(&bytes);
        Ok(RawManifest { bytes, media_type: index.media_type, digest })
    }

    /// Copies one child manifest of an index (by digest) with its blobs, or
    /// with its own children when it is an index itself, unless present.
    async fn copy_child(&self, source: &Side<'_>, target: &Side<'_>, digest: &str) -> Result<(), Failure> {
        let what = format!("{}/{}@{digest}", source.host, source.repository);
        if retry(&what, || self.client.manifest_digest(target.host, target.repository, digest, true)).await?.is_some() {
            return Ok(());
        }
        let manifest = retry(&what, || self.client.get_manifest(source.host, source.repository, digest))
            .await?
            .ok_or_else(|| self.not_found(source.host, source.repository, digest, "this manifest named by the index"))?;
        if manifest.digest != digest {
            return Err(Failure::fatal(format!("{what}: the source served a manifest of digest {}", manifest.digest)));
        }
        if is_index(&manifest) {
            // A nested index goes whole: filtering it would change the digest its parent names.
            let doc: serde_json::Value =
                serde_json::from_slice(&manifest.bytes).map_err(|e| Failure::fatal(format!("{what}: unreadable index: {e}")))?;
            let children: Vec<String> =
                doc["manifests"].as_array().into_iter().flatten().filter_map(|e| e["digest"].as_str().map(str::to_string)).collect();
            let copies = children.iter().map(|d| Box::pin(self.copy_child(source, target, d)));
            for result in futures_util::future::join_all(copies).await {
                result?;
            }
        } else {
            self.copy_blobs(source, target, &manifest).await?;
        }
        self.put_manifest(source, target, digest, &manifest, &what).await?;
        Stats::add(&self.stats.manifests_pushed, 1);
        Ok(())
    }

    /// Pushes a manifest whose blobs were copied. When the registry answers
    /// `MANIFEST_BLOB_UNKNOWN` anyway (docker-registry does, now and then,
    /// for a blob it reported present or mounted while the same blob was
    /// being committed elsewhere), each blob is asked for again by a mount
    /// from the repository itself, which succeeds only when the repository
    /// holds it and otherwise opens the upload it then goes into; then the
    /// push is made once more.
    async fn put_manifest(&self, source: &Side<'_>, target: &Side<'_>, reference: &str, manifest: &RawManifest, what: &str) -> Result<(), Failure> {
        let put = || retry(what, || self.client.put_manifest(target.host, target.repository, reference, manifest));
        match put().await {
            Err(f) if f.message.contains("MANIFEST_BLOB_UNKNOWN") && !is_index(manifest) => {
                self.progress.note(&format!("{what}: the registry does not find a blob of this manifest; asking for each blob again"));
                for (digest, size) in blobs_of(manifest)? {
                    let own = Some((digest.as_str(), target.repository));
                    if let Some(location) = retry(what, || self.client.start_upload(target.host, target.repository, own)).await? {
                        self.upload(source, target, &digest, size, Some(location)).await?;
                    }
                }
                put().await
            }
            result => result,
        }
    }

    /// Copies the config and layers of an image manifest, concurrently.
    async fn copy_blobs(&self, source: &Side<'_>, target: &Side<'_>, manifest: &RawManifest) -> Result<(), Failure> {
        let blobs = blobs_of(manifest).map_err(|e| Failure::fatal(format!("{}/{}: {}", source.host, source.repository, e.message)))?;
        let results = futures_util::future::join_all(blobs.iter().map(|(d, size)| self.copy_blob(source, target, d, *size))).await;
        // Report every failed blob of the image.
        let errors: Vec<String> = results.into_iter().filter_map(|r| r.err().map(|e| e.message)).collect();
        if !errors.is_empty() {
            return Err(Failure::fatal(errors.join("; ")));
        }
        Ok(())
    }

    /// Copies one blob unless the target repository has it. The first task
    /// to meet a digest on a target registry checks (`HEAD`) and uploads it;
    /// the others wait for that and then mount it from the repository where
    /// it is, without a `HEAD` of their own (a mount of a blob the repository
    /// already has succeeds too). Every request to the target costs it an
    /// authentication, so the fewer the faster.
    async fn copy_blob(&self, source: &Side<'_>, target: &Side<'_>, digest: &str, size: u64) -> Result<(), Failure> {
        let what = format!("blob {digest}");
        let cell: Known = self
            .known
            .lock()
            .unwrap()
            .entry((target.host.to_string(), digest.to_string()))
            .or_default()
            .clone();
        let mut first = false;
        let outcome = cell
            .get_or_init(|| async {
                first = true;
                self.check_and_upload(source, target, digest, size).await.map(|()| target.repository.to_string())
            })
            .await
            .clone();
        match outcome {
            Ok(_) if first => Ok(()),
            Err(e) if first => Err(e),
            Ok(repo) if repo == target.repository => {
                Stats::add(&self.stats.blobs_skipped, 1);
                Ok(())
            }
            Ok(from) => {
                let mounted =
                    retry(&what, || self.client.start_upload(target.host, target.repository, Some((digest, &from)))).await?;
                match mounted {
                    None => {
                        self.mounting.lock().unwrap().insert(target.host.to_string());
                        Stats::add(&self.stats.blobs_mounted, 1);
                        Ok(())
                    }
                    // The registry opened an upload instead of mounting: use it.
                    Some(location) => self.upload(source, target, digest, size, Some(location)).await,
                }
            }
            // The first copy failed: try on our own (its failure may have been its repository's).
            Err(_) => self.check_and_upload(source, target, digest, size).await,
        }
    }

    /// Whether the target repository has the blob, then the upload when it
    /// does not. On a host that has mounted across repositories in this run
    /// the check is a mount from the repository itself: `201` when the blob
    /// is there, else the registry opens the upload the blob then goes into
    /// (one request instead of `HEAD` + `POST`). Elsewhere, or when that
    /// mount is refused, a `HEAD`.
    async fn check_and_upload(&self, source: &Side<'_>, target: &Side<'_>, digest: &str, size: u64) -> Result<(), Failure> {
        let what = format!("blob {digest}");
        if self.mounting.lock().unwrap().contains(target.host) {
            let own = Some((digest, target.repository));
            match retry(&what, || self.client.start_upload(target.host, target.repository, own)).await {
                Ok(None) => {
                    Stats::add(&self.stats.blobs_skipped, 1);
                    return Ok(());
                }
                Ok(Some(location)) => return self.upload(source, target, digest, size, Some(location)).await,
                Err(_) => {
                    self.mounting.lock().unwrap().remove(target.host);
                }
            }
        }
        if retry(&what, || self.client.has_blob(target.host, target.repository, digest, true)).await? {
            Stats::add(&self.stats.blobs_skipped, 1);
            return Ok(());
        }
        self.upload(source, target, digest, size, None).await
    }

    /// Streams a blob source → target with retries, holding a transfer slot.
    /// `opened`: an upload the target already started (used by the first attempt).
    async fn upload(&self, source: &Side<'_>, target: &Side<'_>, digest: &str, size: u64, opened: Option<String>) -> Result<(), Failure> {
        if !digest.starts_with("sha256:") {
            if let Some(l) = &opened {
                self.client.cancel_upload(target.host, target.repository, l).await;
            }
            return Err(Failure::fatal(format!("blob {digest}: only sha256 digests are supported")));
        }
        let _slot = self.transfers.acquire().await.expect("the semaphore is never closed");
        if size >= 64 << 20 {
            self.progress.note(&format!("uploading {digest} ({:.0} MiB) to {}/{}", size as f64 / 1048576.0, target.host, target.repository));
        }
        self.progress.upload_started(target.image, size);
        let streamed = Arc::new(AtomicU64::new(0));
        let opened = Mutex::new(opened);
        retry(&format!("blob {digest}"), || {
            let streamed = streamed.clone();
            let location = opened.lock().unwrap().take();
            async move {
                streamed.store(0, Ordering::Relaxed);
                let result = if size <= CHUNK as u64 {
                    self.small_once(source, target, digest, size, location, &streamed).await
                } else {
                    self.stream_once(source, target, digest, size, location, &streamed).await
                };
                if result.is_err() {
                    self.progress.rewind(target.image, streamed.load(Ordering::Relaxed));
                }
                result
            }
        })
        .await?;
        Stats::add(&self.stats.blobs_uploaded, 1);
        Stats::add(&self.stats.bytes_uploaded, size);
        Ok(())
    }

    /// The upload `location`, or a new one.
    async fn open_upload(&self, target: &Side<'_>, location: Option<String>) -> Result<String, Failure> {
        match location {
            Some(l) => Ok(l),
            None => self
                .client
                .start_upload(target.host, target.repository, None)
                .await?
                .ok_or_else(|| Failure::fatal("the registry mounted a blob that was not asked for")),
        }
    }

    /// One attempt for a blob of at most [`CHUNK`] bytes: read it whole from
    /// the source, check it, then a monolithic upload (POST, then one PUT with
    /// the bytes and the digest): one request fewer than streaming, which
    /// matters when most blobs are small and every request is authenticated.
    async fn small_once(
        &self,
        source: &Side<'_>,
        target: &Side<'_>,
        digest: &str,
        size: u64,
        location: Option<String>,
        streamed: &Arc<AtomicU64>,
    ) -> Result<(), Failure> {
        let body = match self.read_small(source, target, digest, size, streamed).await {
            Ok(body) => body,
            Err(e) => {
                if let Some(l) = &location {
                    self.client.cancel_upload(target.host, target.repository, l).await;
                }
                return Err(e);
            }
        };
        let what = format!("upload of blob {digest} to {}/{}", target.host, target.repository);
        let location = self.open_upload(target, location).await?;
        let scope = Scope { host: target.host, repository: target.repository, push: true, also_pull: None };
        let commit = with_query(&location, "digest", digest);
        let response = self
            .client
            .send_within(&scope, &what, self.client.timeouts().blob(size), |c| {
                c.put(&commit)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header(reqwest::header::CONTENT_LENGTH, size)
                    .body(body.clone())
            })
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            self.client.cancel_upload(target.host, target.repository, &location).await;
            return Err(Failure::from_code(&what, status, "", ""));
        }
        Ok(())
    }

    /// A small blob read whole from the source and checked against its digest.
    async fn read_small(&self, source: &Side<'_>, target: &Side<'_>, digest: &str, size: u64, streamed: &Arc<AtomicU64>) -> Result<bytes::Bytes, Failure> {
        let expected = digest.strip_prefix("sha256:").expect("upload checked the algorithm");
        let url = self.client.blob_url(source.host, source.repository, digest);
        let response = self.client.get_blob(source.host, source.repository, digest, size).await?;
        let mut body = bytes::BytesMut::with_capacity(size as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Failure::from_reqwest(&format!("GET {url}"), &e))?;
            body.extend_from_slice(&chunk);
            if body.len() as u64 > size {
                break;
            }
        }
        let body = body.freeze();
        streamed.fetch_add(body.len() as u64, Ordering::Relaxed);
        self.progress.transferred(target.image, body.len() as u64);
        let actual = digest::sha256_hex(&body);
        if actual != expected || body.len() as u64 != size {
            let length = body.len() as u64;
            return Err(Failure::new(FailureKind::Corrupt, format!(
                "GET {url}: the source served {length}{} bytes of digest sha256:{actual} (expected {size} bytes of {digest}): corrupt source blob, not pushed",
                if length > size { "+" } else { "" },
            )));
        }
        Ok(body)
    }

    /// One attempt: GET from the source, one PATCH to the target with the
    /// bytes hashed on the way, then the committing PUT only when the digest
    /// and size match.
    /// Bytes read from the source are added to `streamed` and reported.
    async fn stream_once(
        &self,
        source: &Side<'_>,
        target: &Side<'_>,
        digest: &str,
        size: u64,
        location: Option<String>,
        streamed: &Arc<AtomicU64>,
    ) -> Result<(), Failure> {
        let expected = digest.strip_prefix("sha256:").expect("upload checked the algorithm");
        let location = self.open_upload(target, location).await?;
        let response = match self.client.get_blob(source.host, source.repository, digest, size).await {
            Ok(r) => r,
            Err(e) => {
                self.client.cancel_upload(target.host, target.repository, &location).await;
                return Err(e);
            }
        };
        // (hash, bytes read, source ended, source failure)
        let state = Arc::new(Mutex::new((digest::Hasher::new(), 0u64, false, None::<Failure>)));
        let hashing = state.clone();
        let source_url = format!("GET {}", self.client.blob_url(source.host, source.repository, digest));
        let (progress, image, streamed, what_source) = (self.progress.clone(), target.image, streamed.clone(), source_url.clone());
        let body = rechunk(response.bytes_stream()).map(move |chunk| -> Result<bytes::Bytes, std::io::Error> {
            let bytes = chunk.map_err(|e| {
                hashing.lock().unwrap().3 = Some(Failure::from_reqwest(&what_source, &e));
                std::io::Error::other(e)
            })?;
            streamed.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            progress.transferred(image, bytes.len() as u64);
            let mut s = hashing.lock().unwrap();
            s.0.update(&bytes);
            s.1 += bytes.len() as u64;
            if s.1 > size {
                // More bytes than the descriptor says: stop before sending them.
                return Err(std::io::Error::other("the source blob is longer than its descriptor's size"));
            }
            Ok(bytes)
        });
        let body = body.chain(futures_util::stream::once({
            let ended = state.clone();
            async move {
                ended.lock().unwrap().2 = true;
                Ok(bytes::Bytes::new())
            }
        }));
        let corrupt = |length: u64, actual: Option<String>| {
            Failure::new(FailureKind::Corrupt, format!(
                "{source_url}: the source served {length}{} bytes{} (expected {size} bytes of {digest}): corrupt source blob, not pushed",
                if length > size { "+" } else { "" },
                actual.map(|a| format!(" of digest sha256:{a}")).unwrap_or_default(),
            ))
        };
        let scope = Scope { host: target.host, repository: target.repository, push: true, also_pull: None };
        let what = format!("upload of blob {digest} to {}/{}", target.host, target.repository);
        let request = self
            .client
            .client()?
            .patch(&location)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .timeout(self.client.timeouts().blob(size))
            .body(reqwest::Body::wrap_stream(body));
        let patched = self.client.send_once(&scope, &what, request).await;
        let response = match patched {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                let status = r.status();
                self.client.cancel_upload(target.host, target.repository, &location).await;
                return Err(Failure::from_code(&what, status, "", ""));
            }
            Err(e) => {
                self.client.cancel_upload(target.host, target.repository, &location).await;
                let (length, ended, from_source) = {
                    let s = state.lock().unwrap();
                    (s.1, s.2, s.3.clone())
                };
                // A source shorter or longer than announced is corrupt, not a network hiccup.
                if length > size || (ended && length < size) {
                    return Err(corrupt(length, None));
                }
                // The upload broke because the source did (silence, deadline, connection).
                return Err(from_source.unwrap_or(e));
            }
        };
        let (actual, length) = {
            let s = state.lock().unwrap();
            (s.0.clone().hex(), s.1)
        };
        if actual != expected || length != size {
            self.client.cancel_upload(target.host, target.repository, &location).await;
            return Err(corrupt(length, Some(actual)));
        }
        let base = self.client.base(target.host);
        let next = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|h| h.to_str().ok())
            .map(|l| client::absolute(&base, l))
            .unwrap_or(location);
        let commit = with_query(&next, "digest", digest);
        let response = self.client.send(&scope, &what, |c| c.put(&commit).header("content-length", "0")).await?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(Failure::from_code(&format!("{what}: commit"), status, "", ""));
        }
        Ok(())
    }
}

/// Bytes sent per write to the target (memory held per transfer).
const CHUNK: usize = 1 << 20;

/// `stream` regrouped into chunks of about [`CHUNK`] bytes (the last one
/// shorter): fewer, larger writes than the few KiB the source reads give.
fn rechunk<S>(stream: S) -> impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>>
where
    S: futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin,
{
    futures_util::stream::unfold((stream, false), |(mut stream, done)| async move {
        if done {
            return None;
        }
        let mut buffer = bytes::BytesMut::with_capacity(CHUNK);
        loop {
            match stream.next().await {
                Some(Ok(bytes)) => {
                    if buffer.is_empty() && bytes.len() >= CHUNK {
                        return Some((Ok(bytes), (stream, false)));
                    }
                    buffer.extend_from_slice(&bytes);
                    if buffer.len() >= CHUNK {
                        return Some((Ok(buffer.freeze()), (stream, false)));
                    }
                }
                Some(Err(e)) => return Some((Err(e), (stream, true))),
                None if buffer.is_empty() => return None,
                None => return Some((Ok(buffer.freeze()), (stream, true))),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_filters() {
        let all: Vec<String> = vec![];
        assert!(platform_selected(&all, "linux/arm64"));
        let f = vec!["linux/amd64".to_string(), "linux/arm/v7".to_string()];
        assert!(platform_selected(&f, "linux/amd64"));
        assert!(platform_selected(&f, "linux/arm/v7"));
        assert!(!platform_selected(&f, "linux/arm/v6"));
        assert!(!platform_selected(&f, "linux/arm64"));
        let arm = vec!["linux/arm".to_string()];
        assert!(platform_selected(&arm, "linux/arm/v6"), "os/arch selects every variant");
    }

    #[test]
    fn only_v_prefixed_chart_tags_get_an_alias() {
        let chart = br#"{"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json"}}"#;
        let image = br#"{"config":{"mediaType":"application/vnd.oci.image.config.v1+json"}}"#;
        let m = |b: &[u8]| RawManifest { bytes: bytes::Bytes::copy_from_slice(b), media_type: String::new(), digest: String::new() };
        assert_eq!(chart_alias(&m(chart), Some("v1.12.10")).as_deref(), Some("1.12.10"));
        assert_eq!(chart_alias(&m(chart), Some("1.12.10")), None);
        assert_eq!(chart_alias(&m(chart), Some("very")), None);
        assert_eq!(chart_alias(&m(image), Some("v1.0")), None);
        assert_eq!(chart_alias(&m(chart), None), None);
    }

    #[test]
    fn platform_text() {
        let e: serde_json::Value = serde_json::json!({"platform": {"os": "linux", "architecture": "arm", "variant": "v7"}});
        assert_eq!(platform_of(&e), "linux/arm/v7");
    }

    #[tokio::test]
    async fn retry_gives_up_on_fatal_at_once_and_on_transient_after_the_attempts() {
        let mut calls = 0;
        let r: Result<(), Failure> = retry("x", || {
            calls += 1;
            async { Err(Failure::fatal("no")) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(calls, 1);
        let mut calls = 0;
        let r: Result<(), Failure> = retry("x", || {
            calls += 1;
            async { Err(Failure::transient("later")) }
        })
        .await;
        assert!(r.unwrap_err().message.contains("gave up after 5 attempts"));
        assert_eq!(calls, ATTEMPTS);
    }
}
