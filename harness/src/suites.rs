//! The nextest suites every environment package instantiates. Each environment's
//! `tests/suites.rs` is one line: `harness::suites::main(env!("CARGO_MANIFEST_DIR"))`.
//!
//! Test names follow the specification so that JUnit reads like it:
//! `fresh_cluster_validation::*`, `destroy_safety::*`, `commands::<env>::<entry-id>`.
//! Each suite lives in its own module and only lists its trials; the checks themselves are in
//! the library modules named after their concern.

use std::path::Path;
use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::env::Environment;

pub mod commands;
pub mod destroy_safety;
pub mod fresh_cluster_validation;

/// Runs the suites for the environment whose `env.yaml` sits in `package_dir`.
///
/// When the env.yaml cannot be loaded (a missing `VIXENS_*` variable on a machine that is not
/// set up for this environment), the run has exactly one test, and it fails within seconds
/// with every problem named: never a pass, never a silent skip.
#[must_use]
pub fn main(package_dir: &str) -> ExitCode {
    let args = Arguments::from_args();
    let env_file = Path::new(package_dir).join("env.yaml");
    let trials = match Environment::load(&env_file) {
        Ok(env) => trials(&env),
        Err(error) => vec![configuration_failed(error.to_string())],
    };
    libtest_mimic::run(&args, trials).exit_code()
}

fn trials(env: &Environment) -> Vec<Trial> {
    let mut trials = fresh_cluster_validation::trials(env);
    trials.extend(destroy_safety::trials(env));
    trials.extend(commands::trials(env));
    trials
}

fn configuration_failed(message: String) -> Trial {
    Trial::test("environment::configuration_loads", move || Err(Failed::from(message)))
}
