//! The safe-destroy sequence: the steps of [`super`] in order, under the environment's destroy
//! budget (`budgets.phases.destroy`; the apply of the checked plan under its hard ceiling,
//! `budgets.destroy-ceiling`), reporting [`Event`]s as it goes.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::backup::{self, Backup, Store};
use super::confirmation::Confirmation;
use super::guard;
use super::inventory::{Checks, Inventory};
use super::volumes::{self, Mapped};
use super::{Error, Interrupt};
use crate::budget::Phase;
use crate::env::{Environment, Identity, ProcessVars, protected_environments};
use crate::lease::Held;
use vixens_drivers::process::Stream;
use vixens_drivers::redact::Redactor;
use vixens_drivers::terraform::{self, PlanOutcome, Run, Summary, Terraform};

/// The protected inventory is always checked after an apply, even when the destroy budget is
/// spent: each check then gets this long.
const LAST_INVENTORY_FLOOR: Duration = Duration::from_secs(30);

/// After the ceiling stopped the apply, `terraform state pull` gets this long to say what is left.
const STATE_AFTER_CEILING: Duration = Duration::from_secs(60);

/// How long the storage of a cluster brought up a moment ago gets to settle before the
/// inventory (every app synced once, no claim being provisioned): the lab's tree settles in
/// about 5 seconds; a cluster that runs for a while has settled long ago.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the cluster's API gets to list its PersistentVolumes before the destroy.
const VOLUMES_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run one safe destroy.
#[derive(Debug, Clone)]
pub struct Options {
    /// What the operator said (see [`super::confirmation`]).
    pub confirmation: Confirmation,
    /// Set by a signal handler to stop between steps.
    pub interrupt: Interrupt,
    /// Secrets to keep out of terraform's streamed lines and errors.
    pub redactor: Redactor,
    /// Where to append every terraform command and its output (an artifact), if anywhere.
    pub transcript: Option<PathBuf>,
    /// The time the destroy may take; `None`: the environment's `budgets.phases.destroy`. The
    /// apply of the checked plan may go past it, up to as far again as `budgets.destroy-ceiling`
    /// goes past `budgets.phases.destroy`.
    pub budget: Option<Duration>,
}

impl Options {
    /// Options with this confirmation, no interrupt, no secrets and no transcript.
    #[must_use]
    pub fn new(confirmation: Confirmation) -> Self {
        Self { confirmation, interrupt: Interrupt::new(), redactor: Redactor::new(), transcript: None, budget: None }
    }
}

/// A step of the sequence, named as messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `terraform init`.
    Init,
    /// `terraform state pull`, the backup written and verified.
    Backup,
    /// `terraform plan -destroy -out=FILE`.
    Plan,
    /// `terraform show -json FILE` and the guard's verdict.
    Guard,
    /// The protected inventory before the destroy.
    InventoryBefore,
    /// `terraform apply FILE`.
    Apply,
    /// The protected inventory after the destroy.
    InventoryAfter,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Init => "terraform init",
            Self::Backup => "the state backup",
            Self::Plan => "terraform plan -destroy",
            Self::Guard => "the check of the destroy plan",
            Self::InventoryBefore => "the protected inventory before destroy",
            Self::Apply => "terraform apply of the checked plan",
            Self::InventoryAfter => "the protected inventory after destroy",
        })
    }
}

/// What happens, as it happens, for progress output and artifacts.
#[derive(Debug)]
pub enum Event<'a> {
    /// A step starts.
    Started(Step),
    /// A line terraform printed (redacted).
    Terraform(Stream, &'a str),
    /// The backup is written and verified against the live state.
    BackedUp(&'a Backup),
    /// Old backups were removed to keep `state-backup.keep`.
    Pruned(&'a [PathBuf]),
    /// Old backups could not be removed; the destroy goes on (the new backup is verified).
    PruneFailed(&'a backup::Error),
    /// The plan was checked and allowed: this many objects will be destroyed.
    Allowed {
        /// Deletes and replaces in the plan.
        destroys: usize,
    },
    /// The cluster's iSCSI PersistentVolumes, each mapped to its LUN in the inventory taken
    /// before the destroy (empty when it has none).
    Volumes(&'a [Mapped]),
    /// The cluster's storage had not settled (an app not synced yet, a claim being provisioned)
    /// when the inventory was taken, or the API could not tell: the reason.
    StorageNotSettled(&'a str),
    /// The cluster's PersistentVolumes could not be listed (its API does not answer): the LUNs
    /// are judged by the inventory alone.
    VolumesNotListed(&'a str),
    /// The protected inventory was taken (`after` = after the apply).
    Inventory {
        /// False before the destroy, true after it.
        after: bool,
        /// What was found.
        inventory: &'a Inventory,
    },
}

/// A completed safe destroy.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The verified backup taken before anything was destroyed.
    pub backup: Backup,
    /// Old backups removed.
    pub pruned: Vec<PathBuf>,
    /// Terraform's counts; `None` when the plan had nothing to destroy.
    pub destroyed: Option<Summary>,
    /// The protected inventory after the destroy (empty when nothing was destroyed).
    pub inventory: Inventory,
    /// How long it took.
    pub elapsed: Duration,
    /// The budget it had.
    pub budget: Duration,
}

impl Outcome {
    /// How far past its budget the destroy went (the apply of the checked plan runs to its end),
    /// if it did.
    #[must_use]
    pub fn overrun(&self) -> Option<Duration> {
        self.elapsed.checked_sub(self.budget).filter(|over| !over.is_zero())
    }
}

/// The prefix of the saved plan's private folder in the work dir.
const PLAN_DIR_PREFIX: &str = ".destroy-plan-";

/// Runs the safe destroy of `env` (see the [module docs](super)), holding its lease.
///
/// # Errors
/// See [`Error`]: a refusal, a failed backup, terraform failing, an interruption, lost protected
/// storage. [`Error::nothing_destroyed`] says whether anything may have been destroyed.
pub fn run(env: &Environment, lease: Held<'_>, options: &Options, on_event: impl FnMut(Event<'_>)) -> Result<Outcome, Error> {
    guard::check_environment(&env.name, env.kind).into_result().map_err(Error::Refused)?;
    guard::check_identity(&env.name, &Identity::of(env), &protected_environments(&env.file, &ProcessVars)).into_result().map_err(Error::Refused)?;
    options.confirmation.judge(&env.name).into_result().map_err(Error::Refused)?;
    if !lease.covers(&env.work_dir) {
        return Err(Error::NotLeased { work_dir: env.work_dir.clone(), held: lease.dir().to_owned() });
    }
    sweep_plan_dirs(lease);
    Sequence::new(env, options, on_event).run()
}

/// Removes the saved-plan folders left in the leased work dir by a destroy that was killed
/// (SIGKILL leaves no chance to remove them): under the lease, no other destroy is using one.
/// Returns the folders removed.
pub fn sweep_plan_dirs(lease: Held<'_>) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(lease.dir()).into_iter().flatten().flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(PLAN_DIR_PREFIX) && entry.path().is_dir();
        if stale && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

struct Sequence<'a, F> {
    env: &'a Environment,
    options: &'a Options,
    terraform: Terraform,
    on_event: F,
    started: Instant,
}

impl<'a, F: FnMut(Event<'_>)> Sequence<'a, F> {
    fn new(env: &'a Environment, options: &'a Options, on_event: F) -> Self {
        let terraform = env.terraform_driver(&options.redactor, options.transcript.as_deref());
        Self { env, options, terraform, on_event, started: Instant::now() }
    }

    fn run(mut self) -> Result<Outcome, Error> {
        self.begin(Step::Init)?;
        let stop = self.options.interrupt.stop_now_flag();
        let init =
            self.terraform.init(Run::within(self.remaining()).cancel_on(stop.clone()).progress(&mut |s, l| (self.on_event)(Event::Terraform(s, l))));
        init.map_err(|source| terraform_error(Step::Init, source))?;

        self.begin(Step::Backup)?;
        let (backup, pruned) = self.backup()?;

        self.begin(Step::Plan)?;
        let plan_dir = self.plan_dir()?;
        let plan_file = plan_dir.path().join("destroy.tfplan");
        let planned = self.terraform.plan_destroy(
            &plan_file,
            Run::within(self.remaining()).cancel_on(stop.clone()).progress(&mut |s, l| (self.on_event)(Event::Terraform(s, l))),
        );
        if planned.map_err(|source| terraform_error(Step::Plan, source))? == PlanOutcome::NoChanges {
            return Ok(self.outcome(backup, pruned, None, Inventory::default()));
        }

        self.begin(Step::Guard)?;
        let plan = self
            .terraform
            .show_plan(&plan_file, Run::within(self.remaining()).cancel_on(stop))
            .map_err(|source| terraform_error(Step::Guard, source))?;
        guard::check_plan(&plan, &self.env.protected).into_result().map_err(Error::Refused)?;
        (self.on_event)(Event::Allowed { destroys: plan.destructive_changes().count() });

        self.begin(Step::InventoryBefore)?;
        if let Err(why) = volumes::settle(self.env, self.remaining().min(SETTLE_TIMEOUT)) {
            (self.on_event)(Event::StorageNotSettled(&why));
        }
        let checks = Checks::of(self.env);
        let before = checks.take(self.remaining()).map_err(Error::InventoryBefore)?;
        (self.on_event)(Event::Inventory { after: false, inventory: &before });
        let mapped = self.map_volumes(&before)?;

        self.begin(Step::Apply)?;
        // From here on nothing stops the destroy, not even its budget: a half-applied destroy plan
        // helps nobody. Only the hard ceiling does.
        if !self.options.interrupt.enter_apply() {
            return Err(Error::Interrupted { step: Step::Apply });
        }
        let applied = self
            .terraform
            .apply_plan(&plan_file, Run::within(self.ceiling_remaining()).progress(&mut |s, l| (self.on_event)(Event::Terraform(s, l))));
        drop(plan_dir);
        let left = matches!(applied, Err(terraform::Error::TimedOut { .. })).then(|| self.left_in_state());

        (self.on_event)(Event::Started(Step::InventoryAfter));
        let (after, lost) = before.lost_since(&checks, self.remaining().max(LAST_INVENTORY_FLOOR));
        let lost = volumes::name_volumes(lost, &mapped);
        (self.on_event)(Event::Inventory { after: true, inventory: &after });
        let summary = applied.map_err(|source| match left {
            Some(left) => Error::CeilingReached { ceiling: self.ceiling(), left, lost: lost.clone(), source: Box::new(source) },
            None => Error::ApplyFailed { source: Box::new(source), lost: lost.clone() },
        })?;
        if !lost.is_empty() {
            return Err(Error::ProtectedStorageLost { lost });
        }
        Ok(self.outcome(backup, pruned, Some(summary), after))
    }

    /// Maps every iSCSI PersistentVolume of the cluster to its LUN in `before` ([`volumes`]).
    fn map_volumes(&mut self, before: &Inventory) -> Result<Vec<Mapped>, Error> {
        let listed = volumes::list(self.env, self.remaining().min(VOLUMES_TIMEOUT));
        let volumes = match listed {
            Ok(volumes) => volumes.unwrap_or_default(),
            Err(why) => {
                (self.on_event)(Event::VolumesNotListed(&why));
                return Ok(Vec::new());
            }
        };
        let mapped = volumes::map(&self.env.protected.inventory, before, &volumes).map_err(Error::InventoryBefore)?;
        (self.on_event)(Event::Volumes(&mapped));
        Ok(mapped)
    }

    /// Announces `step`, unless an interruption was requested or the budget is spent.
    fn begin(&mut self, step: Step) -> Result<(), Error> {
        if self.options.interrupt.requested() {
            return Err(Error::Interrupted { step });
        }
        if self.remaining().is_zero() {
            return Err(Error::Terraform {
                step,
                source: Box::new(terraform::Error::TimedOut {
                    command: step.to_string(),
                    root: self.env.terraform.root.clone(),
                    timeout: self.budget(),
                    stderr: "the destroy budget (budgets.phases.destroy) was spent before this step".into(),
                }),
            });
        }
        (self.on_event)(Event::Started(step));
        Ok(())
    }

    /// `state pull`, the backup written and verified, the live state pulled again to prove it
    /// is still the state that was backed up, then old backups pruned.
    fn backup(&mut self) -> Result<(Backup, Vec<PathBuf>), Error> {
        let store = Store::for_env(self.env);
        let pull_failed = |source| terraform_error(Step::Backup, source);
        let stop = self.options.interrupt.stop_now_flag();
        let pulled = self.terraform.state_pull(Run::within(self.remaining()).cancel_on(stop.clone())).map_err(pull_failed)?;
        let backup = store.write(&pulled, jiff::Timestamp::now()).map_err(Error::BackupFailed)?;
        let live = self.terraform.state_pull(Run::within(self.remaining()).cancel_on(stop)).map_err(pull_failed)?;
        let live = live.state.ok_or(Error::BackupFailed(backup::Error::NoState))?;
        Store::confirm_live(&backup, &live).map_err(Error::BackupFailed)?;
        (self.on_event)(Event::BackedUp(&backup));
        let pruned = match store.prune(self.env.state_backup.keep, &backup.path) {
            Ok(pruned) => pruned,
            Err(e) => {
                (self.on_event)(Event::PruneFailed(&e));
                Vec::new()
            }
        };
        if !pruned.is_empty() {
            (self.on_event)(Event::Pruned(&pruned));
        }
        Ok((backup, pruned))
    }

    /// A private folder for the saved plan, removed when dropped: a plan file holds the prior
    /// state, secrets included.
    fn plan_dir(&self) -> Result<tempfile::TempDir, Error> {
        let dir = &self.env.work_dir;
        let work_dir_error = |source| Error::WorkDir { dir: dir.clone(), source };
        std::fs::create_dir_all(dir).map_err(work_dir_error)?;
        tempfile::Builder::new().prefix(PLAN_DIR_PREFIX).tempdir_in(dir).map_err(work_dir_error)
    }

    fn budget(&self) -> Duration {
        self.options.budget.unwrap_or_else(|| Phase::Destroy.budget(&self.env.budgets))
    }

    fn remaining(&self) -> Duration {
        self.budget().saturating_sub(self.started.elapsed())
    }

    /// The hard ceiling: the budget, plus as much again as `budgets.destroy-ceiling` allows past
    /// `budgets.phases.destroy` (a caller's shorter budget keeps the same margin).
    fn ceiling(&self) -> Duration {
        let budgets = &self.env.budgets;
        self.budget() + budgets.destroy_ceiling.saturating_sub(Phase::Destroy.budget(budgets))
    }

    fn ceiling_remaining(&self) -> Duration {
        self.ceiling().saturating_sub(self.started.elapsed())
    }

    /// The resources the state still holds after the ceiling stopped the apply.
    fn left_in_state(&self) -> Result<Vec<String>, String> {
        let pulled = self.terraform.state_pull(Run::within(STATE_AFTER_CEILING)).map_err(|e| vixens_diagnostic::error_chain(&e))?;
        Ok(pulled.state.map(|state| state.addresses()).unwrap_or_default())
    }

    fn outcome(&self, backup: Backup, pruned: Vec<PathBuf>, destroyed: Option<Summary>, inventory: Inventory) -> Outcome {
        Outcome { backup, pruned, destroyed, inventory, elapsed: self.started.elapsed(), budget: self.budget() }
    }
}

/// A terraform failure in `step`; a command stopped by a second signal is the destroy stopped.
fn terraform_error(step: Step, source: terraform::Error) -> Error {
    match source {
        terraform::Error::Interrupted { .. } => Error::Stopped { step },
        source => Error::Terraform { step, source: Box::new(source) },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::destroy::Confirmation;
    use crate::lease::{self, Lease};

    const SECRET: &str = "provisioning-s3cr3t-value";

    /// An environment the harness provisions, whose one resource prints `$LAB_TOKEN` (from
    /// `provisioning.env`) when it is created and when it is destroyed.
    fn provisioned(dir: &std::path::Path) -> Environment {
        let root = dir.join("terraform");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("main.tf"),
            "resource \"terraform_data\" \"lab\" {\n\
             \x20 provisioner \"local-exec\" {\n    command = \"echo created with $LAB_TOKEN\"\n  }\n\
             \x20 provisioner \"local-exec\" {\n    when    = destroy\n    command = \"echo destroyed with $LAB_TOKEN\"\n  }\n}\n",
        )
        .unwrap();
        let yaml = format!(
            "name: t\nkind: disposable\ninfra-repo: .\nwork-dir: work\nterraform:\n  root: terraform\n  data-dir: work/tf\nkubeconfig: k\ntalosconfig: t\n\
             nodes: []\nargocd: {{system-apps: {{max-sync-wave: 2}}}}\nprovisioning:\n  env: {{LAB_TOKEN: {SECRET}}}\n"
        );
        std::fs::write(dir.join("env.yaml"), yaml).unwrap();
        Environment::load_with(dir.join("env.yaml"), &BTreeMap::<String, String>::new()).unwrap()
    }

    #[test]
    fn provisioning_env_values_are_redacted_in_the_destroy_transcript_as_in_the_apply_one() {
        let dir = tempfile::tempdir().unwrap();
        let env = provisioned(dir.path());
        let redactor = env.redactor();
        let applied = dir.path().join("apply.log");
        let tf = env.terraform_driver(&redactor, Some(&applied));
        tf.init(Run::within(Duration::from_secs(120))).unwrap();
        tf.apply(Run::within(Duration::from_secs(120))).unwrap();

        let destroyed = dir.path().join("destroy.log");
        let mut options = Options::new(Confirmation::Flag("t".into()));
        options.redactor = redactor;
        options.transcript = Some(destroyed.clone());
        let held = Lease::acquire(&env.work_dir, "test", None, lease::DEFAULT_WAIT, |_, _| Ok(())).unwrap();
        let mut progress = Vec::new();
        run(&env, held.held(), &options, |event| {
            if let Event::Terraform(_, line) = event {
                progress.push(line.to_owned());
            }
        })
        .unwrap();
        for (what, text) in [("apply", std::fs::read_to_string(&applied).unwrap()), ("destroy", std::fs::read_to_string(&destroyed).unwrap())] {
            assert!(!text.contains(SECRET), "{what} transcript:\n{text}");
            assert!(text.contains("with [REDACTED:LAB_TOKEN]"), "{what} transcript:\n{text}");
        }
        assert!(progress.iter().any(|l| l.contains("destroyed with [REDACTED:LAB_TOKEN]")), "{progress:?}");
        assert!(!progress.iter().any(|l| l.contains(SECRET)));
    }
}
