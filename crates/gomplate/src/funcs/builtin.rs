//! Go `text/template`'s builtin functions (Go 1.20 semantics): `not`, `len`,
//! `index`, `print`/`println`/`printf`, the comparisons `eq ne lt le gt ge`, and
//! the escapers `html`, `js`, `urlquery`. (`and`/`or`/`call` live in the
//! executor; `slice` is gomplate's `coll.Slice`.)

use std::sync::Arc;

use super::{arity, arity_min};
use crate::error::FuncError;
use crate::gofmt as fmt;
use crate::value::{Kind, Value};

const ERR_BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const ERR_BAD_COMPARISON: &str = "incompatible types for comparison";
const ERR_NO_COMPARISON: &str = "missing argument for comparison";

/// `not ARG`: the negated template truth of ARG.
pub fn not(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Bool(!args[0].is_true()))
}

/// `len ARG`: bytes of a string, items of a list or map.
pub fn len(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    match &args[0] {
        Value::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::Nil => Err("len of nil pointer".into()),
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        v => Err(FuncError::new(format!("len of type {}", v.type_name()))),
    }
}

/// Go's `indexArg`: an integer index within `0..=cap`.
fn index_arg(index: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match index {
        Value::Int(i) => *i,
        Value::Uint8(b) => i64::from(*b),
        Value::Missing | Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => return Err(FuncError::new(format!("cannot index slice/array with type {}", v.type_name()))),
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(FuncError::new(format!("index out of range: {x}")));
    }
    Ok(x as usize)
}

/// `index ITEM KEYS...`: successive indexing of lists, strings (bytes) and maps;
/// a missing map key yields nil.
pub fn index(args: &[Value]) -> Result<Value, FuncError> {
    arity_min(args, 1)?;
    let mut item = args[0].clone();
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    for idx in &args[1..] {
        if item.is_nil() {
            return Err("index of nil pointer".into());
        }
        item = match &item {
            Value::List(l) => {
                let x = index_arg(idx, l.len())?;
                if x == l.len() {
                    return Err(FuncError::new(format!("index out of range: {x}")));
                }
                l[x].clone()
            }
            Value::String(s) => {
                let x = index_arg(idx, s.len())?;
                if x == s.len() {
                    return Err(FuncError::new(format!("index out of range: {x}")));
                }
                Value::Uint8(s.as_bytes()[x])
            }
            Value::Map(m) => match idx {
                Value::String(k) => m.get(&**k).cloned().unwrap_or(Value::Nil),
                Value::Missing | Value::Nil => return Err("value is nil; should be of type string".into()),
                v => {
                    return Err(FuncError::new(format!("value has type {}; should be string", v.type_name())))
                }
            },
            v => return Err(FuncError::new(format!("can't index item of type {}", v.type_name()))),
        };
    }
    Ok(item)
}

/// `print ARGS...` (`fmt.Sprint`).
pub fn print(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::str(fmt::sprint(args)))
}

/// `println ARGS...` (`fmt.Sprintln`).
pub fn println(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::str(fmt::sprintln(args)))
}

/// `printf FORMAT ARGS...` (`fmt.Sprintf`).
pub fn printf(args: &[Value]) -> Result<Value, FuncError> {
    arity_min(args, 1)?;
    let format = super::want_str(&args[0])?;
    Ok(Value::str(fmt::sprintf(format, &args[1..])))
}

/// Go's `basicKind` classes for comparisons.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BasicKind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
}

fn basic_kind(v: &Value) -> BasicKind {
    match v {
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_) | Value::Uint8(_) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::String(_) => BasicKind::String,
        _ => BasicKind::Invalid,
    }
}

/// The value of a signed or unsigned integer.
fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Uint8(b) => Some(i64::from(*b)),
        _ => None,
    }
}

/// Go's `eq` for one pair, after both sides had their interface removed.
fn eq_pair(a: &Value, b: &Value) -> Result<bool, FuncError> {
    // Go compares signed and unsigned integers by value.
    if let (Some(x), Some(y)) = (integer(a), integer(b)) {
        return Ok(x == y);
    }
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 != k2 {
        if !a.is_nil() && !b.is_nil() {
            return Err(ERR_BAD_COMPARISON.into());
        }
        return Ok(false);
    }
    Ok(match (a, b) {
        // Pointers compare by address: there is one context per render.
        (Value::Context(x), Value::Context(y)) => Arc::ptr_eq(x, y),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        _ => {
            // Go's `reflect.Kind`, nil being `Invalid`.
            let (r1, r2) = (a.kind(), b.kind());
            if r1 != r2 && r1 != Kind::Invalid && r2 != Kind::Invalid {
                return Err(FuncError::new(fmt::sprintf(
                    "non-comparable types %s: %v, %s: %v",
                    &[a.clone(), Value::str(a.type_name()), Value::str(b.type_name()), b.clone()],
                )));
            }
            if a.is_nil() || b.is_nil() {
                a.is_nil() == b.is_nil()
            } else {
                // Lists and maps are never comparable in Go.
                return Err(FuncError::new(fmt::sprintf(
                    "non-comparable type %s: %v",
                    &[b.clone(), Value::str(b.type_name())],
                )));
            }
        }
    })
}

/// `eq ARG1 ARG2...`: true when ARG1 equals any of the others.
pub fn eq(args: &[Value]) -> Result<Value, FuncError> {
    arity_min(args, 1)?;
    if args.len() == 1 {
        return Err(ERR_NO_COMPARISON.into());
    }
    for b in &args[1..] {
        if eq_pair(&args[0], b)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

/// `ne A B`.
pub fn ne(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(!eq_pair(&args[0], &args[1])?))
}

/// Go's `lt` for two basic values.
fn lt_pair(a: &Value, b: &Value) -> Result<bool, FuncError> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == BasicKind::Invalid || k2 == BasicKind::Invalid {
        return Err(ERR_BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return Err(ERR_BAD_COMPARISON.into());
    }
    if let (Some(x), Some(y)) = (integer(a), integer(b)) {
        return Ok(x < y);
    }
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(ERR_BAD_COMPARISON_TYPE.into()),
    }
}

/// `lt A B`.
pub fn lt(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(lt_pair(&args[0], &args[1])?))
}

fn le_pair(a: &Value, b: &Value) -> Result<bool, FuncError> {
    if lt_pair(a, b)? {
        return Ok(true);
    }
    eq_pair(a, b)
}

/// `le A B`.
pub fn le(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(le_pair(&args[0], &args[1])?))
}

/// `gt A B`.
pub fn gt(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(!le_pair(&args[0], &args[1])?))
}

/// `ge A B`.
pub fn ge(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(!lt_pair(&args[0], &args[1])?))
}

/// text/template's `evalArgs`: one string as is, else `fmt.Sprint` with nil
/// shown as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let args: Vec<Value> =
        args.iter().map(|a| if a.is_nil() { Value::str("<no value>") } else { a.clone() }).collect();
    fmt::sprint(&args)
}

/// `html ARGS...` (`template.HTMLEscapeString`).
pub fn html(args: &[Value]) -> Result<Value, FuncError> {
    let s = eval_args(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Ok(Value::str(out))
}

/// `js ARGS...` (`template.JSEscapeString`).
pub fn js(args: &[Value]) -> Result<Value, FuncError> {
    let s = eval_args(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if (c as u32) >= 0x80 && !is_print(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    Ok(Value::str(out))
}

/// An approximation of Go's `unicode.IsPrint` for non-ASCII runes.
fn is_print(c: char) -> bool {
    let invisible = matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{00AD}' | '\u{200B}'..='\u{200F}');
    let odd_space = c.is_whitespace() && c != ' ';
    !c.is_control() && !invisible && !odd_space
}

/// `urlquery ARGS...` (`url.QueryEscape`).
pub fn urlquery(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::str(query_escape(&eval_args(args))))
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::s;
    use crate::value::Map;

    fn b(v: Result<Value, FuncError>) -> bool {
        match v.unwrap() {
            Value::Bool(b) => b,
            v => panic!("not a bool: {v:?}"),
        }
    }
    fn err(v: Result<Value, FuncError>) -> String {
        v.unwrap_err().message
    }

    #[test]
    fn comparisons_follow_go_1_20() {
        assert!(b(eq(&[Value::Int(1), Value::Int(2), Value::Int(1)])));
        assert!(!b(eq(&[s("a"), s("b")])));
        assert!(b(eq(&[Value::Nil, Value::Missing])));
        assert!(!b(eq(&[s("a"), Value::Nil])));
        assert!(!b(eq(&[Value::Nil, Value::Int(0)])));
        assert_eq!(err(eq(&[Value::Int(1), Value::Float(1.0)])), "incompatible types for comparison");
        assert_eq!(err(eq(&[s("1"), Value::Int(1)])), "incompatible types for comparison");
        assert_eq!(err(eq(&[Value::Int(1)])), "missing argument for comparison");
        assert!(!b(eq(&[Value::Nil, Value::map(Map::new())])));
        assert!(b(ne(&[s("a"), s("b")])));
        assert!(b(lt(&[Value::Int(1), Value::Int(2)])));
        assert!(b(lt(&[s("a"), s("b")])));
        assert!(b(le(&[Value::Int(2), Value::Int(2)])));
        assert!(b(gt(&[Value::Float(2.5), Value::Float(2.0)])));
        assert!(b(ge(&[Value::Int(2), Value::Int(2)])));
        assert_eq!(err(lt(&[Value::Bool(true), Value::Bool(false)])), "invalid type for comparison");
        assert_eq!(err(lt(&[Value::Nil, Value::Int(1)])), "invalid type for comparison");
        assert_eq!(err(lt(&[Value::Int(1), Value::Float(1.0)])), "incompatible types for comparison");
    }

    #[test]
    
    fn non_comparable_messages() {
        let l = Value::list(vec![Value::Int(1)]);
        assert_eq!(err(eq(&[l.clone(), l.clone()])), "non-comparable type [%!s(int=1)]: []interface {}");
        let mut m = Map::new();
        m.insert("a".into(), s("x"));
        assert_eq!(
            err(eq(&[Value::map(m), l])),
            "non-comparable types map[a:x]: map[string]interface {}, []interface {}: [1]"
        );
    }

    #[test]
    fn index_like_go() {
        let l = Value::list(vec![s("a"), s("b")]);
        assert_eq!(index(&[l.clone(), Value::Int(1)]).unwrap(), s("b"));
        assert_eq!(err(index(&[l.clone(), Value::Int(5)])), "index out of range: 5");
        assert_eq!(err(index(&[l.clone(), Value::Int(2)])), "index out of range: 2");
        assert_eq!(err(index(&[l.clone(), s("x")])), "cannot index slice/array with type string");
        assert_eq!(err(index(&[Value::Int(3), Value::Int(0)])), "can't index item of type int");
        assert_eq!(err(index(&[Value::Nil, Value::Int(0)])), "index of untyped nil");
        let mut inner = Map::new();
        inner.insert("k".into(), l);
        let mut m = Map::new();
        m.insert("a".into(), Value::map(inner));
        m.insert("n".into(), Value::Nil);
        let m = Value::map(m);
        assert_eq!(index(&[m.clone(), s("a"), s("k"), Value::Int(0)]).unwrap(), s("a"));
        assert_eq!(index(&[m.clone(), s("missing")]).unwrap(), Value::Nil);
        assert_eq!(err(index(&[m.clone(), s("missing"), s("x")])), "index of nil pointer");
        assert_eq!(err(index(&[m.clone(), Value::Int(1)])), "value has type int; should be string");
        assert_eq!(index(&[s("abc"), Value::Int(1)]).unwrap(), Value::Uint8(98));
        assert_eq!(index(std::slice::from_ref(&m)).unwrap(), m);
    }

    #[test]
    fn len_and_not() {
        assert_eq!(len(&[s("héllo")]).unwrap(), Value::Int(6));
        assert_eq!(len(&[Value::list(vec![Value::Nil])]).unwrap(), Value::Int(1));
        assert_eq!(err(len(&[Value::Int(3)])), "len of type int");
        assert_eq!(err(len(&[Value::Nil])), "len of nil pointer");
        assert!(b(not(&[s("")])));
        assert!(!b(not(&[Value::Int(1)])));
        assert_eq!(err(not(&[])), "wrong number of args for \u{0}NAME\u{0}: want 1 got 0");
    }

    #[test]
    fn escapers() {
        assert_eq!(html(&[s(r#"<a href="x">'&'</a>"#)]).unwrap(), s("&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"));
        assert_eq!(js(&[s("a'b\"<>&=\\\n")]).unwrap(), s("a\\'b\\\"\\u003C\\u003E\\u0026\\u003D\\\\\\u000A"));
        assert_eq!(urlquery(&[s("a b&c=d/é")]).unwrap(), s("a+b%26c%3Dd%2F%C3%A9"));
        assert_eq!(html(&[Value::Nil]).unwrap(), s("&lt;no value&gt;"));
    }
}
