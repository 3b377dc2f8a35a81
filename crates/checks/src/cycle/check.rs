//! The checks of the fresh-cluster-validation scenario, each a list of phases: the destructive
//! recreate cycle, and the read-only checks that also run on protected environments.

use std::fmt;

use vixens_kube::Access;
use vixens_ops::budget::Phase;

/// One check, named as the specification's scenario (and the nextest test) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// Destroy (safely), recreate, and prove the fresh cluster: API, Talos health, every system
    /// app converged with no manual intervention since the recreate, clean Talos logs, the
    /// documented commands. Disposable environments only.
    RecreateCycle,
    /// Every system app Healthy, Synced, its last sync Succeeded and reconciled after.
    SystemAppsHealthy,
    /// Every system app converged, and every sync since the bootstrap initiated automatically.
    ArgocdBootstrappedWithoutManualIntervention,
    /// Talos healthy, and no error in any node's logs since boot that the allow-list does not
    /// explain.
    TalosLogsClean,
}

impl Check {
    /// Every check, in the order the suite lists them.
    pub const ALL: [Self; 4] =
        [Self::RecreateCycle, Self::SystemAppsHealthy, Self::ArgocdBootstrappedWithoutManualIntervention, Self::TalosLogsClean];

    /// The test name inside `fresh_cluster_validation::`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::RecreateCycle => "recreate_cycle",
            Self::SystemAppsHealthy => "system_apps_healthy",
            Self::ArgocdBootstrappedWithoutManualIntervention => "argocd_bootstrapped_without_manual_intervention",
            Self::TalosLogsClean => "talos_logs_clean",
        }
    }

    /// The phases it runs, in order.
    #[must_use]
    pub fn phases(self) -> &'static [Phase] {
        match self {
            Self::RecreateCycle => {
                &[Phase::Destroy, Phase::Apply, Phase::KubernetesApi, Phase::TalosHealth, Phase::Argocd, Phase::Logs, Phase::Commands]
            }
            Self::SystemAppsHealthy | Self::ArgocdBootstrappedWithoutManualIntervention => &[Phase::KubernetesApi, Phase::Argocd],
            Self::TalosLogsClean => &[Phase::TalosHealth, Phase::Logs],
        }
    }

    /// True when it destroys and recreates the environment.
    #[must_use]
    pub fn is_destructive(self) -> bool {
        self == Self::RecreateCycle
    }

    /// The Kubernetes identity it uses: the read-only one for every check that only reads.
    #[must_use]
    pub fn access(self) -> Access {
        if self.is_destructive() { Access::Admin } else { Access::ReadOnly }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
