//! `deploykf-cmp pull-secret`: the image pull Secret for the mirror
//! registries, or the deployKF values using it, → [`crate::mirror::pull_secret`].

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use super::write_stdout;
use crate::mirror::config as mirror_config;
use crate::mirror::pull_secret::{self, SecretRef};
use registry::Credentials;
use crate::settings::{Settings, MIRROR_CONFIG_ENV};

pub(super) const PULL_SECRET_HELP: &str = "\
Print a 'kubernetes.io/dockerconfigjson' Secret for the mirror registries (--output secret,
the default), or the deployKF values that make its Kyverno ClusterPolicy clone that Secret
into every namespace and add it to every Pod (--output values; deployKF 0.1.3 and later).

This command writes credentials to stdout on purpose: redirect it to 'kubectl apply -f -'
or a protected file. Errors never show credentials.

Registries (the Secret holds only their entries):
  --registry      each one given (a host, host:port, image reference or oci:// URL)
  otherwise       from the mirror configuration (--mirror FILE, else the file named by
                  DEPLOYKF_CMP_MIRROR_CONFIG): the host of mirror.images.registry, of each
                  mirror.images.overrides[].to, and of an oci:// mirror.charts.repository
                  and mirror.charts.overrides[].to

Credentials come from --authfile, else REGISTRY_AUTH_FILE, else podman's auth.json, else
$DOCKER_CONFIG/config.json or ~/.docker/config.json, else helm's registry config. Each
registry needs a username/password entry in that file: credentials kept by a credential
helper (credsStore, credHelpers) or identity tokens are refused with an explanation.

The Secret is --name/--namespace, else mirror.pullSecret, else
'deploykf-registry-credentials' in 'argocd': the Secret the deploykf-cmp sidecar of
argocd-repo-server mounts for chart pulls, in a namespace the policy leaves alone.
--output values needs no credentials.

Examples:
  deploykf-cmp pull-secret --mirror mirror.yaml | kubectl apply -f -
  deploykf-cmp pull-secret --mirror mirror.yaml --output values > values-pull-secret.yaml
  deploykf-cmp pull-secret --registry registry.example.com:5000 --authfile auth.json \\
    --name my-registry --namespace argocd";



/// `deploykf-cmp pull-secret` flags.
#[derive(Debug, Args)]
pub struct PullSecretArgs {
    /// A YAML file with a top-level `mirror:` section (registries and `pullSecret`)
    #[arg(long, value_name = "FILE")]
    pub mirror: Option<PathBuf>,

    /// The docker config file holding the registry credentials
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,

    /// A registry to include (repeatable); replaces those of the mirror configuration
    #[arg(long, value_name = "HOST")]
    pub registry: Vec<String>,

    /// The Secret's name [default: mirror.pullSecret.name, else deploykf-registry-credentials]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The Secret's namespace [default: mirror.pullSecret.namespace, else argocd]
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,

    /// What to print
    #[arg(long, value_enum, default_value_t = PullSecretOutput::Secret)]
    pub output: PullSecretOutput,
}

/// `pull-secret --output`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PullSecretOutput {
    /// The Secret manifest, for `kubectl apply -f -`
    Secret,
    /// deployKF values enabling the image-pull-secrets ClusterPolicy with that Secret
    Values,
}

impl PullSecretArgs {
    /// Prints the Secret or the values.
    pub fn run(self, settings: &Settings) -> Result<()> {
        let env_file = settings.mirror_config();
        let mirror = mirror_config::resolve_sources(
            self.mirror.as_deref(),
            &mut Default::default(),
            env_file.as_deref(),
        )?;
        let secret = SecretRef::choose(
            self.name.as_deref(),
            self.namespace.as_deref(),
            mirror.as_ref(),
        )?;
        if self.output == PullSecretOutput::Values {
            return write_stdout(&pull_secret::deploykf_values_yaml(&secret));
        }
        let registries = match (&mirror, self.registry.is_empty()) {
            (_, false) => pull_secret::registries_from_flags(&self.registry),
            (Some(rules), true) => pull_secret::registries_from_mirror(rules),
            (None, true) => bail!(
                "no registry: pass --registry HOST, or --mirror FILE (or set \
                 {MIRROR_CONFIG_ENV}) with the mirror configuration"
            ),
        };
        let credentials = Credentials::discover_in(self.authfile.as_deref(), &|n| settings.var_os(n))?;
        let config = pull_secret::docker_config_json(&credentials, &registries)?;
        write_stdout(&pull_secret::secret_manifest(&secret, &config, &registries))
    }
}
