//! SLO assertions, recovery verdicts and blast radius end to end.
