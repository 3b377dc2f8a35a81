//! The simulated Argo CD against the store directly: each Application goes through the states
//! real Argo CD reports, waves in order, one history entry per sync, a reconcile after the sync,
//! and the root app's health never standing for its children.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use vixens_lab::argocd;
use vixens_lab::faults::Faults;
use vixens_lab::spec::{ArgoCdVersion, LabSpec};
use vixens_lab::store::{Event, EventType, ResourceId, Store};
use vixens_lab::talos;

/// A dev-like lab: 3 control planes, the default tree, `faults`, at `time_scale`.
pub fn dev_lab(faults: &str, time_scale: f64) -> LabSpec {
    let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", 3, 0), argocd::default_apps());
    spec.time_scale = time_scale;
    spec.faults = Faults::parse(faults).expect("known faults");
    spec
}

fn applications() -> ResourceId {
    ResourceId::new("argoproj.io", "applications")
}

/// Boots `spec` in-process and records every Application change until `done` holds for the
/// latest state of every app (or fails after `timeout`).
pub async fn record(spec: &LabSpec, timeout: Duration, done: impl Fn(&BTreeMap<String, Value>) -> bool) -> (Store, Vec<Event>) {
    let store = Store::default();
    let mut watch = store.watch(&applications(), Some("argocd"), store.revision()).expect("a fresh store can be watched");
    let _cluster = talos::Cluster::boot(spec, store.clone());
    argocd::start(spec, store.clone());
    let mut events = Vec::new();
    let mut latest = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while !done(&latest) {
        let event = tokio::time::timeout_at(deadline, watch.live.recv())
            .await
            .unwrap_or_else(|_| panic!("not done within {timeout:?}; last states:\n{}", summary(&latest)))
            .expect("the watch keeps up");
        if !vixens_lab::store::matches(&event, &applications(), Some("argocd")) {
            continue;
        }
        latest.insert(name(&event.object).to_owned(), event.object.clone());
        events.push((*event).clone());
    }
    (store, events)
}

fn name(app: &Value) -> &str {
    app["metadata"]["name"].as_str().unwrap_or_default()
}

fn text<'a>(app: &'a Value, pointer: &str) -> &'a str {
    app.pointer(pointer).and_then(Value::as_str).unwrap_or("-")
}

fn summary(apps: &BTreeMap<String, Value>) -> String {
    apps.values().map(|a| format!("{}: {}", name(a), state(a))).collect::<Vec<_>>().join("\n")
}

/// What `argocd app get` would show: sync, health, a pending operation and the last operation.
fn state(app: &Value) -> String {
    if app.get("status").is_none() && app.get("operation").is_none() {
        return "created, no status".into();
    }
    let initiated = |pointer: &str| match app.pointer(pointer) {
        Some(by) if by.get("automated") == Some(&Value::Bool(true)) => "automated".to_owned(),
        Some(by) => format!("by {}", text(by, "/username")),
        None => "-".into(),
    };
    let pending =
        if app.get("operation").is_some() { format!("operation requested ({})", initiated("/operation/initiatedBy")) } else { "no operation".into() };
    let last = match app.pointer("/status/operationState/phase") {
        Some(phase) => format!("{} ({})", phase.as_str().unwrap_or("?"), initiated("/status/operationState/operation/initiatedBy")),
        None => "never synced".into(),
    };
    let history = app.pointer("/status/history").and_then(Value::as_array).map_or(0, Vec::len);
    format!("{} {} | {pending} | {last} | history {history}", text(app, "/status/sync/status"), text(app, "/status/health/status"))
}

fn every_child(spec: &LabSpec) -> impl Iterator<Item = &str> {
    spec.apps.iter().map(|a| a.name.as_str())
}

fn all_children(spec: &LabSpec, apps: &BTreeMap<String, Value>, health: &str) -> bool {
    every_child(spec).all(|n| {
        apps.get(n).is_some_and(|a| {
            text(a, "/status/health/status") == health && text(a, "/status/sync/status") == "Synced" && a.pointer("/status/reconciledAt").is_some()
        })
    }) && apps.get("vixens-app-of-apps").is_some_and(|r| text(r, "/status/operationState/phase") == "Succeeded")
}

/// The successive states of one app, repeated states folded.
fn sequence(events: &[Event], app: &str) -> Vec<String> {
    let mut states: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| name(&e.object) == app) {
        let s = state(&e.object);
        if states.last() != Some(&s) {
            states.push(s);
        }
    }
    states
}

#[tokio::test]
async fn a_child_app_goes_through_the_states_real_argocd_reports() {
    let spec = dev_lab("", 0.2);
    let (_, events) = record(&spec, Duration::from_secs(30), |apps| all_children(&spec, apps, "Healthy")).await;
    insta::assert_snapshot!(sequence(&events, "traefik").join("\n"), @r"
    created, no status
    OutOfSync Missing | no operation | never synced | history 0
    OutOfSync Missing | operation requested (automated) | never synced | history 0
    OutOfSync Missing | operation requested (automated) | Running (automated) | history 0
    Synced Progressing | no operation | Succeeded (automated) | history 1
    Synced Healthy | no operation | Succeeded (automated) | history 1
    ");
    // Every child follows the same path.
    let first = sequence(&events, "traefik");
    for app in every_child(&spec) {
        assert_eq!(sequence(&events, app), first, "{app}");
    }
}

#[tokio::test]
async fn a_reconcile_follows_every_sync_and_reconciled_at_is_not_before_finished_at() {
    let spec = dev_lab("", 0.2);
    let (store, events) = record(&spec, Duration::from_secs(30), |apps| all_children(&spec, apps, "Healthy")).await;
    for app in every_child(&spec) {
        let mine: Vec<&Event> = events.iter().filter(|e| name(&e.object) == app).collect();
        let synced = mine.iter().position(|e| text(&e.object, "/status/operationState/phase") == "Succeeded").expect("a Succeeded sync");
        let (before, after) = (&mine[synced].object, &mine[synced + 1].object);
        let without_reconcile = |v: &Value| {
            let mut v = v.clone();
            v["status"].as_object_mut().map(|s| s.remove("reconciledAt"));
            v["metadata"].as_object_mut().map(|m| m.remove("resourceVersion"));
            v
        };
        assert_eq!(without_reconcile(before), without_reconcile(after), "{app}: the write after the sync is a reconcile, nothing else");
        let last = store.get(&applications(), Some("argocd"), app).unwrap();
        let finished: jiff::Timestamp = text(&last, "/status/operationState/finishedAt").parse().unwrap();
        let reconciled: jiff::Timestamp = text(&last, "/status/reconciledAt").parse().unwrap();
        assert!(reconciled >= finished, "{app}: reconciledAt {reconciled} before finishedAt {finished}");
    }
}

#[tokio::test]
async fn waves_are_applied_in_order_and_each_sync_leaves_one_history_entry() {
    let spec = dev_lab("", 0.2);
    let (store, events) = record(&spec, Duration::from_secs(30), |apps| all_children(&spec, apps, "Healthy")).await;
    let wave = |app: &str| spec.apps.iter().find(|a| a.name == app).map_or(i32::MIN, |a| a.sync_wave);
    let created: Vec<i32> =
        events.iter().filter(|e| e.kind == EventType::Added && name(&e.object) != "vixens-app-of-apps").map(|e| wave(name(&e.object))).collect();
    assert_eq!(created.len(), spec.apps.len());
    assert!(created.is_sorted(), "children are created wave by wave: {created:?}");
    for app in every_child(&spec) {
        let last = store.get(&applications(), Some("argocd"), app).unwrap();
        assert_eq!(last["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], wave(app).to_string());
        let history = last["status"]["history"].as_array().unwrap();
        assert_eq!(history.len(), 1, "{app}");
        assert_eq!(history[0]["id"], 0);
        assert_eq!(history[0]["initiatedBy"], serde_json::json!({"automated": true}));
        assert_eq!(history[0]["deployedAt"], last["status"]["operationState"]["finishedAt"]);
        assert_eq!(history[0]["deployStartedAt"], last["status"]["operationState"]["startedAt"]);
        assert_eq!(
            last["spec"]["syncPolicy"]["retry"],
            serde_json::json!({"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}})
        );
        assert!(last.get("operation").is_none(), "{app}: no pending operation once synced");
    }
}

#[tokio::test]
async fn the_root_lists_its_children_and_its_health_does_not_wait_for_them() {
    let spec = dev_lab("", 0.2);
    let (store, events) = record(&spec, Duration::from_secs(30), |apps| all_children(&spec, apps, "Healthy")).await;
    let root_healthy = events
        .iter()
        .position(|e| name(&e.object) == "vixens-app-of-apps" && text(&e.object, "/status/health/status") == "Healthy")
        .expect("the root turns Healthy");
    let mut children_then = BTreeMap::new();
    for e in &events[..root_healthy] {
        children_then.insert(name(&e.object), text(&e.object, "/status/health/status"));
    }
    assert!(children_then.values().any(|h| *h != "Healthy"), "some children were still unhealthy when the root turned Healthy");
    let root = store.get(&applications(), Some("argocd"), "vixens-app-of-apps").unwrap();
    let resources = root["status"]["resources"].as_array().unwrap();
    assert_eq!(resources.len(), spec.apps.len());
    for r in resources {
        assert_eq!((r["group"].as_str(), r["kind"].as_str(), r["status"].as_str()), (Some("argoproj.io"), Some("Application"), Some("Synced")));
    }
    assert_eq!(root["spec"]["syncPolicy"]["automated"], serde_json::json!({"prune": true, "selfHeal": true}));
}

#[tokio::test]
async fn the_default_tree_bootstraps_within_seconds_at_normal_speed() {
    let spec = dev_lab("", 1.0);
    let started = std::time::Instant::now();
    record(&spec, Duration::from_secs(30), |apps| all_children(&spec, apps, "Healthy")).await;
    // About 5 s by design; the bound only catches a simulation that stopped being fast.
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}

/// A lab of the GitOps fixture's `lab` overlay, as Argo CD `version` runs it.
fn fixture_lab(version: ArgoCdVersion) -> LabSpec {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gitops/vixens");
    let tree = vixens_lab::gitops::load(&repo, "lab").expect("the fixture loads");
    let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", 3, 0), tree.apps);
    spec.root_app = Some(tree.root);
    spec.argocd_version = version;
    spec.time_scale = 0.2;
    spec
}

#[tokio::test]
async fn the_fixture_tree_is_applied_from_its_manifests_with_real_names_and_missing_waves_as_zero() {
    let spec = fixture_lab(ArgoCdVersion::V3);
    let (store, events) = record(&spec, Duration::from_secs(60), |apps| all_children(&spec, apps, "Healthy")).await;
    let gandi = store.get(&applications(), Some("argocd"), "cert-manager-webhook-gandi").expect("the real name");
    assert_eq!(gandi["spec"]["sources"][0]["chart"], "cert-manager-webhook-gandi");
    let nfs = store.get(&applications(), Some("argocd"), "nfs-storage").unwrap();
    assert!(nfs["metadata"]["annotations"].get("argocd.argoproj.io/sync-wave").is_none(), "no wave annotation, as in Git");
    let root = store.get(&applications(), Some("argocd"), "vixens-app-of-apps").unwrap();
    assert_eq!(root["spec"]["source"]["path"], "argocd/overlays/lab");
    let entry = |n: &str| root["status"]["resources"].as_array().unwrap().iter().find(|r| r["name"] == n).cloned().unwrap();
    assert_eq!(entry("traefik")["syncWave"], 2);
    assert!(entry("nfs-storage").get("syncWave").is_none(), "wave 0 is omitted, as ResourceStatus.SyncWave is omitempty");
    let created = events.iter().filter(|e| e.kind == EventType::Added && name(&e.object) != "vixens-app-of-apps").count();
    assert_eq!(created, 34);
}

#[tokio::test]
async fn v3_records_health_with_its_transition_time_resource_health_in_the_app_tree_and_initiators_in_history() {
    let spec = fixture_lab(ArgoCdVersion::V3);
    let (store, _) = record(&spec, Duration::from_secs(60), |apps| all_children(&spec, apps, "Healthy")).await;
    let app = store.get(&applications(), Some("argocd"), "vaultwarden").unwrap();
    assert_eq!(app["status"]["health"].as_object().unwrap().keys().collect::<Vec<_>>(), ["lastTransitionTime", "status"]);
    assert_eq!(app["status"]["resourceHealthSource"], "appTree");
    assert!(app["status"]["resources"].as_array().unwrap().iter().all(|r| r.get("health").is_none()));
    assert_eq!(app["status"]["history"][0]["initiatedBy"], serde_json::json!({"automated": true}));
    assert_eq!(app["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"], "vixens-app-of-apps:argoproj.io/Application:argocd/vaultwarden");
    assert_eq!(
        app["status"]["operationState"]["operation"]["sync"],
        serde_json::json!({"revision": app["status"]["sync"]["revision"], "prune": true, "syncOptions": ["CreateNamespace=true"]})
    );
}

#[tokio::test]
async fn v2_10_records_health_as_its_status_only_resource_health_inline_and_no_initiator_in_history() {
    let spec = fixture_lab(ArgoCdVersion::V2_10);
    let (store, events) = record(&spec, Duration::from_secs(60), |apps| all_children(&spec, apps, "Healthy")).await;
    let app = store.get(&applications(), Some("argocd"), "vaultwarden").unwrap();
    assert_eq!(app["status"]["health"], serde_json::json!({"status": "Healthy"}));
    assert!(app["status"].get("resourceHealthSource").is_none());
    let deployment = app["status"]["resources"].as_array().unwrap().iter().find(|r| r["kind"] == "Deployment").cloned().unwrap();
    assert_eq!(deployment["health"], serde_json::json!({"status": "Healthy"}));
    assert!(app["status"]["history"][0].get("initiatedBy").is_none(), "2.10 writes no initiatedBy in history");
    assert_eq!(app["metadata"]["labels"]["app.kubernetes.io/instance"], "vixens-app-of-apps");
    assert_eq!(app["status"]["operationState"]["operation"]["initiatedBy"], serde_json::json!({"automated": true}));
    let root_first_health = events.iter().find(|e| name(&e.object) == "vixens-app-of-apps" && e.object.pointer("/status/health").is_some());
    assert_eq!(text(&root_first_health.unwrap().object, "/status/health/status"), "Healthy", "2.10's root is Healthy from its first refresh");
}

#[tokio::test]
async fn a_degraded_app_says_why_only_in_its_inline_resource_health_on_2_10() {
    for (version, message) in [(ArgoCdVersion::V3, None), (ArgoCdVersion::V2_10, Some("Deployment \"traefik\" exceeded its progress deadline"))] {
        let mut spec = fixture_lab(version);
        spec.faults = Faults::parse("app-degraded=traefik").unwrap();
        let degraded = |apps: &BTreeMap<String, Value>| apps.get("traefik").is_some_and(|a| text(a, "/status/health/status") == "Degraded");
        let (store, _) = record(&spec, Duration::from_secs(60), degraded).await;
        let traefik = store.get(&applications(), Some("argocd"), "traefik").unwrap();
        assert!(traefik.pointer("/status/health/message").is_none(), "{version:?}: no app-level message");
        let inline = traefik["status"]["resources"].as_array().unwrap().iter().find_map(|r| r.pointer("/health/message").and_then(Value::as_str));
        assert_eq!(inline, message, "{version:?}");
    }
}

#[tokio::test]
async fn a_failing_sync_is_retried_as_argo_cd_retries_then_given_up_with_a_sync_error() {
    let spec = dev_lab("sync-fail=cert-manager-config", 0.2);
    let gave_up = |apps: &BTreeMap<String, Value>| apps.get("cert-manager-config").is_some_and(|a| a.pointer("/status/conditions/0/type").is_some());
    let (store, events) = record(&spec, Duration::from_secs(30), gave_up).await;
    let mine: Vec<&Value> = events.iter().filter(|e| name(&e.object) == "cert-manager-config").map(|e| &e.object).collect();
    let retrying = mine.iter().find(|a| text(a, "/status/operationState/message").contains("Retrying attempt #1 at ")).expect("a first retry");
    assert_eq!(text(retrying, "/status/operationState/phase"), "Running", "a retrying sync is Running");
    assert!(retrying.pointer("/status/operationState/finishedAt").is_some() && retrying.get("operation").is_some(), "{retrying}");
    assert_eq!(retrying["status"]["operationState"]["retryCount"], 1);
    let message = text(retrying, "/status/operationState/message");
    assert!(regex::Regex::new(r"\. Retrying attempt #1 at \d{1,2}:\d{2}[AP]M\.$").unwrap().is_match(message), "{message}");
    let last = store.get(&applications(), Some("argocd"), "cert-manager-config").unwrap();
    assert_eq!(text(&last, "/status/operationState/phase"), "Failed");
    assert!(text(&last, "/status/operationState/message").ends_with(" (retried 5 times)."));
    assert!(last.get("operation").is_none(), "a completed operation is cleared");
    assert!(text(&last, "/status/conditions/0/message").starts_with("Failed sync attempt to "), "{last}");
    assert!(last["status"]["history"].as_array().is_none_or(Vec::is_empty), "failed attempts leave no history");
}
