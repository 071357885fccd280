//! Go's `strconv` quoting: `Quote`, `QuoteToASCII`, `QuoteRune` and
//! `CanBackquote`, escaping exactly the runes [`is_print`] rejects.

use super::is_print;

/// Go's `strconv.Quote`: a double-quoted Go string literal, escaping `"`, `\`,
/// control characters and runes that `strconv.IsPrint` rejects.
pub fn go_quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// `strconv` quoting of a string with `quote` as delimiter; `ascii_only`
/// escapes every non-ASCII rune too (`QuoteToASCII`: `\u00e9`, `\U0001f600`).
pub(crate) fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        escape_rune(&mut out, c as u32, quote, ascii_only);
    }
    out.push(quote);
    out
}

/// `strconv.QuoteRune`/`QuoteRuneToASCII`: a single-quoted Go rune literal;
/// invalid code points (surrogates, > U+10FFFF, negative) become U+FFFD.
pub(crate) fn quote_rune(r: i64, ascii_only: bool) -> String {
    let r = u32::try_from(r)
        .ok()
        .filter(|r| char::from_u32(*r).is_some())
        .unwrap_or(0xFFFD);
    let mut out = String::from('\'');
    escape_rune(&mut out, r, '\'', ascii_only);
    out.push('\'');
    out
}

/// Appends one (valid) rune as it appears inside a Go quoted literal.
fn escape_rune(out: &mut String, r: u32, quote: char, ascii_only: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if r < 0x80 && is_print(r) {
            out.push(c);
            return;
        }
    } else if is_print(r) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ => {
            let (prefix, digits) = if r < 0x20 || r == 0x7f {
                ("\\x", 2)
            } else if r < 0x10000 {
                ("\\u", 4)
            } else {
                ("\\U", 8)
            };
            out.push_str(prefix);
            for k in (0..digits).rev() {
                out.push(HEX[((r >> (4 * k)) & 0xf) as usize] as char);
            }
        }
    }
}

/// Go's `strconv.CanBackquote` for a valid UTF-8 string.
pub(crate) fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| {
        if c.len_utf8() > 1 {
            c != '\u{FEFF}'
        } else {
            !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}')
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quote_with_ascii(s: &str) -> String {
        quote_with(s, '"', true)
    }
    fn quote_rune_go(r: i64) -> String {
        quote_rune(r, false)
    }

    #[test]
    fn quote_matches_strconv_quote() {
        // Expected values from Go's strconv.Quote/QuoteToASCII/QuoteRune.
        let cases = [
            ("abc", r#""abc""#),
            ("'", r#""'""#),
            ("\u{a0}", r#""\u00a0""#),
            ("\u{200b}", r#""\u200b""#),
            ("\u{2028}", r#""\u2028""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{7f}", r#""\x7f""#),
            ("\0", r#""\x00""#),
            ("\u{1f600}", "\"\u{1f600}\""),
            ("\u{e0001}", r#""\U000e0001""#),
            ("é", r#""é""#),
            ("\u{378}", r#""\u0378""#),
            ("\u{3000}", r#""\u3000""#),
            ("a\u{301}", "\"a\u{301}\""),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
        assert_eq!(quote_with_ascii("日本語"), r#""\u65e5\u672c\u8a9e""#);
        assert_eq!(quote_with_ascii("\u{1f600}"), r#""\U0001f600""#);
        assert_eq!(quote_with_ascii("a\tb"), r#""a\tb""#);
        assert_eq!(quote_rune_go(-1), "'\u{fffd}'");
        assert_eq!(quote_rune_go(39), r#"'\''"#);
        assert_eq!(quote_rune_go(0xD800), "'\u{fffd}'");
        assert_eq!(quote_rune_go(34), r#"'"'"#);
        assert_eq!(quote_rune_go(7), r#"'\a'"#);
    }

}
