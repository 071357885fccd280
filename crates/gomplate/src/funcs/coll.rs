//! The `coll` namespace: `coll.Slice`/`slice`, `dict`, `has`, `keys`,
//! `values`, `append`, `prepend`, `uniq`, `reverse`, `merge` (gomplate's
//! dst-wins deep merge), `sort`, `flatten`, `coll.Pick`/`coll.Omit`, and
//! `coll.JSONPath` (the subset of Kubernetes JSONPath that deployKF uses:
//! `$`, `.field`, `['field']`, `[n]`, `[a:b]`, `[*]`, `.*`).

use super::conv::{to_int64, to_string};
use super::{arity, arity_min, interface_slice, want_map, want_str};
use crate::error::FuncError;
use crate::value::{Map, Value};

/// `coll.Slice ARGS...` / `slice`: the arguments as a list.
pub(crate) fn slice(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(args.iter().map(nil_of_missing).collect()))
}

/// An absent argument stored in a collection is a nil interface.
fn nil_of_missing(v: &Value) -> Value {
    match v {
        Value::Missing => Value::Nil,
        v => v.clone(),
    }
}

/// gomplate's `coll.Has`: a map key, or a list item deep-equal to `key`.
fn has_value(input: &Value, key: &Value) -> bool {
    match input {
        Value::Map(m) => match key {
            Value::String(k) => m.contains_key(&**k),
            _ => false,
        },
        Value::List(l) => l.iter().any(|v| v == key),
        _ => false,
    }
}

/// `coll.Has IN KEY` / `has` (KEY is a Go `string` parameter).
pub(crate) fn has(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let key = want_str(&args[1])?;
    Ok(Value::Bool(has_value(&args[0], &Value::str(key))))
}

/// `coll.Dict K V ...` / `dict`: keys through `conv.ToString`; an odd last key
/// maps to "".
pub(crate) fn dict(args: &[Value]) -> Result<Value, FuncError> {
    let mut m = Map::new();
    for pair in args.chunks(2) {
        let key = to_string(&pair[0]);
        let value = pair.get(1).map(nil_of_missing).unwrap_or_else(|| Value::str(""));
        m.insert(key, value);
    }
    Ok(Value::map(m))
}

/// `coll.Keys MAPS...` / `keys`: sorted keys of each map in turn.
pub(crate) fn keys(args: &[Value]) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err("need at least one argument".into());
    }
    let mut out = Vec::new();
    for a in args {
        out.extend(want_map(a)?.into_keys().map(Value::str));
    }
    Ok(Value::list(out))
}

/// `coll.Values MAPS...` / `values`: values of each map in key order.
pub(crate) fn values(args: &[Value]) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err("need at least one argument".into());
    }
    let mut out = Vec::new();
    for a in args {
        out.extend(want_map(a)?.into_values());
    }
    Ok(Value::list(out))
}

/// `coll.Append VALUE LIST` / `append`: a new list with VALUE at the end.
pub(crate) fn append(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let mut l = interface_slice(&args[1])?;
    l.push(nil_of_missing(&args[0]));
    Ok(Value::list(l))
}

/// `coll.Prepend VALUE LIST` / `prepend`.
pub(crate) fn prepend(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let mut l = interface_slice(&args[1])?;
    l.insert(0, nil_of_missing(&args[0]));
    Ok(Value::list(l))
}

/// `coll.Uniq LIST` / `uniq`: first occurrences, in order.
pub(crate) fn uniq(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let l = interface_slice(&args[0])?;
    let mut out: Vec<Value> = Vec::new();
    for v in l {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::list(out))
}

/// `coll.Reverse LIST` / `reverse`.
///
/// (Go reverses a `[]interface{}` argument in place as well; values here are
/// immutable, so only the result is reversed.)
pub(crate) fn reverse(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let mut l = interface_slice(&args[0])?;
    l.reverse();
    Ok(Value::list(l))
}

/// gomplate's `mergeValues(defaults, overrides)`: overrides win; maps present
/// on both sides merge recursively; any other override (scalar, list, null)
/// replaces the default. Also what the `merge:` datasource of values files uses.
pub fn merge_values(defaults: &Map, overrides: &Map) -> Map {
    let mut out = defaults.clone();
    for (k, v) in overrides {
        let merged = match (out.get(k), v) {
            (Some(Value::Map(d)), Value::Map(o)) => Value::map(merge_values(d, o)),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// `coll.Merge DST SRCS...` / `merge`: DST's values win over each SRC in turn
/// (left-most precedence), deep-merging nested maps.
pub(crate) fn merge(args: &[Value]) -> Result<Value, FuncError> {
    arity_min(args, 1)?;
    let mut dst = want_map(&args[0])?;
    for src in &args[1..] {
        let src = want_map(src)?;
        dst = merge_values(&src, &dst);
    }
    Ok(Value::map(dst))
}

/// gomplate's `lessThan(key)` for two values of the same kind.
fn less_than(key: &str, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        (Value::Map(x), Value::Map(y)) => match (x.get(key), y.get(key)) {
            (Some(l), Some(r)) => less_than("", l, r),
            _ => false,
        },
        _ => false,
    }
}

/// `coll.Sort [KEY] LIST` / `sort`: a stable natural sort when every item has
/// the same kind (maps sort by KEY's value); mixed lists come back unchanged.
pub(crate) fn sort(args: &[Value]) -> Result<Value, FuncError> {
    let (key, list) = match args {
        [list] => (String::new(), list),
        [key, list] => (to_string(key), list),
        _ => return Err(FuncError::new(format!("wrong number of args: wanted 1 or 2, got {}", args.len()))),
    };
    if list.is_nil() {
        return Ok(Value::list(Vec::new()));
    }
    let mut l = interface_slice(list)?;
    let same = l.windows(2).all(|w| w[0].kind() == w[1].kind());
    if same {
        l.sort_by(|a, b| {
            if less_than(&key, a, b) {
                std::cmp::Ordering::Less
            } else if less_than(&key, b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
    }
    Ok(Value::list(l))
}

fn flatten_depth(list: &Value, depth: i64) -> Result<Vec<Value>, FuncError> {
    let l = interface_slice(list)?;
    if depth == 0 {
        return Ok(l);
    }
    let mut out = Vec::with_capacity(l.len() * 2);
    for v in l {
        if let Value::List(_) = v {
            out.extend(flatten_depth(&v, depth - 1)?);
        } else {
            out.push(v);
        }
    }
    Ok(out)
}

/// `coll.Flatten [DEPTH] LIST` / `flatten` (DEPTH -1 = fully).
pub(crate) fn flatten(args: &[Value]) -> Result<Value, FuncError> {
    let (depth, list) = match args {
        [list] => (-1, list),
        [depth, list] => (to_int64(depth), list),
        _ => return Err(FuncError::new(format!("wrong number of args: wanted 1 or 2, got {}", args.len()))),
    };
    Ok(Value::list(flatten_depth(list, depth)?))
}

/// gomplate's `pickOmitArgs`: KEYS... MAP.
fn pick_omit_args(args: &[Value]) -> Result<(&Map, Vec<&str>), FuncError> {
    if args.len() <= 1 {
        return Err(FuncError::new(format!("wrong number of args: wanted 2 or more, got {}", args.len())));
    }
    let last = &args[args.len() - 1];
    let m = last.as_map().ok_or_else(|| {
        FuncError::new(format!("wrong map type: must be map[string]interface{{}}, got {}", last.type_name()))
    })?;
    let mut keys = Vec::new();
    for k in &args[..args.len() - 1] {
        match k {
            Value::String(s) => keys.push(&**s),
            _ => {
                return Err(FuncError::new(format!(
                    "wrong key type: must be string, got {} ({})",
                    k.type_name(),
                    k.to_go_string().replace("<no value>", "<nil>")
                )))
            }
        }
    }
    Ok((m, keys))
}

/// `coll.Pick KEYS... MAP`: only the given keys.
pub(crate) fn pick(args: &[Value]) -> Result<Value, FuncError> {
    let (m, keys) = pick_omit_args(args)?;
    Ok(Value::map(m.iter().filter(|(k, _)| keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()))
}

/// `coll.Omit KEYS... MAP`: all but the given keys.
pub(crate) fn omit(args: &[Value]) -> Result<Value, FuncError> {
    let (m, keys) = pick_omit_args(args)?;
    Ok(Value::map(m.iter().filter(|(k, _)| !keys.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()))
}

/// One step of a JSONPath.
#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    /// `[start:end]` with optional parts; `single` for `[n]`.
    Array { start: Option<i64>, end: Option<i64>, single: bool },
}

/// Parses the supported JSONPath subset.
fn parse_json_path(p: &str) -> Result<Vec<Step>, String> {
    let mut s = p.trim();
    if let Some(inner) = s.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
        s = inner.trim();
    }
    if s.contains('{') || s.contains('}') {
        return Err("unclosed action".into());
    }
    let s = s.strip_prefix('$').unwrap_or(s);
    let b = s.as_bytes();
    let mut i = 0;
    let mut steps = Vec::new();
    let is_term = |c: u8| matches!(c, b'.' | b',' | b'[' | b']' | b'$' | b'@' | b'{' | b'}') || c.is_ascii_whitespace();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                if i < b.len() && b[i] == b'.' {
                    return Err("recursive descent (..) is not supported".into());
                }
                let start = i;
                while i < b.len() && !is_term(b[i]) {
                    // a backslash escapes the next character (e.g. `\.` in a key)
                    i += if b[i] == b'\\' && i + 1 < b.len() { 2 } else { 1 };
                }
                let name = s[start..i].replace('\\', "");
                if name == "*" {
                    steps.push(Step::Wildcard);
                } else if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            b'[' => {
                let close = s[i..].find(']').ok_or_else(|| "unterminated array".to_string())? + i;
                let inner = s[i + 1..close].trim();
                i = close + 1;
                if inner == "*" {
                    steps.push(Step::Array { start: None, end: None, single: false });
                } else if let Some(q) = inner
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')))
                {
                    steps.push(Step::Field(q.to_string()));
                } else {
                    let parts: Vec<&str> = inner.split(':').collect();
                    let num = |t: &str| -> Result<Option<i64>, String> {
                        let t = t.trim();
                        if t.is_empty() {
                            Ok(None)
                        } else {
                            t.parse().map(Some).map_err(|_| format!("invalid array index {t}"))
                        }
                    };
                    match parts.as_slice() {
                        [n] => {
                            let n = num(n)?.ok_or_else(|| "invalid array index".to_string())?;
                            steps.push(Step::Array { start: Some(n), end: None, single: true });
                        }
                        [a, e] => steps.push(Step::Array { start: num(a)?, end: num(e)?, single: false }),
                        _ => return Err(format!("unsupported array expression [{inner}]")),
                    }
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => return Err(format!("unrecognized character in action: {}", &s[i..])),
        }
    }
    Ok(steps)
}

/// Applies one step to the current results, as Kubernetes' JSONPath does with
/// missing keys disallowed.
fn eval_step(input: Vec<Value>, step: &Step) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    match step {
        Step::Field(name) => {
            if input.is_empty() {
                return Ok(out);
            }
            for v in &input {
                if let Value::Map(m) = v {
                    if let Some(x) = m.get(name) {
                        out.push(x.clone());
                    }
                }
            }
            if out.is_empty() {
                return Err(format!("{name} is not found"));
            }
        }
        Step::Wildcard => {
            for v in &input {
                match v {
                    Value::Map(m) => out.extend(m.values().cloned()),
                    Value::List(l) => out.extend(l.iter().cloned()),
                    Value::String(s) => out.extend(s.bytes().map(|c| Value::Int(c as i64))),
                    _ => {}
                }
            }
        }
        Step::Array { start, end, single } => {
            for v in &input {
                if v.is_nil() {
                    continue;
                }
                let l = match v {
                    Value::List(l) => l,
                    other => return Err(format!("{} is not array or slice", other.type_name())),
                };
                let len = l.len() as i64;
                let mut s0 = start.unwrap_or(0);
                if s0 < 0 {
                    s0 += len;
                }
                let (mut e0, derived) = match (single, end) {
                    (true, _) => (start.unwrap_or(0) + 1, true),
                    (false, Some(e)) => (*e, false),
                    (false, None) => (len, false),
                };
                if e0 < 0 || (e0 == 0 && derived) {
                    e0 += len;
                }
                if e0 == s0 {
                    return Ok(out);
                }
                if s0 >= len || s0 < 0 {
                    return Err(format!("array index out of bounds: index {s0}, length {len}"));
                }
                if e0 > len || e0 < 0 {
                    return Err(format!("array index out of bounds: index {}, length {len}", e0 - 1));
                }
                if s0 > e0 {
                    return Err(format!("starting index {s0} is greater than ending index {e0}"));
                }
                out.extend(l[s0 as usize..e0 as usize].iter().cloned());
            }
        }
    }
    Ok(out)
}

/// `coll.JSONPath PATH IN` / `jsonpath`: one match as itself, several as a
/// list (nil matches dropped); a missing key is an error.
pub(crate) fn json_path(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let p = want_str(&args[0])?;
    let steps =
        parse_json_path(p).map_err(|e| FuncError::new(format!("couldn't parse JSONPath {p}: {e}")))?;
    let mut cur = vec![nil_of_missing(&args[1])];
    for step in &steps {
        cur = eval_step(cur, step).map_err(|e| FuncError::new(format!("executing JSONPath failed: {e}")))?;
    }
    if cur.len() == 1 {
        return Ok(cur.pop().unwrap_or(Value::Nil));
    }
    Ok(Value::list(cur.into_iter().filter(|v| !v.is_nil()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{l, m, s};


    #[test]
    fn merge_is_dst_wins_deep() {
        // gomplate coll_test.go TestMerge
        let dst = m(&[("a", s("one")), ("c", m(&[("cc", s("dst"))]))]);
        let src = m(&[("a", s("src")), ("b", s("two")), ("c", m(&[("cc", s("src")), ("cd", s("x"))]))]);
        let out = merge(&[dst, src]).unwrap();
        assert_eq!(
            out,
            m(&[("a", s("one")), ("b", s("two")), ("c", m(&[("cc", s("dst")), ("cd", s("x"))]))])
        );
        // a non-map in dst replaces a map in src, and vice versa
        let out = merge(&[m(&[("a", s("x"))]), m(&[("a", m(&[("b", s("y"))]))])]).unwrap();
        assert_eq!(out, m(&[("a", s("x"))]));
        let out = merge(&[m(&[("a", m(&[("b", s("y"))]))]), m(&[("a", s("x"))])]).unwrap();
        assert_eq!(out, m(&[("a", m(&[("b", s("y"))]))]));
        // several sources: left-most wins
        let out = merge(&[m(&[]), m(&[("a", Value::Int(1))]), m(&[("a", Value::Int(2)), ("b", Value::Int(3))])]).unwrap();
        assert_eq!(out, m(&[("a", Value::Int(1)), ("b", Value::Int(3))]));
        assert_eq!(merge(&[Value::Missing]).unwrap(), m(&[]));
        assert_eq!(
            merge(&[s("x")]).unwrap_err().message,
            "wrong type for value; expected map[string]interface {}; got string"
        );
    }

    #[test]
    fn dict_and_has() {
        let d = dict(&[s("a"), Value::Int(1), Value::Int(2), s("b"), s("odd")]).unwrap();
        assert_eq!(d, m(&[("a", Value::Int(1)), ("2", s("b")), ("odd", s(""))]));
        assert_eq!(dict(&[]).unwrap(), m(&[]));
        assert_eq!(has(&[d.clone(), s("a")]).unwrap(), Value::Bool(true));
        assert_eq!(has(&[d, s("z")]).unwrap(), Value::Bool(false));
        assert_eq!(has(&[l(&[s("view"), s("edit")]), s("edit")]).unwrap(), Value::Bool(true));
        assert_eq!(has(&[l(&[Value::Int(1)]), s("1")]).unwrap(), Value::Bool(false));
        assert_eq!(has(&[Value::Nil, s("a")]).unwrap(), Value::Bool(false));
    }

    #[test]
    fn list_functions() {
        assert_eq!(slice(&[s("a"), Value::Int(1)]).unwrap(), l(&[s("a"), Value::Int(1)]));
        assert_eq!(slice(&[]).unwrap(), l(&[]));
        assert_eq!(append(&[s("c"), l(&[s("a"), s("b")])]).unwrap(), l(&[s("a"), s("b"), s("c")]));
        assert_eq!(prepend(&[s("c"), l(&[s("a")])]).unwrap(), l(&[s("c"), s("a")]));
        assert_eq!(
            append(&[s("c"), s("x")]).unwrap_err().message,
            "expected an array or slice, but got a reflect.Value"
        );
        assert_eq!(
            uniq(&[l(&[s("a"), Value::Int(1), s("a"), Value::Int(1), Value::Float(1.0)])]).unwrap(),
            l(&[s("a"), Value::Int(1), Value::Float(1.0)])
        );
        assert_eq!(reverse(&[l(&[Value::Int(1), Value::Int(2)])]).unwrap(), l(&[Value::Int(2), Value::Int(1)]));
        let mm = m(&[("b", Value::Int(2)), ("a", Value::Int(1))]);
        assert_eq!(keys(&[mm.clone(), m(&[("c", Value::Nil)])]).unwrap(), l(&[s("a"), s("b"), s("c")]));
        assert_eq!(values(&[mm]).unwrap(), l(&[Value::Int(1), Value::Int(2)]));
        assert_eq!(keys(&[]).unwrap_err().message, "need at least one argument");
    }

    #[test]
    fn sort_and_flatten() {
        assert_eq!(sort(&[l(&[s("b"), s("a"), s("C")])]).unwrap(), l(&[s("C"), s("a"), s("b")]));
        assert_eq!(sort(&[l(&[Value::Int(3), Value::Int(1)])]).unwrap(), l(&[Value::Int(1), Value::Int(3)]));
        // mixed kinds are left alone
        assert_eq!(sort(&[l(&[Value::Int(3), s("a")])]).unwrap(), l(&[Value::Int(3), s("a")]));
        let a = m(&[("n", Value::Int(2))]);
        let b = m(&[("n", Value::Int(1))]);
        assert_eq!(sort(&[s("n"), l(&[a.clone(), b.clone()])]).unwrap(), l(&[b, a]));
        assert_eq!(sort(&[]).unwrap_err().message, "wrong number of args: wanted 1 or 2, got 0");
        let nested = l(&[Value::Int(1), l(&[Value::Int(2), l(&[Value::Int(3)])])]);
        assert_eq!(flatten(std::slice::from_ref(&nested)).unwrap(), l(&[Value::Int(1), Value::Int(2), Value::Int(3)]));
        assert_eq!(
            flatten(&[Value::Int(1), nested]).unwrap(),
            l(&[Value::Int(1), Value::Int(2), l(&[Value::Int(3)])])
        );
    }

    #[test]
    fn pick_and_omit() {
        let mm = m(&[("a", Value::Int(1)), ("b", Value::Int(2)), ("c", Value::Int(3))]);
        assert_eq!(pick(&[s("a"), s("c"), mm.clone()]).unwrap(), m(&[("a", Value::Int(1)), ("c", Value::Int(3))]));
        assert_eq!(omit(&[s("a"), mm.clone()]).unwrap(), m(&[("b", Value::Int(2)), ("c", Value::Int(3))]));
        assert_eq!(pick(std::slice::from_ref(&mm)).unwrap_err().message, "wrong number of args: wanted 2 or more, got 1");
        assert_eq!(
            pick(&[s("a"), s("b")]).unwrap_err().message,
            "wrong map type: must be map[string]interface{}, got string"
        );
        assert_eq!(
            omit(&[Value::Int(1), mm]).unwrap_err().message,
            "wrong key type: must be string, got int (1)"
        );
    }

    #[test]
    fn json_path_like_kubernetes() {
        // cases from gomplate jsonpath_test.go
        let book = |a: &str, p: f64| m(&[("author", s(a)), ("price", Value::Float(p))]);
        let input = m(&[(
            "store",
            m(&[
                ("book", l(&[book("Nigel Rees", 8.95), book("Evelyn Waugh", 12.99)])),
                ("bicycle", m(&[("color", s("red")), ("price", Value::Float(19.95))])),
            ]),
        )]);
        let jp = |p: &str| json_path(&[s(p), input.clone()]);
        assert_eq!(jp(".store.bicycle.color").unwrap(), s("red"));
        assert_eq!(jp(".store.bicycle.price").unwrap(), Value::Float(19.95));
        assert_eq!(jp(".store.bogus").unwrap_err().message, "executing JSONPath failed: bogus is not found");
        assert!(jp("{.store.unclosed").unwrap_err().message.starts_with("couldn't parse JSONPath {.store.unclosed: "));
        assert_eq!(jp("$.store.book[*].author").unwrap(), l(&[s("Nigel Rees"), s("Evelyn Waugh")]));
        assert_eq!(jp(".store.book[1].author").unwrap(), s("Evelyn Waugh"));
        assert_eq!(jp(".store.book[-1].author").unwrap(), s("Evelyn Waugh"));
        assert_eq!(
            jp(".store.book[5]").unwrap_err().message,
            "executing JSONPath failed: array index out of bounds: index 5, length 2"
        );
        assert_eq!(jp(".store['bicycle'].color").unwrap(), s("red"));
        let dotted = m(&[("a.b", s("x"))]);
        assert_eq!(json_path(&[s(".a\\.b"), dotted]).unwrap(), s("x"));
        assert_eq!(jp(".store.*").unwrap().as_list().map(|l| l.len()), Some(2));
        let with_nil = m(&[("a", Value::Nil)]);
        assert_eq!(json_path(&[s(".a"), with_nil.clone()]).unwrap(), Value::Nil);
        assert_eq!(
            json_path(&[s(".a.b"), with_nil]).unwrap_err().message,
            "executing JSONPath failed: b is not found"
        );
    }
}
