//! The lab daemon: one detached process per state folder, started by `vixens-lab up`.
//!
//! It composes the lab (store, Talos cluster, storage controllers, Argo CD, API and
//! Talos routes), serves them over TLS on `127.0.0.1:<free port>`, writes the client files, and
//! stops on SIGTERM (`vixens-lab down`), after its idle timeout without requests, or when its
//! state folder is deleted.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::Request;
use axum::middleware::Next;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::spec::LabSpec;
use crate::state_dir::{Credentials, LabInfo, StateDir};
use crate::store::Store;
use crate::tls::{Pki, random_token};
use crate::{api, argocd, server, talos};

/// How often the daemon checks that its state folder still exists and that it is not idle.
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Runs the daemon of `state` (the `vixens-lab daemon` subcommand, which `up` starts detached,
/// with stdout and stderr on `daemon.log`). Returns when the daemon stops.
///
/// # Errors
/// Another daemon owns the folder, the spec cannot be read, the port cannot be bound, or a
/// client file cannot be written.
pub fn run(state: &StateDir) -> anyhow::Result<()> {
    // Leave the session of whoever started us (terraform's local-exec), so that nothing it
    // waits for or signals reaches the lab.
    let _ = rustix::process::setsid();
    let mut lock = state
        .try_lock_daemon()
        .context("opening the daemon lock")?
        .with_context(|| format!("another lab daemon already serves {}", state.root().display()))?;
    lock.set_len(0).and_then(|()| writeln!(lock, "{}", std::process::id())).context("writing the daemon's pid")?;
    let spec: LabSpec = serde_json::from_slice(&std::fs::read(state.spec_json()).context("reading spec.json")?).context("parsing spec.json")?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let result = runtime.block_on(serve(state, spec));
    // Remove lab.json only if it is still ours: a newer daemon may have replaced it.
    if state.read_info().ok().flatten().is_some_and(|info| info.pid == std::process::id()) {
        let _ = std::fs::remove_file(state.lab_json());
        // The nodes are gone, and their iSCSI sessions with them.
        let _ = std::fs::remove_file(crate::iscsiadm::sessions_file(state));
    }
    drop(lock);
    result
}

async fn serve(state: &StateDir, spec: LabSpec) -> anyhow::Result<()> {
    let pki = Pki::generate(&spec.name)?;
    let credentials = Credentials {
        ca_pem: pki.ca_pem.clone(),
        client_cert_pem: pki.client_cert_pem.clone(),
        admin_token: random_token()?,
        readonly_token: random_token()?,
        talos_token: random_token()?,
    };

    let store = Store::default();
    let cluster = talos::Cluster::boot(&spec, store.clone());
    // The sessions of a previous lab ended with its nodes.
    let sessions = crate::iscsiadm::sessions_file(state);
    let _ = std::fs::remove_file(&sessions);
    let storage = crate::csi::Storage::start(&spec, store.clone(), Some(sessions));
    argocd::start_with(&spec, store.clone(), storage);
    let tokens = api::Tokens::new(credentials.admin_token.clone(), credentials.readonly_token.clone())?.max_expiration(spec.faults.token_ttl);
    let activity = Activity::new();
    let app = api::router(store, tokens)
        .merge(talos::routes(cluster, credentials.talos_token.clone()))
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(activity.clone(), Activity::track));

    let listener = TcpListener::bind("127.0.0.1:0").await.context("binding 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let info = LabInfo {
        name: spec.name.clone(),
        pid: std::process::id(),
        api_url: format!("https://{addr}"),
        talos_endpoint: addr.to_string(),
        spec: spec.clone(),
        started_at: crate::store::now_rfc3339(),
    };
    let binary = std::env::current_exe().context("locating the vixens-lab binary")?;
    state.write_client_files(&info, &credentials, &binary).context("writing the client files")?;
    // lab.json last: once it names this pid, every other file is in place.
    state.write_info(&info).context("writing lab.json")?;
    tracing::info!(name = %spec.name, api = %info.api_url, nodes = spec.nodes.len(), apps = spec.apps.len(), "lab serving");

    let restart = spec.faults.api_restart.map(|after| server::Restart { after, downtime: server::RESTART_DOWNTIME });
    let stop = stop_reason(state.clone(), activity, spec.idle_timeout);
    server::serve(listener, pki.server_config()?, app, restart, async {
        let reason = stop.await;
        tracing::info!("stopping: {reason}");
    })
    .await
    .context("serving")?;
    Ok(())
}

/// Resolves with the reason to stop: a signal, the idle timeout, or the state folder gone.
async fn stop_reason(state: StateDir, activity: Activity, idle_timeout: Duration) -> String {
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return "cannot install the signal handlers".into();
    };
    let mut tick = tokio::time::interval(CHECK_INTERVAL);
    loop {
        tokio::select! {
            _ = term.recv() => return "SIGTERM".into(),
            _ = int.recv() => return "SIGINT".into(),
            _ = tick.tick() => {
                if !state.root().is_dir() {
                    return format!("the state folder {} was deleted", state.root().display());
                }
                if activity.idle() >= idle_timeout {
                    return format!("no request for {}", humantime::format_duration(idle_timeout));
                }
            }
        }
    }
}

/// When the last request arrived.
#[derive(Clone)]
struct Activity(Arc<Mutex<Instant>>);

impl Activity {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(Instant::now())))
    }

    fn idle(&self) -> Duration {
        self.0.lock().map(|t| t.elapsed()).unwrap_or_default()
    }

    async fn track(axum::extract::State(activity): axum::extract::State<Self>, request: Request, next: Next) -> axum::response::Response {
        if let Ok(mut last) = activity.0.lock() {
            *last = Instant::now();
        }
        next.run(request).await
    }
}
