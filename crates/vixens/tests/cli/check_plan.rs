//! `vixens check-plan --env ENV PLAN.json`: the destroy guard on the hand-written plan fixtures
//! of `tests/fixtures/plans/` (shaped like `terraform show -json` of Terraform 1.11): protected
//! types deleted, replaced in both orders and untouched; resources in nested modules with count
//! and for_each keys; the lab's `protected-delete` plan; an unknown format version; cut-short JSON.

use std::path::{Path, PathBuf};

use rstest::rstest;

fn plans() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/<crate> is two folders below the workspace").join("tests/fixtures/plans")
}

/// Runs `vixens check-plan --env ENV PLANS...` in the fixtures folder, so that file names are
/// short; returns (exit code, stdout, stderr).
fn check_plan(env: &str, files: &[&str]) -> (i32, String, String) {
    let out = vixens_testkit::vixens_command().current_dir(plans()).args(["check-plan", "--env", env]).args(files).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[rstest]
#[case::protected_type_deleted(
    "dev",
    "protected-type-deleted.json",
    1,
    "protected-type-deleted.json: refused for dev: the plan would destroy 2 protected resources:
  - module.storage.synology_iscsi_lun.volume[\"vaultwarden-data\"] (delete; protected resource type `synology_*`)
  - minio_s3_bucket.state (delete; protected resource type `minio_s3_bucket`)
"
)]
#[case::protected_type_replaced_delete_then_create(
    "dev",
    "protected-type-replaced.json",
    1,
    "protected-type-replaced.json: refused for dev: the plan would destroy 1 protected resource:
  - module.storage.synology_iscsi_lun.volume[\"gitea-data\"] (delete, then create; protected resource type `synology_*`)
"
)]
#[case::protected_type_replaced_create_then_delete(
    "dev",
    "protected-type-replaced-create-before-destroy.json",
    1,
    "protected-type-replaced-create-before-destroy.json: refused for dev: the plan would destroy 1 protected resource:
  - minio_s3_bucket.state (create, then delete; protected resource type `minio_s3_bucket`)
"
)]
#[case::protected_types_untouched_or_updated_in_place(
    "dev",
    "protected-untouched.json",
    0,
    "protected-untouched.json: allowed for dev: 3 resources destroyed or replaced, none protected\n"
)]
#[case::nested_modules_with_count_and_for_each(
    "dev",
    "modules-count-for-each.json",
    1,
    "modules-count-for-each.json: refused for dev: the plan would destroy 2 protected resources:
  - module.apps.kubernetes_persistent_volume_v1.data[\"vaultwarden\"] (delete; protected resource type `kubernetes_persistent_volume_v1`)
  - module.nas.terraform_data.export[\"terraform_state\"] (delete; protected address `*terraform_state*`)
"
)]
#[case::nested_modules_with_nothing_protected(
    "dev",
    "modules-count-for-each-allowed.json",
    0,
    "modules-count-for-each-allowed.json: allowed for dev: 3 resources destroyed or replaced, none protected\n"
)]
#[case::the_labs_protected_delete_fault(
    "lab",
    "lab-protected-delete.json",
    1,
    "lab-protected-delete.json: refused for lab: the plan would destroy 1 protected resource:
  - terraform_data.nas_iscsi_lun[0] (delete; protected address `terraform_data.nas_iscsi_lun*`)
"
)]
#[case::the_labs_ordinary_destroy(
    "lab",
    "lab-destroy.json",
    0,
    "lab-destroy.json: allowed for lab: 1 resource destroyed or replaced, none protected\n"
)]
#[case::protections_are_the_environments_own(
    "dev",
    "lab-protected-delete.json",
    0,
    "lab-protected-delete.json: allowed for dev: 2 resources destroyed or replaced, none protected\n"
)]
fn check_plan_gives_the_right_verdict(#[case] env: &str, #[case] file: &str, #[case] code: i32, #[case] expected: &str) {
    let (actual_code, stdout, stderr) = check_plan(env, &[file]);
    assert_eq!((actual_code, stdout.as_str()), (code, expected), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn an_unknown_plan_format_version_is_refused_naming_the_file() {
    let (code, stdout, stderr) = check_plan("dev", &["unknown-format-version.json"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(stderr, "unknown-format-version.json: cannot check: plan format version \"2.0\" is not supported: this harness reads 1.x\n");
}

#[test]
fn malformed_json_is_refused_naming_the_file_and_line() {
    let (code, stdout, stderr) = check_plan("dev", &["malformed.json"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(stderr, "malformed.json: cannot check: not a terraform plan JSON document: EOF while parsing a list at line 17 column 0\n");
}

#[test]
fn a_missing_file_is_named_and_the_other_plans_are_still_checked() {
    let (code, stdout, stderr) = check_plan("lab", &["no-such-plan.json", "lab-destroy.json", "lab-protected-delete.json"]);
    assert_eq!(code, 2, "cannot check one plan: the worst outcome wins");
    assert_eq!(stderr, "no-such-plan.json: cannot check: cannot read no-such-plan.json: No such file or directory (os error 2)\n");
    assert!(stdout.starts_with("lab-destroy.json: allowed for lab") && stdout.contains("lab-protected-delete.json: refused for lab"), "{stdout}");
}

/// Runs `vixens check-plan --env lab FILE` on `text` written in a temporary folder.
fn check_written(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plan.json"), text).unwrap();
    let out = vixens_testkit::vixens_command()
        .current_dir(dir.path())
        .args(["check-plan", "--env"])
        .arg(vixens_testkit::lab_env())
        .arg("plan.json")
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn a_state_printed_by_terraform_show_without_a_plan_cannot_be_checked() {
    // `terraform show -json` of the lab's state (Terraform 1.11), trimmed: it has `values`, no
    // `planned_values`. It used to pass as "nothing is destroyed".
    let state = r#"{"format_version":"1.0","terraform_version":"1.11.4","values":{"root_module":{"resources":[{"address":"terraform_data.lab","mode":"managed","type":"terraform_data","name":"lab"}]}}}"#;
    let (code, stdout, stderr) = check_written(state);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert_eq!(
        stderr,
        "plan.json: cannot check: not a plan: no `planned_values`, which every plan has (this is a state: `terraform show -json` was given no plan file); \
         save a plan with `terraform plan -out=PLANFILE`, then `terraform show -json PLANFILE`\n"
    );
}

#[test]
fn a_bare_format_version_is_not_a_plan() {
    let (code, stdout, stderr) = check_written(r#"{"format_version":"1.0"}"#);
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.starts_with("plan.json: cannot check: not a plan: no `planned_values`, which every plan has;"), "{stderr}");
}

#[test]
fn a_numeric_format_version_is_read_like_the_string_terraform_writes() {
    let (code, stdout, stderr) = check_written(r#"{"format_version":1.2,"planned_values":{"root_module":{}}}"#);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "plan.json: allowed for lab: nothing is destroyed\n", ""));
}

#[test]
fn a_fifo_is_refused_at_once_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plan.json");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = vixens_testkit::vixens_command()
        .current_dir(dir.path())
        .args(["check-plan", "--env"])
        .arg(vixens_testkit::lab_env())
        .arg("plan.json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("vixens check-plan still waits on the FIFO after 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "plan.json: cannot check: plan.json is a named pipe (FIFO), not a regular file: nothing is read from it\n"
    );
}

#[test]
fn a_plan_over_256_mib_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 2 GiB on paper and nothing on disk. Read whole, it took 2.1 GB of memory.
    std::fs::File::create(dir.path().join("plan.json")).unwrap().set_len(2 * 1024 * 1024 * 1024).unwrap();
    let started = std::time::Instant::now();
    let out = vixens_testkit::vixens_command()
        .current_dir(dir.path())
        .args(["check-plan", "--env"])
        .arg(vixens_testkit::lab_env())
        .arg("plan.json")
        .output()
        .unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "the plan was read");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "plan.json: cannot check: plan.json is 2.0 GiB, over the 256.0 MiB this harness reads of it: nothing is read from it\n"
    );
}

#[test]
fn a_refused_plan_among_allowed_ones_exits_1() {
    let (code, stdout, _) = check_plan("lab", &["lab-destroy.json", "lab-protected-delete.json", "protected-untouched.json"]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.contains(": allowed for lab")).count(), 2, "{stdout}");
}

#[test]
fn the_protections_of_an_environment_with_unset_variables_still_apply() {
    // dev's env.yaml needs VIXENS_* variables for its nodes and paths, not for its protections.
    let out = vixens_testkit::vixens_command()
        .current_dir(plans())
        .args(["check-plan", "--env", "dev", "protected-type-deleted.json"])
        .env_remove("VIXENS_REPO")
        .env_remove("VIXENS_SECRETS")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_environment_that_does_not_exist_cannot_check() {
    let (code, _, stderr) = check_plan("staging", &["lab-destroy.json"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("staging"), "{stderr}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = vixens_testkit::vixens_command().args(["check-plan", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for line in ["0  every plan is allowed", "1  at least one plan is refused", "2  cannot check"] {
        assert!(help.contains(line), "{help}");
    }
}
