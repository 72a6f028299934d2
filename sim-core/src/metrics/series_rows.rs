//! `Rows`: the time series' values as a window close writes them, a dense
//! row a window, moved into each series' own packed list
//! (`series_packed.rs`) a block of windows at a time.
//!
//! A window close writes one value to each series: in a wide model a few
//! thousand (64 names a scope, each with its metrics, and the aggregates;
//! more with the series of event loops, memory or autoscalers, which are
//! not capped). Pushed
//! straight onto each series' list, every value read its list's header and
//! wrote past its end, two cache lines a series that a whole window's
//! events had pushed out: at 5,000 services, some 5,000 misses a window, a
//! tenth of the run's misses. Here a value goes into the window's row (one
//! dense vector, in cache from the last window); a closed row is copied
//! into a block of `BLOCK` rows; a full block is moved into the lists
//! series by series, each list taking `BLOCK` values in a row.
//!
//! The lists end up exactly as pushing would leave them: each series'
//! values in the order of the windows that wrote it (a series not written
//! in a window gets no value for it), and values written after the last
//! closed window at the end. Owns the staging only; which series there are
//! and which window a value belongs to is `series.rs`'s.

use super::series_packed::PackedValues;

/// Windows a block holds before it is moved into the lists: small enough
/// that a block of a few thousand series stays in cache while it is
/// moved (32 × 2,500 values: 640 KB), large enough that each list's
/// header is read once in `BLOCK` windows.
const BLOCK: usize = 32;

/// The windows written and not yet in the series' lists.
#[derive(Debug, Default)]
pub(super) struct Rows {
    /// The open window's values, by series slot.
    row: Vec<f64>,
    /// Which slots the open window wrote (bits).
    written: Vec<u64>,
    /// Closed windows, row after row (`width` values each).
    block: Vec<f64>,
    /// Their written bits, row after row (`words` each).
    block_written: Vec<u64>,
    /// Series (slots) a row has, and bit words a row's marks take.
    width: usize,
    words: usize,
    /// Closed windows in `block`.
    closed: usize,
}

impl Rows {
    /// Room for every series of `series` (those added since are new: the
    /// closed windows, which have none of their values, go to the lists
    /// first, since a block is of one width; the open window's row grows).
    pub fn widen(&mut self, series: &mut [PackedValues]) {
        if series.len() == self.width {
            return;
        }
        self.flush(series);
        self.width = series.len();
        self.words = self.width.div_ceil(64);
        self.row.resize(self.width, 0.0);
        self.written.resize(self.words, 0);
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

    /// Closes the open window (`series` take a full block).
    pub fn end_window(&mut self, series: &mut [PackedValues]) {
        if self.written.iter().all(|&w| w == 0) {
            return;
        }
        self.block.extend_from_slice(&self.row);
        self.block_written.extend_from_slice(&self.written);
        self.written.iter_mut().for_each(|w| *w = 0);
        self.closed += 1;
        if self.closed == BLOCK {
            self.flush(series);
        }
    }

    /// Moves every window written into `series`, the open one last.
    pub fn finish(&mut self, series: &mut [PackedValues]) {
        self.end_window(series);
        self.flush(series);
    }

    /// Moves the closed windows into the lists, series by series.
    fn flush(&mut self, series: &mut [PackedValues]) {
        if self.closed == 0 {
            // (Each series added before the first window widens the rows:
            // nothing to move.)
            return;
        }
        let (width, words) = (self.width, self.words);
        for (slot, s) in series.iter_mut().enumerate().take(width) {
            let (word, bit) = (slot / 64, 1u64 << (slot % 64));
            for r in 0..self.closed {
                if self.block_written[r * words + word] & bit != 0 {
                    s.push(self.block[r * width + slot]);
                }
            }
        }
        self.block.clear();
        self.block_written.clear();
        self.closed = 0;
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
        rows.widen(&mut staged);
        let mut x = 12345u64;
        for window in 0..(2 * BLOCK + 5) {
            for (slot, list) in pushed.iter_mut().enumerate() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
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
        rows.widen(&mut staged);
        rows.put(n, 5.0);
        pushed[n].push(5.0);
        rows.end_window(&mut staged);
        rows.put(n, 6.0);
        pushed[n].push(6.0);
        rows.finish(&mut staged);
        let staged: Vec<Vec<f64>> = staged.iter().map(PackedValues::unpack).collect();
        assert_eq!(staged, pushed);
        assert!(staged[..n].iter().all(|s| s.len() > BLOCK));
    }
}
