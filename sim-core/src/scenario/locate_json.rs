//! Where a key path lies in a JSON scenario: the byte range of its value,
//! or of the deepest part of the path that exists, so that errors found
//! after parsing (types, meaning) name a line and column in JSON as they do
//! in TOML.
//!
//! Reads only text that serde_json has already accepted (its nesting is
//! bounded by serde_json's recursion limit); must not judge the text.

use std::ops::Range;

use jsonc_parser::ast::Value;
use jsonc_parser::common::Ranged;

/// Byte range of the value at the dotted `key` (`services.a.threads`,
/// `fault.0.at`), or of the deepest value found along it.
pub(super) fn locate_json(text: &str, key: &str) -> Option<Range<usize>> {
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).ok()?;
    let mut value = parsed.value.as_ref()?;
    let segs: Vec<&str> = key.split('.').filter(|s| !s.is_empty()).collect();
    let mut i = 0;
    while i < segs.len() {
        let (next, taken) = match value {
            Value::Array(a) => match segs[i]
                .parse::<usize>()
                .ok()
                .and_then(|n| a.elements.get(n))
            {
                Some(v) => (v, 1),
                None => break,
            },
            // A key may itself hold dots (`"checkout.p99"`): when the
            // segment alone is not a key, try it joined with the rest.
            Value::Object(o) => {
                let found = (1..=segs.len() - i).find_map(|n| {
                    let k = segs[i..i + n].join(".");
                    o.properties
                        .iter()
                        .find(|p| p.name.as_str() == k)
                        .map(|p| (&p.value, n))
                });
                match found {
                    Some(f) => f,
                    None => break,
                }
            }
            _ => break,
        };
        value = next;
        i += taken;
    }
    let r = value.range();
    Some(r.start..r.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_values_list_entries_and_dotted_keys() {
        let text = r#"{"services": {"a": {"threads": 0}}, "fault": [{"at": "1s"}, {"at": 5}],
  "slo": {"w.p99": "< 1s"}}"#;
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(
            locate_json(text, "services.a.threads").unwrap().start,
            at("0}")
        );
        assert_eq!(
            locate_json(text, "fault.1.at").unwrap(),
            at("5}")..at("5}") + 1
        );
        assert_eq!(
            locate_json(text, "slo.w.p99").unwrap().start,
            at("\"< 1s\"")
        );
        // A missing key points at the deepest table found.
        assert_eq!(
            locate_json(text, "services.a.steps").unwrap().start,
            at("{\"threads\"")
        );
        assert_eq!(locate_json(text, "fault.7.at").unwrap().start, at("[{"));
    }
}
