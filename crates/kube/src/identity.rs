//! The read-only identity the harness mints after every recreate, and what tells that a
//! read-only kubeconfig no longer works.
//!
//! Neither the homelab's repositories nor Talos make a read-only identity, and a token made by
//! hand dies with the cluster's signing key at the next recreate. So the harness, holding the
//! admin kubeconfig of the new cluster, makes sure a ServiceAccount, a ClusterRole allowed only
//! get, list and watch, and their ClusterRoleBinding exist ([`Cluster::mint_read_only`]), asks
//! the TokenRequest API for a short-lived token, and writes a kubeconfig with the admin's server
//! and CA and that token ([`read_only_kubeconfig`]). [`inspect`] reads such a kubeconfig back:
//! whether it still points at the admin's server and CA, and when its token expires (the JWT
//! `exp` claim, which every ServiceAccount token carries).

use std::path::Path;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use jiff::Timestamp;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use kube::config::Kubeconfig;
use serde::Serialize;

use crate::cluster::{Cluster, Error};

/// The read-only identity to mint: one name for the ServiceAccount, its ClusterRole and binding.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnlyIdentity<'a> {
    /// The ServiceAccount's namespace.
    pub namespace: &'a str,
    /// The name of the ServiceAccount, the ClusterRole and the ClusterRoleBinding.
    pub name: &'a str,
    /// The `expirationSeconds` to ask for (the API may grant less).
    pub token_ttl: Duration,
}

/// What the read-only identity may read: every resource the checks and the read-only documented
/// commands read (Applications, Events, Nodes, Pods, volumes, workloads), with get, list and
/// watch only. Not Secrets: like Kubernetes' own `view` role, a read-only identity does not
/// read credentials.
pub const READ_RULES: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "nodes",
            "namespaces",
            "pods",
            "pods/log",
            "events",
            "services",
            "endpoints",
            "configmaps",
            "serviceaccounts",
            "persistentvolumes",
            "persistentvolumeclaims",
        ],
    ),
    ("events.k8s.io", &["events"]),
    ("apps", &["deployments", "statefulsets", "daemonsets", "replicasets"]),
    ("batch", &["jobs", "cronjobs"]),
    ("storage.k8s.io", &["storageclasses", "volumeattachments", "csidrivers", "csinodes"]),
    ("networking.k8s.io", &["ingresses"]),
    ("argoproj.io", &["applications", "applicationsets", "appprojects"]),
];

/// The only verbs granted.
const READ_VERBS: &[&str] = &["get", "list", "watch"];

/// The label marking what the harness made, so that a person knows where it comes from.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "vixens");

/// How long a new cluster gets to create the ServiceAccount's namespace (the API server makes
/// `kube-system` right after it starts serving).
const NAMESPACE_WAIT: Duration = Duration::from_secs(15);

/// A token from the TokenRequest API. `Debug` never shows the token.
#[derive(Clone)]
pub struct MintedToken {
    /// The bearer token.
    pub token: String,
    /// When it expires, as the API said (`status.expirationTimestamp`).
    pub expires: Timestamp,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken").field("token", &"(secret)").field("expires", &self.expires).finish()
    }
}

impl Cluster {
    /// Makes sure `identity`'s ServiceAccount, ClusterRole ([`READ_RULES`]) and
    /// ClusterRoleBinding exist as the harness wants them (created, or kept, or put back), then
    /// asks the TokenRequest API for a token of `identity.token_ttl`. Run with the admin
    /// kubeconfig.
    ///
    /// # Errors
    /// As [`Cluster::probe`]: the API's refusal names the admin identity and the server.
    pub async fn mint_read_only(&self, identity: &ReadOnlyIdentity<'_>) -> Result<MintedToken, Error> {
        self.ensure_service_account(identity).await?;
        self.ensure_cluster_role(identity).await?;
        self.ensure_binding(identity).await?;
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().clone(), identity.namespace);
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(i64::try_from(identity.token_ttl.as_secs()).unwrap_or(i64::MAX)),
                ..TokenRequestSpec::default()
            }),
            ..TokenRequest::default()
        };
        let answer = accounts.create_token_request(identity.name, &PostParams::default(), &request).await.map_err(|e| self.endpoint().classify(e))?;
        let status = answer.status.ok_or_else(|| self.malformed("a TokenRequest answer without a status"))?;
        let token = status.token.filter(|t| !t.is_empty()).ok_or_else(|| self.malformed("a TokenRequest answer without a token"))?;
        let expires = status.expiration_timestamp.ok_or_else(|| self.malformed("a TokenRequest answer without an expirationTimestamp"))?;
        // k8s-openapi's jiff is another major version than ours: through seconds.
        let expires = Timestamp::from_second(expires.0.as_second()).map_err(|_| self.malformed("an expirationTimestamp out of range"))?;
        Ok(MintedToken { token, expires })
    }

    /// Creates the ServiceAccount unless it exists, waiting a little for its namespace on a
    /// cluster that has just started.
    async fn ensure_service_account(&self, identity: &ReadOnlyIdentity<'_>) -> Result<(), Error> {
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client().clone(), identity.namespace);
        let account = ServiceAccount { metadata: metadata(identity.name), ..ServiceAccount::default() };
        let deadline = tokio::time::Instant::now() + NAMESPACE_WAIT;
        let mut delays = ExponentialBuilder::default().with_min_delay(Duration::from_millis(100)).with_max_delay(Duration::from_secs(2)).build();
        loop {
            if accounts.get_opt(identity.name).await.map_err(|e| self.endpoint().classify(e))?.is_some() {
                return Ok(());
            }
            match accounts.create(&PostParams::default(), &account).await {
                Ok(_) => return Ok(()),
                // The namespace is not there yet (404), or another run made the account (409).
                Err(kube::Error::Api(status)) if status.code == 409 => return Ok(()),
                Err(kube::Error::Api(status)) if status.code == 404 && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(delays.next().unwrap_or(Duration::from_secs(2))).await;
                }
                Err(e) => return Err(self.endpoint().classify(e)),
            }
        }
    }

    /// Creates the ClusterRole, or puts its rules back when someone changed them.
    async fn ensure_cluster_role(&self, identity: &ReadOnlyIdentity<'_>) -> Result<(), Error> {
        let roles: Api<ClusterRole> = Api::all(self.client().clone());
        let wanted = ClusterRole { metadata: metadata(identity.name), rules: Some(read_rules()), ..ClusterRole::default() };
        match roles.get_opt(identity.name).await.map_err(|e| self.endpoint().classify(e))? {
            None => roles.create(&PostParams::default(), &wanted).await.map(drop),
            Some(existing) if existing.rules == wanted.rules => return Ok(()),
            Some(existing) => {
                let replaced = ClusterRole { metadata: existing.metadata, ..wanted };
                roles.replace(identity.name, &PostParams::default(), &replaced).await.map(drop)
            }
        }
        .map_err(|e| self.endpoint().classify(e))
    }

    /// Creates the ClusterRoleBinding, or makes it again when it binds something else (its
    /// `roleRef` cannot be changed in place).
    async fn ensure_binding(&self, identity: &ReadOnlyIdentity<'_>) -> Result<(), Error> {
        let bindings: Api<ClusterRoleBinding> = Api::all(self.client().clone());
        let wanted = ClusterRoleBinding {
            metadata: metadata(identity.name),
            role_ref: RoleRef { api_group: Some("rbac.authorization.k8s.io".into()), kind: "ClusterRole".into(), name: identity.name.into() },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: identity.name.into(),
                namespace: Some(identity.namespace.into()),
                ..Subject::default()
            }]),
        };
        let classify = |e| self.endpoint().classify(e);
        match bindings.get_opt(identity.name).await.map_err(classify)? {
            Some(existing) if existing.role_ref == wanted.role_ref && existing.subjects == wanted.subjects => return Ok(()),
            Some(_) => {
                bindings.delete(identity.name, &DeleteParams::default()).await.map_err(classify)?;
            }
            None => {}
        }
        bindings.create(&PostParams::default(), &wanted).await.map(drop).map_err(classify)
    }

    fn malformed(&self, what: &str) -> Error {
        Error::Api {
            server: self.endpoint().server.clone(),
            source: kube::Error::Api(Box::new(
                kube::core::Status::failure(&format!("the API server answered {what}"), "InternalError").with_code(500),
            )),
        }
    }
}

fn metadata(name: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name.to_owned()), labels: Some([(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())].into()), ..ObjectMeta::default() }
}

fn read_rules() -> Vec<PolicyRule> {
    READ_RULES
        .iter()
        .map(|(group, resources)| PolicyRule {
            api_groups: Some(vec![(*group).to_owned()]),
            resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
            verbs: READ_VERBS.iter().map(|v| (*v).to_owned()).collect(),
            ..PolicyRule::default()
        })
        .collect()
}

/// Why a kubeconfig cannot be turned into a read-only one.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// The admin kubeconfig cannot be read.
    #[error("cannot read the admin kubeconfig {}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: std::path::PathBuf,
        /// Why, without its content.
        reason: String,
    },
    /// Its current context names no usable cluster.
    #[error("the admin kubeconfig {} has no cluster with a server for its current context", path.display())]
    NoCluster {
        /// The file.
        path: std::path::PathBuf,
    },
}

/// The server and CA of a kubeconfig's current context: what a read-only kubeconfig must share
/// with the admin one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    /// The API server URL.
    pub server: String,
    /// The CA, base64 PEM (`certificate-authority-data`, or a `certificate-authority` file read
    /// and encoded), if any.
    pub ca_data: Option<String>,
    /// `insecure-skip-tls-verify`.
    pub insecure: bool,
    /// The bearer token of the current user, if it has one.
    token: Option<String>,
}

impl ClusterAccess {
    /// The current context's cluster of the kubeconfig at `path`.
    ///
    /// # Errors
    /// The file cannot be read or has no cluster with a server for its current context.
    pub fn read(path: &Path) -> Result<Self, KubeconfigError> {
        let unreadable = |reason: String| KubeconfigError::Unreadable { path: path.to_owned(), reason };
        let config = Kubeconfig::read_from(path).map_err(|e| unreadable(crate::cluster::describe(&e)))?;
        let current = config.current_context.as_deref();
        let context = config.contexts.iter().find(|c| Some(c.name.as_str()) == current).and_then(|c| c.context.as_ref());
        let no_cluster = || KubeconfigError::NoCluster { path: path.to_owned() };
        let context = context.ok_or_else(no_cluster)?;
        let cluster = config.clusters.iter().find(|c| c.name == context.cluster).and_then(|c| c.cluster.as_ref()).ok_or_else(no_cluster)?;
        let server = cluster.server.clone().ok_or_else(no_cluster)?;
        let ca_data = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
            (Some(data), _) => Some(data.trim().to_owned()),
            (None, Some(file)) => {
                let file = path.parent().unwrap_or(Path::new(".")).join(file);
                let pem = std::fs::read(&file).map_err(|e| unreadable(format!("its CA file {}: {e}", file.display())))?;
                Some(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem))
            }
            (None, None) => None,
        };
        let user = context.user.as_deref();
        let token = config
            .auth_infos
            .iter()
            .find(|u| Some(u.name.as_str()) == user)
            .and_then(|u| u.auth_info.as_ref())
            // The token is a `SecretString`: serialising is how kube-rs hands it out.
            .and_then(|u| serde_json::to_value(u).ok()?.get("token")?.as_str().map(str::to_owned));
        Ok(Self { server, ca_data, insecure: cluster.insecure_skip_tls_verify.unwrap_or(false), token })
    }
}

/// The kubeconfig of the read-only identity: `admin`'s server and CA, the ServiceAccount's
/// token. Its context and user are named after the environment and the ServiceAccount.
#[must_use]
pub fn read_only_kubeconfig(admin: &ClusterAccess, environment: &str, identity: &ReadOnlyIdentity<'_>, token: &MintedToken) -> String {
    #[derive(Serialize)]
    struct File<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        kind: &'a str,
        clusters: [Named<'a, ClusterEntry<'a>>; 1],
        contexts: [Named<'a, ContextEntry<'a>>; 1],
        users: [Named<'a, UserEntry<'a>>; 1],
        #[serde(rename = "current-context")]
        current_context: &'a str,
    }
    #[derive(Serialize)]
    struct Named<'a, T> {
        name: &'a str,
        #[serde(flatten)]
        value: T,
    }
    #[derive(Serialize)]
    struct ClusterEntry<'a> {
        cluster: ClusterFields<'a>,
    }
    #[derive(Serialize)]
    struct ClusterFields<'a> {
        server: &'a str,
        #[serde(rename = "certificate-authority-data", skip_serializing_if = "Option::is_none")]
        ca_data: Option<&'a str>,
        #[serde(rename = "insecure-skip-tls-verify", skip_serializing_if = "std::ops::Not::not")]
        insecure: bool,
    }
    #[derive(Serialize)]
    struct ContextEntry<'a> {
        context: ContextFields<'a>,
    }
    #[derive(Serialize)]
    struct ContextFields<'a> {
        cluster: &'a str,
        user: &'a str,
    }
    #[derive(Serialize)]
    struct UserEntry<'a> {
        user: UserFields<'a>,
    }
    #[derive(Serialize)]
    struct UserFields<'a> {
        token: &'a str,
    }
    let user = format!("system:serviceaccount:{}:{}", identity.namespace, identity.name);
    let file = File {
        api_version: "v1",
        kind: "Config",
        clusters: [Named {
            name: environment,
            value: ClusterEntry { cluster: ClusterFields { server: &admin.server, ca_data: admin.ca_data.as_deref(), insecure: admin.insecure } },
        }],
        contexts: [Named { name: environment, value: ContextEntry { context: ContextFields { cluster: environment, user: &user } } }],
        users: [Named { name: &user, value: UserEntry { user: UserFields { token: &token.token } } }],
        current_context: environment,
    };
    serde_saphyr::to_string(&file).unwrap_or_default()
}

/// What is wrong with a read-only kubeconfig, compared with the admin one, at a given time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// Same server and CA; the token is valid until `expires` (when it says).
    Fresh {
        /// When its token expires, if it is a JWT with an `exp` claim.
        expires: Option<Timestamp>,
    },
    /// Its token expires within the warning window.
    Expiring {
        /// When.
        expires: Timestamp,
    },
    /// Its token has expired.
    Expired {
        /// When.
        expired: Timestamp,
    },
    /// It points at another server or trusts another CA than the admin kubeconfig: it was made
    /// for an earlier incarnation of the cluster.
    Stale {
        /// What differs (`server https://a (admin: https://b)`, `CA`).
        differs: String,
    },
}

/// How `readonly` compares with `admin` at `now`; a token expiring within `warn_within` is
/// [`Freshness::Expiring`].
#[must_use]
pub fn inspect(readonly: &ClusterAccess, admin: &ClusterAccess, now: Timestamp, warn_within: Duration) -> Freshness {
    if readonly.server != admin.server {
        return Freshness::Stale { differs: format!("its server is {} but the admin kubeconfig's is {}", readonly.server, admin.server) };
    }
    if readonly.ca_data != admin.ca_data || readonly.insecure != admin.insecure {
        return Freshness::Stale { differs: "it trusts another CA than the admin kubeconfig (the cluster was recreated)".into() };
    }
    let Some(expires) = readonly.token.as_deref().and_then(jwt_expiry) else { return Freshness::Fresh { expires: None } };
    if expires <= now {
        Freshness::Expired { expired: expires }
    } else if expires.as_second() - now.as_second() <= i64::try_from(warn_within.as_secs()).unwrap_or(i64::MAX) {
        Freshness::Expiring { expires }
    } else {
        Freshness::Fresh { expires: Some(expires) }
    }
}

/// The `exp` claim of a JWT (a ServiceAccount token), unverified: enough to say when the API
/// server will stop accepting it. `None` for a token that is not a JWT (a static token).
#[must_use]
pub fn jwt_expiry(token: &str) -> Option<Timestamp> {
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (_header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Timestamp::from_second(claims.get("exp")?.as_i64()?).ok()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn jwt(exp: i64) -> String {
        let encode = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.c2ln",
            encode(serde_json::json!({"alg": "RS256"})),
            encode(serde_json::json!({"exp": exp, "sub": "system:serviceaccount:kube-system:r"}))
        )
    }

    fn access(server: &str, ca: &str, token: Option<String>) -> ClusterAccess {
        ClusterAccess { server: server.into(), ca_data: Some(ca.into()), insecure: false, token }
    }

    #[test]
    fn the_expiry_of_a_service_account_token_is_its_exp_claim() {
        assert_eq!(jwt_expiry(&jwt(1_800_000_000)), Some(Timestamp::from_second(1_800_000_000).unwrap()));
        assert_eq!(jwt_expiry("a-static-token"), None);
        assert_eq!(jwt_expiry("a.!!!.c"), None);
    }

    #[test]
    fn a_read_only_kubeconfig_is_stale_when_its_server_or_ca_moved_and_expired_after_its_exp() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let admin = access("https://127.0.0.1:6443", "Q0E=", None);
        let hour = Duration::from_secs(3600);
        let fresh = access("https://127.0.0.1:6443", "Q0E=", Some(jwt(now.as_second() + 7200)));
        assert_eq!(inspect(&fresh, &admin, now, Duration::from_secs(300)), Freshness::Fresh { expires: Some(now + hour + hour) });
        let soon = access("https://127.0.0.1:6443", "Q0E=", Some(jwt(now.as_second() + 60)));
        assert!(matches!(inspect(&soon, &admin, now, Duration::from_secs(300)), Freshness::Expiring { .. }));
        let old = access("https://127.0.0.1:6443", "Q0E=", Some(jwt(now.as_second() - 1)));
        assert!(matches!(inspect(&old, &admin, now, Duration::from_secs(300)), Freshness::Expired { .. }));
        let moved = access("https://127.0.0.1:7000", "Q0E=", Some(jwt(now.as_second() + 7200)));
        let Freshness::Stale { differs } = inspect(&moved, &admin, now, Duration::from_secs(300)) else { panic!("moved server") };
        assert_eq!(differs, "its server is https://127.0.0.1:7000 but the admin kubeconfig's is https://127.0.0.1:6443");
        let new_ca = access("https://127.0.0.1:6443", "TkVX", Some(jwt(now.as_second() + 7200)));
        assert!(matches!(inspect(&new_ca, &admin, now, Duration::from_secs(300)), Freshness::Stale { .. }));
    }

    #[test]
    fn the_read_only_kubeconfig_carries_the_admin_server_and_ca_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let admin = access("https://127.0.0.1:6443", "Q0E=", Some("admin-token".into()));
        let identity = ReadOnlyIdentity { namespace: "kube-system", name: "vixens-readonly", token_ttl: Duration::from_secs(3600) };
        let token = MintedToken { token: jwt(1_800_000_000), expires: Timestamp::from_second(1_800_000_000).unwrap() };
        let text = read_only_kubeconfig(&admin, "lab", &identity, &token);
        let path = dir.path().join("kubeconfig-readonly");
        std::fs::write(&path, &text).unwrap();
        let read = ClusterAccess::read(&path).unwrap();
        assert_eq!((read.server.as_str(), read.ca_data.as_deref()), ("https://127.0.0.1:6443", Some("Q0E=")));
        assert_eq!(read.token.as_deref(), Some(token.token.as_str()));
        assert!(text.contains("user: system:serviceaccount:kube-system:vixens-readonly"), "{text}");
        assert!(!format!("{token:?}").contains(&token.token), "Debug keeps the token out");
    }
}
