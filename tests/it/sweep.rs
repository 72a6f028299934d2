//! Sweeps end to end.
