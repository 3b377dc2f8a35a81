//! `talosctl logs <service> [-f] [--tail N] [-k]`: `<node>: <line>` on stdout, every node's lines
//! interleaved as they arrive; a node that fails prints `ERROR: <msg>` on stderr while the others
//! go on, and the command then exits 1.

use std::io::Write as _;

use clap::Args;
use tokio::sync::mpsc;

use super::client::{CallError, Client, encode, for_each_line};
use super::{Failure, Global, Outcome, config};

#[derive(Debug, Args)]
pub(super) struct LogsArgs {
    /// The service (or, with -k, `<namespace>/<pod>:<container>`).
    #[arg(value_name = "service name")]
    pub service: String,
    /// specify if the logs should be streamed
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// lines of log file to display (default is to show from the beginning)
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub tail: i32,
    /// use the k8s.io containerd namespace
    #[arg(short = 'k', long)]
    pub kubernetes: bool,
}

enum Event {
    Line(String, String),
    Error(CallError),
}

pub(super) async fn run(global: &Global, args: LogsArgs) -> Outcome {
    let target = config::load(global)?;
    let nodes = target.require_nodes()?.to_vec();
    let client = std::sync::Arc::new(Client::new(&target)?);
    let query = format!("logs?id={}&tail={}&follow={}&kubernetes={}", encode(&args.service), args.tail, args.follow, args.kubernetes);
    let (tx, mut rx) = mpsc::unbounded_channel();
    for node in nodes {
        let (client, query, tx) = (client.clone(), query.clone(), tx.clone());
        tokio::spawn(async move {
            let result = match client.get(&node, &query).await {
                Ok(response) => {
                    for_each_line(response, |line| {
                        let _ = tx.send(Event::Line(node.clone(), line.to_owned()));
                    })
                    .await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                let _ = tx.send(Event::Error(e));
            }
        });
    }
    drop(tx);
    let mut failed = None;
    let mut stdout = std::io::stdout().lock();
    while let Some(event) = rx.recv().await {
        match event {
            Event::Line(node, line) => {
                if writeln!(stdout, "{node}: {line}").and_then(|()| stdout.flush()).is_err() {
                    return Ok(());
                }
            }
            // The endpoint itself is down: the call fails before any node answers.
            Event::Error(CallError::Connection(m)) => return Err(Failure::Message(format!("error fetching logs: {m}"))),
            Event::Error(CallError::Node(m)) => {
                eprintln!("ERROR: {m}");
                failed.get_or_insert(());
            }
        }
    }
    match failed {
        Some(()) => Err(Failure::Reported),
        None => Ok(()),
    }
}
