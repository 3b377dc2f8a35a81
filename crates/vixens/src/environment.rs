//! The ENV argument of every subcommand: a name under `environments/` (`lab`, `dev`) or the path
//! of an env.yaml, resolved and loaded, with any problem rendered as its miette diagnostic (each
//! problem at its file, line and column) and exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_ops::env::{self, EnvConfigError, Environment};

/// The exit code of an environment that cannot be found or used.
const UNUSABLE: u8 = 2;

/// The env.yaml an ENV argument names.
///
/// # Errors
/// The exit code, once the problem is printed.
pub fn resolve(arg: &str) -> Result<PathBuf, ExitCode> {
    env::resolve(arg).map_err(|e| {
        eprintln!("{:?}", miette::Report::new(e));
        ExitCode::from(UNUSABLE)
    })
}

/// The environment an ENV argument names, loaded.
///
/// # Errors
/// The exit code, once every problem of the env.yaml is printed.
pub fn load(arg: &str) -> Result<Environment, ExitCode> {
    load_file(&resolve(arg)?)
}

/// The environment of the env.yaml at `file`, loaded.
///
/// # Errors
/// The exit code, once every problem of the env.yaml is printed.
pub fn load_file(file: &Path) -> Result<Environment, ExitCode> {
    Environment::load(file).map_err(|e| unusable(&e))
}

/// Prints every problem of an env.yaml; the exit code to end with.
#[must_use]
pub fn unusable(error: &EnvConfigError) -> ExitCode {
    eprintln!("{:?}", miette::Report::new(error.to_diagnostic()));
    ExitCode::from(UNUSABLE)
}

/// The workspace an env.yaml belongs to, which its default paths (the `target/` folder) are
/// relative to: the folder holding its `environments/`, else the current folder.
#[must_use]
pub fn root_of(file: &Path) -> PathBuf {
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    match file.ancestors().find(|dir| dir.file_name().is_some_and(|n| n == "environments")) {
        Some(environments) => environments.parent().unwrap_or(Path::new("/")).to_owned(),
        None => std::env::current_dir().unwrap_or_default(),
    }
}
