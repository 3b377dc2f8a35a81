//! `talosctl service [<id> [status]]`: a table of every service of every node, or the details
//! and events of one service. Nodes that fail are a `WARNING:` on stderr (exit 0).

use clap::Args;

use super::client::{CallError, Client};
use super::output::{ago, tabwrite, warn};
use super::{Failure, Global, Outcome, config};
use crate::talos::wire::{ServiceHealth, ServiceInfo};

#[derive(Debug, Args)]
pub(super) struct ServiceArgs {
    /// The service to show.
    pub id: Option<String>,
    /// `status` (the default); start, stop and restart are not available in the lab.
    pub action: Option<String>,
}

fn health(h: &ServiceHealth) -> &'static str {
    match (h.unknown, h.healthy) {
        (true, _) => "?",
        (false, true) => "OK",
        (false, false) => "Fail",
    }
}

pub(super) async fn run(global: &Global, args: ServiceArgs) -> Outcome {
    let action = args.action.as_deref().unwrap_or("status");
    if action != "status" {
        return Err(match action {
            "start" | "stop" | "restart" => {
                Failure::Message(format!("error {action}ing service: rpc error: code = Unimplemented desc = the lab's services cannot be {action}ed"))
            }
            other => Failure::Message(format!("unsupported service action: {other:?}")),
        });
    }
    let target = config::load(global)?;
    let nodes = target.require_nodes()?.to_vec();
    let client = Client::new(&target)?;
    let mut answers = Vec::new();
    let mut errors = Vec::new();
    for node in &nodes {
        match client.get_json::<Vec<ServiceInfo>>(node, "services").await {
            Ok(services) => answers.push((node.clone(), services)),
            Err(CallError::Connection(m)) => return Err(Failure::Message(format!("error listing services: {m}"))),
            Err(CallError::Node(m)) => errors.push(format!("{node}: {m}")),
        }
    }
    warn(&errors);
    match args.id {
        None => {
            print!("{}", list(&answers));
            Ok(())
        }
        Some(id) => {
            let rows = info(&answers, &id);
            if rows.is_empty() {
                return Err(Failure::Message(format!("service {id:?} is not registered on any nodes")));
            }
            print!("{}", tabwrite(&rows));
            Ok(())
        }
    }
}

fn list(answers: &[(String, Vec<ServiceInfo>)]) -> String {
    let mut rows = vec![["NODE", "SERVICE", "STATE", "HEALTH", "LAST CHANGE", "LAST EVENT"].map(String::from).to_vec()];
    for (node, services) in answers {
        for s in services {
            let last = s.events.last();
            rows.push(vec![
                node.clone(),
                s.id.clone(),
                s.state.to_string(),
                health(&s.health).into(),
                format!("{} ago", last.map_or_else(String::new, |e| ago(&e.ts))),
                last.map_or_else(|| "<none>".into(), |e| e.msg.clone()),
            ]);
        }
    }
    tabwrite(&rows)
}

/// Key/value rows for one service on every node that has it; events newest first.
fn info(answers: &[(String, Vec<ServiceInfo>)], id: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for (node, services) in answers {
        let Some(s) = services.iter().find(|s| s.id == id) else { continue };
        rows.push(vec!["NODE".into(), node.clone()]);
        rows.push(vec!["ID".into(), s.id.clone()]);
        rows.push(vec!["STATE".into(), s.state.to_string()]);
        rows.push(vec!["HEALTH".into(), health(&s.health).into()]);
        if !s.health.last_message.is_empty() {
            rows.push(vec!["LAST HEALTH MESSAGE".into(), s.health.last_message.clone()]);
        }
        let mut label = "EVENTS";
        for e in s.events.iter().rev() {
            rows.push(vec![label.into(), format!("[{}]: {} ({} ago)", e.state, e.msg, ago(&e.ts))]);
            label = "";
        }
    }
    rows
}
