//! Container image references as the distribution grammar defines them
//! (`[host[:port]/]path[:tag][@digest]`), with Docker's normalisation
//! (implicit `docker.io`, `library/`, `index.docker.io`): the one
//! [`ImageRef`] type of deploykf-cmp, for every place that reads, rewrites or
//! copies an image.
//!
//! [`ImageRef::parse`] follows `ParseNormalizedNamed` of
//! `github.com/distribution/reference` and the digest checks of
//! `github.com/opencontainers/go-digest`: the same grammar, the same
//! domain detection, the same accepted and refused inputs and the same error
//! texts. Where the Go package yields something that is not a fully qualified
//! reference, this crate refuses or qualifies instead; each such difference
//! is noted on the item concerned.
//!
//! Refusals are an [`Error`] whose message names the input; long inputs are
//! shortened by [`quote`] and [`shorten`], which are public so that a program
//! echoes its other values the same way. [`api_host`] gives the host that
//! serves a registry's distribution API (Docker Hub's differs from its name).
//!
//! ```
//! use image_ref::ImageRef;
//!
//! let nginx = ImageRef::parse("nginx:1.25")?;
//! assert_eq!(nginx.to_string(), "docker.io/library/nginx:1.25");
//! assert_eq!(nginx.familiar(), "nginx:1.25");
//! assert_eq!(image_ref::api_host(&nginx.registry), "registry-1.docker.io");
//!
//! let kubectl = ImageRef::parse_loose("bitnami/kubectl", Some("1.26"))?;
//! assert_eq!(kubectl.path_with_host(), "docker.io/bitnami/kubectl");
//!
//! let err = ImageRef::parse("Nginx").unwrap_err().to_string();
//! assert!(err.starts_with("invalid image reference \"Nginx\": "));
//! # Ok::<(), image_ref::Error>(())
//! ```

mod error;
#[cfg(any(test, fuzzing))]
mod fuzz;
mod grammar;
mod quote;
#[cfg(test)]
mod tests;

pub use error::Error;
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub use fuzz::fuzz_roundtrip;
pub use quote::{quote, shorten};

use error::RefError;
use grammar::{
    parse_normalized, validate_digest, ANCHORED_DIGEST, ANCHORED_IDENTIFIER, ANCHORED_TAG, DEFAULT_DOMAIN,
    LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX,
};

/// Where Docker Hub serves the distribution API: `docker.io` itself answers
/// with a redirect to a web site, so the docker CLI and containers/image
/// (skopeo, podman) send registry requests for `docker.io` here.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// A parsed, normalised image reference.
///
/// Values made by this crate's constructors satisfy the grammar:
/// `registry` is a host (with port if any) that Docker recognises as one,
/// `repository` a path of lowercase components (`library/` included for
/// Docker Hub official images), `tag` and `digest` well-formed. Build new
/// values with [`ImageRef::parse`] or the `with_*` methods, not by hand.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io` when implicit).
    pub registry: String,
    /// Repository path (`library/nginx` for `nginx`).
    pub repository: String,
    /// The tag, if any (`1.25`).
    pub tag: Option<String>,
    /// `algorithm:hex`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses and normalises a reference; errors say what is wrong with it.
    ///
    /// Accepts what Docker's `ParseNormalizedNamed` accepts, with one
    /// exception: a first component that Docker takes for a host but that is
    /// not a valid host (`foo_bar.com/x`) is refused, where Go returns a name
    /// without any registry.
    pub fn parse(s: &str) -> Result<ImageRef, Error> {
        parse_normalized(s).map_err(|e| Error::reference(s, e))
    }

    /// Parses a reference given as two values, the way charts and deployKF
    /// values hold them (`repository: docker.io/bitnami/kubectl`,
    /// `tag: "1.26"`). An absent or empty `tag` leaves the reference as the
    /// repository has it; a tag may carry a digest (`1.26@sha256:...`) or be
    /// a digest alone (`@sha256:...`). A repository that already has a tag
    /// or digest cannot take another tag.
    pub fn parse_loose(repository: &str, tag: Option<&str>) -> Result<ImageRef, Error> {
        let tag = tag.unwrap_or_default();
        if tag.is_empty() {
            return ImageRef::parse(repository);
        }
        let base = ImageRef::parse(repository)?;
        if base.tag.is_some() || base.digest.is_some() {
            return Err(Error::tag_twice(repository, tag));
        }
        let (tag_part, digest_part) = match tag.split_once('@') {
            Some((t, d)) => (t, Some(d)),
            None => (tag, None),
        };
        let mut r = base;
        if !tag_part.is_empty() {
            r = r.with_tag(tag_part).map_err(|e| e.loose_tag(repository, tag))?;
        }
        if let Some(d) = digest_part {
            r = r.with_digest(d).map_err(|e| e.loose_tag(repository, tag))?;
        }
        Ok(r)
    }

    /// `registry/repository`, without tag or digest (Go's `Name()`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Docker's short form (Go's `FamiliarString`): `nginx:1.25` for
    /// `docker.io/library/nginx:1.25`, `bitnami/kubectl:1.26` for
    /// `docker.io/bitnami/kubectl:1.26`; references elsewhere are unchanged.
    ///
    /// Unlike Go, the result always parses back to `self`: `docker.io/` is
    /// kept when the first path component would be read as a host
    /// (`docker.io/a.b/c`), and `library/` when the short name alone would be
    /// an image ID.
    pub fn familiar(&self) -> String {
        let mut out = if self.registry != DEFAULT_DOMAIN {
            self.name()
        } else {
            let first = self.repository.split('/').next().unwrap_or_default();
            let short = self
                .repository
                .strip_prefix(OFFICIAL_REPO_PREFIX)
                .filter(|rest| !rest.contains('/'));
            match short {
                Some(rest)
                    if !(self.tag.is_none()
                        && self.digest.is_none()
                        && ANCHORED_IDENTIFIER.is_match(rest)) =>
                {
                    rest.to_string()
                }
                _ if first == "localhost" || first.contains(['.', ':']) => self.name(),
                _ => self.repository.clone(),
            }
        };
        self.push_suffix(&mut out);
        out
    }

    /// A copy with tag `tag` (the digest, if any, is kept).
    pub fn with_tag(&self, tag: &str) -> Result<ImageRef, Error> {
        if !ANCHORED_TAG.is_match(tag) {
            return Err(Error::tag(tag, self.name()));
        }
        Ok(ImageRef {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// A copy with digest `digest` (`algorithm:hex`; the tag, if any, is kept).
    pub fn with_digest(&self, digest: &str) -> Result<ImageRef, Error> {
        let checked = if ANCHORED_DIGEST.is_match(digest) {
            validate_digest(digest)
        } else {
            Err(RefError::DigestInvalidFormat)
        };
        checked.map_err(|kind| Error::digest(digest, self.name(), kind))?;
        Ok(ImageRef {
            digest: Some(digest.to_string()),
            ..self.clone()
        })
    }

    /// The repository path prefixed with the registry as one path component,
    /// for mirror layouts that keep the source host (`quay.io/x/y` gives
    /// `quay.io/x/y`, `nginx` gives `docker.io/library/nginx`).
    ///
    /// A path component is lowercase and cannot hold `:` or brackets, so the
    /// host is mapped: lowercased (hosts are case-insensitive); a port
    /// becomes `_<port>` (`host:5000` → `host_5000`); an IPv6 host becomes
    /// `ipv6_` and its eight groups in hex joined by `.`
    /// (`[::1]:5000` → `ipv6_0.0.0.0.0.0.0.1_5000`; groups that do not form
    /// an address are kept as written, empty ones as `x`). Host names never
    /// contain `_`, so distinct hosts give distinct components. The result
    /// may exceed the path length limit once prefixed with a mirror path;
    /// parse the final reference to check it.
    pub fn path_with_host(&self) -> String {
        format!(
            "{}/{}",
            host_path_component(&self.registry),
            self.repository
        )
    }

    /// Appends `:tag` and `@digest` when present.
    fn push_suffix(&self, out: &mut String) {
        if let Some(t) = &self.tag {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(d);
        }
    }
}

/// The registry host as a valid path component; see [`ImageRef::path_with_host`].
fn host_path_component(registry: &str) -> String {
    let registry = registry.to_ascii_lowercase();
    if let Some(inner) = registry.strip_prefix('[') {
        let (address, port) = inner.split_once(']').unwrap_or((inner, ""));
        let groups = match address.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => ip
                .segments()
                .iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>(),
            Err(_) => address
                .split(':')
                .map(|g| {
                    if g.is_empty() {
                        "x".to_string()
                    } else {
                        g.to_string()
                    }
                })
                .collect(),
        };
        let port = port
            .strip_prefix(':')
            .map(|p| format!("_{p}"))
            .unwrap_or_default();
        return format!("ipv6_{}{port}", groups.join("."));
    }
    registry.replacen(':', "_", 1)
}

impl std::str::FromStr for ImageRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<ImageRef, Error> {
        ImageRef::parse(s)
    }
}

impl std::fmt::Display for ImageRef {
    /// The fully qualified form: `registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = self.name();
        self.push_suffix(&mut out);
        f.write_str(&out)
    }
}

/// The host to send distribution API requests to for `registry`:
/// [`DOCKER_HUB_API_HOST`] for Docker Hub (`docker.io`, `index.docker.io`),
/// `registry` itself otherwise. Credentials stay keyed by the registry's own
/// name (see the credentials loader); only the network address changes.
pub fn api_host(registry: &str) -> &str {
    if registry == DEFAULT_DOMAIN || registry == LEGACY_DEFAULT_DOMAIN {
        DOCKER_HUB_API_HOST
    } else {
        registry
    }
}
