//! Values echoed in messages, kept short: the crate's errors print the
//! references, tags and digests they refuse through [`quote`] and [`shorten`],
//! and a program can print its other user values the same way.

use std::borrow::Cow;

/// The longest value [`quote`] and [`shorten`] print whole, in bytes.
const QUOTE_LIMIT: usize = 200;

/// `value` quoted for a message (as Rust's `{:?}` quotes it: control
/// characters escaped); one longer than 200 bytes is cut at a
/// character boundary and marked with its full size: `"abc"…(1048576 bytes)`.
pub fn quote(value: &str) -> String {
    match cut(value) {
        None => format!("{value:?}"),
        Some(head) => format!("{head:?}…({} bytes)", value.len()),
    }
}

/// [`quote`] without the quotes, for messages that print a value bare (Go's
/// texts): `abc…(1048576 bytes)` when longer than 200 bytes.
pub fn shorten(value: &str) -> Cow<'_, str> {
    match cut(value) {
        None => value.into(),
        Some(head) => format!("{head}…({} bytes)", value.len()).into(),
    }
}

/// The first [`QUOTE_LIMIT`] bytes of `value` (at a character boundary) when it is longer.
fn cut(value: &str) -> Option<&str> {
    if value.len() <= QUOTE_LIMIT {
        return None;
    }
    let mut end = QUOTE_LIMIT;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Some(&value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_in_messages() {
        assert_eq!(quote("a\tb"), "\"a\\tb\"");
        let long = "é".repeat(600_000);
        let quoted = quote(&long);
        assert!(quoted.len() < QUOTE_LIMIT + 40, "{}", quoted.len());
        assert!(quoted.starts_with("\"éé") && quoted.ends_with("é\"…(1200000 bytes)"), "{quoted}");
        assert_eq!(shorten("a b"), "a b");
        assert_eq!(shorten(&"x".repeat(1000)), format!("{}…(1000 bytes)", "x".repeat(200)));
    }
}
