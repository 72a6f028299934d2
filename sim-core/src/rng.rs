//! Named random streams.
//!
//! Every random process in a run (a source's arrivals, a service's work
//! times, a network edge, a fault) draws from its own ChaCha8 stream. The
//! stream is chosen by the master seed and the process's *name*, through a
//! fixed hash (FNV-1a), never by its position: adding a service leaves every
//! other stream unchanged, which is what makes common random numbers work.
//! Must not use OS entropy or `std`'s randomly keyed hasher.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// FNV-1a over the name's bytes: stable across platforms and releases.
pub fn stream_id(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The stream named `name` under `master_seed`.
pub fn stream(master_seed: u64, name: &str) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(master_seed);
    rng.set_stream(stream_id(name));
    rng
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
}
