//! Named random streams.
//!
//! Every random process in a run (a source's arrivals, a service's work
//! times, a network edge, a fault) draws from its own ChaCha8 stream
//! (`Stream`: `rand_chacha`'s words, read a block at a time, `stream.rs`). The
//! stream is chosen by the master seed and the process's *name*, through a
//! fixed hash (FNV-1a), never by its position: adding a service leaves every
//! other stream unchanged, which is what makes common random numbers work.
//! Must not use OS entropy or `std`'s randomly keyed hasher.

mod chacha_block;
mod stream;

pub use stream::Stream;

/// FNV-1a's offset basis: the hash of no bytes.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a's step over `bytes`, from the hash `h` of what came before.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// FNV-1a over the name's bytes: stable across platforms and releases.
pub fn stream_id(name: &str) -> u64 {
    fnv(FNV_OFFSET, name.as_bytes())
}

/// `stream_id` of the pieces joined, without joining them.
pub fn stream_id_of(pieces: &[&str]) -> u64 {
    pieces.iter().fold(FNV_OFFSET, |h, p| fnv(h, p.as_bytes()))
}

/// What names a stream: its text (`stream_id`), or pieces that hash as
/// their text would (`streams::Name`, which a model of thousands of
/// services names its streams with, without a string each).
pub trait StreamName {
    fn stream_id(&self) -> u64;
}

impl StreamName for str {
    fn stream_id(&self) -> u64 {
        stream_id(self)
    }
}

impl StreamName for String {
    fn stream_id(&self) -> u64 {
        stream_id(self)
    }
}

/// SplitMix64's finaliser (Steele, Lea and Flood, 2014): a bijection on
/// `u64` that spreads every input bit over the whole word. FNV-1a
/// (`stream_id`) of two keys that differ in one character differs in few
/// bits; a seed derived from such a key (a sweep run's, a comparison rep's)
/// goes through `mix` so that neighbouring keys give unrelated seeds.
///
/// The values are part of the file formats: a sweep's or a comparison's
/// seeds are `mix(stream_id(key))`, so this function must never change.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Reproducible pseudo-random numbers for tests' inputs (Knuth's MMIX
/// linear congruential step), one sequence per seed: not a simulation
/// stream, and never in a run.
#[cfg(test)]
pub(crate) struct TestLcg(pub u64);

#[cfg(test)]
impl TestLcg {
    /// The next state (its high bits are the better ones).
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
}

/// The stream named `name` under `master_seed`.
pub fn stream<N: StreamName + ?Sized>(master_seed: u64, name: &N) -> Stream {
    Stream::new(master_seed, name.stream_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_depend_on_seed_and_name_only() {
        let a1: u64 = stream(7, "arrivals/checkout").random();
        let a2: u64 = stream(7, "arrivals/checkout").random();
        let b: u64 = stream(7, "arrivals/other").random();
        let c: u64 = stream(8, "arrivals/checkout").random();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    #[test]
    fn fnv_is_the_published_function() {
        // FNV-1a 64 test vectors.
        assert_eq!(stream_id(""), 0xcbf29ce484222325);
        assert_eq!(stream_id("a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn pieces_hash_as_their_text_does() {
        for text in ["", "a", "work/checkout", "retry/services.a.steps.1"] {
            for cut in 0..=text.len() {
                let (head, tail) = text.split_at(cut);
                assert_eq!(
                    stream_id_of(&[head, tail]),
                    stream_id(text),
                    "{text} at {cut}"
                );
                assert_eq!(stream_id_of(&[head, "", tail]), stream_id(text));
            }
        }
        assert_eq!(stream_id_of(&[]), stream_id(""));
    }

    #[test]
    fn mix_is_splitmix64s_finaliser_and_never_changes() {
        // SplitMix64 seeded with 0 returns mix(0x9e3779b97f4a7c15) first:
        // 0xe220a8397b1dcdaf, the published first output.
        assert_eq!(mix(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix(0), 0);
        // Pinned: sweep and compare seeds are mix(stream_id(key)); the last
        // is rep 1 of `cascade compare --seed 42`, as printed since 0.1.
        assert_eq!(mix(1), 0x5692_161d_100b_05e5);
        assert_eq!(mix(42), 0xa759_ea27_d472_7622);
        assert_eq!(mix(u64::MAX), 0xb4d0_55fc_f2cb_bd7b);
        assert_eq!(
            mix(stream_id("cascade-compare\u{0}seed=42\u{0}rep=1")),
            15_571_539_686_492_607_617
        );
    }
}
