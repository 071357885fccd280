//! Image pull secrets for the mirror registries (`deploykf-cmp pull-secret`):
//! the `kubernetes.io/dockerconfigjson` Secret holding only the chosen
//! registries' credentials, and the deployKF values that make its Kyverno
//! `clone-image-pull-secrets` ClusterPolicy (deployKF 0.1.3 and later) copy it
//! into every namespace and add it to every Pod.
//!
//! The policy clones `registryCredentials[].existingSecret` from
//! `existingSecretNamespace` (default: the kyverno namespace). The defaults
//! here, `deploykf-registry-credentials` in `argocd`, are the Secret the
//! deploykf-cmp sidecar of `argocd-repo-server` mounts for chart pulls, so one
//! Secret serves both; `argocd` exists before deployKF is installed and is
//! excluded from the policy by default, so the source is never overwritten.

use anyhow::{bail, Context, Result};
use base64::Engine;
use gomplate::{Map, Value};

use super::config::{is_dns_name, MirrorRules};
use registry::credentials::registry_host;
use registry::Credentials;

/// The Secret name when neither `--name` nor `mirror.pullSecret.name` gives one:
/// the one the sidecar patch in `deploy/` mounts.
pub const DEFAULT_NAME: &str = "deploykf-registry-credentials";
/// The Secret namespace when neither `--namespace` nor
/// `mirror.pullSecret.namespace` gives one: Argo CD's.
pub const DEFAULT_NAMESPACE: &str = "argocd";

/// Where the Secret lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub namespace: String,
}

impl SecretRef {
    /// The name and namespace: each from its flag, else from the mirror's
    /// `pullSecret`, else [`DEFAULT_NAME`] / [`DEFAULT_NAMESPACE`]. Flag values
    /// are checked against Kubernetes' naming rules (the mirror's are checked
    /// when it is loaded).
    pub fn choose(
        name: Option<&str>,
        namespace: Option<&str>,
        mirror: Option<&MirrorRules>,
    ) -> Result<SecretRef> {
        if let Some(name) = name {
            if !is_dns_name(name, 253, true) {
                bail!("--name {name:?} is not a valid Secret name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters");
            }
        }
        if let Some(ns) = namespace {
            if !is_dns_name(ns, 63, false) {
                bail!("--namespace {ns:?} is not a valid namespace: use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters");
            }
        }
        let configured = mirror.and_then(|m| m.pull_secret.as_ref());
        Ok(SecretRef {
            name: name
                .or(configured.map(|p| p.name.as_str()))
                .unwrap_or(DEFAULT_NAME)
                .to_string(),
            namespace: namespace
                .or(configured.and_then(|p| p.namespace.as_deref()))
                .unwrap_or(DEFAULT_NAMESPACE)
                .to_string(),
        })
    }
}

/// A registry host the Secret holds credentials for, and what named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryChoice {
    /// `host` or `host:port`, as [`registry_host`] normalises it.
    pub host: String,
    /// `--registry`, `mirror.images.registry`, ... (for messages).
    pub from: String,
}

/// The registries named by `--registry` flags (each reduced to its host;
/// repeats dropped).
pub fn registries_from_flags(flags: &[String]) -> Vec<RegistryChoice> {
    let mut out = Vec::new();
    for flag in flags {
        push_unique(&mut out, registry_host(flag), format!("--registry {flag}"));
    }
    out
}

/// Every registry pods and the sidecar pull from under `rules`, first
/// appearance first: `mirror.images.registry`, each image override's `to`, the
/// OCI `mirror.charts.repository` and each OCI chart override's `to` (https
/// chart repositories do not read docker credentials).
pub fn registries_from_mirror(rules: &MirrorRules) -> Vec<RegistryChoice> {
    let mut out = Vec::new();
    let mut add = |host: String, key: String| {
        push_unique(
            &mut out,
            host,
            format!(
                "{key} in {}; --registry HOST chooses the registries instead",
                rules.origin
            ),
        )
    };
    add(
        rules.registry.registry.clone(),
        "mirror.images.registry".into(),
    );
    for (i, o) in rules.overrides.iter().enumerate() {
        add(
            o.to.registry.clone(),
            format!("mirror.images.overrides[{i}].to"),
        );
    }
    if let Some(charts) = &rules.charts {
        if charts.repository.starts_with("oci://") {
            add(
                registry_host(&charts.repository),
                "mirror.charts.repository".into(),
            );
        }
        for (i, o) in charts.overrides.iter().enumerate() {
            if o.to.starts_with("oci://") {
                add(
                    registry_host(&o.to),
                    format!("mirror.charts.overrides[{i}].to"),
                );
            }
        }
    }
    out
}

fn push_unique(out: &mut Vec<RegistryChoice>, host: String, from: String) {
    if !out.iter().any(|r| r.host == host) {
        out.push(RegistryChoice { host, from });
    }
}

/// `.dockerconfigjson` content with one `auths` entry per registry, taken from
/// `creds` ([`Credentials::docker_config_json_for`]: helper-kept credentials,
/// tokens and missing entries are refused). Errors name the registry and what
/// chose it, never a secret.
pub fn docker_config_json(
    creds: &Credentials,
    registries: &[RegistryChoice],
) -> Result<serde_json::Value> {
    let mut auths = serde_json::Map::new();
    for registry in registries {
        let one = creds
            .docker_config_json_for(&registry.host)
            .with_context(|| format!("registry {} (named by {})", registry.host, registry.from))?;
        if let Some(serde_json::Value::Object(entries)) = one.get("auths") {
            auths.extend(entries.clone());
        }
    }
    Ok(serde_json::json!({ "auths": auths }))
}

/// The Secret manifest (YAML, apply-able with `kubectl apply -f -`) holding
/// `config` as `.dockerconfigjson`.
pub fn secret_manifest(
    secret: &SecretRef,
    config: &serde_json::Value,
    registries: &[RegistryChoice],
) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(config.to_string());
    let mut data = Map::new();
    data.insert(".dockerconfigjson".into(), Value::str(encoded));
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::str(secret.name.as_str()));
    metadata.insert("namespace".into(), Value::str(secret.namespace.as_str()));
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), "v1".into());
    doc.insert("kind".into(), "Secret".into());
    doc.insert("metadata".into(), Value::map(metadata));
    doc.insert("type".into(), "kubernetes.io/dockerconfigjson".into());
    doc.insert("data".into(), Value::map(data));
    let hosts: Vec<&str> = registries.iter().map(|r| r.host.as_str()).collect();
    format!(
        "## image pull credentials for {} (deploykf-cmp pull-secret)\n{}",
        hosts.join(", "),
        encode(&Value::map(doc))
    )
}

/// The deployKF values enabling the image-pull-secrets ClusterPolicy with
/// `secret` as its only registry credentials.
pub fn deploykf_values(secret: &SecretRef) -> Value {
    let mut credential = Map::new();
    credential.insert("existingSecret".into(), Value::str(secret.name.as_str()));
    credential.insert(
        "existingSecretNamespace".into(),
        Value::str(secret.namespace.as_str()),
    );
    let mut policy = Map::new();
    policy.insert("enabled".into(), Value::Bool(true));
    policy.insert(
        "registryCredentials".into(),
        Value::list(vec![Value::map(credential)]),
    );
    let nest = |key: &str, inner: Value| {
        let mut m = Map::new();
        m.insert(key.to_string(), inner);
        Value::map(m)
    };
    nest(
        "deploykf_dependencies",
        nest(
            "kyverno",
            nest(
                "clusterPolicies",
                nest("imagePullSecrets", Value::map(policy)),
            ),
        ),
    )
}

/// [`deploykf_values`] as a commented YAML document for a values file.
pub fn deploykf_values_yaml(secret: &SecretRef) -> String {
    format!(
        "## deployKF 0.1.3+: clone the Secret {}/{} into every namespace and add it to every Pod.\n\
         ## `registryCredentials` is a list, so it replaces one set in an earlier values file:\n\
         ## list every credential there. `excludeNamespaces` keeps its default (argocd,\n\
         ## kube-system); Pods in excluded namespaces and in the kyverno namespace get no pull secret.\n{}",
        secret.namespace,
        secret.name,
        encode(&deploykf_values(secret))
    )
}

fn encode(value: &Value) -> String {
    // The engine's encoder only fails on values YAML cannot hold; these are
    // maps of strings.
    gomplate::yaml::encode(value).expect("maps of strings encode as YAML")
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::mirror::config;

    fn rules(text: &str) -> MirrorRules {
        let doc = gomplate::yaml::decode(text).unwrap();
        config::parse(doc.as_map().unwrap().get("mirror").unwrap(), "test").unwrap()
    }

    #[test]
    fn mirror_registries_cover_images_overrides_and_oci_charts_once_each() {
        let r = rules(
            "mirror:\n  images:\n    registry: reg.example.com/deploykf\n    overrides:\n      - {from: docker.io/bitnami, to: other.example.com:5000/bitnami}\n      - {from: quay.io, to: reg.example.com/quay}\n  charts:\n    repository: oci://charts.example.com/c\n    overrides:\n      - {from: 'https://charts.jetstack.io', to: 'https://web.example.com/jetstack'}\n",
        );
        let got: Vec<(String, String)> = registries_from_mirror(&r)
            .into_iter()
            .map(|c| {
                let key = c.from.split(" in test;").next().unwrap().to_string();
                (c.host, key)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("reg.example.com".into(), "mirror.images.registry".into()),
                (
                    "other.example.com:5000".into(),
                    "mirror.images.overrides[0].to".into()
                ),
                (
                    "charts.example.com".into(),
                    "mirror.charts.repository".into()
                ),
            ]
        );
    }

    #[test]
    fn flags_are_reduced_to_hosts_and_deduplicated() {
        let got = registries_from_flags(&[
            "oci://Reg.Example.com:5000/charts".into(),
            "reg.example.com:5000".into(),
            "index.docker.io".into(),
        ]);
        let hosts: Vec<&str> = got.iter().map(|c| c.host.as_str()).collect();
        assert_eq!(hosts, ["reg.example.com:5000", "docker.io"]);
    }

    #[test]
    fn names_come_from_flags_then_mirror_then_defaults() {
        let r = rules(
            "mirror:\n  images: {registry: r.example.com}\n  pullSecret: {name: from-mirror}\n",
        );
        let s = SecretRef::choose(None, None, Some(&r)).unwrap();
        assert_eq!(
            (s.name.as_str(), s.namespace.as_str()),
            ("from-mirror", DEFAULT_NAMESPACE)
        );
        let s = SecretRef::choose(Some("flag"), Some("ns"), Some(&r)).unwrap();
        assert_eq!((s.name.as_str(), s.namespace.as_str()), ("flag", "ns"));
        let s = SecretRef::choose(None, None, None).unwrap();
        assert_eq!(
            (s.name.as_str(), s.namespace.as_str()),
            (DEFAULT_NAME, DEFAULT_NAMESPACE)
        );
        for (name, ns) in [
            (Some("Bad_Name"), None),
            (None, Some("a.b")),
            (Some("x\ny"), None),
        ] {
            assert!(
                SecretRef::choose(name, ns, None).is_err(),
                "{name:?} {ns:?}"
            );
        }
    }
}
