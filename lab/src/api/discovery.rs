//! Discovery: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<group>`, `/apis/<group>/<version>`.
//!
//! Only the legacy (unaggregated) documents are served, always as `application/json`: kubectl
//! asks for the aggregated `apidiscovery.k8s.io/v2` list first, sees a plain `application/json`
//! answer and falls back to the per-group documents, as it does with older servers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::resources::{KINDS, Kind, SUBRESOURCES, VERBS};
use super::{Api, ApiError, KUBERNETES_VERSION, json_response};

/// `GET /version` (public).
pub async fn version() -> Response {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or_default();
    json_response(
        StatusCode::OK,
        &json!({
            "major": "1",
            "minor": minor,
            "emulationMajor": "1",
            "emulationMinor": minor,
            "minCompatibilityMajor": "1",
            "minCompatibilityMinor": minor,
            "gitVersion": KUBERNETES_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-11-01T00:00:00Z",
            "goVersion": "go1.25.5",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
    )
}

/// `GET /healthz`, `/livez`, `/readyz` (public).
pub async fn ok() -> &'static str {
    "ok"
}

/// `GET /api`.
pub async fn core_versions(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(e) = api.authenticate(&headers) {
        return e.into_response();
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
        }),
    )
}

/// `GET /apis`.
pub async fn groups(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(e) = api.authenticate(&headers) {
        return e.into_response();
    }
    let groups: Vec<Value> = Kind::groups().map(|(g, v)| group(g, v)).collect();
    json_response(StatusCode::OK, &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv], "preferredVersion": gv})
}

/// `GET /apis/<group>`.
pub fn api_group(name: &str) -> Result<Response, ApiError> {
    let (group_name, version) = Kind::groups().find(|(g, _)| *g == name).ok_or_else(ApiError::no_route)?;
    let mut body = group(group_name, version);
    body["kind"] = json!("APIGroup");
    body["apiVersion"] = json!("v1");
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /api/v1` or `/apis/<group>/<version>`.
pub fn resource_list(group: &str, version: &str) -> Result<Response, ApiError> {
    let resources: Vec<Value> = KINDS
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .map(|k| {
            let mut r = json!({
                "name": k.plural,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": VERBS,
            });
            if !k.short_names.is_empty() {
                r["shortNames"] = json!(k.short_names);
            }
            if !k.categories.is_empty() {
                r["categories"] = json!(k.categories);
            }
            r
        })
        .collect();
    let mut resources = resources;
    for kind in KINDS.iter().filter(|k| k.group == group && k.version == version) {
        for sub in SUBRESOURCES.iter().filter(|s| s.parent == kind.plural) {
            resources.push(json!({
                "name": format!("{}/{}", kind.plural, sub.name),
                "singularName": "",
                "namespaced": kind.namespaced,
                "group": sub.group,
                "version": sub.version,
                "kind": sub.kind,
                "verbs": sub.verbs,
            }));
        }
    }
    if resources.is_empty() {
        return Err(ApiError::no_route());
    }
    let group_version = if group.is_empty() { version.to_owned() } else { format!("{group}/{version}") };
    Ok(json_response(StatusCode::OK, &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources})))
}

/// `GET /openapi/v2`: an OpenAPI document with no definitions, in the protobuf encoding kubectl
/// asks for. kubectl's client-side validation needs the document to exist; with no schema in it,
/// it skips the objects it has no schema for and leaves validation to the server (`fieldValidation`).
pub async fn openapi_v2(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    if let Err(e) = api.authenticate(&headers) {
        return e.into_response();
    }
    let mut response = (StatusCode::OK, openapi_v2_document()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"));
    response
}

/// `openapi.v2.Document{swagger: "2.0", info: {title: "Kubernetes", version}}` in protobuf.
fn openapi_v2_document() -> Vec<u8> {
    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).unwrap_or(u8::MAX)];
        out.extend_from_slice(bytes);
        out
    }
    let info = [field(1, b"Kubernetes"), field(2, KUBERNETES_VERSION.as_bytes())].concat();
    [field(1, b"2.0"), field(2, &info)].concat()
}
