//! The shared allow-list: the reviewed rules that explain the noise of a healthy real Talos boot,
//! built into the harness and applied in every environment before its own `talos-logs.allow`.
//!
//! Each rule says why the lines it explains are benign and where that was read, carries an
//! example line in Talos's own format (explained inside the bootstrap window), and a real error
//! of the same shape that it must not hide, with what that line is instead. The tests scan both.
//! Bootstrap rules explain a line only inside the bootstrap window (boot until the cluster is
//! healthy); after it the same line is an error. The list explains error markers only, never a
//! known failure ([`crate::failures`]).
//!
//! Versioned with the harness: change a rule here, with its example and its must-not-hide line,
//! and the review sees the reason next to the pattern.

use std::sync::LazyLock;

use crate::allow::{AllowRule, Origin, RuleWindow};

/// One rule of the shared list.
#[derive(Debug)]
pub struct SharedRule {
    /// Its id (`A05`): findings and reviews name it.
    pub id: &'static str,
    /// When it explains a line.
    pub window: RuleWindow,
    /// The markers whose lines it explains (`klog-severity`, several separated by `/`; it is
    /// only tried on those), or why it is kept though the line has none (`(defensive: ...)`:
    /// tried on every marker).
    pub explains: &'static str,
    /// Why these lines are benign.
    pub reason: &'static str,
    /// Where that was read.
    pub reference: &'static str,
    /// The regular expression, on the record's message text.
    pub pattern: &'static str,
    /// The log its example and must-not-hide lines come from.
    pub source: &'static str,
    /// A line it explains inside the window, as talosctl prints it.
    pub example: &'static str,
    /// A real error of the same shape that it must not explain.
    pub must_not_hide: &'static str,
    /// Why that line is an error.
    pub must_not_hide_because: &'static str,
    /// What the scanner finds it to be: a known failure (`F12 certificate-error`) or a marker
    /// (`klog-severity klog-error/Error getting node`).
    pub must_not_hide_is: &'static str,
}

/// The list, in matching order.
pub static SHARED: &[SharedRule] = &[
    SharedRule {
        id: "A01",
        window: RuleWindow::Bootstrap,
        explains: "talos-health",
        reason: "Every health-checked service reports failed checks until it is up (kubelet before :10248 answers, etcd while it joins or has no leader yet, apid/trustd before their certificates).",
        reference: "talos service_runner.go healthUpdate (`Health check failed: %s`); troubleshooting guide (`talosctl service kubelet` shows a failed check before the successful one)",
        pattern: r#"^service\[[^\]]+\]\(Running\): Health check failed: "#,
        source: "machined",
        example: r#"192.168.111.11: 2026/08/21 09:00:13.118204 [talos] service[kubelet](Running): Health check failed: Get "http://127.0.0.1:10248/healthz": dial tcp 127.0.0.1:10248: connect: connection refused"#,
        must_not_hide: "192.168.111.11: 2026/08/21 09:21:52.400113 [talos] service[etcd](Running): Health check failed: etcdserver: no leader",
        must_not_hide_because: "same shape after the window (healthy_at 09:03:10): the quorum is gone",
        must_not_hide_is: "F07 etcd-quorum-loss",
    },
    SharedRule {
        id: "A02",
        window: RuleWindow::Bootstrap,
        explains: "talos-retrying",
        reason: "A joining control plane is added as an etcd learner; until it is promoted, linearizable calls and the promotion itself are refused and retried.",
        reference: "talos services/etcd.go (learner join + promote, retry.WithErrorLogging(true)); go-retry retry.go (`retrying error: %s`)",
        pattern: "^retrying error: etcdserver: (?:rpc not supported for learner|can only promote a learner member which is in sync with leader)$",
        source: "dmesg",
        example: "192.168.111.12: user: warning: [2026-08-21T09:00:58.610442113Z]: [talos] retrying error: etcdserver: rpc not supported for learner",
        must_not_hide: r#"192.168.111.12: user: warning: [2026-08-21T09:00:58.610442113Z]: [talos] retrying error: failed to pull image "registry.k8s.io/etcd:v3.6.5": failed to resolve reference "registry.k8s.io/etcd:v3.6.5": failed to do request: Head "https://registry.k8s.io/v2/etcd/manifests/v3.6.5": dial tcp 34.96.108.209:443: connect: network is unreachable"#,
        must_not_hide_because: "also a `retrying error:` in the window, but an image pull over a dead network (F17)",
        must_not_hide_is: "F17 network-unreachable",
    },
    SharedRule {
        id: "A03",
        window: RuleWindow::Bootstrap,
        explains: "talos-etcd-join",
        reason: "Printed every 30 s by each control plane until `talosctl bootstrap` has run (Terraform does it once) and the node's etcd joined; the next line lists the node's IPs.",
        reference: "talos services/etcd.go buildInitialCluster (lastNag, 30 s)",
        pattern: "^etcd is waiting to join the cluster, if this node is the first node in the cluster, please run .talosctl bootstrap. against one of the following IPs:$",
        source: "machined",
        example: "192.168.111.11: 2026/08/21 09:00:16.502183 [talos] etcd is waiting to join the cluster, if this node is the first node in the cluster, please run `talosctl bootstrap` against one of the following IPs:",
        must_not_hide: "192.168.111.11: 2026/08/21 09:25:16.502183 [talos] etcd is waiting to join the cluster, if this node is the first node in the cluster, please run `talosctl bootstrap` against one of the following IPs:",
        must_not_hide_because: "after the window nobody bootstrapped the cluster",
        must_not_hide_is: "talos-etcd-join etcd-not-bootstrapped",
    },
    SharedRule {
        id: "A04",
        window: RuleWindow::Bootstrap,
        explains: "zap-level/zap-console-copy",
        reason: "Talos polls the kubelet's /pods every 15 s; before the API server is up and the kubelet registered, the call fails (connection refused, `Authorization error`, `tls: internal error`). Documented as expected; only the 5th and later reach the console.",
        reference: r#"talos controllers/k8s/kubelet_static_pod.go (`error refreshing pod status: %w`); troubleshooting guide v1.0 (`controller is going to retry`) and v1.9 ("this error is not critical")"#,
        pattern: r#"controller failed \{"component": "controller-runtime", "controller": "k8s\.KubeletStaticPodController", "error": "error refreshing pod status: error fetching pod status: "#,
        source: "controller-runtime",
        example: r#"192.168.111.11: 2026-08-21T09:00:44.215Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.KubeletStaticPodController", "error": "error refreshing pod status: error fetching pod status: Get \"https://127.0.0.1:10250/pods/?timeout=30s\": dial tcp 127.0.0.1:10250: connect: connection refused"}"#,
        must_not_hide: r#"192.168.111.11: 2026-08-21T09:00:44.215Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.StaticPodServerController", "error": "error rendering static pod: template: kube-apiserver: executing \"kube-apiserver\": nil pointer"}"#,
        must_not_hide_because: "same `controller failed`, another controller",
        must_not_hide_is: "zap-level controller-error/k8s.StaticPodServerController",
    },
    SharedRule {
        id: "A05",
        window: RuleWindow::Bootstrap,
        explains: "zap-level/zap-console-copy",
        reason: "The endpoint watch starts before kube-apiserver listens; the informer retries.",
        reference: r#"talos controllers/k8s/endpoint.go (SetWatchErrorHandler → logger.Error("kubernetes endpoint watch error"))"#,
        pattern: r#"kubernetes endpoint watch error \{"component": "controller-runtime", "controller": "k8s\.EndpointController", "error": "failed to list \*v1\.(?:Endpoints|EndpointSlice): Get \\"https://[^"\\]+\\": (?:dial tcp [^ ]+: connect: connection refused|EOF)""#,
        source: "controller-runtime",
        example: r#"192.168.111.12: 2026-08-21T09:00:52.700Z [31mERROR[0m kubernetes endpoint watch error {"component": "controller-runtime", "controller": "k8s.EndpointController", "error": "failed to list *v1.EndpointSlice: Get \"https://192.168.111.10:6443/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?fieldSelector=metadata.name%3Dkubernetes&limit=500&resourceVersion=0\": dial tcp 192.168.111.10:6443: connect: connection refused"}"#,
        must_not_hide: r#"192.168.111.12: 2026-08-21T09:00:52.700Z [31mERROR[0m kubernetes endpoint watch error {"component": "controller-runtime", "controller": "k8s.EndpointController", "error": "failed to list *v1.EndpointSlice: Get \"https://192.168.111.10:6443/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?limit=500\": tls: failed to verify certificate: x509: certificate signed by unknown authority"}"#,
        must_not_hide_because: "same watch, but the API answers with another cluster's certificate (F12)",
        must_not_hide_is: "F12 certificate-error",
    },
    SharedRule {
        id: "A06",
        window: RuleWindow::Bootstrap,
        explains: "zap-level/zap-console-copy",
        reason: "The bootstrap manifests are applied before the control plane endpoint answers; the controller retries.",
        reference: r#"talos troubleshooting guide v1.0 (`k8s.ManifestApplyController: controller failed: error creating mapping ... an error on the server ("") ...`)"#,
        pattern: r#"controller failed \{"component": "controller-runtime", "controller": "k8s\.ManifestApplyController", "error": "error creating mapping for object [^"]*: (?:an error on the server \(\\"\\"\) has prevented the request from succeeding|Get \\"[^"\\]+\\": dial tcp [^ ]+: connect: connection refused)"#,
        source: "controller-runtime",
        example: r#"192.168.111.11: 2026-08-21T09:00:48.113Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.ManifestApplyController", "error": "error creating mapping for object /v1/Secret/bootstrap-token-q9pyzr: Get \"https://127.0.0.1:7445/api?timeout=32s\": dial tcp 127.0.0.1:7445: connect: connection refused"}"#,
        must_not_hide: r#"192.168.111.11: 2026-08-21T09:00:48.113Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.ManifestApplyController", "error": "error creating objects: admission webhook \"validate.kyverno.svc\" denied the request"}"#,
        must_not_hide_because: "same controller, a real rejection",
        must_not_hide_is: "zap-level controller-error/k8s.ManifestApplyController",
    },
    SharedRule {
        id: "A07",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "The kubelet starts before the API server (control planes) or before KubePrism has an endpoint (workers); it retries until registration succeeds.",
        reference: r#"kubernetes pkg/kubelet/kubelet_node_status.go registerWithAPIServer (klog.ErrorS "Unable to register node with API server")"#,
        pattern: r#""Unable to register node with API server" err="Post \\"https://[^"\\]+/api/v1/nodes\\": (?:dial tcp [^ ]+: connect: connection refused|EOF|net/http: TLS handshake timeout)""#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:00:21.441907    1734 kubelet_node_status.go:107] "Unable to register node with API server" err="Post \"https://127.0.0.1:7445/api/v1/nodes\": dial tcp 127.0.0.1:7445: connect: connection refused" node="vixens-dev-cp1""#,
        must_not_hide: r#"192.168.111.13: E0821 09:00:21.441907    1734 kubelet_node_status.go:107] "Unable to register node with API server" err="Post \"https://127.0.0.1:7445/api/v1/nodes\": tls: failed to verify certificate: x509: certificate signed by unknown authority" node="vixens-dev-cp3""#,
        must_not_hide_because: "same message in the window, but a trust failure (F12)",
        must_not_hide_is: "F12 certificate-error",
    },
    SharedRule {
        id: "A08",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: r#"Until the node object exists the kubelet's node lister returns not found (documented: "Talos complains about node not found ... expected during initial cluster bootstrap")."#,
        reference: r#"kubernetes pkg/kubelet/kubelet.go ("Error getting node"), eviction manager; talos troubleshooting guide"#,
        pattern: r#"(?:"Error getting node" err="|err="failed to get node info: )node \\"[^"\\]+\\" not found""#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:00:22.004873    1734 kubelet.go:3215] "Error getting node" err="node \"vixens-dev-cp1\" not found""#,
        must_not_hide: r#"192.168.111.11: E0821 09:40:22.004873    1734 kubelet.go:3215] "Error getting node" err="node \"vixens-dev-cp1\" not found""#,
        must_not_hide_because: "after the window the node object was deleted",
        must_not_hide_is: "klog-severity klog-error/Error getting node",
    },
    SharedRule {
        id: "A09",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "KubePrism (the node-local API load balancer on :7445), or the cluster endpoint (:6443) on clusters without KubePrism (before Talos 1.6), refuses connections until an API server is up; the kubelet's informers, lease and certificate manager retry.",
        reference: r#"talos KubePrism (loadbalancer on 127.0.0.1:7445, default since 1.6); kubernetes client-go reflector ("Failed to watch", unstructured before 1.31, "Unhandled Error" after), nodelease controller ("Failed to ensure lease exists, will retry")"#,
        pattern: r#"https://[^/"\\ ]+:(?:7445|6443)/[^" ]*\\?": dial tcp [^ ]+:(?:7445|6443): connect: connection refused"#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:00:23.902331    1734 controller.go:145] "Failed to ensure lease exists, will retry" err="Get \"https://127.0.0.1:7445/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vixens-dev-cp1?timeout=10s\": dial tcp 127.0.0.1:7445: connect: connection refused" interval="400ms""#,
        must_not_hide: r#"192.168.111.24: E0821 09:00:23.902331    1734 controller.go:145] "Failed to ensure lease exists, will retry" err="Get \"https://127.0.0.1:7445/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/vixens-prod-w1?timeout=10s\": dial tcp 192.168.111.20:6443: connect: no route to host" interval="400ms""#,
        must_not_hide_because: "the endpoint is not refusing, it is unreachable (F17)",
        must_not_hide_is: "F17 network-unreachable",
    },
    SharedRule {
        id: "A10",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "Cilium is installed by Terraform after Talos is up; until its agent writes the CNI config, every pod sandbox (CoreDNS, Cilium itself) waits.",
        reference: r#"kubernetes pkg/kubelet/kubelet.go ("Container runtime network not ready"), pod_workers.go; the homelab installs Cilium with Terraform once Talos is up"#,
        pattern: r#"(?:"Container runtime network not ready"|network is not ready: container runtime network not ready).*cni plugin not initialized"#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:01:40.020156    1734 kubelet.go:3094] "Container runtime network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized""#,
        must_not_hide: r#"192.168.111.11: E0821 09:01:40.020156    1734 pod_workers.go:1324] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"cilium-agent\" with ErrImagePull: \"rpc error: code = NotFound desc = failed to pull and unpack image \\\"quay.io/cilium/cilium:v1.18.99\\\"\"" pod="kube-system/cilium-7xk2p" podUID="5b0c3f8e-4a57-4b51-9d3a-0d6b2f1c7e11""#,
        must_not_hide_because: "the CNI never comes because its image cannot be pulled (F11)",
        must_not_hide_is: "F11 image-pull-failure",
    },
    SharedRule {
        id: "A11",
        window: RuleWindow::Bootstrap,
        explains: "logrus-level",
        reason: "The CRI plugin starts with an empty /etc/cni/net.d on every first boot (Cilium not installed yet), and reloads it, still empty, on each file event while the CNI writes its configuration.",
        reference: "containerd internal/cri/server (`failed to load cni during init, please check CRI plugin status ...`)",
        pattern: r#"level=error msg="(?:failed to load cni during init, please check CRI plugin status before setting up network for pods|failed to reload cni configuration after receiving fs change event\((?:[^"\\]|\\.)*\))" error="cni config load failed: no network config found in /etc/cni/net\.d: cni plugin not initialized: failed to load cni config"$"#,
        source: "cri",
        example: r#"192.168.111.11: time="2026-08-21T09:00:07.331904118Z" level=error msg="failed to load cni during init, please check CRI plugin status before setting up network for pods" error="cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config""#,
        must_not_hide: r#"192.168.111.11: time="2026-08-21T09:00:07.331904118Z" level=error msg="failed to load cni during init, please check CRI plugin status before setting up network for pods" error="failed to load plugin io.containerd.cri.v1.images: input/output error""#,
        must_not_hide_because: "same message, another cause: the rule anchors the error value, not only the message",
        must_not_hide_is: "logrus-level cri-error/failed to load cni during init,",
    },
    SharedRule {
        id: "A12",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "The first control plane's static pods are mirrored before the API server has created the built-in PriorityClasses.",
        reference: "kubernetes pkg/kubelet (mirror pods), apiserver priority admission",
        pattern: r#""Failed creating a mirror pod" err="pods \\"[^"\\]+\\" is forbidden: no PriorityClass with name system-node-critical was found""#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:00:55.160290    1734 kubelet.go:3320] "Failed creating a mirror pod" err="pods \"kube-apiserver-vixens-dev-cp1\" is forbidden: no PriorityClass with name system-node-critical was found" pod="kube-system/kube-apiserver-vixens-dev-cp1""#,
        must_not_hide: r#"192.168.111.11: E0821 09:00:55.160290    1734 kubelet.go:3320] "Failed creating a mirror pod" err="etcdserver: request timed out" pod="kube-system/kube-apiserver-vixens-dev-cp1""#,
        must_not_hide_because: "same message, etcd is failing",
        must_not_hide_is: "klog-severity klog-error/Failed creating a mirror pod",
    },
    SharedRule {
        id: "A13",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "Right after the kubelet (re)starts, projected/configmap volumes wait for the informer caches; the operation is retried a few hundred ms later.",
        reference: "kubernetes pkg/kubelet/util/manager (`object %q/%q not registered`), volume/util/nestedpendingoperations",
        pattern: r#"MountVolume\.SetUp failed for volume "[^"]+" \(UniqueName: "[^"]+"\) pod "[^"]+" \(UID: "[^"]+"\) : object "[^"]+"/"[^"]+" not registered"#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:01:58.314150    1734 nestedpendingoperations.go:348] Operation for "{volumeName:kubernetes.io/projected/3f1d2c4b-8e5a-4f0e-9b7c-1a2b3c4d5e6f-kube-api-access-8xk2m podName:3f1d2c4b-8e5a-4f0e-9b7c-1a2b3c4d5e6f nodeName:}" failed. No retries permitted until 2026-08-21 09:01:58.814128 +0000 UTC m=+106.3 (durationBeforeRetry 500ms). Error: MountVolume.SetUp failed for volume "kube-api-access-8xk2m" (UniqueName: "kubernetes.io/projected/3f1d2c4b-8e5a-4f0e-9b7c-1a2b3c4d5e6f-kube-api-access-8xk2m") pod "coredns-6d5b7c9f4-2jq8w" (UID: "3f1d2c4b-8e5a-4f0e-9b7c-1a2b3c4d5e6f") : object "kube-system"/"kube-root-ca.crt" not registered"#,
        must_not_hide: r#"192.168.111.24: E0821 09:31:02.118871    1802 nestedpendingoperations.go:348] Operation for "{volumeName:kubernetes.io/csi/csi.san.synology.com^e2c4f1a0-5b7d-4c3e-8f9a-0b1c2d3e4f50 podName: nodeName:}" failed. No retries permitted until 2026-08-21 09:33:04.118 +0000 UTC m=+1925.8 (durationBeforeRetry 2m2s). Error: MountVolume.MountDevice failed for volume "pvc-7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" (UniqueName: "kubernetes.io/csi/csi.san.synology.com^e2c4f1a0-5b7d-4c3e-8f9a-0b1c2d3e4f50") pod "postgres-0" (UID: "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a") : rpc error: code = Internal desc = mount failed: exit status 32"#,
        must_not_hide_because: "a CSI volume cannot be mounted (F15)",
        must_not_hide_is: "F15 mount-failure",
    },
    SharedRule {
        id: "A14",
        window: RuleWindow::Bootstrap,
        explains: "zap-level/zap-console-copy",
        reason: "Talos applies node labels and taints before the kubelet registered the node (documented: node not found is expected during bootstrap); the controller was split by concern in older versions (NodeLabelsApplyController and the like).",
        reference: r#"talos controllers/k8s (NodeApply); troubleshooting guide ("Talos Complains about Node Not Found")"#,
        pattern: r#"controller failed \{"component": "controller-runtime", "controller": "k8s\.Node[A-Za-z]*Controller", "error": "error getting node: nodes \\"[^"\\]+\\" not found""#,
        source: "controller-runtime",
        example: r#"192.168.111.11: 2026-08-21T09:00:59.731Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.NodeApplyController", "error": "error getting node: nodes \"vixens-dev-cp1\" not found"}"#,
        must_not_hide: r#"192.168.111.11: 2026-08-21T09:00:59.731Z [31mERROR[0m controller failed {"component": "controller-runtime", "controller": "k8s.NodeApplyController", "error": "error getting node: Get \"https://127.0.0.1:7445/api/v1/nodes/vixens-dev-cp1\": remote error: tls: bad certificate"}"#,
        must_not_hide_because: "same controller, trust failure (F12)",
        must_not_hide_is: "F12 certificate-error",
    },
    SharedRule {
        id: "A15",
        window: RuleWindow::Always,
        explains: "(defensive: no marker)",
        reason: "The Synology NAS closes idle iSCSI connections; iscsid logs in again within a second (`is operational after recovery`). The kernel side is logged at `info`. Vixens' known recurring noise.",
        reference: "linux scsi_transport_iscsi.c iscsi_conn_error_event (KERN_INFO `detected conn error (%d)`); open-iscsi (`Kernel reported iSCSI connection %d:%d error (%d - %s) state (%d)`); the homelab's NAS is a Synology serving iSCSI LUNs",
        pattern: r#"^iscsid: Kernel reported iSCSI connection \d+:\d+ error \(1020 - ISCSI_ERR_TCP_CONN_CLOSE: TCP connection closed\) state \(\d+\)$|^connection\d+:\d+: detected conn error \(1020\)$"#,
        source: "ext-iscsid",
        example: "192.168.111.24: iscsid: Kernel reported iSCSI connection 1:0 error (1020 - ISCSI_ERR_TCP_CONN_CLOSE: TCP connection closed) state (3)",
        must_not_hide: "192.168.111.24: kern:    info: [2026-08-21T09:25:41.903118Z]: session1: session recovery timed out after 5 secs",
        must_not_hide_because: "the connection did not recover; the LUN goes offline (F09b)",
        must_not_hide_is: "F09b iscsi-session-lost",
    },
    SharedRule {
        id: "A16",
        window: RuleWindow::Always,
        explains: "(defensive: no marker)",
        reason: "A client (talosctl logs -f, dashboard) closed a stream; apid logs the cancellation.",
        reference: "talos pkg/grpc/middleware/log/log.go (`%s [%s] %s stream %s (%s)`)",
        pattern: r#"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \S+: Canceled \[/[^\]]+\] \S+ stream rpc error: code = Canceled desc = context canceled"#,
        source: "apid",
        example: "192.168.111.11: 2026/08/21 09:04:41.220918 log.go:84: Canceled [/machine.MachineService/Logs] 1m2.4s stream rpc error: code = Canceled desc = context canceled (:authority=192.168.111.10:50000;content-type=application/grpc;user-agent=talosctl v1.13.9 (grpc-go/1.75.1))",
        must_not_hide: r#"192.168.111.13: 2026/08/21 09:04:41.220918 log.go:76: Unavailable [/machine.MachineService/Version] 20.01s unary rpc error: code = Unavailable desc = connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority" (:authority=192.168.111.10:50000;content-type=application/grpc;nodes=192.168.111.11;user-agent=talosctl v1.13.9 (grpc-go/1.75.1))"#,
        must_not_hide_because: "another gRPC status, a trust failure (F12)",
        must_not_hide_is: "F12 certificate-error",
    },
    SharedRule {
        id: "A17",
        window: RuleWindow::Always,
        explains: "(defensive: warning/info priority)",
        reason: "Talos ships no wireless regulatory database; cfg80211 asks for it on every boot.",
        reference: "linux net/wireless/reg.c; firmware loader (`Direct firmware load for %s failed with error %d`)",
        pattern: r#"Direct firmware load for regulatory\.db failed with error -2$|^cfg80211: failed to load regulatory\.db$"#,
        source: "dmesg",
        example: "192.168.111.11: kern: warning: [2026-08-21T09:00:00.742118Z]: platform regulatory.0: Direct firmware load for regulatory.db failed with error -2",
        must_not_hide: "192.168.111.11: kern:     err: [2026-08-21T09:00:00.742118Z]: i915 0000:00:02.0: Direct firmware load for i915/adlp_dmc.bin failed with error -2",
        must_not_hide_because: "missing firmware for a device that is used",
        must_not_hide_is: "dmesg-priority kernel-err/i# #:#:#.#: Direct firmware",
    },
    SharedRule {
        id: "A18",
        window: RuleWindow::Always,
        explains: "logrus-level",
        reason: "The kubelet asks for the status of a container that was just removed (pod churn); containerd answers NotFound and logs it at error.",
        reference: "containerd internal/cri/instrument (`ContainerStatus for %q failed`)",
        pattern: r#"level=error msg="ContainerStatus for \\"[0-9a-f]{64}\\" failed" error="rpc error: code = NotFound desc = an error occurred when try to find container \\"[0-9a-f]{64}\\": not found"$"#,
        source: "cri",
        example: r#"192.168.111.24: time="2026-08-21T09:12:31.580114302Z" level=error msg="ContainerStatus for \"7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1\" failed" error="rpc error: code = NotFound desc = an error occurred when try to find container \"7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1\": not found""#,
        must_not_hide: r#"192.168.111.24: time="2026-08-21T09:12:31.580114302Z" level=error msg="ContainerStatus for \"7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1\" failed" error="rpc error: code = Unknown desc = failed to read state: input/output error""#,
        must_not_hide_because: "same call, the state cannot be read",
        must_not_hide_is: r##"logrus-level cri-error/ContainerStatus for \"#\" failed"##,
    },
    SharedRule {
        id: "A19",
        window: RuleWindow::Always,
        explains: "klog-severity",
        reason: "The kubelet side of A18 (pod churn).",
        reference: r#"kubernetes pkg/kubelet/cri/remote ("ContainerStatus from runtime service failed"), kuberuntime_gc"#,
        pattern: r#""(?:ContainerStatus from runtime service failed|DeleteContainer returned error)" err="rpc error: code = NotFound desc = an error occurred when try to find container \\"[0-9a-f]{64}\\": not found""#,
        source: "kubelet",
        example: r#"192.168.111.24: E0821 09:12:31.580622    1802 log.go:32] "ContainerStatus from runtime service failed" err="rpc error: code = NotFound desc = an error occurred when try to find container \"7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1\": not found" containerID="7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1""#,
        must_not_hide: r#"192.168.111.24: E0821 09:12:31.580622    1802 log.go:32] "ContainerStatus from runtime service failed" err="rpc error: code = DeadlineExceeded desc = context deadline exceeded" containerID="7d2f0c4e9b1a83655e0a2f7c9d4b1e6038a5c7f2e9d1b4a6c8e0f2a4b6d8c0e1""#,
        must_not_hide_because: "the runtime is hanging",
        must_not_hide_is: "klog-severity klog-error/ContainerStatus from runtime service failed",
    },
    SharedRule {
        id: "A20",
        window: RuleWindow::Bootstrap,
        explains: "klog-severity",
        reason: "Right after the kubelet starts, cAdvisor's stats cache is still empty: the image filesystem's size and the first container stats cannot be read yet, and the kubelet says so at error level until the first housekeeping pass.",
        reference: "kubernetes pkg/kubelet/stats/cri_stats_provider.go (\"Failed to get the info of the filesystem with mountpoint\"), pkg/kubelet/kubelet.go (\"Image garbage collection failed once. Stats initialization may not have completed yet\"), cadvisor_stats_provider.go (RecentStats); kubernetes/kubernetes#113066",
        pattern: r#""Failed to get the info of the filesystem with mountpoint" err="unable to find data in memory cache"|"Image garbage collection failed once\. Stats initialization may not have completed yet"|RecentStats: unable to find data in memory cache"#,
        source: "kubelet",
        example: r#"192.168.111.11: E0821 09:00:24.118233    1734 cri_stats_provider.go:455] "Failed to get the info of the filesystem with mountpoint" err="unable to find data in memory cache" mountpoint="/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs""#,
        must_not_hide: r#"192.168.111.11: E0821 09:40:31.002114    1734 kubelet.go:1409] "Image garbage collection failed multiple times in a row" err="failed to garbage collect required amount of images. Attempted to free 4563402752 bytes, but only found 0 bytes eligible to free.""#,
        must_not_hide_because: "the disk is full of images in use: garbage collection fails for good",
        must_not_hide_is: "klog-severity klog-error/Image garbage collection failed multiple times in a row",
    },
];

static RULES: LazyLock<Vec<AllowRule>> = LazyLock::new(|| SHARED.iter().map(SharedRule::rule).collect());

/// The shared list as allow rules.
#[must_use]
pub fn rules() -> &'static [AllowRule] {
    &RULES
}

impl SharedRule {
    /// True when the rule may explain a line of `marker` (a [`crate::Marker::id`]): it names it,
    /// or it is a defensive one, kept for lines that carry a marker in some versions only.
    #[must_use]
    pub fn explains_marker(&self, marker: &str) -> bool {
        self.explains.starts_with("(defensive") || self.explains.split('/').any(|m| m == marker)
    }

    /// The rule as the scanner applies it.
    #[must_use]
    pub fn rule(&self) -> AllowRule {
        AllowRule { pattern: self.pattern.to_owned(), reason: self.reason.to_owned(), origin: Origin::Shared(self.id), window: self.window }
    }
}
