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
    // The folder of `vixens` (where cargo builds `vixens-lab` too) is on the lab's tools-path.
    let own = assert_cmd::cargo::cargo_bin("vixens").parent().unwrap().to_owned();
    vixens(work.path(), &["up", "lab"]).assert().success().stdout(predicate::str::contains(format!(
        "lab is up\n  export KUBECONFIG={2}/kubeconfig-lab\n  export TALOSCONFIG={2}/talosconfig-lab\n  export PATH={0}/bin:{1}:$PATH\ntear it down with: vixens destroy lab --confirm lab\n",
        state.display(),
        own.display(),
        work.path().join("lab/secrets").display()
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

/// This process's PATH without any folder that holds a `vixens-lab`, as on a fresh clone.
fn path_without_the_lab() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::env::split_paths(&path).filter(|dir| !dir.join("vixens-lab").exists())).unwrap()
}

/// `VIXENS ARGS` run as the README's by-hand recipe runs it: from the workspace, with neither
/// `vixens-lab` on PATH nor `VIXENS_LAB_BIN`.
fn as_written(vixens: &Path, work: &Path, args: &[&str], faults: &str) -> std::process::Output {
    let mut command = std::process::Command::new(vixens);
    command
        .current_dir(workspace())
        .env_clear()
        .envs(std::env::vars_os().filter(|(name, _)| name != "VIXENS_LAB_BIN" && name != "VIXENS_CONFIRM_DESTROY"))
        .env("PATH", path_without_the_lab())
        .env("VIXENS_WORK_DIR", work)
        .env("VIXENS_LAB_FAULTS", faults)
        .env("NO_COLOR", "1")
        .args(args);
    command.output().unwrap()
}

#[track_caller]
fn succeeded(out: &std::process::Output) -> String {
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{output}");
    output
}

#[test]
fn the_readme_recipe_up_then_destroy_works_without_vixens_lab_on_path() {
    // `vixens-lab` is built beside `vixens` (as cargo builds them side by side), not on PATH. The
    // destroy used to fail with `vixens-lab: not found` (exit 3), leaving the lab running.
    let vixens = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens;
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("lab/state");
    succeeded(&as_written(&vixens, work.path(), &["up", "lab"], ""));
    assert!(state.join("lab.json").exists(), "the lab is not up");
    succeeded(&as_written(&vixens, work.path(), &["destroy", "lab", "--confirm", "lab"], ""));
    assert!(!state.join("lab.json").exists(), "the lab still runs after destroy");
}

#[test]
fn a_vixens_built_alone_builds_the_lab_simulator_it_needs() {
    // A fresh clone: `cargo run -p vixens -- up lab` builds `vixens` only. This copy of it has no
    // `vixens-lab` beside it; it builds one with cargo in the workspace it was built from.
    let built = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens;
    let alone = tempfile::tempdir().unwrap();
    let vixens = alone.path().join("debug/vixens");
    std::fs::create_dir_all(vixens.parent().unwrap()).unwrap();
    std::fs::copy(&built, &vixens).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = succeeded(&as_written(&vixens, work.path(), &["up", "lab"], ""));
    assert!(output.contains("vixens-lab is neither beside vixens nor on PATH: building it (cargo build -p vixens-lab)"), "{output}");
    succeeded(&as_written(&vixens, work.path(), &["destroy", "lab", "--confirm", "lab"], ""));
    assert!(!work.path().join("lab/state/lab.json").exists(), "the lab still runs after destroy");
}

#[test]
fn a_lab_that_refuses_to_start_says_why_and_can_still_be_destroyed() {
    // VIXENS_LAB_FAULTS is not a secret: it used to show as [REDACTED:VIXENS_LAB_FAULTS],
    // hiding the cause; and the destroy afterwards failed on the NAS it never created.
    let vixens = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens;
    let work = tempfile::tempdir().unwrap();
    let out = as_written(&vixens, work.path(), &["up", "lab"], "apply-fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("vixens-lab: fault `apply-fail` injected through VIXENS_LAB_FAULTS: the lab refuses to start"), "{stderr}");
    assert!(!stderr.contains("REDACTED"), "{stderr}");
    let output = succeeded(&as_written(&vixens, work.path(), &["destroy", "lab", "--confirm", "lab"], ""));
    assert!(output.contains("destroyed `lab` in "), "{output}");
}
