//! A private instance of an on-demand environment (one whose env.yaml has `provisioning`: the
//! lab, the second lab), for tests that destroy what they bring up.
//!
//! [`Instance::builder`] loads the env.yaml with `VIXENS_WORK_DIR` pointed at a fresh temporary
//! folder, `VIXENS_LAB_BIN` at the `vixens-lab` of [`crate::binaries::binaries`] and `VIXENS_LAB_FAULTS`
//! at the faults asked for, then brings it up with the real terraform (`init`, `apply`). The
//! instance is always torn down, on [`Instance::down`] or when dropped, even when the test fails,
//! through the safe destroy ([`crate::destroy`]) with its protected inventory: a LUN the teardown
//! loses fails [`Instance::down`] naming it. Only a destroy the guard refuses because a fault put
//! protected storage under terraform (`protected-delete`) falls back to `terraform destroy`: the
//! instance's NAS is in its own folder. Its folder then goes, which also stops any lab daemon
//! left behind (the lab stops within a second of its state folder being deleted).
//!
//! ```no_run
//! # use vixens_ops::instance::Instance;
//! # fn demo(env_file: &std::path::Path) -> Result<(), vixens_ops::instance::Error> {
//! let lab = Instance::builder(env_file).fault("protected-delete").up()?;
//! // ... run the safe destroy on lab.env() ...
//! lab.down()?;
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::env::{EnvConfigError, Environment, ProcessVars, VarSource};
use vixens_drivers::terraform::{self, Run, Terraform};

/// `terraform init` of a lab takes well under a second; this leaves room for a loaded machine.
const INIT_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an instance could not be brought up or torn down.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The env.yaml has no `provisioning`: it describes a cluster that is expected to be running,
    /// which a test must never bring up or tear down by itself.
    #[error("{env} is not an on-demand environment (no `provisioning` in its env.yaml)")]
    NotOnDemand {
        /// The env.yaml.
        env: PathBuf,
    },
    /// `vixens-lab` could not be built.
    #[error("cannot build the harness binaries")]
    Binaries(#[source] crate::binaries::Error),
    /// The temporary work folder could not be created.
    #[error("cannot create a temporary work folder")]
    WorkDir(#[source] std::io::Error),
    /// The env.yaml does not load with the instance's variables.
    #[error("cannot load the environment")]
    Load(#[source] EnvConfigError),
    /// A terraform command failed.
    #[error("terraform {step} of the instance failed")]
    Terraform {
        /// `init`, `apply` or `destroy`.
        step: &'static str,
        /// What terraform did.
        #[source]
        source: terraform::Error,
    },
    /// The credentials of the apply could not be installed, or the read-only identity minted.
    #[error("the credentials of the instance could not be taken from its apply")]
    Credentials(#[source] Box<crate::credentials::Error>),
    /// The safe destroy of the instance failed (a lost LUN, an inventory that cannot be taken).
    #[error("the safe destroy of the instance failed")]
    Destroy(#[source] Box<crate::destroy::Error>),
    /// The instance's lease could not be taken to destroy it.
    #[error("cannot take the instance's lease to destroy it")]
    Lease(#[source] crate::lease::Error),
    /// A condition the test waited for did not come true in time.
    #[error("{what} did not happen within {}", humantime::format_duration(*.timeout))]
    TimedOut {
        /// What was awaited.
        what: String,
        /// How long.
        timeout: Duration,
    },
}

/// How to bring an instance up.
#[derive(Debug, Clone)]
pub struct Builder {
    env_file: PathBuf,
    faults: Vec<String>,
    vars: BTreeMap<String, String>,
}

/// A running private instance, torn down when dropped.
#[derive(Debug)]
pub struct Instance {
    env: Environment,
    vars: BTreeMap<String, String>,
    work: tempfile::TempDir,
    up: bool,
}

impl Builder {
    /// Injects a fault (`VIXENS_LAB_FAULTS`, comma-joined), such as `protected-delete` or
    /// `wipe-lun=vaultwarden-data`.
    #[must_use]
    pub fn fault(mut self, fault: &str) -> Self {
        self.faults.push(fault.to_owned());
        self
    }

    /// Sets a variable for the env.yaml (after the instance's own, so it can override them).
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Loads the environment into a fresh temporary work folder and brings it up: `terraform
    /// init`, then `terraform apply` within the environment's apply budget, then its credentials
    /// installed and its read-only identity minted.
    ///
    /// # Errors
    /// [`Error::NotOnDemand`] for an environment without `provisioning`; otherwise the step that
    /// failed. Whatever was brought up is torn down before the error is returned.
    pub fn up(self) -> Result<Instance, Error> {
        let lab = crate::binaries::binaries().map_err(Error::Binaries)?;
        let work = tempfile::Builder::new().prefix("vixens-instance-").tempdir().map_err(Error::WorkDir)?;
        let mut vars = BTreeMap::from([
            ("VIXENS_WORK_DIR".to_owned(), work.path().display().to_string()),
            ("VIXENS_LAB_BIN".to_owned(), lab.vixens_lab.display().to_string()),
            ("VIXENS_LAB_FAULTS".to_owned(), self.faults.join(",")),
        ]);
        vars.extend(self.vars);
        let env = Environment::load_with(&self.env_file, &Overlay(&vars)).map_err(Error::Load)?;
        if env.provisioning.is_none() {
            return Err(Error::NotOnDemand { env: self.env_file });
        }
        let mut instance = Instance { env, vars, work, up: false };
        let terraform = instance.terraform();
        terraform.init(Run::within(INIT_TIMEOUT)).map_err(|source| Error::Terraform { step: "init", source })?;
        // From here on, a failed apply may have created something: tear it down on drop.
        instance.up = true;
        terraform.apply(Run::within(instance.env.budgets.phases.apply)).map_err(|source| Error::Terraform { step: "apply", source })?;
        // As the harness does after every apply: the new credentials where env.yaml says, and
        // the read-only identity minted with them.
        let credentials = |e| Error::Credentials(Box::new(e));
        crate::credentials::install_from_outputs(&instance.env, &terraform, Run::within(INIT_TIMEOUT)).map_err(credentials)?;
        crate::runtime::block_on(crate::credentials::mint_read_only(&instance.env)).map_err(credentials)?;
        Ok(instance)
    }
}

impl Instance {
    /// An instance of the environment described by `env_file` (see [`Builder::up`]).
    #[must_use]
    pub fn builder(env_file: impl Into<PathBuf>) -> Builder {
        Builder { env_file: env_file.into(), faults: Vec::new(), vars: BTreeMap::new() }
    }

    /// The environment, as loaded for this instance.
    #[must_use]
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// The variables this instance was loaded with (work dir, lab binary, faults): give them to a
    /// `vixens` child process so that it loads the same environment.
    #[must_use]
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// The temporary folder everything of this instance lives in.
    #[must_use]
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// Terraform for this instance, with the environment's provisioning variables.
    #[must_use]
    pub fn terraform(&self) -> Terraform {
        self.env.terraform_driver(&self.env.redactor(), None)
    }

    /// Takes the instance's lease (its work dir's), for what destroys it: the safe destroy
    /// demands it. Give it back before a `vixens` child process destroys the instance.
    ///
    /// # Errors
    /// [`crate::lease::Error`]: another process holds it.
    pub fn lease(&self, purpose: &str) -> Result<crate::lease::Lease, crate::lease::Error> {
        let env = &self.env;
        crate::lease::Lease::acquire(&env.work_dir, purpose, None, crate::lease::DEFAULT_WAIT, |item, held| {
            crate::lease::cleanup::undo(env, held, item)
        })
    }

    /// Polls `done` every 200 ms until it is true.
    ///
    /// # Errors
    /// [`Error::TimedOut`] naming `what` when `timeout` passes first.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Result<(), Error> {
        let started = Instant::now();
        while !done() {
            if started.elapsed() > timeout {
                return Err(Error::TimedOut { what: what.to_owned(), timeout });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    }

    /// Tears the instance down through the safe destroy and removes its folder.
    ///
    /// # Errors
    /// [`Error::Destroy`] when the safe destroy fails (a LUN lost names it), [`Error::Lease`],
    /// [`Error::Terraform`] when the fallback `terraform destroy` fails; the folder is removed
    /// all the same.
    pub fn down(mut self) -> Result<(), Error> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<(), Error> {
        if !std::mem::take(&mut self.up) {
            return Ok(());
        }
        let env = &self.env;
        let lease = self.lease("instance teardown").map_err(Error::Lease)?;
        let budget = env.budgets.phases.destroy;
        let options = crate::destroy::unattended::options(env, &env.redactor(), None, budget);
        match crate::destroy::run(env, lease.held(), &options, |_| {}) {
            Ok(_) | Err(crate::destroy::Error::BackupFailed(crate::destroy::backup::Error::NoState)) => Ok(()),
            Err(crate::destroy::Error::Refused(refusal)) if refusal.reason == crate::destroy::Reason::ProtectedResources => {
                drop(lease);
                self.terraform().destroy(Run::within(budget)).map(drop).map_err(|source| Error::Terraform { step: "destroy", source })
            }
            Err(e) => Err(Error::Destroy(Box::new(e))),
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            tracing::warn!(error = %e, work_dir = %self.work.path().display(), "the instance could not be destroyed; removing its folder stops the lab");
        }
    }
}

/// The instance's variables first, then the process environment.
struct Overlay<'a>(&'a BTreeMap<String, String>);

impl VarSource for Overlay<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned().or_else(|| ProcessVars.var(name))
    }
}
