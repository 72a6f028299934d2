//! Queueing-theory checks (filled in below).
