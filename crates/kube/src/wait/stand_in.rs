//! Test code: a tiny Kubernetes API for one namespaced resource, speaking exactly the list and
//! watch protocol kube-runtime 5's watcher uses (list with `limit`, then NDJSON watch events), with the two
//! failures the wait must survive: an API restart (every watch dropped, then 503 for a while)
//! and a compacted history (410 Gone). The lab replaces it for end-to-end tests; the readiness
//! benchmark uses it to flip the last app at a known instant.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::{Notify, broadcast, mpsc};

/// A running stand-in serving `GET <path>` (list) and `GET <path>?watch=true` (watch).
pub struct StandIn {
    url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

struct Shared {
    state: Mutex<Store>,
    changes: broadcast::Sender<Message>,
    restart: Notify,
}

#[derive(Default)]
struct Store {
    resource_version: u64,
    objects: BTreeMap<String, Value>,
    /// Every change as `(resourceVersion, one NDJSON watch event line)`.
    log: Vec<(u64, Bytes)>,
    /// Watches from a resourceVersion below this get 410 Gone.
    oldest: u64,
    down_until: Option<Instant>,
}

#[derive(Clone)]
enum Message {
    Event(u64, Bytes),
    /// Ends every open watch: with a 410 ERROR event first when `expired`.
    Close {
        expired: bool,
    },
}

impl StandIn {
    /// Serves `path` (`/apis/argoproj.io/v1alpha1/namespaces/argocd/applications`) on a free
    /// port of 127.0.0.1.
    pub async fn start(path: &str) -> Self {
        let (changes, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared { state: Mutex::new(Store::default()), changes, restart: Notify::new() });
        let app = axum::Router::new().route(path, axum::routing::get(serve)).with_state(shared.clone());
        let mut listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
        let address = listener.local_addr().expect("local address");
        let server_shared = shared.clone();
        // Serve until told to restart, stay away for the outage (connections refused), then
        // listen again on the same port.
        let server = tokio::spawn(async move {
            loop {
                let signal = server_shared.clone();
                let stop = async move { signal.restart.notified().await };
                axum::serve(listener, app.clone()).with_graceful_shutdown(stop).await.expect("stand-in server");
                let down_until = server_shared.state.lock().unwrap().down_until;
                if let Some(until) = down_until {
                    tokio::time::sleep_until(until.into()).await;
                }
                listener = tokio::net::TcpListener::bind(address).await.expect("bind the same port again");
            }
        });
        Self { url: format!("http://{address}"), shared, server }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Creates or replaces `object` (by `metadata.name`), as a watch sees it: ADDED or MODIFIED.
    pub fn put(&self, mut object: Value) {
        let mut store = self.shared.state.lock().unwrap();
        store.resource_version += 1;
        let rv = store.resource_version;
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let name = object["metadata"]["name"].as_str().expect("metadata.name").to_owned();
        let kind = if store.objects.contains_key(&name) { "MODIFIED" } else { "ADDED" };
        let line = event_line(kind, &object);
        store.objects.insert(name, object);
        store.log.push((rv, line.clone()));
        let _ = self.shared.changes.send(Message::Event(rv, line));
    }

    /// Drops every open watch and every connection, and refuses connections for `outage`, as
    /// an API server restarting during a node reboot does (a request still in flight on an old
    /// connection gets 503).
    pub fn restart(&self, outage: Duration) {
        self.shared.state.lock().unwrap().down_until = Some(Instant::now() + outage);
        let _ = self.shared.changes.send(Message::Close { expired: false });
        self.shared.restart.notify_one();
    }

    /// Compacts the history: open watches get a 410 `Expired` ERROR event, and so does any
    /// watch from an older resourceVersion, which makes the watcher relist.
    pub fn compact(&self) {
        let mut store = self.shared.state.lock().unwrap();
        store.oldest = store.resource_version;
        store.log.clear();
        let _ = self.shared.changes.send(Message::Close { expired: true });
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({ "type": kind, "object": object })).expect("json");
    line.push(b'\n');
    line.into()
}

fn expired_line() -> Bytes {
    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired",
                        "message": "too old resource version", "code": 410});
    event_line("ERROR", &status)
}

async fn serve(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    // kube-runtime sends `?&limit=500`: skip the empty pair.
    let query = query.unwrap_or_default();
    let param = |key: &str| query.split('&').find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='));
    let store = shared.state.lock().unwrap();
    if store.down_until.is_some_and(|until| Instant::now() < until) {
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "ServiceUnavailable",
                            "message": "the API server is restarting", "code": 503});
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(status)).into_response();
    }
    if param("watch") != Some("true") {
        let items: Vec<&Value> = store.objects.values().collect();
        let list = json!({"kind": "List", "apiVersion": "v1",
                          "metadata": {"resourceVersion": store.resource_version.to_string()}, "items": items});
        return axum::Json(list).into_response();
    }
    let since: u64 = param("resourceVersion").and_then(|rv| rv.parse().ok()).unwrap_or(0);
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    if since < store.oldest {
        let _ = tx.send(expired_line());
    } else {
        let mut changes = shared.changes.subscribe();
        for (_, line) in store.log.iter().filter(|(rv, _)| *rv > since) {
            let _ = tx.send(line.clone());
        }
        drop(store);
        tokio::spawn(async move {
            while let Ok(message) = changes.recv().await {
                match message {
                    Message::Event(rv, line) if rv > since => {
                        if tx.send(line).is_err() {
                            return;
                        }
                    }
                    Message::Event(..) => {}
                    Message::Close { expired } => {
                        if expired {
                            let _ = tx.send(expired_line());
                        }
                        return;
                    }
                }
            }
        });
    }
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|line| (Ok::<_, Infallible>(line), rx)) });
    Response::new(Body::from_stream(body))
}
