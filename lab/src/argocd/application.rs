//! The pieces of an `argoproj.io/v1alpha1` Application as a released Argo CD writes them: the
//! spec (from the GitOps repository, or built for the lab's own trees), the top-level
//! `operation`, and the status fields the controller writes (`sync`, `health`, `operationState`,
//! `history`, `resources`), in the shape of the release the lab simulates ([`ArgoCdVersion`]).
//!
//! From Argo CD's source (`controller/appcontroller.go`, `controller/health.go`,
//! `controller/state.go`, gitops-engine `pkg/sync/sync_context.go`):
//! - auto-sync sets `operation` `{initiatedBy: {automated: true}, retry, sync: {revision: <sha>,
//!   prune, syncOptions}}` (no `syncStrategy`); a user's sync sets `{initiatedBy: {username},
//!   retry: {}, sync: {revision: <targetRevision>, syncStrategy: {hook: {}}}}`;
//! - `operation` stays until the operation completes, and is cleared with its final state;
//! - the app-level health is never given a message; v3 adds `lastTransitionTime`, keeps no
//!   per-resource health (`resourceHealthSource: appTree`); v2.10 keeps it inline in
//!   `status.resources[].health`;
//! - a history entry is appended for each successful full sync, with `initiatedBy` from 2.11 on.

use serde_json::{Value, json};

use crate::spec::{AppSpec, ArgoCdVersion};

/// The Git repository the lab's built-in trees come from.
pub const REPO_URL: &str = "https://github.com/charchess/vixens.git";
/// The branch Argo CD tracks for the built-in trees.
pub const TARGET_REVISION: &str = "dev";
/// The root app-of-apps.
pub const ROOT_APP: &str = "vixens-app-of-apps";
/// Where the Applications live.
pub const NAMESPACE: &str = "argocd";
/// The annotation carrying an app's sync wave.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
/// The label v2.x puts on what an app deploys (label tracking, the default before 3.0).
const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The annotation v3 puts on what an app deploys (annotation tracking, the default since 3.0).
const TRACKING_ANNOTATION: &str = "argocd.argoproj.io/tracking-id";
/// The retry an automated operation gets when the app's spec sets none.
const DEFAULT_RETRY: &str = r#"{"limit": 5}"#;

/// Who started a sync (`operation.initiatedBy`): the automated policy, or a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitiatedBy {
    /// `{automated: true}`.
    Automated,
    /// `{username: ...}`, as `argocd app sync` or the UI write it.
    User(String),
}

impl InitiatedBy {
    fn to_json(&self) -> Value {
        match self {
            Self::Automated => json!({"automated": true}),
            Self::User(name) => json!({"username": name}),
        }
    }
}

/// A resource an app manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`""` for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its sync wave (the parent's `resources[].syncWave`, omitted when 0).
    pub sync_wave: i32,
}

/// A resource's health, as v2.x persists it inline (`status.resources[].health`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceHealth {
    /// Not created yet.
    Missing,
    /// A Deployment rolling out.
    Progressing,
    /// Ready.
    Healthy,
    /// A Deployment past its progress deadline.
    Degraded,
}

impl Managed {
    fn new(group: &str, version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self { group: group.into(), version: version.into(), kind: kind.into(), namespace: namespace.into(), name: name.into(), sync_wave: 0 }
    }

    /// A child Application of the root.
    #[must_use]
    pub fn application(name: &str, sync_wave: i32) -> Self {
        Self { sync_wave, ..Self::new("argoproj.io", "v1alpha1", "Application", NAMESPACE, name) }
    }

    /// The resource as an entry of `status.resources`: with its health inline in v2.10 (a child
    /// Application has none: Argo CD has no health check for it), never in v3.
    #[must_use]
    pub fn status_entry(&self, synced: bool, health: Option<ResourceHealth>, version: ArgoCdVersion) -> Value {
        let mut entry = json!({"version": self.version, "kind": self.kind, "name": self.name, "status": if synced { "Synced" } else { "OutOfSync" }});
        if !self.group.is_empty() {
            entry["group"] = json!(self.group);
        }
        if !self.namespace.is_empty() {
            entry["namespace"] = json!(self.namespace);
        }
        if self.sync_wave != 0 {
            entry["syncWave"] = json!(self.sync_wave);
        }
        if let (ArgoCdVersion::V2_10, Some(health)) = (version, health) {
            entry["health"] = self.health(health);
        }
        entry
    }

    /// gitops-engine's health of this resource in state `health`.
    fn health(&self, health: ResourceHealth) -> Value {
        let deployment = self.kind == "Deployment";
        match health {
            ResourceHealth::Missing => json!({"status": "Missing"}),
            ResourceHealth::Progressing if deployment => {
                json!({"status": "Progressing", "message": "Waiting for rollout to finish: 0 of 1 updated replicas are available..."})
            }
            ResourceHealth::Degraded if deployment => {
                json!({"status": "Degraded", "message": format!("Deployment \"{}\" exceeded its progress deadline", self.name)})
            }
            _ => json!({"status": "Healthy"}),
        }
    }

    /// The resource as an entry of `operationState.syncResult.resources`, created by the sync.
    fn sync_result_entry(&self) -> Value {
        let mut entry = json!({"version": self.version, "kind": self.kind, "name": self.name, "status": "Synced"});
        if !self.group.is_empty() {
            entry["group"] = json!(self.group);
        }
        if !self.namespace.is_empty() {
            entry["namespace"] = json!(self.namespace);
        }
        let kind = self.kind.to_lowercase();
        let shown = if self.group.is_empty() { kind } else { format!("{kind}.{}", self.group) };
        entry["message"] = json!(format!("{shown}/{} created", self.name));
        entry["hookPhase"] = json!("Running");
        entry["syncPhase"] = json!("Sync");
        entry
    }
}

/// What an app deploys: the objects its source renders to when the tree comes from a GitOps
/// repository; otherwise a workload and its plumbing, a claim per volume (a few system apps manage
/// cluster-wide kinds instead). Sorted by group, kind, namespace and name, as Argo CD sorts them.
#[must_use]
pub fn managed_resources(app: &AppSpec) -> Vec<Managed> {
    let ns = app.destination_namespace.as_str();
    let name = app.name.as_str();
    let mut resources: Vec<Managed> = if app.objects.is_empty() {
        match name {
            "priority-classes" => ["vixens-critical", "vixens-high", "vixens-low"]
                .iter()
                .map(|n| Managed::new("scheduling.k8s.io", "v1", "PriorityClass", "", n))
                .collect(),
            "shared-namespaces" => ["tools", "media", "home", "services"].iter().map(|n| Managed::new("", "v1", "Namespace", "", n)).collect(),
            _ => {
                let mut resources = vec![
                    Managed::new("", "v1", "ConfigMap", ns, &format!("{name}-config")),
                    Managed::new("", "v1", "Service", ns, name),
                    Managed::new("", "v1", "ServiceAccount", ns, name),
                    Managed::new("apps", "v1", "Deployment", ns, name),
                ];
                resources.extend(app.volumes.iter().map(|claim| Managed::new("", "v1", "PersistentVolumeClaim", ns, claim)));
                resources
            }
        }
    } else {
        app.objects.iter().filter_map(managed_object).collect()
    };
    resources.sort_by(|a, b| (&a.group, &a.kind, &a.namespace, &a.name).cmp(&(&b.group, &b.kind, &b.namespace, &b.name)));
    resources
}

fn managed_object(object: &Value) -> Option<Managed> {
    let api_version = object["apiVersion"].as_str()?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default();
    Some(Managed::new(group, version, object["kind"].as_str()?, text("/metadata/namespace"), text("/metadata/name")))
}

/// A child Application as the root app's sync applies it: its manifest from Git (or one built
/// for the lab's own trees), with the tracking mark of `version`. No status.
#[must_use]
pub fn child(app: &AppSpec, version: ArgoCdVersion) -> Value {
    let mut object = app.manifest.clone().unwrap_or_else(|| {
        let mut built = application(&app.name, &app.path, &app.destination_namespace, sync_policy(true));
        built["metadata"]["annotations"] = json!({SYNC_WAVE_ANNOTATION: app.sync_wave.to_string()});
        built
    });
    if !app.labels.is_empty() {
        for (k, v) in &app.labels {
            object["metadata"]["labels"][k] = json!(v);
        }
    }
    match version {
        ArgoCdVersion::V3 => {
            object["metadata"]["annotations"][TRACKING_ANNOTATION] = json!(format!("{ROOT_APP}:argoproj.io/Application:{NAMESPACE}/{}", app.name));
        }
        ArgoCdVersion::V2_10 => object["metadata"]["labels"][INSTANCE_LABEL] = json!(ROOT_APP),
    }
    object["metadata"]["namespace"] = json!(NAMESPACE);
    object
}

/// The root app-of-apps as terraform applies it: from Git when the tree comes from a repository,
/// else the lab's own (automated with prune and selfHeal, path `argocd/overlays/<lab>`).
#[must_use]
pub fn root(manifest: Option<&Value>, lab: &str) -> Value {
    manifest.cloned().unwrap_or_else(|| {
        let mut policy = sync_policy(false);
        policy["automated"]["selfHeal"] = json!(true);
        application(ROOT_APP, &format!("argocd/overlays/{lab}"), NAMESPACE, policy)
    })
}

fn application(name: &str, path: &str, namespace: &str, sync_policy: Value) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "default",
            "source": {"repoURL": REPO_URL, "path": path, "targetRevision": TARGET_REVISION},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": sync_policy,
        },
    })
}

/// The homelab's children policy: automated (prune, selfHeal mostly off in dev), namespaces
/// created on demand, retry 5 times backing off 5 s doubling up to 3 minutes.
fn sync_policy(create_namespace: bool) -> Value {
    let mut policy = json!({
        "automated": {"prune": true, "selfHeal": false},
        "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
    });
    if create_namespace {
        policy["syncOptions"] = json!(["CreateNamespace=true"]);
    }
    policy
}

/// The source fields of an Application (`source`, or `sources` of a multi-source app), as
/// `status.sync.comparedTo`, `syncResult` and `history` copy them.
fn sources(application: &Value) -> Value {
    let spec = &application["spec"];
    match spec.get("sources").filter(|s| s.is_array()) {
        Some(sources) => json!({"sources": sources}),
        None => json!({"source": spec["source"]}),
    }
}

/// The `operation` a sync of `application` at `revision` starts with: auto-sync's or a user's.
#[must_use]
pub fn operation(application: &Value, revision: &str, initiated_by: &InitiatedBy) -> Value {
    let policy = &application["spec"]["syncPolicy"];
    match initiated_by {
        InitiatedBy::Automated => {
            let mut sync = json!({"revision": revision});
            if let Some(prune) = policy.pointer("/automated/prune").and_then(Value::as_bool) {
                sync["prune"] = json!(prune);
            }
            if let Some(options) = policy.get("syncOptions").filter(|o| o.is_array()) {
                sync["syncOptions"] = options.clone();
            }
            let retry =
                policy.get("retry").filter(|r| r.is_object()).cloned().unwrap_or_else(|| serde_json::from_str(DEFAULT_RETRY).unwrap_or_default());
            json!({"initiatedBy": initiated_by.to_json(), "retry": retry, "sync": sync})
        }
        InitiatedBy::User(_) => {
            let target = application.pointer("/spec/source/targetRevision").and_then(Value::as_str).unwrap_or(TARGET_REVISION);
            json!({"initiatedBy": initiated_by.to_json(), "retry": {}, "sync": {"revision": target, "syncStrategy": {"hook": {}}}})
        }
    }
}

/// `status.health` with `code`, as `version` writes it: never a message.
#[must_use]
pub fn health(code: &str, now: &str, version: ArgoCdVersion) -> Value {
    match version {
        ArgoCdVersion::V3 => json!({"status": code, "lastTransitionTime": now}),
        ArgoCdVersion::V2_10 => json!({"status": code}),
    }
}

/// The status a first refresh writes: OutOfSync with Git, every resource Missing.
#[must_use]
pub fn refreshed(application: &Value, revision: &str, resources: Vec<Value>, now: &str, version: ArgoCdVersion) -> Value {
    let mut status = json!({
        "sync": {
            "status": "OutOfSync",
            "revision": revision,
            "comparedTo": sources(application),
        },
        "health": health("Missing", now, version),
        "reconciledAt": now,
        "resources": resources,
        "sourceType": if application.pointer("/spec/sources").is_some() || application.pointer("/spec/source/chart").is_some() { "Helm" } else { "Kustomize" },
        "summary": {},
        "controllerNamespace": NAMESPACE,
    });
    status["sync"]["comparedTo"]["destination"] = application["spec"]["destination"].clone();
    if version == ArgoCdVersion::V3 {
        status["resourceHealthSource"] = json!("appTree");
    }
    json!({"status": status})
}

/// The controller takes a pending operation: `operationState` Running, no message yet. The
/// top-level `operation` stays until the operation completes.
#[must_use]
pub fn operation_running(operation: &Value, started_at: &str) -> Value {
    json!({"status": {"operationState": {"operation": operation, "phase": "Running", "startedAt": started_at}}})
}

/// A finished sync, as the controller writes it on success.
pub struct Succeeded<'a> {
    /// The Application (its sources are copied into the result).
    pub application: &'a Value,
    /// The operation that ran.
    pub operation: &'a Value,
    /// The revision synced.
    pub revision: &'a str,
    /// When it started.
    pub started_at: &'a str,
    /// When it finished.
    pub finished_at: &'a str,
    /// What it applied.
    pub managed: &'a [Managed],
    /// The resources' health after the sync (v2.10 keeps it inline).
    pub health: &'a (dyn Fn(&Managed) -> ResourceHealth + Sync),
    /// The history, this sync's entry appended.
    pub history: &'a [Value],
}

impl Succeeded<'_> {
    /// The patch: `operationState` Succeeded with its result, `operation` cleared, `sync` Synced,
    /// the resources Synced, the history.
    #[must_use]
    pub fn patch(&self, version: ArgoCdVersion) -> Value {
        let mut sync_result = json!({
            "revision": self.revision,
            "resources": self.managed.iter().map(Managed::sync_result_entry).collect::<Vec<_>>(),
        });
        if let Some(map) = sync_result.as_object_mut()
            && let Some(sources) = sources(self.application).as_object()
        {
            map.extend(sources.clone());
        }
        let mut sync = json!({"status": "Synced", "revision": self.revision, "comparedTo": sources(self.application)});
        sync["comparedTo"]["destination"] = self.application["spec"]["destination"].clone();
        json!({
            "operation": null,
            "status": {
                "operationState": {
                    "operation": self.operation,
                    "phase": "Succeeded",
                    "message": "successfully synced (all tasks run)",
                    "startedAt": self.started_at,
                    "finishedAt": self.finished_at,
                    "syncResult": sync_result,
                },
                "sync": sync,
                "resources": self.managed.iter().map(|m| m.status_entry(true, Some((self.health)(m)), version)).collect::<Vec<_>>(),
                "history": self.history,
            },
        })
    }
}

/// One `status.history` entry (RevisionHistory): `initiatedBy` is written from 2.11 on.
#[must_use]
pub fn history_entry(
    id: i64,
    application: &Value,
    revision: &str,
    started_at: &str,
    finished_at: &str,
    initiated_by: &InitiatedBy,
    version: ArgoCdVersion,
) -> Value {
    let mut entry = json!({"id": id, "revision": revision, "deployedAt": finished_at, "deployStartedAt": started_at});
    if let (Some(map), Some(sources)) = (entry.as_object_mut(), sources(application).as_object()) {
        map.extend(sources.clone());
    }
    if version == ArgoCdVersion::V3 {
        entry["initiatedBy"] = initiated_by.to_json();
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vaultwarden() -> AppSpec {
        AppSpec {
            name: "vaultwarden".into(),
            sync_wave: 6,
            path: "apps/60-services/vaultwarden/overlays/dev".into(),
            destination_namespace: "services".into(),
            volumes: vec!["vaultwarden-data".into()],
            labels: std::collections::BTreeMap::new(),
            manifest: None,
            objects: Vec::new(),
            claims: Vec::new(),
        }
    }

    #[test]
    fn an_automated_operation_copies_the_policy_and_has_no_sync_strategy() {
        let app = child(&vaultwarden(), ArgoCdVersion::V3);
        let op = operation(&app, "8c1f0e4b", &InitiatedBy::Automated);
        assert_eq!(
            op,
            json!({"initiatedBy": {"automated": true},
                   "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
                   "sync": {"revision": "8c1f0e4b", "prune": true, "syncOptions": ["CreateNamespace=true"]}})
        );
        let manual = operation(&app, "8c1f0e4b", &InitiatedBy::User("admin".into()));
        assert_eq!(manual, json!({"initiatedBy": {"username": "admin"}, "retry": {}, "sync": {"revision": "dev", "syncStrategy": {"hook": {}}}}));
    }

    #[test]
    fn v3_tracks_children_by_annotation_and_v2_10_by_label() {
        let v3 = child(&vaultwarden(), ArgoCdVersion::V3);
        assert_eq!(v3["metadata"]["annotations"][TRACKING_ANNOTATION], "vixens-app-of-apps:argoproj.io/Application:argocd/vaultwarden");
        assert!(v3["metadata"]["labels"].is_null());
        let v2 = child(&vaultwarden(), ArgoCdVersion::V2_10);
        assert_eq!(v2["metadata"]["labels"][INSTANCE_LABEL], ROOT_APP);
        assert!(v2["metadata"]["annotations"][TRACKING_ANNOTATION].is_null());
    }

    #[test]
    fn health_never_has_a_message_and_only_v3_has_a_transition_time() {
        assert_eq!(
            health("Degraded", "2026-11-26T10:03:41Z", ArgoCdVersion::V3),
            json!({"status": "Degraded", "lastTransitionTime": "2026-11-26T10:03:41Z"})
        );
        assert_eq!(health("Degraded", "2026-11-26T10:03:41Z", ArgoCdVersion::V2_10), json!({"status": "Degraded"}));
    }

    #[test]
    fn v2_10_keeps_resource_health_inline_and_no_initiator_in_history() {
        let deployment = Managed::new("apps", "v1", "Deployment", "services", "vaultwarden");
        assert_eq!(
            deployment.status_entry(true, Some(ResourceHealth::Degraded), ArgoCdVersion::V2_10)["health"],
            json!({"status": "Degraded", "message": "Deployment \"vaultwarden\" exceeded its progress deadline"})
        );
        assert!(deployment.status_entry(true, Some(ResourceHealth::Degraded), ArgoCdVersion::V3).get("health").is_none());
        let app = child(&vaultwarden(), ArgoCdVersion::V2_10);
        let entry = history_entry(0, &app, "8c1f", "t0", "t1", &InitiatedBy::Automated, ArgoCdVersion::V2_10);
        assert!(entry.get("initiatedBy").is_none());
        assert_eq!(history_entry(0, &app, "8c1f", "t0", "t1", &InitiatedBy::Automated, ArgoCdVersion::V3)["initiatedBy"], json!({"automated": true}));
    }

    #[test]
    fn a_child_entry_of_the_root_carries_its_wave_unless_zero() {
        assert_eq!(Managed::application("traefik", 2).status_entry(false, None, ArgoCdVersion::V3)["syncWave"], 2);
        assert!(Managed::application("nfs-storage", 0).status_entry(false, None, ArgoCdVersion::V3).get("syncWave").is_none());
        assert_eq!(
            Managed::application("keda", 2).status_entry(false, Some(ResourceHealth::Missing), ArgoCdVersion::V2_10)["health"],
            json!({"status": "Missing"})
        );
    }
}
