//! Undoing what a lease lists: the reaper's action on a stale record, and the janitor that
//! undoes a run's record once the run is over.
//!
//! - Terraform is undone by the one safe destroy path ([`crate::destroy`]), confirmed by the
//!   harness for an environment it provisioned itself; a state that was never written (an apply
//!   killed before it wrote one) leaves nothing to undo. It goes first
//!   ([`super::next_to_undo`]): its destroy stops the lab its apply started.
//! - A lab is stopped with `vixens-lab down --state-dir DIR` (a stopped lab is fine), between
//!   two takes of the protected inventory, as the safe destroy does: a LUN that stopping the lab
//!   lost fails the teardown naming it.
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

use super::{Error, Held, ProcessRef, Record, RunRef, Started, UndoFailure};
use crate::destroy;
use crate::destroy::inventory::Checks;
use crate::env::Environment;
use vixens_drivers::process::Command;
use vixens_drivers::terraform::Run;

/// How long `vixens-lab down` may take: it waits for the daemon to exit (SIGTERM, then SIGKILL).
const LAB_DOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long each take of the protected inventory around `vixens-lab down` may take.
const INVENTORY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the janitor looks at the runner.
pub const JANITOR_POLL: Duration = Duration::from_millis(250);

/// How long the janitor waits for the lease once its run is over: a later run's test may hold
/// it (and will have reaped the record itself).
const JANITOR_WAIT: Duration = Duration::from_secs(600);

/// The janitor's log, in the work dir.
pub const JANITOR_LOG: &str = "janitor.log";

/// Undoes one item for `env`, holding its `lease`.
///
/// # Errors
/// What failed, and what a person must do about it ([`UndoFailure::remedy`]).
pub fn undo(env: &Environment, lease: Held<'_>, item: &Started) -> Result<(), UndoFailure> {
    match item {
        Started::Lab { bin, state_dir } => lab_down_keeping_storage(env, bin, state_dir),
        Started::Terraform { .. } => match safe_destroy(env, lease) {
            Ok(()) => Ok(()),
            Err(error) => Err(UndoFailure::new(env.redactor().redact(&vixens_diagnostic::error_chain(&error)), remedy(env, &error))),
        },
    }
}

/// Like [`undo`], for `vixens lease reap --force`: what the safe destroy refuses or fails to
/// undo is forgotten instead of kept, and each thing done or left is said in `notes`. Protected
/// resources that keep the safe destroy from running are taken out of terraform's state (the
/// storage itself is kept, and the refused destroy backed the state up first), then the safe
/// destroy runs again. Nothing protected is ever destroyed.
pub fn force_undo(env: &Environment, lease: Held<'_>, item: &Started, notes: &mut Vec<String>) {
    match item {
        Started::Lab { bin, state_dir } => match lab_down(bin, state_dir) {
            Ok(()) => notes.push(format!("stopped {item}")),
            Err(message) => notes.push(format!(
                "left as is: {item} could not be stopped ({message}); stop it by hand: `{} down --state-dir {}`",
                bin.display(),
                state_dir.display()
            )),
        },
        Started::Terraform { root, .. } => {
            let mut result = safe_destroy(env, lease);
            if let Err(destroy::Error::Refused(refusal)) = &result
                && refusal.reason == destroy::Reason::ProtectedResources
            {
                let addresses: Vec<String> = refusal.addresses.iter().map(|o| o.address.clone()).collect();
                match forget(env, &addresses) {
                    Ok(()) => {
                        notes.push(format!(
                            "took {} out of terraform's state in {} (the protected storage itself is kept)",
                            addresses.join(", "),
                            root.display()
                        ));
                        result = safe_destroy(env, lease);
                    }
                    Err(message) => notes.push(format!("could not take {} out of terraform's state: {message}", addresses.join(", "))),
                }
            }
            match result {
                Ok(()) => notes.push(format!("destroyed what the {item} created, through the safe destroy")),
                Err(error) => notes.push(format!(
                    "left as is: {item}: {}; its state still lists what it created: `vixens destroy {}` once the cause is fixed",
                    env.redactor().redact(&vixens_diagnostic::error_chain(&error)),
                    env.name
                )),
            }
        }
    }
}

/// The safe destroy of `env`, confirmed by the harness; a state never written (an apply killed
/// before it wrote one) leaves nothing to undo.
fn safe_destroy(env: &Environment, lease: Held<'_>) -> Result<(), destroy::Error> {
    let redactor = env.redactor();
    let budget = crate::budget::Phase::Destroy.budget(&env.budgets);
    match destroy::run(env, lease, &destroy::unattended::options(env, &redactor, None, budget), |_| {}) {
        Ok(_) | Err(destroy::Error::BackupFailed(destroy::backup::Error::NoState)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `terraform state rm` of `addresses`: they are forgotten, not destroyed.
fn forget(env: &Environment, addresses: &[String]) -> Result<(), String> {
    let terraform = env.terraform_driver(&env.redactor(), None);
    let timeout = crate::budget::Phase::Destroy.budget(&env.budgets);
    terraform.state_rm(addresses, Run::within(timeout)).map(drop).map_err(|e| vixens_diagnostic::error_chain(&e))
}

/// What a person does when the safe destroy of a stale item fails.
fn remedy(env: &Environment, error: &destroy::Error) -> String {
    let name = &env.name;
    match error {
        destroy::Error::Refused(refusal) if refusal.reason == destroy::Reason::ProtectedResources => {
            let addresses: Vec<String> = refusal.addresses.iter().map(|o| format!("'{}'", o.address)).collect();
            let data_dir = env.terraform.data_dir.as_ref().map(|d| format!("TF_DATA_DIR={} ", d.display())).unwrap_or_default();
            format!(
                "the safe destroy never destroys protected storage, and terraform's state lists some: `vixens lease reap {name} --force` takes it \
                 out of the state (the storage itself is kept) and destroys the rest; or by hand: `{data_dir}terraform -chdir={} state rm {}`, \
                 then `vixens lease reap {name}`",
                env.terraform.root.display(),
                addresses.join(" ")
            )
        }
        _ => format!(
            "fix the cause above, then `vixens lease reap {name}`; or `vixens lease reap {name} --force` undoes what it safely can and \
             forgets the rest, listing what is left for you"
        ),
    }
}

/// `vixens-lab down`, between two takes of `env`'s protected inventory: a lab is never stopped
/// without an inventory to compare with, and an item lost meanwhile fails, naming it.
fn lab_down_keeping_storage(env: &Environment, bin: &Path, state_dir: &Path) -> Result<(), UndoFailure> {
    let name = &env.name;
    let by_hand = format!(
        "stop the lab by hand (`{} down --state-dir {}`), then `vixens lease reap {name}`; or `vixens lease reap {name} --force` forgets it",
        bin.display(),
        state_dir.display()
    );
    if !state_dir.is_dir() {
        // A lab that never started (it refused to): `down` has nothing to stop.
        return Ok(());
    }
    let checks = Checks::of(env);
    let before = checks.take(INVENTORY_TIMEOUT).map_err(|e| {
        UndoFailure::new(
            format!("the protected inventory cannot be taken before stopping the lab: {}", vixens_diagnostic::error_chain(&e)),
            by_hand.clone(),
        )
    })?;
    lab_down(bin, state_dir).map_err(|message| UndoFailure::new(message, by_hand))?;
    let (_, lost) = before.lost_since(&checks, INVENTORY_TIMEOUT);
    if lost.is_empty() {
        return Ok(());
    }
    let lost: Vec<String> = lost.iter().map(ToString::to_string).collect();
    Err(UndoFailure::new(
        format!("stopping the lab lost protected storage: {}", lost.join("; ")),
        format!("restore it on the NAS, then `vixens lease reap {name}`; `vixens lease reap {name} --force` forgets the lab as it is"),
    ))
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
    super::reap_items(&env.work_dir, &record, &lock, |item, lease| undo(env, lease, item))?;
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
