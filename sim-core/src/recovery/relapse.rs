//! Whether a recovery holds: the scan of a fault's evidence windows for
//! recoveries and relapses, given the two tests that define them.
//!
//! Owns only the alternation rule (recover → relapse → recover …); what
//! counts as a run in band or as a relapse is the caller's (`recovery.rs`),
//! so this file never sees goodput, baselines or time.

/// The recoveries and relapses found in one fault's evidence, as indices
/// into it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Episodes {
    /// Where each recovery began (a run of windows in band starts there).
    pub recoveries: Vec<usize>,
    /// Where each relapse began: a run of windows, after a recovery, whose
    /// goodput fell below the band's floor.
    pub relapses: Vec<usize>,
}

impl Episodes {
    /// Whether the last recovery held to the end of the evidence.
    pub fn held(&self) -> bool {
        !self.recoveries.is_empty() && self.relapses.len() < self.recoveries.len()
    }
}

/// Alternates between looking for a recovery (`recovers_at(m)`: a run in
/// band starts at window `m`) and, once recovered, for a relapse
/// (`relapses_at(q)`: a run below the floor starts at window `q`, `q` after
/// the recovery). A relapse of `hold` windows starting at `q` makes the
/// search for the next recovery begin after it, at `q + hold`, so one dip
/// is never counted both as a relapse and as part of the next recovery.
pub(crate) fn scan(
    len: usize,
    hold: usize,
    recovers_at: impl Fn(usize) -> bool,
    relapses_at: impl Fn(usize) -> bool,
) -> Episodes {
    let mut e = Episodes::default();
    let mut from = 0;
    while let Some(m) = (from..len).find(|&m| recovers_at(m)) {
        e.recoveries.push(m);
        match (m + 1..len).find(|&q| relapses_at(q)) {
            Some(q) => {
                e.relapses.push(q);
                from = q + hold.max(1);
            }
            None => break,
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In band = 1, out = 0; a recovery is 3 ones, a relapse 3 zeros.
    fn on(s: &str) -> Episodes {
        let v: Vec<bool> = s.bytes().map(|b| b == b'1').collect();
        let run = |k: usize, want: bool| k + 3 <= v.len() && v[k..k + 3].iter().all(|&x| x == want);
        scan(v.len(), 3, |m| run(m, true), |q| run(q, false))
    }

    #[test]
    fn recovers_relapses_and_recovers_again() {
        let e = on("00111110001111");
        assert_eq!(e.recoveries, vec![2, 10]);
        assert_eq!(e.relapses, vec![7]);
        assert!(e.held());
    }

    #[test]
    fn a_relapse_to_the_end_does_not_hold() {
        let e = on("0011100000");
        assert_eq!(e.recoveries, vec![2]);
        assert_eq!(e.relapses, vec![5]);
        assert!(!e.held());
    }

    #[test]
    fn a_short_dip_is_no_relapse_and_no_recovery_is_none() {
        assert_eq!(on("0011100111").relapses, Vec::<usize>::new());
        assert!(!on("0000000").held());
    }
}
