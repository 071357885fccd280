//! JSON as gomplate 3.11 reads and writes it: `data.JSON`/`json` decoding, and
//! `data.ToJSON`/`toJSON` encoding with ugorji's canonical JSON handle (sorted
//! keys, HTML characters escaped), plus `toJSONPretty`.

use crate::value::Value;

/// Decodes JSON text (gomplate decodes JSON with its YAML decoder, so numbers
/// follow YAML resolution: `1` is an int, `1.5` a float).
pub fn decode(text: &str) -> Result<Value, String> {
    let _ = text;
    Err("json decoding not implemented".into())
}

/// `data.ToJSON`: compact canonical JSON (sorted keys, `<>&` escaped as `\u003c`...).
pub fn encode(value: &Value) -> Result<String, String> {
    let _ = value;
    Err("json encoding not implemented".into())
}

/// `data.ToJSONPretty INDENT`: canonical JSON re-indented like Go's `json.Indent`.
pub fn encode_pretty(indent: &str, value: &Value) -> Result<String, String> {
    let _ = (indent, value);
    Err("json encoding not implemented".into())
}
