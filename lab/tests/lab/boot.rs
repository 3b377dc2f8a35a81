//! The simulated Talos boot as the Kubernetes API shows it, against the store directly: Nodes
//! that turn Ready with their roles, versions and addresses, kube-system Pods Running, the
//! cluster's and the apps' Namespaces, Events; and a prod-shaped cluster's workers.

use std::time::Duration;

use serde_json::Value;
use vixens_lab::argocd;
use vixens_lab::spec::LabSpec;
use vixens_lab::store::{ResourceId, Store};
use vixens_lab::talos::{self, KUBERNETES_VERSION};

fn list(store: &Store, plural: &str, namespace: Option<&str>) -> Vec<Value> {
    store.list(&ResourceId::new("", plural), namespace).0
}

fn names(objects: &[Value]) -> Vec<String> {
    objects.iter().map(|o| o["metadata"]["name"].as_str().unwrap().to_owned()).collect()
}

fn condition(object: &Value, kind: &str) -> String {
    object["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == kind)
        .map_or("-".into(), |c| c["status"].as_str().unwrap().to_owned())
}

/// Boots `spec` with Argo CD and waits until the tree converged.
async fn booted(spec: &LabSpec) -> (Store, std::sync::Arc<talos::Cluster>) {
    let store = Store::default();
    let cluster = talos::Cluster::boot(spec, store.clone());
    argocd::start(spec, store.clone());
    tokio::time::timeout(Duration::from_secs(30), cluster.wait_booted()).await.expect("every node boots");
    let apps = ResourceId::new("argoproj.io", "applications");
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let (items, _) = store.list(&apps, Some("argocd"));
            if items.len() == spec.apps.len() + 1 && items.iter().all(|a| a["status"]["health"]["status"] == "Healthy") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the tree converges");
    (store, cluster)
}

fn lab(control_planes: usize, workers: usize) -> LabSpec {
    let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", control_planes, workers), argocd::default_apps());
    spec.time_scale = 0.2;
    spec
}

#[tokio::test]
async fn every_node_registers_and_turns_ready_with_its_role_version_and_addresses() {
    let (store, _) = booted(&lab(3, 0)).await;
    let nodes = list(&store, "nodes", None);
    assert_eq!(names(&nodes), ["lab-controlplane-1", "lab-controlplane-2", "lab-controlplane-3"]);
    for (i, node) in nodes.iter().enumerate() {
        assert_eq!(condition(node, "Ready"), "True");
        assert_eq!(node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"], "");
        assert_eq!(node["status"]["nodeInfo"]["kubeletVersion"], KUBERNETES_VERSION);
        assert_eq!(node["status"]["nodeInfo"]["osImage"], "Talos (v1.13.9)");
        assert_eq!(node["status"]["addresses"][0], serde_json::json!({"type": "InternalIP", "address": format!("10.5.0.{}", i + 2)}));
        assert!(node["spec"].get("taints").is_none(), "dev's control planes take workloads");
    }
}

#[tokio::test]
async fn kube_system_runs_static_pods_per_control_plane_cilium_per_node_and_coredns() {
    let (store, _) = booted(&lab(3, 0)).await;
    let pods = list(&store, "pods", Some("kube-system"));
    let mut kinds: Vec<String> = names(&pods).iter().map(|n| n.rsplit_once('-').map_or(n.clone(), |(head, _)| head.to_owned())).collect();
    kinds.sort();
    kinds.dedup();
    insta::assert_debug_snapshot!(kinds);
    assert!(pods.iter().all(|p| p["status"]["phase"] == "Running" && condition(p, "Ready") == "True"));
    for node in ["lab-controlplane-1", "lab-controlplane-2", "lab-controlplane-3"] {
        for component in ["kube-apiserver", "kube-controller-manager", "kube-scheduler"] {
            let pod = pods.iter().find(|p| p["metadata"]["name"] == format!("{component}-{node}")).expect("a static pod");
            assert_eq!(pod["spec"]["nodeName"], node);
        }
    }
    assert_eq!(pods.iter().filter(|p| p["metadata"]["labels"]["k8s-app"] == "cilium").count(), 3, "one Cilium agent per node");
    assert!(list(&store, "pods", Some("argocd")).len() >= 7, "Argo CD's own pods run");
}

#[tokio::test]
async fn the_clusters_and_each_apps_namespaces_appear() {
    let spec = lab(3, 0);
    let (store, _) = booted(&spec).await;
    let namespaces = names(&list(&store, "namespaces", None));
    for expected in ["default", "kube-system", "kube-public", "kube-node-lease", "argocd"] {
        assert!(namespaces.iter().any(|n| n == expected), "{expected}: {namespaces:?}");
    }
    for app in &spec.apps {
        assert!(namespaces.contains(&app.destination_namespace), "{}'s namespace {}", app.name, app.destination_namespace);
    }
}

#[tokio::test]
async fn events_record_each_nodes_start_registration_and_readiness() {
    let (store, _) = booted(&lab(3, 0)).await;
    let events = list(&store, "events", Some("default"));
    for node in ["lab-controlplane-1", "lab-controlplane-2", "lab-controlplane-3"] {
        let reasons: Vec<&str> = events.iter().filter(|e| e["involvedObject"]["name"] == node).map(|e| e["reason"].as_str().unwrap()).collect();
        assert_eq!(reasons, ["Starting", "RegisteredNode", "NodeReady"], "{node}");
    }
    assert!(!list(&store, "events", Some("kube-system")).is_empty(), "pods leave Scheduled/Pulled/Started events");
}

#[tokio::test]
async fn a_prod_shaped_cluster_taints_its_control_planes_and_runs_no_etcd_on_workers() {
    let (store, cluster) = booted(&lab(3, 2)).await;
    let nodes = list(&store, "nodes", None);
    assert_eq!(nodes.len(), 5);
    for node in &nodes {
        let name = node["metadata"]["name"].as_str().unwrap();
        let tainted = node["spec"].get("taints").is_some();
        assert_eq!(tainted, name.contains("controlplane"), "{name}");
        assert_eq!(condition(node, "Ready"), "True", "{name}");
    }
    let worker = cluster.node("10.5.0.5").unwrap();
    let services: Vec<String> = worker.services().into_iter().map(|s| s.id).collect();
    assert!(!services.contains(&"etcd".to_owned()) && !services.contains(&"trustd".to_owned()), "{services:?}");
    assert!(worker.log_lines("etcd", 0).is_none(), "a worker has no etcd log");
    assert!(cluster.node("lab-controlplane-1").unwrap().service("etcd").is_some());
}
