//! The lab's Talos API over HTTP (see [`super::wire`] for the contract with talosctl).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::Stream;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::kube::fnv1a;
use super::logfmt::rfc3339_seconds;
use super::wire::{ApiError, Member, PREFIX, VersionInfo, unreachable};
use super::{Cluster, GO_VERSION, Node, TALOS_SHA, TALOS_VERSION, health};

/// What a bad or missing token gets: the real apid refuses the client certificate during the
/// TLS handshake.
const BAD_CREDENTIALS: &str = "rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: remote error: tls: bad certificate\"";

pub(super) fn router(cluster: Arc<Cluster>, token: String) -> Router {
    let token = Arc::new(token);
    Router::new()
        .route(&format!("{PREFIX}/nodes/{{node}}/version"), get(version))
        .route(&format!("{PREFIX}/nodes/{{node}}/services"), get(services))
        .route(&format!("{PREFIX}/nodes/{{node}}/members"), get(members))
        .route(&format!("{PREFIX}/nodes/{{node}}/logs"), get(logs))
        .route(&format!("{PREFIX}/nodes/{{node}}/dmesg"), get(dmesg))
        .route(&format!("{PREFIX}/nodes/{{node}}/health"), get(run_health))
        .route_layer(middleware::from_fn_with_state(token, authorize))
        .with_state(cluster)
}

async fn authorize(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let presented = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if presented == Some(token.as_str()) { next.run(request).await } else { error(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS.into()) }
}

fn error(status: StatusCode, error: String) -> Response {
    (status, Json(ApiError { error })).into_response()
}

/// A node the proxy cannot reach: answered with the error apid gives.
struct Unreachable(String);

impl IntoResponse for Unreachable {
    fn into_response(self) -> Response {
        error(StatusCode::SERVICE_UNAVAILABLE, unreachable(&self.0))
    }
}

/// The node the path names.
fn find(cluster: &Cluster, node: &str) -> Result<Arc<Node>, Unreachable> {
    cluster.node(node).cloned().ok_or_else(|| Unreachable(node.to_owned()))
}

async fn version(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>) -> Response {
    match find(&cluster, &node) {
        Err(e) => e.into_response(),
        Ok(_) => Json(VersionInfo {
            tag: TALOS_VERSION.into(),
            sha: TALOS_SHA.into(),
            built: String::new(),
            go_version: GO_VERSION.into(),
            os: "linux".into(),
            arch: "amd64".into(),
            rbac: true,
        })
        .into_response(),
    }
}

async fn services(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>) -> Response {
    match find(&cluster, &node) {
        Err(e) => e.into_response(),
        Ok(node) => Json(node.services()).into_response(),
    }
}

/// Every node sees every member (Talos discovery), each with its own resource version.
async fn members(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>) -> Response {
    if let Err(e) = find(&cluster, &node) {
        return e.into_response();
    }
    let created = rfc3339_seconds(cluster.started_at);
    let members: Vec<Member> = cluster
        .nodes()
        .iter()
        .map(|n| Member {
            id: n.spec.name.clone(),
            version: 1 + fnv1a(&n.spec.name) % 3,
            created: created.clone(),
            updated: created.clone(),
            node_id: node_id(&n.spec.name),
            addresses: vec![n.spec.address.clone()],
            hostname: n.spec.name.clone(),
            machine_type: n.spec.role.clone(),
            operating_system: format!("Talos ({TALOS_VERSION})"),
            api_server_port: n.spec.is_control_plane().then_some(6443),
        })
        .collect();
    Json(members).into_response()
}

/// A discovery node id: 43 base62 characters derived from the hostname.
fn node_id(hostname: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..43).map(|i| BASE62[(fnv1a(&format!("{hostname}/{i}")) % 62) as usize] as char).collect()
}

#[derive(Deserialize)]
struct LogsQuery {
    id: String,
    #[serde(default)]
    follow: bool,
    #[serde(default = "all_lines")]
    tail: i64,
    #[serde(default)]
    kubernetes: bool,
}

fn all_lines() -> i64 {
    -1
}

async fn logs(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>, Query(q): Query<LogsQuery>) -> Response {
    let node = match find(&cluster, &node) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let id = if q.kubernetes { format!("k8s.io/{}", q.id) } else { q.id };
    // Subscribe before reading, so that no line written in between is missed.
    let changes = node.subscribe();
    let Some(len) = node.log_len(&id) else {
        let shown = id.trim_start_matches("k8s.io/");
        return error(StatusCode::NOT_FOUND, format!("rpc error: code = Unknown desc = log {shown:?} was not registered"));
    };
    let start = match usize::try_from(q.tail) {
        Ok(n) => len.saturating_sub(n),
        Err(_) => 0,
    };
    let read = move |node: &Node, from: usize| node.log_lines(&id, from).unwrap_or_default();
    text_stream(follow_lines(node, start, q.follow, changes, read))
}

#[derive(Deserialize)]
struct DmesgQuery {
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    tail: bool,
}

async fn dmesg(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>, Query(q): Query<DmesgQuery>) -> Response {
    let node = match find(&cluster, &node) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let changes = node.subscribe();
    // `--tail`: only messages written from now on.
    let start = if q.tail { node.kmsg_len() } else { 0 };
    text_stream(follow_lines(node, start, q.follow, changes, |node, from| node.kmsg(from)))
}

/// Lines from `start`, then (when following) every new line as it is written, until the
/// client goes away.
fn follow_lines(
    node: Arc<Node>,
    start: usize,
    follow: bool,
    changes: tokio::sync::watch::Receiver<u64>,
    read: impl Fn(&Node, usize) -> Vec<String> + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
    futures::stream::unfold((node, start, changes, read), move |(node, pos, mut changes, read)| async move {
        loop {
            let lines = read(&node, pos);
            if !lines.is_empty() {
                let next = pos + lines.len();
                let mut chunk = lines.join("\n");
                chunk.push('\n');
                return Some((Ok(Bytes::from(chunk)), (node, next, changes, read)));
            }
            if !follow || changes.changed().await.is_err() {
                return None;
            }
        }
    })
}

fn text_stream(stream: impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

#[derive(Deserialize)]
struct HealthQuery {
    /// `--wait-timeout` in milliseconds (talosctl's default is 20 minutes).
    #[serde(default = "default_wait_timeout_ms")]
    wait_timeout_ms: u64,
}

fn default_wait_timeout_ms() -> u64 {
    20 * 60 * 1000
}

/// Server-side checks run on the node named in the path; `-` asks for client-side checks,
/// which talk to the cluster as a whole (`talosctl health --server=false`).
async fn run_health(State(cluster): State<Arc<Cluster>>, Path(node): Path<String>, Query(q): Query<HealthQuery>) -> Response {
    if node != "-"
        && let Err(e) = find(&cluster, &node)
    {
        return e.into_response();
    }
    let (tx, rx) = mpsc::channel(16);
    let timeout = Duration::from_millis(q.wait_timeout_ms);
    tokio::spawn(async move { health::run(&cluster, timeout, tx).await });
    let lines = futures::stream::unfold(rx, |mut rx| async move {
        let message = rx.recv().await?;
        let mut line = serde_json::to_vec(&message).unwrap_or_default();
        line.push(b'\n');
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), rx))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(lines))
        .unwrap_or_else(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
