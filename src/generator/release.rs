//! deployKF releases: the generator zip of a release version, its asset name
//! and download URL (GitHub's release downloads, or a mirror of them), and the
//! download itself, bounded and written atomically into the assets cache.

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::generator::archive::ZipLimits;

/// The GitHub repository whose releases carry the generator zips.
pub const RELEASE_REPO: &str = "deployKF/deployKF";

/// `v0.1.5` → `0.1.5`; refuses versions that could escape the cache folder.
pub fn normalize_version(version: &str) -> Result<String> {
    let v = version.strip_prefix('v').unwrap_or(version);
    if v.is_empty()
        || !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        || v.contains("..")
    {
        bail!("invalid --source-version '{version}': expected a release version like '0.1.5'");
    }
    Ok(v.to_string())
}

/// The release asset's file name for a version (`deploykf-0.1.5-generator.zip`).
pub fn artifact_name(version: &str) -> String {
    format!("deploykf-{version}-generator.zip")
}

/// Where a release's generator zip is downloaded from:
/// `<base>/v<version>/deploykf-<version>-generator.zip`, with `base` from
/// `releases_url` (a mirror, see [`crate::settings::RELEASES_URL_ENV`]), else
/// GitHub's release downloads.
pub fn release_asset_url(version: &str, releases_url: Option<&str>) -> String {
    let base = releases_url.map_or_else(|| format!("https://github.com/{RELEASE_REPO}/releases/download"), str::to_string);
    format!("{base}/v{version}/{}", artifact_name(version))
}

/// The name prefix of a download in progress (see [`crate::scratch`]).
const DOWNLOAD_PREFIX: &str = ".download-";

/// Downloads `url` into a temporary file beside `dest`, then renames it into place.
pub fn download(url: &str, dest: &Path) -> Result<()> {
    let limits = ZipLimits::default();
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(15))
        .timeout(std::time::Duration::from_secs(300))
        .user_agent(concat!("deploykf-cmp/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot create an HTTP client")?;
    let response = client.get(url).send()?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    let dir = dest.parent().unwrap_or(Path::new("."));
    crate::scratch::sweep(dir, DOWNLOAD_PREFIX);
    let mut tmp = crate::scratch::file_in(dir, DOWNLOAD_PREFIX, "a temporary file for the download")?;
    let copied = io::copy(&mut response.take(limits.max_total_bytes + 1), &mut tmp)?;
    if copied > limits.max_total_bytes {
        bail!(
            "the download is larger than {} bytes",
            limits.max_total_bytes
        );
    }
    tmp.flush()?;
    tmp.persist(dest)
        .with_context(|| format!("cannot save '{}'", dest.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_the_release_asset() {
        assert_eq!(normalize_version("v0.1.5").unwrap(), "0.1.5");
        assert_eq!(normalize_version("0.1.5").unwrap(), "0.1.5");
        assert!(normalize_version("../x").is_err());
        assert_eq!(
            release_asset_url("0.1.5", None),
            "https://github.com/deployKF/deployKF/releases/download/v0.1.5/deploykf-0.1.5-generator.zip"
        );
    }
}
