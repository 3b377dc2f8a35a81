//! Simulated Talos nodes.
//!
//! [`Cluster::boot`] boots every node of a [`LabSpec`] the way a Talos node boots: the kernel
//! ring buffer fills, machined runs its phases, services go Waiting → Preparing → Running with
//! health checks that fail while their dependencies come up, the kubelet registers its Node,
//! static control-plane pods start, and the Node turns Ready once the CNI runs. Every line is
//! written in the format the real component prints, with the benign noise a real boot has
//! (warnings, `level=warn`, transient `Health check failed`, iSCSI session drops), so that a
//! log scanner is tested against realistic text. The Kubernetes side (Namespaces, Nodes, Pods,
//! Events) goes into the lab's store.
//!
//! [`routes`] serves the lab's Talos API ([`wire`]) that the talosctl stand-in calls.
//!
//! Faults: `talos-error=NODE[:KIND]` puts what KIND failing looks like into that node's logs (a
//! disk's I/O errors by default; crash loops, an OOM-killed etcd, panics, certificate errors,
//! etcd losing its quorum, ... see [`crate::faults::TalosErrorKind`]); `node-not-ready=NODE` keeps
//! its Node NotReady forever, so `talosctl health` never passes "all k8s nodes to report ready".

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::spec::LabSpec;
use crate::store::Store;

mod boot;
mod failures;
pub mod health;
mod iscsi;
pub mod kube;
pub mod logfmt;
pub mod node;
mod routes;
pub mod wire;

pub use node::Node;

/// The Talos version the nodes run (and talosctl reports).
pub const TALOS_VERSION: &str = "v1.13.9";
/// The commit of that version, as `talosctl version` shows it.
pub const TALOS_SHA: &str = "6f8a2c1d";
/// The Go version Talos was built with.
pub const GO_VERSION: &str = "go1.25.5";
/// The Kubernetes version the nodes run.
pub const KUBERNETES_VERSION: &str = "v1.35.2";
/// The kernel the nodes run.
pub const KERNEL_VERSION: &str = "6.12.40-talos";
/// The containerd the nodes run.
pub const CONTAINERD_VERSION: &str = "v2.1.5";
/// The NAS's iSCSI portal on the storage network.
pub const NAS_PORTAL: &str = "10.5.255.10";

/// The simulated nodes of one lab.
pub struct Cluster {
    spec: LabSpec,
    store: Store,
    nodes: Vec<Arc<Node>>,
    /// When the boot started.
    started_at: Timestamp,
    /// How many nodes have finished their boot sequence.
    booted: watch::Sender<usize>,
}

impl Cluster {
    /// Starts booting every node of `spec`, writing Nodes, Pods, Namespaces and Events into
    /// `store` as a real boot would make them appear. Must be called inside a tokio runtime.
    #[must_use]
    pub fn boot(spec: &LabSpec, store: Store) -> Arc<Self> {
        let nodes = spec.nodes.iter().map(|n| Arc::new(Node::new(n.clone()))).collect();
        let cluster = Arc::new(Self { spec: spec.clone(), store, nodes, started_at: Timestamp::now(), booted: watch::channel(0).0 });
        boot::start(&cluster);
        cluster
    }

    /// The lab this cluster belongs to.
    #[must_use]
    pub fn spec(&self) -> &LabSpec {
        &self.spec
    }

    /// The store the cluster writes its Kubernetes objects to.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every node, control planes first.
    #[must_use]
    pub fn nodes(&self) -> &[Arc<Node>] {
        &self.nodes
    }

    /// The node `id` names: an address (as `talosctl -n` takes) or a hostname.
    #[must_use]
    pub fn node(&self, id: &str) -> Option<&Arc<Node>> {
        self.nodes.iter().find(|n| n.spec.address == id || n.spec.name == id)
    }

    /// Waits until every node has finished its boot sequence.
    pub async fn wait_booted(&self) {
        let mut booted = self.booted.subscribe();
        let total = self.nodes.len();
        // The sender lives as long as `self`, so this cannot fail while we are borrowed.
        let _ = booted.wait_for(|n| *n >= total).await;
    }

    fn node_booted(&self) {
        self.booted.send_modify(|n| *n += 1);
    }
}

/// The HTTP endpoints the talosctl stand-in calls (the lab's Talos API), guarded by `token`.
pub fn routes(cluster: Arc<Cluster>, token: String) -> axum::Router {
    routes::router(cluster, token)
}
