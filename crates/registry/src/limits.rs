//! Bounds on what the registry client (and a caller's chart repository
//! downloads) reads from the network: the size limit of each kind of body,
//! the [`Timeouts`] of a request (connect, silence, whole request), and the
//! streaming reader that enforces them, so that nothing larger than its limit
//! is ever held in memory whatever a server sends.

use std::time::Duration;

use reqwest::{RequestBuilder, Response};

/// An OCI manifest (containerd and the distribution spec use 4 MiB).
pub const MANIFEST_MAX: u64 = 4 << 20;
/// One page of an OCI tag listing.
pub const TAG_LIST_PAGE_MAX: u64 = 4 << 20;
/// Tags of one repository, all pages together.
pub const TAGS_MAX: usize = 100_000;
/// The answer of a token endpoint.
pub const TOKEN_MAX: u64 = 1 << 20;
/// What is read of an error answer (the rest is not read).
pub const ERROR_BODY_MAX: u64 = 64 << 10;
/// A chart repository's `index.yaml`: Helm reads it whole; the largest public
/// indexes (Bitnami's before it moved to OCI) stayed well below this.
pub const INDEX_MAX: u64 = 64 << 20;
/// A chart archive (`.tgz`). Helm refuses charts that decompress to more than
/// 100 MiB; real charts compress several times, deployKF's largest is < 1 MiB.
pub const CHART_ARCHIVE_MAX: u64 = 32 << 20;

/// Network timeouts of every registry and chart repository request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    /// Establishing a connection (TCP and TLS).
    pub connect: Duration,
    /// Silence: no byte of the answer (headers or body) for this long fails the request.
    pub read: Duration,
    /// A whole request whose size is bounded (manifests, tokens, checks,
    /// uploads' control requests): a server drip-feeding its answer fails
    /// after this long. Blob transfers get this plus their size at
    /// [`MIN_BLOB_RATE`].
    pub request: Duration,
}

/// Bytes per second a blob transfer must average (16 KiB/s, 128 kbit/s).
pub const MIN_BLOB_RATE: u64 = 16 << 10;

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts { connect: Duration::from_secs(15), read: Duration::from_secs(30), request: Duration::from_secs(120) }
    }
}

impl Timeouts {
    /// The deadline of a blob transfer of `size` bytes.
    pub fn blob(&self, size: u64) -> Duration {
        self.request + Duration::from_secs(size / MIN_BLOB_RATE)
    }
}

/// Why a request or body read failed.
#[derive(Debug)]
pub enum BodyError {
    /// The body is (or announced to be) larger than the limit.
    TooLarge { limit: u64 },
    /// No answer, or no next chunk, within the timeout.
    Stalled(Duration),
    /// The connection failed.
    Http(reqwest::Error),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BodyError::TooLarge { limit } => write!(f, "larger than the limit of {}", size(*limit)),
            BodyError::Stalled(t) => write!(f, "the server sent nothing for {} s", t.as_secs_f64()),
            BodyError::Http(e) => write!(f, "{e}"),
        }
    }
}

/// `bytes` as a human size (`4 MiB`, `64 KiB`).
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// Sends `request`, waiting at most [`Timeouts::request`] for the answer's head
/// (the client's own read timeout ends a silent server earlier).
pub async fn send(request: RequestBuilder, timeouts: &Timeouts) -> Result<Response, BodyError> {
    match tokio::time::timeout(timeouts.request, request.send()).await {
        Ok(result) => result.map_err(BodyError::Http),
        Err(_) => Err(BodyError::Stalled(timeouts.request)),
    }
}

/// The whole body of `response`, failing as soon as it passes `limit` bytes
/// (or announces more in `Content-Length`) or pauses longer than [`Timeouts::read`].
pub async fn read_limited(mut response: Response, limit: u64, timeouts: &Timeouts) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    loop {
        let chunk = match tokio::time::timeout(timeouts.read, response.chunk()).await {
            Ok(chunk) => chunk.map_err(BodyError::Http)?,
            Err(_) => return Err(BodyError::Stalled(timeouts.read)),
        };
        let Some(chunk) = chunk else { return Ok(body) };
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
}

/// At most [`ERROR_BODY_MAX`] bytes of an error answer, as text; whatever
/// cannot be read within [`Timeouts::read`] is left out.
pub async fn error_text(mut response: Response, timeouts: &Timeouts) -> String {
    let mut body = Vec::new();
    while (body.len() as u64) < ERROR_BODY_MAX {
        match tokio::time::timeout(timeouts.read, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(ERROR_BODY_MAX as usize);
    String::from_utf8_lossy(&body).into_owned()
}

/// `text` cut to `max` characters for a message, saying how much was left out.
pub fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_excerpts_read_well_in_messages() {
        assert_eq!(size(MANIFEST_MAX), "4 MiB");
        assert_eq!(size(ERROR_BODY_MAX), "64 KiB");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(excerpt("  short  ", 10), "short");
        assert_eq!(excerpt(&"x".repeat(1000), 5), "xxxxx… (1000 bytes in all)");
    }

    #[test]
    fn blob_deadlines_grow_with_size() {
        assert_eq!(Timeouts::default().blob(32 << 10), Duration::from_secs(122));
    }
}
