//! A replica's accept queue: FIFO, or by criticality (critical first, FIFO
//! within a class, never preempting a request already running).
//!
//! Owns the order in which queued requests are taken; must not decide
//! whether a request may queue (that is `service`'s admission).

use std::collections::VecDeque;

use super::ids::JobId;
use crate::patterns::Criticality;

pub(super) struct AcceptQueue {
    /// Every queued request of a FIFO queue; the critical ones of a
    /// priority queue.
    first: VecDeque<JobId>,
    /// A priority queue's `default` and `sheddable` lanes (empty for a FIFO
    /// queue, so taking the next request looks at one lane).
    lower: Vec<VecDeque<JobId>>,
    lower_len: usize,
}

impl AcceptQueue {
    pub fn new(capacity: usize, by_priority: bool) -> AcceptQueue {
        AcceptQueue {
            first: VecDeque::with_capacity(capacity),
            lower: if by_priority {
                vec![VecDeque::new(), VecDeque::new()]
            } else {
                Vec::new()
            },
            lower_len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.first.len() + self.lower_len
    }

    #[inline(always)]
    pub fn push_back(&mut self, j: JobId, class: Criticality) {
        if self.lower.is_empty() || class == Criticality::Critical {
            self.first.push_back(j);
        } else {
            self.lower[class.index() - 1].push_back(j);
            self.lower_len += 1;
        }
    }

    /// The next request to serve.
    #[inline]
    pub fn pop_front(&mut self) -> Option<JobId> {
        if let Some(j) = self.first.pop_front() {
            return Some(j);
        }
        if self.lower_len == 0 {
            return None;
        }
        let j = self.lower.iter_mut().find_map(|lane| lane.pop_front());
        self.lower_len -= 1;
        j
    }

    /// Of a priority queue, the newest request of the least important
    /// class below `class`, taken out to make room (`None` for a FIFO
    /// queue or when nothing less important waits).
    pub fn evict_below(&mut self, class: Criticality) -> Option<JobId> {
        let lanes = self.lower.len();
        (0..lanes)
            .rev()
            .filter(|&lane| lane + 1 > class.index())
            .find_map(|lane| self.lower[lane].pop_back())
            .inspect(|_| self.lower_len -= 1)
    }

    pub fn clear(&mut self) {
        self.first.clear();
        self.lower.iter_mut().for_each(VecDeque::clear);
        self.lower_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u32) -> Vec<JobId> {
        (0..n).map(JobId).collect()
    }

    #[test]
    fn a_fifo_queue_ignores_classes() {
        let j = ids(3);
        let mut q = AcceptQueue::new(4, false);
        q.push_back(j[0], Criticality::Sheddable);
        q.push_back(j[1], Criticality::Critical);
        q.push_back(j[2], Criticality::Default);
        assert_eq!(q.len(), 3);
        assert_eq!(q.evict_below(Criticality::Critical), None);
        let order: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(order, j);
    }

    #[test]
    fn a_priority_queue_serves_by_class_then_arrival() {
        let j = ids(5);
        let mut q = AcceptQueue::new(4, true);
        q.push_back(j[0], Criticality::Sheddable);
        q.push_back(j[1], Criticality::Default);
        q.push_back(j[2], Criticality::Critical);
        q.push_back(j[3], Criticality::Sheddable);
        q.push_back(j[4], Criticality::Critical);
        let order: Vec<_> = std::iter::from_fn(|| q.pop_front()).collect();
        assert_eq!(order, vec![j[2], j[4], j[1], j[0], j[3]]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn eviction_takes_the_newest_of_the_least_important() {
        let j = ids(4);
        let mut q = AcceptQueue::new(4, true);
        q.push_back(j[0], Criticality::Sheddable);
        q.push_back(j[1], Criticality::Sheddable);
        q.push_back(j[2], Criticality::Default);
        q.push_back(j[3], Criticality::Critical);
        assert_eq!(q.evict_below(Criticality::Sheddable), None);
        assert_eq!(q.evict_below(Criticality::Default), Some(j[1]));
        assert_eq!(q.evict_below(Criticality::Critical), Some(j[0]));
        assert_eq!(q.evict_below(Criticality::Critical), Some(j[2]));
        assert_eq!(q.evict_below(Criticality::Critical), None);
        assert_eq!(q.len(), 1);
    }
}
