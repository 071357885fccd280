//! The fuzz target's checks, compiled for the crate's tests and under
//! `--cfg fuzzing` (which cargo-fuzz sets) only.

use crate::error::RefError;
use crate::grammar::{parse_normalized, NAME_TOTAL_LENGTH_MAX};
use crate::ImageRef;

/// The fuzz target's body (`fuzz/fuzz_targets/image_ref.rs`), also run by a
/// unit test over a fixed corpus: parsing never panics, and a parsed
/// reference's `Display`, `familiar()` and `path_with_host()` forms all
/// parse back (the first two to the same reference). Input holding a newline
/// is also tried as `repository\ntag` with [`ImageRef::parse_loose`].
pub fn fuzz_roundtrip(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = ImageRef::parse(s) {
        assert_roundtrips(s, r);
    }
    // Split at the first newline, the input is also a repository and tag pair.
    if let Some((repository, tag)) = s.split_once('\n') {
        if let Ok(r) = ImageRef::parse_loose(repository, Some(tag)) {
            assert_roundtrips(s, r);
        }
    }
}

/// The round-trip checks of [`fuzz_roundtrip`] for `r`, parsed from `s`.
pub(crate) fn assert_roundtrips(s: &str, r: ImageRef) {
    let full = r.to_string();
    let again = ImageRef::parse(&full)
        .unwrap_or_else(|e| panic!("{s:?} parsed to {full:?}, which does not parse: {e}"));
    assert_eq!(
        again, r,
        "{s:?}: Display form {full:?} parses to another reference"
    );
    let short = r.familiar();
    let again = ImageRef::parse(&short)
        .unwrap_or_else(|e| panic!("{s:?}: familiar form {short:?} does not parse: {e}"));
    assert_eq!(
        again, r,
        "{s:?}: familiar form {short:?} parses to another reference"
    );
    let path = r.path_with_host();
    let kept = parse_normalized(&format!("mirror.example.com/{path}"));
    if path.len() <= NAME_TOTAL_LENGTH_MAX {
        let kept =
            kept.unwrap_or_else(|e| panic!("{s:?}: keep-host path {path:?} is invalid: {e}"));
        assert_eq!(
            (kept.registry.as_str(), kept.repository.as_str()),
            ("mirror.example.com", &*path)
        );
    } else {
        assert_eq!(
            kept.err(),
            Some(RefError::NameTooLong),
            "{s:?}: keep-host path {path:?}"
        );
    }
}
