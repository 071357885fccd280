//! `bundle create`: images, charts and generator zips gathered into one
//! reproducible bundle file (see docs/bundle-format.md).
//!
//! Every manifest and blob is first fetched into a blob folder beside the
//! output, `FILE.blobs/sha256/<hex>`: streamed from the registry through a
//! sha256 hasher into a `<hex>.….partial` file, renamed to its digest only when its
//! size and digest match its descriptor (a corrupt source blob fails the
//! image). A re-run finds the blobs already there and fetches only the rest,
//! so an interrupted run resumes. Then the tar is written in its fixed order
//! from that folder, hashed on the way, into `FILE.partial` (or
//! `FILE.partNNN.partial` with `--max-size`), renamed when complete; the blob
//! folder is removed on success. A delta (`--since`) stores no blob of its
//! base, manifests included: those are listed as external. Memory stays
//! bounded: blobs are never held whole (charts and generator manifests, which
//! are small, are).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use image_ref::ImageRef;
use registry::digest::Hasher;
use tokio::sync::{OnceCell, Semaphore};

use super::format::{self, BundleManifest, Descriptor, Kind};
use super::read::{Bundle, HashingReader};
use super::tar::TarWriter;
use crate::mirror::config::MirrorRules;
use registry::chart::{chart_manifest, chart_tags};
use registry::copy::{is_index, platform_of, platform_selected, retry};
use registry::digest::sha256 as sha256_digest;
use registry::{Failure, RawManifest, RegistryClient};

use crate::charts::repository::{fetch_chart, BlobCache};
use crate::mirror::plan::{self, ChartJob};
use crate::settings::Settings;

/// What to put in the bundle.
pub struct Request {
    /// The bundle file (`FILE`, or the name of its parts).
    pub output: PathBuf,
    /// `--mirror`: its source aliases (`mirror.images.sources`) apply.
    pub rules: Option<MirrorRules>,
    /// The values sets the image and chart lists come from.
    pub sets: Vec<SetInput>,
    /// Image lists (`--images-file` format) and where each comes from.
    pub images: Vec<(String, String)>,
    /// Chart lists (`--charts-file` format) and where each comes from.
    pub charts: Vec<(String, String)>,
    /// `os/arch[/variant]` filters of multi-platform images.
    pub platforms: Vec<String>,
    pub authfile: Option<PathBuf>,
    pub insecure_registries: Vec<String>,
    /// Blob downloads at the same time.
    pub jobs: usize,
    /// `--max-size`: split into parts of at most this many bytes.
    pub max_size: Option<u64>,
    /// `--since`: the earlier bundle (or its manifest) a delta leaves out.
    pub since: Option<PathBuf>,
}

/// One values set: how it is recorded, and its generator zip (with the
/// version that names it) when it came from one.
pub struct SetInput {
    pub set: format::SourceSet,
    pub generator: Option<(String, PathBuf)>,
}

/// Writes the bundle; prints the `FILE.sha256` lines on stdout.
pub fn run(request: &Request, settings: &Settings) -> Result<()> {
    let images = image_list(&request.images, request.rules.as_ref())?;
    let chart_jobs = chart_list(&request.charts)?;
    let base = request.since.as_deref().map(read_base).transpose()?;
    let known: BTreeSet<String> = base.as_ref().map(|(m, _)| m.blobs.digests.iter().cloned().collect()).unwrap_or_default();
    let cache = Cache::open(&request.output)?;
    let client = crate::mirror::copy::authfile_client(request.authfile.as_deref(), &request.insecure_registries, settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(request.jobs.clamp(2, 8))
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let collector = Collector {
        client: &client,
        cache: &cache,
        platforms: &request.platforms,
        known: &known,
        slots: Semaphore::new(request.jobs),
        cells: Mutex::default(),
        content: Mutex::default(),
        external: Mutex::default(),
    };
    eprintln!("bundling {} images and {} charts into {}", images.len(), chart_jobs.len(), request.output.display());
    let mut entries: Vec<Descriptor> = Vec::new();
    let mut manifest = BundleManifest {
        schema_version: format::SCHEMA_VERSION,
        tool: format!("deploykf-cmp {}", env!("CARGO_PKG_VERSION")),
        sets: request.sets.iter().map(|s| s.set.clone()).collect(),
        base: base.as_ref().map(|(_, b)| b.clone()),
        ..Default::default()
    };
    // `jobs` images at a time, in order.
    let fetches = images.iter().map(|(name, from)| collector.image(name, from.as_ref()));
    let results: Vec<_> = runtime.block_on(futures_util::stream::iter(fetches).buffered(request.jobs).collect());
    let mut failed = Vec::new();
    for ((r, _), result) in images.iter().zip(results) {
        match result {
            Ok(image) => {
                entries.push(descriptor(&image.media_type, &image.digest, image.size, &image.name, Kind::Image));
                manifest.images.push(image);
            }
            Err(e) => failed.push(format!("  {r}: {e}")),
        }
    }
    for job in &chart_jobs {
        match runtime.block_on(collector.chart(job)) {
            Ok((chart, size)) => {
                entries.push(descriptor(format::OCI_MANIFEST, &chart.digest, size, &chart.reference, Kind::Chart));
                manifest.charts.push(chart);
            }
            Err(e) => failed.push(format!("  {job}: {e:#}")),
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} of {} images and charts failed, nothing written (the blobs fetched are kept in {} for a re-run):\n{}",
            failed.len(),
            images.len() + chart_jobs.len(),
            cache.dir.display(),
            failed.join("\n")
        );
    }
    let mut stored_zips = BTreeSet::new();
    for (version, zip) in request.sets.iter().filter_map(|s| s.generator.as_ref()) {
        let (digest, size) = cache.store_file(zip).with_context(|| format!("the generator zip {}", zip.display()))?;
        if !stored_zips.insert(digest.clone()) {
            continue;
        }
        collector.keep_unless_known(&digest, size);
        let title = zip.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let artifact = collector.artifact(format::GENERATOR_TYPE, &digest, size, &title)?;
        entries.push(descriptor(format::OCI_MANIFEST, &artifact.digest, artifact.bytes.len() as u64, &format::generator_ref(version), Kind::Generator));
        manifest.generators.push(format::Generator { version: version.clone(), digest, size });
    }
    manifest.images.sort_by(|a, b| a.name.cmp(&b.name));
    manifest.charts.sort_by(|a, b| a.reference.cmp(&b.reference));
    manifest.generators.sort_by(|a, b| a.version.cmp(&b.version));
    // The bundle manifest's own artifact (written below) has the empty config
    // too: stored and counted like every blob (external in a delta whose base
    // has it), also when no generator brought it.
    collector.store_unless_known(format::OCI_EMPTY_JSON, &sha256_digest(format::OCI_EMPTY_JSON))?;
    let content = collector.content.lock().unwrap().clone();
    manifest.blobs = format::Blobs {
        count: content.len() as u64,
        bytes: content.values().sum(),
        digests: content.keys().cloned().collect(),
    };
    let external = collector.external.lock().unwrap().clone();
    manifest.external = external.into_iter().filter(|d| !content.contains_key(d)).collect();

    let json = manifest.to_json();
    let json_digest = sha256_digest(&json);
    cache.store_bytes(&json, &json_digest)?;
    let artifact = collector.artifact(format::BUNDLE_MANIFEST_TYPE, &json_digest, json.len() as u64, format::BUNDLE_MANIFEST)?;
    entries.push(descriptor(format::OCI_MANIFEST, &artifact.digest, artifact.bytes.len() as u64, format::BUNDLE_MANIFEST_REF, Kind::BundleManifest));
    let mut blobs = content;
    blobs.insert(json_digest, json.len() as u64);
    blobs.insert(artifact.digest.clone(), artifact.bytes.len() as u64);

    entries.sort_by(|a, b| a.ref_name().cmp(&b.ref_name()));
    let index = format::Index { schema_version: 2, media_type: format::OCI_INDEX.into(), manifests: entries };
    let index = serde_json::to_vec(&index).expect("an index serialises");
    let lines = write_tar(&request.output, request.max_size, &index, &json, &blobs, &cache)?;
    cache.remove();
    eprintln!(
        "wrote {} ({} blobs, {} bytes{})",
        request.output.display(),
        blobs.len(),
        blobs.values().sum::<u64>(),
        if manifest.external.is_empty() { String::new() } else { format!("; {} blobs left out as external", manifest.external.len()) }
    );
    print!("{lines}");
    std::io::stdout().flush().context("writing to stdout")
}

/// An `index.json` entry (with the artifact type of a generator or of the bundle manifest).
fn descriptor(media_type: &str, digest: &str, size: u64, name: &str, kind: Kind) -> Descriptor {
    let annotations = BTreeMap::from([(format::REF_NAME.to_string(), name.to_string()), (format::KIND.to_string(), kind.as_str().to_string())]);
    let artifact_type = match kind {
        Kind::Generator => Some(format::GENERATOR_TYPE.to_string()),
        Kind::BundleManifest => Some(format::BUNDLE_MANIFEST_TYPE.to_string()),
        Kind::Image | Kind::Chart => None,
    };
    Descriptor { media_type: media_type.into(), digest: digest.into(), size, artifact_type, annotations }
}

/// The images of the lists, by their full name: `SOURCE` of each line
/// (`SOURCE=TARGET` lines too: the target is chosen at push time), each with
/// the alias it is pulled from when a source alias of `rules` applies.
fn image_list(lists: &[(String, String)], rules: Option<&MirrorRules>) -> Result<Vec<(ImageRef, Option<ImageRef>)>> {
    let mut images = BTreeMap::new();
    for (text, origin) in lists {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let source = line.split_once('=').map_or(line, |(s, _)| s.trim());
            let at = || format!("{origin}:{}: {}", n + 1, crate::user_input::quote(line));
            let image = ImageRef::parse(source).with_context(at)?;
            if image.tag.is_none() && image.digest.is_none() {
                bail!("{}: give a tag or a digest (an image name alone would bundle an implicit `latest`)", at());
            }
            let alias = match rules {
                Some(rules) => rules.pull_source(&image).with_context(at)?,
                None => None,
            };
            images.insert(image.to_string(), (image, alias));
        }
    }
    Ok(images.into_values().collect())
}

/// The `https://` charts of the lists, each placed at its repository's own
/// host and path (`https://charts.example.com/x` → `charts.example.com/x/NAME`):
/// where `mirror` would put it below a mirror prefix.
fn chart_list(lists: &[(String, String)]) -> Result<Vec<ChartJob>> {
    let mut jobs = Vec::new();
    for (text, origin) in lists {
        let mut lines = String::new();
        if text.trim_start().starts_with('[') {
            let doc: serde_json::Value = serde_json::from_str(text).with_context(|| format!("{origin}: invalid JSON"))?;
            for e in doc.as_array().into_iter().flatten() {
                let field = |k: &str| e[k].as_str().unwrap_or_default().to_string();
                let version = e["resolved_version"].as_str().map_or_else(|| field("version"), str::to_string);
                lines.push_str(&format!("{} {} {version}\n", field("repository"), field("name")));
            }
        } else {
            lines = text.clone();
        }
        let placed: Vec<String> = lines
            .lines()
            .map(|raw| {
                let line = raw.split('#').next().unwrap_or("").trim();
                let words: Vec<&str> = line.split_whitespace().collect();
                match words[..] {
                    [repository, _, _] if repository.starts_with("https://") || repository.starts_with("http://") => {
                        let location = repository.split_once("://").map_or("", |(_, l)| l).trim_end_matches('/');
                        format!("{line} oci://{location}")
                    }
                    _ => line.to_string(),
                }
            })
            .collect();
        let (found, left) = plan::parse_charts(&placed.join("\n"), origin, None)?;
        for note in left {
            eprintln!("chart not bundled: {note}");
        }
        jobs.extend(found);
    }
    jobs.sort_by(|a, b| (&a.target, &a.version).cmp(&(&b.target, &b.version)));
    jobs.dedup();
    Ok(jobs)
}

/// The manifest of the `--since` bundle (a bundle file, its first part, or
/// its `deploykf-bundle.json`) and how the delta records it.
fn read_base(path: &Path) -> Result<(BundleManifest, format::Base)> {
    let shown = path.display();
    let (_, files) = format::files(path).with_context(|| format!("--since {shown}"))?;
    let mut head = [0u8; 1];
    File::open(&files[0]).and_then(|mut f| f.read(&mut head)).with_context(|| format!("--since {shown}: cannot read it"))?;
    if head[0] != b'{' {
        let bundle = Bundle::open(path).context("--since")?;
        let mut reader = HashingReader::new(&bundle.parts);
        std::io::copy(&mut reader, &mut std::io::sink()).with_context(|| format!("--since {shown}: cannot read it"))?;
        let sha256 = Some(reader.finish().0);
        return Ok((bundle.manifest, format::Base { sha256, manifest: bundle.manifest_digest }));
    }
    let json = crate::user_input::read_file(&files[0], "--since bundle manifest")?;
    let manifest: BundleManifest =
        serde_json::from_str(&json).with_context(|| format!("--since {shown}: not a {} (nor a bundle)", format::BUNDLE_MANIFEST))?;
    Ok((manifest, format::Base { sha256: None, manifest: sha256_digest(json.as_bytes()) }))
}

/// The blob folder beside the output: verified blobs named by their digest.
struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// `FILE.blobs/sha256/`, created (kept from an earlier run).
    fn open(output: &Path) -> Result<Cache> {
        let mut name = output.as_os_str().to_owned();
        name.push(".blobs");
        let dir = PathBuf::from(name);
        std::fs::create_dir_all(dir.join("sha256")).with_context(|| format!("cannot create the blob folder {}", dir.display()))?;
        Ok(Cache { dir })
    }

    fn path(&self, digest: &str) -> PathBuf {
        self.dir.join("sha256").join(digest.trim_start_matches("sha256:"))
    }

    /// True when the verified blob is there with `size` bytes.
    fn has(&self, digest: &str, size: u64) -> bool {
        std::fs::metadata(self.path(digest)).is_ok_and(|m| m.len() == size)
    }

    /// A temporary file for `digest` (its own: two tasks may store the same
    /// manifest at once), and where it goes once verified.
    fn partial(&self, digest: &str) -> (PathBuf, PathBuf) {
        let path = self.path(digest);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut partial = path.clone().into_os_string();
        partial.push(format!(".{}.{n}.partial", std::process::id()));
        (PathBuf::from(partial), path)
    }

    /// Stores bytes whose digest is known to be `digest`.
    fn store_bytes(&self, bytes: &[u8], digest: &str) -> Result<()> {
        if self.has(digest, bytes.len() as u64) {
            return Ok(());
        }
        let (partial, path) = self.partial(digest);
        std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, &path)).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Stores a local file; returns its digest and size.
    fn store_file(&self, file: &Path) -> Result<(String, u64)> {
        let mut input = File::open(file).context("cannot read it")?;
        let staging = self.dir.join("file.partial");
        let mut out = BufWriter::new(File::create(&staging).with_context(|| format!("cannot write {}", staging.display()))?);
        let mut hasher = Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = input.read(&mut buf).context("cannot read it")?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).with_context(|| format!("cannot write {}", staging.display()))?;
            size += n as u64;
        }
        out.flush().with_context(|| format!("cannot write {}", staging.display()))?;
        let digest = hasher.digest();
        std::fs::rename(&staging, self.path(&digest)).with_context(|| format!("cannot write {}", self.path(&digest).display()))?;
        Ok((digest, size))
    }

    /// Removes the folder once the bundle is written.
    fn remove(&self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("warning: cannot remove the blob folder {}: {e}", self.dir.display());
        }
    }
}

type Cell = Arc<OnceCell<Result<(), Failure>>>;

/// Fetches images and charts into the [`Cache`], noting what the bundle holds.
struct Collector<'a> {
    client: &'a RegistryClient,
    cache: &'a Cache,
    platforms: &'a [String],
    /// The base bundle's blobs (`--since`).
    known: &'a BTreeSet<String>,
    /// Blob downloads at the same time.
    slots: Semaphore,
    /// One fetch per blob digest, shared by the images that use it.
    cells: Mutex<HashMap<String, Cell>>,
    /// Digest → size of everything stored.
    content: Mutex<BTreeMap<String, u64>>,
    /// Referenced but not stored.
    external: Mutex<BTreeSet<String>>,
}

impl Collector<'_> {
    fn keep(&self, digest: &str, size: u64) {
        self.content.lock().unwrap().insert(digest.to_string(), size);
    }

    /// Counts a blob (already in the blob folder) as content, or as external
    /// when the base holds it; `false` for external.
    fn keep_unless_known(&self, digest: &str, size: u64) -> bool {
        if self.known.contains(digest) {
            self.external.lock().unwrap().insert(digest.to_string());
            return false;
        }
        self.keep(digest, size);
        true
    }

    /// Stores `bytes` (of `digest`) unless the base holds them (external then).
    fn store_unless_known(&self, bytes: &[u8], digest: &str) -> Result<()> {
        if self.keep_unless_known(digest, bytes.len() as u64) {
            self.cache.store_bytes(bytes, digest)?;
        }
        Ok(())
    }

    /// An artifact manifest (empty config, one layer), stored; returns it.
    fn artifact(&self, artifact_type: &str, digest: &str, size: u64, title: &str) -> Result<RawManifest> {
        let empty = sha256_digest(format::OCI_EMPTY_JSON);
        self.store_unless_known(format::OCI_EMPTY_JSON, &empty)?;
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": format::OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": format::OCI_EMPTY, "digest": empty, "size": format::OCI_EMPTY_JSON.len()},
            "layers": [{"mediaType": artifact_type, "digest": digest, "size": size, "annotations": {format::TITLE: title}}],
        });
        let bytes = bytes::Bytes::from(serde_json::to_vec(&doc).expect("a JSON value serialises"));
        let digest = sha256_digest(&bytes);
        if artifact_type == format::BUNDLE_MANIFEST_TYPE {
            // Written apart from the blobs counted (its own JSON names them).
            self.cache.store_bytes(&bytes, &digest)?;
        } else {
            self.store_unless_known(&bytes, &digest)?;
        }
        Ok(RawManifest { bytes, media_type: format::OCI_MANIFEST.into(), digest })
    }

    /// Stores a manifest fetched from a registry, unless the base holds it.
    fn keep_manifest(&self, manifest: &RawManifest) -> Result<(), Failure> {
        self.store_unless_known(&manifest.bytes, &manifest.digest).map_err(|e| Failure::fatal(format!("{e:#}")))
    }

    /// One image (pulled from `alias` when given): its manifest or index
    /// with the selected platforms, and their blobs.
    async fn image(&self, name: &ImageRef, alias: Option<&ImageRef>) -> Result<format::Image, Failure> {
        let r = alias.unwrap_or(name);
        let what = r.to_string();
        let reference = r.digest.clone().or_else(|| r.tag.clone()).unwrap_or_default();
        let manifest = retry(&what, || self.client.get_manifest(&r.registry, &r.repository, &reference))
            .await?
            .ok_or_else(|| Failure::fatal(format!("manifest unknown: {} answered 404 Not Found", self.client.manifest_url(&r.registry, &r.repository, &reference))))?;
        if r.digest.as_ref().is_some_and(|d| *d != manifest.digest) {
            return Err(Failure::fatal(format!("the source served a manifest of digest {}", manifest.digest)));
        }
        self.keep_manifest(&manifest)?;
        let platforms = if is_index(&manifest) {
            self.index(r, &manifest, true).await?
        } else {
            self.blobs(r, &manifest).await?;
            Vec::new()
        };
        eprintln!("fetched {what}");
        Ok(format::Image {
            name: name.to_string(),
            pull_from: alias.map(ToString::to_string),
            digest: manifest.digest.clone(),
            media_type: manifest.media_type.clone(),
            size: manifest.bytes.len() as u64,
            platforms,
        })
    }

    /// The children of an index that `--platform` selects (all of a nested
    /// index); returns their platforms. The others are external.
    async fn index(&self, r: &ImageRef, index: &RawManifest, top: bool) -> Result<Vec<String>, Failure> {
        let doc: serde_json::Value = serde_json::from_slice(&index.bytes).map_err(|e| Failure::fatal(format!("unreadable index {}: {e}", index.digest)))?;
        let mut selected = Vec::new();
        for entry in doc["manifests"].as_array().into_iter().flatten() {
            let digest = entry["digest"].as_str().unwrap_or_default().to_string();
            let platform = (!entry["platform"].is_null()).then(|| platform_of(entry));
            match platform {
                Some(p) if top && !platform_selected(self.platforms, &p) => {
                    self.external.lock().unwrap().insert(digest);
                }
                _ => selected.push((digest, platform)),
            }
        }
        if selected.is_empty() {
            return Err(Failure::fatal(format!("no manifest for platform(s) {} in the index", self.platforms.join(", "))));
        }
        let children = selected.iter().map(|(digest, _)| Box::pin(self.child(r, digest)));
        for result in futures_util::future::join_all(children).await {
            result?;
        }
        let mut platforms: Vec<String> = selected.into_iter().filter_map(|(_, p)| p).collect();
        platforms.sort();
        platforms.dedup();
        Ok(platforms)
    }

    /// One manifest an index names, with its blobs or its own children.
    async fn child(&self, r: &ImageRef, digest: &str) -> Result<(), Failure> {
        let what = format!("{}@{digest}", r.name());
        let manifest = retry(&what, || self.client.get_manifest(&r.registry, &r.repository, digest))
            .await?
            .ok_or_else(|| Failure::fatal(format!("{what}: named by the index, but the registry answered 404 Not Found")))?;
        if manifest.digest != digest {
            return Err(Failure::fatal(format!("{what}: the source served a manifest of digest {}", manifest.digest)));
        }
        self.keep_manifest(&manifest)?;
        if is_index(&manifest) {
            self.index(r, &manifest, false).await.map(drop)
        } else {
            self.blobs(r, &manifest).await
        }
    }

    /// The config and layers of an image manifest (foreign layers, fetched
    /// from their URLs, are external).
    async fn blobs(&self, r: &ImageRef, manifest: &RawManifest) -> Result<(), Failure> {
        let doc: serde_json::Value =
            serde_json::from_slice(&manifest.bytes).map_err(|e| Failure::fatal(format!("unreadable manifest {}: {e}", manifest.digest)))?;
        if doc["schemaVersion"].as_u64() == Some(1) {
            return Err(Failure::fatal("schema 1 manifests are not supported"));
        }
        let mut blobs = Vec::new();
        for d in std::iter::once(&doc["config"]).chain(doc["layers"].as_array().into_iter().flatten()) {
            let Some(digest) = d["digest"].as_str() else { continue };
            if d.get("urls").is_some() {
                self.external.lock().unwrap().insert(digest.to_string());
                continue;
            }
            blobs.push((digest.to_string(), d["size"].as_u64().unwrap_or(0)));
        }
        let results = futures_util::future::join_all(blobs.iter().map(|(d, size)| self.blob(r, d, *size))).await;
        let errors: Vec<String> = results.into_iter().filter_map(|r| r.err().map(|e| e.message)).collect();
        if !errors.is_empty() {
            return Err(Failure::fatal(errors.join("; ")));
        }
        Ok(())
    }

    /// One blob: external when the base has it, else fetched once per run
    /// (unless the blob folder has it).
    async fn blob(&self, r: &ImageRef, digest: &str, size: u64) -> Result<(), Failure> {
        if self.known.contains(digest) {
            self.external.lock().unwrap().insert(digest.to_string());
            return Ok(());
        }
        if format::blob_path(digest).is_none() {
            return Err(Failure::fatal(format!("blob {digest}: only sha256 digests are supported")));
        }
        let cell: Cell = self.cells.lock().unwrap().entry(digest.to_string()).or_default().clone();
        let outcome = cell
            .get_or_init(|| async {
                if !self.cache.has(digest, size) {
                    let _slot = self.slots.acquire().await.expect("the semaphore is never closed");
                    if size >= 64 << 20 {
                        eprintln!("fetching {digest} ({:.0} MiB) from {}", size as f64 / 1048576.0, r.name());
                    }
                    retry(&format!("blob {digest}"), || self.download(r, digest, size)).await?;
                }
                Ok(())
            })
            .await
            .clone();
        outcome?;
        self.keep(digest, size);
        Ok(())
    }

    /// One attempt at streaming a blob into the blob folder, checked against
    /// its size and digest before it is renamed to its digest.
    async fn download(&self, r: &ImageRef, digest: &str, size: u64) -> Result<(), Failure> {
        let url = self.client.blob_url(&r.registry, &r.repository, digest);
        let response = self.client.get_blob(&r.registry, &r.repository, digest, size).await?;
        let (partial, path) = self.cache.partial(digest);
        let io = |e: std::io::Error| Failure::fatal(format!("cannot write {}: {e}", partial.display()));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&partial).map_err(io)?);
        let mut hasher = Hasher::new();
        let mut length = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Failure::from_reqwest(&format!("GET {url}"), &e))?;
            length += chunk.len() as u64;
            if length > size {
                break;
            }
            hasher.update(&chunk);
            out.write_all(&chunk).map_err(io)?;
        }
        out.flush().map_err(io)?;
        drop(out);
        let actual = hasher.digest();
        if length != size || actual != digest {
            let _ = std::fs::remove_file(&partial);
            return Err(Failure::fatal(format!(
                "{url}: the source served {length}{} bytes of digest {} (expected {size} bytes of {digest}): corrupt source blob, not bundled",
                if length > size { "+" } else { "" },
                if length > size { "unknown".to_string() } else { actual }
            )));
        }
        std::fs::rename(&partial, &path).map_err(|e| Failure::fatal(format!("cannot write {}: {e}", path.display())))
    }

    /// One https:// chart: the artifact `mirror` pushes; returns its record
    /// and its manifest's size.
    async fn chart(&self, job: &ChartJob) -> Result<(format::Chart, u64)> {
        let http = self.client.client().map_err(|e| anyhow!("{e}"))?;
        let (archive, version) = fetch_chart(http, self.client.timeouts(), &BlobCache(None), &job.repository, &job.name, &job.version).await?;
        let (config, manifest) = chart_manifest(&archive)?;
        for blob in [&archive, &config] {
            self.store_unless_known(blob, &sha256_digest(blob))?;
        }
        self.keep_manifest(&manifest).map_err(|e| anyhow!("{e}"))?;
        let tag = chart_tags(&version).remove(0);
        eprintln!("fetched chart {} {version}", job.name);
        let chart = format::Chart {
            repository: job.repository.clone(),
            name: job.name.clone(),
            version,
            reference: format!("{}:{tag}", job.target),
            digest: manifest.digest.clone(),
        };
        Ok((chart, manifest.bytes.len() as u64))
    }
}

/// Writes the tar from the blob folder; returns the `FILE.sha256` text.
fn write_tar(output: &Path, max_size: Option<u64>, index: &[u8], manifest: &[u8], blobs: &BTreeMap<String, u64>, cache: &Cache) -> Result<String> {
    let mut tar = TarWriter::new(super::tar::Output::create(output, max_size)?);
    let written = (|| -> Result<()> {
        tar.file(format::OCI_LAYOUT, format::OCI_LAYOUT_JSON)?;
        tar.file(format::INDEX_JSON, index)?;
        tar.file(format::BUNDLE_MANIFEST, manifest)?;
        for dir in format::BLOB_DIRS {
            tar.dir(dir)?;
        }
        // Sorted by digest, and so by hex.
        for (digest, size) in blobs {
            let path = cache.path(digest);
            let file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let name = format::blob_path(digest).expect("checked when fetched");
            tar.stream(&name, *size, file).with_context(|| format!("{}", path.display()))?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => tar.finish(),
        Err(e) => {
            tar.abandon();
            Err(e)
        }
    }
}
