//! Readiness conditions: pure functions over `Option<&Application>` (`None` = the app does not
//! exist), in the style of kube-runtime's `wait::Condition`, except that an unmet condition
//! says why ([`Unmet`]), so a progress line can read "traefik (Progressing)".
//!
//! [`ready`] is Argo CD's own completion rule, the one `argocd app wait` applies with no flags
//! (`cmd/argocd/commands/app.go` `checkAppWaitConditions`): Healthy, Synced, no top-level
//! `operation` (Argo CD clears it when the operation completes), the last operation completed and
//! Succeeded, and one reconcile after it finished. [`initiated_automatically`] is the "no
//! manual intervention" rule for the last operation.
//!
//! Why an app is not Healthy comes from where its Argo CD release recorded it (see
//! [`Application::health_reason`]): 2.x inline in `status.resources[].health`, 3.x nowhere in
//! the Application. A sync that failed and waits for its next retry is Running with a
//! `Retrying attempt #n` message: retrying, not failed.
//!
//! Conditions decide; they never wait. Waiting, timeouts and watch recovery live in
//! [`crate::wait`].

use std::fmt;

use jiff::Timestamp;

use super::application::{Application, HealthCode, OperationPhase, SyncCode};

/// A readiness condition over an Application that may not exist.
pub trait Condition {
    /// `Ok` when `app` meets the condition, otherwise what is unmet.
    ///
    /// # Errors
    /// The unmet condition, with the app's state that fails it.
    fn check(&self, app: Option<&Application>) -> Result<(), Unmet>;

    /// True when `app` meets the condition (kube-runtime's `matches_object`).
    fn matches_object(&self, app: Option<&Application>) -> bool {
        self.check(app).is_ok()
    }

    /// A condition met when both are; the first unmet one is reported.
    fn and<B: Condition>(self, other: B) -> And<Self, B>
    where
        Self: Sized,
    {
        And(self, other)
    }
}

impl<F: Fn(Option<&Application>) -> Result<(), Unmet>> Condition for F {
    fn check(&self, app: Option<&Application>) -> Result<(), Unmet> {
        self(app)
    }
}

/// Both conditions, `self` checked first. Built by [`Condition::and`].
#[derive(Debug, Clone, Copy)]
pub struct And<A, B>(A, B);

impl<A: Condition, B: Condition> Condition for And<A, B> {
    fn check(&self, app: Option<&Application>) -> Result<(), Unmet> {
        self.0.check(app)?;
        self.1.check(app)
    }
}

/// Why an app does not meet a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmet {
    /// The Application does not exist.
    Missing,
    /// Health is not `Healthy` (or not reported yet).
    NotHealthy {
        /// The reported health, if any.
        health: Option<HealthCode>,
        /// Why, with the evidence it comes from ([`Application::health_reason`]), if the app is
        /// not Healthy for a reason Argo CD could record.
        message: Option<String>,
    },
    /// Sync is not `Synced` (or not reported yet).
    NotSynced {
        /// The reported sync status, if any.
        sync: Option<SyncCode>,
    },
    /// A sync was requested (top-level `operation`) and the controller has not taken it yet. Once
    /// taken, the `operation` stays until it completes: that is [`Unmet::OperationRunning`].
    OperationPending,
    /// The last sync failed and Argo CD will try again (phase Running, `Retrying attempt #n`).
    OperationRetrying {
        /// The attempt coming next.
        attempt: i64,
        /// The retry limit, when the operation says.
        limit: Option<i64>,
        /// Argo CD's message.
        message: String,
    },
    /// The last operation has not completed (`Running`, `Terminating`, or no `finishedAt`).
    OperationRunning {
        /// Its phase, if reported.
        phase: Option<OperationPhase>,
    },
    /// The last operation completed without succeeding.
    OperationFailed {
        /// `Failed`, `Error` or an unknown phase.
        phase: OperationPhase,
        /// Argo CD's message.
        message: Option<String>,
    },
    /// The controller has not reconciled the app since its last operation finished.
    NotReconciledSinceOperation {
        /// When the operation finished.
        finished_at: Timestamp,
        /// The last reconcile, if any.
        reconciled_at: Option<Timestamp>,
    },
    /// The last operation was not shown to be initiated by automated sync.
    NotInitiatedAutomatically {
        /// The user who initiated it, when recorded.
        username: Option<String>,
    },
}

impl Unmet {
    /// A word or two for a progress line: `traefik (Progressing)`, `keda (OutOfSync)`.
    #[must_use]
    pub fn state(&self) -> String {
        match self {
            Self::Missing => "Missing".into(),
            Self::NotHealthy { health: Some(health), .. } => health.to_string(),
            Self::NotHealthy { health: None, .. } => "no health yet".into(),
            Self::NotSynced { sync: Some(sync) } => sync.to_string(),
            Self::NotSynced { sync: None } => "no sync status yet".into(),
            Self::OperationPending => "sync requested".into(),
            Self::OperationRetrying { attempt, limit: Some(limit), .. } => format!("sync retrying ({attempt}/{limit})"),
            Self::OperationRetrying { attempt, limit: None, .. } => format!("sync retrying (attempt {attempt})"),
            Self::OperationRunning { phase: Some(phase) } | Self::OperationFailed { phase, .. } => format!("sync {phase}"),
            Self::OperationRunning { phase: None } => "sync running".into(),
            Self::NotReconciledSinceOperation { .. } => "awaiting reconcile".into(),
            Self::NotInitiatedAutomatically { username: Some(user) } => format!("synced by {user}"),
            Self::NotInitiatedAutomatically { username: None } => "sync initiator unknown".into(),
        }
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the Application does not exist"),
            Self::NotHealthy { health, message } => {
                match health {
                    Some(health) => write!(f, "health is {health}")?,
                    None => f.write_str("health not reported yet")?,
                }
                match message.as_deref().filter(|m| !m.is_empty()) {
                    Some(message) => write!(f, ": {message}"),
                    None => Ok(()),
                }
            }
            Self::NotSynced { sync: Some(sync) } => write!(f, "sync status is {sync}"),
            Self::NotSynced { sync: None } => f.write_str("sync status not reported yet"),
            Self::OperationPending => f.write_str("a sync was requested and has not started yet"),
            Self::OperationRetrying { message, .. } => write!(f, "the last sync attempt failed and Argo CD retries: {message}"),
            Self::OperationRunning { phase } => match phase {
                Some(phase) => write!(f, "the sync operation is {phase} and has not finished"),
                None => f.write_str("the sync operation has not finished"),
            },
            Self::OperationFailed { phase, message } => {
                write!(f, "the last sync operation ended {phase}")?;
                match message.as_deref().filter(|m| !m.is_empty()) {
                    Some(message) => write!(f, ": {message}"),
                    None => Ok(()),
                }
            }
            Self::NotReconciledSinceOperation { finished_at, reconciled_at } => match reconciled_at {
                Some(at) => write!(f, "last reconciled at {at}, before the sync finished at {finished_at}"),
                None => write!(f, "not reconciled since the sync finished at {finished_at}"),
            },
            Self::NotInitiatedAutomatically { username: Some(user) } => {
                write!(f, "the last sync was initiated by user `{user}`, not by automated sync")
            }
            Self::NotInitiatedAutomatically { username: None } => {
                f.write_str("the last sync records no initiator, so it is not shown to be automated")
            }
        }
    }
}

/// Health is `Healthy`.
#[must_use]
pub fn healthy() -> impl Condition + Copy {
    |app: Option<&Application>| {
        let app = app.ok_or(Unmet::Missing)?;
        match app.health() {
            Some(HealthCode::Healthy) => Ok(()),
            health => Err(Unmet::NotHealthy { health: health.cloned(), message: app.health_reason().map(|r| r.to_string()) }),
        }
    }
}

/// Sync status is `Synced`.
#[must_use]
pub fn synced() -> impl Condition + Copy {
    |app: Option<&Application>| match app.ok_or(Unmet::Missing)?.sync() {
        Some(SyncCode::Synced) => Ok(()),
        sync => Err(Unmet::NotSynced { sync: sync.cloned() }),
    }
}

/// No top-level `operation`: no sync is requested, and none runs (Argo CD clears it when the
/// operation completes). A taken operation is reported as running, as [`operation_succeeded`]
/// reports it.
#[must_use]
pub fn no_pending_operation() -> impl Condition + Copy {
    |app: Option<&Application>| {
        let app = app.ok_or(Unmet::Missing)?;
        if app.operation.is_none() {
            return Ok(());
        }
        let running = app.operation_state().is_some_and(|s| s.phase == Some(OperationPhase::Running));
        match operation_succeeded().check(Some(app)) {
            Err(unmet) if running => Err(unmet),
            _ => Err(Unmet::OperationPending),
        }
    }
}

/// The last operation completed and Succeeded.
///
/// # Caveats
/// An app that never ran an operation passes, as it does for `argocd app wait`: an app that was
/// Synced at its first reconcile (Argo CD managing its own Helm install) never needs one.
/// Health and sync status still have to hold, so a new app is not ready by this alone.
#[must_use]
pub fn operation_succeeded() -> impl Condition + Copy {
    |app: Option<&Application>| {
        let Some(state) = app.ok_or(Unmet::Missing)?.operation_state() else { return Ok(()) };
        match (&state.phase, state.finished_at) {
            (Some(OperationPhase::Succeeded), Some(_)) => Ok(()),
            // Failed and Error are final; a phase this version does not know counts as not
            // succeeded once it has finished.
            (Some(phase @ (OperationPhase::Failed | OperationPhase::Error)), _) | (Some(phase @ OperationPhase::Other(_)), Some(_)) => {
                Err(Unmet::OperationFailed { phase: phase.clone(), message: state.message.clone() })
            }
            (phase, _) => match (phase, retry_attempt(state.message.as_deref())) {
                (Some(OperationPhase::Running), Some(attempt)) => {
                    let retry = state.operation.as_ref().and_then(|o| o.retry.as_ref());
                    let limit = retry.and_then(|r| r.get("limit")).and_then(serde_json::Value::as_i64);
                    Err(Unmet::OperationRetrying { attempt, limit, message: state.message.clone().unwrap_or_default() })
                }
                _ => Err(Unmet::OperationRunning { phase: phase.clone() }),
            },
        }
    }
}

/// The attempt number of a retry message: `<msg>. Retrying attempt #3 at 10:02AM.`
/// (`controller/appcontroller.go` `processRequestedAppOperation`).
fn retry_attempt(message: Option<&str>) -> Option<i64> {
    let (_, rest) = message?.rsplit_once(". Retrying attempt #")?;
    let (number, at) = rest.split_once(" at ")?;
    at.ends_with('.').then_some(())?;
    number.parse().ok()
}

/// The controller reconciled the app at or after its last operation finished
/// (`status.reconciledAt >= status.operationState.finishedAt`): the status read after a sync
/// reflects that sync. A missing `reconciledAt` means not yet.
///
/// # Caveats
/// Passes when no operation ever ran, like [`operation_succeeded`].
#[must_use]
pub fn reconciled_after_operation() -> impl Condition + Copy {
    |app: Option<&Application>| {
        let app = app.ok_or(Unmet::Missing)?;
        let Some(state) = app.operation_state() else { return Ok(()) };
        let Some(finished_at) = state.finished_at else {
            return Err(Unmet::OperationRunning { phase: state.phase.clone() });
        };
        let reconciled_at = app.status.as_ref().and_then(|s| s.reconciled_at);
        match reconciled_at {
            Some(at) if at >= finished_at => Ok(()),
            _ => Err(Unmet::NotReconciledSinceOperation { finished_at, reconciled_at }),
        }
    }
}

/// The last operation was initiated by Argo CD's automated sync (`initiatedBy.automated: true`),
/// and so is a requested one still pending.
///
/// # Caveats
/// Passes when no operation ever ran: nothing was initiated, by hand or otherwise.
#[must_use]
pub fn initiated_automatically() -> impl Condition + Copy {
    |app: Option<&Application>| {
        let app = app.ok_or(Unmet::Missing)?;
        let pending = app.operation.as_ref().map(|op| op.initiated_by.as_ref());
        let last = app.operation_state().map(|state| state.initiated_by());
        for initiator in [pending, last].into_iter().flatten() {
            match initiator {
                Some(by) if by.is_automated() => {}
                by => return Err(Unmet::NotInitiatedAutomatically { username: by.and_then(|b| b.username.clone()) }),
            }
        }
        Ok(())
    }
}

/// Argo CD's completion rule, as `argocd app wait` applies it with no flags: [`healthy`],
/// [`synced`], [`no_pending_operation`], [`operation_succeeded`] and
/// [`reconciled_after_operation`], reported in that order.
#[must_use]
pub fn ready() -> impl Condition + Copy {
    healthy().and(synced()).and(no_pending_operation()).and(operation_succeeded()).and(reconciled_after_operation())
}

/// Every condition of [`ready`] that `app` does not meet, in the same order, each reported once
/// (empty when it is ready): for a timeout message that says all that is wrong with an app, not
/// only the first thing.
#[must_use]
pub fn unmet_readiness(app: Option<&Application>) -> Vec<Unmet> {
    let checks = [
        healthy().check(app),
        synced().check(app),
        no_pending_operation().check(app),
        operation_succeeded().check(app),
        reconciled_after_operation().check(app),
    ];
    let mut unmet: Vec<Unmet> = checks.into_iter().filter_map(Result::err).collect();
    unmet.dedup();
    unmet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::fixtures::fixture;

    fn unmet(condition: impl Condition, app: &Application) -> Unmet {
        condition.check(Some(app)).expect_err("condition should be unmet")
    }

    #[test]
    fn every_condition_is_met_by_a_converged_app() {
        let app = fixture("converged.yaml");
        for (name, result) in [
            ("healthy", healthy().check(Some(&app))),
            ("synced", synced().check(Some(&app))),
            ("no_pending_operation", no_pending_operation().check(Some(&app))),
            ("operation_succeeded", operation_succeeded().check(Some(&app))),
            ("reconciled_after_operation", reconciled_after_operation().check(Some(&app))),
            ("initiated_automatically", initiated_automatically().check(Some(&app))),
            ("ready", ready().check(Some(&app))),
        ] {
            assert_eq!(result, Ok(()), "{name}");
        }
    }

    #[test]
    fn every_condition_reports_a_missing_app_as_missing() {
        for (name, result) in [
            ("healthy", healthy().check(None)),
            ("synced", synced().check(None)),
            ("no_pending_operation", no_pending_operation().check(None)),
            ("operation_succeeded", operation_succeeded().check(None)),
            ("reconciled_after_operation", reconciled_after_operation().check(None)),
            ("initiated_automatically", initiated_automatically().check(None)),
            ("ready", ready().check(None)),
        ] {
            assert_eq!(result, Err(Unmet::Missing), "{name}");
        }
        assert_eq!(Unmet::Missing.state(), "Missing");
    }

    #[test]
    fn healthy_is_pending_while_progressing_and_names_the_health_message() {
        let app = fixture("sync-running.yaml");
        let why = unmet(healthy(), &app);
        assert_eq!(why.state(), "Progressing");
        assert_eq!(
            why.to_string(),
            "health is Progressing: Deployment traefik is Progressing: Waiting for rollout to finish: 0 of 2 updated replicas are available... \
             (from status.resources[].health)"
        );
    }

    #[test]
    fn healthy_is_pending_before_the_first_health_report() {
        let app = fixture("bootstrapping.yaml");
        let why = unmet(healthy(), &app);
        assert_eq!(why, Unmet::NotHealthy { health: None, message: None });
        assert_eq!(why.to_string(), "health not reported yet");
    }

    #[test]
    fn synced_is_pending_while_out_of_sync() {
        let app = fixture("sync-running.yaml");
        let why = unmet(synced(), &app);
        assert_eq!(why.state(), "OutOfSync");
        assert_eq!(why.to_string(), "sync status is OutOfSync");
    }

    #[test]
    fn a_requested_sync_is_a_pending_operation() {
        let app = fixture("bootstrapping.yaml");
        assert_eq!(unmet(no_pending_operation(), &app), Unmet::OperationPending);
        assert_eq!(Unmet::OperationPending.state(), "sync requested");
    }

    #[test]
    fn operation_succeeded_is_pending_while_the_sync_runs() {
        let app = fixture("sync-running.yaml");
        let why = unmet(operation_succeeded(), &app);
        assert_eq!(why, Unmet::OperationRunning { phase: Some(OperationPhase::Running) });
        assert_eq!(why.state(), "sync Running");
    }

    #[test]
    fn operation_succeeded_is_unmet_by_a_failed_sync_with_its_message() {
        let app = fixture("sync-failed.yaml");
        let why = unmet(operation_succeeded(), &app);
        assert_eq!(why.state(), "sync Failed");
        assert_eq!(
            why.to_string(),
            "the last sync operation ended Failed: one or more objects failed to apply, reason: \
             admission webhook \"webhook.cert-manager.io\" denied the request (retried 5 times)."
        );
    }

    #[test]
    fn a_sync_waiting_for_its_next_retry_is_retrying_not_failed() {
        let app = fixture("v3/06-sync-failed-retrying.yaml");
        let why = unmet(operation_succeeded(), &app);
        assert!(matches!(why, Unmet::OperationRetrying { attempt: 2, limit: Some(5), .. }), "{why:?}");
        assert_eq!(why.state(), "sync retrying (2/5)");
        assert_eq!(unmet(no_pending_operation(), &app), why, "the operation stays while it retries");
        let last = fixture("v3/07-sync-failed-final.yaml");
        assert!(matches!(unmet(operation_succeeded(), &last), Unmet::OperationFailed { .. }));
        assert_eq!(no_pending_operation().check(Some(&last)), Ok(()), "a completed operation is cleared");
    }

    #[test]
    fn a_degraded_app_is_judged_on_both_shapes_saying_where_the_reason_comes_from() {
        let v2 = unmet(healthy(), &fixture("v2.10/05-degraded.yaml"));
        assert_eq!(
            v2.to_string(),
            "health is Degraded: Deployment vaultwarden is Degraded: Deployment \"vaultwarden\" exceeded its progress deadline (from status.resources[].health)"
        );
        let v3 = unmet(healthy(), &fixture("v3/05-degraded.yaml"));
        assert_eq!(
            v3.to_string(),
            "health is Degraded: no reason in the Application (resourceHealthSource: appTree: Argo CD 3 keeps resource health in its resource tree)"
        );
    }

    #[test]
    fn an_app_that_never_ran_an_operation_is_judged_on_health_and_sync_alone() {
        let mut app = fixture("converged.yaml");
        app.status.as_mut().unwrap().operation_state = None;
        assert_eq!(ready().check(Some(&app)), Ok(()));
        assert_eq!(initiated_automatically().check(Some(&app)), Ok(()));
    }

    #[test]
    fn reconciled_after_operation_waits_for_a_reconcile_after_the_sync_finished() {
        let app = fixture("awaiting-reconcile.yaml");
        let why = unmet(reconciled_after_operation(), &app);
        assert_eq!(why.state(), "awaiting reconcile");
        assert_eq!(why.to_string(), "last reconciled at 2026-11-26T10:02:09Z, before the sync finished at 2026-11-26T10:02:10Z");
    }

    #[test]
    fn a_missing_reconciled_at_means_not_reconciled_yet() {
        let mut app = fixture("converged.yaml");
        app.status.as_mut().unwrap().reconciled_at = None;
        let why = unmet(reconciled_after_operation(), &app);
        assert_eq!(why.to_string(), "not reconciled since the sync finished at 2026-11-26T10:02:10Z");
    }

    #[test]
    fn reconciled_exactly_when_the_sync_finished_counts() {
        let mut app = fixture("awaiting-reconcile.yaml");
        app.status.as_mut().unwrap().reconciled_at = Some("2026-11-26T10:02:10Z".parse().unwrap());
        assert_eq!(reconciled_after_operation().check(Some(&app)), Ok(()));
    }

    #[test]
    fn a_sync_by_a_user_is_not_initiated_automatically_and_names_the_user() {
        let app = fixture("manual-sync.yaml");
        let why = unmet(initiated_automatically(), &app);
        assert_eq!(why.state(), "synced by admin");
        assert_eq!(why.to_string(), "the last sync was initiated by user `admin`, not by automated sync");
    }

    #[test]
    fn a_pending_sync_requested_by_a_user_is_not_automatic_either() {
        let mut app = fixture("converged.yaml");
        app.operation = Some(crate::argocd::Operation {
            initiated_by: Some(crate::argocd::InitiatedBy { username: Some("alice".into()), automated: None }),
            sync: None,
            retry: None,
        });
        assert_eq!(unmet(initiated_automatically(), &app), Unmet::NotInitiatedAutomatically { username: Some("alice".into()) });
    }

    #[test]
    fn an_operation_without_initiator_is_not_shown_to_be_automatic() {
        let mut app = fixture("converged.yaml");
        app.status.as_mut().unwrap().operation_state.as_mut().unwrap().operation = None;
        let why = unmet(initiated_automatically(), &app);
        assert_eq!(why.state(), "sync initiator unknown");
    }

    #[test]
    fn ready_reports_the_first_unmet_condition_in_argocd_order() {
        assert_eq!(unmet(ready(), &fixture("sync-running.yaml")).state(), "Progressing");
        assert_eq!(unmet(ready(), &fixture("bootstrapping.yaml")).state(), "no health yet");
        assert_eq!(unmet(ready(), &fixture("awaiting-reconcile.yaml")).state(), "awaiting reconcile");
        let mut out_of_sync = fixture("converged.yaml");
        out_of_sync.status.as_mut().unwrap().sync.as_mut().unwrap().status = Some(SyncCode::OutOfSync);
        assert_eq!(unmet(ready(), &out_of_sync).state(), "OutOfSync");
    }

    #[test]
    fn unmet_readiness_lists_everything_wrong_with_an_app_once() {
        let states: Vec<String> = unmet_readiness(Some(&fixture("sync-running.yaml"))).iter().map(Unmet::state).collect();
        assert_eq!(states, ["Progressing", "OutOfSync", "sync Running"]);
        assert_eq!(unmet_readiness(None), [Unmet::Missing]);
        assert_eq!(unmet_readiness(Some(&fixture("converged.yaml"))), []);
    }

    #[test]
    fn closures_are_conditions_and_combine_with_and() {
        let named_traefik = |app: Option<&Application>| match app {
            Some(app) if app.name() == "traefik" => Ok(()),
            _ => Err(Unmet::Missing),
        };
        let app = fixture("converged.yaml");
        assert!(named_traefik.and(ready()).matches_object(Some(&app)));
        assert!(!named_traefik.and(ready()).matches_object(None));
    }
}
