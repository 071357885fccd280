//! Go's `fmt` package as templates reach it (`print`, `println`, `printf`),
//! reproducing Go 1.20 output byte for byte for the value types templates hold:
//! flags (`+ - # 0` and space), width and precision (including `*` and `%[n]`
//! argument indexes), every verb Go gives meaning to for
//! `bool`/`int`/`float64`/`string`/`[]interface{}`/`map[string]interface{}` and
//! nil, and Go's error strings (`%!d(string=x)`, `%!s(MISSING)`,
//! `%!(EXTRA ...)`, `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`,
//! `%!d(BADINDEX)`). Number formatting and quoting come from
//! [`crate::strconv`].
//!
//! Arguments are taken as Go's `...interface{}` sees them: [`Value::Missing`]
//! and [`Value::Nil`] are both the nil interface, which is how `text/template`
//! passes a missing value to a function.
//!
//! Not reproduced: `%p` (Go prints a memory address; here every operand gets
//! Go's "not a pointer" error form, `%!p(type=value)`).
//!
//! Go's own verb tables (from `fmt_test.go`, with Go's outputs) are the case
//! files `tests/cases/printf-*.txt`.

use crate::strconv::{can_backquote, format_float, is_print, quote_rune, quote_with};
use crate::value::{Map, Value};

/// `fmt.Sprint(args...)`: operands in their default format, with a space
/// between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut p = Printer::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
        prev_string = is_string;
    }
    p.buf
}

/// `fmt.Sprintln(args...)`: operands in their default format, always
/// space-separated, with a trailing newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut p = Printer::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
    }
    p.buf.push('\n');
    p.buf
}

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut p = Printer::new();
    p.do_printf(format, args);
    p.buf
}

/// Go's limit on widths, precisions and argument indexes written in a format.
const TOO_LARGE: i64 = 1_000_000;

fn too_large(x: i64) -> bool {
    !(-TOO_LARGE..=TOO_LARGE).contains(&x)
}

/// The flags of one verb (Go's `fmtFlags`).
#[derive(Clone, Copy, Default)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    /// `%+v`: the plus flag, moved aside for `v`.
    plus_v: bool,
    /// `%#v`: Go-syntax output.
    sharp_v: bool,
}

/// The printer state of one `Sprint*` call (Go's `pp` and `fmt`).
struct Printer {
    buf: String,
    f: Flags,
    wid: i64,
    prec: i64,
    reordered: bool,
    good_arg_num: bool,
}

impl Printer {
    fn new() -> Printer {
        Printer {
            buf: String::new(),
            f: Flags::default(),
            wid: 0,
            prec: 0,
            reordered: false,
            good_arg_num: true,
        }
    }

    // ----- padding -----

    fn write_padding(&mut self, n: i64) {
        let c = if self.f.zero { '0' } else { ' ' };
        for _ in 0..n.max(0) {
            self.buf.push(c);
        }
    }

    /// Appends `s`, padded to the width (counted in runes) on the left, or on
    /// the right with `-`.
    fn pad(&mut self, s: &str) {
        if !self.f.wid_present || self.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let width = self.wid - s.chars().count() as i64;
        if self.f.minus {
            self.buf.push_str(s);
            self.write_padding(width);
        } else {
            self.write_padding(width);
            self.buf.push_str(s);
        }
    }

    /// `pad` with zero padding turned off.
    fn pad_no_zero(&mut self, s: &str) {
        let zero = self.f.zero;
        self.f.zero = false;
        self.pad(s);
        self.f.zero = zero;
    }

    // ----- basic formatters (Go's fmt/format.go) -----

    fn fmt_boolean(&mut self, v: bool) {
        self.pad(if v { "true" } else { "false" });
    }

    /// `%U`: `U+0078`, with `#` also ` 'x'` when printable.
    fn fmt_unicode(&mut self, u: u64) {
        let prec = if self.f.prec_present && self.prec > 4 {
            self.prec
        } else {
            4
        };
        let hex = format!("{u:X}");
        let mut s = String::from("U+");
        for _ in hex.len() as i64..prec {
            s.push('0');
        }
        s.push_str(&hex);
        if self.f.sharp && u <= 0x10FFFF && is_print(u as u32) {
            if let Some(c) = char::from_u32(u as u32) {
                s.push_str(" '");
                s.push(c);
                s.push('\'');
            }
        }
        self.pad_no_zero(&s);
    }

    /// Integers in `base`, with sign, `#` prefixes, precision and zero padding.
    fn fmt_integer(&mut self, u: u64, base: u64, signed: bool, verb: char, upper: bool) {
        let negative = signed && (u as i64) < 0;
        let mut u = if negative { u.wrapping_neg() } else { u };
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };

        let mut prec = 0;
        if self.f.prec_present {
            prec = self.prec;
            // Precision 0 and value 0 print nothing but the padding.
            if prec == 0 && u == 0 {
                let zero = self.f.zero;
                self.f.zero = false;
                self.write_padding(self.wid);
                self.f.zero = zero;
                return;
            }
        } else if self.f.zero && self.f.wid_present {
            prec = self.wid;
            if negative || self.f.plus || self.f.space {
                prec -= 1; // room for the sign
            }
        }

        // Built right to left.
        let mut rev: Vec<u8> = Vec::with_capacity(24);
        loop {
            rev.push(digits[(u % base) as usize]);
            u /= base;
            if u == 0 {
                break;
            }
        }
        while (rev.len() as i64) < prec {
            rev.push(b'0');
        }
        if self.f.sharp {
            match base {
                2 => rev.extend_from_slice(b"b0"),
                8 if rev.last() != Some(&b'0') => rev.push(b'0'),
                16 => {
                    rev.push(digits[16]);
                    rev.push(b'0');
                }
                _ => {}
            }
        }
        if verb == 'O' {
            rev.extend_from_slice(b"o0");
        }
        if negative {
            rev.push(b'-');
        } else if self.f.plus {
            rev.push(b'+');
        } else if self.f.space {
            rev.push(b' ');
        }
        rev.reverse();
        let s = String::from_utf8(rev).expect("ASCII digits");
        self.pad_no_zero(&s);
    }

    /// Truncates `s` to the precision, counted in runes.
    fn truncate<'a>(&self, s: &'a str) -> &'a str {
        if self.f.prec_present {
            if let Some((i, _)) = s.char_indices().nth(self.prec.max(0) as usize) {
                return &s[..i];
            }
        }
        s
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(s);
    }

    /// `%x`/`%X` on a string: hex of its bytes; space separates bytes and `#`
    /// adds `0x` (per byte when combined with space).
    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let digits: &[u8; 17] = if upper {
            b"0123456789ABCDEFX"
        } else {
            b"0123456789abcdefx"
        };
        let b = s.as_bytes();
        let mut length = b.len() as i64;
        if self.f.prec_present && self.prec < length {
            length = self.prec;
        }
        let mut width = 2 * length;
        if width > 0 {
            if self.f.space {
                if self.f.sharp {
                    width *= 2;
                }
                width += length - 1;
            } else if self.f.sharp {
                width += 2;
            }
        } else {
            if self.f.wid_present {
                self.write_padding(self.wid);
            }
            return;
        }
        if self.f.wid_present && self.wid > width && !self.f.minus {
            self.write_padding(self.wid - width);
        }
        if self.f.sharp {
            self.buf.push('0');
            self.buf.push(digits[16] as char);
        }
        for (i, c) in b[..length as usize].iter().enumerate() {
            if self.f.space && i > 0 {
                self.buf.push(' ');
                if self.f.sharp {
                    self.buf.push('0');
                    self.buf.push(digits[16] as char);
                }
            }
            self.buf.push(digits[(c >> 4) as usize] as char);
            self.buf.push(digits[(c & 0xf) as usize] as char);
        }
        if self.f.wid_present && self.wid > width && self.f.minus {
            self.write_padding(self.wid - width);
        }
    }

    /// `%q` on a string: Go-quoted (`+`: ASCII only; `#`: backquoted if possible).
    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.f.sharp && can_backquote(s) {
            self.pad(&format!("`{s}`"));
            return;
        }
        let q = quote_with(s, '"', self.f.plus);
        self.pad(&q);
    }

    /// The rune for an integer operand of `%c`/`%q` (U+FFFD when out of range).
    fn rune_of(c: u64) -> i64 {
        if c > 0x10FFFF {
            0xFFFD
        } else {
            c as i64
        }
    }

    /// `%c`: the character itself.
    fn fmt_c(&mut self, c: u64) {
        let r = Self::rune_of(c) as u32;
        let ch = char::from_u32(r).unwrap_or('\u{FFFD}');
        let mut tmp = [0u8; 4];
        let s: &str = ch.encode_utf8(&mut tmp);
        self.pad(s);
    }

    /// `%q` on an integer: a Go rune literal.
    fn fmt_qc(&mut self, c: u64) {
        let q = quote_rune(Self::rune_of(c), self.f.plus);
        self.pad(&q);
    }

    /// Floats: `verb` is a `strconv` format; `prec` its default precision.
    fn fmt_float(&mut self, v: f64, verb: u8, prec: i64) {
        let prec = if self.f.prec_present { self.prec } else { prec };
        let s = format_float(v, verb, prec);
        let mut num: Vec<u8> = Vec::with_capacity(s.len() + 1);
        if !(s.starts_with('-') || s.starts_with('+')) {
            num.push(b'+');
        }
        num.extend_from_slice(s.as_bytes());
        if self.f.space && num[0] == b'+' && !self.f.plus {
            num[0] = b' ';
        }
        // Infinities and NaN are never zero padded; NaN has no sign unless asked.
        if num[1] == b'I' || num[1] == b'N' {
            let zero = self.f.zero;
            self.f.zero = false;
            let start = usize::from(num[1] == b'N' && !self.f.space && !self.f.plus);
            self.pad(std::str::from_utf8(&num[start..]).expect("ASCII"));
            self.f.zero = zero;
            return;
        }
        // `#` forces a decimal point and, for %g, keeps trailing zeros.
        if self.f.sharp && verb != b'b' {
            let mut digits = 0;
            if matches!(verb, b'v' | b'g' | b'G' | b'x') {
                digits = if prec == -1 { 6 } else { prec };
            }
            let mut tail: Vec<u8> = Vec::new();
            let mut has_point = false;
            let mut saw_nonzero = false;
            let mut i = 1;
            while i < num.len() {
                match num[i] {
                    b'.' => has_point = true,
                    b'p' | b'P' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                    }
                    b'e' | b'E' if verb != b'x' && verb != b'X' => {
                        tail.extend_from_slice(&num[i..]);
                        num.truncate(i);
                    }
                    c => {
                        if c != b'0' {
                            saw_nonzero = true;
                        }
                        if saw_nonzero {
                            digits -= 1;
                        }
                    }
                }
                i += 1;
            }
            if !has_point {
                if num.len() == 2 && num[1] == b'0' {
                    digits -= 1;
                }
                num.push(b'.');
            }
            while digits > 0 {
                num.push(b'0');
                digits -= 1;
            }
            num.extend_from_slice(&tail);
        }
        let num = String::from_utf8(num).expect("ASCII");
        if self.f.plus || !num.starts_with('+') {
            // Zero padding goes between the sign and the digits.
            if self.f.zero && self.f.wid_present && self.wid > num.len() as i64 {
                self.buf.push_str(&num[..1]);
                self.write_padding(self.wid - num.len() as i64);
                self.buf.push_str(&num[1..]);
                return;
            }
            self.pad(&num);
            return;
        }
        self.pad(&num[1..]);
    }

    // ----- operands (Go's fmt/print.go) -----

    /// `%!verb(type=value)`, or `%!verb(<nil>)` for nil.
    fn bad_verb(&mut self, verb: char, arg: Option<&Value>) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        match arg {
            Some(v) if !v.is_nil() => {
                self.buf.push_str(v.type_name());
                self.buf.push('=');
                self.print_arg(v, 'v');
            }
            _ => self.buf.push_str("<nil>"),
        }
        self.buf.push(')');
    }

    fn fmt_bool(&mut self, v: bool, verb: char, arg: &Value) {
        match verb {
            't' | 'v' => self.fmt_boolean(v),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_int(&mut self, v: i64, verb: char, arg: &Value) {
        let u = v as u64;
        match verb {
            'v' | 'd' => self.fmt_integer(u, 10, true, verb, false),
            'b' => self.fmt_integer(u, 2, true, verb, false),
            'o' | 'O' => self.fmt_integer(u, 8, true, verb, false),
            'x' => self.fmt_integer(u, 16, true, verb, false),
            'X' => self.fmt_integer(u, 16, true, verb, true),
            'c' => self.fmt_c(u),
            'q' => self.fmt_qc(u),
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// An unsigned integer (Go's `fmtInteger` with `isSigned` false).
    fn fmt_uint(&mut self, u: u64, verb: char, arg: &Value) {
        match verb {
            'v' if self.f.sharp_v => {
                // Go's `fmt0x64(v, true)`.
                let sharp = self.f.sharp;
                self.f.sharp = true;
                self.fmt_integer(u, 16, false, 'v', false);
                self.f.sharp = sharp;
            }
            'v' | 'd' => self.fmt_integer(u, 10, false, verb, false),
            'b' => self.fmt_integer(u, 2, false, verb, false),
            'o' | 'O' => self.fmt_integer(u, 8, false, verb, false),
            'x' => self.fmt_integer(u, 16, false, verb, false),
            'X' => self.fmt_integer(u, 16, false, verb, true),
            'c' => self.fmt_c(u),
            'q' => self.fmt_qc(u),
            'U' => self.fmt_unicode(u),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_float_verb(&mut self, v: f64, verb: char, arg: &Value) {
        match verb {
            'v' => self.fmt_float(v, b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float(v, verb as u8, -1),
            'f' | 'e' | 'E' => self.fmt_float(v, verb as u8, 6),
            'F' => self.fmt_float(v, b'f', 6),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    fn fmt_string(&mut self, s: &str, verb: char, arg: &Value) {
        match verb {
            'v' if self.f.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, false),
            'X' => self.fmt_sx(s, true),
            'q' => self.fmt_q(s),
            _ => self.bad_verb(verb, Some(arg)),
        }
    }

    /// One top-level operand (Go's `printArg`).
    fn print_arg(&mut self, arg: &Value, verb: char) {
        if arg.is_nil() {
            match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, None),
            }
            return;
        }
        match verb {
            'T' => {
                self.fmt_s(arg.type_name());
                return;
            }
            'p' => {
                self.bad_verb(verb, Some(arg));
                return;
            }
            // `%w` outside `Errorf` is an error for the operand as a whole.
            'w' if matches!(arg, Value::List(_) | Value::Map(_) | Value::Context(_)) => {
                self.bad_verb(verb, Some(arg));
                return;
            }
            _ => {}
        }
        self.print_value(arg, verb);
    }

    /// An operand or an element of one (Go's `printValue`). A nil reached
    /// here is an element of `[]interface{}`/`map[string]interface{}`.
    fn print_value(&mut self, v: &Value, verb: char) {
        match v {
            // A nil interface inside a collection, whatever the verb.
            Value::Missing | Value::Nil => {
                self.buf.push_str(if self.f.sharp_v {
                    "interface {}(nil)"
                } else {
                    "<nil>"
                });
            }
            Value::Bool(b) => self.fmt_bool(*b, verb, v),
            Value::Int(i) => self.fmt_int(*i, verb, v),
            Value::Uint8(b) => self.fmt_uint(u64::from(*b), verb, v),
            Value::Float(f) => self.fmt_float_verb(*f, verb, v),
            Value::String(s) => self.fmt_string(s, verb, v),
            Value::List(items) => {
                if self.f.sharp_v {
                    self.buf.push_str(v.type_name());
                    self.buf.push('{');
                } else {
                    self.buf.push('[');
                }
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.buf.push_str(if self.f.sharp_v { ", " } else { " " });
                    }
                    self.print_value(item, verb);
                }
                self.buf.push(if self.f.sharp_v { '}' } else { ']' });
            }
            // Only ever an operand: Go prints a pointer to a map operand as
            // `&` and the map, named by its type for `%#v`.
            Value::Context(map) => {
                self.buf.push('&');
                self.print_map(map, "gomplate.tmplctx", verb);
            }
            Value::Map(map) => self.print_map(map, v.type_name(), verb),
        }
    }

    /// A map's entries in key order, as `map[k:v ...]` or, for `%#v`, `TYPE{"k":v, ...}`.
    fn print_map(&mut self, map: &Map, type_name: &str, verb: char) {
        if self.f.sharp_v {
            self.buf.push_str(type_name);
            self.buf.push('{');
        } else {
            self.buf.push_str("map[");
        }
        for (i, (k, val)) in map.iter().enumerate() {
            if i > 0 {
                self.buf.push_str(if self.f.sharp_v { ", " } else { " " });
            }
            let key = Value::str(k.as_str());
            self.fmt_string(k, verb, &key);
            self.buf.push(':');
            self.print_value(val, verb);
        }
        self.buf.push(if self.f.sharp_v { '}' } else { ']' });
    }

    // ----- the format string -----

    /// Parses decimal digits in `s[start..end]` (Go's `parsenum`): the number,
    /// whether there was one, and where parsing stopped (`end` on overflow).
    fn parse_num(s: &[u8], start: usize, end: usize) -> (i64, bool, usize) {
        if start >= end {
            return (0, false, end);
        }
        let mut num: i64 = 0;
        let mut isnum = false;
        let mut i = start;
        while i < end && s[i].is_ascii_digit() {
            if too_large(num) {
                return (0, false, end);
            }
            num = num * 10 + i64::from(s[i] - b'0');
            isnum = true;
            i += 1;
        }
        (num, isnum, i)
    }

    /// Parses `[n]` at the start of `s`: zero-based index, bytes consumed, ok.
    fn parse_arg_number(s: &[u8]) -> (i64, usize, bool) {
        if s.len() < 3 {
            return (0, 1, false);
        }
        for i in 1..s.len() {
            if s[i] == b']' {
                let (width, ok, newi) = Self::parse_num(s, 1, i);
                if !ok || newi != i {
                    return (0, i + 1, false);
                }
                return (width - 1, i + 1, true);
            }
        }
        (0, 1, false)
    }

    /// Handles an optional `[n]` at `format[i..]`: the next argument number,
    /// the new position, and whether an index was found.
    fn arg_number(
        &mut self,
        arg_num: usize,
        format: &[u8],
        i: usize,
        num_args: usize,
    ) -> (usize, usize, bool) {
        if format.len() <= i || format[i] != b'[' {
            return (arg_num, i, false);
        }
        self.reordered = true;
        let (index, wid, ok) = Self::parse_arg_number(&format[i..]);
        if ok && 0 <= index && (index as usize) < num_args {
            return (index as usize, i + wid, true);
        }
        self.good_arg_num = false;
        (arg_num, i + wid, ok)
    }

    /// An int operand for `*` (Go's `intFromArg`): value, whether usable, next argument.
    fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
        if arg_num >= args.len() {
            return (0, false, arg_num);
        }
        let (num, is_int) = match args[arg_num] {
            Value::Int(n) if !too_large(n) => (n, true),
            Value::Uint8(n) => (i64::from(n), true),
            _ => (0, false),
        };
        (num, is_int, arg_num + 1)
    }

    /// Sets `sharp_v`/`plus_v` for `%v` from the `#`/`+` flags.
    fn flags_for_v(&mut self) {
        self.f.sharp_v = self.f.sharp;
        self.f.sharp = false;
        self.f.plus_v = self.f.plus;
        self.f.plus = false;
    }

    /// Go's `doPrintf`.
    fn do_printf(&mut self, format_str: &str, args: &[Value]) {
        let format = format_str.as_bytes();
        let end = format.len();
        let mut arg_num = 0usize;
        let mut after_index;
        self.reordered = false;
        let mut i = 0usize;
        'format_loop: while i < end {
            self.good_arg_num = true;
            let last = i;
            while i < end && format[i] != b'%' {
                i += 1;
            }
            if i > last {
                self.buf.push_str(&format_str[last..i]);
            }
            if i >= end {
                break;
            }
            i += 1; // the '%'

            self.f = Flags::default();
            while i < end {
                let c = format[i];
                match c {
                    b'#' => self.f.sharp = true,
                    b'0' => self.f.zero = !self.f.minus, // only pad with zeros on the left
                    b'+' => self.f.plus = true,
                    b'-' => {
                        self.f.minus = true;
                        self.f.zero = false;
                    }
                    b' ' => self.f.space = true,
                    _ => {
                        // Fast path: a lower-case verb right after the flags.
                        if c.is_ascii_lowercase() && arg_num < args.len() {
                            if c == b'v' || c == b'w' {
                                self.flags_for_v();
                            }
                            self.print_arg(&args[arg_num], c as char);
                            arg_num += 1;
                            i += 1;
                            continue 'format_loop;
                        }
                        break;
                    }
                }
                i += 1;
            }

            // Argument index?
            (arg_num, i, after_index) = self.arg_number(arg_num, format, i, args.len());

            // Width?
            if i < end && format[i] == b'*' {
                i += 1;
                let (wid, ok, next) = Self::int_from_arg(args, arg_num);
                self.wid = wid;
                self.f.wid_present = ok;
                arg_num = next;
                if !ok {
                    self.buf.push_str("%!(BADWIDTH)");
                }
                if self.wid < 0 {
                    self.wid = -self.wid;
                    self.f.minus = true;
                    self.f.zero = false;
                }
                after_index = false;
            } else {
                let (wid, ok, next) = Self::parse_num(format, i, end);
                self.wid = wid;
                self.f.wid_present = ok;
                i = next;
                if after_index && ok {
                    self.good_arg_num = false; // "%[3]2d"
                }
            }

            // Precision?
            if i + 1 < end && format[i] == b'.' {
                i += 1;
                if after_index {
                    self.good_arg_num = false; // "%[3].2d"
                }
                (arg_num, i, after_index) = self.arg_number(arg_num, format, i, args.len());
                if i < end && format[i] == b'*' {
                    i += 1;
                    let (prec, ok, next) = Self::int_from_arg(args, arg_num);
                    self.prec = prec;
                    self.f.prec_present = ok;
                    arg_num = next;
                    if self.prec < 0 {
                        self.prec = 0;
                        self.f.prec_present = false;
                    }
                    if !self.f.prec_present {
                        self.buf.push_str("%!(BADPREC)");
                    }
                    after_index = false;
                } else {
                    let (prec, ok, next) = Self::parse_num(format, i, end);
                    self.prec = prec;
                    self.f.prec_present = ok;
                    i = next;
                    if !ok {
                        self.prec = 0;
                        self.f.prec_present = true;
                    }
                }
            }

            if !after_index {
                (arg_num, i, after_index) = self.arg_number(arg_num, format, i, args.len());
            }
            let _ = after_index;

            if i >= end {
                self.buf.push_str("%!(NOVERB)");
                break;
            }

            let verb = format_str[i..]
                .chars()
                .next()
                .expect("verb at a char boundary");
            i += verb.len_utf8();

            if verb == '%' {
                self.buf.push('%'); // takes no operand, ignores width and precision
            } else if !self.good_arg_num {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(BADINDEX)");
            } else if arg_num >= args.len() {
                self.buf.push_str("%!");
                self.buf.push(verb);
                self.buf.push_str("(MISSING)");
            } else {
                if verb == 'v' || verb == 'w' {
                    self.flags_for_v();
                }
                self.print_arg(&args[arg_num], verb);
                arg_num += 1;
            }
        }

        // Unused operands, unless the format indexed them explicitly.
        if !self.reordered && arg_num < args.len() {
            self.f = Flags::default();
            self.buf.push_str("%!(EXTRA ");
            for (k, arg) in args[arg_num..].iter().enumerate() {
                if k > 0 {
                    self.buf.push_str(", ");
                }
                if arg.is_nil() {
                    self.buf.push_str("<nil>");
                } else {
                    self.buf.push_str(arg.type_name());
                    self.buf.push('=');
                    self.print_arg(arg, 'v');
                }
            }
            self.buf.push(')');
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{l, m, s};

    fn f(v: f64) -> Value {
        Value::Float(v)
    }

    #[test]
    fn sprint_agrees_with_value_printing() {
        // `Value::to_go_string` is `fmt.Sprint` of one value (except that a
        // top-level missing value is text/template's `<no value>`).
        let mut map = Map::new();
        map.insert("b".into(), l(&[Value::Nil, f(1e6), s("x y")]));
        map.insert("a".into(), m(&[("k", Value::Bool(true))]));
        let values = [
            Value::Nil,
            Value::Bool(false),
            Value::Int(-42),
            f(0.5),
            f(1e21),
            f(-0.0),
            f(f64::NAN),
            f(f64::NEG_INFINITY),
            s("日本語"),
            l(&[]),
            Value::map(map),
        ];
        for v in values {
            assert_eq!(sprint(std::slice::from_ref(&v)), v.to_go_string(), "{v:?}");
        }
        assert_eq!(sprint(&[Value::Missing]), "<nil>");
        assert_eq!(Value::Missing.to_go_string(), "<no value>");
    }

    #[test]
    fn huge_widths_and_precisions_do_not_panic() {
        assert_eq!(
            sprintf("%.1000e", &[f(1.0)]).len(),
            "1.".len() + 1000 + "e+00".len()
        );
        assert_eq!(sprintf("%.2000f", &[f(5e-324)]).len(), 2002);
        assert!(sprintf("%.2000f", &[f(5e-324)]).contains("494065645841246544"));
        assert_eq!(sprintf("%.100U", &[Value::Int(1)]).len(), 102);
        assert_eq!(sprintf("%1000000d", &[Value::Int(1)]).len(), 1_000_000);
    }
}
