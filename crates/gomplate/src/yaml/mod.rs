//! YAML as gomplate 3.11 reads and writes it (its yaml.v3 fork): decoding into
//! [`Value`]s with yaml.v3's type resolution, errors carrying the
//! line; encoding like `yaml.v3` with indent 2 (`data.ToYAML`/`toYAML`).
//!
//! Submodules: `resolve` (implicit scalar typing), `decode` (event stream
//! → values), `encode` (values → text, a port of libyaml's emitter rules).

mod decode;
mod encode;
mod resolve;
#[cfg(test)]
mod tests;

use crate::Value;

/// A YAML syntax or type error with its 1-based line (0 when unknown).
///
/// `line` is the line yaml.v3 reports: for type errors (`unmarshal errors:`,
/// which list their own lines, possibly several) it is the first one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// The line yaml.v3 reports (0 when it reports none).
    pub line: usize,
    /// yaml.v3's message, without the `yaml: line N:` prefix.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 && !self.message.starts_with("unmarshal errors:") {
            write!(f, "yaml: line {}: {}", self.line, self.message)
        } else {
            write!(f, "yaml: {}", self.message)
        }
    }
}

impl std::error::Error for YamlError {}

/// Decodes the first non-null document of `text` (as gomplate's `data.YAML`
/// and its datasource loader do). A top-level mapping decodes as Go's
/// `map[string]interface{}`; other documents as `interface{}`. Returns
/// `Value::Nil` when every document is null or there is none.
pub fn decode(text: &str) -> Result<Value, YamlError> {
    Ok(decode::decode(text, decode::Target::Any)?.unwrap_or(Value::Nil))
}

/// gomplate's `data.YAML`: the first non-null document decoded into a
/// `map[string]interface{}` (an empty map when there is none: Go returns an
/// empty or a nil map, which templates cannot tell apart); other kinds of
/// documents are yaml.v3 type errors (`cannot unmarshal !!seq into ...`).
pub fn decode_map(text: &str) -> Result<Value, YamlError> {
    match decode::decode(text, decode::Target::Map)? {
        None | Some(Value::Nil) => Ok(Value::map(Default::default())),
        Some(v) => Ok(v),
    }
}

/// gomplate's `data.YAMLArray`: the first non-null document decoded into a
/// `[]interface{}`. Quirk kept from Go: text without any document yields the
/// one-element list `[nil]` gomplate starts from, all-null documents `[]`.
pub fn decode_array(text: &str) -> Result<Value, YamlError> {
    match decode::decode(text, decode::Target::Array)? {
        None => Ok(Value::list(vec![Value::Nil])),
        Some(Value::Nil) => Ok(Value::list(Vec::new())),
        Some(v) => Ok(v),
    }
}

/// How gomplate's datasource loader parses a YAML file (`parseData`, used for
/// `--values` files via the `Values=merge:...` context): `data.YAML`, and when
/// that fails for any reason, `data.YAMLArray`, whose error is the one
/// reported.
pub fn decode_datasource(text: &str) -> Result<Value, YamlError> {
    decode_map(text).or_else(|_| decode_array(text))
}

/// `data.ToYAML`: yaml.v3's encoder with indent 2. Cannot fail: every
/// [`Value`] has a YAML form.
pub fn encode(value: &Value) -> Result<String, std::convert::Infallible> {
    Ok(encode::encode(value))
}
