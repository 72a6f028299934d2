//! `replay = { rates = "file.csv" }` and `replay = { arrivals = "file.csv" }`:
//! load captured elsewhere, read at load time (the engine never does I/O).
//! Paths are relative to the scenario file. A bad row is named by the CSV
//! file and its line.
//!
//! Rates become a `points` shape held for each second (Poisson arrivals
//! by thinning, as every shape), 0 after the last row; timestamps become
//! `Arrivals::Replay`, one request at each.
//!
//! Owns reading and checking replay files; must not run anything.

use std::path::{Path, PathBuf};

use super::KeyError;
use super::dto::{ReplayFile, ScenarioFile};
use crate::model::{Arrivals, FaultKind, Model, Shape};
use crate::time::Nanos;

type R<T> = Result<T, KeyError>;

/// Reads every source's replay file into the model; returns the files'
/// texts in source order (they belong to the scenario's hash: the same
/// scenario with another capture is another run).
pub(super) fn attach(scenario_path: &str, file: &ScenarioFile, m: &mut Model) -> R<Vec<String>> {
    let mut texts = Vec::new();
    for (i, (name, w)) in file.workload.iter().enumerate() {
        let Some(replay) = &w.replay else { continue };
        let key = format!("workload.{name}.replay");
        let refuse =
            |what: &str, why: &str| Err(KeyError::new(format!("workload.{name}.{what}"), why));
        if w.users.is_some() {
            return refuse("users", "a replayed source is open-loop: leave out `users`");
        }
        if w.rate.is_some() {
            return refuse(
                "rate",
                "a replayed source takes its rates from its file: leave out `rate`",
            );
        }
        if w.shape.is_some() {
            return refuse(
                "shape",
                "a replayed source takes its rates from its file: leave out `shape`",
            );
        }
        if w.arrivals.is_some() {
            return refuse(
                "arrivals",
                "a replayed source's arrivals come from its file (Poisson within each second of `rates`, the times themselves with `arrivals`): leave out `arrivals`",
            );
        }
        let (which, path) = match replay {
            ReplayFile {
                rates: Some(p),
                arrivals: None,
            } => ("rates", p),
            ReplayFile {
                rates: None,
                arrivals: Some(p),
            } => ("arrivals", p),
            _ => {
                return Err(KeyError::new(
                    key,
                    "give exactly one of `rates = \"file.csv\"` (requests per second) or `arrivals = \"file.csv\"` (arrival times)",
                ));
            }
        };
        let key = format!("{key}.{which}");
        let full = resolve(scenario_path, path);
        let text = std::fs::read_to_string(&full)
            .map_err(|e| KeyError::new(&key, format!("cannot read `{}`: {e}", full.display())))?;
        let shown = full.display().to_string();
        let src = &mut m.sources[i];
        if which == "rates" {
            let points = rates(&shown, &text).map_err(|e| KeyError::new(&key, e))?;
            src.rate = points.iter().map(|(_, r)| *r).fold(0.0, f64::max);
            src.shape = Shape::Points {
                points,
                linear: false,
            };
        } else {
            let times = arrivals(&shown, &text).map_err(|e| KeyError::new(&key, e))?;
            src.rate = times.len() as f64 / (m.duration.max(1) as f64 / 1e9);
            src.limit = Some(
                src.limit
                    .map_or(times.len() as u64, |l| l.min(times.len() as u64)),
            );
            src.arrivals = Arrivals::Replay;
            src.replayed = times;
            if let Some(f) = m
                .faults
                .iter()
                .position(|f| f.source == Some(i as u32) && matches!(f.kind, FaultKind::Surge(_)))
            {
                return Err(KeyError::new(
                    format!("fault.{f}.surge"),
                    format!(
                        "`{name}` replays arrival times: a surge cannot multiply them (replay `rates` instead)"
                    ),
                ));
            }
        }
        texts.push(text);
    }
    Ok(texts)
}

/// `path` as written, relative to the scenario file's directory.
fn resolve(scenario_path: &str, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    Path::new(scenario_path)
        .parent()
        .map_or_else(|| p.to_path_buf(), |dir| dir.join(p))
}

/// Data rows: (line number, fields), blank lines and `#` comments left
/// out, and a first row of names (`second,rate`) taken as a header.
fn rows(text: &str) -> Vec<(usize, Vec<&str>)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let header = out.is_empty()
            && fields
                .iter()
                .all(|f| f.parse::<f64>().is_err() && f.chars().any(char::is_alphabetic));
        if !header {
            out.push((n + 1, fields));
        }
    }
    out
}

fn number(file: &str, line: usize, field: &str, what: &str) -> Result<f64, String> {
    match field.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(x) if x < 0.0 => Err(format!("{file}:{line}: {what} {field} is negative")),
        _ => Err(format!("{file}:{line}: `{field}` is not a number ({what})")),
    }
}

/// Per-second rates: `rate` rows (row n is second n) or `second,rate`
/// rows (held until the next row's second); a step shape ending at 0 one
/// second after the last row.
fn rates(file: &str, text: &str) -> Result<Vec<(Nanos, f64)>, String> {
    let rows = rows(text);
    let Some((_, first)) = rows.first() else {
        return Err(format!("{file}: no rows: give one rate per second"));
    };
    let columns = first.len();
    let mut points: Vec<(Nanos, f64)> = Vec::with_capacity(rows.len() + 2);
    let mut last_second = -1.0;
    for (k, (line, fields)) in rows.iter().enumerate() {
        if fields.len() != columns || columns > 2 {
            return Err(format!(
                "{file}:{line}: {} columns where the first row has {columns}: write `rate` or `second,rate` on every row",
                fields.len()
            ));
        }
        let (second, rate) = if columns == 1 {
            (k as f64, number(file, *line, fields[0], "rate")?)
        } else {
            let s = number(file, *line, fields[0], "second")?;
            if s <= last_second {
                return Err(format!(
                    "{file}:{line}: second {s} goes back (the previous row is at {last_second})"
                ));
            }
            (s, number(file, *line, fields[1], "rate")?)
        };
        last_second = second;
        let at = (second * 1e9).round() as Nanos;
        if points.is_empty() && at > 0 {
            points.push((0, 0.0));
        }
        points.push((at, rate));
    }
    if points.iter().all(|(_, r)| *r == 0.0) {
        return Err(format!(
            "{file}: every rate is 0: the source would send nothing"
        ));
    }
    points.push((((last_second + 1.0) * 1e9).round() as Nanos, 0.0));
    Ok(points)
}

/// Arrival times in seconds (first column), never going back.
fn arrivals(file: &str, text: &str) -> Result<Vec<Nanos>, String> {
    let mut out: Vec<Nanos> = Vec::new();
    let mut last = (0.0, 0);
    for (line, fields) in rows(text) {
        let t = number(file, line, fields[0], "time")?;
        if !out.is_empty() && t < last.0 {
            return Err(format!(
                "{file}:{line}: time {t} s goes back before {} s on line {}",
                last.0, last.1
            ));
        }
        last = (t, line);
        out.push((t * 1e9).round() as Nanos);
    }
    if out.is_empty() {
        return Err(format!(
            "{file}: no rows: give one arrival time (seconds) per row"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_held_per_second_and_end_at_zero() {
        let p = rates("r.csv", "rate\n10\n\n# a gap\n20\n0\n").unwrap();
        assert_eq!(
            p,
            vec![
                (0, 10.0),
                (1_000_000_000, 20.0),
                (2_000_000_000, 0.0),
                (3_000_000_000, 0.0)
            ]
        );
        let p = rates("r.csv", "second,rate\n2,5\n4,7\n").unwrap();
        assert_eq!(
            p,
            vec![
                (0, 0.0),
                (2_000_000_000, 5.0),
                (4_000_000_000, 7.0),
                (5_000_000_000, 0.0)
            ]
        );
    }

    #[test]
    fn bad_rows_are_named_by_file_and_line() {
        let e = rates("r.csv", "10\nabc\n").unwrap_err();
        assert_eq!(e, "r.csv:2: `abc` is not a number (rate)");
        let e = rates("r.csv", "10\n-3\n").unwrap_err();
        assert_eq!(e, "r.csv:2: rate -3 is negative");
        let e = rates("r.csv", "0,1\n1,2,3\n").unwrap_err();
        assert!(e.starts_with("r.csv:2: 3 columns"), "{e}");
        let e = rates("r.csv", "3,1\n2,2\n").unwrap_err();
        assert!(e.starts_with("r.csv:2: second 2 goes back"), "{e}");
        let e = arrivals("a.csv", "t\n0.5\n0.25\n").unwrap_err();
        assert_eq!(e, "a.csv:3: time 0.25 s goes back before 0.5 s on line 2");
        assert!(
            arrivals("a.csv", "# nothing\n")
                .unwrap_err()
                .contains("no rows")
        );
        assert!(
            rates("r.csv", "0\n0\n")
                .unwrap_err()
                .contains("every rate is 0")
        );
    }
}
