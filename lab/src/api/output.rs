//! The representations of objects the API answers with: the objects themselves, a `Table` for
//! kubectl's server-side printing, or metadata only, negotiated from `Accept`. Shared by the
//! request handlers and the watch streams.

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::query::Query;
use super::resources::Kind;

/// The representation the client asked for in `Accept`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The objects themselves.
    Json,
    /// A `meta.k8s.io/v1` Table (kubectl's server-side printing); the string is `includeObject`.
    Table(String),
    /// `PartialObjectMetadata(List)` (metadata-only clients).
    Metadata,
}

impl Output {
    /// The first representation of `Accept` the lab serves; JSON when none is.
    pub fn negotiate(headers: &HeaderMap, query: &Query) -> Self {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        for media in accept.split(',') {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            let param = |name: &str| params.iter().find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
            if !matches!(params.first(), Some(&("application/json" | "*/*" | "application/*"))) {
                continue;
            }
            return match (param("as"), param("g")) {
                (Some("Table"), Some("meta.k8s.io")) => Self::Table(query.include_object.clone()),
                (Some("PartialObjectMetadata" | "PartialObjectMetadataList"), Some("meta.k8s.io")) => Self::Metadata,
                (None, _) => Self::Json,
                _ => continue,
            };
        }
        Self::Json
    }
}

/// The object as the API shows it: with its `kind` and `apiVersion`.
pub fn present(kind: &Kind, object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.entry("kind").or_insert_with(|| json!(kind.kind));
        map.entry("apiVersion").or_insert_with(|| json!(kind.api_version()));
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_accept_headers_pick_a_table() {
        let mut headers = HeaderMap::new();
        let query = Query::parse(None).unwrap();
        headers.insert(
            header::ACCEPT,
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json".parse().unwrap(),
        );
        assert_eq!(Output::negotiate(&headers, &query), Output::Table("Metadata".into()));
        headers.insert(header::ACCEPT, "application/vnd.kubernetes.protobuf, application/json".parse().unwrap());
        assert_eq!(Output::negotiate(&headers, &query), Output::Json);
    }
}
