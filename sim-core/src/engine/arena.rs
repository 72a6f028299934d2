//! Arenas of the simulated state: jobs, calls, attempts (and, in the
//! broker, messages) in `Vec`s indexed by typed ids, with LIFO free lists,
//! so memory grows with what is in flight and no event allocates once the
//! arenas have grown.
//!
//! A slot carries a generation, bumped when it is freed: a timer or a late
//! answer for an older generation is recognised as stale. The free list is
//! last-in first-out, and slot reuse is part of a run's determinism.

use std::ops::{Index, IndexMut};

use super::ids::ArenaId;

/// A record that lives in an arena slot.
pub(super) trait Slot: Copy {
    fn generation(&self) -> u32;
    /// The same record, in a slot whose current generation is `g`.
    fn with_generation(self, g: u32) -> Self;
    /// Marks the record dead and bumps its generation.
    fn retire(&mut self);
}

pub(super) struct Arena<I, T> {
    items: Vec<T>,
    free: Vec<I>,
    live: u32,
}

impl<I: ArenaId, T: Slot> Arena<I, T> {
    pub(super) fn with_capacity(n: usize) -> Self {
        Arena {
            items: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            live: 0,
        }
    }

    /// Stores `item` in the most recently freed slot (keeping that slot's
    /// generation), or in a new one.
    #[inline]
    pub(super) fn alloc(&mut self, item: T) -> I {
        self.live += 1;
        if let Some(i) = self.free.pop() {
            let g = self.items[i.index()].generation();
            self.items[i.index()] = item.with_generation(g);
            i
        } else {
            self.items.push(item);
            I::from_index((self.items.len() - 1) as u32)
        }
    }

    /// Retires the record in `i` and frees its slot.
    #[inline]
    pub(super) fn free(&mut self, i: I) {
        self.items[i.index()].retire();
        self.free.push(i);
        self.live -= 1;
    }

    /// Records allocated and not freed.
    pub(super) fn live(&self) -> u32 {
        self.live
    }

    /// Every slot ever used, live or free, in index order.
    pub(super) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// Slots ever used (live or free).
    pub(super) fn len(&self) -> usize {
        self.items.len()
    }
}

impl<I: ArenaId, T> Index<I> for Arena<I, T> {
    type Output = T;
    #[inline]
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: ArenaId, T> IndexMut<I> for Arena<I, T> {
    #[inline]
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::JobId;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Rec {
        generation: u32,
        alive: bool,
        v: u32,
    }

    impl Slot for Rec {
        fn generation(&self) -> u32 {
            self.generation
        }
        fn with_generation(self, g: u32) -> Self {
            Rec {
                generation: g,
                ..self
            }
        }
        fn retire(&mut self) {
            self.alive = false;
            self.generation = self.generation.wrapping_add(1);
        }
    }

    fn rec(v: u32) -> Rec {
        Rec {
            generation: 0,
            alive: true,
            v,
        }
    }

    #[test]
    fn freed_slots_are_reused_last_in_first_out_with_a_new_generation() {
        let mut a: Arena<JobId, Rec> = Arena::with_capacity(4);
        let x = a.alloc(rec(1));
        let y = a.alloc(rec(2));
        assert_eq!((x, y), (JobId(0), JobId(1)));
        a.free(x);
        a.free(y);
        assert_eq!(a.live(), 0);
        let z = a.alloc(rec(3));
        assert_eq!(z, y, "the last freed slot comes back first");
        assert_eq!(a[z].generation, 1);
        assert_eq!(a[z].v, 3);
        assert!(a[z].alive);
        assert_eq!(a.alloc(rec(4)), x);
        assert_eq!(a.live(), 2);
        assert_eq!(a.len(), 2);
    }
}
