//! One ChaCha8 block: the key, block counter and stream of a ChaCha8
//! keystream (48 bytes) and the function that turns them into the next 64
//! bytes of it, exactly as `rand_chacha`'s `ChaCha8Rng` does.
//!
//! The input state is laid out as `rand_chacha` lays it out:
//!
//! ```text
//! constant  constant  constant  constant     (row a: "expand 32-byte k")
//! key       key       key       key          (row b)
//! key       key       key       key          (row c)
//! counter   counter   stream    stream       (row d: two u64s, low word first)
//! ```
//!
//! A block is eight rounds (four double rounds: columns, then diagonals) of
//! that state, plus the state, written as little-endian words. On x86_64 it
//! is SSE2 (part of that target's baseline, so always there): a row per
//! `__m128i`, the diagonal rounds by rotating rows b, c and d by one, two
//! and three lanes. Other targets run the plain scalar version, which the
//! unit tests also run on x86_64.
//!
//! Owns one block's computation only; what is read from the block, and
//! when the next one is made, is `stream.rs`'s. Must not keep more than one
//! block's state: a `Stream` is two cache lines because of it.

/// ChaCha's constant row, "expand 32-byte k" as little-endian words.
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// Double rounds in ChaCha8.
const DOUBLE_ROUNDS: usize = 4;

/// What makes the next block of a ChaCha8 keystream: 48 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub(super) struct ChaCha8 {
    /// The 256-bit key (the seed's bytes as little-endian words).
    key: [u32; 8],
    /// The block the next call to `next_block` writes.
    counter: u64,
    /// The stream (`rand_chacha`'s name for the 64-bit nonce).
    stream: u64,
}

impl ChaCha8 {
    /// The keystream of `seed` and `stream`, at block `counter`.
    pub(super) fn new(seed: [u8; 32], stream: u64, counter: u64) -> ChaCha8 {
        let words = seed.as_chunks::<4>().0;
        ChaCha8 {
            key: std::array::from_fn(|i| u32::from_le_bytes(words[i])),
            counter,
            stream,
        }
    }

    /// Writes block `counter` into `out` and moves on to the next block
    /// (after block `u64::MAX`, block 0, as `rand_chacha` wraps).
    #[inline(always)]
    pub(super) fn next_block(&mut self, out: &mut [u8; 64]) {
        #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
        block_sse2(self, out);
        #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
        block_scalar(self, out);
        self.counter = self.counter.wrapping_add(1);
    }
}

/// One block with a row of the state per SSE2 register. Built only where
/// the build already assumes SSE2 (every x86_64 target unless told
/// otherwise), which is what makes entering it sound.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
#[allow(unsafe_code)]
fn block_sse2(input: &ChaCha8, out: &mut [u8; 64]) {
    // SAFETY: `sse2::block` is unsafe to call only because it is a
    // `target_feature(enable = "sse2")` function and the processor might
    // lack the feature. SSE2 is part of the x86_64 baseline, which every
    // x86_64 processor has, and this is compiled only when the build
    // assumes it (`cfg(target_feature = "sse2")`) and so uses it anyway.
    // The function touches memory only through its references.
    unsafe { sse2::block(input, out) }
}

/// The SSE2 block: inside a `target_feature(enable = "sse2")` function the
/// intrinsics that take and return values only are safe to call (Rust
/// 1.86), so nothing here is `unsafe`. The ones that load and store
/// through pointers would be; the rows are built with `_mm_set_*` and
/// read back with `_mm_cvtsi128_si64`, which compile to plain loads and
/// stores all the same.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::{ChaCha8, DOUBLE_ROUNDS, SIGMA};
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_cvtsi128_si64, _mm_or_si128, _mm_set_epi32, _mm_set_epi64x,
        _mm_shuffle_epi32, _mm_shufflehi_epi16, _mm_shufflelo_epi16, _mm_slli_epi32,
        _mm_srli_epi32, _mm_unpackhi_epi64, _mm_xor_si128,
    };

    /// `x` rotated left by `L` bits in each word (`R` = 32 - `L`).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn rotl<const L: i32, const R: i32>(x: __m128i) -> __m128i {
        _mm_or_si128(_mm_slli_epi32::<L>(x), _mm_srli_epi32::<R>(x))
    }

    /// `x` rotated by 16 bits in each word: each word's halves swapped.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn rotl16(x: __m128i) -> __m128i {
        _mm_shufflehi_epi16::<0b10_11_00_01>(_mm_shufflelo_epi16::<0b10_11_00_01>(x))
    }

    /// Four quarter rounds at once, one per lane (a column each, or a
    /// diagonal each once the rows are rotated).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn quarter_rounds(x: &mut [__m128i; 4]) {
        let [a, b, c, d] = x;
        *a = _mm_add_epi32(*a, *b);
        *d = rotl16(_mm_xor_si128(*d, *a));
        *c = _mm_add_epi32(*c, *d);
        *b = rotl::<12, 20>(_mm_xor_si128(*b, *c));
        *a = _mm_add_epi32(*a, *b);
        *d = rotl::<8, 24>(_mm_xor_si128(*d, *a));
        *c = _mm_add_epi32(*c, *d);
        *b = rotl::<7, 25>(_mm_xor_si128(*b, *c));
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    pub(super) fn block(input: &ChaCha8, out: &mut [u8; 64]) {
        let word = |i: usize| input.key[i] as i32;
        let start = [
            _mm_set_epi32(
                SIGMA[3] as i32,
                SIGMA[2] as i32,
                SIGMA[1] as i32,
                SIGMA[0] as i32,
            ),
            _mm_set_epi32(word(3), word(2), word(1), word(0)),
            _mm_set_epi32(word(7), word(6), word(5), word(4)),
            _mm_set_epi64x(input.stream as i64, input.counter as i64),
        ];
        let mut x = start;
        for _ in 0..DOUBLE_ROUNDS {
            quarter_rounds(&mut x);
            // Lane i of every row onto the diagonal that starts at a[i]:
            // b, c and d rotated by one, two and three lanes; then back.
            x[1] = _mm_shuffle_epi32::<0b00_11_10_01>(x[1]);
            x[2] = _mm_shuffle_epi32::<0b01_00_11_10>(x[2]);
            x[3] = _mm_shuffle_epi32::<0b10_01_00_11>(x[3]);
            quarter_rounds(&mut x);
            x[1] = _mm_shuffle_epi32::<0b10_01_00_11>(x[1]);
            x[2] = _mm_shuffle_epi32::<0b01_00_11_10>(x[2]);
            x[3] = _mm_shuffle_epi32::<0b00_11_10_01>(x[3]);
        }
        let rows = out.as_chunks_mut::<16>().0;
        for ((row, x), start) in rows.iter_mut().zip(x).zip(start) {
            let sum = _mm_add_epi32(x, start);
            let low = _mm_cvtsi128_si64(sum) as u64;
            let high = _mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum)) as u64;
            row[..8].copy_from_slice(&low.to_le_bytes());
            row[8..].copy_from_slice(&high.to_le_bytes());
        }
    }
}

/// One block, a word at a time: the portable version (RFC 8439's quarter
/// round, with ChaCha8's rounds and `rand_chacha`'s counter and stream).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn block_scalar(input: &ChaCha8, out: &mut [u8; 64]) {
    fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(16);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(12);
        x[a] = x[a].wrapping_add(x[b]);
        x[d] = (x[d] ^ x[a]).rotate_left(8);
        x[c] = x[c].wrapping_add(x[d]);
        x[b] = (x[b] ^ x[c]).rotate_left(7);
    }

    let mut start = [0u32; 16];
    start[..4].copy_from_slice(&SIGMA);
    start[4..12].copy_from_slice(&input.key);
    start[12] = input.counter as u32;
    start[13] = (input.counter >> 32) as u32;
    start[14] = input.stream as u32;
    start[15] = (input.stream >> 32) as u32;
    let mut x = start;
    for _ in 0..DOUBLE_ROUNDS {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    let words = out.as_chunks_mut::<4>().0;
    for ((word, x), start) in words.iter_mut().zip(x).zip(start) {
        *word = x.wrapping_add(start).to_le_bytes();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Block `counter` of `seed` and `stream`, from `rand_chacha`.
    fn reference(seed: [u8; 32], stream: u64, counter: u64) -> [u8; 64] {
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(stream);
        rng.set_word_pos(u128::from(counter) * 16);
        let mut out = [0; 64];
        rng.fill_bytes(&mut out);
        out
    }

    /// Seeds, streams and counters: zero, all ones, a carry out of the
    /// counter's low word, the counter's wrap, and arbitrary ones.
    fn cases() -> Vec<([u8; 32], u64, u64)> {
        let mut cases = Vec::new();
        let mut z = 5u64;
        for counter in [0, 1, 3, 4, (1 << 32) - 1, 1 << 32, u64::MAX - 1, u64::MAX] {
            for stream in [0, 1, u64::MAX, 0x0123_4567_89ab_cdef] {
                z = crate::rng::mix(z.wrapping_add(counter ^ stream));
                let seed: [u8; 32] =
                    std::array::from_fn(|i| (crate::rng::mix(z ^ i as u64) >> 17) as u8);
                cases.push((seed, stream, counter));
            }
        }
        cases.push(([0; 32], 0, 0));
        cases.push(([0xff; 32], u64::MAX, u64::MAX));
        cases
    }

    #[test]
    fn next_block_is_chacha8rngs_block_and_moves_on() {
        for (seed, stream, counter) in cases() {
            let mut ours = ChaCha8::new(seed, stream, counter);
            for k in 0..3u64 {
                let mut out = [0; 64];
                ours.next_block(&mut out);
                let expected = reference(seed, stream, counter.wrapping_add(k));
                assert_eq!(out, expected, "{stream} {counter} +{k}");
            }
        }
    }

    #[test]
    fn the_scalar_block_is_chacha8rngs_block() {
        // Runs on every target, so the portable version is held to
        // rand_chacha on x86_64 too.
        for (seed, stream, counter) in cases() {
            let mut out = [0; 64];
            block_scalar(&ChaCha8::new(seed, stream, counter), &mut out);
            assert_eq!(out, reference(seed, stream, counter), "{stream} {counter}");
        }
    }

    #[test]
    fn the_state_is_48_bytes() {
        assert_eq!(std::mem::size_of::<ChaCha8>(), 48);
    }
}
