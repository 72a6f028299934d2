//! `Drains`: a wide model's full latency buffers (`Pending`), drained in
//! three steps, each when the next buffer fills, instead of at once.
//!
//! At thousands of services a full buffer's histogram is out of cache: its
//! header, then the lines of its buckets (which only the header locates).
//! Drained at once, the drain waited on the header, then on the buckets,
//! two misses in a row for every fifteen requests of a service, a tenth of
//! such a run's time. Here a buffer that fills has its header asked for;
//! when the next one fills, the first's buckets are asked for (its header
//! has arrived); when the one after fills, it is drained (its buckets have
//! arrived). Buffers fill every few dozen events, time enough for a line
//! to come. A buffer that gets a value while it waits is drained then
//! (`Pending::record`), as before; the later step finds less or nothing.
//! Changes no figure: a histogram is read only after a final drain.
//!
//! Owns the two waiting slots only; what a drain does is `pending.rs`'s,
//! whose buffers they are the recorder's. Queues' buffers are not staged:
//! a full one drains at its next value (`Pending::record`).

/// A buffer: a service's sojourns or a source's latencies (by index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrainOf {
    Sojourns(usize),
    Latencies(usize),
}

/// The buffers on their way to a drain.
#[derive(Debug, Default)]
pub struct Drains {
    /// Filled last: its histogram's header is on its way.
    header_asked: Option<DrainOf>,
    /// Filled before it: its buckets are on their way.
    buckets_asked: Option<DrainOf>,
}

/// What to do now that a buffer has filled.
#[derive(Debug, PartialEq, Eq)]
pub struct DrainSteps {
    /// Ask for this one's buckets.
    pub ask_buckets: Option<DrainOf>,
    /// Drain this one.
    pub drain: Option<DrainOf>,
}

impl Drains {
    /// `full` has just filled (its header is being asked for): each
    /// buffer waiting moves one step on.
    pub fn filled(&mut self, full: DrainOf) -> DrainSteps {
        let drain = self.buckets_asked.take();
        let ask_buckets = self.header_asked.replace(full);
        self.buckets_asked = ask_buckets;
        DrainSteps { ask_buckets, drain }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_is_drained_when_the_second_after_it_fills() {
        let mut d = Drains::default();
        let (a, b, c) = (
            DrainOf::Sojourns(1),
            DrainOf::Latencies(1),
            DrainOf::Sojourns(7),
        );
        let none = DrainSteps {
            ask_buckets: None,
            drain: None,
        };
        assert_eq!(d.filled(a), none);
        assert_eq!(
            d.filled(b),
            DrainSteps {
                ask_buckets: Some(a),
                drain: None
            }
        );
        assert_eq!(
            d.filled(c),
            DrainSteps {
                ask_buckets: Some(b),
                drain: Some(a)
            }
        );
    }
}
