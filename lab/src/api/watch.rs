//! `?watch=true`: a chunked stream of newline-delimited watch events (`{"type","object"}`), from
//! a resource version, as the real server sends it.
//!
//! - no `resourceVersion` (or `0`): the current objects as ADDED events, then every change;
//! - `resourceVersion=N`: every change after N, or one ERROR event with a 410 `Expired` Status
//!   when N is older than the store's history (the client relists);
//! - the stream ends after `timeoutSeconds` (default 290), when the watch falls too far behind
//!   the store (the client resumes from its last version), or when the connection is dropped;
//! - with `allowWatchBookmarks=true`, a BOOKMARK carries the latest version every
//!   [`BOOKMARK_INTERVAL`], so an idle watch resumes without a relist;
//! - with `sendInitialEvents=true` (kube-rs's `streaming_lists()`), the initial ADDED events end
//!   with a BOOKMARK annotated `k8s.io/initial-events-end: "true"`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::output::{Output, present};
use super::query::Query;
use super::resources::Kind;
use super::status::ApiError;
use super::table;
use crate::store::{Event, EventType, Store, StoreError};

/// How often an idle watch that asked for bookmarks gets one (the real server: about a minute).
pub const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

/// Opens the watch and returns its streaming response.
///
/// # Errors
/// 400 for a malformed `resourceVersion`.
pub fn serve(store: &Store, kind: &'static Kind, namespace: Option<&str>, query: &Query, output: &Output) -> Result<Response, ApiError> {
    let since = match query.resource_version.as_deref() {
        None | Some("0") => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {v}")))?),
    };
    let filter = Filter { kind, labels: query.labels.clone(), fields: query.fields.clone(), namespace: namespace.map(str::to_owned) };
    let mut initial = VecDeque::new();
    let mut initial_events_end = None;
    let from = match since {
        Some(v) => v,
        None => {
            let page = store.list_page(&kind.id(), namespace, None, 0, |o| filter.selects(o));
            initial.extend(page.items);
            if query.send_initial_events {
                initial_events_end = Some(page.revision);
            }
            page.revision
        }
    };
    let watch = match store.watch(&kind.id(), namespace, from) {
        Ok(watch) => watch,
        Err(err @ StoreError::Gone { .. }) => {
            // As the real server: 200, then one ERROR event carrying the 410 Status.
            let event = line("ERROR", &ApiError::expired(err.to_string()).to_status());
            return Ok(stream_response(Body::from(event)));
        }
        Err(other) => return Err(ApiError::from_store(other, kind, "")),
    };
    let state = Watching {
        filter,
        output: output.clone(),
        initial,
        initial_events_end,
        backlog: watch.backlog.into(),
        live: watch.live,
        after: from,
        last_seen: watch.revision.max(from),
        deadline: Instant::now() + query.timeout,
        next_bookmark: query.bookmarks.then(|| Instant::now() + BOOKMARK_INTERVAL),
        headers_sent: false,
    };
    let body = stream::unfold(state, |mut state| async move { state.next().await.map(|bytes| (Ok::<_, std::convert::Infallible>(bytes), state)) });
    Ok(stream_response(Body::from_stream(body)))
}

fn stream_response(body: Body) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

struct Filter {
    kind: &'static Kind,
    labels: super::selector::LabelSelector,
    fields: super::selector::FieldSelector,
    namespace: Option<String>,
}

impl Filter {
    fn selects(&self, object: &Value) -> bool {
        self.labels.matches(object) && self.fields.matches(object)
    }

    fn wants(&self, event: &Event) -> bool {
        crate::store::matches(event, &self.kind.id(), self.namespace.as_deref()) && self.selects(&event.object)
    }
}

/// One open watch.
struct Watching {
    filter: Filter,
    output: Output,
    /// Synthetic ADDED events of a watch without a starting version.
    initial: VecDeque<Value>,
    /// The version the initial events end at, when the client asked to be told.
    initial_events_end: Option<u64>,
    /// Kept events after the starting version.
    backlog: VecDeque<Arc<Event>>,
    live: tokio::sync::broadcast::Receiver<Arc<Event>>,
    /// Live events at or before this version were in the backlog or the initial list.
    after: u64,
    /// Every change up to this version has been considered (what a bookmark may promise).
    last_seen: u64,
    deadline: Instant,
    next_bookmark: Option<Instant>,
    headers_sent: bool,
}

impl Watching {
    /// The next chunk, or `None` when the watch ends.
    async fn next(&mut self) -> Option<Bytes> {
        if let Some(object) = self.initial.pop_front() {
            return Some(self.event(EventType::Added.as_str(), &object));
        }
        if let Some(version) = self.initial_events_end.take() {
            let mut bookmark = self.bookmark(version);
            bookmark["metadata"]["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            return Some(line("BOOKMARK", &bookmark));
        }
        while let Some(event) = self.backlog.pop_front() {
            if self.filter.wants(&event) {
                return Some(self.event(event.kind.as_str(), &event.object));
            }
        }
        loop {
            let bookmark = self.next_bookmark.unwrap_or(self.deadline);
            tokio::select! {
                received = self.live.recv() => match received {
                    Ok(event) if event.resource_version <= self.after => {}
                    Ok(event) => {
                        self.last_seen = event.resource_version;
                        if self.filter.wants(&event) {
                            return Some(self.event(event.kind.as_str(), &event.object));
                        }
                    }
                    // Fallen behind the store: end the stream; the client resumes from the last
                    // version it saw, or relists after a 410.
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(self.deadline) => return None,
                () = tokio::time::sleep_until(bookmark), if self.next_bookmark.is_some() => {
                    self.next_bookmark = Some(Instant::now() + BOOKMARK_INTERVAL);
                    if matches!(self.output, Output::Json) {
                        return Some(line("BOOKMARK", &self.bookmark(self.last_seen)));
                    }
                }
            }
        }
    }

    /// A BOOKMARK's object: the kind with only a resource version.
    fn bookmark(&self, version: u64) -> Value {
        json!({
            "kind": self.filter.kind.kind,
            "apiVersion": self.filter.kind.api_version(),
            "metadata": {"resourceVersion": version.to_string()},
        })
    }

    fn event(&mut self, kind: &str, object: &Value) -> Bytes {
        let object = match &self.output {
            Output::Json => present(self.filter.kind, object),
            Output::Table(include) => {
                let meta = json!({"resourceVersion": object["metadata"]["resourceVersion"]});
                let headers = !std::mem::replace(&mut self.headers_sent, true);
                table::table(self.filter.kind, &[object], meta, include, headers)
            }
            Output::Metadata => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]}),
        };
        line(kind, &object)
    }
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}
