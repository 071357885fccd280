//! Input the user hands the binary directly, kept bounded: files named on the
//! command line or in the environment (values, mirror, images and charts
//! files) are read only when they are regular files and up to
//! [`USER_FILE_LIMIT`]; numeric environment variables are range-checked; and
//! user values echoed in messages are shortened by [`quote`].

use std::collections::HashMap;
use std::fmt::Display;
use std::io::Read;
use std::ops::RangeInclusive;
use std::path::Path;
use std::str::FromStr;

use anyhow::{bail, Context, Result};

/// Values echoed in messages are cut as image references' errors cut them:
/// over 200 bytes, at a character boundary, marked with their full size.
pub use image_ref::quote;

/// The size limit of a values, mirror, images or charts file: 16 MiB, far
/// above deployKF's sample values (~100 KiB) and an image list of thousands
/// of lines, and low enough that a wrong path (a log, a disk image) fails at
/// once instead of filling memory.
pub const USER_FILE_LIMIT: u64 = 16 << 20;

/// Reads the user's file `path` as UTF-8 text. `what` names it in errors
/// ("values file", "--images-file"). Anything but a regular file (a FIFO, a
/// device like `/dev/zero`, a folder) is refused before it is opened, and a
/// file larger than [`USER_FILE_LIMIT`] is refused without reading past the limit.
pub fn read_file(path: &Path, what: &str) -> Result<String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).with_context(|| format!("{what} '{shown}': cannot read it"))?;
    if !meta.is_file() {
        bail!("{what} '{shown}' is not a regular file ({}): give the path of a file", file_kind(&meta));
    }
    let file = std::fs::File::open(path).with_context(|| format!("{what} '{shown}': cannot read it"))?;
    let mut bytes = Vec::new();
    file.take(USER_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("{what} '{shown}': cannot read it"))?;
    if bytes.len() as u64 > USER_FILE_LIMIT {
        bail!("{what} '{shown}' is larger than the limit of {} MiB", USER_FILE_LIMIT >> 20);
    }
    String::from_utf8(bytes).map_err(|e| anyhow::anyhow!("{what} '{shown}': not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// The environment variable `name` of `vars` as a number in `range`, or
/// `None` when it is unset or empty; anything else (not a whole number, out
/// of range) is an error naming the variable, the value and the range.
pub fn env_number<T>(vars: &HashMap<String, String>, name: &str, range: RangeInclusive<T>) -> Result<Option<T>>
where
    T: FromStr + PartialOrd + Display + Copy,
{
    let Some(text) = vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match text.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => bail!(
            "{name} must be a whole number from {} to {}, not {}",
            range.start(),
            range.end(),
            quote(text)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_and_oversized_files_are_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let err = read_file(Path::new("/dev/zero"), "values file").unwrap_err().to_string();
        assert_eq!(err, "values file '/dev/zero' is not a regular file (a device): give the path of a file");
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let err = read_file(&fifo, "--images-file").unwrap_err().to_string();
        assert!(err.ends_with("is not a regular file (a FIFO): give the path of a file"), "{err}");
        assert!(read_file(dir.path(), "values file").unwrap_err().to_string().contains("(a folder)"));
        let big = dir.path().join("big.yaml");
        std::fs::File::create(&big).unwrap().set_len(USER_FILE_LIMIT + 1).unwrap();
        let err = read_file(&big, "values file").unwrap_err().to_string();
        assert!(err.ends_with("big.yaml' is larger than the limit of 16 MiB"), "{err}");
        let ok = dir.path().join("ok.yaml");
        std::fs::write(&ok, "a: 1\n").unwrap();
        assert_eq!(read_file(&ok, "values file").unwrap(), "a: 1\n");
        let err = read_file(&dir.path().join("none"), "values file").unwrap_err();
        assert!(format!("{err:#}").contains("none': cannot read it: No such file"), "{err:#}");
    }

    #[test]
    fn numbers_are_range_checked() {
        let vars = |v: &str| HashMap::from([("N".to_string(), v.to_string())]);
        assert_eq!(env_number::<u64>(&HashMap::new(), "N", 1..=10).unwrap(), None);
        assert_eq!(env_number::<u64>(&vars(" 7 "), "N", 1..=10).unwrap(), Some(7));
        for bad in ["11", "0", "-1", "x", "17592186044416"] {
            let err = env_number::<u64>(&vars(bad), "N", 1..=10).unwrap_err().to_string();
            assert_eq!(err, format!("N must be a whole number from 1 to 10, not \"{bad}\""));
        }
    }
}
