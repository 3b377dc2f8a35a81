//! Simulated Argo CD: installs itself once the cluster has a Ready node, applies the root
//! app-of-apps, and bootstraps the tree wave by wave, writing each Application exactly as the
//! real controller reports it (`reference/tool-formats.md` section 2).
//!
//! The root's sync applies the child Applications one sync wave at a time, waiting Argo CD's
//! wave delay between waves; each child then syncs by itself through its automated policy:
//!
//! 1. created by the root's sync, no status;
//! 2. refreshed: `sync` OutOfSync, `health` Missing, `reconciledAt`;
//! 3. auto-sync requested: top-level `operation` with `initiatedBy.automated: true`;
//! 4. taken by the controller: `operation` cleared, `operationState` Running, `health` Progressing;
//! 5. synced: `operationState` Succeeded with `finishedAt`, `sync` Synced, a `history` entry;
//! 6. reconciled again: `reconciledAt` at or after `finishedAt`;
//! 7. healthy: `health` Healthy.
//!
//! Like upstream (no health check for `argoproj.io/Application` since 1.8), the root's own
//! health never reflects its children: it turns Healthy once every child object exists, while
//! the last children may still be Progressing.
//!
//! The default tree takes about 5 seconds at time scale 1.0. Faults: `app-degraded` (Degraded
//! after its sync, for good), `app-stuck` (its operation stays Running), `manual-sync` (synced by
//! `admin`, not automatically), `slow-bootstrap` (the waves take that much longer in total).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::nas::Nas;
use crate::spec::{AppSpec, LabSpec};
use crate::store::{ResourceId, Store};
use crate::talos::kube::{KubeWriter, PodSpec, fnv1a, name_suffix};
use crate::talos::logfmt::rfc3339_seconds;

pub mod application;
mod tree;

use application::{InitiatedBy, Managed, NAMESPACE, ROOT_APP};
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
}

/// Starts the Argo CD bootstrap of `spec`'s app tree in `store`. Must be called inside a tokio
/// runtime.
pub fn start(spec: &LabSpec, store: Store) {
    let controller = Arc::new(Controller {
        spec: spec.clone(),
        kube: KubeWriter::new(store.clone()),
        store,
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
    store: Store,
    kube: KubeWriter,
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
        let image = "quay.io/argoproj/argocd:v3.5.1";
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
        self.create(application::root());
        let waves: BTreeMap<i32, Vec<&AppSpec>> = self.spec.apps.iter().fold(BTreeMap::new(), |mut waves, app| {
            waves.entry(app.sync_wave).or_insert_with(Vec::new).push(app);
            waves
        });
        let children: Vec<Managed> = self.spec.apps.iter().map(|a| as_child_resource(&a.name)).collect();
        let mut applied = vec![false; children.len()];
        let resources = |applied: &[bool]| -> Vec<Value> { children.iter().zip(applied).map(|(c, a)| c.status_entry(*a)).collect() };

        self.sleep(delay::REFRESH).await;
        self.patch(ROOT_APP, &application::refreshed("argocd/overlays/dev", NAMESPACE, &self.revision, resources(&applied), &now()));
        self.sleep(delay::AUTO_SYNC).await;
        let operation = application::operation(&self.revision, &InitiatedBy::Automated);
        self.patch(ROOT_APP, &json!({"operation": operation}));
        self.sleep(delay::TAKE_OPERATION).await;
        let started_at = now();
        self.patch(ROOT_APP, &application::operation_running(&operation, &started_at, "one or more tasks are running"));

        let extra = self.spec.faults.slow_bootstrap.map_or(Duration::ZERO, |d| d / u32::try_from(waves.len().max(1)).unwrap_or(1));
        for (i, (wave, apps)) in waves.iter().enumerate() {
            if i > 0 {
                self.sleep(delay::WAVE).await;
                tokio::time::sleep(extra).await;
            }
            tracing::debug!(wave, apps = apps.len(), "applying a sync wave");
            for app in apps {
                self.create(application::child(app));
                let controller = Arc::clone(self);
                let app = (*app).clone();
                tokio::spawn(async move { controller.sync_child(app).await });
            }
            for (flag, spec) in applied.iter_mut().zip(&self.spec.apps) {
                *flag |= spec.sync_wave == *wave;
            }
            self.patch(ROOT_APP, &json!({"status": {"resources": resources(&applied)}}));
        }

        let finished_at = now();
        let history = [application::history_entry(0, "argocd/overlays/dev", &self.revision, &started_at, &finished_at, &InitiatedBy::Automated)];
        let mut patch =
            application::sync_succeeded("argocd/overlays/dev", &operation, &self.revision, &started_at, &finished_at, &children, &history);
        // Children have no health check upstream: once they all exist, the root is Healthy.
        patch["status"]["health"] = application::health("Healthy", None, &finished_at);
        self.patch(ROOT_APP, &patch);
        self.sleep(delay::RECONCILE).await;
        self.patch(ROOT_APP, &json!({"status": {"reconciledAt": now()}}));
    }

    /// One child app, from its creation by the root to Healthy (or to the fault it has).
    async fn sync_child(&self, app: AppSpec) {
        let faults = &self.spec.faults;
        let name = app.name.as_str();
        let managed = application::managed_resources(&app);
        let jitter = fnv1a(name);

        self.sleep(delay::REFRESH).await;
        let out_of_sync: Vec<Value> = managed.iter().map(|m| m.status_entry(false)).collect();
        self.patch(name, &application::refreshed(&app.path, &app.destination_namespace, &self.revision, out_of_sync, &now()));

        self.sleep(delay::AUTO_SYNC).await;
        let initiated_by = if self.has(&faults.manual_sync, name) { InitiatedBy::User("admin".into()) } else { InitiatedBy::Automated };
        let operation = application::operation(&self.revision, &initiated_by);
        self.patch(name, &json!({"operation": operation}));

        self.sleep(delay::TAKE_OPERATION).await;
        let started_at = now();
        let stuck = self.has(&faults.app_stuck, name);
        let message = if stuck { format!("waiting for healthy state of apps/Deployment/{name}") } else { "one or more tasks are running".into() };
        let mut patch = application::operation_running(&operation, &started_at, &message);
        patch["status"]["health"] = application::health("Progressing", None, &started_at);
        self.patch(name, &patch);
        self.kube.ensure_namespace(&app.destination_namespace);
        self.provision_volumes(&app);
        if stuck {
            return;
        }

        self.sleep(delay::SYNC + jitter % 150).await;
        let finished_at = now();
        let history = [application::history_entry(0, &app.path, &self.revision, &started_at, &finished_at, &initiated_by)];
        self.patch(name, &application::sync_succeeded(&app.path, &operation, &self.revision, &started_at, &finished_at, &managed, &history));

        self.sleep(delay::RECONCILE).await;
        self.patch(name, &json!({"status": {"reconciledAt": now()}}));

        self.sleep(delay::HEALTHY + (jitter >> 8) % 250).await;
        let health = if self.has(&faults.app_degraded, name) {
            application::health("Degraded", Some(&format!("Deployment \"{name}\" exceeded its progress deadline")), &now())
        } else {
            application::health("Healthy", None, &now())
        };
        self.patch(name, &json!({"status": {"health": health}}));
    }

    /// The Synology CSI driver provisions a LUN for each new claim (and keeps existing ones).
    fn provision_volumes(&self, app: &AppSpec) {
        let Some(nas) = Nas::of(&self.spec) else { return };
        for claim in &app.volumes {
            if let Err(e) = nas.provision_lun(claim) {
                tracing::warn!(error = %e, claim, "the simulated CSI driver could not provision a LUN");
            }
        }
    }
}

fn as_child_resource(name: &str) -> Managed {
    Managed { group: "argoproj.io".into(), version: "v1alpha1".into(), kind: "Application".into(), namespace: NAMESPACE.into(), name: name.into() }
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
