//! The real `kubectl` against the lab: real columns from server-side Table printing, `-o
//! json|yaml|jsonpath|wide`, `-w`, and writes refused with the read-only kubeconfig.
//!
//! Objects carry `suite=lab-api` and every command selects on it, so the simulators' own objects
//! never change these snapshots. Ages are redacted.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use crate::{Lab, stdout};

/// A lab with two labelled nodes (one NotReady worker) and three apps in `team-a`.
async fn lab_with_objects() -> Lab {
    let lab = Lab::up(&[]);
    let client = lab.client().await;
    let post = PostParams::default();
    let ns = serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap();
    Api::<Namespace>::all(client.clone()).create(&post, &ns).await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    for (name, role, ready, ip) in [("node-a", "control-plane", "True", "10.5.0.2"), ("node-b", "worker", "False", "10.5.0.3")] {
        let node = json!({
            "metadata": {"name": name, "labels": {"suite": "lab-api", format!("node-role.kubernetes.io/{role}"): ""}},
            "status": {
                "conditions": [{"type": "Ready", "status": ready}],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": "v1.34.1", "osImage": "Talos (v1.13.9)", "kernelVersion": "6.12.40-talos", "containerRuntimeVersion": "containerd://2.1.4"},
            },
        });
        nodes.create(&post, &serde_json::from_value(node).unwrap()).await.unwrap();
    }
    let gvk = GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let apps: Api<DynamicObject> = Api::namespaced_with(client, "team-a", &ApiResource::from_gvk_with_plural(&gvk, "applications"));
    for (name, sync, health) in
        [("cert-manager", Some("Synced"), Some("Healthy")), ("traefik", Some("OutOfSync"), Some("Progressing")), ("keda", None, None)]
    {
        let mut app = json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": name, "labels": {"suite": "lab-api"}, "annotations": {"argocd.argoproj.io/sync-wave": "2"}},
            "spec": {"project": "default"},
        });
        if let (Some(sync), Some(health)) = (sync, health) {
            app["status"] = json!({"sync": {"status": sync, "revision": "4f2c1a9"}, "health": {"status": health}});
        }
        apps.create(&post, &serde_json::from_value(app).unwrap()).await.unwrap();
    }
    lab
}

/// kubectl output with ages (`0s`, `12s`, `3m4s`) replaced, spacing kept comparable.
macro_rules! assert_kubectl_snapshot {
    ($name:expr, $output:expr) => {
        insta::with_settings!({filters => vec![(r"\b\d+(m\d+)?s\b *", "[AGE] ")]}, {
            insta::assert_snapshot!($name, $output);
        })
    };
}

#[tokio::test]
async fn get_nodes_prints_name_status_roles_age_and_version() {
    let lab = lab_with_objects().await;
    assert_kubectl_snapshot!("get_nodes", stdout(&lab.kubectl(&["get", "nodes", "-l", "suite=lab-api"])));
    assert_kubectl_snapshot!("get_nodes_wide", stdout(&lab.kubectl(&["get", "nodes", "-l", "suite=lab-api", "-o", "wide"])));
}

#[tokio::test]
async fn get_applications_prints_sync_and_health_status() {
    let lab = lab_with_objects().await;
    assert_kubectl_snapshot!("get_applications", stdout(&lab.kubectl(&["-n", "team-a", "get", "applications"])));
    assert_kubectl_snapshot!("get_apps_all_namespaces_wide", stdout(&lab.kubectl(&["get", "apps", "-A", "-l", "suite=lab-api", "-o", "wide"])));
}

#[tokio::test]
async fn output_formats_json_yaml_and_jsonpath_carry_the_objects() {
    let lab = lab_with_objects().await;
    let list: Value = serde_json::from_str(&stdout(&lab.kubectl(&["-n", "team-a", "get", "applications", "-o", "json"]))).unwrap();
    assert_eq!(list["kind"], "List");
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cert-manager", "keda", "traefik"]);
    assert_eq!(list["items"][0]["kind"], "Application");

    let yaml = stdout(&lab.kubectl(&["get", "node", "node-a", "-o", "yaml"]));
    assert!(yaml.starts_with("apiVersion: v1\nkind: Node\nmetadata:\n"), "{yaml}");
    assert!(yaml.contains("  - address: 10.5.0.2\n    type: InternalIP\n"), "{yaml}");

    let jsonpath = r#"{range .items[*]}{.metadata.name}={.status.health.status}{"\n"}{end}"#;
    let text = stdout(&lab.kubectl(&["-n", "team-a", "get", "apps", "-o", &format!("jsonpath={jsonpath}")]));
    assert_eq!(text, "cert-manager=Healthy\nkeda=\ntraefik=Progressing\n");
}

#[tokio::test]
async fn kubectl_writes_patch_label_and_delete_with_the_admin_kubeconfig() {
    let lab = lab_with_objects().await;
    assert_eq!(
        stdout(&lab.kubectl(&["-n", "team-a", "patch", "app", "keda", "--type", "merge", "-p", r#"{"spec":{"project":"infra"}}"#])),
        "application.argoproj.io/keda patched\n"
    );
    let json_patch = r#"[{"op":"replace","path":"/spec/project","value":"platform"}]"#;
    stdout(&lab.kubectl(&["-n", "team-a", "patch", "app", "keda", "--type", "json", "-p", json_patch]));
    assert_eq!(stdout(&lab.kubectl(&["label", "node", "node-b", "pool=edge"])), "node/node-b labeled\n");
    assert_eq!(stdout(&lab.kubectl(&["get", "nodes", "-l", "pool=edge", "-o", "name"])), "node/node-b\n");
    assert_eq!(stdout(&lab.kubectl(&["-n", "team-a", "get", "app", "keda", "-o", "jsonpath={.spec.project}"])), "platform");
    assert_eq!(stdout(&lab.kubectl(&["-n", "team-a", "delete", "app", "keda"])), "application.argoproj.io \"keda\" deleted\n");
    let out = lab.kubectl(&["-n", "team-a", "get", "app", "keda"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "Error from server (NotFound): applications.argoproj.io \"keda\" not found\n");
}

#[tokio::test]
async fn a_write_with_the_read_only_kubeconfig_is_forbidden() {
    let lab = lab_with_objects().await;
    assert!(stdout(&lab.kubectl_as("kubeconfig-readonly", &["get", "nodes", "-l", "suite=lab-api"])).contains("node-a"));
    let out = lab.kubectl_as("kubeconfig-readonly", &["-n", "team-a", "delete", "app", "traefik"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error from server (Forbidden): applications.argoproj.io \"traefik\" is forbidden: User \"lab-readonly\" cannot delete resource \"applications\" in API group \"argoproj.io\" in the namespace \"team-a\"\n"
    );
    let out = lab.kubectl_as("kubeconfig-readonly", &["label", "node", "node-a", "x=y"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot patch resource \"nodes\""), "{out:?}");
    assert!(stdout(&lab.kubectl(&["-n", "team-a", "get", "app", "traefik", "-o", "name"])).contains("traefik"), "still there");
}

#[tokio::test]
async fn get_nodes_watch_prints_a_row_per_change() {
    let lab = lab_with_objects().await;
    let mut child = lab
        .kubectl_command("kubeconfig", &["get", "nodes", "-l", "suite=lab-api", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let line = || rx.recv_timeout(Duration::from_secs(10)).expect("kubectl -w printed a line");
    assert!(line().starts_with("NAME     STATUS     ROLES           AGE   VERSION"));
    assert!(line().starts_with("node-a   Ready      control-plane"));
    assert!(line().starts_with("node-b   NotReady   worker"));
    let ready = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    Api::<Node>::all(lab.client().await).patch("node-b", &PatchParams::default(), &Patch::Merge(&ready)).await.unwrap();
    assert!(line().starts_with("node-b   Ready      worker"), "the change shows as a new row");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn pods_events_and_namespaces_print_their_usual_columns() {
    let lab = lab_with_objects().await;
    let client = lab.client().await;
    let post = PostParams::default();
    let pods: Api<k8s_openapi::api::core::v1::Pod> = Api::namespaced(client.clone(), "team-a");
    for (name, ready, waiting, restarts) in [("traefik-7d9f", true, None, 0), ("keda-operator-5c4b", false, Some("CrashLoopBackOff"), 3)] {
        let state = waiting.map_or_else(|| json!({"running": {"startedAt": "2026-11-26T00:00:00Z"}}), |r| json!({"waiting": {"reason": r}}));
        let pod = json!({
            "metadata": {"name": name, "labels": {"suite": "lab-api"}},
            "spec": {"nodeName": "node-a", "containers": [{"name": "main", "image": "registry.example/app:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.0.7",
                       "containerStatuses": [{"name": "main", "ready": ready, "restartCount": restarts, "state": state, "image": "app:1", "imageID": "", "started": ready}]},
        });
        pods.create(&post, &serde_json::from_value(pod).unwrap()).await.unwrap();
    }
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client, "team-a");
    let event = json!({
        "metadata": {"name": "keda-operator-5c4b.1", "labels": {"suite": "lab-api"}},
        "involvedObject": {"kind": "Pod", "name": "keda-operator-5c4b", "namespace": "team-a", "fieldPath": "spec.containers{main}"},
        "reason": "BackOff", "message": "Back-off restarting failed container main", "type": "Warning", "count": 3,
        "firstTimestamp": "2026-11-26T00:00:00Z", "lastTimestamp": "2026-11-26T00:00:00Z",
        "source": {"component": "kubelet", "host": "node-a"},
    });
    events.create(&post, &serde_json::from_value(event).unwrap()).await.unwrap();
    let ages = vec![(r"\b\d+(m\d+)?s\b *", "[AGE] "), (r"\b\d+d(\d+h)?\b *", "[AGE] "), (r"\b\d+(h\d+m|h|m)\b *", "[AGE] ")];
    insta::with_settings!({filters => ages}, {
        insta::assert_snapshot!("get_pods_wide", stdout(&lab.kubectl(&["-n", "team-a", "get", "pods", "-o", "wide"])));
        insta::assert_snapshot!("get_events", stdout(&lab.kubectl(&["-n", "team-a", "get", "events"])));
        insta::assert_snapshot!("get_namespace", stdout(&lab.kubectl(&["get", "namespace", "team-a"])));
    });
}

#[test]
fn a_fresh_lab_shows_ready_nodes_and_healthy_apps_to_kubectl() {
    let lab = Lab::up(&[]);
    let started = std::time::Instant::now();
    // Nodes register while the simulated Talos nodes boot, as on a real cluster.
    while stdout(&lab.kubectl(&["get", "nodes", "-o", "name"])).lines().count() < 3 {
        assert!(started.elapsed() < Duration::from_secs(30), "the nodes did not register");
        std::thread::sleep(Duration::from_millis(200));
    }
    stdout(&lab.kubectl(&["wait", "--for=condition=Ready", "nodes", "--all", "--timeout=60s"]));
    // Every child exists once the root's sync succeeded; `wait --all` waits on those it lists.
    let root_done = "--for=jsonpath={.status.operationState.phase}=Succeeded";
    stdout(&lab.kubectl(&["-n", "argocd", "wait", root_done, "application/vixens-app-of-apps", "--timeout=60s"]));
    for condition in ["jsonpath={.status.health.status}=Healthy", "jsonpath={.status.sync.status}=Synced"] {
        stdout(&lab.kubectl(&["-n", "argocd", "wait", &format!("--for={condition}"), "applications", "--all", "--timeout=60s"]));
    }
    let nodes = stdout(&lab.kubectl(&["get", "nodes"]));
    let rows: Vec<Vec<&str>> = nodes.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows[0], ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    assert_eq!(rows.len(), 4, "{nodes}");
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(
            (row[0], row[1], row[2], row[4]),
            (format!("lab-controlplane-{}", i + 1).as_str(), "Ready", "control-plane", vixens_lab::api::KUBERNETES_VERSION)
        );
    }
    let apps = stdout(&lab.kubectl(&["-n", "argocd", "get", "applications", "--no-headers"]));
    assert!(apps.lines().count() > 15, "{apps}");
    assert!(apps.lines().all(|l| l.split_whitespace().skip(1).collect::<Vec<_>>() == ["Synced", "Healthy"]), "{apps}");
}
