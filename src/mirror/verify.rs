//! Whether a mirror holds what a render uses, asked of the mirror registry
//! itself: for each image its manifest (for an index, the manifests of the
//! platforms asked for; with `deep`, every blob too), for each chart the tag
//! of its version (`+` as `_`, as `helm push` tags it). The `verify` command
//! and the plugin's preflight (`DEPLOYKF_CMP_VERIFY`) both run [`check_all`];
//! positive answers may be kept in a [`PresentCache`] for a bounded time, so a
//! warm preflight asks the registry nothing. The fix of what is missing is the
//! `mirror` command with the missing lines ([`fix_script`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result};
use futures_util::stream::{self, StreamExt};
use image_ref::ImageRef;

use registry::chart::chart_tags;
use registry::copy::{platform_of, platform_selected};
use registry::{CopyJob, Failure, RegistryClient};

use super::plan::ChartJob;
use crate::manifests::{self, recognize::{as_image, Place}};

/// What an [`Item`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Image,
    /// A Helm chart in an OCI registry (only its tag is checked).
    Chart,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Chart => "chart",
        }
    }
}

/// One thing the mirror must hold.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    pub kind: Kind,
    /// What the render names: the source image, or `REPOSITORY NAME VERSION`.
    pub source: String,
    /// Where the mirror must hold it (`host/path:tag`, `oci://host/path/name:tag`).
    pub target: String,
    /// The line of a `mirror --images-file` or `--charts-file` that copies it.
    pub fix_line: String,
    /// Which of the two lists the line belongs to (an OCI chart copies as an image).
    fix_list: Kind,
    host: String,
    repository: String,
    /// The tag or digest asked for.
    reference: String,
    /// What uses it (the Applications, or the file listing it).
    pub used_by: BTreeSet<String>,
}

impl Item {
    /// An image to find at the target of a planned copy.
    pub fn image(job: &CopyJob, used_by: BTreeSet<String>) -> Item {
        let t = &job.target;
        Item {
            kind: Kind::Image,
            source: job.rendered().to_string(),
            target: t.to_string(),
            fix_line: format!("{}={}", job.source, t),
            fix_list: Kind::Image,
            host: t.registry.clone(),
            repository: t.repository.clone(),
            reference: reference(t),
            used_by,
        }
    }

    /// An image the render names at its mirror location (plugin mode: the
    /// render is already rewritten, so the source is not known).
    pub fn mirrored_image(image: &ImageRef, used_by: BTreeSet<String>) -> Item {
        Item {
            kind: Kind::Image,
            source: image.to_string(),
            target: image.to_string(),
            fix_line: image.to_string(),
            fix_list: Kind::Image,
            host: image.registry.clone(),
            repository: image.repository.clone(),
            reference: reference(image),
            used_by,
        }
    }

    /// A chart of an `https://` repository, at the target of its planned copy.
    pub fn chart(job: &ChartJob, used_by: BTreeSet<String>) -> Item {
        let (host, repository) = job.target.split_once('/').unwrap_or((&job.target, ""));
        let tag = chart_tags(&job.version).swap_remove(0);
        let location = job.target.strip_suffix(&format!("/{}", job.name)).unwrap_or(&job.target);
        Item {
            kind: Kind::Chart,
            source: format!("{} {} {}", job.repository, job.name, job.version),
            target: format!("oci://{}:{tag}", job.target),
            fix_line: format!("{} {} {} oci://{location}", job.repository, job.name, job.version),
            fix_list: Kind::Chart,
            host: host.to_string(),
            repository: repository.to_string(),
            reference: tag,
            used_by,
        }
    }

    /// A chart dependency from an `oci://` repository at an exact version.
    pub fn oci_chart(repository: &str, name: &str, version: &str, used_by: BTreeSet<String>) -> Option<Item> {
        let location = repository.trim().strip_prefix("oci://")?.trim_end_matches('/');
        let (host, path) = location.split_once('/').map_or((location, String::new()), |(h, p)| (h, format!("{p}/")));
        let tag = chart_tags(version).swap_remove(0);
        Some(Item {
            kind: Kind::Chart,
            source: format!("{repository} {name} {version}"),
            target: format!("oci://{location}/{name}:{tag}"),
            fix_line: format!("{location}/{name}:{tag}"),
            fix_list: Kind::Image,
            host: host.to_string(),
            repository: format!("{path}{name}"),
            reference: tag,
            used_by,
        })
    }

    /// The key of a positive answer in the [`PresentCache`].
    fn cache_key(&self, options: &Options) -> String {
        let text = format!("{}\n{}/{}@{}\n{}\n{}", self.kind.as_str(), self.host, self.repository, self.reference, options.platforms.join(","), options.deep);
        registry::digest::sha256_hex(text.as_bytes())
    }
}

/// Every image of a rendered manifest stream, where the recognizer finds
/// them (as written: in plugin mode, already rewritten to the mirror), each
/// used by the resources holding it.
pub fn stream_images(text: &str) -> Result<Vec<Item>> {
    let mut images: BTreeMap<String, (ImageRef, BTreeSet<String>)> = BTreeMap::new();
    for u in manifests::images_in_stream(text)? {
        let Some(image) = (u.place != Place::Prefix).then(|| as_image(&u.image)).flatten() else { continue };
        images.entry(image.to_string()).or_insert_with(|| (image, BTreeSet::new())).1.insert(u.resource);
    }
    Ok(images.into_values().map(|(image, users)| Item::mirrored_image(&image, users)).collect())
}

/// The tag or digest of `image` (`latest` when it names neither).
fn reference(image: &ImageRef) -> String {
    image.digest.clone().or_else(|| image.tag.clone()).unwrap_or_else(|| "latest".to_string())
}

/// How to check.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `os/arch[/variant]` that an index must hold.
    pub platforms: Vec<String>,
    /// Every blob (configs and layers) too.
    pub deep: bool,
    /// Checks at the same time.
    pub jobs: usize,
}

/// The answer for one [`Item`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Present,
    /// What is not in the mirror (the manifest, a platform, a blob).
    Missing(Vec<String>),
    /// The registry could not answer (why): neither present nor missing.
    Failed(String),
}

/// Checks every item against the mirror, `options.jobs` at a time; items
/// the cache knows present are not asked again, new positive answers are
/// recorded in it. The answers are in the order of `items`.
pub async fn check_all(client: &RegistryClient, items: &[Item], options: &Options, cache: Option<&PresentCache>) -> Vec<Status> {
    let checks = items.iter().map(|item| async move {
        let key = item.cache_key(options);
        if cache.is_some_and(|c| c.is_fresh(&key)) {
            return Status::Present;
        }
        let status = match check_one(client, item, options).await {
            Ok(missing) if missing.is_empty() => Status::Present,
            Ok(missing) => Status::Missing(missing),
            Err(failure) => Status::Failed(failure.message),
        };
        if let (Status::Present, Some(cache)) = (&status, cache) {
            cache.record(&key);
        }
        status
    });
    stream::iter(checks).buffered(options.jobs.max(1)).collect().await
}

/// What of `item` the mirror lacks (empty: all of it is there).
async fn check_one(client: &RegistryClient, item: &Item, options: &Options) -> Result<Vec<String>, Failure> {
    let (host, repository) = (item.host.as_str(), item.repository.as_str());
    if item.kind == Kind::Chart || !options.deep && options.platforms.is_empty() {
        return Ok(match client.manifest_digest(host, repository, &item.reference, false).await? {
            Some(_) => Vec::new(),
            None => vec![format!("the manifest {}", item.reference)],
        });
    }
    let Some(manifest) = client.get_manifest(host, repository, &item.reference).await? else {
        return Ok(vec![format!("the manifest {}", item.reference)]);
    };
    let doc: serde_json::Value = serde_json::from_slice(&manifest.bytes).unwrap_or_default();
    let Some(entries) = doc["manifests"].as_array() else {
        // One image manifest: whatever platform it is built for.
        return missing_blobs(client, host, repository, &doc, options.deep).await;
    };
    let listed: Vec<String> = entries.iter().filter(|e| !e["platform"].is_null()).map(platform_of).collect();
    let mut missing = Vec::new();
    for wanted in &options.platforms {
        let chosen: Vec<&serde_json::Value> = entries
            .iter()
            .filter(|e| !e["platform"].is_null() && platform_selected(std::slice::from_ref(wanted), &platform_of(e)))
            .collect();
        if chosen.is_empty() {
            missing.push(format!("platform {wanted} (the index lists {})", if listed.is_empty() { "none".into() } else { listed.join(", ") }));
        }
        for entry in chosen {
            let digest = entry["digest"].as_str().unwrap_or_default();
            if !options.deep {
                if client.manifest_digest(host, repository, digest, false).await?.is_none() {
                    missing.push(format!("the {} manifest {digest}", platform_of(entry)));
                }
                continue;
            }
            match client.get_manifest(host, repository, digest).await? {
                None => missing.push(format!("the {} manifest {digest}", platform_of(entry))),
                Some(child) => {
                    let child: serde_json::Value = serde_json::from_slice(&child.bytes).unwrap_or_default();
                    missing.extend(missing_blobs(client, host, repository, &child, true).await?);
                }
            }
        }
    }
    Ok(missing)
}

/// With `deep`, the blobs (config and layers) of an image manifest the
/// repository does not hold.
async fn missing_blobs(client: &RegistryClient, host: &str, repository: &str, manifest: &serde_json::Value, deep: bool) -> Result<Vec<String>, Failure> {
    let mut missing = Vec::new();
    if !deep {
        return Ok(missing);
    }
    let layers = manifest["layers"].as_array().map(Vec::as_slice).unwrap_or_default();
    for blob in std::iter::once(&manifest["config"]).chain(layers) {
        let Some(digest) = blob["digest"].as_str() else { continue };
        if !client.has_blob(host, repository, digest, false).await? {
            missing.push(format!("the blob {digest}"));
        }
    }
    Ok(missing)
}

/// Positive answers kept for `ttl`: one empty file per checked item, named by
/// the hash of what was asked, dated by its modification time.
pub struct PresentCache {
    dir: PathBuf,
    ttl: Duration,
}

impl PresentCache {
    /// The cache in `dir` (created when first written).
    pub fn new(dir: PathBuf, ttl: Duration) -> PresentCache {
        PresentCache { dir, ttl }
    }

    fn is_fresh(&self, key: &str) -> bool {
        let modified = std::fs::metadata(self.dir.join(key)).and_then(|m| m.modified());
        modified.is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|age| age < self.ttl))
    }

    /// Records a positive answer (new file, renamed into place: a fresh
    /// modification time). A cache that cannot be written only costs the
    /// next run another check.
    fn record(&self, key: &str) {
        let tmp = self.dir.join(format!(".{key}.{}", std::process::id()));
        let written = std::fs::create_dir_all(&self.dir).and_then(|()| std::fs::write(&tmp, b"")).and_then(|()| std::fs::rename(&tmp, self.dir.join(key)));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// Removes the answers older than the time they are kept for (the cache
    /// holds at most one file per item checked within it).
    pub fn prune(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let stale = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|age| age >= self.ttl));
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The items with what is missing of each, or why it could not be checked.
pub fn problems<'a>(items: &'a [Item], statuses: &'a [Status]) -> Vec<(&'a Item, &'a Status)> {
    items.iter().zip(statuses).filter(|(_, s)| **s != Status::Present).collect()
}

/// The shell lines that copy the missing items: the lists written with a
/// here-document, then the `mirror` command (`extra` are its other flags,
/// e.g. `--authfile FILE`).
pub fn fix_script(missing: &[&Item], extra: &str) -> String {
    let mut out = String::new();
    let mut flags = String::new();
    for (kind, file, flag) in [(Kind::Image, "missing-images.txt", "--images-file"), (Kind::Chart, "missing-charts.txt", "--charts-file")] {
        let lines: BTreeSet<&str> = missing.iter().filter(|i| i.fix_list == kind).map(|i| i.fix_line.as_str()).collect();
        if lines.is_empty() {
            continue;
        }
        out.push_str(&format!("cat > {file} <<'EOF'\n"));
        for line in lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("EOF\n");
        flags.push_str(&format!(" {flag} {file}"));
    }
    out.push_str(&format!("deploykf-cmp mirror{flags}{extra}\n"));
    out
}

/// `word` for a POSIX shell: as it is when it holds only safe characters,
/// else in single quotes.
pub fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Runs [`check_all`] on a runtime of its own, within `deadline` when one is given.
pub fn run_checks(client: &RegistryClient, items: &[Item], options: &Options, cache: Option<&PresentCache>, deadline: Option<Instant>) -> Result<Option<Vec<Status>>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the async runtime")?;
    Ok(runtime.block_on(async {
        let checks = check_all(client, items, options, cache);
        match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), checks).await.ok(),
            None => Some(checks.await),
        }
    }))
}

/// Each missing or unchecked item as a line: `TARGET (SOURCE): WHAT [used by …]`.
pub fn describe(item: &Item, status: &Status) -> String {
    let what = match status {
        Status::Present => "present".to_string(),
        Status::Missing(m) => format!("missing {}", m.join(", ")),
        Status::Failed(why) => format!("not checked: {why}"),
    };
    let source = if item.source == item.target { String::new() } else { format!(" (from {})", item.source) };
    let used: Vec<&str> = item.used_by.iter().map(String::as_str).collect();
    let used = if used.is_empty() { String::new() } else { format!(" [used by {}]", used.join(", ")) };
    format!("{}{source}: {what}{used}", item.target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart_job(version: &str) -> ChartJob {
        ChartJob {
            repository: "https://charts.example.com".into(),
            name: "kyverno".into(),
            version: version.into(),
            target: "m.example.com:5000/charts/kyverno".into(),
        }
    }

    #[test]
    fn items_name_where_they_are_looked_for_and_the_line_copying_them() {
        let job = CopyJob {
            source: ImageRef::parse("quay.io/a/b:1").unwrap(),
            target: ImageRef::parse("m.example.com/mirror/quay.io/a/b:1").unwrap(),
            original: None,
        };
        let item = Item::image(&job, ["dkf-x".to_string()].into());
        assert_eq!((item.host.as_str(), item.repository.as_str(), item.reference.as_str()), ("m.example.com", "mirror/quay.io/a/b", "1"));
        assert_eq!(item.fix_line, "quay.io/a/b:1=m.example.com/mirror/quay.io/a/b:1");
        // A chart is looked for under the tag `helm push` gives its version.
        let chart = Item::chart(&chart_job("3.0.1+up1"), BTreeSet::new());
        assert_eq!((chart.host.as_str(), chart.repository.as_str(), chart.reference.as_str()), ("m.example.com:5000", "charts/kyverno", "3.0.1_up1"));
        assert_eq!(chart.target, "oci://m.example.com:5000/charts/kyverno:3.0.1_up1");
        assert_eq!(chart.fix_line, "https://charts.example.com kyverno 3.0.1+up1 oci://m.example.com:5000/charts");
        let oci = Item::oci_chart("oci://m.example.com/charts/", "istiod", "1.17.8", BTreeSet::new()).unwrap();
        assert_eq!((oci.repository.as_str(), oci.target.as_str()), ("charts/istiod", "oci://m.example.com/charts/istiod:1.17.8"));
        assert!(Item::oci_chart("https://charts.example.com", "istiod", "1.17.8", BTreeSet::new()).is_none());
        // Digests are asked by digest; an untagged name means `latest`.
        let pinned = format!("m.example.com/a@sha256:{}", "0".repeat(64));
        assert_eq!(Item::mirrored_image(&ImageRef::parse(&pinned).unwrap(), BTreeSet::new()).reference, format!("sha256:{}", "0".repeat(64)));
        assert_eq!(Item::mirrored_image(&ImageRef::parse("m.example.com/a").unwrap(), BTreeSet::new()).reference, "latest");
    }

    #[test]
    fn stream_images_are_the_recognizers_with_their_users() {
        let stream = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w, namespace: ns}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: a, image: m.example.com/a:1, env: [{name: X_IMAGE, value: m.example.com/x:2}]}\n        - {name: b, image: auto}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  containers:\n    - {name: a, image: m.example.com/a:1}\n";
        let items = stream_images(stream).unwrap();
        let found: Vec<(&str, Vec<&str>)> = items.iter().map(|i| (i.target.as_str(), i.used_by.iter().map(String::as_str).collect())).collect();
        assert_eq!(found, [("m.example.com/a:1", vec!["Deployment/ns/w", "Pod/ns/p"]), ("m.example.com/x:2", vec!["Deployment/ns/w"])]);
    }

    #[test]
    fn the_fix_writes_the_lists_and_the_command() {
        let a = Item::chart(&chart_job("1.0.0"), BTreeSet::new());
        let b = Item::mirrored_image(&ImageRef::parse("m.example.com/a:1").unwrap(), BTreeSet::new());
        assert_eq!(
            fix_script(&[&a, &b, &b], &format!(" --authfile {}", shell_word("my auth's.json"))),
            "cat > missing-images.txt <<'EOF'\nm.example.com/a:1\nEOF\n\
             cat > missing-charts.txt <<'EOF'\nhttps://charts.example.com kyverno 1.0.0 oci://m.example.com:5000/charts\nEOF\n\
             deploykf-cmp mirror --images-file missing-images.txt --charts-file missing-charts.txt --authfile 'my auth'\\''s.json'\n"
        );
        // An OCI chart copies as an image.
        let oci = Item::oci_chart("oci://m.example.com/charts", "istiod", "1.17.8", BTreeSet::new()).unwrap();
        assert_eq!(fix_script(&[&oci], ""), "cat > missing-images.txt <<'EOF'\nm.example.com/charts/istiod:1.17.8\nEOF\ndeploykf-cmp mirror --images-file missing-images.txt\n");
        assert_eq!(shell_word("site/a-b_c/auth.json"), "site/a-b_c/auth.json");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            describe(&b, &Status::Missing(vec!["the manifest 1".into()])),
            "m.example.com/a:1: missing the manifest 1"
        );
    }

    #[test]
    fn present_answers_are_kept_for_their_time_only() {
        let dir = tempfile::TempDir::new().unwrap();
        let cache = PresentCache::new(dir.path().join("verify"), Duration::from_secs(600));
        assert!(!cache.is_fresh("k"));
        cache.record("k");
        assert!(cache.is_fresh("k") && !cache.is_fresh("other"));
        cache.prune();
        assert!(cache.is_fresh("k"), "a fresh answer survives pruning");
        let expired = PresentCache::new(dir.path().join("verify"), Duration::ZERO);
        assert!(!expired.is_fresh("k"));
        expired.prune();
        assert_eq!(std::fs::read_dir(dir.path().join("verify")).unwrap().count(), 0, "stale answers are removed");
        // The key covers what was asked: other platforms or --deep ask again.
        let item = Item::mirrored_image(&ImageRef::parse("m.example.com/a:1").unwrap(), BTreeSet::new());
        let key = |platforms: &[&str], deep| item.cache_key(&Options { platforms: platforms.iter().map(|p| p.to_string()).collect(), deep, jobs: 1 });
        assert_ne!(key(&[], false), key(&["linux/amd64"], false));
        assert_ne!(key(&[], false), key(&[], true));
        assert_eq!(key(&[], false), key(&[], false));
    }
}
