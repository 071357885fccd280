//! Fuzzes the image-reference parser: it never panics, and every parsed
//! reference prints (fully qualified, familiar, keep-host) to forms that parse
//! back. The checks live in `ImageRef`'s module as `fuzz_roundtrip`, which a
//! unit test also runs over a fixed corpus on stable.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../src/mirror/reference.rs"]
mod reference;
// The parser's messages shorten long inputs with it.
#[path = "../../src/user_input.rs"]
#[allow(dead_code)]
mod user_input;

fuzz_target!(|data: &[u8]| reference::fuzz_roundtrip(data));
