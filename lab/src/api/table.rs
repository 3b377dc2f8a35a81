//! Server-side printing: `Table` responses (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`)
//! with the columns the real API server prints for each kind (`pkg/printers/internalversion`, and
//! the Argo CD CRD's `additionalPrinterColumns`), so that the real `kubectl get` shows real columns.
//!
//! As the real server, rows are always generated wide; kubectl hides the columns of priority > 0
//! unless `-o wide`.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::resources::Kind;

/// `name`, `type`, `format`, `priority` of one column.
struct Column {
    name: &'static str,
    format: &'static str,
    priority: u8,
    description: &'static str,
}

const fn col(name: &'static str, priority: u8, description: &'static str) -> Column {
    Column { name, format: "", priority, description }
}

const NAME: Column = Column {
    name: "Name",
    format: "name",
    priority: 0,
    description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
};
const AGE: Column = col(
    "Age",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
);

fn columns(kind: &Kind) -> Vec<Column> {
    match kind.plural {
        "nodes" => vec![
            NAME,
            col("Status", 0, "The status of the node"),
            col("Roles", 0, "The roles of the node"),
            AGE,
            col("Version", 0, "Kubelet Version reported by the node."),
            col("Internal-IP", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
            col("External-IP", 1, "List of addresses reachable to the node. Queried from cloud provider, if available."),
            col("OS-Image", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
            col("Kernel-Version", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
            col("Container-Runtime", 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."),
        ],
        "pods" => vec![
            NAME,
            col("Ready", 0, "The aggregate readiness state of this pod for accepting traffic."),
            col("Status", 0, "The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            col("IP", 1, "podIP is the IP address allocated to the pod."),
            col("Node", 1, "NodeName is a request to schedule this pod onto a specific node."),
            col("Nominated Node", 1, "nominatedNodeName is set only when this pod preempts other pods on the node."),
            col("Readiness Gates", 1, "If specified, all readiness gates will be evaluated for pod readiness."),
        ],
        "namespaces" => vec![NAME, col("Status", 0, "The status of the namespace"), AGE],
        "events" => vec![
            col("Last Seen", 0, "The time at which the most recent occurrence of this event was recorded."),
            col("Type", 0, "Type of this event (Normal, Warning), new types could be added in the future"),
            col(
                "Reason",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            col("Object", 0, "The object that this event is about."),
            col("Subobject", 1, "The subobject the event is about (fieldPath)."),
            col("Source", 1, "The component reporting this event."),
            col("Message", 0, "A human-readable description of the status of this operation."),
            col("First Seen", 1, "The time at which the event was first recorded."),
            col("Count", 1, "The number of times this event has occurred."),
            Column { format: "name", priority: 1, ..NAME },
        ],
        "applications" => vec![NAME, col("Sync Status", 0, ""), col("Health Status", 0, ""), col("Revision", 10, ""), col("Project", 10, "")],
        "persistentvolumes" => vec![
            NAME,
            col("Capacity", 0, "capacity is the description of the persistent volume's resources and capacity."),
            col("Access Modes", 0, "accessModes contains all ways the volume can be mounted."),
            col("Reclaim Policy", 0, "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
            col("Status", 0, "phase indicates if a volume is available, bound to a claim, or released by a claim."),
            col("Claim", 0, "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
            col("StorageClass", 0, "storageClassName is the name of StorageClass to which this persistent volume belongs."),
            col("VolumeAttributesClass", 0, "Name of VolumeAttributesClass to which this persistent volume belongs."),
            col(
                "Reason",
                0,
                "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
            ),
            AGE,
            col(
                "VolumeMode",
                1,
                "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.",
            ),
        ],
        "persistentvolumeclaims" => vec![
            NAME,
            col("Status", 0, "phase represents the current phase of PersistentVolumeClaim."),
            col("Volume", 0, "volumeName is the binding reference to the PersistentVolume backing this claim."),
            col("Capacity", 0, "capacity represents the actual resources of the underlying volume."),
            col("Access Modes", 0, "accessModes contains the desired access modes the volume should have."),
            col("StorageClass", 0, "storageClassName is the name of the StorageClass required by the claim."),
            col("VolumeAttributesClass", 0, "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim."),
            AGE,
            col("VolumeMode", 1, "volumeMode defines what type of volume is required by the claim."),
        ],
        "storageclasses" => vec![
            NAME,
            col("Provisioner", 0, "provisioner indicates the type of the provisioner."),
            col("ReclaimPolicy", 0, "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class."),
            col("VolumeBindingMode", 0, "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound."),
            col("AllowVolumeExpansion", 0, "allowVolumeExpansion shows whether the storage class allow volume expand."),
            AGE,
        ],
        "serviceaccounts" => vec![
            NAME,
            col(
                "Secrets",
                0,
                "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.",
            ),
            AGE,
        ],
        "clusterroles" | "roles" => {
            vec![NAME, col("Created At", 0, "CreationTimestamp is a timestamp representing the server time when this object was created.")]
        }
        "clusterrolebindings" | "rolebindings" => vec![
            NAME,
            col("Role", 0, "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace."),
            AGE,
            col("Users", 1, "Users in the roleBinding"),
            col("Groups", 1, "Groups in the roleBinding"),
            col("ServiceAccounts", 1, "ServiceAccounts in the roleBinding"),
        ],
        _ => vec![NAME, AGE],
    }
}

/// The cells of one object's row, in the order of its kind's columns.
fn cells(kind: &Kind, obj: &Value, now: Timestamp) -> Vec<Value> {
    let name = json!(text(obj, "/metadata/name"));
    let age = json!(age(obj.pointer("/metadata/creationTimestamp"), now));
    match kind.plural {
        "nodes" => node_cells(obj, name, age),
        "pods" => pod_cells(obj, name, age, now),
        "namespaces" => vec![name, json!(text(obj, "/status/phase")), age],
        "events" => event_cells(obj, now),
        "applications" => {
            ["/status/sync/status", "/status/health/status", "/status/sync/revision", "/spec/project"].iter().fold(vec![name], |mut cells, p| {
                // As the CRD table convertor: a missing value is a null cell.
                cells.push(obj.pointer(p).filter(|v| !v.is_null()).cloned().unwrap_or(Value::Null));
                cells
            })
        }
        "persistentvolumes" => pv_cells(obj, name, age),
        "persistentvolumeclaims" => pvc_cells(obj, name, age),
        "storageclasses" => storage_class_cells(obj, age),
        "serviceaccounts" => vec![name, json!(obj["secrets"].as_array().map_or(0, Vec::len)), age],
        "clusterroles" | "roles" => vec![name, json!(text(obj, "/metadata/creationTimestamp"))],
        "clusterrolebindings" | "rolebindings" => binding_cells(obj, name, age),
        _ => vec![name, age],
    }
}

/// `RWO,RWX`: the access modes as kubectl abbreviates them.
fn access_modes(modes: Option<&Value>) -> String {
    let short = |m: &str| match m {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        _ => "",
    };
    modes.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(short).filter(|m| !m.is_empty()).collect::<Vec<_>>().join(",")
}

fn pv_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let claim = match (text(obj, "/spec/claimRef/namespace"), text(obj, "/spec/claimRef/name")) {
        (_, n) if n.is_empty() => String::new(),
        (ns, n) => format!("{ns}/{n}"),
    };
    let mode = text(obj, "/spec/volumeMode");
    vec![
        name,
        json!(text(obj, "/spec/capacity/storage")),
        json!(access_modes(obj.pointer("/spec/accessModes"))),
        json!(text(obj, "/spec/persistentVolumeReclaimPolicy")),
        json!(text(obj, "/status/phase")),
        json!(claim),
        json!(text(obj, "/spec/storageClassName")),
        json!(or_unset(text(obj, "/spec/volumeAttributesClassName"))),
        json!(text(obj, "/status/reason")),
        age,
        json!(if mode.is_empty() { "Filesystem".to_owned() } else { mode }),
    ]
}

fn pvc_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let bound = text(obj, "/status/phase") == "Bound";
    let (capacity, modes) = if bound {
        (text(obj, "/status/capacity/storage"), access_modes(obj.pointer("/status/accessModes")))
    } else {
        (String::new(), String::new())
    };
    let mode = text(obj, "/spec/volumeMode");
    vec![
        name,
        json!(text(obj, "/status/phase")),
        json!(text(obj, "/spec/volumeName")),
        json!(capacity),
        json!(modes),
        json!(text(obj, "/spec/storageClassName")),
        json!(or_unset(text(obj, "/spec/volumeAttributesClassName"))),
        age,
        json!(if mode.is_empty() { "Filesystem".to_owned() } else { mode }),
    ]
}

fn storage_class_cells(obj: &Value, age: Value) -> Vec<Value> {
    let mut name = text(obj, "/metadata/name");
    if text(obj, "/metadata/annotations/storageclass.kubernetes.io~1is-default-class") == "true" {
        name.push_str(" (default)");
    }
    let or_default = |value: String, default: &str| if value.is_empty() { default.to_owned() } else { value };
    vec![
        json!(name),
        json!(text(obj, "/provisioner")),
        json!(or_default(text(obj, "/reclaimPolicy"), "Delete")),
        json!(or_default(text(obj, "/volumeBindingMode"), "Immediate")),
        json!(obj["allowVolumeExpansion"].as_bool().unwrap_or(false)),
        age,
    ]
}

fn binding_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let subjects = |kind: &str| -> String {
        obj["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == kind)
            .map(|s| match (kind, s["namespace"].as_str()) {
                ("ServiceAccount", Some(ns)) => format!("{ns}/{}", s["name"].as_str().unwrap_or_default()),
                _ => s["name"].as_str().unwrap_or_default().to_owned(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let role = format!("{}/{}", text(obj, "/roleRef/kind"), text(obj, "/roleRef/name"));
    vec![name, json!(role), age, json!(subjects("User")), json!(subjects("Group")), json!(subjects("ServiceAccount"))]
}

fn node_cells(obj: &Value, name: Value, age: Value) -> Vec<Value> {
    let ready = conditions(obj).find(|c| c["type"] == "Ready").map(|c| c["status"].as_str().unwrap_or_default().to_owned());
    let mut status = match ready.as_deref() {
        Some("True") => "Ready".to_owned(),
        Some("False") => "NotReady".to_owned(),
        _ => "Unknown".to_owned(),
    };
    if obj.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles = BTreeSet::new();
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            if let Some(role) = k.strip_prefix("node-role.kubernetes.io/").filter(|r| !r.is_empty()) {
                roles.insert(role.to_owned());
            } else if k == "kubernetes.io/role" && v.as_str().is_some_and(|v| !v.is_empty()) {
                roles.insert(v.as_str().unwrap_or_default().to_owned());
            }
        }
    }
    let roles = if roles.is_empty() { "<none>".to_owned() } else { roles.into_iter().collect::<Vec<_>>().join(",") };
    let address = |kind: &str| {
        obj.pointer("/status/addresses")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|a| a["type"] == kind))
            .and_then(|a| a["address"].as_str())
            .unwrap_or("<none>")
            .to_owned()
    };
    let info = |field: &str| or_unknown(text(obj, &format!("/status/nodeInfo/{field}")));
    vec![
        name,
        json!(status),
        json!(roles),
        age,
        json!(text(obj, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

fn pod_cells(obj: &Value, name: Value, age: Value, now: Timestamp) -> Vec<Value> {
    let total = obj.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
    let mut reason = text(obj, "/status/reason");
    if reason.is_empty() {
        reason = text(obj, "/status/phase");
    }
    let (mut ready, mut restarts, mut has_running) = (0, 0, false);
    let mut last_restart: Option<Timestamp> = None;
    let statuses = obj.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
    for c in statuses.iter().rev() {
        restarts += c["restartCount"].as_u64().unwrap_or(0);
        if let Some(t) = c.pointer("/lastState/terminated/finishedAt").and_then(Value::as_str).and_then(|t| t.parse().ok()) {
            last_restart = last_restart.max(Some(t));
        }
        let waiting = c.pointer("/state/waiting/reason").and_then(Value::as_str).filter(|r| !r.is_empty());
        let terminated = c.pointer("/state/terminated");
        if let Some(r) = waiting {
            reason = r.to_owned();
        } else if let Some(t) = terminated {
            reason = match t["reason"].as_str().filter(|r| !r.is_empty()) {
                Some(r) => r.to_owned(),
                None if t["signal"].as_i64().unwrap_or(0) != 0 => format!("Signal:{}", t["signal"]),
                None => format!("ExitCode:{}", t["exitCode"].as_i64().unwrap_or(0)),
            };
        } else if c["ready"].as_bool() == Some(true) && c.pointer("/state/running").is_some() {
            has_running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && has_running {
        let pod_ready = conditions(obj).any(|c| c["type"] == "Ready" && c["status"] == "True");
        reason = if pod_ready { "Running" } else { "NotReady" }.to_owned();
    }
    let terminal = matches!(text(obj, "/status/phase").as_str(), "Succeeded" | "Failed");
    if obj.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) && !terminal {
        reason = if text(obj, "/status/reason") == "NodeLost" { "Unknown" } else { "Terminating" }.to_owned();
    }
    let restarts = match last_restart {
        Some(t) if restarts > 0 => format!("{restarts} ({} ago)", human_duration(now.duration_since(t).as_secs())),
        _ => restarts.to_string(),
    };
    let gates = obj.pointer("/spec/readinessGates").and_then(Value::as_array).map_or(0, Vec::len);
    let gates = if gates == 0 {
        "<none>".to_owned()
    } else {
        let true_gates = obj
            .pointer("/spec/readinessGates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|g| conditions(obj).any(|c| c["type"] == g["conditionType"] && c["status"] == "True"))
            .count();
        format!("{true_gates}/{gates}")
    };
    vec![
        name,
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        age,
        json!(or_none(text(obj, "/status/podIP"))),
        json!(or_none(text(obj, "/spec/nodeName"))),
        json!(or_none(text(obj, "/status/nominatedNodeName"))),
        json!(gates),
    ]
}

fn event_cells(obj: &Value, now: Timestamp) -> Vec<Value> {
    let since = |p: &str| obj.pointer(p).and_then(Value::as_str).filter(|s| !s.is_empty()).map(|_| age(obj.pointer(p), now));
    let first = since("/firstTimestamp").or_else(|| since("/eventTime")).unwrap_or_else(|| "<unknown>".to_owned());
    let mut last = since("/lastTimestamp").unwrap_or_else(|| first.clone());
    let mut count = obj["count"].as_i64().unwrap_or(0);
    if obj.get("series").is_some_and(|s| !s.is_null()) {
        last = since("/series/lastObservedTime").unwrap_or(last);
        count = obj.pointer("/series/count").and_then(Value::as_i64).unwrap_or(count);
    } else if count == 0 {
        count = 1;
    }
    let (kind, target) = (text(obj, "/involvedObject/kind").to_lowercase(), text(obj, "/involvedObject/name"));
    let object = if target.is_empty() { kind } else { format!("{kind}/{target}") };
    let source = {
        let (component, host) = (text(obj, "/source/component"), text(obj, "/source/host"));
        let (component, host) =
            if component.is_empty() { (text(obj, "/reportingComponent"), text(obj, "/reportingInstance")) } else { (component, host) };
        if host.is_empty() { component } else { format!("{component}, {host}") }
    };
    vec![
        json!(last),
        json!(text(obj, "/type")),
        json!(text(obj, "/reason")),
        json!(object),
        json!(text(obj, "/involvedObject/fieldPath")),
        json!(source),
        json!(text(obj, "/message").trim()),
        json!(first),
        json!(count),
        json!(text(obj, "/metadata/name")),
    ]
}

fn conditions(obj: &Value) -> impl Iterator<Item = &Value> {
    obj.pointer("/status/conditions").and_then(Value::as_array).into_iter().flatten()
}

fn text(obj: &Value, pointer: &str) -> String {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

fn or_unset(s: String) -> String {
    if s.is_empty() { "<unset>".into() } else { s }
}

fn or_unknown(s: String) -> String {
    if s.is_empty() { "<unknown>".into() } else { s }
}

/// The age of an RFC 3339 timestamp, as the server prints it; `<unknown>` without one.
fn age(timestamp: Option<&Value>, now: Timestamp) -> String {
    match timestamp.and_then(Value::as_str).and_then(|t| t.parse::<Timestamp>().ok()) {
        Some(t) => {
            let seconds = now.duration_since(t).as_secs();
            if seconds < -1 { "<invalid>".into() } else { human_duration(seconds.max(0)) }
        }
        None => "<unknown>".into(),
    }
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration`: `45s`, `2m5s`, `3h20m`, `4d`.
#[must_use]
pub fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// What a Table row carries as its `object` (`?includeObject=`).
fn row_object(obj: &Value, include: &str) -> Value {
    match include {
        "None" => Value::Null,
        "Object" => obj.clone(),
        _ => json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}),
    }
}

/// A Table of `objects`; `headers` false leaves the column definitions out (watch events after
/// the first, as the real server does).
#[must_use]
pub fn table(kind: &Kind, objects: &[&Value], list_meta: Value, include: &str, headers: bool) -> Value {
    let now = Timestamp::now();
    let definitions: Vec<Value> = if headers {
        columns(kind)
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "type": match c.name {
                        "Count" | "Secrets" => "integer",
                        "AllowVolumeExpansion" => "boolean",
                        _ => "string",
                    },
                    "format": c.format,
                    "description": c.description,
                    "priority": c.priority,
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Value> = objects.iter().map(|o| json!({"cells": cells(kind, o, now), "object": row_object(o, include)})).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_the_api_server() {
        for (s, text) in [
            (5, "5s"),
            (119, "119s"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 + 1200, "3h20m"),
            (9 * 3600, "9h"),
            (50 * 3600, "2d2h"),
            (400 * 86400, "400d"),
            (3 * 365 * 86400, "3y"),
        ] {
            assert_eq!(human_duration(s), text);
        }
    }

    #[test]
    fn a_node_row_has_status_roles_and_version() {
        let node = json!({
            "metadata": {"name": "lab-controlplane-1", "creationTimestamp": "2026-11-26T00:00:00Z",
                         "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "10.5.0.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.34.1"}}
        });
        let kind = Kind::find("", "v1", "nodes").unwrap();
        let cells = cells(kind, &node, "2026-11-26T00:05:00Z".parse().unwrap());
        assert_eq!(
            cells,
            [
                json!("lab-controlplane-1"),
                json!("Ready,SchedulingDisabled"),
                json!("control-plane"),
                json!("5m"),
                json!("v1.34.1"),
                json!("10.5.0.2"),
                json!("<none>"),
                json!("<unknown>"),
                json!("<unknown>"),
                json!("<unknown>")
            ]
        );
    }

    #[test]
    fn a_pod_row_reports_readiness_waiting_reasons_and_restarts() {
        let pod = json!({
            "metadata": {"name": "coredns-1", "creationTimestamp": "2026-11-26T00:00:00Z"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "lab-worker-1"},
            "status": {"phase": "Running", "podIP": "10.244.0.5", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"finishedAt": "2026-11-26T00:04:00Z"}}}
            ]}
        });
        let kind = Kind::find("", "v1", "pods").unwrap();
        let cells = cells(kind, &pod, "2026-11-26T00:05:00Z".parse().unwrap());
        assert_eq!(cells[..5], [json!("coredns-1"), json!("1/2"), json!("CrashLoopBackOff"), json!("2 (60s ago)"), json!("5m")]);
        assert_eq!(cells[5..7], [json!("10.244.0.5"), json!("lab-worker-1")]);
    }

    #[test]
    fn an_application_row_shows_sync_and_health_and_null_when_unknown() {
        let kind = Kind::find("argoproj.io", "v1alpha1", "applications").unwrap();
        let app = json!({"metadata": {"name": "traefik"}, "spec": {"project": "default"}, "status": {"sync": {"status": "Synced"}}});
        let cells = cells(kind, &app, Timestamp::now());
        assert_eq!(cells, [json!("traefik"), json!("Synced"), Value::Null, Value::Null, json!("default")]);
    }

    #[test]
    fn a_bound_claim_and_its_volume_read_like_kubectl_get_pvc_and_pv() {
        let pvc = json!({"metadata": {"name": "vaultwarden-data", "creationTimestamp": "2026-11-26T00:00:00Z"},
            "spec": {"storageClassName": "synelia-iscsi-retain", "volumeName": "pvc-1"},
            "status": {"phase": "Bound", "capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"]}});
        let now = "2026-11-26T00:01:00Z".parse().unwrap();
        let kind = Kind::find("", "v1", "persistentvolumeclaims").unwrap();
        assert_eq!(
            cells(kind, &pvc, now)[..6],
            [json!("vaultwarden-data"), json!("Bound"), json!("pvc-1"), json!("2Gi"), json!("RWO"), json!("synelia-iscsi-retain")]
        );
        let pv = json!({"metadata": {"name": "pvc-1", "creationTimestamp": "2026-11-26T00:00:00Z"},
            "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"], "persistentVolumeReclaimPolicy": "Retain",
                     "claimRef": {"namespace": "services", "name": "vaultwarden-data"}, "storageClassName": "synelia-iscsi-retain"},
            "status": {"phase": "Bound"}});
        let kind = Kind::find("", "v1", "persistentvolumes").unwrap();
        assert_eq!(
            cells(kind, &pv, now),
            [
                json!("pvc-1"),
                json!("2Gi"),
                json!("RWO"),
                json!("Retain"),
                json!("Bound"),
                json!("services/vaultwarden-data"),
                json!("synelia-iscsi-retain"),
                json!("<unset>"),
                json!(""),
                json!("60s"),
                json!("Filesystem")
            ]
        );
    }
}
