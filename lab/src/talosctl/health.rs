//! `talosctl health [--server=false] [--wait-timeout D]`: runs the cluster checks and prints
//! their progress **on stderr** (stdout stays empty). There is no success banner: success is the
//! last check's `: OK` (or `: SKIP`) and exit 0; a timeout prints the context error and exits 1.

use std::time::Duration;

use clap::{ArgAction, Args};

use super::client::{CallError, Client, for_each_line};
use super::{Failure, Global, Outcome, config, parse_go_duration};
use crate::talos::wire::HealthMessage;

#[derive(Debug, Args)]
pub(super) struct HealthArgs {
    /// run server-side check
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value = "true", default_missing_value = "true")]
    pub server: bool,
    /// timeout to wait for the cluster to be ready
    #[arg(long, default_value = "20m", value_parser = parse_go_duration)]
    pub wait_timeout: Duration,
    /// specify IPs of control plane nodes
    #[arg(long, value_delimiter = ',')]
    pub control_plane_nodes: Vec<String>,
    /// specify IPs of worker nodes
    #[arg(long, value_delimiter = ',')]
    pub worker_nodes: Vec<String>,
    /// specify IPs of init node
    #[arg(long)]
    pub init_node: Option<String>,
    /// use endpoint instead of kubeconfig default
    #[arg(long)]
    pub k8s_endpoint: Option<String>,
}

pub(super) async fn run(global: &Global, args: HealthArgs) -> Outcome {
    let target = config::load(global)?;
    let client = Client::new(&target)?;
    let timeout_ms = args.wait_timeout.as_millis();
    if !args.server {
        // Client-side checks talk to the cluster through the endpoint, not to one node.
        return stream(&client, "-", timeout_ms, false).await.map_err(|e| match e {
            Failure::Message(m) if m.starts_with("rpc error: code = DeadlineExceeded") => Failure::Message("context deadline exceeded".into()),
            other => other,
        });
    }
    let nodes = target.require_nodes()?;
    if nodes.len() > 1 {
        return Err(Failure::Message("command \"health\" is not supported with multiple nodes".into()));
    }
    stream(&client, &nodes[0], timeout_ms, true).await
}

async fn stream(client: &Client, node: &str, timeout_ms: u128, discovered_line: bool) -> Outcome {
    let response = client.get(node, &format!("health?wait_timeout_ms={timeout_ms}")).await.map_err(|e| Failure::Message(e.message().to_owned()))?;
    let mut failure = None;
    for_each_line(response, |line| match serde_json::from_str::<HealthMessage>(line) {
        Ok(HealthMessage::Progress(message)) => {
            if discovered_line || !message.starts_with("discovered nodes: ") {
                eprintln!("{message}");
            }
        }
        Ok(HealthMessage::Error(error)) => failure = Some(error),
        Err(e) => failure = Some(format!("rpc error: code = Internal desc = {e}")),
    })
    .await
    .map_err(|e: CallError| Failure::Message(e.message().to_owned()))?;
    failure.map_or(Ok(()), |e| Err(Failure::Message(e)))
}
