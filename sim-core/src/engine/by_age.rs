//! A queue's unacknowledged messages by publish time, for the oldest's
//! age (`QueueStats::set_oldest`).
//!
//! Most queues hold one or two unacknowledged messages at a time; a tree
//! for them was a node of its own, a cache line the broker missed at every
//! publish and acknowledgement of a queue it had not seen for a while (at
//! 5,000 services, 500 queues). The first few live inline, in order, in
//! the queue's own record; past that every one goes into a tree until the
//! queue has none left again. Owns that order only: which messages are
//! unacknowledged is the broker's.

use std::collections::BTreeSet;

use super::ids::MsgId;
use crate::time::Nanos;

/// Messages held inline before the tree takes them all.
const INLINE: usize = 2;

type Key = (Nanos, MsgId);

pub(super) struct ByAge {
    /// The first `len` are the messages, in order, unless `spilled`.
    inline: [Key; INLINE],
    /// Every message while `spilled` (made at the first spill, kept;
    /// boxed, so that its header does not take the queue's record past
    /// two lines).
    #[allow(clippy::box_collection)]
    tree: Option<Box<BTreeSet<Key>>>,
    len: u8,
    spilled: bool,
}

impl Default for ByAge {
    fn default() -> ByAge {
        ByAge {
            inline: [(0, MsgId(0)); INLINE],
            tree: None,
            len: 0,
            spilled: false,
        }
    }
}

impl ByAge {
    /// (A spilled set is never empty: it goes back inline when its tree
    /// empties.)
    pub fn is_empty(&self) -> bool {
        !self.spilled && self.len == 0
    }

    pub fn insert(&mut self, key: Key) {
        let n = usize::from(self.len);
        if self.spilled {
            self.tree_mut().insert(key);
        } else if n < INLINE {
            let at = self.inline[..n].partition_point(|k| *k < key);
            self.inline.copy_within(at..n, at + 1);
            self.inline[at] = key;
            self.len += 1;
        } else {
            let inline = self.inline;
            let tree = self.tree_mut();
            tree.extend(inline);
            tree.insert(key);
            self.len = 0;
            self.spilled = true;
        }
    }

    pub fn remove(&mut self, key: &Key) {
        if self.spilled {
            let tree = self.tree_mut();
            tree.remove(key);
            if tree.is_empty() {
                self.spilled = false;
            }
            return;
        }
        let n = usize::from(self.len);
        if let Some(at) = self.inline[..n].iter().position(|k| k == key) {
            self.inline.copy_within(at + 1..n, at);
            self.len -= 1;
        }
    }

    /// The earliest (publish time, message).
    pub fn first(&self) -> Option<Key> {
        if self.spilled {
            self.tree.as_ref().and_then(|t| t.first().copied())
        } else {
            self.inline[..usize::from(self.len)].first().copied()
        }
    }

    fn tree_mut(&mut self) -> &mut BTreeSet<Key> {
        self.tree.get_or_insert_with(Default::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any sequence of inserts and removes leaves the first a tree of
    /// them all would: spilling, draining and spilling again.
    #[test]
    fn the_first_is_a_trees_whatever_the_sequence() {
        let mut by_age = ByAge::default();
        let mut tree = BTreeSet::new();
        let mut lcg = crate::rng::TestLcg(7);
        let mut now = 0;
        for step in 0..20_000u32 {
            let x = lcg.next();
            // Phases of few and of many messages.
            let busy = (step / 1000) % 2 == 1;
            let insert = tree.is_empty() || (x >> 61) < if busy { 5 } else { 3 };
            if insert {
                now += (x >> 40) % 3; // equal times too
                let key = (now, MsgId((x >> 20) as u32 % 64));
                if tree.insert(key) {
                    by_age.insert(key);
                }
            } else {
                let k = ((x >> 30) as usize) % tree.len();
                let key = *tree.iter().nth(k).expect("in range");
                tree.remove(&key);
                by_age.remove(&key);
            }
            assert_eq!(by_age.first(), tree.first().copied(), "step {step}");
            assert_eq!(by_age.is_empty(), tree.is_empty());
        }
        assert!(by_age.tree.is_some(), "the busy phases spilled");
    }
}
