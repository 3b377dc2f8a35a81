//! The query parameters of list, watch and get requests.
//!
//! kube-rs sends queries starting with `?&` (its request builder appends each parameter with
//! `&`): empty pairs are skipped.

use std::time::Duration;

use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;

/// How long a watch lasts when the client does not say (kube-rs's own default, so that both
/// sides agree).
pub const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(290);

/// Parsed query parameters.
#[derive(Debug, Default)]
pub struct Query {
    /// `labelSelector`.
    pub labels: LabelSelector,
    /// `fieldSelector`.
    pub fields: FieldSelector,
    /// `limit` (0 = no limit).
    pub limit: usize,
    /// `continue`.
    pub continue_token: Option<String>,
    /// `watch=true` (or `1`).
    pub watch: bool,
    /// `resourceVersion` (`None` when absent or empty).
    pub resource_version: Option<String>,
    /// `timeoutSeconds`, else [`DEFAULT_WATCH_TIMEOUT`].
    pub timeout: Duration,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// `sendInitialEvents=true` (streaming lists): the initial ADDED events end with a BOOKMARK
    /// annotated `k8s.io/initial-events-end: "true"`.
    pub send_initial_events: bool,
    /// `includeObject` of Table responses: `None`, `Object` or `Metadata` (the default).
    pub include_object: String,
}

impl Query {
    /// Parses a raw query string.
    ///
    /// # Errors
    /// 400 for a malformed selector or number.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut query = Self { timeout: DEFAULT_WATCH_TIMEOUT, include_object: "Metadata".into(), ..Self::default() };
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "labelSelector" => query.labels = LabelSelector::parse(&value).map_err(ApiError::bad_request)?,
                "fieldSelector" => query.fields = FieldSelector::parse(&value).map_err(ApiError::bad_request)?,
                "limit" => query.limit = number(&key, &value)?,
                "continue" if !value.is_empty() => query.continue_token = Some(value.into_owned()),
                "watch" => query.watch = value == "true" || value == "1",
                "resourceVersion" if !value.is_empty() => query.resource_version = Some(value.into_owned()),
                "timeoutSeconds" => query.timeout = Duration::from_secs(number(&key, &value)? as u64),
                "allowWatchBookmarks" => query.bookmarks = value == "true",
                "sendInitialEvents" => query.send_initial_events = value == "true",
                "includeObject" => query.include_object = value.into_owned(),
                _ => {}
            }
        }
        Ok(query)
    }
}

fn number(key: &str, value: &str) -> Result<usize, ApiError> {
    value.parse().map_err(|_| ApiError::bad_request(format!("{key}: invalid value \"{value}\": expected a non-negative integer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_rs_watch_queries_parse_despite_the_leading_ampersand() {
        let q = Query::parse(Some("&watch=true&timeoutSeconds=290&allowWatchBookmarks=true&resourceVersion=10")).unwrap();
        assert!(q.watch && q.bookmarks);
        assert_eq!(q.resource_version.as_deref(), Some("10"));
        assert_eq!(q.timeout, Duration::from_secs(290));
    }

    #[test]
    fn a_bad_number_is_a_bad_request() {
        let err = Query::parse(Some("limit=ten")).unwrap_err();
        assert_eq!(err.message, "limit: invalid value \"ten\": expected a non-negative integer");
    }
}
