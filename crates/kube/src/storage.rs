//! The cluster's iSCSI PersistentVolumes, each with what names its LUN on the NAS, so that a
//! destroy can prove every LUN the cluster uses is there before and after it.
//!
//! A PV is an iSCSI volume when it is one of the shapes Kubernetes stores:
//! - the in-tree source `spec.iscsi` (`targetPortal`, `iqn`, `lun`): its LUN is named by the
//!   target IQN;
//! - a CSI volume of the Synology driver (`spec.csi.driver: csi.san.synology.com`) or of any
//!   driver whose `volumeAttributes.protocol` is `iscsi`: its LUN is named by the PV's name (the
//!   Synology driver names the LUN `k8s-csi-<pv>` and its target
//!   `iqn.2000-01.com.synology:<nas>.<pv>`) or by `volumeHandle` (the LUN's UUID).
//!
//! An inventory line names a volume's LUN when it contains one of those keys ([`IscsiVolume::is_named_by`]).

use std::fmt;

use k8s_openapi::api::core::v1::PersistentVolume;
use kube::Api;
use kube::api::ListParams;

use crate::{Cluster, Error};

/// The Synology CSI driver's name.
pub const SYNOLOGY_CSI_DRIVER: &str = "csi.san.synology.com";

/// One iSCSI PersistentVolume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IscsiVolume {
    /// The PV's name.
    pub name: String,
    /// The claim bound to it, `namespace/name`, if any.
    pub claim: Option<String>,
    /// `spec.persistentVolumeReclaimPolicy`.
    pub reclaim_policy: Option<String>,
    /// What names its LUN in an inventory: the PV name, the CSI volume handle, the in-tree IQN.
    pub keys: Vec<String>,
}

impl IscsiVolume {
    /// The volume of `pv`, when it is an iSCSI one.
    #[must_use]
    pub fn of(pv: &PersistentVolume) -> Option<Self> {
        let name = pv.metadata.name.clone().unwrap_or_default();
        let spec = pv.spec.as_ref()?;
        let keys = if let Some(iscsi) = &spec.iscsi {
            vec![format!("{}:{}", iscsi.iqn, iscsi.lun), iscsi.iqn.clone()]
        } else {
            let csi = spec.csi.as_ref()?;
            let protocol = csi.volume_attributes.as_ref().and_then(|a| a.get("protocol")).map(String::as_str);
            let iscsi = match protocol {
                Some(protocol) => protocol.eq_ignore_ascii_case("iscsi"),
                // The Synology driver's default protocol is iSCSI.
                None => csi.driver == SYNOLOGY_CSI_DRIVER,
            };
            if !iscsi {
                return None;
            }
            [name.clone(), csi.volume_handle.clone()].into_iter().filter(|k| !k.is_empty()).collect()
        };
        let claim = spec.claim_ref.as_ref().and_then(|c| Some(format!("{}/{}", c.namespace.as_deref()?, c.name.as_deref()?)));
        Some(Self { name, claim, reclaim_policy: spec.persistent_volume_reclaim_policy.clone(), keys })
    }

    /// True when the inventory line `item` names this volume's LUN (contains one of its keys).
    #[must_use]
    pub fn is_named_by(&self, item: &str) -> bool {
        self.keys.iter().any(|key| item.contains(key.as_str()))
    }
}

impl fmt::Display for IscsiVolume {
    /// `pvc-0b4f... (claim services/vaultwarden-data)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.claim {
            Some(claim) => write!(f, "{} (claim {claim})", self.name),
            None => write!(f, "{} (no claim)", self.name),
        }
    }
}

/// Every iSCSI PersistentVolume of the cluster, ordered by name.
///
/// # Errors
/// The API does not answer, or refuses the credentials (see [`Error`]).
pub async fn iscsi_volumes(cluster: &Cluster) -> Result<Vec<IscsiVolume>, Error> {
    let api: Api<PersistentVolume> = Api::all(cluster.client().clone());
    let list = api.list(&ListParams::default()).await.map_err(|e| cluster.endpoint().classify(e))?;
    let mut volumes: Vec<IscsiVolume> = list.items.iter().filter_map(IscsiVolume::of).collect();
    volumes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(volumes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(yaml: &str) -> PersistentVolume {
        serde_saphyr::from_str(yaml).unwrap()
    }

    const SYNOLOGY: &str = "
metadata: {name: pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c}
spec:
  capacity: {storage: 2Gi}
  persistentVolumeReclaimPolicy: Retain
  claimRef: {namespace: services, name: vaultwarden-data}
  csi:
    driver: csi.san.synology.com
    volumeHandle: 5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b
    volumeAttributes: {dsm: 10.5.255.10, protocol: iscsi}
";

    #[test]
    fn a_synology_volume_is_named_by_its_target_its_lun_or_its_handle() {
        let volume = IscsiVolume::of(&pv(SYNOLOGY)).unwrap();
        assert_eq!(volume.to_string(), "pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c (claim services/vaultwarden-data)");
        assert!(volume.is_named_by("iqn.2000-01.com.synology:synelia.pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c"));
        assert!(volume.is_named_by("k8s-csi-pvc-0b4f0c2e-5c1d-4a8e-9f3b-6d7e8f9a0b1c"));
        assert!(volume.is_named_by("5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b"));
        assert!(!volume.is_named_by("iqn.2000-01.com.synology:synelia.pvc-11111111-5c1d-4a8e-9f3b-6d7e8f9a0b1c"));
    }

    #[test]
    fn an_in_tree_iscsi_volume_is_named_by_its_iqn() {
        let volume = IscsiVolume::of(&pv("
metadata: {name: legacy-data}
spec:
  iscsi: {targetPortal: '10.5.255.10:3260', iqn: 'iqn.2000-01.com.synology:synelia.legacy', lun: 1}
"))
        .unwrap();
        assert_eq!(volume.to_string(), "legacy-data (no claim)");
        assert!(volume.is_named_by("10.5.255.10:3260,1 iqn.2000-01.com.synology:synelia.legacy"));
    }

    #[test]
    fn nfs_local_path_and_other_csi_volumes_are_not_iscsi() {
        for yaml in [
            "metadata: {name: a}\nspec: {nfs: {server: 10.5.255.10, path: /volume1/media}}",
            "metadata: {name: b}\nspec: {hostPath: {path: /var/local-path-provisioner/b}}",
            "metadata: {name: c}\nspec: {csi: {driver: csi.san.synology.com, volumeHandle: x, volumeAttributes: {protocol: smb}}}",
            "metadata: {name: d}\nspec: {csi: {driver: nfs.csi.k8s.io, volumeHandle: y}}",
        ] {
            assert_eq!(IscsiVolume::of(&pv(yaml)), None, "{yaml}");
        }
        let default_protocol = "metadata: {name: e}\nspec: {csi: {driver: csi.san.synology.com, volumeHandle: z}}";
        assert!(IscsiVolume::of(&pv(default_protocol)).is_some(), "the Synology driver's default protocol is iSCSI");
    }
}
