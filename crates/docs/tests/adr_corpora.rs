//! The ADR lint on folders written the way real homelabs write them (French and English, an
//! index by status, a README table, renumbered files, superseded chains), each with the exact
//! findings a team can adopt: every planted defect once, at its line, with the other places of
//! its cause, saying what to do; and nothing on any of the look-alike traps.
//!
//! The corpora and their expectations are in tests/fixtures/adr/{homelab,small-en,small-fr};
//! each `expected.yaml` says why every trap is not a defect.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vixens_docs::adr::{self, Diagnostic, Severity};

#[derive(Deserialize)]
struct Expected {
    findings: Vec<Finding>,
    not_findings: Vec<Trap>,
}

#[derive(Deserialize)]
struct Finding {
    file: String,
    line: usize,
    rule: String,
    cause: String,
    #[serde(default)]
    severity: Option<String>,
    also: Vec<String>,
    says: Vec<String>,
}

#[derive(Deserialize)]
struct Trap {
    file: String,
    line: usize,
    trap: String,
    why: String,
}

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("tests/fixtures/adr")
        .join(name)
}

fn expected(name: &str) -> Expected {
    let text = std::fs::read_to_string(corpus(name).join("expected.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn also_of(d: &Diagnostic) -> BTreeSet<String> {
    d.also.iter().map(ToString::to_string).collect()
}

/// Lints the corpus at `root` and lists every difference with the expectations of corpus
/// `name`: a defect missed or reported elsewhere, a wrong `also`, a message without what it
/// must say, and any finding that is not a planted defect (naming the trap it fell for).
fn differences(name: &str, root: &Path) -> String {
    let lint = adr::check(root).unwrap();
    let expected = expected(name);
    let mut report = String::new();
    let mut matched = vec![false; lint.diagnostics.len()];
    for f in &expected.findings {
        let Some(i) = lint.diagnostics.iter().position(|d| d.file == f.file && d.line == Some(f.line) && d.rule.id() == f.rule) else {
            let _ = writeln!(report, "missed {} at {}:{} ({})", f.cause, f.file, f.line, f.rule);
            continue;
        };
        matched[i] = true;
        let d = &lint.diagnostics[i];
        let severity = if f.severity.as_deref() == Some("warning") { Severity::Warning } else { Severity::Error };
        if d.severity != severity {
            let _ = writeln!(report, "{}: severity {} instead of {severity}", d, d.severity);
        }
        let also: BTreeSet<String> = f.also.iter().cloned().collect();
        if also_of(d) != also {
            let _ = writeln!(report, "{d}\n  lists {:?} instead of {also:?}", also_of(d));
        }
        for phrase in f.says.iter().filter(|p| !d.message.contains(p.as_str())) {
            let _ = writeln!(report, "{d}\n  does not say {phrase:?}");
        }
    }
    for (d, _) in lint.diagnostics.iter().zip(&matched).filter(|(_, m)| !**m) {
        let trap = expected.not_findings.iter().find(|t| t.file == d.file && Some(t.line) == d.line);
        match trap {
            Some(t) => {
                let _ = writeln!(report, "false finding on the {} trap ({}): {d}", t.trap, t.why);
            }
            None => {
                let _ = writeln!(report, "false finding: {d}");
            }
        }
    }
    report
}

#[track_caller]
fn assert_exact(name: &str) {
    let report = differences(name, &corpus(name));
    assert!(report.is_empty(), "{name}:\n{report}");
}

#[test]
fn the_comparison_catches_a_missed_defect_a_false_alarm_and_a_message_that_says_too_little() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&corpus("small-en"), dir.path());
    let adrs = dir.path().join("docs/adr");
    let edit = |file: &str, from: &str, to: &str| {
        let text = std::fs::read_to_string(adrs.join(file)).unwrap();
        assert!(text.contains(from), "{file} no longer contains {from:?}");
        std::fs::write(adrs.join(file), text.replacen(from, to, 1)).unwrap();
    };
    // The dead link of 021 fixed, a path that never existed in 001, and 026's Neutral part
    // renamed so that its message names other parts.
    edit("021-dead-link.md", "../runbooks/cilium-upgrade.md", "../specs/networking.md");
    edit("001-baseline.md", "- No configuration drift.", "- No configuration drift, see `terraform/modules/k8s/main.tf`.");
    edit("026-one-sided.md", "### Neutral", "### Neutre");
    let report = differences("small-en", dir.path());
    assert!(report.contains("missed dead-link at docs/adr/021-dead-link.md:14 (broken-link)"), "{report}");
    assert!(report.contains("false finding: docs/adr/001-baseline.md:20: missing-path: `terraform/modules/k8s/main.tf` does not exist"), "{report}");
    assert!(report.contains("does not say \"Positive and Neutral but no negative part\""), "{report}");
    assert_eq!(report.lines().filter(|l| !l.starts_with("  ")).count(), 3, "{report}");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_year_of_homelab_adrs_in_french_and_english_gets_each_defect_once_and_no_false_alarm() {
    assert_exact("homelab");
}

#[test]
fn one_trap_or_defect_per_english_adr_gets_each_defect_once_and_no_false_alarm() {
    assert_exact("small-en");
}

#[test]
fn one_trap_or_defect_per_french_adr_gets_each_defect_once_and_no_false_alarm() {
    assert_exact("small-fr");
}

#[test]
fn a_numbered_index_file_is_an_index_not_an_adr() {
    for name in ["homelab", "small-en", "small-fr"] {
        let lint = adr::check(&corpus(name)).unwrap();
        assert_eq!(lint.indexes, ["docs/adr/000-index.md", "docs/adr/README.md"], "{name}");
        assert!(lint.adrs.iter().all(|a| a.stem != "000-index" && a.stem != "template"), "{name}");
    }
}

#[test]
fn the_expectations_cover_every_class_of_the_issue() {
    let causes: BTreeSet<String> = ["homelab", "small-en", "small-fr"].into_iter().flat_map(|n| expected(n).findings).map(|f| f.cause).collect();
    let traps: BTreeSet<String> = ["homelab", "small-en", "small-fr"].into_iter().flat_map(|n| expected(n).not_findings).map(|t| t.trap).collect();
    for cause in [
        "index-superseded-listed-active",
        "index-dead-link",
        "index-missing-adrs",
        "prose-supersession-contradicts-status",
        "root-relative-links",
        "moved-path",
        "missing-path",
        "title-number",
        "dead-link-absolute",
    ] {
        assert!(causes.contains(cause), "no planted {cause}");
    }
    for trap in [
        "index-file-not-adr",
        "removed-path",
        "to-create-path",
        "status-history-table",
        "status-history-list",
        "status-word-in-body",
        "decision-heading-with-suffix",
        "sibling-consequence-sections",
        "bare-url-reference",
        "backticked-root-file",
        "index-row-first-cell-number",
        "index-link-in-paragraph",
        "negated-supersession",
        "madr-good-bad",
        "trade-offs-section",
    ] {
        assert!(traps.contains(trap), "no {trap} trap");
    }
}
