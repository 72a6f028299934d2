//! `Rows`: the open window's values of the time series, a dense row by
//! series slot, each moved onto its series' packed list
//! (`series_packed.rs`) when the window closes.
//!
//! A window close writes one value to each series: in a wide model a few
//! thousand (64 names a scope, each with its metrics, and the aggregates;
//! more with the series of event loops, memory or autoscalers, which are
//! not capped). Written into the row, a value touches a line the last
//! window's close left in cache; moved at the close, in slot order, it
//! reads the packed lists' states one after another (64 bytes each) and
//! touches a list's own buffer only when a 64-bit word of it fills,
//! every four or five values. (Before the values were packed, each went
//! into a plain list whose header and end were two cold lines: closed
//! rows then waited in a block of 32 windows and were moved series by
//! series. Packed, moving each row at once measured as fast, 78.4
//! against 78.8 ns an event at DAG-5000's margin, with no block.)
//!
//! The lists end up exactly as pushing would leave them: each series'
//! values in the order of the windows that wrote it (a series not written
//! in a window gets no value for it), and values written after the last
//! closed window at the end. Owns the staging only; which series there are
//! and which window a value belongs to is `series.rs`'s.

use super::series_packed::PackedValues;

/// The open window's values, not yet in the series' lists.
#[derive(Debug, Default)]
pub(super) struct Rows {
    /// The open window's values, by series slot.
    row: Vec<f64>,
    /// Which slots the open window wrote (bits).
    written: Vec<u64>,
}

impl Rows {
    /// Room for `width` series (the open window's row grows).
    pub fn widen(&mut self, width: usize) {
        self.row.resize(width, 0.0);
        self.written.resize(width.div_ceil(64), 0);
    }

    /// The open window's value of series `slot`: at most one a window
    /// (`SeriesWriter`'s columns give each series one slot, written once
    /// per close; checked in debug builds, which the tests run).
    #[inline]
    pub fn put(&mut self, slot: usize, v: f64) {
        debug_assert!(
            self.written[slot / 64] & (1 << (slot % 64)) == 0,
            "a series written twice in one window"
        );
        self.row[slot] = v;
        self.written[slot / 64] |= 1 << (slot % 64);
    }

    /// Closes the open window: each value written goes onto its list.
    pub fn end_window(&mut self, series: &mut [PackedValues]) {
        for (w, word) in self.written.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                series[slot].push(self.row[slot]);
                bits &= bits - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize) -> Vec<PackedValues> {
        (0..n).map(|_| PackedValues::new()).collect()
    }

    fn lists(n: usize) -> Vec<Vec<f64>> {
        vec![Vec::new(); n]
    }

    /// Whatever the windows write, the lists hold what pushing each value
    /// onto its series' list would: across blocks, with gaps, and with a
    /// window left open at the end.
    #[test]
    fn the_lists_hold_what_pushing_would() {
        let n = 70; // two bit words
        let (mut staged, mut pushed) = (series(n), lists(n));
        let mut rows = Rows::default();
        rows.widen(staged.len());
        let mut lcg = crate::rng::TestLcg(12345);
        for window in 0..69 {
            for (slot, list) in pushed.iter_mut().enumerate() {
                let x = lcg.next();
                // Some series skip some windows; window 7 writes nothing.
                if window == 7 || (x >> 60) == 0 {
                    continue;
                }
                let v = (x >> 11) as f64 + window as f64;
                rows.put(slot, v);
                list.push(v);
            }
            rows.end_window(&mut staged);
        }
        rows.put(3, -1.0);
        pushed[3].push(-1.0);
        // A series added with a window open and closed ones waiting.
        staged.extend(series(1));
        pushed.extend(lists(1));
        rows.widen(staged.len());
        rows.put(n, 5.0);
        pushed[n].push(5.0);
        rows.end_window(&mut staged);
        rows.put(n, 6.0);
        pushed[n].push(6.0);
        rows.end_window(&mut staged);
        let staged: Vec<Vec<f64>> = staged.iter().map(PackedValues::unpack).collect();
        assert_eq!(staged, pushed);
        assert!(staged[..n].iter().all(|s| s.len() > 32));
    }
}
