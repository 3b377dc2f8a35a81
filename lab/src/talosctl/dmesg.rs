//! `talosctl dmesg [-f] [--tail]`: the kernel ring buffer of each node, each record prefixed with
//! `<node>: `. Node errors are collected and reported at the end (exit 1).

use std::io::Write as _;

use clap::Args;
use tokio::sync::mpsc;

use super::client::{CallError, Client, for_each_line};
use super::output::multierror;
use super::{Failure, Global, Outcome, config};

#[derive(Debug, Args)]
pub(super) struct DmesgArgs {
    /// specify if the kernel log should be streamed
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// specify if only new messages should be sent (makes sense only when combined with --follow)
    #[arg(long)]
    pub tail: bool,
}

enum Event {
    Line(String, String),
    Error(String, CallError),
}

pub(super) async fn run(global: &Global, args: DmesgArgs) -> Outcome {
    let target = config::load(global)?;
    let nodes = target.require_nodes()?.to_vec();
    let client = std::sync::Arc::new(Client::new(&target)?);
    let query = format!("dmesg?follow={}&tail={}", args.follow, args.tail);
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
                let _ = tx.send(Event::Error(node, e));
            }
        });
    }
    drop(tx);
    let mut errors = Vec::new();
    let mut stdout = std::io::stdout().lock();
    while let Some(event) = rx.recv().await {
        match event {
            Event::Line(node, line) => {
                if writeln!(stdout, "{node}: {line}").and_then(|()| stdout.flush()).is_err() {
                    return Ok(());
                }
            }
            // The endpoint itself is down: the call fails before any node answers.
            Event::Error(_, CallError::Connection(m)) => return Err(Failure::Message(format!("error getting dmesg: {m}"))),
            Event::Error(node, CallError::Node(m)) => errors.push(format!("{node}: {m}")),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Failure::Message(multierror(&errors))) }
}
