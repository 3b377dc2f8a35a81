//! Reports pinned by snapshots on the synthetic ledgers of `tests/fixtures/ledgers/`.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::promote::{self, Evidence, JunitEvidence, Ledger, LintOutcome, Revision, revision::RevisionSource};

const A: &str = "4f9c2e1b7a3d5f6e8c0b1a2d3e4f5a6b7c8d9e0f";
const SECRET: &str = "s3cr3t-t0ken-value-123";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/<crate> is two folders below the workspace").join("tests/fixtures")
}

fn report_of(ledger: &str, junit: &str) -> Report {
    let records = vixens_ops::evidence::read(&fixtures().join("ledgers").join(ledger)).unwrap();
    let shown_junit = Path::new("target/nextest/promotion/junit.xml");
    let mut junit = promote::junit::read(&fixtures().join("junit").join(junit)).unwrap();
    junit.path = shown_junit.to_owned();
    let junit = JunitEvidence::Read(junit);
    let lints = [
        LintOutcome { name: "documented commands".into(), summary: "4 entries, each validated on 2+ environments".into(), problems: vec![] },
        LintOutcome {
            name: "command discovery".into(),
            summary: "0 operation patterns undocumented (0 past the 24h grace), 9 documented, 3 ignored, in 6 files".into(),
            problems: vec![],
        },
        LintOutcome { name: "ADRs".into(), summary: "3 ADRs".into(), problems: vec![] },
        LintOutcome { name: "secrets in docs".into(), summary: "0 secrets in 14 files under docs".into(), problems: vec![] },
    ];
    let shown_ledger = Path::new("target/vixens/lab/evidence/lab.jsonl");
    let ledger = Ledger { path: shown_ledger.to_owned(), records: records.clone() };
    let revision = Revision { commit: A.into(), source: RevisionSource::Head };
    let decision = promote::decide(&Evidence {
        environment: "lab",
        revision: &revision,
        terraform: None,
        cycles_required: 5,
        budget: Duration::from_secs(30 * 60),
        ledger: &ledger,
        junit: &junit,
        lints: &lints,
    });
    let mut redactor = Redactor::new();
    redactor.add("token", SECRET);
    Report::new(
        &Inputs {
            decision: &decision,
            records: &records,
            cycles_required: 5,
            budget_ms: 30 * 60_000,
            ledger: shown_ledger,
            junit: Some(shown_junit),
            generated_at: "2026-11-26T18:00:00Z",
            harness_version: "0.1.0",
        },
        Path::new("target/vixens/report"),
        &redactor,
    )
}

#[test]
fn five_clean_cycles_report_a_pass() {
    let report = report_of("five-clean.jsonl", "stress-five-passed.xml");
    insta::assert_snapshot!("five_clean_markdown", report.markdown());
    insta::assert_snapshot!("five_clean_html", report.html());
}

#[test]
fn a_fault_in_cycle_three_reports_the_refusal_with_its_artifacts() {
    let report = report_of("fault-in-cycle-3.jsonl", "stress-third-failed.xml");
    insta::assert_snapshot!("fault_in_cycle_3_markdown", report.markdown());
    let html = report.html();
    assert!(html.contains("PROMOTION REFUSED"));
    assert!(html.contains("4/5 consecutive cycles"));
    assert!(html.contains("<code>/srv/vixens/target/vixens/lab/artifacts/20261126T120000Z-3</code>"));
}

#[test]
fn a_long_history_marks_the_deciding_window() {
    let report = report_of("mixed-history.jsonl", "stress-last-five-of-mixed-history.xml");
    insta::assert_snapshot!("mixed_history_markdown", report.markdown());
    assert!(report.html().matches("<tr class=\"window\">").count() == 5);
}

#[test]
fn markup_in_app_names_and_messages_is_escaped_and_secrets_are_redacted() {
    let report = report_of("hostile.jsonl", "stress-five-passed.xml");
    let (html, markdown) = (report.html(), report.markdown());
    for out in [&html, &markdown] {
        assert!(!out.contains(SECRET), "a secret leaked");
        assert!(out.contains("[REDACTED:token]"));
        assert!(!out.contains("<script>"), "markup leaked");
        assert!(!out.contains("<img"), "markup leaked");
        assert!(!out.contains("<b>"), "markup leaked");
    }
    assert!(html.contains("&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"));
    assert!(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;img src=x onerror=alert(1)&gt;"));
    insta::assert_snapshot!("hostile_markdown", markdown);
}

#[test]
fn the_page_loads_nothing_from_the_network() {
    let html = report_of("fault-in-cycle-3.jsonl", "stress-third-failed.xml").html();
    for forbidden in ["<script", "<link", "src=\"http", "href=\"http", "url(", "@import"] {
        assert!(!html.contains(forbidden), "the page contains {forbidden}");
    }
    // The only URL is the SVG namespace, which is a name, not a fetch.
    assert_eq!(html.matches("http").count(), 1);
}

#[test]
fn an_empty_ledger_still_renders() {
    let report = report_of("five-clean.jsonl", "stress-five-passed.xml");
    let empty = Report { cycles: vec![], total_cycles: 0, stats: vec![], phases: vec![], ..report };
    assert!(empty.html().contains("No cycles recorded yet."));
    assert!(empty.markdown().contains("None in the cycles shown."));
}

#[test]
fn links_are_relative_to_the_report_folder() {
    assert_eq!(relative_href(Path::new("/w/target/vixens/report"), Path::new("/w/target/nextest/ci/junit.xml")), "../../nextest/ci/junit.xml");
    assert_eq!(relative_href(Path::new("/w/out"), Path::new("/w/out/a b.xml")), "a%20b.xml");
    assert_eq!(relative_href(Path::new("/w"), Path::new("/w/javascript:alert(1)")), "./javascript:alert(1)");
}

#[test]
fn write_creates_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let written = report_of("five-clean.jsonl", "stress-five-passed.xml").write(&out).unwrap();
    assert_eq!(written, Written { markdown: out.join("lab.md"), html: out.join("lab.html") });
    assert!(std::fs::read_to_string(&written.html).unwrap().starts_with("<!DOCTYPE html>"));
}
