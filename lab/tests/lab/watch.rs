//! kube-rs's `watcher` against the lab, as the harness runs it (`.default_backoff()`, never `?`
//! on the stream): changes arrive in order, a 410 makes it relist, an API restart makes it
//! resume, and in neither case does the stream end.

use std::time::Duration;

use base64::Engine as _;
use futures::{StreamExt, TryStreamExt as _};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use vixens_lab::store::{ResourceId, Store};

use crate::Lab;

fn applications() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application"), "applications")
}

fn app(name: &str) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": name}})).unwrap()
}

/// What the watcher said, in a form tests can compare.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Init,
    InitApply(String),
    InitDone,
    Apply(String),
    Delete(String),
    Error(String),
}

fn seen(item: Result<watcher::Event<DynamicObject>, watcher::Error>) -> Seen {
    let name = |o: DynamicObject| o.metadata.name.unwrap_or_default();
    match item {
        Ok(watcher::Event::Init) => Seen::Init,
        Ok(watcher::Event::InitApply(o)) => Seen::InitApply(name(o)),
        Ok(watcher::Event::InitDone) => Seen::InitDone,
        Ok(watcher::Event::Apply(o)) => Seen::Apply(name(o)),
        Ok(watcher::Event::Delete(o)) => Seen::Delete(name(o)),
        Err(e) => Seen::Error(e.to_string()),
    }
}

/// A watcher driven by its own task, as the harness drives it: it keeps running (and noticing
/// dropped connections) while the test sleeps.
type Watcher = tokio::sync::mpsc::UnboundedReceiver<Seen>;

fn watch_apps(apps: Api<DynamicObject>, config: watcher::Config) -> Watcher {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut stream = watcher(apps, config).default_backoff().map(seen).boxed();
    tokio::spawn(async move {
        while let Some(item) = stream.next().await {
            if tx.send(item).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next item, failing the test after `secs` seconds (the stream must not end either).
async fn next(stream: &mut Watcher, secs: u64) -> Seen {
    tokio::time::timeout(Duration::from_secs(secs), stream.recv())
        .await
        .expect("the watcher said something in time")
        .expect("the watcher stream never ends")
}

/// Reads until `wanted`, returning everything seen before it.
async fn until(stream: &mut Watcher, wanted: &Seen, secs: u64) -> Vec<Seen> {
    let mut before = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now()).as_secs().max(1);
        let item = next(stream, left).await;
        if &item == wanted {
            return before;
        }
        before.push(item);
    }
}

/// The lab's API served in this process on `store`, for tests that need a tiny watch history.
async fn serve_in_process(store: Store) -> (kube::Client, tokio::sync::oneshot::Sender<()>) {
    let pki = vixens_lab::tls::Pki::generate("test").unwrap();
    let tokens = vixens_lab::api::Tokens::new("admin-token", "readonly-token").unwrap();
    let app = vixens_lab::api::router(store, tokens).fallback(vixens_lab::api::not_found);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(vixens_lab::server::serve(listener, pki.server_config().unwrap(), app, None, async {
        let _ = stopped.await;
    }));
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {}\n\
         users:\n- name: t\n  user:\n    token: admin-token\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: t\ncurrent-context: t\n",
        base64::engine::general_purpose::STANDARD.encode(&pki.ca_pem)
    );
    let config = kube::Config::from_custom_kubeconfig(Kubeconfig::from_yaml(&kubeconfig).unwrap(), &KubeConfigOptions::default()).await.unwrap();
    (kube::Client::try_from(config).unwrap(), stop)
}

fn seed(store: &Store, apps: &[&str]) {
    store.create(&ResourceId::new("", "namespaces"), None, json!({"metadata": {"name": "team-a"}})).unwrap();
    for name in apps {
        store.create(&ResourceId::new("argoproj.io", "applications"), Some("team-a"), json!({"metadata": {"name": name}})).unwrap();
    }
}

/// Writes `n` changes to Nodes: history the apps watcher does not see.
fn churn_elsewhere(store: &Store, n: usize) {
    for i in 0..n {
        store.upsert(&ResourceId::new("", "nodes"), None, json!({"metadata": {"name": format!("n{}", i % 3)}, "spec": {"i": i}})).unwrap();
    }
}

#[tokio::test]
async fn the_watcher_lists_then_follows_every_change_in_order() {
    let lab = Lab::up(&[]);
    let client = lab.client().await;
    let ns = serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    apps.create(&PostParams::default(), &app("traefik")).await.unwrap();
    let mut stream = watch_apps(apps.clone(), watcher::Config::default());
    assert_eq!(until(&mut stream, &Seen::InitDone, 10).await, [Seen::Init, Seen::InitApply("traefik".into())]);
    apps.create(&PostParams::default(), &app("keda")).await.unwrap();
    apps.patch("traefik", &Default::default(), &kube::api::Patch::Merge(json!({"status": {"health": {"status": "Healthy"}}}))).await.unwrap();
    apps.delete("keda", &Default::default()).await.unwrap();
    let mut changes = Vec::new();
    for _ in 0..3 {
        changes.push(next(&mut stream, 10).await);
    }
    assert_eq!(changes, [Seen::Apply("keda".into()), Seen::Apply("traefik".into()), Seen::Delete("keda".into())]);
}

#[tokio::test]
async fn a_watch_from_an_expired_version_gets_a_410_expired_error_event() {
    let store = Store::new(4);
    seed(&store, &["traefik"]);
    churn_elsewhere(&store, 10);
    let (client, _stop) = serve_in_process(store).await;
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    let mut events = apps.watch(&WatchParams::default(), "2").await.unwrap().boxed();
    match events.try_next().await.unwrap() {
        Some(WatchEvent::Error(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
            assert!(status.message.starts_with("too old resource version: 2 ("), "{}", status.message);
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }
    assert!(events.try_next().await.unwrap().is_none(), "the server ends the watch after the error");
}

#[tokio::test]
async fn an_expired_version_makes_the_watcher_relist_without_ending_the_stream() {
    let store = Store::new(8);
    seed(&store, &["traefik"]);
    let (client, _stop) = serve_in_process(store.clone()).await;
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    // A one-second watch: the watcher resumes from the version it last saw once the watch ends.
    let mut stream = watch_apps(apps, watcher::Config::default().timeout(1));
    assert_eq!(until(&mut stream, &Seen::InitDone, 10).await, [Seen::Init, Seen::InitApply("traefik".into())]);
    churn_elsewhere(&store, 20);
    let before_relist = until(&mut stream, &Seen::Init, 15).await;
    assert!(
        matches!(before_relist.as_slice(), [Seen::Error(e)] if e.contains("Expired")),
        "a 410 surfaces as one error before the relist: {before_relist:?}"
    );
    assert_eq!(until(&mut stream, &Seen::InitDone, 10).await, [Seen::InitApply("traefik".into())]);
    store.create(&ResourceId::new("argoproj.io", "applications"), Some("team-a"), json!({"metadata": {"name": "keda"}})).unwrap();
    assert_eq!(until(&mut stream, &Seen::Apply("keda".into()), 10).await, [], "the stream goes on after the relist");
}

#[tokio::test]
async fn an_api_restart_drops_the_watch_and_the_watcher_resumes() {
    let started = tokio::time::Instant::now();
    let lab = Lab::up_with_faults(&[], "api-restart=3");
    let client = lab.client().await;
    let ns = serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&PostParams::default(), &ns).await.unwrap();
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    apps.create(&PostParams::default(), &app("traefik")).await.unwrap();
    let mut stream = watch_apps(apps, watcher::Config::default());
    assert_eq!(until(&mut stream, &Seen::InitDone, 10).await, [Seen::Init, Seen::InitApply("traefik".into())]);
    assert!(started.elapsed() < Duration::from_secs(3), "the watch must be open before the restart");

    // After the restart (3 s) and its downtime (1 s), write through a fresh client.
    tokio::time::sleep_until(started + Duration::from_secs(5)).await;
    let writer: Api<DynamicObject> = Api::namespaced_with(lab.client().await, "team-a", &applications());
    writer.create(&PostParams::default(), &app("keda")).await.unwrap();
    let before = until(&mut stream, &Seen::Apply("keda".into()), 30).await;
    assert!(before.iter().any(|s| matches!(s, Seen::Error(_))), "the restart dropped the watch: {before:?}");
    let log = std::fs::read_to_string(lab.path("daemon.log")).unwrap();
    assert!(log.contains("api-restart: dropping every connection and watch"), "{log}");
}

#[tokio::test]
async fn watch_events_are_newline_delimited_json_with_versions() {
    let store = Store::default();
    seed(&store, &["traefik"]);
    let (client, _stop) = serve_in_process(store.clone()).await;
    let apps: Api<DynamicObject> = Api::namespaced_with(client.clone(), "team-a", &applications());
    let request =
        axum::http::Request::get("/apis/argoproj.io/v1alpha1/namespaces/team-a/applications?&watch=true&timeoutSeconds=1&resourceVersion=1")
            .body(Vec::new())
            .unwrap();
    let text = client.request_text(request).await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["kind"], "Application");
    assert_eq!(lines[0]["object"]["metadata"]["resourceVersion"], "3");
    drop(apps);
}

#[tokio::test]
async fn a_streaming_list_watcher_gets_its_initial_events_and_then_changes() {
    let store = Store::default();
    seed(&store, &["traefik", "keda"]);
    let (client, _stop) = serve_in_process(store.clone()).await;
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &applications());
    let mut stream = watch_apps(apps, watcher::Config::default().streaming_lists());
    let init = until(&mut stream, &Seen::InitDone, 10).await;
    assert_eq!(init, [Seen::Init, Seen::InitApply("keda".into()), Seen::InitApply("traefik".into())]);
    store.create(&ResourceId::new("argoproj.io", "applications"), Some("team-a"), json!({"metadata": {"name": "argocd"}})).unwrap();
    assert_eq!(next(&mut stream, 10).await, Seen::Apply("argocd".into()));
}
