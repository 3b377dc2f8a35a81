//! `vixens up`: an on-demand environment brought up with its own terraform root, as the suites
//! do before their first test; a real cluster is refused.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use vixens_testkit::workspace;

/// `vixens ARGS` on a private lab in `work`.
fn vixens(work: &Path, args: &[&str]) -> Command {
    let lab_bin = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens_lab;
    let mut cmd = vixens_testkit::vixens();
    cmd.current_dir(workspace()).env("VIXENS_WORK_DIR", work).env("VIXENS_LAB_BIN", lab_bin).args(args);
    cmd
}

#[test]
fn up_brings_a_lab_up_once_says_what_to_export_and_destroy_takes_it_down() {
    // Deleting the folder also stops a lab a failed assertion left running.
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("lab/state");
    vixens(work.path(), &["up", "lab"]).assert().success().stdout(predicate::str::contains(format!(
        "lab is up\n  export KUBECONFIG={0}/kubeconfig\n  export TALOSCONFIG={0}/talosconfig\n  export PATH={0}/bin:$PATH\ntear it down with: vixens destroy lab --confirm lab\n",
        state.display()
    )));
    vixens(work.path(), &["up", "lab"]).assert().success().stdout(predicate::str::contains("lab is already up: its Kubernetes API answers\n"));
    vixens(work.path(), &["destroy", "lab", "--confirm", "lab"]).assert().success();
    assert!(!state.join("lab.json").exists(), "the lab still runs after destroy");
}

#[test]
fn up_refuses_an_environment_that_is_expected_to_be_running() {
    let dir = tempfile::tempdir().unwrap();
    let env_yaml = "name: real\nkind: disposable\ninfra-repo: .\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
                    nodes:\n  - { name: cp-1, address: 10.5.0.2, role: controlplane }\nargocd:\n  system-apps:\n    names: [traefik]\n";
    std::fs::write(dir.path().join("env.yaml"), env_yaml).unwrap();
    vixens_testkit::vixens().arg("up").arg(dir.path().join("env.yaml")).assert().code(1).stderr(
        "vixens up real: refused: real is not an on-demand environment (no `provisioning` in its env.yaml); a real cluster is expected to be running: `vixens doctor real` checks it\n",
    );
}
