//! The reviewed table of known failure messages: lines that mean something failed whatever level
//! they are logged at (most are `info` or `warn`, or have no level at all), each with the
//! component that logs it, why it means failure, where its wording was read, and an example the
//! tests prove it finds.
//!
//! The first entry whose pattern matches a record's text wins, in table order. An entry is only
//! tried on text that holds one of its keywords; every keyword contains one of the scanner's
//! prefilter keywords ([`crate::prefilter::KEYWORDS`]), so the prefilter never drops a line an
//! entry would match (a test holds the table to it).
//!
//! Policies: an [`Policy::Always`] entry is an error wherever it is; a [`Policy::Threshold`]
//! entry (a restart, a retried pull) is tolerated inside the bootstrap window up to
//! `talos-logs.bootstrap-retries` times per node and cause (3 by default), and an error beyond
//! that or after the window. The shared allow-list never explains a known failure; an
//! environment's own rules may (a scratch disk known to be bad).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Captures, Regex};

use crate::record::{Kind, Record};

/// One known failure message.
#[derive(Debug, PartialEq, Eq)]
pub struct KnownFailure {
    /// Its id (`F01`), stable across versions: findings and reviews name it.
    pub id: &'static str,
    /// The cause id of its findings; `{svc}`, `{exit}`, `{proc}` and `{source}` are filled from
    /// the line.
    pub cause: &'static str,
    /// When it is an error.
    pub policy: Policy,
    /// Which records it is read on.
    pub scope: Scope,
    /// The component that logs it.
    pub component: &'static str,
    /// Why the message means failure.
    pub why: &'static str,
    /// Where its wording was read.
    pub reference: &'static str,
    /// Literals one of which a line must hold for the entry to be tried. Every match of the
    /// pattern holds one, except for alternatives that never come alone (`rebooting in` after a
    /// failed sequence, `wrong fs type` under a failed mount, `Back-off pulling image` under a
    /// failed pull): those are found with the line that comes with them.
    pub keywords: &'static [&'static str],
    /// The regular expression, on the record's text.
    pub pattern: &'static str,
    /// A line it must find (the tests scan it).
    pub example: &'static str,
}

/// When a known failure is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Always, wherever it is.
    Always,
    /// After the bootstrap window, or more than the tolerated number of times inside it.
    Threshold,
}

/// The records an entry is read on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every record.
    Any,
    /// Service output and controller logs, never a kernel or machined text line.
    ServiceOutput,
}

/// The table, in matching order.
pub static FAILURES: &[KnownFailure] = &[
    KnownFailure {
        id: "F05",
        cause: "panic",
        policy: Policy::Always,
        scope: Scope::ServiceOutput,
        component: "any Go process (service log), zap PANIC/FATAL",
        why: r#"The Go runtime prints `panic: <value>` then `goroutine N [running]:` and the stack, then the process exits with status 2; zap's Panic/Fatal levels log one JSON line first. A controller panic inside machined is recovered by the COSI runtime and reported as `controller "x" panicked`. The stack lines belong to the same record and are never findings of their own."#,
        reference: r#"Go runtime (runtime/panic.go printpanics); cosi-project/runtime rruntime/run.go, qruntime/qruntime.go (`controller %q panicked: %s\n\n%s`)"#,
        keywords: &["panic: ", "fatal error: ", r#""level":"panic""#, r#""level":"dpanic""#, r#""level":"fatal""#, "PANIC ", "FATAL ", " panicked: "],
        pattern: r#"^panic: |^fatal error: |^\{"level":"(?:panic|fatal|dpanic)"|^\S+Z (?:DPANIC|PANIC|FATAL) |controller \\?"[^"\\]+\\?" panicked: "#,
        example: "panic: freepages: failed to get all reachable pages (page 212: multiple references (stack: [1403 212]))",
    },
    KnownFailure {
        id: "F01",
        cause: "crash-loop/{svc}/{exit}",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "machined (service supervisor)",
        why: "restart.Run logs this every time the wrapped runner returns an error (a non-zero exit, a task that cannot be created); the service then restarts after 5 s. Once is a crash; the state is Waiting, not Failed, so a scanner looking for `(Failed)` misses every crash loop.",
        reference: "talos internal/app/machined/pkg/system/runner/restart/restart.go (`Error running %v, going to restart forever: %v`); runner/containerd/containerd.go (`task %q failed: exit code %d (last log %q)`, last log added with runner/internal/lastlog, 512 bytes max)",
        keywords: &["Error running "],
        pattern: r#"^service\[(?P<svc>[^\]]+)\]\(Waiting\): Error running .+?, going to restart (?:forever|until it succeeds): (?P<err>.*)"#,
        example: r#"service[etcd](Waiting): Error running Containerd(etcd), going to restart forever: task "etcd" failed: exit code 137 (last log "")"#,
    },
    KnownFailure {
        id: "F03",
        cause: "crash-loop/{svc}/exit-0",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "machined (service supervisor)",
        why: "A restart-forever service whose process exits with status 0 is restarted too; outside the bootstrap window it is a restart nobody asked for.",
        reference: "talos runner/restart/restart.go (`Runner %s exited without error, going to restart it`)",
        keywords: &["exited without error"],
        pattern: r#"^service\[(?P<svc>[^\]]+)\]\(Waiting\): Runner .+ exited without error, going to restart it"#,
        example: "service[ext-iscsid](Waiting): Runner Containerd(ext-iscsid) exited without error, going to restart it",
    },
    KnownFailure {
        id: "F02",
        cause: "service-failed/{svc}",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "machined (service supervisor)",
        why: "Failed is a terminal state: the service stopped and will not be restarted (pre stage, condition, runner creation or post stage failed; the message is the capitalised error).",
        reference: r#"talos internal/app/machined/pkg/system/service_runner.go (`Failed to run post stage: %v`), system.go singleton Start (`UpdateState(..., StateFailed, "%s", capitalised err)`)"#,
        keywords: &["](Failed): "],
        pattern: r#"^service\[(?P<svc>[^\]]+)\]\(Failed\): "#,
        example: r#"service[apid](Failed): Failed to run pre stage: failed to import image "/usr/images/apid.tar": write /var/lib/containerd/io.containerd.content.v1.content/ingest/3f2a/data: no space left on device"#,
    },
    KnownFailure {
        id: "F04",
        cause: "boot-sequence-failed",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "machined (sequencer)",
        why: "A failed task fails its phase and the whole sequence; machined then logs the error and counts down to a reboot.",
        reference: "talos internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_controller.go (run/runPhase/runTask), internal/app/machined/main.go (`rebooting in %d seconds`)",
        keywords: &["): failed", " sequence: failed", "controller runtime goroutine error"],
        pattern: r#"^task \S+ \(\d+/\d+\): failed|^phase \S+ \(\d+/\d+\): failed|^\S+ sequence: failed|^rebooting in \d+ seconds|^controller runtime goroutine error"#,
        example: "task mountUserDisks (1/1): failed: error mounting partition /var/mnt/data: invalid argument",
    },
    KnownFailure {
        id: "F08",
        cause: "oom-kill/{proc}",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "kernel",
        why: "The kernel OOM killer killed a process (priority `err` for the kill line, `warning` for the `invoked oom-killer` header, `info` for the `oom-kill:` summary). Any of the three is the same event.",
        reference: "linux mm/oom_kill.c (__oom_kill_process `%s: Killed process %d (%s) total-vm:...`, dump_oom_victim `oom-kill:constraint=...`, dump_header `%s invoked oom-killer: gfp_mask=...`)",
        keywords: &["Killed process ", "oom-kill"],
        pattern: r#"(?:Out of memory|Memory cgroup out of memory): Killed process \d+ \((?P<proc>[^)]+)\)|^oom-kill:constraint=[^ ]*,task=(?P<proc2>[^,]+),|^(?P<proc3>\S+) invoked oom-killer: "#,
        example: "Out of memory: Killed process 2412 (etcd) total-vm:11530044kB, anon-rss:3421876kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:7288kB oom_score_adj:-998",
    },
    KnownFailure {
        id: "F09",
        cause: "disk-io-error",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "kernel (block layer, SCSI, buffer cache)",
        why: "The block layer failed a request (6.x: `%s error, dev %s, sector %llu op 0x%x:(%s) flags 0x%x phys_seg %u prio class %u`; 5.x kernels prefix `blk_update_request: `). Data was not read or written.",
        reference: "linux block/blk-mq.c blk_print_req_error (KERN_ERR); fs/buffer.c; drivers/scsi/scsi_lib.c",
        keywords: &[" error, dev ", "Buffer I/O error on dev", "rejecting I/O to offline device", "end_request: I/O error"],
        pattern: r#"(?:I/O|critical medium|critical target|critical nexus|timeout|recoverable transport) error, dev \w+, sector|Buffer I/O error on dev(?:ice)? \w+|rejecting I/O to offline device|end_request: I/O error"#,
        example: "I/O error, dev sdb, sector 41943296 op 0x1:(WRITE) flags 0x9800 phys_seg 1 prio class 2",
    },
    KnownFailure {
        id: "F09b",
        cause: "iscsi-session-lost",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "kernel (iSCSI transport)",
        why: "The iSCSI session did not come back within replacement_timeout: the LUN goes offline and every I/O to it fails next. Logged at `info`, so a priority-based scanner never sees it.",
        reference: "linux drivers/scsi/scsi_transport_iscsi.c session_recovery_timedout (KERN_INFO)",
        keywords: &["session recovery timed out after "],
        pattern: r#"^session\d+: session recovery timed out after \d+ secs$"#,
        example: "session1: session recovery timed out after 5 secs",
    },
    KnownFailure {
        id: "F10",
        cause: "fs-error",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "kernel (ext4, jbd2, XFS)",
        why: "The filesystem found corruption or lost its journal and shut down or went read-only. XFS prints these at `alert`, ext4 errors at `crit`; the hex dump after `First N bytes of corrupted metadata buffer` is part of the same record.",
        reference: "linux fs/ext4/super.c (__ext4_error `EXT4-fs error (device %s): %s:%d: ...`), fs/jbd2/journal.c, fs/xfs/xfs_message.c xfs_alert / xfs_corruption_error",
        keywords: &["EXT4-fs error ", "EXT4-fs (", "I/O error", "Aborting journal on device ", "XFS ("],
        pattern: r#"^EXT4-fs error |^EXT4-fs \(\S+\): Remounting filesystem read-only|^EXT4-fs warning \(device \S+\): \S+ I/O error|^Aborting journal on device |^XFS \(\S+\): (?:Metadata corruption detected|Corruption of in-memory data|Corruption detected|log I/O error|Filesystem has been shut down|Please unmount the filesystem and rectify|Unmount and run xfs_repair|First \d+ bytes of corrupted metadata buffer|metadata I/O error|Internal error)"#,
        example: "XFS (sda6): Metadata corruption detected at xfs_dinode_verify+0x1c4/0x8b0, inode 0x2c0412 dinode",
    },
    KnownFailure {
        id: "F12",
        cause: "certificate-error",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "any TLS client/server (Go crypto/tls, etcd, kubelet, apid)",
        why: "Trust is broken (wrong CA after a rebuild with other secrets, expired certificate, clock skew). etcd logs the server side at `warn` (`rejected connection on peer endpoint`), so a level-based scanner misses it. The bootstrap-time `remote error: tls: internal error` from the kubelet API is documented as expected and is NOT in this entry.",
        reference: "Go crypto/x509 (CertificateInvalidError, UnknownAuthorityError), crypto/tls (`tls: failed to verify certificate: %w`, Go >= 1.20); etcd server/embed/config_logging.go (`rejected connection on peer endpoint` / `on client endpoint`, 3.6; `rejected connection`, 3.5)",
        keywords: &["x509: ", "tls: "],
        pattern: "x509: certificate has expired or is not yet valid|x509: certificate signed by unknown authority|x509: certificate is valid for |tls: failed to verify certificate|remote error: tls: (?:bad certificate|unknown certificate authority|expired certificate|certificate required)|tls: bad certificate",
        example: r#"{"level":"warn","ts":"2026-08-21T09:01:02.481223Z","caller":"embed/config_logging.go:173","msg":"rejected connection on client endpoint","remote-addr":"192.168.111.13:51234","server-name":"","error":"remote error: tls: bad certificate"}"#,
    },
    KnownFailure {
        id: "F17",
        cause: "network-unreachable",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "any Go network client",
        why: "No route to the destination (missing default route, wrong VLAN, interface down). A few lines before the network is configured are normal; persisting lines are not.",
        reference: "Go net (syscall.ENETUNREACH `network is unreachable`, EHOSTUNREACH `no route to host`)",
        keywords: &["connect: network is unreachable", "connect: no route to host"],
        pattern: "connect: network is unreachable|connect: no route to host",
        example: r#"retrying error: failed to pull image "ghcr.io/siderolabs/kubelet:v1.35.2": failed to resolve reference "ghcr.io/siderolabs/kubelet:v1.35.2": failed to do request: Head "https://ghcr.io/v2/siderolabs/kubelet/manifests/v1.35.2": dial tcp 140.82.121.34:443: connect: network is unreachable"#,
    },
    KnownFailure {
        id: "F16",
        cause: "time-sync-failure",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "machined time.SyncController",
        why: "The SNTP client cannot reach or use any time server. Services that depend on `time sync` (etcd, kubelet, trustd) wait forever by default (machine.time.bootTimeout unset), and later certificates fail as `not yet valid`. Logged at ERROR, so the first 4 never reach the console.",
        reference: "talos internal/pkg/ntp/ntp.go (`time query error with server %q`, `failed looking up %q, ignored`, `error adjusting time`); controllers/time/sync.go",
        keywords: &["time query error with server ", "failed looking up ", "error adjusting time", "error syncing RTC"],
        pattern: r#"time query error with server \\?"|failed looking up \\?"[^"\\]+\\?", ignored|error adjusting time|error syncing RTC"#,
        example: r#"time query error with server "162.159.200.1" {"component": "controller-runtime", "controller": "time.SyncController", "error": "read udp 192.168.111.11:42116->162.159.200.1:123: i/o timeout"}"#,
    },
    KnownFailure {
        id: "F06",
        cause: "etcd-publish-failed",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "etcd",
        why: "The member cannot commit its attributes through raft: no quorum, or it cannot reach the leader. Logged at `warn`. One timeout while a learner joins is normal; repeats are not.",
        reference: "etcd server/etcdserver/server.go publishV3 (lg.Warn)",
        keywords: &["failed to publish local member to cluster through raft"],
        pattern: r#""msg":"failed to publish local member to cluster through raft""#,
        example: r#"{"level":"warn","ts":"2026-08-21T09:01:12.224871Z","caller":"etcdserver/server.go:1803","msg":"failed to publish local member to cluster through raft","local-member-id":"5d8a31c2e9f0b6a4","local-member-attributes":"{Name:vixens-dev-cp3 ClientURLs:[https://192.168.111.13:2379]}","publish-timeout":"15s","error":"etcdserver: request timed out"}"#,
    },
    KnownFailure {
        id: "F07",
        cause: "etcd-quorum-loss",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "etcd (raft) and its clients",
        why: "The cluster lost its leader or its quorum. raft logs these at `info`/`warn`; clients get `etcdserver: no leader`. A single node bootstrapping elects itself once (`is starting a new election at term 1`), which the threshold tolerates.",
        reference: "go.etcd.io/raft node.go (`raft.node: %x lost leader %x at term %d`, Infof), raft.go (`%x stepped down to follower since quorum is not active`, `%x is starting a new election at term %d`); etcd api/v3rpc/rpctypes (ErrNoLeader `etcdserver: no leader`)",
        keywords: &[
            "stepped down to follower since quorum is not active",
            " lost leader ",
            "etcdserver: no leader",
            "is starting a new election at term",
        ],
        pattern: r#"stepped down to follower since quorum is not active|raft\.node: \S+ lost leader \S+ at term|etcdserver: no leader|is starting a new election at term"#,
        example: r#"{"level":"info","ts":"2026-08-21T09:21:40.117302Z","logger":"raft","caller":"v3@v3.6.0/node.go:380","msg":"raft.node: 8e2f3a41c0d9b715 lost leader 8e2f3a41c0d9b715 at term 2"}"#,
    },
    KnownFailure {
        id: "F11",
        cause: "image-pull-failure",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "kubelet, cri (containerd), machined",
        why: "An image cannot be pulled (wrong tag, registry down, auth). Talos retries its own pulls and logs the first of each distinct error as `retrying error: failed to pull image ...`.",
        reference: "talos internal/pkg/containers/image/image.go (`failed to pull image %q: %w`, retried with go-retry WithErrorLogging → `retrying error: %s`); containerd CRI (`PullImage %q failed`); kubelet pkg/kubelet/images (ErrImagePull, ImagePullBackOff)",
        keywords: &[
            "failed to pull image",
            "ErrImagePull",
            "ImagePullBackOff",
            "\" failed",
            "PullImage from image service failed",
            "Failed to pull image",
        ],
        pattern: r#"failed to pull image|ErrImagePull|ImagePullBackOff|PullImage \\?"[^"\\]+\\?" failed|"PullImage from image service failed"|"Failed to pull image"|Back-off pulling image"#,
        example: r#"E0821 09:14:03.512904    2334 log.go:32] "PullImage from image service failed" err="rpc error: code = NotFound desc = failed to pull and unpack image \"ghcr.io/charlesbaudin/whoami:v9.9.9\": failed to resolve reference \"ghcr.io/charlesbaudin/whoami:v9.9.9\": ghcr.io/charlesbaudin/whoami:v9.9.9: not found" image="ghcr.io/charlesbaudin/whoami:v9.9.9""#,
    },
    KnownFailure {
        id: "F14",
        cause: "{source}-cannot-start",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "kubelet (any k8s component using component-base/cli)",
        why: "cli.Run logs the error that stopped the command and the process exits 1; Talos then restarts the kubelet forever (see F01).",
        reference: r#"k8s.io/component-base/cli/run.go (`klog.ErrorS(err, "command failed")`)"#,
        keywords: &[r#""command failed" err="#],
        pattern: r#""command failed" err="#,
        example: r#"E0821 09:00:14.227310    1734 run.go:72] "command failed" err="failed to run Kubelet: running with swap on is not supported, please disable swap or set --fail-swap-on flag to false""#,
    },
    KnownFailure {
        id: "F15",
        cause: "mount-failure",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "machined block controllers, kubelet (CSI)",
        why: "A volume could not be mounted (Talos system/user volume, or a CSI volume for a pod).",
        reference: "talos internal/app/machined/pkg/controllers/block/mount.go (`failed to mount %q: %w`); kubelet volume/util/operationexecutor (MountVolume.MountDevice failed ...); util-linux mount(8) messages",
        keywords: &[
            "MountVolume.MountDevice failed",
            "MountVolume.WaitForAttach failed",
            "mount failed: exit status",
            r#""controller": "block.MountController", "error": "#,
            "-> failed",
        ],
        pattern: r#"MountVolume\.(?:MountDevice|WaitForAttach) failed|wrong fs type, bad option, bad superblock|mount failed: exit status|"controller": "block\.MountController", "error": |volume status \{[^}]*"phase": "\w+ -> failed""#,
        example: r#"controller failed {"component": "controller-runtime", "controller": "block.MountController", "error": "failed to mount \"u-local-data\": error mounting \"/dev/sdb1\" to \"/var/mnt/local-data\": structure needs cleaning"}"#,
    },
    KnownFailure {
        id: "F13",
        cause: "extension-error",
        policy: Policy::Always,
        scope: Scope::Any,
        component: "ext-iscsid (iscsi-tools extension)",
        why: "The extension's daemon cannot do its job at all (netlink socket taken, broken image, CHAP rejected). These lines carry no level.",
        reference: "open-iscsi usr/iscsid.c / netlink.c, initiator login messages; siderolabs/extensions storage/iscsi-tools/iscsid-wrapper/main.go (`iscsid: error execing ...`)",
        keywords: &[
            "iscsid: can not bind",
            "Error loading shared library",
            "iscsid: Login authentication failed",
            "iscsid: conn ",
            "iscsid: error execing",
        ],
        pattern: r#"iscsid: can not bind NETLINK_ISCSI socket|Error loading shared library|iscsid: Login authentication failed|iscsid: conn \d+ login rejected|iscsid: error execing"#,
        example: "iscsid: can not bind NETLINK_ISCSI socket",
    },
    KnownFailure {
        id: "F13b",
        cause: "iscsi-connect-failed",
        policy: Policy::Threshold,
        scope: Scope::Any,
        component: "ext-iscsid",
        why: "iscsid cannot reach the portal (NAS down, VLAN broken); volumes of pods on this node cannot attach.",
        reference: "open-iscsi usr/io.c (`connect to %s:%s failed (%s)`)",
        keywords: &["iscsid: connect to "],
        pattern: r#"iscsid: connect to \S+ failed \("#,
        example: "iscsid: connect to 192.168.111.250:3260 failed (No route to host)",
    },
];

/// The compiled table.
#[derive(Debug, Clone)]
pub(crate) struct Failures {
    regexes: Vec<Regex>,
    /// Every entry's keywords, to tell at SIMD speed whether a line holds any (most do not).
    any: AhoCorasick,
    /// The same keywords, to find every entry a line may match; pattern `i` belongs to entry
    /// `owner[i]`.
    keywords: AhoCorasick,
    owner: Vec<usize>,
}

impl Failures {
    pub(crate) fn new() -> Self {
        let regexes = FAILURES.iter().map(|f| Regex::new(f.pattern).expect("the failure table's patterns are regular expressions")).collect();
        let (owner, words): (Vec<usize>, Vec<&str>) = FAILURES.iter().enumerate().flat_map(|(i, f)| f.keywords.iter().map(move |k| (i, *k))).unzip();
        let any = AhoCorasick::builder().match_kind(MatchKind::LeftmostFirst).build(&words).expect("the failure table's keywords build an automaton");
        let keywords =
            AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(&words).expect("the failure table's keywords build an automaton");
        Self { regexes, any, keywords, owner }
    }

    /// The first entry that matches `record` (read from `source`), with its cause filled in.
    pub(crate) fn classify(&self, record: &Record<'_>, source: &str) -> Option<(&'static KnownFailure, String)> {
        let text = record.text.as_ref();
        if !self.any.is_match(text) {
            return None;
        }
        let mut tried = 0u64;
        for m in self.keywords.find_overlapping_iter(text) {
            tried |= 1 << self.owner[m.pattern().as_usize()];
        }
        while tried != 0 {
            let i = tried.trailing_zeros() as usize;
            tried &= tried - 1;
            let entry = &FAILURES[i];
            if entry.scope == Scope::ServiceOutput && matches!(record.kind, Kind::Kernel | Kind::Talos | Kind::Klog | Kind::Logrus | Kind::GoLog) {
                continue;
            }
            if let Some(captures) = self.regexes[i].captures(text) {
                return Some((entry, cause(entry, &captures, source)));
            }
        }
        None
    }
}

/// The entry's cause with its placeholders filled from the match.
fn cause(entry: &KnownFailure, captures: &Captures<'_>, source: &str) -> String {
    let group = |name: &str| captures.name(name).map_or("", |m| m.as_str());
    // The containerd runner says `exit code N`, the process runner (udevd, older services) Go's
    // `exit status N`.
    let exit = || {
        let err = group("err");
        let code = ["exit code ", "exit status "].into_iter().find_map(|word| err.find(word).map(|at| &err[at + word.len()..]));
        match code.map(|rest| &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()]).filter(|n| !n.is_empty()) {
            Some(n) => format!("exit-{n}"),
            None if err.contains("failed to create task") => "create-task".to_owned(),
            None => "error".to_owned(),
        }
    };
    let process = || [group("proc"), group("proc2"), group("proc3")].into_iter().find(|p| !p.is_empty()).unwrap_or("?").to_owned();
    let mut cause = entry.cause.replace("{svc}", if group("svc").is_empty() { "?" } else { group("svc") });
    if cause.contains("{exit}") {
        cause = cause.replace("{exit}", &exit());
    }
    if cause.contains("{proc}") {
        cause = cause.replace("{proc}", &process());
    }
    cause.replace("{source}", source)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Line, Shape, parse};

    static TABLE: std::sync::LazyLock<Failures> = std::sync::LazyLock::new(Failures::new);

    fn classify(text: &str, source: &str) -> Option<(&'static str, String)> {
        let Line::Record(record) = parse(text, Shape::of(source), Some(2026)) else { return None };
        let source = record.source.unwrap_or(source);
        TABLE.classify(&record, source).map(|(f, cause)| (f.id, cause))
    }

    #[test]
    fn every_entry_finds_its_example_and_names_its_cause() {
        for entry in FAILURES {
            let found = classify(entry.example, "example");
            assert_eq!(found.map(|(id, _)| id), Some(entry.id), "{}: {}", entry.id, entry.example);
        }
    }

    #[test]
    fn causes_are_filled_from_the_line() {
        let crash = r#"2026/08/21 09:10:01.000001 [talos] service[etcd](Waiting): Error running Containerd(etcd), going to restart forever: task "etcd" failed: exit code 137 (last log "panic: x")"#;
        assert_eq!(classify(crash, "machined"), Some(("F01", "crash-loop/etcd/exit-137".into())));
        let process = r#"2026/08/21 09:10:01.000001 [talos] service[udevd](Waiting): Error running Process(["/sbin/udevd" "--resolve-names=never"]), going to restart forever: exit status 1"#;
        assert_eq!(classify(process, "machined"), Some(("F01", "crash-loop/udevd/exit-1".into())));
        let create = "2026/08/21 09:10:01.000001 [talos] service[kubelet](Waiting): Error running Containerd(kubelet), going to restart forever: failed to create task: oci runtime error";
        assert_eq!(classify(create, "machined"), Some(("F01", "crash-loop/kubelet/create-task".into())));
        let oom = "kern:     err: [2026-08-21T09:16:40.5Z]: Out of memory: Killed process 2412 (etcd) total-vm:11530044kB";
        assert_eq!(classify(oom, "dmesg"), Some(("F08", "oom-kill/etcd".into())));
        let kubelet =
            r#"E0821 09:00:14.227310    1734 run.go:72] "command failed" err="failed to run Kubelet: running with swap on is not supported""#;
        assert_eq!(classify(kubelet, "kubelet"), Some(("F14", "kubelet-cannot-start".into())));
    }

    #[test]
    fn a_crash_loop_s_last_log_cannot_make_it_another_failure() {
        let line = r#"2026/08/21 09:10:01.000001 [talos] service[apid](Waiting): Error running Containerd(apid), going to restart forever: task "apid" failed: exit code 2 (last log "x509: certificate signed by unknown authority\npanic: boom")"#;
        assert_eq!(classify(line, "machined"), Some(("F01", "crash-loop/apid/exit-2".into())), "the crash loop comes first in the table");
    }

    #[test]
    fn a_panic_is_read_on_service_output_not_on_kernel_or_machined_text() {
        assert_eq!(classify("panic: runtime error: invalid memory address or nil pointer dereference", "apid").map(|f| f.0), Some("F05"));
        assert_eq!(classify("user: warning: [2026-08-21T09:00:26Z]: [talos] panic: not a Go panic of a service", "dmesg"), None);
    }

    #[test]
    fn the_table_fits_the_entry_bitset() {
        assert!(FAILURES.len() <= 64);
    }
}
