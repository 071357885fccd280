//! The `test` namespace: `fail`, `required`, `assert`, `ternary`, `kind`,
//! `isKind`, with gomplate's messages.

use super::arity;
use super::conv::{to_bool, to_string};
use super::want_str;
use crate::error::FuncError;
use crate::value::Value;

/// `test.Fail [MESSAGE]` / `fail`: always an error, flagged as a `fail`.
pub fn fail(args: &[Value]) -> Result<Value, FuncError> {
    let message = match args {
        [] => String::new(),
        [m] => to_string(m),
        _ => return Err(FuncError::new(format!("wrong number of args: want 0 or 1, got {}", args.len()))),
    };
    let message = if message.is_empty() {
        "template generation failed".to_string()
    } else {
        format!("template generation failed: {message}")
    };
    Err(FuncError { message, is_fail: true })
}

/// The `at <1>: expected string` error of `required`/`assert` messages.
fn message_arg(v: &Value) -> Result<&str, FuncError> {
    v.as_str().ok_or_else(|| FuncError::new(format!("at <1>: expected string; found {}", v.type_name())))
}

/// `test.Required [MESSAGE] VALUE` / `required`: VALUE unless nil or "".
pub fn required(args: &[Value]) -> Result<Value, FuncError> {
    let (message, value) = match args {
        [v] => ("", v),
        [m, v] => (message_arg(m)?, v),
        _ => return Err(FuncError::new(format!("wrong number of args: want 1 or 2, got {}", args.len()))),
    };
    let message = if message.is_empty() { "can not render template: a required value was not set" } else { message };
    match value {
        Value::Missing | Value::Nil => Err(message.into()),
        Value::String(s) if s.is_empty() => Err(message.into()),
        v => Ok(v.clone()),
    }
}

/// `test.Assert [MESSAGE] VALUE` / `assert`: "" when `conv.ToBool VALUE`.
pub fn assert(args: &[Value]) -> Result<Value, FuncError> {
    let Some(last) = args.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let input = to_bool(last);
    let message = match args.len() {
        1 => "",
        2 => message_arg(&args[0])?,
        n => return Err(FuncError::new(format!("wrong number of args: want 1 or 2, got {n}"))),
    };
    if input {
        Ok(Value::str(""))
    } else if message.is_empty() {
        Err("assertion failed".into())
    } else {
        Err(FuncError::new(format!("assertion failed: {message}")))
    }
}

/// `test.Ternary TRUEVAL FALSEVAL CONDITION` / `ternary`.
pub fn ternary(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 3)?;
    Ok(if to_bool(&args[2]) { args[0].clone() } else { args[1].clone() })
}

/// `test.Kind VALUE` / `kind`: the Go kind name (`invalid` for nil).
pub fn kind(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 1)?;
    Ok(Value::str(args[0].kind().name()))
}

/// `test.IsKind KIND VALUE` / `isKind` (`number` matches ints and floats).
pub fn is_kind(args: &[Value]) -> Result<Value, FuncError> {
    arity(args, 2)?;
    let want = want_str(&args[0])?;
    let k = args[1].kind().name();
    Ok(Value::Bool(k == want || (want == "number" && matches!(k, "int" | "float64"))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::s;
    use crate::value::Map;


    #[test]
    fn fail_messages() {
        // gomplate test_test.go TestFail
        let e = fail(&[]).unwrap_err();
        assert_eq!(e, FuncError { message: "template generation failed".into(), is_fail: true });
        let e = fail(&[s("msg")]).unwrap_err();
        assert_eq!(e, FuncError { message: "template generation failed: msg".into(), is_fail: true });
        let e = fail(&[s("")]).unwrap_err();
        assert_eq!(e.message, "template generation failed");
        let e = fail(&[s("a"), s("b")]).unwrap_err();
        assert_eq!(e.message, "wrong number of args: want 0 or 1, got 2");
        assert!(!e.is_fail);
    }

    #[test]
    fn required_messages() {
        assert_eq!(
            required(&[Value::Nil]).unwrap_err().message,
            "can not render template: a required value was not set"
        );
        assert_eq!(required(&[s("")]).unwrap_err().message, "can not render template: a required value was not set");
        assert_eq!(required(&[s("custom"), Value::Missing]).unwrap_err().message, "custom");
        assert_eq!(required(&[Value::Int(0)]).unwrap(), Value::Int(0));
        assert_eq!(required(&[s("m"), s("x")]).unwrap(), s("x"));
        assert_eq!(required(&[Value::Int(1), s("x")]).unwrap_err().message, "at <1>: expected string; found int");
        assert_eq!(required(&[]).unwrap_err().message, "wrong number of args: want 1 or 2, got 0");
    }

    #[test]
    fn assert_and_ternary() {
        assert_eq!(assert(&[Value::Bool(true)]).unwrap(), s(""));
        assert_eq!(assert(&[s("false")]).unwrap_err().message, "assertion failed");
        assert_eq!(assert(&[s("oops"), Value::Bool(false)]).unwrap_err().message, "assertion failed: oops");
        assert_eq!(ternary(&[s("a"), s("b"), s("true")]).unwrap(), s("a"));
        assert_eq!(ternary(&[s("a"), s("b"), Value::Int(0)]).unwrap(), s("b"));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind(&[Value::Nil]).unwrap(), s("invalid"));
        assert_eq!(kind(&[Value::map(Map::new())]).unwrap(), s("map"));
        assert_eq!(kind(&[Value::list(vec![])]).unwrap(), s("slice"));
        assert_eq!(kind(&[Value::Float(1.0)]).unwrap(), s("float64"));
        assert_eq!(is_kind(&[s("bool"), Value::Bool(false)]).unwrap(), Value::Bool(true));
        assert_eq!(is_kind(&[s("number"), Value::Int(1)]).unwrap(), Value::Bool(true));
        assert_eq!(is_kind(&[s("number"), Value::Float(1.5)]).unwrap(), Value::Bool(true));
        assert_eq!(is_kind(&[s("number"), s("1")]).unwrap(), Value::Bool(false));
        assert_eq!(is_kind(&[s("string"), Value::Missing]).unwrap(), Value::Bool(false));
    }
}
