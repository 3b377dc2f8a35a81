//! The protected inventory: what must still be there after a destroy (the state bucket, the NAS's
//! iSCSI LUNs), taken before and after it. Anything present before and missing after is
//! [`Lost`], named with its check.
//!
//! Two kinds of check, from env.yaml's `protected.inventory`:
//! - **`s3-bucket`**: the bucket answers at its endpoint. For an `http://` or `https://`
//!   endpoint, an HTTP `HEAD <endpoint>/<bucket>` (path-style), signed (AWS SigV4) with the
//!   check's `access-key` and `secret-key`: `2xx` or `3xx` means the bucket is there, `404` that
//!   it is absent. `401` and `403` tell nothing: MinIO answers an anonymous request 403 whether or
//!   not the bucket exists, so an unsigned check that gets one is an error asking for
//!   credentials, and a signed one names the credentials as refused. Anything else (`5xx`, no
//!   answer) is an error too. For a `file://` endpoint (the lab's NAS folder), the bucket is
//!   present when `<endpoint path>/<bucket>` is a folder.
//! - **`command`**: run with `bash -o pipefail -c`; each non-empty line of its output is one item
//!   (a LUN). A non-zero exit is an error, not an empty list, and with `pipefail` so is a failure
//!   anywhere in a pipeline (`iscsiadm ... | awk | sort -u` exits with `iscsiadm`'s status, not
//!   `sort`'s 0). A list with no item while the cluster has iSCSI PersistentVolumes is an error
//!   too ([`super::volumes`]).
//!
//! Checks never print; they return what they found.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::env::{InventoryCheck, S3Credentials};
use vixens_drivers::process::{self, Command};

mod sigv4;

/// Lines of stderr kept in a failed command's error.
const STDERR_EXCERPT_LINES: usize = 10;

/// What every check found, in env.yaml order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// One entry per check.
    pub checks: Vec<Found>,
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The check's name from env.yaml.
    pub name: String,
    /// The items present (a bucket name, LUN names), in the order found.
    pub items: Vec<String>,
}

/// A protected item present before the destroy and not (provably) present after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The check's name.
    pub check: String,
    /// The item.
    pub item: String,
    /// `None` when the check ran and the item is gone; the check's error when it could not run.
    pub uncheckable: Option<String>,
    /// The PersistentVolume (and claim) whose LUN the item is, when known:
    /// `PV pvc-..., claim services/vaultwarden-data`.
    pub volume: Option<String>,
}

/// Why a check could not tell what is there. Each variant names the check.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command could not be run, or ran out of time.
    #[error("inventory check `{name}`: the command did not complete")]
    CommandRun {
        /// The check.
        name: String,
        /// Why.
        #[source]
        source: process::Error,
    },
    /// The command exited with a failure status.
    #[error("inventory check `{name}`: the command failed with exit code {code}: {stderr}")]
    CommandFailed {
        /// The check.
        name: String,
        /// Its exit code.
        code: i32,
        /// The end of its stderr.
        stderr: String,
    },
    /// A LUN list found nothing while the cluster has iSCSI PersistentVolumes.
    #[error(
        "{name} listed nothing while the cluster has {volumes} iSCSI PersistentVolumes: {described}; a LUN listing that fails quietly \
         (iscsiadm missing or not root, the NAS unreachable behind a pipe) would let the destroy lose them unnoticed"
    )]
    ListedNothing {
        /// The check.
        name: String,
        /// How many volumes.
        volumes: usize,
        /// Each volume with its claim.
        described: String,
    },
    /// The cluster has iSCSI PersistentVolumes and the inventory has no LUN list.
    #[error(
        "protected.inventory has no `command` check listing the NAS's LUNs, and the cluster has {volumes} iSCSI PersistentVolumes: \
         {described}"
    )]
    NoLunList {
        /// How many volumes.
        volumes: usize,
        /// Each volume with its claim.
        described: String,
    },
    /// iSCSI PersistentVolumes whose LUN no list names.
    #[error("no LUN in the protected inventory for the iSCSI PersistentVolume{} {}; the LUN lists: {lists}", if .volumes.len() == 1 { "" } else { "s" }, .volumes.join(", "))]
    VolumeWithoutLun {
        /// Each volume with its claim.
        volumes: Vec<String>,
        /// The LUN lists, with what they found.
        lists: String,
    },
    /// The endpoint is not an `http://`, `https://` or absolute `file://` URL.
    #[error("inventory check `{name}`: endpoint {endpoint:?} is not an http://, https:// or absolute file:// URL")]
    BadEndpoint {
        /// The check.
        name: String,
        /// The endpoint.
        endpoint: String,
    },
    /// The endpoint did not answer (connection refused, TLS, timeout).
    #[error("inventory check `{name}`: no answer from {url}: {message}")]
    Unreachable {
        /// The check.
        name: String,
        /// The URL asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// An unsigned check got 401 or 403, which MinIO answers whether or not the bucket exists.
    #[error(
        "inventory check `{name}`: {url} answered {status} to an anonymous request, which MinIO answers whether or not the bucket exists: give the check `access-key` and `secret-key` (read-only credentials)"
    )]
    Anonymous {
        /// The check.
        name: String,
        /// The bucket's URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A signed check got 401 or 403.
    #[error("inventory check `{name}`: {url} refused the check's credentials ({status}): check its `access-key`, `secret-key` and `region`")]
    CredentialsRefused {
        /// The check.
        name: String,
        /// The bucket's URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// The endpoint answered with a status that says neither present nor absent.
    #[error("inventory check `{name}`: {url} answered {status}, which says neither present (2xx, 3xx) nor absent (404)")]
    Status {
        /// The check.
        name: String,
        /// The URL asked.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The bucket folder of a `file://` endpoint could not be examined.
    #[error("inventory check `{name}`: cannot examine {path}")]
    File {
        /// The check.
        name: String,
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The protected inventory checks of an environment, and the folders put first on PATH for their
/// commands (env.yaml's `tools-path`, as for every tool the harness runs).
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    checks: &'a [InventoryCheck],
    tools_path: &'a [PathBuf],
}

impl<'a> Checks<'a> {
    /// These checks, with the inherited PATH.
    #[must_use]
    pub fn new(checks: &'a [InventoryCheck]) -> Self {
        Self { checks, tools_path: &[] }
    }

    /// The checks of `env`, with its `tools-path` first on PATH.
    #[must_use]
    pub fn of(env: &'a crate::env::Environment) -> Self {
        Self { checks: &env.protected.inventory, tools_path: &env.tools_path }
    }

    /// Runs every check, each within `timeout`.
    ///
    /// # Errors
    /// The first check that cannot tell what is there: a destroy must not start without an
    /// inventory to compare with.
    pub fn take(&self, timeout: Duration) -> Result<Inventory, Error> {
        let checks = self
            .checks
            .iter()
            .map(|check| Ok(Found { name: check_name(check).to_owned(), items: self.run(check, timeout)? }))
            .collect::<Result<_, Error>>()?;
        Ok(Inventory { checks })
    }

    /// The items one check finds.
    fn run(&self, check: &InventoryCheck, timeout: Duration) -> Result<Vec<String>, Error> {
        match check {
            InventoryCheck::Command { name, run } => command(name, run, self.tools_path, timeout),
            InventoryCheck::S3Bucket { name, endpoint, bucket, credentials } => {
                let present = bucket_present(name, endpoint, bucket, credentials.as_ref(), timeout)?;
                Ok(if present { vec![bucket.clone()] } else { Vec::new() })
            }
        }
    }
}

impl Inventory {
    /// Runs every check again and returns every item of `self` that is gone, or that cannot be
    /// checked any more.
    #[must_use]
    pub fn lost_since(&self, checks: &Checks<'_>, timeout: Duration) -> (Self, Vec<Lost>) {
        let mut after = Self::default();
        let mut lost = Vec::new();
        for check in checks.checks {
            let name = check_name(check);
            let before = self.checks.iter().find(|f| f.name == name).map_or(&[][..], |f| f.items.as_slice());
            match checks.run(check, timeout) {
                Ok(items) => {
                    lost.extend(before.iter().filter(|i| !items.contains(i)).map(|item| Lost {
                        check: name.to_owned(),
                        item: item.clone(),
                        uncheckable: None,
                        volume: None,
                    }));
                    after.checks.push(Found { name: name.to_owned(), items });
                }
                Err(e) => {
                    let why = vixens_diagnostic::error_chain(&e);
                    lost.extend(before.iter().map(|item| Lost {
                        check: name.to_owned(),
                        item: item.clone(),
                        uncheckable: Some(why.clone()),
                        volume: None,
                    }));
                }
            }
        }
        (after, lost)
    }

    /// The number of items found.
    #[must_use]
    pub fn len(&self) -> usize {
        self.checks.iter().map(|f| f.items.len()).sum()
    }

    /// True when no check found anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Found {
    /// `NAS iSCSI LUNs: 3 (a.img, b.img, c.img)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.items.len())?;
        if !self.items.is_empty() {
            write!(f, " ({})", self.items.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Lost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.check, self.item)?;
        if let Some(volume) = &self.volume {
            write!(f, " ({volume})")?;
        }
        match &self.uncheckable {
            None => f.write_str(" was there before the destroy and is gone"),
            Some(why) => write!(f, " was there before the destroy and cannot be checked now: {why}"),
        }
    }
}

fn check_name(check: &InventoryCheck) -> &str {
    match check {
        InventoryCheck::S3Bucket { name, .. } | InventoryCheck::Command { name, .. } => name,
    }
}

fn command(name: &str, run: &str, tools_path: &[PathBuf], timeout: Duration) -> Result<Vec<String>, Error> {
    // pipefail: a pipeline fails when any command in it does, not only its last.
    let mut command = Command::new("bash").args(["-o", "pipefail", "-c", run]).timeout(timeout);
    if !tools_path.is_empty() {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        if let Ok(path) = std::env::join_paths(tools_path.iter().cloned().chain(std::env::split_paths(&inherited))) {
            command = command.env("PATH", path);
        }
    }
    let finished = command.run().map_err(|source| Error::CommandRun { name: name.to_owned(), source })?;
    if !finished.success() {
        let stderr = finished.stderr_tail(STDERR_EXCERPT_LINES);
        return Err(Error::CommandFailed {
            name: name.to_owned(),
            code: finished.code(),
            stderr: if stderr.is_empty() { "(nothing on stderr)".into() } else { stderr },
        });
    }
    Ok(finished.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

fn bucket_present(name: &str, endpoint: &str, bucket: &str, credentials: Option<&S3Credentials>, timeout: Duration) -> Result<bool, Error> {
    let base = endpoint.trim_end_matches('/');
    if let Some(path) = base.strip_prefix("file://") {
        let folder = Path::new(path);
        if !folder.is_absolute() {
            return Err(Error::BadEndpoint { name: name.to_owned(), endpoint: endpoint.to_owned() });
        }
        let folder = folder.join(bucket);
        return match std::fs::metadata(&folder) {
            Ok(meta) => Ok(meta.is_dir()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(Error::File { name: name.to_owned(), path: folder, source }),
        };
    }
    let Some(host) = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://")).map(|rest| rest.split('/').next().unwrap_or(rest)) else {
        return Err(Error::BadEndpoint { name: name.to_owned(), endpoint: endpoint.to_owned() });
    };
    let url = format!("{base}/{bucket}");
    let headers = match credentials {
        Some(credentials) => {
            let now = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
            sigv4::head_bucket_headers(credentials, host, bucket, &now)
        }
        None => Vec::new(),
    };
    let unreachable = |message: String| Error::Unreachable { name: name.to_owned(), url: url.clone(), message };
    let status = http::head(&url, &headers, timeout).map_err(unreachable)?;
    match status {
        404 => Ok(false),
        200..=399 => Ok(true),
        401 | 403 if credentials.is_some() => Err(Error::CredentialsRefused { name: name.to_owned(), url, status }),
        401 | 403 => Err(Error::Anonymous { name: name.to_owned(), url, status }),
        status => Err(Error::Status { name: name.to_owned(), url, status }),
    }
}

/// One `HEAD` request with the given headers, on a thread of its own with its own runtime, so that it
/// works whether or not the caller runs inside a tokio runtime.
mod http {
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    /// The status of `HEAD url`, or why there is none.
    pub(super) fn head(url: &str, headers: &[(&'static str, String)], timeout: Duration) -> Result<u16, String> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("not a URL: {e}"))?;
        std::thread::scope(|s| s.spawn(|| request(uri, headers, timeout)).join().unwrap_or_else(|_| Err("the HTTP client panicked".into())))
    }

    fn request(uri: hyper::Uri, headers: &[(&'static str, String)], timeout: Duration) -> Result<u16, String> {
        crate::runtime::block_on(async {
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()
                .map_err(|e| format!("no TLS root certificates: {e}"))?
                .https_or_http()
                .enable_http1()
                .build();
            let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
            let request = headers.iter().fold(hyper::Request::head(uri), |request, (name, value)| request.header(*name, value.as_str()));
            let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
            match tokio::time::timeout(timeout, client.request(request)).await {
                Ok(Ok(response)) => Ok(response.status().as_u16()),
                Ok(Err(e)) => Err(vixens_diagnostic::error_chain(&e)),
                Err(_) => Err(format!("no answer within {}", humantime::format_duration(timeout))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    const T: Duration = Duration::from_secs(10);

    fn luns(run: &str) -> InventoryCheck {
        InventoryCheck::Command { name: "NAS iSCSI LUNs".into(), run: run.into() }
    }

    fn bucket(endpoint: &str) -> InventoryCheck {
        InventoryCheck::S3Bucket {
            name: "terraform state bucket".into(),
            endpoint: endpoint.into(),
            bucket: "terraform-state-dev".into(),
            credentials: None,
        }
    }

    fn signed_bucket(endpoint: &str, access_key: &str) -> InventoryCheck {
        let credentials = S3Credentials { access_key: access_key.into(), secret_key: "s3cr3t".into(), region: "us-east-1".into() };
        InventoryCheck::S3Bucket {
            name: "terraform state bucket".into(),
            endpoint: endpoint.into(),
            bucket: "terraform-state-dev".into(),
            credentials: Some(credentials),
        }
    }

    /// An S3 stand-in answering `HEAD /<bucket>` as MinIO does: 403 to an anonymous request or
    /// to another key than `AKIDEXAMPLE`, whatever the bucket; to that key, the status given for
    /// the bucket (404 for any other).
    fn s3(statuses: &'static [(&'static str, u16)]) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let app = axum::Router::new().route(
                    "/{bucket}",
                    axum::routing::head(move |axum::extract::Path(b): axum::extract::Path<String>, headers: axum::http::HeaderMap| async move {
                        let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                        let status = if authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") {
                            statuses.iter().find(|(name, _)| *name == b).map_or(404, |(_, s)| *s)
                        } else {
                            403
                        };
                        axum::http::StatusCode::from_u16(status).unwrap()
                    }),
                );
                axum::serve(tokio::net::TcpListener::from_std(listener).unwrap(), app).await.unwrap();
            });
        });
        format!("http://{addr}")
    }

    #[test]
    fn command_lines_are_items_and_a_vanished_one_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        for lun in ["vaultwarden-data.img", "gitea-data.img"] {
            std::fs::write(dir.path().join(lun), "").unwrap();
        }
        let check = [luns(&format!("ls -1 {}", dir.path().display()))];
        let before = Checks::new(&check).take(T).unwrap();
        assert_eq!(before.checks[0].to_string(), "NAS iSCSI LUNs: 2 (gitea-data.img, vaultwarden-data.img)");
        std::fs::remove_file(dir.path().join("vaultwarden-data.img")).unwrap();
        let (after, lost) = before.lost_since(&Checks::new(&check), T);
        assert_eq!(after.len(), 1);
        assert_eq!(
            lost.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["NAS iSCSI LUNs `vaultwarden-data.img` was there before the destroy and is gone"]
        );
    }

    #[test]
    fn a_new_item_after_the_destroy_is_not_a_loss() {
        let dir = tempfile::tempdir().unwrap();
        let check = [luns(&format!("ls -1 {}", dir.path().display()))];
        let before = Checks::new(&check).take(T).unwrap();
        assert!(before.is_empty());
        std::fs::write(dir.path().join("new.img"), "").unwrap();
        assert!(before.lost_since(&Checks::new(&check), T).1.is_empty());
    }

    #[test]
    fn commands_find_the_environments_tools_first_on_path() {
        let tools = tempfile::tempdir().unwrap();
        let tool = tools.path().join("list-luns");
        std::fs::write(&tool, "#!/bin/sh\necho vaultwarden-data.img\n").unwrap();
        std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let check = [luns("list-luns")];
        let tools_path = [tools.path().to_owned()];
        let found = Checks { checks: &check, tools_path: &tools_path }.take(T).unwrap();
        assert_eq!(found.checks[0].items, ["vaultwarden-data.img"]);
        assert!(Checks::new(&check).take(T).is_err(), "not on the inherited PATH");
    }

    #[test]
    fn a_failing_command_is_an_error_not_an_empty_list() {
        let err = Checks::new(&[luns("echo 'iscsiadm: cannot make connection to 192.0.2.9' >&2; exit 4")]).take(T).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inventory check `NAS iSCSI LUNs`: the command failed with exit code 4: iscsiadm: cannot make connection to 192.0.2.9"
        );
    }

    #[test]
    fn a_pipeline_fails_when_its_first_command_does_not_only_its_last() {
        let err = Checks::new(&[luns(
            "(echo 'iscsiadm: cannot make connection to 10.5.255.10: Connection refused' >&2; exit 4) | awk '{print $2}' | sort -u",
        )])
        .take(T)
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "inventory check `NAS iSCSI LUNs`: the command failed with exit code 4: iscsiadm: cannot make connection to 10.5.255.10: Connection refused"
        );
    }

    #[test]
    fn after_the_destroy_an_uncheckable_item_is_lost_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.img"), "").unwrap();
        let check = [luns(&format!("ls -1 {}", dir.path().display()))];
        let before = Checks::new(&check).take(T).unwrap();
        std::fs::remove_dir_all(dir.path()).unwrap();
        let (_, lost) = before.lost_since(&Checks::new(&check), T);
        assert_eq!(lost.len(), 1);
        let text = lost[0].to_string();
        assert!(text.starts_with("NAS iSCSI LUNs `a.img` was there before the destroy and cannot be checked now: inventory check `NAS iSCSI LUNs`: the command failed with exit code 2: ls: cannot access"), "{text}");
    }

    #[test]
    fn a_file_endpoint_bucket_is_present_when_its_folder_is() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = format!("file://{}/", dir.path().display());
        let check = [bucket(&endpoint)];
        assert!(Checks::new(&check).take(T).unwrap().is_empty());
        std::fs::create_dir(dir.path().join("terraform-state-dev")).unwrap();
        let before = Checks::new(&check).take(T).unwrap();
        assert_eq!(before.checks[0].items, ["terraform-state-dev"]);
        std::fs::remove_dir(dir.path().join("terraform-state-dev")).unwrap();
        assert_eq!(
            before.lost_since(&Checks::new(&check), T).1[0].to_string(),
            "terraform state bucket `terraform-state-dev` was there before the destroy and is gone"
        );
        let relative = Checks::new(&[bucket("file://nas/buckets")]).take(T).unwrap_err();
        assert_eq!(
            relative.to_string(),
            r#"inventory check `terraform state bucket`: endpoint "file://nas/buckets" is not an http://, https:// or absolute file:// URL"#
        );
    }

    #[test]
    fn a_signed_check_tells_a_present_bucket_from_an_absent_one() {
        let present = s3(&[("terraform-state-dev", 200)]);
        assert_eq!(Checks::new(&[signed_bucket(&present, "AKIDEXAMPLE")]).take(T).unwrap().checks[0].items, ["terraform-state-dev"]);
        let absent = s3(&[]);
        assert!(Checks::new(&[signed_bucket(&absent, "AKIDEXAMPLE")]).take(T).unwrap().is_empty());
        let broken = s3(&[("terraform-state-dev", 503)]);
        let err = Checks::new(&[signed_bucket(&broken, "AKIDEXAMPLE")]).take(T).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "inventory check `terraform state bucket`: {broken}/terraform-state-dev answered 503, which says neither present (2xx, 3xx) nor absent (404)"
            )
        );
    }

    #[test]
    fn a_403_never_counts_as_present() {
        let endpoint = s3(&[("terraform-state-dev", 200)]);
        let anonymous = Checks::new(&[bucket(&endpoint)]).take(T).unwrap_err();
        assert_eq!(
            anonymous.to_string(),
            format!(
                "inventory check `terraform state bucket`: {endpoint}/terraform-state-dev answered 403 to an anonymous request, which MinIO answers whether or not the bucket exists: give the check `access-key` and `secret-key` (read-only credentials)"
            )
        );
        let refused = Checks::new(&[signed_bucket(&endpoint, "AKIDOTHER")]).take(T).unwrap_err();
        assert_eq!(
            refused.to_string(),
            format!(
                "inventory check `terraform state bucket`: {endpoint}/terraform-state-dev refused the check's credentials (403): check its `access-key`, `secret-key` and `region`"
            )
        );
        assert!(!format!("{refused:?}").contains("s3cr3t"), "the secret key leaked");
    }

    #[test]
    fn an_endpoint_that_does_not_answer_is_an_error() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let err = Checks::new(&[bucket(&format!("http://{closed}"))]).take(T).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("inventory check `terraform state bucket`: no answer from http://{closed}/terraform-state-dev: ")),
            "{text}"
        );
    }
}
