//! Same scenario and seed, same bytes.
