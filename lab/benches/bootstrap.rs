//! How long the simulated homelab takes to come up, in process: Talos boots every node (all
//! Ready) and Argo CD bootstraps the tree (every Application Synced, Healthy and reconciled), at
//! time scale 1.0, for the default tree and for `--app-count 1000 --nodes 100`.
//!
//! Run with `cargo bench -p vixens-lab --bench bootstrap --profile dev`; the figures go to
//! docs/performance.md. The simulated delays dominate, so the profile matters little.

use std::time::{Duration, Instant};

use serde_json::Value;
use vixens_lab::spec::{AppSpec, LabSpec};
use vixens_lab::store::{ResourceId, Store};
use vixens_lab::{argocd, talos};

struct Figures {
    nodes_ready: Duration,
    converged: Duration,
    objects: usize,
    revision: u64,
    kmsg_per_node: usize,
    log_lines_per_node: usize,
}

fn is_true(object: &Value, kind: &str) -> bool {
    object.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
}

fn converged(app: &Value) -> bool {
    app.pointer("/status/health/status").and_then(Value::as_str) == Some("Healthy")
        && app.pointer("/status/sync/status").and_then(Value::as_str) == Some("Synced")
        && app.pointer("/status/reconciledAt").is_some()
}

async fn measure(nodes: usize, apps: Vec<AppSpec>) -> Figures {
    let total_apps = apps.len() + 1;
    let spec = LabSpec::new("bench", LabSpec::nodes_for("bench", nodes, 0), apps);
    let store = Store::default();
    let started = Instant::now();
    let cluster = talos::Cluster::boot(&spec, store.clone());
    argocd::start(&spec, store.clone());
    let (node_id, app_id) = (ResourceId::new("", "nodes"), ResourceId::new("argoproj.io", "applications"));
    let mut nodes_ready = None;
    loop {
        if nodes_ready.is_none() && store.list(&node_id, None).0.iter().filter(|n| is_true(n, "Ready")).count() == nodes {
            nodes_ready = Some(started.elapsed());
        }
        let (items, _) = store.list(&app_id, Some("argocd"));
        if items.len() == total_apps && items.iter().all(converged) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no convergence in 2 minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let converged = started.elapsed();
    let objects =
        ["nodes", "pods", "events", "namespaces"].iter().map(|p| store.list(&ResourceId::new("", p), None).0.len()).sum::<usize>() + total_apps;
    let node = &cluster.nodes()[0];
    let log_lines_per_node = ["machined", "apid", "etcd", "kubelet", "containerd", "cri", "ext-iscsid", "controller-runtime"]
        .iter()
        .map(|s| node.log_len(s).unwrap_or(0))
        .sum();
    Figures {
        nodes_ready: nodes_ready.unwrap_or(converged),
        converged,
        objects,
        revision: store.revision(),
        kmsg_per_node: node.kmsg_len(),
        log_lines_per_node,
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    println!("| lab | nodes Ready | every Application converged | objects | store writes | dmesg records / node | log lines / node |");
    println!("|---|---|---|---|---|---|---|");
    for (label, nodes, apps) in
        [("default tree (3 nodes, 21 apps)", 3, argocd::default_apps()), ("--app-count 1000 --nodes 100", 100, argocd::generated_apps(1000))]
    {
        let f = runtime.block_on(measure(nodes, apps));
        println!(
            "| {label} | {:.2} s | {:.2} s | {} | {} | {} | {} |",
            f.nodes_ready.as_secs_f64(),
            f.converged.as_secs_f64(),
            f.objects,
            f.revision,
            f.kmsg_per_node,
            f.log_lines_per_node
        );
    }
}
