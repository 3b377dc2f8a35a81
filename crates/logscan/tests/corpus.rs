//! The composed Talos corpus (`tests/fixtures/talos-logs`): healthy boots of 3 and 5 nodes and 14
//! failure kinds, every file as talosctl (or a support bundle, `docker logs`, a serial console)
//! prints it, each folder with the findings it must give (`expected.json`: one per node, source
//! and cause, with its first line, count and last line). The scanner must find every one of them
//! and nothing else: precision and recall 1.0, printed per folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vixens_logscan::{Input, Scanner, Time, first_time};

/// What identifies a finding, and what it must say about its lines.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    node: String,
    source: String,
    cause: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Lines {
    file: String,
    line: u64,
    count: u64,
    first_line: u64,
    last_line: u64,
    also_in: Vec<String>,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/talos-logs")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text<'v>(value: &'v Value, key: &str) -> &'v str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} in {value}"))
}

/// Every folder with an `expected.json`, as `healthy/3-node`.
fn folders() -> Vec<String> {
    let mut folders = Vec::new();
    for kind in ["healthy", "failing"] {
        for entry in std::fs::read_dir(corpus().join(kind)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            folders.push(format!("{kind}/{name}"));
        }
    }
    folders.sort();
    folders
}

/// The expected findings of a folder.
fn expected(folder: &Path) -> BTreeMap<Key, Lines> {
    let expected = json(&folder.join("expected.json"));
    expected["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let key = Key { node: text(f, "node_name").into(), source: text(f, "source").into(), cause: text(f, "cause").into() };
            let number = |k: &str| f[k].as_u64().unwrap();
            let also_in = f["also_in"].as_array().unwrap().iter().map(|a| text(a, "file").to_owned()).collect();
            (
                key,
                Lines {
                    file: text(f, "file").into(),
                    line: number("line"),
                    count: number("count"),
                    first_line: number("first_line"),
                    last_line: number("last_line"),
                    also_in,
                },
            )
        })
        .collect()
}

/// The scanner's findings on a folder, scanned as `vixens logs scan` scans files.
fn scanned(scanner: &Scanner, folder: &Path) -> BTreeMap<Key, Lines> {
    let manifest = json(&folder.join("MANIFEST.json"));
    let expected = json(&folder.join("expected.json"));
    let healthy_at = expected["healthy_at"].as_str().map(|t| Time::parse_rfc3339(t).unwrap());
    let mut session = scanner.session(healthy_at);
    let nodes = manifest["nodes"].as_array().unwrap();
    for node in nodes {
        for label in [text(node, "label"), text(node, "ip"), text(node, "name")] {
            session.alias(label, text(node, "name"));
        }
    }
    // Container mode: talosctl labels the host's ring buffer `host`.
    session.alias("host", text(&nodes[0], "name"));
    let files = manifest["files"].as_object().unwrap();
    let read = |name: &str| std::fs::read(folder.join(name)).unwrap();
    let boot = files.iter().filter_map(|(name, spec)| first_time(&read(name), spec["prefixed"].as_bool().unwrap())).min();
    session.boot_at(boot.expect("the corpus has times"));
    for (name, spec) in files {
        let source = text(spec, "source");
        let input = match spec["node"].as_str() {
            Some(node) if !spec["prefixed"].as_bool().unwrap() => Input::unlabelled(name, source, node),
            _ => Input::new(name, source),
        };
        session.scan_reader(read(name).as_slice(), &input, &mut ()).unwrap();
    }
    session
        .finish()
        .findings
        .into_iter()
        .map(|f| {
            let also_in = f.also_in.iter().map(|(input, _)| input.clone()).collect();
            let key = Key { node: f.node, source: f.source, cause: f.cause };
            (key, Lines { file: f.input, line: f.line, count: f.count, first_line: f.first_line, last_line: f.last_line, also_in })
        })
        .collect()
}

#[test]
fn every_failing_node_is_found_every_healthy_boot_is_clean_and_nothing_else_is_reported() {
    let scanner = Scanner::new(&[]).unwrap();
    let (mut expected_total, mut found_total, mut right_total) = (0, 0, 0);
    let mut problems = Vec::new();
    println!("{:<42} {:>8} {:>6} {:>6} {:>9} {:>6}", "folder", "expected", "found", "right", "precision", "recall");
    for name in folders() {
        let folder = corpus().join(&name);
        let expected = expected(&folder);
        let found = scanned(&scanner, &folder);
        let right = found.iter().filter(|(key, lines)| expected.get(*key) == Some(lines)).count();
        for (key, lines) in &expected {
            match found.get(key) {
                None => problems.push(format!("{name}: missed {key:?} at {lines:?}")),
                Some(got) if got != lines => problems.push(format!("{name}: {key:?}\n  expected {lines:?}\n  found    {got:?}")),
                Some(_) => {}
            }
        }
        problems.extend(
            found.iter().filter(|(key, _)| !expected.contains_key(*key)).map(|(key, lines)| format!("{name}: not expected {key:?} at {lines:?}")),
        );
        let ratio = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
        println!(
            "{name:<42} {:>8} {:>6} {right:>6} {:>9.3} {:>6.3}",
            expected.len(),
            found.len(),
            ratio(right, found.len()),
            ratio(right, expected.len())
        );
        (expected_total, found_total, right_total) = (expected_total + expected.len(), found_total + found.len(), right_total + right);
    }
    let precision = right_total as f64 / found_total.max(1) as f64;
    let recall = right_total as f64 / expected_total.max(1) as f64;
    println!("{:<42} {expected_total:>8} {found_total:>6} {right_total:>6} {precision:>9.3} {recall:>6.3}", "total");
    assert!(problems.is_empty(), "precision {precision:.3}, recall {recall:.3}:\n{}", problems.join("\n"));
    assert_eq!((precision, recall), (1.0, 1.0));
}

#[test]
fn the_corpus_has_two_healthy_boots_and_at_least_twelve_failure_kinds() {
    let folders = folders();
    assert_eq!(folders.iter().filter(|f| f.starts_with("healthy/")).count(), 2, "{folders:?}");
    assert!(folders.iter().filter(|f| f.starts_with("failing/")).count() >= 12, "{folders:?}");
    for name in folders.iter().filter(|f| f.starts_with("failing/")) {
        assert!(!expected(&corpus().join(name)).is_empty(), "{name} expects findings");
    }
}
