//! The ENV argument of every subcommand: a name under `environments/` (`lab`, `dev`) or the path
//! of an env.yaml, resolved and loaded, with any problem rendered as its miette diagnostic (each
//! problem at its file, line and column) and exit code 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_ops::binaries;
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

/// The environment of the env.yaml at `file`, loaded. An on-demand environment (a lab) gets
/// this program's folder on its tools-path: its terraform runs `vixens-lab` by name, and cargo
/// builds it beside `vixens`.
///
/// # Errors
/// The exit code, once every problem of the env.yaml is printed.
pub fn load_file(file: &Path) -> Result<Environment, ExitCode> {
    let mut env = Environment::load(file).map_err(|e| unusable(&e))?;
    if env.provisioning.is_some()
        && let Some(dir) = std::env::current_exe().ok().as_deref().and_then(Path::parent)
    {
        env.tools_path.push(dir.to_owned());
    }
    Ok(env)
}

/// Makes sure the lab simulator an on-demand environment's terraform runs by name
/// (`terraform.vars.lab_bin`, `vixens-lab`) can be found: beside this `vixens`, on its
/// tools-path or on PATH; else it is built with cargo in the workspace this `vixens` was built
/// from (a fresh clone: `cargo run -p vixens -- up lab` builds `vixens` only), and its folder
/// put on the tools-path. A lab whose simulator cannot be run must not be brought up (or torn
/// down) halfway.
///
/// # Errors
/// What to do, when it can be neither found nor built.
pub fn ensure_lab_binary(env: &mut Environment) -> Result<(), String> {
    let Some(program) = env.terraform.vars.get("lab_bin").cloned() else { return Ok(()) };
    match binaries::find(&program, &env.tools_path) {
        Some(path) if path.is_file() => return Ok(()),
        Some(path) => return Err(format!("{} (terraform.vars.lab_bin, VIXENS_LAB_BIN) does not exist", path.display())),
        None => {}
    }
    eprintln!("{program} is neither beside vixens nor on PATH: building it (cargo build -p vixens-lab)");
    let built = binaries::binaries().map_err(|e| {
        format!(
            "{program} is neither beside vixens nor on PATH, and cannot be built here ({}): build it with `cargo build -p vixens-lab` \
             and put it on PATH, or set VIXENS_LAB_BIN to its path",
            vixens_diagnostic::error_chain(&e)
        )
    })?;
    env.tools_path.extend(built.vixens_lab.parent().map(Path::to_owned));
    Ok(())
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
