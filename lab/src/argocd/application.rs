//! The pieces of an `argoproj.io/v1alpha1` Application, shaped as in Argo CD's `types.go`
//! (`reference/tool-formats.md` section 2): spec, the top-level `operation`, and the status
//! fields the controller writes (`sync`, `health`, `operationState`, `history`, `resources`).

use serde_json::{Value, json};

use crate::spec::AppSpec;

/// The Git repository every app of the lab comes from.
pub const REPO_URL: &str = "https://gitea.vixens.lab/vixens/vixens.git";
/// The branch Argo CD tracks.
pub const TARGET_REVISION: &str = "main";
/// The root app-of-apps.
pub const ROOT_APP: &str = "vixens-app-of-apps";
/// Where the Applications live.
pub const NAMESPACE: &str = "argocd";
/// The annotation carrying an app's sync wave.
pub const SYNC_WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

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
}

impl Managed {
    fn new(group: &str, version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self { group: group.into(), version: version.into(), kind: kind.into(), namespace: namespace.into(), name: name.into() }
    }

    /// The resource as an entry of `status.resources`.
    #[must_use]
    pub fn status_entry(&self, synced: bool) -> Value {
        let mut entry = json!({"version": self.version, "kind": self.kind, "name": self.name, "status": if synced { "Synced" } else { "OutOfSync" }});
        if !self.group.is_empty() {
            entry["group"] = json!(self.group);
        }
        if !self.namespace.is_empty() {
            entry["namespace"] = json!(self.namespace);
        }
        entry
    }

    /// The resource as an entry of `operationState.syncResult.resources`, created by the sync.
    fn sync_result_entry(&self) -> Value {
        let mut entry = self.status_entry(true);
        let kind = self.kind.to_lowercase();
        let shown = if self.group.is_empty() { kind } else { format!("{kind}.{}", self.group) };
        entry["message"] = json!(format!("{shown}/{} created", self.name));
        entry["hookPhase"] = json!("Running");
        entry["syncPhase"] = json!("Sync");
        entry
    }
}

/// What an app deploys: a workload and its plumbing, a claim per volume; a few system apps manage
/// cluster-wide kinds instead.
#[must_use]
pub fn managed_resources(app: &AppSpec) -> Vec<Managed> {
    let ns = app.destination_namespace.as_str();
    let name = app.name.as_str();
    match name {
        "priority-classes" => {
            ["vixens-critical", "vixens-high", "vixens-low"].iter().map(|n| Managed::new("scheduling.k8s.io", "v1", "PriorityClass", "", n)).collect()
        }
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
}

/// A child Application as the root app's sync creates it: metadata and spec, no status.
#[must_use]
pub fn child(app: &AppSpec) -> Value {
    let mut object = application(&app.name, &app.path, &app.destination_namespace, sync_policy(true));
    object["metadata"]["annotations"] = json!({SYNC_WAVE_ANNOTATION: app.sync_wave.to_string()});
    if !app.labels.is_empty() {
        object["metadata"]["labels"] = json!(app.labels);
    }
    object
}

/// The root app-of-apps, as terraform applies it: automated with prune and selfHeal.
#[must_use]
pub fn root() -> Value {
    let mut policy = sync_policy(false);
    policy["automated"]["selfHeal"] = json!(true);
    application(ROOT_APP, "argocd/overlays/dev", NAMESPACE, policy)
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
            "source": source(path),
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            "syncPolicy": sync_policy,
        },
    })
}

fn source(path: &str) -> Value {
    json!({"repoURL": REPO_URL, "path": path, "targetRevision": TARGET_REVISION})
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

/// The sync an app's `operation` asks for.
#[must_use]
pub fn operation(revision: &str, initiated_by: &InitiatedBy) -> Value {
    json!({
        "sync": {"revision": revision, "syncStrategy": {"hook": {}}},
        "initiatedBy": initiated_by.to_json(),
        "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}},
    })
}

/// `status` after a refresh that found the app out of sync with Git.
#[must_use]
pub fn refreshed(path: &str, namespace: &str, revision: &str, resources: Vec<Value>, now: &str) -> Value {
    json!({
        "status": {
            "sync": {
                "status": "OutOfSync",
                "revision": revision,
                "comparedTo": {"source": source(path), "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace}},
            },
            "health": {"status": "Missing", "lastTransitionTime": now},
            "reconciledAt": now,
            "resources": resources,
            "sourceType": "Kustomize",
            "summary": {},
            "controllerNamespace": NAMESPACE,
            "resourceHealthSource": "appTree",
        },
    })
}

/// The patch with which the controller takes a pending operation: `operation` cleared,
/// `operationState` Running.
#[must_use]
pub fn operation_running(operation: &Value, started_at: &str, message: &str) -> Value {
    json!({
        "operation": null,
        "status": {
            "operationState": {"operation": operation, "phase": "Running", "message": message, "startedAt": started_at},
        },
    })
}

/// `status.health`.
#[must_use]
pub fn health(status: &str, message: Option<&str>, now: &str) -> Value {
    let mut health = json!({"status": status, "lastTransitionTime": now});
    if let Some(message) = message {
        health["message"] = json!(message);
    }
    health
}

/// The patch of a finished sync: `operationState` Succeeded with its result, `sync` Synced, the
/// resources Synced, and the history with this sync appended.
#[must_use]
pub fn sync_succeeded(
    path: &str,
    operation: &Value,
    revision: &str,
    started_at: &str,
    finished_at: &str,
    managed: &[Managed],
    history: &[Value],
) -> Value {
    json!({
        "status": {
            "operationState": {
                "operation": operation,
                "phase": "Succeeded",
                "message": "successfully synced (all tasks run)",
                "startedAt": started_at,
                "finishedAt": finished_at,
                "syncResult": {
                    "revision": revision,
                    "source": source(path),
                    "resources": managed.iter().map(Managed::sync_result_entry).collect::<Vec<_>>(),
                },
            },
            "sync": {"status": "Synced", "revision": revision},
            "resources": managed.iter().map(|m| m.status_entry(true)).collect::<Vec<_>>(),
            "history": history,
        },
    })
}

/// One `status.history` entry (RevisionHistory).
#[must_use]
pub fn history_entry(id: i64, path: &str, revision: &str, started_at: &str, finished_at: &str, initiated_by: &InitiatedBy) -> Value {
    json!({
        "id": id,
        "revision": revision,
        "deployedAt": finished_at,
        "deployStartedAt": started_at,
        "source": source(path),
        "initiatedBy": initiated_by.to_json(),
    })
}
