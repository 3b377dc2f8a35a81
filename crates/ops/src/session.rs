//! The environment one suite test runs on. [`Session::open`] takes the environment's
//! [lease](crate::lease::Lease) (reaping what a killed or finished run left), and brings an on-demand
//! environment (env.yaml `provisioning`: the labs) up if it is not up; [`Session::close`] gives
//! it back. Nothing a session starts outlives the run:
//!
//! - Under nextest, an on-demand environment is kept up for the whole run: the next test of the
//!   run (another process) adopts it instead of provisioning it again, and a janitor process
//!   tears it down once the run's runner exits, however the run ends. If the janitor is killed
//!   too, the next run's first session reaps it.
//! - Outside nextest, each session tears down what it brought up when it closes (or is dropped).
//!
//! ```no_run
//! # fn demo(env: &crate::env::Environment) -> Result<(), crate::session::Error> {
//! use crate::session::{Session, Use};
//! let session = Session::open(env, "fresh_cluster_validation::recreate_cycle", Use::Recreate)?;
//! let env = session.env(); // with the harness's binaries on its tools-path
//! // ... destroy and recreate env ...
//! session.close()?;
//! # Ok(()) }
//! ```
//!
//! A real cluster (no `provisioning`) is never brought up or torn down: it is expected to run. A
//! destructive session on it only takes the lease, so that two runs never recreate it at once.
//! Tearing down goes through the one safe destroy path ([`crate::destroy`]), so a protected
//! resource in the plan stops it like any destroy.

use std::path::{Path, PathBuf};

use crate::env::Environment;
use crate::evidence::Failure;
use crate::lease::{self, Found, Held, Lease, RunRef, Started, cleanup};
use crate::provision;

/// What the test does with the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Reads it only (the read-only checks, documented commands).
    Read,
    /// Destroys and recreates it (the recreate cycle): the lease lists terraform before it runs.
    Recreate,
}

/// Why a session could not open or close.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The harness's binaries could not be built.
    #[error("cannot build the harness binaries an on-demand environment runs")]
    Binaries(#[source] crate::binaries::Error),
    /// The lease could not be taken, or what an earlier run left could not be cleaned up.
    #[error(transparent)]
    Lease(#[from] lease::Error),
    /// The janitor that tears the environment down after the run could not be started: the
    /// environment is not brought up, since nothing would tear it down.
    #[error("cannot start the janitor of {environment} (vixens lease janitor)")]
    Janitor {
        /// The environment.
        environment: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The on-demand environment could not be brought up.
    #[error("cannot bring {environment} up for the test: phase {} failed ({}): {}", .failure.phase, .failure.culprit, .failure.message)]
    BringUp {
        /// The environment.
        environment: String,
        /// What failed, naming its culprit.
        failure: Failure,
    },
    /// What the session started could not be torn down; the lease keeps it for the next run's
    /// reaper.
    #[error("cannot tear {environment} down after the test: {message}")]
    Teardown {
        /// The environment.
        environment: String,
        /// What failed.
        message: String,
    },
}

/// An open session; see the [module docs](self).
#[derive(Debug)]
pub struct Session {
    env: Environment,
    lease: Option<Lease>,
    /// The janitor this session started, if it started one (the run's first session does).
    janitor: Option<lease::ProcessRef>,
}

impl Session {
    /// Opens a session on `env` for the test `purpose`.
    ///
    /// # Errors
    /// [`Error::Lease`] when another run holds the environment or an earlier run's leftovers
    /// cannot be cleaned up; [`Error::Binaries`], [`Error::Janitor`]; [`Error::BringUp`] when an
    /// on-demand environment cannot be applied.
    pub fn open(env: &Environment, purpose: &str, usage: Use) -> Result<Self, Error> {
        let mut env = env.clone();
        let Some(_) = &env.provisioning else {
            // A real cluster: only a destructive test takes the lease, to keep other runs away.
            let lease = match usage {
                Use::Recreate => {
                    Some(Lease::acquire(&env.work_dir, purpose, None, lease::DEFAULT_WAIT, |item, held| cleanup::undo(&env, held, item))?)
                }
                Use::Read => None,
            };
            return Ok(Self { env, lease, janitor: None });
        };
        // The lab's terraform root and documented commands run the harness's own binaries.
        let binaries = crate::binaries::binaries().map_err(Error::Binaries)?;
        env.tools_path.extend(binaries.vixens_lab.parent().map(Path::to_owned));
        let run = RunRef::current();
        let lease = Lease::acquire(&env.work_dir, purpose, run.clone(), lease::DEFAULT_WAIT, |item, held| cleanup::undo(&env, held, item))?;
        let mut session = Self { env, lease: Some(lease), janitor: None };
        if let Some(run) = &run {
            session.ensure_janitor(&binaries.vixens, run)?;
        }
        if usage == Use::Recreate {
            session.record_terraform()?;
        }
        if !provision::is_up(&session.env) {
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

    /// The proof that this session holds the environment's lease, for what destroys it: `None`
    /// for a read-only session on a real cluster, which holds none.
    #[must_use]
    pub fn lease(&self) -> Option<Held<'_>> {
        self.lease.as_ref().map(Lease::held)
    }

    /// What an earlier run had left on the environment and this session undid before anything
    /// else, if anything: the suites say so in the test's output.
    #[must_use]
    pub fn reaped(&self) -> Option<&lease::Record> {
        match self.lease.as_ref().map(Lease::found) {
            Some(Found::Reaped(record)) if !record.started.is_empty() => Some(record),
            _ => None,
        }
    }

    /// When this session started the run's janitor: what the run's output must say, since the
    /// janitor acts after the run has ended (however it ends) and writes only to its log:
    /// `lab is kept up for nextest run R; once the run is over, janitor pid N tears it down and
    /// writes what it undid to <work dir>/janitor.log`.
    #[must_use]
    pub fn janitor_notice(&self) -> Option<String> {
        let janitor = self.janitor.as_ref()?;
        let run = self.lease.as_ref().and_then(|l| l.record().run.as_ref()).map_or_else(String::new, |r| format!(" for nextest run {}", r.id));
        Some(format!(
            "vixens: {} is kept up{run}; once the run is over, however it ends, janitor pid {} tears it down and writes what it undid to {}",
            self.env.name,
            janitor.pid,
            self.env.work_dir.join(cleanup::JANITOR_LOG).display()
        ))
    }

    /// Gives the environment back: under nextest, an on-demand environment stays up for the
    /// rest of the run (its janitor tears it down); otherwise what the session started is torn
    /// down now.
    ///
    /// # Errors
    /// [`Error::Teardown`] (the lease then keeps what is left for the next run's reaper),
    /// [`Error::Lease`].
    pub fn close(mut self) -> Result<(), Error> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), Error> {
        let Some(lease) = self.lease.take() else { return Ok(()) };
        if lease.record().run.is_some() {
            // Kept for the run: the record stays, the lock goes with `lease`.
            return Ok(());
        }
        let mut left = lease.record().started.clone();
        while let Some(next) = lease::next_to_undo(&left) {
            let item = left.remove(next);
            cleanup::undo(&self.env, lease.held(), &item).map_err(|failure| Error::Teardown {
                environment: self.env.name.clone(),
                message: format!("{item}: {}\nto unwedge it: {}", failure.message, failure.remedy),
            })?;
        }
        Ok(lease.release()?)
    }

    /// Starts the janitor of `run` unless a live one is recorded.
    fn ensure_janitor(&mut self, vixens: &Path, run: &RunRef) -> Result<(), Error> {
        let lease = self.lease.as_mut().expect("an on-demand session holds the lease");
        if lease.record().janitor.is_some_and(|j| j.alive()) {
            return Ok(());
        }
        let path = crate::binaries::search_path(&self.env.tools_path);
        let janitor =
            cleanup::spawn_janitor(vixens, &self.env, run, &path).map_err(|source| Error::Janitor { environment: self.env.name.clone(), source })?;
        lease.set_janitor(janitor)?;
        self.janitor = Some(janitor);
        Ok(())
    }

    /// Lists terraform (and the lab its apply starts) in the lease, before it runs.
    fn record_terraform(&mut self) -> Result<(), Error> {
        let lease = self.lease.as_mut().expect("an on-demand session holds the lease");
        let tf = &self.env.terraform;
        lease.add(Started::Terraform { root: tf.root.clone(), data_dir: tf.data_dir.clone() })?;
        // The lab's terraform root runs `vixens-lab up` (variables `lab_bin`, `state_dir`).
        if let (Some(bin), Some(state_dir)) = (tf.vars.get("lab_bin"), tf.vars.get("state_dir")) {
            let bin = find_program(bin, &self.env.tools_path);
            lease.add(Started::Lab { bin, state_dir: PathBuf::from(state_dir) })?;
        }
        Ok(())
    }

    /// Brings the environment up, terraform recorded in the lease first.
    fn bring_up(&mut self) -> Result<(), Error> {
        self.record_terraform()?;
        let lease = self.lease.as_ref().expect("an on-demand session holds the lease");
        provision::up(&self.env, lease.held(), &mut |_| {}).map_err(|failure| Error::BringUp { environment: self.env.name.clone(), failure })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            tracing::warn!("{e}");
        }
    }
}

/// `program` as a path (see [`crate::binaries::find`]), else the bare name (running it will then
/// say it is missing).
fn find_program(program: &str, dirs: &[PathBuf]) -> PathBuf {
    crate::binaries::find(program, dirs).unwrap_or_else(|| PathBuf::from(program))
}
