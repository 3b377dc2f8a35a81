//! The Kubernetes side of the harness, the only crate besides the checks that compiles kube-rs:
//!
//! - [`Cluster`]: a client from a kubeconfig, whose errors name the file, the API server and the
//!   identity, never the credentials; the "API reachable" probe.
//! - [`wait`]: watch-based waits with a deadline, backoff and watch recovery: an API server
//!   restart during a reboot does not end a wait.
//! - [`argocd`]: the `argoproj.io/v1alpha1` Application, Argo CD's own readiness conditions,
//!   which apps are system apps, and the proof that no person intervened.
//! - [`identity`]: the read-only identity minted after every recreate (ServiceAccount, read-only
//!   ClusterRole and binding, a TokenRequest token), and whether a read-only kubeconfig is stale.
//! - [`storage`]: the cluster's iSCSI PersistentVolumes and what names each one's LUN.
//!
//! Conditions decide, drivers wait: the conditions are pure functions over `Option<&Application>`;
//! timeouts, backoff and watch recovery live in [`wait`].

pub mod argocd;
mod cluster;
pub mod identity;
pub mod storage;
pub mod wait;

pub use cluster::{Access, Cluster, Endpoint, Error, ServerVersion};
