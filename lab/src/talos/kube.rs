//! The Kubernetes objects a booting cluster makes appear: Namespaces, Nodes (NotReady, then
//! Ready), kube-system Pods and Events, shaped like what a real API server returns so that
//! `kubectl get -o yaml` and kube-rs see familiar objects. Argo CD's simulation writes its own
//! Pods and Namespaces through the same [`KubeWriter`].

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use super::{CONTAINERD_VERSION, KERNEL_VERSION, KUBERNETES_VERSION, TALOS_VERSION};
use crate::spec::NodeSpec;
use crate::store::{ResourceId, Store, now_rfc3339};

/// Writes cluster objects into the lab's store. Writes never fail for a well-formed object, so
/// a failure is logged rather than returned: the simulation goes on, and the missing object
/// shows up in the checks that need it.
#[derive(Clone)]
pub struct KubeWriter {
    store: Store,
}

/// A Pod to run.
pub struct PodSpec<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// Pod name.
    pub name: String,
    /// The node it runs on.
    pub node: &'a NodeSpec,
    /// Labels (`k8s-app`, `tier`, ...).
    pub labels: Value,
    /// `(container name, image)`.
    pub containers: Vec<(&'a str, String)>,
    /// The owner (`DaemonSet`, `ReplicaSet`, `Node` for static pods, `StatefulSet`).
    pub owner: (&'a str, &'a str),
    /// Whether its containers pass their readiness probes.
    pub ready: bool,
}

impl KubeWriter {
    /// A writer into `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn upsert(&self, group: &str, plural: &str, namespace: Option<&str>, object: Value) {
        if let Err(e) = self.store.upsert(&ResourceId::new(group, plural), namespace, object) {
            tracing::warn!(error = %e, plural, "the simulation could not write an object");
        }
    }

    /// Creates a Namespace if it does not exist yet.
    pub fn ensure_namespace(&self, name: &str) {
        if self.store.get(&ResourceId::new("", "namespaces"), None, name).is_none() {
            self.upsert("", "namespaces", None, namespace(name));
        }
    }

    /// The kubelet registers its Node: NotReady until the CNI is up.
    pub fn register_node(&self, node: &NodeSpec, index: usize, tainted: bool) {
        self.upsert("", "nodes", None, node_object(node, index, tainted));
        self.event("default", "Node", &node.name, "Starting", "Starting kubelet.", "Normal", "kubelet", &node.name);
        let message = format!("Node {0} event: Registered Node {0} in Controller", node.name);
        self.event("default", "Node", &node.name, "RegisteredNode", &message, "Normal", "node-controller", "");
    }

    /// The Node's Ready condition changes.
    pub fn set_node_ready(&self, node: &NodeSpec, ready: bool) {
        let patch = json!({"status": {"conditions": node_conditions(ready)}});
        if let Err(e) = self.store.merge_patch(&ResourceId::new("", "nodes"), None, &node.name, &patch) {
            tracing::warn!(error = %e, node = node.name, "the simulation could not update a node");
        }
        if ready {
            let message = format!("Node {} status is now: NodeReady", node.name);
            self.event("default", "Node", &node.name, "NodeReady", &message, "Normal", "kubelet", &node.name);
        }
    }

    /// A Pod is scheduled, started, and (if `ready`) passes its readiness probes.
    pub fn run_pod(&self, pod: &PodSpec<'_>) {
        self.upsert("", "pods", Some(pod.namespace), pod_object(pod));
        let kind = "Pod";
        let scheduled = format!("Successfully assigned {}/{} to {}", pod.namespace, pod.name, pod.node.name);
        self.event(pod.namespace, kind, &pod.name, "Scheduled", &scheduled, "Normal", "default-scheduler", "");
        for (container, image) in &pod.containers {
            let pulled = format!("Container image \"{image}\" already present on machine");
            self.event(pod.namespace, kind, &pod.name, "Pulled", &pulled, "Normal", "kubelet", &pod.node.name);
            self.event(pod.namespace, kind, &pod.name, "Started", &format!("Started container {container}"), "Normal", "kubelet", &pod.node.name);
        }
    }

    /// Records an Event about an object.
    #[allow(clippy::too_many_arguments)]
    pub fn event(&self, namespace: &str, kind: &str, name: &str, reason: &str, message: &str, kind_of_event: &str, component: &str, host: &str) {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let now = now_rfc3339();
        let nanos = jiff::Timestamp::now().as_nanosecond().unsigned_abs();
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{name}.{:016x}", nanos.wrapping_add(u128::from(n))), "namespace": namespace},
            "involvedObject": {"apiVersion": "v1", "kind": kind, "name": name, "namespace": if kind == "Node" { "" } else { namespace }},
            "reason": reason,
            "message": message,
            "source": if host.is_empty() { json!({"component": component}) } else { json!({"component": component, "host": host}) },
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": kind_of_event,
            "eventTime": null,
            "reportingComponent": component,
            "reportingInstance": host,
        });
        self.upsert("", "events", Some(namespace), event);
    }
}

/// A Namespace object.
#[must_use]
pub fn namespace(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

fn node_conditions(ready: bool) -> Value {
    let now = now_rfc3339();
    let pressure = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "False", "reason": reason, "message": message, "lastHeartbeatTime": now, "lastTransitionTime": now});
    let ready = if ready {
        json!({"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now})
    } else {
        json!({
            "type": "Ready", "status": "False", "reason": "KubeletNotReady",
            "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
            "lastHeartbeatTime": now, "lastTransitionTime": now,
        })
    };
    json!([
        pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ready,
    ])
}

fn node_object(node: &NodeSpec, index: usize, tainted: bool) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
    });
    let mut spec = json!({"podCIDR": pod_cidr(index), "podCIDRs": [pod_cidr(index)]});
    if node.is_control_plane() {
        labels["node-role.kubernetes.io/control-plane"] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
        if tainted {
            spec["taints"] = json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
        }
    }
    let resources = json!({"cpu": "4", "ephemeral-storage": "40516096Ki", "hugepages-2Mi": "0", "memory": "8148232Ki", "pods": "110"});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": node.address}, {"type": "Hostname", "address": node.name}],
            "capacity": resources,
            "allocatable": resources,
            "conditions": node_conditions(false),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": uuid_like(&format!("boot-{}", node.name)),
                "containerRuntimeVersion": format!("containerd://{CONTAINERD_VERSION}"),
                "kernelVersion": KERNEL_VERSION,
                "kubeProxyVersion": "",
                "kubeletVersion": KUBERNETES_VERSION,
                "machineID": hex_id(&format!("machine-{}", node.name), 32),
                "operatingSystem": "linux",
                "osImage": format!("Talos ({TALOS_VERSION})"),
                "systemUUID": uuid_like(&format!("system-{}", node.name)),
            },
        },
    })
}

fn pod_cidr(index: usize) -> String {
    format!("10.244.{}.0/24", index % 256)
}

fn pod_object(pod: &PodSpec<'_>) -> Value {
    let now = now_rfc3339();
    let ready = if pod.ready { "True" } else { "False" };
    let condition = |kind: &str, status: &str| json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": now});
    let containers: Vec<Value> =
        pod.containers.iter().map(|(name, image)| json!({"name": name, "image": image, "imagePullPolicy": "IfNotPresent"})).collect();
    let statuses: Vec<Value> = pod
        .containers
        .iter()
        .map(|(name, image)| {
            json!({
                "name": name,
                "image": image,
                "imageID": format!("{}@sha256:{}", image.split(':').next().unwrap_or(image), hex_id(image, 64)),
                "containerID": format!("containerd://{}", hex_id(&format!("{}/{name}", pod.name), 64)),
                "ready": pod.ready,
                "started": true,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            })
        })
        .collect();
    let (owner_kind, owner_name) = pod.owner;
    let owner_api = match owner_kind {
        "Node" => "v1",
        _ => "apps/v1",
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "labels": pod.labels,
            "ownerReferences": [{"apiVersion": owner_api, "kind": owner_kind, "name": owner_name, "uid": uuid_like(owner_name), "controller": true}],
        },
        "spec": {"nodeName": pod.node.name, "containers": containers, "restartPolicy": "Always", "schedulerName": "default-scheduler"},
        "status": {
            "phase": "Running",
            "conditions": [condition("PodReadyToStartContainers", "True"), condition("Initialized", "True"), condition("Ready", ready), condition("ContainersReady", ready), condition("PodScheduled", "True")],
            "hostIP": pod.node.address,
            "hostIPs": [{"ip": pod.node.address}],
            "podIP": pod.node.address,
            "podIPs": [{"ip": pod.node.address}],
            "startTime": now,
            "qosClass": "Burstable",
            "containerStatuses": statuses,
        },
    })
}

/// A deterministic pod-name suffix (Kubernetes' safe alphabet), so that names are stable across
/// runs of the same lab.
#[must_use]
pub fn name_suffix(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hash = fnv1a(seed);
    (0..len)
        .map(|_| {
            let c = ALPHABET[(hash % ALPHABET.len() as u64) as usize] as char;
            hash = (hash / ALPHABET.len() as u64) ^ fnv1a(&format!("{seed}{hash}"));
            c
        })
        .collect()
}

/// A deterministic lower-case hex id of `len` characters.
#[must_use]
pub fn hex_id(seed: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 16);
    let mut round = 0u32;
    while out.len() < len {
        out.push_str(&format!("{:016x}", fnv1a(&format!("{seed}#{round}"))));
        round += 1;
    }
    out.truncate(len);
    out
}

/// A deterministic UUID-shaped id.
#[must_use]
pub fn uuid_like(seed: &str) -> String {
    let h = hex_id(seed, 32);
    format!("{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

/// FNV-1a: a small, stable hash for deterministic ids and jitter.
#[must_use]
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LabSpec;

    #[test]
    fn a_registered_node_is_not_ready_until_told() {
        let store = Store::default();
        let kube = KubeWriter::new(store.clone());
        let node = &LabSpec::nodes_for("lab", 1, 0)[0];
        kube.register_node(node, 0, false);
        let nodes = ResourceId::new("", "nodes");
        let object = store.get(&nodes, None, "lab-controlplane-1").unwrap();
        assert_eq!(object["status"]["conditions"][3]["status"], "False");
        assert_eq!(object["status"]["nodeInfo"]["kubeletVersion"], KUBERNETES_VERSION);
        assert_eq!(object["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
        assert!(object["spec"].get("taints").is_none(), "dev's control planes take workloads");
        kube.set_node_ready(node, true);
        let object = store.get(&nodes, None, "lab-controlplane-1").unwrap();
        assert_eq!(object["status"]["conditions"][3]["reason"], "KubeletReady");
        let (events, _) = store.list(&ResourceId::new("", "events"), Some("default"));
        let reasons: Vec<_> = events.iter().map(|e| e["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons.len(), 3);
        assert!(reasons.contains(&"NodeReady"));
    }

    #[test]
    fn ids_are_stable_and_shaped() {
        // Pinned, so that pod names and disk ids are the same in every run of the lab.
        assert_eq!(name_suffix("coredns", 5), "dnd5d");
        assert_eq!(name_suffix("coredns-rs", 10), "d7xfl5flh8");
        // Kubernetes' random suffixes use no vowels and none of 0, 1, 3: neither do these.
        for seed in ["coredns-1", "coredns-2", "cilium-operator"] {
            let suffix = name_suffix(seed, 5);
            assert!(suffix.len() == 5 && suffix.bytes().all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b)), "{suffix}");
        }
        assert_ne!(name_suffix("coredns-1", 5), name_suffix("coredns-2", 5));
        assert_eq!(hex_id("x", 20), "bec278197f228594bec2");
        assert!(hex_id("etcd-lab-controlplane-1", 64).bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // A version-4, variant-1 UUID, as the Linux kernel prints filesystem UUIDs.
        assert_eq!(uuid_like("x"), "bec27819-7f22-4594-8ec2-79197f228747");
    }
}
