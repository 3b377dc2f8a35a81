//! The one safe destroy path, used by `vixens destroy ENV` and by the recreate cycle.
//!
//! The specification says destroy prompts for confirmation, backs the state up automatically and
//! never destroys the NAS volumes (iSCSI LUNs) or the MinIO bucket. [`run`] does it in this order,
//! and nothing is destroyed until every step before the apply has passed:
//!
//! 1. [`guard::check_environment`]: a protected environment is refused outright, whatever the
//!    flags or variables, before any terraform call;
//! 2. [`confirmation`]: the operator named the environment (typed at a prompt, `--confirm ENV`,
//!    or `VIXENS_CONFIRM_DESTROY=ENV` without a terminal);
//! 3. `terraform init`, then [`backup`]: `terraform state pull` into
//!    `<state-backup.dir>/<env>/<UTC time>-serial<N>.tfstate`, flushed to disk and verified
//!    against the live state (lineage, serial, sha256 stored beside it); the last
//!    `state-backup.keep` are kept;
//! 4. [`guard::check_plan`]: `terraform plan -destroy -out=FILE`, `terraform show -json FILE`,
//!    and any delete or replace of a protected resource refuses the destroy, naming every address;
//! 5. [`inventory`]: the protected inventory (state bucket, LUNs) is taken, the saved plan that was
//!    checked is applied (`terraform apply FILE`, exactly that plan), and the inventory is taken
//!    again: anything present before and missing after fails, naming it. Before the apply, every
//!    iSCSI PersistentVolume of the cluster is mapped to its LUN in the inventory ([`volumes`]):
//!    a LUN list that found nothing while the cluster has iSCSI volumes, or a volume whose LUN is
//!    not listed, refuses the destroy; a lost LUN is named with its PV and claim.
//!
//! A refusal is a [`Verdict`], never an exception to a rule: the guard and the confirmation only
//! judge, they never print or prompt. [`run`] reports progress as [`Event`]s; the `vixens` binary
//! renders them and owns the prompt and the exit codes ([`exit`]).
//!
//! Every destroy holds the environment's [lease](crate::lease): [`run`] takes the proof
//! ([`crate::lease::Held`]), so nothing destroys an environment a test is using.
//!
//! An interruption (SIGINT or SIGTERM, see [`Interrupt`]) is honoured between steps: the step
//! under way runs to its end, so that the state and the backups are always consistent, and the
//! destroy stops before the next one. A second one stops the terraform command under way
//! (SIGTERM: terraform releases its state lock and exits) and the destroy with it. Once
//! `terraform apply` of the checked plan has started, it runs to its end whatever is received:
//! stopping it halfway would leave a half-destroyed environment; terraform runs in its own
//! process group, so a Ctrl-C at the terminal never reaches it. The saved plan's private folder
//! (`<work dir>/.destroy-plan-*`) is removed on every path; one left by a process that was
//! killed (SIGKILL) is removed by the next destroy, which holds the lease.
//!
//! The destroy budget (`budgets.phases.destroy`) bounds every step before the apply. The apply,
//! once started, runs to its end even past the budget, for the same reason; the destroy then
//! reports how far over it went ([`Outcome::overrun`]) and the recreate cycle fails naming the
//! overrun. Only the hard ceiling (`budgets.destroy-ceiling`) stops it: terraform is then asked
//! to stop (SIGTERM, SIGKILL after a grace period), the state is pulled, and the error lists
//! the resources it still holds ([`Error::CeilingReached`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

pub mod backup;
pub mod confirmation;
pub mod guard;
pub mod inventory;
mod sequence;
pub mod unattended;
pub mod volumes;

pub use confirmation::Confirmation;
pub use guard::{Offender, Reason, Refusal, Verdict};
pub use sequence::{Event, Options, Outcome, Step, run, sweep_plan_dirs};

/// Exit codes of `vixens destroy` (documented in `vixens destroy --help` and the README).
pub mod exit {
    /// The environment was destroyed (or there was nothing to destroy) and every protected item
    /// is still there.
    pub const DESTROYED: u8 = 0;
    /// Refused: protected environment, missing or wrong confirmation, or a plan that would
    /// destroy a protected resource. Nothing was changed.
    pub const REFUSED: u8 = 1;
    /// Could not destroy safely: unusable env.yaml, failed or unverifiable state backup, terraform
    /// failing before the apply, protected inventory unreadable. Nothing was destroyed.
    pub const ERROR: u8 = 2;
    /// The destroy ran and failed: `terraform apply` of the checked plan failed, or protected
    /// storage is missing (or cannot be checked) afterwards. Needs a person.
    pub const FAILED: u8 = 3;
    /// Interrupted (SIGINT or SIGTERM) before the destroy started: nothing was destroyed, the
    /// state and its backups are consistent, and running again works.
    pub const INTERRUPTED: u8 = 130;
}

/// Why a safe destroy did not complete. None of these is retried: each needs a person, a fix in
/// env.yaml or terraform, or (for [`Error::Interrupted`]) simply running again.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The destroy was refused; nothing was changed.
    #[error("{0}")]
    Refused(Refusal),
    /// The state could not be backed up, or the backup could not be verified: nothing was
    /// destroyed.
    #[error("no destroy without a verified state backup")]
    BackupFailed(#[source] backup::Error),
    /// A terraform command before the apply failed (init, state pull, plan, show): nothing was
    /// destroyed.
    #[error("{step} failed: nothing was destroyed")]
    Terraform {
        /// The step that ran terraform.
        step: Step,
        /// What terraform did.
        #[source]
        source: Box<vixens_drivers::terraform::Error>,
    },
    /// The protected inventory could not be taken before the destroy: nothing was destroyed,
    /// since there would be nothing to compare with afterwards.
    #[error("cannot take the protected inventory before destroy: nothing was destroyed")]
    InventoryBefore(#[source] inventory::Error),
    /// `terraform apply` of the checked plan failed: the environment may be partly destroyed.
    #[error("terraform apply of the checked destroy plan failed{}", lost_suffix(.lost))]
    ApplyFailed {
        /// What terraform did.
        #[source]
        source: Box<vixens_drivers::terraform::Error>,
        /// Protected items present before and missing after, if any.
        lost: Vec<inventory::Lost>,
    },
    /// The apply of the checked plan outlived the hard ceiling (`budgets.destroy-ceiling`) and
    /// terraform was stopped mid-apply: the state, pulled afterwards, says what is left.
    #[error(
        "terraform apply of the checked destroy plan was stopped at the hard ceiling of {} (budgets.destroy-ceiling): {}{}",
        humantime::format_duration(*.ceiling), left_in_state(.left), lost_suffix(.lost)
    )]
    CeilingReached {
        /// The ceiling.
        ceiling: std::time::Duration,
        /// The resource addresses the state still holds, or why it could not be pulled.
        left: Result<Vec<String>, String>,
        /// Protected items present before and missing after, if any.
        lost: Vec<inventory::Lost>,
        /// What terraform did.
        #[source]
        source: Box<vixens_drivers::terraform::Error>,
    },
    /// Protected storage present before the destroy is missing, or cannot be checked, after it.
    #[error("protected storage is missing after destroy: {}", lost_list(.lost))]
    ProtectedStorageLost {
        /// Every protected item present before and missing (or uncheckable) after.
        lost: Vec<inventory::Lost>,
    },
    /// Interrupted (SIGINT or SIGTERM) before `step`: nothing was destroyed.
    #[error("interrupted before {step}: nothing was destroyed; the state and its backups are consistent")]
    Interrupted {
        /// The step that was not started.
        step: Step,
    },
    /// Stopped during `step` by a second signal: terraform was asked to stop (SIGTERM) and did.
    #[error("stopped during {step} by a second signal: nothing was destroyed; the state and its backups are consistent")]
    Stopped {
        /// The step that was stopped.
        step: Step,
    },
    /// The caller holds the lease of another work dir than the environment's: a mistake of the
    /// caller, caught before anything runs.
    #[error("the lease held is {held}'s, not {work_dir}'s: nothing was destroyed")]
    NotLeased {
        /// The environment's work dir.
        work_dir: PathBuf,
        /// The work dir whose lease is held.
        held: PathBuf,
    },
    /// The work folder for the saved plan could not be created.
    #[error("cannot create a folder for the destroy plan in {dir}")]
    WorkDir {
        /// The environment's work dir.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The exit code `vixens destroy` gives this error (see [`exit`]).
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) => exit::REFUSED,
            Self::BackupFailed(_) | Self::Terraform { .. } | Self::InventoryBefore(_) | Self::WorkDir { .. } | Self::NotLeased { .. } => exit::ERROR,
            Self::ApplyFailed { .. } | Self::CeilingReached { .. } | Self::ProtectedStorageLost { .. } => exit::FAILED,
            Self::Interrupted { .. } | Self::Stopped { .. } => exit::INTERRUPTED,
        }
    }

    /// True when nothing was destroyed: every error but a failed apply or lost storage.
    #[must_use]
    pub fn nothing_destroyed(&self) -> bool {
        self.exit_code() != exit::FAILED
    }
}

fn lost_list(lost: &[inventory::Lost]) -> String {
    lost.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// What the state holds after a destroy stopped at its ceiling, and how to finish it.
fn left_in_state(left: &Result<Vec<String>, String>) -> String {
    match left {
        Ok(addresses) if addresses.is_empty() => "the state, pulled afterwards, holds no resource: the destroy had finished".to_owned(),
        Ok(addresses) => format!(
            "the state, pulled afterwards, still holds {} resource{}: {}; run the destroy again to finish it (its backup is the state from before)",
            addresses.len(),
            if addresses.len() == 1 { "" } else { "s" },
            addresses.join(", ")
        ),
        Err(why) => format!("the state could not be pulled afterwards ({why}): check it with `terraform state list` before anything else"),
    }
}

fn lost_suffix(lost: &[inventory::Lost]) -> String {
    if lost.is_empty() { String::new() } else { format!(", and protected storage is missing: {}", lost_list(lost)) }
}

/// A request to stop, set by a signal handler (the `vixens` binary registers SIGINT and SIGTERM)
/// and read by [`run`] between steps. Cloning shares the state.
///
/// Each signal is handed to [`Interrupt::on_signal`], which says what it does: the first asks the
/// destroy to stop after the step under way; the second stops the terraform command under way;
/// any signal once the checked plan is being applied changes nothing: it runs to its end.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<Flags>);

#[derive(Debug, Default)]
struct Flags {
    /// How many signals were received before the apply (0, 1, 2 or more).
    received: AtomicU8,
    /// Set by a second signal: the terraform command under way is stopped.
    now: Arc<AtomicBool>,
    /// Set once the checked plan's apply has started: nothing stops it any more.
    applying: AtomicBool,
}

/// What a signal does to a destroy ([`Interrupt::on_signal`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signalled {
    /// The first: the destroy stops after the step under way.
    StopAfterStep,
    /// The second: the terraform command under way is stopped, and the destroy with it.
    StopNow,
    /// A third or later, before the apply: the caller may give up waiting.
    GiveUp,
    /// Any, once the checked plan is being applied: ignored, the apply runs to its end.
    Applying,
}

impl Interrupt {
    /// A flag that is not set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a signal and says what it does (see [`Signalled`]).
    pub fn on_signal(&self) -> Signalled {
        if self.0.applying.load(Ordering::SeqCst) {
            return Signalled::Applying;
        }
        match self.0.received.fetch_add(1, Ordering::SeqCst) {
            0 => Signalled::StopAfterStep,
            1 => {
                self.0.now.store(true, Ordering::SeqCst);
                Signalled::StopNow
            }
            _ => Signalled::GiveUp,
        }
    }

    /// Asks the destroy to stop at the next step boundary (as a first signal does).
    pub fn request(&self) {
        let _ = self.0.received.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// True once a stop was requested.
    #[must_use]
    pub fn requested(&self) -> bool {
        self.0.received.load(Ordering::SeqCst) > 0 && !self.0.applying.load(Ordering::SeqCst)
    }

    /// The flag a second signal sets, for the terraform commands that may be stopped.
    #[must_use]
    pub fn stop_now_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0.now)
    }

    /// Marks the start of the checked plan's apply, unless a stop was requested first: from
    /// then on, signals change nothing. False when the destroy must stop instead.
    #[must_use]
    pub fn enter_apply(&self) -> bool {
        self.0.applying.store(true, Ordering::SeqCst);
        if self.0.received.load(Ordering::SeqCst) > 0 {
            self.0.applying.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_signal_stops_after_the_step_a_second_stops_now() {
        let interrupt = Interrupt::new();
        assert!(!interrupt.requested());
        assert_eq!(interrupt.on_signal(), Signalled::StopAfterStep);
        assert!(interrupt.requested() && !interrupt.stop_now_flag().load(Ordering::SeqCst));
        assert_eq!(interrupt.on_signal(), Signalled::StopNow);
        assert!(interrupt.stop_now_flag().load(Ordering::SeqCst));
        assert_eq!(interrupt.on_signal(), Signalled::GiveUp);
        assert!(!interrupt.enter_apply(), "no apply starts once a stop was asked for");
    }

    #[test]
    fn once_the_apply_has_started_no_signal_stops_it() {
        let interrupt = Interrupt::new();
        assert!(interrupt.enter_apply());
        for _ in 0..3 {
            assert_eq!(interrupt.on_signal(), Signalled::Applying);
        }
        assert!(!interrupt.requested() && !interrupt.stop_now_flag().load(Ordering::SeqCst));
    }
}
