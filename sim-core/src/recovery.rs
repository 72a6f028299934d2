//! Recovery after faults: for every fault window, each entry's pre-fault
//! baseline and how long after the fault ended its goodput came back — or
//! the verdict that it did not (the signature of a metastable failure).
//!
//! Works on the windowed time series only (goodput, p99 and arrivals per
//! entry), after the run; it never touches the simulated state.
//!
//! The algorithm, per entry and per fault (faults taken in order of start):
//!
//! * **Baseline**: the last `baseline_windows` (10) *clean* windows before the
//!   fault starts: after the warm-up, overlapping no fault, and outside the
//!   disturbed period of any earlier fault (from its start until its
//!   recovery; for ever when it did not recover). Baseline goodput is their
//!   mean, baseline p99 the median of their p99s. When there is no clean
//!   window (a fault during the warm-up, or faults back to back), the
//!   baseline falls back to the *offered load*: the mean arrival rate of the
//!   entry after the warm-up (`baseline_source = "offered_load"`, no p99).
//! * **Band**: the band is a *floor*: a window is *in band* when its goodput
//!   is at least `baseline − max(band × baseline, z × noise)`, where `band`
//!   is 5 %, `z` is 3 and `noise` the larger of the baseline windows'
//!   standard deviation and the Poisson noise of a window,
//!   `sqrt(baseline / window)`. (At 300 req/s in 1 s windows Poisson noise
//!   alone is ±6 %: a bare 5 % band would call noise a failure to recover.)
//!   Goodput *above* the band — the catch-up after a fault, while queued and
//!   retried work completes — is in band: it is reported apart as
//!   `overshoot_peak_rps`, never as "not recovered". A run of windows is in
//!   band when each one is, and their mean is at least `baseline −
//!   max(band × baseline, z × noise / sqrt(n))` — so a sustained small drop
//!   is seen too.
//! * **Clock**: starts when the fault ends; when other faults overlap it
//!   (transitively), when the last of them ends (`measured_from_s`,
//!   `overlaps`). Evidence is the windows that start at or after that time
//!   and end by `duration` (arrivals stop there; the drain after it is not
//!   evidence) and before the next fault starts.
//! * **Verdict**: a *recovery* begins at an evidence window that starts
//!   `sustain` (5) windows in band; a *relapse* is, after a recovery, a run
//!   of `hold` (5) evidence windows that starts with a window below the
//!   floor of a single window (`baseline − band_rps`) and whose mean is below
//!   it too (one or two bad windows are noise, not a relapse); the search for
//!   the next recovery starts after it. `recovered` when the last recovery *holds*:
//!   no relapse after it until the evidence ends; recovery time = that
//!   recovery's first window start − the clock's start (resolution: one
//!   window), with `relapses` counting the relapses before it and
//!   `first_recovered_at_s` the first recovery. `relapsed` when goodput
//!   came back and fell out again for good (`recovered_at_s` is then the
//!   last recovery that did not hold, `relapsed_at_s` the relapse after it).
//!   `not_affected` when no window during the fault left the band (nor its
//!   mean) and the evidence after it never did either. Otherwise
//!   `did_not_recover` (within the run), or `interrupted` when the next
//!   fault started first, or `no_baseline` when the run has no window to
//!   judge from. A fault that starts at or after `duration` is
//!   `not_reached`: the run ended first. (A fault over before the warm-up
//!   ends did happen, and its aftermath is judged like any other's.)

use crate::model::Model;
use crate::output::RunResult;
pub use crate::output::{Recovery, Verdict};
use crate::time::{Nanos, from_secs_f64, secs};

mod relapse;

/// The knobs of the analysis; `Default` gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// How many clean windows before the fault make the baseline.
    pub baseline_windows: usize,
    /// Relative half-width of the band around the baseline goodput.
    pub band: f64,
    /// Consecutive windows in band needed to call it recovered.
    pub sustain: usize,
    /// Standard deviations of window noise the band always allows.
    pub noise_z: f64,
    /// Consecutive windows, after a recovery, whose mean goodput below the
    /// band's floor make a relapse.
    pub hold: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            baseline_windows: 10,
            band: 0.05,
            sustain: 5,
            noise_z: 3.0,
            hold: 5,
        }
    }
}

/// Computes the recovery of every entry after every fault window, with the
/// default parameters. Fault-major order: fault 0 for every entry, then
/// fault 1…
pub fn analyze(model: &Model, run: &RunResult) -> Vec<Recovery> {
    analyze_with(model, run, &Params::default())
}

/// `analyze` with explicit parameters.
pub fn analyze_with(model: &Model, run: &RunResult, p: &Params) -> Vec<Recovery> {
    if model.faults.is_empty() {
        return Vec::new();
    }
    let ts = &run.timeseries;
    let windows: Vec<(Nanos, Nanos)> = ts
        .window_start_s
        .iter()
        .zip(&ts.window_end_s)
        .map(|(&a, &b)| (from_secs_f64(a), from_secs_f64(b)))
        .collect();
    let faults: Vec<(Nanos, Nanos)> = model.faults.iter().map(|f| (f.start, f.end)).collect();
    let empty: &[f64] = &[];
    let per_entry: Vec<Vec<Recovery>> = model
        .sources
        .iter()
        .map(|src| {
            let get = |m: &str| {
                ts.get("entry", &src.name, m)
                    .map_or(empty, |s| s.values.as_slice())
            };
            let input = Input {
                windows: &windows,
                goodput: get("goodput_rps"),
                p99: get("p99_ms"),
                arrivals: get("arrivals_rps"),
                warmup: model.warmup,
                duration: model.duration,
            };
            entry_recoveries(&input, &faults, p)
                .into_iter()
                .map(|mut r| {
                    r.entry = src.name.clone();
                    r
                })
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(faults.len() * per_entry.len());
    for i in 0..faults.len() {
        for e in &per_entry {
            out.push(e[i].clone());
        }
    }
    out
}

/// One entry's series.
pub(crate) struct Input<'a> {
    pub windows: &'a [(Nanos, Nanos)],
    pub goodput: &'a [f64],
    pub p99: &'a [f64],
    pub arrivals: &'a [f64],
    pub warmup: Nanos,
    pub duration: Nanos,
}

fn overlaps(a: (Nanos, Nanos), b: (Nanos, Nanos)) -> bool {
    // A zero-length interval still occupies its instant.
    let b_end = b.1.max(b.0.saturating_add(1));
    a.0 < b_end && b.0 < a.1
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, sum) = v.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| sum / n as f64)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The recoveries of one entry, indexed like `faults` (entry name empty).
pub(crate) fn entry_recoveries(
    inp: &Input,
    faults: &[(Nanos, Nanos)],
    p: &Params,
) -> Vec<Recovery> {
    let n = inp.windows.len().min(inp.goodput.len());
    let windows = &inp.windows[..n];
    let g = |k: usize| inp.goodput[k];
    let p99 = |k: usize| inp.p99.get(k).copied().unwrap_or(0.0);
    let sustain = p.sustain.max(1);

    let mut order: Vec<usize> = (0..faults.len()).collect();
    order.sort_by_key(|&i| (faults[i].0, i));
    // Periods whose windows cannot serve as a baseline: [from, to).
    let mut disturbed: Vec<(Nanos, Nanos)> = Vec::new();
    let mut results: Vec<Recovery> = vec![Recovery::default(); faults.len()];

    for &i in &order {
        let (start, end) = faults[i];
        // The group of faults overlapping this one, transitively.
        let (mut gs, mut ge) = (start, end);
        let mut group = vec![i];
        loop {
            let before = group.len();
            for (j, &f) in faults.iter().enumerate() {
                if !group.contains(&j) && f.0 < ge.max(gs + 1) && gs < f.1.max(f.0 + 1) {
                    group.push(j);
                    gs = gs.min(f.0);
                    ge = ge.max(f.1);
                }
            }
            if group.len() == before {
                break;
            }
        }
        let mut others: Vec<usize> = group.iter().copied().filter(|&j| j != i).collect();
        others.sort_unstable();
        let next = faults
            .iter()
            .enumerate()
            .filter(|(j, f)| !group.contains(j) && f.0 >= ge)
            .min_by_key(|(j, f)| (f.0, *j));
        let evidence_end = next.map_or(inp.duration, |(_, f)| f.0.min(inp.duration));

        let r = &mut results[i];
        r.fault = i;
        r.window_s = windows.first().map_or(0.0, |w| secs(w.1 - w.0));
        r.measured_from_s = secs(ge);
        r.overlaps = others;
        if start >= inp.duration {
            // Arrivals stop at `duration`: nothing after it is evidence, and
            // a fault from then on never touched a request.
            r.verdict = Verdict::NotReached;
            r.baseline_source = "none".into();
            r.note = Some(format!(
                "the fault starts at {}s, when the run's arrivals have stopped ({}s)",
                secs(start),
                secs(inp.duration)
            ));
            continue;
        }

        // Baseline.
        let clean: Vec<usize> = (0..n)
            .filter(|&k| {
                let w = windows[k];
                w.0 >= inp.warmup
                    && w.1 <= start
                    && !faults.iter().any(|&f| overlaps(w, f))
                    && !disturbed.iter().any(|&d| overlaps(w, d))
            })
            .collect();
        let base: Vec<usize> = clean[clean.len().saturating_sub(p.baseline_windows)..].to_vec();
        let window_s = windows.first().map_or(1.0, |w| secs(w.1 - w.0).max(1e-9));
        let (b, sd) = if base.is_empty() {
            let offered = mean(
                (0..n.min(inp.arrivals.len()))
                    .filter(|&k| windows[k].0 >= inp.warmup && windows[k].1 <= inp.duration)
                    .map(|k| inp.arrivals[k]),
            );
            match offered {
                Some(b) => {
                    r.baseline_source = "offered_load".into();
                    r.note = Some(
                        "no clean window before the fault: baseline is the offered load".into(),
                    );
                    (b, 0.0)
                }
                None => {
                    r.baseline_source = "none".into();
                    r.verdict = Verdict::NoBaseline;
                    r.note = Some("no window after the warm-up to compute a baseline".into());
                    disturbed.push((start, Nanos::MAX));
                    continue;
                }
            }
        } else {
            let b = mean(base.iter().map(|&k| g(k))).unwrap_or(0.0);
            let sd = if base.len() >= 2 {
                let var =
                    base.iter().map(|&k| (g(k) - b).powi(2)).sum::<f64>() / (base.len() - 1) as f64;
                var.sqrt()
            } else {
                0.0
            };
            r.baseline_source = "windows".into();
            r.baseline_windows = base.len();
            r.baseline_from_s = Some(secs(windows[base[0]].0));
            r.baseline_to_s = Some(secs(windows[base[base.len() - 1]].1));
            r.baseline_p99_ms = median(
                base.iter()
                    .filter(|&&k| g(k) > 0.0)
                    .map(|&k| p99(k))
                    .collect(),
            );
            (b, sd)
        };
        r.baseline_goodput_rps = b;
        let noise = sd.max((b.max(0.0) / window_s).sqrt());
        let tol_one = (p.band * b).max(p.noise_z * noise);
        let tol_mean = |len: usize| (p.band * b).max(p.noise_z * noise / (len as f64).sqrt());
        r.band_rps = tol_one;
        // The band is a floor: a catch-up above the baseline is back.
        let in_band = |k: usize| g(k) >= b - tol_one;
        let run_in_band = |ks: &[usize]| {
            ks.iter().all(|&k| in_band(k))
                && mean(ks.iter().map(|&k| g(k))).is_none_or(|m| m >= b - tol_mean(ks.len()))
        };

        // During the fault (only windows before `duration` are evidence).
        let during: Vec<usize> = (0..n)
            .filter(|&k| {
                let w = windows[k];
                w.0 < ge && w.1 > start && w.1 <= inp.duration
            })
            .collect();
        let after: Vec<usize> = (0..n)
            .filter(|&k| windows[k].0 >= ge && windows[k].1 <= evidence_end)
            .collect();
        let affected_during = !run_in_band(&during);
        let hold = p.hold.max(1);
        let episodes = relapse::scan(
            after.len(),
            hold,
            |m| m + sustain <= after.len() && run_in_band(&after[m..m + sustain]),
            |q| {
                q + hold <= after.len()
                    && g(after[q]) < b - tol_one
                    && mean(after[q..q + hold].iter().map(|&k| g(k)))
                        .is_some_and(|m| m < b - tol_one)
            },
        );
        let found = episodes
            .recoveries
            .last()
            .copied()
            .filter(|_| episodes.held());
        r.relapses = episodes.relapses.len() as u64;
        if r.relapses > 0 {
            r.first_recovered_at_s = Some(secs(windows[after[episodes.recoveries[0]]].0));
        }
        r.overshoot_peak_rps = after
            .iter()
            .map(|&k| g(k))
            .filter(|&x| x > b + tol_one)
            .reduce(f64::max);

        let span_end = match found {
            Some(m) => m,
            None => after.len(),
        };
        let span: Vec<usize> = during.iter().chain(&after[..span_end]).copied().collect();
        r.min_goodput_rps = span.iter().map(|&k| g(k)).fold(f64::INFINITY, f64::min);
        if !r.min_goodput_rps.is_finite() {
            r.min_goodput_rps = b;
        }
        r.peak_p99_ms = span
            .iter()
            .filter(|&&k| g(k) > 0.0)
            .map(|&k| p99(k))
            .fold(0.0, f64::max);

        match found {
            Some(0) if !affected_during && r.relapses == 0 => {
                r.verdict = Verdict::NotAffected;
                disturbed.push((start, ge));
            }
            Some(m) => {
                let at = windows[after[m]].0;
                r.verdict = Verdict::Recovered;
                r.recovered_at_s = Some(secs(at));
                r.recovery_time_s = Some(secs(at.saturating_sub(ge)));
                disturbed.push((start, at));
            }
            None if !episodes.recoveries.is_empty() => {
                let last = *episodes.recoveries.last().unwrap_or(&0);
                let fell = *episodes.relapses.last().unwrap_or(&0);
                r.verdict = Verdict::Relapsed;
                r.recovered_at_s = Some(secs(windows[after[last]].0));
                r.relapsed_at_s = Some(secs(windows[after[fell]].0));
                r.note = Some(format!(
                    "goodput was back at {}s and fell below {:.1}/s again from {}s ({} relapse(s))",
                    secs(windows[after[last]].0),
                    b - tol_one,
                    secs(windows[after[fell]].0),
                    r.relapses
                ));
                disturbed.push((start, Nanos::MAX));
            }
            None if !affected_during && after.iter().all(|&k| in_band(k)) => {
                r.verdict = Verdict::NotAffected;
                disturbed.push((start, ge));
            }
            None => {
                disturbed.push((start, Nanos::MAX));
                if let Some((j, f)) = next.filter(|(_, f)| f.0 < inp.duration) {
                    r.verdict = Verdict::Interrupted;
                    r.note = Some(format!(
                        "fault {j} started at {}s, before goodput was back",
                        secs(f.0)
                    ));
                } else {
                    r.verdict = Verdict::DidNotRecover;
                    let why = if ge >= inp.duration {
                        "the fault lasts to the end of the run".to_owned()
                    } else if after.len() < sustain {
                        format!(
                            "only {} window(s) between the fault's end and the end of arrivals; {} in band are needed: lengthen `duration`",
                            after.len(),
                            sustain
                        )
                    } else {
                        format!(
                            "goodput never stayed at or above {:.1}/s (baseline {:.1}/s) for {} windows before arrivals stopped",
                            b - tol_one,
                            b,
                            sustain
                        )
                    };
                    r.note = Some(match r.note.take() {
                        Some(n) => format!("{why}; {n}"),
                        None => why,
                    });
                }
            }
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn windows(n: usize) -> Vec<(Nanos, Nanos)> {
        (0..n as u64)
            .map(|k| (k * NS_PER_S, (k + 1) * NS_PER_S))
            .collect()
    }

    fn s(x: u64) -> Nanos {
        x * NS_PER_S
    }

    fn run(
        goodput: &[f64],
        faults: &[(Nanos, Nanos)],
        warmup: u64,
        duration: u64,
    ) -> Vec<Recovery> {
        let w = windows(goodput.len());
        let p99 = vec![10.0; goodput.len()];
        let arrivals = vec![100.0; goodput.len()];
        let inp = Input {
            windows: &w,
            goodput,
            p99: &p99,
            arrivals: &arrivals,
            warmup: s(warmup),
            duration: s(duration),
        };
        entry_recoveries(&inp, faults, &Params::default())
    }

    /// 100 req/s flat, with `dip` windows at `value` from `from`.
    fn series(n: usize, from: usize, dip: usize, value: f64) -> Vec<f64> {
        (0..n)
            .map(|k| {
                if k >= from && k < from + dip {
                    value
                } else {
                    100.0
                }
            })
            .collect()
    }

    #[test]
    fn recovers_after_the_dip() {
        // Fault 20..30 s; goodput low until 34 s.
        let g = series(60, 20, 14, 10.0);
        let r = &run(&g, &[(s(20), s(30))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.recovery_time_s, Some(4.0));
        assert_eq!(r.recovered_at_s, Some(34.0));
        assert_eq!(r.baseline_goodput_rps, 100.0);
        assert_eq!(r.baseline_windows, 10);
        assert_eq!(r.baseline_from_s, Some(10.0));
        assert_eq!(r.baseline_to_s, Some(20.0));
        assert_eq!(r.baseline_p99_ms, Some(10.0));
        assert_eq!(r.min_goodput_rps, 10.0);
        // Poisson noise of 100/s in 1 s windows: ±3 × 10.
        assert!((r.band_rps - 30.0).abs() < 1e-9);
    }

    #[test]
    fn a_dip_that_lasts_is_not_recovery() {
        let g = series(60, 20, 40, 50.0);
        let r = &run(&g, &[(s(20), s(30))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::DidNotRecover);
        assert_eq!(r.recovery_time_s, None);
        assert!(r.note.as_deref().unwrap().contains("never stayed"));
    }

    #[test]
    fn a_fault_after_the_run_is_not_reached() {
        // The run's arrivals stop at 20 s; faults at 20 s and 30 s never
        // happen, the one at 10 s does.
        let g = series(25, 10, 5, 10.0);
        let r = run(&g, &[(s(30), s(60)), (s(20), s(25)), (s(10), s(15))], 2, 20);
        for f in &r[..2] {
            assert_eq!(f.verdict, Verdict::NotReached);
            assert!(f.verdict.ok());
            assert_eq!(f.recovery_time_s, None);
            assert!(f.note.as_deref().unwrap().contains("arrivals have stopped"));
        }
        assert_eq!(r[2].verdict, Verdict::Recovered);
    }

    #[test]
    fn a_flat_series_is_not_affected() {
        let g = series(60, 0, 0, 0.0);
        let r = &run(&g, &[(s(20), s(30))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::NotAffected);
        assert_eq!(r.recovery_time_s, None);
    }

    #[test]
    fn a_sustained_small_drop_is_seen_by_the_mean() {
        // 20 % down for the whole fault: each window is within 3 sd of
        // Poisson noise, their mean is not.
        let g = series(60, 20, 10, 80.0);
        let r = &run(&g, &[(s(20), s(30))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.recovery_time_s, Some(0.0));
    }

    #[test]
    fn the_drain_after_duration_is_not_evidence() {
        // Arrivals stop at 50 s; windows after that drain to 0.
        let mut g = series(60, 20, 10, 10.0);
        for v in &mut g[50..] {
            *v = 0.0;
        }
        let r = &run(&g, &[(s(20), s(30))], 5, 50)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.recovery_time_s, Some(0.0));
    }

    #[test]
    fn too_short_a_tail_says_so() {
        let g = series(60, 20, 38, 10.0);
        let r = &run(&g, &[(s(20), s(57))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::DidNotRecover);
        assert!(r.note.as_deref().unwrap().contains("lengthen"), "{r:?}");
        // A fault lasting to the end.
        let r = &run(&g, &[(s(20), s(60))], 5, 60)[0];
        assert_eq!(r.verdict, Verdict::DidNotRecover);
        assert!(r.note.as_deref().unwrap().contains("end of the run"));
    }

    #[test]
    fn a_fault_in_the_warmup_uses_the_offered_load() {
        let g = series(60, 2, 6, 0.0);
        let r = &run(&g, &[(s(2), s(5))], 10, 60)[0];
        assert_eq!(r.baseline_source, "offered_load");
        assert_eq!(r.baseline_goodput_rps, 100.0);
        assert_eq!(r.baseline_p99_ms, None);
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.recovery_time_s, Some(3.0));
    }

    #[test]
    fn overlapping_faults_wait_for_the_last_end() {
        let g = series(80, 20, 20, 10.0);
        let rs = run(&g, &[(s(20), s(30)), (s(25), s(38))], 5, 80);
        for r in &rs {
            assert_eq!(r.measured_from_s, 38.0);
            assert_eq!(r.verdict, Verdict::Recovered);
            assert_eq!(r.recovery_time_s, Some(2.0));
            // Both baselines are the clean windows before the first fault.
            assert_eq!(r.baseline_to_s, Some(20.0));
        }
        assert_eq!(rs[0].overlaps, vec![1]);
        assert_eq!(rs[1].overlaps, vec![0]);
    }

    #[test]
    fn a_next_fault_interrupts_and_keeps_the_old_baseline() {
        // Goodput never comes back: the second fault's baseline must be
        // the windows before the first, not the depressed ones.
        let g = series(80, 20, 60, 10.0);
        let rs = run(&g, &[(s(20), s(30)), (s(40), s(45))], 5, 80);
        assert_eq!(rs[0].verdict, Verdict::Interrupted);
        assert!(rs[0].note.as_deref().unwrap().contains("fault 1"));
        assert_eq!(rs[1].baseline_to_s, Some(20.0));
        assert_eq!(rs[1].verdict, Verdict::DidNotRecover);
    }

    #[test]
    fn recovers_relapses_and_recovers_again() {
        // Fault 20..30 s; back at 34 s, down again 45..55 s, back at 55 s.
        let mut g = series(80, 20, 14, 10.0);
        for v in &mut g[45..55] {
            *v = 5.0;
        }
        let r = &run(&g, &[(s(20), s(30))], 5, 80)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.relapses, 1);
        assert_eq!(r.first_recovered_at_s, Some(34.0));
        assert_eq!(r.recovered_at_s, Some(55.0));
        assert_eq!(r.recovery_time_s, Some(25.0));
        assert_eq!(r.min_goodput_rps, 5.0);
    }

    #[test]
    fn a_collapse_after_recovery_is_a_relapse_not_a_recovery() {
        // Back at 34 s for 10 s, then down to the end.
        let mut g = series(80, 20, 14, 10.0);
        for v in &mut g[44..] {
            *v = 20.0;
        }
        let r = &run(&g, &[(s(20), s(30))], 5, 80)[0];
        assert_eq!(r.verdict, Verdict::Relapsed);
        assert!(!r.verdict.ok());
        assert_eq!(r.relapses, 1);
        assert_eq!(r.recovered_at_s, Some(34.0));
        assert_eq!(r.relapsed_at_s, Some(44.0));
        assert_eq!(r.recovery_time_s, None);
        assert!(r.note.as_deref().unwrap().contains("fell below"));
    }

    #[test]
    fn a_short_dip_after_recovery_is_no_relapse() {
        // Two bad windows out of five: their mean stays above the floor.
        let mut g = series(80, 20, 14, 10.0);
        g[50] = 60.0;
        g[51] = 60.0;
        let r = &run(&g, &[(s(20), s(30))], 5, 80)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.relapses, 0);
        assert_eq!(r.first_recovered_at_s, None);
    }

    #[test]
    fn a_catch_up_above_the_band_is_recovered_and_reported_as_overshoot() {
        // Goodput at 0 during the fault, then 250/s for 10 s while the
        // backlog drains, then the baseline.
        let mut g = series(80, 20, 10, 0.0);
        for v in &mut g[30..40] {
            *v = 250.0;
        }
        let r = &run(&g, &[(s(20), s(30))], 5, 80)[0];
        assert_eq!(r.verdict, Verdict::Recovered);
        assert_eq!(r.recovery_time_s, Some(0.0));
        assert_eq!(r.overshoot_peak_rps, Some(250.0));
    }

    #[test]
    fn no_windows_no_baseline() {
        let r = &run(&[], &[(s(2), s(5))], 0, 10)[0];
        assert_eq!(r.verdict, Verdict::NoBaseline);
    }
}
