//! Durations read at a key: the parse, with its error located at the key
//! (`scenario::load` turns the key into a line and column).
//!
//! Shared by `build` and `runtime`; imports nothing of the scenario but
//! `KeyError`.

use super::KeyError;
use crate::time::{Nanos, parse_duration};

type R<T> = Result<T, KeyError>;

pub(super) fn duration(key: &str, text: &str) -> R<Nanos> {
    parse_duration(text).map_err(|m| KeyError::new(key, m))
}

pub(super) fn positive_duration(key: &str, text: &str) -> R<Nanos> {
    let d = duration(key, text)?;
    if d == 0 {
        return Err(KeyError::new(key, "must be longer than 0"));
    }
    Ok(d)
}

pub(super) fn opt_duration(key: &str, text: &Option<String>, default: Nanos) -> R<Nanos> {
    text.as_deref().map_or(Ok(default), |t| duration(key, t))
}
