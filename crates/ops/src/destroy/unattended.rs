//! The safe destroy run with no one at the keyboard: by the recreate cycle, by a test session
//! tearing its lab down, by the janitor. The harness confirms for the environment by naming it,
//! as CI does with `VIXENS_CONFIRM_DESTROY`; a protected environment is refused by the guard
//! before any terraform call, whatever the caller says. Progress is reported as the phase's
//! [`Progress`]; a failure is the destroy phase's, naming its culprit.

use std::path::Path;
use std::time::Duration;

use vixens_diagnostic::error_chain;
use vixens_drivers::redact::Redactor;

use super::{Confirmation, Event, Options};
use crate::budget::Phase;
use crate::destroy;
use crate::env::Environment;
use crate::evidence::Failure;
use crate::lease::Held;
use crate::phase::{PhaseCtx, Progress};
use crate::provision::terraform_failure;

/// The options of every destroy run with no one at the keyboard: confirmed by naming the
/// environment, within `budget`.
#[must_use]
pub fn options(env: &Environment, redactor: &Redactor, transcript: Option<&Path>, budget: Duration) -> Options {
    let mut options = Options::new(Confirmation::Variable(env.name.clone()));
    options.redactor = redactor.clone();
    options.transcript = transcript.map(Path::to_owned);
    options.budget = Some(budget);
    options
}

/// Destroys `env` safely, holding its `lease`, within what is left of the phase's budget.
///
/// # Errors
/// The destroy phase's [`Failure`], naming its culprit ([`destroy_failure`]).
pub fn run(env: &Environment, lease: Held<'_>, ctx: &mut PhaseCtx<'_>) -> Result<destroy::Outcome, Failure> {
    let options = options(env, ctx.redactor(), ctx.transcript_path(), ctx.left());
    let outcome = destroy::run(env, lease, &options, |event| report(&event, ctx.progress())).map_err(|e| destroy_failure(&e))?;
    if let Some(over) = outcome.overrun() {
        // The phase's timing fails the cycle; this says why the destroy was not stopped.
        ctx.status(&format!(
            "the destroy went {} over its budget: the apply of the checked plan ran to its end",
            humantime::format_duration(Duration::from_secs(over.as_secs().max(1)))
        ));
    }
    Ok(outcome)
}

/// A destroy event as progress.
fn report(event: &Event<'_>, on_progress: &mut dyn FnMut(Progress<'_>)) {
    match event {
        Event::Started(step) => on_progress(Progress::Status(&format!("{step}"))),
        Event::Terraform(_, line) => on_progress(Progress::Output { tool: "terraform", line }),
        Event::BackedUp(backup) => on_progress(Progress::Status(&format!("state backed up to {}", backup.path.display()))),
        Event::Pruned(paths) => on_progress(Progress::Status(&format!("removed {} old state backup(s)", paths.len()))),
        Event::PruneFailed(error) => on_progress(Progress::Status(&format!("old state backups not removed: {}", error_chain(*error)))),
        Event::Allowed { destroys } => on_progress(Progress::Status(&format!("the destroy plan is allowed: {destroys} object(s) to destroy"))),
        Event::Volumes(mapped) => {
            on_progress(Progress::Status(&format!("{} iSCSI PersistentVolume(s), each mapped to its LUN", mapped.len())));
        }
        Event::StorageNotSettled(why) => on_progress(Progress::Status(&format!("the cluster's storage may still grow: {why}"))),
        Event::VolumesNotListed(why) => {
            on_progress(Progress::Status(&format!("PersistentVolumes not listed, LUNs judged by the inventory alone: {why}")));
        }
        Event::Inventory { after, inventory } => {
            let when = if *after { "after" } else { "before" };
            let found: Vec<String> = inventory.checks.iter().map(|c| format!("{} ({} items)", c.name, c.items.len())).collect();
            on_progress(Progress::Status(&format!("protected inventory {when} destroy: {}", found.join(", "))));
        }
    }
}

/// The failure of a safe destroy: the culprit is the protected resources a refused plan
/// touches, the protected items lost, or the resource terraform names.
pub fn destroy_failure(error: &destroy::Error) -> Failure {
    let message = error_chain(error);
    match error {
        destroy::Error::Refused(refusal) if !refusal.addresses.is_empty() => {
            let addresses: Vec<&str> = refusal.addresses.iter().map(|o| o.address.as_str()).collect();
            Phase::Destroy.failure(addresses.join(", "), message)
        }
        destroy::Error::Refused(_) => Phase::Destroy.failure("the confirmation", message),
        destroy::Error::BackupFailed(_) => Phase::Destroy.failure("the state backup", message),
        destroy::Error::Terraform { source, .. } => Phase::Destroy.failure(terraform_failure(Phase::Destroy, source).culprit, message),
        destroy::Error::InventoryBefore(_) => Phase::Destroy.failure("the protected inventory", message),
        destroy::Error::ApplyFailed { source, lost } if lost.is_empty() => {
            Phase::Destroy.failure(terraform_failure(Phase::Destroy, source).culprit, message)
        }
        destroy::Error::CeilingReached { lost, .. } if lost.is_empty() => Phase::Destroy.failure("budgets.destroy-ceiling", message),
        destroy::Error::ApplyFailed { lost, .. } | destroy::Error::CeilingReached { lost, .. } | destroy::Error::ProtectedStorageLost { lost } => {
            let items: Vec<String> = lost.iter().map(|l| format!("{} `{}`", l.check, l.item)).collect();
            Phase::Destroy.failure(items.join(", "), message)
        }
        destroy::Error::Interrupted { step } | destroy::Error::Stopped { step } => Phase::Destroy.failure(step.to_string(), message),
        destroy::Error::NotLeased { work_dir, .. } => Phase::Destroy.failure(format!("the lease of {}", work_dir.display()), message),
        destroy::Error::WorkDir { dir, .. } => Phase::Destroy.failure(dir.display().to_string(), message),
    }
}
