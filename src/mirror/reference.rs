//! Container image references as the distribution grammar defines them
//! (`[host[:port]/]path[:tag][@digest]`), with Docker's normalisation
//! (implicit `docker.io`, `library/`, `index.docker.io`). Every module that
//! handles an image reference uses this type.

use anyhow::Result;

/// A parsed, normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// Registry host, with port if any (`docker.io` when implicit).
    pub registry: String,
    /// Repository path (`library/nginx` for `nginx`).
    pub repository: String,
    pub tag: Option<String>,
    /// `algorithm:hex`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses and normalises a reference; errors say what is wrong with it.
    pub fn parse(s: &str) -> Result<ImageRef> {
        anyhow::bail!("invalid reference {s:?}: not implemented")
    }
}

impl std::fmt::Display for ImageRef {
    /// The fully qualified form: `registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}
