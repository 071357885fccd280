//! The function library: Go's `text/template` builtins and gomplate's namespaces.
//!
//! Every function here is pure: it sees only its arguments. The few functions
//! that need the executing engine or the host (`tmpl.Exec`, `tpl`, `file.Write`,
//! `getenv`, `and`/`or` short-circuit, `template`) are implemented in
//! [`crate::exec`] and never reach [`lookup`].
//!
//! Arguments arrive as Go would pass them to a `...interface{}` function:
//! a missing value (`Value::Missing`) is the same as `Value::Nil`.

use crate::error::FuncError;
use crate::value::Value;

/// A template function: arguments in, value or error out.
pub type Func = fn(&[Value]) -> Result<Value, FuncError>;

/// Finds a function by its full name, e.g. `quote`, `coll.Merge`, `conv.ToBool`.
/// Aliases (`toJSON` for `data.ToJSON`, ...) resolve to the same function.
pub fn lookup(name: &str) -> Option<Func> {
    let _ = name;
    None
}

/// True when `name` is a gomplate namespace (`coll`, `conv`, `tmpl`, ...), so
/// that `ns.Func` is a function call rather than a field access.
pub fn is_namespace(name: &str) -> bool {
    matches!(
        name,
        "base64" | "coll" | "conv" | "crypto" | "data" | "env" | "file" | "filepath" | "math"
            | "path" | "regexp" | "strings" | "test" | "time" | "tmpl" | "uuid" | "random"
            | "sockaddr" | "net" | "semver"
    )
}
