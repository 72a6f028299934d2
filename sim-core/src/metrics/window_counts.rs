//! `window_counts!`: a struct of the counters a window's row reads, copied
//! from a counters struct, with its `of`, `plus` and `minus` — the field
//! list written once, so a counter added to a row cannot be copied but not
//! subtracted (or summed but not copied).
//!
//! Owns the declaration only; which counters a row reads, and what a
//! window does with them, is `metrics.rs`'s.

/// Declares `$name`, a `Copy` struct of the listed fields of `$from`
/// (same names, same types), and:
/// - `$name::of(&$from)`: those fields' current values;
/// - `plus`: the field-wise sum (windows summed over services or edges);
/// - `minus`: the field-wise difference (a window's counts: now minus the
///   last window's end).
macro_rules! window_counts {
    (
        $(#[$meta:meta])*
        struct $name:ident of $from:ty {
            $($field:ident: $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        struct $name {
            $($field: $ty),+
        }

        impl $name {
            fn of(c: &$from) -> $name {
                $name { $($field: c.$field),+ }
            }

            fn plus(&self, o: &$name) -> $name {
                $name { $($field: self.$field + o.$field),+ }
            }

            fn minus(&self, o: &$name) -> $name {
                $name { $($field: self.$field - o.$field),+ }
            }
        }
    };
}

pub(super) use window_counts;

#[cfg(test)]
mod tests {
    #[derive(Default)]
    struct Counters {
        a: u64,
        b: u128,
        not_in_row: u64,
    }

    window_counts! {
        /// Two of `Counters`' fields.
        struct Row of Counters { a: u64, b: u128 }
    }

    #[test]
    fn of_copies_plus_and_minus_go_field_by_field() {
        let c = Counters {
            a: 5,
            b: 7,
            not_in_row: 99,
        };
        assert_eq!(c.not_in_row, 99);
        let now = Row::of(&c);
        assert_eq!(now, Row { a: 5, b: 7 });
        let before = Row { a: 2, b: 3 };
        assert_eq!(now.minus(&before), Row { a: 3, b: 4 });
        assert_eq!(now.plus(&before), Row { a: 7, b: 10 });
        assert_eq!(now.minus(&before).plus(&before), now);
    }
}
