//! The Kubernetes client: built from a kubeconfig (an environment's admin one, or its read-only
//! one for the read-only suites), with errors that say which file, which API server and
//! which identity, and never the credentials themselves.
//!
//! Also the "Kubernetes API reachable" probe of a recreate cycle: `GET /version` under a
//! deadline ([`Cluster::probe`]), retried until the phase budget runs out
//! ([`Cluster::wait_reachable`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use k8s_openapi::NamespaceResourceScope;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Api, Client, Config, Resource};
use tokio::time::Instant;

/// Errors reaching or using the Kubernetes API. [`Error::Unreachable`] and [`Error::TimedOut`]
/// are worth retrying (the API may be coming up); the others need a change of configuration
/// or credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A read-only check on a protected environment that names no read-only identity.
    #[error("{0}")]
    NoReadOnlyIdentity(String),
    /// The kubeconfig file does not exist.
    #[error("kubeconfig {} does not exist (check `{key}` in the environment's env.yaml)", path.display())]
    KubeconfigMissing {
        /// The file.
        path: PathBuf,
        /// The env.yaml key it came from (`kubeconfig` or `kubeconfig-readonly`).
        key: &'static str,
    },
    /// The kubeconfig cannot be read or used (bad YAML, no current context, no server URL).
    #[error("kubeconfig {} cannot be used: {reason}", path.display())]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What is wrong, without the file's content (which holds credentials).
        reason: String,
    },
    /// The client could not be built from a valid kubeconfig (a bad CA or client certificate).
    #[error("cannot build a Kubernetes client for {server} from {}", kubeconfig.display())]
    Client {
        /// The API server URL.
        server: String,
        /// The kubeconfig.
        kubeconfig: PathBuf,
        /// What failed.
        #[source]
        source: kube::Error,
    },
    /// The API server did not answer (connection refused, TLS failure, DNS).
    #[error("the Kubernetes API at {server} is unreachable")]
    Unreachable {
        /// The API server URL.
        server: String,
        /// What failed.
        #[source]
        source: kube::Error,
    },
    /// No answer within the deadline.
    #[error("the Kubernetes API at {server} did not answer within {}", humantime::format_duration(*after))]
    TimedOut {
        /// The API server URL.
        server: String,
        /// The deadline.
        after: Duration,
    },
    /// 401: the credentials were not accepted.
    #[error("the Kubernetes API at {server} rejected the credentials of user `{identity}` from {} (401 Unauthorized)", kubeconfig.display())]
    Unauthorized {
        /// The API server URL.
        server: String,
        /// The kubeconfig user.
        identity: String,
        /// The kubeconfig.
        kubeconfig: PathBuf,
    },
    /// 403: the identity may not do this.
    #[error("user `{identity}` from {} is not allowed this at {server} (403 Forbidden): {message}", kubeconfig.display())]
    Forbidden {
        /// The API server URL.
        server: String,
        /// The kubeconfig user.
        identity: String,
        /// The kubeconfig.
        kubeconfig: PathBuf,
        /// The API server's explanation (names the verb and resource, never the token).
        message: String,
    },
    /// Any other error answer.
    #[error("the Kubernetes API at {server} answered with an error")]
    Api {
        /// The API server URL.
        server: String,
        /// The error.
        #[source]
        source: kube::Error,
    },
}

/// Which identity a suite uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The environment's `kubeconfig`: destructive suites.
    Admin,
    /// The environment's `kubeconfig-readonly` when set (get/list/watch only), else, on a
    /// disposable environment only, its `kubeconfig`: read-only suites, which must pass with a
    /// read-only identity.
    ReadOnly,
}

/// Where requests go and as whom: what an error needs to name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The API server URL.
    pub server: String,
    /// The kubeconfig user of the current context.
    pub identity: String,
    /// The kubeconfig the client was built from.
    pub kubeconfig: PathBuf,
}

/// A client for one environment's Kubernetes API.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    endpoint: Endpoint,
}

/// What `GET /version` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    /// `v1.34.1`, as `kubectl version` prints it.
    pub git_version: String,
    /// `linux/amd64`.
    pub platform: String,
}

/// How often [`Cluster::wait_reachable`] retries: from 500 ms doubling to 5 s, the interval
/// `talosctl health` polls at (pkg/cluster/check in Talos).
const REACHABLE_MIN_DELAY: Duration = Duration::from_millis(500);
const REACHABLE_MAX_DELAY: Duration = Duration::from_secs(5);

impl Cluster {
    /// A client from the current context of the kubeconfig at `path`. Contacts nothing yet.
    ///
    /// # Errors
    /// [`Error::KubeconfigMissing`], [`Error::Kubeconfig`] or [`Error::Client`].
    pub async fn from_kubeconfig(path: &Path) -> Result<Self, Error> {
        Self::open(path, "kubeconfig").await
    }

    /// [`Cluster::from_kubeconfig`], with the env.yaml `key` the file came from named in
    /// messages (`kubeconfig-readonly`).
    ///
    /// # Errors
    /// See [`Cluster::from_kubeconfig`].
    pub async fn open(path: &Path, key: &'static str) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::KubeconfigMissing { path: path.to_owned(), key });
        }
        let unusable = |error: &KubeconfigError| Error::Kubeconfig { path: path.to_owned(), reason: describe(error) };
        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| unusable(&e))?;
        let identity = current_user(&kubeconfig);
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.map_err(|e| unusable(&e))?;
        let endpoint = Endpoint { server: config.cluster_url.to_string(), identity, kubeconfig: path.to_owned() };
        let client = Client::try_from(config).map_err(|source| Error::Client {
            server: endpoint.server.clone(),
            kubeconfig: endpoint.kubeconfig.clone(),
            source,
        })?;
        Ok(Self { client, endpoint })
    }

    /// A client built from an already-made `kube::Client` (tests, benchmarks).
    #[must_use]
    pub fn new(client: Client, endpoint: Endpoint) -> Self {
        Self { client, endpoint }
    }

    /// The underlying kube client.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Where requests go and as whom.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// An API handle for namespaced `K` in `namespace`.
    #[must_use]
    pub fn namespaced<K>(&self, namespace: &str) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// `GET /version`, once, under `deadline`.
    ///
    /// # Errors
    /// [`Error::TimedOut`], [`Error::Unreachable`], [`Error::Unauthorized`],
    /// [`Error::Forbidden`] or [`Error::Api`].
    pub async fn probe(&self, deadline: Duration) -> Result<ServerVersion, Error> {
        match tokio::time::timeout(deadline, self.client.apiserver_version()).await {
            Err(_elapsed) => Err(Error::TimedOut { server: self.endpoint.server.clone(), after: deadline }),
            Ok(Err(error)) => Err(self.endpoint.classify(error)),
            Ok(Ok(info)) => Ok(ServerVersion { git_version: info.git_version, platform: info.platform }),
        }
    }

    /// Probes until the API answers or `budget` runs out, retrying unreachable and slow
    /// answers with backoff (500 ms doubling to 5 s). Credentials that are refused fail at once:
    /// waiting does not fix them.
    ///
    /// # Errors
    /// The last probe's error when the budget runs out, or the first 401/403.
    pub async fn wait_reachable(&self, budget: Duration) -> Result<ServerVersion, Error> {
        let deadline = Instant::now() + budget;
        let mut delays =
            ExponentialBuilder::default().with_min_delay(REACHABLE_MIN_DELAY).with_max_delay(REACHABLE_MAX_DELAY).without_max_times().build();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let error = match self.probe(left.min(REACHABLE_MAX_DELAY * 2)).await {
                Ok(version) => return Ok(version),
                Err(error @ (Error::Unreachable { .. } | Error::TimedOut { .. } | Error::Api { .. })) => error,
                Err(fatal) => return Err(fatal),
            };
            let pause = delays.next().unwrap_or(REACHABLE_MAX_DELAY);
            if Instant::now() + pause >= deadline {
                return Err(match error {
                    Error::TimedOut { server, .. } => Error::TimedOut { server, after: budget },
                    other => other,
                });
            }
            tokio::time::sleep(pause).await;
        }
    }
}

impl Endpoint {
    /// Turns a kube error into one that names the server, and for 401/403 the identity.
    #[must_use]
    pub fn classify(&self, error: kube::Error) -> Error {
        let server = self.server.clone();
        match error {
            kube::Error::Api(status) if status.code == 401 => {
                Error::Unauthorized { server, identity: self.identity.clone(), kubeconfig: self.kubeconfig.clone() }
            }
            kube::Error::Api(status) if status.code == 403 => {
                Error::Forbidden { server, identity: self.identity.clone(), kubeconfig: self.kubeconfig.clone(), message: status.message.clone() }
            }
            source @ kube::Error::Api(_) => Error::Api { server, source },
            source => Error::Unreachable { server, source },
        }
    }

    /// The 401/403 error for `error`, if that is what it is: no retry fixes refused credentials.
    #[must_use]
    pub fn denied(&self, error: &kube::Error) -> Option<Error> {
        match error {
            kube::Error::Api(status) if matches!(status.code, 401 | 403) => Some(self.classify(error_clone(status))),
            _ => None,
        }
    }
}

fn error_clone(status: &kube::core::Status) -> kube::Error {
    kube::Error::Api(Box::new(status.clone()))
}

/// The user of the kubeconfig's current context, for messages (never its credentials).
fn current_user(kubeconfig: &Kubeconfig) -> String {
    let current = kubeconfig.current_context.as_deref();
    kubeconfig
        .contexts
        .iter()
        .find(|c| Some(c.name.as_str()) == current)
        .and_then(|c| c.context.as_ref()?.user.clone())
        .unwrap_or_else(|| "(no user in the current context)".to_owned())
}

/// A kubeconfig error in words, without quoting the file: a YAML error's source excerpt could
/// hold a token.
pub(crate) fn describe(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::ReadConfig(io, _) => format!("cannot read it: {io}"),
        KubeconfigError::Parse(_) => "it is not valid kubeconfig YAML".to_owned(),
        KubeconfigError::CurrentContextNotSet => "it has no current-context".to_owned(),
        KubeconfigError::LoadContext(name) => format!("its current context `{name}` is not defined"),
        KubeconfigError::LoadClusterOfContext(name) => format!("the cluster `{name}` of its current context is not defined"),
        KubeconfigError::MissingClusterUrl => "the cluster of its current context has no server URL".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cr3t-b34r3r-t0k3n-value";

    fn kubeconfig(dir: &Path, server: &str) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: lab\n\
             clusters:\n- name: lab\n  cluster:\n    server: {server}\n\
             contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: lab-admin\n\
             users:\n- name: lab-admin\n  user:\n    token: {TOKEN}\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Everything a person could be shown of `error`: its message and every cause.
    fn chain(error: &dyn std::error::Error) -> String {
        std::iter::successors(Some(error), |e| e.source()).map(ToString::to_string).collect::<Vec<_>>().join("\ncaused by: ")
    }

    #[tokio::test]
    async fn a_missing_kubeconfig_is_named_with_its_env_yaml_key() {
        let err = Cluster::from_kubeconfig(Path::new("/nonexistent/kubeconfig")).await.err().unwrap();
        assert_eq!(err.to_string(), "kubeconfig /nonexistent/kubeconfig does not exist (check `kubeconfig` in the environment's env.yaml)");
    }

    #[tokio::test]
    async fn a_kubeconfig_that_is_not_yaml_is_refused_without_quoting_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, format!("users:\n- name: a\n  user:\n    token: {TOKEN}\n  : [\n")).unwrap();
        let err = Cluster::from_kubeconfig(&path).await.err().unwrap();
        let text = chain(&err);
        assert!(text.contains("is not valid kubeconfig YAML"), "{text}");
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }

    #[tokio::test]
    async fn a_kubeconfig_without_current_context_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n").unwrap();
        let err = Cluster::from_kubeconfig(&path).await.err().unwrap();
        assert!(err.to_string().ends_with("cannot be used: it has no current-context"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_api_names_the_server_url() {
        let dir = tempfile::tempdir().unwrap();
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster::from_kubeconfig(&kubeconfig(dir.path(), &format!("http://127.0.0.1:{port}"))).await.unwrap();
        assert_eq!(cluster.endpoint().identity, "lab-admin");
        let err = cluster.probe(Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(err.to_string(), format!("the Kubernetes API at http://127.0.0.1:{port}/ is unreachable"));
        assert!(!chain(&err).contains(TOKEN));
    }

    #[tokio::test]
    async fn refused_credentials_name_the_identity_and_never_the_token() {
        let endpoint =
            Endpoint { server: "https://127.0.0.1:6443/".into(), identity: "lab-readonly".into(), kubeconfig: "/lab/kubeconfig-readonly".into() };
        let status = |code: u16, message: &str| kube::Error::Api(Box::new(kube::core::Status::failure(message, "Forbidden").with_code(code)));
        let forbidden =
            endpoint.classify(status(403, "applications.argoproj.io is forbidden: User \"lab-readonly\" cannot patch resource \"applications\""));
        assert_eq!(
            forbidden.to_string(),
            "user `lab-readonly` from /lab/kubeconfig-readonly is not allowed this at https://127.0.0.1:6443/ \
             (403 Forbidden): applications.argoproj.io is forbidden: User \"lab-readonly\" cannot patch resource \"applications\""
        );
        let unauthorized = endpoint.denied(&status(401, "Unauthorized")).unwrap();
        assert_eq!(
            unauthorized.to_string(),
            "the Kubernetes API at https://127.0.0.1:6443/ rejected the credentials of user `lab-readonly` \
             from /lab/kubeconfig-readonly (401 Unauthorized)"
        );
        assert!(endpoint.denied(&status(500, "boom")).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_for_an_api_that_never_comes_up_fails_at_the_budget_naming_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = Cluster::from_kubeconfig(&kubeconfig(dir.path(), &format!("http://127.0.0.1:{port}"))).await.unwrap();
        let err = cluster.wait_reachable(Duration::from_secs(20)).await.unwrap_err();
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
    }
}
