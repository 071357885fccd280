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
    use crate::value::Map;

    fn i(v: i64) -> Value {
        Value::Int(v)
    }
    fn f(v: f64) -> Value {
        Value::Float(v)
    }
    fn s(v: &str) -> Value {
        Value::str(v)
    }
    fn b(v: bool) -> Value {
        Value::Bool(v)
    }
    fn l(v: Vec<Value>) -> Value {
        Value::list(v)
    }
    fn m(v: Vec<(&str, Value)>) -> Value {
        Value::map(
            v.into_iter()
                .map(|(k, x)| (k.to_string(), x))
                .collect::<Map>(),
        )
    }

    /// Runs `(format, args, expected)` cases through [`sprintf`]; the formats
    /// `#print`/`#println` run [`sprint`]/[`sprintln`] instead. The expected
    /// strings are Go's own output: the cases come from Go's `fmt_test.go`
    /// tables (those that apply to template values) plus our own, and every
    /// one was run through Go's `fmt` to obtain or confirm its result.
    fn check(cases: &[(&str, Vec<Value>, &str)]) {
        let mut failures = Vec::new();
        for (format, args, want) in cases {
            let got = match *format {
                "#print" => sprint(args),
                "#println" => sprintln(args),
                _ => sprintf(format, args),
            };
            if got != *want {
                failures.push(format!(
                    "{format:?} {args:?}\n   got {got:?}\n  want {want:?}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }


    #[test]
    fn sprint_agrees_with_value_printing() {
        // `Value::to_go_string` is `fmt.Sprint` of one value (except that a
        // top-level missing value is text/template's `<no value>`).
        let mut map = Map::new();
        map.insert("b".into(), l(vec![Value::Nil, f(1e6), s("x y")]));
        map.insert("a".into(), m(vec![("k", b(true))]));
        let values = [
            Value::Nil,
            b(false),
            i(-42),
            f(0.5),
            f(1e21),
            f(-0.0),
            f(f64::NAN),
            f(f64::NEG_INFINITY),
            s("日本語"),
            l(vec![]),
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
        assert_eq!(sprintf("%.100U", &[i(1)]).len(), 102);
        assert_eq!(sprintf("%1000000d", &[i(1)]).len(), 1_000_000);
    }

    #[test]
    fn go_table_strings() {
        check(&[
            ("%s", vec![s("abc")], "abc"),
            ("%v", vec![s("abc")], "abc"),
            ("%x", vec![s("abc")], "616263"),
            ("%x", vec![s("ÿ\u{f0}")], "c3bfc3b0"),
            ("%X", vec![s("ÿ\u{f0}")], "C3BFC3B0"),
            ("%x", vec![s("")], ""),
            ("% x", vec![s("")], ""),
            ("%#x", vec![s("")], ""),
            ("%# x", vec![s("")], ""),
            ("%x", vec![s("xyz")], "78797a"),
            ("%X", vec![s("xyz")], "78797A"),
            ("% x", vec![s("xyz")], "78 79 7a"),
            ("% X", vec![s("xyz")], "78 79 7A"),
            ("%#x", vec![s("xyz")], "0x78797a"),
            ("%#X", vec![s("xyz")], "0X78797A"),
            ("%# x", vec![s("xyz")], "0x78 0x79 0x7a"),
            ("%# X", vec![s("xyz")], "0X78 0X79 0X7A"),
            ("%5s", vec![s("abc")], "  abc"),
            ("%2s", vec![s("☺")], " ☺"),
            ("%-5s", vec![s("abc")], "abc  "),
            ("%05s", vec![s("abc")], "00abc"),
            ("%0-5s", vec![s("abc")], "abc  "),
            (
                "%5s",
                vec![s("abcdefghijklmnopqrstuvwxyz")],
                "abcdefghijklmnopqrstuvwxyz",
            ),
            ("%.5s", vec![s("abcdefghijklmnopqrstuvwxyz")], "abcde"),
            ("%.0s", vec![s("日本語日本語")], ""),
            ("%.5s", vec![s("日本語日本語")], "日本語日本"),
            ("%.10s", vec![s("日本語日本語")], "日本語日本語"),
            ("%.5x", vec![s("abcdefghijklmnopqrstuvwxyz")], "6162636465"),
            ("%.1x", vec![s("日本語")], "e6"),
            ("%.1X", vec![s("日本語")], "E6"),
            ("%20.5s", vec![s("qwertyuiop")], "               qwert"),
            ("%-20.5s", vec![s("qwertyuiop")], "qwert               "),
            ("%2x", vec![s("")], "  "),
            ("%#2x", vec![s("")], "  "),
            ("% 02x", vec![s("")], "00"),
            ("%-2x", vec![s("")], "  "),
            ("%-02x", vec![s("")], "  "),
            ("%8x", vec![s("é")], "    c3a9"),
            ("%#8x", vec![s("a")], "    0x61"),
            ("%08x", vec![s("a")], "00000061"),
            ("%#08x", vec![s("a")], "00000x61"),
            ("%10x", vec![s("ab")], "      6162"),
            ("% 10x", vec![s("ab")], "     61 62"),
            ("%# 10x", vec![s("ab")], " 0x61 0x62"),
            ("%# 010x", vec![s("ab")], "00x61 0x62"),
            ("%-10X", vec![s("a")], "61        "),
            ("%# -010X", vec![s("ab")], "0X61 0X62 "),
            ("%6s", vec![s("日本語")], "   日本語"),
            ("%-6s|", vec![s("é")], "é     |"),
        ]);
    }

    #[test]
    fn go_table_quoting() {
        check(&[
            ("%q", vec![s("abc")], r#""abc""#),
            ("%q", vec![s("")], r#""""#),
            ("%#q", vec![s("")], "``"),
            ("%q", vec![s(r#"""#)], r#""\"""#),
            ("%#q", vec![s(r#"""#)], r#"`"`"#),
            ("%q", vec![s("`")], r#""`""#),
            ("%#q", vec![s("`")], r#""`""#),
            ("%q", vec![s("\n")], r#""\n""#),
            ("%#q", vec![s("\n")], r#""\n""#),
            ("%q", vec![s(r#"\n"#)], r#""\\n""#),
            ("%#q", vec![s(r#"\n"#)], r#"`\n`"#),
            ("%#q", vec![s("abc")], "`abc`"),
            ("%q", vec![s("日本語")], r#""日本語""#),
            ("%+q", vec![s("日本語")], r#""\u65e5\u672c\u8a9e""#),
            ("%#q", vec![s("日本語")], "`日本語`"),
            ("%#+q", vec![s("日本語")], "`日本語`"),
            (
                "%q",
                vec![s("\u{7}\u{8}\u{c}\n\u{d}\t\u{b}\"\\")],
                r#""\a\b\f\n\r\t\v\"\\""#,
            ),
            (
                "%+q",
                vec![s("\u{7}\u{8}\u{c}\n\u{d}\t\u{b}\"\\")],
                r#""\a\b\f\n\r\t\v\"\\""#,
            ),
            (
                "%#q",
                vec![s("\u{7}\u{8}\u{c}\n\u{d}\t\u{b}\"\\")],
                r#""\a\b\f\n\r\t\v\"\\""#,
            ),
            ("%q", vec![s("☺")], r#""☺""#),
            ("% q", vec![s("☺")], r#""☺""#),
            ("%+q", vec![s("☺")], r#""\u263a""#),
            ("%#q", vec![s("☺")], "`☺`"),
            ("%10q", vec![s("⌘")], r#"       "⌘""#),
            ("%+10q", vec![s("⌘")], r#"  "\u2318""#),
            ("%-10q", vec![s("⌘")], r#""⌘"       "#),
            ("%+-10q", vec![s("⌘")], r#""\u2318"  "#),
            ("%010q", vec![s("⌘")], r#"0000000"⌘""#),
            ("%+010q", vec![s("⌘")], r#"00"\u2318""#),
            ("%-010q", vec![s("⌘")], r#""⌘"       "#),
            ("%+-010q", vec![s("⌘")], r#""\u2318"  "#),
            ("%#8q", vec![s("\n")], r#"    "\n""#),
            ("%#+8q", vec![s("\u{d}")], r#"    "\r""#),
            ("%#-8q", vec![s("\t")], "`\t`     "),
            ("%#+-8q", vec![s("\u{8}")], r#""\b"    "#),
            ("%q", vec![s("\u{10ffff}")], r#""\U0010ffff""#),
            ("%+q", vec![s("\u{10ffff}")], r#""\U0010ffff""#),
            ("%#q", vec![s("\u{10ffff}")], "`\u{10ffff}`"),
            ("%08q", vec![s("abc")], r#"000"abc""#),
            ("%-8q", vec![s("abc")], r#""abc"   "#),
            ("%.5q", vec![s("abcdefghijklmnopqrstuvwxyz")], r#""abcde""#),
            ("%.3q", vec![s("日本語日本語")], r#""日本語""#),
            ("%.1q", vec![s("日本語")], r#""日""#),
            ("%10.1q", vec![s("日本語日本語")], r#"       "日""#),
            ("%q", vec![s("\u{0}\u{1f}\u{7f}")], r#""\x00\x1f\x7f""#),
            ("%q", vec![s("\u{a0}")], r#""\u00a0""#),
            ("%q", vec![s("\u{ad}")], r#""\u00ad""#),
            (
                "%q",
                vec![s("\u{200b}\u{200e}\u{2028}\u{2029}")],
                r#""\u200b\u200e\u2028\u2029""#,
            ),
            ("%q", vec![s("\u{feff}")], r#""\ufeff""#),
            ("%#q", vec![s("\u{feff}")], r#""\ufeff""#),
            ("%q", vec![s("\u{fffd}")], "\"\u{fffd}\""),
            ("%q", vec![s("\u{1f600}")], "\"\u{1f600}\""),
            ("%+q", vec![s("\u{1f600}")], r#""\U0001f600""#),
            ("%q", vec![s("\u{e00}")], r#""\u0e00""#),
            ("%q", vec![s("e\u{301}")], "\"e\u{301}\""),
            ("%q", vec![s("'")], r#""'""#),
            ("%#q", vec![s("a\tb")], "`a\tb`"),
            ("%q", vec![s("\u{e0001}")], r#""\U000e0001""#),
            ("%q", vec![s("\u{378}")], r#""\u0378""#),
            ("%q", vec![s("\u{1fbf0}")], "\"\u{1fbf0}\""),
            ("%q", vec![s("\u{3000} ")], r#""\u3000 ""#),
        ]);
    }

    #[test]
    fn go_table_chars() {
        check(&[
            ("%c", vec![i(120)], "x"),
            ("%c", vec![i(228)], "ä"),
            ("%c", vec![i(26412)], "本"),
            ("%c", vec![i(26085)], "日"),
            ("%.0c", vec![i(8984)], "⌘"),
            ("%3c", vec![i(8984)], "  ⌘"),
            ("%-3c", vec![i(8984)], "⌘  "),
            ("%03c", vec![i(120)], "00x"),
            ("%c", vec![i(3584)], "\u{e00}"),
            ("%c", vec![i(1114111)], "\u{10ffff}"),
            ("%c", vec![i(-1)], "\u{fffd}"),
            ("%c", vec![i(56448)], "\u{fffd}"),
            ("%c", vec![i(1114112)], "\u{fffd}"),
            ("%c", vec![i(68719476735)], "\u{fffd}"),
            ("%20c", vec![i(120)], "                   x"),
            ("%-20c", vec![i(120)], "x                   "),
            ("%q", vec![i(0)], r#"'\x00'"#),
            ("%+q", vec![i(0)], r#"'\x00'"#),
            ("%q", vec![i(34)], r#"'"'"#),
            ("%q", vec![i(39)], r#"'\''"#),
            ("%q", vec![i(96)], "'`'"),
            ("%q", vec![i(120)], "'x'"),
            ("%q", vec![i(255)], "'ÿ'"),
            ("%+q", vec![i(255)], r#"'\u00ff'"#),
            ("%q", vec![i(10)], r#"'\n'"#),
            ("%+q", vec![i(10)], r#"'\n'"#),
            ("%q", vec![i(9786)], "'☺'"),
            ("%+q", vec![i(9786)], r#"'\u263a'"#),
            ("% q", vec![i(9786)], "'☺'"),
            ("%.0q", vec![i(9786)], "'☺'"),
            ("%10q", vec![i(8984)], "       '⌘'"),
            ("%+10q", vec![i(8984)], r#"  '\u2318'"#),
            ("%-10q", vec![i(8984)], "'⌘'       "),
            ("%010q", vec![i(8984)], "0000000'⌘'"),
            ("%+010q", vec![i(8984)], r#"00'\u2318'"#),
            ("%-010q", vec![i(8984)], "'⌘'       "),
            ("%q", vec![i(3584)], r#"'\u0e00'"#),
            ("%q", vec![i(1114111)], r#"'\U0010ffff'"#),
            ("%q", vec![i(-1)], "'\u{fffd}'"),
            ("%q", vec![i(56448)], "'\u{fffd}'"),
            ("%q", vec![i(1114112)], "'\u{fffd}'"),
            ("%q", vec![i(68719476735)], "'\u{fffd}'"),
            ("%q", vec![i(127)], r#"'\x7f'"#),
            ("%q", vec![i(92)], r#"'\\'"#),
            ("%U", vec![i(0)], "U+0000"),
            ("%U", vec![i(-1)], "U+FFFFFFFFFFFFFFFF"),
            ("%U", vec![i(10)], "U+000A"),
            ("%#U", vec![i(10)], "U+000A"),
            ("%+U", vec![i(120)], "U+0078"),
            ("%# U", vec![i(120)], "U+0078 'x'"),
            ("%#.2U", vec![i(120)], "U+0078 'x'"),
            ("%U", vec![i(9786)], "U+263A"),
            ("%#U", vec![i(9786)], "U+263A '☺'"),
            ("%U", vec![i(120514)], "U+1D6C2"),
            ("%#U", vec![i(120514)], "U+1D6C2 '\u{1d6c2}'"),
            ("%#14.6U", vec![i(8984)], "  U+002318 '⌘'"),
            ("%#-14.6U", vec![i(8984)], "U+002318 '⌘'  "),
            ("%#014.6U", vec![i(8984)], "  U+002318 '⌘'"),
            ("%#-014.6U", vec![i(8984)], "U+002318 '⌘'  "),
            ("%#U", vec![i(55296)], "U+D800"),
            ("%#U", vec![i(1114112)], "U+110000"),
        ]);
    }

    #[test]
    fn go_table_integers() {
        check(&[
            ("%d", vec![i(12345)], "12345"),
            ("%v", vec![i(12345)], "12345"),
            ("%d", vec![i(-12345)], "-12345"),
            ("%d", vec![i(i64::MIN)], "-9223372036854775808"),
            ("%d", vec![i(9223372036854775807)], "9223372036854775807"),
            ("%.d", vec![i(0)], ""),
            ("%.0d", vec![i(0)], ""),
            ("%6.0d", vec![i(0)], "      "),
            ("%06.0d", vec![i(0)], "      "),
            ("% d", vec![i(12345)], " 12345"),
            ("%+d", vec![i(12345)], "+12345"),
            ("%+d", vec![i(-12345)], "-12345"),
            ("%b", vec![i(7)], "111"),
            ("%b", vec![i(-6)], "-110"),
            ("%#b", vec![i(7)], "0b111"),
            ("%#b", vec![i(-6)], "-0b110"),
            (
                "%b",
                vec![i(i64::MIN)],
                "-1000000000000000000000000000000000000000000000000000000000000000",
            ),
            ("%o", vec![i(668)], "1234"),
            ("%o", vec![i(-668)], "-1234"),
            ("%#o", vec![i(668)], "01234"),
            ("%#o", vec![i(-668)], "-01234"),
            ("%#o", vec![i(0)], "0"),
            ("%O", vec![i(668)], "0o1234"),
            ("%O", vec![i(-668)], "-0o1234"),
            ("%#X", vec![i(0)], "0X0"),
            ("%x", vec![i(313249263)], "12abcdef"),
            ("%X", vec![i(313249263)], "12ABCDEF"),
            ("%x", vec![i(-1)], "-1"),
            ("%#x", vec![i(-255)], "-0xff"),
            ("%x", vec![i(i64::MIN)], "-8000000000000000"),
            ("%.20b", vec![i(7)], "00000000000000000111"),
            ("%10d", vec![i(12345)], "     12345"),
            ("%10d", vec![i(-12345)], "    -12345"),
            ("%+10d", vec![i(12345)], "    +12345"),
            ("%010d", vec![i(12345)], "0000012345"),
            ("%010d", vec![i(-12345)], "-000012345"),
            ("%20.8d", vec![i(1234)], "            00001234"),
            ("%20.8d", vec![i(-1234)], "           -00001234"),
            ("%020.8d", vec![i(1234)], "            00001234"),
            ("%020.8d", vec![i(-1234)], "           -00001234"),
            ("%-20.8d", vec![i(1234)], "00001234            "),
            ("%-20.8d", vec![i(-1234)], "-00001234           "),
            ("%-#20.8x", vec![i(19090108)], "0x01234abc          "),
            ("%-#20.8X", vec![i(19090108)], "0X01234ABC          "),
            ("%-#20.8o", vec![i(668)], "00001234            "),
            (
                "%068d",
                vec![i(1)],
                "00000000000000000000000000000000000000000000000000000000000000000001",
            ),
            (
                "%068d",
                vec![i(-1)],
                "-0000000000000000000000000000000000000000000000000000000000000000001",
            ),
            (
                "%#.68x",
                vec![i(42)],
                "0x0000000000000000000000000000000000000000000000000000000000000000002a",
            ),
            (
                "%.68d",
                vec![i(-42)],
                "-00000000000000000000000000000000000000000000000000000000000000000042",
            ),
            (
                "%+.68d",
                vec![i(42)],
                "+00000000000000000000000000000000000000000000000000000000000000000042",
            ),
            (
                "% .68d",
                vec![i(42)],
                " 00000000000000000000000000000000000000000000000000000000000000000042",
            ),
            (
                "% +.68d",
                vec![i(42)],
                "+00000000000000000000000000000000000000000000000000000000000000000042",
            ),
            ("% 05d", vec![i(42)], " 0042"),
            ("%+05d", vec![i(-42)], "-0042"),
            ("%-05d", vec![i(42)], "42   "),
            ("%#v", vec![i(1000000000)], "1000000000"),
            ("%+v", vec![i(5)], "5"),
            ("% v", vec![i(5)], " 5"),
            ("%x", vec![i(0)], "0"),
            ("%#8x", vec![i(255)], "    0xff"),
            ("%08.3d", vec![i(7)], "     007"),
            ("%t", vec![i(1)], "%!t(int=1)"),
            ("%s", vec![i(1)], "%!s(int=1)"),
            ("%f", vec![i(1)], "%!f(int=1)"),
            ("%e", vec![i(1)], "%!e(int=1)"),
            ("%.3s", vec![i(12345)], "%!s(int=12345)"),
        ]);
    }

    #[test]
    fn go_table_floats() {
        check(&[
            ("%+.3e", vec![f(0.0)], "+0.000e+00"),
            ("%+.3e", vec![f(1.0)], "+1.000e+00"),
            ("%+.3x", vec![f(0.0)], "+0x0.000p+00"),
            ("%+.3x", vec![f(1.0)], "+0x1.000p+00"),
            ("%+.3f", vec![f(-1.0)], "-1.000"),
            ("%+.3F", vec![f(-1.0)], "-1.000"),
            ("%+07.2f", vec![f(1.0)], "+001.00"),
            ("%+07.2f", vec![f(-1.0)], "-001.00"),
            ("%-07.2f", vec![f(1.0)], "1.00   "),
            ("%-07.2f", vec![f(-1.0)], "-1.00  "),
            ("%+-07.2f", vec![f(1.0)], "+1.00  "),
            ("%+-07.2f", vec![f(-1.0)], "-1.00  "),
            ("%-+07.2f", vec![f(1.0)], "+1.00  "),
            ("%+10.2f", vec![f(1.0)], "     +1.00"),
            ("%+10.2f", vec![f(-1.0)], "     -1.00"),
            ("% .3E", vec![f(-1.0)], "-1.000E+00"),
            ("% .3e", vec![f(1.0)], " 1.000e+00"),
            ("% .3X", vec![f(-1.0)], "-0X1.000P+00"),
            ("% .3x", vec![f(1.0)], " 0x1.000p+00"),
            ("%+.3g", vec![f(0.0)], "+0"),
            ("%+.3g", vec![f(1.0)], "+1"),
            ("%+.3g", vec![f(-1.0)], "-1"),
            ("% .3g", vec![f(-1.0)], "-1"),
            ("% .3g", vec![f(1.0)], " 1"),
            ("%b", vec![f(1.0)], "4503599627370496p-52"),
            ("%b", vec![f(0.0)], "0p-1074"),
            ("%b", vec![f(5e-324)], "1p-1074"),
            ("%#g", vec![f(1e-323)], "1.00000e-323"),
            ("%#g", vec![f(-1.0)], "-1.00000"),
            ("%#g", vec![f(1.1)], "1.10000"),
            ("%#g", vec![f(123456.0)], "123456."),
            ("%#g", vec![f(1234567.0)], "1.234567e+06"),
            ("%#g", vec![f(1230000.0)], "1.23000e+06"),
            ("%#g", vec![f(1000000.0)], "1.00000e+06"),
            ("%#.0f", vec![f(1.0)], "1."),
            ("%#.0e", vec![f(1.0)], "1.e+00"),
            ("%#.0x", vec![f(1.0)], "0x1.p+00"),
            ("%#.0g", vec![f(1.0)], "1."),
            ("%#.0g", vec![f(1100000.0)], "1.e+06"),
            ("%#.4f", vec![f(1.0)], "1.0000"),
            ("%#.4e", vec![f(1.0)], "1.0000e+00"),
            ("%#.4x", vec![f(1.0)], "0x1.0000p+00"),
            ("%#.4g", vec![f(1.0)], "1.000"),
            ("%#.4g", vec![f(100000.0)], "1.000e+05"),
            ("%#.4g", vec![f(1.234)], "1.234"),
            ("%#.4g", vec![f(0.1234)], "0.1234"),
            ("%#.4g", vec![f(1.23)], "1.230"),
            ("%#.4g", vec![f(0.123)], "0.1230"),
            ("%#.4g", vec![f(1.2)], "1.200"),
            ("%#.4g", vec![f(0.12)], "0.1200"),
            ("%#.4g", vec![f(10.2)], "10.20"),
            ("%#.4g", vec![f(0.0)], "0.000"),
            ("%#.4g", vec![f(0.012)], "0.01200"),
            ("%#.0f", vec![f(123.0)], "123."),
            ("%#.0e", vec![f(123.0)], "1.e+02"),
            ("%#.0x", vec![f(123.0)], "0x1.p+07"),
            ("%#.0g", vec![f(123.0)], "1.e+02"),
            ("%#.4f", vec![f(123.0)], "123.0000"),
            ("%#.4e", vec![f(123.0)], "1.2300e+02"),
            ("%#.4x", vec![f(123.0)], "0x1.ec00p+06"),
            ("%#.4g", vec![f(123.0)], "123.0"),
            ("%#.4g", vec![f(123000.0)], "1.230e+05"),
            ("%#9.4g", vec![f(1.0)], "    1.000"),
            ("%#b", vec![f(1.0)], "4503599627370496p-52"),
            ("%.4b", vec![f(-1.0)], "-4503599627370496p-52"),
            (
                "%.68f",
                vec![f(1.0)],
                "1.00000000000000000000000000000000000000000000000000000000000000000000",
            ),
            (
                "%.68f",
                vec![f(-1.0)],
                "-1.00000000000000000000000000000000000000000000000000000000000000000000",
            ),
            ("%f", vec![f(f64::INFINITY)], "+Inf"),
            ("%.1f", vec![f(f64::NEG_INFINITY)], "-Inf"),
            ("% f", vec![f(f64::NAN)], " NaN"),
            ("%20f", vec![f(f64::INFINITY)], "                +Inf"),
            ("% 20F", vec![f(f64::INFINITY)], "                 Inf"),
            ("% 20e", vec![f(f64::NEG_INFINITY)], "                -Inf"),
            ("% 20x", vec![f(f64::NEG_INFINITY)], "                -Inf"),
            ("%+20E", vec![f(f64::NEG_INFINITY)], "                -Inf"),
            ("%+20X", vec![f(f64::NEG_INFINITY)], "                -Inf"),
            ("% +20g", vec![f(f64::NEG_INFINITY)], "                -Inf"),
            ("%+-20G", vec![f(f64::INFINITY)], "+Inf                "),
            ("%20e", vec![f(f64::NAN)], "                 NaN"),
            ("%20x", vec![f(f64::NAN)], "                 NaN"),
            ("% +20E", vec![f(f64::NAN)], "                +NaN"),
            ("% +20X", vec![f(f64::NAN)], "                +NaN"),
            ("% -20g", vec![f(f64::NAN)], " NaN                "),
            ("%+-20G", vec![f(f64::NAN)], "+NaN                "),
            ("%+020e", vec![f(f64::INFINITY)], "                +Inf"),
            ("%+020x", vec![f(f64::INFINITY)], "                +Inf"),
            ("%-020f", vec![f(f64::NEG_INFINITY)], "-Inf                "),
            ("%-020E", vec![f(f64::NAN)], "NaN                 "),
            ("%-020X", vec![f(f64::NAN)], "NaN                 "),
            ("%e", vec![f(1.0)], "1.000000e+00"),
            ("%e", vec![f(1234567.8)], "1.234568e+06"),
            ("%e", vec![f(1.2345678e-05)], "1.234568e-05"),
            ("%e", vec![f(-7.0)], "-7.000000e+00"),
            ("%e", vec![f(-1e-09)], "-1.000000e-09"),
            ("%f", vec![f(1234567.8)], "1234567.800000"),
            ("%f", vec![f(1.2345678e-05)], "0.000012"),
            ("%f", vec![f(-7.0)], "-7.000000"),
            ("%f", vec![f(-1e-09)], "-0.000000"),
            ("%g", vec![f(1234567.8)], "1.2345678e+06"),
            ("%g", vec![f(1.2345678e-05)], "1.2345678e-05"),
            ("%g", vec![f(-7.0)], "-7"),
            ("%g", vec![f(-1e-09)], "-1e-09"),
            ("%E", vec![f(1.0)], "1.000000E+00"),
            ("%E", vec![f(1234567.8)], "1.234568E+06"),
            ("%E", vec![f(1.2345678e-05)], "1.234568E-05"),
            ("%E", vec![f(-7.0)], "-7.000000E+00"),
            ("%E", vec![f(-1e-09)], "-1.000000E-09"),
            ("%G", vec![f(1234567.8)], "1.2345678E+06"),
            ("%G", vec![f(1.2345678e-05)], "1.2345678E-05"),
            ("%G", vec![f(-7.0)], "-7"),
            ("%G", vec![f(-1e-09)], "-1E-09"),
            ("%20.6e", vec![f(1234.5)], "        1.234500e+03"),
            ("%20.6e", vec![f(0.0012345)], "        1.234500e-03"),
            ("%20e", vec![f(1234.5)], "        1.234500e+03"),
            ("%20e", vec![f(0.0012345)], "        1.234500e-03"),
            ("%20.8e", vec![f(1234.5)], "      1.23450000e+03"),
            ("%20f", vec![f(1234.56789)], "         1234.567890"),
            ("%20f", vec![f(0.00123456789)], "            0.001235"),
            ("%20f", vec![f(12345678901.234568)], "  12345678901.234568"),
            ("%-20f", vec![f(1234.56789)], "1234.567890         "),
            ("%20.8f", vec![f(1234.56789)], "       1234.56789000"),
            ("%20.8f", vec![f(0.00123456789)], "          0.00123457"),
            ("%g", vec![f(1234.56789)], "1234.56789"),
            ("%g", vec![f(0.00123456789)], "0.00123456789"),
            ("%g", vec![f(1.23456789e+20)], "1.23456789e+20"),
            ("%v", vec![f(1.2345678)], "1.2345678"),
            ("%#v", vec![f(1.2345678)], "1.2345678"),
            ("%#v", vec![f(1.0)], "1"),
            ("%#v", vec![f(1000000.0)], "1e+06"),
            ("%.2f", vec![f(1.0)], "1.00"),
            ("%.2f", vec![f(-1.0)], "-1.00"),
            ("% .2f", vec![f(1.0)], " 1.00"),
            ("% .2f", vec![f(-1.0)], "-1.00"),
            ("%+.2f", vec![f(1.0)], "+1.00"),
            ("%+.2f", vec![f(-1.0)], "-1.00"),
            ("%7.2f", vec![f(1.0)], "   1.00"),
            ("%7.2f", vec![f(-1.0)], "  -1.00"),
            ("% 7.2f", vec![f(1.0)], "   1.00"),
            ("% 7.2f", vec![f(-1.0)], "  -1.00"),
            ("%+7.2f", vec![f(1.0)], "  +1.00"),
            ("%+7.2f", vec![f(-1.0)], "  -1.00"),
            ("% +7.2f", vec![f(1.0)], "  +1.00"),
            ("% +7.2f", vec![f(-1.0)], "  -1.00"),
            ("%07.2f", vec![f(1.0)], "0001.00"),
            ("%07.2f", vec![f(-1.0)], "-001.00"),
            ("% 07.2f", vec![f(1.0)], " 001.00"),
            ("% 07.2f", vec![f(-1.0)], "-001.00"),
            ("%+07.2f", vec![f(1.0)], "+001.00"),
            ("%+07.2f", vec![f(-1.0)], "-001.00"),
            ("% +07.2f", vec![f(1.0)], "+001.00"),
            ("% +07.2f", vec![f(-1.0)], "-001.00"),
            ("%-05.1f", vec![f(1.0)], "1.0  "),
            ("%v", vec![f(1000000.0)], "1e+06"),
            ("%v", vec![f(999999.0)], "999999"),
            ("%v", vec![f(123456789.0)], "1.23456789e+08"),
            ("%v", vec![f(9007199254740992.0)], "9.007199254740992e+15"),
            ("%v", vec![f(1e+20)], "1e+20"),
            ("%v", vec![f(1e+21)], "1e+21"),
            ("%v", vec![f(0.0001)], "0.0001"),
            ("%v", vec![f(1e-05)], "1e-05"),
            ("%v", vec![f(-0.0)], "-0"),
            ("%v", vec![f(f64::INFINITY)], "+Inf"),
            ("%v", vec![f(f64::NEG_INFINITY)], "-Inf"),
            ("%v", vec![f(f64::NAN)], "NaN"),
            ("%v", vec![f(5e-324)], "5e-324"),
            (
                "%v",
                vec![f(1.7976931348623157e+308)],
                "1.7976931348623157e+308",
            ),
            ("%v", vec![f(1606190633288304.2)], "1.6061906332883042e+15"),
            ("%v", vec![f(0.1)], "0.1"),
            ("%v", vec![f(0.3333333333333333)], "0.3333333333333333"),
            ("%v", vec![f(100.0)], "100"),
            ("%.2f", vec![f(0.125)], "0.12"),
            ("%.2f", vec![f(0.375)], "0.38"),
            ("%.0f", vec![f(0.5)], "0"),
            ("%.0f", vec![f(1.5)], "2"),
            ("%.0f", vec![f(2.5)], "2"),
            ("%.1f", vec![f(0.25)], "0.2"),
            ("%.1f", vec![f(0.35)], "0.3"),
            ("%.3g", vec![f(2.5e-05)], "2.5e-05"),
            ("%.1e", vec![f(2.5)], "2.5e+00"),
            ("%.0e", vec![f(2.5)], "2e+00"),
            ("%.3g", vec![f(100.0)], "100"),
            ("%.2g", vec![f(100.0)], "1e+02"),
            ("%.1g", vec![f(0.0)], "0"),
            ("%g", vec![f(0.0)], "0"),
            ("%e", vec![f(0.0)], "0.000000e+00"),
            ("%G", vec![f(1e+100)], "1E+100"),
            ("%.0f", vec![f(1e+21)], "1000000000000000000000"),
            ("%.30f", vec![f(0.1)], "0.100000000000000005551115123126"),
            ("%.20e", vec![f(5e-324)], "4.94065645841246544177e-324"),
            ("%x", vec![f(1.0)], "0x1p+00"),
            ("%x", vec![f(-0.1)], "-0x1.999999999999ap-04"),
            ("%X", vec![f(3.5)], "0X1.CP+01"),
            ("%.1x", vec![f(1.96875)], "0x1.0p+01"),
            ("%x", vec![f(5e-324)], "0x1p-1074"),
            ("%.3f", vec![f(1e-10)], "0.000"),
            ("%08.3f", vec![f(-2.5183)], "-002.518"),
            ("%+08.3e", vec![f(31415.9)], "+3.142e+04"),
            ("%.17g", vec![f(0.1)], "0.10000000000000001"),
            ("%.25g", vec![f(0.1)], "0.1000000000000000055511151"),
            ("%d", vec![f(1.5)], "%!d(float64=1.5)"),
            ("%s", vec![f(2.5)], "%!s(float64=2.5)"),
            ("%q", vec![f(1.0)], "%!q(float64=1)"),
            ("%c", vec![f(65.0)], "%!c(float64=65)"),
            ("%t", vec![f(0.0)], "%!t(float64=0)"),
        ]);
    }

    #[test]
    fn go_table_bools_nil() {
        check(&[
            ("%t", vec![b(true)], "true"),
            ("%v", vec![b(false)], "false"),
            ("%6t", vec![b(true)], "  true"),
            ("%-6t|", vec![b(false)], "false |"),
            ("%06t", vec![b(true)], "00true"),
            ("%d", vec![b(true)], "%!d(bool=true)"),
            ("%s", vec![b(false)], "%!s(bool=false)"),
            ("%q", vec![b(true)], "%!q(bool=true)"),
            ("%#v", vec![b(true)], "true"),
            ("%v", vec![Value::Nil], "<nil>"),
            ("%s", vec![Value::Nil], "%!s(<nil>)"),
            ("%d", vec![Value::Nil], "%!d(<nil>)"),
            ("%10v", vec![Value::Nil], "     <nil>"),
            ("%-10v", vec![Value::Nil], "<nil>     "),
            ("%#v", vec![Value::Nil], "<nil>"),
            ("%T", vec![Value::Nil], "<nil>"),
            ("%10T", vec![Value::Nil], "     <nil>"),
            ("%-10T", vec![Value::Nil], "<nil>     "),
            ("%q", vec![Value::Nil], "%!q(<nil>)"),
            ("%x", vec![Value::Nil], "%!x(<nil>)"),
            ("%p", vec![Value::Nil], "%!p(<nil>)"),
            ("%#p", vec![Value::Nil], "%!p(<nil>)"),
            ("%s", vec![Value::Missing], "%!s(<nil>)"),
            ("%v", vec![Value::Missing], "<nil>"),
            ("%d", vec![Value::Missing], "%!d(<nil>)"),
            ("%T", vec![i(1)], "int"),
            ("%T", vec![f(1.5)], "float64"),
            ("%T", vec![s("x")], "string"),
            ("%T", vec![b(true)], "bool"),
            ("%T", vec![l(vec![i(1)])], "[]interface {}"),
            ("%T", vec![m(vec![("a", i(1))])], "map[string]interface {}"),
            ("%8T", vec![i(1)], "     int"),
            ("%.3T", vec![s("x")], "str"),
            ("%p", vec![i(27)], "%!p(int=27)"),
        ]);
    }

    #[test]
    fn go_table_collections() {
        check(&[
            (
                "%v",
                vec![l(vec![i(1), s("hello"), f(2.5), Value::Nil])],
                "[1 hello 2.5 <nil>]",
            ),
            ("%s", vec![l(vec![s("a"), s("b")])], "[a b]"),
            ("%d", vec![l(vec![i(1), i(2)])], "[1 2]"),
            ("%d", vec![l(vec![i(1), i(2), i(15)])], "[1 2 15]"),
            ("%x", vec![l(vec![i(1), i(2), i(15)])], "[1 2 f]"),
            ("%#x", vec![l(vec![i(1), i(2), i(15)])], "[0x1 0x2 0xf]"),
            ("%q", vec![l(vec![s("a"), s("b")])], r#"["a" "b"]"#),
            ("%x", vec![l(vec![s("abc"), s("x")])], "[616263 78]"),
            ("%5d", vec![l(vec![i(1), i(2)])], "[    1     2]"),
            ("%-3v|", vec![l(vec![i(1), s("a")])], "[1   a  ]|"),
            ("%06v", vec![l(vec![f(10.0), i(10)])], "[000010 000010]"),
            ("%06v", vec![l(vec![f(-10.0), i(10)])], "[-00010 000010]"),
            (
                "%03.6v",
                vec![l(vec![i(1), f(2.0), s("x")])],
                "[000001 002 00x]",
            ),
            (
                "%03.0v",
                vec![l(vec![i(0), f(2.0), s("x")])],
                "[    002 000]",
            ),
            ("%v", vec![m(vec![("a", i(1))])], "map[a:1]"),
            (
                "%v",
                vec![m(vec![("b", i(2)), ("a", l(vec![i(1), Value::Nil]))])],
                "map[a:[1 <nil>] b:2]",
            ),
            ("%s", vec![m(vec![("a", i(1))])], "map[a:%!s(int=1)]"),
            ("%d", vec![m(vec![("a", i(1))])], "map[%!d(string=a):1]"),
            ("%5v", vec![m(vec![("a", i(1))])], "map[    a:    1]"),
            ("%v", vec![m(vec![])], "map[]"),
            ("%v", vec![l(vec![])], "[]"),
            ("%s", vec![l(vec![Value::Nil, i(1)])], "[<nil> %!s(int=1)]"),
            (
                "%d",
                vec![l(vec![Value::Nil, s("x"), b(true), f(1.5)])],
                "[<nil> %!d(string=x) %!d(bool=true) %!d(float64=1.5)]",
            ),
            (
                "%v",
                vec![l(vec![
                    l(vec![i(1), i(2)]),
                    m(vec![("k", l(vec![Value::Nil]))]),
                ])],
                "[[1 2] map[k:[<nil>]]]",
            ),
            ("%10s", vec![l(vec![])], "[]"),
            (
                "%#v",
                vec![l(vec![i(1), s("hello"), f(2.5), Value::Nil])],
                r#"[]interface {}{1, "hello", 2.5, interface {}(nil)}"#,
            ),
            ("%#v", vec![l(vec![])], "[]interface {}{}"),
            (
                "%#v",
                vec![m(vec![("a", i(1)), ("b", Value::Nil), ("c", s("x"))])],
                r#"map[string]interface {}{"a":1, "b":interface {}(nil), "c":"x"}"#,
            ),
            ("%#v", vec![m(vec![])], "map[string]interface {}{}"),
            (
                "%#v",
                vec![l(vec![l(vec![b(true)]), m(vec![("k", f(1.0))])])],
                r#"[]interface {}{[]interface {}{true}, map[string]interface {}{"k":1}}"#,
            ),
            ("%#v", vec![s("foo")], r#""foo""#),
            (
                "%+v",
                vec![m(vec![("a", l(vec![i(1), i(-2)]))])],
                "map[a:[1 -2]]",
            ),
            ("%+d", vec![l(vec![i(1), i(-2)])], "[+1 -2]"),
            ("% d", vec![l(vec![i(1), i(11), i(111)])], "[ 1  11  111]"),
            ("%x", vec![m(vec![("ab", s("cd"))])], "map[6162:6364]"),
            ("%t", vec![l(vec![b(true), i(1)])], "[true %!t(int=1)]"),
            ("%c", vec![l(vec![i(65), i(66)])], "[A B]"),
            ("%U", vec![l(vec![i(65)])], "[U+0041]"),
            (
                "%e",
                vec![l(vec![f(1.5), i(2)])],
                "[1.500000e+00 %!e(int=2)]",
            ),
            ("%q", vec![m(vec![("k", i(65))])], r#"map["k":'A']"#),
            ("%.1s", vec![l(vec![s("abc"), s("de")])], "[a d]"),
            (
                "%z",
                vec![l(vec![i(1), s("a")])],
                "[%!z(int=1) %!z(string=a)]",
            ),
            (
                "%!",
                vec![m(vec![("a", Value::Nil)])],
                "map[%!!(string=a):<nil>]",
            ),
        ]);
    }

    #[test]
    fn go_table_errors() {
        check(&[
            ("", vec![Value::Nil], "%!(EXTRA <nil>)"),
            ("", vec![i(2)], "%!(EXTRA int=2)"),
            ("no args", vec![s("hello")], "no args%!(EXTRA string=hello)"),
            ("%s %", vec![s("hello")], "hello %!(NOVERB)"),
            ("%s %.2", vec![s("hello")], "hello %!(NOVERB)"),
            ("%017091901790959340919092959340919017929593813360", vec![i(0)], "%!(NOVERB)%!(EXTRA int=0)"),
            ("%184467440737095516170v", vec![i(0)], "%!(NOVERB)%!(EXTRA int=0)"),
            ("%010.2", vec![s("12345")], "%!(NOVERB)%!(EXTRA string=12345)"),
            ("%.", vec![i(3)], "%!.(int=3)"),
            ("%d", vec![s("hello")], "%!d(string=hello)"),
            ("%s", vec![], "%!s(MISSING)"),
            ("%d %d", vec![i(1)], "1 %!d(MISSING)"),
            ("%s", vec![s("x"), i(1)], "x%!(EXTRA int=1)"),
            ("%z", vec![i(1)], "%!z(int=1)"),
            ("%\u{2620}", vec![Value::Nil], "%!\u{2620}(<nil>)"),
            ("%\u{2620}", vec![i(0)], "%!\u{2620}(int=0)"),
            ("%\u{2620}", vec![s("hello")], "%!\u{2620}(string=hello)"),
            ("%\u{2620}", vec![f(1.2345678)], "%!\u{2620}(float64=1.2345678)"),
            ("%5z", vec![i(1)], "%!z(int=    1)"),
            ("%#z", vec![f(1.0)], "%!z(float64=1.00000)"),
            ("%d", vec![l(vec![s("x"), i(1)])], "[%!d(string=x) 1]"),
            ("", vec![l(vec![i(1), i(2)]), m(vec![("a", s("b"))]), f(1.5), b(true)], "%!(EXTRA []interface {}=[1 2], map[string]interface {}=map[a:b], float64=1.5, bool=true)"),
            ("%v", vec![i(1), Value::Nil, s("x")], "1%!(EXTRA <nil>, string=x)"),
            ("%%", vec![], "%"),
            ("%5%", vec![], "%"),
            ("%-%", vec![], "%"),
            ("100%% %d%%", vec![i(5)], "100% 5%"),
            ("%!", vec![], "%!!(MISSING)"),
            ("%", vec![], "%!(NOVERB)"),
            ("abc%", vec![i(1)], "abc%!(NOVERB)%!(EXTRA int=1)"),
            ("%é", vec![i(1)], "%!é(int=1)"),
            ("%*d", vec![i(4), i(42)], "  42"),
            ("%-*d", vec![i(4), i(42)], "42  "),
            ("%*d", vec![i(-4), i(42)], "42  "),
            ("%-*d", vec![i(-4), i(42)], "42  "),
            ("%.*d", vec![i(4), i(42)], "0042"),
            ("%*.*d", vec![i(8), i(4), i(42)], "    0042"),
            ("%0*d", vec![i(4), i(42)], "0042"),
            ("%*d", vec![Value::Nil, i(42)], "%!(BADWIDTH)42"),
            ("%*d", vec![i(10000000), i(42)], "%!(BADWIDTH)42"),
            ("%*d", vec![i(-10000000), i(42)], "%!(BADWIDTH)42"),
            ("%.*d", vec![Value::Nil, i(42)], "%!(BADPREC)42"),
            ("%.*d", vec![i(-1), i(42)], "%!(BADPREC)42"),
            ("%.*d", vec![i(10000000), i(42)], "%!(BADPREC)42"),
            ("%*d", vec![i(5), s("foo")], "%!d(string=  foo)"),
            ("%*% %d", vec![i(20), i(5)], "% 5"),
            ("%*", vec![i(4)], "%!(NOVERB)"),
            ("%*d", vec![f(4.0), i(42)], "%!(BADWIDTH)42"),
            ("%*d", vec![s("4"), i(42)], "%!(BADWIDTH)42"),
            ("%*d", vec![], "%!(BADWIDTH)%!d(MISSING)"),
            ("%.*f", vec![i(2)], "%!f(MISSING)"),
            ("%0*d", vec![i(-4), i(42)], "42  "),
            ("%[1]d", vec![i(1)], "1"),
            ("%[2]d", vec![i(2), i(1)], "1"),
            ("%[2]d %[1]d", vec![i(1), i(2)], "2 1"),
            ("%[2]*[1]d", vec![i(2), i(5)], "    2"),
            ("%[3]*.[2]*[1]f", vec![f(12.0), i(2), i(6)], " 12.00"),
            ("%[1]*.[2]*[3]f", vec![i(6), i(2), f(12.0)], " 12.00"),
            ("%[1]*[3]f", vec![i(10), i(99), f(12.0)], " 12.000000"),
            ("%.[1]*[3]f", vec![i(6), i(99), f(12.0)], "12.000000"),
            ("%[1]*.[3]f", vec![i(6), i(3), f(12.0)], "    12"),
            ("%d %d %d %#[1]o %#o %#o", vec![i(11), i(12), i(13)], "11 12 13 013 014 015"),
            ("%[d", vec![i(2), i(1)], "%!d(BADINDEX)"),
            ("%]d", vec![i(2), i(1)], "%!](int=2)d%!(EXTRA int=1)"),
            ("%[]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
            ("%[-3]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
            ("%[99]d", vec![i(2), i(1)], "%!d(BADINDEX)"),
            ("%[3]", vec![i(2), i(1)], "%!(NOVERB)"),
            ("%[1].2d", vec![i(5), i(6)], "%!d(BADINDEX)"),
            ("%[1]2d", vec![i(2), i(1)], "%!d(BADINDEX)"),
            ("%3.[2]d", vec![i(7)], "%!d(BADINDEX)"),
            ("%.[2]d", vec![i(7)], "%!d(BADINDEX)"),
            ("%d %d %d %#[1]o %#o %#o %#o", vec![i(11), i(12), i(13)], "11 12 13 013 014 015 %!o(MISSING)"),
            ("%[5]d %[2]d %d", vec![i(1), i(2), i(3)], "%!d(BADINDEX) 2 3"),
            ("%d %[3]d %d", vec![i(1), i(2)], "1 %!d(BADINDEX) 2"),
            ("%.[]", vec![], "%!](BADINDEX)"),
            ("%.-3d", vec![i(42)], "%!-(int=42)3d"),
            ("%2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
            ("%-2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
            ("%.2147483648d", vec![i(42)], "%!(NOVERB)%!(EXTRA int=42)"),
            ("%[2]d", vec![i(1), i(2), i(3)], "2"),
        ]);
    }

    #[test]
    fn go_table_print() {
        check(&[
            (
                "#print",
                vec![s("<"), i(1), s(">:"), i(1), i(2), i(3), s("!")],
                "<1>:1 2 3!",
            ),
            (
                "#println",
                vec![s("<"), i(1), s(">:"), i(1), i(2), i(3), s("!")],
                "< 1 >: 1 2 3 !\n",
            ),
            ("#print", vec![], ""),
            ("#println", vec![], "\n"),
            ("#print", vec![i(1), i(2)], "1 2"),
            ("#print", vec![s("a"), s("b")], "ab"),
            ("#print", vec![s("a"), i(1), s("b")], "a1b"),
            ("#print", vec![i(1), s("a"), i(2)], "1a2"),
            ("#print", vec![Value::Nil, Value::Nil], "<nil> <nil>"),
            ("#print", vec![Value::Missing, s("x")], "<nil>x"),
            ("#print", vec![l(vec![i(1)]), l(vec![i(2)])], "[1] [2]"),
            (
                "#print",
                vec![b(true), f(1.5), m(vec![("a", s("b"))])],
                "true 1.5 map[a:b]",
            ),
            ("#print", vec![s(""), i(1), s(""), i(2)], "12"),
            (
                "#println",
                vec![s("a"), s("b"), Value::Nil, f(1.0)],
                "a b <nil> 1\n",
            ),
            (
                "#print",
                vec![f(1000000.0), f(1e-07), f(-0.0)],
                "1e+06 1e-07 -0",
            ),
            (
                "#print",
                vec![l(vec![Value::Nil, l(vec![Value::Nil])])],
                "[<nil> [<nil>]]",
            ),
        ]);
    }
}
