//! The lab's NAS: a folder that outlives every lab, holding what the homelab keeps on its
//! Synology, the data that destroy must never touch.
//!
//! ```text
//! <nas>/luns/<claim>.img                 one iSCSI LUN per PersistentVolumeClaim
//! <nas>/buckets/terraform-state-<lab>/   the MinIO bucket holding the terraform state
//! ```
//!
//! As in the homelab, LUNs are created on demand by the CSI driver (here: when an app with
//! volumes first syncs), never by terraform, and the StorageClass's `reclaimPolicy: Retain` means
//! nothing in the cluster ever deletes them. The only deletion in the lab is the `wipe-lun` fault,
//! which `vixens-lab down` applies to model a LUN removed behind the harness's back.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::spec::LabSpec;

/// The size of a LUN file: the NAS holds files, not data, so a header line is enough.
const LUN_HEADER: &str = "vixens-lab iSCSI LUN";

/// A NAS operation that failed, naming the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum NasError {
    /// A folder or LUN file could not be created.
    #[error("cannot create {path} on the lab NAS")]
    Create {
        /// What was being created.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A LUN file could not be removed (the `wipe-lun` fault).
    #[error("cannot remove {path} from the lab NAS")]
    Remove {
        /// The LUN file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The LUN folder could not be listed.
    #[error("cannot list {path}")]
    List {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// The NAS folder of one lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nas {
    root: PathBuf,
}

impl Nas {
    /// The NAS rooted at `root` (nothing is created until asked).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The NAS of `spec`, if it has one (`--nas-dir`).
    #[must_use]
    pub fn of(spec: &LabSpec) -> Option<Self> {
        spec.nas_dir.as_ref().map(Self::new)
    }

    /// The NAS folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of LUN files.
    #[must_use]
    pub fn luns_dir(&self) -> PathBuf {
        self.root.join("luns")
    }

    /// The LUN file of a claim.
    #[must_use]
    pub fn lun_path(&self, claim: &str) -> PathBuf {
        self.luns_dir().join(format!("{claim}.img"))
    }

    /// The folder of the S3 buckets; `file://<this>` is the lab's S3 endpoint.
    #[must_use]
    pub fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    /// The folder of one bucket.
    #[must_use]
    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.buckets_dir().join(bucket)
    }

    /// The name of a lab's state bucket, as the homelab names its per-environment buckets.
    #[must_use]
    pub fn state_bucket(lab_name: &str) -> String {
        format!("terraform-state-{lab_name}")
    }

    /// Creates the LUN folder and the lab's state bucket if they are absent (the homelab's
    /// buckets were made by hand once; the lab makes its own on first use).
    ///
    /// # Errors
    /// A folder that cannot be created.
    pub fn prepare(&self, lab_name: &str) -> Result<(), NasError> {
        for dir in [self.luns_dir(), self.bucket_dir(&Self::state_bucket(lab_name))] {
            std::fs::create_dir_all(&dir).map_err(|source| NasError::Create { path: dir.clone(), source })?;
        }
        Ok(())
    }

    /// Provisions the LUN of `claim` if it does not exist yet, as the Synology CSI driver does
    /// for a new PersistentVolumeClaim. An existing LUN is never touched: its data survives
    /// every recreate. Returns true when the LUN was created now.
    ///
    /// # Errors
    /// The LUN folder or file cannot be created.
    pub fn provision_lun(&self, claim: &str) -> Result<bool, NasError> {
        let dir = self.luns_dir();
        std::fs::create_dir_all(&dir).map_err(|source| NasError::Create { path: dir, source })?;
        let path = self.lun_path(claim);
        let created = std::fs::OpenOptions::new().write(true).create_new(true).open(&path);
        match created {
            Ok(mut file) => {
                writeln!(file, "{LUN_HEADER} {claim}").map_err(|source| NasError::Create { path, source })?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(source) => Err(NasError::Create { path, source }),
        }
    }

    /// The claims that have a LUN, sorted (what `ls <nas>/luns` shows, without `.img`).
    ///
    /// # Errors
    /// The LUN folder exists but cannot be read. A missing folder is an empty list.
    pub fn luns(&self) -> Result<Vec<String>, NasError> {
        let dir = self.luns_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(NasError::List { path: dir, source }),
        };
        let mut claims = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| NasError::List { path: dir.clone(), source })?;
            if let Some(claim) = entry.file_name().to_str().and_then(|n| n.strip_suffix(".img")) {
                claims.push(claim.to_owned());
            }
        }
        claims.sort();
        Ok(claims)
    }

    /// Deletes the LUN of `claim`; returns false when there was none.
    ///
    /// # Errors
    /// The file exists but cannot be removed.
    pub fn wipe_lun(&self, claim: &str) -> Result<bool, NasError> {
        let path = self.lun_path(claim);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(NasError::Remove { path, source }),
        }
    }
}

/// Prepares the NAS of `spec` (if it has one) before the lab starts: `vixens-lab up` calls it,
/// so an unusable NAS folder fails `up` (and `terraform apply`) with the path named.
///
/// # Errors
/// See [`Nas::prepare`].
pub fn prepare(spec: &LabSpec) -> Result<(), NasError> {
    Nas::of(spec).map_or(Ok(()), |nas| nas.prepare(&spec.name))
}

/// What `vixens-lab down` does to the NAS: nothing at all, unless the `wipe-lun` fault asks it to
/// delete LUNs. Returns the LUN files it deleted.
///
/// # Errors
/// A LUN file that exists but cannot be removed.
pub fn on_down(spec: &LabSpec) -> Result<Vec<PathBuf>, NasError> {
    let Some(nas) = Nas::of(spec) else { return Ok(Vec::new()) };
    let mut wiped = Vec::new();
    for claim in &spec.faults.wipe_lun {
        if nas.wipe_lun(claim)? {
            wiped.push(nas.lun_path(claim));
        }
    }
    Ok(wiped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    #[test]
    fn a_lun_is_created_once_and_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let nas = Nas::new(dir.path());
        assert!(nas.provision_lun("vaultwarden-data").unwrap());
        std::fs::write(nas.lun_path("vaultwarden-data"), "user data").unwrap();
        assert!(!nas.provision_lun("vaultwarden-data").unwrap());
        assert_eq!(std::fs::read_to_string(nas.lun_path("vaultwarden-data")).unwrap(), "user data");
        assert_eq!(nas.luns().unwrap(), ["vaultwarden-data"]);
    }

    #[test]
    fn prepare_makes_the_lun_folder_and_the_state_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let nas = Nas::new(dir.path());
        nas.prepare("lab").unwrap();
        assert!(dir.path().join("luns").is_dir());
        assert!(dir.path().join("buckets/terraform-state-lab").is_dir());
        assert!(nas.luns().unwrap().is_empty());
    }

    #[test]
    fn down_touches_the_nas_only_for_the_wipe_lun_fault() {
        let dir = tempfile::tempdir().unwrap();
        let nas = Nas::new(dir.path());
        nas.provision_lun("a").unwrap();
        nas.provision_lun("b").unwrap();
        let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", 1, 0), Vec::new());
        spec.nas_dir = Some(dir.path().to_owned());
        assert!(on_down(&spec).unwrap().is_empty());
        assert_eq!(nas.luns().unwrap(), ["a", "b"]);
        spec.faults = Faults::parse("wipe-lun=b").unwrap();
        assert_eq!(on_down(&spec).unwrap(), [nas.lun_path("b")]);
        assert_eq!(nas.luns().unwrap(), ["a"]);
        assert!(on_down(&spec).unwrap().is_empty(), "a second down is a no-op");
    }
}
