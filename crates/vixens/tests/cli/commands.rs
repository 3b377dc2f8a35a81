//! `vixens commands lint` and `vixens commands run`, on fixture documents and on fake
//! environments whose commands are local (a `talosctl` stand-in in `tools/`).

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use rstest::rstest;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/<crate> is two folders below the workspace")
        .join("tests/fixtures/commands")
}

fn vixens_in(dir: &Path) -> assert_cmd::Command {
    let mut cmd = vixens_testkit::vixens();
    cmd.current_dir(dir);
    cmd
}

/// A fresh copy of the fixture repository `ops`: a document, three fake environments and a
/// `talosctl` stand-in.
fn ops_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("ops"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // fs::copy keeps the permissions: the stand-in stays executable.
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn doc(repo: &Path) -> String {
    std::fs::read_to_string(repo.join("docs/commands.md")).unwrap()
}

fn edit_doc(repo: &Path, from: &str, to: &str) {
    let text = doc(repo);
    assert!(text.contains(from), "the fixture no longer contains {from:?}");
    std::fs::write(repo.join("docs/commands.md"), text.replacen(from, to, 1)).unwrap();
}

/// The 1-based line of the first line of `doc` equal to `line`.
fn line_of(doc: &str, line: &str) -> usize {
    doc.lines().position(|l| l == line).unwrap_or_else(|| panic!("no line {line:?}")) + 1
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

// ---- lint ----

#[test]
fn lint_passes_on_a_document_whose_entries_are_complete_and_validated_on_two_environments() {
    vixens_in(&fixtures().join("ops"))
        .args(["commands", "lint"])
        .assert()
        .success()
        .stdout("")
        .stderr("docs/commands.md: 6 entries, each validated on 2+ environments: no problems\n");
    vixens_in(&fixtures()).args(["commands", "lint", "--file", "lint/clean.md"]).assert().success();
}

#[rstest]
#[case::missing_context("missing-context", &[(7, "missing-context")])]
#[case::missing_example("missing-example", &[(7, "missing-example")])]
#[case::missing_expected_output("missing-expected-output", &[(12, "missing-expected-output")])]
#[case::duplicate_id("duplicate-id", &[(20, "duplicate-id")])]
#[case::unknown_placeholder("unknown-placeholder", &[(13, "unknown-placeholder")])]
#[case::unterminated_block("unterminated-block", &[(24, "unterminated-block"), (24, "under-validated")])]
#[case::under_validated("under-validated", &[(16, "under-validated")])]
#[case::stale_record("stale-record", &[(16, "under-validated")])]
#[case::bad_example("bad-example", &[(12, "bad-example"), (14, "bad-example")])]
#[case::bad_marker("bad-marker", &[(11, "bad-marker")])]
#[case::bad_placeholder("bad-placeholder", &[(6, "bad-placeholder")])]
#[case::bad_record("bad-record", &[(17, "bad-record")])]
fn lint_fails_with_file_and_line_on_a_fixture_that_breaks_each_rule(#[case] fixture: &str, #[case] expected: &[(usize, &str)]) {
    let file = format!("lint/{fixture}.md");
    let output = vixens_in(&fixtures()).args(["commands", "lint", "--file", &file]).assert().code(1).get_output().clone();
    let stdout = stdout_of(&output);
    let found: Vec<(usize, String)> = stdout
        .lines()
        .map(|l| {
            let rest = l.strip_prefix(&format!("{file}:")).unwrap_or_else(|| panic!("not `file:line: rule: message`: {l}"));
            let (line, rest) = rest.split_once(": ").unwrap();
            let (rule, message) = rest.split_once(": ").unwrap();
            assert!(!message.is_empty(), "{l}");
            (line.parse().unwrap(), rule.to_owned())
        })
        .collect();
    let expected: Vec<(usize, String)> = expected.iter().map(|(l, r)| (*l, (*r).to_owned())).collect();
    assert_eq!(found, expected, "{stdout}");
    let problems = expected.len();
    let plural = if problems == 1 { "" } else { "s" };
    assert_eq!(String::from_utf8_lossy(&output.stderr), format!("{file}: {problems} problem{plural}\n"));
}

#[test]
fn lint_reports_a_file_that_is_not_utf8_with_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("commands.md"), b"# Commands\n\n### Caf\xe9\n").unwrap();
    vixens_in(dir.path())
        .args(["commands", "lint", "--file", "commands.md"])
        .assert()
        .code(2)
        .stderr("error: commands.md:3:8: not UTF-8 text (byte 0xe9); save the document as UTF-8\n");
}

#[test]
fn lint_refuses_a_huge_file_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("commands.md")).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap();
    vixens_in(dir.path())
        .args(["commands", "lint", "--file", "commands.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: commands.md: 67108864 bytes is more than the 4194304 bytes"));
}

#[test]
fn lint_of_a_repository_without_a_document_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    vixens_in(dir.path()).args(["commands", "lint", "--repo", "."]).assert().code(2).stderr(
        "error: no commands document at docs/commands.md: run `vixens commands init --repo .` to write a starter one for a GitOps homelab, \
         then validate each entry\n",
    );
    // A file named on purpose that is not there is an error of its own.
    vixens_in(dir.path())
        .args(["commands", "lint", "--file", "ops.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: cannot read ops.md: No such file or directory"));
}

#[test]
fn lint_takes_a_file_relative_to_the_repository() {
    vixens_in(Path::new("/"))
        .args(["commands", "lint", "--repo"])
        .arg(fixtures())
        .args(["--file", "lint/clean.md"])
        .assert()
        .success()
        .stderr(predicate::str::contains("/lint/clean.md: 2 entries, each validated on 2+ environments: no problems\n"));
}

#[test]
fn init_writes_a_starter_document_whose_entries_wait_for_their_validation() {
    let dir = tempfile::tempdir().unwrap();
    let output = vixens_in(dir.path()).args(["commands", "init", "--repo", "."]).assert().success().get_output().clone();
    assert_eq!(
        stdout_of(&output),
        "wrote docs/commands.md: 5 entries for a GitOps homelab. Adapt each to this cluster, then validate it on two environments with \
         `vixens commands run ENV --record`; `vixens commands lint` lists what is left.\n"
    );
    let lint = vixens_in(dir.path()).args(["commands", "lint"]).assert().code(1).get_output().clone();
    let lint = stdout_of(&lint);
    let rules: Vec<&str> = lint.lines().map(|l| l.split(": ").nth(1).unwrap()).collect();
    assert_eq!(rules, ["under-validated"; 5], "{lint}");
    assert!(lint.starts_with("docs/commands.md:39: under-validated: `check-talos-health` is validated on no environment"), "{lint}");
    // A second init never replaces the document, unless forced.
    vixens_in(dir.path())
        .args(["commands", "init"])
        .assert()
        .code(2)
        .stderr(predicate::str::ends_with("docs/commands.md already exists: edit it, or pass --force to replace it with the starter\n"));
    vixens_in(dir.path()).args(["commands", "init", "--force"]).assert().success();
}

// ---- run ----

#[test]
fn run_passes_every_read_only_entry_and_skips_mutating_ones_unless_asked() {
    let repo = ops_repo();
    let output = vixens_in(repo.path()).args(["commands", "run", "alpha"]).assert().success().get_output().clone();
    let stdout = stdout_of(&output);
    assert!(stdout.starts_with("running 6 entries of docs/commands.md on alpha\n"), "{stdout}");
    for id in ["say-hello", "count-with-a-pipeline", "match-an-age-and-skip-lines", "refuse-an-unknown-service", "wait-for-health"] {
        assert!(stdout.contains(&format!("s] commands::alpha::{id}")), "{id} did not pass:\n{stdout}");
    }
    assert!(stdout.contains("SKIP             commands::alpha::create-a-marker-file: mutating entry; run it with --mutating\n"), "{stdout}");
    assert!(stdout.contains("\n5 of 5 entries passed on alpha (1 skipped) in "), "{stdout}");
    assert!(!repo.path().join("marker.txt").exists());

    vixens_in(repo.path()).args(["commands", "run", "alpha", "--mutating", "--entry", "create-a-marker-file"]).assert().success();
    assert!(repo.path().join("marker.txt").exists());
}

#[test]
fn mutating_entries_never_run_on_a_protected_environment() {
    let repo = ops_repo();
    vixens_in(repo.path())
        .args(["commands", "run", "gamma", "--mutating"])
        .assert()
        .success()
        .stdout(predicate::str::contains("commands::gamma::create-a-marker-file: mutating entry; the environment is protected"));
    assert!(!repo.path().join("marker.txt").exists());
}

#[test]
fn a_protected_environment_without_a_read_only_identity_runs_nothing() {
    let repo = ops_repo();
    let env_yaml = repo.path().join("environments/gamma/env.yaml");
    let text = std::fs::read_to_string(&env_yaml).unwrap().replace("kubeconfig-readonly: kubeconfig-readonly\n", "");
    std::fs::write(&env_yaml, text).unwrap();
    vixens_in(repo.path()).args(["commands", "run", "gamma", "--entry", "say-hello"]).assert().code(1).stdout(
        predicate::str::contains("`gamma` is protected and its env.yaml (").and(predicate::str::contains(
            "sets no `kubeconfig-readonly`: its checks run only with a read-only identity, a kubeconfig allowed only get, list and watch",
        )),
    );
}

#[test]
fn a_changed_expected_output_fails_with_a_diff_that_points_at_the_document_line() {
    let repo = ops_repo();
    edit_doc(repo.path(), "   [NODE]  Ready  [AGE]\n", "   [NODE]  NotReady  [AGE]\n");
    let text = doc(repo.path());
    let header = line_of(&text, "   NAME  STATUS  [..]");
    let changed = line_of(&text, "   [NODE]  NotReady  [AGE]");
    let command = header - 1;
    let output =
        vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "match-an-age-and-skip-lines"]).assert().code(1).get_output().clone();
    let stdout = stdout_of(&output);
    let expected = format!(
        "\
Output differs from the document (printf 'NAME  STATUS  AGE\\n'; seq 3; echo \"$NODE  Ready  5m\")
at docs/commands.md:{command}, on alpha

--- expected: docs/commands.md:{header}
+++ actual:   output of `printf 'NAME  STATUS  AGE\\n'; seq 3; echo \"$NODE  Ready  5m\"` on alpha
 {header}   1 | NAME  STATUS  [..]
 {dots}   2 | ...
 {changed}     - [NODE]  NotReady  [AGE]
      5 + 10.5.0.2  Ready  5m
",
        dots = header + 1,
    );
    assert!(stdout.contains(&expected), "expected:\n{expected}\ngot:\n{stdout}");
    assert!(stdout.contains("\n1 of 1 entries failed on alpha in "), "{stdout}");
    assert!(stdout.ends_with("re-run: vixens commands run alpha --entry match-an-age-and-skip-lines\n"), "{stdout}");
}

#[test]
fn a_failed_command_reads_expected_success_was_exit_with_its_redacted_output() {
    let repo = ops_repo();
    edit_doc(repo.path(), "$ talosctl hello\n", "$ cat \"$KUBECONFIG\"; talosctl hello && false\n");
    let line = line_of(&doc(repo.path()), "$ cat \"$KUBECONFIG\"; talosctl hello && false");
    let output = vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "say-hello"]).assert().code(1).get_output().clone();
    let stdout = stdout_of(&output);
    let expected = format!(
        "Expected success, was exit 1 (cat \"$KUBECONFIG\"; talosctl hello && false)\nat docs/commands.md:{line}, on alpha\n\noutput (stdout and stderr):\n```\napiVersion: v1\n"
    );
    assert!(stdout.contains(&expected), "{stdout}");
    assert!(stdout.contains("    token: [REDACTED:token]\nhello from alpha\n```\n"), "{stdout}");
    assert!(!stdout.contains("s3cr3t"), "a secret leaked:\n{stdout}");
}

#[test]
fn an_expected_failure_passes_and_an_unexpected_success_fails() {
    let repo = ops_repo();
    vixens_in(repo.path()).args(["commands", "run", "beta", "--entry", "refuse-an-unknown-service"]).assert().success();
    edit_doc(repo.path(), "$ talosctl service nope\n", "$ talosctl service nope || true\n");
    vixens_in(repo.path())
        .args(["commands", "run", "beta", "--entry", "refuse-an-unknown-service"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Expected exit 1, was exit 0 (talosctl service nope || true)"));
}

/// Two entries that each wait for the other's file: they pass only when they run at the same time.
const MEETING_ENTRIES: &str = "
### Meet the second entry

Context: waits up to 3 s for the second entry's file.

```console
$ touch meet-first; for i in $(seq 30); do [ -e meet-second ] && break; sleep 0.1; done; ls meet-*
meet-first
meet-second
```

### Meet the first entry

Context: waits up to 3 s for the first entry's file.

```console
$ touch meet-second; for i in $(seq 30); do [ -e meet-first ] && break; sleep 0.1; done; ls meet-*
meet-first
meet-second
```
";

#[test]
fn read_only_entries_run_at_once_and_are_reported_in_document_order() {
    let repo = ops_repo();
    edit_doc(repo.path(), "## Changes\n", &format!("{MEETING_ENTRIES}\n## Changes\n"));
    let output = vixens_in(repo.path()).args(["commands", "run", "alpha"]).assert().success().get_output().clone();
    let stdout = stdout_of(&output);
    let order: Vec<&str> =
        stdout.lines().filter_map(|l| l.split("commands::alpha::").nth(1)).map(|rest| rest.split([' ', ':']).next().unwrap()).collect();
    assert_eq!(
        order,
        [
            "say-hello",
            "count-with-a-pipeline",
            "match-an-age-and-skip-lines",
            "refuse-an-unknown-service",
            "wait-for-health",
            "wait-for-health",
            "wait-for-health",
            "meet-the-second-entry",
            "meet-the-first-entry",
            "create-a-marker-file"
        ],
        "{stdout}"
    );
    assert!(stdout.contains("\n7 of 7 entries passed on alpha (1 skipped) in "), "{stdout}");
}

#[test]
fn a_mutating_entry_runs_alone_between_the_read_only_ones() {
    let repo = ops_repo();
    // The mutating entry between the two meeting entries: the first waits for the second in vain.
    let (first, second) = MEETING_ENTRIES.split_at(MEETING_ENTRIES.find("### Meet the first entry").unwrap());
    edit_doc(repo.path(), "## Changes\n", &format!("{first}\n## Changes\n"));
    let text = doc(repo.path());
    std::fs::write(repo.path().join("docs/commands.md"), format!("{text}\n{second}")).unwrap();
    let output = vixens_in(repo.path())
        .args([
            "commands",
            "run",
            "alpha",
            "--mutating",
            "--entry",
            "meet-the-second-entry",
            "--entry",
            "create-a-marker-file",
            "--entry",
            "meet-the-first-entry",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = stdout_of(&output);
    assert!(stdout.contains("s] commands::alpha::meet-the-second-entry: output differs from docs/commands.md:"), "{stdout}");
    assert!(stdout.contains("commands::alpha::create-a-marker-file"), "{stdout}");
    assert!(stdout.contains("\n1 of 3 entries failed on alpha in "), "{stdout}");
}

#[test]
fn a_converging_entry_is_retried_until_it_passes() {
    let repo = ops_repo();
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--entry", "wait-for-health"])
        .assert()
        .success()
        .stdout(predicate::str::contains("RETRY [attempt 1] commands::alpha::wait-for-health: expected success, was exit 1 at docs/commands.md:"))
        .stdout(predicate::str::contains("commands::alpha::wait-for-health (after 3 attempts)"));
}

#[test]
fn an_entry_that_never_converges_says_how_long_it_tried() {
    let repo = ops_repo();
    edit_doc(repo.path(), "Converges: within 20s, every 100ms", "Converges: within 1s, every 100ms");
    edit_doc(repo.path(), "waiting for all k8s nodes to report ready: OK\n```", "waiting for all k8s nodes to report ready: DONE\n```");
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--entry", "wait-for-health"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::is_match(
                r"Did not converge within 1s \(\d+ attempts\); the last attempt:\nOutput differs from the document \(talosctl health\)",
            )
            .unwrap(),
        )
        .stdout(predicate::str::contains("- waiting for all k8s nodes to report ready: DONE\n"))
        .stdout(predicate::str::contains("+ waiting for all k8s nodes to report ready: OK\n"));
}

#[test]
fn a_command_over_its_timeout_is_stopped_and_named() {
    let repo = ops_repo();
    edit_doc(
        repo.path(),
        "Context: checks that the stand-in answers; needs nothing.\n",
        "Context: checks that the stand-in answers; needs nothing.\n\nTimeout: 1s\n",
    );
    edit_doc(repo.path(), "$ talosctl hello\n", "$ echo started; sleep 30; talosctl hello\n");
    let started = std::time::Instant::now();
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--entry", "say-hello"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Expected success, timed out after 1s (echo started; sleep 30; talosctl hello)"))
        .stdout(predicate::str::contains("output before it was stopped (stdout and stderr):\n```\nstarted\n```\n"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the pipeline outlived its timeout");
}

#[test]
fn a_value_missing_from_the_environment_is_named_with_the_key_to_add() {
    let repo = ops_repo();
    let env_yaml = repo.path().join("environments/alpha/env.yaml");
    let text = std::fs::read_to_string(&env_yaml).unwrap();
    std::fs::write(&env_yaml, text.replace("  values:\n    GREETING: hello from alpha\n", "")).unwrap();
    let line = line_of(&doc(repo.path()), "[GREETING]");
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--entry", "say-hello"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "Cannot run on alpha: the placeholder `[GREETING]` (line {line}) has no value in this environment: add `commands.values.GREETING` to its env.yaml"
        )));
}

#[test]
fn an_unknown_entry_or_environment_is_refused_before_anything_runs() {
    let repo = ops_repo();
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--entry", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: no entry `nope` in docs/commands.md; its entries are: say-hello, count-with-a-pipeline,"));
    vixens_in(repo.path()).args(["commands", "run", "delta"]).assert().code(2).stderr(
        predicate::str::is_match(r"^error: no environment named `delta` in .*/environments; known environments: alpha, beta, gamma\n$").unwrap(),
    );
}

#[test]
fn a_lab_that_is_not_up_is_refused_before_anything_runs_naming_vixens_up() {
    let repo = ops_repo();
    let env_yaml = repo.path().join("environments/alpha/env.yaml");
    let text = std::fs::read_to_string(&env_yaml).unwrap();
    std::fs::write(&env_yaml, text + "provisioning:\n  env: {}\n").unwrap();
    let kubeconfig = repo.path().join("environments/alpha/kubeconfig");
    vixens_in(repo.path()).args(["commands", "run", "alpha"]).assert().code(2).stderr(format!(
        "error: alpha's Kubernetes API does not answer with {}: bring it up with `vixens up alpha` (the suites do it themselves)\n",
        kubeconfig.display()
    ));
}

// ---- record ----

#[test]
fn recording_rewrites_only_the_validated_on_lines_of_entries_that_passed() {
    let repo = ops_repo();
    // One entry changes its command (it will pass with a new digest), one now expects
    // output it does not print (it will fail).
    edit_doc(repo.path(), "$ talosctl hello\n", "$ talosctl hello # greet\n");
    edit_doc(repo.path(), "node=[NODE] nodes=[NODE_COUNT]\n", "node=[NODE] nodes=99\n");
    let before = doc(repo.path());
    vixens_in(repo.path())
        .args(["commands", "run", "alpha", "--record"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("recorded 4 entries as validated on alpha in docs/commands.md\n"));
    let after = doc(repo.path());
    assert_eq!(before.lines().count(), after.lines().count());
    let changed: Vec<(&str, &str)> = before.lines().zip(after.lines()).filter(|(b, a)| b != a).collect();
    assert!(!changed.is_empty());
    for (old, new) in &changed {
        assert!(
            old.trim_start().starts_with("- `alpha` on ") && new.trim_start().starts_with("- `alpha` on "),
            "changed a line that is not alpha's record:\n{old}\n{new}"
        );
    }
    // The failing entry keeps its old record; the edited one is recorded with its new digest.
    let count_record =
        |text: &str| text.split("### Count with a pipeline").nth(1).unwrap().lines().find(|l| l.starts_with("- `alpha`")).unwrap().to_owned();
    assert_eq!(count_record(&before), count_record(&after));

    // A changed command invalidates its old records: only alpha has the new digest.
    let lint = vixens_in(repo.path()).args(["commands", "lint"]).assert().code(1).get_output().clone();
    let lint = stdout_of(&lint);
    assert!(lint.contains("under-validated: `say-hello` is validated on 1 environment with its current digest"), "{lint}");
    assert!(lint.contains("(alpha); the records of beta, gamma are for an earlier version of the block"), "{lint}");

    // Passing on a second environment makes it whole again.
    vixens_in(repo.path()).args(["commands", "run", "beta", "--record", "--entry", "say-hello"]).assert().success();
    let lint = vixens_in(repo.path()).args(["commands", "lint"]).assert().code(1).get_output().clone();
    let lint = stdout_of(&lint);
    assert!(!lint.contains("`say-hello`"), "{lint}");
    assert!(lint.contains("`count-with-a-pipeline` is validated on no environment"), "{lint}");
}

#[test]
fn in_ci_the_document_is_never_rewritten_and_the_records_go_beside_it() {
    let repo = ops_repo();
    edit_doc(repo.path(), "$ talosctl hello\n", "$ talosctl hello # greet\n");
    let before = doc(repo.path());
    vixens_in(repo.path()).env("CI", "true").args(["commands", "run", "alpha", "--record", "--entry", "say-hello"]).assert().success().stdout(
        predicate::str::contains(
            "CI=true: docs/commands.md is never rewritten in CI; wrote the 1 records for alpha to docs/commands.md.new for review",
        ),
    );
    assert_eq!(doc(repo.path()), before);
    let new = std::fs::read_to_string(repo.path().join("docs/commands.md.new")).unwrap();
    assert_ne!(new, before);
    assert!(new.contains("$ talosctl hello # greet\n"));
}

#[test]
fn each_entry_gets_an_empty_scratch_folder_shared_by_its_commands_and_removed_after() {
    let repo = ops_repo();
    edit_doc(
        repo.path(),
        "$ talosctl hello\n[GREETING]\n",
        "$ ls -A \"$SCRATCH\" | wc -l; touch \"$SCRATCH/x\"; echo \"$SCRATCH\" > scratch-path\n0\n$ ls \"$SCRATCH\"/*\n[SCRATCH]/x\n",
    );
    edit_doc(repo.path(), "## Everyday\n", "- `[SCRATCH]` per environment: the entry's own folder.\n\n## Everyday\n");
    vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "say-hello"]).assert().success();
    let scratch = std::fs::read_to_string(repo.path().join("scratch-path")).unwrap();
    assert!(!Path::new(scratch.trim()).exists(), "{scratch} outlived the entry");
}

/// A repository whose Justfile runs `talosctl upgrade`, committed two days ago, and whose
/// `scripts/plan.sh` runs `terraform plan -target`, committed two hours ago; its document
/// documents `kubectl get nodes`.
fn discovery_repo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let git = |args: &[&str], seconds_ago: Option<i64>| {
        let mut git = std::process::Command::new("git");
        git.arg("-C").arg(repo).args(["-c", "user.name=Ops", "-c", "user.email=ops@example.invalid"]).args(args);
        git.env("GIT_CONFIG_GLOBAL", "/dev/null").env("GIT_CONFIG_NOSYSTEM", "1");
        if let Some(ago) = seconds_ago {
            let date = format!("@{} +0000", jiff::Timestamp::now().as_second() - ago);
            git.env("GIT_AUTHOR_DATE", &date).env("GIT_COMMITTER_DATE", &date);
        }
        let out = git.output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::create_dir_all(repo.join("docs")).unwrap();
    std::fs::create_dir_all(repo.join("scripts")).unwrap();
    std::fs::write(repo.join("docs/commands.md"), "# Ops\n\n### Nodes\n\nContext: any time.\n\n```console\n$ kubectl get nodes\nnode-1\n```\n")
        .unwrap();
    std::fs::write(repo.join("Justfile"), "upgrade NODE:\n    kubectl get nodes\n    talosctl -n {{NODE}} upgrade --preserve\n").unwrap();
    git(&["init", "-q"], None);
    git(&["add", "-A"], None);
    git(&["commit", "-q", "-m", "upgrade recipe"], Some(2 * 86_400));
    let commit = git(&["rev-parse", "HEAD"], None).trim().to_owned();
    std::fs::write(repo.join("scripts/plan.sh"), "#!/bin/sh\nterraform plan -target=module.talos\n").unwrap();
    git(&["add", "-A"], None);
    git(&["commit", "-q", "-m", "plan script"], Some(2 * 3600));
    (dir, commit)
}

#[test]
fn discover_fails_on_an_operation_undocumented_past_the_grace_period_naming_its_line_and_commit() {
    let (repo, commit) = discovery_repo();
    let output = vixens_in(repo.path()).args(["commands", "discover"]).assert().code(1).get_output().clone();
    let stdout = stdout_of(&output);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "Justfile:3: undocumented-command: `talosctl upgrade --nodes --preserve` is in no entry of docs/commands.md, since commit {} (",
            &commit[..12]
        )),
        "{stdout}"
    );
    assert!(
        lines[0].ends_with("2d 0h ago: past the 24h grace; add an entry whose example runs it, or ignore it in .config/commands.yaml with a reason"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("scripts/plan.sh:2: undocumented-command: warning: `terraform plan -target` is in no entry of docs/commands.md yet"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 operation patterns undocumented (1 past the 24h grace), 1 documented, 0 ignored, in 2 files"), "{stderr}");
}

#[test]
fn discover_passes_within_a_longer_grace_period_and_says_so_in_json() {
    let (repo, _) = discovery_repo();
    vixens_in(repo.path())
        .args(["commands", "discover", "--grace", "3days"])
        .assert()
        .success()
        .stdout(predicate::str::contains(": warning: `talosctl upgrade"));
    let output = vixens_in(repo.path()).args(["commands", "discover", "--format", "json"]).assert().code(1).get_output().clone();
    let json: serde_json::Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    assert_eq!((json["version"].as_u64(), json["passed"].as_bool()), (Some(1), Some(false)));
    assert_eq!(json["patterns"][0]["uses"][0]["file"], "Justfile");
    assert_eq!(json["patterns"][2]["status"], "documented");
}

#[test]
fn discover_ignores_a_pattern_with_its_reason_and_cannot_run_on_a_bad_configuration() {
    let (repo, _) = discovery_repo();
    std::fs::create_dir_all(repo.path().join(".config")).unwrap();
    let config = repo.path().join(".config/commands.yaml");
    std::fs::write(&config, "ignore:\n  - pattern: talosctl upgrade --nodes --preserve\n    reason: done by the upgrade controller\n").unwrap();
    vixens_in(repo.path()).args(["commands", "discover"]).assert().success().stderr(predicate::str::contains("1 documented, 1 ignored"));
    std::fs::write(&config, "ignore:\n  - pattern: talosctl upgrade --nodes --preserve\n").unwrap();
    vixens_in(repo.path())
        .args(["commands", "discover"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: .config/commands.yaml:2:14: `ignore`: `talosctl upgrade --nodes --preserve` has no reason"));
    vixens_in(repo.path()).args(["commands", "discover", "--grace", "soon"]).assert().code(2).stderr(predicate::str::contains("--grace"));
}

// ---- secrets ----

/// A password shaped like Argo CD's initial one, split in the document so that the command
/// prints it without the document holding it.
const PRINTED: (&str, &str) = ("gs8w85Tiij", "3Mp3KM");

#[test]
fn a_secret_a_command_prints_is_matched_and_shown_as_the_redactor_s_placeholder_and_never_recorded() {
    let repo = ops_repo();
    let secret = format!("{}{}", PRINTED.0, PRINTED.1);
    edit_doc(
        repo.path(),
        "$ talosctl hello\n[GREETING]\n",
        &format!("$ printf '%s%s\\n' {} {}\n[REDACTED:bare-secret-output]\n", PRINTED.0, PRINTED.1),
    );
    let output =
        vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "say-hello", "--record"]).assert().success().get_output().clone();
    let stdout = stdout_of(&output);
    let line = line_of(&doc(repo.path()), &format!("$ printf '%s%s\\n' {} {}", PRINTED.0, PRINTED.1));
    assert!(
        stdout.contains(&format!(
            "     note: the output of `printf '%s%s\\n' {} {}` (docs/commands.md:{line}) held 1 secret the environment's redactor does not know (bare-secret-output): it was matched and shown as [REDACTED:bare-secret-output], and is recorded nowhere\n",
            PRINTED.0, PRINTED.1
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 secret the entries printed was replaced by the redactor's placeholder before matching: no secret is recorded\n"),
        "{stdout}"
    );
    assert!(stdout.contains("recorded 1 entries as validated on alpha in docs/commands.md\n"), "{stdout}");
    assert!(!stdout.contains(&secret) && !doc(repo.path()).contains(&secret));
}

#[test]
fn an_expected_output_holding_a_secret_never_passes_and_the_diff_shows_no_secret() {
    let repo = ops_repo();
    let secret = format!("{}{}", PRINTED.0, PRINTED.1);
    edit_doc(repo.path(), "$ talosctl hello\n[GREETING]\n", &format!("$ printf '%s%s\\n' {} {}\n{secret}\n", PRINTED.0, PRINTED.1));
    let before = doc(repo.path());
    let output = vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "say-hello", "--record"]).assert().code(1).get_output().clone();
    let stdout = stdout_of(&output);
    let line = line_of(&before, &secret);
    assert!(
        stdout.contains(&format!("note: docs/commands.md:{line} holds a secret (bare-secret-output), shown redacted: output is matched once its secrets are replaced by the redactor's placeholder, so write `[REDACTED:bare-secret-output]` in its place\n")),
        "{stdout}"
    );
    assert!(!stdout.contains(&secret) && !String::from_utf8_lossy(&output.stderr).contains(&secret), "{stdout}");
    assert_eq!(doc(repo.path()), before, "nothing recorded");
}

#[test]
fn an_entry_whose_command_holds_a_secret_passes_but_is_not_recorded() {
    let repo = ops_repo();
    let secret = format!("{}{}", PRINTED.0, PRINTED.1);
    edit_doc(repo.path(), "$ talosctl hello\n[GREETING]\n", &format!("$ true --password {secret}\n? 0\n"));
    let before = doc(repo.path());
    let line = line_of(&before, &format!("$ true --password {secret}"));
    let output =
        vixens_in(repo.path()).args(["commands", "run", "alpha", "--entry", "say-hello", "--record"]).assert().success().get_output().clone();
    let stdout = stdout_of(&output);
    assert!(
        stdout
            .contains(&format!("not recorded: `say-hello` holds a secret at docs/commands.md:{line}, secret-cli-flag (gs8w… 16 chars, fingerprint ")),
        "{stdout}"
    );
    assert!(stdout.contains("nothing to record: no entry passed without a secret in its block\n"), "{stdout}");
    assert!(!stdout.contains(&secret), "{stdout}");
    assert_eq!(doc(repo.path()), before);
    // The lint names it too, and .config/secrets.yaml can accept it.
    let lint = vixens_in(repo.path()).args(["commands", "lint"]).assert().code(1).get_output().clone();
    assert!(
        stdout_of(&lint).contains(&format!("docs/commands.md:{line}: secrets: secret-cli-flag (gs8w… 16 chars, fingerprint ")),
        "{}",
        stdout_of(&lint)
    );
    assert!(!stdout_of(&lint).contains(&secret));
}
