//! yaml.v3's implicit typing of plain scalars (`resolve.go`), shared by the
//! decoder (what a scalar becomes) and the encoder (whether a string must be
//! quoted so it reads back as a string).

use crate::value::Value;

/// The short tags yaml.v3 resolves scalars to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tag {
    Null,
    Bool,
    Str,
    Int,
    Float,
    Timestamp,
    Binary,
    Merge,
}

impl Tag {
    /// The `!!name` form used in error messages.
    pub(crate) fn short(self) -> &'static str {
        match self {
            Tag::Null => "!!null",
            Tag::Bool => "!!bool",
            Tag::Str => "!!str",
            Tag::Int => "!!int",
            Tag::Float => "!!float",
            Tag::Timestamp => "!!timestamp",
            Tag::Binary => "!!binary",
            Tag::Merge => "!!merge",
        }
    }

    /// Parses a short tag (`!!int`); `None` for tags yaml.v3 does not resolve.
    pub(crate) fn from_short(tag: &str) -> Option<Tag> {
        Some(match tag {
            "!!null" => Tag::Null,
            "!!bool" => Tag::Bool,
            "!!str" => Tag::Str,
            "!!int" => Tag::Int,
            "!!float" => Tag::Float,
            "!!timestamp" => Tag::Timestamp,
            "!!binary" => Tag::Binary,
            "!!merge" => Tag::Merge,
            _ => return None,
        })
    }
}

/// What `resolve` found: the tag and, for typed values, the Go value.
/// Timestamps stay text (our values have no time type) and `uint64`s that do
/// not fit an `int` become floats.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Resolved {
    pub tag: Tag,
    pub value: Value,
}

fn res(tag: Tag, value: Value) -> Resolved {
    Resolved { tag, value }
}

/// yaml.v3 `resolve("", s)`: the tag and value of an untagged plain scalar.
pub(crate) fn resolve_plain(s: &str) -> Resolved {
    let first = s.as_bytes().first().copied();
    match s {
        "true" | "True" | "TRUE" => return res(Tag::Bool, Value::Bool(true)),
        "false" | "False" | "FALSE" => return res(Tag::Bool, Value::Bool(false)),
        "" | "~" | "null" | "Null" | "NULL" => return res(Tag::Null, Value::Nil),
        ".nan" | ".NaN" | ".NAN" => return res(Tag::Float, Value::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return res(Tag::Float, Value::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => return res(Tag::Float, Value::Float(f64::NEG_INFINITY)),
        "<<" => return res(Tag::Merge, Value::str("<<")),
        _ => {}
    }
    match first {
        Some(b'.') => {
            if let Some(f) = go_parse_float(s) {
                return res(Tag::Float, Value::Float(f));
            }
        }
        Some(b'+' | b'-' | b'0'..=b'9') => {
            if is_timestamp(s) {
                return res(Tag::Timestamp, Value::str(s));
            }
            let plain: String = s.chars().filter(|c| *c != '_').collect();
            match go_parse_int(&plain) {
                Some(IntResult::Int(i)) => return res(Tag::Int, Value::Int(i)),
                Some(IntResult::Uint(u)) => return res(Tag::Int, Value::Float(u as f64)),
                None => {}
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return res(Tag::Float, Value::Float(f));
                }
            }
            // The explicit `0b`/`0o` branches of resolve.go only accept what
            // base-0 ParseInt/ParseUint already accepted above.
        }
        _ => {}
    }
    res(Tag::Str, Value::str(s))
}

/// yaml.v3 `resolve(tag, s)` for an explicitly tagged scalar. `Err` carries
/// yaml.v3's message (`cannot decode !!str `x` as a !!int`).
pub(crate) fn resolve_tagged(tag: Tag, s: &str) -> Result<Resolved, String> {
    if matches!(tag, Tag::Str | Tag::Binary) {
        return Ok(res(Tag::Str, Value::str(s)));
    }
    let r = resolve_plain(s);
    // A plain `<<` is only a merge key without a tag; with a tag it is text.
    let r = if r.tag == Tag::Merge {
        res(Tag::Str, Value::str(s))
    } else {
        r
    };
    if r.tag == tag {
        return Ok(r);
    }
    if tag == Tag::Float && r.tag == Tag::Int {
        if let Value::Int(i) = r.value {
            return Ok(res(Tag::Float, Value::Float(i as f64)));
        }
        // A uint64 that did not fit: already a float.
        return Ok(res(Tag::Float, r.value));
    }
    Err(format!(
        "cannot decode {} `{}` as a {}",
        r.tag.short(),
        s,
        tag.short()
    ))
}

enum IntResult {
    Int(i64),
    Uint(u64),
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<IntResult> {
    let (neg, body) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let b = body.as_bytes();
    let (radix, digits) = if b.first() == Some(&b'0') {
        if b.len() >= 3 && (b[1] | 0x20) == b'b' {
            (2, &body[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'o' {
            (8, &body[2..])
        } else if b.len() >= 3 && (b[1] | 0x20) == b'x' {
            (16, &body[2..])
        } else if b.len() > 1 {
            (8, &body[1..])
        } else {
            (10, body)
        }
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let u = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            return Some(IntResult::Int((u as i128).wrapping_neg() as i64));
        }
        None // ParseUint rejects the sign
    } else if u <= i64::MAX as u64 {
        Some(IntResult::Int(u as i64))
    } else if s.starts_with('+') {
        None // ParseUint rejects the sign
    } else {
        Some(IntResult::Uint(u))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms yaml.v3 feeds it
/// (`None` on syntax errors and on overflow, which Go reports as ErrRange).
fn go_parse_float(s: &str) -> Option<f64> {
    // Go also accepts inf/nan spellings and hex floats, but resolve only calls
    // ParseFloat on text starting with '.' or matching the YAML float pattern.
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let mut mantissa = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        mantissa += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            mantissa += 1;
        }
    }
    if mantissa == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

/// yaml.v3 `parseTimestamp`: whether Go's `time.Parse` accepts `s` in one of
/// the layouts `2006-1-2T15:4:5.999999999Z07:00` (or lower-case `t`),
/// `2006-1-2 15:4:5.999999999` or `2006-1-2`.
pub(crate) fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: i64 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    // Go's getnum: one digit, or two when the second is a digit too.
    let num = |i: &mut usize| -> Option<u32> {
        let d0 = *b.get(*i)?;
        if !d0.is_ascii_digit() {
            return None;
        }
        *i += 1;
        let mut n = (d0 - b'0') as u32;
        if let Some(d1) = b.get(*i).filter(|d| d.is_ascii_digit()) {
            n = n * 10 + (d1 - b'0') as u32;
            *i += 1;
        }
        Some(n)
    };
    let Some(month) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b'-') {
        return false;
    }
    i += 1;
    let Some(day) = num(&mut i) else { return false };
    if !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let Some(hour) = num(&mut i) else {
        return false;
    };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(min) = num(&mut i) else { return false };
    if b.get(i) != Some(&b':') {
        return false;
    }
    i += 1;
    let Some(sec) = num(&mut i) else { return false };
    if hour > 23 || min > 59 || sec > 59 {
        return false;
    }
    // Optional fractional seconds ('.' or ',' then digits).
    if i + 1 < b.len() && matches!(b[i], b'.' | b',') && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if !zoned {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let z = &b[i + 1..];
            z.len() == 5
                && z[0].is_ascii_digit()
                && z[1].is_ascii_digit()
                && z[2] == b':'
                && z[3].is_ascii_digit()
                && z[4].is_ascii_digit()
                && (z[0] - b'0') * 10 + (z[1] - b'0') <= 24
                && (z[3] - b'0') * 10 + (z[4] - b'0') <= 60
        }
        _ => false,
    }
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        resolve_plain(s).value
    }

    #[test]
    fn specials() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(s).tag, Tag::Null, "{s}");
        }
        assert_eq!(v("True"), Value::Bool(true));
        assert_eq!(v("FALSE"), Value::Bool(false));
        // YAML 1.1 booleans are strings in v3.
        for s in ["yes", "no", "on", "off", "y", "n", "tRUE"] {
            assert_eq!(resolve_plain(s).tag, Tag::Str, "{s}");
        }
        assert!(matches!(v(".inf"), Value::Float(f) if f == f64::INFINITY));
        assert!(matches!(v("-.Inf"), Value::Float(f) if f == f64::NEG_INFINITY));
        assert!(matches!(v(".NaN"), Value::Float(f) if f.is_nan()));
        assert_eq!(resolve_plain("<<").tag, Tag::Merge);
    }

    #[test]
    fn ints_like_parse_int_base0() {
        // Cases from yaml.v3 decode_test.go.
        assert_eq!(v("685230"), Value::Int(685230));
        assert_eq!(v("+685_230"), Value::Int(685230));
        assert_eq!(v("02472256"), Value::Int(685230)); // YAML 1.1 octal
        assert_eq!(v("0o2472256"), Value::Int(685230));
        assert_eq!(v("0x_0A_74_AE"), Value::Int(685230));
        assert_eq!(v("0b1010_0111_0100_1010_1110"), Value::Int(685230));
        assert_eq!(v("-0b101"), Value::Int(-5));
        assert_eq!(v("-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(v("0"), Value::Int(0));
        assert_eq!(v("-0"), Value::Int(0));
        // Invalid octal falls through to the float pattern.
        assert_eq!(v("08"), Value::Float(8.0));
        // uint64 range (no uint in our values) and beyond.
        assert_eq!(
            v("18446744073709551615"),
            Value::Float(18446744073709551615.0)
        );
        assert_eq!(
            v("-9223372036854775809"),
            Value::Float(-9223372036854775809.0)
        );
        assert_eq!(v("0x"), Value::str("0x"));
        assert_eq!(
            v("0xFFFFFFFFFFFFFFFFFF"),
            Value::str("0xFFFFFFFFFFFFFFFFFF")
        );
        assert_eq!(v("1:20"), Value::str("1:20")); // no base 60
    }

    #[test]
    fn floats() {
        assert_eq!(v("685.230_15e+03"), Value::Float(685230.15));
        assert_eq!(v("685_230.15"), Value::Float(685230.15));
        assert_eq!(v("1e3"), Value::Float(1000.0));
        assert_eq!(v(".5"), Value::Float(0.5));
        assert_eq!(v("-.5"), Value::Float(-0.5));
        assert_eq!(v("1."), Value::Float(1.0));
        assert_eq!(v("1e999"), Value::str("1e999")); // ErrRange → string
        assert_eq!(v("."), Value::str("."));
        assert_eq!(v("1.2.3"), Value::str("1.2.3"));
        assert_eq!(v("-"), Value::str("-"));
    }

    #[test]
    fn timestamps() {
        for s in [
            "2001-12-14",
            "2001-1-2",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2015-02-24T18:19:39Z",
        ] {
            assert_eq!(resolve_plain(s).tag, Tag::Timestamp, "{s}");
        }
        for s in [
            "2001-02-30",
            "2001-13-01",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14T21:59:43",
            "20011-12-14",
        ] {
            assert_ne!(resolve_plain(s).tag, Tag::Timestamp, "{s}");
        }
        assert_eq!(v("2001-12-14"), Value::str("2001-12-14"));
    }

    #[test]
    fn tagged() {
        assert_eq!(
            resolve_tagged(Tag::Float, "1").unwrap().value,
            Value::Float(1.0)
        );
        assert_eq!(
            resolve_tagged(Tag::Str, "1").unwrap().value,
            Value::str("1")
        );
        assert_eq!(
            resolve_tagged(Tag::Int, "1.5").unwrap_err(),
            "cannot decode !!float `1.5` as a !!int"
        );
        assert_eq!(
            resolve_tagged(Tag::Bool, "yes").unwrap_err(),
            "cannot decode !!str `yes` as a !!bool"
        );
        assert_eq!(resolve_tagged(Tag::Null, "").unwrap().value, Value::Nil);
    }
}
