//! `vixens promote`: the gate's verdict and exit code on synthetic ledgers, as a release
//! manager sees them.

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;
use vixens_testkit::fixture;

/// The revision every fixture ledger (`tests/fixtures/ledgers/`) records, and its short form.
pub const A: &str = "4f9c2e1b7a3d5f6e8c0b1a2d3e4f5a6b7c8d9e0f";
pub const A_SHORT: &str = "4f9c2e1b7a3d";
/// A secret the fixture kubeconfig holds, which `hostile.jsonl` leaks into a message.
pub const SECRET: &str = "s3cr3t-t0ken-value-123";

/// An environment folder in a temporary directory: `env.yaml`, a kubeconfig holding [`SECRET`],
/// the ledger copied from a fixture, and an infrastructure repository folder.
pub struct Lab {
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn with_ledger(ledger: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let env_yaml = "\
name: lab
kind: disposable
infra-repo: infra
terraform:
  root: infra/terraform
kubeconfig: kubeconfig
talosconfig: talosconfig
nodes:
  - name: cp-1
    address: 10.5.0.2
    role: controlplane
argocd:
  system-apps:
    names: [traefik]
budgets:
  recreate: 30m
evidence:
  ledger: evidence/lab.jsonl
  artifacts: evidence/artifacts
";
        std::fs::write(dir.path().join("env.yaml"), env_yaml).unwrap();
        std::fs::write(dir.path().join("kubeconfig"), format!("users:\n- name: admin\n  user:\n    token: {SECRET}\n")).unwrap();
        std::fs::create_dir_all(dir.path().join("infra")).unwrap();
        std::fs::create_dir_all(dir.path().join("evidence")).unwrap();
        std::fs::copy(fixture(&format!("ledgers/{ledger}")), dir.path().join("evidence/lab.jsonl")).unwrap();
        Self { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `vixens <subcommand> <env.yaml> --junit <fixture>` with extra arguments.
    pub fn vixens(&self, subcommand: &str, junit: &str, extra: &[&str]) -> Command {
        let mut cmd = vixens_testkit::vixens();
        cmd.current_dir(self.dir.path())
            .arg(subcommand)
            .arg(self.path("env.yaml"))
            .arg("--junit")
            .arg(fixture(&format!("junit/{junit}")))
            .args(extra);
        cmd
    }

    fn promote(&self, junit: &str, extra: &[&str]) -> Command {
        self.vixens("promote", junit, extra)
    }

    /// Turns the infrastructure folder into a git checkout whose HEAD every recorded cycle ran
    /// on, and returns that commit.
    pub fn commit_infra_repo(&self) -> String {
        let infra = self.path("infra");
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git").arg("-C").arg(&infra).args(args).output().unwrap();
            assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "infra"]);
        let head = git(&["rev-parse", "HEAD"]);
        let ledger = self.path("evidence/lab.jsonl");
        let text = std::fs::read_to_string(&ledger).unwrap().replace(A, &head);
        std::fs::write(&ledger, text).unwrap();
        head
    }
}

#[test]
fn a_fault_in_one_cycle_is_refused_naming_the_cycle_phase_and_culprit() {
    let lab = Lab::with_ledger("fault-in-cycle-3.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(format!("promotion of lab at revision {A_SHORT} (not checked: no git checkout): REFUSED\n")))
        .stdout(predicate::str::contains(
            "  ✗ cycles: 4/5 consecutive cycles; cycle 3 failed in phase argocd: traefik Degraded: Deployment traefik has 0/2 ready replicas\n      artifacts: /srv/vixens/target/vixens/lab/artifacts/20261126T120000Z-3\n",
        ));
}

#[test]
fn fewer_cycles_than_required_are_refused() {
    let lab = Lab::with_ledger("three-cycles.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("  ✗ cycles: fewer than 5 cycles on revision {A_SHORT} (3)\n")));
}

#[test]
fn cycles_on_another_revision_are_refused() {
    let lab = Lab::with_ledger("other-revision.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("  ✗ cycles: cycles ran on revision 9e8d7c6b5a4f, promoting {A_SHORT}\n")));
}

#[test]
fn the_cycles_flag_overrides_cycles_required() {
    let lab = Lab::with_ledger("three-cycles.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A, "--cycles", "3"])
        .assert()
        .stdout(predicate::str::contains(format!("  ✓ cycles: 3/3 consecutive cycles on revision {A_SHORT}")));
}

#[test]
fn without_a_revision_the_infra_repo_head_is_promoted() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let head = lab.commit_infra_repo();
    lab.promote("stress-five-passed.xml", &[])
        .assert()
        .stdout(predicate::str::contains(format!("promotion of lab at revision {} (infra repo HEAD)", &head[..12])))
        .stdout(predicate::str::contains(format!("  ✓ cycles: 5/5 consecutive cycles on revision {}, each within the 30m budget", &head[..12])))
        .stdout(predicate::str::contains("  ✓ junit: 5/5 fresh_cluster_validation::recreate_cycle runs passed"));
}

#[test]
fn a_commit_made_after_the_cycles_is_refused() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let cycled = lab.commit_infra_repo();
    let infra = lab.path("infra");
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(&infra)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "later"])
        .output()
        .unwrap();
    assert!(out.status.success());
    lab.promote("stress-five-passed.xml", &[])
        .assert()
        .code(1)
        .stdout(predicate::str::is_match(format!("  ✗ cycles: cycles ran on revision {}, promoting [0-9a-f]{{12}}\n", &cycled[..12])).unwrap());
}

/// Runs git in `repo` and returns its stdout.
fn git(repo: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").arg("-C").arg(repo).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn commit(repo: &std::path::Path, message: &str) -> String {
    git(repo, &["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", message]);
    git(repo, &["rev-parse", "HEAD"])
}

#[test]
fn a_terraform_only_commit_after_the_cycles_refuses_promotion_naming_it() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    // As on the homelab, the Terraform root lives in a repository of its own; env.yaml names
    // only the root, and the Terraform repository is the one holding it.
    let env_yaml = std::fs::read_to_string(lab.path("env.yaml")).unwrap();
    std::fs::write(lab.path("env.yaml"), env_yaml.replace("  root: infra/terraform\n", "  root: terraform-repo/terraform/environments/lab\n"))
        .unwrap();
    let tf_repo = lab.path("terraform-repo");
    std::fs::create_dir_all(tf_repo.join("terraform/environments/lab")).unwrap();
    git(&tf_repo, &["init", "-q", "-b", "main"]);
    let cycled = commit(&tf_repo, "terraform as the cycles ran it");
    let infra = lab.commit_infra_repo();
    let ledger = lab.path("evidence/lab.jsonl");
    let text = std::fs::read_to_string(&ledger)
        .unwrap()
        .replace(&format!("\"terraform_revision\":\"{infra}\""), &format!("\"terraform_revision\":\"{cycled}\""));
    std::fs::write(&ledger, text).unwrap();
    lab.promote("stress-five-passed.xml", &[]).assert().stdout(predicate::str::contains(format!(
        "  ✓ cycles: 5/5 consecutive cycles on revision {} and Terraform revision {}, each within the 30m budget",
        &infra[..12],
        &cycled[..12]
    )));

    let moved = commit(&tf_repo, "a Terraform-only change");
    lab.promote("stress-five-passed.xml", &[])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(format!(
            "promotion of lab at revision {} (infra repo HEAD) and Terraform revision {} (Terraform repo HEAD): REFUSED\n",
            &infra[..12],
            &moved[..12]
        )))
        .stdout(predicate::str::contains(format!(
            "  ✗ cycles: the Terraform repository moved from {} to {} since cycle 5\n",
            &cycled[..12],
            &moved[..12]
        )));
    // Naming the revision the cycles ran on promotes that one.
    lab.promote("stress-five-passed.xml", &["--terraform-revision", &cycled[..8]]).assert().stdout(predicate::str::contains(format!(
        "  ✓ cycles: 5/5 consecutive cycles on revision {} and Terraform revision {}",
        &infra[..12],
        &cycled[..12]
    )));
}

#[test]
fn cycles_recorded_before_the_ledger_named_the_terraform_revision_do_not_count() {
    let lab = Lab::with_ledger("before-terraform-revision.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A]).assert().code(1).stdout(predicate::str::contains(format!(
        "  ✗ cycles: cycles 1–5 recorded no Terraform revision (written before the ledger named it), so they do not vouch for Terraform revision {A_SHORT}\n"
    )));
}

#[test]
fn a_failed_stress_run_in_the_junit_is_refused() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    lab.promote("stress-third-failed.xml", &["--revision", A]).assert().code(1).stdout(predicate::str::contains(
        "fresh_cluster_validation::recreate_cycle failed in lab::suites (stress run 3): cycle failed in phase argocd: traefik Degraded <script>",
    ));
}

#[test]
fn a_missing_junit_report_is_refused_with_the_command_that_writes_it() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let mut cmd = vixens_testkit::vixens();
    cmd.current_dir(lab.dir.path()).env_remove("CARGO_TARGET_DIR").arg("promote").arg(lab.path("env.yaml")).args(["--revision", A]);
    cmd.assert().code(1).stdout(predicate::str::contains(format!(
        "  ✗ junit: no JUnit report at {}: run `cargo nextest run -p lab --profile promotion --stress-count 5 -E 'test(recreate_cycle)'`",
        lab.path("target/nextest/promotion/junit.xml").display()
    )));
}

#[test]
fn secrets_in_the_ledger_are_redacted_from_the_verdict() {
    let lab = Lab::with_ledger("hostile.jsonl");
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("token=[REDACTED:token]"))
        .stdout(predicate::str::contains(SECRET).not());
}

#[test]
fn a_secret_in_the_infra_repo_s_docs_refuses_promotion_on_its_own_line_without_showing_it() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let secret = "gs8w85Tiij3Mp3KM";
    std::fs::create_dir_all(lab.path("infra/docs/runbooks")).unwrap();
    std::fs::write(lab.path("infra/docs/runbooks/argocd.md"), format!("# Argo CD\n\nLe mot de passe administrateur d'Argo CD est : {secret}\n"))
        .unwrap();
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("  ✗ secrets in docs: docs/runbooks/argocd.md:3: secrets: secret-assignment (gs8w… 16 chars, fingerprint "))
        .stdout(predicate::str::contains(secret).not());
    std::fs::write(lab.path("infra/docs/runbooks/argocd.md"), "# Argo CD\n\nLe mot de passe est dans Infisical.\n").unwrap();
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .stdout(predicate::str::contains("  ✓ secrets in docs: 0 secrets in 1 file under docs\n"));
}

#[test]
fn a_malformed_ledger_is_an_error_naming_its_line() {
    let lab = Lab::with_ledger("three-cycles.jsonl");
    let ledger = lab.path("evidence/lab.jsonl");
    let mut text = std::fs::read_to_string(&ledger).unwrap();
    text.push_str("{\"schema\": 1, \"cycle_id\": \n");
    std::fs::write(&ledger, text).unwrap();
    lab.promote("stress-five-passed.xml", &["--revision", A])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(format!("vixens promote: {}:4: not a cycle record: ", ledger.display())));
}

#[test]
fn a_malformed_junit_report_is_an_error() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    std::fs::write(lab.path("junit.xml"), "<testsuites><testsuite name=\"lab::suites\">").unwrap();
    let mut cmd = vixens_testkit::vixens();
    cmd.arg("promote").arg(lab.path("env.yaml")).args(["--revision", A, "--junit"]).arg(lab.path("junit.xml"));
    cmd.assert().code(2).stderr(predicate::str::contains("junit.xml: not well-formed XML"));
}

#[test]
fn an_unknown_environment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    vixens_testkit::vixens()
        .current_dir(dir.path())
        .args(["promote", "staging"])
        .assert()
        .code(2)
        // Rendered as every subcommand renders an environment it cannot find: the problem, then
        // what to do.
        .stderr(predicate::str::contains("no `environments/` folder in "))
        .stderr(predicate::str::contains("cannot be looked up"))
        .stderr(predicate::str::contains("help: run it inside the harness's workspace, or pass the path of an env.yaml"));
}

#[test]
fn an_environment_is_found_by_name_under_environments() {
    let lab = Lab::with_ledger("five-clean.jsonl");
    let envs = lab.path("repo/environments/lab");
    std::fs::create_dir_all(&envs).unwrap();
    let yaml = std::fs::read_to_string(lab.path("env.yaml"))
        .unwrap()
        .replace(": infra", ": ../../../infra")
        .replace(": kubeconfig", ": ../../../kubeconfig")
        .replace(": evidence/", ": ../../../evidence/");
    std::fs::write(envs.join("env.yaml"), yaml).unwrap();
    let nested = lab.path("repo/crates/");
    std::fs::create_dir_all(&nested).unwrap();
    vixens_testkit::vixens()
        .current_dir(&nested)
        .args(["promote", "lab", "--revision", A])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!("  ✓ cycles: 5/5 consecutive cycles on revision {A_SHORT}")))
        .stdout(predicate::str::contains(format!("no JUnit report at {}", lab.path("repo/target/nextest/promotion/junit.xml").display())));
}

#[test]
fn help_documents_the_exit_codes() {
    vixens_testkit::vixens()
        .args(["promote", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status:\n  0  promotion passes: every check passed\n  1  promotion refused"))
        .stdout(predicate::str::contains("--revision <REV>"))
        .stdout(predicate::str::contains("--cycles <N>"))
        .stdout(predicate::str::contains("--junit <FILE>"));
}
