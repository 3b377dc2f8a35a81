//! The lab's NAS: a folder that outlives every lab, holding what the homelab keeps on its
//! Synology, the data that destroy must never touch.
//!
//! ```text
//! <nas>/dsm/luns/<lun>.json          one iSCSI LUN (and its target) per provisioned volume, as DSM lists them
//! <nas>/buckets/<bucket>/...         the MinIO buckets (terraform-state-<env>), served over S3 by `vixens-lab nas up`
//! <nas>/nas.json                     the running NAS daemon: its S3 endpoint and iSCSI portal
//! ```
//!
//! As in the homelab, LUNs are created on demand by the Synology CSI driver ([`crate::csi`]),
//! never by terraform: one per PersistentVolume of a `csi.san.synology.com` class, named
//! `k8s-csi-<pv name>` with a target of the same name, IQN
//! `iqn.2000-01.com.synology:<NAS hostname>.<pv name>`, a UUID that is the PV's
//! `spec.csi.volumeHandle`, and `<namespace>/<claim>` as description. The driver deletes a LUN only
//! when the PV of a `reclaimPolicy: Delete` class is released; Retain LUNs stay for good. The
//! `wipe-lun` fault, applied by `vixens-lab down`, deletes one behind the harness's back.

pub mod control;
pub mod server;

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spec::LabSpec;

/// The NAS's DSM hostname, which every target IQN carries (the homelab's NAS is `synelia`).
pub const HOSTNAME: &str = "synelia";
/// The prefix of every IQN the Synology driver makes (`models.IqnPrefix`).
pub const IQN_PREFIX: &str = "iqn.2000-01.com.synology:";
/// The prefix of the LUNs and targets the Synology driver makes (`models.GenLunName`).
pub const LUN_PREFIX: &str = "k8s-csi-";

/// A NAS operation that failed, naming the file or folder.
#[derive(Debug, thiserror::Error)]
pub enum NasError {
    /// A folder or LUN record could not be written.
    #[error("cannot write {path} on the lab NAS")]
    Write {
        /// What was being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A LUN record could not be removed.
    #[error("cannot remove {path} from the lab NAS")]
    Remove {
        /// The record.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The LUN folder or a record could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The folder or file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// One iSCSI LUN and its target, as DSM records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lun {
    /// `k8s-csi-pvc-<uid>`; the target has the same name.
    pub name: String,
    /// DSM's UUID of the LUN: the PV's `spec.csi.volumeHandle`.
    pub uuid: String,
    /// `<namespace>/<claim>` (the driver's `--extra-create-metadata` description).
    pub description: String,
    /// The DSM volume (`/volume1`).
    pub location: String,
    /// The size (`2Gi`).
    pub size: String,
    /// `iqn.2000-01.com.synology:synelia.pvc-<uid>`.
    pub iqn: String,
    /// When it was created (RFC 3339, to the nanosecond).
    pub created_at: String,
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

    /// The folder of LUN records.
    #[must_use]
    pub fn luns_dir(&self) -> PathBuf {
        self.root.join("dsm/luns")
    }

    /// The record of one LUN.
    #[must_use]
    pub fn lun_path(&self, name: &str) -> PathBuf {
        self.luns_dir().join(format!("{name}.json"))
    }

    /// The folder the S3 server serves: one sub-folder per bucket.
    #[must_use]
    pub fn buckets_dir(&self) -> PathBuf {
        self.root.join("buckets")
    }

    /// The folder of one bucket.
    #[must_use]
    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.buckets_dir().join(bucket)
    }

    /// `DIR/nas.json`: where the running NAS daemon serves.
    #[must_use]
    pub fn info_path(&self) -> PathBuf {
        self.root.join("nas.json")
    }

    /// Creates the LUN folder if it is absent (`vixens-lab up` does, so an unusable NAS folder
    /// fails the apply naming it).
    ///
    /// # Errors
    /// The folder cannot be created.
    pub fn prepare(&self) -> Result<(), NasError> {
        let dir = self.luns_dir();
        std::fs::create_dir_all(&dir).map_err(|source| NasError::Write { path: dir, source })
    }

    /// Creates the LUN and target of PersistentVolume `pv_name`, as the driver's `CreateVolume`
    /// does. An existing LUN of that name is returned as it is (the driver's idempotency).
    ///
    /// # Errors
    /// The record cannot be written.
    pub fn create_lun(&self, pv_name: &str, description: &str, size: &str, location: &str) -> Result<Lun, NasError> {
        let name = format!("{LUN_PREFIX}{pv_name}");
        if let Some(existing) = self.lun(&name)? {
            return Ok(existing);
        }
        self.prepare()?;
        let lun = Lun {
            name: name.clone(),
            uuid: crate::store::random_uid(),
            description: description.to_owned(),
            location: location.to_owned(),
            size: size.to_owned(),
            iqn: iqn(pv_name),
            created_at: jiff::Timestamp::now().to_string(),
        };
        let path = self.lun_path(&name);
        let text = serde_json::to_vec_pretty(&lun).unwrap_or_default();
        write_new(&path, &text).map_err(|source| NasError::Write { path, source })?;
        Ok(lun)
    }

    /// The LUN called `name`, if there is one.
    ///
    /// # Errors
    /// A record that exists but cannot be read or parsed.
    pub fn lun(&self, name: &str) -> Result<Option<Lun>, NasError> {
        let path = self.lun_path(name);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map(Some).map_err(|e| NasError::Read { path, source: io::Error::new(io::ErrorKind::InvalidData, e) })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(NasError::Read { path, source }),
        }
    }

    /// Every LUN, sorted by name. A missing folder is an empty NAS.
    ///
    /// # Errors
    /// The folder or a record cannot be read.
    pub fn luns(&self) -> Result<Vec<Lun>, NasError> {
        let dir = self.luns_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(NasError::Read { path: dir, source }),
        };
        let mut luns = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| NasError::Read { path: dir.clone(), source })?;
            if let Some(name) = entry.file_name().to_str().and_then(|n| n.strip_suffix(".json"))
                && let Some(lun) = self.lun(name)?
            {
                luns.push(lun);
            }
        }
        luns.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(luns)
    }

    /// Deletes the LUN whose UUID is `uuid` (the driver's `DeleteVolume`); false when there is none.
    ///
    /// # Errors
    /// The folder cannot be read or the record cannot be removed.
    pub fn delete_lun(&self, uuid: &str) -> Result<bool, NasError> {
        let Some(lun) = self.luns()?.into_iter().find(|l| l.uuid == uuid) else { return Ok(false) };
        self.remove(&lun.name)
    }

    /// Deletes the newest LUN of claim `claim` (its description ends in `/<claim>`): the one the
    /// last cluster bound. Returns its record's path, or `None` when the claim has no LUN.
    ///
    /// # Errors
    /// The folder cannot be read or the record cannot be removed.
    pub fn wipe_claim(&self, claim: &str) -> Result<Option<PathBuf>, NasError> {
        let suffix = format!("/{claim}");
        let newest =
            self.luns()?.into_iter().filter(|l| l.description.ends_with(&suffix)).max_by_key(|l| l.created_at.parse::<jiff::Timestamp>().ok());
        match newest {
            Some(lun) if self.remove(&lun.name)? => Ok(Some(self.lun_path(&lun.name))),
            _ => Ok(None),
        }
    }

    fn remove(&self, name: &str) -> Result<bool, NasError> {
        let path = self.lun_path(name);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(NasError::Remove { path, source }),
        }
    }
}

/// The IQN the driver gives the target of PV `pv_name` (`createMappingTarget`).
#[must_use]
pub fn iqn(pv_name: &str) -> String {
    format!("{IQN_PREFIX}{HOSTNAME}.{pv_name}")
}

/// Writes a new file through a temporary name, so readers never see half a record.
fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// Prepares the NAS of `spec` (if it has one) before the lab starts: `vixens-lab up` calls it,
/// so an unusable NAS folder fails `up` (and `terraform apply`) with the path named.
///
/// # Errors
/// See [`Nas::prepare`].
pub fn prepare(spec: &LabSpec) -> Result<(), NasError> {
    Nas::of(spec).map_or(Ok(()), |nas| nas.prepare())
}

/// What `vixens-lab down` does to the NAS: nothing at all, unless the `wipe-lun` fault asks it to
/// delete the LUN of a claim. Returns the LUN records it deleted.
///
/// # Errors
/// A record that exists but cannot be removed.
pub fn on_down(spec: &LabSpec) -> Result<Vec<PathBuf>, NasError> {
    let Some(nas) = Nas::of(spec) else { return Ok(Vec::new()) };
    let mut wiped = Vec::new();
    for claim in &spec.faults.wipe_lun {
        wiped.extend(nas.wipe_claim(claim)?);
    }
    Ok(wiped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    #[test]
    fn a_lun_is_named_after_its_pv_with_the_synology_target_and_iqn() {
        let dir = tempfile::tempdir().unwrap();
        let nas = Nas::new(dir.path());
        let lun = nas.create_lun("pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c", "services/vaultwarden-data", "2Gi", "/volume1").unwrap();
        assert_eq!(lun.name, "k8s-csi-pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c");
        assert_eq!(lun.iqn, "iqn.2000-01.com.synology:synelia.pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c");
        assert_eq!(lun.uuid.len(), 36);
        assert_eq!(nas.create_lun("pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c", "x/y", "1Gi", "/volume1").unwrap(), lun, "idempotent");
        assert_eq!(nas.luns().unwrap(), std::slice::from_ref(&lun));
        assert!(nas.delete_lun(&lun.uuid).unwrap());
        assert!(nas.luns().unwrap().is_empty());
        assert!(!nas.delete_lun(&lun.uuid).unwrap());
    }

    #[test]
    fn down_touches_the_nas_only_for_the_wipe_lun_fault_and_then_the_newest_lun_of_the_claim() {
        let dir = tempfile::tempdir().unwrap();
        let nas = Nas::new(dir.path());
        let old = nas.create_lun("pvc-1", "services/vaultwarden-data", "2Gi", "/volume1").unwrap();
        let new = nas.create_lun("pvc-2", "services/vaultwarden-data", "2Gi", "/volume1").unwrap();
        nas.create_lun("pvc-3", "home/mosquitto-data", "1Gi", "/volume1").unwrap();
        let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", 1, 0), Vec::new());
        spec.nas_dir = Some(dir.path().to_owned());
        assert!(on_down(&spec).unwrap().is_empty());
        assert_eq!(nas.luns().unwrap().len(), 3);
        spec.faults = Faults::parse("wipe-lun=vaultwarden-data").unwrap();
        assert_eq!(on_down(&spec).unwrap(), [nas.lun_path(&new.name)]);
        let left: Vec<String> = nas.luns().unwrap().into_iter().map(|l| l.name).collect();
        assert_eq!(left, [old.name, "k8s-csi-pvc-3".to_owned()]);
    }
}
