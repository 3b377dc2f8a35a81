//! The environment one suite test runs on: what a killed run left is reaped first, the test
//! takes the environment's [lease](crate::lease), an on-demand environment (env.yaml
//! `provisioning`: the lab) is brought up in its work dir if it is not up, and whatever the test
//! brought up is torn down when it ends. Nothing the test starts outlives it, even when nextest
//! kills it: the lease on disk lists what was started, and the next run's reaper undoes it.
//!
//! nextest runs every test in its own process and the tests of one environment one at a time
//! (its test group), so each test opens its own session:
//!
//! ```no_run
//! # fn demo(env: &harness::env::Environment) -> Result<(), harness::testkit::session::Error> {
//! use harness::testkit::session::{Session, Use};
//! let session = Session::open(env, "fresh_cluster_validation::recreate_cycle", Use::Recreate)?;
//! // ... destroy and recreate env ...
//! session.close()?;
//! # Ok(()) }
//! ```
//!
//! A real cluster (no `provisioning`) is never brought up or torn down: it is expected to run.
//! Tearing down goes through the one safe destroy path ([`crate::destroy`]), so a protected
//! resource in the plan stops it like any destroy.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cycle::phases;
use crate::destroy;
use crate::env::Environment;
use crate::evidence::Failure;
use crate::kube::Cluster;
use crate::lease::{self, Lease, Started};
use crate::process::Command;
use crate::redact::Redactor;

/// How long `vixens-lab down` may take: it waits for the daemon to exit (SIGTERM, then SIGKILL).
const LAB_DOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a running environment's API gets to answer before it counts as not up.
const UP_PROBE: Duration = Duration::from_secs(2);

/// What the test does with the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Reads it only (the read-only checks).
    Read,
    /// Destroys and recreates it (the recreate cycle): the lease lists terraform before it runs.
    Recreate,
}

/// Why a session could not open or close.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The harness's binaries could not be built.
    #[error("cannot build the harness binaries an on-demand environment runs")]
    Binaries(#[source] super::Error),
    /// The lease could not be taken, or what a killed run left could not be cleaned up.
    #[error(transparent)]
    Lease(#[from] lease::Error),
    /// The on-demand environment could not be brought up.
    #[error("cannot bring {environment} up for the test: phase {} failed ({}): {}", .failure.phase, .failure.culprit, .failure.message)]
    BringUp {
        /// The environment.
        environment: String,
        /// What failed, naming its culprit.
        failure: Failure,
    },
    /// What the test brought up could not be torn down; the lease is kept, so the next run
    /// tries again (a lab daemon is stopped all the same).
    #[error("cannot tear {environment} down after the test ({}): {}", .failure.culprit, .failure.message)]
    Teardown {
        /// The environment.
        environment: String,
        /// What failed.
        failure: Failure,
    },
}

/// An open session; see the [module docs](self). Dropping it tears down as [`Session::close`]
/// does, logging what fails.
#[derive(Debug)]
pub struct Session {
    env: Environment,
    lease: Option<Lease>,
    brought_up: bool,
    redactor: Redactor,
}

impl Session {
    /// Opens a session on `env` for the test `purpose`.
    ///
    /// # Errors
    /// [`Error::Lease`] when another run holds the environment or a killed run's leftovers
    /// cannot be cleaned up; [`Error::BringUp`] when an on-demand environment cannot be applied
    /// (what was applied is torn down first).
    pub fn open(env: &Environment, purpose: &str, usage: Use) -> Result<Self, Error> {
        let on_demand = env.provisioning.is_some();
        let mut env = env.clone();
        if on_demand {
            // The harness's own binaries (the lab's `vixens-lab`, `vixens`) are found on PATH.
            let binaries = super::binaries().map_err(Error::Binaries)?;
            env.tools_path.extend(binaries.vixens_lab.parent().map(Path::to_owned));
        }
        let mut redactor = Redactor::new();
        redactor.add_config_file(&env.kubeconfig);
        redactor.add_config_file(&env.talosconfig);
        lease::reap(&env.work_dir, lease::DEFAULT_WAIT, |item| undo(&env, &redactor, item))?;
        let mut session = Self { env, lease: None, brought_up: false, redactor };
        if !on_demand && usage == Use::Read {
            return Ok(session);
        }
        session.lease = Some(Lease::take(&session.env.work_dir, purpose, lease::DEFAULT_WAIT)?);
        if !on_demand {
            return Ok(session);
        }
        if usage == Use::Recreate {
            session.record_terraform()?;
        }
        if !is_up(&session.env) {
            session.bring_up()?;
        }
        Ok(session)
    }

    /// The environment, as tests must use it: for an on-demand environment, with the harness's
    /// binaries on its `tools-path`.
    #[must_use]
    pub fn env(&self) -> &Environment {
        &self.env
    }

    /// True when this session brought the environment up (and will tear it down).
    #[must_use]
    pub fn brought_up(&self) -> bool {
        self.brought_up
    }

    /// Tears down what this session brought up and releases the lease.
    ///
    /// # Errors
    /// [`Error::Teardown`] (the lease is then kept for the next run's reaper), [`Error::Lease`].
    pub fn close(mut self) -> Result<(), Error> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<(), Error> {
        if std::mem::take(&mut self.brought_up)
            && let Err(failure) = phases::destroy::run(&self.env, &self.redactor, None, &mut |_| {})
        {
            // The lease stays on disk for the next run's reaper; the lab itself stops now.
            if let Some(lease) = self.lease.take() {
                for item in &lease.record_ref().started {
                    if let Started::Lab { bin, state_dir } = item {
                        let _ = lab_down(bin, state_dir);
                    }
                }
            }
            return Err(Error::Teardown { environment: self.env.name.clone(), failure });
        }
        match self.lease.take() {
            Some(lease) => Ok(lease.release()?),
            None => Ok(()),
        }
    }

    /// Lists terraform (and the lab its apply starts) in the lease, before it runs.
    fn record_terraform(&mut self) -> Result<(), Error> {
        let lease = self.lease.as_mut().expect("an on-demand session holds the lease");
        let tf = &self.env.terraform;
        lease.record(Started::Terraform { root: tf.root.clone(), data_dir: tf.data_dir.clone() })?;
        // The lab's terraform root runs `vixens-lab up` (variables `lab_bin`, `state_dir`).
        if let (Some(bin), Some(state_dir)) = (tf.vars.get("lab_bin"), tf.vars.get("state_dir")) {
            let bin = find_program(bin, &self.env.tools_path);
            lease.record(Started::Lab { bin, state_dir: PathBuf::from(state_dir) })?;
        }
        Ok(())
    }

    /// `terraform apply`; when the API still does not answer (a state left by a run whose lab
    /// has since stopped: apply saw nothing to do), the stale state is destroyed and applied
    /// again.
    fn bring_up(&mut self) -> Result<(), Error> {
        self.record_terraform()?;
        self.brought_up = true;
        let budget = self.env.budgets.phases.apply;
        let failed = |failure| Error::BringUp { environment: self.env.name.clone(), failure };
        phases::apply::run(&self.env, &self.redactor, None, budget, &mut |_| {}).map_err(failed)?;
        if is_up(&self.env) {
            return Ok(());
        }
        tracing::info!(environment = %self.env.name, "the API does not answer after apply: destroying the stale state and applying again");
        phases::destroy::run(&self.env, &self.redactor, None, &mut |_| {}).map_err(failed)?;
        phases::apply::run(&self.env, &self.redactor, None, budget, &mut |_| {}).map_err(failed)?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            tracing::warn!("{e}");
        }
    }
}

/// True when `env`'s Kubernetes API answers within [`UP_PROBE`] with its admin kubeconfig.
fn is_up(env: &Environment) -> bool {
    if !env.kubeconfig.is_file() {
        return false;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return false };
    runtime.block_on(async {
        match Cluster::from_kubeconfig(&env.kubeconfig).await {
            Ok(cluster) => cluster.probe(UP_PROBE).await.is_ok(),
            Err(_) => false,
        }
    })
}

/// Undoes one item a killed run left.
fn undo(env: &Environment, redactor: &Redactor, item: &Started) -> Result<(), String> {
    match item {
        Started::Lab { bin, state_dir } => lab_down(bin, state_dir),
        // An apply killed before it wrote any state left nothing for terraform to destroy.
        Started::Terraform { .. } => match destroy::run(env, &phases::destroy::options(env, redactor, None), |_| {}) {
            Ok(_) | Err(destroy::Error::BackupFailed(destroy::backup::Error::NoState)) => Ok(()),
            Err(e) => Err(phases::chain(&e)),
        },
    }
}

/// `program` as a path: itself when it names a path, else the first match in `dirs` then PATH,
/// else the bare name (running it will then say it is missing).
fn find_program(program: &str, dirs: &[PathBuf]) -> PathBuf {
    if program.contains('/') {
        return PathBuf::from(program);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    dirs.iter().cloned().chain(std::env::split_paths(&path)).map(|dir| dir.join(program)).find(|candidate| candidate.is_file()).unwrap_or_else(|| PathBuf::from(program))
}

/// `vixens-lab down --state-dir DIR`: stops the lab, and succeeds on a stopped one.
fn lab_down(bin: &Path, state_dir: &Path) -> Result<(), String> {
    let done = Command::new(bin).arg("down").arg("--state-dir").arg(state_dir).timeout(LAB_DOWN_TIMEOUT).run().map_err(|e| phases::chain(&e))?;
    if done.success() { Ok(()) } else { Err(format!("`{} down --state-dir {}` failed: {}", bin.display(), state_dir.display(), done.stderr_tail(5))) }
}
