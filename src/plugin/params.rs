//! The plugin's parameters as Argo CD passes them, with the upstream deployKF
//! plugin's semantics: read from `ARGOCD_APP_PARAMETERS` (a JSON array of
//! `{name, string|array|map}`, or `null`), or — only when that variable is
//! absent — from the `PARAM_<NAME>` / `PARAM_<NAME>_<i>` variables, whose names
//! can collide (an array `values_files` and a string `values_files_0` both give
//! `PARAM_VALUES_FILES_0`). An empty string counts as unset, like the upstream
//! plugin's `[[ -n ... ]]` tests.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{Map as JsonMap, Value as Json};

use crate::components::Build;

/// The JSON parameters variable.
pub const PARAMETERS_VAR: &str = "ARGOCD_APP_PARAMETERS";
/// The output folder used when no output parameter is given: the app-of-apps.
pub const DEFAULT_OUTPUT: &str = "./argocd/";

/// Parameters that select a component of the output rather than the generator's
/// inputs: they differ between the child applications of one app-of-apps.
const OUTPUT_PARAMETERS: [&str; 3] = ["output_kustomize_path", "output_helm_path", "output_helm_values_files"];
/// Every parameter the plugin announces, with whether it is an array.
const KNOWN: [(&str, bool); 7] = [
    ("source_version", false),
    ("source_path", false),
    ("values_files", true),
    ("values", false),
    ("output_kustomize_path", false),
    ("output_helm_path", false),
    ("output_helm_values_files", true),
];

/// The parameters as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parameters {
    pub source_version: Option<String>,
    pub source_path: Option<String>,
    pub values_files: Vec<String>,
    pub values: Option<String>,
    pub output_kustomize_path: Option<String>,
    pub output_helm_path: Option<String>,
    pub output_helm_values_files: Vec<String>,
    /// The parameters that are generator inputs (all but the output ones), in
    /// `ARGOCD_APP_PARAMETERS` form: what the generator's templates read back
    /// to write the same parameters into every child Application.
    pub generator_parameters: Vec<Json>,
}

/// Where the generator comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceParam {
    /// `source_version`: a deployKF release.
    Version(String),
    /// `source_path`: a zip or folder in the repository.
    Path(String),
}

impl Parameters {
    /// Reads the parameters from environment variables (`vars`).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Parameters> {
        match vars.get(PARAMETERS_VAR) {
            Some(json) => Parameters::from_json(json),
            None => Ok(Parameters::from_param_vars(vars)),
        }
    }

    /// Parses `ARGOCD_APP_PARAMETERS`. Errors never quote parameter values
    /// (the `values` string may hold secrets).
    pub fn from_json(text: &str) -> Result<Parameters> {
        let json: Json = serde_json::from_str(text)
            .map_err(|e| anyhow!("{PARAMETERS_VAR} is not valid JSON ({e}): Argo CD sets it to a JSON array of parameters"))?;
        let entries = match json {
            Json::Null => Vec::new(),
            Json::Array(entries) => entries,
            _ => bail!("{PARAMETERS_VAR} must be a JSON array of parameters (or null)"),
        };
        let mut params = Parameters::default();
        for (i, entry) in entries.into_iter().enumerate() {
            let Json::Object(fields) = &entry else {
                bail!("{PARAMETERS_VAR}: entry {i} is not an object with a 'name'");
            };
            let name = fields
                .get("name")
                .and_then(Json::as_str)
                .ok_or_else(|| anyhow!("{PARAMETERS_VAR}: entry {i} has no 'name'"))?
                .to_string();
            if let Some((_, is_array)) = KNOWN.iter().find(|(known, _)| *known == name) {
                if *is_array {
                    let items = array_field(fields, &name)?;
                    params.set_array(&name, items);
                } else {
                    let value = string_field(fields, &name)?;
                    params.set_string(&name, value);
                }
            }
            if !OUTPUT_PARAMETERS.contains(&name.as_str()) {
                params.generator_parameters.push(entry);
            }
        }
        Ok(params)
    }

    /// Reads the `PARAM_*` variables (the fallback when `ARGOCD_APP_PARAMETERS`
    /// is absent). Array entries `PARAM_<NAME>_<i>` are taken in index order.
    pub fn from_param_vars(vars: &HashMap<String, String>) -> Parameters {
        let mut params = Parameters::default();
        for (name, is_array) in KNOWN {
            let var = format!("PARAM_{}", name.to_ascii_uppercase());
            if is_array {
                let prefix = format!("{var}_");
                let mut items: Vec<(u64, &String)> = vars
                    .iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse::<u64>().ok()?, v)))
                    .collect();
                items.sort();
                params.set_array(name, items.into_iter().map(|(_, v)| v.clone()).collect());
            } else if let Some(value) = vars.get(&var) {
                params.set_string(name, value.clone());
            }
        }
        for (name, is_array) in KNOWN {
            if OUTPUT_PARAMETERS.contains(&name) {
                continue;
            }
            let entry = if is_array {
                let items = params.array(name);
                (!items.is_empty()).then(|| serde_json::json!({ "name": name, "array": items }))
            } else {
                params.string(name).map(|value| serde_json::json!({ "name": name, "string": value }))
            };
            params.generator_parameters.extend(entry);
        }
        params
    }

    fn set_string(&mut self, name: &str, value: String) {
        let value = Some(value).filter(|v| !v.is_empty());
        match name {
            "source_version" => self.source_version = value,
            "source_path" => self.source_path = value,
            "values" => self.values = value,
            "output_kustomize_path" => self.output_kustomize_path = value,
            "output_helm_path" => self.output_helm_path = value,
            _ => unreachable!("not a string parameter: {name}"),
        }
    }

    fn set_array(&mut self, name: &str, items: Vec<String>) {
        match name {
            "values_files" => self.values_files = items,
            "output_helm_values_files" => self.output_helm_values_files = items,
            _ => unreachable!("not an array parameter: {name}"),
        }
    }

    fn string(&self, name: &str) -> Option<&str> {
        match name {
            "source_version" => self.source_version.as_deref(),
            "source_path" => self.source_path.as_deref(),
            "values" => self.values.as_deref(),
            _ => None,
        }
    }

    fn array(&self, name: &str) -> &[String] {
        match name {
            "values_files" => &self.values_files,
            _ => &[],
        }
    }

    /// Exactly one of `source_version` and `source_path`.
    pub fn source(&self) -> Result<SourceParam> {
        match (&self.source_version, &self.source_path) {
            (Some(_), Some(_)) => bail!(
                "both 'source_version' and 'source_path' were set, but exactly one is required: \
                 remove one of them from the Application's spec.source.plugin.parameters"
            ),
            (None, None) => bail!(
                "neither 'source_version' nor 'source_path' was set, but exactly one is required: \
                 add 'source_version' (a deployKF release, e.g. \"0.1.5\") or 'source_path' (a generator \
                 .zip or folder in the repository) to the Application's spec.source.plugin.parameters"
            ),
            (Some(version), None) => Ok(SourceParam::Version(version.clone())),
            (None, Some(path)) => Ok(SourceParam::Path(path.clone())),
        }
    }

    /// At most one of `output_kustomize_path` and `output_helm_path`; neither
    /// means the app-of-apps folder `./argocd/`.
    pub fn output(&self) -> Result<Build> {
        match (&self.output_kustomize_path, &self.output_helm_path) {
            (Some(_), Some(_)) => bail!(
                "both 'output_kustomize_path' and 'output_helm_path' were set, but at most one is allowed: \
                 remove one of them from the Application's spec.source.plugin.parameters"
            ),
            (Some(path), None) => Ok(Build::Kustomize(path.clone())),
            (None, Some(path)) => {
                Ok(Build::Helm { path: path.clone(), values_files: self.output_helm_values_files.clone() })
            }
            (None, None) => Ok(Build::Kustomize(DEFAULT_OUTPUT.to_string())),
        }
    }

    /// The generator parameters as `ARGOCD_APP_PARAMETERS` JSON.
    pub fn generator_parameters_json(&self) -> String {
        Json::Array(self.generator_parameters.clone()).to_string()
    }
}

fn string_field(fields: &JsonMap<String, Json>, name: &str) -> Result<String> {
    match fields.get("string") {
        Some(Json::String(s)) => Ok(s.clone()),
        None | Some(Json::Null) if fields.get("array").is_some_and(|a| !a.is_null()) => {
            bail!("parameter '{name}' must be a string (`string:`), not an array")
        }
        None | Some(Json::Null) => Ok(String::new()),
        Some(_) => bail!("parameter '{name}' must be a string (`string:`)"),
    }
}

fn array_field(fields: &JsonMap<String, Json>, name: &str) -> Result<Vec<String>> {
    match fields.get("array") {
        Some(Json::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_string)
                    .with_context(|| format!("parameter '{name}': entry {i} is not a string"))
            })
            .collect(),
        None | Some(Json::Null) if fields.get("string").is_some_and(|s| !s.is_null()) => {
            bail!("parameter '{name}' must be an array (`array:`), not a string")
        }
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(_) => bail!("parameter '{name}' must be an array (`array:`)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reads_argo_cd_json_parameters() {
        let json = r#"[{"name":"source_path","string":"./deploykf.zip"},
            {"name":"values_files","array":["./a.yaml","./b.yaml"]},
            {"name":"values","string":"x: 1\n"},
            {"name":"output_helm_path","string":"./manifests/istio/"},
            {"name":"output_helm_values_files","array":["./values.yaml"]},
            {"name":"custom","map":{"k":"v"}}]"#;
        let p = Parameters::from_json(json).unwrap();
        assert_eq!(p.source().unwrap(), SourceParam::Path("./deploykf.zip".into()));
        assert_eq!(p.values_files, ["./a.yaml", "./b.yaml"]);
        assert_eq!(p.values.as_deref(), Some("x: 1\n"));
        assert_eq!(
            p.output().unwrap(),
            Build::Helm { path: "./manifests/istio/".into(), values_files: vec!["./values.yaml".into()] }
        );
        // The output parameters are not generator inputs; unknown ones are kept.
        let names: Vec<&str> = p.generator_parameters.iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["source_path", "values_files", "values", "custom"]);
    }

    #[test]
    fn json_wins_over_colliding_param_vars() {
        // A string parameter `values_files_0` and the array `values_files` both give PARAM_VALUES_FILES_0.
        let env = vars(&[
            ("ARGOCD_APP_PARAMETERS", r#"[{"name":"source_version","string":"0.1.5"},{"name":"values_files_0","string":"./evil.yaml"}]"#),
            ("PARAM_SOURCE_VERSION", "0.1.5"),
            ("PARAM_VALUES_FILES_0", "./evil.yaml"),
        ]);
        let p = Parameters::from_vars(&env).unwrap();
        assert!(p.values_files.is_empty());
        assert_eq!(Parameters::from_vars(&vars(&[("ARGOCD_APP_PARAMETERS", "null")])).unwrap(), Parameters::default());
    }

    #[test]
    fn param_vars_are_the_fallback_in_index_order() {
        let env = vars(&[
            ("PARAM_SOURCE_VERSION", "0.1.5"),
            ("PARAM_SOURCE_PATH", ""),
            ("PARAM_VALUES_FILES_10", "k.yaml"),
            ("PARAM_VALUES_FILES_2", "c.yaml"),
            ("PARAM_VALUES_FILES_0", "a.yaml"),
            ("PARAM_OUTPUT_KUSTOMIZE_PATH", "./manifests/x/"),
        ]);
        let p = Parameters::from_vars(&env).unwrap();
        assert_eq!(p.source().unwrap(), SourceParam::Version("0.1.5".into()));
        assert_eq!(p.values_files, ["a.yaml", "c.yaml", "k.yaml"]);
        assert_eq!(p.output().unwrap(), Build::Kustomize("./manifests/x/".into()));
        assert_eq!(
            p.generator_parameters_json(),
            r#"[{"name":"source_version","string":"0.1.5"},{"array":["a.yaml","c.yaml","k.yaml"],"name":"values_files"}]"#
        );
    }

    #[test]
    fn source_must_be_exactly_one() {
        let both = Parameters { source_version: Some("0.1.5".into()), source_path: Some("g.zip".into()), ..Default::default() };
        let err = both.source().unwrap_err().to_string();
        assert!(err.starts_with("both 'source_version' and 'source_path' were set, but exactly one is required"), "{err}");
        let err = Parameters::default().source().unwrap_err().to_string();
        assert!(err.starts_with("neither 'source_version' nor 'source_path' was set"), "{err}");
        // Empty strings are unset.
        let p = Parameters::from_json(r#"[{"name":"source_version","string":""},{"name":"source_path","string":"g.zip"}]"#).unwrap();
        assert_eq!(p.source().unwrap(), SourceParam::Path("g.zip".into()));
    }

    #[test]
    fn output_is_at_most_one_and_defaults_to_the_app_of_apps() {
        assert_eq!(Parameters::default().output().unwrap(), Build::Kustomize("./argocd/".into()));
        let both = Parameters { output_kustomize_path: Some("a".into()), output_helm_path: Some("b".into()), ..Default::default() };
        assert!(both.output().unwrap_err().to_string().starts_with("both 'output_kustomize_path' and 'output_helm_path' were set"));
    }

    #[test]
    fn wrong_shapes_are_named_without_values() {
        let err = Parameters::from_json(r#"[{"name":"values_files","string":"secret-ish.yaml"}]"#).unwrap_err().to_string();
        assert_eq!(err, "parameter 'values_files' must be an array (`array:`), not a string");
        let err = Parameters::from_json(r#"[{"name":"values","array":["hunter2"]}]"#).unwrap_err().to_string();
        assert_eq!(err, "parameter 'values' must be a string (`string:`), not an array");
        let err = Parameters::from_json(r#"{"name":"values"}"#).unwrap_err().to_string();
        assert!(err.contains("must be a JSON array"), "{err}");
        let err = Parameters::from_json("[{\"name\":\"values\",\"string\":\"hunter2").unwrap_err().to_string();
        assert!(err.contains("not valid JSON") && !err.contains("hunter2"), "{err}");
    }
}
