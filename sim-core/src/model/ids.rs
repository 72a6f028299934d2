//! Typed indices into the compiled model: a service id cannot be used
//! where an edge id is meant, and neither is a bare integer.
//!
//! Each id is the position of its item in the model's vector (`services`,
//! `edges`), so a `Vec` or slice is indexed by the id itself
//! (`model.services[sid]`). Owns no behaviour beyond that.

use std::fmt;
use std::ops::{Index, IndexMut};

macro_rules! model_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The id of the item at `index` (the model's vectors are far
            /// below `u32::MAX` long: `build` refuses larger topologies).
            pub const fn at(index: usize) -> $name {
                $name(index as u32)
            }

            /// The position of the item in its vector.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl<T> Index<$name> for [T] {
            type Output = T;
            #[inline]
            fn index(&self, id: $name) -> &T {
                &self[id.0 as usize]
            }
        }

        impl<T> IndexMut<$name> for [T] {
            #[inline]
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.0 as usize]
            }
        }

        impl<T> Index<$name> for Vec<T> {
            type Output = T;
            #[inline]
            fn index(&self, id: $name) -> &T {
                &self[id.0 as usize]
            }
        }

        impl<T> IndexMut<$name> for Vec<T> {
            #[inline]
            fn index_mut(&mut self, id: $name) -> &mut T {
                &mut self[id.0 as usize]
            }
        }
    };
}

model_id!(
    /// A service: its position in `Model::services`.
    ServiceId
);

model_id!(
    /// A caller → callee edge: its position in `Model::edges`.
    EdgeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_indexes_its_vector_and_slice() {
        let names = vec!["gateway", "orders", "db"];
        assert_eq!(names[ServiceId::at(1)], "orders");
        assert_eq!(names.as_slice()[ServiceId(2)], "db");
        let mut hops = vec![0u64; 2];
        hops[EdgeId::at(1)] += 5;
        assert_eq!(hops, vec![0, 5]);
        assert_eq!(EdgeId(7).index(), 7);
        assert_eq!(ServiceId(3).to_string(), "3");
    }
}
