//! Bringing an on-demand environment (env.yaml `provisioning`: the labs) up with its own
//! terraform root, as a recreate cycle's apply phase does it. Test sessions
//! ([`crate::testkit::session`]) and `vixens up` use it; a real cluster is never brought up here,
//! it is expected to be running.

use std::time::Duration;

use crate::cycle::{Progress, phases};
use crate::env::Environment;
use crate::evidence::Failure;
use crate::kube::Cluster;
use crate::redact::Redactor;

/// How long a running environment's API gets to answer before it counts as not up.
const UP_PROBE: Duration = Duration::from_secs(2);

/// True when `env`'s Kubernetes API answers within two seconds with its admin kubeconfig.
#[must_use]
pub fn is_up(env: &Environment) -> bool {
    if !env.kubeconfig.is_file() {
        return false;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return false };
    // "Not up" is the answer, not an error: kube-rs's log of the refused connection is silenced
    // (the runtime runs on this thread, and so does every event it logs).
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        runtime.block_on(async {
            match Cluster::from_kubeconfig(&env.kubeconfig).await {
                Ok(cluster) => cluster.probe(UP_PROBE).await.is_ok(),
                Err(_) => false,
            }
        })
    })
}

/// `terraform init` and `apply` of `env`'s root within its apply budget, each terraform line
/// handed to `on_progress`. When the API still does not answer (a state left by a lab that has
/// since stopped: apply saw nothing to do), the stale state is destroyed through the safe
/// destroy path and applied again.
///
/// # Errors
/// The [`Failure`] of the phase that failed, naming its culprit (the resource terraform names).
pub fn up(env: &Environment, on_progress: &mut dyn FnMut(Progress<'_>)) -> Result<(), Failure> {
    let redactor = Redactor::new();
    let budget = env.budgets.phases.apply;
    phases::apply::run(env, &redactor, None, budget, on_progress)?;
    if is_up(env) {
        return Ok(());
    }
    tracing::info!(environment = %env.name, "the API does not answer after apply: destroying the stale state and applying again");
    phases::destroy::run(env, &redactor, None, on_progress)?;
    phases::apply::run(env, &redactor, None, budget, on_progress)?;
    Ok(())
}
