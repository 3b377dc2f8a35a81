//! An env.yaml is user input: whatever it holds, stage one reads it into a model and problems,
//! each at a line of the file, without panicking, hanging, or growing without bound (YAML
//! aliases that expand exponentially, nesting that would overflow the stack).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use vixens_config::file::EnvFile;

/// Pieces of env.yaml: its keys at several depths, scalars of every YAML type, flow and block
/// collections, anchors, aliases, tags, variables, and the characters YAML is strict about.
const FRAGMENTS: &[&str] = &[
    "name: ",
    "kind: ",
    "infra-repo: ",
    "terraform:\n",
    "  root: ",
    "  vars:\n",
    "    faults: ",
    "  backend-config: {path: ",
    "nodes:\n",
    "  - {name: cp1, address: 10.5.0.2, role: controlplane}\n",
    "  - ",
    "argocd:\n",
    "  system-apps: {max-sync-wave: ",
    "budgets:\n  recreate: ",
    "protected:\n  inventory:\n    - kind: ",
    "provisioning: {}\n",
    "lab",
    "disposable",
    "${VIXENS_WORK_DIR:-x}",
    "${",
    "$$",
    "30m",
    "-1",
    "1.10",
    "true",
    "~",
    "'quoted'",
    "\"esc\\u00e9\"",
    "&a ",
    "*a",
    "!!str ",
    "[",
    "]",
    "{",
    "}",
    ": ",
    "- ",
    "? ",
    "#",
    "\t",
    "\n",
    "\r\n",
    "  ",
    "é",
];

fn read(text: &str) -> vixens_config::file::Read {
    EnvFile::parse(Path::new("environments/lab/env.yaml"), Arc::from(text))
}

/// Every problem is at a line of the file.
fn located(text: &str) -> Result<(), TestCaseError> {
    let lines = text.split('\n').count().max(1);
    let read = read(text);
    for problem in read.problems.found() {
        prop_assert!(problem.line >= 1 && problem.line <= lines, "{problem:?} outside 1..={lines}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_read_into_located_problems(text in "\\PC{0,1500}") {
        located(&text)?;
    }

    #[test]
    fn env_yaml_shaped_text_is_read_into_located_problems(parts in prop::collection::vec(0..FRAGMENTS.len(), 0..120)) {
        let text: String = parts.iter().map(|&i| FRAGMENTS[i]).collect();
        let started = Instant::now();
        located(&text)?;
        prop_assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    }
}

#[test]
fn an_alias_bomb_is_refused_instead_of_expanding() {
    // Nine levels of nine aliases: 9^9 (387 million) strings if expanded.
    let mut text = String::from("a0: &a0 [\"lol\"]\n");
    for level in 1..=9 {
        let refs: Vec<String> = (0..9).map(|_| format!("*a{}", level - 1)).collect();
        text.push_str(&format!("a{level}: &a{level} [{}]\n", refs.join(", ")));
    }
    text.push_str("name: *a9\n");
    let started = Instant::now();
    let read = read(&text);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let problems: Vec<String> = read.problems.found().iter().map(ToString::to_string).collect();
    assert!(!problems.is_empty(), "the bomb was read as a file");
}

#[test]
fn nesting_deeper_than_any_env_yaml_is_a_problem_not_a_stack_overflow() {
    for (open, close) in [("[", "]"), ("{a: ", "}")] {
        let text = format!("name: {}x{}\n", open.repeat(50_000), close.repeat(50_000));
        let started = Instant::now();
        let read = read(&text);
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert!(!read.problems.is_empty(), "read as a file");
    }
}
