//! The grammar of `github.com/distribution/reference` (`regexp.go`), its
//! normalisation (`normalize.go`: implicit `docker.io` and `library/`,
//! `index.docker.io`) and go-digest's checks, as regular expressions and the
//! functions that apply them. [`parse_normalized`] is what
//! [`ImageRef::parse`] runs.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::RefError;
use crate::ImageRef;

/// The registry a reference without a host names.
pub(crate) const DEFAULT_DOMAIN: &str = "docker.io";
/// The old name of Docker Hub, normalised to [`DEFAULT_DOMAIN`].
pub(crate) const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images (`nginx` is `library/nginx`).
pub(crate) const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The longest repository path (`bitnami/kubectl`, host excluded) accepted.
pub(crate) const NAME_TOTAL_LENGTH_MAX: usize = 255;

// The grammar, piece by piece, as `regexp.go` builds it. Go's `\w` and
// `[[:xdigit:]]` are ASCII classes; they are spelled out here because the
// regex crate's `\w` is Unicode.
const ALPHANUMERIC: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[._]|__|[-]+)";
const DOMAIN_NAME_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}";
const IPV6_ADDRESS: &str = r"\[(?:[a-fA-F0-9:]+)\]";

fn domain_and_port() -> String {
    let domain_name = format!(r"{DOMAIN_NAME_COMPONENT}(?:\.{DOMAIN_NAME_COMPONENT})*");
    format!("(?:{domain_name}|{IPV6_ADDRESS}){OPTIONAL_PORT}")
}

fn remote_name() -> String {
    let path_component = format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*");
    format!("{path_component}(?:/{path_component})*")
}

/// `name[:tag][@digest]`, capturing the three parts.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("(?:{}/)?{}", domain_and_port(), remote_name());
    Regex::new(&format!("^({name})(?::({TAG}))?(?:@({DIGEST}))?$")).expect("reference grammar")
});
/// `[domain/]path`, capturing both; like Go, the domain is taken when it can be.
static ANCHORED_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^(?:({})/)?({})$",
        domain_and_port(),
        remote_name()
    ))
    .expect("name grammar")
});
pub(crate) static ANCHORED_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{TAG}$")).expect("tag grammar"));
pub(crate) static ANCHORED_DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{DIGEST}$")).expect("digest grammar"));
/// A bare image ID, which Docker refuses as a repository name.
pub(crate) static ANCHORED_IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("identifier grammar"));
/// go-digest's test for "a well-formed digest of an unknown algorithm".
static GO_DIGEST_ANCHORED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$").expect("go-digest grammar")
});

/// What Go's `Parse` finds in an already qualified string.
pub(crate) struct Parsed<'a> {
    pub(crate) domain: &'a str,
    pub(crate) path: &'a str,
    pub(crate) tag: Option<&'a str>,
    pub(crate) digest: Option<&'a str>,
}

/// Go's `reference.Parse`: the grammar without normalisation.
pub(crate) fn parse_grammar(s: &str) -> Result<Parsed<'_>, RefError> {
    let Some(caps) = REFERENCE.captures(s) else {
        let lower = s.to_lowercase();
        if lower != s && REFERENCE.is_match(&lower) {
            return Err(RefError::NameContainsUppercase);
        }
        return Err(RefError::InvalidFormat);
    };
    let name = caps.get(1).map_or("", |m| m.as_str());
    let name_caps = ANCHORED_NAME
        .captures(name)
        .ok_or(RefError::InvalidFormat)?;
    let domain = name_caps.get(1).map_or("", |m| m.as_str());
    let path = name_caps.get(2).map_or("", |m| m.as_str());
    if path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(RefError::NameTooLong);
    }
    let digest = caps.get(3).map(|m| m.as_str());
    if let Some(d) = digest {
        validate_digest(d)?;
    }
    Ok(Parsed {
        domain,
        path,
        tag: caps.get(2).map(|m| m.as_str()),
        digest,
    })
}

/// go-digest's `Digest.Validate` with its default algorithms (sha256 and
/// sha512; sha384 is defined there but not registered, so it is refused).
pub(crate) fn validate_digest(d: &str) -> Result<(), RefError> {
    let Some((algorithm, encoded)) = d.split_once(':').filter(|(_, e)| !e.is_empty()) else {
        return Err(RefError::ChecksumFormat);
    };
    let hex_len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ if GO_DIGEST_ANCHORED.is_match(d) => return Err(RefError::DigestUnsupported),
        _ => return Err(RefError::ChecksumFormat),
    };
    if encoded.len() != hex_len {
        return Err(RefError::ChecksumLength);
    }
    if !encoded
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(RefError::ChecksumFormat);
    }
    Ok(())
}

/// Docker's `splitDockerDomain`: the first `/`-separated component is a
/// host when it is `localhost` or contains `.`, `:` or a capital letter;
/// otherwise the host is `docker.io`, and a one-component Docker Hub name
/// gets `library/`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((first, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let looks_like_host =
        first == "localhost" || first.contains(['.', ':']) || first.to_lowercase() != first;
    let (domain, remote) = match (looks_like_host, first) {
        (false, _) => (DEFAULT_DOMAIN, name),
        (true, LEGACY_DEFAULT_DOMAIN) => (DEFAULT_DOMAIN, rest),
        (true, _) => (first, rest),
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_string())
}

/// The normalisation of `ParseNormalizedNamed`, as parts.
pub(crate) fn parse_normalized(s: &str) -> Result<ImageRef, RefError> {
    if ANCHORED_IDENTIFIER.is_match(s) {
        return Err(RefError::Identifier);
    }
    let (domain, remainder) = split_docker_domain(s);
    let remote = remainder.split(':').next().unwrap_or_default();
    if remote.to_lowercase() != remote {
        return Err(RefError::RemoteUppercase(remote.to_string()));
    }
    let qualified = format!("{domain}/{remainder}");
    let p = parse_grammar(&qualified)?;
    if p.domain.is_empty() {
        // Go keeps such names (`foo_bar.com/x`) without any registry, which
        // no pull can use; refused here instead.
        return Err(RefError::InvalidHost(domain.to_string()));
    }
    Ok(ImageRef {
        registry: p.domain.to_string(),
        repository: p.path.to_string(),
        tag: p.tag.map(str::to_string),
        digest: p.digest.map(str::to_string),
    })
}
