//! The `regexp` namespace on the `regex` crate, adjusted towards Go's RE2:
//! `\d \w \s` (and negations) are ASCII-only as in Go; `$1`/`${name}`
//! replacement templates behave alike. Known gaps: `\Q...\E`, and compile
//! error texts differ from Go's after the `error parsing regexp: ` prefix.

use regex::Regex;

use super::conv::{to_int64, to_string};
use super::arity;
use crate::error::FuncError;
use crate::value::Value;

/// Rewrites Go's ASCII Perl classes into explicit classes.
fn go_to_rust(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str("[\\t\\n\\f\\r ]"),
            Some('S') => out.push_str("[^\\t\\n\\f\\r ]"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `regexp.Compile`, with Go's error prefix.
fn compile(expr: &str) -> Result<Regex, FuncError> {
    Regex::new(&go_to_rust(expr)).map_err(|e| {
        let detail = match &e {
            regex::Error::Syntax(s) => s.lines().last().unwrap_or("").trim().trim_start_matches("error: ").to_string(),
            other => other.to_string(),
        };
        FuncError::new(format!("error parsing regexp: {detail}: `{expr}`"))
    })
}

/// `regexp.MustCompile`: Go panics, and the template reports the panic text.
fn must_compile(expr: &str) -> Result<Regex, FuncError> {
    compile(expr).map_err(|e| {
        FuncError::new(format!("regexp: Compile({}): {}", crate::strconv::go_quote(expr), e.message))
    })
}

/// `regexp.Find RE INPUT`: the first match or "".
pub fn find(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let re = compile(&to_string(&args[0]))?;
    let input = to_string(&args[1]);
    Ok(Value::str(re.find(&input).map(|m| m.as_str()).unwrap_or("")))
}

/// `regexp.FindAll RE [N] INPUT`: up to N matches (all when N < 0).
pub fn find_all(args: &[Value]) -> Result<Value, FuncError> {
    let (re, n, input) = match args {
        [re, input] => (re, -1, input),
        [re, n, input] => (re, to_int64(n), input),
        _ => return Err(FuncError::new(format!("wrong number of args: want 2 or 3, got {}", args.len()))),
    };
    let re = compile(&to_string(re))?;
    let input = to_string(input);
    let limit = if n < 0 { usize::MAX } else { n as usize };
    Ok(Value::list(re.find_iter(&input).take(limit).map(|m| Value::str(m.as_str())).collect()))
}

/// `regexp.Match RE INPUT`.
pub fn is_match(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let re = must_compile(&to_string(&args[0]))?;
    Ok(Value::Bool(re.is_match(&to_string(&args[1]))))
}

/// Go's `regexp.QuoteMeta`.
pub fn quote_meta_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `regexp.QuoteMeta INPUT`.
pub fn quote_meta(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(quote_meta_str(&to_string(&args[0]))))
}

/// `regexp.Replace RE REPLACEMENT INPUT` (`$1`, `${name}` expand).
pub fn replace(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    let re = must_compile(&to_string(&args[0]))?;
    let rep = to_string(&args[1]);
    let input = to_string(&args[2]);
    check_replacement_size(&re, &input, &rep, true)?;
    Ok(Value::str(re.replace_all(&input, rep.as_str()).into_owned()))
}

/// `regexp.ReplaceLiteral RE REPLACEMENT INPUT`.
pub fn replace_literal(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    let re = compile(&to_string(&args[0]))?;
    let rep = to_string(&args[1]);
    let input = to_string(&args[2]);
    check_replacement_size(&re, &input, &rep, false)?;
    Ok(Value::str(re.replace_all(&input, regex::NoExpand(&rep)).into_owned()))
}

/// Fails before replacing when the result could exceed [`crate::SIZE_LIMIT`]:
/// each match adds at most the replacement, whose `$` references (when
/// `expand`) each add at most the longest match (a group lies inside it).
fn check_replacement_size(re: &regex::Regex, input: &str, rep: &str, expand: bool) -> Result<(), FuncError> {
    if rep.is_empty() {
        return Ok(());
    }
    let (mut matches, mut longest) = (0u128, 0u128);
    for m in re.find_iter(input) {
        matches += 1;
        longest = longest.max(m.len() as u128);
    }
    let refs = if expand { rep.matches('$').count() as u128 } else { 0 };
    let size = input.len() as u128 + matches * (rep.len() as u128 + refs * longest);
    if size > crate::SIZE_LIMIT as u128 {
        return Err(super::strings::over_limit(size));
    }
    Ok(())
}

/// `regexp.Split RE [N] INPUT` with Go's `Regexp.Split` rules.
pub fn split(args: &[Value]) -> Result<Value, FuncError> {
    let (re_src, n, input) = match args {
        [re, input] => (to_string(re), -1, input),
        [re, n, input] => (to_string(re), to_int64(n), input),
        _ => return Err(FuncError::new(format!("wrong number of args: want 2 or 3, got {}", args.len()))),
    };
    let re = compile(&re_src)?;
    let s = to_string(input);
    if n == 0 {
        return Ok(Value::list(Vec::new()));
    }
    if !re_src.is_empty() && s.is_empty() {
        return Ok(Value::list(vec![Value::str("")]));
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut parts: Vec<Value> = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(&s).take(limit) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(Value::str(&s[beg..end]));
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(Value::str(&s[beg..]));
    }
    Ok(Value::list(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{s, strs as l};


    #[test]
    fn match_and_find() {
        assert_eq!(
            is_match(&[s("^.*s3.*amazonaws.com.*$"), s("s3.us-east-1.amazonaws.com")]).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(is_match(&[s("^.*s3.*amazonaws.com.*$"), s("minio.local")]).unwrap(), Value::Bool(false));
        assert_eq!(is_match(&[s("\\d"), s("٣")]).unwrap(), Value::Bool(false));
        assert_eq!(find(&[s("[a-z]+"), s("123abc456")]).unwrap(), s("abc"));
        assert_eq!(find(&[s("x"), s("abc")]).unwrap(), s(""));
        assert_eq!(find_all(&[s("[a-z]"), s("a1b2c")]).unwrap(), l(&["a", "b", "c"]));
        assert_eq!(find_all(&[s("[a-z]"), Value::Int(2), s("a1b2c")]).unwrap(), l(&["a", "b"]));
        assert!(find(&[s("("), s("x")]).unwrap_err().message.starts_with("error parsing regexp: "));
        assert!(is_match(&[s("("), s("x")]).unwrap_err().message.starts_with("regexp: Compile(\"(\"): error parsing regexp: "));
    }

    #[test]
    fn replace_and_split() {
        // gomplate regexp_test.go TestReplace
        assert_eq!(replace(&[s("a(x*)b"), s("${1}W"), s("-ab-axxb-")]).unwrap(), s("-W-xxW-"));
        assert_eq!(replace(&[s("a(x*)b"), s("$1W"), s("-ab-axxb-")]).unwrap(), s("---"));
        assert_eq!(
            replace(&[s("(?P<first>[a-zA-Z]+) (?P<last>[a-zA-Z]+)"), s("${last}, ${first}"), s("Alan Turing")]).unwrap(),
            s("Turing, Alan")
        );
        assert_eq!(replace_literal(&[s("a(x*)b"), s("$1"), s("-ab-")]).unwrap(), s("-$1-"));
        assert_eq!(quote_meta(&[s("foo{(\\")]).unwrap(), s("foo\\{\\(\\\\"));
        // Go's regexp Split examples
        assert_eq!(split(&[s("a"), s("banana")]).unwrap(), l(&["b", "n", "n", ""]));
        assert_eq!(split(&[s("a"), Value::Int(0), s("banana")]).unwrap(), l(&[]));
        assert_eq!(split(&[s("a"), Value::Int(1), s("banana")]).unwrap(), l(&["banana"]));
        assert_eq!(split(&[s("a"), Value::Int(2), s("banana")]).unwrap(), l(&["b", "nana"]));
        assert_eq!(split(&[s("z+"), s("pizza")]).unwrap(), l(&["pi", "a"]));
    }
}
