//! The cluster's storage, as the homelab's runs it: the StorageClasses its apps install, the
//! external-provisioner with the Synology CSI driver (iSCSI LUNs on the NAS), the local-path
//! provisioner, statically provisioned NFS volumes, and the PersistentVolume controller that binds
//! claims and reclaims released volumes.
//!
//! Objects have the real shapes, so that a harness can map every iSCSI PV to its LUN:
//! - a dynamically provisioned PV is named `pvc-<claim uid>`; for a `csi.san.synology.com` class
//!   its `spec.csi` is `{driver: csi.san.synology.com, volumeHandle: <LUN UUID>, fsType,
//!   volumeAttributes: {dsm, protocol: iscsi, ...}}` and its LUN is `k8s-csi-pvc-<claim uid>`;
//! - a bound claim has `spec.volumeName`, `status.phase: Bound`, its capacity and access modes;
//! - deleting a claim releases its PV: a `Delete` class deletes the PV and (Synology) its LUN, a
//!   `Retain` class leaves the PV `Released` and the LUN on the NAS.
//!
//! Without a NAS (`--nas-dir`), Synology claims stay Pending with a `ProvisioningFailed` event, as
//! they do when the driver cannot reach DSM.
//!
//! The iSCSI sessions the CSI node plugin opens for bound Synology volumes are written to the
//! lab's sessions file, which the `iscsiadm` stand-in reads (`iscsiadm -m session`).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::nas::Nas;
use crate::spec::{ClaimSpec, LabSpec};
use crate::store::{EventType, ResourceId, Store};
use crate::talos::kube::KubeWriter;

/// The homelab's default class: Synology iSCSI, `reclaimPolicy: Retain`.
pub const DEFAULT_CLASS: &str = "synelia-iscsi-retain";
/// The Synology CSI driver's name and provisioner.
pub const SYNOLOGY: &str = crate::gitops::SYNOLOGY_PROVISIONER;
/// The local-path provisioner.
const LOCAL_PATH: &str = "rancher.io/local-path";
/// The DSM address the Synology PVs name (`volumeAttributes.dsm`): the NAS's management address.
pub const DSM_ADDRESS: &str = "10.5.255.10";

fn claims_id() -> ResourceId {
    ResourceId::new("", "persistentvolumeclaims")
}

fn volumes_id() -> ResourceId {
    ResourceId::new("", "persistentvolumes")
}

fn classes_id() -> ResourceId {
    ResourceId::new("storage.k8s.io", "storageclasses")
}

/// The homelab's StorageClasses, for app trees whose manifests do not install any (the
/// built-in trees): the two Synology classes and local-path.
#[must_use]
pub fn builtin_classes() -> Vec<Value> {
    let synology = |name: &str, reclaim: &str, binding: &str| {
        json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": SYNOLOGY,
            "parameters": {"fsType": "ext4", "protocol": "iscsi", "location": "/volume1"},
            "reclaimPolicy": reclaim, "allowVolumeExpansion": true, "volumeBindingMode": binding,
        })
    };
    let mut retain = synology(DEFAULT_CLASS, "Retain", "WaitForFirstConsumer");
    retain["metadata"]["annotations"] = json!({"storageclass.kubernetes.io/is-default-class": "true"});
    vec![
        retain,
        synology("synelia-iscsi-delete", "Delete", "Immediate"),
        json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path"},
               "provisioner": LOCAL_PATH, "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"}),
    ]
}

/// The storage controllers of one lab.
pub struct Storage {
    store: Store,
    kube: KubeWriter,
    nas: Option<Nas>,
    sessions: Option<PathBuf>,
}

impl Storage {
    /// Starts the controllers of `spec` on `store`, writing iSCSI sessions to `sessions` when
    /// given. Must be called inside a tokio runtime.
    pub fn start(spec: &LabSpec, store: Store, sessions: Option<PathBuf>) -> Arc<Self> {
        let storage = Arc::new(Self { kube: KubeWriter::new(store.clone()), store, nas: Nas::of(spec), sessions });
        let has_classes = spec.apps.iter().flat_map(|a| &a.objects).any(|o| o["kind"] == "StorageClass");
        if !has_classes {
            for class in builtin_classes() {
                storage.upsert(&classes_id(), None, class);
            }
        }
        let controller = Arc::clone(&storage);
        tokio::spawn(async move { controller.run().await });
        storage
    }

    /// What an app's sync applies to storage: its StorageClasses, its static PersistentVolumes and
    /// its claims (Pending until the controllers bind them).
    pub fn apply(&self, objects: &[Value], claims: &[ClaimSpec]) {
        for object in objects {
            match object["kind"].as_str() {
                Some("StorageClass") => self.upsert(&classes_id(), None, object.clone()),
                Some("PersistentVolume") => {
                    let mut pv = object.clone();
                    pv["status"] = json!({"phase": "Available"});
                    self.upsert(&volumes_id(), None, pv);
                }
                _ => {}
            }
        }
        for claim in claims {
            if self.store.get(&claims_id(), Some(&claim.namespace), &claim.name).is_some() {
                continue;
            }
            self.kube.ensure_namespace(&claim.namespace);
            let mut pvc = json!({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim.name, "namespace": claim.namespace, "finalizers": ["kubernetes.io/pvc-protection"]},
                "spec": {"accessModes": claim.access_modes, "resources": {"requests": {"storage": claim.size}},
                         "storageClassName": claim.storage_class, "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"},
            });
            if let Some(volume) = &claim.volume_name {
                pvc["spec"]["volumeName"] = json!(volume);
            }
            self.upsert(&claims_id(), Some(&claim.namespace), pvc);
        }
    }

    fn upsert(&self, id: &ResourceId, namespace: Option<&str>, object: Value) {
        if let Err(e) = self.store.upsert(id, namespace, object) {
            tracing::warn!(error = %e, resource = id.plural, "the simulated storage controllers could not write an object");
        }
    }

    /// Reconciles whenever a claim, volume or class changes, for the life of the lab.
    async fn run(self: Arc<Self>) {
        loop {
            // Subscribe first, then reconcile: no change falls between the two.
            let Ok(mut watch) = self.store.watch(&claims_id(), None, self.store.revision()) else { continue };
            self.reconcile();
            loop {
                match watch.live.recv().await {
                    Ok(event) if [claims_id(), volumes_id(), classes_id()].contains(&event.resource) => {
                        if event.kind == EventType::Deleted && event.resource == claims_id() {
                            self.release(&event.object);
                        }
                        self.reconcile();
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }

    /// Binds every Pending claim that can be bound.
    fn reconcile(&self) {
        let pending = self.store.list(&claims_id(), None).0.into_iter().filter(|c| c.pointer("/status/phase") == Some(&json!("Pending")));
        for claim in pending {
            self.bind(&claim);
        }
    }

    fn bind(&self, claim: &Value) {
        let text = |p: &str| claim.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (name, namespace) = (text("/metadata/name"), text("/metadata/namespace"));
        if let Some(static_volume) = claim.pointer("/spec/volumeName").and_then(Value::as_str) {
            if let Some(pv) = self.store.get(&volumes_id(), None, static_volume) {
                self.bound(claim, &pv, None);
            }
            return;
        }
        let Some(class) = self.store.get(&classes_id(), None, &text("/spec/storageClassName")) else { return };
        let pv_name = format!("pvc-{}", text("/metadata/uid"));
        if self.store.get(&volumes_id(), None, &pv_name).is_some() {
            return;
        }
        let provisioner = class["provisioner"].as_str().unwrap_or_default();
        let source = match provisioner {
            SYNOLOGY => match self.create_lun(claim, &class, &pv_name) {
                Ok(csi) => csi,
                Err(message) => {
                    self.kube.event(
                        &namespace,
                        "PersistentVolumeClaim",
                        &name,
                        "ProvisioningFailed",
                        &message,
                        "Warning",
                        "csi.san.synology.com_synology-csi-controller",
                        "",
                    );
                    return;
                }
            },
            LOCAL_PATH => {
                json!({"hostPath": {"path": format!("/var/local-path-provisioner/{pv_name}_{namespace}_{name}"), "type": "DirectoryOrCreate"}})
            }
            _ => return,
        };
        let mut pv = json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {
                "name": pv_name,
                "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                "finalizers": ["kubernetes.io/pv-protection"],
            },
            "spec": {
                "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or_else(|| json!(["ReadWriteOnce"])),
                "capacity": {"storage": text("/spec/resources/requests/storage")},
                "persistentVolumeReclaimPolicy": class["reclaimPolicy"].as_str().unwrap_or("Delete"),
                "storageClassName": class.pointer("/metadata/name").cloned().unwrap_or_default(),
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Available"},
        });
        if let (Some(spec), Some(source)) = (pv["spec"].as_object_mut(), source.as_object()) {
            spec.extend(source.clone());
        }
        if provisioner == SYNOLOGY {
            pv["metadata"]["finalizers"] = json!(["kubernetes.io/pv-protection", "external-provisioner.volume.kubernetes.io/finalizer"]);
        }
        let lun_iqn = (provisioner == SYNOLOGY).then(|| crate::nas::iqn(&pv_name));
        self.bound(claim, &pv, lun_iqn.as_deref());
    }

    /// `CreateVolume` of the Synology driver: the LUN on the NAS, and the PV's `csi` source.
    fn create_lun(&self, claim: &Value, class: &Value, pv_name: &str) -> Result<Value, String> {
        let nas = self.nas.as_ref().ok_or_else(|| {
            format!(
                "failed to provision volume with StorageClass \"{}\": rpc error: code = Internal desc = Couldn't find any host available to create Volume",
                class.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
            )
        })?;
        let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
        let description = format!("{}/{}", text(claim, "/metadata/namespace"), text(claim, "/metadata/name"));
        let location = Some(text(class, "/parameters/location")).filter(|l| !l.is_empty()).unwrap_or_else(|| "/volume1".to_owned());
        let lun = nas
            .create_lun(pv_name, &description, &text(claim, "/spec/resources/requests/storage"), &location)
            .map_err(|e| format!("failed to provision volume: rpc error: code = Internal desc = {e}"))?;
        let fs_type = Some(text(class, "/parameters/fsType")).filter(|f| !f.is_empty()).unwrap_or_else(|| "ext4".to_owned());
        Ok(json!({"csi": {
            "driver": SYNOLOGY,
            "volumeHandle": lun.uuid,
            "fsType": fs_type,
            "volumeAttributes": {
                "dsm": DSM_ADDRESS,
                "protocol": "iscsi",
                "source": "",
                "formatOptions": "",
                "mountPermissions": "0750",
                "baseDir": "",
                "storage.kubernetes.io/csiProvisionerIdentity": "1764151200000-9031-csi.san.synology.com",
            },
        }}))
    }

    /// Binds `claim` to `pv` both ways, and opens the iSCSI session of a Synology volume.
    fn bound(&self, claim: &Value, pv: &Value, iqn: Option<&str>) {
        let text = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
        let (name, namespace, pv_name) = (text(claim, "/metadata/name"), text(claim, "/metadata/namespace"), text(pv, "/metadata/name"));
        let mut pv = pv.clone();
        pv["spec"]["claimRef"] =
            json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name, "namespace": namespace, "uid": text(claim, "/metadata/uid")});
        pv["status"] = json!({"phase": "Bound"});
        self.upsert(&volumes_id(), None, pv.clone());
        let provisioner = text(&pv, "/metadata/annotations/pv.kubernetes.io~1provisioned-by");
        let mut annotations = json!({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"});
        if !provisioner.is_empty() {
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = json!(provisioner);
            annotations["volume.kubernetes.io/storage-provisioner"] = json!(provisioner);
        }
        let patch = json!({
            "metadata": {"annotations": annotations},
            "spec": {"volumeName": pv_name},
            "status": {"phase": "Bound", "accessModes": pv["spec"]["accessModes"], "capacity": pv["spec"]["capacity"]},
        });
        if let Err(e) = self.store.merge_patch(&claims_id(), Some(&namespace), &name, &patch) {
            tracing::warn!(error = %e, claim = name, "the simulated PV controller could not bind a claim");
        }
        if let Some(iqn) = iqn {
            self.log_in(iqn);
        }
    }

    /// The PV controller on a deleted claim: its volume is Released, then reclaimed by its policy.
    fn release(&self, claim: &Value) {
        let uid = claim.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or_default();
        let volumes = self.store.list(&volumes_id(), None).0;
        let Some(pv) = volumes.into_iter().find(|pv| pv.pointer("/spec/claimRef/uid").and_then(Value::as_str) == Some(uid)) else { return };
        let pv_name = pv.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        if pv.pointer("/spec/persistentVolumeReclaimPolicy") == Some(&json!("Delete")) {
            if let (Some(handle), Some(nas)) = (pv.pointer("/spec/csi/volumeHandle").and_then(Value::as_str), &self.nas)
                && let Err(e) = nas.delete_lun(handle)
            {
                tracing::warn!(error = %e, pv = pv_name, "the simulated Synology driver could not delete a LUN");
                return;
            }
            self.log_out(&crate::nas::iqn(&pv_name));
            let _ = self.store.delete(&volumes_id(), None, &pv_name);
        } else {
            let patch = json!({"status": {"phase": "Released"}});
            let _ = self.store.merge_patch(&volumes_id(), None, &pv_name, &patch);
        }
    }

    /// The CSI node plugin logs in to a target: one more line in the sessions file.
    fn log_in(&self, iqn: &str) {
        let Some(path) = &self.sessions else { return };
        let mut sessions = crate::iscsiadm::read_lines(path);
        if !sessions.iter().any(|s| s == iqn) {
            sessions.push(iqn.to_owned());
            if let Err(e) = crate::iscsiadm::write_lines(path, &sessions) {
                tracing::warn!(error = %e, "the simulated CSI node plugin could not record an iSCSI session");
            }
        }
    }

    fn log_out(&self, iqn: &str) {
        let Some(path) = &self.sessions else { return };
        let sessions: Vec<String> = crate::iscsiadm::read_lines(path).into_iter().filter(|s| s != iqn).collect();
        let _ = crate::iscsiadm::write_lines(path, &sessions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(name: &str, class: &str) -> ClaimSpec {
        ClaimSpec {
            name: name.into(),
            namespace: "services".into(),
            storage_class: class.into(),
            size: "2Gi".into(),
            access_modes: vec!["ReadWriteOnce".into()],
            volume_name: None,
        }
    }

    async fn settle<F: Fn() -> bool>(done: F) {
        for _ in 0..200 {
            if done() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the storage controllers did not settle");
    }

    #[tokio::test]
    async fn a_synology_claim_gets_a_pv_named_after_its_uid_and_a_lun_named_after_the_pv() {
        let nas_dir = tempfile::tempdir().unwrap();
        let mut spec = LabSpec::new("lab", Vec::new(), Vec::new());
        spec.nas_dir = Some(nas_dir.path().to_owned());
        let store = Store::default();
        let storage = Storage::start(&spec, store.clone(), None);
        storage.apply(&[], &[claim("vaultwarden-data", DEFAULT_CLASS)]);
        let bound = || store.get(&claims_id(), Some("services"), "vaultwarden-data").is_some_and(|c| c["status"]["phase"] == "Bound");
        settle(bound).await;
        let pvc = store.get(&claims_id(), Some("services"), "vaultwarden-data").unwrap();
        let pv_name = pvc["spec"]["volumeName"].as_str().unwrap();
        assert_eq!(pv_name, format!("pvc-{}", pvc["metadata"]["uid"].as_str().unwrap()));
        let pv = store.get(&volumes_id(), None, pv_name).unwrap();
        assert_eq!(pv["spec"]["csi"]["driver"], SYNOLOGY);
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        let luns = Nas::new(nas_dir.path()).luns().unwrap();
        assert_eq!(luns.len(), 1);
        assert_eq!(luns[0].name, format!("k8s-csi-{pv_name}"));
        assert_eq!(pv["spec"]["csi"]["volumeHandle"].as_str(), Some(luns[0].uuid.as_str()));
        assert_eq!(luns[0].description, "services/vaultwarden-data");
    }

    #[tokio::test]
    async fn deleting_a_claim_deletes_a_delete_class_lun_and_keeps_a_retain_one() {
        let nas_dir = tempfile::tempdir().unwrap();
        let mut spec = LabSpec::new("lab", Vec::new(), Vec::new());
        spec.nas_dir = Some(nas_dir.path().to_owned());
        let store = Store::default();
        let storage = Storage::start(&spec, store.clone(), None);
        storage.apply(&[], &[claim("keep", DEFAULT_CLASS), claim("scratch", "synelia-iscsi-delete")]);
        let nas = Nas::new(nas_dir.path());
        settle(|| nas.luns().is_ok_and(|l| l.len() == 2)).await;
        for name in ["keep", "scratch"] {
            store.delete(&claims_id(), Some("services"), name).unwrap();
        }
        settle(|| nas.luns().is_ok_and(|l| l.len() == 1)).await;
        assert_eq!(nas.luns().unwrap()[0].description, "services/keep");
        let phases: Vec<Value> = store.list(&volumes_id(), None).0.iter().map(|pv| pv["status"]["phase"].clone()).collect();
        assert_eq!(phases, [json!("Released")], "the Retain PV stays Released, the Delete one is gone");
    }

    #[tokio::test]
    async fn without_a_nas_a_synology_claim_stays_pending_with_a_provisioning_failure() {
        let spec = LabSpec::new("lab", Vec::new(), Vec::new());
        let store = Store::default();
        let storage = Storage::start(&spec, store.clone(), None);
        storage.apply(&[], &[claim("data", DEFAULT_CLASS), claim("cache", "local-path")]);
        let bound = || store.get(&claims_id(), Some("services"), "cache").is_some_and(|c| c["status"]["phase"] == "Bound");
        settle(bound).await;
        assert_eq!(store.get(&claims_id(), Some("services"), "data").unwrap()["status"]["phase"], "Pending");
        let events = store.list(&ResourceId::new("", "events"), Some("services")).0;
        assert!(events.iter().any(|e| e["reason"] == "ProvisioningFailed"), "{events:?}");
    }
}
