//! The lease: what the harness has started on an environment, written on disk before it starts
//! it, so that nothing the harness starts outlives the run, even when the run is killed.
//!
//! nextest runs every test in its own process, the tests of one environment one at a time (its
//! test group), and may kill a test at its timeout or the whole run on Ctrl-C. So neither a test
//! process nor the run can be relied on to clean up after itself. Instead:
//!
//! - `<work dir>/lease.lock` is an `flock` held by whoever uses the environment right now (a
//!   test, or a janitor tearing down): the kernel releases it when its holder dies, so "in use"
//!   is immune to pid reuse.
//! - `<work dir>/lease.json` ([`Record`]) lists what was started, each item added with
//!   [`Lease::record`] **before** it starts, and the nextest run ([`RunRef`]: its id and its
//!   runner process) the environment is kept up for. Between the tests of one run the lock is
//!   free and the record stays, so the next test of the same run adopts the environment instead
//!   of provisioning it again ([`Lease::acquire`]).
//! - A janitor process ([`cleanup::janitor`], started by `vixens lease janitor`) waits for the
//!   run's runner to exit, then undoes what the record lists.
//! - Whoever takes the lock first in a later run finds a record whose run is over (runner gone)
//!   or that belongs to no run: stale. It is reaped before anything else happens: each item
//!   undone, the newest terraform apply first ([`next_to_undo`], [`cleanup::undo`]: its state
//!   destroyed through the safe destroy path, which stops the lab it started), then the rest
//!   newest first (a lab stopped with `vixens-lab down` between two takes of the protected
//!   inventory).
//!
//! Processes are identified by pid **and** start time (`/proc/<pid>/stat`), so a recycled pid
//! never passes for a runner or janitor that is gone.
//!
//! Every path that destroys holds the lease: [`crate::destroy::run`] takes a [`Held`], which only
//! a [`Lease`] (or a reap, under the lock) can give. So `vixens destroy` run during a recreate
//! cycle is refused, naming the test that holds the environment, instead of destroying the
//! cluster under the cycle and leaving a false failure in the ledger.
//!
//! A stale item that cannot be undone (its safe destroy is refused, or fails) is kept in the
//! record, and the error says what a person must do ([`UndoFailure::remedy`]): an environment is
//! never left wedged without the command that unwedges it.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub mod cleanup;

/// The lease record, in the environment's work dir.
pub const LEASE_FILE: &str = "lease.json";
/// The lock held while the environment is in use.
pub const LOCK_FILE: &str = "lease.lock";

/// How long [`Lease::acquire`] waits for the current user of the environment: a test's teardown
/// or a janitor's takes a few seconds on the lab.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// A process, by pid and start time (clock ticks since boot, from `/proc/<pid>/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    /// The pid.
    pub pid: u32,
    /// Its start time, in clock ticks after boot.
    pub start: u64,
}

/// A nextest run: its id and the runner process that lives as long as it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// `NEXTEST_RUN_ID`.
    pub id: String,
    /// The `cargo-nextest` process running the test processes.
    pub runner: ProcessRef,
}

/// The last process that used the environment, for messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its pid.
    pub pid: u32,
    /// RFC 3339 UTC time it took the lease.
    pub since: String,
    /// What it was doing (`fresh_cluster_validation::recreate_cycle`).
    pub purpose: String,
}

/// Something the harness started, and that must not outlive the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Started {
    /// `terraform apply` of the environment's root module: the state (and what it created) is
    /// undone by a destroy.
    Terraform {
        /// The root module.
        root: PathBuf,
        /// `TF_DATA_DIR`, when the environment sets one.
        #[serde(default)]
        data_dir: Option<PathBuf>,
    },
    /// A lab daemon (started by the lab's terraform root): undone by `vixens-lab down`, which
    /// works on a stopped lab too.
    Lab {
        /// The `vixens-lab` binary.
        bin: PathBuf,
        /// The lab's state folder.
        state_dir: PathBuf,
    },
}

/// The content of `lease.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The last process that used the environment.
    pub holder: Holder,
    /// The nextest run the environment is kept up for, if any: its items are undone when the
    /// run ends, not when each test does.
    #[serde(default)]
    pub run: Option<RunRef>,
    /// The janitor waiting for that run to end.
    #[serde(default)]
    pub janitor: Option<ProcessRef>,
    /// What was started, oldest first.
    pub started: Vec<Started>,
}

/// How [`Lease::acquire`] found the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No record: nothing of the harness's is there.
    Free,
    /// A record of the running nextest run: an earlier test of it started these.
    OfThisRun,
    /// A record left by a run that is over or was killed; its items were undone.
    Reaped(Record),
}

/// Proof that this process holds the lease of a work dir, for as long as it lives: what
/// [`crate::destroy::run`] demands. Only [`Lease::held`] and a reap under the lock make one.
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    dir: &'a Path,
    _lock: &'a File,
}

impl Held<'_> {
    /// The work dir whose lease is held.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir
    }

    /// True when this is the lease of `work_dir` (compared as absolute, cleaned paths).
    #[must_use]
    pub fn covers(&self, work_dir: &Path) -> bool {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        absolute(self.dir) == absolute(work_dir)
    }
}

/// Why an item could not be undone, and what a person must do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndoFailure {
    /// What failed.
    pub message: String,
    /// The command (or manual step) that unwedges the environment.
    pub remedy: String,
}

impl UndoFailure {
    /// A failure with its remedy.
    pub fn new(message: impl Into<String>, remedy: impl Into<String>) -> Self {
        Self { message: message.into(), remedy: remedy.into() }
    }
}

/// The lease, held by this process: the environment is in use. Dropping it releases the lock
/// and keeps the record on disk, as a kill would (the next holder then adopts or reaps it).
#[derive(Debug)]
pub struct Lease {
    dir: PathBuf,
    record: Record,
    found: Found,
    /// The open lock file: holding it is holding the lease.
    _lock: File,
}

/// Why a lease could not be taken, kept or reaped. [`Error::Busy`] may succeed later; the
/// others need the work dir fixed, or (for [`Error::Undo`]) the item cleaned up by hand.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lease files cannot be written or read.
    #[error("cannot use the lease {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// `lease.json` is not a lease this harness wrote.
    #[error("{path} is not a lease record: {message}; remove it once nothing it lists is running")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another process uses the environment, or another nextest run keeps it up.
    #[error("{dir} is in use by {by}; two runs must not touch one environment at once")]
    Busy {
        /// The work dir.
        dir: PathBuf,
        /// Who, in words.
        by: String,
    },
    /// An item of a stale record could not be undone; the record keeps it for the next try.
    #[error("cannot clean up what an earlier run left in {dir} ({item}): {message}\nto unwedge it: {remedy}")]
    Undo {
        /// The work dir.
        dir: PathBuf,
        /// The item, in words.
        item: String,
        /// Why.
        message: String,
        /// What a person must do.
        remedy: String,
    },
}

impl Lease {
    /// Takes the lease of `work_dir` for `purpose` in `this_run` ([`RunRef::current`]; `None`
    /// outside nextest), waiting up to `wait` for its current user.
    ///
    /// A record of `this_run` is adopted; a record of another run that is still
    /// going makes the environment [busy](Error::Busy); any other record is stale: `undo` is
    /// called for each of its items, newest first, before the lease is taken.
    ///
    /// # Errors
    /// [`Error::Busy`], [`Error::Undo`] (the record keeps what was not undone), [`Error::Io`],
    /// [`Error::Malformed`].
    pub fn acquire(
        work_dir: &Path,
        purpose: &str,
        this_run: Option<RunRef>,
        wait: Duration,
        undo: impl FnMut(&Started, Held<'_>) -> Result<(), UndoFailure>,
    ) -> Result<Self, Error> {
        let lock = lock(work_dir, wait)?;
        let holder = Holder { pid: std::process::id(), since: jiff::Timestamp::now().to_string(), purpose: purpose.to_owned() };
        let (record, found) = match read(work_dir)? {
            None => (Record { holder, run: this_run, janitor: None, started: Vec::new() }, Found::Free),
            Some(old) => match &old.run {
                Some(run) if run.runner.alive() && this_run.as_ref() == Some(run) => (Record { holder, ..old }, Found::OfThisRun),
                Some(run) if run.runner.alive() => {
                    let by = format!(
                        "nextest run {} (runner pid {}, last used by pid {} for {})",
                        run.id, run.runner.pid, old.holder.pid, old.holder.purpose
                    );
                    return Err(Error::Busy { dir: work_dir.to_owned(), by });
                }
                _ => {
                    reap_items(work_dir, &old, &lock, undo)?;
                    (Record { holder, run: this_run, janitor: None, started: Vec::new() }, Found::Reaped(old))
                }
            },
        };
        let lease = Self { dir: work_dir.to_owned(), record, found, _lock: lock };
        lease.write()?;
        Ok(lease)
    }

    /// The proof that this process holds the lease, for what destroys.
    #[must_use]
    pub fn held(&self) -> Held<'_> {
        Held { dir: &self.dir, _lock: &self._lock }
    }

    /// How the environment was found when the lease was taken.
    #[must_use]
    pub fn found(&self) -> &Found {
        &self.found
    }

    /// What the record lists.
    #[must_use]
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Adds `item` to the record, on disk, before the caller starts it. An item already listed
    /// is not added twice.
    ///
    /// # Errors
    /// [`Error::Io`]: the caller must then not start it.
    pub fn add(&mut self, item: Started) -> Result<(), Error> {
        if !self.record.started.contains(&item) {
            self.record.started.push(item);
            self.write()?;
        }
        Ok(())
    }

    /// Records `janitor` as the process that undoes the record when its run ends.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn set_janitor(&mut self, janitor: ProcessRef) -> Result<(), Error> {
        self.record.janitor = Some(janitor);
        self.write()
    }

    /// Everything recorded was undone: removes the record and releases the lock.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be removed.
    pub fn release(self) -> Result<(), Error> {
        remove(&self.dir)
    }

    /// Writes the record atomically (a temporary file renamed over it, synced), so that a kill
    /// mid-write leaves the previous record, never half of one.
    fn write(&self) -> Result<(), Error> {
        write(&self.dir, &self.record)
    }
}

/// The record left in `work_dir`, if any. Reading needs no lock: records are replaced whole.
///
/// # Errors
/// [`Error::Io`], [`Error::Malformed`].
pub fn read(work_dir: &Path) -> Result<Option<Record>, Error> {
    let path = work_dir.join(LEASE_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(Error::Io { path, source }),
    };
    serde_json::from_str(&text).map(Some).map_err(|e| Error::Malformed { path, message: e.to_string() })
}

/// Undoes `record`'s items newest first; on the first failure, the record is rewritten with
/// what is left and the error returned.
fn reap_items(
    work_dir: &Path,
    record: &Record,
    lock: &File,
    mut undo: impl FnMut(&Started, Held<'_>) -> Result<(), UndoFailure>,
) -> Result<(), Error> {
    let mut left = record.started.clone();
    while let Some(next) = next_to_undo(&left) {
        if let Err(UndoFailure { message, remedy }) = undo(&left[next], Held { dir: work_dir, _lock: lock }) {
            let item = left[next].to_string();
            write(work_dir, &Record { started: left, ..record.clone() })?;
            return Err(Error::Undo { dir: work_dir.to_owned(), item, message, remedy });
        }
        left.remove(next);
    }
    remove(work_dir)
}

/// Which of `left` to undo next: the newest terraform apply, else the newest item. Terraform goes
/// first because its safe destroy also stops the lab its apply started, with the protected
/// inventory (LUNs mapped to the cluster's volumes) taken before and after; a lab is stopped by
/// itself only when no terraform state covers it.
#[must_use]
pub fn next_to_undo(left: &[Started]) -> Option<usize> {
    left.iter().rposition(|item| matches!(item, Started::Terraform { .. })).or_else(|| left.len().checked_sub(1))
}

fn write(dir: &Path, record: &Record) -> Result<(), Error> {
    let path = dir.join(LEASE_FILE);
    let io = |source| Error::Io { path: path.clone(), source };
    let temporary = dir.join(format!(".{LEASE_FILE}.{}", std::process::id()));
    let json = serde_json::to_string_pretty(record).expect("a lease record always serialises");
    let mut file = File::create(&temporary).map_err(io)?;
    file.write_all(json.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
    std::fs::rename(&temporary, &path).map_err(io)
}

fn remove(dir: &Path) -> Result<(), Error> {
    let path = dir.join(LEASE_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io { path, source }),
    }
}

/// Locks `<work_dir>/lease.lock`, waiting up to `wait` for its holder.
fn lock(work_dir: &Path, wait: Duration) -> Result<File, Error> {
    let path = work_dir.join(LOCK_FILE);
    let io = |source| Error::Io { path: path.clone(), source };
    std::fs::create_dir_all(work_dir).map_err(|source| Error::Io { path: work_dir.to_owned(), source })?;
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(std::fs::TryLockError::WouldBlock) => {
                let by = read(work_dir).ok().flatten().map_or_else(
                    || "a process that is taking the lease".to_owned(),
                    |r| format!("pid {} ({}, since {})", r.holder.pid, r.holder.purpose, r.holder.since),
                );
                return Err(Error::Busy { dir: work_dir.to_owned(), by });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(io(source)),
        }
    }
}

impl ProcessRef {
    /// This process.
    #[must_use]
    pub fn current() -> Option<Self> {
        Self::of(std::process::id())
    }

    /// The process `pid`, if it runs.
    #[must_use]
    pub fn of(pid: u32) -> Option<Self> {
        start_time(pid).map(|start| Self { pid, start })
    }

    /// True while this very process runs (same pid, same start time).
    #[must_use]
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

impl RunRef {
    /// The nextest run this process is a test of: `NEXTEST_RUN_ID` and the parent process (the
    /// runner spawns each test process). `None` outside nextest.
    #[must_use]
    pub fn current() -> Option<Self> {
        let id = std::env::var("NEXTEST_RUN_ID").ok().filter(|id| !id.is_empty())?;
        let runner = ProcessRef::of(std::os::unix::process::parent_id())?;
        Some(Self { id, runner })
    }
}

/// Field 22 of `/proc/<pid>/stat`: the start time in clock ticks after boot. The command name
/// (field 2) is in parentheses and may hold spaces, so fields are counted after its `)`.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: state (3), ppid (4), ... starttime is field 22, the 20th after the name.
    let mut fields = after_name.split_whitespace();
    let state = fields.next()?;
    // A zombie has exited: only its exit status is left for its parent to collect.
    if state == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

/// The items in words, for messages: `terraform apply of environments/lab/terraform, the lab in
/// target/vixens/lab/state`.
#[must_use]
pub fn describe(items: &[Started]) -> String {
    if items.is_empty() {
        return "nothing started".into();
    }
    let words: Vec<String> = items.iter().map(ToString::to_string).collect();
    words.join(", ")
}

impl std::fmt::Display for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Terraform { root, .. } => write!(f, "terraform apply of {}", root.display()),
            Self::Lab { state_dir, .. } => write!(f, "the lab in {}", state_dir.display()),
        }
    }
}

#[cfg(test)]
mod tests;
