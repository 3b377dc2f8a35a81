//! Test-only helpers for the harness's own tests: where the workspace, its fixtures and the lab's
//! env.yaml are, the one way a test runs the `vixens` binary, and the fake credentials
//! ([`fakes`]) and composed repository ([`secrets_corpus`]) the `secrets` rule is tested on.
//!
//! [`vixens`] runs the binary with the variables a developer's shell may have set, and that would
//! change what it does, removed: a test sees what CI sees.

use std::path::{Path, PathBuf};

pub mod fakes;
pub mod secrets_corpus;

/// Variables that change what `vixens` does, removed from every test's `vixens` process; a test
/// that needs one sets it on the command it builds.
const SCRUBBED: &[&str] = &[
    "CI",
    "CARGO_TARGET_DIR",
    "TF_CLI_CONFIG_FILE",
    "VIXENS_CONFIRM_DESTROY",
    "VIXENS_LAB_FAULTS",
    "VIXENS_WORK_DIR",
    "VIXENS_INFRA_REPO",
    "VIXENS_COMMANDS_MUTATING",
];

/// The workspace root.
#[must_use]
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/testkit is two folders below the workspace").to_owned()
}

/// `tests/fixtures/<path>` of the workspace.
#[must_use]
pub fn fixture(path: &str) -> PathBuf {
    workspace().join("tests/fixtures").join(path)
}

/// The lab environment's env.yaml.
#[must_use]
pub fn lab_env() -> PathBuf {
    workspace().join("environments/lab/env.yaml")
}

/// The `vixens` binary of this build, with the variables of [`SCRUBBED`] removed and colour off.
///
/// # Panics
/// When the binary was not built with the tests (cargo builds it for the `vixens` package's own
/// tests; others call `vixens_ops::binaries::binaries()` first).
#[must_use]
pub fn vixens_command() -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("vixens"));
    for name in SCRUBBED {
        command.env_remove(name);
    }
    command.env("NO_COLOR", "1");
    command
}

/// [`vixens_command`], with assert_cmd's assertions.
#[must_use]
pub fn vixens() -> assert_cmd::Command {
    assert_cmd::Command::from_std(vixens_command())
}
