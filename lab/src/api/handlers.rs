//! Requests on resources: routing of `/api/v1/...` and `/apis/<group>/<version>/...` paths, then
//! get, list, watch, create, update, patch and delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64;
use serde_json::{Value, json};

use super::auth::{self, Attributes};
use super::output::{Output, present};
use super::query::Query;
use super::resources::{KINDS, Kind, SUBRESOURCES};
use super::status::ApiError;
use super::{Api, discovery, json_response, table, watch};
use crate::store::{ResourceId, StoreError};

/// `/api/{*rest}`: the core group.
pub async fn core(State(api): State<Arc<Api>>, method: Method, Path(rest): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let Some((version, rest)) = segments.split_first() else { return ApiError::no_route().into_response() };
    handle(&api, &Request { method, uri, headers, body }, "", version, rest).unwrap_or_else(IntoResponse::into_response)
}

/// `/apis/{*rest}`: named groups.
pub async fn grouped(State(api): State<Arc<Api>>, method: Method, Path(rest): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let request = Request { method, uri, headers, body };
    let result = match segments.as_slice() {
        [] => Err(ApiError::no_route()),
        [group] => api.authenticate(&request.headers).and_then(|_| discovery::api_group(group)),
        [group, version, rest @ ..] => handle(&api, &request, group, version, rest),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// What a path addresses.
struct Target {
    kind: &'static Kind,
    namespace: Option<String>,
    name: Option<String>,
    /// `token` in `.../serviceaccounts/NAME/token`.
    subresource: Option<String>,
}

fn handle(api: &Api, request: &Request, group: &str, version: &str, rest: &[&str]) -> Result<Response, ApiError> {
    let identity = api.authenticate(&request.headers)?;
    if rest.is_empty() {
        return discovery::resource_list(group, version);
    }
    let target = route(group, version, rest)?;
    let query = Query::parse(request.uri.query())?;
    let verb = verb(&request.method, &target, &query)?;
    let attributes = Attributes {
        verb,
        kind: target.kind,
        subresource: target.subresource.as_deref(),
        namespace: target.namespace.as_deref(),
        name: target.name.as_deref().unwrap_or_default(),
    };
    auth::authorize(&identity, &api.store, &attributes)?;
    if target.subresource.is_some() {
        return token_request(api, &target, request);
    }
    let output = Output::negotiate(&request.headers, &query);
    match verb {
        "get" => get(api, &target, &output),
        "list" => list(api, &target, &query, &output),
        "watch" => watch::serve(&api.store, target.kind, target.namespace.as_deref(), &query, &output),
        "create" => create(api, &target, request),
        "update" => update(api, &target, request),
        "patch" => patch(api, &target, request),
        "delete" => delete(api, &target),
        other => Err(ApiError::method_not_allowed(other)),
    }
}

/// Resolves `[plural]`, `[plural, name]`, `[namespaces, ns, plural]`, `[namespaces, ns, plural, name]`
/// and the served subresources, `[namespaces, ns, plural, name, subresource]`.
fn route(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let find = |plural: &str| Kind::find(group, version, plural).ok_or_else(ApiError::no_route);
    let target = |kind: &'static Kind, namespace: Option<&str>, name: Option<&str>| Target {
        kind,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
        subresource: None,
    };
    match rest {
        [plural] => Ok(target(find(plural)?, None, None)),
        [plural, name] => {
            let kind = find(plural)?;
            if kind.namespaced { Err(ApiError::no_route()) } else { Ok(target(kind, None, Some(name))) }
        }
        ["namespaces", ns, plural, name @ ..] if name.len() <= 1 => {
            let kind = find(plural)?;
            if kind.namespaced { Ok(target(kind, Some(ns), name.first().copied())) } else { Err(ApiError::no_route()) }
        }
        ["namespaces", ns, plural, name, sub] if SUBRESOURCES.iter().any(|s| s.parent == *plural && s.name == *sub) => {
            let mut target = target(find(plural)?, Some(ns), Some(name));
            target.subresource = Some((*sub).to_owned());
            Ok(target)
        }
        _ => Err(ApiError::no_route()),
    }
}

fn verb(method: &Method, target: &Target, query: &Query) -> Result<&'static str, ApiError> {
    let collection = target.name.is_none();
    Ok(match (method.as_str(), collection) {
        ("POST", false) if target.subresource.is_some() => "create",
        (other, false) if target.subresource.is_some() => return Err(ApiError::method_not_allowed(other)),
        ("GET" | "HEAD", true) if query.watch => "watch",
        ("GET" | "HEAD", true) => "list",
        ("GET" | "HEAD", false) => "get",
        ("POST", true) if target.kind.namespaced && target.namespace.is_none() => return Err(ApiError::method_not_allowed("POST")),
        ("POST", true) => "create",
        ("PUT", false) => "update",
        ("PATCH", false) => "patch",
        ("DELETE", false) => "delete",
        (other, _) => return Err(ApiError::method_not_allowed(other)),
    })
}

/// `POST .../serviceaccounts/NAME/token`: a TokenRequest, answered as the real API server does,
/// with the token in `status.token` and its expiry in `status.expirationTimestamp`.
fn token_request(api: &Api, target: &Target, request: &Request) -> Result<Response, ApiError> {
    let (namespace, name) = (target.namespace.as_deref().unwrap_or_default(), target.name.as_deref().unwrap_or_default());
    // `kubectl create token` sends its TokenRequest in protobuf, as client-go does for built-in types.
    let content_type = request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let body = if content_type.contains("protobuf") {
        super::protobuf::token_request(&request.body)
            .ok_or_else(|| ApiError::bad_request("the body of the request could not be decoded as a TokenRequest"))?
    } else {
        body_object(request)?
    };
    let invalid = |message: String| ApiError::invalid_named("TokenRequest.authentication.k8s.io", name, &message);
    let requested = match body.pointer("/spec/expirationSeconds") {
        None | Some(Value::Null) => auth::DEFAULT_EXPIRATION,
        Some(seconds) => {
            let seconds = seconds.as_i64().ok_or_else(|| invalid(format!("spec.expirationSeconds: Invalid value: {seconds}: must be an integer")))?;
            if seconds < i64::try_from(auth::MIN_EXPIRATION.as_secs()).unwrap_or(i64::MAX) {
                return Err(invalid(format!("spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 10 minutes")));
            }
            if seconds > 1 << 32 {
                return Err(invalid(format!(
                    "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds"
                )));
            }
            std::time::Duration::from_secs(seconds.unsigned_abs())
        }
    };
    let audiences: Vec<String> = match body.pointer("/spec/audiences").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec![auth::API_AUDIENCE.to_owned()],
    };
    let account = api.store.get(&target.kind.id(), Some(namespace), name).ok_or_else(|| ApiError::not_found(target.kind, name))?;
    let (token, expires, lifetime) = auth::issue(&api.tokens, &account, &audiences, requested)?;
    let response = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": null},
        "spec": {"audiences": audiences, "expirationSeconds": lifetime.as_secs(), "boundObjectRef": null},
        "status": {"token": token, "expirationTimestamp": crate::talos::logfmt::rfc3339_seconds(expires)},
    });
    Ok(json_response(StatusCode::CREATED, &response))
}

/// A single object in the requested representation.
fn one(kind: &Kind, object: &Value, output: &Output, code: StatusCode) -> Response {
    let body = match output {
        Output::Json => present(kind, object),
        Output::Table(include) => table::table(kind, &[object], json!({"resourceVersion": object["metadata"]["resourceVersion"]}), include, true),
        Output::Metadata => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]}),
    };
    json_response(code, &body)
}

fn get(api: &Api, target: &Target, output: &Output) -> Result<Response, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let object = api.store.get(&target.kind.id(), target.namespace.as_deref(), name).ok_or_else(|| ApiError::not_found(target.kind, name))?;
    Ok(one(target.kind, &object, output, StatusCode::OK))
}

fn list(api: &Api, target: &Target, query: &Query, output: &Output) -> Result<Response, ApiError> {
    let kind = target.kind;
    let (list_rv, after) = match &query.continue_token {
        Some(token) => {
            let (rv, key) = decode_continue(token)?;
            if api.store.is_expired(rv) {
                return Err(ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ));
            }
            (Some(rv), Some(key))
        }
        None => (None, None),
    };
    let keep = |o: &Value| query.labels.matches(o) && query.fields.matches(o);
    let page = api.store.list_page(&kind.id(), target.namespace.as_deref(), after.as_ref(), query.limit, keep);
    // Every page reports the first page's version, as the real server does: a watch started from
    // it after the last page replays whatever changed while the pages were read.
    let rv = list_rv.unwrap_or(page.revision);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(next) = &page.next {
        meta["continue"] = json!(encode_continue(rv, next));
    }
    let body = match output {
        Output::Json => {
            let items: Vec<Value> = page.items.iter().map(|o| present(kind, o)).collect();
            json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(), "metadata": meta, "items": items})
        }
        Output::Table(include) => table::table(kind, &page.items.iter().collect::<Vec<_>>(), meta, include, true),
        Output::Metadata => {
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|o| json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}))
                .collect();
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items})
        }
    };
    Ok(json_response(StatusCode::OK, &body))
}

fn encode_continue(rv: u64, (namespace, name): &(Option<String>, String)) -> String {
    BASE64.encode(json!({"rv": rv, "ns": namespace, "name": name}).to_string())
}

fn decode_continue(token: &str) -> Result<(u64, (Option<String>, String)), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes = BASE64.decode(token).map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let rv = value["rv"].as_u64().ok_or_else(invalid)?;
    let name = value["name"].as_str().ok_or_else(invalid)?.to_owned();
    Ok((rv, (value["ns"].as_str().map(str::to_owned), name)))
}

/// Decodes a request body (JSON, or YAML for hand-written requests).
fn body_object(request: &Request) -> Result<Value, ApiError> {
    let content_type = request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        // client-go falls back to JSON on 415, as with servers that lack a serializer.
        return Err(ApiError::unsupported_media_type(content_type, "application/json, application/yaml"));
    }
    let value: Value = if content_type.contains("yaml") {
        let text = std::str::from_utf8(&request.body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        serde_saphyr::from_str(text).map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded: {e}")))?
    } else {
        serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded: {e}")))?
    };
    if value.is_object() { Ok(value) } else { Err(ApiError::bad_request("the body of the request must be a JSON object")) }
}

/// Checks the body's `kind`/`apiVersion` (when given) and namespace, then sets them.
fn admit(target: &Target, object: &mut Value) -> Result<(), ApiError> {
    let kind = target.kind;
    if let Some(v) = object.get("apiVersion").and_then(Value::as_str).filter(|v| *v != kind.api_version()) {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({v}) does not match the expected API version ({})",
            kind.api_version()
        )));
    }
    if let Some(k) = object.get("kind").and_then(Value::as_str).filter(|k| *k != kind.kind) {
        return Err(ApiError::bad_request(format!("the kind in the data ({k}) does not match the expected kind ({})", kind.kind)));
    }
    object["kind"] = json!(kind.kind);
    object["apiVersion"] = json!(kind.api_version());
    if !object.get("metadata").is_some_and(Value::is_object) {
        object["metadata"] = json!({});
    }
    match (&target.namespace, object.pointer("/metadata/namespace").and_then(Value::as_str)) {
        (Some(url), Some(body)) if !body.is_empty() && body != url => {
            Err(ApiError::bad_request("the namespace of the provided object does not match the namespace sent on the request"))
        }
        (Some(url), _) => {
            object["metadata"]["namespace"] = json!(url);
            Ok(())
        }
        (None, _) => {
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.remove("namespace");
            }
            Ok(())
        }
    }
}

/// Namespaces, the first served kind.
fn namespaces() -> &'static Kind {
    &KINDS[0]
}

fn create(api: &Api, target: &Target, request: &Request) -> Result<Response, ApiError> {
    let kind = target.kind;
    let mut object = body_object(request)?;
    admit(target, &mut object)?;
    if let Some(ns) = &target.namespace
        && api.store.get(&namespaces().id(), None, ns).is_none()
    {
        return Err(ApiError::not_found(namespaces(), ns));
    }
    let meta = &mut object["metadata"];
    if meta["name"].as_str().is_none_or(str::is_empty) {
        match meta["generateName"].as_str() {
            Some(prefix) if !prefix.is_empty() => meta["name"] = json!(format!("{prefix}{}", random_suffix())),
            _ => return Err(ApiError::invalid(kind, "", "metadata.name: Required value: name or generateName is required")),
        }
    }
    if let Some(meta) = meta.as_object_mut() {
        meta.remove("resourceVersion");
        meta.remove("uid");
        meta.remove("creationTimestamp");
    }
    let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    if kind.plural == "namespaces" {
        // What the real API server and namespace controller fill in.
        object["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        if object.pointer("/status/phase").is_none() {
            object["status"] = json!({"phase": "Active"});
        }
        if object.pointer("/spec/finalizers").is_none() {
            object["spec"]["finalizers"] = json!(["kubernetes"]);
        }
    }
    let created = api.store.create(&kind.id(), target.namespace.as_deref(), object).map_err(|e| ApiError::from_store(e, kind, &name))?;
    Ok(one(kind, &created, &Output::Json, StatusCode::CREATED))
}

fn update(api: &Api, target: &Target, request: &Request) -> Result<Response, ApiError> {
    let kind = target.kind;
    let name = target.name.as_deref().unwrap_or_default();
    let mut object = body_object(request)?;
    admit(target, &mut object)?;
    match object.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!("the name of the object ({n}) does not match the name on the URL ({name})")));
        }
        _ => object["metadata"]["name"] = json!(name),
    }
    let updated = api.store.replace(&kind.id(), target.namespace.as_deref(), name, object).map_err(|e| ApiError::from_store(e, kind, name))?;
    Ok(one(kind, &updated, &Output::Json, StatusCode::OK))
}

fn patch(api: &Api, target: &Target, request: &Request) -> Result<Response, ApiError> {
    let kind = target.kind;
    let name = target.name.as_deref().unwrap_or_default();
    let (id, namespace) = (kind.id(), target.namespace.as_deref());
    let content_type = request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let store_error = |e: StoreError| ApiError::from_store(e, kind, name);
    let patched = match media {
        "application/merge-patch+json" => api.store.merge_patch(&id, namespace, name, &patch_body(request)?).map_err(store_error)?,
        // On these simple types a strategic merge patch is a merge patch once its directives
        // (`$patch`, `$setElementOrder/...`, `$retainKeys`) are dropped.
        "application/strategic-merge-patch+json" => {
            let mut body = patch_body(request)?;
            strip_directives(&mut body);
            api.store.merge_patch(&id, namespace, name, &body).map_err(store_error)?
        }
        "application/json-patch+json" => json_patch(api, &id, target, &patch_body(request)?)?,
        // Server-side apply, approximated: create the object, or merge the applied fields in.
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
            let mut object = body_object(request)?;
            admit(target, &mut object)?;
            object["metadata"]["name"] = json!(name);
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.remove("resourceVersion");
            }
            api.store.upsert(&id, namespace, object).map_err(store_error)?
        }
        other => return Err(ApiError::unsupported_media_type(other, PATCH_TYPES)),
    };
    Ok(one(kind, &patched, &Output::Json, StatusCode::OK))
}

const PATCH_TYPES: &str =
    "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";

fn patch_body(request: &Request) -> Result<Value, ApiError> {
    let content_type = request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if content_type.contains("protobuf") || content_type.contains("cbor") {
        return Err(ApiError::unsupported_media_type(content_type, PATCH_TYPES));
    }
    serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("the body of the request could not be decoded: {e}")))
}

fn strip_directives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            map.values_mut().for_each(strip_directives);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

/// RFC 6902 on the current object, written back with its version as a precondition.
fn json_patch(api: &Api, id: &ResourceId, target: &Target, ops: &Value) -> Result<Value, ApiError> {
    let (kind, namespace, name) = (target.kind, target.namespace.as_deref(), target.name.as_deref().unwrap_or_default());
    let mut object = api.store.get(id, namespace, name).ok_or_else(|| ApiError::not_found(kind, name))?;
    let ops = ops.as_array().ok_or_else(|| ApiError::bad_request("a JSON patch must be an array of operations"))?;
    for op in ops {
        apply_op(&mut object, op).map_err(|m| ApiError::invalid(kind, name, &m))?;
    }
    api.store.replace(id, namespace, name, object).map_err(|e| ApiError::from_store(e, kind, name))
}

fn apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let path = op["path"].as_str().ok_or("a JSON patch operation needs a path")?;
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("invalid path {path}"))?;
    let last = last.replace("~1", "/").replace("~0", "~");
    let value = || op.get("value").cloned().ok_or_else(|| format!("{path}: missing value"));
    let container = doc.pointer_mut(parent).ok_or_else(|| format!("{path}: no such path"))?;
    match (op["op"].as_str().unwrap_or_default(), container) {
        ("add" | "replace", Value::Object(map)) => {
            map.insert(last, value()?);
        }
        ("remove", Value::Object(map)) => {
            map.remove(&last).ok_or_else(|| format!("{path}: no such path"))?;
        }
        ("add", Value::Array(items)) if last == "-" => items.push(value()?),
        (op @ ("add" | "replace" | "remove"), Value::Array(items)) => {
            let i: usize = last.parse().map_err(|_| format!("{path}: not an index"))?;
            match op {
                "add" if i <= items.len() => items.insert(i, value()?),
                "replace" if i < items.len() => items[i] = value()?,
                "remove" if i < items.len() => {
                    items.remove(i);
                }
                _ => return Err(format!("{path}: index out of range")),
            }
        }
        ("test", c) => {
            let current = if parent.is_empty() && last.is_empty() { Some(&*c) } else { c.get(&last) };
            if current != op.get("value") {
                return Err(format!("{path}: test failed"));
            }
        }
        (other, _) => return Err(format!("{path}: unsupported operation {other:?}")),
    }
    Ok(())
}

fn delete(api: &Api, target: &Target) -> Result<Response, ApiError> {
    let kind = target.kind;
    let name = target.name.as_deref().unwrap_or_default();
    let deleted = api.store.delete(&kind.id(), target.namespace.as_deref(), name).map_err(|e| ApiError::from_store(e, kind, name))?;
    if kind.plural == "namespaces" {
        // The namespace controller's job, done at once: every object in it goes too.
        for k in KINDS.iter().filter(|k| k.namespaced) {
            let page = api.store.list_page(&k.id(), Some(name), None, 0, |_| true);
            for object in page.items {
                let _ = api.store.delete(&k.id(), Some(name), object["metadata"]["name"].as_str().unwrap_or_default());
            }
        }
    }
    Ok(one(kind, &deleted, &Output::Json, StatusCode::OK))
}

/// Five characters from `bcdfghjklmnpqrstvwxz2456789`, as the API server's name generator.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let hex = crate::tls::random_token().unwrap_or_default();
    let bytes = (0..5).filter_map(|i| hex.get(2 * i..2 * i + 2)).filter_map(|h| u8::from_str_radix(h, 16).ok());
    bytes.map(|b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_to_cluster_and_namespaced_targets() {
        let t = route("", "v1", &["nodes", "lab-controlplane-1"]).ok().unwrap();
        assert_eq!((t.kind.plural, t.namespace, t.name.as_deref()), ("nodes", None, Some("lab-controlplane-1")));
        let t = route("", "v1", &["namespaces", "argocd"]).ok().unwrap();
        assert_eq!((t.kind.plural, t.name.as_deref()), ("namespaces", Some("argocd")));
        let t = route("argoproj.io", "v1alpha1", &["namespaces", "argocd", "applications"]).ok().unwrap();
        assert_eq!((t.kind.plural, t.namespace.as_deref(), t.name), ("applications", Some("argocd"), None));
        assert!(route("", "v1", &["pods", "x"]).is_err(), "a namespaced object needs its namespace");
        assert!(route("", "v1", &["namespaces", "a", "pods", "x", "log"]).is_err(), "no pod subresources");
        let t = route("", "v1", &["namespaces", "vixens", "serviceaccounts", "reader", "token"]).ok().unwrap();
        assert_eq!((t.kind.plural, t.name.as_deref(), t.subresource.as_deref()), ("serviceaccounts", Some("reader"), Some("token")));
        assert!(route("", "v1", &["secrets"]).is_err());
    }

    #[test]
    fn json_patch_operations_apply_in_order() {
        let mut doc = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2]}});
        for op in [
            json!({"op": "add", "path": "/metadata/labels/b", "value": "2"}),
            json!({"op": "remove", "path": "/metadata/labels/a"}),
            json!({"op": "add", "path": "/spec/list/-", "value": 3}),
            json!({"op": "replace", "path": "/spec/list/0", "value": 0}),
            json!({"op": "test", "path": "/spec/list", "value": [0, 2, 3]}),
        ] {
            apply_op(&mut doc, &op).unwrap();
        }
        assert_eq!(doc, json!({"metadata": {"labels": {"b": "2"}}, "spec": {"list": [0, 2, 3]}}));
        assert_eq!(apply_op(&mut doc, &json!({"op": "test", "path": "/spec/list", "value": []})).unwrap_err(), "/spec/list: test failed");
    }

    #[test]
    fn generated_names_get_five_characters_of_the_api_servers_alphabet() {
        let suffix = random_suffix();
        assert_eq!(suffix.len(), 5);
        assert!(suffix.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)), "{suffix}");
        assert_eq!(namespaces().plural, "namespaces");
    }

    #[test]
    fn continue_tokens_round_trip() {
        let token = encode_continue(42, &(Some("argocd".into()), "traefik".into()));
        assert_eq!(decode_continue(&token).ok().unwrap(), (42, (Some("argocd".into()), "traefik".into())));
        assert_eq!(decode_continue("garbage").err().unwrap().message, "continue key is not valid: garbage");
    }
}
