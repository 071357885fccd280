//! Fuzzes the image-reference parser: it never panics, and every parsed
//! reference prints (fully qualified, familiar, keep-host) to forms that parse
//! back. The checks are the `image-ref` crate's `fuzz_roundtrip` (compiled
//! under `--cfg fuzzing`), which a unit test also runs over a fixed corpus on
//! stable.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| image_ref::fuzz_roundtrip(data));
