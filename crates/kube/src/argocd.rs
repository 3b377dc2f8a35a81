//! Argo CD readiness over the whole app tree, and the proof that it bootstrapped with no manual
//! intervention.
//!
//! - [`Application`]: the `argoproj.io/v1alpha1` object, typed for what is judged and tolerant of
//!   everything else, as Argo CD 2.10 and 3.x write it.
//! - [`conditions`]: pure readiness conditions over `Option<&Application>`; [`ready`] is Argo CD's
//!   own completion rule.
//! - [`SystemAppRules`]: which apps are system apps (names, label selector, maximum sync wave).
//! - [`Convergence`]: the judge that [`crate::wait::until`] drives; [`wait_converged`] runs it
//!   against a cluster.
//! - [`judge`]: every operation and history entry within a [`Lookback`] initiated automatically,
//!   or a finding naming the app and the user; syncs no record attributes (Argo CD < 2.11) are
//!   reported apart, with the evidence that decided ([`InterventionReport`]).
//!
//! A harness must read each child Application's own status: the parent's health does not
//! include its children's, so the root app is never taken as evidence.

mod application;
pub mod conditions;
mod convergence;
mod intervention;
mod system_apps;

pub use application::{
    Application, ApplicationCondition, ApplicationSource, ApplicationSpec, ApplicationStatus, AutomatedSync, HealthCode, HealthEvidence,
    HealthReason, HealthStatus, HelmSource, InitiatedBy, Operation, OperationPhase, OperationState, ResourceResult, ResourceStatus, RevisionHistory,
    SYNC_WAVE_ANNOTATION, SyncCode, SyncPolicy, SyncResult, SyncStatus,
};
pub use conditions::{Condition, Unmet, ready, unmet_readiness};
pub use convergence::{Converged, Convergence};
pub use intervention::{Evidence, InterventionReport, Lookback, ManualIntervention, Record, Unattributed, Verdict, judge, manual_interventions};
pub use system_apps::{MatchedRule, MissingWave, SystemAppRules, SystemApps, UnknownName, folder_matches, parse_selector};

use crate::Cluster;
use crate::wait::{self, WaitConfig, WaitEvent};

/// An environment's definition of system apps that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No names, no selector and no maximum sync wave: nothing would be checked.
    #[error("argocd.system-apps defines no rule (names, selector, folders or max-sync-wave): no app would be checked")]
    NoSystemAppRule,
    /// The label selector does not parse.
    #[error("argocd.system-apps.selector `{selector}` is invalid: {reason}")]
    InvalidSelector {
        /// The selector as written.
        selector: String,
        /// What is wrong.
        reason: String,
    },
}

/// Watches every Application in `namespace` until every system app of `rules` is ready (see
/// [`Convergence`]), reporting progress to `on_event`.
///
/// # Errors
/// See [`wait::until`]: a timeout listing every app not ready, a Degraded app past its grace, a
/// listed system app that the complete tree does not contain, or refused credentials.
pub async fn wait_converged(
    cluster: &Cluster,
    namespace: &str,
    rules: &SystemAppRules,
    config: &WaitConfig,
    on_event: impl FnMut(WaitEvent),
) -> Result<Converged, wait::Error> {
    let events = wait::watch(cluster.namespaced::<Application>(namespace));
    wait::until(events, cluster.endpoint(), &Convergence::new(rules, namespace), config, on_event).await
}

/// Applications shaped like real ones, from `tests/fixtures/argocd/`.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Application, SYNC_WAVE_ANNOTATION};

    /// Reads one fixture.
    pub fn fixture(name: &str) -> Application {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("tests/fixtures/argocd")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `app` renamed, in sync wave `wave`.
    pub fn named(mut app: Application, name: &str, wave: i32) -> Application {
        app.metadata.name = Some(name.to_owned());
        app.metadata.annotations.get_or_insert_default().insert(SYNC_WAVE_ANNOTATION.to_owned(), wave.to_string());
        app
    }
}
