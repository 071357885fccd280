//! Go's shortest float digits (strconv's Ryū variant).
//!
//! Go picks the shortest digits inside the rounding interval, rounding the
//! exact value to that length; its tie rules differ from Rust's `{:e}` (which
//! rounds ties up), and a block of 9 digits dropped at once rounds exact ties
//! down. The steps below follow Go's `ryuFtoaShortest` decision for decision,
//! with exact big-integer arithmetic ([`Big`]) in place of its 128-bit power
//! table.

use super::bignum::Big;
use super::ftoa::Decimal;

/// Go's shortest decimal of `mant × 2^exp` (`mant` with its implicit bit).
pub(super) fn shortest_decimal(mant: u64, exp: i64) -> Decimal {
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

