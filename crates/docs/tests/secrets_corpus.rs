//! The `secrets` rule on a composed FR/EN repository with planted FAKE secrets of every shape
//! (in ADR prose, commands.md expected output, runbook shell blocks, YAML, PEM blocks quoted and
//! indented) and look-alikes that are not secrets (placeholders, image digests, sha256 sums,
//! base64 of plain words, certificates, public keys): every planted secret is found once at its
//! line by its rule, no look-alike is reported, and no secret is printed.
//!
//! The corpus is expanded at test time (`vixens_testkit::secrets_corpus`), so that no token
//! shaped like a real one is committed.

use std::collections::BTreeSet;
use std::path::Path;

use vixens_docs::secrets::{self, Finding, output, scan_repository};
use vixens_docs::{adr, commands};
use vixens_testkit::secrets_corpus::{Corpus, Planted};

fn located(findings: &[Finding]) -> Vec<Planted> {
    let mut out: Vec<Planted> = findings.iter().map(|f| Planted { file: f.file.clone(), line: f.line, rule: f.rule.to_owned() }).collect();
    out.sort();
    out
}

fn sorted(mut planted: Vec<Planted>) -> Vec<Planted> {
    planted.sort();
    planted
}

/// The planted values found in `text`, by their first characters only.
#[track_caller]
fn assert_no_secret_in(corpus: &Corpus, what: &str, text: &str) {
    let leaked: Vec<String> = corpus.values.iter().filter(|v| v.len() >= 8 && text.contains(v.as_str())).map(|v| format!("{}…", &v[..4])).collect();
    assert!(leaked.is_empty(), "{what} shows {} planted values: {leaked:?}", leaked.len());
}

#[test]
fn every_planted_secret_is_found_once_at_its_line_and_no_look_alike_is() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    assert!(corpus.findings.len() >= 55 && corpus.lookalikes.len() >= 100, "the corpus shrank");

    let scan = scan_repository(dir.path()).unwrap();
    let reported = located(&scan.findings);
    let expected = sorted(corpus.findings.clone());
    let missing: Vec<&Planted> = expected.iter().filter(|p| !reported.contains(p)).collect();
    let unexpected: Vec<&Planted> = reported.iter().filter(|p| !expected.contains(p)).collect();
    assert!(missing.is_empty() && unexpected.is_empty(), "missing {missing:#?}\nunexpected {unexpected:#?}");
    assert_eq!(reported.len(), expected.len(), "each planted secret is reported once");
    let on_lookalikes: Vec<&Finding> =
        scan.findings.iter().filter(|f| corpus.lookalikes.iter().any(|l| l.file == f.file && l.line == f.line)).collect();
    assert!(on_lookalikes.is_empty(), "{on_lookalikes:#?}");

    assert_eq!(located(&scan.allowed.iter().map(|a| a.finding.clone()).collect::<Vec<_>>()), sorted(corpus.allowed.clone()));
    assert_eq!(scan.allowed[0].reason, "revoked on 2026-11-20 and kept as the incident's evidence");
    assert!(scan.unused.is_empty() && scan.unreadable.is_empty());

    let every_rule: BTreeSet<&str> = secrets::rules::RULES.iter().map(|r| r.id).collect();
    let planted_rules: BTreeSet<&str> = corpus.findings.iter().chain(&corpus.allowed).map(|p| p.rule.as_str()).collect();
    assert_eq!(planted_rules, every_rule, "every rule has a planted secret");
}

#[test]
fn without_the_allow_file_the_accepted_secret_is_reported_too() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    std::fs::remove_file(dir.path().join(".config/secrets.yaml")).unwrap();
    let scan = scan_repository(dir.path()).unwrap();
    assert_eq!(located(&scan.findings), sorted(corpus.findings.iter().chain(&corpus.allowed).cloned().collect()));
}

#[test]
fn no_output_shows_a_planted_secret() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let scan = scan_repository(dir.path()).unwrap();
    assert_no_secret_in(&corpus, "the text output", &(output::lines(&scan) + &output::summary(&scan)));
    assert_no_secret_in(&corpus, "the JSON output", &output::json(&scan));
    assert_no_secret_in(&corpus, "Debug", &format!("{scan:?}"));
    let args = libtest_mimic::Arguments { test_threads: Some(1), quiet: true, ..Default::default() };
    let trial = secrets::trials(dir.path()).remove(0);
    assert_eq!(libtest_mimic::run(&args, vec![trial]).num_failed, 1);
    assert_no_secret_in(&corpus, "the trial's failure (JUnit)", &output::problems(&scan).join("\n"));
}

#[test]
fn the_adr_lint_reports_the_secrets_of_the_adrs_as_its_secrets_rule() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let lint = adr::lint(dir.path(), &adr::Config::default()).unwrap();
    let found: Vec<Planted> = sorted(
        lint.diagnostics
            .iter()
            .filter(|d| d.rule == adr::Rule::Secrets)
            .map(|d| Planted { file: d.file.clone(), line: d.line.unwrap(), rule: d.message.split(' ').next().unwrap().to_owned() })
            .collect(),
    );
    let planted = sorted(corpus.findings.iter().filter(|p| p.file.starts_with("docs/adr/")).cloned().collect());
    assert!(planted.len() >= 15, "{}", planted.len());
    assert_eq!(found, planted);
    let text = adr::output::lines(&lint.diagnostics) + &adr::output::lint_json(&lint);
    assert!(text.contains("docs/adr/009-secrets-live-in-infisical.md:15: secrets: github-token (ghp_… 40 chars, fingerprint "), "{text}");
    assert_no_secret_in(&corpus, "adr lint", &text);
}

#[test]
fn the_commands_lint_reports_the_secrets_of_commands_md_as_its_secrets_rule() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let lint = commands::lint_repository(dir.path());
    let found: Vec<Planted> = sorted(
        lint.problems
            .iter()
            .filter_map(|p| {
                let rest = p.strip_prefix(&format!("{}/docs/commands.md:", dir.path().display()))?;
                let (line, rest) = rest.split_once(": secrets: ")?;
                Some(Planted { file: "docs/commands.md".into(), line: line.parse().ok()?, rule: rest.split(' ').next()?.to_owned() })
            })
            .collect(),
    );
    let planted = sorted(corpus.findings.iter().filter(|p| p.file == "docs/commands.md").cloned().collect());
    assert!(planted.len() >= 8, "{}", planted.len());
    assert_eq!(found, planted);
    assert_no_secret_in(&corpus, "commands lint", &lint.problems.join("\n"));
}

#[test]
fn this_repository_s_documentation_and_fixtures_hold_no_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap();
    let scan = scan_repository(root).unwrap();
    assert_eq!(output::problems(&scan), Vec::<String>::new());
    // Every fixture a test reads as documentation (ADR folders, commands documents), outside
    // the secrets corpus's templates, whose markers are no secrets.
    let mut findings = Vec::new();
    visit(&root.join("tests/fixtures"), &mut |path| {
        if path.components().any(|c| c.as_os_str() == "secrets") {
            return;
        }
        if let (Some(kind), Ok(text)) = (secrets::Kind::of(path), std::fs::read_to_string(path)) {
            findings.extend(secrets::scan(&path.display().to_string(), &text, kind).iter().map(ToString::to_string));
        }
    });
    assert_eq!(findings, Vec::<String>::new());
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => visit(&path, f),
            Ok(t) if t.is_file() => f(&path),
            _ => {}
        }
    }
}
