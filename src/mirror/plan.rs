//! The copy plan of the `mirror` command, what to copy where: the lines of an
//! `--images-file` (`SOURCE` mapped through the mirror rules, or an explicit
//! `SOURCE=TARGET`) as the registry crate's [`CopyJob`]s, the lines of a
//! `--charts-file` as [`ChartJob`]s, and the mirror configuration matching
//! what was pushed (`--write-mirror`). A source alias of the rules
//! (`mirror.images.sources`) changes where a job pulls from, not its target.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Context, Result};
use image_ref::ImageRef;

use registry::CopyJob;

use super::config::MirrorRules;
use crate::user_input::quote;

/// One chart to mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartJob {
    /// The `https://` chart repository URL.
    pub repository: String,
    pub name: String,
    pub version: String,
    /// The target OCI repository of the chart (`host/path/<name>`, no scheme).
    pub target: String,
}

impl std::fmt::Display for ChartJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {} -> oci://{}", self.repository, self.name, self.version, self.target)
    }
}

/// Parses a charts file: lines `REPOSITORY NAME VERSION [oci://TARGET]` (`#`
/// comments; `deploykf-cmp charts --output list`), or the JSON array of
/// `deploykf-cmp charts --output json`. Without a target, `rules` give it
/// (`oci://…/<path>`, the chart name appended). Returns the jobs and notes on
/// the entries left out (`oci://` charts copy as images, `file://` ones are
/// inside the generator, repositories the rules leave alone).
pub fn parse_charts(text: &str, origin: &str, rules: Option<&MirrorRules>) -> Result<(Vec<ChartJob>, Vec<String>)> {
    let mut entries: Vec<(String, String, String, Option<String>, String)> = Vec::new();
    if text.trim_start().starts_with('[') {
        let doc: serde_json::Value = serde_json::from_str(text).with_context(|| format!("{origin}: invalid JSON"))?;
        for (i, e) in doc.as_array().into_iter().flatten().enumerate() {
            let field = |k: &str| e[k].as_str().map(str::to_string);
            let (Some(repository), Some(name), Some(version)) =
                (field("repository"), field("name"), field("resolved_version").or_else(|| field("version")))
            else {
                bail!("{origin}: entry {i} needs `repository`, `name` and `version`");
            };
            entries.push((repository, name, version, None, format!("{origin}: entry {i}")));
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = format!("{origin}:{}", i + 1);
            if !(3..=4).contains(&words.len()) {
                bail!("{at}: write `REPOSITORY NAME VERSION [oci://TARGET]` (e.g. `https://charts.jetstack.io cert-manager v1.12.10`)");
            }
            entries.push((words[0].into(), words[1].into(), words[2].into(), words.get(3).map(|t| t.to_string()), at));
        }
    }
    let mut jobs = Vec::new();
    let mut left = Vec::new();
    for (repository, name, version, target, at) in entries {
        if repository.starts_with("file://") {
            left.push(format!("{repository} {name} {version} (a file:// chart: it is inside the generator and deployed from there, nothing to mirror)"));
            continue;
        }
        if let Some(location) = repository.strip_prefix("oci://") {
            let image = format!("{}/{name}:{}", location.trim_end_matches('/'), version.replace('+', "_"));
            left.push(format!("{repository} {name} {version} (an oci:// chart copies as an image: put the line {image} in --images-file)"));
            continue;
        }
        if !(repository.starts_with("https://") || repository.starts_with("http://")) {
            bail!("{at}: {repository:?} is not a chart repository URL: write https://…, oci://… or file://…");
        }
        let target = match target {
            Some(t) => Some(t),
            None => match rules {
                Some(rules) => rules.try_rewrite_chart_repository(&repository).with_context(|| at.clone())?,
                None => bail!("{at}: no target for {repository}: add `oci://TARGET` to the line or give --mirror FILE with mirror.charts"),
            },
        };
        let Some(target) = target else {
            left.push(format!("{repository} {name} {version} (left alone by the mirror rules)"));
            continue;
        };
        let Some(location) = target.strip_prefix("oci://") else {
            bail!("{at}: the target {target} is not an oci:// repository");
        };
        let location = location.trim_end_matches('/');
        if location.is_empty() {
            bail!("{at}: empty target");
        }
        jobs.push(ChartJob { repository, name: name.clone(), version, target: format!("{location}/{name}") });
    }
    jobs.sort_by(|a, b| (&a.target, &a.version).cmp(&(&b.target, &b.version)));
    jobs.dedup();
    Ok((jobs, left))
}

/// Reads an images file: one reference per line, `#` comments and blank lines
/// ignored; `SOURCE=TARGET` names the target explicitly, otherwise `rules`
/// give it. Images the rules leave alone (excluded, already mirrored) are
/// returned in the second list. Duplicate lines are copied once. The rules'
/// source aliases apply to both kinds of line.
pub fn parse_images(text: &str, origin: &str, rules: Option<&MirrorRules>) -> Result<(Vec<CopyJob>, Vec<ImageRef>)> {
    let mut jobs: Vec<CopyJob> = Vec::new();
    let mut left = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = || format!("{origin}:{}: {}", n + 1, quote(line));
        let (source, target) = match line.split_once('=') {
            Some((s, t)) => {
                let source = ImageRef::parse(s.trim()).with_context(at)?;
                let mut target = ImageRef::parse(t.trim()).with_context(at)?;
                if target.tag.is_none() && target.digest.is_none() {
                    target.tag = source.tag.clone();
                    target.digest = source.digest.clone();
                }
                (source, target)
            }
            None => {
                let source = ImageRef::parse(line).with_context(at)?;
                let rules = rules.ok_or_else(|| {
                    anyhow!("{}: no target; pass --mirror FILE or write the line as SOURCE=TARGET", at())
                })?;
                match rules.try_rewrite_image(&source).with_context(at)? {
                    Some(target) => (source, target),
                    None => {
                        left.push(source);
                        continue;
                    }
                }
            }
        };
        if source.tag.is_none() && source.digest.is_none() {
            bail!("{}: give a tag or a digest (an image name alone would copy an implicit `latest`)", at());
        }
        if target.tag.is_none() && target.digest.is_none() {
            bail!("{}: the target needs a tag or a digest", at());
        }
        let original = match rules {
            Some(r) => r.pull_source(&source).with_context(at)?,
            None => None,
        };
        let job = match original {
            Some(alias) => CopyJob { source: alias, target, original: Some(source) },
            None => CopyJob { source, target, original: None },
        };
        if !jobs.contains(&job) {
            jobs.push(job);
        }
    }
    Ok((jobs, left))
}

/// A `mirror:` configuration whose rules send each pushed image's source name
/// to its target name (one override per repository), with `registry` the
/// target prefix of the rules used, or the first target's registry.
pub fn mirror_config(jobs: &[CopyJob], charts: &[ChartJob], rules: Option<&MirrorRules>) -> String {
    let registry = match rules {
        Some(r) => r.registry.to_string(),
        // Without rules: the first target's registry (`images.registry` is required).
        None => jobs
            .first()
            .map(|j| j.target.registry.clone())
            .or_else(|| charts.first().map(|c| c.target.split('/').next().unwrap_or_default().to_string()))
            .unwrap_or_default(),
    };
    let pairs: BTreeSet<(String, String)> = jobs.iter().map(|j| (j.rendered().name(), j.target.name())).collect();
    let mut out = format!("mirror:\n  images:\n    registry: {registry}\n");
    if !pairs.is_empty() {
        out.push_str("    overrides:\n");
        for (from, to) in pairs {
            out.push_str(&format!("      - {{from: {from}, to: {to}}}\n"));
        }
    }
    // Charts: each source repository goes to the OCI repository that now holds
    // its charts (the target without the chart's own name).
    let chart_pairs: BTreeSet<(String, String)> = charts
        .iter()
        .map(|c| {
            let parent = c.target.strip_suffix(&format!("/{}", c.name)).unwrap_or(&c.target);
            (c.repository.trim_end_matches('/').to_string(), format!("oci://{parent}"))
        })
        .collect();
    if let Some((_, first)) = chart_pairs.iter().next() {
        let repository = rules
            .and_then(|r| r.charts.as_ref())
            .map(|c| c.repository.clone())
            .unwrap_or_else(|| first.clone());
        out.push_str(&format!("  charts:\n    repository: {repository}\n    overrides:\n"));
        for (from, to) in &chart_pairs {
            out.push_str(&format!("      - {{from: \"{from}\", to: \"{to}\"}}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_targets_inherit_the_tag_and_comments_are_skipped() {
        let text = "# set\nquay.io/a/b:1.0 = reg.local:5000/x/b\n\nnginx:1.25=reg.local:5000/n:2 # pinned\nquay.io/a/b:1.0=reg.local:5000/x/b\n";
        let (jobs, left) = parse_images(text, "f", None).unwrap();
        assert!(left.is_empty());
        assert_eq!(jobs.len(), 2, "duplicates are copied once");
        assert_eq!(jobs[0].target.to_string(), "reg.local:5000/x/b:1.0");
        assert_eq!(jobs[1].source.to_string(), "docker.io/library/nginx:1.25");
        assert_eq!(jobs[1].target.to_string(), "reg.local:5000/n:2");
    }

    #[test]
    fn lines_without_target_need_rules_and_a_tag() {
        let e = parse_images("quay.io/a/b:1\n", "list.txt", None).unwrap_err();
        assert!(format!("{e:#}").contains("list.txt:1") && format!("{e:#}").contains("--mirror"), "{e:#}");
        let e = parse_images("quay.io/a/b=reg.local/b\n", "list.txt", None).unwrap_err();
        assert!(format!("{e:#}").contains("give a tag or a digest"), "{e:#}");
    }

    #[test]
    fn rules_map_and_exclude() {
        let doc = gomplate::yaml::decode(
            "images:\n  registry: reg.local:5000/mirror\n  exclude: [\"ghcr.io/keep\"]\n",
        )
        .unwrap();
        let rules = super::super::config::parse(&doc, "test").unwrap();
        let (jobs, left) = parse_images("quay.io/a/b:1\nghcr.io/keep/x:2\n", "f", Some(&rules)).unwrap();
        assert_eq!(jobs[0].target.to_string(), "reg.local:5000/mirror/quay.io/a/b:1");
        assert_eq!(left[0].to_string(), "ghcr.io/keep/x:2");
        let config = mirror_config(&jobs, &[], Some(&rules));
        assert!(config.contains("registry: reg.local:5000/mirror"), "{config}");
        assert!(config.contains("{from: quay.io/a/b, to: reg.local:5000/mirror/quay.io/a/b}"), "{config}");
        let parsed = super::super::config::parse(
            gomplate::yaml::decode(&config).unwrap().as_map().unwrap().get("mirror").unwrap(),
            "written",
        )
        .unwrap();
        assert_eq!(parsed.rewrite_image(&jobs[0].source), Some(jobs[0].target.clone()));
    }

    #[test]
    fn source_aliases_change_the_pull_not_the_target() {
        let doc = gomplate::yaml::decode(
            "images:\n  registry: reg.local:5000/m\n  sources: [{from: docker.io/bitnami, pullFrom: docker.io/bitnamilegacy}]\n",
        )
        .unwrap();
        let rules = super::super::config::parse(&doc, "test").unwrap();
        let text = "docker.io/bitnami/kubectl:1.28\nbitnami/minio:2024=reg.local:5000/pinned/minio\nquay.io/a/b:1\n";
        let (jobs, _) = parse_images(text, "f", Some(&rules)).unwrap();
        assert_eq!(jobs[0].source.to_string(), "docker.io/bitnamilegacy/kubectl:1.28");
        assert_eq!(jobs[0].target.to_string(), "reg.local:5000/m/docker.io/bitnami/kubectl:1.28");
        assert_eq!(jobs[0].rendered().to_string(), "docker.io/bitnami/kubectl:1.28");
        assert_eq!(
            jobs[0].to_string(),
            "docker.io/bitnami/kubectl:1.28 -> reg.local:5000/m/docker.io/bitnami/kubectl:1.28 (pulled from docker.io/bitnamilegacy/kubectl:1.28)"
        );
        // An explicit target keeps its target and is pulled from the alias too.
        assert_eq!(jobs[1].source.to_string(), "docker.io/bitnamilegacy/minio:2024");
        assert_eq!(jobs[1].target.to_string(), "reg.local:5000/pinned/minio:2024");
        // No alias: no original.
        assert_eq!(jobs[2].original, None);
        assert_eq!(jobs[2].to_string(), "quay.io/a/b:1 -> reg.local:5000/m/quay.io/a/b:1");
        // The written config maps the rendered name, which the render holds.
        let config = mirror_config(&jobs, &[], Some(&rules));
        assert!(config.contains("{from: docker.io/bitnami/kubectl, to: reg.local:5000/m/docker.io/bitnami/kubectl}"), "{config}");
        assert!(!config.contains("bitnamilegacy"), "{config}");
    }

    #[test]
    fn written_config_routes_pushed_charts_back_to_their_copies() {
        let charts = [ChartJob {
            repository: "https://charts.jetstack.io/".into(),
            name: "cert-manager".into(),
            version: "v1.12.10".into(),
            target: "reg.local:5000/charts/charts.jetstack.io/cert-manager".into(),
        }];
        let text = mirror_config(&[], &charts, None);
        let doc = gomplate::yaml::decode(&text).unwrap();
        let rules = super::super::config::parse(&doc.as_map().unwrap()["mirror"], "written").unwrap();
        assert_eq!(
            rules.rewrite_chart_repository("https://charts.jetstack.io").as_deref(),
            Some("oci://reg.local:5000/charts/charts.jetstack.io"),
            "{text}"
        );
    }

    #[test]
    fn lines_and_json_parse() {
        let text = "# charts\nhttps://charts.jetstack.io cert-manager v1.12.10 oci://mirror.example.com/charts\n\
                    oci://ghcr.io/x kyverno 3.0.1 oci://m/charts\n";
        let (jobs, left) = parse_charts(text, "f", None).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].target, "mirror.example.com/charts/cert-manager");
        assert_eq!(left.len(), 1);
        assert!(parse_charts("https://x cert-manager\n", "f", None).unwrap_err().to_string().contains("f:1"));
        assert!(parse_charts("https://x a 1.0\n", "f", None).unwrap_err().to_string().contains("no target"));
        let json = r#"[{"name":"kyverno","version":"3.0.x","resolved_version":"3.0.1","repository":"https://kyverno.github.io/kyverno"}]"#;
        let e = parse_charts(json, "f", None).unwrap_err().to_string();
        assert!(e.contains("f: entry 0: no target for https://kyverno.github.io/kyverno"), "{e}");
    }

    #[test]
    fn file_and_oci_lines_get_the_right_advice() {
        let text = "file://../trust-manager trust-manager 0.9.2-deploykf
oci://ghcr.io/x/ kyverno 3.0.1+up
";
        let (jobs, left) = parse_charts(text, "f", None).unwrap();
        assert!(jobs.is_empty());
        assert_eq!(left[0], "file://../trust-manager trust-manager 0.9.2-deploykf (a file:// chart: it is inside the generator and deployed from there, nothing to mirror)");
        assert_eq!(left[1], "oci://ghcr.io/x/ kyverno 3.0.1+up (an oci:// chart copies as an image: put the line ghcr.io/x/kyverno:3.0.1_up in --images-file)");
        let e = parse_charts("@jetstack cert-manager 1.0\n", "f", None).unwrap_err().to_string();
        assert_eq!(e, "f:1: \"@jetstack\" is not a chart repository URL: write https://…, oci://… or file://…");
    }
}
