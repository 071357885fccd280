//! `bundle inspect`: what a bundle holds, read from its index, its bundle
//! manifest and the stored manifests (no blob is re-hashed: `bundle verify`
//! does that): the tool and values sets it was made from, each image (name,
//! digest, platforms, stored bytes, or "in the base" for a delta's entry
//! whose manifest or zip only its base stores), chart and generator, the
//! totals and the base of a delta; as text or JSON.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;

use super::format::{Base, SourceSet};
use super::read::Bundle;

/// The report of one bundle (the JSON of `--output json`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub file: String,
    /// The part files, when the bundle is split.
    pub parts: Vec<String>,
    /// Bytes of the file (all parts).
    pub size: u64,
    pub tool: String,
    pub schema_version: u32,
    pub sets: Vec<SourceSet>,
    pub images: Vec<Item>,
    pub charts: Vec<Item>,
    pub generators: Vec<Item>,
    /// Blobs stored, and their bytes.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// Digests referenced but not stored.
    pub external: usize,
    pub base: Option<Base>,
}

/// One image, chart or generator.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_from: Option<String>,
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Bytes stored in this bundle for it (blobs shared with others counted for each).
    pub stored_bytes: u64,
    /// A delta's entry whose manifest only its base stores.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_base: bool,
}

/// Reads what the bundle at `path` (a file or its parts) holds.
pub fn inspect(path: &Path) -> Result<Report> {
    let bundle = Bundle::open(path)?;
    let m = &bundle.manifest;
    let stored = |digest: &str| -> Result<u64> {
        Ok(bundle.reachable(digest)?.iter().map(|d| bundle.blobs[d].size).sum())
    };
    let mut images = Vec::new();
    for image in &m.images {
        images.push(Item {
            name: image.name.clone(),
            pull_from: image.pull_from.clone(),
            digest: image.digest.clone(),
            media_type: Some(image.media_type.clone()),
            platforms: image.platforms.clone(),
            stored_bytes: stored(&image.digest)?,
            in_base: !bundle.blobs.contains_key(&image.digest),
        });
    }
    let mut charts = Vec::new();
    for chart in &m.charts {
        charts.push(Item {
            name: format!("{} {} {} (as {})", chart.repository, chart.name, chart.version, chart.reference),
            pull_from: None,
            digest: chart.digest.clone(),
            media_type: None,
            platforms: Vec::new(),
            stored_bytes: stored(&chart.digest)?,
            in_base: !bundle.blobs.contains_key(&chart.digest),
        });
    }
    let generators = m
        .generators
        .iter()
        .map(|g| Item {
            name: g.version.clone(),
            pull_from: None,
            digest: g.digest.clone(),
            media_type: None,
            platforms: Vec::new(),
            stored_bytes: bundle.blobs.get(&g.digest).map_or(0, |s| s.size),
            in_base: !bundle.blobs.contains_key(&g.digest),
        })
        .collect();
    let parts: Vec<String> = bundle.parts.files().map(|(p, _)| p.display().to_string()).collect();
    Ok(Report {
        file: bundle.name().to_string(),
        parts: if parts.len() > 1 || parts.first().map(String::as_str) != Some(bundle.name()) { parts } else { Vec::new() },
        size: bundle.parts.len(),
        tool: m.tool.clone(),
        schema_version: m.schema_version,
        sets: m.sets.clone(),
        images,
        charts,
        generators,
        blobs: bundle.blobs.len() as u64,
        blob_bytes: bundle.blobs.values().map(|s| s.size).sum(),
        external: m.external.len(),
        base: m.base.clone(),
    })
}

impl Report {
    /// The human-readable form.
    pub fn text(&self) -> String {
        let mib = |n: u64| format!("{:.1} MiB", n as f64 / 1048576.0);
        let stored = |i: &Item| if i.in_base { "in the base".to_string() } else { mib(i.stored_bytes) };
        let mut out = format!("bundle {} ({}, made by {})\n", self.file, mib(self.size), self.tool);
        for part in &self.parts {
            out.push_str(&format!("  part {part}\n"));
        }
        for set in &self.sets {
            let source = set.source_version.as_deref().map(|v| format!("deployKF {v}")).or_else(|| set.source_path.clone()).unwrap_or_default();
            out.push_str(&format!("set: {source}, {} values files\n", set.values_digests.len()));
        }
        if let Some(base) = &self.base {
            out.push_str(&format!(
                "delta of the bundle with manifest {}{}\n",
                base.manifest,
                base.sha256.as_deref().map(|s| format!(" (file sha256 {s})")).unwrap_or_default()
            ));
        }
        out.push_str(&format!("images ({}):\n", self.images.len()));
        for i in &self.images {
            let platforms = if i.platforms.is_empty() { String::new() } else { format!(" [{}]", i.platforms.join(", ")) };
            let alias = i.pull_from.as_deref().map(|p| format!(" (pulled from {p})")).unwrap_or_default();
            out.push_str(&format!("  {}{alias} {}{platforms} {}\n", i.name, i.digest, stored(i)));
        }
        out.push_str(&format!("charts ({}):\n", self.charts.len()));
        for c in &self.charts {
            out.push_str(&format!("  {} {} {}\n", c.name, c.digest, stored(c)));
        }
        out.push_str(&format!("generators ({}):\n", self.generators.len()));
        for g in &self.generators {
            out.push_str(&format!("  deployKF {} {} {}\n", g.name, g.digest, stored(g)));
        }
        out.push_str(&format!("total: {} blobs, {}; {} external digests\n", self.blobs, mib(self.blob_bytes), self.external));
        out
    }
}
