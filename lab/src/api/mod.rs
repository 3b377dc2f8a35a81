//! The lab's Kubernetes API: enough of the real API server for kube-rs's watcher and the real
//! `kubectl` (discovery, get, list with selectors and pages, watch, create, update, patch, delete,
//! Table output), over the shared [`Store`].
//!
//! Authentication and authorization are in [`auth`]: the admin token may do everything, the
//! read-only token only get, list and watch, and ServiceAccount tokens minted by the TokenRequest
//! API what RBAC grants them (403 otherwise); no token, an unknown one, an expired one or one of
//! a previous lab is 401. `/version`, `/healthz`, `/livez` and `/readyz` are public, as on a real
//! cluster; but, as there, authentication comes first, so a wrong token is 401 on them too.

mod auth;
mod discovery;
mod handlers;
mod output;
mod protobuf;
mod query;
mod resources;
mod selector;
mod status;
mod table;
mod watch;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::Value;

pub use self::auth::{API_AUDIENCE, Identity, Tokens};
pub use self::resources::{KINDS, Kind};
pub use self::status::ApiError;
use crate::store::Store;

/// The Kubernetes version the lab's API reports on `/version`: the one the simulated Talos nodes
/// install, so that the server and the kubelets agree as on a real cluster.
pub const KUBERNETES_VERSION: &str = crate::talos::KUBERNETES_VERSION;

struct Api {
    store: Store,
    tokens: Tokens,
}

impl Api {
    /// The caller's identity from its `Authorization: Bearer` header.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Identity, ApiError> {
        auth::authenticate(&self.tokens, &self.store, headers)
    }
}

/// The API's routes over `store`. The daemon merges the Talos routes into it and adds
/// [`not_found`] as the fallback.
pub fn router(store: Store, tokens: Tokens) -> Router {
    let api = Arc::new(Api { store, tokens });
    Router::new()
        .route("/version", get(discovery::version))
        .route("/healthz", get(discovery::ok))
        .route("/livez", get(discovery::ok))
        .route("/readyz", get(discovery::ok))
        .route("/api", get(discovery::core_versions))
        .route("/apis", get(discovery::groups))
        .route("/openapi/v2", get(discovery::openapi_v2))
        .route("/api/{*rest}", any(handlers::core))
        .route("/apis/{*rest}", any(handlers::grouped))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&api), reject_bad_credentials))
        .with_state(api)
}

/// 401 for a request presenting a token the API does not know, whatever the path: a client
/// with a stale kubeconfig learns it from `/version` as from a real server.
async fn reject_bad_credentials(
    axum::extract::State(api): axum::extract::State<Arc<Api>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION)
        && let Err(e) = api.authenticate(request.headers())
    {
        return e.into_response();
    }
    next.run(request).await
}

/// The answer to a path nothing serves: a 404 `Status`, as the real server.
pub async fn not_found() -> Response {
    ApiError::no_route().into_response()
}

/// A JSON response with `code`.
fn json_response(code: StatusCode, body: &Value) -> Response {
    let mut response = (code, serde_json::to_vec(body).unwrap_or_default()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
