//! `PackedValues`: a time series' values held losslessly in a few bits
//! each while the run goes on, and unpacked into a plain list once the
//! engine's state is gone.
//!
//! Why: a wide model writes a value to each of some 2,500 series every
//! window, so over a simulated hour of one-second windows the plain lists
//! grow to 73 MB, a third of the run's peak memory. Most windows change
//! few bits of a value: counts repeat, idle series stay at zero, rates are
//! small integers. Each value is stored as its XOR with the one before
//! (Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series
//! Database", VLDB 2015, section 4.1.2): one bit when it repeats, else its
//! changed bits inside a window of leading and trailing zeros, the window
//! reused while it still fits. Measured on a 5,000-service DAG's series:
//! 14 bits a value, 4.6 times smaller. The bits are the value's own, so
//! every value (NaN payloads, signed zeros, infinities) comes back exactly.
//!
//! Owns the encoding only; which series there are is `series.rs`'s and
//! when values arrive is `series_rows.rs`'s.

/// One series' values, packed.
#[derive(Debug, Default, Clone)]
pub(super) struct PackedValues {
    /// The bit stream's full words, least significant bit first.
    words: Vec<u64>,
    /// The stream's last bits, not yet a full word (`pending` of them).
    tail: u64,
    pending: u32,
    /// Values written.
    len: usize,
    /// The last value's bits.
    prev: u64,
    /// The window of meaningful bits last written with a header:
    /// leading and trailing zeros (`NO_WINDOW` before the first).
    lead: u32,
    trail: u32,
}

/// `lead` before any window was written.
const NO_WINDOW: u32 = u32::MAX;

/// Leading zeros a header can say (five bits).
const MAX_LEAD: u32 = 31;

impl PackedValues {
    pub fn new() -> PackedValues {
        PackedValues {
            lead: NO_WINDOW,
            ..PackedValues::default()
        }
    }

    /// Values written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Bits written.
    fn bits(&self) -> u64 {
        self.words.len() as u64 * 64 + u64::from(self.pending)
    }

    /// Appends `v`.
    #[inline]
    pub fn push(&mut self, v: f64) {
        let bits = v.to_bits();
        let x = bits ^ self.prev;
        self.prev = bits;
        self.len += 1;
        if x == 0 {
            // Control "0": the same value again.
            self.write(0, 1);
            return;
        }
        let lead = x.leading_zeros().min(MAX_LEAD);
        let trail = x.trailing_zeros();
        if self.lead != NO_WINDOW && lead >= self.lead && trail >= self.trail {
            // Control "10" (first bit 1, second 0): inside the last window.
            self.write(0b01, 2);
            self.write(x >> self.trail, 64 - self.lead - self.trail);
        } else {
            // Control "11", five bits of leading zeros, six of the
            // meaningful bits' count less one; then those bits.
            let meaningful = 64 - lead - trail;
            let header = 0b11 | u64::from(lead) << 2 | u64::from(meaningful - 1) << 7;
            self.write(header, 13);
            self.write(x >> trail, meaningful);
            self.lead = lead;
            self.trail = trail;
        }
    }

    /// Every value, in order.
    pub fn unpack(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.len);
        let mut r = Reader {
            words: &self.words,
            tail: self.tail,
            pos: 0,
        };
        let (mut prev, mut lead, mut trail) = (0u64, 0u32, 0u32);
        for _ in 0..self.len {
            if r.read(1) == 1 {
                if r.read(1) == 1 {
                    lead = r.read(5) as u32;
                    let meaningful = r.read(6) as u32 + 1;
                    trail = 64 - lead - meaningful;
                }
                prev ^= r.read(64 - lead - trail) << trail;
            }
            out.push(f64::from_bits(prev));
        }
        debug_assert_eq!(r.pos, self.bits(), "every bit read back");
        out
    }

    /// Appends the low `n` bits of `v` (1 ≤ n ≤ 64; `v` has no others).
    #[inline]
    fn write(&mut self, v: u64, n: u32) {
        debug_assert!((1..=64).contains(&n) && (n == 64 || v >> n == 0));
        debug_assert!(self.pending < 64);
        self.tail |= v << self.pending;
        let filled = self.pending + n;
        if filled < 64 {
            self.pending = filled;
            return;
        }
        self.words.push(self.tail);
        // The bits of `v` that did not fit (none when `pending` was 0).
        self.tail = if self.pending == 0 {
            0
        } else {
            v >> (64 - self.pending)
        };
        self.pending = filled - 64;
    }
}

/// Reads a stream `PackedValues::write` wrote: its full words, then its
/// tail.
struct Reader<'a> {
    words: &'a [u64],
    tail: u64,
    pos: u64,
}

impl Reader<'_> {
    #[inline]
    fn word(&self, i: usize) -> u64 {
        self.words.get(i).copied().unwrap_or(self.tail)
    }

    /// The next `n` bits (1 ≤ n ≤ 64).
    #[inline]
    fn read(&mut self, n: u32) -> u64 {
        let word = (self.pos / 64) as usize;
        let off = (self.pos % 64) as u32;
        let mut v = self.word(word) >> off;
        if off > 0 && off + n > 64 {
            v |= self.word(word + 1) << (64 - off);
        }
        self.pos += u64::from(n);
        if n < 64 { v & ((1u64 << n) - 1) } else { v }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[f64]) -> PackedValues {
        let mut p = PackedValues::new();
        for &v in values {
            p.push(v);
        }
        let back = p.unpack();
        assert_eq!(back.len(), values.len());
        for (i, (a, b)) in values.iter().zip(&back).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "value {i}: {a} came back {b}");
        }
        p
    }

    #[test]
    fn every_kind_of_value_comes_back_bit_for_bit() {
        let odd_nan = f64::from_bits(0x7ff8_0000_dead_beef);
        round_trip(&[]);
        round_trip(&[0.0]);
        round_trip(&[
            0.0,
            -0.0,
            0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            odd_nan,
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 3.0,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            1.0,
            1.0,
            -1.0,
            f64::from_bits(1),
            f64::from_bits(u64::MAX),
            f64::from_bits(1 << 63 | 1),
        ]);
    }

    /// Random bit patterns, random changes of a few bits and repeats,
    /// mixed, across many word boundaries.
    #[test]
    fn random_sequences_come_back_bit_for_bit() {
        let mut lcg = crate::rng::TestLcg(0x9e37_79b9_7f4a_7c15);
        let mut next = || lcg.next();
        for _ in 0..50 {
            let mut values = Vec::new();
            let mut v = next();
            for _ in 0..2_000 {
                v = match next() >> 61 {
                    0 => next(),                               // anything
                    1 | 2 => v,                                // a repeat
                    3 => v ^ (next() >> 40),                   // low bits
                    4 => v ^ (1 << (next() % 64)),             // one bit
                    5 => f64::to_bits((next() % 1000) as f64), // a count
                    6 => v ^ (next() % 7),                     // noise
                    _ => f64::to_bits(next() as f64 / 7.0),    // a rate
                };
                values.push(f64::from_bits(v));
            }
            round_trip(&values);
        }
    }

    /// The point of packing: a series that repeats takes a bit a value,
    /// and small counts take far less than the 64 bits of a float.
    #[test]
    fn repeats_and_counts_take_few_bits() {
        let zeros = round_trip(&vec![0.0; 3_600]);
        assert_eq!(zeros.bits(), 3_600);
        let counts: Vec<f64> = (0..3_600).map(|i| f64::from((i * 7919) % 97)).collect();
        let p = round_trip(&counts);
        assert!(p.bits() < 3_600 * 24, "{} bits", p.bits());
    }
}
