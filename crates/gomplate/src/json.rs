//! JSON as gomplate 3.11 reads and writes it: `data.JSON`/`json` decoding, and
//! `data.ToJSON`/`toJSON` encoding with ugorji's canonical JSON handle (sorted
//! keys, HTML characters escaped), plus `toJSONPretty`.

use std::convert::Infallible;
use std::fmt::Write as _;

use crate::value::Value;
use crate::yaml::{self, YamlError};

/// Why JSON text could not be decoded, or a value not encoded; displayed as
/// gomplate words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// `data.JSON` on text that is not an object: the YAML decoder's error
    /// (`Unable to unmarshal object TEXT: yaml: ...`).
    NotObject {
        /// The text as given.
        text: String,
        /// What the YAML decoder reported.
        cause: YamlError,
    },
    /// `data.JSONArray` on text that is not an array
    /// (`Unable to unmarshal array TEXT: yaml: ...`).
    NotArray {
        /// The text as given.
        text: String,
        /// What the YAML decoder reported.
        cause: YamlError,
    },
    /// `toJSONPretty` output larger than [`crate::SIZE_LIMIT`].
    TooLarge,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonError::NotObject { text, cause } => write!(f, "Unable to unmarshal object {text}: {cause}"),
            JsonError::NotArray { text, cause } => write!(f, "Unable to unmarshal array {text}: {cause}"),
            JsonError::TooLarge => {
                write!(f, "the result would be over the limit of {} MiB for a string", crate::SIZE_LIMIT >> 20)
            }
        }
    }
}

impl std::error::Error for JsonError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JsonError::NotObject { cause, .. } | JsonError::NotArray { cause, .. } => Some(cause),
            JsonError::TooLarge => None,
        }
    }
}

/// Decodes JSON text (gomplate decodes JSON with its YAML decoder, so numbers
/// follow YAML resolution: `1` is an int, `1.5` a float). Like `data.JSON` the
/// document must be an object.
pub fn decode(text: &str) -> Result<Value, JsonError> {
    yaml::decode_map(text).map_err(|cause| JsonError::NotObject { text: text.to_string(), cause })
}

/// `data.JSONArray`: JSON text that must be an array (decoded with the YAML
/// decoder, like `decode`).
pub fn decode_array(text: &str) -> Result<Value, JsonError> {
    yaml::decode_array(text).map_err(|cause| JsonError::NotArray { text: text.to_string(), cause })
}

/// `data.ToJSON`: compact canonical JSON (sorted keys, `<>&` escaped as
/// `\u003c`...). Cannot fail: every [`Value`] has a JSON form.
pub fn encode(value: &Value) -> Result<String, Infallible> {
    let mut out = String::new();
    write_value(&mut out, value);
    Ok(out)
}

/// `data.ToJSONPretty INDENT`: canonical JSON re-indented like Go's `json.Indent`.
pub fn encode_pretty(indent: &str, value: &Value) -> Result<String, JsonError> {
    let Ok(compact) = encode(value);
    go_indent(&compact, indent).ok_or(JsonError::TooLarge)
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Missing | Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint8(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Context(map) => write_value(out, &Value::Map(map.clone())),
        Value::Float(f) => write_float(out, *f),
        Value::String(s) => write_quoted(out, s, Escapes::Ugorji),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Map(map) => {
            // Canonical: keys in byte order, which is the BTreeMap's order.
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_quoted(out, k, Escapes::Ugorji);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

/// ugorji's float64 format: NaN and infinities are `null`; 0 and ±1 and other
/// integral values get one decimal (`1.0`); magnitudes below 1e-6 or from
/// 1e21 use the shortest exponent form (`1e-07`); otherwise shortest decimal.
fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let abs = f.abs();
    if abs == 0.0 || abs == 1.0 {
        let _ = write!(out, "{f:.1}");
    } else if !(1e-6..1e21).contains(&abs) {
        // strconv 'e' with precision -1: at least two exponent digits.
        let sci = format!("{f:e}");
        let (mantissa, exp) = sci.split_once('e').expect("exponent form");
        let exp: i32 = exp.parse().expect("exponent");
        let _ = write!(
            out,
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    } else if f.fract() == 0.0 {
        let _ = write!(out, "{f:.1}");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Which Go JSON encoder a string is escaped like. Both escape `"`, `\\`,
/// `\n`, `\r`, `\t` with short escapes and `<`, `>`, `&`, U+2028, U+2029 and
/// other control characters as `\uXXXX` (HTML-safe); they differ only on
/// backspace and form feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escapes {
    /// ugorji's `quoteStr` (gomplate's `toJSON`): `\b` and `\f`.
    Ugorji,
    /// Go 1.20's `encoding/json` (the CLI's `.deploykf_output`): `\u0008` and
    /// `\u000c` (short forms only came in Go 1.22).
    EncodingJson,
}

/// A JSON string literal for `s`, escaped like `escapes`.
pub fn quote(s: &str, escapes: Escapes) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s, escapes);
    out
}

/// Appends the JSON string literal for `s` to `out`, escaped like `escapes`.
pub fn write_quoted(out: &mut String, s: &str, escapes: Escapes) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short_bf = escapes == Escapes::Ugorji;
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' if short_bf => out.push_str("\\b"),
            '\x0c' if short_bf => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let b = c as u8;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Indent(dst, src, "", indent)` for valid compact JSON: a newline
/// and indentation after `[`, `{` and `,`, a space after `:`, and empty
/// collections kept as `[]`/`{}`. `None` once the result would exceed
/// [`crate::SIZE_LIMIT`] (a long indent repeated on every line).
fn go_indent(src: &str, indent: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut need_indent = false;
    let newline = |out: &mut String, depth: usize| {
        if out.len() + depth * indent.len() > crate::SIZE_LIMIT {
            return None;
        }
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
        Some(())
    };
    for c in src.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
            continue;
        }
        if need_indent && c != ']' && c != '}' {
            need_indent = false;
            depth += 1;
            newline(&mut out, depth)?;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                need_indent = true;
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth)?;
            }
            ':' => {
                out.push(c);
                out.push(' ');
            }
            '}' | ']' => {
                if need_indent {
                    // Empty collection: keep it on one line.
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(&mut out, depth)?;
                }
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::m;

    #[test]
    fn canonical_compact() {
        let v = m(&[
            ("b", Value::Int(2)),
            (
                "a",
                Value::list(vec![Value::Bool(true), Value::Nil, Value::str("x")]),
            ),
            ("B", m(&[])),
            ("c", Value::list(vec![])),
        ]);
        assert_eq!(
            encode(&v).unwrap(),
            r#"{"B":{},"a":[true,null,"x"],"b":2,"c":[]}"#
        );
        assert_eq!(encode(&Value::Missing).unwrap(), "null");
        assert_eq!(encode(&Value::str("x")).unwrap(), r#""x""#);
    }

    #[test]
    fn strings_escape_html_and_controls() {
        let s = Value::str("<a href=\"x\">&</a>\n\t\r\x08\x0c\x01\x1f\u{7f}é\u{2028}\u{2029}\\");
        assert_eq!(
            encode(&s).unwrap(),
            r#""\u003ca href=\"x\"\u003e\u0026\u003c/a\u003e\n\t\r\b\f\u0001\u001f"#.to_string()
                + "\u{7f}é"
                + r#"\u2028\u2029\\""#
        );
    }

    #[test]
    fn floats_like_ugorji() {
        let f = |x: f64| encode(&Value::Float(x)).unwrap();
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(-1.0), "-1.0");
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(100.0), "100.0");
        assert_eq!(f(1e6), "1000000.0");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(0.000001), "0.000001");
        assert_eq!(f(0.0000001), "1e-07");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1.5e300), "1.5e+300");
        assert_eq!(f(123456789.125), "123456789.125");
        assert_eq!(f(f64::NAN), "null");
        assert_eq!(f(f64::INFINITY), "null");
    }

    #[test]
    fn pretty_like_json_indent() {
        let v = m(&[
            (
                "a",
                Value::list(vec![Value::Int(1), m(&[("x", Value::str("a,b:{c}"))])]),
            ),
            ("e", m(&[])),
            ("l", Value::list(vec![])),
        ]);
        assert_eq!(
            encode_pretty("  ", &v).unwrap(),
            "{\n  \"a\": [\n    1,\n    {\n      \"x\": \"a,b:{c}\"\n    }\n  ],\n  \"e\": {},\n  \"l\": []\n}"
        );
        assert_eq!(encode_pretty("\t", &Value::Int(3)).unwrap(), "3");
    }

    #[test]
    fn decode_uses_yaml_resolution() {
        let v =
            decode(r#"{"a": 1, "b": 1.5, "c": "1", "d": [true, null], "e": {"f": 1e3}}"#).unwrap();
        let map = v.as_map().unwrap();
        assert_eq!(map["a"], Value::Int(1));
        assert_eq!(map["b"], Value::Float(1.5));
        assert_eq!(map["c"], Value::str("1"));
        assert_eq!(map["d"], Value::list(vec![Value::Bool(true), Value::Nil]));
        assert_eq!(map["e"].as_map().unwrap()["f"], Value::Float(1000.0));
        assert_eq!(
            decode_array("[1, \"a\"]").unwrap(),
            Value::list(vec![Value::Int(1), Value::str("a")])
        );
        let err = decode("[1]").unwrap_err();
        assert!(matches!(&err, JsonError::NotObject { text, cause } if text == "[1]" && cause.line == 1));
        assert_eq!(
            err.to_string(),
            "Unable to unmarshal object [1]: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}"
        );
    }
}
