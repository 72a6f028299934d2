//! The time series file: one row per window per series,
//! `window_start_s,window_end_s,scope,name,metric,value`, written in
//! linear time and read back in O(rows + series).
//!
//! A run whose file would exceed [`GZIP_ABOVE`] bytes (thousands of
//! services, or hours of windows) writes the same text gzip-compressed as
//! `timeseries.csv.gz`: the rows are the same, the size about a tenth, and
//! pandas, polars, DuckDB or `zcat` read it as they read the plain file.
//! Small runs keep `timeseries.csv`, byte for byte what they always wrote.
//!
//! Must not drop or round a value: every float is written in its shortest
//! round-trip form and reads back to the same bits.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};

use sim_core::output::{Series, TimeSeries};

/// The plain file's name.
pub const CSV: &str = "timeseries.csv";
/// The compressed file's name.
pub const CSV_GZ: &str = "timeseries.csv.gz";
/// Above this many bytes the time series is written compressed.
pub const GZIP_ABOVE: usize = 16 << 20;

const HEADER: &str = "window_start_s,window_end_s,scope,name,metric,value\n";

/// A field as the csv crate writes it (`QuoteStyle::Necessary`): quoted,
/// inner quotes doubled, when it holds a comma, a quote or a line break.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// The text is handed out in pieces of about this many bytes, so that a
/// long run's file (hundreds of megabytes of text an hour at thousands of
/// services) is never whole in memory when it is compressed.
const PIECE: usize = 1 << 20;

/// The time series as CSV text (see the module doc for the columns).
pub fn to_csv(ts: &TimeSeries) -> String {
    let mut text = String::new();
    write_csv(ts, |piece| text.push_str(piece));
    text
}

/// The CSV text in order, in pieces of about [`PIECE`] bytes.
fn write_csv(ts: &TimeSeries, mut emit: impl FnMut(&str)) {
    // Each series' `scope,name,metric,` once, each window's times once.
    let keys: Vec<String> = ts
        .series
        .iter()
        .map(|s| {
            format!(
                "{},{},{},",
                field(&s.scope),
                field(&s.name),
                field(&s.metric)
            )
        })
        .collect();
    let per_row: usize = keys.iter().map(String::len).sum::<usize>() / keys.len().max(1) + 24;
    let rows = ts.window_start_s.len() * ts.series.len();
    let mut out = String::with_capacity((HEADER.len() + rows * per_row).min(PIECE + 4096));
    out.push_str(HEADER);
    let mut times = String::new();
    for (i, (start, end)) in ts.window_start_s.iter().zip(&ts.window_end_s).enumerate() {
        times.clear();
        let _ = write!(times, "{start},{end},");
        for (s, key) in ts.series.iter().zip(&keys) {
            let v = s.values.get(i).copied().unwrap_or(f64::NAN);
            out.push_str(&times);
            out.push_str(key);
            let _ = writeln!(out, "{v}");
            if out.len() >= PIECE {
                emit(&out);
                out.clear();
            }
        }
    }
    if !out.is_empty() {
        emit(&out);
    }
}

/// The time series file to write: its name and bytes, plain or gzip as
/// [`GZIP_ABOVE`] decides. The text is compressed as it is made, once it
/// passes the threshold: the same bytes as compressing it whole.
pub fn file(ts: &TimeSeries) -> (&'static str, Vec<u8>) {
    let mut plain = String::new();
    let mut compressed: Option<flate2::write::GzEncoder<Vec<u8>>> = None;
    write_csv(ts, |piece| match &mut compressed {
        Some(enc) => enc.write_all(piece.as_bytes()).expect("in-memory write"),
        None => {
            plain.push_str(piece);
            if plain.len() > GZIP_ABOVE {
                let mut enc = gzip_encoder(plain.len() / 8);
                enc.write_all(plain.as_bytes()).expect("in-memory write");
                plain = String::new();
                compressed = Some(enc);
            }
        }
    });
    match compressed {
        Some(enc) => (CSV_GZ, enc.finish().expect("in-memory write")),
        None => (CSV, plain.into_bytes()),
    }
}

/// `bytes` gzip-compressed (fast level; no name or time in the header, so
/// the same text always gives the same bytes).
#[cfg(test)]
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = gzip_encoder(bytes.len() / 8);
    enc.write_all(bytes).expect("in-memory write");
    enc.finish().expect("in-memory write")
}

/// A gzip stream into memory (see `gzip`), with room for `capacity` bytes.
fn gzip_encoder(capacity: usize) -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::GzBuilder::new().write(Vec::with_capacity(capacity), flate2::Compression::fast())
}

/// The text of a gzip file.
pub fn gunzip(bytes: &[u8]) -> std::io::Result<String> {
    let mut text = String::with_capacity(bytes.len() * 8);
    flate2::read::GzDecoder::new(bytes).read_to_string(&mut text)?;
    Ok(text)
}

/// Reads the CSV text back, with windows `window_s` long (the tests'
/// in-memory twin of `read_file`).
#[cfg(test)]
pub(crate) fn parse(text: &str, window_s: f64) -> Result<TimeSeries, String> {
    let mut ts = read(text.as_bytes(), CSV)?;
    ts.window_s = window_s;
    Ok(ts)
}

/// Reads the time series file at `path` back, plain or gzip as its name
/// says, a piece at a time (a long run's text is never whole in memory).
/// The window length is the first row's.
pub fn read_file(path: &std::path::Path) -> Result<TimeSeries, String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let gz = path.extension().is_some_and(|x| x == "gz");
    let mut ts = if gz {
        read(
            flate2::read::GzDecoder::new(std::io::BufReader::new(file)),
            &name,
        )?
    } else {
        read(file, &name)?
    };
    ts.window_s = match (ts.window_start_s.first(), ts.window_end_s.first()) {
        (Some(a), Some(b)) => b - a,
        _ => 1.0,
    };
    Ok(ts)
}

/// Reads CSV text from `from` (called `name` in errors). Rows repeat the
/// series in one order window after window, so each row is matched
/// against the series expected next and looked up by key only when that
/// fails: O(rows + series · log series) string work.
fn read(from: impl std::io::Read, name: &str) -> Result<TimeSeries, String> {
    let mut r = csv::Reader::from_reader(from);
    let mut ts = TimeSeries::default();
    let mut index: std::collections::BTreeMap<(String, String, String), usize> =
        std::collections::BTreeMap::new();
    let mut rec = csv::StringRecord::new();
    let mut next = 0;
    let mut n = 1;
    loop {
        n += 1;
        match r.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(format!("{name} row {n}: {e}")),
        }
        let num = |i: usize| -> Result<f64, String> {
            rec.get(i)
                .unwrap_or("")
                .parse::<f64>()
                .map_err(|_| format!("{name} row {n}: column {} is not a number", i + 1))
        };
        let (start, end, value) = (num(0)?, num(1)?, num(5)?);
        if ts.window_start_s.last() != Some(&start) {
            ts.window_start_s.push(start);
            ts.window_end_s.push(end);
        }
        let (scope, name, metric) = (
            rec.get(2).unwrap_or(""),
            rec.get(3).unwrap_or(""),
            rec.get(4).unwrap_or(""),
        );
        let same = |s: &Series| s.scope == scope && s.name == name && s.metric == metric;
        let pos = match ts.series.get(next) {
            Some(s) if same(s) => next,
            _ => {
                let key = (scope.to_owned(), name.to_owned(), metric.to_owned());
                *index.entry(key).or_insert_with(|| {
                    ts.series.push(Series {
                        scope: scope.to_owned(),
                        name: name.to_owned(),
                        metric: metric.to_owned(),
                        values: Vec::new(),
                    });
                    ts.series.len() - 1
                })
            }
        };
        ts.series[pos].values.push(value);
        next = if pos + 1 == ts.series.len() {
            0
        } else {
            pos + 1
        };
    }
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(scope: &str, name: &str, metric: &str, values: Vec<f64>) -> Series {
        Series {
            scope: scope.into(),
            name: name.into(),
            metric: metric.into(),
            values,
        }
    }

    fn awkward() -> TimeSeries {
        TimeSeries {
            window_s: 0.5,
            window_start_s: vec![0.0, 0.5, 1.0],
            window_end_s: vec![0.5, 1.0, 1.5],
            series: vec![
                series("entry", "a,b", "p99_ms", vec![1.5, 0.1 + 0.2, f64::NAN]),
                series("service", "say \"hi\"", "queue_len", vec![0.0, -0.0, 1e-9]),
                series(
                    "edge",
                    "x->y\nz",
                    "calls_rps",
                    vec![f64::INFINITY, 3.0, 1e21],
                ),
                series("queue", "é ü", "", vec![2.0, 4.0, 8.0]),
            ],
        }
    }

    /// What the csv crate writes for the same rows: the file's reference.
    fn with_csv_crate(ts: &TimeSeries) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "window_start_s",
            "window_end_s",
            "scope",
            "name",
            "metric",
            "value",
        ])
        .unwrap();
        for i in 0..ts.window_start_s.len() {
            for s in &ts.series {
                w.write_record([
                    ts.window_start_s[i].to_string().as_str(),
                    &ts.window_end_s[i].to_string(),
                    &s.scope,
                    &s.name,
                    &s.metric,
                    &s.values.get(i).copied().unwrap_or(f64::NAN).to_string(),
                ])
                .unwrap();
            }
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn writes_what_the_csv_crate_writes() {
        let ts = awkward();
        assert_eq!(to_csv(&ts), with_csv_crate(&ts));
    }

    #[test]
    fn reads_back_every_value_and_series() {
        let ts = awkward();
        let back = parse(&to_csv(&ts), 0.5).unwrap();
        assert_eq!(back.window_start_s, ts.window_start_s);
        assert_eq!(back.window_end_s, ts.window_end_s);
        assert_eq!(back.series.len(), ts.series.len());
        for (a, b) in back.series.iter().zip(&ts.series) {
            assert_eq!(
                (&a.scope, &a.name, &a.metric),
                (&b.scope, &b.name, &b.metric)
            );
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            // NaN reads back as a NaN, not necessarily the same one.
            let a: Vec<f64> = a
                .values
                .iter()
                .map(|x| if x.is_nan() { 0.0 } else { *x })
                .collect();
            let b: Vec<f64> = b
                .values
                .iter()
                .map(|x| if x.is_nan() { 0.0 } else { *x })
                .collect();
            assert_eq!(bits(&a), bits(&b));
        }
    }

    #[test]
    fn rows_out_of_order_still_find_their_series() {
        let text = "window_start_s,window_end_s,scope,name,metric,value\n\
                    0,1,entry,a,m,1\n0,1,entry,b,m,2\n\
                    1,2,entry,b,m,20\n1,2,entry,a,m,10\n";
        let ts = parse(text, 1.0).unwrap();
        assert_eq!(ts.series.len(), 2);
        assert_eq!(ts.series[0].values, [1.0, 10.0]);
        assert_eq!(ts.series[1].values, [2.0, 20.0]);
        let bad = "window_start_s,window_end_s,scope,name,metric,value\n0,1,entry,a,m,x\n";
        assert!(parse(bad, 1.0).unwrap_err().contains("row 2: column 6"));
    }

    #[test]
    fn large_files_are_compressed_and_read_back() {
        let ts = awkward();
        let text = to_csv(&ts);
        assert_eq!(file(&ts), (CSV, text.clone().into_bytes()));
        let z = gzip(text.as_bytes());
        assert_eq!(z, gzip(text.as_bytes()), "the same text, the same bytes");
        assert_eq!(gunzip(&z).unwrap(), text);
        // A series long enough to pass the threshold.
        let n = GZIP_ABOVE / 40;
        let big = TimeSeries {
            window_s: 1.0,
            window_start_s: (0..n).map(|i| i as f64).collect(),
            window_end_s: (1..=n).map(|i| i as f64).collect(),
            series: vec![series("service", "s", "busy_threads", vec![0.25; n])],
        };
        let (name, bytes) = file(&big);
        assert_eq!(name, CSV_GZ);
        // Compressed piece by piece as it is made, it is byte for byte
        // what compressing the whole text gives.
        assert_eq!(bytes, gzip(to_csv(&big).as_bytes()));
        assert!(
            bytes.len() * 4 < to_csv(&big).len(),
            "{} bytes",
            bytes.len()
        );
        assert_eq!(gunzip(&bytes).unwrap(), to_csv(&big));
    }
}
