//! Simulated Argo CD: installs itself once the cluster has a Ready node, applies the root
//! app-of-apps, and bootstraps the tree wave by wave, writing each Application as the released
//! controller writes it ([`application`], in the shape of `--argocd-version`).
//!
//! The root's sync applies the child Applications one sync wave at a time, waiting Argo CD's
//! wave delay between waves (children have no health check, so it does not wait for them); each
//! child then syncs by itself through its automated policy:
//!
//! 1. applied by the root's sync, no status;
//! 2. refreshed: `sync` OutOfSync, `health` Missing, `reconciledAt`;
//! 3. auto-sync requested: top-level `operation` with `initiatedBy.automated: true`;
//! 4. taken by the controller: `operationState` Running (the `operation` stays);
//! 5. synced: `operationState` Succeeded with `finishedAt`, `operation` cleared, `sync` Synced,
//!    a `history` entry, `health` Progressing;
//! 6. reconciled again: `reconciledAt` at or after `finishedAt`;
//! 7. healthy: `health` Healthy.
//!
//! The root's own health never reflects its children: v3 reports it Missing until its first
//! child exists, v2.10 Healthy from the start.
//!
//! A sync that fails is retried as Argo CD retries it (`controller/appcontroller.go`
//! `processRequestedAppOperation`): phase Running with `finishedAt` set and `<message>. Retrying
//! attempt #n at 3:04PM.` while a retry waits, the `operation` kept; after the last one, phase
//! Failed with `<message> (retried n times).` and the `operation` cleared; at the next refresh a
//! `SyncError` condition `Failed sync attempt to <sha>: <message>`.
//!
//! The built-in tree takes about 5 seconds at time scale 1.0. Faults: `app-degraded` (Degraded
//! after its sync, for good), `app-stuck` (its operation stays Running), `manual-sync` (synced by
//! `admin`, not automatically), `sync-fail` (every attempt fails; retried, then given up),
//! `slow-bootstrap` (the waves take that much longer in total).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::csi::Storage;
use crate::spec::{AppSpec, ArgoCdVersion, LabSpec};
use crate::store::{ResourceId, Store};
use crate::talos::kube::{KubeWriter, PodSpec, fnv1a, name_suffix};
use crate::talos::logfmt::rfc3339_seconds;

pub mod application;
mod tree;

use application::{InitiatedBy, Managed, NAMESPACE, ROOT_APP, ResourceHealth, Succeeded};
pub use tree::{SYSTEM_MAX_WAVE, TIER_LABEL, default_apps, generated_apps};

/// Simulated delays at time scale 1.0, in milliseconds.
mod delay {
    /// Helm installs Argo CD once a node is Ready.
    pub const INSTALL: u64 = 300;
    /// A new Application is compared with Git.
    pub const REFRESH: u64 = 40;
    /// The automated policy requests a sync after the refresh.
    pub const AUTO_SYNC: u64 = 30;
    /// The controller takes a requested operation.
    pub const TAKE_OPERATION: u64 = 30;
    /// Argo CD waits 2 s between sync waves (`ARGOCD_SYNC_WAVE_DELAY`), scaled down like the rest.
    pub const WAVE: u64 = 250;
    /// A child's sync, before jitter (0 to 150 ms more).
    pub const SYNC: u64 = 150;
    /// The reconcile that follows a sync.
    pub const RECONCILE: u64 = 40;
    /// Workloads becoming ready after the sync, before jitter (0 to 250 ms more).
    pub const HEALTHY: u64 = 150;
    /// The first retry's backoff (Vixens' 5 s), scaled down; it doubles on each retry.
    pub const RETRY: u64 = 50;
}

/// What a sync of the `sync-fail` fault fails with: a webhook its objects need refuses connections.
const SYNC_FAILURE: &str = "one or more objects failed to apply, reason: Internal error occurred: failed calling webhook \"webhook.cert-manager.io\": \
failed to call webhook: Post \"https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=30s\": dial tcp 10.96.140.17:443: connect: connection refused";

/// Starts the Argo CD bootstrap of `spec`'s app tree in `store`, with storage controllers of its
/// own (no iSCSI sessions file). Must be called inside a tokio runtime.
pub fn start(spec: &LabSpec, store: Store) {
    let storage = Storage::start(spec, store.clone(), None);
    start_with(spec, store, storage);
}

/// Starts the Argo CD bootstrap of `spec`'s app tree in `store`; apps' storage goes to `storage`.
/// Must be called inside a tokio runtime.
pub fn start_with(spec: &LabSpec, store: Store, storage: Arc<Storage>) {
    let controller = Arc::new(Controller {
        spec: spec.clone(),
        version: spec.argocd_version,
        kube: KubeWriter::new(store.clone()),
        store,
        storage,
        revision: revision(&spec.name),
        started: Instant::now(),
    });
    tokio::spawn(async move { controller.bootstrap().await });
}

/// The Git revision the lab's apps are at: fixed per lab name, like a pinned commit.
fn revision(lab: &str) -> String {
    Sha256::digest(format!("vixens/{lab}").as_bytes()).iter().take(20).map(|b| format!("{b:02x}")).collect()
}

struct Controller {
    spec: LabSpec,
    version: ArgoCdVersion,
    store: Store,
    kube: KubeWriter,
    storage: Arc<Storage>,
    revision: String,
    started: Instant,
}

fn applications() -> ResourceId {
    ResourceId::new("argoproj.io", "applications")
}

fn now() -> String {
    rfc3339_seconds(Timestamp::now())
}

impl Controller {
    async fn sleep(&self, ms: u64) {
        tokio::time::sleep(self.spec.scaled(Duration::from_millis(ms))).await;
    }

    fn patch(&self, name: &str, patch: &Value) {
        if let Err(e) = self.store.merge_patch(&applications(), Some(NAMESPACE), name, patch) {
            tracing::warn!(error = %e, app = name, "the simulated Argo CD could not update an Application");
        }
    }

    fn create(&self, object: Value) {
        if let Err(e) = self.store.upsert(&applications(), Some(NAMESPACE), object) {
            tracing::warn!(error = %e, "the simulated Argo CD could not create an Application");
        }
    }

    fn has(&self, names: &[String], app: &str) -> bool {
        names.iter().any(|n| n == app)
    }

    async fn bootstrap(self: Arc<Self>) {
        let Some(node) = self.first_ready_node().await else { return };
        self.kube.ensure_namespace(NAMESPACE);
        self.sleep(delay::INSTALL).await;
        self.install_pods(&node);
        self.sync_root().await;
        tracing::debug!(elapsed = ?self.started.elapsed(), "the root app has applied every child");
    }

    /// Argo CD's pods need a node: wait for the first Ready one.
    async fn first_ready_node(&self) -> Option<crate::spec::NodeSpec> {
        let nodes = ResourceId::new("", "nodes");
        loop {
            let ready = self.store.list(&nodes, None).0.into_iter().find(|n| {
                n.pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
            });
            if let Some(name) = ready.as_ref().and_then(|n| n.pointer("/metadata/name")).and_then(Value::as_str) {
                return self.spec.node(name).cloned();
            }
            if self.spec.nodes.is_empty() {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn install_pods(&self, node: &crate::spec::NodeSpec) {
        let image = self.version.image();
        let deployments = [
            "argocd-applicationset-controller",
            "argocd-dex-server",
            "argocd-notifications-controller",
            "argocd-redis",
            "argocd-repo-server",
            "argocd-server",
        ];
        let mut pods: Vec<(String, &str, (&str, String))> = vec![(
            "argocd-application-controller-0".into(),
            "argocd-application-controller",
            ("StatefulSet", "argocd-application-controller".into()),
        )];
        for deployment in deployments {
            let rs = format!("{deployment}-{}", name_suffix(deployment, 10));
            pods.push((format!("{rs}-{}", name_suffix(&rs, 5)), deployment, ("ReplicaSet", rs)));
        }
        for (name, component, (owner_kind, owner)) in &pods {
            self.kube.run_pod(&PodSpec {
                namespace: NAMESPACE,
                name: name.clone(),
                node,
                labels: json!({"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "argocd"}),
                containers: vec![(component, image.into())],
                owner: (owner_kind, owner),
                ready: true,
            });
        }
    }

    /// The root app: created by terraform, synced automatically, applying the children wave by
    /// wave.
    async fn sync_root(self: &Arc<Self>) {
        let root = application::root(self.spec.root_app.as_ref(), &self.spec.name);
        self.create(root.clone());
        let waves: BTreeMap<i32, Vec<&AppSpec>> = self.spec.apps.iter().fold(BTreeMap::new(), |mut waves, app| {
            waves.entry(app.sync_wave).or_insert_with(Vec::new).push(app);
            waves
        });
        let mut children: Vec<(&AppSpec, Managed)> = self.spec.apps.iter().map(|a| (a, Managed::application(&a.name, a.sync_wave))).collect();
        children.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        let version = self.version;
        let resources = |applied: &dyn Fn(&AppSpec) -> bool| -> Vec<Value> {
            children
                .iter()
                .map(|(app, child)| {
                    let exists = applied(app);
                    // v2.x shows a child not created yet as Missing; an existing one has no health.
                    child.status_entry(exists, (!exists).then_some(ResourceHealth::Missing), version)
                })
                .collect()
        };

        self.sleep(delay::REFRESH).await;
        let mut refreshed = application::refreshed(&root, &self.revision, resources(&|_| false), &now(), version);
        if version == ArgoCdVersion::V2_10 {
            // Missing children have no health check, so v2.x counts nothing against the root.
            refreshed["status"]["health"] = application::health("Healthy", &now(), version);
        }
        self.patch(ROOT_APP, &refreshed);
        self.sleep(delay::AUTO_SYNC).await;
        let operation = application::operation(&root, &self.revision, &InitiatedBy::Automated);
        self.patch(ROOT_APP, &json!({"operation": operation}));
        self.sleep(delay::TAKE_OPERATION).await;
        let started_at = now();
        self.patch(ROOT_APP, &application::operation_running(&operation, &started_at));

        let extra = self.spec.faults.slow_bootstrap.map_or(Duration::ZERO, |d| d / u32::try_from(waves.len().max(1)).unwrap_or(1));
        let wave_list: Vec<(&i32, &Vec<&AppSpec>)> = waves.iter().collect();
        for (i, (wave, apps)) in wave_list.iter().enumerate() {
            if i > 0 {
                self.sleep(delay::WAVE).await;
                tokio::time::sleep(extra).await;
            }
            tracing::debug!(wave, apps = apps.len(), "applying a sync wave");
            for app in apps.iter() {
                self.create(application::child(app, version));
                let controller = Arc::clone(self);
                let app = (*app).clone();
                tokio::spawn(async move { controller.sync_child(app).await });
            }
            let applied = |app: &AppSpec| app.sync_wave <= **wave;
            let mut patch = json!({"status": {"resources": resources(&applied)}});
            if let Some((_, next)) = wave_list.get(i + 1) {
                let waiting = next.first().map_or(String::new(), |a| a.name.clone());
                let more = self.spec.apps.iter().filter(|a| !applied(a)).count().saturating_sub(1);
                patch["status"]["operationState"]["message"] =
                    json!(format!("waiting for healthy state of argoproj.io/Application/{waiting} and {more} more resources"));
            }
            if i == 0 && version == ArgoCdVersion::V3 {
                patch["status"]["health"] = application::health("Healthy", &now(), version);
            }
            self.patch(ROOT_APP, &patch);
        }

        let finished_at = now();
        let history = [application::history_entry(0, &root, &self.revision, &started_at, &finished_at, &InitiatedBy::Automated, version)];
        let managed: Vec<Managed> = children.iter().map(|(_, m)| m.clone()).collect();
        let healthy = |_: &Managed| ResourceHealth::Healthy;
        let mut patch = Succeeded {
            application: &root,
            operation: &operation,
            revision: &self.revision,
            started_at: &started_at,
            finished_at: &finished_at,
            managed: &managed,
            health: &healthy,
            history: &history,
        }
        .patch(version);
        // Children have no health check: the root's resources carry none, whatever the version.
        patch["status"]["resources"] = json!(managed.iter().map(|m| m.status_entry(true, None, version)).collect::<Vec<_>>());
        self.patch(ROOT_APP, &patch);
        self.sleep(delay::RECONCILE).await;
        self.patch(ROOT_APP, &json!({"status": {"reconciledAt": now()}}));
    }

    /// One child app, from its creation by the root to Healthy (or to the fault it has).
    async fn sync_child(&self, app: AppSpec) {
        let faults = &self.spec.faults;
        let version = self.version;
        let name = app.name.as_str();
        let manifest = application::child(&app, version);
        let managed = application::managed_resources(&app);
        let jitter = fnv1a(name);

        self.sleep(delay::REFRESH).await;
        let out_of_sync: Vec<Value> = managed.iter().map(|m| m.status_entry(false, Some(ResourceHealth::Missing), version)).collect();
        self.patch(name, &application::refreshed(&manifest, &self.revision, out_of_sync, &now(), version));

        self.sleep(delay::AUTO_SYNC).await;
        let initiated_by = if self.has(&faults.manual_sync, name) { InitiatedBy::User("admin".into()) } else { InitiatedBy::Automated };
        let operation = application::operation(&manifest, &self.revision, &initiated_by);
        self.patch(name, &json!({"operation": operation}));

        self.sleep(delay::TAKE_OPERATION).await;
        let started_at = now();
        self.patch(name, &application::operation_running(&operation, &started_at));
        self.kube.ensure_namespace(&app.destination_namespace);
        self.storage.apply(&app.objects, &app.effective_claims());
        if self.has(&faults.sync_fail, name) {
            self.fail_with_retries(name, &operation, &started_at).await;
            return;
        }
        if self.has(&faults.app_stuck, name) {
            let resources: Vec<Value> =
                managed.iter().map(|m| m.status_entry(false, Some(workload(m, ResourceHealth::Progressing)), version)).collect();
            let patch = json!({"status": {
                "operationState": {"message": format!("waiting for healthy state of apps/Deployment/{name}")},
                "health": application::health("Progressing", &now(), version),
                "resources": resources,
            }});
            self.patch(name, &patch);
            return;
        }

        self.sleep(delay::SYNC + jitter % 150).await;
        let finished_at = now();
        let history = [application::history_entry(0, &manifest, &self.revision, &started_at, &finished_at, &initiated_by, version)];
        let progressing = |m: &Managed| workload(m, ResourceHealth::Progressing);
        let mut patch = Succeeded {
            application: &manifest,
            operation: &operation,
            revision: &self.revision,
            started_at: &started_at,
            finished_at: &finished_at,
            managed: &managed,
            health: &progressing,
            history: &history,
        }
        .patch(version);
        patch["status"]["health"] = application::health("Progressing", &finished_at, version);
        self.patch(name, &patch);

        self.sleep(delay::RECONCILE).await;
        self.patch(name, &json!({"status": {"reconciledAt": now()}}));

        self.sleep(delay::HEALTHY + (jitter >> 8) % 250).await;
        let (code, health) =
            if self.has(&faults.app_degraded, name) { ("Degraded", ResourceHealth::Degraded) } else { ("Healthy", ResourceHealth::Healthy) };
        let patch = json!({"status": {
            "health": application::health(code, &now(), version),
            "resources": managed.iter().map(|m| m.status_entry(true, Some(workload(m, health)), version)).collect::<Vec<_>>(),
        }});
        self.patch(name, &patch);
    }
}

impl Controller {
    /// Every attempt of `name`'s sync fails: retried with backoff up to the operation's limit,
    /// then given up, then reported as a SyncError at the next refresh.
    async fn fail_with_retries(&self, name: &str, operation: &Value, started_at: &str) {
        let limit = operation.pointer("/retry/limit").and_then(Value::as_u64).unwrap_or(5);
        let failed_result = json!({"revision": self.revision, "resources": [{
            "group": "cert-manager.io", "version": "v1", "kind": "ClusterIssuer", "name": "letsencrypt",
            "status": "SyncFailed", "message": SYNC_FAILURE, "hookPhase": "Failed", "syncPhase": "Sync",
        }]});
        for attempt in 0..=limit {
            self.sleep(delay::SYNC).await;
            let finished = Timestamp::now();
            if attempt == limit {
                let message = format!("{SYNC_FAILURE} (retried {limit} times).");
                let patch = json!({"operation": null, "status": {"operationState": {
                    "phase": "Failed", "message": message, "finishedAt": rfc3339_seconds(finished), "retryCount": limit, "syncResult": failed_result,
                }}});
                self.patch(name, &patch);
                break;
            }
            // What Argo CD shows: 5 s doubling (Vixens' backoff), in time.Kitchen on the controller's
            // clock (UTC); the lab waits the same, scaled down.
            let retry_at = finished + jiff::SignedDuration::from_secs(5 << attempt);
            let kitchen = retry_at.strftime("%-I:%M%p").to_string();
            let message = format!("{SYNC_FAILURE}. Retrying attempt #{} at {kitchen}.", attempt + 1);
            let patch = json!({"status": {"operationState": {
                "operation": operation, "phase": "Running", "message": message, "startedAt": started_at,
                "finishedAt": rfc3339_seconds(finished), "retryCount": attempt + 1, "syncResult": failed_result,
            }}});
            self.patch(name, &patch);
            self.sleep(delay::RETRY << attempt).await;
            // The retry starts: finishedAt cleared, the result dropped, startedAt kept.
            self.patch(name, &json!({"status": {"operationState": {"finishedAt": null, "syncResult": null}}}));
        }
        self.sleep(delay::RECONCILE).await;
        let message = format!("Failed sync attempt to {}: {SYNC_FAILURE} (retried {limit} times).", self.revision);
        let condition = json!([{"type": "SyncError", "message": message, "lastTransitionTime": now()}]);
        self.patch(name, &json!({"status": {"conditions": condition, "reconciledAt": now()}}));
    }
}

/// The health of `resource` while the app's workloads are in `health`: its Deployments are,
/// the rest (Services, claims, ConfigMaps) is Healthy once applied.
fn workload(resource: &Managed, health: ResourceHealth) -> ResourceHealth {
    if resource.kind == "Deployment" { health } else { ResourceHealth::Healthy }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_revision_is_a_fixed_git_sha_per_lab() {
        // Pinned: the evidence of every cycle of a lab records this revision, run after run and
        // build after build (the first 20 bytes of sha256("vixens/lab"), as a git SHA-1 is 20).
        assert_eq!(revision("lab"), "797334d9cbe7c99f6c3a54d91e87955f5f56d6f7");
        assert!(revision("lab-ha").chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(revision("lab"), revision("lab-ha"));
    }
}
