//! How numbers read, in charts, `report.html` and on the terminal alike:
//! the one place that decides decimals, signs, separators and units of a
//! number shown to a person.
//!
//! The variants, and why each exists:
//!
//! - [`sig3`] (and [`sig3_signed`] for differences): a measured value in a
//!   table or a sentence — latencies, rates, ratios — to about three
//!   significant digits with the decimals kept (`0.484`, `9.08`, `46.0`,
//!   `1292`), so a column shows how precise each value is.
//! - [`short`]: where space is tight or the value was typed by a person —
//!   chart ticks, legends, subtitles, durations in prose — trailing zeros
//!   dropped and large values shortened (`0.25`, `12.5`, `1500`, `25k`,
//!   `1.5M`). Every chart's text depends on it: changing it changes every
//!   SVG and PNG.
//! - [`pct`]: a share as a percentage with the precision small shares need
//!   (`7.3%`, `0.02%`, `<0.01%`).
//! - [`thousands`]: a count with thousands separators (`32,808`).
//! - [`seconds`]: a time in whole or tenths of seconds (`4s`, `0.5s`).
//! - [`fixed`] and [`fixed_signed`]: a set number of decimals, for columns
//!   with a unit of their own (rates to 0.1/s, percentages to 0.01); no
//!   `-0`.
//!
//! Must not know what a value means (units and labels are the caller's),
//! nor format machine-read files: CSV and JSON keep every digit.

/// Decimals that give about three significant digits and never drop an
/// integer digit: 0 from 100 on (and for 0), 1 from 10, 2 from 1, else 3.
pub fn sig_decimals(v: f64) -> usize {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    }
}

/// Three significant digits, decimals kept: `0`, `0.484`, `9.08`, `46.0`,
/// `1292`; `–` when not finite.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    fixed(v, sig_decimals(v))
}

/// A difference to three significant digits, signed: `+12.3`, `-168`,
/// `0` (a difference that rounds to zero has no sign).
pub fn sig3_signed(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    fixed_signed(v, sig_decimals(v))
}

/// `v` with `decimals` decimals; a value that rounds to zero prints
/// unsigned (`0.00`, not `-0.00`).
pub fn fixed(v: f64, decimals: usize) -> String {
    unsigned_zero(format!("{v:.decimals$}"))
}

/// `v` with `decimals` decimals and its sign (`+1.5`, `-0.7`); a value that
/// rounds to zero prints unsigned (`0.0`).
pub fn fixed_signed(v: f64, decimals: usize) -> String {
    unsigned_zero(format!("{v:+.decimals$}"))
}

fn unsigned_zero(s: String) -> String {
    let digits = s.trim_start_matches(['+', '-']);
    if digits.chars().all(|c| c == '0' || c == '.') {
        digits.to_owned()
    } else {
        s
    }
}

/// A short number: `0`, `0.25`, `12.5`, `1500`, `25k`, `1.5M`; `–` when
/// not finite.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trimmed(v / 1e6, 2))
    } else if a >= 1e4 {
        format!("{}k", trimmed(v / 1e3, 1))
    } else if a >= 100.0 {
        trimmed(v, 0)
    } else if a >= 1.0 {
        trimmed(v, 2)
    } else {
        trimmed(v, 3)
    }
}

/// At most `decimals` decimals, trailing zeros dropped, no `-0`.
fn trimmed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// A share as a percentage with sensible precision: `7.3%`, `0.02%`,
/// `<0.01%`, `50%`; `–` when not finite.
pub fn pct(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let p = x * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.01 {
        "<0.01%".into()
    } else if p < 1.0 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// `32808` → `32,808`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds, short: `4s`, `0.5s`.
pub fn seconds(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}s")
    } else {
        format!("{v:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits_keep_their_decimals() {
        assert_eq!(sig3(0.0), "0");
        assert_eq!(sig3(0.4838), "0.484");
        assert_eq!(sig3(9.0804), "9.08");
        assert_eq!(sig3(46.0), "46.0");
        assert_eq!(sig3(41.156), "41.2");
        assert_eq!(sig3(1291.8), "1292");
        assert_eq!(sig3(-0.0001), "0.000");
        assert_eq!(sig3(f64::NAN), "–");
        assert_eq!(sig3_signed(12.34), "+12.3");
        assert_eq!(sig3_signed(-168.2), "-168");
        assert_eq!(sig3_signed(0.0), "0");
        assert_eq!(sig3_signed(-0.0), "0");
        assert_eq!(sig3_signed(-0.0004), "0.000");
    }

    #[test]
    fn fixed_decimals_never_print_minus_zero() {
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(2.0 / 3.0, 1), "0.7");
        assert_eq!(fixed_signed(0.0, 1), "0.0");
        assert_eq!(fixed_signed(-3.1, 2), "-3.10");
        assert_eq!(fixed_signed(1.25, 0), "+1");
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(1500.0), "1500");
        assert_eq!(short(25000.0), "25k");
        assert_eq!(short(1_500_000.0), "1.5M");
        assert_eq!(short(12.5), "12.5");
        assert_eq!(short(12.345), "12.35");
        assert_eq!(short(-0.0001), "0");
        assert_eq!(short(f64::INFINITY), "–");
    }

    #[test]
    fn shares_counts_and_seconds_read_well() {
        assert_eq!(pct(0.0728), "7.3%");
        assert_eq!(pct(0.000183), "0.02%");
        assert_eq!(pct(0.00001), "<0.01%");
        assert_eq!(pct(0.5), "50%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(thousands(32808), "32,808");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(seconds(4.0), "4s");
        assert_eq!(seconds(0.5), "0.5s");
    }
}
