//! Undoing what a lease lists: the reaper's action on a stale record, and the janitor that
//! undoes a run's record once the run is over.
//!
//! - A lab is stopped with `vixens-lab down --state-dir DIR` (a stopped lab is fine).
//! - Terraform is undone by the one safe destroy path ([`crate::destroy`]), confirmed by the
//!   harness for an environment it provisioned itself; a state that was never written (an apply
//!   killed before it wrote one) leaves nothing to undo.
//!
//! The janitor runs as `vixens lease janitor ENV --run ID --runner-pid PID --runner-start T`,
//! detached from the test that starts it ([`spawn_janitor`]): its own process group (Ctrl-C in
//! the terminal does not reach it), its output in `<work dir>/janitor.log` (nextest waits for
//! the pipes it gave a test to close). It polls the runner, then takes the lease lock and
//! undoes the record if the record still belongs to its run.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::time::Duration;

use super::{Error, ProcessRef, Record, RunRef, Started};
use crate::destroy;
use crate::env::Environment;
use vixens_drivers::process::Command;

/// How long `vixens-lab down` may take: it waits for the daemon to exit (SIGTERM, then SIGKILL).
const LAB_DOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the janitor looks at the runner.
pub const JANITOR_POLL: Duration = Duration::from_millis(250);

/// How long the janitor waits for the lease once its run is over: a later run's test may hold
/// it (and will have reaped the record itself).
const JANITOR_WAIT: Duration = Duration::from_secs(600);

/// The janitor's log, in the work dir.
pub const JANITOR_LOG: &str = "janitor.log";

/// Undoes one item for `env`.
///
/// # Errors
/// What failed, in words.
pub fn undo(env: &Environment, item: &Started) -> Result<(), String> {
    match item {
        Started::Lab { bin, state_dir } => lab_down(bin, state_dir),
        Started::Terraform { .. } => {
            let redactor = env.redactor();
            let budget = crate::budget::Phase::Destroy.budget(&env.budgets);
            match destroy::run(env, &destroy::unattended::options(env, &redactor, None, budget), |_| {}) {
                // An apply killed before it wrote any state left nothing to destroy.
                Ok(_) | Err(destroy::Error::BackupFailed(destroy::backup::Error::NoState)) => Ok(()),
                Err(e) => Err(vixens_diagnostic::error_chain(&e)),
            }
        }
    }
}

/// `vixens-lab down --state-dir DIR`: stops the lab, and succeeds on a stopped one.
///
/// # Errors
/// What failed, in words.
pub fn lab_down(bin: &Path, state_dir: &Path) -> Result<(), String> {
    let done = Command::new(bin)
        .arg("down")
        .arg("--state-dir")
        .arg(state_dir)
        .timeout(LAB_DOWN_TIMEOUT)
        .run()
        .map_err(|e| vixens_diagnostic::error_chain(&e))?;
    if done.success() { Ok(()) } else { Err(format!("`{} down --state-dir {}` failed: {}", bin.display(), state_dir.display(), done.stderr_tail(5))) }
}

/// What the janitor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Janitored {
    /// The run's record was undone.
    Undone(Record),
    /// Someone else took care of it (a later run reaped the record, or none was left).
    NothingLeft,
}

/// Waits until `run`'s runner is gone, then undoes what `env`'s lease record lists if it still
/// belongs to `run`.
///
/// # Errors
/// [`Error::Undo`] naming what could not be undone (the record keeps it for the next run's
/// reaper); [`Error::Io`], [`Error::Malformed`], [`Error::Busy`].
pub fn janitor(env: &Environment, run: &RunRef) -> Result<Janitored, Error> {
    while run.runner.alive() {
        std::thread::sleep(JANITOR_POLL);
    }
    let lock = super::lock(&env.work_dir, JANITOR_WAIT)?;
    let Some(record) = super::read(&env.work_dir)? else { return Ok(Janitored::NothingLeft) };
    if record.run.as_ref() != Some(run) {
        return Ok(Janitored::NothingLeft);
    }
    super::reap_items(&env.work_dir, &record, &lock, |item| undo(env, item))?;
    Ok(Janitored::Undone(record))
}

/// Starts `vixens lease janitor` for `env` and `run`, detached, with `path` as its PATH.
///
/// # Errors
/// When the process cannot be started or its log opened.
pub fn spawn_janitor(vixens: &Path, env: &Environment, run: &RunRef, path: &OsString) -> std::io::Result<ProcessRef> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(env.work_dir.join(JANITOR_LOG))?;
    let child = std::process::Command::new(vixens)
        .args(["lease", "janitor"])
        .arg(&env.file)
        .args(["--work-dir"])
        .arg(&env.work_dir)
        .args(["--run", &run.id, "--runner-pid", &run.runner.pid.to_string(), "--runner-start", &run.runner.start.to_string()])
        .env("PATH", path)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()?;
    // Not waited for: it must outlive this process, until the run is over.
    ProcessRef::of(child.id()).ok_or_else(|| std::io::Error::other("the janitor exited at once; see janitor.log"))
}
