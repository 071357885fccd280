//! Shorthand constructors for values in the crate's unit tests (one set,
//! shared by every module's tests).

use crate::value::{Map, Value};

/// A string value.
pub fn s(x: &str) -> Value {
    Value::str(x)
}

/// A list value.
pub fn l(items: &[Value]) -> Value {
    Value::list(items.to_vec())
}

/// A list of string values.
pub fn strs(items: &[&str]) -> Value {
    Value::list(items.iter().map(|x| s(x)).collect())
}

/// A map value.
pub fn m(pairs: &[(&str, Value)]) -> Value {
    Value::map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Map>())
}
