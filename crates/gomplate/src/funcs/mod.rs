//! The function library: Go's `text/template` builtins and gomplate's namespaces.
//! Crate-internal but for two helpers callers share with the engine:
//! [`coll::merge_values`] (gomplate's merge of values files) and
//! [`path::clean_str`] (Go's `path.Clean`).
//!
//! Every function here is pure: it sees only its arguments. The few functions
//! that need the executing engine or the host (`tmpl.Exec`, `tpl`, `file.Write`,
//! `getenv`, `and`/`or` short-circuit, `template`) are implemented in
//! `exec` and never reach `lookup`.
//!
//! Arguments arrive as Go would pass them to a `...interface{}` function:
//! a missing value (`Value::Missing`) is the same as `Value::Nil`.
//!
//! Errors come in two flavours, as in Go:
//! - errors the *function* returns (the executor wraps them as
//!   `error calling NAME: MESSAGE`);
//! - argument errors that Go's `text/template` raises *before* calling: their
//!   messages start with `wrong number of args for `, `wrong type for value; `
//!   or `invalid value; expected ` and Go does not wrap them.

use crate::error::FuncError;
use crate::value::{Map, Value};

pub(crate) mod base64;
pub(crate) mod builtin;
pub mod coll;
pub(crate) mod conv;
pub(crate) mod crypto;
pub(crate) mod data;
pub mod path;
pub(crate) mod regexp;
pub(crate) mod strings;
pub(crate) mod test;

/// A template function: arguments in, value or error out.
pub(crate) type Func = fn(&[Value]) -> Result<Value, FuncError>;

/// Placeholder for the called name in arity errors; [`lookup`]'s wrappers
/// replace it with the name Go would report (`Merge` for `coll.Merge`, `merge`
/// for the alias).
const NAME: &str = "\u{0}NAME\u{0}";

/// Replaces the [`NAME`] placeholder with the name Go reports for `full`.
fn rename(mut e: FuncError, full: &str) -> FuncError {
    if e.message.contains(NAME) {
        let short = full.rsplit('.').next().unwrap_or(full);
        e.message = e.message.replace(NAME, short);
    }
    e
}

macro_rules! table {
    ($name:expr; $($key:literal => $f:path),* $(,)?) => {
        match $name {
            $($key => Some({
                fn wrapped(args: &[Value]) -> Result<Value, FuncError> {
                    $f(args).map_err(|e| rename(e, $key))
                }
                wrapped as Func
            }),)*
            _ => None,
        }
    };
}

/// Finds a function by its full name, e.g. `quote`, `coll.Merge`, `conv.ToBool`.
/// Aliases (`toJSON` for `data.ToJSON`, ...) resolve to the same function.
///
/// As in gomplate, `slice` is `coll.Slice` (gomplate's function map overrides
/// Go's builtin `slice`).
pub(crate) fn lookup(name: &str) -> Option<Func> {
    table!(name;
        // text/template builtins
        "not" => builtin::not,
        "len" => builtin::len,
        "index" => builtin::index,
        "print" => builtin::print,
        "println" => builtin::println,
        "printf" => builtin::printf,
        "eq" => builtin::eq,
        "ne" => builtin::ne,
        "lt" => builtin::lt,
        "le" => builtin::le,
        "gt" => builtin::gt,
        "ge" => builtin::ge,
        "html" => builtin::html,
        "js" => builtin::js,
        "urlquery" => builtin::urlquery,
        // coll
        "coll.Slice" => coll::slice,
        "slice" => coll::slice,
        "coll.Has" => coll::has,
        "has" => coll::has,
        "coll.Dict" => coll::dict,
        "dict" => coll::dict,
        "coll.Keys" => coll::keys,
        "keys" => coll::keys,
        "coll.Values" => coll::values,
        "values" => coll::values,
        "coll.Append" => coll::append,
        "append" => coll::append,
        "coll.Prepend" => coll::prepend,
        "prepend" => coll::prepend,
        "coll.Uniq" => coll::uniq,
        "uniq" => coll::uniq,
        "coll.Reverse" => coll::reverse,
        "reverse" => coll::reverse,
        "coll.Merge" => coll::merge,
        "merge" => coll::merge,
        "coll.Sort" => coll::sort,
        "sort" => coll::sort,
        "coll.JSONPath" => coll::json_path,
        "jsonpath" => coll::json_path,
        "coll.Flatten" => coll::flatten,
        "flatten" => coll::flatten,
        "coll.Pick" => coll::pick,
        "coll.Omit" => coll::omit,
        // conv
        "conv.Bool" => conv::bool_,
        "bool" => conv::bool_,
        "conv.ToBool" => conv::to_bool_fn,
        "conv.ToBools" => conv::to_bools,
        "conv.Slice" => coll::slice,
        "conv.Join" => conv::join,
        "join" => conv::join,
        "conv.Has" => coll::has,
        "conv.ParseInt" => conv::parse_int_fn,
        "conv.ParseFloat" => conv::parse_float_fn,
        "conv.Atoi" => conv::atoi,
        "conv.ToInt64" => conv::to_int64_fn,
        "conv.ToInt" => conv::to_int64_fn,
        "conv.ToInt64s" => conv::to_int64s,
        "conv.ToInts" => conv::to_int64s,
        "conv.ToFloat64" => conv::to_float64_fn,
        "conv.ToFloat64s" => conv::to_float64s,
        "conv.ToString" => conv::to_string_fn,
        "conv.ToStrings" => conv::to_strings,
        "conv.Default" => conv::default,
        "default" => conv::default,
        "conv.Dict" => coll::dict,
        // data
        "data.JSON" => data::json,
        "json" => data::json,
        "data.JSONArray" => data::json_array,
        "jsonArray" => data::json_array,
        "data.YAML" => data::yaml,
        "yaml" => data::yaml,
        "data.YAMLArray" => data::yaml_array,
        "yamlArray" => data::yaml_array,
        "data.ToJSON" => data::to_json,
        "toJSON" => data::to_json,
        "data.ToJSONPretty" => data::to_json_pretty,
        "toJSONPretty" => data::to_json_pretty,
        "data.ToYAML" => data::to_yaml,
        "toYAML" => data::to_yaml,
        // strings
        "strings.Abbrev" => strings::abbrev,
        "strings.ReplaceAll" => strings::replace_all,
        "replaceAll" => strings::replace_all,
        "strings.Contains" => strings::contains,
        "contains" => strings::go_contains,
        "strings.HasPrefix" => strings::has_prefix,
        "hasPrefix" => strings::go_has_prefix,
        "strings.HasSuffix" => strings::has_suffix,
        "hasSuffix" => strings::go_has_suffix,
        "strings.Repeat" => strings::repeat,
        "strings.Sort" => strings::sort,
        "strings.Split" => strings::split,
        "split" => strings::go_split,
        "strings.SplitN" => strings::split_n,
        "splitN" => strings::go_split_n,
        "strings.Trim" => strings::trim,
        "trim" => strings::go_trim,
        "strings.TrimPrefix" => strings::trim_prefix,
        "strings.TrimSuffix" => strings::trim_suffix,
        "strings.Title" => strings::title,
        "title" => strings::title,
        "strings.ToUpper" => strings::to_upper,
        "toUpper" => strings::to_upper,
        "strings.ToLower" => strings::to_lower,
        "toLower" => strings::to_lower,
        "strings.TrimSpace" => strings::trim_space,
        "trimSpace" => strings::trim_space,
        "strings.Trunc" => strings::trunc,
        "strings.Indent" => strings::indent,
        "indent" => strings::indent,
        "strings.Quote" => strings::quote,
        "quote" => strings::quote,
        "strings.ShellQuote" => strings::shell_quote,
        "shellQuote" => strings::shell_quote,
        "strings.Squote" => strings::squote,
        "squote" => strings::squote,
        "strings.RuneCount" => strings::rune_count,
        // path (and filepath, identical on unix)
        "path.Base" => path::base,
        "path.Clean" => path::clean,
        "path.Dir" => path::dir,
        "path.Ext" => path::ext,
        "path.IsAbs" => path::is_abs,
        "path.Join" => path::join,
        "path.Split" => path::split,
        "filepath.Base" => path::base,
        "filepath.Clean" => path::clean,
        "filepath.Dir" => path::dir,
        "filepath.Ext" => path::ext,
        "filepath.IsAbs" => path::is_abs,
        "filepath.Join" => path::join,
        "filepath.Split" => path::split,
        "filepath.ToSlash" => path::identity,
        "filepath.FromSlash" => path::identity,
        // crypto
        "crypto.SHA1" => crypto::sha1,
        "crypto.SHA224" => crypto::sha224,
        "crypto.SHA256" => crypto::sha256,
        "crypto.SHA384" => crypto::sha384,
        "crypto.SHA512" => crypto::sha512,
        // base64
        "base64.Encode" => base64::encode,
        "base64.Decode" => base64::decode,
        // test
        "test.Assert" => test::assert,
        "assert" => test::assert,
        "test.Fail" => test::fail,
        "fail" => test::fail,
        "test.Required" => test::required,
        "required" => test::required,
        "test.Ternary" => test::ternary,
        "ternary" => test::ternary,
        "test.Kind" => test::kind,
        "kind" => test::kind,
        "test.IsKind" => test::is_kind,
        "isKind" => test::is_kind,
        // regexp
        "regexp.Find" => regexp::find,
        "regexp.FindAll" => regexp::find_all,
        "regexp.Match" => regexp::is_match,
        "regexp.QuoteMeta" => regexp::quote_meta,
        "regexp.Replace" => regexp::replace,
        "regexp.ReplaceLiteral" => regexp::replace_literal,
        "regexp.Split" => regexp::split,
    )
}

/// True when a template may call `name`: Go's builtins and every name in
/// gomplate 3.11's function map (namespaces and top-level aliases), also those
/// this crate does not implement, which fail when they run. Go checks this
/// while parsing, so an unknown name is an error even in a branch never run.
pub(crate) fn is_defined(name: &str) -> bool {
    is_namespace(name)
        || matches!(
            name,
            // text/template builtins (gomplate's `slice` replaces Go's)
            "and" | "call" | "eq" | "ge" | "gt" | "html" | "index" | "js" | "le" | "len" | "lt" | "ne" | "not"
                | "or" | "print" | "printf" | "println" | "slice" | "urlquery"
                // gomplate 3.11's other top-level names
                | "add" | "append" | "assert" | "aws" | "bool" | "contains" | "csv" | "csvByColumn"
                | "csvByRow" | "datasource" | "datasourceExists" | "datasourceReachable" | "default"
                | "defineDatasource" | "dict" | "div" | "ds" | "ec2dynamic" | "ec2meta" | "ec2region"
                | "ec2tag" | "ec2tags" | "fail" | "flatten" | "gcp" | "getenv" | "has" | "hasPrefix"
                | "hasSuffix" | "include" | "indent" | "isKind" | "join" | "json" | "jsonArray" | "jsonpath"
                | "keys" | "kind" | "listDatasources" | "merge" | "mul" | "pow" | "prepend" | "quote" | "rem"
                | "replaceAll" | "required" | "reverse" | "seq" | "shellQuote" | "sort" | "split" | "splitN"
                | "squote" | "sub" | "ternary" | "title" | "toCSV" | "toJSON" | "toJSONPretty" | "toLower"
                | "toTOML" | "toUpper" | "toYAML" | "toml" | "tpl" | "trim" | "trimSpace" | "uniq"
                | "urlParse" | "values" | "yaml" | "yamlArray"
        )
}

/// True when `name` is a gomplate namespace (`coll`, `conv`, `tmpl`, ...), so
/// that `ns.Func` is a function call rather than a field access.
pub(crate) fn is_namespace(name: &str) -> bool {
    matches!(
        name,
        "base64" | "coll" | "conv" | "crypto" | "data" | "env" | "file" | "filepath" | "math"
            | "path" | "regexp" | "strings" | "test" | "time" | "tmpl" | "uuid" | "random"
            | "sockaddr" | "net" | "semver" | "aws" | "gcp"
    )
}

// ---- argument checking shared by the namespaces ----

/// Go's arity error for a function with exactly `want` parameters.
pub(crate) fn arity(args: &[Value], want: usize) -> Result<(), FuncError> {
    if args.len() != want {
        return Err(FuncError::new(format!("wrong number of args for {NAME}: want {want} got {}", args.len())));
    }
    Ok(())
}

/// Go's arity error for a variadic function with `min` fixed parameters.
pub(crate) fn arity_min(args: &[Value], min: usize) -> Result<(), FuncError> {
    if args.len() < min {
        return Err(FuncError::new(format!(
            "wrong number of args for {NAME}: want at least {min} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// `text/template`'s error when an argument does not fit a typed parameter.
fn wrong_type(expected: &str, v: &Value) -> FuncError {
    match v {
        Value::Missing => FuncError::new(format!("invalid value; expected {expected}")),
        Value::Nil => FuncError::new(format!("wrong type for value; expected {expected}; got interface {{}}")),
        _ => FuncError::new(format!("wrong type for value; expected {expected}; got {}", v.type_name())),
    }
}

/// An argument for a Go `string` parameter.
pub(crate) fn want_str(v: &Value) -> Result<&str, FuncError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(wrong_type("string", v)),
    }
}

/// An argument for a Go `int` parameter.
pub(crate) fn want_int(v: &Value) -> Result<i64, FuncError> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(wrong_type("int", v)),
    }
}

/// An argument for a Go `map[string]interface{}` parameter (a missing value
/// becomes a nil map, which reads as empty).
pub(crate) fn want_map(v: &Value) -> Result<Map, FuncError> {
    match v {
        Value::Map(m) => Ok((**m).clone()),
        Value::Missing => Ok(Map::new()),
        _ => Err(wrong_type("map[string]interface {}", v)),
    }
}

/// gomplate's `iconv.InterfaceSlice`: the items of a list (its error text names
/// `reflect.Value`, because gomplate formats the reflected value's type).
pub(crate) fn interface_slice(v: &Value) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::List(l) => Ok((**l).clone()),
        _ => Err(FuncError::new("expected an array or slice, but got a reflect.Value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        for name in ["quote", "coll.Merge", "merge", "toJSON", "data.ToJSON", "slice", "fail", "isKind"] {
            assert!(lookup(name).is_some(), "{name}");
        }
        assert!(lookup("tmpl.Exec").is_none());
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn arity_errors_name_the_called_function() {
        let e = lookup("coll.Merge").unwrap()(&[]).unwrap_err();
        assert_eq!(e.message, "wrong number of args for Merge: want at least 1 got 0");
        let e = lookup("merge").unwrap()(&[]).unwrap_err();
        assert_eq!(e.message, "wrong number of args for merge: want at least 1 got 0");
        let e = lookup("conv.ToBool").unwrap()(&[]).unwrap_err();
        assert_eq!(e.message, "wrong number of args for ToBool: want 1 got 0");
    }
}
