//! The lab API at the scale of `vixens-lab up --app-count 1000 --nodes 100`: how long kube-rs and
//! kubectl-style requests take against the store a bootstrapped lab holds.
//!
//! Run with `cargo bench -p vixens-lab --bench api_scale`; the figures go to docs/performance.md.

use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt as _, watcher};
use serde_json::{Value, json};
use vixens_lab::store::{ResourceId, Store};

const APPS: usize = 1000;
const NODES: usize = 100;
const PODS_PER_NODE: usize = 10;
const UPDATES: usize = 5000;

fn application(i: usize) -> Value {
    let name = format!("app-{i:04}");
    json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "labels": {"vixens.io/tier": if i.is_multiple_of(3) { "system" } else { "apps" }},
                     "annotations": {"argocd.argoproj.io/sync-wave": (i % 16).to_string()}},
        "spec": {"project": "default", "source": {"repoURL": "https://github.com/example/vixens", "path": format!("apps/generated/{name}"), "targetRevision": "main"},
                 "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
                 "syncPolicy": {"automated": {"prune": true, "selfHeal": true}, "retry": {"limit": 5}}},
        "status": {"sync": {"status": "Synced", "revision": "4f2c1a9d"}, "health": {"status": "Healthy"},
                   "reconciledAt": "2026-11-26T10:00:05Z",
                   "operationState": {"phase": "Succeeded", "startedAt": "2026-11-26T10:00:01Z", "finishedAt": "2026-11-26T10:00:04Z",
                                      "operation": {"initiatedBy": {"automated": true}, "sync": {"revision": "4f2c1a9d"}}},
                   "history": [{"id": 0, "revision": "4f2c1a9d", "deployedAt": "2026-11-26T10:00:04Z", "initiatedBy": {"automated": true}}]},
    })
}

fn seed(store: &Store) {
    let apps = ResourceId::new("argoproj.io", "applications");
    store.create(&ResourceId::new("", "namespaces"), None, json!({"metadata": {"name": "argocd"}})).unwrap();
    for i in 0..APPS {
        store.create(&apps, Some("argocd"), application(i)).unwrap();
    }
    for n in 0..NODES {
        let node = json!({"metadata": {"name": format!("lab-controlplane-{n}"), "labels": {"node-role.kubernetes.io/control-plane": ""}},
                          "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.34.1"}}});
        store.create(&ResourceId::new("", "nodes"), None, node).unwrap();
        for p in 0..PODS_PER_NODE {
            let pod = json!({"metadata": {"name": format!("pod-{n}-{p}")}, "spec": {"nodeName": format!("lab-controlplane-{n}"), "containers": [{"name": "c"}]},
                             "status": {"phase": "Running", "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
            store.create(&ResourceId::new("", "pods"), Some("kube-system"), pod).unwrap();
        }
    }
}

async fn client(store: Store) -> kube::Client {
    let pki = vixens_lab::tls::Pki::generate("bench").unwrap();
    let tokens = vixens_lab::api::Tokens::new("admin", "ro").unwrap();
    let app = vixens_lab::api::router(store, tokens).fallback(vixens_lab::api::not_found);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(vixens_lab::server::serve(listener, pki.server_config().unwrap(), app, None, std::future::pending()));
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {}\n\
         users:\n- name: b\n  user:\n    token: admin\ncontexts:\n- name: b\n  context:\n    cluster: b\n    user: b\ncurrent-context: b\n",
        base64::engine::general_purpose::STANDARD.encode(&pki.ca_pem)
    );
    let config = kube::Config::from_custom_kubeconfig(Kubeconfig::from_yaml(&kubeconfig).unwrap(), &KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(config).unwrap()
}

/// Median of `runs` timings of `f`.
async fn median<F: AsyncFnMut()>(runs: usize, mut f: F) -> Duration {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[runs / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let store = Store::default();
    let started = Instant::now();
    seed(&store);
    println!("seed {APPS} apps, {NODES} nodes, {} pods: {:?}", NODES * PODS_PER_NODE, started.elapsed());
    let client = client(store.clone()).await;
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let apps: Api<DynamicObject> = Api::namespaced_with(client.clone(), "argocd", &ApiResource::from_gvk_with_plural(&gvk, "applications"));

    let list = median(9, async || assert_eq!(apps.list(&ListParams::default()).await.unwrap().items.len(), APPS)).await;
    println!("list {APPS} applications (kube-rs, JSON): median {list:?}");
    let paged = median(9, async || {
        let mut token = None::<String>;
        let mut n = 0;
        loop {
            let mut params = ListParams::default().limit(500);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            let page = apps.list(&params).await.unwrap();
            n += page.items.len();
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        assert_eq!(n, APPS);
    })
    .await;
    println!("list {APPS} applications in pages of 500 (watcher's initial list): median {paged:?}");
    let selected =
        median(9, async || assert!(!apps.list(&ListParams::default().labels("vixens.io/tier=system")).await.unwrap().items.is_empty())).await;
    println!("list with a label selector (334 of {APPS}): median {selected:?}");
    let table = median(9, async || {
        let request = axum::http::Request::get("/apis/argoproj.io/v1alpha1/namespaces/argocd/applications")
            .header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
            .body(Vec::new())
            .unwrap();
        let text = client.request_text(request).await.unwrap();
        assert!(text.len() > 1000);
    })
    .await;
    println!("kubectl get applications (Table of {APPS} rows): median {table:?}");
    let nodes = median(9, async || {
        let request =
            axum::http::Request::get("/api/v1/nodes").header("accept", "application/json;as=Table;v=v1;g=meta.k8s.io").body(Vec::new()).unwrap();
        client.request_text(request).await.unwrap();
    })
    .await;
    println!("kubectl get nodes (Table of {NODES} rows): median {nodes:?}");

    // A watcher in sync with 1000 apps sees 5000 status updates (five per app, as a bootstrap writes).
    let mut stream = watcher(apps.clone(), watcher::Config::default()).default_backoff().boxed();
    let started = Instant::now();
    while !matches!(stream.next().await, Some(Ok(watcher::Event::InitDone))) {}
    println!("watcher initial sync of {APPS} applications: {:?}", started.elapsed());
    let ids = ResourceId::new("argoproj.io", "applications");
    let writer = store.clone();
    let started = Instant::now();
    tokio::task::spawn_blocking(move || {
        for u in 0..UPDATES {
            let patch = json!({"status": {"reconciledAt": format!("2026-11-26T10:{:02}:{:02}Z", u / 60 % 60, u % 60)}});
            writer.merge_patch(&ids, Some("argocd"), &format!("app-{:04}", u % APPS), &patch).unwrap();
        }
    });
    let mut seen = 0;
    while seen < UPDATES {
        if let Some(Ok(watcher::Event::Apply(_))) = stream.next().await {
            seen += 1;
        }
    }
    let elapsed = started.elapsed();
    println!("watcher receives {UPDATES} updates: {elapsed:?} ({:.0} events/s)", UPDATES as f64 / elapsed.as_secs_f64());
}
