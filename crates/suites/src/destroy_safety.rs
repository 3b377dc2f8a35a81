//! The `destroy_safety` suite: the specification's destroy-safety scenario ("destroy prompts for
//! confirmation, backs the state up automatically, and never destroys the NAS volumes or the MinIO
//! bucket") on one environment, through the one safe destroy path ([`vixens_ops::destroy`]).
//!
//! | trial | runs on | shows |
//! |---|---|---|
//! | `protected_environment_refused` | every environment | a protected environment (prod itself; elsewhere, this one marked protected) is refused with a matching confirmation, before terraform is ever started |
//! | `prompts_for_confirmation` | disposable | `vixens destroy` with no confirmation, a wrong `--confirm`, a wrong `VIXENS_CONFIRM_DESTROY` and a wrong name typed at the terminal prompt: each refused (exit 1), nothing changed |
//! | `state_backup_created` | disposable, destroys | an unwritable backup folder aborts before destroy; a destroy leaves a backup verified against the state it destroyed; running again works |
//! | `protected_storage_untouched` | disposable, destroys | the `protected-delete` fault is refused naming the address, state unchanged; a LUN wiped behind the harness's back (`wipe-lun`) is named after the destroy; a clean destroy leaves every protected item |
//!
//! On an on-demand environment (the lab: `provisioning` in env.yaml), every trial brings up its
//! own private instance ([`vixens_ops::instance`]) and always tears it down. On a real
//! disposable environment (dev), the trials that destroy run only when
//! `VIXENS_DESTROY_SAFETY_LIVE=1` (they are listed as ignored otherwise, never as passed); they
//! then destroy the real environment through the safe path and apply it again; faults cannot be
//! injected there, so only the clean paths run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libtest_mimic::{Completion, Failed, Trial};
use vixens_diagnostic::{error_causes, error_chain};

use vixens_drivers::process::Command;
use vixens_drivers::terraform::{Run, Terraform};
use vixens_ops::binaries;
use vixens_ops::destroy::{self, Confirmation, Options, Reason, backup, inventory::Inventory};
use vixens_ops::env::{EnvKind, Environment};
use vixens_ops::instance::Instance;
use vixens_ops::lease::{self, Lease, cleanup};

/// Set to `1` to let the destroying trials destroy (and re-apply) a real disposable environment.
pub const LIVE_VARIABLE: &str = "VIXENS_DESTROY_SAFETY_LIVE";

/// The lab NAS LUN that the lab's `protected-delete` and `wipe-lun` faults concern (the lab
/// terraform root's `protected_lun` default, the volume of the lab's vaultwarden app).
const LAB_LUN: &str = "vaultwarden-data";

/// How long `vixens destroy` may take to refuse (it refuses before running terraform).
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(60);

/// The trials of this suite for `env`.
#[must_use]
pub fn trials(env: &Environment) -> Vec<Trial> {
    let mut trials = vec![trial("protected_environment_refused", env, protected_environment_refused)];
    if env.is_protected() {
        return trials;
    }
    trials.push(trial("prompts_for_confirmation", env, prompts_for_confirmation));
    trials.push(destroying_trial("state_backup_created", env, state_backup_created));
    trials.push(destroying_trial("protected_storage_untouched", env, protected_storage_untouched));
    trials
}

fn trial(name: &str, env: &Environment, body: fn(&Environment) -> Result<(), Failed>) -> Trial {
    let env = env.clone();
    Trial::test(format!("destroy_safety::{name}"), move || body(&env))
}

/// A trial that destroys: on a real environment it is listed as ignored unless
/// [`LIVE_VARIABLE`] is `1`, and it ignores itself even when run with `--run-ignored`.
fn destroying_trial(name: &str, env: &Environment, body: fn(&Environment) -> Result<(), Failed>) -> Trial {
    let allowed = env.provisioning.is_some() || std::env::var(LIVE_VARIABLE).as_deref() == Ok("1");
    let env = env.clone();
    Trial::ignorable_test(format!("destroy_safety::{name}"), move || {
        if !allowed {
            return Ok(Completion::ignored_with(format!("it destroys `{}` and applies it again: set {LIVE_VARIABLE}=1 to let it", env.name)));
        }
        body(&env).map(|()| Completion::Completed)
    })
    .with_ignored_flag(!allowed)
}

/// Where a trial runs: a private instance of an on-demand environment, or the real one.
enum Subject {
    Instance(Instance),
    Live(Environment),
}

impl Subject {
    /// A private instance with `faults` for an on-demand environment; the environment itself
    /// otherwise (the trial was allowed to destroy it).
    fn of(env: &Environment, faults: &[&str]) -> Result<Self, Failed> {
        if env.provisioning.is_none() {
            return Ok(Self::Live(env.clone()));
        }
        let builder = faults.iter().fold(Instance::builder(&env.file), |b, f| b.fault(f));
        Ok(Self::Instance(builder.up().map_err(|e| failed("bringing up a private instance", &e))?))
    }

    fn env(&self) -> &Environment {
        match self {
            Self::Instance(instance) => instance.env(),
            Self::Live(env) => env,
        }
    }

    /// The environment's lease, which every destroy holds.
    fn lease(&self) -> Result<Lease, Failed> {
        let taken = match self {
            Self::Instance(instance) => instance.lease("destroy_safety"),
            Self::Live(env) => {
                Lease::acquire(&env.work_dir, "destroy_safety", None, lease::DEFAULT_WAIT, |item, held| cleanup::undo(env, held, item))
            }
        };
        taken.map_err(|e| failed("taking the environment's lease", &e))
    }

    fn terraform(&self) -> Terraform {
        match self {
            Self::Instance(instance) => instance.terraform(),
            Self::Live(env) => env.terraform_driver(&env.redactor(), None),
        }
    }

    /// The state's exact bytes, as `terraform state pull` prints them.
    fn state(&self) -> Result<Vec<u8>, Failed> {
        let pulled = self.terraform().state_pull(Run::within(self.env().budgets.phases.destroy)).map_err(|e| failed("terraform state pull", &e))?;
        Ok(pulled.bytes)
    }

    /// Fails unless the state is byte for byte `before` and the cluster's API still answers.
    fn unchanged_since(&self, before: &[u8], after_what: &str) -> Result<(), Failed> {
        if self.state()? != before {
            return Err(format!("the state changed after {after_what}").into());
        }
        api_answers(self.env()).map_err(|e| Failed::from(format!("the cluster's API no longer answers after {after_what}: {e}")))
    }

    /// Puts a real environment back after a trial destroyed it; an instance is torn down.
    fn finish(self) -> Result<(), Failed> {
        let terraform = self.terraform();
        match self {
            Self::Instance(instance) => instance.down().map_err(|e| failed("tearing the instance down", &e)),
            Self::Live(env) => terraform
                .apply(Run::within(env.budgets.phases.apply))
                .map(drop)
                .map_err(|e| failed("re-applying the environment after the trial", &e)),
        }
    }
}

fn protected_environment_refused(env: &Environment) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| failed("creating a temporary folder", &e))?;
    let marker = dir.path().join("terraform-was-run");
    let subject = if env.is_protected() || env.provisioning.is_none() { None } else { Some(Subject::of(env, &[])?) };
    let mut protected = subject.as_ref().map_or(env, Subject::env).clone();
    protected.kind = EnvKind::Protected;
    // If anything ran terraform, this stand-in would leave its marker.
    protected.terraform.binary = stand_in(dir.path(), &marker)?.display().to_string();
    let before = subject.as_ref().map(Subject::state).transpose()?;

    // Any lease will do: the refusal comes before anything looks at it.
    let scratch = Lease::acquire(dir.path(), "destroy_safety", None, lease::DEFAULT_WAIT, |item, held| cleanup::undo(&protected, held, item))
        .map_err(|e| failed("taking a scratch lease", &e))?;
    let result = destroy::run(&protected, scratch.held(), &Options::new(Confirmation::Flag(protected.name.clone())), |_| {});
    match result {
        Err(destroy::Error::Refused(refusal)) if matches!(refusal.reason, Reason::ProtectedEnvironment { .. }) => {}
        other => return Err(format!("a protected environment with a matching --confirm was not refused as protected: {other:?}").into()),
    }
    if marker.exists() {
        return Err("terraform was started for a protected environment".into());
    }
    if let (Some(subject), Some(before)) = (&subject, &before) {
        subject.unchanged_since(before, "the refusal")?;
    }
    subject.map_or(Ok(()), Subject::finish)
}

fn prompts_for_confirmation(env: &Environment) -> Result<(), Failed> {
    let subject = if env.provisioning.is_some() { Some(Subject::of(env, &[])?) } else { None };
    let vars: Vec<(String, String)> = match &subject {
        Some(Subject::Instance(instance)) => instance.vars().clone().into_iter().collect(),
        _ => Vec::new(),
    };
    let before = subject.as_ref().map(Subject::state).transpose()?;
    let vixens = binaries::binaries().map_err(|e| failed("building vixens", &e))?.vixens;
    let file = env.file.display().to_string();
    let wrong = format!("{}-typo", env.name);

    let no_terminal = Command::new(&vixens).args(["destroy", &file]).env_remove(destroy::confirmation::VARIABLE);
    expect_refusal(with_vars(no_terminal, &vars), "no confirmation: type the environment's name at the prompt")?;
    let flag = Command::new(&vixens).args(["destroy", &file, "--confirm", &wrong]).env_remove(destroy::confirmation::VARIABLE);
    expect_refusal(with_vars(flag, &vars), &format!("--confirm says {wrong:?}, which is not the environment's name `{}`", env.name))?;
    let variable = Command::new(&vixens).args(["destroy", &file]).env(destroy::confirmation::VARIABLE, &wrong);
    expect_refusal(with_vars(variable, &vars), &format!("VIXENS_CONFIRM_DESTROY says {wrong:?}"))?;
    // On a terminal (a pseudo-terminal from util-linux `script`), the prompt asks for the name.
    let typed = format!("exec {} destroy {}", shell_quote(&vixens.display().to_string()), shell_quote(&file));
    let terminal = Command::new("script").args(["-qec", &typed, "/dev/null"]).stdin(format!("{wrong}\n")).env_remove(destroy::confirmation::VARIABLE);
    let shown = expect_refusal(with_vars(terminal, &vars), &format!("the answer at the prompt says {wrong:?}"))?;
    if !shown.contains("Type the environment's name to confirm:") {
        return Err(format!("no prompt on a terminal:\n{shown}").into());
    }

    if let (Some(subject), Some(before)) = (&subject, &before) {
        subject.unchanged_since(before, "four refused destroys")?;
    }
    subject.map_or(Ok(()), Subject::finish)
}

fn state_backup_created(env: &Environment) -> Result<(), Failed> {
    let subject = Subject::of(env, &[])?;
    let before = subject.state()?;
    let live = vixens_drivers::terraform::State::parse(&before).map_err(|e| failed("reading the state", &e))?;
    let confirm = || Options::new(Confirmation::Flag(subject.env().name.clone()));
    let lease = subject.lease()?;

    // A backup folder that cannot be created: aborted before anything is destroyed.
    let scratch = tempfile::tempdir().map_err(|e| failed("creating a temporary folder", &e))?;
    let not_a_folder = scratch.path().join("backups");
    std::fs::write(&not_a_folder, "a file where the backup folder should be").map_err(|e| failed("creating a file", &e))?;
    let mut unwritable = subject.env().clone();
    unwritable.state_backup.dir.clone_from(&not_a_folder);
    match destroy::run(&unwritable, lease.held(), &confirm(), |_| {}) {
        Err(e @ destroy::Error::BackupFailed(backup::Error::CreateDir { .. })) if e.nothing_destroyed() => {}
        other => return Err(format!("an unwritable backup folder ({}) did not abort the destroy: {other:?}", not_a_folder.display()).into()),
    }
    subject.unchanged_since(&before, "the aborted destroy")?;

    // A destroy: its backup is the state it destroyed, verified.
    let outcome = destroy::run(subject.env(), lease.held(), &confirm(), |_| {}).map_err(|e| failed("the safe destroy", &e))?;
    let backup = backup::verify(&outcome.backup.path).map_err(|e| failed("verifying the backup", &e))?;
    if (backup.lineage.as_str(), backup.serial) != (live.lineage.as_str(), live.serial) {
        return Err(format!(
            "the backup has lineage {} serial {}, the destroyed state lineage {} serial {}",
            backup.lineage, backup.serial, live.lineage, live.serial
        )
        .into());
    }
    if std::fs::read(&backup.path).map_err(|e| failed("reading the backup", &e))? != before {
        return Err(format!("{} is not byte for byte the state that was destroyed", backup.path.display()).into());
    }
    if outcome.destroyed.is_none_or(|s| s.destroyed == 0) {
        return Err("the destroy destroyed nothing".into());
    }

    // Running again: nothing to destroy, and one more verified backup of the same lineage.
    let again = destroy::run(subject.env(), lease.held(), &confirm(), |_| {}).map_err(|e| failed("the second safe destroy", &e))?;
    if again.destroyed.is_some() || again.backup.lineage != live.lineage {
        return Err(format!("the second destroy found something to destroy, or another lineage: {again:?}").into());
    }
    let store = backup::Store::for_env(subject.env());
    let stored = store.list().map_err(|e| failed("listing the backups", &e))?;
    if !stored.contains(&backup.path) || !stored.contains(&again.backup.path) {
        return Err(format!("the backups are not both in {}: {stored:?}", store.dir().display()).into());
    }
    drop(lease);
    subject.finish()
}

fn protected_storage_untouched(env: &Environment) -> Result<(), Failed> {
    if env.provisioning.is_some() {
        protected_delete_is_refused(env)?;
        wiped_lun_is_named(env)?;
    }
    let subject = Subject::of(env, &[])?;
    let confirm = Options::new(Confirmation::Flag(subject.env().name.clone()));
    let mut before = Inventory::default();
    let lease = subject.lease()?;
    let outcome = destroy::run(subject.env(), lease.held(), &confirm, |event| {
        if let destroy::Event::Inventory { after: false, inventory } = event {
            before = inventory.clone();
        }
    })
    .map_err(|e| failed("the safe destroy", &e))?;
    for found in &before.checks {
        let after = outcome.inventory.checks.iter().find(|a| a.name == found.name).map_or(&[][..], |a| a.items.as_slice());
        if let Some(gone) = found.items.iter().find(|item| !after.contains(item)) {
            return Err(format!("{}: `{gone}` is gone after the destroy and the harness did not say so", found.name).into());
        }
    }
    drop(lease);
    subject.finish()
}

/// The lab's `protected-delete` fault puts a NAS LUN into the destroy plan: refused before
/// anything is destroyed, its address listed, the state unchanged.
fn protected_delete_is_refused(env: &Environment) -> Result<(), Failed> {
    let subject = Subject::of(env, &["protected-delete"])?;
    let before = subject.state()?;
    let lease = subject.lease()?;
    let result = destroy::run(subject.env(), lease.held(), &Options::new(Confirmation::Flag(subject.env().name.clone())), |_| {});
    drop(lease);
    let address = "terraform_data.nas_iscsi_lun[0]";
    match &result {
        Err(destroy::Error::Refused(refusal))
            if refusal.reason == Reason::ProtectedResources && refusal.addresses.iter().any(|o| o.address == address) =>
        {
            let text = refusal.to_string();
            if !text.contains(&format!("{address} (delete; protected address `terraform_data.nas_iscsi_lun*`)")) {
                return Err(format!("the refusal does not name the address and its rule: {text}").into());
            }
        }
        other => return Err(format!("with the protected-delete fault, the destroy was not refused naming {address}: {other:?}").into()),
    }
    subject.unchanged_since(&before, "the refused destroy")?;
    subject.finish()
}

/// The lab's `wipe-lun` fault deletes a LUN when the lab goes down: the harness names it after
/// the destroy.
fn wiped_lun_is_named(env: &Environment) -> Result<(), Failed> {
    let subject = Subject::of(env, &[&format!("wipe-lun={LAB_LUN}")])?;
    let Subject::Instance(instance) = &subject else { return Err("the wipe-lun fault needs a private instance".into()) };
    let checks = destroy::inventory::Checks::of(subject.env());
    let mut lun = String::new();
    instance
        .wait_until(&format!("the LUN of claim {LAB_LUN} provisioned by the lab's Argo CD"), subject.env().budgets.phases.argocd, || {
            lun = lun_target(subject.env(), LAB_LUN).unwrap_or_default();
            !lun.is_empty() && checks.take(Duration::from_secs(10)).is_ok_and(|i| i.checks.iter().any(|f| f.items.contains(&lun)))
        })
        .map_err(|e| failed("waiting for the LUN", &e))?;
    let lease = subject.lease()?;
    let result = destroy::run(subject.env(), lease.held(), &Options::new(Confirmation::Flag(subject.env().name.clone())), |_| {});
    drop(lease);
    match &result {
        Err(e @ destroy::Error::ProtectedStorageLost { lost }) if lost.iter().any(|l| l.item == lun && l.uncheckable.is_none()) => {
            let text = e.to_string();
            if !text.contains(&format!("NAS iSCSI LUNs `{lun}` (PV "))
                || !text.contains(&format!("/{LAB_LUN}) was there before the destroy and is gone"))
            {
                return Err(format!("the error does not name the LUN: {text}").into());
            }
        }
        other => return Err(format!("a LUN wiped during the destroy was not reported: {other:?}").into()),
    }
    subject.finish()
}

/// The iSCSI target of `claim`'s LUN, as the NAS inventory lists it: the Synology CSI driver
/// names the target after the claim's PersistentVolume (`iqn.2000-01.com.synology:<NAS>.<pv>`).
/// `None` until the claim is bound.
fn lun_target(env: &Environment, claim: &str) -> Option<String> {
    let selector = format!("metadata.name={claim}");
    let done = Command::new("kubectl")
        .args(["get", "pvc", "--all-namespaces", "--field-selector", &selector, "-o", "jsonpath={.items[0].spec.volumeName}"])
        .env("KUBECONFIG", env.kubeconfig.display().to_string())
        .timeout(Duration::from_secs(10))
        .run()
        .ok()?;
    let volume = done.stdout.trim();
    (done.code() == 0 && !volume.is_empty()).then(|| format!("iqn.2000-01.com.synology:synelia.{volume}"))
}

/// Fails with the error and its causes.
fn failed(what: &str, error: &dyn std::error::Error) -> Failed {
    Failed::from(format!("{what}: {}", error_causes(error)))
}

fn with_vars(mut command: Command, vars: &[(String, String)]) -> Command {
    for (name, value) in vars {
        command = command.env(name, value);
    }
    command
}

/// Runs a `vixens destroy` that must be refused: exit 1 with `message` in its output. Returns the
/// output.
fn expect_refusal(command: Command, message: &str) -> Result<String, Failed> {
    let done = command.timeout(REFUSAL_TIMEOUT).run().map_err(|e| failed("running vixens destroy", &e))?;
    let output = format!("{}{}", done.stdout, done.stderr);
    if done.code() != i32::from(destroy::exit::REFUSED) || !output.contains(message) || !output.contains("nothing was changed") {
        return Err(format!("expected a refusal (exit 1) saying {message:?} and \"nothing was changed\"; got exit {}:\n{output}", done.code()).into());
    }
    Ok(output)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A `terraform` stand-in that leaves `marker` if it is ever run.
fn stand_in(dir: &Path, marker: &Path) -> Result<PathBuf, Failed> {
    let path = dir.join("terraform");
    let script = format!("#!/bin/sh\ntouch {}\nexit 1\n", shell_quote(&marker.display().to_string()));
    std::fs::write(&path, script).map_err(|e| failed("writing a terraform stand-in", &e))?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).map_err(|e| failed("making it executable", &e))?;
    Ok(path)
}

/// The cluster's Kubernetes API answers `GET /version` (the lab is still up).
fn api_answers(env: &Environment) -> Result<(), String> {
    vixens_ops::probe::api(&env.kubeconfig, "kubeconfig", Duration::from_secs(10)).map(drop).map_err(|e| error_chain(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment in a fresh folder: `kind`, and `provisioning` (on demand) or not.
    fn environment(dir: &Path, kind: &str, on_demand: bool) -> Environment {
        std::fs::create_dir_all(dir.join("terraform")).unwrap();
        let provisioning = if on_demand { "provisioning:\n  env: {}\n" } else { "" };
        let yaml = format!(
            "name: t\nkind: {kind}\ninfra-repo: .\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
             nodes:\n  - {{ name: cp1, address: 192.0.2.1, role: controlplane }}\n\
             argocd:\n  system-apps: {{ max-sync-wave: 2 }}\n{provisioning}"
        );
        std::fs::write(dir.join("env.yaml"), yaml).unwrap();
        Environment::load_with(dir.join("env.yaml"), &std::collections::BTreeMap::new()).unwrap()
    }

    fn listed(trials: &[Trial]) -> Vec<(String, bool)> {
        trials.iter().map(|t| (t.name().to_owned(), t.has_ignored_flag())).collect()
    }

    #[test]
    fn a_protected_environment_only_proves_it_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let trials = trials(&environment(dir.path(), "protected", false));
        assert_eq!(listed(&trials), [("destroy_safety::protected_environment_refused".to_owned(), false)]);
    }

    #[test]
    fn on_a_real_disposable_environment_the_destroying_trials_are_ignored() {
        if std::env::var(LIVE_VARIABLE).is_ok() {
            return; // this machine asked for live destroys: the listing differs on purpose
        }
        let dir = tempfile::tempdir().unwrap();
        let trials = trials(&environment(dir.path(), "disposable", false));
        assert_eq!(
            listed(&trials),
            [
                ("destroy_safety::protected_environment_refused".to_owned(), false),
                ("destroy_safety::prompts_for_confirmation".to_owned(), false),
                ("destroy_safety::state_backup_created".to_owned(), true),
                ("destroy_safety::protected_storage_untouched".to_owned(), true),
            ]
        );
    }

    #[test]
    fn on_an_on_demand_environment_every_trial_runs() {
        let dir = tempfile::tempdir().unwrap();
        let trials = trials(&environment(dir.path(), "disposable", true));
        assert_eq!(trials.len(), 4);
        assert!(trials.iter().all(|t| !t.has_ignored_flag()));
    }
}
