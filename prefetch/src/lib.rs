//! A cache-line prefetch hint, in a crate of its own so that the rest of
//! the workspace keeps `forbid(unsafe_code)`.
//!
//! The engine uses it on wide models, where a service's records are rarely
//! in cache when its next request comes: when it schedules an event it
//! asks for the lines that event's handler will read, which are then
//! fetched while the events in between run instead of one miss after
//! another when the handler reads them.
//!
//! A prefetch cannot change what any load returns and cannot fault, even
//! on a dangling address: it is a hint the processor may ignore. On
//! targets other than x86-64 it does nothing.
//!
//! Owns the hint only; what to prefetch and when is the engine's.

/// Asks for the `lines` cache lines (64 bytes each) starting at the one
/// that holds `p`, into every level of the cache.
#[inline(always)]
pub fn lines<T>(p: *const T, lines: usize) {
    #[cfg(target_arch = "x86_64")]
    for k in 0..lines {
        let at = p.cast::<i8>().wrapping_add(64 * k);
        // SAFETY: `prefetcht0` never dereferences in the language's sense:
        // it cannot fault or change memory, whatever the address; the
        // intrinsic is unsafe only because it is a `target_feature(sse)`
        // function, and SSE is part of the x86-64 baseline.
        #[allow(unsafe_code)]
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(at);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (p, lines);
}

/// One line: the one that holds `r`.
#[inline(always)]
pub fn line<T>(r: &T) {
    lines(r as *const T, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_changes_nothing_it_points_at_even_a_dangling_address() {
        let v: Vec<u64> = (0..64).collect();
        lines(v.as_ptr(), 8);
        line(&v[63]);
        // Past the end and nowhere at all: still only a hint.
        lines(v.as_ptr().wrapping_add(1 << 20), 2);
        lines(std::ptr::null::<u64>(), 1);
        assert_eq!(v, (0..64).collect::<Vec<u64>>());
    }
}
