//! Every service's replicas in one flat vector, a service's side by side
//! and indexed as a slice: `replicas[s][r]`.
//!
//! A vector of vectors made each access read the outer entry (24 bytes a
//! service, 120 KiB at 5,000 services, rarely in cache) before the
//! replica itself; here the offsets are 4 bytes a service and the
//! replicas of neighbouring services share their lines' neighbourhood.
//! Owns the layout only; what a replica holds is `service.rs`'s. The
//! number of replicas of a service never changes after set-up (an
//! autoscaled service has a slot for each replica it may reach).

use std::ops::{Index, IndexMut};

use super::service::Replica;
use crate::model::ServiceId;

pub(super) struct Replicas {
    all: Vec<Replica>,
    /// Service `s`'s replicas are `all[start[s]..start[s + 1]]`.
    start: Vec<u32>,
}

impl Replicas {
    pub(super) fn new(per_service: impl Iterator<Item = Vec<Replica>>) -> Replicas {
        let mut all = Vec::new();
        let mut start = vec![0];
        for replicas in per_service {
            all.extend(replicas);
            start.push(all.len() as u32);
        }
        Replicas { all, start }
    }

    /// Service `s`'s first replica (a prefetch hint's address).
    #[inline]
    pub(super) fn first_of(&self, s: usize) -> *const Replica {
        self.all.as_ptr().wrapping_add(self.start[s] as usize)
    }

    #[inline]
    fn range(&self, s: usize) -> std::ops::Range<usize> {
        self.start[s] as usize..self.start[s + 1] as usize
    }
}

impl Index<usize> for Replicas {
    type Output = [Replica];
    #[inline]
    fn index(&self, s: usize) -> &[Replica] {
        &self.all[self.range(s)]
    }
}

impl IndexMut<usize> for Replicas {
    #[inline]
    fn index_mut(&mut self, s: usize) -> &mut [Replica] {
        let r = self.range(s);
        &mut self.all[r]
    }
}

impl Index<ServiceId> for Replicas {
    type Output = [Replica];
    #[inline]
    fn index(&self, s: ServiceId) -> &[Replica] {
        &self[s.index()]
    }
}

impl IndexMut<ServiceId> for Replicas {
    #[inline]
    fn index_mut(&mut self, s: ServiceId) -> &mut [Replica] {
        &mut self[s.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::Replicas;
    use crate::model::ServiceId;

    #[test]
    fn each_service_sees_its_own_replicas_and_only_them() {
        let text = "name = \"r\"\nduration = \"1s\"\n\
            [workload.w]\ntarget = \"a\"\nrate = 1\n\
            [services.a]\nreplicas = 3\nthreads = 2\nsteps = [{ call = \"b\" }]\n\
            [services.b]\nthreads = 5\nsteps = [{ work = \"1ms\" }]\n\
            [services.c]\nreplicas = 2\nthreads = 7\nsteps = [{ work = \"1ms\" }]\n";
        let s = crate::load("r.toml", text, &[]).expect("loads");
        let m = &s.model;
        let mut cpus = Vec::new();
        let mut store = Replicas::new(
            m.services
                .iter()
                .map(|svc| super::super::service::replicas(svc, &mut cpus)),
        );
        let counts: Vec<usize> = (0..m.services.len()).map(|i| store[i].len()).collect();
        let want: Vec<usize> = m.services.iter().map(|s| s.replicas as usize).collect();
        assert_eq!(counts, want);
        // A change to one replica shows through that service's slice only.
        let b = m.services.iter().position(|s| s.name == "b").unwrap();
        store[ServiceId::at(b)][0].busy = 4;
        for i in 0..m.services.len() {
            for (r, rep) in store[i].iter().enumerate() {
                assert_eq!(rep.busy, if i == b && r == 0 { 4 } else { 0 });
            }
        }
        assert_eq!(store.first_of(b), store[b].as_ptr());
    }
}
