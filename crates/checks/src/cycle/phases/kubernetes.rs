//! Phase `kubernetes-api`: a client from the environment's kubeconfig (the read-only one for
//! read-only checks), and `GET /version` answering within the phase budget.

use vixens_kube::{Access, Cluster, ServerVersion};
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;
use vixens_ops::phase::PhaseCtx;

/// Connects to `env`'s API as `access` and waits until it answers.
pub(crate) async fn reachable(env: &Environment, access: Access, ctx: &PhaseCtx<'_>) -> Result<(Cluster, ServerVersion), Failure> {
    let cluster = env.cluster(access).await.map_err(|e| api_failure(&e))?;
    let version = cluster.wait_reachable(ctx.budget()).await.map_err(|e| api_failure(&e))?;
    Ok((cluster, version))
}

/// The failure of the API phase: the culprit is the kubeconfig when it cannot be used, the
/// server when it does not answer, the identity when it is refused.
pub(crate) fn api_failure(error: &vixens_kube::Error) -> Failure {
    let culprit = match error {
        vixens_kube::Error::NoReadOnlyIdentity(_) => "kubeconfig-readonly".to_owned(),
        vixens_kube::Error::KubeconfigMissing { path, .. } | vixens_kube::Error::Kubeconfig { path, .. } => path.display().to_string(),
        vixens_kube::Error::Client { kubeconfig, .. } => kubeconfig.display().to_string(),
        vixens_kube::Error::Unreachable { server, .. } | vixens_kube::Error::TimedOut { server, .. } | vixens_kube::Error::Api { server, .. } => {
            server.clone()
        }
        vixens_kube::Error::Unauthorized { identity, server, .. } | vixens_kube::Error::Forbidden { identity, server, .. } => {
            format!("user `{identity}` at {server}")
        }
    };
    Phase::KubernetesApi.failure(culprit, vixens_diagnostic::error_chain(error))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_unreachable_api_blames_its_server() {
        let error = vixens_kube::Error::TimedOut { server: "https://127.0.0.1:6443".into(), after: Duration::from_secs(15) };
        let failure = api_failure(&error);
        assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("kubernetes-api", "https://127.0.0.1:6443"));
        assert_eq!(failure.message, "the Kubernetes API at https://127.0.0.1:6443 did not answer within 15s");
    }

    #[test]
    fn a_missing_kubeconfig_blames_the_file() {
        let error = vixens_kube::Error::KubeconfigMissing { path: "/w/state/kubeconfig".into(), key: "kubeconfig" };
        assert_eq!(api_failure(&error).culprit, "/w/state/kubeconfig");
    }
}
