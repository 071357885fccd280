//! Go's `strconv.FormatFloat` for 64-bit floats: the `b e E f g G x X`
//! formats at a given precision, and the shortest digits that read back
//! exactly (from [`shortest_decimal`](super::ryu::shortest_decimal)).

use super::ryu::shortest_decimal;

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` as `fmt` uses it for `%v`:
/// shortest digits (rounded as Go rounds them), exponent form when
/// exp < -4 || exp >= 6 (`1e+06`, `1e-05`; the 1e21 threshold is JSON's).
pub fn format_float_g(f: f64) -> String {
    format_float(f, b'g', -1)
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
pub(super) struct Decimal {
    pub(super) d: Vec<u8>,
    pub(super) dp: i64,
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


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values on purpose
    fn floats_print_like_go() {
        assert_eq!(format_float_g(1.0), "1");
        assert_eq!(format_float_g(1.5), "1.5");
        assert_eq!(format_float_g(1e6), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(1e20), "1e+20");
        assert_eq!(format_float_g(1234567.0), "1.234567e+06");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(-2.25), "-2.25");
        // Exactly between two 17-digit candidates: Go rounds to even.
        assert_eq!(format_float_g(1606190633288304.25), "1.6061906332883042e+15");
        assert_eq!(format_float_g(123456789.0), "1.23456789e+08");
        assert_eq!(format_float_g(9007199254740992.0), "9.007199254740992e+15");
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

}
