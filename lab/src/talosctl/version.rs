//! `talosctl version [--short|--client|--json]`: the client block, then `Server:` and one block
//! per node. Nodes that fail are reported as a `WARNING:` on stderr (exit 0).

use clap::Args;

use super::client::{CallError, Client};
use super::output::warn;
use super::{Failure, Global, Outcome, config};
use crate::talos::wire::VersionInfo;
use crate::talos::{GO_VERSION, TALOS_SHA, TALOS_VERSION};

#[derive(Debug, Args)]
pub(super) struct VersionArgs {
    /// Print the short version
    #[arg(long)]
    pub short: bool,
    /// Print client version only
    #[arg(long)]
    pub client: bool,
    #[arg(long, hide = true)]
    pub json: bool,
    /// use Talos insecure mode (accepted for compatibility; the lab always verifies its CA)
    #[arg(short = 'i', long)]
    pub insecure: bool,
}

/// `printLong`'s template: tab, label, and every value at the same column.
fn long(v: &VersionInfo) -> String {
    format!(
        "\tTag:         {}\n\tSHA:         {}\n\tBuilt:       {}\n\tGo version:  {}\n\tOS/Arch:     {}/{}\n",
        v.tag, v.sha, v.built, v.go_version, v.os, v.arch
    )
}

fn client_version() -> VersionInfo {
    VersionInfo {
        tag: TALOS_VERSION.into(),
        sha: TALOS_SHA.into(),
        built: String::new(),
        go_version: GO_VERSION.into(),
        os: "linux".into(),
        arch: "amd64".into(),
        rbac: true,
    }
}

pub(super) async fn run(global: &Global, args: VersionArgs) -> Outcome {
    if !args.json {
        println!("Client:");
        if args.short {
            println!("Talos {TALOS_VERSION}");
        } else {
            print!("{}", long(&client_version()));
        }
        if args.client {
            return Ok(());
        }
        println!("Server:");
    }
    let target = config::load(global)?;
    let nodes = target.require_nodes()?.to_vec();
    let client = Client::new(&target)?;
    let mut errors = Vec::new();
    for node in &nodes {
        match client.get_json::<VersionInfo>(node, "version").await {
            Ok(v) if args.json => println!("{}", protojson(node, &v)),
            Ok(v) => {
                println!("\tNODE:        {node}");
                print!("{}", long(&v));
                println!("\tEnabled:     {}", if v.rbac { "RBAC" } else { "" });
            }
            Err(CallError::Connection(m)) => return Err(Failure::Message(format!("error getting version: {m}"))),
            Err(CallError::Node(m)) => errors.push(format!("{node}: {m}")),
        }
    }
    warn(&errors);
    Ok(())
}

/// `protojson.Marshal` of a `machine.Version` message: lowerCamelCase, empty fields left out.
fn protojson(node: &str, v: &VersionInfo) -> String {
    let mut version = serde_json::Map::new();
    for (key, value) in [("tag", &v.tag), ("sha", &v.sha), ("built", &v.built), ("goVersion", &v.go_version), ("os", &v.os), ("arch", &v.arch)] {
        if !value.is_empty() {
            version.insert(key.into(), value.clone().into());
        }
    }
    // Field order follows the proto field numbers, as protojson writes them.
    let ordered = ["tag", "sha", "built", "goVersion", "os", "arch"]
        .iter()
        .filter_map(|k| version.get(*k).map(|v| format!("{}:{v}", serde_json::Value::from(*k))))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "{{\"metadata\":{{\"hostname\":{}}},\"version\":{{{ordered}}},\"platform\":{{\"name\":\"metal\",\"mode\":\"metal\"}},\"features\":{{\"rbac\":{}}}}}",
        serde_json::Value::from(node),
        v.rbac
    )
}
