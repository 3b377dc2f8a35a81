//! Phase `argocd`: every Application watched until each system app is Healthy, Synced, its last
//! operation Succeeded and reconciled after (Argo CD's own rule, [`vixens_kube::argocd`]), then, when
//! asked, the proof that no person intervened within a lookback ([`Lookback`]): every operation
//! and history entry in it initiated automatically. The phase says which evidence decided
//! (`history[].initiatedBy` on Argo CD 3 and 2.11+, the last operation's initiator matched to
//! the newest history entry on 2.10), and a pass that some syncs could not be attributed is
//! said to be partial.

use std::time::Duration;

use jiff::Timestamp;

use vixens_kube::Cluster;
use vixens_kube::argocd::{self, Converged, Lookback, Verdict};
use vixens_kube::wait::{self, WaitConfig, WaitEvent};
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;
use vixens_ops::phase::PhaseCtx;

/// The lookback of a protected environment (never recreated) whose env.yaml sets no
/// `argocd.intervention-lookback`.
pub(crate) const DEFAULT_PROTECTED_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);

/// Which syncs must have been initiated automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intervention {
    /// Not checked.
    Ignored,
    /// Every sync since this time (the recreate's start).
    Since(Timestamp),
    /// The environment's own lookback: since its last recreate (the root app's creation) on a
    /// disposable environment, `argocd.intervention-lookback` on a protected one.
    OfEnvironment,
}

/// Waits for convergence within what is left of the phase's budget, then checks `intervention`.
pub(crate) async fn converge(
    env: &Environment,
    cluster: &Cluster,
    progress_interval: Duration,
    intervention: Intervention,
    ctx: &mut PhaseCtx<'_>,
) -> Result<Converged, Failure> {
    let rules = &env.argocd.system_apps;
    // The whole budget, not what is left of it: the timeout message names the budget, and the
    // phase has spent only the moment it took to build its context.
    let config = WaitConfig::default().timeout(ctx.budget()).failing_grace(env.argocd.degraded_grace).progress_interval(progress_interval);
    let on_event = |event: WaitEvent| ctx.status(&describe(&event));
    let converged = argocd::wait_converged(cluster, &env.argocd.namespace, rules, &config, on_event).await.map_err(|e| wait_failure(&e))?;
    let lookback = match intervention {
        Intervention::Ignored => return Ok(converged),
        Intervention::Since(at) => Lookback::SinceRecreate(at),
        Intervention::OfEnvironment => lookback(env, &converged, Timestamp::now())?,
    };
    let report = converged.interventions(lookback);
    let verdict = match report.verdict() {
        Verdict::Proven => "no manual intervention",
        Verdict::Partial => "no manual intervention found, proof partial",
        Verdict::Manual => "manual intervention",
    };
    ctx.status(&format!("{verdict}: {}", report.summary()));
    let Some(first) = report.findings.first() else { return Ok(converged) };
    let found = &report.findings;
    let lines: Vec<String> = found.iter().map(|f| format!("\n  {f}")).collect();
    let message = format!(
        "Argo CD did not bootstrap by itself: {} sync{} {} {} not initiated automatically:{}\n{}",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        report.lookback,
        if found.len() == 1 { "was" } else { "were" },
        lines.concat(),
        report.summary()
    );
    Err(Phase::Argocd.failure(first.app.clone(), message))
}

/// The lookback of `env` at `now`: since its last recreate (the root app's creation) when it is
/// disposable, its configured window when it is protected.
fn lookback(env: &Environment, converged: &Converged, now: Timestamp) -> Result<Lookback, Failure> {
    if env.is_protected() {
        return Ok(Lookback::window(now, env.argocd.intervention_lookback.unwrap_or(DEFAULT_PROTECTED_LOOKBACK)));
    }
    converged.bootstrapped_at().map(Lookback::SinceRecreate).ok_or_else(|| {
        Phase::Argocd.failure(
            &env.argocd.root_app,
            format!("the root app `{}` has no creationTimestamp: the time of the last recreate is unknown", env.argocd.root_app),
        )
    })
}

/// A wait event as one progress line.
fn describe(event: &WaitEvent) -> String {
    match event {
        WaitEvent::Listed { objects, relist: false } => format!("listed {objects} Applications"),
        WaitEvent::Listed { objects, relist: true } => format!("listed {objects} Applications again after the watch lost its place"),
        WaitEvent::Progress { progress, .. } => progress.to_string(),
        WaitEvent::NotListedYet { last_error: None, .. } => "waiting for the first list of Applications".to_owned(),
        WaitEvent::NotListedYet { last_error: Some(error), .. } => format!("waiting for the first list of Applications (last error: {error})"),
        WaitEvent::WatchInterrupted { error } => format!("watch interrupted, resuming after backoff: {error}"),
    }
}

/// The failure of the wait: the culprit is every app still waiting at the deadline, the app
/// that stayed Degraded, or the app the tree lacks.
fn wait_failure(error: &wait::Error) -> Failure {
    let culprit = match error {
        wait::Error::TimedOut { progress: Some(progress), .. } if !progress.waiting.is_empty() => {
            progress.waiting.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
        }
        wait::Error::TimedOut { .. } => "the Applications".to_owned(),
        wait::Error::FailedFor { item, .. } => item.name.clone(),
        wait::Error::Unsatisfiable { reason } => reason.split('`').nth(1).unwrap_or("argocd.system-apps").to_owned(),
        wait::Error::Access(denied) => {
            let denied = super::kubernetes::api_failure(denied);
            return Phase::Argocd.failure(denied.culprit, denied.message);
        }
    };
    Phase::Argocd.failure(culprit, vixens_diagnostic::error_chain(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vixens_kube::wait::Waiting;

    fn waiting(name: &str, state: &str, failing: bool) -> Waiting {
        Waiting { name: name.into(), state: state.into(), reason: format!("health is {state}"), failing }
    }

    #[test]
    fn a_timeout_blames_every_app_still_waiting() {
        let progress = wait::Progress { noun: "system apps", ready: 14, total: 15, waiting: vec![waiting("keda", "Progressing", false)] };
        let error = wait::Error::TimedOut { after: Duration::from_secs(30), progress: Some(progress), last_watch_error: None };
        let failure = wait_failure(&error);
        assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("argocd", "keda"));
        assert_eq!(failure.message, "timed out after 30s with 14/15 system apps ready; not ready:\n  keda: Progressing: health is Progressing");
    }

    #[test]
    fn a_degraded_app_is_the_culprit() {
        let error =
            wait::Error::FailedFor { item: waiting("traefik", "Degraded", true), failing_for: Duration::from_secs(3), grace: Duration::from_secs(3) };
        assert_eq!(wait_failure(&error).culprit, "traefik");
    }

    #[test]
    fn a_missing_app_is_the_culprit() {
        let error = wait::Error::Unsatisfiable { reason: "system app `keda` does not exist in namespace argocd: ...".into() };
        assert_eq!(wait_failure(&error).culprit, "keda");
    }

    #[test]
    fn progress_reads_like_the_wait() {
        let progress = wait::Progress { noun: "system apps", ready: 12, total: 16, waiting: vec![waiting("traefik", "Progressing", false)] };
        assert_eq!(
            describe(&WaitEvent::Progress { elapsed: Duration::from_secs(5), progress }),
            "12/16 system apps ready; waiting on traefik (Progressing)"
        );
    }
}
