//! The `talos-error=NODE:KIND` faults: what a node's logs show when KIND fails on it, line for
//! line as Talos v1.13, its kernel, etcd, the kubelet, containerd and the iscsi-tools extension
//! print it (formats in [`super::logfmt`]).
//!
//! What repeats in reality (a crash loop restarts every 5 s, the kubelet backs off an image pull,
//! NTP queries time out) repeats [`REPEATS`] times here, more than the bootstrap window tolerates,
//! a few milliseconds apart. The services' states and health are left as they were: the lab's
//! health checks pass, so a cycle reaches its logs phase, which must find the failure.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use super::kube::{hex_id, uuid_like};
use super::logfmt::{Facility, Priority, ZapLevel, etcd, klog, logrus};
use super::node::Node;
use crate::faults::TalosErrorKind;

/// How many times a repeating failure is logged: more than the 3 retries a scanner tolerates
/// inside the bootstrap window.
pub const REPEATS: u64 = 6;

/// Writes the lines of `kind` failing on `node` (whose processes have ids around `pid`).
pub(super) fn emit(node: &Node, kind: TalosErrorKind, pid: u32) {
    let name = node.spec.name.as_str();
    match kind {
        TalosErrorKind::DiskIo => disk_io(node),
        TalosErrorKind::FsError => fs_error(node),
        TalosErrorKind::CrashLoop => {
            for at in repeats() {
                node.log("ext-iscsid", "Error loading shared library libisns.so.0: No such file or directory (needed by /usr/local/sbin/iscsid)".into());
                restart(node, at, "ext-iscsid", "exit code 127");
            }
        }
        TalosErrorKind::EtcdOom => etcd_oom(node, pid),
        TalosErrorKind::ImagePull => image_pull(node, pid),
        TalosErrorKind::Certificate => certificate(node, pid),
        TalosErrorKind::EtcdQuorum => etcd_quorum(node),
        TalosErrorKind::Extension => {
            for at in repeats() {
                node.log("ext-iscsid", "iscsid: can not bind NETLINK_ISCSI socket".into());
                restart(node, at, "ext-iscsid", "exit code 1");
            }
        }
        TalosErrorKind::KubeletStart => {
            for at in repeats() {
                let message = "\"command failed\" err=\"failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false\"";
                node.log("kubelet", klog('E', at, pid, "run.go:72", message));
                restart(node, at, "kubelet", "exit code 1");
            }
        }
        TalosErrorKind::Panic => panic(node),
        TalosErrorKind::Mount => mount(node, pid, name),
        TalosErrorKind::TimeSync => {
            for at in repeats() {
                let error = format!("read udp {}:42116->162.159.200.1:123: i/o timeout", node.spec.address);
                node.controller_at(at, ZapLevel::Error, "time query error with server \"162.159.200.1\"", &[("controller", "time.SyncController"), ("error", &error)]);
            }
        }
        TalosErrorKind::Network => network(node),
        TalosErrorKind::ServiceFailed => node.talos(
            "service[apid](Failed): Failed to run pre stage: failed to import image \"/usr/images/apid.tar\": write /var/lib/containerd/io.containerd.content.v1.content/ingest/3f2a/data: no space left on device",
        ),
    }
}

/// [`REPEATS`] times from now, 5 ms apart (the lab's compressed 5 s).
fn repeats() -> impl Iterator<Item = Timestamp> {
    let now = Timestamp::now();
    (0..REPEATS).map(move |i| now + Duration::from_millis(5 * i))
}

/// machined's line for a service that exited and is restarted forever.
fn restart(node: &Node, at: Timestamp, service: &str, exit: &str) {
    node.talos_at(
        at,
        &format!("service[{service}](Waiting): Error running Containerd({service}), going to restart forever: task \"{service}\" failed: {exit}"),
    );
}

/// The data disk fails writes (SCSI sense, then the block layer), and the mount controller cannot
/// mount the user volume on it; its fifth error passes the console's error suppression.
fn disk_io(node: &Node) {
    let kern = |priority, message: &str| node.kernel(Facility::Kern, priority, Timestamp::now(), message);
    kern(Priority::Err, "I/O error, dev sdb, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2");
    for _ in 0..5 {
        node.controller(
            ZapLevel::Error,
            "controller failed",
            &[("controller", "block.MountController"), ("error", "error mounting \"/var/mnt/data\": input/output error")],
        );
    }
}

/// XFS on EPHEMERAL finds a corrupt inode, dumps the buffer and shuts down.
fn fs_error(node: &Node) {
    let kern = |message: &str| node.kernel(Facility::Kern, Priority::Alert, Timestamp::now(), message);
    kern("XFS (sda6): Metadata corruption detected at xfs_dinode_verify+0x1c4/0x8b0, inode 0x2c0412 dinode");
    kern("XFS (sda6): Unmount and run xfs_repair");
    kern("XFS (sda6): First 32 bytes of corrupted metadata buffer:");
    kern("00000000: 49 4e 81 a4 03 02 00 00 00 00 00 00 00 00 00 00  IN..............");
    kern("00000010: 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00  ................");
    kern(
        "XFS (sda6): Corruption of in-memory data (0x8) detected at xfs_trans_cancel+0x13c/0x160 (fs/xfs/xfs_trans.c:1097).  Shutting down filesystem.",
    );
    kern("XFS (sda6): Please unmount the filesystem and rectify the problem(s)");
}

/// The OOM killer's report (warning header, err kill line, info summary), then etcd's restart.
fn etcd_oom(node: &Node, pid: u32) {
    let now = Timestamp::now();
    let kern = |priority, message: &str| node.kernel(Facility::Kern, priority, now, message);
    kern(Priority::Warning, "etcd invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=-998");
    kern(
        Priority::Info,
        "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system/etcd,task=etcd,pid=1711,uid=0",
    );
    kern(
        Priority::Err,
        &format!(
            "Out of memory: Killed process {pid} (etcd) total-vm:11530044kB, anon-rss:3421876kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:7288kB oom_score_adj:-998"
        ),
    );
    restart(node, now, "etcd", "exit code 137");
}

/// The kubelet cannot pull a tag that does not exist, and backs off; containerd logs its side.
fn image_pull(node: &Node, pid: u32) {
    let image = "ghcr.io/charlesbaudin/whoami:v9.9.9";
    let reason = format!("failed to pull and unpack image \\\"{image}\\\": failed to resolve reference \\\"{image}\\\": {image}: not found");
    for at in repeats() {
        let message = format!("\"PullImage from image service failed\" err=\"rpc error: code = NotFound desc = {reason}\" image=\"{image}\"");
        node.log("kubelet", klog('E', at, pid, "log.go:32", &message));
        node.log(
            "cri",
            logrus(
                at,
                "error",
                &format!("PullImage \"{image}\" failed"),
                &[("error", &format!("rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": not found"))],
            ),
        );
    }
}

/// The node was reinstalled with another cluster's secrets: its kubelet does not trust the API
/// server, and (on a control plane) its etcd rejects its peers' client certificates.
fn certificate(node: &Node, pid: u32) {
    let at = Timestamp::now();
    let register = format!(
        "\"Unable to register node with API server\" err=\"Post \\\"https://127.0.0.1:7445/api/v1/nodes\\\": tls: failed to verify certificate: x509: certificate signed by unknown authority\" node=\"{}\"",
        node.spec.name
    );
    node.log("kubelet", klog('E', at, pid, "kubelet_node_status.go:107", &register));
    if node.spec.is_control_plane() {
        let fields = [("remote-addr", json!("10.5.0.1:51234")), ("server-name", json!("")), ("error", json!("remote error: tls: bad certificate"))];
        node.log("etcd", etcd(at, "warn", "embed/config_logging.go:173", "rejected connection on client endpoint", &fields));
    }
}

/// The other members are gone: the leader steps down and keeps starting elections (all at
/// `info`/`warn`), and machined's health check reports no leader.
fn etcd_quorum(node: &Node) {
    let member = hex_id(&format!("etcd-{}", node.spec.name), 16);
    let now = Timestamp::now();
    node.log("etcd", etcd(now, "warn", "v3@v3.6.0/raft.go:1392", &format!("{member} stepped down to follower since quorum is not active"), &[]));
    node.log("etcd", etcd(now, "info", "v3@v3.6.0/node.go:380", &format!("raft.node: {member} lost leader {member} at term 2"), &[]));
    for (term, at) in (3..).zip(repeats()) {
        node.log("etcd", etcd(at, "info", "v3@v3.6.0/raft.go:988", &format!("{member} is starting a new election at term {term}"), &[]));
    }
    node.talos("service[etcd](Running): Health check failed: etcdserver: no leader");
}

/// etcd panics in bbolt at start: the runtime's report and stack in etcd's own log, then
/// machined restarts it (exit status 2).
fn panic(node: &Node) {
    let now = Timestamp::now();
    for line in [
        "panic: freepages: failed to get all reachable pages (page 212: multiple references (stack: [1403 212]))",
        "",
        "goroutine 1 [running]:",
        "go.etcd.io/bbolt.(*DB).freepages.func2()",
        "\t/go/pkg/mod/go.etcd.io/bbolt@v1.4.0/db.go:1202 +0x8d",
        "created by go.etcd.io/bbolt.(*DB).freepages in goroutine 1",
        "\t/go/pkg/mod/go.etcd.io/bbolt@v1.4.0/db.go:1200 +0x1e5",
    ] {
        node.log("etcd", line.to_owned());
    }
    restart(node, now, "etcd", "exit code 2");
}

/// The Synology CSI volume of a pod cannot be mounted: the kubelet's unstructured error, with the
/// mount command's output on the lines after it.
fn mount(node: &Node, pid: u32, name: &str) {
    let volume = format!("pvc-{}", uuid_like(&format!("{name}-postgres")));
    let handle = uuid_like(&format!("{name}-lun"));
    for at in repeats().take(4) {
        let message = format!(
            "Operation for \"{{volumeName:kubernetes.io/csi/csi.san.synology.com^{handle} podName: nodeName:}}\" failed. No retries permitted until {} (durationBeforeRetry 2m2s). Error: MountVolume.MountDevice failed for volume \"{volume}\" (UniqueName: \"kubernetes.io/csi/csi.san.synology.com^{handle}\") pod \"postgres-0\" (UID: \"{}\") : rpc error: code = Internal desc = mount failed: exit status 32",
            super::logfmt::rfc3339_seconds(at),
            uuid_like("postgres-0")
        );
        node.log("kubelet", klog('E', at, pid, "nestedpendingoperations.go:348", &message));
        node.log("kubelet", "Mounting command: mount".into());
        node.log("kubelet", format!("Mounting arguments: -t ext4 -o rw,defaults /dev/sdc /var/lib/kubelet/plugins/kubernetes.io/csi/csi.san.synology.com/{handle}/globalmount"));
        node.log(
            "kubelet",
            "Output: mount: /var/lib/kubelet/plugins/kubernetes.io/csi/globalmount: wrong fs type, bad option, bad superblock on /dev/sdc, missing codepage or helper program, or other error.".into(),
        );
    }
}

/// The default route points at a gateway off the node's subnet: machined's image pulls and the
/// NTP client get "network is unreachable".
fn network(node: &Node) {
    for (i, at) in repeats().enumerate() {
        let ip = format!("140.82.121.{}", 30 + i);
        node.talos_at(
            at,
            &format!(
                "retrying error: failed to pull image \"ghcr.io/siderolabs/kubelet:v1.35.2\": failed to resolve reference \"ghcr.io/siderolabs/kubelet:v1.35.2\": failed to do request: Head \"https://ghcr.io/v2/siderolabs/kubelet/manifests/v1.35.2\": dial tcp {ip}:443: connect: network is unreachable"
            ),
        );
        node.controller_at(
            at,
            ZapLevel::Error,
            "time query error with server \"162.159.200.1\"",
            &[("controller", "time.SyncController"), ("error", "dial udp 162.159.200.1:123: connect: network is unreachable")],
        );
    }
}
