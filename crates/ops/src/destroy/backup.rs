//! State backups: the state as `terraform state pull` prints it (so any backend works, the
//! homelab's S3 on MinIO included), written to `<state-backup.dir>/<env>/` and verified before
//! anything is destroyed.
//!
//! ```text
//! <dir>/<env>/20261126T101503.123Z-serial42.tfstate          the state, byte for byte
//! <dir>/<env>/20261126T101503.123Z-serial42.tfstate.sha256   "<sha256>  <file name>" (sha256sum -c)
//! ```
//!
//! A backup is written under a temporary name, flushed (`fsync` of the file), given its final
//! name only once complete (the checksum first, so that a `.tfstate` never exists without its
//! checksum), and the folder is flushed too: an interruption at any moment leaves either a
//! complete backup or a leftover temporary file, which the next backup removes. It is then read
//! back from disk and verified: valid state JSON, the same lineage and serial as the live state,
//! the same sha256 as the bytes terraform printed and as the checksum file.
//!
//! Names start with the UTC time, so they sort oldest first; [`Store::prune`] keeps the newest N.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::env::Environment;
use vixens_drivers::terraform::{PulledState, State};

/// The extension of a backup.
const EXTENSION: &str = ".tfstate";
/// The extension of a backup's checksum file, after [`EXTENSION`].
const CHECKSUM_EXTENSION: &str = ".sha256";
/// Temporary files are hidden and end with this while they are written.
const PARTIAL: &str = ".partial";

/// The backups of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    dir: PathBuf,
}

/// A verified backup on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The `.tfstate` file.
    pub path: PathBuf,
    /// Its sha256, hex.
    pub sha256: String,
    /// The state's lineage.
    pub lineage: String,
    /// The state's serial.
    pub serial: u64,
    /// Its size in bytes.
    pub size: u64,
}

/// Why a backup could not be written, verified, listed or pruned. Every variant names the file
/// or folder; none is worth retrying blindly (a full disk, a read-only mount, a state that changed
/// under our feet all need a look).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `terraform state pull` printed nothing: there is no state to back up.
    #[error("terraform state pull printed nothing: there is no state to back up (was the environment ever applied? is the backend configured?)")]
    NoState,
    /// The backup folder could not be created.
    #[error("cannot create the backup folder {path}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A backup file could not be written or flushed to disk.
    #[error("cannot write the backup {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A backup file of that name exists already (two backups in the same millisecond).
    #[error("the backup {path} exists already; not overwriting it")]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The backup on disk does not match what it should hold.
    #[error("the backup {path} does not verify: {problem}")]
    Unverifiable {
        /// The file.
        path: PathBuf,
        /// What does not match.
        problem: String,
    },
    /// The live state changed between the backup and its verification: the backup is not the
    /// state that would be destroyed.
    #[error(
        "the live state changed after the backup {path}: backed up lineage {lineage} serial {serial}, now lineage {live_lineage} serial {live_serial}"
    )]
    StateChanged {
        /// The backup.
        path: PathBuf,
        /// The backup's lineage.
        lineage: String,
        /// The backup's serial.
        serial: u64,
        /// The live state's lineage.
        live_lineage: String,
        /// The live state's serial.
        live_serial: u64,
    },
    /// The backup folder could not be read, or an old backup removed.
    #[error("cannot tidy the backup folder {path}")]
    Tidy {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

impl Store {
    /// The backups of `env`: `<state-backup.dir>/<env name>/`.
    #[must_use]
    pub fn for_env(env: &Environment) -> Self {
        Self::new(env.state_backup.dir.join(&env.name))
    }

    /// The backups in `dir`.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `pulled` as a new backup named after `at` (UTC) and its serial, flushed to disk,
    /// then reads it back and verifies it (see the module docs). Leftovers of an interrupted
    /// backup are removed first.
    ///
    /// # Errors
    /// [`Error::NoState`] when terraform printed nothing; [`Error::CreateDir`], [`Error::Write`],
    /// [`Error::Exists`], [`Error::Tidy`] for the file system; [`Error::Unverifiable`] when what is
    /// on disk is not the state.
    pub fn write(&self, pulled: &PulledState, at: jiff::Timestamp) -> Result<Backup, Error> {
        let Some(state) = &pulled.state else { return Err(Error::NoState) };
        fs::create_dir_all(&self.dir).map_err(|source| Error::CreateDir { path: self.dir.clone(), source })?;
        self.remove_partials()?;
        let name = format!("{}-serial{}{EXTENSION}", file_time(at), state.serial);
        let path = self.dir.join(&name);
        let checksum_path = checksum_path(&path);
        for existing in [&path, &checksum_path] {
            if existing.exists() {
                return Err(Error::Exists { path: existing.clone() });
            }
        }
        let sha256 = hex_sha256(&pulled.bytes);
        let partial = self.dir.join(format!(".{name}{PARTIAL}"));
        let checksum_partial = self.dir.join(format!(".{name}{CHECKSUM_EXTENSION}{PARTIAL}"));
        write_synced(&partial, &pulled.bytes)?;
        write_synced(&checksum_partial, format!("{sha256}  {name}\n").as_bytes())?;
        rename(&checksum_partial, &checksum_path)?;
        rename(&partial, &path)?;
        sync_dir(&self.dir)?;
        let backup = verify(&path)?;
        if backup.sha256 != sha256 {
            return Err(unverifiable(&path, format!("sha256 {} on disk, {sha256} printed by terraform", backup.sha256)));
        }
        if (backup.lineage.as_str(), backup.serial) != (state.lineage.as_str(), state.serial) {
            return Err(unverifiable(
                &path,
                format!("lineage {} serial {} on disk, lineage {} serial {} pulled", backup.lineage, backup.serial, state.lineage, state.serial),
            ));
        }
        Ok(backup)
    }

    /// Checks that `backup` is the state that is live now (same lineage and serial): nothing
    /// wrote the state between the backup and this check.
    ///
    /// # Errors
    /// [`Error::StateChanged`].
    pub fn confirm_live(backup: &Backup, live: &State) -> Result<(), Error> {
        if backup.lineage == live.lineage && backup.serial == live.serial {
            return Ok(());
        }
        Err(Error::StateChanged {
            path: backup.path.clone(),
            lineage: backup.lineage.clone(),
            serial: backup.serial,
            live_lineage: live.lineage.clone(),
            live_serial: live.serial,
        })
    }

    /// Every backup in the folder, oldest first (a missing folder has none).
    ///
    /// # Errors
    /// [`Error::Tidy`] when the folder cannot be read.
    pub fn list(&self) -> Result<Vec<PathBuf>, Error> {
        let mut backups: Vec<PathBuf> = self.entries()?.into_iter().filter(|p| is_backup(p)).collect();
        backups.sort();
        Ok(backups)
    }

    /// Removes all but the newest `keep` backups (each with its checksum), never `current` (the
    /// backup just taken, even if a clock that went backwards named it older than the others).
    /// Returns what was removed.
    ///
    /// # Errors
    /// [`Error::Tidy`] naming the file that could not be removed.
    pub fn prune(&self, keep: NonZeroUsize, current: &Path) -> Result<Vec<PathBuf>, Error> {
        let others: Vec<PathBuf> = self.list()?.into_iter().filter(|p| p != current).collect();
        let excess = (others.len() + 1).saturating_sub(keep.get());
        let removed: Vec<PathBuf> = others.into_iter().take(excess).collect();
        for path in &removed {
            remove(&checksum_path(path))?;
            remove(path)?;
        }
        Ok(removed)
    }

    fn entries(&self) -> Result<Vec<PathBuf>, Error> {
        let tidy = |source| Error::Tidy { path: self.dir.clone(), source };
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(tidy(e)),
        };
        entries.map(|e| e.map(|e| e.path()).map_err(tidy)).collect()
    }

    /// Temporary files left by a backup that was interrupted (a process killed mid-write).
    fn remove_partials(&self) -> Result<(), Error> {
        for path in self.entries()? {
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') && n.ends_with(PARTIAL)) {
                remove(&path)?;
            }
        }
        Ok(())
    }
}

/// Reads a backup from disk and checks it on its own: a version 4 state whose sha256 is the one
/// in its checksum file.
///
/// # Errors
/// [`Error::Unverifiable`] naming what does not match (unreadable, not a state, no checksum file,
/// a different checksum).
pub fn verify(path: &Path) -> Result<Backup, Error> {
    let bytes = fs::read(path).map_err(|e| unverifiable(path, format!("cannot read it back: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(unverifiable(path, "it is empty".into()));
    }
    let state = State::parse(&bytes).map_err(|e| unverifiable(path, e.to_string()))?;
    let sha256 = hex_sha256(&bytes);
    let checksum_file = checksum_path(path);
    let recorded = fs::read_to_string(&checksum_file).map_err(|e| unverifiable(path, format!("cannot read {}: {e}", checksum_file.display())))?;
    let recorded = recorded.split_whitespace().next().unwrap_or_default();
    if recorded != sha256 {
        return Err(unverifiable(path, format!("its sha256 is {sha256}, {} says {recorded:?}", checksum_file.display())));
    }
    let size = bytes.len().try_into().unwrap_or(u64::MAX);
    Ok(Backup { path: path.to_owned(), sha256, lineage: state.lineage, serial: state.serial, size })
}

/// The checksum file of a backup.
#[must_use]
pub fn checksum_path(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(CHECKSUM_EXTENSION);
    PathBuf::from(name)
}

fn is_backup(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| !n.starts_with('.') && n.ends_with(EXTENSION))
}

/// `20261126T101503.123Z`: sortable, and free of characters some file systems refuse (`:`).
fn file_time(at: jiff::Timestamp) -> String {
    format!("{}.{:03}Z", at.strftime("%Y%m%dT%H%M%S"), at.subsec_millisecond())
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

fn unverifiable(path: &Path, problem: String) -> Error {
    Error::Unverifiable { path: path.to_owned(), problem }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let write = || -> io::Result<()> {
        let mut file = File::options().write(true).create_new(true).open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|source| Error::Write { path: path.to_owned(), source })
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(|source| Error::Write { path: to.to_owned(), source })
}

/// Flushes the folder itself, so that the new names survive a crash.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|source| Error::Write { path: dir.to_owned(), source })
}

fn remove(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::Tidy { path: path.to_owned(), source: e }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = "{\n  \"version\": 4,\n  \"terraform_version\": \"1.11.4\",\n  \"serial\": 7,\n  \"lineage\": \"3f2a0c4e-1b2d-4c5e-8f70-0a1b2c3d4e5f\",\n  \"outputs\": {},\n  \"resources\": [],\n  \"check_results\": null\n}\n\n";

    fn pulled(text: &str) -> PulledState {
        PulledState::parse(text.as_bytes().to_vec()).unwrap()
    }

    fn at(seconds: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_795_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_backup_is_the_exact_bytes_with_its_checksum_and_a_sortable_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("lab"));
        let backup = store.write(&pulled(STATE), at(0)).unwrap();
        assert_eq!(backup.path.file_name().unwrap(), "20261118T110640.000Z-serial7.tfstate");
        assert_eq!(fs::read_to_string(&backup.path).unwrap(), STATE);
        let checksum = fs::read_to_string(checksum_path(&backup.path)).unwrap();
        assert_eq!(checksum, format!("{}  20261118T110640.000Z-serial7.tfstate\n", backup.sha256));
        assert_eq!((backup.lineage.as_str(), backup.serial), ("3f2a0c4e-1b2d-4c5e-8f70-0a1b2c3d4e5f", 7));
        assert_eq!(verify(&backup.path).unwrap(), backup);
        // sha256sum agrees, so an operator can check a backup with the usual tool.
        let check = std::process::Command::new("sha256sum").arg("-c").arg(checksum_path(&backup.path)).current_dir(store.dir()).output().unwrap();
        assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    }

    #[test]
    fn no_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::new(dir.path()).write(&pulled(""), at(0)).unwrap_err();
        assert!(matches!(err, Error::NoState), "{err}");
        assert!(Store::new(dir.path()).list().unwrap().is_empty());
    }

    #[test]
    fn a_folder_that_cannot_be_created_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-folder");
        fs::write(&file, "").unwrap();
        let err = Store::new(file.join("lab")).write(&pulled(STATE), at(0)).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot create the backup folder {}", file.join("lab").display()));
    }

    #[test]
    fn a_tampered_or_truncated_backup_does_not_verify() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let backup = store.write(&pulled(STATE), at(0)).unwrap();
        fs::write(&backup.path, STATE.replace("\"serial\": 7", "\"serial\": 8")).unwrap();
        let err = verify(&backup.path).unwrap_err();
        assert!(err.to_string().contains("does not verify: its sha256 is "), "{err}");
        fs::write(&backup.path, &STATE[..40]).unwrap();
        assert!(verify(&backup.path).unwrap_err().to_string().contains("not a terraform state document"));
        fs::remove_file(checksum_path(&backup.path)).unwrap();
        fs::write(&backup.path, STATE).unwrap();
        assert!(verify(&backup.path).unwrap_err().to_string().contains(".sha256: No such file"));
    }

    #[test]
    fn a_state_that_changed_after_the_backup_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let backup = Store::new(dir.path()).write(&pulled(STATE), at(0)).unwrap();
        let mut live = pulled(STATE).state.unwrap();
        Store::confirm_live(&backup, &live).unwrap();
        live.serial = 9;
        let err = Store::confirm_live(&backup, &live).unwrap_err();
        assert!(
            err.to_string().ends_with(
                "backed up lineage 3f2a0c4e-1b2d-4c5e-8f70-0a1b2c3d4e5f serial 7, now lineage 3f2a0c4e-1b2d-4c5e-8f70-0a1b2c3d4e5f serial 9"
            ),
            "{err}"
        );
    }

    #[test]
    fn prune_keeps_the_newest_and_leftovers_of_an_interrupted_backup_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut last = None;
        for second in 0..4 {
            last = Some(store.write(&pulled(STATE), at(second)).unwrap().path);
        }
        fs::write(dir.path().join(".20261118T110650.000Z-serial7.tfstate.partial"), "{\"ver").unwrap();
        let removed = store.prune(NonZeroUsize::new(2).unwrap(), &last.unwrap()).unwrap();
        assert_eq!(removed.len(), 2);
        let kept: Vec<String> = store.list().unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(kept, ["20261118T110642.000Z-serial7.tfstate", "20261118T110643.000Z-serial7.tfstate"]);
        assert!(removed.iter().all(|p| !checksum_path(p).exists()));
        store.write(&pulled(STATE), at(5)).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
        assert_eq!(names.len(), 6, "3 backups and their checksums: {names:?}");
    }

    #[test]
    fn prune_never_removes_the_backup_just_taken() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write(&pulled(STATE), at(10)).unwrap();
        // The clock went backwards: the new backup sorts first.
        let current = store.write(&pulled(STATE), at(0)).unwrap().path;
        let removed = store.prune(NonZeroUsize::new(1).unwrap(), &current).unwrap();
        assert_eq!(store.list().unwrap(), [current]);
        assert_eq!(removed.len(), 1);
    }

    #[test]
    fn a_backup_of_the_same_millisecond_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.write(&pulled(STATE), at(0)).unwrap();
        assert!(matches!(store.write(&pulled(STATE), at(0)).unwrap_err(), Error::Exists { .. }));
    }
}
