//! The lease: what a test process has started on an environment, written on disk before it
//! starts it, so that nothing the harness starts outlives the run, even when the run is killed.
//!
//! nextest runs every test in its own process and may kill one at its timeout (or the whole run
//! on Ctrl-C), so cleanup cannot rely on the process that started something. Instead:
//!
//! - [`Lease::take`] locks `<work dir>/lease.lock` (an `flock` held for the lease's life: the
//!   kernel releases it when the holder dies, so "held" is immune to pid reuse) and writes
//!   `<work dir>/lease.json`: the holder (pid, start time, nextest run id, purpose) and an empty
//!   list of what it started.
//! - Before starting anything, the holder adds it with [`Lease::record`] ([`Started::Terraform`]
//!   before an apply, [`Started::Lab`] for the lab daemon that apply runs), so the file on disk
//!   always lists at least what exists.
//! - [`Lease::release`] removes the file once everything recorded has been cleaned up.
//! - [`reap`] runs first in every run: a `lease.json` whose lock nobody holds was left by a
//!   killed run; each recorded item is undone, newest first (the lab stopped with
//!   `vixens-lab down`, the half-applied terraform state destroyed through the safe destroy
//!   path), and the file removed.
//!
//! The lease module only keeps the record and decides what is stale; undoing an item is the
//! caller's ([`crate::testkit::provision`]), so the record stays a plain data file.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The lease record, in the environment's work dir.
pub const LEASE_FILE: &str = "lease.json";
/// The lock held while the lease is.
pub const LOCK_FILE: &str = "lease.lock";

/// How long [`Lease::take`] waits for a live holder to finish before giving up: a test that
/// tears its environment down takes a few seconds on the lab.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Who holds a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The holding process.
    pub pid: u32,
    /// RFC 3339 UTC time the lease was taken.
    pub since: String,
    /// `NEXTEST_RUN_ID` of the run the holder belongs to, when run by nextest.
    #[serde(default)]
    pub run_id: Option<String>,
    /// What the holder is doing (`fresh_cluster_validation::recreate_cycle`).
    pub purpose: String,
}

/// Something a lease holder started, and that must not outlive it.
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
    /// Who holds (or held) the lease.
    pub holder: Holder,
    /// What the holder started, oldest first.
    pub started: Vec<Started>,
}

/// A lease held by this process. Dropping it without [`Lease::release`] keeps `lease.json`
/// (the lock is released): the next [`reap`] then cleans up what it lists.
#[derive(Debug)]
pub struct Lease {
    dir: PathBuf,
    record: Record,
    /// The open lock file: holding it is holding the lease.
    _lock: File,
}

/// A stale lease found by [`reap`], once its items were undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaped {
    /// What the killed run recorded.
    pub record: Record,
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
    /// A live process holds the lease.
    #[error("{dir} is in use by pid {pid} ({purpose}, since {since}); two runs must not touch one environment at once", pid = holder.pid, purpose = holder.purpose, since = holder.since)]
    Busy {
        /// The work dir.
        dir: PathBuf,
        /// The live holder, as its record says (its record may not be written yet: then unknown).
        holder: Holder,
    },
    /// An item of a stale lease could not be undone; the lease is kept so the next run tries again.
    #[error("cannot clean up what a killed run left in {dir} ({item}): {message}")]
    Undo {
        /// The work dir.
        dir: PathBuf,
        /// The item, in words.
        item: String,
        /// Why.
        message: String,
    },
}

impl Lease {
    /// Takes the lease of `work_dir` for `purpose`, waiting up to `wait` for a live holder.
    ///
    /// A stale lease (its holder is gone) is **not** reaped here: call [`reap`] first, which is
    /// why taking one finds a leftover record an error.
    ///
    /// # Errors
    /// [`Error::Busy`] when a live holder keeps it past `wait`; [`Error::Malformed`] when a stale
    /// record is still there; [`Error::Io`].
    pub fn take(work_dir: &Path, purpose: &str, wait: Duration) -> Result<Self, Error> {
        let lock = lock(work_dir, wait)?;
        let path = work_dir.join(LEASE_FILE);
        if let Some(stale) = read(work_dir)? {
            return Err(Error::Malformed {
                path,
                message: format!("it still lists what pid {} started ({}): reap it first", stale.holder.pid, describe(&stale.started)),
            });
        }
        let holder = Holder {
            pid: std::process::id(),
            since: jiff::Timestamp::now().to_string(),
            run_id: std::env::var("NEXTEST_RUN_ID").ok(),
            purpose: purpose.to_owned(),
        };
        let lease = Self { dir: work_dir.to_owned(), record: Record { holder, started: Vec::new() }, _lock: lock };
        lease.write()?;
        Ok(lease)
    }

    /// Adds `item` to the record, on disk, before the caller starts it. Recording an item
    /// already listed does nothing.
    ///
    /// # Errors
    /// [`Error::Io`]: the caller must then not start it.
    pub fn record(&mut self, item: Started) -> Result<(), Error> {
        if !self.record.started.contains(&item) {
            self.record.started.push(item);
            self.write()?;
        }
        Ok(())
    }

    /// What this lease lists.
    #[must_use]
    pub fn record_ref(&self) -> &Record {
        &self.record
    }

    /// Everything recorded was cleaned up: removes `lease.json` and releases the lock.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be removed.
    pub fn release(self) -> Result<(), Error> {
        let path = self.dir.join(LEASE_FILE);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(Error::Io { path, source }),
        }
    }

    /// Writes the record atomically (a temporary file renamed over it, synced), so that a kill
    /// mid-write leaves the previous record, never half of one.
    fn write(&self) -> Result<(), Error> {
        let path = self.dir.join(LEASE_FILE);
        let io = |source| Error::Io { path: path.clone(), source };
        let temporary = self.dir.join(format!(".{LEASE_FILE}.{}", std::process::id()));
        let json = serde_json::to_string_pretty(&self.record).expect("a lease record always serialises");
        let mut file = File::create(&temporary).map_err(io)?;
        file.write_all(json.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
        std::fs::rename(&temporary, &path).map_err(io)
    }
}

/// The record left in `work_dir`, if any.
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

/// Cleans up what a killed run left in `work_dir`: when `lease.json` is there and nobody holds
/// its lock, `undo` is called for each recorded item, newest first, then the record is removed.
/// Returns `None` when there was nothing to reap.
///
/// # Errors
/// [`Error::Busy`] when a live process holds the lease past `wait` (nothing is stale then);
/// [`Error::Undo`] when an item cannot be undone (the record is kept, minus what was undone);
/// [`Error::Io`], [`Error::Malformed`].
pub fn reap(work_dir: &Path, wait: Duration, mut undo: impl FnMut(&Started) -> Result<(), String>) -> Result<Option<Reaped>, Error> {
    if !work_dir.join(LEASE_FILE).exists() {
        return Ok(None);
    }
    let lock = lock(work_dir, wait)?;
    let Some(record) = read(work_dir)? else { return Ok(None) };
    let mut remaining = record.started.clone();
    while let Some(item) = remaining.last() {
        if let Err(message) = undo(item) {
            let kept = Lease { dir: work_dir.to_owned(), record: Record { holder: record.holder.clone(), started: remaining.clone() }, _lock: lock };
            kept.write()?;
            return Err(Error::Undo { dir: work_dir.to_owned(), item: describe(std::slice::from_ref(item)), message });
        }
        remaining.pop();
    }
    let path = work_dir.join(LEASE_FILE);
    std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    drop(lock);
    Ok(Some(Reaped { record }))
}

/// Locks `<work_dir>/lease.lock`, waiting up to `wait` for another holder.
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
                let holder = read(work_dir).ok().flatten().map_or_else(unknown_holder, |r| r.holder);
                return Err(Error::Busy { dir: work_dir.to_owned(), holder });
            }
            Err(std::fs::TryLockError::Error(source)) => return Err(io(source)),
        }
    }
}

fn unknown_holder() -> Holder {
    Holder { pid: 0, since: "an unknown time".into(), run_id: None, purpose: "a lease being taken".into() }
}

/// The items in words, for messages: `terraform apply of environments/lab/terraform, the lab in
/// target/vixens/lab/state`.
#[must_use]
pub fn describe(items: &[Started]) -> String {
    if items.is_empty() {
        return "nothing started yet".into();
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
mod tests {
    use super::*;

    fn terraform() -> Started {
        Started::Terraform { root: "/infra/terraform".into(), data_dir: Some("/work/terraform".into()) }
    }

    fn lab() -> Started {
        Started::Lab { bin: "/bin/vixens-lab".into(), state_dir: "/work/state".into() }
    }

    #[test]
    fn a_lease_is_on_disk_before_anything_starts_and_gone_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let mut lease = Lease::take(dir.path(), "fresh_cluster_validation::recreate_cycle", DEFAULT_WAIT).unwrap();
        let record = read(dir.path()).unwrap().expect("written at once");
        assert_eq!(record.holder.pid, std::process::id());
        assert_eq!(record.holder.purpose, "fresh_cluster_validation::recreate_cycle");
        assert!(record.started.is_empty());

        lease.record(terraform()).unwrap();
        lease.record(lab()).unwrap();
        lease.record(terraform()).unwrap();
        assert_eq!(read(dir.path()).unwrap().unwrap().started, [terraform(), lab()]);

        lease.release().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
    }

    #[test]
    fn a_lease_dropped_without_release_is_reaped_newest_item_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut lease = Lease::take(dir.path(), "killed", DEFAULT_WAIT).unwrap();
        lease.record(terraform()).unwrap();
        lease.record(lab()).unwrap();
        drop(lease); // as a SIGKILL would leave it: the lock is gone, the record stays

        let mut undone = Vec::new();
        let reaped = reap(dir.path(), DEFAULT_WAIT, |item| {
            undone.push(item.clone());
            Ok(())
        })
        .unwrap()
        .expect("stale");
        assert_eq!(reaped.record.holder.purpose, "killed");
        assert_eq!(undone, [lab(), terraform()]);
        assert_eq!(read(dir.path()).unwrap(), None);
        assert_eq!(reap(dir.path(), DEFAULT_WAIT, |_| unreachable!()).unwrap(), None, "nothing left to reap");
    }

    #[test]
    fn an_item_that_cannot_be_undone_keeps_the_rest_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut lease = Lease::take(dir.path(), "killed", DEFAULT_WAIT).unwrap();
        lease.record(terraform()).unwrap();
        lease.record(lab()).unwrap();
        drop(lease);

        let error = reap(dir.path(), DEFAULT_WAIT, |item| match item {
            Started::Lab { .. } => Ok(()),
            Started::Terraform { .. } => Err("the destroy plan deletes a protected resource".into()),
        })
        .unwrap_err();
        let message = error.to_string();
        assert!(message.contains("(terraform apply of /infra/terraform): the destroy plan deletes a protected resource"), "{message}");
        assert_eq!(read(dir.path()).unwrap().unwrap().started, [terraform()]);
        let error = Lease::take(dir.path(), "next", DEFAULT_WAIT).unwrap_err();
        assert!(error.to_string().contains("reap it first"), "{error}");
    }

    #[test]
    fn a_live_holder_makes_the_lease_busy_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let _held = Lease::take(dir.path(), "fresh_cluster_validation::recreate_cycle", DEFAULT_WAIT).unwrap();
        let error = Lease::take(dir.path(), "other", Duration::from_millis(200)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(&format!("is in use by pid {} (fresh_cluster_validation::recreate_cycle, since ", std::process::id())), "{message}");
        assert!(matches!(reap(dir.path(), Duration::ZERO, |_| Ok(())), Err(Error::Busy { .. })), "a live lease is never reaped");
    }

    #[test]
    fn a_record_that_is_not_a_lease_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LEASE_FILE), "{ not json").unwrap();
        let error = reap(dir.path(), DEFAULT_WAIT, |_| Ok(())).unwrap_err();
        assert!(error.to_string().starts_with(&format!("{} is not a lease record: ", dir.path().join(LEASE_FILE).display())), "{error}");
    }
}
