//! The `path` and `filepath` namespaces with Go's `path` package semantics
//! (slash-separated; `filepath` behaves the same on unix). Inputs go through
//! `conv.ToString`.

use super::arity;
use super::conv::to_string;
use crate::error::FuncError;
use crate::value::Value;

/// Go's `path.Clean`: the shortest equivalent path.
pub fn clean_str(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
fn base_str(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        return "/".into();
    }
    p.rsplit('/').next().unwrap_or(p).to_string()
}

/// Go's `path.Split`: directory (with its trailing slash) and file.
fn split_str(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

/// Go's `path.Ext`.
fn ext_str(p: &str) -> &str {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return &p[i..];
        }
    }
    ""
}

/// `path.Base PATH`.
pub(crate) fn base(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(base_str(&to_string(&args[0]))))
}

/// `path.Clean PATH`.
pub(crate) fn clean(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(clean_str(&to_string(&args[0]))))
}

/// `path.Dir PATH`.
pub(crate) fn dir(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let p = to_string(&args[0]);
    Ok(Value::str(clean_str(split_str(&p).0)))
}

/// `path.Ext PATH`.
pub(crate) fn ext(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(ext_str(&to_string(&args[0]))))
}

/// `path.IsAbs PATH`.
pub(crate) fn is_abs(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::Bool(to_string(&args[0]).starts_with('/')))
}

/// `path.Join ELEMS...`: non-empty elements joined and cleaned ("" if none).
pub(crate) fn join(args: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = args.iter().map(to_string).filter(|s| !s.is_empty()).collect();
    if parts.is_empty() {
        return Ok(Value::str(""));
    }
    Ok(Value::str(clean_str(&parts.join("/"))))
}

/// `path.Split PATH`: `[dir, file]`.
pub(crate) fn split(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let p = to_string(&args[0]);
    let (d, f) = split_str(&p);
    Ok(Value::list(vec![Value::str(d), Value::str(f)]))
}

/// `filepath.ToSlash` / `filepath.FromSlash` (no-ops on unix).
pub(crate) fn identity(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(to_string(&args[0])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::s;


    #[test]
    fn clean_like_go() {
        // cases from Go's path_test.go cleantests
        for (i, o) in [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("a/b/c/", "a/b/c"),
            ("./", "."),
            ("../", ".."),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
        ] {
            assert_eq!(clean_str(i), o, "{i}");
        }
    }

    #[test]
    fn other_path_functions() {
        assert_eq!(join(&[s("a"), s("b/"), s(""), s("../c")]).unwrap(), s("a/c"));
        assert_eq!(join(&[s(""), s("")]).unwrap(), s(""));
        assert_eq!(join(&[s("/"), s("x")]).unwrap(), s("/x"));
        assert_eq!(join(&[s("a"), Value::Int(1), Value::Nil]).unwrap(), s("a/1/nil"));
        assert_eq!(base(&[s("/a/b/")]).unwrap(), s("b"));
        assert_eq!(base(&[s("")]).unwrap(), s("."));
        assert_eq!(base(&[s("///")]).unwrap(), s("/"));
        assert_eq!(dir(&[s("/a/b/c")]).unwrap(), s("/a/b"));
        assert_eq!(dir(&[s("c")]).unwrap(), s("."));
        assert_eq!(dir(&[s("/")]).unwrap(), s("/"));
        assert_eq!(ext(&[s("a/b.tar.gz")]).unwrap(), s(".gz"));
        assert_eq!(ext(&[s("a.b/c")]).unwrap(), s(""));
        assert_eq!(split(&[s("a/b/c.txt")]).unwrap(), Value::list(vec![s("a/b/"), s("c.txt")]));
        assert_eq!(is_abs(&[s("/x")]).unwrap(), Value::Bool(true));
    }
}
