//! `Stream`: one named stream's generator — rand_chacha's ChaCha8, read
//! one 64-byte block at a time, in a record of two cache lines.
//!
//! `ChaCha8Rng` keeps four blocks (256 bytes), its read position in the
//! first word and its key, counter and stream behind them: six lines, of
//! which a draw reads two and every fourth refill writes four. At
//! thousands of services a service's or an edge's stream is rarely in
//! cache when its next draw comes, so each of those lines is a miss, and
//! tens of thousands of streams of six lines each are megabytes that
//! evict everything else. Here the block being read is the record's first
//! line, its word 0 (once read) the position, exactly as `rand_core`'s
//! `BlockRng` keeps it; the second line holds only what makes the next
//! block (key, block counter and stream, `chacha_block.rs`), and a refill
//! computes that one block straight into the first line. The words, and
//! so every draw (`next_u32`, `next_u64`, `fill_bytes`, in any mix), are
//! those of the `ChaCha8Rng` with the same seed and stream: the seed is
//! expanded by `ChaCha8Rng` itself, the draw logic is `BlockRng`'s over a
//! 16-word buffer, and the unit tests below hold the two to the same
//! output.
//!
//! Owns the buffer only; naming and seeding streams is `rng.rs`'s, making
//! a block `chacha_block.rs`'s.

use std::convert::Infallible;

use rand::{SeedableRng, TryRng};
use rand_chacha::ChaCha8Rng;

use super::chacha_block::ChaCha8;

/// Words in a ChaCha block.
const WORDS: usize = 16;

/// A ChaCha8 stream whose block being read fills the record's first cache
/// line and what makes the next block its second (`repr(C, align(64))`:
/// 128 bytes).
/// Two are equal when they will draw the same (same seed, stream and
/// position).
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Stream {
    /// The block being read, as `ChaCha8Rng::fill_bytes` writes it (each
    /// word little-endian); once word 0 has been read it holds the
    /// position of the next word (`WORDS`: used up), as `BlockRng` does.
    /// Bytes, so that a refill writes it straight.
    block: [u8; 4 * WORDS],
    /// Key, counter and stream of the block after this one.
    next: ChaCha8,
}

impl Stream {
    /// The generator of stream `stream_id` under `master_seed`:
    /// `ChaCha8Rng::seed_from_u64(master_seed)` with `set_stream(stream_id)`.
    pub fn new(master_seed: u64, stream_id: u64) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(master_seed);
        rng.set_stream(stream_id);
        Stream::at(&rng)
    }

    /// The stream that draws what `rng` draws next, `rng` being at a
    /// block's start (construction is not hot: `rand_chacha` keeps the
    /// seeding).
    fn at(rng: &ChaCha8Rng) -> Stream {
        let word_pos = rng.get_word_pos();
        assert_eq!(word_pos % WORDS as u128, 0, "not at a block's start");
        // Word positions are 68-bit; the block counter is their top 64.
        let counter = (word_pos / WORDS as u128) as u64;
        let mut s = Stream {
            block: [0; 4 * WORDS],
            next: ChaCha8::new(rng.get_seed(), rng.get_stream(), counter),
        };
        s.set_index(WORDS);
        s
    }

    /// Word `i` of the block.
    #[inline(always)]
    fn word(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.block.as_chunks::<4>().0[i])
    }

    #[inline(always)]
    fn index(&self) -> usize {
        self.word(0) as usize
    }

    #[inline(always)]
    fn set_index(&mut self, index: usize) {
        debug_assert!(0 < index && index <= WORDS);
        self.block.as_chunks_mut::<4>().0[0] = (index as u32).to_le_bytes();
    }

    /// The next block of the keystream into `block` (its word 0 is data
    /// again until read).
    #[inline(never)]
    fn refill(&mut self) {
        self.next.next_block(&mut self.block);
    }

    #[inline]
    fn next_word(&mut self) -> u32 {
        let mut index = self.index();
        if index >= WORDS {
            self.refill();
            index = 0;
        }
        let value = self.word(index);
        self.set_index(index + 1);
        value
    }

    #[inline]
    fn next_two_words(&mut self) -> u64 {
        let index = self.index();
        let (mut lo, mut hi);
        let mut new_index;
        if index < WORDS - 1 {
            lo = self.word(index);
            hi = self.word(index + 1);
            new_index = index + 2;
        } else {
            lo = self.word(WORDS - 1);
            self.refill();
            hi = self.word(0);
            new_index = 1;
            if index >= WORDS {
                lo = hi;
                hi = self.word(1);
                new_index = 2;
            }
        }
        self.set_index(new_index);
        (u64::from(hi) << 32) | u64::from(lo)
    }

    fn fill(&mut self, dest: &mut [u8]) {
        let mut read_len = 0;
        let mut index = self.index();
        while read_len < dest.len() {
            if index >= WORDS {
                self.refill();
                index = 0;
            }
            let mut chunks = dest[read_len..].chunks_exact_mut(4);
            let mut src = self.block.as_chunks::<4>().0[index..].iter();
            let zipped = chunks.by_ref().zip(src.by_ref());
            let copied = zipped.len();
            zipped.for_each(|(chunk, word)| chunk.copy_from_slice(word));
            index += copied;
            read_len += copied * 4;
            if let Some(word) = src.next() {
                let rest = chunks.into_remainder();
                let n = rest.len();
                if n > 0 {
                    // A part word is used up, as `BlockRng` does.
                    rest.copy_from_slice(&word[..n]);
                    index += 1;
                }
                break;
            }
        }
        self.set_index(index);
    }
}

impl SeedableRng for Stream {
    type Seed = [u8; 32];

    fn from_seed(seed: [u8; 32]) -> Stream {
        Stream::at(&ChaCha8Rng::from_seed(seed))
    }
}

impl TryRng for Stream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.next_word())
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_two_words())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream_id;
    use rand::{Rng, RngExt};

    fn pair(seed: u64, name: &str) -> (Stream, ChaCha8Rng) {
        let mut reference = ChaCha8Rng::seed_from_u64(seed);
        reference.set_stream(stream_id(name));
        (Stream::new(seed, stream_id(name)), reference)
    }

    #[test]
    fn the_record_is_the_block_line_then_the_next_blocks_line() {
        assert_eq!(std::mem::align_of::<Stream>(), 64);
        assert_eq!(std::mem::size_of::<Stream>(), 128);
        let s = Stream::new(1, 2);
        let base = &s as *const Stream as usize;
        assert_eq!(s.block.as_ptr() as usize, base);
        assert_eq!(&s.next as *const ChaCha8 as usize, base + 64);
    }

    /// Draws `ours` and `theirs` alike through a mix of 32- and 64-bit
    /// draws and byte fills, `n` times.
    fn same_draws(ours: &mut Stream, theirs: &mut ChaCha8Rng, n: u64, what: &str) {
        let mut pattern = n;
        for i in 0..n {
            pattern = crate::rng::mix(pattern ^ i);
            match pattern % 3 {
                0 => assert_eq!(ours.next_u32(), theirs.next_u32(), "{what} {i}"),
                1 => assert_eq!(ours.next_u64(), theirs.next_u64(), "{what} {i}"),
                _ => {
                    let n = ((pattern >> 8) % 70) as usize;
                    let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                    ours.fill_bytes(&mut a);
                    theirs.fill_bytes(&mut b);
                    assert_eq!(a, b, "{what} {i}, {n} bytes");
                }
            }
        }
    }

    #[test]
    fn same_words_as_chacha8rng_across_its_four_block_buffer() {
        // ChaCha8Rng makes four blocks at once; every way of reaching the
        // end of its fourth block (a word before it, a u64 across it,
        // bytes across it) must give what Stream's fifth block does.
        for lead in 0..64 {
            let (mut ours, mut theirs) = pair(3, "work/s17");
            for _ in 0..lead {
                assert_eq!(ours.next_u32(), theirs.next_u32());
            }
            assert_eq!(ours.next_u64(), theirs.next_u64(), "u64 after {lead}");
            let (mut a, mut b) = ([0u8; 70], [0u8; 70]);
            ours.fill_bytes(&mut a);
            theirs.fill_bytes(&mut b);
            assert_eq!(a, b, "bytes after {lead}");
            same_draws(&mut ours, &mut theirs, 200, "after the boundary");
        }
    }

    #[test]
    fn same_words_as_chacha8rng_far_along_the_stream() {
        // Blocks where the counter carries out of its low word and where
        // it wraps to 0, which rand_chacha's four-block step straddles.
        for block in [(1u64 << 32) - 2, u64::MAX - 2, u64::MAX, 1 << 40] {
            let mut theirs = ChaCha8Rng::seed_from_u64(11);
            theirs.set_stream(stream_id("edge/a->b"));
            theirs.set_word_pos(u128::from(block) * WORDS as u128);
            let mut ours = Stream::at(&theirs);
            same_draws(&mut ours, &mut theirs, 2_000, &format!("block {block}"));
        }
    }

    #[test]
    fn from_seed_is_chacha8rngs() {
        for k in 0..8u64 {
            let seed: [u8; 32] =
                std::array::from_fn(|i| (crate::rng::mix(k * 32 + i as u64)) as u8);
            let mut ours = Stream::from_seed(seed);
            let mut theirs = ChaCha8Rng::from_seed(seed);
            same_draws(&mut ours, &mut theirs, 1_000, "from_seed");
        }
    }

    #[test]
    fn same_words_as_chacha8rng_over_many_draws_and_names() {
        // Every mix of 32- and 64-bit draws crosses block boundaries at
        // every offset; 20,000 draws is 2,500 blocks, 600 refills of the
        // reference's four-block buffer.
        let names = [
            "",
            "work/s0",
            "work/s4999",
            "net/s1->s2",
            "arrivals/w0",
            "lb/checkout",
        ];
        for (k, name) in names.iter().enumerate() {
            for seed in [0, 1, 42, u64::MAX] {
                let (mut ours, mut theirs) = pair(seed, name);
                let mut pattern = seed ^ k as u64;
                for i in 0..20_000u32 {
                    pattern = crate::rng::mix(pattern.wrapping_add(u64::from(i)));
                    if pattern & 1 == 0 {
                        assert_eq!(ours.next_u32(), theirs.next_u32(), "{name} {seed} {i}");
                    } else {
                        assert_eq!(ours.next_u64(), theirs.next_u64(), "{name} {seed} {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn same_bytes_and_draws_as_chacha8rng_with_fill_bytes_mixed_in() {
        let (mut ours, mut theirs) = pair(7, "fault/s1/errors/10s");
        let mut pattern = 3u64;
        for i in 0..5_000u64 {
            pattern = crate::rng::mix(pattern ^ i);
            match pattern % 4 {
                0 => assert_eq!(ours.next_u32(), theirs.next_u32()),
                1 => assert_eq!(ours.next_u64(), theirs.next_u64()),
                2 => {
                    // Lengths of 0 to 150 bytes: part words, whole blocks
                    // and more than one block.
                    let n = ((pattern >> 8) % 151) as usize;
                    let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                    ours.fill_bytes(&mut a);
                    theirs.fill_bytes(&mut b);
                    assert_eq!(a, b, "draw {i}, {n} bytes");
                }
                _ => {
                    let a: f64 = ours.random();
                    let b: f64 = theirs.random();
                    assert_eq!(a.to_bits(), b.to_bits());
                    let a = ours.random_range(0..1_000_003u64);
                    let b = theirs.random_range(0..1_000_003u64);
                    assert_eq!(a, b);
                }
            }
        }
    }

    #[test]
    fn seeded_like_chacha8rng() {
        let mut ours = Stream::seed_from_u64(9);
        let mut theirs = ChaCha8Rng::seed_from_u64(9);
        for _ in 0..1_000 {
            assert_eq!(ours.next_u64(), theirs.next_u64());
        }
    }
}
