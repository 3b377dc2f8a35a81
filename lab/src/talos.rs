//! Simulated Talos nodes. Placeholder bodies until the simulation lands; the daemon calls
//! exactly these three entry points (see also `argocd::start`).

use std::sync::Arc;

use crate::spec::LabSpec;
use crate::store::Store;

/// The simulated nodes of one lab.
pub struct Cluster {
    _spec: LabSpec,
}

impl Cluster {
    /// Starts booting every node of `spec`, writing Nodes, Pods, Namespaces and Events into
    /// `store` as a real boot would make them appear. Must be called inside a tokio runtime.
    #[must_use]
    pub fn boot(spec: &LabSpec, store: Store) -> Arc<Self> {
        let _ = store;
        Arc::new(Self { _spec: spec.clone() })
    }
}

/// The HTTP endpoints the talosctl stand-in calls (the lab's Talos API), guarded by `token`.
pub fn routes(cluster: Arc<Cluster>, token: String) -> axum::Router {
    let _ = (cluster, token);
    axum::Router::new()
}
