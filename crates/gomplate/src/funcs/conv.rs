//! The `conv` namespace (`conv.ToBool`, `conv.ToString`, `default`, `join`, ...)
//! and gomplate's value conversions that every other namespace relies on
//! ([`to_string`], [`to_bool`], [`to_int64`], [`to_float64`]), including the
//! `strconv.ParseInt`/`ParseFloat` rules they use.

use super::{arity, interface_slice, want_int, want_str};
use crate::error::FuncError;
use crate::value::Value;

/// gomplate's `conv.ToString`: strings as is, nil as `nil`, everything else as
/// `fmt.Sprint` prints it.
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Missing | Value::Nil => "nil".into(),
        Value::String(s) => s.to_string(),
        _ => v.to_go_string(),
    }
}

/// gomplate's `conv.ToBool`: booleans as is; strings `1`, `t`, `true`, `yes`
/// (any case) or any string parsing as the number 1; numbers equal to 1.
pub fn to_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => {
            let s = s.to_lowercase();
            matches!(s.as_str(), "1" | "t" | "true" | "yes") || str_to_float64(&s) == 1.0
        }
        Value::Int(i) => *i == 1,
        Value::Uint8(b) => *b == 1,
        Value::Float(f) => *f == 1.0,
        _ => false,
    }
}

/// gomplate's `conv.ToInt64`: strings parsed (Go literal syntax with base
/// prefixes, commas ignored, floats truncated), floats truncated, bools 0/1,
/// anything else 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::String(s) => str_to_int64(s),
        Value::Int(i) => *i,
        Value::Uint8(b) => i64::from(*b),
        Value::Float(f) => float_to_int64(*f),
        Value::Bool(b) => *b as i64,
        _ => 0,
    }
}

/// gomplate's `conv.ToFloat64` (same rules as [`to_int64`], without truncation).
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::String(s) => str_to_float64(s),
        Value::Int(i) => *i as f64,
        Value::Uint8(b) => f64::from(*b),
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        _ => 0.0,
    }
}

/// Go's `int64(f)` conversion as amd64 performs it: out-of-range values and NaN
/// become the minimum int64.
fn float_to_int64(f: f64) -> i64 {
    // 2^63 bounds; NaN is outside every range.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
        f as i64
    } else {
        i64::MIN
    }
}

fn str_to_int64(s: &str) -> i64 {
    let s = s.replace(',', "");
    match parse_int(&s, 0, 64) {
        Some(i) => i,
        None => match parse_float(&s) {
            Some(f) => float_to_int64(f),
            None => 0,
        },
    }
}

fn str_to_float64(s: &str) -> f64 {
    let s = s.replace(',', "");
    match parse_int(&s, 0, 64) {
        Some(i) => i as f64,
        None => parse_float(&s).unwrap_or(0.0),
    }
}

/// Go's `strconv` rule for `_` digit separators (only between digits, or
/// after a base prefix); number literals in templates use it too.
pub(crate) fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let b = if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') { &b[1..] } else { b };
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        let l = c.to_ascii_lowercase();
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&l)) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `strconv.ParseInt(s, base, bits)`; `None` on any error (syntax or range).
pub fn parse_int(s: &str, base: u32, bits: u32) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint(body, base, s)?;
    let bits = if bits == 0 { 64 } else { bits.min(64) };
    let cutoff: u128 = 1u128 << (bits - 1);
    if !neg && u >= cutoff || neg && u > cutoff {
        return None;
    }
    let v = u as i128;
    Some(if neg { -v } else { v } as i64)
}

/// Go's `strconv.ParseUint` digits (the sign already removed); `whole` is the
/// original text for the underscore check.
fn parse_uint(s: &str, base: u32, whole: &str) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    let base0 = base == 0;
    let (base, digits) = if base0 {
        let b = s.as_bytes();
        if b[0] == b'0' {
            if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'b') {
                (2, &s[2..])
            } else if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'o') {
                (8, &s[2..])
            } else if b.len() >= 3 && b[1].eq_ignore_ascii_case(&b'x') {
                (16, &s[2..])
            } else {
                (8, &s[1..])
            }
        } else {
            (10, s)
        }
    } else if (2..=36).contains(&base) {
        (base, s)
    } else {
        return None;
    };
    let mut n: u128 = 0;
    let mut underscores = false;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' && base0 {
            underscores = true;
            continue;
        }
        let d = c.to_digit(36)?;
        if d >= base {
            return None;
        }
        any = true;
        n = n * base as u128 + d as u128;
        if n > u64::MAX as u128 {
            return None;
        }
    }
    // "0" alone (base-0 octal with no further digits) is zero.
    let lone_zero = base0 && s == "0";
    if !any && !lone_zero {
        return None;
    }
    if underscores && !underscore_ok(whole) {
        return None;
    }
    Some(n)
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal syntax (with `inf`/`nan` and
/// `_` separators); `None` on syntax or range errors.
pub fn parse_float(s: &str) -> Option<f64> {
    let mut t = s.to_string();
    if t.contains('_') {
        if !underscore_ok(&t) {
            return None;
        }
        t = t.replace('_', "");
    }
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let special = matches!(unsigned, "inf" | "infinity" | "nan");
    if !special && !unsigned.bytes().all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-')) {
        return None;
    }
    if lower.len() - unsigned.len() > 1 {
        return None;
    }
    let f: f64 = t.parse().ok()?;
    if f.is_infinite() && !special {
        return None;
    }
    Some(f)
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `conv.Bool` / `bool` (deprecated): `strconv.ParseBool` of the string form.
pub fn bool_(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Bool(parse_bool(&to_string(&args[0])).unwrap_or(false)))
}

/// `conv.ToBool`.
pub fn to_bool_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Bool(to_bool(&args[0])))
}

/// `conv.ToBools`.
pub fn to_bools(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.iter().map(|a| Value::Bool(to_bool(a))).collect()))
}

/// `conv.ToInt64` / `conv.ToInt`.
pub fn to_int64_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Int(to_int64(&args[0])))
}

/// `conv.ToInt64s` / `conv.ToInts`.
pub fn to_int64s(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.iter().map(|a| Value::Int(to_int64(a))).collect()))
}

/// `conv.ToFloat64`.
pub fn to_float64_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Float(to_float64(&args[0])))
}

/// `conv.ToFloat64s`.
pub fn to_float64s(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.iter().map(|a| Value::Float(to_float64(a))).collect()))
}

/// `conv.ToString`.
pub fn to_string_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(to_string(&args[0])))
}

/// `conv.ToStrings`.
pub fn to_strings(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.iter().map(|a| Value::str(to_string(a))).collect()))
}

/// `conv.ParseInt INPUT BASE BITSIZE` (0 on error).
pub fn parse_int_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    let base = want_int(&args[1])?;
    let bits = want_int(&args[2])?;
    let s = to_string(&args[0]);
    let v = if (0..=36).contains(&base) && base != 1 && (0..=64).contains(&bits) {
        parse_int(&s, base as u32, bits as u32).unwrap_or(0)
    } else {
        0
    };
    Ok(Value::Int(v))
}

/// `conv.ParseFloat INPUT BITSIZE` (0 on error).
pub fn parse_float_fn(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    want_int(&args[1])?;
    Ok(Value::Float(parse_float(&to_string(&args[0])).unwrap_or(0.0)))
}

/// `conv.Atoi` (0 on error).
pub fn atoi(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Int(parse_int(&to_string(&args[0]), 10, 64).unwrap_or(0)))
}

/// `conv.Join LIST SEP` / `join`: each item through [`to_string`].
pub fn join(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let sep = want_str(&args[1])?;
    let items = interface_slice(&args[0])
        .map_err(|e| FuncError::new(format!("input to Join must be an array: {}", e.message)))?;
    let parts: Vec<String> = items.iter().map(to_string).collect();
    let size = parts.iter().map(|p| p.len() as u128).sum::<u128>()
        + parts.len().saturating_sub(1) as u128 * sep.len() as u128;
    if size > crate::SIZE_LIMIT as u128 {
        return Err(super::strings::over_limit(size));
    }
    Ok(Value::str(parts.join(sep)))
}

/// `conv.Default DEFAULT INPUT` / `default`: INPUT when truthy, else DEFAULT.
pub fn default(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(if args[1].is_true() { args[1].clone() } else { args[0].clone() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::s;


    #[test]
    fn to_string_matches_gomplate() {
        assert_eq!(to_string(&Value::Nil), "nil");
        assert_eq!(to_string(&Value::Missing), "nil");
        assert_eq!(to_string(&Value::Int(42)), "42");
        assert_eq!(to_string(&Value::Float(1.5)), "1.5");
        assert_eq!(to_string(&Value::Float(1e6)), "1e+06");
        assert_eq!(to_string(&Value::Bool(true)), "true");
        assert_eq!(to_string(&Value::list(vec![Value::Int(1), Value::Nil])), "[1 <nil>]");
    }

    #[test]
    fn to_bool_matches_gomplate() {
        // cases from gomplate conv_test.go TestToBool
        for t in ["1", "t", "T", "true", "TRUE", "True", "yes", "YES", "1.0"] {
            assert!(to_bool(&s(t)), "{t}");
        }
        for f in ["0", "f", "false", "no", "", "bogus", "0.5"] {
            assert!(!to_bool(&s(f)), "{f}");
        }
        assert!(to_bool(&Value::Int(1)));
        assert!(!to_bool(&Value::Int(2)));
        assert!(to_bool(&Value::Float(1.0)));
        assert!(!to_bool(&Value::Nil));
        assert!(to_bool(&Value::Bool(true)));
    }

    #[test]
    fn to_int64_matches_gomplate() {
        // cases from gomplate conv_test.go TestToInt64
        assert_eq!(to_int64(&s("9223372036854775807")), i64::MAX);
        assert_eq!(to_int64(&s("-9223372036854775808")), i64::MIN);
        assert_eq!(to_int64(&s("1,000")), 1000);
        assert_eq!(to_int64(&s("0x10")), 16);
        assert_eq!(to_int64(&s("010")), 8);
        assert_eq!(to_int64(&s("08")), 8);
        assert_eq!(to_int64(&s("0b101")), 5);
        assert_eq!(to_int64(&s("0o17")), 15);
        assert_eq!(to_int64(&s("2.5")), 2);
        assert_eq!(to_int64(&s("-3.9")), -3);
        assert_eq!(to_int64(&s("1_000")), 1000);
        assert_eq!(to_int64(&s("bogus")), 0);
        assert_eq!(to_int64(&s("")), 0);
        assert_eq!(to_int64(&Value::Float(42.9)), 42);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
        assert_eq!(to_int64(&s("0")), 0);
    }

    #[test]
    fn gomplate_conv_test_cases() {
        // conv_test.go TestToInt64 / TestToFloat64 / TestToBool / TestToString
        assert_eq!(to_int64(&s("42.0")), 42);
        assert_eq!(to_int64(&s("3.5")), 3);
        assert_eq!(to_int64(&s("0xFFFF")), 0xFFFF);
        assert_eq!(to_int64(&s("4,096")), 4096);
        assert_eq!(to_int64(&s("-4,096.00")), -4096);
        for z in ["", "0", "foo", "0x0", "00", "0,000"] {
            assert_eq!(to_float64(&s(z)), 0.0, "{z}");
        }
        for f in ["42", "42.0", "0x2A", "052"] {
            assert_eq!(to_float64(&s(f)), 42.0, "{f}");
        }
        assert_eq!(to_float64(&s("1,000.34")), 1000.34);
        for t in ["0x1", "01", "TrUe"] {
            assert!(to_bool(&s(t)), "{t}");
        }
        for f in ["0xFFFF", "010", "4,096", "-4,096.00"] {
            assert!(!to_bool(&s(f)), "{f}");
        }
        assert!(!to_bool(&Value::Int(42)));
        assert_eq!(to_string(&Value::Float(std::f64::consts::PI)), "3.141592653589793");
        assert_eq!(to_string(&Value::Float(f64::NAN)), "NaN");
        assert_eq!(to_string(&Value::Float(f64::INFINITY)), "+Inf");
        assert_eq!(to_string(&Value::Int(-127)), "-127");
    }

    #[test]
    fn to_float64_matches_gomplate() {
        assert_eq!(to_float64(&s("2.5")), 2.5);
        assert_eq!(to_float64(&s("0xFF")), 255.0);
        assert_eq!(to_float64(&s("1,000.5")), 1000.5);
        assert_eq!(to_float64(&s("1e3")), 1000.0);
        assert_eq!(to_float64(&s("x")), 0.0);
        assert_eq!(to_float64(&s("1e400")), 0.0);
        assert_eq!(to_float64(&Value::Int(2)), 2.0);
        assert!(to_float64(&s("inf")).is_infinite());
    }

    #[test]
    fn default_uses_template_truth() {
        assert_eq!(default(&[s("d"), s("")]).unwrap(), s("d"));
        assert_eq!(default(&[s("d"), Value::Nil]).unwrap(), s("d"));
        assert_eq!(default(&[s("d"), Value::Int(0)]).unwrap(), s("d"));
        assert_eq!(default(&[s("d"), Value::Bool(false)]).unwrap(), s("d"));
        assert_eq!(default(&[s("d"), Value::list(vec![])]).unwrap(), s("d"));
        assert_eq!(default(&[s("d"), s("x")]).unwrap(), s("x"));
        assert_eq!(default(&[s("d"), Value::Int(1)]).unwrap(), Value::Int(1));
    }

    #[test]
    fn join_converts_items() {
        let l = Value::list(vec![Value::Int(1), s("a"), Value::Bool(true), Value::Nil]);
        assert_eq!(join(&[l, s("-")]).unwrap(), s("1-a-true-nil"));
        let e = join(&[s("x"), s(",")]).unwrap_err();
        assert_eq!(e.message, "input to Join must be an array: expected an array or slice, but got a reflect.Value");
    }

    #[test]
    fn parse_functions() {
        assert_eq!(parse_int("7fffffffffffffff", 16, 64), Some(i64::MAX));
        assert_eq!(parse_int("128", 10, 8), None);
        assert_eq!(parse_int("-128", 10, 8), Some(-128));
        assert_eq!(parse_int("1_0", 10, 64), None);
        assert_eq!(parse_int("_10", 0, 64), None);
        assert_eq!(bool_(&[s("T")]).unwrap(), Value::Bool(true));
        assert_eq!(bool_(&[s("yes")]).unwrap(), Value::Bool(false));
        assert_eq!(atoi(&[s("42")]).unwrap(), Value::Int(42));
        assert_eq!(atoi(&[s("042")]).unwrap(), Value::Int(42));
    }
}
