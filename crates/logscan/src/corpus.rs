//! A realistic synthetic Talos log corpus, for the benchmark and the scanner's tests.
//!
//! Lines are composed from the formats Talos nodes write (those `crate::lines` parses), in
//! proportions close to what a control-plane node logs after boot: machined (`[talos]` with its timestamp), controller-runtime
//! (zap console lines with ANSI-coloured levels), etcd (JSON), containerd (logrus), kubelet (klog)
//! and dmesg, every line behind its `<node>: ` label. Many normal lines contain words the
//! prefilter looks for (a transient `Health check failed`, `level=warn ... error`), as real logs
//! do. One line in [`Corpus::ERROR_EVERY`] is a real error, cycling through known failures and
//! every marker kind. Normal lines are normal at any time: none is bootstrap noise.

/// A generated corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The text, newline-terminated lines.
    pub text: Vec<u8>,
    /// Lines in it.
    pub lines: u64,
    /// Error lines injected (each is flagged by a scanner with no allow-list).
    pub errors: u64,
}

/// Normal lines, `{n}` replaced by a counter, `{t}` by a timestamp of the line's format.
const NORMAL: &[&str] = &[
    "{t} [talos] service[etcd](Running): Health check successful",
    "{t} [talos] task startAllServices (1/1): waiting for 3 services",
    "{t} [talos] service[kubelet](Waiting): Waiting for service \"cri\" to be \"up\"",
    "{t} [talos] service[apid](Running): Health check successful",
    "{t} [talos] setting resolvers {\"component\": \"controller-runtime\", \"controller\": \"network.ResolverSpecController\", \"resolvers\": [\"1.1.1.1\", \"8.8.8.8\"]}",
    "{t} [talos] assigned address {\"component\": \"controller-runtime\", \"controller\": \"network.AddressSpecController\", \"address\": \"10.5.0.{n}/24\", \"link\": \"eth0\"}",
    "{z} \x1b[34mINFO\x1b[0m reconcile finished {\"component\": \"controller-runtime\", \"controller\": \"k8s.KubeletStaticPodController\", \"pods\": {n}}",
    "{z} \x1b[35mDEBUG\x1b[0m watch event {\"component\": \"controller-runtime\", \"controller\": \"secrets.APICertSANsController\", \"resource\": \"MachineConfig\", \"version\": {n}}",
    "{z} \x1b[33mWARN\x1b[0m retrying {\"component\": \"controller-runtime\", \"controller\": \"k8s.ManifestApplyController\", \"error\": \"connection refused\", \"attempt\": {n}}",
    "{z} \x1b[34mINFO\x1b[0m applied manifest {\"component\": \"controller-runtime\", \"controller\": \"k8s.ManifestApplyController\", \"manifest\": \"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system-bootstrap-approve-node-client-csr\"}",
    "{{\"level\":\"info\",\"ts\":\"{z}\",\"caller\":\"etcdserver/server.go:2054\",\"msg\":\"published local member to cluster through raft\",\"local-member-id\":\"8e9e05c52164694d\",\"request-path\":\"/0/members/8e9e05c52164694d/attributes\",\"publish-timeout\":\"15s\"}}",
    "{{\"level\":\"info\",\"ts\":\"{z}\",\"caller\":\"mvcc/index.go:214\",\"msg\":\"compact tree index\",\"revision\":{n}}}",
    "{{\"level\":\"warn\",\"ts\":\"{z}\",\"caller\":\"etcdserver/util.go:170\",\"msg\":\"apply request took too long\",\"took\":\"112.5ms\",\"expected-duration\":\"100ms\",\"error\":\"none\"}}",
    "time=\"{z}\" level=info msg=\"StartContainer for \\\"{n}a3f9\\\" returns successfully\"",
    "time=\"{z}\" level=info msg=\"ImageCreate event name:\\\"registry.k8s.io/pause:3.10\\\" labels:{{key:\\\"io.cri-containerd.image\\\" value:\\\"managed\\\"}}\"",
    "time=\"{z}\" level=warn msg=\"cleanup warnings time=\\\"{z}\\\" level=warning msg=\\\"failed to remove runc container\\\" error=\\\"runc did not terminate successfully\\\"\"",
    "I{k}    1234 kubelet.go:2468] \"SyncLoop (PLEG): event for pod\" pod=\"kube-system/kube-apiserver-talos-cp-{n}\" event={{\"ID\":\"a1b2\",\"Type\":\"ContainerStarted\"}}",
    "I{k}    1234 reconciler_common.go:245] \"operationExecutor.VerifyControllerAttachedVolume started for volume\" volumeName=\"kubernetes.io/secret/{n}-config\"",
    "W{k}    1234 reflector.go:561] k8s.io/client-go/informers/factory.go:160: failed to list *v1.Service: Get \"https://127.0.0.1:7445/api/v1/services\": dial tcp 127.0.0.1:7445: connect: connection refused",
    "I{k}    1234 prober.go:107] \"Probe failed\" probeType=\"Readiness\" pod=\"kube-system/coredns-{n}\" podUID=\"c0ffee\" containerName=\"coredns\"",
    "kern:    info: [{z}]: eth0: renamed from veth{n}",
    "kern:  notice: [{z}]: audit: type=1400 audit({n}.123:42): apparmor=\"STATUS\" operation=\"profile_load\"",
    "user: warning: [{z}]: [talos] task writeUserFiles (1/1): done, {n}ms",
    "kern:    info: [{z}]: cilium_vxlan: Caught tx_queue_len zero misconfig",
];

/// Error lines: known failures at any level, and one of each marker kind.
const ERRORS: &[&str] = &[
    "{t} [talos] service[ext-iscsid](Waiting): Error running Containerd(ext-iscsid), going to restart forever: task \"ext-iscsid\" failed: exit code 127",
    "{{\"level\":\"warn\",\"ts\":\"{z}\",\"caller\":\"embed/config_logging.go:173\",\"msg\":\"rejected connection on client endpoint\",\"remote-addr\":\"10.5.0.4:51234\",\"error\":\"remote error: tls: bad certificate\"}}",
    "kern:    info: [{z}]: session1: session recovery timed out after 5 secs",
    "kern:     err: [{z}]: blk_update_request: I/O error, dev vdb, sector {n}",
    "{t} [talos] task startAllServices (1/1): failed: 1 error occurred: service \"etcd\" failed",
    "{t} [talos] phase startEverything (17/17): failed",
    "{t} [talos] boot sequence: failed",
    "{t} [talos] service[etcd](Failed): Failed to run pre stage: timeout",
    "{t} [talos] controller failed {\"component\": \"controller-runtime\", \"controller\": \"k8s.ManifestApplyController\", \"error\": \"error creating objects: admission webhook denied the request\"}",
    "{t} [talos] controller runtime goroutine error: context canceled",
    "{t} [talos] kubernetes endpoint watch error {\"component\": \"controller-runtime\", \"controller\": \"k8s.EndpointController\", \"error\": \"connection refused\"}",
    "{z} \x1b[31mERROR\x1b[0m controller failed {\"component\": \"controller-runtime\", \"controller\": \"k8s.NodeApplyController\", \"error\": \"timeout\"}",
    "{{\"level\":\"error\",\"ts\":\"{z}\",\"caller\":\"etcdserver/server.go:2073\",\"msg\":\"failed to publish local member to cluster through raft\"}}",
    "time=\"{z}\" level=error msg=\"failed to pull image\" error=\"not found\"",
    "E{k}    1234 kubelet.go:2345] \"Error syncing pod, skipping\" err=\"failed to StartContainer\" pod=\"kube-system/kube-proxy-{n}\"",
];

impl Corpus {
    /// One line in this many is an error.
    pub const ERROR_EVERY: u64 = 2_000;

    /// About `bytes` of logs from three nodes, the same for the same `seed`.
    #[must_use]
    pub fn generate(bytes: usize, seed: u64) -> Self {
        Self::compose(bytes, seed, NORMAL)
    }

    /// As [`Corpus::generate`], but the normal lines hold none of the prefilter's keywords: a
    /// quiet log, where a scan's cost is the keyword search alone (most of a healthy node's
    /// logs after boot).
    #[must_use]
    pub fn quiet(bytes: usize, seed: u64) -> Self {
        let quiet: Vec<&str> = NORMAL.iter().copied().filter(|t| !crate::prefilter::KEYWORDS.iter().any(|k| t.contains(k))).collect();
        Self::compose(bytes, seed, &quiet)
    }

    fn compose(bytes: usize, seed: u64, normal: &[&str]) -> Self {
        let mut rng = SplitMix(seed);
        let mut corpus = Self { text: Vec::with_capacity(bytes + 512), lines: 0, errors: 0 };
        while corpus.text.len() < bytes {
            let n = rng.next();
            let node = 2 + n % 3;
            let is_error = corpus.lines % Self::ERROR_EVERY == Self::ERROR_EVERY - 1;
            let template = if is_error {
                corpus.errors += 1;
                ERRORS[(corpus.errors as usize - 1) % ERRORS.len()]
            } else {
                normal[(n >> 8) as usize % normal.len()]
            };
            corpus.text.extend_from_slice(format!("10.5.0.{node}: ").as_bytes());
            corpus.text.extend_from_slice(fill(template, corpus.lines, n).as_bytes());
            corpus.text.push(b'\n');
            corpus.lines += 1;
        }
        corpus
    }
}

fn fill(template: &str, line: u64, n: u64) -> String {
    let (minute, second, micros) = (line / 60_000 % 60, line / 1_000 % 60, (n % 1_000_000) as u32);
    template
        .replace("{t}", &format!("2026/08/21 10:{minute:02}:{second:02}.{micros:06}"))
        .replace("{z}", &format!("2026-08-21T10:{minute:02}:{second:02}.{:03}Z", micros / 1000))
        .replace("{k}", &format!("0821 10:{minute:02}:{second:02}.{micros:06}"))
        .replace("{n}", &(n % 10_000).to_string())
        .replace("{{", "{")
        .replace("}}", "}")
}

/// A small deterministic generator (SplitMix64): the corpus needs variety, not cryptography.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
