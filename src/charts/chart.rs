//! The parts of a Helm chart's metadata that dependency resolution reads:
//! `Chart.yaml` (`name`, `version`, apiVersion v2 `dependencies`) and, for
//! apiVersion v1 charts, `requirements.yaml`. Parsed with the engine's YAML
//! decoder (one YAML parser in the project).

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use gomplate::{Map, Value};

/// One `dependencies` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dependency {
    /// The chart's name in its repository (also the file name in `charts/`).
    pub name: String,
    /// A version or a constraint (`1.2.3`, `~1.2`); empty means the newest release.
    pub version: String,
    /// `oci://…`, `https://…`, `file://…`, or empty for a chart already in `charts/`.
    pub repository: String,
    /// The name the parent chart uses for it (values key); not a file name.
    pub alias: Option<String>,
}

/// A chart's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartMetadata {
    /// `name`.
    pub name: String,
    /// `version` (empty when absent).
    pub version: String,
    /// `dependencies`, from `requirements.yaml` for apiVersion v1 charts.
    pub dependencies: Vec<Dependency>,
}

fn scalar(map: &Map, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_dependencies(value: Option<&Value>, file: &Path) -> Result<Vec<Dependency>> {
    let Some(value) = value else { return Ok(Vec::new()) };
    if matches!(value, Value::Nil) {
        return Ok(Vec::new());
    }
    let list = value.as_list().ok_or_else(|| anyhow!("{}: `dependencies` must be a list", file.display()))?;
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let map = entry.as_map().ok_or_else(|| anyhow!("{}: dependency #{} is not a mapping", file.display(), i + 1))?;
            let name = scalar(map, "name").filter(|n| !n.is_empty());
            let name = name.ok_or_else(|| anyhow!("{}: dependency #{} has no `name`", file.display(), i + 1))?;
            Ok(Dependency {
                version: scalar(map, "version").unwrap_or_default(),
                repository: scalar(map, "repository").unwrap_or_default(),
                alias: scalar(map, "alias").filter(|a| !a.is_empty()),
                name,
            })
        })
        .collect()
}

fn read_yaml(path: &Path) -> Result<Map> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match gomplate::yaml::decode(&text).map_err(|e| anyhow!("{}: {e}", path.display()))? {
        Value::Map(map) => Ok((*map).clone()),
        Value::Nil => Ok(Map::new()),
        _ => bail!("{}: expected a mapping", path.display()),
    }
}

impl ChartMetadata {
    /// Reads `chart_dir/Chart.yaml` (and `requirements.yaml` for apiVersion v1).
    pub fn load(chart_dir: &Path) -> Result<ChartMetadata> {
        let file = chart_dir.join("Chart.yaml");
        let map = read_yaml(&file)?;
        let name = scalar(&map, "name").ok_or_else(|| anyhow!("{}: no chart `name`", file.display()))?;
        let version = scalar(&map, "version").unwrap_or_default();
        let mut dependencies = parse_dependencies(map.get("dependencies"), &file)?;
        let api_v1 = scalar(&map, "apiVersion").is_none_or(|v| v == "v1");
        let requirements = chart_dir.join("requirements.yaml");
        if api_v1 && dependencies.is_empty() && requirements.is_file() {
            let req = read_yaml(&requirements)?;
            dependencies = parse_dependencies(req.get("dependencies"), &requirements)?;
        }
        Ok(ChartMetadata { name, version, dependencies })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_v2_dependencies() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Chart.yaml"),
            "apiVersion: v2\nname: deploykf-cert-manager\nversion: 1.0.0\ndependencies:\n  - alias: cert-manager\n    name: \"cert-manager\"\n    version: \"1.12.10\"\n    repository: \"https://charts.jetstack.io\"\n    condition: x.enabled\n  - name: trust-manager\n    version: 0.9.2-deploykf\n    repository: file://forks/trust-manager\n",
        )
        .unwrap();
        let chart = ChartMetadata::load(dir.path()).unwrap();
        assert_eq!(chart.name, "deploykf-cert-manager");
        assert_eq!(chart.dependencies.len(), 2);
        assert_eq!(chart.dependencies[0].alias.as_deref(), Some("cert-manager"));
        assert_eq!(chart.dependencies[0].version, "1.12.10");
        assert_eq!(chart.dependencies[1].repository, "file://forks/trust-manager");
    }

    #[test]
    fn reads_v1_requirements_and_reports_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Chart.yaml"), "apiVersion: v1\nname: old\nversion: 0.1.0\n").unwrap();
        std::fs::write(dir.path().join("requirements.yaml"), "dependencies:\n- name: mysql\n  version: 1.x\n  repository: https://example.test/charts\n").unwrap();
        let chart = ChartMetadata::load(dir.path()).unwrap();
        assert_eq!(chart.dependencies[0].name, "mysql");
        std::fs::write(dir.path().join("Chart.yaml"), "apiVersion: v2\nname: bad\ndependencies:\n- version: 1.0.0\n").unwrap();
        let err = format!("{:#}", ChartMetadata::load(dir.path()).unwrap_err());
        assert!(err.contains("dependency #1 has no `name`"), "{err}");
    }
}
