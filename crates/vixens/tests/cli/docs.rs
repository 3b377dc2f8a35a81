//! `vixens docs secrets`, and the `secrets` rule of `vixens adr lint` and `vixens commands
//! lint`, on the composed FR/EN repository with planted FAKE secrets (expanded at test time:
//! `vixens_testkit::secrets_corpus`): every secret named at its line, none printed.

use predicates::prelude::*;
use vixens_testkit::secrets_corpus::{Corpus, Planted};

fn vixens_in(dir: &std::path::Path) -> assert_cmd::Command {
    let mut cmd = vixens_testkit::vixens();
    cmd.current_dir(dir);
    cmd
}

#[track_caller]
fn assert_no_secret_in(corpus: &Corpus, what: &str, output: &std::process::Output) {
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let leaked: Vec<String> = corpus.values.iter().filter(|v| v.len() >= 8 && text.contains(v.as_str())).map(|v| format!("{}…", &v[..4])).collect();
    assert!(leaked.is_empty(), "{what} shows {} planted values: {leaked:?}", leaked.len());
}

/// `file:line: secrets: rule` of each line of `stdout` that is a finding.
fn findings_in(stdout: &[u8]) -> Vec<Planted> {
    let mut found: Vec<Planted> = String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| {
            let (location, rest) = line.split_once(": secrets: ")?;
            let (file, number) = location.rsplit_once(':')?;
            Some(Planted { file: file.to_owned(), line: number.parse().ok()?, rule: rest.split(' ').next()?.to_owned() })
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_planted_secret_is_printed_redacted_at_its_line_and_the_exit_code_is_1() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let output = vixens_in(dir.path()).args(["docs", "secrets"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let mut expected = corpus.findings.clone();
    expected.sort();
    assert_eq!(findings_in(&output.stdout), expected);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.lines().any(|l| l.starts_with("docs/adr/009-secrets-live-in-infisical.md:15: secrets: github-token (ghp_… 40 chars, fingerprint ")),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{} secrets in 16 files under docs (1 accepted by .config/secrets.yaml)", expected.len())), "{stderr}");
    assert!(stderr.contains("replace each secret with a placeholder"), "{stderr}");
    assert_no_secret_in(&corpus, "the text output", &output);
}

#[test]
fn json_lists_findings_and_the_accepted_ones_with_their_reasons_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let output = vixens_in(dir.path()).args(["docs", "secrets", "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), corpus.findings.len());
    let finding = &json["findings"][0];
    for field in ["file", "line", "rule", "redacted", "length", "fingerprint"] {
        assert!(!finding[field].is_null(), "{field} in {finding}");
    }
    assert_eq!(json["allowed"][0]["reason"], "revoked on 2026-11-20 and kept as the incident's evidence");
    assert_no_secret_in(&corpus, "the JSON output", &output);
}

#[test]
fn the_adr_and_commands_lints_report_the_same_secrets_as_their_secrets_rule() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::write(dir.path());
    let adr = vixens_in(dir.path()).args(["adr", "lint"]).output().unwrap();
    assert_eq!(adr.status.code(), Some(1));
    let mut in_adrs: Vec<Planted> = corpus.findings.iter().filter(|p| p.file.starts_with("docs/adr/")).cloned().collect();
    in_adrs.sort();
    assert_eq!(findings_in(&adr.stdout), in_adrs);
    assert_no_secret_in(&corpus, "adr lint", &adr);
    let json = vixens_in(dir.path()).args(["adr", "lint", "--format", "json"]).output().unwrap();
    assert_no_secret_in(&corpus, "adr lint --format json", &json);

    let commands = vixens_in(dir.path()).args(["commands", "lint"]).output().unwrap();
    assert_eq!(commands.status.code(), Some(1));
    let mut in_commands: Vec<Planted> = corpus.findings.iter().filter(|p| p.file == "docs/commands.md").cloned().collect();
    in_commands.sort();
    assert_eq!(findings_in(&commands.stdout), in_commands);
    assert_no_secret_in(&corpus, "commands lint", &commands);
}

#[test]
fn clean_documentation_passes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs/runbooks")).unwrap();
    std::fs::write(
        dir.path().join("docs/runbooks/rotate.md"),
        "```sh\nexport MINIO_ROOT_PASSWORD=\"$(infisical secrets get MINIO_ROOT_PASSWORD --plain)\"\n```\n",
    )
    .unwrap();
    vixens_in(dir.path()).args(["docs", "secrets"]).assert().success().stdout("").stderr("0 secrets in 1 file under docs\n");
}

#[test]
fn a_repository_without_docs_or_with_a_broken_allow_file_cannot_be_scanned() {
    let dir = tempfile::tempdir().unwrap();
    vixens_in(dir.path()).args(["docs", "secrets"]).assert().code(2).stderr(predicate::str::contains("no docs/ folder in ."));
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::create_dir_all(dir.path().join(".config")).unwrap();
    std::fs::write(dir.path().join(".config/secrets.yaml"), "version: 1\nallow:\n  - file: docs/a.md\n    fingerprint: \"XYZ\"\n    reason: x\n")
        .unwrap();
    vixens_in(dir.path())
        .args(["docs", "secrets"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("./.config/secrets.yaml:4: fingerprint `XYZ` is not 16 lower-case hex digits"));
    std::fs::write(dir.path().join("docs/commands.md"), "# Commands\n").unwrap();
    vixens_in(dir.path())
        .args(["commands", "lint"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("fingerprint `XYZ` is not 16 lower-case hex digits"));
}

#[test]
fn an_allow_entry_that_accepts_nothing_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("docs")).unwrap();
    std::fs::create_dir_all(dir.path().join(".config")).unwrap();
    std::fs::write(dir.path().join("docs/a.md"), "clean\n").unwrap();
    std::fs::write(
        dir.path().join(".config/secrets.yaml"),
        "version: 1\nallow:\n  - file: docs/a.md\n    fingerprint: \"0123456789abcdef\"\n    reason: x\n",
    )
    .unwrap();
    vixens_in(dir.path()).args(["docs", "secrets"]).assert().success().stderr(predicate::str::contains(
        ".config/secrets.yaml:3: secrets: warning: the entry for docs/a.md (fingerprint 0123456789abcdef) accepts nothing any more: remove it",
    ));
}
