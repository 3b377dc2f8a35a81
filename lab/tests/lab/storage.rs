//! Storage as the homelab has it: the fixture's claims bound through its StorageClasses, each
//! Synology PV mapped to a LUN on the NAS by the driver's real names, reclaim policies honoured,
//! and the `wipe-lun` fault deleting a LUN that can then be found missing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::talosctl::booted_lab;
use crate::{Lab, Nas, gitops_fixture, stdout, text, vixens_lab, wait_converged};

/// Every PersistentVolume of the lab, by name.
fn volumes(lab: &Lab) -> BTreeMap<String, Value> {
    let list: Value = serde_json::from_str(&stdout(&lab.kubectl(&["get", "pv", "-o", "json"]))).unwrap();
    list["items"].as_array().unwrap().iter().map(|v| (v["metadata"]["name"].as_str().unwrap().to_owned(), v.clone())).collect()
}

/// The LUN records on the NAS, by name.
fn luns(nas: &Nas) -> BTreeMap<String, Value> {
    let dir = nas.dir().join("dsm/luns");
    let Ok(entries) = std::fs::read_dir(&dir) else { return BTreeMap::new() };
    entries
        .map(|e| {
            let lun: Value = serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            (lun["name"].as_str().unwrap().to_owned(), lun)
        })
        .collect()
}

/// Waits until `count` claims of the lab are Bound.
#[track_caller]
fn wait_bound(lab: &Lab, count: usize) {
    let started = std::time::Instant::now();
    loop {
        let claims: Value = serde_json::from_str(&stdout(&lab.kubectl(&["get", "pvc", "-A", "-o", "json"]))).unwrap();
        let bound = claims["items"].as_array().unwrap().iter().filter(|c| c["status"]["phase"] == "Bound").count();
        if bound >= count {
            return;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{bound} of {count} claims bound");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn fixture_lab(nas: &Nas, faults: &str) -> Lab {
    let fixture = gitops_fixture();
    booted_lab(&["--gitops-repo", &fixture, "--overlay", "lab", "--nas-dir", nas.dir_str()], faults)
}

#[test]
fn every_iscsi_pv_of_the_fixture_maps_to_its_lun_by_the_synology_drivers_names() {
    let nas = Nas::up();
    let lab = fixture_lab(&nas, "");
    wait_converged(&lab, &[]);
    wait_bound(&lab, 15);
    let volumes = volumes(&lab);
    let luns = luns(&nas);
    let iscsi: Vec<&Value> = volumes.values().filter(|v| v.pointer("/spec/csi/driver") == Some(&Value::from("csi.san.synology.com"))).collect();
    assert_eq!(iscsi.len(), 11, "7 Retain and 4 Delete claims of the lab overlay");
    assert_eq!(luns.len(), 11);
    for pv in &iscsi {
        let name = text(pv, "/metadata/name");
        assert_eq!(name, format!("pvc-{}", name.trim_start_matches("pvc-")));
        let lun = &luns[&format!("k8s-csi-{name}")];
        assert_eq!(lun["uuid"], pv["spec"]["csi"]["volumeHandle"], "{name}: volumeHandle is the LUN UUID");
        assert_eq!(lun["iqn"], format!("iqn.2000-01.com.synology:synelia.{name}"));
        let claim = format!("{}/{}", text(pv, "/spec/claimRef/namespace"), text(pv, "/spec/claimRef/name"));
        assert_eq!(lun["description"], claim.as_str());
    }
    let policies: Vec<&str> = iscsi.iter().map(|pv| text(pv, "/spec/persistentVolumeReclaimPolicy")).collect();
    assert_eq!(policies.iter().filter(|p| **p == "Retain").count(), 7, "{policies:?}");
    assert_eq!(policies.iter().filter(|p| **p == "Delete").count(), 4, "{policies:?}");
    let classes = stdout(&lab.kubectl(&["get", "storageclass"]));
    let retain: Vec<&str> =
        classes.lines().find(|l| l.starts_with("synelia-iscsi-retain ")).map(|l| l.split_whitespace().collect()).unwrap_or_default();
    assert_eq!(retain[..5], ["synelia-iscsi-retain", "(default)", "csi.san.synology.com", "Retain", "WaitForFirstConsumer"], "{classes}");
    let claims = stdout(&lab.kubectl(&["-n", "services", "get", "pvc", "vaultwarden-data"]));
    let row: Vec<&str> = claims.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!((row[1], &row[2][..4], row[3], row[4], row[5]), ("Bound", "pvc-", "2Gi", "RWO", "synelia-iscsi-retain"), "{claims}");
}

#[test]
fn deleting_a_claim_deletes_a_delete_class_lun_and_leaves_a_retain_one_released() {
    let nas = Nas::up();
    let lab = fixture_lab(&nas, "");
    wait_converged(&lab, &[]);
    wait_bound(&lab, 15);
    let before = luns(&nas);
    let pv_of = |ns: &str, claim: &str| stdout(&lab.kubectl(&["-n", ns, "get", "pvc", claim, "-o", "jsonpath={.spec.volumeName}"]));
    let (retained, scratch) = (pv_of("services", "vaultwarden-data"), pv_of("services", "mealie-data"));
    stdout(&lab.kubectl(&["-n", "services", "delete", "pvc", "vaultwarden-data", "mealie-data"]));
    let started = std::time::Instant::now();
    while luns(&nas).contains_key(&format!("k8s-csi-{scratch}")) {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the Delete LUN was not deleted");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let after = luns(&nas);
    assert_eq!(after.len(), before.len() - 1);
    assert!(after.contains_key(&format!("k8s-csi-{retained}")), "the Retain LUN stays");
    let phase = stdout(&lab.kubectl(&["get", "pv", &retained, "-o", "jsonpath={.status.phase}"]));
    assert_eq!(phase, "Released");
    let gone = lab.kubectl(&["get", "pv", &scratch]);
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"), "{gone:?}");
}

#[test]
fn wipe_lun_deletes_the_lun_of_that_claim_on_down_and_nothing_else_ever_does() {
    let nas = Nas::up();
    let state = |lab: &Lab| lab.dir().to_str().unwrap().to_owned();
    let first_luns = {
        let lab = booted_lab(&["--nas-dir", nas.dir_str()], "");
        wait_converged(&lab, &[]);
        wait_bound(&lab, 4);
        let luns = luns(&nas);
        assert_eq!(luns.len(), 4, "one LUN per claim of the built-in tree");
        assert!(vixens_lab(&["down", "--state-dir", &state(&lab)], "").status.success());
        assert_eq!(self::luns(&nas), luns, "down keeps every LUN");
        luns
    };
    let lab = booted_lab(&["--nas-dir", nas.dir_str()], "wipe-lun=vaultwarden-data");
    wait_converged(&lab, &[]);
    wait_bound(&lab, 4);
    let vaultwarden = stdout(&lab.kubectl(&["-n", "vaultwarden", "get", "pvc", "vaultwarden-data", "-o", "jsonpath={.spec.volumeName}"]));
    assert_eq!(luns(&nas).len(), 8, "a new cluster's claims get new LUNs; the Retain ones of the last cluster stay");
    let down = vixens_lab(&["down", "--state-dir", &state(&lab)], "");
    let said = String::from_utf8_lossy(&down.stdout);
    assert!(
        said.contains(&format!("fault wipe-lun: deleted {}", nas.dir().join(format!("dsm/luns/k8s-csi-{vaultwarden}.json")).display())),
        "{said}"
    );
    let left = luns(&nas);
    assert_eq!(left.len(), 7);
    assert!(!left.contains_key(&format!("k8s-csi-{vaultwarden}")), "the LUN bound to the claim in the last cluster is gone");
    assert!(first_luns.keys().all(|name| left.contains_key(name)), "the older LUNs are untouched");
}
