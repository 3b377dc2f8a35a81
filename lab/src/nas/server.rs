//! The NAS daemon (`vixens-lab nas up`): the two network services of the homelab's Synology that
//! the harness talks to, on one machine.
//!
//! - **MinIO**: a real S3 endpoint over HTTP ([`s3s`] verifying SigV4 against the NAS's keys,
//!   [`s3s_fs`] storing each bucket as a folder of `<nas>/buckets`), where terraform's S3 backend
//!   keeps the state. Buckets are created once when the NAS starts, as the homelab's were made by
//!   hand, never by terraform. A wrong key is refused (`403 SignatureDoesNotMatch`).
//! - **The iSCSI portal**: SendTargets discovery, answered with the target of every LUN on the NAS;
//!   the `iscsiadm` stand-in is its only client (a connection that is refused is the NAS down).
//!
//! One daemon per NAS folder, detached like the lab's, its addresses in `<nas>/nas.json`. It stops
//! on SIGTERM (`vixens-lab nas down`), after its idle timeout without a request, or when its
//! folder is deleted. A restarted NAS serves S3 on the port it had, when that port is free, so that
//! a by-hand `AWS_ENDPOINT_URL_S3` keeps working.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use super::Nas;

/// How often the daemon checks its folder and its idleness.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The keys of the NAS's MinIO (MinIO's `MINIO_ROOT_USER` / `MINIO_ROOT_PASSWORD`).
#[derive(Clone)]
pub struct Keys {
    /// The access key.
    pub access_key: String,
    /// The secret key. Never written to a file or a log.
    pub secret_key: String,
}

impl Keys {
    /// A digest of both keys, to tell whether a running NAS has the keys asked for without
    /// writing the secret down.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(format!("{}\n{}", self.access_key, self.secret_key).as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// What `<nas>/nas.json` holds: where the running NAS serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NasInfo {
    /// The daemon's process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT`: the S3 endpoint (MinIO).
    pub s3_endpoint: String,
    /// `127.0.0.1:PORT`: where the iSCSI portal (`10.5.255.10:3260` to the cluster) listens.
    pub iscsi_portal: String,
    /// The buckets it was started with.
    pub buckets: Vec<String>,
    /// The access key (public, like a user name).
    pub access_key: String,
    /// [`Keys::fingerprint`] of its keys.
    pub keys: String,
    /// When it started serving (RFC 3339).
    pub started_at: String,
}

impl Nas {
    /// `<nas>/nas.lock`: held by the running NAS daemon.
    #[must_use]
    pub fn lock_path(&self) -> PathBuf {
        self.root().join("nas.lock")
    }

    /// Reads `<nas>/nas.json`; `None` when there is none.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn read_info(&self) -> std::io::Result<Option<NasInfo>> {
        match std::fs::read(self.info_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", self.info_path().display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// True when a NAS daemon holds this folder's lock.
    ///
    /// # Errors
    /// The lock file cannot be opened.
    pub fn daemon_running(&self) -> std::io::Result<bool> {
        if !self.lock_path().exists() {
            return Ok(false);
        }
        Ok(crate::state_dir::try_lock(&self.lock_path())?.is_none())
    }
}

/// Runs the NAS daemon of `nas` in the foreground (what `vixens-lab nas up` starts detached).
///
/// # Errors
/// Another daemon serves the folder, a bucket folder cannot be made, or a port cannot be bound.
pub fn run(nas: &Nas, keys: &Keys, buckets: &[String], idle_timeout: Duration) -> anyhow::Result<()> {
    let _ = rustix::process::setsid();
    std::fs::create_dir_all(nas.root()).with_context(|| format!("creating {}", nas.root().display()))?;
    let mut lock = crate::state_dir::try_lock(&nas.lock_path())
        .context("opening the NAS lock")?
        .with_context(|| format!("another NAS daemon already serves {}", nas.root().display()))?;
    lock.set_len(0).and_then(|()| writeln!(lock, "{}", std::process::id())).context("writing the NAS daemon's pid")?;
    for bucket in buckets {
        let dir = nas.bucket_dir(bucket);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating bucket {bucket} ({})", dir.display()))?;
    }
    nas.prepare()?;
    let previous_port = nas.read_info().ok().flatten().and_then(|info| info.s3_endpoint.rsplit(':').next()?.parse::<u16>().ok());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(serve(nas, keys, buckets, idle_timeout, previous_port));
    if nas.read_info().ok().flatten().is_some_and(|info| info.pid == std::process::id()) {
        let _ = std::fs::remove_file(nas.info_path());
    }
    drop(lock);
    result
}

async fn serve(nas: &Nas, keys: &Keys, buckets: &[String], idle_timeout: Duration, previous_port: Option<u16>) -> anyhow::Result<()> {
    let s3_listener = match previous_port {
        Some(port) => match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => listener,
            Err(_) => TcpListener::bind("127.0.0.1:0").await?,
        },
        None => TcpListener::bind("127.0.0.1:0").await?,
    };
    let portal_listener = TcpListener::bind("127.0.0.1:0").await.context("binding the iSCSI portal")?;
    let filesystem = s3s_fs::FileSystem::new(nas.buckets_dir()).map_err(|e| anyhow::anyhow!("opening {}: {e:?}", nas.buckets_dir().display()))?;
    let mut builder = s3s::service::S3ServiceBuilder::new(filesystem);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(keys.access_key.clone(), keys.secret_key.clone()));
    let s3 = builder.build();

    let info = NasInfo {
        pid: std::process::id(),
        s3_endpoint: format!("http://{}", s3_listener.local_addr()?),
        iscsi_portal: portal_listener.local_addr()?.to_string(),
        buckets: buckets.to_vec(),
        access_key: keys.access_key.clone(),
        keys: keys.fingerprint(),
        started_at: crate::store::now_rfc3339(),
    };
    crate::state_dir::write_atomic(&nas.info_path(), serde_json::to_string_pretty(&info)?.as_bytes(), 0o644).context("writing nas.json")?;
    tracing::info!(s3 = %info.s3_endpoint, portal = %info.iscsi_portal, "NAS serving");

    let activity = Arc::new(Mutex::new(Instant::now()));
    let touch = {
        let activity = Arc::clone(&activity);
        move || {
            if let Ok(mut last) = activity.lock() {
                *last = Instant::now();
            }
        }
    };
    let (term, int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    let (mut term, mut int) = (term, int);
    let mut tick = tokio::time::interval(CHECK_INTERVAL);
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = tick.tick() => {
                let idle = activity.lock().map(|t| t.elapsed()).unwrap_or_default();
                if !nas.root().is_dir() || idle >= idle_timeout {
                    break;
                }
            }
            accepted = s3_listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                touch();
                let (s3, touch) = (s3.clone(), touch.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        touch();
                        let s3 = s3.clone();
                        async move { hyper::service::Service::call(&s3, request).await }
                    });
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                });
            }
            accepted = portal_listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                touch();
                tokio::spawn(send_targets(nas.clone(), tcp));
            }
        }
    }
    Ok(())
}

/// SendTargets: the IQN of every LUN's target, one per line.
async fn send_targets(nas: Nas, mut tcp: tokio::net::TcpStream) {
    let targets: String = match nas.luns() {
        Ok(luns) => luns.iter().map(|l| format!("{}\n", l.iqn)).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "the iSCSI portal could not list the LUNs");
            return;
        }
    };
    let _ = tcp.write_all(targets.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

/// The S3 endpoint's address, for a quick reachability probe.
///
/// # Errors
/// The endpoint in `info` is not `http://IP:PORT`.
pub fn s3_address(info: &NasInfo) -> anyhow::Result<SocketAddr> {
    info.s3_endpoint.trim_start_matches("http://").parse().with_context(|| format!("the S3 endpoint {} in nas.json", info.s3_endpoint))
}
