//! The `strings` namespace (input last, converted with `conv.ToString`) and
//! the bare aliases that are Go's own `strings` functions with Go's argument
//! order (`contains S SUBSTR`, `hasPrefix`, `hasSuffix`, `split`, `splitN`,
//! `trim`), plus `quote`, `squote`, `indent`, `title` and friends.

use super::conv::to_string;
use super::{arity, arity_min, want_int, want_str};
use crate::error::FuncError;
use crate::value::Value;

fn str_list(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::str).collect())
}

/// Go's `strings.Split` (an empty separator splits into characters).
fn go_split_n_str(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let mut n = if n < 0 || n as usize > chars.len() { chars.len() } else { n as usize };
        if n == 0 {
            return Vec::new();
        }
        let mut out: Vec<String> = chars.iter().take(n - 1).map(|c| c.to_string()).collect();
        n -= 1;
        out.push(chars[n..].iter().collect());
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// `strings.Abbrev [OFFSET] WIDTH INPUT` (Apache commons `abbreviate`).
pub fn abbrev(args: &[Value]) -> Result<Value, FuncError> {
    if args.len() < 2 {
        return Err("abbrev requires a 'maxWidth' and 'input' argument".into());
    }
    let (offset, width, s) = if args.len() == 2 {
        (0, super::conv::to_int64(&args[0]), to_string(&args[1]))
    } else if args.len() == 3 {
        (super::conv::to_int64(&args[0]), super::conv::to_int64(&args[1]), to_string(&args[2]))
    } else {
        (0, 0, String::new())
    };
    if (s.len() as i64) <= width {
        return Ok(Value::str(s));
    }
    abbreviate_full(&s, offset, width).map(Value::str).map_err(FuncError::new)
}

/// goutils' `AbbreviateFull` (byte offsets).
fn abbreviate_full(s: &str, offset: i64, width: i64) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    if width < 4 {
        return Err("stringutils illegal argument: Minimum abbreviation width is 4".into());
    }
    let len = s.len() as i64;
    if len <= width {
        return Ok(s.to_string());
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    let cut = |a: i64, b: i64| String::from_utf8_lossy(&s.as_bytes()[a as usize..b as usize]).into_owned();
    if offset <= 4 {
        return Ok(cut(0, width - 3) + "...");
    }
    if width < 7 {
        return Err("stringutils illegal argument: Minimum abbreviation width with offset is 7".into());
    }
    if offset + width - 3 < len {
        let rest = cut(offset, len);
        return Ok(format!("...{}", abbreviate_full(&rest, 0, width - 3)?));
    }
    Ok(format!("...{}", cut(len - (width - 3), len)))
}

/// `strings.ReplaceAll OLD NEW INPUT` / `replaceAll`.
pub fn replace_all(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    let (old, new) = (want_str(&args[0])?, want_str(&args[1])?);
    let s = to_string(&args[2]);
    let matches = if old.is_empty() { s.chars().count() + 1 } else { s.matches(old).count() };
    let size = s.len() as u128 + matches as u128 * new.len() as u128;
    if size > crate::SIZE_LIMIT as u128 {
        return Err(over_limit(size));
    }
    Ok(Value::str(go_replace_all(&s, old, new)))
}

/// Go's `strings.ReplaceAll` (an empty OLD inserts NEW around every rune).
fn go_replace_all(s: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::from(new);
        for c in s.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    s.replace(old, new)
}

/// `strings.Contains SUBSTR INPUT`.
pub fn contains(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let sub = want_str(&args[0])?;
    Ok(Value::Bool(to_string(&args[1]).contains(sub)))
}

/// `contains S SUBSTR` (Go's `strings.Contains`).
pub fn go_contains(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(want_str(&args[0])?.contains(want_str(&args[1])?)))
}

/// `strings.HasPrefix PREFIX INPUT`.
pub fn has_prefix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let p = want_str(&args[0])?;
    Ok(Value::Bool(to_string(&args[1]).starts_with(p)))
}

/// `hasPrefix S PREFIX`.
pub fn go_has_prefix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(want_str(&args[0])?.starts_with(want_str(&args[1])?)))
}

/// `strings.HasSuffix SUFFIX INPUT`.
pub fn has_suffix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let p = want_str(&args[0])?;
    Ok(Value::Bool(to_string(&args[1]).ends_with(p)))
}

/// `hasSuffix S SUFFIX`.
pub fn go_has_suffix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(Value::Bool(want_str(&args[0])?.ends_with(want_str(&args[1])?)))
}

/// `strings.Repeat COUNT INPUT`.
pub fn repeat(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let count = want_int(&args[0])?;
    if count < 0 {
        return Err(FuncError::new(format!("negative count {count}")));
    }
    let s = to_string(&args[1]);
    let size = (s.len() as u128) * (count as u128);
    if count > 0 && size > i64::MAX as u128 {
        return Err(FuncError::new(format!("count {count} too long: causes overflow")));
    }
    if size > crate::SIZE_LIMIT as u128 {
        return Err(over_limit(size));
    }
    Ok(Value::str(s.repeat(count as usize)))
}

/// The error of a function whose result would be `size` bytes, over [`crate::SIZE_LIMIT`].
pub(crate) fn over_limit(size: u128) -> FuncError {
    FuncError::new(format!("the result would be {size} bytes, over the limit of {} MiB for a string", crate::SIZE_LIMIT >> 20))
}

/// `strings.Sort LIST` (deprecated): items as strings, sorted.
pub fn sort(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    match &args[0] {
        Value::List(l) => {
            let mut v: Vec<String> = l.iter().map(to_string).collect();
            v.sort();
            Ok(str_list(v))
        }
        other => Err(FuncError::new(format!(
            "wrong type for value; expected []string; got {}",
            other.type_name()
        ))),
    }
}

/// `strings.Split SEP INPUT`.
pub fn split(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let sep = want_str(&args[0])?;
    Ok(str_list(go_split_n_str(&to_string(&args[1]), sep, -1)))
}

/// `split S SEP`.
pub fn go_split(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    Ok(str_list(go_split_n_str(want_str(&args[0])?, want_str(&args[1])?, -1)))
}

/// `strings.SplitN SEP N INPUT`.
pub fn split_n(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    let sep = want_str(&args[0])?;
    let n = want_int(&args[1])?;
    Ok(str_list(go_split_n_str(&to_string(&args[2]), sep, n)))
}

/// `splitN S SEP N`.
pub fn go_split_n(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    Ok(str_list(go_split_n_str(want_str(&args[0])?, want_str(&args[1])?, want_int(&args[2])?)))
}

/// `strings.Trim CUTSET INPUT`.
pub fn trim(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let cut = want_str(&args[0])?;
    Ok(Value::str(to_string(&args[1]).trim_matches(|c| cut.contains(c))))
}

/// `trim S CUTSET`.
pub fn go_trim(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let cut = want_str(&args[1])?;
    Ok(Value::str(want_str(&args[0])?.trim_matches(|c| cut.contains(c))))
}

/// `strings.TrimPrefix PREFIX INPUT`.
pub fn trim_prefix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let p = want_str(&args[0])?;
    let s = to_string(&args[1]);
    Ok(Value::str(s.strip_prefix(p).unwrap_or(&s)))
}

/// `strings.TrimSuffix SUFFIX INPUT`.
pub fn trim_suffix(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let p = want_str(&args[0])?;
    let s = to_string(&args[1]);
    Ok(Value::str(s.strip_suffix(p).unwrap_or(&s)))
}

/// Word characters for title casing (an approximation of Unicode word
/// segmentation as `golang.org/x/text/cases` uses it).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || matches!(c, '\u{0300}'..='\u{036F}')
}

/// `strings.Title INPUT` / `title`: first letter of each word upper (title)
/// case, the rest lower case.
pub fn title(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let s = to_string(&args[0]);
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for (i, &c) in chars.iter().enumerate() {
        let word = is_word_char(c)
            || (in_word
                && matches!(c, '\'' | '.' | ':' | '·' | '\u{2019}')
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic()));
        if word && !in_word {
            push_title(&mut out, c);
        } else if word {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        in_word = word;
    }
    Ok(Value::str(out))
}

/// Unicode title case of one character (differs from upper case for the
/// Latin digraphs and `ß`).
fn push_title(out: &mut String, c: char) {
    match c {
        '\u{01C4}'..='\u{01C6}' => out.push('\u{01C5}'),
        '\u{01C7}'..='\u{01C9}' => out.push('\u{01C8}'),
        '\u{01CA}'..='\u{01CC}' => out.push('\u{01CB}'),
        '\u{01F1}'..='\u{01F3}' => out.push('\u{01F2}'),
        'ß' => out.push_str("Ss"),
        c => out.extend(c.to_uppercase()),
    }
}

/// `strings.ToUpper INPUT` / `toUpper`.
pub fn to_upper(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(to_string(&args[0]).to_uppercase()))
}

/// `strings.ToLower INPUT` / `toLower`.
pub fn to_lower(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(to_string(&args[0]).to_lowercase()))
}

/// `strings.TrimSpace INPUT` / `trimSpace`.
pub fn trim_space(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(to_string(&args[0]).trim()))
}

/// `strings.Trunc LENGTH INPUT`: the first LENGTH bytes.
pub fn trunc(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let n = want_int(&args[0])?;
    let s = to_string(&args[1]);
    if n < 0 || s.len() as i64 <= n {
        return Ok(Value::str(s));
    }
    // Go slices bytes; a cut inside a character leaves invalid UTF-8, shown here
    // as U+FFFD.
    Ok(Value::str(String::from_utf8_lossy(&s.as_bytes()[..n as usize]).into_owned()))
}

/// gomplate's `strings.Indent`: prefix every non-empty line start.
fn indent_str(width: i64, indent: &str, s: &str) -> Result<String, FuncError> {
    if width <= 0 || indent.contains('\n') {
        return Ok(s.to_string());
    }
    let lines = s.split('\n').filter(|l| !l.is_empty()).count() as u128;
    let size = s.len() as u128 + lines * width as u128 * indent.len() as u128;
    if size > crate::SIZE_LIMIT as u128 {
        return Err(over_limit(size));
    }
    let indent = indent.repeat(width as usize);
    let mut out = String::with_capacity(s.len() * 2);
    let mut bol = true;
    for c in s.chars() {
        if bol && c != '\n' {
            out.push_str(&indent);
        }
        out.push(c);
        bol = c == '\n';
    }
    Ok(out)
}

/// `strings.Indent [WIDTH] [INDENT] INPUT` / `indent`.
pub fn indent(args: &[Value]) -> Result<Value, FuncError> {
    if args.is_empty() {
        return Err("runtime error: index out of range [-1]".into());
    }
    let input = to_string(&args[args.len() - 1]);
    let invalid = || FuncError::new("indent: invalid arguments");
    let (width, ind) = match args.len() {
        2 => match &args[0] {
            Value::String(s) => (1, s.to_string()),
            Value::Int(w) => (*w, " ".to_string()),
            _ => return Err(invalid()),
        },
        3 => {
            let w = match &args[0] {
                Value::Int(w) => *w,
                _ => return Err(invalid()),
            };
            match &args[1] {
                Value::String(s) => (w, s.to_string()),
                _ => return Err(invalid()),
            }
        }
        _ => (1, " ".to_string()),
    };
    Ok(Value::str(indent_str(width, &ind, &input)?))
}

/// `strings.Quote INPUT` / `quote`: Go's `%q` of the string form.
pub fn quote(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(crate::strconv::go_quote(&to_string(&args[0]))))
}

/// `strings.ShellQuote INPUT` / `shellQuote`: POSIX single quoting (lists
/// quote each item, space separated).
pub fn shell_quote(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let q = |s: &str| format!("'{}'", s.replace('\'', "'\"'\"'"));
    Ok(Value::str(match &args[0] {
        Value::List(l) => l.iter().map(|v| q(&to_string(v))).collect::<Vec<_>>().join(" "),
        v => q(&to_string(v)),
    }))
}

/// `strings.Squote INPUT` / `squote`: single quotes, `'` doubled.
pub fn squote(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(format!("'{}'", to_string(&args[0]).replace('\'', "''"))))
}

/// `strings.RuneCount ARGS...`: characters in the concatenated arguments.
pub fn rune_count(args: &[Value]) -> Result<Value, FuncError> {
    arity_min(args, 0)?;
    Ok(Value::Int(args.iter().map(|a| to_string(a).chars().count() as i64).sum()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{s, strs as l};


    #[test]
    fn namespace_order_and_go_order() {
        assert_eq!(replace_all(&[s("."), s("-"), s("a.b.c")]).unwrap(), s("a-b-c"));
        assert_eq!(replace_all(&[s(""), s("-"), s("ab")]).unwrap(), s("-a-b-"));
        assert_eq!(contains(&[s("b"), s("abc")]).unwrap(), Value::Bool(true));
        assert_eq!(go_contains(&[s("abc"), s("b")]).unwrap(), Value::Bool(true));
        assert_eq!(go_contains(&[s("b"), s("abc")]).unwrap(), Value::Bool(false));
        assert_eq!(has_prefix(&[s("ab"), s("abc")]).unwrap(), Value::Bool(true));
        assert_eq!(go_has_prefix(&[s("abc"), s("ab")]).unwrap(), Value::Bool(true));
        assert_eq!(has_suffix(&[s("bc"), s("abc")]).unwrap(), Value::Bool(true));
        assert_eq!(contains(&[s("1"), Value::Int(123)]).unwrap(), Value::Bool(true));
        assert_eq!(
            contains(&[Value::Int(1), s("123")]).unwrap_err().message,
            "wrong type for value; expected string; got int"
        );
        assert_eq!(trim_suffix(&[s("-"), s("abc-")]).unwrap(), s("abc"));
        assert_eq!(trim_prefix(&[s("a"), s("aab")]).unwrap(), s("ab"));
        assert_eq!(trim(&[s(" -"), s("- a -")]).unwrap(), s("a"));
        assert_eq!(go_trim(&[s("xxaxx"), s("x")]).unwrap(), s("a"));
        assert_eq!(trim_space(&[s("\t a b \n")]).unwrap(), s("a b"));
    }

    #[test]
    fn split_like_go() {
        assert_eq!(split(&[s(","), s("a,b,,c")]).unwrap(), l(&["a", "b", "", "c"]));
        assert_eq!(split(&[s(","), s("")]).unwrap(), l(&[""]));
        assert_eq!(split(&[s(""), s("abc")]).unwrap(), l(&["a", "b", "c"]));
        assert_eq!(go_split(&[s("a b"), s(" ")]).unwrap(), l(&["a", "b"]));
        assert_eq!(split_n(&[s(","), Value::Int(2), s("a,b,c")]).unwrap(), l(&["a", "b,c"]));
        assert_eq!(split_n(&[s(","), Value::Int(0), s("a,b,c")]).unwrap(), l(&[]));
        assert_eq!(go_split_n(&[s("abc"), s(""), Value::Int(2)]).unwrap(), l(&["a", "bc"]));
    }

    #[test]
    fn trunc_and_repeat() {
        assert_eq!(trunc(&[Value::Int(8), s("0123456789abcdef")]).unwrap(), s("01234567"));
        assert_eq!(trunc(&[Value::Int(63), s("short")]).unwrap(), s("short"));
        assert_eq!(trunc(&[Value::Int(-1), s("x")]).unwrap(), s("x"));
        // strings_test.go TestTrunc
        assert_eq!(trunc(&[Value::Int(5), s("")]).unwrap(), s(""));
        assert_eq!(trunc(&[Value::Int(0), Value::Nil]).unwrap(), s(""));
        assert_eq!(trunc(&[Value::Int(3), Value::Int(123456789)]).unwrap(), s("123"));
        assert_eq!(repeat(&[Value::Int(3), s("ab")]).unwrap(), s("ababab"));
        assert_eq!(repeat(&[Value::Int(-1), s("ab")]).unwrap_err().message, "negative count -1");
    }

    #[test]
    fn indent_like_gomplate() {
        // gomplate strings_test.go TestIndent
        assert_eq!(indent(&[s("   "), s("hello\nworld")]).unwrap(), s("   hello\n   world"));
        assert_eq!(indent(&[Value::Int(2), s("")]).unwrap(), s(""));
        assert_eq!(indent(&[Value::Int(2), s("\n\nfoo\n")]).unwrap(), s("\n\n  foo\n"));
        assert_eq!(indent(&[Value::Int(2), s("-"), s("a\nb")]).unwrap(), s("--a\n--b"));
        assert_eq!(indent(&[s("a\nb")]).unwrap(), s(" a\n b"));
        assert_eq!(indent(&[Value::Int(3), s("foo\nbar\nbaz")]).unwrap(), s("   foo\n   bar\n   baz"));
        assert_eq!(indent(&[Value::Int(3), s("-"), s("foo\nbar\nbaz")]).unwrap(), s("---foo\n---bar\n---baz"));
        assert_eq!(indent(&[Value::Int(0), s("a")]).unwrap(), s("a"));
        assert_eq!(indent(&[s("\n"), s("a")]).unwrap(), s("a"));
        assert_eq!(indent(&[Value::Bool(true), s("a")]).unwrap_err().message, "indent: invalid arguments");
    }

    #[test]
    fn quoting() {
        assert_eq!(squote(&[s("it's")]).unwrap(), s("'it''s'"));
        assert_eq!(squote(&[Value::Int(42)]).unwrap(), s("'42'"));
        assert_eq!(squote(&[Value::Nil]).unwrap(), s("'nil'"));
        assert_eq!(squote(&[Value::Float(123.4)]).unwrap(), s("'123.4'"));
        assert_eq!(squote(&[s("")]).unwrap(), s("''"));
        assert_eq!(shell_quote(&[s("it's")]).unwrap(), s("'it'\"'\"'s'"));
        assert_eq!(shell_quote(&[l(&["a", "b c"])]).unwrap(), s("'a' 'b c'"));
    }

    #[test]
    fn quote_uses_go_q() {
        assert_eq!(quote(&[s("a\"b")]).unwrap(), s("\"a\\\"b\""));
        assert_eq!(quote(&[Value::Int(1)]).unwrap(), s("\"1\""));
        assert_eq!(quote(&[Value::Missing]).unwrap(), s("\"nil\""));
    }

    #[test]
    fn case_functions() {
        assert_eq!(title(&[s("hello, world!")]).unwrap(), s("Hello, World!"));
        assert_eq!(title(&[s("hELLO wORLD")]).unwrap(), s("Hello World"));
        assert_eq!(title(&[s("don't stop")]).unwrap(), s("Don't Stop"));
        // strings_test.go TestTitle
        assert_eq!(title(&[s("")]).unwrap(), s(""));
        assert_eq!(title(&[s("ǉoo ǆar")]).unwrap(), s("ǈoo ǅar"));
        assert_eq!(title(&[s("foo bar᳇baz")]).unwrap(), s("Foo Bar᳇Baz"));
        assert_eq!(title(&[s("foo,bar&baz")]).unwrap(), s("Foo,Bar&Baz"));
        assert_eq!(to_upper(&[s("abc")]).unwrap(), s("ABC"));
        assert_eq!(to_lower(&[s("ABC")]).unwrap(), s("abc"));
        assert_eq!(to_lower(&[Value::Bool(true)]).unwrap(), s("true"));
    }

    #[test]
    fn abbrev_like_goutils() {
        // gomplate strings_test.go TestAbbrev
        assert_eq!(abbrev(&[Value::Int(4), s("foo")]).unwrap(), s("foo"));
        assert_eq!(abbrev(&[Value::Int(3), s("foo")]).unwrap(), s("foo"));
        assert!(abbrev(&[s("foo")]).is_err());
        assert_eq!(abbrev(&[Value::Int(2), Value::Int(6), s("foobar")]).unwrap(), s("foobar"));
        assert_eq!(abbrev(&[Value::Int(6), Value::Int(9), s("foobarbazquxquux")]).unwrap(), s("...baz..."));
        assert_eq!(abbrev(&[Value::Int(4), s("foobar")]).unwrap(), s("f..."));
        assert_eq!(abbrev(&[Value::Int(6), s("foobar")]).unwrap(), s("foobar"));
        assert_eq!(abbrev(&[Value::Int(3), s("foobar")]).unwrap_err().message, "stringutils illegal argument: Minimum abbreviation width is 4");
        assert_eq!(abbrev(&[Value::Int(5), Value::Int(10), s("abcdefghijklmno")]).unwrap(), s("...fghi..."));
        assert_eq!(abbrev(&[Value::Int(12), Value::Int(10), s("abcdefghijklmno")]).unwrap(), s("...ijklmno"));
    }
}
