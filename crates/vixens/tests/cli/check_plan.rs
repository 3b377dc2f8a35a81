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
    assert_eq!(stderr, "no-such-plan.json: cannot check: cannot read it: No such file or directory (os error 2)\n");
    assert!(stdout.starts_with("lab-destroy.json: allowed for lab") && stdout.contains("lab-protected-delete.json: refused for lab"), "{stdout}");
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
