//! API errors as the real server writes them: a `Status` object with the HTTP code, a reason and
//! a message that kubectl prints as `Error from server (<Reason>): <message>`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::Attributes;
use super::resources::Kind;
use crate::store::StoreError;

/// One failed request.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub code: StatusCode,
    /// `NotFound`, `Forbidden`, `Expired`, ... (metav1.StatusReason).
    pub reason: &'static str,
    /// What kubectl prints.
    pub message: String,
    /// `details` (name, group, kind), when the error is about one object.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: None }
    }

    fn about(mut self, kind: &Kind, name: &str) -> Self {
        let mut details = json!({"group": kind.group, "kind": kind.plural});
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        self.details = Some(details);
        self
    }

    /// 400: a request the server cannot understand.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 401: no or an unknown bearer token.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 403: `user` may not do what `request` asks, in RBAC's words.
    #[must_use]
    pub fn forbidden(user: &str, request: &Attributes<'_>) -> Self {
        let kind = request.kind;
        let scope = request.namespace.map_or_else(|| " at the cluster scope".to_owned(), |ns| format!(" in the namespace \"{ns}\""));
        let subject = if request.name.is_empty() { kind.qualified() } else { format!("{} \"{}\"", kind.qualified(), request.name) };
        Self::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!(
                "{subject} is forbidden: User \"{user}\" cannot {} resource \"{}\" in API group \"{}\"{scope}",
                request.verb,
                request.resource(),
                kind.group
            ),
        )
        .about(kind, request.name)
    }

    /// 404 for a path that names no served resource.
    #[must_use]
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "the server could not find the requested resource")
    }

    /// 404 for a missing object.
    #[must_use]
    pub fn not_found(kind: &Kind, name: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("{} \"{name}\" not found", kind.qualified())).about(kind, name)
    }

    /// 405: a verb the resource does not support at this path.
    #[must_use]
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("the server does not allow this method on the requested resource ({method})"),
        )
    }

    /// 410 for a watch or continue token older than the kept history.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(StatusCode::GONE, "Expired", message)
    }

    /// 415 for a body in a format the lab does not decode (protobuf, CBOR, an unknown patch type).
    #[must_use]
    pub fn unsupported_media_type(content_type: &str, accepted: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format ({content_type}) - accepted media types include: {accepted}"),
        )
    }

    /// 422 for an object the server refuses.
    #[must_use]
    pub fn invalid(kind: &Kind, name: &str, message: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", format!("{} \"{name}\" is invalid: {message}", kind.qualified())).about(kind, name)
    }

    /// 422 for a request object of a kind the lab does not store (a TokenRequest), named `qualified`.
    #[must_use]
    pub fn invalid_named(qualified: &str, name: &str, message: &str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", format!("{qualified} \"{name}\" is invalid: {message}"))
    }

    /// Maps a store failure on `kind`/`name` to the status the real server returns.
    #[must_use]
    pub fn from_store(err: StoreError, kind: &Kind, name: &str) -> Self {
        match err {
            StoreError::NotFound { name, .. } => Self::not_found(kind, &name),
            StoreError::AlreadyExists { name, .. } => {
                Self::new(StatusCode::CONFLICT, "AlreadyExists", format!("{} \"{name}\" already exists", kind.qualified())).about(kind, &name)
            }
            StoreError::Conflict { name, .. } => Self::new(
                StatusCode::CONFLICT,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    kind.qualified()
                ),
            )
            .about(kind, &name),
            err @ StoreError::Gone { .. } => Self::expired(err.to_string()),
            StoreError::Invalid(message) => Self::invalid(kind, name, &message),
        }
    }

    /// The `Status` object.
    #[must_use]
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        super::json_response(self.code, &self.to_status())
    }
}
