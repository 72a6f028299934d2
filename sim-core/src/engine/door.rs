//! `Door`: what every request reads of its service's model at the door and
//! when it leaves, copied into a dense table.
//!
//! A service's model record (`model::Service`) is several cache lines,
//! and a request used to read two of them (the replica count and the
//! balancer; threads, queue slots and the shedding limits for admission).
//! At thousands of services those records are rarely in cache when the
//! next request comes: two misses a visit, or two lines a hint must ask
//! for. The same fields in a table of 32 bytes a service stay in cache
//! (160 KB at 5,000 services, and a line serves two).
//!
//! Owns the copy, made once from the model; must not hold live state.

use crate::model::{Balancer, Model};

/// What the balancer, admission and a thread's release read of a
/// service's model.
/// Aligned so that one never straddles two lines (a hint asks for one).
#[derive(Clone, Copy, Debug)]
#[repr(C, align(32))]
pub(super) struct Door {
    /// Threads per replica (an event loop's connection limit).
    pub threads: u32,
    /// Accept-queue slots per replica, or `UNBOUNDED`.
    pub queue_slots: u32,
    /// Per criticality, the replica's requests (busy and queued) at which
    /// the class is refused (`u32::MAX`: never).
    pub shed_in_flight: [u32; 3],
    /// Replicas (an autoscaled service's slots).
    pub replicas: u32,
    pub balancer: Balancer,
    /// A full accept queue drops new connections instead of rejecting.
    pub drops_when_full: bool,
}

/// Every service's door, by service index.
pub(super) fn doors(m: &Model) -> Vec<Door> {
    m.services
        .iter()
        .map(|s| Door {
            threads: s.threads,
            queue_slots: s.queue,
            shed_in_flight: s.admission.shed_in_flight,
            replicas: s.replicas,
            balancer: s.balancer,
            drops_when_full: s.drops_when_full,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_door_is_small_and_copies_its_service() {
        assert_eq!(std::mem::size_of::<Door>(), 32);
        let text = "name = \"d\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n\
            [services.a]\nthreads = 3\nqueue = 7\nreplicas = 2\nsteps = [{ work = \"1ms\" }]\n\
            [services.b]\nthreads = 5\nsteps = [{ work = \"1ms\" }]\n";
        let s = crate::load("d.toml", text, &[]).expect("loads");
        let d = doors(&s.model);
        let a = s.model.services.iter().position(|x| x.name == "a").unwrap();
        let b = 1 - a;
        assert_eq!((d[a].threads, d[a].queue_slots), (3, 7));
        assert_eq!(
            (d[a].replicas, d[a].balancer),
            (2, s.model.services[a].balancer)
        );
        assert_eq!((d[b].threads, d[b].replicas), (5, 1));
        assert_eq!(d[b].queue_slots, s.model.services[b].queue);
        assert_eq!(
            d[a].shed_in_flight,
            s.model.services[a].admission.shed_in_flight
        );
    }
}
