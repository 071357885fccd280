//! A minimal unsigned big integer, enough for exact float scaling in
//! [`ryu`](super::ryu).

/// A minimal unsigned big integer (little-endian 32-bit limbs, no high zero limbs).
#[derive(Clone)]
pub(super) struct Big(Vec<u32>);

impl Big {
    pub(super) fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    pub(super) fn mul_small(&mut self, k: u32) {
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

    pub(super) fn mul_pow10(&mut self, mut n: u32) {
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
    pub(super) fn div_pow10(&mut self, mut n: u32) -> bool {
        let mut exact = true;
        while n > 0 {
            let k = n.min(9);
            exact &= self.div_small(10u32.pow(k)) == 0;
            n -= k;
        }
        exact
    }

    pub(super) fn shl(&self, bits: u32) -> Big {
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
    pub(super) fn low_bits_zero(&self, bits: u32) -> bool {
        let (limbs, rest) = ((bits / 32) as usize, bits % 32);
        self.0.iter().take(limbs).all(|l| *l == 0)
            && (rest == 0
                || self
                    .0
                    .get(limbs)
                    .is_none_or(|l| l & ((1u32 << rest) - 1) == 0))
    }

    /// `self >> bits`; the result must fit in 96 bits (ours are below 2^66).
    pub(super) fn shr_to_u128(&self, bits: u32) -> u128 {
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
