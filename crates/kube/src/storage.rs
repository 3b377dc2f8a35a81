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
//!
//! [`unsettled`] says why the storage may still grow: right after a cluster is brought up, Argo
//! CD has not synced every app yet, so claims (and their LUNs) are still to come; a destroy
//! taken then would inventory LUNs that do not exist yet.

use std::fmt;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::Api;
use kube::api::ListParams;

use crate::argocd::{Application, OperationPhase, SyncCode};
use crate::{Cluster, Error};

/// The annotation the PersistentVolume controller sets on a claim it asked a provisioner to
/// provision (for a `WaitForFirstConsumer` class, only once a pod is scheduled).
const STORAGE_PROVISIONER_ANNOTATION: &str = "volume.kubernetes.io/storage-provisioner";

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

/// Why the storage of the cluster may still grow, or `None` when it has settled: the root app
/// `root_app` in `namespace` has synced, every other Application has finished a sync (so every
/// claim its manifests hold exists), and no claim is being provisioned. A cluster without the
/// root app (no Argo CD) is judged by its claims alone.
///
/// # Errors
/// The API does not answer, or refuses the credentials.
pub async fn unsettled(cluster: &Cluster, namespace: &str, root_app: &str) -> Result<Option<String>, Error> {
    let classify = |e| cluster.endpoint().classify(e);
    let apps = match cluster.namespaced::<Application>(namespace).list(&ListParams::default()).await {
        Ok(list) => Some(list.items),
        // No Argo CD (its CRD absent): nothing syncs claims in.
        Err(kube::Error::Api(status)) if status.code == 404 => None,
        Err(e) => return Err(classify(e)),
    };
    let claims = Api::<PersistentVolumeClaim>::all(cluster.client().clone()).list(&ListParams::default()).await.map_err(classify)?;
    Ok(unsettled_in(apps.as_deref(), root_app, &claims.items))
}

/// [`unsettled`] over listed objects; `apps` is `None` on a cluster without Argo CD.
#[must_use]
pub fn unsettled_in(apps: Option<&[Application]>, root_app: &str, claims: &[PersistentVolumeClaim]) -> Option<String> {
    if let Some(apps) = apps
        && let Some(why) = tree_unsettled(apps, root_app)
    {
        return Some(why);
    }
    let provisioning = claims.iter().find(|c| {
        let pending = c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
        pending && c.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(STORAGE_PROVISIONER_ANNOTATION))
    });
    provisioning.map(|c| {
        format!(
            "claim {}/{} is being provisioned",
            c.metadata.namespace.as_deref().unwrap_or_default(),
            c.metadata.name.as_deref().unwrap_or_default()
        )
    })
}

/// Why Argo CD may still create claims: the root app missing or not synced, a child it lists not
/// created, or an app that has not finished its first sync.
fn tree_unsettled(apps: &[Application], root_app: &str) -> Option<String> {
    let Some(root) = apps.iter().find(|a| a.name() == root_app) else {
        return Some(format!("the root app `{root_app}` does not exist yet"));
    };
    if root.sync() != Some(&SyncCode::Synced) {
        return Some(format!("the root app `{root_app}` has not synced the app tree yet"));
    }
    if let Some(missing) = root.child_apps().map(|(name, _)| name).find(|name| !apps.iter().any(|a| a.name() == *name)) {
        return Some(format!("Application `{missing}` is not created yet"));
    }
    apps.iter().filter(|a| a.name() != root_app).find_map(|app| {
        let finished = app.operation_state().and_then(|s| s.phase.as_ref()).is_some_and(|p| *p != OperationPhase::Running);
        let synced_before = app.status.as_ref().is_some_and(|s| !s.history.is_empty());
        (app.operation.is_some() || !(finished || synced_before)).then(|| format!("Application `{}` has not finished its first sync", app.name()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::fixtures::fixture;

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
    fn storage_settles_once_every_app_has_synced_and_no_claim_is_being_provisioned() {
        let root = fixture("root.yaml");
        let synced = fixture("converged.yaml");
        let cert_manager = crate::argocd::fixtures::named(fixture("converged.yaml"), "cert-manager", -1);
        assert_eq!(unsettled_in(Some(&[root.clone(), synced.clone(), cert_manager.clone()]), "vixens-app-of-apps", &[]), None);
        assert_eq!(
            unsettled_in(Some(std::slice::from_ref(&synced)), "vixens-app-of-apps", &[]),
            Some("the root app `vixens-app-of-apps` does not exist yet".into()),
            "Argo CD runs, not bootstrapped yet"
        );
        assert_eq!(
            unsettled_in(Some(&[root.clone(), synced.clone()]), "vixens-app-of-apps", &[]),
            Some("Application `cert-manager` is not created yet".into())
        );
        let mut never_synced = cert_manager.clone();
        never_synced.status.as_mut().unwrap().operation_state = None;
        never_synced.status.as_mut().unwrap().history.clear();
        assert_eq!(
            unsettled_in(Some(&[root.clone(), synced.clone(), never_synced]), "vixens-app-of-apps", &[]),
            Some("Application `cert-manager` has not finished its first sync".into())
        );
        let claim: PersistentVolumeClaim = serde_saphyr::from_str(
            "metadata: {name: vaultwarden-data, namespace: services, annotations: {volume.kubernetes.io/storage-provisioner: csi.san.synology.com}}\nstatus: {phase: Pending}",
        )
        .unwrap();
        assert_eq!(
            unsettled_in(Some(&[root, synced, cert_manager]), "vixens-app-of-apps", &[claim]),
            Some("claim services/vaultwarden-data is being provisioned".into())
        );
        let waiting_for_a_pod: PersistentVolumeClaim = serde_saphyr::from_str("metadata: {name: a, namespace: b}\nstatus: {phase: Pending}").unwrap();
        assert_eq!(unsettled_in(None, "vixens-app-of-apps", &[waiting_for_a_pod]), None, "no Argo CD; WaitForFirstConsumer with no pod: settled");
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
