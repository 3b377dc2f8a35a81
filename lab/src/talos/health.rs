//! `talosctl health`'s checks, run against the simulated cluster: the same descriptions, in the
//! same order as Talos v1.13.9 (`pkg/cluster/check/default.go`), judged from the nodes' services
//! and the Kubernetes objects in the store.
//!
//! [`run`] drives them like `check.Wait` with the server's reporter: each check is reported as
//! `waiting for <description>: ...` before its first evaluation, then with its state (`OK`,
//! `SKIP` or the last error) whenever that changes, until it passes or the wait times out.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Cluster;
use super::wire::{HealthMessage, ServiceState};
use crate::store::ResourceId;

/// How often a failing check is evaluated again, at time scale 1.0.
const POLL: Duration = Duration::from_millis(50);

/// A check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Passed.
    Ok,
    /// Does not apply to this cluster (`kube-proxy` when Cilium replaces it).
    Skip,
    /// Not yet: the error Talos would report.
    Waiting(String),
}

/// The checks, in order.
pub const CHECKS: &[&str] = &[
    "etcd to be healthy",
    "etcd members to be consistent across nodes",
    "etcd members to be control plane nodes",
    "apid to be ready",
    "all nodes memory sizes",
    "all nodes disk sizes",
    "no diagnostics",
    "kubelet to be healthy",
    "all nodes to finish boot sequence",
    "all k8s nodes to report",
    "all control plane static pods to be running",
    "all control plane components to be ready",
    "all k8s nodes to report ready",
    "kube-proxy to report ready",
    "coredns to report ready",
    "all k8s nodes to report schedulable",
];

/// Runs every check, sending progress to `out`, and ends with an [`HealthMessage::Error`] if
/// `timeout` passes first. Stops early when `out` is closed (the client went away).
pub async fn run(cluster: &Cluster, timeout: Duration, out: mpsc::Sender<HealthMessage>) {
    let deadline = Instant::now() + timeout;
    let addresses: Vec<String> = cluster.nodes().iter().map(|n| format!("{:?}", n.spec.address)).collect();
    if out.send(HealthMessage::Progress(format!("discovered nodes: [{}]", addresses.join(" ")))).await.is_err() {
        return;
    }
    for &check in CHECKS {
        let mut last = format!("waiting for {check}: ...");
        if out.send(HealthMessage::Progress(last.clone())).await.is_err() {
            return;
        }
        loop {
            let verdict = evaluate(cluster, check);
            let state = match &verdict {
                Verdict::Ok => "OK".to_owned(),
                Verdict::Skip => "SKIP".to_owned(),
                Verdict::Waiting(error) => error.clone(),
            };
            let line = format!("waiting for {check}: {state}");
            if line != last {
                if out.send(HealthMessage::Progress(line.clone())).await.is_err() {
                    return;
                }
                last = line;
            }
            if !matches!(verdict, Verdict::Waiting(_)) {
                break;
            }
            let next = Instant::now() + cluster.spec().scaled(POLL).max(Duration::from_millis(5));
            if next > deadline {
                tokio::time::sleep_until(deadline).await;
                let _ = out.send(HealthMessage::Error("rpc error: code = DeadlineExceeded desc = context deadline exceeded".into())).await;
                return;
            }
            tokio::time::sleep_until(next).await;
        }
    }
}

/// Evaluates one check now.
#[must_use]
pub fn evaluate(cluster: &Cluster, check: &str) -> Verdict {
    match check {
        "etcd to be healthy" => service_healthy(cluster, "etcd", true),
        "etcd members to be consistent across nodes" | "etcd members to be control plane nodes" => match service_healthy(cluster, "etcd", true) {
            Verdict::Ok => Verdict::Ok,
            _ => Verdict::Waiting("etcd is not healthy on every control plane node".into()),
        },
        "apid to be ready" => service_healthy(cluster, "apid", false),
        "kubelet to be healthy" => service_healthy(cluster, "kubelet", false),
        "all nodes to finish boot sequence" => {
            per_node(cluster, false, |node| if node.booted() { None } else { Some("node is still booting: stage Booting".into()) })
        }
        "all k8s nodes to report" => nodes_report(cluster),
        "all control plane static pods to be running" | "all control plane components to be ready" => static_pods(cluster),
        "all k8s nodes to report ready" => nodes_ready(cluster),
        "kube-proxy to report ready" => {
            if pods(cluster, "k8s-app", "kube-proxy").is_empty() {
                Verdict::Skip
            } else {
                pods_ready(cluster, "kube-proxy")
            }
        }
        "coredns to report ready" => pods_ready(cluster, "kube-dns"),
        // Memory, disks and diagnostics are fine on simulated nodes; unschedulable nodes
        // only come from a cordon, which the lab never does.
        _ => Verdict::Ok,
    }
}

/// `service "etcd" not in expected state "Running": current state [Preparing] Running pre state`
/// per node, as a multierror.
fn service_healthy(cluster: &Cluster, id: &str, control_planes_only: bool) -> Verdict {
    per_node(cluster, control_planes_only, |node| match node.service(id) {
        None => Some(format!("service {id:?} not registered")),
        Some(service) if service.state != ServiceState::Running => {
            let last = service.events.last().map_or("", |e| e.msg.as_str());
            Some(format!("service {id:?} not in expected state \"Running\": current state [{}] {last}", service.state))
        }
        Some(service) if !service.health.healthy => Some(format!("service {id:?} not healthy")),
        Some(_) => None,
    })
}

fn per_node(cluster: &Cluster, control_planes_only: bool, check: impl Fn(&super::Node) -> Option<String>) -> Verdict {
    let errors: Vec<String> = cluster
        .nodes()
        .iter()
        .filter(|n| !control_planes_only || n.spec.is_control_plane())
        .filter_map(|n| check(n).map(|e| format!("{}: {e}", n.spec.address)))
        .collect();
    multierror(&errors)
}

/// hashicorp/go-multierror's format, as the reporter shows it (trailing newlines trimmed).
fn multierror(errors: &[String]) -> Verdict {
    match errors {
        [] => Verdict::Ok,
        [one] => Verdict::Waiting(format!("1 error occurred:\n\t* {one}")),
        many => {
            let mut text = format!("{} errors occurred:", many.len());
            for e in many {
                let _ = write!(text, "\n\t* {e}");
            }
            Verdict::Waiting(text)
        }
    }
}

fn k8s_nodes(cluster: &Cluster) -> Vec<Value> {
    cluster.store().list(&ResourceId::new("", "nodes"), None).0
}

fn is_ready(node: &Value) -> bool {
    node.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

fn nodes_report(cluster: &Cluster) -> Verdict {
    let reported: Vec<String> =
        k8s_nodes(cluster).iter().filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned)).collect();
    let missing: Vec<&str> = cluster.nodes().iter().filter(|n| !reported.contains(&n.spec.name)).map(|n| n.spec.address.as_str()).collect();
    if missing.is_empty() { Verdict::Ok } else { Verdict::Waiting(format!("some nodes are not reported: {missing:?}")) }
}

fn nodes_ready(cluster: &Cluster) -> Verdict {
    let not_ready: Vec<String> = k8s_nodes(cluster)
        .iter()
        .filter(|n| !is_ready(n))
        .filter_map(|n| n.pointer("/metadata/name").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if not_ready.is_empty() { Verdict::Ok } else { Verdict::Waiting(format!("some nodes are not ready: [{}]", not_ready.join(" "))) }
}

fn pods(cluster: &Cluster, label: &str, value: &str) -> Vec<Value> {
    let (all, _) = cluster.store().list(&ResourceId::new("", "pods"), Some("kube-system"));
    all.into_iter().filter(|p| p.pointer(&format!("/metadata/labels/{label}")).and_then(Value::as_str) == Some(value)).collect()
}

fn pod_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|c| c.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
}

fn pods_ready(cluster: &Cluster, k8s_app: &str) -> Verdict {
    let pods = pods(cluster, "k8s-app", k8s_app);
    if pods.is_empty() {
        return Verdict::Waiting(format!("no pods found for namespace \"kube-system\" and label selector \"k8s-app={k8s_app}\""));
    }
    let not_ready = pods.iter().filter(|p| !pod_ready(p)).count();
    if not_ready == 0 { Verdict::Ok } else { Verdict::Waiting(format!("{not_ready} pods are not ready")) }
}

fn static_pods(cluster: &Cluster) -> Verdict {
    let mut errors = Vec::new();
    for node in cluster.nodes().iter().filter(|n| n.spec.is_control_plane()) {
        for component in ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] {
            let name = format!("{component}-{}", node.spec.name);
            let running = cluster
                .store()
                .get(&ResourceId::new("", "pods"), Some("kube-system"), &name)
                .is_some_and(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running"));
            if !running {
                errors.push(format!("{}: static pod {name:?} is not running", node.spec.address));
            }
        }
    }
    multierror(&errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_errors_read_like_go_multierror() {
        assert_eq!(multierror(&[]), Verdict::Ok);
        assert_eq!(multierror(&["10.5.0.3: x".into()]), Verdict::Waiting("1 error occurred:\n\t* 10.5.0.3: x".into()));
        assert_eq!(
            multierror(&["10.5.0.3: x".into(), "10.5.0.4: y".into()]),
            Verdict::Waiting("2 errors occurred:\n\t* 10.5.0.3: x\n\t* 10.5.0.4: y".into())
        );
    }
}
