//! The `data` namespace's in-template codecs: `data.JSON`/`json`,
//! `data.JSONArray`/`jsonArray`, `data.YAML`/`yaml`, `data.YAMLArray`/
//! `yamlArray` (all decoded with the YAML decoder, as gomplate does, into a
//! map or a list — anything else is yaml.v3's unmarshal type error), and
//! `data.ToJSON`/`toJSON`, `data.ToJSONPretty`/`toJSONPretty`,
//! `data.ToYAML`/`toYAML`.

use super::conv::to_string;
use super::{arity, want_str};
use crate::error::FuncError;
use crate::value::Value;

/// `data.JSON INPUT` / `json`: a JSON (or YAML) object.
pub fn json(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::json::decode(&to_string(&args[0])).map_err(|e| FuncError::new(e.to_string()))
}

/// `data.JSONArray INPUT` / `jsonArray`.
pub fn json_array(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::json::decode_array(&to_string(&args[0])).map_err(|e| FuncError::new(e.to_string()))
}

/// `data.YAML INPUT` / `yaml`: the first non-null document, which must be a map.
pub fn yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::yaml::decode_map(&to_string(&args[0])).map_err(|e| FuncError::new(e.to_string()))
}

/// `data.YAMLArray INPUT` / `yamlArray`.
pub fn yaml_array(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    crate::yaml::decode_array(&to_string(&args[0])).map_err(|e| FuncError::new(e.to_string()))
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
    let Ok(text) = crate::json::encode(&nil_of_missing(&args[0]));
    Ok(Value::str(text))
}

/// `data.ToJSONPretty INDENT VALUE` / `toJSONPretty`.
pub fn to_json_pretty(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let indent = want_str(&args[0])?;
    crate::json::encode_pretty(indent, &nil_of_missing(&args[1])).map(Value::str).map_err(|e| FuncError::new(e.to_string()))
}

/// `data.ToYAML VALUE` / `toYAML`.
pub fn to_yaml(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    let Ok(text) = crate::yaml::encode(&nil_of_missing(&args[0]));
    Ok(Value::str(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{m, s};


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
