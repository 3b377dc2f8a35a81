//! The Argo CD `Application` (`argoproj.io/v1alpha1`), typed for what the harness judges.
//!
//! Shaped after Argo CD's `pkg/apis/application/v1alpha1/types.go`, for every release the harness
//! meets: what 2.10 writes (health `{status}`, per-resource health inline in `status.resources`,
//! history entries without `initiatedBy`) and what 3.x writes (health `{status,
//! lastTransitionTime}`, no per-resource health: `resourceHealthSource: appTree`, `initiatedBy` in
//! history). No release writes an app-level `status.health.message`; it is read when present and
//! never expected. Real objects are partial while Argo CD bootstraps (no status yet, no health
//! yet, no operation yet), so every field is optional, `null` reads as absent, unknown fields are
//! ignored, and a status word this version does not know is kept as
//! [`Other`](HealthCode::Other) instead of failing the whole watch. Times are RFC 3339, as
//! Kubernetes writes `metav1.Time`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Deserializer, Serialize};

/// The annotation holding an app's sync wave.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// An Argo CD Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Name, namespace, labels, annotations (the sync wave), resource version.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// What the app deploys and how it syncs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub spec: ApplicationSpec,
    /// The operation requested or running: a sibling of `spec` and `status`, set by auto-sync,
    /// the CLI or the UI, and cleared only when the operation completes (Succeeded, Failed or
    /// Error; it stays across retries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// What the controller observed; absent until its first reconcile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ApplicationStatus>,
}

/// `spec`: the sync policy, and the sources (whose paths place an app in a tier folder).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSpec {
    /// The Argo CD project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The single source (git path, or Helm chart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApplicationSource>,
    /// The sources of a multi-source app (a Helm chart, and this repository as `ref: values`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub sources: Vec<ApplicationSource>,
    /// How the app syncs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_policy: Option<SyncPolicy>,
}

/// One entry of `spec.source` / `spec.sources`: what places the app in the repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationSource {
    /// The folder of a git source (`apps/00-infra/traefik/overlays/dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The name other sources use for this one (`$values/...` in Helm value files).
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Helm options: the value files, which may live in another source (`$values/apps/...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmSource>,
}

/// `source.helm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    /// Value files, relative to the chart, or `$<ref>/<path>` in the source named `<ref>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub value_files: Vec<String>,
}

/// `spec.syncPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Present when Argo CD syncs the app by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<AutomatedSync>,
}

/// `spec.syncPolicy.automated`: all optional booleans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedSync {
    /// Delete resources that left git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// Revert changes made in the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_heal: Option<bool>,
    /// Allow syncing to an empty set of resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_empty: Option<bool>,
    /// Since Argo CD 3.2: `false` turns automated sync off while keeping its settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// A sync operation: the top-level `operation`, and `status.operationState.operation`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Who asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<InitiatedBy>,
    /// The sync details (revision, prune, resources); kept as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<serde_json::Value>,
    /// The retry strategy (`{limit, backoff}`); kept as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<serde_json::Value>,
}

/// `initiatedBy`: auto-sync sets `automated: true`; a CLI or UI sync sets `username`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiatedBy {
    /// The user who asked for the sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// True when Argo CD's automated sync asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automated: Option<bool>,
}

/// `status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationStatus {
    /// Whether the cluster matches git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncStatus>,
    /// The app's aggregated health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
    /// The last (or current) operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_state: Option<OperationState>,
    /// When the controller last compared the app with git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciled_at: Option<Timestamp>,
    /// Every deployment of the app, oldest first.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<RevisionHistory>,
    /// The resources the app manages; for an app-of-apps, its child Applications.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceStatus>,
    /// Errors and warnings (`ComparisonError`, `SyncError`, ...).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ApplicationCondition>,
    /// `appTree` when the controller keeps resource health in its resource tree instead of
    /// `status.resources[].health` (the default since Argo CD 3.0); absent before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_health_source: Option<String>,
}

/// `status.sync`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `Synced`, `OutOfSync` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SyncCode>,
    /// The git revision compared against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The revisions of a multi-source app.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
}

/// `status.health` (`AppHealthStatus` since Argo CD 3.1), and a resource's inline health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthStatus {
    /// `Healthy`, `Progressing`, `Degraded`, `Suspended`, `Missing` or `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<HealthCode>,
    /// Why, when not healthy: written for resources (2.x, inline), never for the app itself
    /// (the field is deprecated and unused in 3.x, and 2.x never set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the status last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<Timestamp>,
}

/// `status.operationState`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationState {
    /// The operation this state is about, with its initiator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// `Running`, `Terminating`, `Failed`, `Error` or `Succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<OperationPhase>,
    /// A human-readable outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// When the operation started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// When it finished; absent while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// How many times it was retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_count: Option<i64>,
    /// What the sync did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_result: Option<SyncResult>,
}

/// `status.operationState.syncResult`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    /// The revision synced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Each resource's outcome.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceResult>,
}

/// One resource's sync outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    /// API group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `Synced`, `SyncFailed`, `Pruned` or `PruneSkipped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One `status.history[]` entry (`RevisionHistory`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionHistory {
    /// Auto-incremented identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The revision deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The revisions of a multi-source app.
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub revisions: Vec<String>,
    /// When the deployment finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_at: Option<Timestamp>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy_started_at: Option<Timestamp>,
    /// Who asked for it: written from Argo CD 2.11 on (absent: an entry of an older release, which
    /// recorded no initiator; `{}`: a release that records it, with nobody recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiated_by: Option<InitiatedBy>,
}

/// One `status.resources[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// API group (`argoproj.io` for a child app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (`Application` for a child app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The resource's sync status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SyncCode>,
    /// Its health, inline (Argo CD 2.x; absent in 3.x, and for child Applications, which have no
    /// health check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
}

/// One `status.conditions[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationCondition {
    /// `ComparisonError`, `SyncError`, `OrphanedResourceWarning`, ...
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Declares a status word of Argo CD: known values as variants, anything else kept verbatim.
macro_rules! status_word {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version of the harness does not know, kept as written.
            Other(String),
        }

        impl $name {
            /// The word as Argo CD writes it.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<String> for $name {
            fn from(word: String) -> Self {
                match word.as_str() {
                    $(stringify!($variant) => Self::$variant,)+
                    _ => Self::Other(word),
                }
            }
        }

        impl From<$name> for String {
            fn from(word: $name) -> Self {
                word.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_word! {
    /// `status.health.status` (gitops-engine `health.go`).
    HealthCode {
        /// Everything the app manages is healthy.
        Healthy,
        /// Suspended (a paused rollout, a suspended CronJob).
        Suspended,
        /// Still rolling out.
        Progressing,
        /// Resources that should exist do not.
        Missing,
        /// Something is broken.
        Degraded,
        /// Health could not be assessed.
        Unknown,
    }
}

status_word! {
    /// `status.sync.status`.
    SyncCode {
        /// The cluster matches git.
        Synced,
        /// It does not.
        OutOfSync,
        /// Comparison failed.
        Unknown,
    }
}

status_word! {
    /// `status.operationState.phase` (gitops-engine `sync/common/types.go`).
    OperationPhase {
        /// The operation is running.
        Running,
        /// It is being terminated.
        Terminating,
        /// It failed.
        Failed,
        /// It could not run.
        Error,
        /// It completed.
        Succeeded,
    }
}

impl Application {
    /// The app's name (empty if the object has none, which the API server never serves).
    #[must_use]
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// The sync wave, as Argo CD reads it (gitops-engine `syncwaves.Wave`): the annotation
    /// parsed as an integer, and 0 when it is missing or not a number.
    #[must_use]
    pub fn sync_wave(&self) -> i32 {
        self.metadata.annotations.as_ref().and_then(|a| a.get(SYNC_WAVE_ANNOTATION)).and_then(|wave| wave.trim().parse().ok()).unwrap_or(0)
    }

    /// The sync wave as written: `None` when the annotation is missing (Argo CD then syncs the app
    /// in wave 0, but a missing wave says nothing about the app being a system app).
    #[must_use]
    pub fn written_sync_wave(&self) -> Option<i32> {
        self.metadata.annotations.as_ref()?.get(SYNC_WAVE_ANNOTATION).map(|wave| wave.trim().parse().unwrap_or(0))
    }

    /// The repository folders the app comes from: each source's `path`, and the value files a
    /// Helm source reads from another source of this app (`$values/apps/00-infra/traefik/...`,
    /// without the `$values/`). A pure Helm chart has none.
    #[must_use]
    pub fn source_paths(&self) -> Vec<&str> {
        let sources = self.spec.source.iter().chain(&self.spec.sources);
        let refs: Vec<&str> = sources.clone().filter_map(|s| s.reference.as_deref()).collect();
        let mut paths: Vec<&str> = sources.clone().filter_map(|s| s.path.as_deref()).collect();
        for file in sources.flat_map(|s| s.helm.iter().flat_map(|h| &h.value_files)) {
            let in_ref = file.strip_prefix('$').and_then(|rest| rest.split_once('/')).filter(|(r, _)| refs.contains(r)).map(|(_, path)| path);
            paths.extend(in_ref);
        }
        paths
    }

    /// The labels (empty when there are none).
    #[must_use]
    pub fn labels(&self) -> Cow<'_, BTreeMap<String, String>> {
        self.metadata.labels.as_ref().map_or_else(|| Cow::Owned(BTreeMap::new()), Cow::Borrowed)
    }

    /// The child Applications this app manages, as listed in `status.resources`, with their
    /// namespace when written.
    pub fn child_apps(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.status.iter().flat_map(|s| &s.resources).filter_map(|r| {
            let is_app = r.kind.as_deref() == Some("Application") && r.group.as_deref() == Some("argoproj.io");
            is_app.then_some(())?;
            Some((r.name.as_deref()?, r.namespace.as_deref()))
        })
    }

    /// `status.health.status`, if reported.
    #[must_use]
    pub fn health(&self) -> Option<&HealthCode> {
        self.status.as_ref()?.health.as_ref()?.status.as_ref()
    }

    /// Why the app is not Healthy, from what Argo CD recorded in it (see [`HealthReason`]);
    /// `None` when it is Healthy, Missing or reports no health yet.
    #[must_use]
    pub fn health_reason(&self) -> Option<HealthReason> {
        let status = self.status.as_ref()?;
        let health = status.health.as_ref()?;
        if matches!(health.status, None | Some(HealthCode::Healthy | HealthCode::Missing)) {
            return None;
        }
        if let Some(message) = health.message.as_deref().filter(|m| !m.is_empty()) {
            return Some(HealthReason { text: message.to_owned(), evidence: HealthEvidence::AppMessage });
        }
        let unhealthy: Vec<String> = status
            .resources
            .iter()
            .filter_map(|r| {
                let health = r.health.as_ref()?;
                let code = health.status.as_ref().filter(|c| !matches!(c, HealthCode::Healthy))?;
                let name = format!("{} {}", r.kind.as_deref().unwrap_or("resource"), r.name.as_deref().unwrap_or_default());
                Some(match health.message.as_deref().filter(|m| !m.is_empty()) {
                    Some(message) => format!("{name} is {code}: {message}"),
                    None => format!("{name} is {code}"),
                })
            })
            .collect();
        if !unhealthy.is_empty() {
            return Some(HealthReason { text: unhealthy.join("; "), evidence: HealthEvidence::InlineResources });
        }
        let evidence =
            if status.resource_health_source.as_deref() == Some("appTree") { HealthEvidence::ResourceTree } else { HealthEvidence::NotRecorded };
        Some(HealthReason { text: String::new(), evidence })
    }

    /// `status.sync.status`, if reported.
    #[must_use]
    pub fn sync(&self) -> Option<&SyncCode> {
        self.status.as_ref()?.sync.as_ref()?.status.as_ref()
    }

    /// `status.operationState`, if any operation ever ran.
    #[must_use]
    pub fn operation_state(&self) -> Option<&OperationState> {
        self.status.as_ref()?.operation_state.as_ref()
    }
}

/// Why an app is not Healthy, with where Argo CD recorded it: releases differ, so a report says
/// which evidence it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReason {
    /// The reason as recorded; empty when the Application records none.
    pub text: String,
    /// Where it comes from.
    pub evidence: HealthEvidence,
}

/// Where an app's health reason is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthEvidence {
    /// `status.health.message`: written by no released Argo CD, read when a tool sets it.
    AppMessage,
    /// `status.resources[].health`: the unhealthy resources, inline (Argo CD 2.x).
    InlineResources,
    /// Not in the Application: `resourceHealthSource: appTree` (Argo CD 3.x) keeps resource
    /// health in the resource tree (`argocd app get`, the API's `resource-tree`).
    ResourceTree,
    /// Not in the Application, and no resource health source said where.
    NotRecorded,
}

impl fmt::Display for HealthReason {
    /// `Deployment traefik is Degraded: ... (from status.resources[].health)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.evidence {
            HealthEvidence::AppMessage => write!(f, "{} (from status.health.message)", self.text),
            HealthEvidence::InlineResources => write!(f, "{} (from status.resources[].health)", self.text),
            HealthEvidence::ResourceTree => {
                f.write_str("no reason in the Application (resourceHealthSource: appTree: Argo CD 3 keeps resource health in its resource tree)")
            }
            HealthEvidence::NotRecorded => f.write_str("no reason recorded in the Application"),
        }
    }
}

impl OperationState {
    /// Who asked for this operation, if recorded.
    #[must_use]
    pub fn initiated_by(&self) -> Option<&InitiatedBy> {
        self.operation.as_ref()?.initiated_by.as_ref()
    }
}

impl InitiatedBy {
    /// True only when Argo CD's automated sync asked.
    #[must_use]
    pub fn is_automated(&self) -> bool {
        self.automated == Some(true)
    }
}

impl Resource for Application {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind((): &()) -> Cow<'_, str> {
        "Application".into()
    }

    fn group((): &()) -> Cow<'_, str> {
        "argoproj.io".into()
    }

    fn version((): &()) -> Cow<'_, str> {
        "v1alpha1".into()
    }

    fn plural((): &()) -> Cow<'_, str> {
        "applications".into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Reads `null` as the type's default: Go writes nil slices and structs as `null` at times.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::fixtures::fixture;

    #[test]
    fn a_converged_app_reads_every_field_the_harness_judges() {
        let app = fixture("converged.yaml");
        assert_eq!(app.name(), "traefik");
        assert_eq!(app.sync_wave(), 2);
        assert_eq!(app.health(), Some(&HealthCode::Healthy));
        assert_eq!(app.sync(), Some(&SyncCode::Synced));
        let op = app.operation_state().unwrap();
        assert_eq!(op.phase, Some(OperationPhase::Succeeded));
        assert!(op.initiated_by().unwrap().is_automated());
        assert_eq!(op.finished_at, Some("2026-11-26T10:02:10Z".parse().unwrap()));
        let status = app.status.as_ref().unwrap();
        assert_eq!(status.reconciled_at, Some("2026-11-26T10:02:13Z".parse().unwrap()));
        assert_eq!(status.history.len(), 1);
        assert_eq!(status.history[0].id, Some(0));
        assert!(app.spec.sync_policy.unwrap().automated.unwrap().self_heal.unwrap());
    }

    #[test]
    fn a_freshly_created_app_without_status_still_parses() {
        let app: Application = serde_json::from_str(r#"{"metadata":{"name":"keda"},"spec":null}"#).unwrap();
        assert_eq!(app.name(), "keda");
        assert_eq!(app.health(), None);
        assert_eq!(app.sync_wave(), 0);
    }

    #[test]
    fn nulls_unknown_fields_and_unknown_status_words_are_tolerated() {
        let app: Application = serde_json::from_str(
            r#"{"metadata":{"name":"x"},"futureField":{"a":1},
                "status":{"health":{"status":"Exploding"},"history":null,"resources":null,
                          "sync":{"status":"Synced","revisions":null},"sourceType":"Kustomize"}}"#,
        )
        .unwrap();
        assert_eq!(app.health(), Some(&HealthCode::Other("Exploding".into())));
        assert_eq!(app.health().unwrap().to_string(), "Exploding");
    }

    #[test]
    fn a_sync_wave_that_is_not_a_number_counts_as_wave_zero_like_argocd() {
        let mut app = Application::default();
        app.metadata.annotations = Some([(SYNC_WAVE_ANNOTATION.to_owned(), "soon".to_owned())].into());
        assert_eq!(app.sync_wave(), 0);
        app.metadata.annotations = Some([(SYNC_WAVE_ANNOTATION.to_owned(), "-5".to_owned())].into());
        assert_eq!(app.sync_wave(), -5);
    }

    #[test]
    fn the_root_app_lists_its_children_from_status_resources() {
        let root = fixture("root.yaml");
        let children: Vec<_> = root.child_apps().collect();
        assert_eq!(children, [("cert-manager", Some("argocd")), ("traefik", Some("argocd"))]);
    }

    #[test]
    fn a_degraded_app_says_why_from_its_inline_resource_health_on_2_10_and_where_to_look_on_3() {
        let v2 = fixture("v2.10/05-degraded.yaml");
        let reason = v2.health_reason().unwrap();
        assert_eq!(reason.evidence, HealthEvidence::InlineResources);
        assert_eq!(
            reason.to_string(),
            "Deployment vaultwarden is Degraded: Deployment \"vaultwarden\" exceeded its progress deadline (from status.resources[].health)"
        );
        let v3 = fixture("v3/05-degraded.yaml");
        assert!(v3.status.as_ref().unwrap().health.as_ref().unwrap().message.is_none(), "v3 writes no health message");
        assert_eq!(v3.health_reason().unwrap().evidence, HealthEvidence::ResourceTree);
        assert_eq!(fixture("v3/04-healthy.yaml").health_reason(), None);
    }

    #[test]
    fn history_entries_of_2_10_have_no_initiator_and_those_of_3_have_one() {
        let v2 = fixture("v2.10/04-healthy.yaml");
        assert_eq!(v2.status.as_ref().unwrap().history[0].initiated_by, None);
        let v3 = fixture("v3/04-healthy.yaml");
        assert!(v3.status.as_ref().unwrap().history[0].initiated_by.as_ref().unwrap().is_automated());
        assert_eq!(v3.status.as_ref().unwrap().resource_health_source.as_deref(), Some("appTree"));
    }

    #[test]
    fn applications_are_namespaced_argoproj_v1alpha1() {
        assert_eq!(Application::api_version(&()), "argoproj.io/v1alpha1");
        assert_eq!(Application::url_path(&(), Some("argocd")), "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications");
    }
}
