//! Reading a scenario: text (TOML or JSON) → checked `ScenarioFile` →
//! compiled `Model`, with `--set` overrides applied in between.
//!
//! Owns every message a user sees about a bad scenario: each names the
//! file, the line and column, and the key at fault. Must never panic on
//! input, and must not run anything.

mod autoscale;
pub mod build;
mod caches;
pub mod dto;
mod keys;
mod limits;
mod locate_json;
mod log_batching;
mod logs;
mod messages;
mod replay;
mod runtime;
pub(crate) mod seed;
mod slo;
mod store_faults;
mod stores;
mod values;
mod warnings;
mod workflows;
mod zone_routing;
mod zones;

use std::fmt;
use std::ops::Range;

pub use dto::ScenarioFile;
pub use limits::{MAX_REPLICAS, MAX_REQUESTS, MAX_THREADS, MAX_USERS, MAX_WINDOWS};
pub use warnings::Warning;

use crate::model::Model;

/// Where in the file an error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Byte range in the source text.
    pub span: Range<usize>,
}

/// A scenario the user must fix.
#[derive(Debug, Clone)]
pub struct ScenarioError {
    pub file: String,
    /// Dotted path of the key at fault (`services.cart.threads`); empty for
    /// a syntax error before any key.
    pub key: String,
    pub message: String,
    pub location: Option<Location>,
    /// The scenario text, for rendering a snippet.
    pub source_text: String,
    /// Extra help, e.g. that the value came from `--set`.
    pub note: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = &self.location {
            write!(f, ":{}:{}", l.line, l.column)?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": key `{}`: {}", self.key, self.message)?;
        }
        if let Some(n) = &self.note {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// One `--set path=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub path: String,
    /// The value as typed: parsed as a TOML/JSON value when it is one, a
    /// string otherwise (so `--set services.db.threads=8` is a number and
    /// `--set duration=30s` a string).
    pub value: String,
}

impl Override {
    /// Parses `path=value`.
    pub fn parse(text: &str) -> Result<Override, String> {
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| format!("`{text}` is not path=value"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(format!(
                "`{path}` is not a key path such as services.db.threads"
            ));
        }
        Ok(Override {
            path: path.to_owned(),
            value: value.trim().to_owned(),
        })
    }
}

/// A loaded scenario: the file as read (after overrides) and its model.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub file: ScenarioFile,
    pub model: Model,
    /// FNV-1a of the canonical JSON of `file`: the same scenario hashes the
    /// same whatever its formatting or comments.
    pub hash: u64,
    /// The original text, for the report.
    pub text: String,
    /// What is valid but probably not meant (printed by `validate`, `run`).
    pub warnings: Vec<Warning>,
}

impl Scenario {
    /// Frees the parsed file, keeping the model, hash, text and warnings:
    /// all a run reads. A wide scenario's parsed file is large (20 MB at
    /// 5,000 services) and would otherwise be held through the whole run;
    /// `file` is then an empty `ScenarioFile`.
    pub fn forget_file(&mut self) {
        self.file = ScenarioFile::default();
    }
}

/// Reads a scenario from the bytes of a file: [`load`] once they are known
/// to be UTF-8 text, or an error naming the first byte that is not.
pub fn load_bytes(
    file: &str,
    bytes: &[u8],
    overrides: &[Override],
) -> Result<Scenario, Box<ScenarioError>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => load(file, text, overrides),
        Err(e) => {
            let at = e.valid_up_to();
            // The text up to the bad byte is unchanged by the lossy copy, so
            // the span (the replacement character) lies where the byte was.
            let shown = String::from_utf8_lossy(bytes).into_owned();
            let span = at..(at + '\u{FFFD}'.len_utf8()).min(shown.len());
            Err(Box::new(ScenarioError {
                file: file.to_owned(),
                key: String::new(),
                message: format!(
                    "the file is not UTF-8 text: byte 0x{:02x} at byte offset {at} is not valid UTF-8 (save the file as UTF-8)",
                    bytes[at]
                ),
                location: Some(location(&shown, span)),
                source_text: shown,
                note: None,
            }))
        }
    }
}

/// Reads a scenario from `text`; `file` names it in messages and decides
/// the format (`.json` is JSON, anything else TOML).
pub fn load(
    file: &str,
    text: &str,
    overrides: &[Override],
) -> Result<Scenario, Box<ScenarioError>> {
    let parsed = if file.ends_with(".json") {
        parse_json(file, text, overrides)?
    } else {
        parse_toml(file, text, overrides)?
    };
    let mut replayed = Vec::new();
    let model = build::build(&parsed.file)
        .and_then(|mut m| {
            replayed = replay::attach(file, &parsed.file, &mut m)?;
            Ok(m)
        })
        .and_then(|m| limits::check(&m).map(|()| m))
        .map_err(|e| Box::new(parsed.locate(e)))?;
    let mut canonical = serde_json::to_string(&parsed.file).expect("scenario types serialise");
    // A replay's captured load is part of what runs.
    for text in &replayed {
        canonical.push('\n');
        canonical.push_str(text);
    }
    Ok(Scenario {
        warnings: warnings::collect(file, &parsed.file, &model),
        hash: crate::rng::stream_id(&canonical),
        file: parsed.file,
        model,
        text: text.to_owned(),
    })
}

/// The document `load` reads once `overrides` are applied, as TOML text:
/// what a run actually ran, to save beside its results so that running
/// the saved file reproduces the run. A TOML source keeps its layout and
/// comments; a JSON one (`file` ending in `.json`) is converted. Call it
/// after `load` accepted the same arguments: errors are only summarised.
pub fn effective_toml(file: &str, text: &str, overrides: &[Override]) -> Result<String, String> {
    if file.ends_with(".json") {
        let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        for o in overrides {
            set_json(&mut value, o)?;
        }
        toml_edit::ser::to_string_pretty(&value).map_err(|e| e.to_string())
    } else {
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
        for o in overrides {
            set_toml(&mut doc, o)?;
        }
        Ok(doc.to_string())
    }
}

/// An error found while checking the meaning: a key path and a message.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    pub key: String,
    pub message: String,
}

impl KeyError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> KeyError {
        KeyError {
            key: key.into(),
            message: message.into(),
        }
    }
}

struct Parsed<'a> {
    name: &'a str,
    text: &'a str,
    file: ScenarioFile,
    doc: Option<toml_edit::Document<String>>,
    json: bool,
    overrides: &'a [Override],
}

impl Parsed<'_> {
    fn locate(&self, e: KeyError) -> ScenarioError {
        let overridden = self
            .overrides
            .iter()
            .find(|o| e.key == o.path || e.key.starts_with(&format!("{}.", o.path)));
        let span = match (&self.doc, overridden) {
            (Some(doc), None) => locate_toml(doc, &e.key),
            (None, None) if self.json => locate_json::locate_json(self.text, &e.key),
            _ => None,
        };
        ScenarioError {
            file: self.name.to_owned(),
            key: e.key,
            message: e.message,
            location: span.map(|s| location(self.text, s)),
            source_text: self.text.to_owned(),
            note: overridden.map(|o| format!("value set by --set {}={}", o.path, o.value)),
        }
    }
}

fn location(text: &str, span: Range<usize>) -> Location {
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..start].chars().count() + 1;
    Location { line, column, span }
}

fn parse_toml<'a>(
    name: &'a str,
    text: &'a str,
    overrides: &'a [Override],
) -> Result<Parsed<'a>, Box<ScenarioError>> {
    let err = |key: String, message: String, span: Option<Range<usize>>, note: Option<String>| {
        Box::new(ScenarioError {
            file: name.to_owned(),
            key,
            message,
            location: span.map(|s| location(text, s)),
            source_text: text.to_owned(),
            note,
        })
    };
    let doc = toml_edit::Document::parse(text.to_owned())
        .map_err(|e| err(String::new(), first_line(e.message()), e.span(), None))?;
    let file: Result<ScenarioFile, _> = if overrides.is_empty() {
        serde_path_to_error::deserialize(toml_edit::de::Deserializer::from(doc.clone()))
    } else {
        let mut edited = doc.clone().into_mut();
        for o in overrides {
            set_toml(&mut edited, o).map_err(|m| {
                err(
                    o.path.clone(),
                    m,
                    None,
                    Some(format!("from --set {}={}", o.path, o.value)),
                )
            })?;
        }
        serde_path_to_error::deserialize(toml_edit::de::Deserializer::from(edited))
    };
    let file = file.map_err(|e| {
        let key = error_key(&e.path().to_string(), e.inner().message());
        let span = e.inner().span().or_else(|| locate_toml(&doc, &key));
        let note = overrides
            .iter()
            .find(|o| key.starts_with(&o.path))
            .map(|o| format!("value set by --set {}={}", o.path, o.value));
        let message = messages::explain(&key, first_line(e.inner().message()));
        err(key, message, span, note)
    })?;
    Ok(Parsed {
        name,
        text,
        file,
        doc: Some(doc),
        json: false,
        overrides,
    })
}

fn parse_json<'a>(
    name: &'a str,
    text: &'a str,
    overrides: &'a [Override],
) -> Result<Parsed<'a>, Box<ScenarioError>> {
    let overridden = |key: &str| {
        overrides
            .iter()
            .find(|o| key == o.path || key.starts_with(&format!("{}.", o.path)))
    };
    // A syntax error has only serde_json's position; an error about a value
    // is located by its key (serde_json points past the value), unless the
    // value came from `--set`.
    let err = |key: String, e: &serde_json::Error| -> Box<ScenarioError> {
        // A syntax error is about the text, not a key (serde_path_to_error
        // says `?` where it stopped).
        let key = match e.classify() {
            serde_json::error::Category::Data => key,
            _ => String::new(),
        };
        let by_key = match (e.classify(), overridden(&key)) {
            (serde_json::error::Category::Data, None) if !key.is_empty() => {
                locate_json::locate_json(text, &key)
            }
            _ => None,
        };
        let span = by_key.or_else(|| {
            (e.line() > 0).then(|| {
                let offset = json_offset(text, e.line(), e.column());
                offset..offset + 1
            })
        });
        Box::new(ScenarioError {
            file: name.to_owned(),
            note: overridden(&key).map(|o| format!("value set by --set {}={}", o.path, o.value)),
            message: messages::explain(&key, strip_json_position(&e.to_string())),
            key,
            location: span.map(|s| location(text, s)),
            source_text: text.to_owned(),
        })
    };
    let file: ScenarioFile = if overrides.is_empty() {
        let mut de = serde_json::Deserializer::from_str(text);
        let file = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let key = error_key(&e.path().to_string(), &e.inner().to_string());
            err(key, e.inner())
        })?;
        // Anything after the document but white space is refused.
        de.end().map_err(|e| err(String::new(), &e))?;
        file
    } else {
        let mut value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err(String::new(), &e))?;
        for o in overrides {
            set_json(&mut value, o).map_err(|m| {
                Box::new(ScenarioError {
                    file: name.to_owned(),
                    key: o.path.clone(),
                    message: m,
                    location: None,
                    source_text: text.to_owned(),
                    note: Some(format!("from --set {}={}", o.path, o.value)),
                })
            })?;
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let key = error_key(&e.path().to_string(), &e.inner().to_string());
            err(key, e.inner())
        })?
    };
    Ok(Parsed {
        name,
        text,
        file,
        doc: None,
        json: true,
        overrides,
    })
}

/// Byte offset of serde_json's 1-based line and column (a column in bytes;
/// 0 before the line's first character).
fn json_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .match_indices('\n')
        .nth(line.saturating_sub(2))
        .filter(|_| line > 1)
        .map_or(0, |(i, _)| i + 1);
    (line_start + column.saturating_sub(1)).min(text.len())
}

fn strip_json_position(m: &str) -> String {
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m.to_owned(),
    }
}

fn first_line(m: &str) -> String {
    m.lines().next().unwrap_or("").trim().to_owned()
}

/// The key of a serde error: its path, plus the field an "unknown field" or
/// "missing field" message names.
fn error_key(path: &str, message: &str) -> String {
    // serde_path_to_error writes list indices as `fault[0]`; keys here are
    // dotted throughout (`fault.0`), as `--set` takes them.
    let dotted = path.replace('[', ".").replace(']', "");
    let path = if dotted == "." { "" } else { dotted.as_str() };
    // The path of an unknown field already ends with it; a missing field's
    // path stops at its table.
    for (prefix, in_path) in [("unknown field `", true), ("missing field `", false)] {
        if let Some(rest) = message.find(prefix).map(|i| &message[i + prefix.len()..])
            && let Some(end) = rest.find('`')
        {
            let field = &rest[..end];
            return if path.is_empty() {
                field.to_owned()
            } else if in_path && path.rsplit('.').next() == Some(field) {
                path.to_owned()
            } else {
                format!("{path}.{field}")
            };
        }
    }
    path.to_owned()
}

/// Byte span of the value at `key` (or of the deepest part of it found).
fn locate_toml(doc: &toml_edit::Document<String>, key: &str) -> Option<Range<usize>> {
    let segs: Vec<&str> = key.split('.').filter(|s| !s.is_empty()).collect();
    let mut item = doc.as_item();
    let mut best = None;
    let mut i = 0;
    while i < segs.len() {
        let seg = segs[i];
        let mut taken = 1;
        let next = if let Ok(n) = seg.parse::<usize>() {
            item.get(n)
        } else {
            // A quoted key may itself hold dots (`"checkout.p99"`): when the
            // segment alone is not a key, try it joined with the rest.
            let table = item.as_table_like();
            let found = (1..=segs.len() - i).find_map(|n| {
                let k = segs[i..i + n].join(".");
                table
                    .and_then(|t| t.get_key_value(&k))
                    .map(|(key, value)| (n, key.span(), value))
            });
            match found {
                Some((n, key_span, value)) => {
                    taken = n;
                    if key_span.is_some() {
                        best = key_span;
                    }
                    Some(value)
                }
                None => None,
            }
        };
        match next {
            Some(n) => {
                item = n;
                if let Some(s) = span_of(item) {
                    best = Some(s);
                }
            }
            None => break,
        }
        i += taken;
    }
    best
}

fn span_of(item: &toml_edit::Item) -> Option<Range<usize>> {
    match item {
        toml_edit::Item::Table(t) => t.span(),
        other => other.span(),
    }
}

fn parse_value(text: &str) -> toml_edit::Value {
    text.parse::<toml_edit::Value>()
        .unwrap_or_else(|_| toml_edit::Value::from(text))
}

fn set_toml(doc: &mut toml_edit::DocumentMut, o: &Override) -> Result<(), String> {
    let segs: Vec<&str> = o.path.split('.').collect();
    set_in(doc.as_table_mut(), &segs, 0, o)
}

/// Sets `segs[at..]` inside `table`; `segs[..at]` is where `table` is.
fn set_in(
    table: &mut dyn toml_edit::TableLike,
    segs: &[&str],
    at: usize,
    o: &Override,
) -> Result<(), String> {
    let seg = segs[at];
    let path_to = |n: usize| segs[..n].join(".");
    if at + 1 == segs.len() {
        table.insert(seg, toml_edit::Item::Value(parse_value(&o.value)));
        return Ok(());
    }
    let child = table
        .get_mut(seg)
        .ok_or_else(|| format!("the scenario has no `{}`", path_to(at + 1)))?;
    let index = |n: &str| {
        n.parse::<usize>().map_err(|_| {
            format!(
                "`{}` is a list: use an index such as {}.0",
                path_to(at + 1),
                path_to(at + 1)
            )
        })
    };
    match child {
        toml_edit::Item::Table(t) => set_in(t, segs, at + 1, o),
        toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => set_in(t, segs, at + 1, o),
        toml_edit::Item::ArrayOfTables(a) => {
            let n = index(segs[at + 1])?;
            let len = a.len();
            let t = a
                .get_mut(n)
                .ok_or_else(|| format!("`{}` has {len} entries, no entry {n}", path_to(at + 1)))?;
            if at + 2 == segs.len() {
                return Err(format!("`{}` is a table: set one of its keys", o.path));
            }
            set_in(t, segs, at + 2, o)
        }
        toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
            let n = index(segs[at + 1])?;
            let len = a.len();
            if n >= len {
                return Err(format!(
                    "`{}` has {len} entries, no entry {n}",
                    path_to(at + 1)
                ));
            }
            if at + 2 == segs.len() {
                a.replace(n, parse_value(&o.value));
                return Ok(());
            }
            match a.get_mut(n) {
                Some(toml_edit::Value::InlineTable(t)) => set_in(t, segs, at + 2, o),
                _ => Err(format!("`{}` is not a table", path_to(at + 2))),
            }
        }
        _ => Err(format!("`{}` is a value, not a table", path_to(at + 1))),
    }
}

fn set_json(value: &mut serde_json::Value, o: &Override) -> Result<(), String> {
    let new: serde_json::Value = serde_json::from_str(&o.value)
        .unwrap_or_else(|_| serde_json::Value::String(o.value.clone()));
    let segs: Vec<&str> = o.path.split('.').collect();
    let mut here = value;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let at = segs[..i].join(".");
        here = match here {
            serde_json::Value::Array(a) => {
                let n: usize = seg
                    .parse()
                    .map_err(|_| format!("`{at}` is a list: use a number, not `{seg}`"))?;
                let len = a.len();
                let slot = a
                    .get_mut(n)
                    .ok_or_else(|| format!("`{at}` has {len} entries, no entry {n}"))?;
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            serde_json::Value::Object(m) => {
                if last {
                    m.insert((*seg).to_owned(), new);
                    return Ok(());
                }
                m.get_mut(*seg)
                    .ok_or_else(|| format!("the scenario has no `{}`", segs[..=i].join(".")))?
            }
            _ => return Err(format!("`{at}` is not a table")),
        };
    }
    Ok(())
}
