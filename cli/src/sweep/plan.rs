//! The sweep plan: axes (parameter paths and their values, as text), the
//! number of replications and the master seed; and the canonical run list
//! it expands to.
//!
//! Canonical order: points are the Cartesian product of the axes, the
//! first axis varying slowest (nested loops in the order written); each
//! point has `reps` replications. Run `index = point * reps + rep`.
//! A run's seed is a fixed hash (FNV-1a) of the master seed, the point's
//! `path=value` pairs and the replication number: never of a thread, a
//! shard or a position, so results do not depend on `--jobs` or `--shard`.

use std::path::Path;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One swept parameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Axis {
    /// Scenario path, as for `--set` (`services.db.threads`).
    pub path: String,
    /// Values as text, in sweep order.
    pub values: Vec<String>,
    /// Where the axis came from, for messages (`-L`, `-P`, `--plan FILE`).
    #[serde(skip)]
    pub flag: String,
}

/// Axes are equal when path and values are: not where they were written.
impl PartialEq for Axis {
    fn eq(&self, other: &Axis) -> bool {
        self.path == other.path && self.values == other.values
    }
}

/// What is swept: this, the scenario and cascade's version decide every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Master seed.
    pub seed: u64,
    /// Replications (seeds) per point.
    pub reps: u32,
    /// Fixed overrides, `path=value`, as typed.
    pub set: Vec<String>,
    pub params: Vec<Axis>,
}

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub index: u64,
    pub point: u64,
    pub rep: u32,
    pub seed: u64,
    /// `path → value` in axis order.
    pub params: IndexMap<String, String>,
}

impl Plan {
    pub fn points(&self) -> u64 {
        self.params.iter().map(|a| a.values.len() as u64).product()
    }

    pub fn total_runs(&self) -> u64 {
        self.points() * u64::from(self.reps)
    }

    /// The parameter values of point `p` (mixed radix, last axis fastest).
    pub fn point_params(&self, p: u64) -> IndexMap<String, String> {
        let mut rest = p;
        let mut picked = vec![0usize; self.params.len()];
        for (i, a) in self.params.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            picked[i] = (rest % n) as usize;
            rest /= n;
        }
        self.params
            .iter()
            .zip(picked)
            .map(|(a, i)| (a.path.clone(), a.values[i].clone()))
            .collect()
    }

    pub fn run(&self, index: u64) -> Run {
        let reps = u64::from(self.reps);
        let point = index / reps;
        let rep = (index % reps) as u32;
        let params = self.point_params(point);
        Run {
            index,
            point,
            rep,
            seed: run_seed(self.seed, &params, rep),
            params,
        }
    }

    /// Every run, in canonical order.
    #[cfg(test)]
    pub fn runs(&self) -> Vec<Run> {
        (0..self.total_runs()).map(|i| self.run(i)).collect()
    }
}

/// The seed of one run: FNV-1a of its identity. Parameters are sorted by
/// path, so writing the flags in another order keeps every seed.
pub fn run_seed(master: u64, params: &IndexMap<String, String>, rep: u32) -> u64 {
    let mut sorted: Vec<(&String, &String)> = params.iter().collect();
    sorted.sort();
    let mut key = format!("cascade-sweep\u{0}seed={master}");
    for (p, v) in sorted {
        key.push('\u{0}');
        key.push_str(p);
        key.push('=');
        key.push_str(v);
    }
    key.push_str(&format!("\u{0}rep={rep}"));
    sim_core::rng::mix(sim_core::rng::stream_id(&key))
}

/// `-L path a,b,c`.
pub fn list_axis(path: &str, values: &str) -> Result<Axis, String> {
    let flag = format!("-L {path}");
    check_path(&flag, path)?;
    let values: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
    if values.iter().any(String::is_empty) {
        return Err(format!(
            "error: {flag}: empty value in the list (write values as a,b,c)"
        ));
    }
    axis(flag, path, values)
}

/// `-P path MIN MAX -D STEP`: exact decimal arithmetic, so 0.1 steps give
/// `0.1, 0.2, 0.3` and never `0.30000000000000004`.
pub fn range_axis(path: &str, min: &str, max: &str, step: &str) -> Result<Axis, String> {
    let flag = format!("-P {path}");
    check_path(&flag, path)?;
    let values = expand_range(min, max, step).map_err(|m| format!("error: {flag}: {m}"))?;
    axis(flag, path, values)
}

const MAX_VALUES: usize = 100_000;

fn expand_range(min: &str, max: &str, step: &str) -> Result<Vec<String>, String> {
    let (a, sa) = decimal(min).map_err(|m| format!("MIN {m}"))?;
    let (b, sb) = decimal(max).map_err(|m| format!("MAX {m}"))?;
    let (d, sd) = decimal(step).map_err(|m| format!("STEP {m}"))?;
    let scale = sa.max(sb).max(sd);
    let up = |v: i128, s: u32| v * 10i128.pow(scale - s);
    let (a, b, d) = (up(a, sa), up(b, sb), up(d, sd));
    if d <= 0 {
        return Err(format!("STEP must be more than 0, got {step}"));
    }
    if a > b {
        return Err(format!("MIN {min} is more than MAX {max}"));
    }
    let count = (b - a) / d + 1;
    if count > MAX_VALUES as i128 {
        return Err(format!(
            "{count} values from {min} to {max} by {step}: at most {MAX_VALUES}"
        ));
    }
    Ok((0..count)
        .map(|i| format_decimal(a + i * d, scale))
        .collect())
}

/// A decimal number as (digits, decimal places).
fn decimal(text: &str) -> Result<(i128, u32), String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a decimal number such as 8, -2 or 0.25");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (digits.contains('.') && frac.is_empty())
        || int.len() + frac.len() > 30
    {
        return Err(bad());
    }
    let v: i128 = format!("{int}{frac}").parse().map_err(|_| bad())?;
    Ok((if neg { -v } else { v }, frac.len() as u32))
}

fn format_decimal(v: i128, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let p = 10i128.pow(scale);
    let sign = if v < 0 { "-" } else { "" };
    let (int, frac) = (v.abs() / p, v.abs() % p);
    let frac = format!("{frac:0width$}", width = scale as usize);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

fn check_path(flag: &str, path: &str) -> Result<(), String> {
    if path.is_empty() || path.split('.').any(str::is_empty) || path.contains('=') {
        return Err(format!(
            "error: {flag}: `{path}` is not a key path such as services.db.threads"
        ));
    }
    if path == "seed" {
        return Err(format!(
            "error: {flag}: the seed is not swept as a parameter: use --reps N (and --seed S)"
        ));
    }
    Ok(())
}

fn axis(flag: String, path: &str, values: Vec<String>) -> Result<Axis, String> {
    if values.is_empty() {
        return Err(format!("error: {flag}: no values"));
    }
    for (i, v) in values.iter().enumerate() {
        if values[..i].contains(v) {
            return Err(format!("error: {flag}: value `{v}` appears twice"));
        }
    }
    Ok(Axis {
        path: path.to_owned(),
        values,
        flag,
    })
}

/// What a `--plan FILE` holds.
#[derive(Debug, Default)]
pub struct PlanFile {
    pub axes: Vec<Axis>,
    pub reps: Option<u32>,
    pub seed: Option<u64>,
    /// `path=value` fixed overrides from `set = { … }`.
    pub set: Vec<String>,
}

/// Reads a plan file: a `[sweep]` table with `list`, `range`, `reps`,
/// `seed` and `set`.
pub fn read_plan_file(file: &Path) -> Result<PlanFile, crate::Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| crate::Failure::Io(format!("cannot read {}: {e}", file.display())))?;
    parse_plan(&file.display().to_string(), &text).map_err(crate::Failure::Input)
}

pub fn parse_plan(name: &str, text: &str) -> Result<PlanFile, String> {
    use toml_edit::{Item, Value};
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| format!("error: {name}: {}", e.message().trim()))?;
    let err = |key: &str, m: &str| format!("error: {name}: key `{key}`: {m}");
    for (k, _) in doc.iter() {
        if k != "sweep" {
            return Err(err(k, "a plan file holds only a [sweep] table"));
        }
    }
    let sweep = doc
        .get("sweep")
        .and_then(Item::as_table_like)
        .ok_or_else(|| format!("error: {name}: no [sweep] table"))?;
    let text_of = |key: &str, v: &Value| -> Result<String, String> {
        match v {
            Value::String(s) => Ok(s.value().clone()),
            Value::Integer(i) => Ok(i.value().to_string()),
            Value::Float(f) => Ok(f.display_repr().trim().to_owned()),
            Value::Boolean(b) => Ok(b.value().to_string()),
            _ => Err(err(key, "expected a number, a string or a boolean")),
        }
    };
    let mut plan = PlanFile::default();
    for (k, item) in sweep.iter() {
        let key = format!("sweep.{k}");
        match k {
            "reps" | "seed" => {
                let v = item
                    .as_integer()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| err(&key, "expected a whole number, 0 or more"))?;
                if k == "reps" {
                    plan.reps =
                        Some(u32::try_from(v).map_err(|_| err(&key, "too many replications"))?);
                } else {
                    plan.seed = Some(v as u64);
                }
            }
            "list" => {
                let t = item
                    .as_table_like()
                    .ok_or_else(|| err(&key, "expected a table of path = [values]"))?;
                for (path, vals) in t.iter() {
                    let key = format!("{key}.\"{path}\"");
                    let arr = vals
                        .as_array()
                        .ok_or_else(|| err(&key, "expected an array of values"))?;
                    let values = arr
                        .iter()
                        .map(|v| text_of(&key, v))
                        .collect::<Result<Vec<_>, _>>()?;
                    let flag = format!("{name}: [sweep] list \"{path}\"");
                    check_path(&flag, path)?;
                    plan.axes.push(axis(flag, path, values)?);
                }
            }
            "range" => {
                let t = item
                    .as_table_like()
                    .ok_or_else(|| err(&key, "expected a table of path = { min, max, step }"))?;
                for (path, r) in t.iter() {
                    let key = format!("{key}.\"{path}\"");
                    let r = r
                        .as_table_like()
                        .ok_or_else(|| err(&key, "expected { min = …, max = …, step = … }"))?;
                    let bound = |b: &str| -> Result<Option<String>, String> {
                        r.get(b)
                            .map(|v| {
                                v.as_value()
                                    .filter(|v| v.is_integer() || v.is_float())
                                    .ok_or_else(|| err(&format!("{key}.{b}"), "expected a number"))
                                    .and_then(|v| text_of(&key, v))
                            })
                            .transpose()
                    };
                    let min = bound("min")?.ok_or_else(|| err(&key, "missing `min`"))?;
                    let max = bound("max")?.ok_or_else(|| err(&key, "missing `max`"))?;
                    let step = bound("step")?.unwrap_or_else(|| "1".into());
                    if let Some((other, _)) = r
                        .iter()
                        .find(|(b, _)| !matches!(*b, "min" | "max" | "step"))
                    {
                        return Err(err(
                            &format!("{key}.{other}"),
                            "unknown key, expected min, max or step",
                        ));
                    }
                    let flag = format!("{name}: [sweep] range \"{path}\"");
                    check_path(&flag, path)?;
                    let values = expand_range(&min, &max, &step)
                        .map_err(|m| format!("error: {flag}: {m}"))?;
                    plan.axes.push(axis(flag, path, values)?);
                }
            }
            "set" => {
                let t = item
                    .as_table_like()
                    .ok_or_else(|| err(&key, "expected a table of path = value"))?;
                for (path, v) in t.iter() {
                    let key = format!("{key}.\"{path}\"");
                    let v = v.as_value().ok_or_else(|| err(&key, "expected a value"))?;
                    plan.set.push(format!("{path}={}", text_of(&key, v)?));
                }
            }
            _ => {
                return Err(err(
                    &key,
                    "unknown key, expected list, range, reps, seed or set",
                ));
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_exact_decimals() {
        assert_eq!(expand_range("1", "4", "1").unwrap(), ["1", "2", "3", "4"]);
        assert_eq!(
            expand_range("0.1", "0.5", "0.1").unwrap(),
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        assert_eq!(
            expand_range("-1", "1", "0.75").unwrap(),
            ["-1", "-0.25", "0.5"]
        );
        assert_eq!(expand_range("100", "300", "150").unwrap(), ["100", "250"]);
        assert!(expand_range("2", "1", "1").is_err());
        assert!(expand_range("1", "2", "0").is_err());
        assert!(expand_range("1e3", "2", "1").is_err());
        assert!(expand_range("1.", "2", "1").is_err());
    }

    fn plan(axes: &[(&str, &[&str])], reps: u32) -> Plan {
        Plan {
            seed: 7,
            reps,
            set: vec![],
            params: axes
                .iter()
                .map(|(p, v)| Axis {
                    path: (*p).into(),
                    values: v.iter().map(|s| (*s).to_string()).collect(),
                    flag: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn runs_are_the_product_first_axis_slowest() {
        let p = plan(&[("a", &["1", "2"]), ("b", &["x", "y", "z"])], 2);
        let runs = p.runs();
        assert_eq!(runs.len(), 12);
        assert_eq!(runs[0].params["a"], "1");
        assert_eq!(runs[0].params["b"], "x");
        assert_eq!((runs[3].point, runs[3].rep), (1, 1));
        assert_eq!(runs[3].params["b"], "y");
        assert_eq!(runs[11].params["a"], "2");
        assert_eq!(runs[11].params["b"], "z");
        let mut seeds: Vec<u64> = runs.iter().map(|r| r.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 12);
    }

    #[test]
    fn seeds_ignore_flag_order() {
        let p = plan(&[("a", &["1", "2"]), ("b", &["x"])], 1);
        let q = plan(&[("b", &["x"]), ("a", &["1", "2"])], 1);
        assert_eq!(p.run(1).seed, q.run(1).seed);
        // Pinned: a run's seed must never change between releases.
        let params: IndexMap<String, String> = [
            ("workload.api.rate".to_string(), "200".to_string()),
            ("services.db.threads".to_string(), "4".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(run_seed(7, &params, 1), 14_377_775_486_224_911_196);
    }

    #[test]
    fn plan_files_keep_values_as_written() {
        let p = parse_plan(
            "p.toml",
            r#"
[sweep]
reps = 3
seed = 9
list = { "services.db.threads" = [8, 16], "duration" = ["10s"] }
range = { "workload.w.rate" = { min = 0.5, max = 1.5, step = 0.5 } }
set = { "warmup" = "1s" }
"#,
        )
        .unwrap();
        assert_eq!((p.reps, p.seed), (Some(3), Some(9)));
        assert_eq!(p.axes[0].values, ["8", "16"]);
        assert_eq!(p.axes[1].values, ["10s"]);
        assert_eq!(p.axes[2].values, ["0.5", "1", "1.5"]);
        assert_eq!(p.set, ["warmup=1s"]);
        let e = parse_plan("p.toml", "[sweep]\nrep = 3\n").unwrap_err();
        assert!(e.contains("sweep.rep") && e.contains("unknown key"), "{e}");
    }
}
