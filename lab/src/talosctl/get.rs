//! `talosctl get members [ID] [-o table|yaml|json]`: the cluster members each node knows.

use clap::Args;

use super::client::{CallError, Client};
use super::output::{tabwrite, warn};
use super::{Failure, Global, Outcome, config};
use crate::talos::wire::Member;

const MEMBER_TYPE: &str = "Members.cluster.talos.dev";

#[derive(Debug, Args)]
pub(super) struct GetArgs {
    /// The resource type (`members`).
    #[arg(value_name = "type")]
    pub resource: String,
    /// One resource id.
    pub id: Option<String>,
    /// output mode (json, table, yaml, jsonpath)
    #[arg(short = 'o', long, default_value = "table")]
    pub output: String,
}

pub(super) async fn run(global: &Global, args: GetArgs) -> Outcome {
    if !["members", "member", "Members.cluster.talos.dev", "Member"].contains(&args.resource.as_str()) {
        return Err(Failure::Message(format!("resource type {:?} is not registered in the lab (it serves: members)", args.resource)));
    }
    if !["table", "yaml", "json"].contains(&args.output.as_str()) {
        return Err(Failure::Message(format!("output mode {:?} is not supported", args.output)));
    }
    let target = config::load(global)?;
    let nodes = target.require_nodes()?.to_vec();
    let client = Client::new(&target)?;
    let mut rows = vec![["NODE", "NAMESPACE", "TYPE", "ID", "VERSION", "HOSTNAME", "MACHINE TYPE", "OS", "ADDRESSES"].map(String::from).to_vec()];
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    for node in &nodes {
        let members = match client.get_json::<Vec<Member>>(node, "members").await {
            Ok(members) => members,
            Err(CallError::Connection(m)) => return Err(Failure::Message(m)),
            Err(CallError::Node(m)) => {
                errors.push(format!("{node}: {m}"));
                continue;
            }
        };
        let selected: Vec<&Member> = members.iter().filter(|m| args.id.as_ref().is_none_or(|id| *id == m.id)).collect();
        if let (Some(id), true) = (&args.id, selected.is_empty()) {
            errors.push(format!("{node}: rpc error: code = NotFound desc = resource {MEMBER_TYPE}(cluster/{id}@undefined) doesn't exist"));
        }
        for m in selected {
            match args.output.as_str() {
                "yaml" => documents.push(yaml(node, m)),
                "json" => documents.push(json(node, m)),
                _ => rows.push(vec![
                    node.clone(),
                    "cluster".into(),
                    "Member".into(),
                    m.id.clone(),
                    m.version.to_string(),
                    m.hostname.clone(),
                    m.machine_type.clone(),
                    m.operating_system.clone(),
                    serde_json::to_string(&m.addresses).unwrap_or_default(),
                ]),
            }
        }
    }
    if args.id.is_some() && !errors.is_empty() && documents.is_empty() && rows.len() == 1 {
        return Err(Failure::Message(super::output::multierror(&errors)));
    }
    warn(&errors);
    match args.output.as_str() {
        "yaml" => print!("{}", documents.join("---\n")),
        "json" => print!("{}", documents.concat()),
        _ => print!("{}", tabwrite(&rows)),
    }
    Ok(())
}

/// `node: <n>` then the resource as yaml.v3 writes it (4-space indent).
fn yaml(node: &str, m: &Member) -> String {
    let mut out = format!(
        "node: {node}\nmetadata:\n    namespace: cluster\n    type: {MEMBER_TYPE}\n    id: {}\n    version: {}\n    owner: cluster.MemberController\n    phase: running\n    created: {}\n    updated: {}\nspec:\n    nodeId: {}\n    addresses:\n",
        m.id, m.version, m.created, m.updated, m.node_id
    );
    for address in &m.addresses {
        out.push_str(&format!("        - {address}\n"));
    }
    out.push_str(&format!("    hostname: {}\n    machineType: {}\n    operatingSystem: {}\n", m.hostname, m.machine_type, m.operating_system));
    if let Some(port) = m.api_server_port {
        out.push_str(&format!("    controlPlane:\n        apiServer:\n            port: {port}\n"));
    }
    out
}

/// The same map with a `node` key, as an indented JSON object (Go's encoder: 4 spaces, keys
/// sorted), one per resource: a stream of objects, not an array.
fn json(node: &str, m: &Member) -> String {
    let mut spec = serde_json::json!({
        "nodeId": m.node_id,
        "addresses": m.addresses,
        "hostname": m.hostname,
        "machineType": m.machine_type,
        "operatingSystem": m.operating_system,
    });
    if let Some(port) = m.api_server_port {
        spec["controlPlane"] = serde_json::json!({"apiServer": {"port": port}});
    }
    let value = serde_json::json!({
        "node": node,
        "metadata": {
            "namespace": "cluster",
            "type": MEMBER_TYPE,
            "id": m.id,
            "version": m.version,
            "owner": "cluster.MemberController",
            "phase": "running",
            "created": m.created,
            "updated": m.updated,
        },
        "spec": spec,
    });
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    let _ = serde::Serialize::serialize(&value, &mut serializer);
    let mut text = String::from_utf8(out).unwrap_or_default();
    text.push('\n');
    text
}
