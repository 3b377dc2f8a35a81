//! Serving the lab's router over TLS, one task per connection, with the `api-restart` fault:
//! once, after a delay, every connection and watch is dropped and new connections are refused
//! for a moment, then the same address serves again.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// How long the API refuses connections during an `api-restart`.
pub const RESTART_DOWNTIME: Duration = Duration::from_secs(1);

/// The `api-restart` fault: when and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Restart {
    /// Delay from the start of serving.
    pub after: Duration,
    /// How long connections are refused.
    pub downtime: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then drops every connection.
///
/// # Errors
/// The address cannot be bound again after a restart.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    restart: Option<Restart>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    let acceptor = TlsAcceptor::from(tls);
    let (drop_all, _) = watch::channel(0u64);
    let mut listener = listener;
    let mut restart = restart.map(|r| (Instant::now() + r.after, r.downtime));
    tokio::pin!(shutdown);
    loop {
        let restart_at = restart.map_or_else(Instant::now, |(at, _)| at);
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep_until(restart_at), if restart.is_some() => {
                let downtime = restart.take().map_or(RESTART_DOWNTIME, |(_, d)| d);
                tracing::warn!(%addr, ?downtime, "api-restart: dropping every connection and watch");
                drop(listener);
                drop_all.send_modify(|generation| *generation += 1);
                tokio::time::sleep(downtime).await;
                listener = rebind(addr).await?;
                tracing::info!(%addr, "api-restart: serving again");
            }
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    tokio::spawn(connection(acceptor.clone(), tcp, app.clone(), drop_all.subscribe()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    drop_all.send_modify(|generation| *generation += 1);
    Ok(())
}

async fn rebind(addr: SocketAddr) -> io::Result<TcpListener> {
    let mut attempts = 0;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return Ok(listener),
            Err(e) if attempts < 50 => {
                attempts += 1;
                tracing::debug!("rebinding {addr}: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn connection(acceptor: TlsAcceptor, tcp: TcpStream, app: Router, mut dropped: watch::Receiver<u64>) {
    let _ = tcp.set_nodelay(true);
    let serve = async move {
        let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else { return };
        let service = TowerToHyperService::new(app);
        if let Err(e) = auto::Builder::new(TokioExecutor::new()).serve_connection_with_upgrades(TokioIo::new(tls), service).await {
            tracing::debug!("connection ended: {e}");
        }
    };
    tokio::select! {
        () = serve => {}
        // Dropping the connection's future closes its socket and ends its watches.
        _ = dropped.changed() => {}
    }
}
