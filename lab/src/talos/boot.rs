//! The boot of each node, written as the sequence of things a real Talos boot prints, one step
//! at a time. Offsets are milliseconds at time scale 1.0 (a whole node boots in about 0.6 s,
//! a real one in about 2.5 minutes); [`LabSpec::scaled`](crate::spec::LabSpec::scaled) stretches
//! them.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;
use tokio::time::Instant;

use super::kube::{KubeWriter, PodSpec, fnv1a, name_suffix};
use super::logfmt::{Facility, Priority, ZapLevel, etcd, go_duration, klog, logrus};
use super::node::{Node, container_log_id};
use super::wire::ServiceState::{Preparing, Running, Waiting};
use super::{Cluster, KERNEL_VERSION, KUBERNETES_VERSION, TALOS_VERSION, failures, iscsi};
use crate::faults::TalosErrorKind;

/// When (ms after the node starts) the first control plane's API server answers, and so when
/// the cluster's namespaces appear.
const API_UP_MS: u64 = 420;
/// When the first node is Ready, and so when cluster add-ons (CoreDNS, the Cilium operator) run.
const FIRST_READY_MS: u64 = 520;

/// Starts every node's boot, the cluster add-ons and the CSI node plugin.
pub(super) fn start(cluster: &Arc<Cluster>) {
    let started = Instant::now();
    for index in 0..cluster.nodes.len() {
        let boot = NodeBoot { cluster: Arc::clone(cluster), index, started, kube: KubeWriter::new(cluster.store.clone()) };
        tokio::spawn(boot.run());
    }
    tokio::spawn(cluster_addons(Arc::clone(cluster), started));
    tokio::spawn(iscsi::attach_volumes(Arc::clone(cluster)));
}

/// Sleeps until `ms` (at time scale 1.0) after `started`.
async fn at(cluster: &Cluster, started: Instant, ms: u64) {
    tokio::time::sleep_until(started + cluster.spec.scaled(Duration::from_millis(ms))).await;
}

/// What the first control plane's API server and the scheduler bring up for the whole cluster.
async fn cluster_addons(cluster: Arc<Cluster>, started: Instant) {
    let kube = KubeWriter::new(cluster.store.clone());
    at(&cluster, started, API_UP_MS).await;
    for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        kube.ensure_namespace(namespace);
    }
    at(&cluster, started, FIRST_READY_MS + 40).await;
    let ready = |n: &&Arc<Node>| !cluster.spec.faults.node_not_ready.iter().any(|f| *f == n.spec.name || *f == n.spec.address);
    let hosts: Vec<_> = cluster.nodes.iter().filter(ready).take(2).collect();
    let Some(first) = hosts.first() else { return };
    let replica_set = format!("coredns-{}", name_suffix("coredns-rs", 10));
    for (i, host) in hosts.iter().cycle().take(2).enumerate() {
        kube.run_pod(&PodSpec {
            namespace: "kube-system",
            name: format!("{replica_set}-{}", name_suffix(&format!("coredns-{i}"), 5)),
            node: &host.spec,
            labels: json!({"k8s-app": "kube-dns", "pod-template-hash": replica_set.trim_start_matches("coredns-")}),
            containers: vec![("coredns", "registry.k8s.io/coredns/coredns:v1.12.4".into())],
            owner: ("ReplicaSet", &replica_set),
            ready: true,
        });
    }
    let operator_rs = format!("cilium-operator-{}", name_suffix("cilium-operator-rs", 10));
    kube.run_pod(&PodSpec {
        namespace: "kube-system",
        name: format!("{operator_rs}-{}", name_suffix("cilium-operator", 5)),
        node: &first.spec,
        labels: json!({"io.cilium/app": "operator", "name": "cilium-operator"}),
        containers: vec![("cilium-operator", "quay.io/cilium/operator-generic:v1.18.4".into())],
        owner: ("ReplicaSet", &operator_rs),
        ready: true,
    });
}

/// One node's boot.
struct NodeBoot {
    cluster: Arc<Cluster>,
    index: usize,
    started: Instant,
    kube: KubeWriter,
}

impl NodeBoot {
    fn node(&self) -> &Node {
        &self.cluster.nodes[self.index]
    }

    fn name(&self) -> &str {
        &self.node().spec.name
    }

    fn address(&self) -> &str {
        &self.node().spec.address
    }

    fn control_plane(&self) -> bool {
        self.node().spec.is_control_plane()
    }

    fn faulty(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.is(n))
    }

    /// True when `id` names this node, by hostname or address.
    fn is(&self, id: &str) -> bool {
        id == self.name() || id == self.address()
    }

    /// A process id: nodes boot alike, but not identically.
    fn pid(&self, base: u32) -> u32 {
        base + (fnv1a(self.name()) % 40) as u32
    }

    /// Sleeps until `ms` after the start of this node's boot (nodes start a few ms apart).
    async fn at(&self, ms: u64) {
        let stagger = (self.index as u64 * 7) % 60;
        at(&self.cluster, self.started, stagger + ms).await;
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    async fn run(self) {
        self.kernel_boot();
        self.machined_phases();
        self.at(40).await;
        self.early_services();
        self.at(80).await;
        self.containerd();
        self.at(120).await;
        self.node().health_check("containerd", Ok(()));
        self.node().health_check("udevd", Ok(()));
        self.network_and_time();
        self.at(140).await;
        self.apid_and_trustd_waiting();
        self.at(160).await;
        self.apid_and_trustd_running();
        self.cri();
        self.at(200).await;
        self.node().health_check("cri", Ok(()));
        self.node().health_check("apid", Ok(()));
        self.etcd_and_kubelet_waiting();
        self.ext_iscsid();
        self.at(240).await;
        self.etcd_and_kubelet_running();
        self.at(270).await;
        self.kubelet_first_health_checks();
        self.at(320).await;
        self.etcd_forms_the_cluster();
        self.at(400).await;
        self.services_healthy();
        self.at(API_UP_MS).await;
        self.kubelet_registers();
        self.at(480).await;
        self.cni_starts();
        let failing: Vec<TalosErrorKind> = self.cluster.spec.faults.talos_error.iter().filter(|f| self.is(&f.node)).map(|f| f.kind).collect();
        if !failing.is_empty() {
            self.at(540).await;
            for kind in failing {
                failures::emit(self.node(), kind, self.pid(if kind == TalosErrorKind::KubeletStart { 1734 } else { 1711 }));
            }
        }
        self.at(600).await;
        self.boot_done();
    }

    fn kernel_boot(&self) {
        let node = self.node();
        // The kernel booted a moment before machined could log anything.
        let boot = Timestamp::now() - Duration::from_millis(1800);
        let at = |ms: u64| boot + Duration::from_micros(ms * 1000 + fnv1a(&format!("{}{ms}", self.name())) % 1000);
        let kern = |ms, priority, message: &str| node.kernel(Facility::Kern, priority, at(ms), message);
        kern(
            0,
            Priority::Notice,
            &format!(
                "Linux version {KERNEL_VERSION} (@buildkitsandbox) (gcc (GCC) 14.2.0, GNU ld (GNU Binutils) 2.44) #1 SMP Tue Nov 18 09:12:44 UTC 2026"
            ),
        );
        kern(
            0,
            Priority::Info,
            "Command line: talos.platform=metal console=ttyS0 init_on_alloc=1 slab_nomerge pti=on consoleblank=0 nvme_core.io_timeout=4294967295 printk.devkmsg=on ima_template=ima-ng ima_appraise=fix ima_hash=sha512",
        );
        kern(0, Priority::Info, "BIOS-provided physical RAM map:");
        kern(1, Priority::Info, "DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2 04/01/2014");
        kern(
            2,
            Priority::Info,
            "Memory: 8012340K/8388088K available (22528K kernel code, 2946K rwdata, 10844K rodata, 4292K init, 2452K bss, 353648K reserved, 0K cma-reserved)",
        );
        kern(3, Priority::Notice, "Unknown kernel command line parameters \"talos.platform=metal\", will be passed to user space.");
        kern(40, Priority::Info, "Loading iSCSI transport class v2.0-870.");
        kern(41, Priority::Info, "iscsi: registered transport (tcp)");
        kern(120, Priority::Warning, "platform regulatory.0: Direct firmware load for regulatory.db failed with error -2");
        kern(121, Priority::Info, "cfg80211: failed to load regulatory.db");
        kern(300, Priority::Notice, "random: crng init done");
        kern(900, Priority::Notice, "XFS (sda6): Mounting V5 Filesystem 3a2f0f44-7b1c-4bd5-9e55-f1d7c0a8e0b2");
        kern(905, Priority::Info, "XFS (sda6): Ending clean mount");
        kern(1100, Priority::Info, "virtio_net virtio1 eth0: renamed from eth0");
    }

    fn machined_phases(&self) {
        let node = self.node();
        // The initramfs writes to the kernel log only: machined's own log starts after it.
        node.kmsg_only(Priority::Warning, &format!("[initramfs] booting Talos {TALOS_VERSION}"));
        node.kmsg_only(Priority::Warning, "[initramfs] mounting the rootfs");
        node.kmsg_only(Priority::Warning, "[initramfs] entering the rootfs");
        node.talos(&format!("task setupLogger (1/1): done, {}", go_duration(Duration::from_nanos(118_340))));
        node.talos(&format!("phase logger (1/7): done, {}", go_duration(Duration::from_nanos(402_117))));
        node.talos("phase systemRequirements (2/7): 7 tasks(s)");
        for (i, task) in [
            "enforceKSPPRequirements",
            "setupSystemDirectory",
            "mountBPFFS",
            "mountCgroups",
            "mountPseudoFilesystems",
            "setRLimit",
            "dropCapabilities",
        ]
        .iter()
        .enumerate()
        {
            node.talos(&format!("task {task} ({}/7): starting", i + 1));
            node.talos(&format!("task {task} ({}/7): done, {}", i + 1, go_duration(Duration::from_nanos(31_250 + 9_101 * i as u64))));
        }
        node.talos(&format!("phase systemRequirements (2/7): done, {}", go_duration(Duration::from_micros(5_214))));
        node.talos("phase integrity (3/7): 1 tasks(s)");
        node.talos("task writeIMAPolicy (1/1): starting");
        node.talos(&format!("task writeIMAPolicy (1/1): done, {}", go_duration(Duration::from_micros(1_102))));
        node.talos(&format!("phase integrity (3/7): done, {}", go_duration(Duration::from_micros(1_190))));
        node.talos("phase etc (4/7): 2 tasks(s)");
        node.talos(&format!("phase etc (4/7): done, {}", go_duration(Duration::from_micros(2_310))));
        node.talos("phase earlyServices (5/7): 4 tasks(s)");
        node.talos(&format!("phase earlyServices (5/7): done, {}", go_duration(Duration::from_micros(812))));
        node.talos("phase usb (6/7): 1 tasks(s)");
        node.talos(&format!("phase usb (6/7): done, {}", go_duration(Duration::from_micros(96))));
        node.talos("phase startEverything (7/7): 1 tasks(s)");
        node.talos("task startAllServices (1/1): starting");
        let services = if self.control_plane() { 10 } else { 8 };
        node.talos(&format!("task startAllServices (1/1): waiting for {services} services"));
    }

    fn early_services(&self) {
        let node = self.node();
        for id in ["machined", "syslogd", "auditd"] {
            node.service_event(id, Running, "Service started as goroutine");
        }
        node.service_event("udevd", Preparing, "Running pre state");
        node.service_event("udevd", Preparing, "Creating service runner");
        node.service_event(
            "udevd",
            Running,
            &format!("Process Process([\"/sbin/udevd\" \"--resolve-names=never\"]) started with PID {}", self.pid(1011)),
        );
        let udevd = self.pid(1011);
        node.kernel(Facility::Daemon, Priority::Info, Timestamp::now(), &format!("udevd[{udevd}]: starting version 3.2.14"));
        node.log("udevd", format!("udevd[{udevd}]: starting version 3.2.14"));
        node.log("udevd", format!("udevd[{udevd}]: starting eudev-3.2.14"));
        node.service_event("dashboard", Running, &format!("Process Process([\"/sbin/dashboard\"]) started with PID {}", self.pid(1030)));
    }

    fn containerd(&self) {
        let node = self.node();
        node.service_event("containerd", Preparing, "Running pre state");
        node.service_event("containerd", Preparing, "Creating service runner");
        node.service_event(
            "containerd",
            Running,
            &format!(
                "Process Process([\"/bin/containerd\" \"--address\" \"/system/run/containerd/containerd.sock\" \"--state\" \"/system/run/containerd\" \"--root\" \"/system/var/lib/containerd\"]) started with PID {}",
                self.pid(1052)
            ),
        );
        containerd_startup(node, "containerd", "/system/run/containerd/containerd.sock");
    }

    fn network_and_time(&self) {
        let node = self.node();
        let controller = |c: &'static str| ("controller", c);
        node.controller(
            ZapLevel::Info,
            "setting hostname",
            &[controller("network.HostnameSpecController"), ("hostname", self.name()), ("domainname", "")],
        );
        let address = format!("{}/24", self.address());
        node.controller(ZapLevel::Info, "assigned address", &[controller("network.AddressSpecController"), ("address", &address), ("link", "eth0")]);
        // ntp.go logs a failed lookup at ERROR; one such line at boot is tolerated.
        node.controller(
            ZapLevel::Error,
            "failed looking up \"time.cloudflare.com\", ignored",
            &[controller("time.SyncController"), ("error", "lookup time.cloudflare.com on 10.5.0.1:53: read udp 10.5.0.1:53: i/o timeout")],
        );
        node.controller(
            ZapLevel::Info,
            "adjusting time (slew) by 1.52ms via 162.159.200.1, state TIME_OK, status STA_PLL | STA_NANO",
            &[controller("time.SyncController")],
        );
    }

    fn apid_and_trustd_waiting(&self) {
        let node = self.node();
        node.service_event("apid", Waiting, "Waiting for service \"containerd\" to be \"up\", api certificates");
        if self.control_plane() {
            node.service_event("trustd", Waiting, "Waiting for service \"containerd\" to be \"up\", time sync, network");
        }
    }

    fn apid_and_trustd_running(&self) {
        let node = self.node();
        let mut ids = vec![("apid", 1280)];
        if self.control_plane() {
            ids.push(("trustd", 1301));
        }
        for (id, pid) in ids {
            node.service_event(id, Preparing, "Running pre state");
            node.service_event(id, Preparing, "Creating service runner");
            node.service_event(id, Running, &format!("Started task {id} (PID {}) for container {id}", self.pid(pid)));
        }
        let now = super::logfmt::machined_time(Timestamp::now());
        let day_second = &now[..19];
        node.log("apid", format!("{day_second} apid: serving on [::]:50000"));
        node.log(
            "apid",
            format!("{day_second} http2: server: error reading preface from client 10.5.0.1:40212: read tcp {}:50000->10.5.0.1:40212: read: connection reset by peer", self.address()),
        );
        if self.control_plane() {
            node.log("trustd", format!("{day_second} trustd: serving on [::]:50001"));
        }
    }

    fn cri(&self) {
        let node = self.node();
        node.service_event("cri", Preparing, "Running pre state");
        node.service_event("cri", Preparing, "Creating service runner");
        node.service_event(
            "cri",
            Running,
            &format!("Process Process([\"/bin/containerd\" \"--address\" \"/run/containerd/containerd.sock\" \"--config\" \"/etc/cri/containerd.toml\"]) started with PID {}", self.pid(1422)),
        );
        containerd_startup(node, "cri", "/run/containerd/containerd.sock");
        let now = Timestamp::now();
        for msg in [
            "Connect containerd service",
            "Start subscribing containerd event",
            "Start recovering state",
            "Start event monitor",
            "Start snapshots syncer",
            "Start streaming server",
        ] {
            node.log("cri", logrus(now, "info", msg, &[]));
        }
        // Every real boot logs this at level=error until the CNI (Cilium) writes its config.
        node.log(
            "cri",
            logrus(
                now,
                "error",
                "failed to load cni during init, please check CRI plugin status before setting up network for pods",
                &[(
                    "error",
                    "cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config",
                )],
            ),
        );
    }

    fn etcd_and_kubelet_waiting(&self) {
        let node = self.node();
        if self.control_plane() {
            node.service_event("etcd", Waiting, "Waiting for service \"cri\" to be \"up\", time sync, network, etcd spec");
        }
        node.service_event("kubelet", Waiting, "Waiting for service \"cri\" to be \"up\", time sync, network, kubelet spec");
    }

    fn ext_iscsid(&self) {
        let node = self.node();
        node.service_event("ext-iscsid", Waiting, "Waiting for service \"containerd\" to be \"up\", network");
        node.service_event("ext-iscsid", Preparing, "Running pre state");
        node.service_event("ext-iscsid", Preparing, "Creating service runner");
        let pid = self.pid(1602);
        node.service_event("ext-iscsid", Running, &format!("Started task ext-iscsid (PID {pid}) for container ext-iscsid"));
        node.log("ext-iscsid", format!("iscsid: iSCSI logger with pid={} started!", pid + 1));
        node.log("ext-iscsid", format!("iscsid: iSCSI daemon with pid={pid} started!"));
    }

    fn etcd_and_kubelet_running(&self) {
        let node = self.node();
        let mut ids = vec![("kubelet", 1734)];
        if self.control_plane() {
            ids.insert(0, ("etcd", 1711));
        }
        for (id, pid) in ids {
            node.service_event(id, Preparing, "Running pre state");
            node.service_event(id, Preparing, "Creating service runner");
            node.service_event(id, Running, &format!("Started task {id} (PID {}) for container {id}", self.pid(pid)));
        }
        let now = Timestamp::now();
        let pid = self.pid(1734);
        let kubelet = |severity, source, msg: &str| node.log("kubelet", klog(severity, now, pid, source, msg));
        kubelet('I', "server.go:529", &format!("\"Kubelet version\" kubeletVersion=\"{KUBERNETES_VERSION}\""));
        kubelet('I', "server.go:531", "\"Golang settings\" GOGC=\"\" GOMAXPROCS=\"\" GOTRACEBACK=\"\"");
        kubelet('W', "server.go:1070", "\"unsupported configuration: KubeletCgroups is not within KubeReservedCgroup\"");
        kubelet('I', "kubelet_node_status.go:75", &format!("\"Attempting to register node\" node=\"{}\"", self.name()));
        // The API server is not up yet: every real first boot logs this once or twice.
        kubelet(
            'E',
            "kubelet_node_status.go:107",
            &format!(
                "\"Unable to register node with API server\" err=\"Post \\\"https://localhost:7445/api/v1/nodes\\\": dial tcp [::1]:7445: connect: connection refused\" node=\"{}\"",
                self.name()
            ),
        );
        self.static_pod_status_fails(2);
        self.endpoint_watch_fails();
        if self.control_plane() {
            self.etcd_joins();
        }
    }

    /// The kubelet static pod controller polls the kubelet's `/pods` before it listens: a zap
    /// ERROR each time, the fifth and later also on the console.
    fn static_pod_status_fails(&self, times: usize) {
        let error = "error refreshing pod status: error fetching pod status: Get \"https://127.0.0.1:10250/pods/?timeout=30s\": dial tcp 127.0.0.1:10250: connect: connection refused";
        for _ in 0..times {
            self.node().controller(ZapLevel::Error, "controller failed", &[("controller", "k8s.KubeletStaticPodController"), ("error", error)]);
        }
    }

    /// The endpoint controller watches the API server before kube-apiserver listens.
    fn endpoint_watch_fails(&self) {
        let endpoint = &self.cluster.nodes[0].spec.address;
        let error = format!(
            "failed to list *v1.EndpointSlice: Get \"https://{endpoint}:6443/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?fieldSelector=metadata.name%3Dkubernetes&limit=500&resourceVersion=0\": dial tcp {endpoint}:6443: connect: connection refused"
        );
        self.node().controller(ZapLevel::Error, "kubernetes endpoint watch error", &[("controller", "k8s.EndpointController"), ("error", &error)]);
    }

    /// The first control plane waits for `talosctl bootstrap` (Terraform runs it); the others
    /// join as etcd learners, refused until promoted.
    fn etcd_joins(&self) {
        let node = self.node();
        if self.index == 0 {
            node.talos("etcd is waiting to join the cluster, if this node is the first node in the cluster, please run `talosctl bootstrap` against one of the following IPs:");
            node.talos(&format!("[{}]", self.address()));
        } else {
            node.talos("retrying error: etcdserver: rpc not supported for learner");
        }
    }

    fn kubelet_first_health_checks(&self) {
        let node = self.node();
        self.static_pod_status_fails(3);
        let pid = self.pid(1734);
        let now = Timestamp::now();
        node.log(
            "kubelet",
            klog('E', now, pid, "kubelet.go:3215", &format!("\"Error getting node\" err=\"node \\\"{}\\\" not found\"", self.name())),
        );
        node.log(
            "kubelet",
            klog(
                'E',
                now,
                pid,
                "kubelet.go:3094",
                "\"Container runtime network not ready\" networkReady=\"NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized\"",
            ),
        );
        node.health_check("kubelet", Err("Get \"http://127.0.0.1:10248/healthz\": dial tcp 127.0.0.1:10248: connect: connection refused"));
        if self.control_plane() {
            node.health_check("etcd", Err("context deadline exceeded"));
            node.health_check("trustd", Ok(()));
        }
    }

    fn etcd_forms_the_cluster(&self) {
        if !self.control_plane() {
            return;
        }
        let node = self.node();
        let now = Timestamp::now();
        let log = |level, caller, msg: &str, fields: &[(&str, serde_json::Value)]| node.log("etcd", etcd(now, level, caller, msg, fields));
        let member = super::kube::hex_id(&format!("etcd-{}", self.name()), 16);
        log("info", "etcdmain/etcd.go:73", "Running: ", &[("args", json!(["etcd", format!("--name={}", self.name()), "--data-dir=/var/lib/etcd"]))]);
        log("info", "embed/etcd.go:138", "configuring peer listeners", &[("listen-peer-urls", json!([format!("https://{}:2380", self.address())]))]);
        log("info", "embed/etcd.go:310", "starting an etcd server", &[("etcd-version", json!("3.6.5")), ("name", json!(self.name()))]);
        for peer in self.cluster.nodes.iter().filter(|n| n.spec.is_control_plane() && n.spec.name != self.name()) {
            log(
                "warn",
                "rafthttp/probing_status.go:68",
                "prober detected unhealthy status",
                &[
                    ("round-tripper-name", json!("ROUND_TRIPPER_RAFT_MESSAGE")),
                    ("remote-peer-id", json!(super::kube::hex_id(&format!("etcd-{}", peer.spec.name), 16))),
                    ("rtt", json!("0s")),
                    ("error", json!(format!("dial tcp {}:2380: connect: connection refused", peer.spec.address))),
                ],
            );
        }
        let leader = super::kube::hex_id(&format!("etcd-{}", self.cluster.nodes[0].spec.name), 16);
        log("info", "raft/raft.go:1093", &format!("raft.node: {member} elected leader {leader} at term 2"), &[]);
        log("info", "etcdserver/server.go:2144", "published local member to cluster through raft", &[("local-member-id", json!(member))]);
        log(
            "warn",
            "etcdserver/util.go:170",
            "apply request took too long",
            &[("took", json!("121.402ms")), ("expected-duration", json!("100ms")), ("prefix", json!("read-only range "))],
        );
        log("info", "embed/serve.go:187", "serving client traffic securely", &[("traffic", json!("grpc+http")), ("address", json!("[::]:2379"))]);
    }

    fn services_healthy(&self) {
        let node = self.node();
        if self.control_plane() {
            node.health_check("etcd", Ok(()));
        }
        node.health_check("kubelet", Ok(()));
    }

    fn kubelet_registers(&self) {
        let node = self.node();
        let tainted = self.cluster.nodes.iter().any(|n| !n.spec.is_control_plane());
        self.kube.register_node(&node.spec, self.index, tainted);
        let now = Timestamp::now();
        let pid = self.pid(1734);
        node.log("kubelet", klog('I', now, pid, "kubelet_node_status.go:78", &format!("\"Successfully registered node\" node=\"{}\"", self.name())));
        if self.control_plane() {
            self.static_pods();
        }
    }

    fn static_pods(&self) {
        let node = &self.node().spec;
        for component in ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] {
            let pod = format!("{component}-{}", node.name);
            self.kube.run_pod(&PodSpec {
                namespace: "kube-system",
                name: pod.clone(),
                node,
                labels: json!({"k8s-app": component, "tier": "control-plane"}),
                containers: vec![(component, format!("registry.k8s.io/{component}:{KUBERNETES_VERSION}"))],
                owner: ("Node", &node.name),
                ready: true,
            });
            let log_id = container_log_id("kube-system", &pod, component);
            let line = klog('I', Timestamp::now(), 1, "server.go:150", &format!("\"Starting {component}\" version=\"{KUBERNETES_VERSION}\""));
            self.node().log(&log_id, line);
        }
    }

    fn cni_starts(&self) {
        let node = self.node();
        let not_ready = self.faulty(&self.cluster.spec.faults.node_not_ready);
        self.kube.run_pod(&PodSpec {
            namespace: "kube-system",
            name: format!("cilium-{}", name_suffix(&format!("cilium-{}", self.name()), 5)),
            node: &node.spec,
            labels: json!({"k8s-app": "cilium", "app.kubernetes.io/name": "cilium-agent"}),
            containers: vec![("cilium-agent", "quay.io/cilium/cilium:v1.18.4".into())],
            owner: ("DaemonSet", "cilium"),
            ready: !not_ready,
        });
        if not_ready {
            return;
        }
        self.kube.set_node_ready(&node.spec, true);
        node.log(
            "kubelet",
            klog('I', Timestamp::now(), self.pid(1734), "kubelet_node_status.go:501", "\"Fast updating node status as it just became ready\""),
        );
    }

    fn boot_done(&self) {
        let node = self.node();
        let elapsed = self.elapsed();
        node.talos(&format!("task startAllServices (1/1): done, {}", go_duration(elapsed.saturating_sub(Duration::from_millis(1)))));
        node.talos(&format!("phase startEverything (7/7): done, {}", go_duration(elapsed)));
        node.talos(&format!("boot sequence: done: {}", go_duration(elapsed + Duration::from_micros(1_802))));
        node.finish_boot();
        self.cluster.node_booted();
    }
}

/// The log of a containerd daemon starting, with the plugin warnings every boot has.
fn containerd_startup(node: &Node, id: &str, socket: &str) {
    let now = Timestamp::now();
    let log = |level, msg, fields: &[(&str, &str)]| node.log(id, logrus(now, level, msg, fields));
    log("info", "starting containerd", &[("revision", "cb1076646aa3740577fafbf3d914198b7fe8e3f7"), ("version", super::CONTAINERD_VERSION)]);
    log("info", "loading plugin \"io.containerd.snapshotter.v1.overlayfs\"...", &[("type", "io.containerd.snapshotter.v1")]);
    log(
        "info",
        "skip loading plugin \"io.containerd.snapshotter.v1.btrfs\"...",
        &[
            (
                "error",
                "path /var/lib/containerd/io.containerd.snapshotter.v1.btrfs (xfs) must be a btrfs filesystem to be used with the btrfs snapshotter: skip plugin",
            ),
            ("type", "io.containerd.snapshotter.v1"),
        ],
    );
    log(
        "warn",
        "failed to load plugin",
        &[
            ("error", "devmapper not configured: skip plugin"),
            ("id", "io.containerd.snapshotter.v1.devmapper"),
            ("type", "io.containerd.snapshotter.v1"),
        ],
    );
    log("info", "serving...", &[("address", socket)]);
    log("info", "containerd successfully booted in 0.041892s", &[]);
}
