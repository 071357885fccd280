//! Go's `fmt` package as templates reach it (`print`, `println`, `printf`, and
//! `%q`-style quoting), reproducing Go 1.20 output byte for byte for the value
//! types templates hold.
//!
//! This module owns:
//! - the `printf` engine: flags (`+ - # 0` and space), width and precision
//!   (including `*` and `%[n]` argument indexes), every verb Go gives meaning to
//!   for `bool`/`int`/`float64`/`string`/`[]interface{}`/`map[string]interface{}`
//!   and nil, and Go's error strings (`%!d(string=x)`, `%!s(MISSING)`,
//!   `%!(EXTRA ...)`, `%!(NOVERB)`, `%!(BADWIDTH)`, `%!(BADPREC)`, `%!d(BADINDEX)`);
//! - `strconv.FormatFloat` for the `e E f g G b x X` formats;
//! - `strconv.Quote`/`QuoteRune` with an exact `strconv.IsPrint` table
//!   (Unicode 13.0, the version Go 1.20 ships).
//!
//! Arguments are taken as Go's `...interface{}` sees them: [`Value::Missing`]
//! and [`Value::Nil`] are both the nil interface, which is how `text/template`
//! passes a missing value to a function.
//!
//! Not reproduced: `%p` (Go prints a memory address; here every operand gets
//! Go's "not a pointer" error form, `%!p(type=value)`).

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

/// Go's `strconv.Quote`: a double-quoted Go string literal, escaping `"`, `\`,
/// control characters and runes that `strconv.IsPrint` rejects.
pub fn go_quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// Go's `strconv.QuoteToASCII`: like [`go_quote`] but every non-ASCII rune is
/// escaped too (`\u00e9`, `\U0001f600`).
pub fn go_quote_to_ascii(s: &str) -> String {
    quote_with(s, '"', true)
}

/// Go's `strconv.QuoteRune`: a single-quoted Go rune literal; invalid code
/// points (surrogates, > U+10FFFF, negative) become U+FFFD.
pub fn go_quote_rune(r: i64) -> String {
    quote_rune(r, false)
}

/// Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space, per Unicode 13.0.
pub fn is_print(r: u32) -> bool {
    PRINT_RANGES
        .binary_search_by(|&(lo, hi)| {
            if hi < r {
                std::cmp::Ordering::Less
            } else if lo > r {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Go's `strconv.FormatFloat(v, fmt, prec, 64)` for `fmt` in `b e E f g G x X`;
/// a negative `prec` asks for the fewest digits that read back exactly.
pub fn format_float(v: f64, fmt: u8, prec: i64) -> String {
    let bits = v.to_bits();
    let neg = bits >> 63 != 0;
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1u64 << 52) - 1);
    if biased == 0x7ff {
        return if mant != 0 {
            "NaN"
        } else if neg {
            "-Inf"
        } else {
            "+Inf"
        }
        .to_string();
    }
    let mut exp = biased;
    if exp == 0 {
        exp += 1; // denormal
    } else {
        mant |= 1u64 << 52;
    }
    exp -= 1023;
    let mut out = String::new();
    match fmt {
        b'b' => {
            if neg {
                out.push('-');
            }
            out.push_str(&mant.to_string());
            out.push('p');
            let e = exp - 52;
            if e >= 0 {
                out.push('+');
            }
            out.push_str(&e.to_string());
            return out;
        }
        b'x' | b'X' => return fmt_hex_float(neg, mant, exp, fmt, prec),
        _ => {}
    }
    let abs = v.abs();
    let shortest = prec < 0;
    let mut prec = prec;
    let dec = if shortest {
        let d = shortest_decimal(mant, exp - 52);
        prec = match fmt {
            b'e' | b'E' => (d.nd() - 1).max(0),
            b'f' => (d.nd() - d.dp).max(0),
            _ => d.nd(),
        };
        d
    } else {
        match fmt {
            b'e' | b'E' => Decimal::significant(abs, prec + 1),
            b'f' => Decimal::fixed(abs, prec),
            _ => {
                if prec == 0 {
                    prec = 1;
                }
                Decimal::significant(abs, prec)
            }
        }
    };
    match fmt {
        b'e' | b'E' => fmt_e(&mut out, neg, &dec, prec, fmt),
        b'f' => fmt_f(&mut out, neg, &dec, prec),
        b'g' | b'G' => {
            let nd = dec.nd();
            let mut eprec = prec;
            if eprec > nd && nd >= dec.dp {
                eprec = nd;
            }
            // The shortest form switches to an exponent at 1e-5 and 1e+6 (Go's
            // %g; the 1e21 threshold belongs to JSON, not to fmt).
            if shortest {
                eprec = 6;
            }
            let x = dec.dp - 1;
            if x < -4 || x >= eprec {
                let p = prec.min(nd);
                fmt_e(&mut out, neg, &dec, p - 1, fmt + b'e' - b'g');
            } else {
                let p = if prec > dec.dp { nd } else { prec };
                fmt_f(&mut out, neg, &dec, (p - dec.dp).max(0));
            }
        }
        _ => {
            out.push('%');
            out.push(fmt as char);
        }
    }
    out
}

/// More significant digits than any f64 has in its exact decimal expansion.
const MAX_EXACT_DIGITS: i64 = 800;

/// More fractional digits than any f64 has in its exact decimal expansion.
const MAX_FRACTION_DIGITS: i64 = 1100;

/// A non-negative decimal `0.d[0]d[1]... × 10^dp` with no trailing zeros in `d`
/// (zero has no digits), as Go's `decimalSlice`.
struct Decimal {
    d: Vec<u8>,
    dp: i64,
}

impl Decimal {
    fn nd(&self) -> i64 {
        self.d.len() as i64
    }

    /// Parses Rust's `{:.N e}` output (`d.ddde±x`) of a non-zero value.
    fn from_exp_form(s: &str) -> Decimal {
        let (mantissa, exp) = s.split_once('e').expect("exponent form");
        let exp: i64 = exp.parse().expect("exponent");
        let mut d: Vec<u8> = mantissa.bytes().filter(|b| *b != b'.').collect();
        while d.last() == Some(&b'0') {
            d.pop();
        }
        Decimal { d, dp: exp + 1 }
    }

    /// `abs` rounded to `n >= 1` significant digits. Rust's fixed-precision
    /// formatting rounds the exact binary value, ties to even, as Go does.
    fn significant(abs: f64, n: i64) -> Decimal {
        if abs == 0.0 {
            return Decimal {
                d: Vec::new(),
                dp: 0,
            };
        }
        // An f64 has at most 767 significant decimal digits, so past that the
        // digits are exact (and Rust's formatter limits precisions).
        let n = n.clamp(1, MAX_EXACT_DIGITS) as usize;
        Decimal::from_exp_form(&format!("{:.*e}", n - 1, abs))
    }

    /// `abs` rounded to `prec` digits after the decimal point.
    fn fixed(abs: f64, prec: i64) -> Decimal {
        // At most 1074 fractional digits are ever non-zero.
        let s = format!("{:.*}", prec.clamp(0, MAX_FRACTION_DIGITS) as usize, abs);
        let int_len = s.find('.').unwrap_or(s.len()) as i64;
        let mut d: Vec<u8> = s.bytes().filter(|b| *b != b'.').collect();
        let lead = d.iter().take_while(|b| **b == b'0').count();
        d.drain(..lead);
        while d.last() == Some(&b'0') {
            d.pop();
        }
        let dp = if d.is_empty() {
            0
        } else {
            int_len - lead as i64
        };
        Decimal { d, dp }
    }
}

/// `%e`: `-d.dddde±dd`.
fn fmt_e(out: &mut String, neg: bool, dec: &Decimal, prec: i64, fmt: u8) {
    if neg {
        out.push('-');
    }
    out.push(dec.d.first().map_or('0', |c| *c as char));
    if prec > 0 {
        out.push('.');
        let m = dec.nd().min(prec + 1);
        let mut i = 1;
        while i < m {
            out.push(dec.d[i as usize] as char);
            i += 1;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(fmt as char);
    push_exponent(out, if dec.d.is_empty() { 0 } else { dec.dp - 1 });
}

/// A float exponent as strconv writes it: sign and at least two digits.
fn push_exponent(out: &mut String, exp: i64) {
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

/// `%f`: `-ddd.dddd`.
fn fmt_f(out: &mut String, neg: bool, dec: &Decimal, prec: i64) {
    if neg {
        out.push('-');
    }
    if dec.dp > 0 {
        let m = dec.nd().min(dec.dp);
        for c in &dec.d[..m as usize] {
            out.push(*c as char);
        }
        for _ in m..dec.dp {
            out.push('0');
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec {
            let j = dec.dp + i;
            let c = if 0 <= j && j < dec.nd() {
                dec.d[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

/// `%x` on a float: `-0x1.yyyyp±dd`, `prec` hex digits after the point
/// (all needed when negative). `mant`/`exp` are the value's unpacked
/// mantissa (implicit bit set) and unbiased exponent.
fn fmt_hex_float(neg: bool, mut mant: u64, mut exp: i64, fmt: u8, prec: i64) -> String {
    if mant == 0 {
        exp = 0;
    }
    // Put the leading 1 (if any) at bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        let shift = (prec * 4) as u32;
        let extra = (mant << shift) & ((1u64 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(fmt as char);
    out.push((b'0' + ((mant >> 60) & 1) as u8) as char);
    mant <<= 4;
    if prec < 0 && mant != 0 {
        out.push('.');
        while mant != 0 {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    } else if prec > 0 {
        out.push('.');
        for _ in 0..prec {
            out.push(hex[((mant >> 60) & 15) as usize] as char);
            mant <<= 4;
        }
    }
    out.push(if fmt == b'X' { 'P' } else { 'p' });
    push_exponent(&mut out, exp);
    out
}

/// `strconv` quoting of a string with `quote` as delimiter.
fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        escape_rune(&mut out, c as u32, quote, ascii_only);
    }
    out.push(quote);
    out
}

/// `strconv.QuoteRune`/`QuoteRuneToASCII`.
fn quote_rune(r: i64, ascii_only: bool) -> String {
    let r = u32::try_from(r)
        .ok()
        .filter(|r| char::from_u32(*r).is_some())
        .unwrap_or(0xFFFD);
    let mut out = String::from('\'');
    escape_rune(&mut out, r, '\'', ascii_only);
    out.push('\'');
    out
}

/// Appends one (valid) rune as it appears inside a Go quoted literal.
fn escape_rune(out: &mut String, r: u32, quote: char, ascii_only: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if r < 0x80 && is_print(r) {
            out.push(c);
            return;
        }
    } else if is_print(r) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ => {
            let (prefix, digits) = if r < 0x20 || r == 0x7f {
                ("\\x", 2)
            } else if r < 0x10000 {
                ("\\u", 4)
            } else {
                ("\\U", 8)
            };
            out.push_str(prefix);
            for k in (0..digits).rev() {
                out.push(HEX[((r >> (4 * k)) & 0xf) as usize] as char);
            }
        }
    }
}

/// Go's `strconv.CanBackquote` for a valid UTF-8 string.
fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| {
        if c.len_utf8() > 1 {
            c != '\u{FEFF}'
        } else {
            !((c < ' ' && c != '\t') || c == '`' || c == '\u{7f}')
        }
    })
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

// ----- Go's shortest float digits (strconv's Ryū variant) -----
//
// Go picks the shortest digits inside the rounding interval, rounding the
// exact value to that length; its tie rules differ from Rust's `{:e}` (which
// rounds ties up), and a block of 9 digits dropped at once rounds exact ties
// down. The steps below follow Go's `ryuFtoaShortest` decision for decision,
// with exact big-integer arithmetic in place of its 128-bit power table.

/// Go's shortest decimal of `mant × 2^exp` (`mant` with its implicit bit).
fn shortest_decimal(mant: u64, exp: i64) -> Decimal {
    if mant == 0 {
        return Decimal {
            d: Vec::new(),
            dp: 0,
        };
    }
    let mut d = DigitBuf {
        d: [0; 32],
        off: 0,
        nd: 0,
        dp: 0,
    };
    // An exact integer: its neighbours are not admissible representations.
    if exp <= 0 && i64::from(mant.trailing_zeros()) >= -exp {
        let m = mant >> (-exp);
        ryu_digits(&mut d, m, m, m, true, false);
        return d.into_decimal();
    }
    // Bounds of the rounding interval, as multiples of 2^e2.
    let (ml, mc, mu, e2) = if mant != 1 << 52 || exp == -1074 {
        (2 * mant - 1, 2 * mant, 2 * mant + 1, exp - 1)
    } else {
        (4 * mant - 1, 4 * mant, 4 * mant + 2, exp - 2)
    };
    if e2 == 0 {
        ryu_digits(&mut d, ml, mc, mu, true, false);
        return d.into_decimal();
    }
    // Scale by 10^q, the power of ten just above 2^-e2.
    let q = ((-e2) * 78913).div_euclid(1 << 18) + 1;
    let (dl, fl) = scale_exact(ml, e2, q);
    let (dc, fc) = scale_exact(mc, e2, q);
    let (du, fu) = scale_exact(mu, e2, q);
    let even = mant & 1 == 0;
    // The bounds themselves are admissible only for an even mantissa.
    let dl = if fl == Frac::Zero && even { dl } else { dl + 1 };
    let du = if fu != Frac::Zero || even { du } else { du - 1 };
    let cup = fc == Frac::AboveHalf || (fc == Frac::Half && dc & 1 == 1);
    ryu_digits(&mut d, dl, dc, du, fc == Frac::Zero, cup);
    d.dp -= q;
    d.into_decimal()
}

/// Go's `decimalSlice` while Ryū fills it: digits `d[off..off+nd]`.
struct DigitBuf {
    d: [u8; 32],
    off: usize,
    nd: i64,
    dp: i64,
}

impl DigitBuf {
    fn set(&mut self, i: i64, c: u8) {
        self.d[self.off + i as usize] = c;
    }

    fn into_decimal(self) -> Decimal {
        let digits = self.d[self.off..self.off + self.nd.max(0) as usize].to_vec();
        Decimal {
            d: digits,
            dp: self.dp,
        }
    }
}

fn divmod_1e9(x: u64) -> (u32, u32) {
    ((x / 1_000_000_000) as u32, (x % 1_000_000_000) as u32)
}

/// Go's `ryuDigits`: the shortest digits of `central` within `[lower, upper]`.
fn ryu_digits(d: &mut DigitBuf, lower: u64, central: u64, upper: u64, c0: bool, cup: bool) {
    let (lhi, llo) = divmod_1e9(lower);
    let (chi, clo) = divmod_1e9(central);
    let (uhi, ulo) = divmod_1e9(upper);
    if uhi == 0 {
        ryu_digits32(d, llo, clo, ulo, c0, cup, 8);
    } else if lhi < uhi {
        // Drop 9 digits at once.
        let lhi = if llo != 0 { lhi.wrapping_add(1) } else { lhi };
        let c0 = c0 && clo == 0;
        let cup = clo > 500_000_000 || (clo == 500_000_000 && cup);
        ryu_digits32(d, lhi, chi, uhi, c0, cup, 8);
        d.dp += 9;
    } else {
        d.nd = 0;
        let mut n = 9usize;
        let mut v = chi;
        while v > 0 {
            n -= 1;
            d.d[d.off + n] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        d.off += n;
        d.nd = 9 - n as i64;
        let end = d.nd + 8;
        ryu_digits32(d, llo, clo, ulo, c0, cup, end);
    }
    while d.nd > 0 && d.d[d.off + d.nd as usize - 1] == b'0' {
        d.nd -= 1;
    }
    while d.nd > 0 && d.d[d.off] == b'0' {
        d.nd -= 1;
        d.dp -= 1;
        d.off += 1;
    }
}

/// Go's `ryuDigits32`: trims digits while the interval allows, then rounds.
fn ryu_digits32(
    d: &mut DigitBuf,
    mut lower: u32,
    mut central: u32,
    mut upper: u32,
    mut c0: bool,
    mut cup: bool,
    mut endindex: i64,
) {
    if upper == 0 {
        d.dp = endindex + 1;
        return;
    }
    let mut trimmed = 0;
    let mut c_next = 0;
    while upper > 0 {
        let l = lower.wrapping_add(9) / 10;
        let (mut c, mut cdigit) = (central / 10, central % 10);
        let u = upper / 10;
        if l > u {
            break;
        }
        if l == c.wrapping_add(1) && c < u {
            c += 1;
            cdigit = 0;
            cup = false;
        }
        trimmed += 1;
        c0 = c0 && c_next == 0;
        c_next = cdigit;
        lower = l;
        central = c;
        upper = u;
    }
    if trimmed > 0 {
        cup = c_next > 5 || (c_next == 5 && (!c0 || central & 1 == 1));
    }
    if central < upper && cup {
        central += 1;
    }
    endindex -= trimmed;
    let mut v = central;
    let mut n = endindex;
    while n > d.nd {
        let v2 = v % 100;
        d.set(n, b'0' + (v2 % 10) as u8);
        d.set(n - 1, b'0' + (v2 / 10) as u8);
        n -= 2;
        v /= 100;
    }
    if n == d.nd {
        d.set(n, b'0' + v as u8);
    }
    d.nd = endindex + 1;
    d.dp = d.nd + trimmed;
}

/// How a scaled value's fractional part compares with zero and one half.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frac {
    Zero,
    BelowHalf,
    Half,
    AboveHalf,
}

/// `floor(m × 2^e2 × 10^q)` and its fractional part, exactly.
///
/// Works on `2 × value` so that one division tells both the floor and how the
/// fraction compares with one half.
fn scale_exact(m: u64, e2: i64, q: i64) -> (u64, Frac) {
    let mut n = Big::from_u64(m);
    n.mul_small(2);
    let mut exact = true;
    let mut shift_right = 0;
    if e2 >= 0 {
        n = n.shl(e2 as u32);
    } else {
        shift_right = (-e2) as u32;
    }
    if q >= 0 {
        n.mul_pow10(q as u32);
    } else {
        exact = n.div_pow10((-q) as u32);
    }
    exact &= n.low_bits_zero(shift_right);
    let twice = n.shr_to_u128(shift_right); // floor(2 × value)
    let frac = match (twice & 1 == 1, exact) {
        (false, true) => Frac::Zero,
        (false, false) => Frac::BelowHalf,
        (true, true) => Frac::Half,
        (true, false) => Frac::AboveHalf,
    };
    ((twice >> 1) as u64, frac)
}

/// A minimal unsigned big integer (little-endian 32-bit limbs, no high zero limbs).
#[derive(Clone)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn mul_small(&mut self, k: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let p = u64::from(*limb) * u64::from(k) + carry;
            *limb = p as u32;
            carry = p >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        self.mul_small(10u32.pow(n));
    }

    /// Divides in place, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    /// Divides by 10^n in place (rounding down); true when nothing was lost.
    fn div_pow10(&mut self, mut n: u32) -> bool {
        let mut exact = true;
        while n > 0 {
            let k = n.min(9);
            exact &= self.div_small(10u32.pow(k)) == 0;
            n -= k;
        }
        exact
    }

    fn shl(&self, bits: u32) -> Big {
        let (limbs, bits) = ((bits / 32) as usize, bits % 32);
        let mut out = vec![0u32; limbs];
        let mut carry = 0u32;
        for &limb in &self.0 {
            if bits == 0 {
                out.push(limb);
            } else {
                out.push((limb << bits) | carry);
                carry = limb >> (32 - bits);
            }
        }
        out.push(carry);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// True when the lowest `bits` bits are all zero.
    fn low_bits_zero(&self, bits: u32) -> bool {
        let (limbs, rest) = ((bits / 32) as usize, bits % 32);
        self.0.iter().take(limbs).all(|l| *l == 0)
            && (rest == 0
                || self
                    .0
                    .get(limbs)
                    .is_none_or(|l| l & ((1u32 << rest) - 1) == 0))
    }

    /// `self >> bits`; the result must fit in 96 bits (ours are below 2^66).
    fn shr_to_u128(&self, bits: u32) -> u128 {
        let (limbs, rest) = ((bits / 32) as usize, bits % 32);
        let window = self
            .0
            .iter()
            .skip(limbs)
            .take(4)
            .enumerate()
            .fold(0u128, |acc, (k, limb)| {
                acc | u128::from(*limb) << (32 * k as u32)
            });
        window >> rest
    }
}

/// Inclusive code point ranges where Go's `strconv.IsPrint` is true
/// (generated by enumerating `strconv.IsPrint` over all runes with Go 1.19/1.20,
/// which both use Unicode 13.0).
#[rustfmt::skip]
const PRINT_RANGES: &[(u32, u32)] = &[
    (0x0020, 0x007E), (0x00A1, 0x00AC), (0x00AE, 0x0377), (0x037A, 0x037F), (0x0384, 0x038A),
    (0x038C, 0x038C), (0x038E, 0x03A1), (0x03A3, 0x052F), (0x0531, 0x0556), (0x0559, 0x058A),
    (0x058D, 0x058F), (0x0591, 0x05C7), (0x05D0, 0x05EA), (0x05EF, 0x05F4), (0x0606, 0x061B),
    (0x061E, 0x06DC), (0x06DE, 0x070D), (0x0710, 0x074A), (0x074D, 0x07B1), (0x07C0, 0x07FA),
    (0x07FD, 0x082D), (0x0830, 0x083E), (0x0840, 0x085B), (0x085E, 0x085E), (0x0860, 0x086A),
    (0x08A0, 0x08B4), (0x08B6, 0x08C7), (0x08D3, 0x08E1), (0x08E3, 0x0983), (0x0985, 0x098C),
    (0x098F, 0x0990), (0x0993, 0x09A8), (0x09AA, 0x09B0), (0x09B2, 0x09B2), (0x09B6, 0x09B9),
    (0x09BC, 0x09C4), (0x09C7, 0x09C8), (0x09CB, 0x09CE), (0x09D7, 0x09D7), (0x09DC, 0x09DD),
    (0x09DF, 0x09E3), (0x09E6, 0x09FE), (0x0A01, 0x0A03), (0x0A05, 0x0A0A), (0x0A0F, 0x0A10),
    (0x0A13, 0x0A28), (0x0A2A, 0x0A30), (0x0A32, 0x0A33), (0x0A35, 0x0A36), (0x0A38, 0x0A39),
    (0x0A3C, 0x0A3C), (0x0A3E, 0x0A42), (0x0A47, 0x0A48), (0x0A4B, 0x0A4D), (0x0A51, 0x0A51),
    (0x0A59, 0x0A5C), (0x0A5E, 0x0A5E), (0x0A66, 0x0A76), (0x0A81, 0x0A83), (0x0A85, 0x0A8D),
    (0x0A8F, 0x0A91), (0x0A93, 0x0AA8), (0x0AAA, 0x0AB0), (0x0AB2, 0x0AB3), (0x0AB5, 0x0AB9),
    (0x0ABC, 0x0AC5), (0x0AC7, 0x0AC9), (0x0ACB, 0x0ACD), (0x0AD0, 0x0AD0), (0x0AE0, 0x0AE3),
    (0x0AE6, 0x0AF1), (0x0AF9, 0x0AFF), (0x0B01, 0x0B03), (0x0B05, 0x0B0C), (0x0B0F, 0x0B10),
    (0x0B13, 0x0B28), (0x0B2A, 0x0B30), (0x0B32, 0x0B33), (0x0B35, 0x0B39), (0x0B3C, 0x0B44),
    (0x0B47, 0x0B48), (0x0B4B, 0x0B4D), (0x0B55, 0x0B57), (0x0B5C, 0x0B5D), (0x0B5F, 0x0B63),
    (0x0B66, 0x0B77), (0x0B82, 0x0B83), (0x0B85, 0x0B8A), (0x0B8E, 0x0B90), (0x0B92, 0x0B95),
    (0x0B99, 0x0B9A), (0x0B9C, 0x0B9C), (0x0B9E, 0x0B9F), (0x0BA3, 0x0BA4), (0x0BA8, 0x0BAA),
    (0x0BAE, 0x0BB9), (0x0BBE, 0x0BC2), (0x0BC6, 0x0BC8), (0x0BCA, 0x0BCD), (0x0BD0, 0x0BD0),
    (0x0BD7, 0x0BD7), (0x0BE6, 0x0BFA), (0x0C00, 0x0C0C), (0x0C0E, 0x0C10), (0x0C12, 0x0C28),
    (0x0C2A, 0x0C39), (0x0C3D, 0x0C44), (0x0C46, 0x0C48), (0x0C4A, 0x0C4D), (0x0C55, 0x0C56),
    (0x0C58, 0x0C5A), (0x0C60, 0x0C63), (0x0C66, 0x0C6F), (0x0C77, 0x0C8C), (0x0C8E, 0x0C90),
    (0x0C92, 0x0CA8), (0x0CAA, 0x0CB3), (0x0CB5, 0x0CB9), (0x0CBC, 0x0CC4), (0x0CC6, 0x0CC8),
    (0x0CCA, 0x0CCD), (0x0CD5, 0x0CD6), (0x0CDE, 0x0CDE), (0x0CE0, 0x0CE3), (0x0CE6, 0x0CEF),
    (0x0CF1, 0x0CF2), (0x0D00, 0x0D0C), (0x0D0E, 0x0D10), (0x0D12, 0x0D44), (0x0D46, 0x0D48),
    (0x0D4A, 0x0D4F), (0x0D54, 0x0D63), (0x0D66, 0x0D7F), (0x0D81, 0x0D83), (0x0D85, 0x0D96),
    (0x0D9A, 0x0DB1), (0x0DB3, 0x0DBB), (0x0DBD, 0x0DBD), (0x0DC0, 0x0DC6), (0x0DCA, 0x0DCA),
    (0x0DCF, 0x0DD4), (0x0DD6, 0x0DD6), (0x0DD8, 0x0DDF), (0x0DE6, 0x0DEF), (0x0DF2, 0x0DF4),
    (0x0E01, 0x0E3A), (0x0E3F, 0x0E5B), (0x0E81, 0x0E82), (0x0E84, 0x0E84), (0x0E86, 0x0E8A),
    (0x0E8C, 0x0EA3), (0x0EA5, 0x0EA5), (0x0EA7, 0x0EBD), (0x0EC0, 0x0EC4), (0x0EC6, 0x0EC6),
    (0x0EC8, 0x0ECD), (0x0ED0, 0x0ED9), (0x0EDC, 0x0EDF), (0x0F00, 0x0F47), (0x0F49, 0x0F6C),
    (0x0F71, 0x0F97), (0x0F99, 0x0FBC), (0x0FBE, 0x0FCC), (0x0FCE, 0x0FDA), (0x1000, 0x10C5),
    (0x10C7, 0x10C7), (0x10CD, 0x10CD), (0x10D0, 0x1248), (0x124A, 0x124D), (0x1250, 0x1256),
    (0x1258, 0x1258), (0x125A, 0x125D), (0x1260, 0x1288), (0x128A, 0x128D), (0x1290, 0x12B0),
    (0x12B2, 0x12B5), (0x12B8, 0x12BE), (0x12C0, 0x12C0), (0x12C2, 0x12C5), (0x12C8, 0x12D6),
    (0x12D8, 0x1310), (0x1312, 0x1315), (0x1318, 0x135A), (0x135D, 0x137C), (0x1380, 0x1399),
    (0x13A0, 0x13F5), (0x13F8, 0x13FD), (0x1400, 0x167F), (0x1681, 0x169C), (0x16A0, 0x16F8),
    (0x1700, 0x170C), (0x170E, 0x1714), (0x1720, 0x1736), (0x1740, 0x1753), (0x1760, 0x176C),
    (0x176E, 0x1770), (0x1772, 0x1773), (0x1780, 0x17DD), (0x17E0, 0x17E9), (0x17F0, 0x17F9),
    (0x1800, 0x180D), (0x1810, 0x1819), (0x1820, 0x1878), (0x1880, 0x18AA), (0x18B0, 0x18F5),
    (0x1900, 0x191E), (0x1920, 0x192B), (0x1930, 0x193B), (0x1940, 0x1940), (0x1944, 0x196D),
    (0x1970, 0x1974), (0x1980, 0x19AB), (0x19B0, 0x19C9), (0x19D0, 0x19DA), (0x19DE, 0x1A1B),
    (0x1A1E, 0x1A5E), (0x1A60, 0x1A7C), (0x1A7F, 0x1A89), (0x1A90, 0x1A99), (0x1AA0, 0x1AAD),
    (0x1AB0, 0x1AC0), (0x1B00, 0x1B4B), (0x1B50, 0x1B7C), (0x1B80, 0x1BF3), (0x1BFC, 0x1C37),
    (0x1C3B, 0x1C49), (0x1C4D, 0x1C88), (0x1C90, 0x1CBA), (0x1CBD, 0x1CC7), (0x1CD0, 0x1CFA),
    (0x1D00, 0x1DF9), (0x1DFB, 0x1F15), (0x1F18, 0x1F1D), (0x1F20, 0x1F45), (0x1F48, 0x1F4D),
    (0x1F50, 0x1F57), (0x1F59, 0x1F59), (0x1F5B, 0x1F5B), (0x1F5D, 0x1F5D), (0x1F5F, 0x1F7D),
    (0x1F80, 0x1FB4), (0x1FB6, 0x1FC4), (0x1FC6, 0x1FD3), (0x1FD6, 0x1FDB), (0x1FDD, 0x1FEF),
    (0x1FF2, 0x1FF4), (0x1FF6, 0x1FFE), (0x2010, 0x2027), (0x2030, 0x205E), (0x2070, 0x2071),
    (0x2074, 0x208E), (0x2090, 0x209C), (0x20A0, 0x20BF), (0x20D0, 0x20F0), (0x2100, 0x218B),
    (0x2190, 0x2426), (0x2440, 0x244A), (0x2460, 0x2B73), (0x2B76, 0x2B95), (0x2B97, 0x2C2E),
    (0x2C30, 0x2C5E), (0x2C60, 0x2CF3), (0x2CF9, 0x2D25), (0x2D27, 0x2D27), (0x2D2D, 0x2D2D),
    (0x2D30, 0x2D67), (0x2D6F, 0x2D70), (0x2D7F, 0x2D96), (0x2DA0, 0x2DA6), (0x2DA8, 0x2DAE),
    (0x2DB0, 0x2DB6), (0x2DB8, 0x2DBE), (0x2DC0, 0x2DC6), (0x2DC8, 0x2DCE), (0x2DD0, 0x2DD6),
    (0x2DD8, 0x2DDE), (0x2DE0, 0x2E52), (0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5),
    (0x2FF0, 0x2FFB), (0x3001, 0x303F), (0x3041, 0x3096), (0x3099, 0x30FF), (0x3105, 0x312F),
    (0x3131, 0x318E), (0x3190, 0x31E3), (0x31F0, 0x321E), (0x3220, 0x9FFC), (0xA000, 0xA48C),
    (0xA490, 0xA4C6), (0xA4D0, 0xA62B), (0xA640, 0xA6F7), (0xA700, 0xA7BF), (0xA7C2, 0xA7CA),
    (0xA7F5, 0xA82C), (0xA830, 0xA839), (0xA840, 0xA877), (0xA880, 0xA8C5), (0xA8CE, 0xA8D9),
    (0xA8E0, 0xA953), (0xA95F, 0xA97C), (0xA980, 0xA9CD), (0xA9CF, 0xA9D9), (0xA9DE, 0xA9FE),
    (0xAA00, 0xAA36), (0xAA40, 0xAA4D), (0xAA50, 0xAA59), (0xAA5C, 0xAAC2), (0xAADB, 0xAAF6),
    (0xAB01, 0xAB06), (0xAB09, 0xAB0E), (0xAB11, 0xAB16), (0xAB20, 0xAB26), (0xAB28, 0xAB2E),
    (0xAB30, 0xAB6B), (0xAB70, 0xABED), (0xABF0, 0xABF9), (0xAC00, 0xD7A3), (0xD7B0, 0xD7C6),
    (0xD7CB, 0xD7FB), (0xF900, 0xFA6D), (0xFA70, 0xFAD9), (0xFB00, 0xFB06), (0xFB13, 0xFB17),
    (0xFB1D, 0xFB36), (0xFB38, 0xFB3C), (0xFB3E, 0xFB3E), (0xFB40, 0xFB41), (0xFB43, 0xFB44),
    (0xFB46, 0xFBC1), (0xFBD3, 0xFD3F), (0xFD50, 0xFD8F), (0xFD92, 0xFDC7), (0xFDF0, 0xFDFD),
    (0xFE00, 0xFE19), (0xFE20, 0xFE52), (0xFE54, 0xFE66), (0xFE68, 0xFE6B), (0xFE70, 0xFE74),
    (0xFE76, 0xFEFC), (0xFF01, 0xFFBE), (0xFFC2, 0xFFC7), (0xFFCA, 0xFFCF), (0xFFD2, 0xFFD7),
    (0xFFDA, 0xFFDC), (0xFFE0, 0xFFE6), (0xFFE8, 0xFFEE), (0xFFFC, 0xFFFD), (0x10000, 0x1000B),
    (0x1000D, 0x10026), (0x10028, 0x1003A), (0x1003C, 0x1003D), (0x1003F, 0x1004D), (0x10050, 0x1005D),
    (0x10080, 0x100FA), (0x10100, 0x10102), (0x10107, 0x10133), (0x10137, 0x1018E), (0x10190, 0x1019C),
    (0x101A0, 0x101A0), (0x101D0, 0x101FD), (0x10280, 0x1029C), (0x102A0, 0x102D0), (0x102E0, 0x102FB),
    (0x10300, 0x10323), (0x1032D, 0x1034A), (0x10350, 0x1037A), (0x10380, 0x1039D), (0x1039F, 0x103C3),
    (0x103C8, 0x103D5), (0x10400, 0x1049D), (0x104A0, 0x104A9), (0x104B0, 0x104D3), (0x104D8, 0x104FB),
    (0x10500, 0x10527), (0x10530, 0x10563), (0x1056F, 0x1056F), (0x10600, 0x10736), (0x10740, 0x10755),
    (0x10760, 0x10767), (0x10800, 0x10805), (0x10808, 0x10808), (0x1080A, 0x10835), (0x10837, 0x10838),
    (0x1083C, 0x1083C), (0x1083F, 0x10855), (0x10857, 0x1089E), (0x108A7, 0x108AF), (0x108E0, 0x108F2),
    (0x108F4, 0x108F5), (0x108FB, 0x1091B), (0x1091F, 0x10939), (0x1093F, 0x1093F), (0x10980, 0x109B7),
    (0x109BC, 0x109CF), (0x109D2, 0x10A03), (0x10A05, 0x10A06), (0x10A0C, 0x10A13), (0x10A15, 0x10A17),
    (0x10A19, 0x10A35), (0x10A38, 0x10A3A), (0x10A3F, 0x10A48), (0x10A50, 0x10A58), (0x10A60, 0x10A9F),
    (0x10AC0, 0x10AE6), (0x10AEB, 0x10AF6), (0x10B00, 0x10B35), (0x10B39, 0x10B55), (0x10B58, 0x10B72),
    (0x10B78, 0x10B91), (0x10B99, 0x10B9C), (0x10BA9, 0x10BAF), (0x10C00, 0x10C48), (0x10C80, 0x10CB2),
    (0x10CC0, 0x10CF2), (0x10CFA, 0x10D27), (0x10D30, 0x10D39), (0x10E60, 0x10E7E), (0x10E80, 0x10EA9),
    (0x10EAB, 0x10EAD), (0x10EB0, 0x10EB1), (0x10F00, 0x10F27), (0x10F30, 0x10F59), (0x10FB0, 0x10FCB),
    (0x10FE0, 0x10FF6), (0x11000, 0x1104D), (0x11052, 0x1106F), (0x1107F, 0x110BC), (0x110BE, 0x110C1),
    (0x110D0, 0x110E8), (0x110F0, 0x110F9), (0x11100, 0x11134), (0x11136, 0x11147), (0x11150, 0x11176),
    (0x11180, 0x111DF), (0x111E1, 0x111F4), (0x11200, 0x11211), (0x11213, 0x1123E), (0x11280, 0x11286),
    (0x11288, 0x11288), (0x1128A, 0x1128D), (0x1128F, 0x1129D), (0x1129F, 0x112A9), (0x112B0, 0x112EA),
    (0x112F0, 0x112F9), (0x11300, 0x11303), (0x11305, 0x1130C), (0x1130F, 0x11310), (0x11313, 0x11328),
    (0x1132A, 0x11330), (0x11332, 0x11333), (0x11335, 0x11339), (0x1133B, 0x11344), (0x11347, 0x11348),
    (0x1134B, 0x1134D), (0x11350, 0x11350), (0x11357, 0x11357), (0x1135D, 0x11363), (0x11366, 0x1136C),
    (0x11370, 0x11374), (0x11400, 0x1145B), (0x1145D, 0x11461), (0x11480, 0x114C7), (0x114D0, 0x114D9),
    (0x11580, 0x115B5), (0x115B8, 0x115DD), (0x11600, 0x11644), (0x11650, 0x11659), (0x11660, 0x1166C),
    (0x11680, 0x116B8), (0x116C0, 0x116C9), (0x11700, 0x1171A), (0x1171D, 0x1172B), (0x11730, 0x1173F),
    (0x11800, 0x1183B), (0x118A0, 0x118F2), (0x118FF, 0x11906), (0x11909, 0x11909), (0x1190C, 0x11913),
    (0x11915, 0x11916), (0x11918, 0x11935), (0x11937, 0x11938), (0x1193B, 0x11946), (0x11950, 0x11959),
    (0x119A0, 0x119A7), (0x119AA, 0x119D7), (0x119DA, 0x119E4), (0x11A00, 0x11A47), (0x11A50, 0x11AA2),
    (0x11AC0, 0x11AF8), (0x11C00, 0x11C08), (0x11C0A, 0x11C36), (0x11C38, 0x11C45), (0x11C50, 0x11C6C),
    (0x11C70, 0x11C8F), (0x11C92, 0x11CA7), (0x11CA9, 0x11CB6), (0x11D00, 0x11D06), (0x11D08, 0x11D09),
    (0x11D0B, 0x11D36), (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D), (0x11D3F, 0x11D47), (0x11D50, 0x11D59),
    (0x11D60, 0x11D65), (0x11D67, 0x11D68), (0x11D6A, 0x11D8E), (0x11D90, 0x11D91), (0x11D93, 0x11D98),
    (0x11DA0, 0x11DA9), (0x11EE0, 0x11EF8), (0x11FB0, 0x11FB0), (0x11FC0, 0x11FF1), (0x11FFF, 0x12399),
    (0x12400, 0x1246E), (0x12470, 0x12474), (0x12480, 0x12543), (0x13000, 0x1342E), (0x14400, 0x14646),
    (0x16800, 0x16A38), (0x16A40, 0x16A5E), (0x16A60, 0x16A69), (0x16A6E, 0x16A6F), (0x16AD0, 0x16AED),
    (0x16AF0, 0x16AF5), (0x16B00, 0x16B45), (0x16B50, 0x16B59), (0x16B5B, 0x16B61), (0x16B63, 0x16B77),
    (0x16B7D, 0x16B8F), (0x16E40, 0x16E9A), (0x16F00, 0x16F4A), (0x16F4F, 0x16F87), (0x16F8F, 0x16F9F),
    (0x16FE0, 0x16FE4), (0x16FF0, 0x16FF1), (0x17000, 0x187F7), (0x18800, 0x18CD5), (0x18D00, 0x18D08),
    (0x1B000, 0x1B11E), (0x1B150, 0x1B152), (0x1B164, 0x1B167), (0x1B170, 0x1B2FB), (0x1BC00, 0x1BC6A),
    (0x1BC70, 0x1BC7C), (0x1BC80, 0x1BC88), (0x1BC90, 0x1BC99), (0x1BC9C, 0x1BC9F), (0x1D000, 0x1D0F5),
    (0x1D100, 0x1D126), (0x1D129, 0x1D172), (0x1D17B, 0x1D1E8), (0x1D200, 0x1D245), (0x1D2E0, 0x1D2F3),
    (0x1D300, 0x1D356), (0x1D360, 0x1D378), (0x1D400, 0x1D454), (0x1D456, 0x1D49C), (0x1D49E, 0x1D49F),
    (0x1D4A2, 0x1D4A2), (0x1D4A5, 0x1D4A6), (0x1D4A9, 0x1D4AC), (0x1D4AE, 0x1D4B9), (0x1D4BB, 0x1D4BB),
    (0x1D4BD, 0x1D4C3), (0x1D4C5, 0x1D505), (0x1D507, 0x1D50A), (0x1D50D, 0x1D514), (0x1D516, 0x1D51C),
    (0x1D51E, 0x1D539), (0x1D53B, 0x1D53E), (0x1D540, 0x1D544), (0x1D546, 0x1D546), (0x1D54A, 0x1D550),
    (0x1D552, 0x1D6A5), (0x1D6A8, 0x1D7CB), (0x1D7CE, 0x1DA8B), (0x1DA9B, 0x1DA9F), (0x1DAA1, 0x1DAAF),
    (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021), (0x1E023, 0x1E024), (0x1E026, 0x1E02A),
    (0x1E100, 0x1E12C), (0x1E130, 0x1E13D), (0x1E140, 0x1E149), (0x1E14E, 0x1E14F), (0x1E2C0, 0x1E2F9),
    (0x1E2FF, 0x1E2FF), (0x1E800, 0x1E8C4), (0x1E8C7, 0x1E8D6), (0x1E900, 0x1E94B), (0x1E950, 0x1E959),
    (0x1E95E, 0x1E95F), (0x1EC71, 0x1ECB4), (0x1ED01, 0x1ED3D), (0x1EE00, 0x1EE03), (0x1EE05, 0x1EE1F),
    (0x1EE21, 0x1EE22), (0x1EE24, 0x1EE24), (0x1EE27, 0x1EE27), (0x1EE29, 0x1EE32), (0x1EE34, 0x1EE37),
    (0x1EE39, 0x1EE39), (0x1EE3B, 0x1EE3B), (0x1EE42, 0x1EE42), (0x1EE47, 0x1EE47), (0x1EE49, 0x1EE49),
    (0x1EE4B, 0x1EE4B), (0x1EE4D, 0x1EE4F), (0x1EE51, 0x1EE52), (0x1EE54, 0x1EE54), (0x1EE57, 0x1EE57),
    (0x1EE59, 0x1EE59), (0x1EE5B, 0x1EE5B), (0x1EE5D, 0x1EE5D), (0x1EE5F, 0x1EE5F), (0x1EE61, 0x1EE62),
    (0x1EE64, 0x1EE64), (0x1EE67, 0x1EE6A), (0x1EE6C, 0x1EE72), (0x1EE74, 0x1EE77), (0x1EE79, 0x1EE7C),
    (0x1EE7E, 0x1EE7E), (0x1EE80, 0x1EE89), (0x1EE8B, 0x1EE9B), (0x1EEA1, 0x1EEA3), (0x1EEA5, 0x1EEA9),
    (0x1EEAB, 0x1EEBB), (0x1EEF0, 0x1EEF1), (0x1F000, 0x1F02B), (0x1F030, 0x1F093), (0x1F0A0, 0x1F0AE),
    (0x1F0B1, 0x1F0BF), (0x1F0C1, 0x1F0CF), (0x1F0D1, 0x1F0F5), (0x1F100, 0x1F1AD), (0x1F1E6, 0x1F202),
    (0x1F210, 0x1F23B), (0x1F240, 0x1F248), (0x1F250, 0x1F251), (0x1F260, 0x1F265), (0x1F300, 0x1F6D7),
    (0x1F6E0, 0x1F6EC), (0x1F6F0, 0x1F6FC), (0x1F700, 0x1F773), (0x1F780, 0x1F7D8), (0x1F7E0, 0x1F7EB),
    (0x1F800, 0x1F80B), (0x1F810, 0x1F847), (0x1F850, 0x1F859), (0x1F860, 0x1F887), (0x1F890, 0x1F8AD),
    (0x1F8B0, 0x1F8B1), (0x1F900, 0x1F978), (0x1F97A, 0x1F9CB), (0x1F9CD, 0x1FA53), (0x1FA60, 0x1FA6D),
    (0x1FA70, 0x1FA74), (0x1FA78, 0x1FA7A), (0x1FA80, 0x1FA86), (0x1FA90, 0x1FAA8), (0x1FAB0, 0x1FAB6),
    (0x1FAC0, 0x1FAC2), (0x1FAD0, 0x1FAD6), (0x1FB00, 0x1FB92), (0x1FB94, 0x1FBCA), (0x1FBF0, 0x1FBF9),
    (0x20000, 0x2A6DD), (0x2A700, 0x2B734), (0x2B740, 0x2B81D), (0x2B820, 0x2CEA1), (0x2CEB0, 0x2EBE0),
    (0x2F800, 0x2FA1D), (0x30000, 0x3134A), (0xE0100, 0xE01EF),
];

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
    fn quote_matches_strconv_quote() {
        // Expected values from Go's strconv.Quote/QuoteToASCII/QuoteRune.
        let cases = [
            ("abc", r#""abc""#),
            ("'", r#""'""#),
            ("\u{a0}", r#""\u00a0""#),
            ("\u{200b}", r#""\u200b""#),
            ("\u{2028}", r#""\u2028""#),
            ("\u{feff}", r#""\ufeff""#),
            ("\u{7f}", r#""\x7f""#),
            ("\0", r#""\x00""#),
            ("\u{1f600}", "\"\u{1f600}\""),
            ("\u{e0001}", r#""\U000e0001""#),
            ("é", r#""é""#),
            ("\u{378}", r#""\u0378""#),
            ("\u{3000}", r#""\u3000""#),
            ("a\u{301}", "\"a\u{301}\""),
        ];
        for (input, want) in cases {
            assert_eq!(go_quote(input), want, "{input:?}");
        }
        assert_eq!(go_quote_to_ascii("日本語"), r#""\u65e5\u672c\u8a9e""#);
        assert_eq!(go_quote_to_ascii("\u{1f600}"), r#""\U0001f600""#);
        assert_eq!(go_quote_to_ascii("a\tb"), r#""a\tb""#);
        assert_eq!(go_quote_rune(-1), "'\u{fffd}'");
        assert_eq!(go_quote_rune(39), r#"'\''"#);
        assert_eq!(go_quote_rune(0xD800), "'\u{fffd}'");
        assert_eq!(go_quote_rune(34), r#"'"'"#);
        assert_eq!(go_quote_rune(7), r#"'\a'"#);
    }

    #[test]
    fn is_print_matches_strconv() {
        // strconv.IsPrint in Go 1.19/1.20 (Unicode 13.0).
        let printable = [0x20, 0x61, 0xfffd, 0x1f600, 0xe0100, 0x301, 0x1fbf0];
        let not_printable = [
            0xa0, 0xad, 0x200b, 0xfeff, 0x10ffff, 0x3000, 0x378, 0xd800, 0x7f, 0x2fffd, 0x110000,
        ];
        for r in printable {
            assert!(is_print(r), "{r:#x} is printable");
        }
        for r in not_printable {
            assert!(!is_print(r), "{r:#x} is not printable");
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values on purpose
    fn format_float_matches_strconv() {
        // Expected values from Go's strconv.FormatFloat(v, fmt, prec, 64).
        let cases: &[(f64, u8, i64, &str)] = &[
            (1.0, b'e', -1, "1e+00"),
            (123456.0, b'f', -1, "123456"),
            (0.1, b'f', -1, "0.1"),
            (1e21, b'f', -1, "1000000000000000000000"),
            (1.5, b'b', -1, "6755399441055744p-52"),
            (1.0, b'x', -1, "0x1p+00"),
            (0.1, b'x', -1, "0x1.999999999999ap-04"),
            (f64::MAX, b'g', -1, "1.7976931348623157e+308"),
            (5e-324, b'e', -1, "5e-324"),
            (100.0, b'g', 2, "1e+02"),
            (0.000123, b'g', 2, "0.00012"),
            (123456789.0, b'G', -1, "1.23456789E+08"),
            (-0.0, b'g', -1, "-0"),
            (1e23, b'g', -1, "1e+23"),
            (2.5, b'f', 0, "2"),
            (3.5, b'f', 0, "4"),
            (0.3, b'e', 20, "2.99999999999999988898e-01"),
            (1606190633288304.25, b'e', -1, "1.6061906332883042e+15"),
            (5e-324, b'x', 3, "0x1.000p-1074"),
            (1.0, b'E', 3, "1.000E+00"),
            (f64::INFINITY, b'f', 2, "+Inf"),
            (f64::NAN, b'g', -1, "NaN"),
        ];
        for &(v, fmt, prec, want) in cases {
            assert_eq!(
                format_float(v, fmt, prec),
                want,
                "{v:?} {} {prec}",
                fmt as char
            );
        }
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values on purpose
    fn shortest_digits_round_ties_like_go() {
        // Exactly halfway between two shortest candidates: Go rounds to even
        // where Rust's `{:e}` rounds up.
        assert_eq!(
            format_float(1606190633288304.25, b'g', -1),
            "1.6061906332883042e+15"
        );
        assert_eq!(
            format!("{:e}", 1606190633288304.25f64),
            "1.6061906332883043e15"
        );
        assert_eq!(
            format_float(-1641984526293448.25, b'g', -1),
            "-1.6419845262934482e+15"
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
