//! Per-item statistics that remember which items changed since the last
//! window: a window's close then visits those and skips the rest.
//!
//! At thousands of services most of them see nothing in a given window,
//! yet closing it used to read every service's and every edge's counters
//! (several cache lines each) to find a difference of zero. A `Touched`
//! table marks an item on every mutable access (a byte in a dense array:
//! one store, kept in cache, where a bit would cost a read-modify-write
//! on every request), so "unchanged since the last close" costs one read.
//! Marking is conservative: any `&mut` access marks, whether or not it
//! changes anything. Owns the marks only; what a window does with an item
//! is `metrics.rs`'s.

use std::ops::{Index, IndexMut};

use crate::model::{EdgeId, ServiceId};

/// An index into a `Touched` table: a position, or a typed model id.
pub trait Slot: Copy {
    fn slot(self) -> usize;
}

impl Slot for usize {
    #[inline(always)]
    fn slot(self) -> usize {
        self
    }
}

impl Slot for ServiceId {
    #[inline(always)]
    fn slot(self) -> usize {
        self.index()
    }
}

impl Slot for EdgeId {
    #[inline(always)]
    fn slot(self) -> usize {
        self.index()
    }
}

/// Items (one per service, or per edge) that mark themselves touched on
/// every mutable access through indexing.
pub struct Touched<T> {
    items: Vec<T>,
    touched: Vec<bool>,
}

impl<T> Touched<T> {
    pub fn new(items: Vec<T>) -> Touched<T> {
        let touched = vec![false; items.len()];
        Touched { items, touched }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Every item, unmarked (for the recorder's own bookkeeping: the
    /// warm-up's snapshot and the summary).
    pub fn items_mut(&mut self) -> &mut [T] {
        &mut self.items
    }

    /// Whether item `i` was accessed mutably since its mark was last
    /// cleared.
    #[inline]
    pub fn is_touched(&self, i: usize) -> bool {
        self.touched[i]
    }

    /// Item `i`, without marking it (the window close reads and resets
    /// it, then sets its mark with `set_touched`).
    #[inline]
    pub fn visit(&mut self, i: usize) -> &mut T {
        &mut self.items[i]
    }

    /// Marks item `i` (to visit it again at the next close) or clears it.
    #[inline]
    pub fn set_touched(&mut self, i: usize, touched: bool) {
        self.touched[i] = touched;
    }
}

impl<T, I: Slot> Index<I> for Touched<T> {
    type Output = T;
    #[inline(always)]
    fn index(&self, i: I) -> &T {
        &self.items[i.slot()]
    }
}

impl<T, I: Slot> IndexMut<I> for Touched<T> {
    // On every request's path: always inlined.
    #[inline(always)]
    fn index_mut(&mut self, i: I) -> &mut T {
        let i = i.slot();
        self.touched[i] = true;
        &mut self.items[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutable_access_marks_and_a_read_does_not() {
        let mut t = Touched::new(vec![0u64; 130]);
        let _ = t[3];
        assert!(!t.is_touched(3));
        t[129] += 1;
        t[EdgeId::at(64)] += 1;
        assert!(t.is_touched(129) && t.is_touched(64));
        assert!(!t.is_touched(128) && !t.is_touched(63));
        *t.visit(129) += 1;
        t.set_touched(129, false);
        assert!(!t.is_touched(129));
        assert_eq!(t[129], 2);
    }
}
