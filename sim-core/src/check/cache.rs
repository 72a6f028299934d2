//! A warm cache's hit ratio, for the pre-check: capacity ÷ keys for
//! uniform keys, Che's approximation of LRU for Zipf keys. A TTL is
//! ignored (it can only lower the hit ratio, so the load is a lower bound).
//!
//! Must not know rates: the hit ratio under the independent reference
//! model does not depend on them.

use crate::model::Cache;

/// The steady-state hit ratio of `c` once warm.
pub fn warm_hit_ratio(c: &Cache) -> f64 {
    let (n, cap) = (f64::from(c.keys), f64::from(c.capacity));
    if cap >= n {
        return 1.0;
    }
    let Some(s) = c.zipf else {
        return cap / n;
    };
    let weights: Vec<f64> = (1..=c.keys).map(|k| f64::from(k).powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    // Che: the characteristic time T solves Σ (1 − e^{−p_i T}) = C.
    let filled = |t: f64| p.iter().map(|q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < cap && hi < 1e300 {
        hi *= 2.0;
    }
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if filled(mid) < cap {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|q| q * (1.0 - (-q * lo).exp())).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(capacity: u32, keys: u32, zipf: Option<f64>) -> Cache {
        Cache {
            name: "c".into(),
            capacity,
            ttl: None,
            keys,
            zipf,
            lookup: 0,
            local: None,
            coalesce: false,
            stale: 0,
        }
    }

    #[test]
    fn uniform_keys_hit_capacity_over_keys_and_zipf_more() {
        assert_eq!(warm_hit_ratio(&cache(200, 1000, None)), 0.2);
        assert_eq!(warm_hit_ratio(&cache(2000, 1000, None)), 1.0);
        let z = warm_hit_ratio(&cache(100, 1000, Some(0.8)));
        // Che's figure for this case (checked by simulation in
        // tests/it/caches.rs): 0.3778.
        assert!((z - 0.3778).abs() < 1e-3, "{z}");
    }
}
