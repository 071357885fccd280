//! The `data` namespace's in-template codecs: `data.JSON`/`json`,
//! `data.JSONArray`/`jsonArray`, `data.YAML`/`yaml`, `data.YAMLArray`/
//! `yamlArray` (all decoded with the YAML decoder, as gomplate does, into a
//! map or a list — anything else is yaml.v3's unmarshal type error), and
//! `data.ToJSON`/`toJSON`, `data.ToJSONPretty`/`toJSONPretty`,
//! `data.ToYAML`/`toYAML`.

use super::conv::to_string;
use super::{arity, want_str};
use crate::error::FuncError;
use crate::value::{Map, Value};

/// What the Go side decodes into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Map,
    List,
}

impl Target {
    fn go_type(self) -> &'static str {
        match self {
            Target::Map => "map[string]interface {}",
            Target::List => "[]interface {}",
        }
    }
}

/// True when the text holds at least one YAML document (not just blank lines
/// and comments): with none, Go's decoder leaves its target untouched.
fn has_document(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    })
}

/// The first content line of the document (1-based) and its text, for the
/// position and value yaml.v3 reports in type errors.
fn first_content_line(text: &str) -> (usize, String) {
    for (i, l) in text.lines().enumerate() {
        let mut t = l.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with('%') {
            continue;
        }
        if t == "---" {
            continue;
        }
        if let Some(rest) = t.strip_prefix("--- ") {
            t = rest.trim();
        }
        let t = match t.find(" #") {
            Some(p) => t[..p].trim_end(),
            None => t,
        };
        return (i + 1, t.to_string());
    }
    (1, String::new())
}

/// yaml.v3's `TypeError` text for a document of the wrong kind.
fn type_error(text: &str, got: &Value, target: Target) -> String {
    let (line, raw) = first_content_line(text);
    let (tag, value) = match got {
        Value::Map(_) => ("!!map", None),
        Value::List(_) => ("!!seq", None),
        Value::String(s) => ("!!str", Some(s.to_string())),
        Value::Int(_) => ("!!int", Some(raw)),
        Value::Float(_) => ("!!float", Some(raw)),
        Value::Bool(_) => ("!!bool", Some(raw)),
        Value::Nil | Value::Missing => ("!!null", Some(raw)),
    };
    let value = match value {
        None => String::new(),
        Some(v) if v.len() > 10 => {
            let mut cut = 7;
            while !v.is_char_boundary(cut) {
                cut -= 1;
            }
            format!(" `{}...`", &v[..cut])
        }
        Some(v) => format!(" `{v}`"),
    };
    format!("yaml: unmarshal errors:\n  line {line}: cannot unmarshal {tag}{value} into {}", target.go_type())
}

/// Decodes `text` into `target` as gomplate's functions do.
///
/// Built on the [`crate::yaml::decode`] contract; the codec's
/// `decode_map`/`decode_array` (same semantics, exact node lines for block
/// scalars in type errors) can replace this once both are merged.
fn decode_into(text: &str, target: Target) -> Result<Value, String> {
    let v = crate::yaml::decode(text).map_err(|e| e.to_string())?;
    match (&v, target) {
        (Value::Map(_), Target::Map) | (Value::List(_), Target::List) => Ok(v),
        (Value::Nil | Value::Missing, Target::Map) => Ok(Value::map(Map::new())),
        (Value::Nil | Value::Missing, Target::List) => {
            // Go starts from a one-element `[]interface{}{nil}`; a null document
            // resets it to nil, no document at all leaves it as is.
            if has_document(text) {
                Ok(Value::list(Vec::new()))
            } else {
                Ok(Value::list(vec![Value::Nil]))
            }
        }
        _ => Err(type_error(text, &v, target)),
    }
}

/// `data.JSON INPUT` / `json`: a JSON (or YAML) object.
pub fn json(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let text = to_string(&args[0]);
    decode_into(&text, Target::Map).map_err(|e| FuncError::new(format!("Unable to unmarshal object {text}: {e}")))
}

/// `data.JSONArray INPUT` / `jsonArray`.
pub fn json_array(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let text = to_string(&args[0]);
    decode_into(&text, Target::List).map_err(|e| FuncError::new(format!("Unable to unmarshal array {text}: {e}")))
}

/// `data.YAML INPUT` / `yaml`: the first non-null document, which must be a map.
pub fn yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    decode_into(&to_string(&args[0]), Target::Map).map_err(FuncError::new)
}

/// `data.YAMLArray INPUT` / `yamlArray`.
pub fn yaml_array(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    decode_into(&to_string(&args[0]), Target::List).map_err(FuncError::new)
}

fn nil_of_missing(v: &Value) -> Value {
    if v.is_nil() {
        Value::Nil
    } else {
        v.clone()
    }
}

/// `data.ToJSON VALUE` / `toJSON`.
pub fn to_json(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::json::encode(&nil_of_missing(&args[0])).map(Value::str).map_err(FuncError::new)
}

/// `data.ToJSONPretty INDENT VALUE` / `toJSONPretty`.
pub fn to_json_pretty(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let indent = want_str(&args[0])?;
    crate::json::encode_pretty(indent, &nil_of_missing(&args[1])).map(Value::str).map_err(FuncError::new)
}

/// `data.ToYAML VALUE` / `toYAML`.
pub fn to_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::yaml::encode(&nil_of_missing(&args[0])).map(Value::str).map_err(FuncError::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn type_errors_like_yaml_v3() {
        assert_eq!(
            type_error("foo", &s("foo"), Target::Map),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `foo` into map[string]interface {}"
        );
        assert_eq!(
            type_error("# c\n\n- a\n", &Value::list(vec![s("a")]), Target::Map),
            "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!seq into map[string]interface {}"
        );
        assert_eq!(
            type_error("a: 1", &m(&[("a", Value::Int(1))]), Target::List),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []interface {}"
        );
        assert_eq!(
            type_error("hello world, again", &s("hello world, again"), Target::Map),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `hello w...` into map[string]interface {}"
        );
        assert_eq!(
            type_error("--- 42 # x", &Value::Int(42), Target::Map),
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `42` into map[string]interface {}"
        );
    }

    #[test]
    
    fn decoders_like_gomplate() {
        // gomplate data_test.go
        assert_eq!(json(&[s(r#"{"foo":"bar"}"#)]).unwrap(), m(&[("foo", s("bar"))]));
        assert_eq!(yaml(&[s("foo: bar\none: 1\n")]).unwrap(), m(&[("foo", s("bar")), ("one", Value::Int(1))]));
        assert_eq!(
            json_array(&[s(r#"["foo", 1]"#)]).unwrap(),
            Value::list(vec![s("foo"), Value::Int(1)])
        );
        assert_eq!(yaml_array(&[s("- foo\n- 1\n")]).unwrap(), Value::list(vec![s("foo"), Value::Int(1)]));
        assert_eq!(yaml(&[s("")]).unwrap(), m(&[]));
        assert_eq!(yaml_array(&[s("")]).unwrap(), Value::list(vec![Value::Nil]));
        assert_eq!(yaml_array(&[s("~")]).unwrap(), Value::list(vec![]));
        assert_eq!(
            yaml(&[s("foo")]).unwrap_err().message,
            "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `foo` into map[string]interface {}"
        );
        assert_eq!(
            json(&[s("[1]")]).unwrap_err().message,
            "Unable to unmarshal object [1]: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]interface {}"
        );
        assert_eq!(yaml(&[s("---\n\n---\nfoo: bar\n")]).unwrap(), m(&[("foo", s("bar"))]));
        // data_test.go TestUnmarshalObj / TestUnmarshalArray
        assert_eq!(
            yaml(&[s("# nil doc\n---\n# again\n---\nfoo:\n  bar: baz\none: 1.0\n")]).unwrap(),
            m(&[("foo", m(&[("bar", s("baz"))])), ("one", Value::Float(1.0))])
        );
        assert_eq!(
            yaml_array(&[s("---\n# ignore\n---\n- foo\n- bar\n---\nthis shouldn't be reached\n")]).unwrap(),
            Value::list(vec![s("foo"), s("bar")])
        );
        assert_eq!(
            json(&[s(r#"{"one":1.0,"escaped":"\"\/\\\b\f\n\r\t\u221e"}"#)]).unwrap(),
            m(&[("one", Value::Float(1.0)), ("escaped", s("\"/\\\u{8}\u{c}\n\r\t∞"))])
        );
    }

    #[test]
    
    fn encoders_like_gomplate() {
        // gomplate data_test.go TestToJSON / TestToYAML
        let v = m(&[("foo", s("bar")), ("one", Value::Int(1)), ("true", Value::Bool(true))]);
        assert_eq!(to_json(std::slice::from_ref(&v)).unwrap(), s(r#"{"foo":"bar","one":1,"true":true}"#));
        assert_eq!(to_json(&[s("<&>")]).unwrap(), s(r#""\u003c\u0026\u003e""#));
        assert_eq!(
            to_json_pretty(&[s("  "), m(&[("a", Value::Int(1))])]).unwrap(),
            s("{\n  \"a\": 1\n}")
        );
        assert_eq!(to_yaml(&[v]).unwrap(), s("foo: bar\none: 1\n\"true\": true\n"));
        assert_eq!(to_yaml(&[m(&[("a", m(&[("b", Value::list(vec![s("c")]))]))])]).unwrap(), s("a:\n  b:\n    - c\n"));
    }
}
