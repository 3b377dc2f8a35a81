//! "Does the Kubernetes API answer?": the one probe behind `vixens doctor`, a session's "is the
//! lab up", and the destroy-safety suite's "the cluster is still there".

use std::path::Path;
use std::time::Duration;

use vixens_kube::{Cluster, Error, ServerVersion};

/// `GET /version` within `deadline`, with the credentials of the kubeconfig at `kubeconfig`
/// (`key` is the env.yaml key it came from, named in messages).
///
/// kube-rs logs a failed request at ERROR level; a failure is this probe's answer, which the
/// caller says once, so kube-rs's log is silenced for the duration of the call (the runtime
/// runs on this thread, and so does every event it logs).
///
/// # Errors
/// The kubeconfig cannot be used, the API does not answer within `deadline`, or it refuses the
/// credentials ([`Error::Unauthorized`]).
pub fn api(kubeconfig: &Path, key: &'static str, deadline: Duration) -> Result<ServerVersion, Error> {
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        crate::runtime::block_on(async { Cluster::open(kubeconfig, key).await?.probe(deadline).await })
    })
}
