//! How registries are reached: TLS roots (the system's plus extra PEM CAs,
//! as helm honours `SSL_CERT_FILE`), plain HTTP for registries listed as
//! insecure, Docker Hub at its API host (`registry-1.docker.io`), fixed
//! addresses, the [`Timeouts`], and the hook told what each request waits
//! for. [`OciSettings::http_client`] builds the one kind of HTTP client that
//! registry requests and the caller's chart repository downloads use.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use image_ref::api_host;

use crate::client::Failure;
use crate::limits::Timeouts;
use crate::transport;

/// Every certificate of a PEM bundle, one PEM block each (reqwest reads
/// only the first certificate of a bundle).
pub fn pem_certificates(path: &Path) -> Result<Vec<Vec<u8>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the CA file {}", path.display()))?;
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let end = rest[start..].find(END).ok_or_else(|| anyhow!("{}: unterminated PEM certificate", path.display()))?;
        certs.push(rest.as_bytes()[start..start + end + END.len()].to_vec());
        rest = &rest[start + end + END.len()..];
    }
    if certs.is_empty() {
        anyhow::bail!("{}: no PEM certificate found (set SSL_CERT_FILE to a PEM bundle of CA certificates)", path.display());
    }
    Ok(certs)
}

/// How the hosts of one client are reached.
#[derive(Clone, Debug, Default)]
pub struct OciSettings {
    /// Extra CA certificates (PEM, one per entry).
    pub extra_roots: Vec<Vec<u8>>,
    /// `host[:port]` of registries reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    pub timeouts: Timeouts,
    /// Host names sent to a fixed address instead of DNS (as curl's
    /// `--resolve`; a port of 0 keeps the URL's).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Told what each request is about to wait for (`the manifest of a/b:1
    /// (GET https://…)`), so that a caller cutting a run short at its own
    /// deadline can name it.
    pub activity: Option<fn(&str)>,
}

impl OciSettings {
    /// Whether `host` is reached over HTTPS (not listed as insecure, under
    /// its own name or its API host's).
    pub fn https(&self, host: &str) -> bool {
        let api = api_host(host);
        !self.insecure_registries.iter().any(|h| h == host || h == api)
    }

    /// `scheme://api-host` of `host`: Docker Hub (`docker.io`,
    /// `index.docker.io`) answers at `registry-1.docker.io`, as the docker CLI
    /// and containers/image address it.
    pub fn base(&self, host: &str) -> String {
        format!("{}://{}", if self.https(host) { "https" } else { "http" }, api_host(host))
    }

    /// Fails when an extra root is not a PEM certificate.
    pub fn check_roots(&self) -> Result<()> {
        for pem in &self.extra_roots {
            reqwest::Certificate::from_pem(pem).context("invalid CA certificate (SSL_CERT_FILE)")?;
        }
        Ok(())
    }

    /// Tells [`activity`](Self::activity) what is about to be waited for.
    pub(crate) fn doing(&self, what: &str) {
        if let Some(activity) = self.activity {
            activity(what);
        }
    }

    /// The HTTP client every registry and chart repository request of these
    /// settings goes through: the system roots plus the extra ones, the
    /// connect and read [`Timeouts`], the fixed addresses of `resolve`.
    /// Building it loads the system roots (milliseconds): clients keep it.
    pub fn http_client(&self) -> Result<reqwest::Client, Failure> {
        let mut builder = reqwest::Client::builder().connect_timeout(self.timeouts.connect).read_timeout(self.timeouts.read);
        for (host, addr) in &self.resolve {
            builder = builder.resolve(host, *addr);
        }
        for pem in &self.extra_roots {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| Failure::fatal(format!("invalid CA certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build().map_err(|e| Failure::fatal(format!("cannot configure the HTTP client: {}", transport::chain(&e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_bundle_is_split() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n").unwrap();
        let certs = pem_certificates(&file).unwrap();
        assert_eq!(certs.len(), 2);
        assert!(String::from_utf8_lossy(&certs[1]).contains("BBB"));
        std::fs::write(&file, "nothing").unwrap();
        assert!(pem_certificates(&file).unwrap_err().to_string().contains("SSL_CERT_FILE"));
    }
}
