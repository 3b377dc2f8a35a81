//! "Destroy never destroys NAS LUNs", against private labs whose claims bind iSCSI LUNs on the
//! lab NAS: a LUN lost by the destroy fails the very first cycle naming it with its volume and
//! claim, and the LUN inventory cannot pass on an empty or failed listing.

use std::time::Duration;

use vixens_checks::cycle::report::Terminal;
use vixens_checks::cycle::{self, Check, Options, Outcome};
use vixens_ops::binaries;
use vixens_ops::destroy::{self, Confirmation, volumes};
use vixens_ops::env::{Environment, InventoryCheck};
use vixens_ops::instance::Instance;
use vixens_ops::lease::{self, Lease};
use vixens_testkit::lab_env;

/// A private lab with `faults`, up.
fn lab(faults: &[&str]) -> Instance {
    let builder = faults.iter().fold(Instance::builder(lab_env()), |b, f| b.fault(f));
    builder.up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

fn lease(env: &Environment) -> Lease {
    Lease::acquire(&env.work_dir, "cli::storage", None, lease::DEFAULT_WAIT, |item, held| lease::cleanup::undo(env, held, item)).unwrap()
}

/// Waits until the lab's claims have bound their LUNs: `count` iSCSI PersistentVolumes.
fn wait_for_volumes(lab: &Instance, count: usize) {
    lab.wait_until(&format!("{count} iSCSI PersistentVolumes"), Duration::from_secs(60), || {
        volumes::list(lab.env(), Duration::from_secs(5)).is_ok_and(|v| v.is_some_and(|v| v.len() >= count))
    })
    .unwrap();
}

/// The safe destroy of `env`, confirmed, holding its lease.
fn destroy(env: &Environment) -> Result<destroy::Outcome, destroy::Error> {
    let held = lease(env);
    destroy::run(env, held.held(), &destroy::Options::new(Confirmation::Flag(env.name.clone())), |_| {})
}

/// `env` with its LUN list replaced by `run`.
fn with_lun_list(env: &Environment, run: &str) -> Environment {
    let mut env = env.clone();
    for check in &mut env.protected.inventory {
        if let InventoryCheck::Command { run: command, .. } = check {
            *command = run.to_owned();
        }
    }
    env
}

/// The lab fixture's iSCSI claims in dev (the lab overlay): 7 Retain and 4 Delete.
const LAB_ISCSI_VOLUMES: usize = 11;

#[test]
fn a_lun_wiped_by_the_teardown_fails_the_first_cycle_on_a_fresh_work_dir_naming_it() {
    let lab = lab(&["wipe-lun=vaultwarden-data"]);
    let options = Options::default().progress_interval(Duration::from_secs(1)).extra_path(binaries::binaries().unwrap().folders());
    let held = lease(lab.env());
    let outcome: Outcome = cycle::run(lab.env(), Some(held.held()), Check::RecreateCycle, &options, &mut Terminal::new(std::io::stderr()));
    drop(held);
    let failure = outcome.first_failure().unwrap_or_else(|| panic!("the wiped LUN went unnoticed:\n{outcome}"));
    assert_eq!(failure.phase.as_str(), "destroy", "{outcome}");
    assert!(failure.culprit.starts_with("NAS iSCSI LUNs `iqn.2000-01.com.synology:synelia.pvc-"), "{outcome}");
    assert!(
        failure.message.contains(", claim services/vaultwarden-data) was there before the destroy and is gone"),
        "the PV and claim are named: {}",
        failure.message
    );
}

#[test]
fn a_lun_list_that_exits_0_with_nothing_while_the_cluster_has_iscsi_volumes_fails() {
    let lab = lab(&[]);
    wait_for_volumes(&lab, LAB_ISCSI_VOLUMES);
    let env = with_lun_list(lab.env(), "iscsiadm -m session 2>/dev/null | grep nothing-matches || true");
    let error = destroy(&env).expect_err("an empty LUN list must not pass");
    let message = vixens_diagnostic::error_chain(&error);
    assert!(
        message.contains(&format!("NAS iSCSI LUNs listed nothing while the cluster has {LAB_ISCSI_VOLUMES} iSCSI PersistentVolumes: pvc-")),
        "{message}"
    );
    assert!(
        message.contains("(claim services/vaultwarden-data)")
            && message.starts_with("cannot take the protected inventory before destroy: nothing was destroyed"),
        "{message}"
    );
    assert!(error.nothing_destroyed(), "{message}");
}

#[test]
fn an_unreachable_nas_fails_the_inventory_with_open_iscsis_message() {
    let lab = lab(&["nas-unreachable"]);
    let error = destroy(lab.env()).expect_err("an unreachable NAS must not pass the inventory");
    let message = vixens_diagnostic::error_chain(&error);
    assert!(
        message.contains(
            "inventory check `NAS iSCSI LUNs`: the command failed with exit code 4: iscsiadm: cannot make connection to 10.5.255.10: Connection refused"
        ),
        "{message}"
    );
}

#[test]
fn a_pipeline_that_hides_iscsiadm_failing_fails_under_pipefail() {
    let lab = lab(&["iscsiadm-not-root"]);
    let env = with_lun_list(lab.env(), "iscsiadm -m discovery -t sendtargets -p 10.5.255.10 | awk '{print $2}' | sort -u");
    let error = destroy(&env).expect_err("iscsiadm failing inside a pipe must not pass");
    let message = vixens_diagnostic::error_chain(&error);
    assert!(message.contains("the command failed with exit code 6: ") && message.contains("Maybe you are not root?"), "{message}");
}

/// The NAS of `dir`, serving `bucket` with MinIO's default keys: `vixens-lab nas up`, then its
/// S3 endpoint (`http://127.0.0.1:PORT`).
fn nas_serving(dir: &std::path::Path, bucket: &str) -> String {
    let lab = binaries::binaries().expect("the harness binaries build").vixens_lab;
    let nas = |args: &[&str]| {
        let out = std::process::Command::new(&lab)
            .arg("nas")
            .args(args)
            .arg("--nas-dir")
            .arg(dir)
            .env_remove("MINIO_ROOT_USER")
            .env_remove("MINIO_ROOT_PASSWORD")
            .output()
            .unwrap();
        assert!(out.status.success(), "vixens-lab nas {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    nas(&["up", "--bucket", bucket]);
    nas(&["endpoint"]).trim().to_owned()
}

#[test]
fn the_state_bucket_check_signs_its_request_and_a_wrong_minio_key_is_refused() {
    // The destroy's bucket check against the lab NAS's live S3 endpoint, where the lab's terraform
    // keeps its state: a HEAD signed with SigV4, as MinIO on the homelab's NAS requires.
    let dir = tempfile::tempdir().unwrap();
    let endpoint = nas_serving(dir.path(), "terraform-state-lab");
    let check = |bucket: &str, secret: &str| InventoryCheck::S3Bucket {
        name: "terraform state bucket".into(),
        endpoint: endpoint.clone(),
        bucket: bucket.into(),
        credentials: Some(vixens_ops::env::S3Credentials { access_key: "minioadmin".into(), secret_key: secret.into(), region: "us-east-1".into() }),
    };
    let good = [check("terraform-state-lab", "minioadmin")];
    let inventory = destroy::inventory::Checks::new(&good).take(Duration::from_secs(10)).unwrap();
    assert_eq!(inventory.checks[0].items, ["terraform-state-lab"]);

    let wrong = [check("terraform-state-lab", "not-the-nas-secret")];
    let error = destroy::inventory::Checks::new(&wrong).take(Duration::from_secs(10)).unwrap_err();
    let message = vixens_diagnostic::error_chain(&error);
    assert!(message.starts_with("inventory check `terraform state bucket`: "), "{message}");
    assert!(message.contains("refused the check's credentials (403"), "MinIO's refusal is named: {message}");
    assert!(!message.contains("not-the-nas-secret"), "{message}");

    let missing = [check("terraform-state-nowhere", "minioadmin")];
    let inventory = destroy::inventory::Checks::new(&missing).take(Duration::from_secs(10)).unwrap();
    assert!(inventory.checks[0].items.is_empty(), "a bucket that is not there is no item");
    let lab = binaries::binaries().unwrap().vixens_lab;
    std::process::Command::new(lab).args(["nas", "down", "--nas-dir"]).arg(dir.path()).status().unwrap();
}
