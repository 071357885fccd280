//! The dynamic values templates work on, modelled on what Go's `interface{}` holds
//! after gomplate decodes YAML/JSON: nil, bool, int, float64, string, `[]interface{}`
//! and `map[string]interface{}`. Also owns Go's default printing of those values
//! (`fmt.Sprint`, i.e. the `%v` verb) and template truthiness.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::strconv::format_float_g;

/// A map as Go's `map[string]interface{}`; iteration is in sorted key order,
/// which is the order Go's template `range`, `fmt` and encoders use.
pub type Map = BTreeMap<String, Value>;

/// A template value.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's invalid `reflect.Value`: a missing map key or an absent argument.
    /// Prints as `<no value>`.
    #[default]
    Missing,
    /// A nil interface (YAML `null`). Prints as `<nil>`.
    Nil,
    /// Go `bool`.
    Bool(bool),
    /// Go `int` (64-bit).
    Int(i64),
    /// Go `uint8`: what `index` returns for a byte of a string.
    Uint8(u8),
    /// Go `float64`.
    Float(f64),
    /// Go `string`.
    String(Arc<str>),
    /// Go `[]interface{}`.
    List(Arc<Vec<Value>>),
    /// Go `map[string]interface{}`.
    Map(Arc<Map>),
    /// Dot as gomplate passes it: a pointer to its context map
    /// (`*gomplate.tmplctx`), made by [`Engine::render`](crate::Engine::render).
    /// Fields, `range`, `with`, `len` and template calls see the map; `fmt`
    /// prints it with `&`, and it is comparable (`eq . .`). Functions other
    /// than Go's builtins receive the map.
    Context(Arc<Map>),
}

/// The Go kind of a value, as `reflect.Kind.String()` and gomplate's `kind` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nil or missing.
    Invalid,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `uint8`.
    Uint8,
    /// `float64`.
    Float64,
    /// `string`.
    String,
    /// `[]interface{}`.
    Slice,
    /// `map[string]interface{}`.
    Map,
    /// A pointer: dot as gomplate passes it.
    Ptr,
}

impl Kind {
    /// The name Go gives this kind (`reflect.Kind.String()`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Uint8 => "uint8",
            Kind::Float64 => "float64",
            Kind::String => "string",
            Kind::Slice => "slice",
            Kind::Map => "map",
            Kind::Ptr => "ptr",
        }
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// A map value.
    pub fn map(map: Map) -> Value {
        Value::Map(Arc::new(map))
    }

    /// The Go kind of this value (nil and missing are both `invalid`).
    pub fn kind(&self) -> Kind {
        match self {
            Value::Missing | Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Uint8(_) => Kind::Uint8,
            Value::Float(_) => Kind::Float64,
            Value::String(_) => Kind::String,
            Value::List(_) => Kind::Slice,
            Value::Map(_) => Kind::Map,
            Value::Context(_) => Kind::Ptr,
        }
    }

    /// The Go type name used in error messages (`%T`-like).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Missing | Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Uint8(_) => "uint8",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Context(_) => "*gomplate.tmplctx",
        }
    }

    /// True for `Missing` and `Nil`.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Missing | Value::Nil)
    }

    /// Go template truthiness (`text/template.IsTrue`): false for the zero value of
    /// the type, empty collections, nil and missing.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Uint8(b) => *b != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Context(_) => true,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// What a function other than Go's builtins receives: the map a
    /// [`Value::Context`] points to, any other value as it is.
    pub fn deref(self) -> Value {
        match self {
            Value::Context(map) => Value::Map(map),
            v => v,
        }
    }

    /// The list inside, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Go's `fmt.Sprint` of a single value (the `%v` verb).
    pub fn to_go_string(&self) -> String {
        let mut out = String::new();
        self.write_go(&mut out, true);
        out
    }

    /// Writes `%v` formatting. `top` distinguishes the top level, where a missing
    /// value prints as `<no value>` (text/template) rather than `<nil>` (fmt).
    pub(crate) fn write_go(&self, out: &mut String, top: bool) {
        match self {
            Value::Missing if top => out.push_str("<no value>"),
            Value::Missing | Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Uint8(b) => {
                let _ = write!(out, "{b}");
            }
            Value::Float(f) => out.push_str(&format_float_g(*f)),
            Value::String(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_go(out, false);
                }
                out.push(']');
            }
            // text/template prints what a pointer points to.
            Value::Map(map) | Value::Context(map) => {
                out.push_str("map[");
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out, false);
                }
                out.push(']');
            }
        }
    }
}

impl PartialEq for Value {
    /// Deep equality as Go's `reflect.DeepEqual` on decoded data (an int never
    /// equals a float; nil equals missing).
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (a, b) if a.is_nil() && b.is_nil() => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Uint8(a), Value::Uint8(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) | (Value::Context(a), Value::Context(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Value {
        Value::list(l)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::map(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_print_like_go() {
        let mut m = Map::new();
        m.insert("b".into(), Value::Int(2));
        m.insert("a".into(), Value::list(vec!["x".into(), Value::Nil]));
        assert_eq!(Value::map(m).to_go_string(), "map[a:[x <nil>] b:2]");
        assert_eq!(Value::Missing.to_go_string(), "<no value>");
    }
}
