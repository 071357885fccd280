//! The crate's error: [`Error`], what callers see, and [`RefError`], the
//! kinds of refusal of `distribution/reference` and `go-digest` whose texts
//! it carries. Inputs are echoed through [`quote`] and [`shorten`], so a
//! message stays short whatever the input's size.

use std::fmt;

use crate::grammar::NAME_TOTAL_LENGTH_MAX;
use crate::quote::{quote, shorten};

/// Why a reference, tag or digest was refused.
///
/// `Display` names the input (shortened when long), gives the Go packages'
/// text (`invalid reference format`, `invalid checksum digest length`, ...)
/// and says what to write instead:
///
/// ```text
/// invalid image reference "Nginx:1.25": invalid reference format: repository name (library/Nginx) must be lowercase; only the registry host may have capitals, write the repository in lowercase
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Repr);

/// What was refused, with the values the message names.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Repr {
    /// [`ImageRef::parse`](crate::ImageRef::parse) refused `input`.
    Reference { input: String, kind: RefError },
    /// [`ImageRef::with_tag`](crate::ImageRef::with_tag) refused `tag` for the image `name`.
    Tag { tag: String, name: String },
    /// [`ImageRef::with_digest`](crate::ImageRef::with_digest) refused `digest` for the image `name`.
    Digest { digest: String, name: String, kind: RefError },
    /// [`ImageRef::parse_loose`](crate::ImageRef::parse_loose): the repository has a tag or
    /// digest, and a tag is given too.
    TagTwice { repository: String, tag: String },
    /// [`ImageRef::parse_loose`](crate::ImageRef::parse_loose): the tag (or the digest in it)
    /// was refused.
    LooseTag { error: Box<Error>, repository: String, tag: String },
}

impl Error {
    pub(crate) fn reference(input: &str, kind: RefError) -> Error {
        Error(Repr::Reference { input: input.to_string(), kind })
    }

    pub(crate) fn tag(tag: &str, name: String) -> Error {
        Error(Repr::Tag { tag: tag.to_string(), name })
    }

    pub(crate) fn digest(digest: &str, name: String, kind: RefError) -> Error {
        Error(Repr::Digest { digest: digest.to_string(), name, kind })
    }

    pub(crate) fn tag_twice(repository: &str, tag: &str) -> Error {
        Error(Repr::TagTwice { repository: repository.to_string(), tag: tag.to_string() })
    }

    pub(crate) fn loose_tag(self, repository: &str, tag: &str) -> Error {
        Error(Repr::LooseTag { error: Box::new(self), repository: repository.to_string(), tag: tag.to_string() })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Reference { input, kind } => {
                write!(f, "invalid image reference {}: {kind}{}", quote(input), hint(kind))
            }
            Repr::Tag { tag, name } => write!(
                f,
                "{} {} for image {name}: a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
                RefError::TagInvalidFormat,
                quote(tag)
            ),
            Repr::Digest { digest, name, kind } => write!(
                f,
                "{kind} {} for image {name}: a digest is sha256:<64 lowercase hex> or sha512:<128 lowercase hex>",
                quote(digest)
            ),
            Repr::TagTwice { repository, tag } => write!(
                f,
                "image repository {} already has a tag or digest, and tag {} is also set; keep the tag in one of the two",
                quote(repository),
                quote(tag)
            ),
            Repr::LooseTag { error, repository, tag } => {
                write!(f, "{error} (tag {} for image repository {})", quote(tag), quote(repository))
            }
        }
    }
}

impl std::error::Error for Error {}

/// What to do about `kind`, appended to a reference's message.
fn hint(kind: &RefError) -> &'static str {
    match kind {
        RefError::InvalidFormat => "; expected [host[:port]/]path[:tag][@algorithm:hex] with a lowercase path",
        RefError::NameContainsUppercase | RefError::RemoteUppercase(_) => {
            "; only the registry host may have capitals, write the repository in lowercase"
        }
        RefError::Identifier => "; this is an image ID, name the image by repository instead",
        RefError::DigestUnsupported => "; use a sha256 or sha512 digest",
        RefError::ChecksumLength | RefError::ChecksumFormat | RefError::DigestInvalidFormat => {
            "; a digest is sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"
        }
        RefError::NameTooLong | RefError::TagInvalidFormat | RefError::InvalidHost(_) => "",
    }
}

/// Why a reference was refused. `Display` gives the Go packages' texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RefError {
    /// The input matches no production of the grammar.
    InvalidFormat,
    /// Only lowercasing would make the input valid.
    NameContainsUppercase,
    /// The repository part (tag and digest excluded) has capitals.
    RemoteUppercase(String),
    /// The repository path is over [`crate::grammar::NAME_TOTAL_LENGTH_MAX`].
    NameTooLong,
    /// The input is a 64-hex image ID.
    Identifier,
    /// A tag given on its own (`with_tag`, `parse_loose`) is malformed.
    TagInvalidFormat,
    /// A digest given on its own (`with_digest`) is malformed.
    DigestInvalidFormat,
    /// The hex part of a digest has the wrong length for its algorithm.
    ChecksumLength,
    /// The hex part of a digest is not lowercase hex.
    ChecksumFormat,
    /// The digest algorithm is not sha256 or sha512.
    DigestUnsupported,
    /// The host would be dropped by the Go package (it is not a valid host).
    InvalidHost(String),
}

impl std::fmt::Display for RefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefError::InvalidFormat => f.write_str("invalid reference format"),
            RefError::NameContainsUppercase => f.write_str("repository name must be lowercase"),
            RefError::RemoteUppercase(remote) => write!(
                f,
                "invalid reference format: repository name ({}) must be lowercase",
                shorten(remote)
            ),
            RefError::NameTooLong => write!(
                f,
                "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
            ),
            RefError::Identifier => {
                f.write_str("cannot specify 64-byte hexadecimal strings as a repository name")
            }
            RefError::TagInvalidFormat => f.write_str("invalid tag format"),
            RefError::DigestInvalidFormat => f.write_str("invalid digest format"),
            RefError::ChecksumLength => f.write_str("invalid checksum digest length"),
            RefError::ChecksumFormat => f.write_str("invalid checksum digest format"),
            RefError::DigestUnsupported => f.write_str("unsupported digest algorithm"),
            RefError::InvalidHost(host) => write!(
                f,
                "invalid reference format: registry host ({}) is not a valid host name",
                shorten(host)
            ),
        }
    }
}
