//! Every iSCSI PersistentVolume of the cluster mapped to its LUN in the protected inventory,
//! before the destroy, so that "never destroys LUNs" cannot pass on an inventory that saw nothing.
//!
//! The LUN lists are the inventory's `command` checks (the `s3-bucket` ones list buckets). Before
//! anything is destroyed:
//! - a LUN list with no item while the cluster has iSCSI PVs is an error (a listing that failed
//!   quietly: `iscsiadm` missing, not root, the NAS unreachable behind a pipe);
//! - each iSCSI PV must be named by one item of a LUN list ([`IscsiVolume::is_named_by`]), else
//!   the error names the PV, its claim and the lists;
//! - each mapped LUN that is gone after the destroy is reported with its PV and claim.
//!
//! First the storage is let settle ([`settle`]): a cluster brought up a moment ago has not
//! synced every app yet, and the LUNs of claims still to come would be missing from the inventory
//! taken before the destroy, and so unprotected by it.
//!
//! The PVs are listed with the environment's admin kubeconfig. A cluster whose kubeconfig does
//! not exist (never applied) has no volume; one whose API does not answer (a cluster already
//! half gone) cannot be mapped, which the destroy reports as it goes and then relies on the
//! inventory alone.

use std::time::Duration;

use vixens_kube::Cluster;
use vixens_kube::storage::{IscsiVolume, iscsi_volumes};

use super::inventory::{Error, Inventory, Lost};
use crate::env::{Environment, InventoryCheck};

/// One iSCSI PV and the inventory item that is its LUN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The volume.
    pub volume: IscsiVolume,
    /// The LUN list (check name) that lists it.
    pub check: String,
    /// The item naming its LUN.
    pub lun: String,
}

/// The iSCSI PVs of `env`'s cluster: `Ok(None)` when it has no kubeconfig (nothing was ever
/// applied), `Err` with the reason when the API cannot list them within `timeout`.
///
/// # Errors
/// Why the PersistentVolumes could not be listed, in words.
pub fn list(env: &Environment, timeout: Duration) -> Result<Option<Vec<IscsiVolume>>, String> {
    if !env.kubeconfig.is_file() {
        return Ok(None);
    }
    // kube-rs logs a failed request at ERROR level: the caller says it once instead.
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        crate::runtime::block_on(async {
            let cluster = Cluster::open(&env.kubeconfig, "kubeconfig").await.map_err(|e| vixens_diagnostic::error_chain(&e))?;
            match tokio::time::timeout(timeout, iscsi_volumes(&cluster)).await {
                Ok(listed) => listed.map(Some).map_err(|e| vixens_diagnostic::error_chain(&e)),
                Err(_) => Err(format!("the API did not list the PersistentVolumes within {}", humantime::format_duration(timeout))),
            }
        })
    })
}

/// Waits, within `timeout`, until the storage of `env`'s cluster has settled
/// ([`vixens_kube::storage::unsettled`]): at once on a cluster that runs for a while.
///
/// # Errors
/// Why it has not settled at the deadline, or why the API could not tell.
pub fn settle(env: &Environment, timeout: Duration) -> Result<(), String> {
    if !env.kubeconfig.is_file() {
        return Ok(());
    }
    let deadline = std::time::Instant::now() + timeout;
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        crate::runtime::block_on(async {
            let cluster = Cluster::open(&env.kubeconfig, "kubeconfig").await.map_err(|e| vixens_diagnostic::error_chain(&e))?;
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                let why =
                    match tokio::time::timeout(left, vixens_kube::storage::unsettled(&cluster, &env.argocd.namespace, &env.argocd.root_app)).await {
                        Ok(Ok(None)) => return Ok(()),
                        Ok(Ok(Some(why))) => why,
                        Ok(Err(e)) => return Err(vixens_diagnostic::error_chain(&e)),
                        Err(_) => "the API did not answer".to_owned(),
                    };
                if std::time::Instant::now() + SETTLE_POLL >= deadline {
                    return Err(format!("not settled after {}: {why}", humantime::format_duration(timeout)));
                }
                tokio::time::sleep(SETTLE_POLL).await;
            }
        })
    })
}

/// How often [`settle`] looks again.
const SETTLE_POLL: Duration = Duration::from_millis(500);

/// Maps each volume to the item of `before` that names its LUN.
///
/// # Errors
/// [`Error::ListedNothing`] when a LUN list is empty while there are volumes;
/// [`Error::NoLunList`] when the inventory has no LUN list at all; [`Error::VolumeWithoutLun`]
/// naming every volume no item names.
pub fn map(checks: &[InventoryCheck], before: &Inventory, volumes: &[IscsiVolume]) -> Result<Vec<Mapped>, Error> {
    if volumes.is_empty() {
        return Ok(Vec::new());
    }
    let lun_lists: Vec<_> = checks
        .iter()
        .filter_map(|c| match c {
            InventoryCheck::Command { name, .. } => before.checks.iter().find(|f| &f.name == name),
            InventoryCheck::S3Bucket { .. } => None,
        })
        .collect();
    let described = || volumes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if lun_lists.is_empty() {
        return Err(Error::NoLunList { volumes: volumes.len(), described: described() });
    }
    if let Some(empty) = lun_lists.iter().find(|f| f.items.is_empty()) {
        return Err(Error::ListedNothing { name: empty.name.clone(), volumes: volumes.len(), described: described() });
    }
    let mut mapped = Vec::new();
    let mut unmapped = Vec::new();
    for volume in volumes {
        let found = lun_lists.iter().find_map(|f| f.items.iter().find(|item| volume.is_named_by(item)).map(|item| (f, item)));
        match found {
            Some((list, lun)) => mapped.push(Mapped { volume: volume.clone(), check: list.name.clone(), lun: lun.clone() }),
            None => unmapped.push(volume.to_string()),
        }
    }
    if !unmapped.is_empty() {
        let lists = lun_lists.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        return Err(Error::VolumeWithoutLun { volumes: unmapped, lists });
    }
    Ok(mapped)
}

/// `lost`, each LUN of a mapped volume named with its PV and claim.
#[must_use]
pub fn name_volumes(mut lost: Vec<Lost>, mapped: &[Mapped]) -> Vec<Lost> {
    for item in &mut lost {
        if let Some(m) = mapped.iter().find(|m| m.check == item.check && m.lun == item.item) {
            let claim = m.volume.claim.as_deref().unwrap_or("none");
            item.volume = Some(format!("PV {}, claim {claim}", m.volume.name));
        }
    }
    lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destroy::inventory::Found;

    fn volume(pv: &str, claim: &str) -> IscsiVolume {
        IscsiVolume { name: pv.into(), claim: Some(claim.into()), reclaim_policy: Some("Retain".into()), keys: vec![pv.into()] }
    }

    fn checks() -> Vec<InventoryCheck> {
        vec![
            InventoryCheck::S3Bucket { name: "terraform state bucket".into(), endpoint: "file:///nas".into(), bucket: "b".into(), credentials: None },
            InventoryCheck::Command { name: "NAS iSCSI LUNs".into(), run: "iscsiadm ...".into() },
        ]
    }

    fn inventory(luns: &[&str]) -> Inventory {
        Inventory {
            checks: vec![
                Found { name: "terraform state bucket".into(), items: vec!["b".into()] },
                Found { name: "NAS iSCSI LUNs".into(), items: luns.iter().map(|l| (*l).to_owned()).collect() },
            ],
        }
    }

    #[test]
    fn each_volume_is_mapped_to_the_target_that_names_it() {
        let volumes = [volume("pvc-1", "services/vaultwarden-data"), volume("pvc-2", "home/mosquitto-data")];
        let before = inventory(&["iqn.2000-01.com.synology:synelia.pvc-2", "iqn.2000-01.com.synology:synelia.pvc-1"]);
        let mapped = map(&checks(), &before, &volumes).unwrap();
        assert_eq!(mapped[0].lun, "iqn.2000-01.com.synology:synelia.pvc-1");
        assert_eq!(mapped[1].check, "NAS iSCSI LUNs");
    }

    #[test]
    fn a_lun_list_with_nothing_while_the_cluster_has_volumes_fails_naming_them() {
        let volumes = [volume("pvc-1", "services/vaultwarden-data"), volume("pvc-2", "home/mosquitto-data")];
        let err = map(&checks(), &inventory(&[]), &volumes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "NAS iSCSI LUNs listed nothing while the cluster has 2 iSCSI PersistentVolumes: pvc-1 (claim services/vaultwarden-data), \
             pvc-2 (claim home/mosquitto-data); a LUN listing that fails quietly (iscsiadm missing or not root, the NAS unreachable \
             behind a pipe) would let the destroy lose them unnoticed"
        );
        assert!(map(&checks(), &inventory(&[]), &[]).unwrap().is_empty(), "no volume, nothing to map");
    }

    #[test]
    fn a_volume_whose_lun_is_not_listed_fails_naming_pv_and_claim() {
        let volumes = [volume("pvc-1", "services/vaultwarden-data"), volume("pvc-2", "home/mosquitto-data")];
        let err = map(&checks(), &inventory(&["iqn.2000-01.com.synology:synelia.pvc-2"]), &volumes).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no LUN in the protected inventory for the iSCSI PersistentVolume pvc-1 (claim services/vaultwarden-data); \
             the LUN lists: NAS iSCSI LUNs: 1 (iqn.2000-01.com.synology:synelia.pvc-2)"
        );
        let only_buckets = &checks()[..1];
        let err = map(only_buckets, &inventory(&["x"]), &volumes[..1]).unwrap_err();
        assert!(
            err.to_string().starts_with("protected.inventory has no `command` check listing the NAS's LUNs, and the cluster has 1 iSCSI"),
            "{err}"
        );
    }

    #[test]
    fn a_lost_lun_is_named_with_its_volume_and_claim() {
        let volumes = [volume("pvc-1", "services/vaultwarden-data")];
        let mapped = map(&checks(), &inventory(&["iqn.x:synelia.pvc-1"]), &volumes).unwrap();
        let lost = vec![Lost { check: "NAS iSCSI LUNs".into(), item: "iqn.x:synelia.pvc-1".into(), uncheckable: None, volume: None }];
        assert_eq!(
            name_volumes(lost, &mapped)[0].to_string(),
            "NAS iSCSI LUNs `iqn.x:synelia.pvc-1` (PV pvc-1, claim services/vaultwarden-data) was there before the destroy and is gone"
        );
    }
}
