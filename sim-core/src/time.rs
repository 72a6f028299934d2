//! Simulated time: integer nanoseconds, and the human duration syntax of
//! scenario files (`"250ms"`, `"1.5s"`, `"2m"`).
//!
//! Owns the conversion between text, seconds and nanoseconds. Must not read
//! any clock: simulated time only ever advances through the event queue.

/// A point or a span of simulated time, in nanoseconds.
pub type Nanos = u64;

pub const NS_PER_US: u64 = 1_000;
pub const NS_PER_MS: u64 = 1_000_000;
pub const NS_PER_S: u64 = 1_000_000_000;

/// Nanoseconds as seconds, for reporting.
pub fn secs(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S as f64
}

/// Nanoseconds as milliseconds, for reporting.
pub fn millis(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_MS as f64
}

/// Seconds (a sampled real value) rounded to whole nanoseconds, saturating.
pub fn from_secs_f64(s: f64) -> Nanos {
    let v = (s * NS_PER_S as f64).round();
    if v.is_nan() || v <= 0.0 {
        0
    } else if v >= u64::MAX as f64 {
        u64::MAX
    } else {
        v as u64
    }
}

/// Parses a duration such as `"250ms"`, `"1.5s"`, `"90us"`, `"2m"`, `"1h"` or
/// `"0"`. Units: ns, us (or µs), ms, s, m (or min), h.
pub fn parse_duration(text: &str) -> Result<Nanos, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(0);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .ok_or_else(|| format!("`{t}` has no unit: write e.g. \"{t}ms\" or \"{t}s\""))?;
    let (num, unit) = t.split_at(split);
    let num = num.replace('_', "");
    if num.is_empty() {
        return Err(format!("`{t}` does not start with a number"));
    }
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{num}` is not a number"))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => NS_PER_US as f64,
        "ms" => NS_PER_MS as f64,
        "s" => NS_PER_S as f64,
        "m" | "min" => 60.0 * NS_PER_S as f64,
        "h" => 3600.0 * NS_PER_S as f64,
        other => {
            return Err(format!(
                "unknown time unit `{other}` in `{t}` (use ns, us, ms, s, m or h)"
            ));
        }
    };
    let ns = value * scale;
    if !ns.is_finite() || ns > u64::MAX as f64 / 2.0 {
        return Err(format!("`{t}` is too long"));
    }
    Ok(ns.round() as Nanos)
}

/// Formats nanoseconds back in the shortest exact unit, for messages.
pub fn format_duration(ns: Nanos) -> String {
    for (unit, scale) in [
        ("h", 3600 * NS_PER_S),
        ("m", 60 * NS_PER_S),
        ("s", NS_PER_S),
        ("ms", NS_PER_MS),
    ] {
        if ns >= scale && ns.is_multiple_of(scale) {
            return format!("{}{unit}", ns / scale);
        }
    }
    if ns >= NS_PER_MS {
        format!("{}ms", ns as f64 / NS_PER_MS as f64)
    } else if ns >= NS_PER_US && ns.is_multiple_of(NS_PER_US) {
        format!("{}us", ns / NS_PER_US)
    } else {
        format!("{ns}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions() {
        assert_eq!(parse_duration("250ms"), Ok(250 * NS_PER_MS));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * NS_PER_MS));
        assert_eq!(parse_duration("90us"), Ok(90_000));
        assert_eq!(parse_duration("2m"), Ok(120 * NS_PER_S));
        assert_eq!(parse_duration("1h"), Ok(3600 * NS_PER_S));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("0.4ms"), Ok(400_000));
    }

    #[test]
    fn rejects_bad_text_with_a_reason() {
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("10 milis")
                .unwrap_err()
                .contains("unknown time unit `milis`")
        );
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("-5ms").is_err());
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_duration(30 * NS_PER_S), "30s");
        assert_eq!(format_duration(250 * NS_PER_MS), "250ms");
        assert_eq!(format_duration(1_500 * NS_PER_US), "1.5ms");
    }
}
