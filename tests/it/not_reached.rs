//! A fault the run never reaches (checkout's inventory slowdown at 30 s in
//! a 20 s run) is "not reached", not "not affected": in summary.json, on
//! the terminal and in the report's recovery table, which reads as words.

use crate::common::{cascade, repo_root, temp_dir};

#[test]
fn a_fault_after_the_end_of_the_run_is_not_reached() {
    let dir = temp_dir("not-reached");
    let scenario = repo_root().join("scenarios/checkout.toml");
    let out = cascade(&[
        "run",
        scenario.to_str().unwrap(),
        "--set",
        "duration=20s",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("not reached"), "{stdout}");
    assert!(!stdout.contains("not affected"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let recovery = summary["recovery"].as_array().expect("recovery rows");
    assert_eq!(recovery.len(), 1);
    assert_eq!(recovery[0]["verdict"], "not_reached");
    assert_eq!(recovery[0]["recovery_time_s"], serde_json::Value::Null);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let table = &html[html.find("Recovery after faults").expect("recovery table")..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<th>time to recover</th>"), "{table}");
    assert!(
        table.contains("<td>slowdown</td><td>inventory</td><td>30–60 s</td><td>checkout</td>"),
        "{table}"
    );
    assert!(
        table.contains("not reached: the run ended before the fault"),
        "{table}"
    );
    // A human table, not a dump of the record's fields.
    assert!(!table.contains("baseline source"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}
