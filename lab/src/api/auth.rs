//! Who is calling, and what they may do, as the real API server decides it.
//!
//! Authentication is by bearer token:
//! - the admin token of the lab's kubeconfig may do everything (the real admin kubeconfig's user
//!   is in `system:masters`);
//! - the lab's read-only token may only get, list and watch (a lab convenience: neither real
//!   repository has such an identity);
//! - a ServiceAccount token minted by the TokenRequest API ([`issue`]): a JWT signed with the
//!   lab's signing key, valid until its `exp`, for the audience of the API server, and only while
//!   its ServiceAccount exists with the same uid. Its rights are what RBAC grants the
//!   ServiceAccount ([`authorize`]): ClusterRoleBindings and RoleBindings in the store.
//!
//! A new lab makes a new signing key, as a recreated cluster does, so every token of the
//! previous incarnation is refused (401), like its admin token and CA.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, KeyInit as _, Mac as _};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;

use super::resources::Kind;
use super::status::ApiError;
use crate::store::{ResourceId, Store};

/// The issuer and audience of the lab's ServiceAccount tokens: the API server's default.
pub const API_AUDIENCE: &str = "https://kubernetes.default.svc.cluster.local";
/// The shortest token the TokenRequest API issues (`may not specify a duration less than 10 minutes`).
pub const MIN_EXPIRATION: Duration = Duration::from_secs(600);
/// The expiration of a TokenRequest that asks for none.
pub const DEFAULT_EXPIRATION: Duration = Duration::from_secs(3600);

/// The API's credentials: two fixed bearer tokens, and the key ServiceAccount tokens are signed
/// with.
#[derive(Clone)]
pub struct Tokens {
    /// Every right.
    pub admin: String,
    /// Only get, list and watch.
    pub readonly: String,
    /// The HMAC key of ServiceAccount tokens; new for every lab.
    signing_key: Vec<u8>,
    /// The longest a minted token may live (`--service-account-max-token-expiration`); the
    /// `token-ttl` fault lowers it below the API's 10-minute minimum to test expiry quickly.
    max_expiration: Option<Duration>,
}

impl Tokens {
    /// The admin and read-only tokens, with a new random signing key.
    ///
    /// # Errors
    /// The kernel's random source cannot be read.
    pub fn new(admin: impl Into<String>, readonly: impl Into<String>) -> std::io::Result<Self> {
        let signing_key = crate::tls::random_token()?.into_bytes();
        Ok(Self { admin: admin.into(), readonly: readonly.into(), signing_key, max_expiration: None })
    }

    /// Caps the lifetime of every ServiceAccount token.
    #[must_use]
    pub fn max_expiration(mut self, max: Option<Duration>) -> Self {
        self.max_expiration = max;
        self
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        Hmac::<Sha256>::new_from_slice(&self.signing_key).expect("HMAC accepts any key length")
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The admin kubeconfig.
    Admin,
    /// The lab's read-only kubeconfig.
    ReadOnly,
    /// A ServiceAccount, by its token.
    ServiceAccount {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
}

impl Identity {
    /// The user name the API server's messages use.
    #[must_use]
    pub fn user(&self) -> String {
        match self {
            Self::Admin => "lab-admin".into(),
            Self::ReadOnly => "lab-readonly".into(),
            Self::ServiceAccount { namespace, name } => format!("system:serviceaccount:{namespace}:{name}"),
        }
    }
}

/// What a request asks to do, as RBAC sees it.
#[derive(Debug, Clone, Copy)]
pub struct Attributes<'a> {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    pub verb: &'a str,
    /// The kind of the object.
    pub kind: &'a Kind,
    /// The subresource (`token`), if any.
    pub subresource: Option<&'a str>,
    /// The namespace, for namespaced requests.
    pub namespace: Option<&'a str>,
    /// The object's name; empty for collections.
    pub name: &'a str,
}

impl Attributes<'_> {
    /// The resource as RBAC rules name it: `applications`, `serviceaccounts/token`.
    #[must_use]
    pub fn resource(&self) -> String {
        match self.subresource {
            Some(sub) => format!("{}/{sub}", self.kind.plural),
            None => self.kind.plural.to_owned(),
        }
    }
}

/// The caller's identity from its `Authorization: Bearer` header.
///
/// # Errors
/// 401 for no token, an unknown one, or a ServiceAccount token that is forged, expired, for
/// another audience, or whose ServiceAccount is gone.
pub fn authenticate(tokens: &Tokens, store: &Store, headers: &HeaderMap) -> Result<Identity, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    if constant_time_eq(token, &tokens.admin) {
        Ok(Identity::Admin)
    } else if constant_time_eq(token, &tokens.readonly) {
        Ok(Identity::ReadOnly)
    } else {
        service_account(tokens, store, token, Timestamp::now()).ok_or_else(ApiError::unauthorized)
    }
}

/// Compares secrets without leaking where they differ through timing.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The ServiceAccount a token authenticates, if it is valid at `now`.
fn service_account(tokens: &Tokens, store: &Store, token: &str, now: Timestamp) -> Option<Identity> {
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let mut mac = tokens.mac();
    mac.update(format!("{header}.{claims}").as_bytes());
    mac.verify_slice(&BASE64URL.decode(signature).ok()?).ok()?;
    let claims: Value = serde_json::from_slice(&BASE64URL.decode(claims).ok()?).ok()?;
    let second = now.as_second();
    let in_time = claims["nbf"].as_i64().is_some_and(|nbf| nbf <= second) && claims["exp"].as_i64().is_some_and(|exp| second < exp);
    let for_us = claims["aud"].as_array().is_some_and(|aud| aud.iter().any(|a| a == API_AUDIENCE));
    if !in_time || !for_us {
        return None;
    }
    let bound = &claims["kubernetes.io"];
    let namespace = bound["namespace"].as_str()?;
    let name = bound.pointer("/serviceaccount/name").and_then(Value::as_str)?;
    let uid = bound.pointer("/serviceaccount/uid").and_then(Value::as_str)?;
    // A token outlives nothing it is bound to: a deleted (or recreated) ServiceAccount ends it.
    let account = store.get(&ResourceId::new("", "serviceaccounts"), Some(namespace), name)?;
    (account.pointer("/metadata/uid").and_then(Value::as_str) == Some(uid))
        .then(|| Identity::ServiceAccount { namespace: namespace.to_owned(), name: name.to_owned() })
}

/// A token for `account` (a ServiceAccount object) valid for `requested` (capped by the lab's
/// maximum), with the time it expires.
///
/// # Errors
/// `account` has no name, namespace or uid (the store always sets them).
pub fn issue(tokens: &Tokens, account: &Value, audiences: &[String], requested: Duration) -> Result<(String, Timestamp, Duration), ApiError> {
    let field = |p: &str| account.pointer(p).and_then(Value::as_str).ok_or_else(|| ApiError::bad_request(format!("the ServiceAccount has no {p}")));
    let (namespace, name, uid) = (field("/metadata/namespace")?, field("/metadata/name")?, field("/metadata/uid")?);
    let lifetime = tokens.max_expiration.map_or(requested, |max| requested.min(max));
    let now = Timestamp::now();
    let expires = now + jiff::SignedDuration::try_from(lifetime).unwrap_or(jiff::SignedDuration::ZERO);
    let header = json!({"alg": "HS256", "kid": key_id(tokens)});
    let claims = json!({
        "aud": audiences,
        "exp": expires.as_second(),
        "iat": now.as_second(),
        "iss": API_AUDIENCE,
        "jti": crate::store::random_uid(),
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        "nbf": now.as_second(),
        "sub": format!("system:serviceaccount:{namespace}:{name}"),
    });
    let signed = format!("{}.{}", BASE64URL.encode(header.to_string()), BASE64URL.encode(claims.to_string()));
    let mut mac = tokens.mac();
    mac.update(signed.as_bytes());
    let signature = BASE64URL.encode(mac.finalize().into_bytes());
    Ok((format!("{signed}.{signature}"), expires, lifetime))
}

/// A public identifier of the signing key (the `kid` header), which changes with it.
fn key_id(tokens: &Tokens) -> String {
    let mut mac = tokens.mac();
    mac.update(b"kid");
    BASE64URL.encode(&mac.finalize().into_bytes()[..12])
}

/// Whether `identity` may do what `attributes` asks.
///
/// # Errors
/// 403 naming the user, the verb, the resource and the scope, as RBAC's denial reads.
pub fn authorize(identity: &Identity, store: &Store, attributes: &Attributes<'_>) -> Result<(), ApiError> {
    let allowed = match identity {
        Identity::Admin => true,
        Identity::ReadOnly => matches!(attributes.verb, "get" | "list" | "watch"),
        Identity::ServiceAccount { namespace, name } => {
            rules(store, namespace, name, attributes.namespace).iter().any(|rule| rule_allows(rule, attributes))
        }
    };
    if allowed { Ok(()) } else { Err(ApiError::forbidden(&identity.user(), attributes)) }
}

/// Every RBAC rule granted to ServiceAccount `namespace/name` for a request in `scope`: through
/// ClusterRoleBindings, and through RoleBindings of the request's namespace.
fn rules(store: &Store, namespace: &str, name: &str, scope: Option<&str>) -> Vec<Value> {
    let binds = |binding: &Value| binding["subjects"].as_array().into_iter().flatten().any(|s| subject_matches(s, namespace, name));
    let role_rules = |role_ref: &Value, binding_namespace: Option<&str>| -> Vec<Value> {
        let role_name = role_ref["name"].as_str().unwrap_or_default();
        let role = match role_ref["kind"].as_str() {
            Some("ClusterRole") => store.get(&ResourceId::new("rbac.authorization.k8s.io", "clusterroles"), None, role_name),
            Some("Role") => binding_namespace.and_then(|ns| store.get(&ResourceId::new("rbac.authorization.k8s.io", "roles"), Some(ns), role_name)),
            _ => None,
        };
        role.and_then(|r| r["rules"].as_array().cloned()).unwrap_or_default()
    };
    let mut granted = Vec::new();
    let cluster_bindings = store.list(&ResourceId::new("rbac.authorization.k8s.io", "clusterrolebindings"), None).0;
    for binding in cluster_bindings.iter().filter(|b| binds(b)) {
        granted.extend(role_rules(&binding["roleRef"], None));
    }
    if let Some(scope) = scope {
        let bindings = store.list(&ResourceId::new("rbac.authorization.k8s.io", "rolebindings"), Some(scope)).0;
        for binding in bindings.iter().filter(|b| binds(b)) {
            granted.extend(role_rules(&binding["roleRef"], Some(scope)));
        }
    }
    granted
}

/// A binding subject naming this ServiceAccount, its user name, or a group it belongs to.
fn subject_matches(subject: &Value, namespace: &str, name: &str) -> bool {
    let subject_name = subject["name"].as_str().unwrap_or_default();
    match subject["kind"].as_str() {
        Some("ServiceAccount") => subject_name == name && subject["namespace"].as_str() == Some(namespace),
        Some("User") => subject_name == format!("system:serviceaccount:{namespace}:{name}"),
        Some("Group") => {
            ["system:serviceaccounts", "system:authenticated"].contains(&subject_name)
                || subject_name == format!("system:serviceaccounts:{namespace}")
        }
        _ => false,
    }
}

/// One PolicyRule against the request: verb, API group, resource and, when the rule lists them,
/// the object's name.
fn rule_allows(rule: &Value, attributes: &Attributes<'_>) -> bool {
    let has = |field: &str, wanted: &str| rule[field].as_array().is_some_and(|items| items.iter().any(|i| i == "*" || i == wanted));
    let names = rule["resourceNames"].as_array().filter(|n| !n.is_empty());
    let name_ok = names.is_none_or(|names| !attributes.name.is_empty() && names.iter().any(|n| n == attributes.name));
    has("verbs", attributes.verb) && has("apiGroups", attributes.kind.group) && has("resources", &attributes.resource()) && name_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_reader() -> (Store, Value) {
        let store = Store::default();
        let sa = store.create(&ResourceId::new("", "serviceaccounts"), Some("vixens"), json!({"metadata": {"name": "reader"}})).unwrap();
        store
            .create(
                &ResourceId::new("rbac.authorization.k8s.io", "clusterroles"),
                None,
                json!({"metadata": {"name": "read"}, "rules": [{"apiGroups": ["argoproj.io", ""], "resources": ["applications", "nodes"], "verbs": ["get", "list", "watch"]}]}),
            )
            .unwrap();
        store
            .create(
                &ResourceId::new("rbac.authorization.k8s.io", "clusterrolebindings"),
                None,
                json!({"metadata": {"name": "read"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "read"},
                       "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "vixens"}]}),
            )
            .unwrap();
        (store, sa)
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        headers
    }

    fn applications() -> &'static Kind {
        Kind::find("argoproj.io", "v1alpha1", "applications").unwrap()
    }

    #[test]
    fn a_minted_token_authenticates_its_service_account_until_it_expires() {
        let (store, sa) = store_with_reader();
        let tokens = Tokens::new("a", "r").unwrap();
        let (token, expires, lifetime) = issue(&tokens, &sa, &[API_AUDIENCE.into()], MIN_EXPIRATION).unwrap();
        assert_eq!(lifetime, MIN_EXPIRATION);
        let reader = Identity::ServiceAccount { namespace: "vixens".into(), name: "reader".into() };
        assert_eq!(authenticate(&tokens, &store, &bearer(&token)), Ok(reader.clone()));
        assert_eq!(reader.user(), "system:serviceaccount:vixens:reader");
        assert_eq!(service_account(&tokens, &store, &token, expires), None, "expired at its exp");
        let other_lab = Tokens::new("a", "r").unwrap();
        assert_eq!(authenticate(&other_lab, &store, &bearer(&token)).unwrap_err().code, 401, "another lab's key");
    }

    #[test]
    fn a_token_dies_with_its_service_account_and_is_refused_for_another_audience() {
        let (store, sa) = store_with_reader();
        let tokens = Tokens::new("a", "r").unwrap();
        let (vault, _, _) = issue(&tokens, &sa, &["vault".into()], MIN_EXPIRATION).unwrap();
        assert_eq!(authenticate(&tokens, &store, &bearer(&vault)).unwrap_err().code, 401);
        let (token, _, _) = issue(&tokens, &sa, &[API_AUDIENCE.into()], MIN_EXPIRATION).unwrap();
        store.delete(&ResourceId::new("", "serviceaccounts"), Some("vixens"), "reader").unwrap();
        store.create(&ResourceId::new("", "serviceaccounts"), Some("vixens"), json!({"metadata": {"name": "reader"}})).unwrap();
        assert_eq!(authenticate(&tokens, &store, &bearer(&token)).unwrap_err().code, 401, "a new ServiceAccount of the same name");
    }

    #[test]
    fn the_lifetime_is_capped_by_the_maximum_expiration() {
        let (_store, sa) = store_with_reader();
        let tokens = Tokens::new("a", "r").unwrap().max_expiration(Some(Duration::from_secs(2)));
        let (_, _, lifetime) = issue(&tokens, &sa, &[API_AUDIENCE.into()], DEFAULT_EXPIRATION).unwrap();
        assert_eq!(lifetime, Duration::from_secs(2));
    }

    #[test]
    fn rbac_grants_what_the_bound_cluster_role_says_and_nothing_else() {
        let (store, _) = store_with_reader();
        let reader = Identity::ServiceAccount { namespace: "vixens".into(), name: "reader".into() };
        let request = |verb| Attributes { verb, kind: applications(), subresource: None, namespace: Some("argocd"), name: "traefik" };
        for verb in ["get", "list", "watch"] {
            assert_eq!(authorize(&reader, &store, &request(verb)), Ok(()), "{verb}");
        }
        let denied = authorize(&reader, &store, &request("delete")).unwrap_err();
        assert_eq!(denied.code, 403);
        assert_eq!(
            denied.message,
            "applications.argoproj.io \"traefik\" is forbidden: User \"system:serviceaccount:vixens:reader\" cannot delete resource \"applications\" in API group \"argoproj.io\" in the namespace \"argocd\""
        );
        let stranger = Identity::ServiceAccount { namespace: "other".into(), name: "reader".into() };
        assert_eq!(authorize(&stranger, &store, &request("get")).unwrap_err().code, 403);
    }

    #[test]
    fn role_bindings_grant_only_in_their_namespace_and_resource_names_restrict() {
        let (store, _) = store_with_reader();
        store
            .create(
                &ResourceId::new("rbac.authorization.k8s.io", "roles"),
                Some("argocd"),
                json!({"metadata": {"name": "sync-traefik"}, "rules": [{"apiGroups": ["argoproj.io"], "resources": ["applications"], "resourceNames": ["traefik"], "verbs": ["patch"]}]}),
            )
            .unwrap();
        store
            .create(
                &ResourceId::new("rbac.authorization.k8s.io", "rolebindings"),
                Some("argocd"),
                json!({"metadata": {"name": "sync-traefik"}, "roleRef": {"kind": "Role", "name": "sync-traefik"},
                       "subjects": [{"kind": "Group", "name": "system:serviceaccounts:vixens"}]}),
            )
            .unwrap();
        let reader = Identity::ServiceAccount { namespace: "vixens".into(), name: "reader".into() };
        let patch = |namespace, name| Attributes { verb: "patch", kind: applications(), subresource: None, namespace: Some(namespace), name };
        assert_eq!(authorize(&reader, &store, &patch("argocd", "traefik")), Ok(()));
        assert_eq!(authorize(&reader, &store, &patch("argocd", "keda")).unwrap_err().code, 403);
        assert_eq!(authorize(&reader, &store, &patch("other", "traefik")).unwrap_err().code, 403);
    }
}
