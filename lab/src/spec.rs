//! What one lab is made of: its name, nodes, Argo CD app tree, speed and faults. `vixens-lab up`
//! builds a [`LabSpec`] from its flags and hands it to the daemon, which keeps it in `lab.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::{FaultError, Faults};

/// One lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabSpec {
    /// The cluster name (`--name`, default `lab`); node names derive from it.
    pub name: String,
    /// Every node, control planes first.
    pub nodes: Vec<NodeSpec>,
    /// The child Applications of the root app, in no particular order.
    pub apps: Vec<AppSpec>,
    /// Multiplies every simulated delay: 1.0 bootstraps the default tree in about 5 seconds;
    /// 10.0 makes it ten times slower.
    pub time_scale: f64,
    /// The faults injected into this lab (kept in their `VIXENS_LAB_FAULTS` form).
    #[serde(with = "faults_text")]
    pub faults: Faults,
    /// The daemon stops by itself after this long without any request.
    #[serde(with = "humantime_secs")]
    pub idle_timeout: Duration,
    /// The NAS folder (`--nas-dir`): the iSCSI LUNs (and the MinIO buckets its daemon serves)
    /// that survive destroy. Without it, claims of a Synology class stay Pending, as when the CSI
    /// driver cannot reach DSM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nas_dir: Option<PathBuf>,
    /// The Argo CD release the lab behaves as (`--argocd-version`): what its Applications record.
    #[serde(default)]
    pub argocd_version: ArgoCdVersion,
    /// The root Application as terraform applies it, when the tree comes from a GitOps repository
    /// (`argocd/bootstrap/root-app-<overlay>.yaml`); the lab's own otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_app: Option<Value>,
}

/// The Argo CD releases the lab can behave as. They differ in what an Application records:
///
/// | | 3.x (default) | 2.10 |
/// |---|---|---|
/// | `status.health` | `{status, lastTransitionTime}` | `{status}` |
/// | per-resource health | not persisted (`resourceHealthSource: appTree`) | inline in `status.resources[].health` |
/// | `history[].initiatedBy` | written | absent (added in 2.11) |
/// | child tracking | `argocd.argoproj.io/tracking-id` annotation | `app.kubernetes.io/instance` label |
///
/// Neither writes an app-level `status.health.message`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArgoCdVersion {
    /// Argo CD 3.x, at its default settings.
    #[default]
    #[serde(rename = "3")]
    V3,
    /// Argo CD 2.10.
    #[serde(rename = "2.10")]
    V2_10,
}

impl ArgoCdVersion {
    /// The release `--argocd-version` names: `3`, `3.1`, `v3.5.1` are 3.x; `2.10`, `v2.10.9` are 2.10.
    ///
    /// # Errors
    /// Any other version, naming the supported ones.
    pub fn parse(text: &str) -> Result<Self, String> {
        let version = text.trim().trim_start_matches('v');
        let mut parts = version.split('.');
        match (parts.next(), parts.next()) {
            (Some("3"), _) => Ok(Self::V3),
            (Some("2"), Some("10")) => Ok(Self::V2_10),
            _ => Err(format!("Argo CD {text} is not simulated: use 3 (3.x) or 2.10")),
        }
    }

    /// The image the lab's Argo CD pods run.
    #[must_use]
    pub fn image(self) -> &'static str {
        match self {
            Self::V3 => "quay.io/argoproj/argocd:v3.5.1",
            Self::V2_10 => "quay.io/argoproj/argocd:v2.10.17",
        }
    }
}

/// One simulated Talos node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Hostname, as `talosctl cluster create` names them: `<name>-controlplane-1`, `<name>-worker-1`.
    pub name: String,
    /// The address `talosctl -n` uses; the first control plane is 10.5.0.2, as talosctl's default.
    pub address: String,
    /// `controlplane` or `worker`.
    pub role: String,
}

impl NodeSpec {
    /// True for a control-plane node (runs etcd and the Kubernetes control plane).
    #[must_use]
    pub fn is_control_plane(&self) -> bool {
        self.role == "controlplane"
    }
}

/// One child Application of the root app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSpec {
    /// The Application's name (`traefik`).
    pub name: String,
    /// Its `argocd.argoproj.io/sync-wave` annotation.
    pub sync_wave: i32,
    /// Its source path in the GitOps repo (`apps/00-infra/traefik`).
    pub path: String,
    /// The namespace it deploys to.
    pub destination_namespace: String,
    /// Its iSCSI claims (of a Synology class): each one gets a LUN on the NAS from the simulated
    /// Synology CSI driver when the app syncs (see [`crate::csi`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
    /// Labels of the Application object (the homelab labels none; the lab's default tree marks
    /// its system apps so that a label selector can be tested too).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The Application as its GitOps repository writes it (`--gitops-repo`): what the root's sync
    /// applies, verbatim. `None` for the built-in trees, which build one from the fields above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Value>,
    /// What the app's source renders to (its kustomize overlay), for `status.resources`; empty for
    /// Helm charts and the built-in trees.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Value>,
    /// Every PersistentVolumeClaim the app makes, whatever its class (`volumes` are only the
    /// iSCSI ones). Empty for the built-in trees: their `volumes` are claims of the default class.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimSpec>,
}

/// A PersistentVolumeClaim an app makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimSpec {
    /// The claim's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its StorageClass (the cluster's default class when the manifest names none).
    pub storage_class: String,
    /// The size it requests (`2Gi`).
    pub size: String,
    /// Its access modes (`ReadWriteOnce`).
    pub access_modes: Vec<String>,
    /// A static PersistentVolume it binds to by name (`spec.volumeName`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
}

/// An `--apps` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AppsFileError {
    /// The file cannot be read.
    #[error("cannot read the app list {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a YAML list of apps.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line and column.
        message: String,
    },
    /// Two apps share a name.
    #[error("{path}: app `{name}` is listed twice")]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The repeated name.
        name: String,
    },
}

impl AppSpec {
    /// The claims of the app: [`AppSpec::claims`] when it has them, else one claim of the default
    /// class ([`crate::csi::DEFAULT_CLASS`], 1Gi, ReadWriteOnce) per volume, in its namespace.
    #[must_use]
    pub fn effective_claims(&self) -> Vec<ClaimSpec> {
        if !self.claims.is_empty() {
            return self.claims.clone();
        }
        self.volumes
            .iter()
            .map(|name| ClaimSpec {
                name: name.clone(),
                namespace: self.destination_namespace.clone(),
                storage_class: crate::csi::DEFAULT_CLASS.to_owned(),
                size: "1Gi".to_owned(),
                access_modes: vec!["ReadWriteOnce".to_owned()],
                volume_name: None,
            })
            .collect()
    }

    /// Reads an `--apps` file: a YAML list of apps with the fields of [`AppSpec`] in snake_case
    /// (`name`, `sync_wave`, `path`, `destination_namespace`, optional `volumes` and `labels`).
    ///
    /// # Errors
    /// An unreadable file, YAML that is not such a list (with line and column), or a name listed
    /// twice.
    pub fn load_list(path: &Path) -> Result<Vec<Self>, AppsFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| AppsFileError::Read { path: path.to_owned(), source })?;
        let apps: Vec<Self> = serde_saphyr::from_str(&text).map_err(|e| AppsFileError::Parse { path: path.to_owned(), message: e.to_string() })?;
        let mut seen = std::collections::BTreeSet::new();
        for app in &apps {
            if !seen.insert(app.name.as_str()) {
                return Err(AppsFileError::Duplicate { path: path.to_owned(), name: app.name.clone() });
            }
        }
        Ok(apps)
    }
}

impl LabSpec {
    /// A lab named `name` with these nodes and apps, at normal speed, with no fault, no NAS and
    /// a one-hour idle timeout.
    #[must_use]
    pub fn new(name: &str, nodes: Vec<NodeSpec>, apps: Vec<AppSpec>) -> Self {
        Self {
            name: name.to_owned(),
            nodes,
            apps,
            time_scale: 1.0,
            faults: Faults::default(),
            idle_timeout: Duration::from_secs(3600),
            nas_dir: None,
            argocd_version: ArgoCdVersion::default(),
            root_app: None,
        }
    }

    /// Checks that every fault names something this lab has: an app for the app faults, a node
    /// (by name or address) for the node faults.
    ///
    /// # Errors
    /// The first fault naming an unknown app or node, with the known names.
    pub fn check_faults(&self) -> Result<(), FaultError> {
        let apps: Vec<&str> = self.apps.iter().map(|a| a.name.as_str()).collect();
        for (fault, names) in [
            ("app-degraded", &self.faults.app_degraded),
            ("app-stuck", &self.faults.app_stuck),
            ("manual-sync", &self.faults.manual_sync),
            ("sync-fail", &self.faults.sync_fail),
        ] {
            if let Some(unknown) = names.iter().find(|n| !apps.contains(&n.as_str())) {
                return Err(FaultError { message: format!("`{fault}={unknown}`: no such app; the apps are {}", apps.join(", ")) });
            }
        }
        let claims: Vec<&str> = self.apps.iter().flat_map(|a| a.volumes.iter().map(String::as_str)).collect();
        if let Some(unknown) = self.faults.wipe_lun.iter().find(|c| !claims.contains(&c.as_str())) {
            return Err(FaultError { message: format!("`wipe-lun={unknown}`: no app has that volume; the volumes are {}", claims.join(", ")) });
        }
        let nodes = || self.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(", ");
        if let Some(unknown) = self.faults.node_not_ready.iter().find(|n| self.node(n).is_none()) {
            return Err(FaultError { message: format!("`node-not-ready={unknown}`: no such node; the nodes are {}", nodes()) });
        }
        for fault in &self.faults.talos_error {
            let Some(node) = self.node(&fault.node) else {
                return Err(FaultError { message: format!("`talos-error={}`: no such node; the nodes are {}", fault.node, nodes()) });
            };
            if fault.kind.needs_control_plane() && !node.is_control_plane() {
                return Err(FaultError {
                    message: format!(
                        "`talos-error={}:{}`: {} is a worker; etcd runs on control planes only",
                        fault.node,
                        fault.kind.name(),
                        node.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// The node called `id`, by hostname or address.
    #[must_use]
    pub fn node(&self, id: &str) -> Option<&NodeSpec> {
        self.nodes.iter().find(|n| n.name == id || n.address == id)
    }

    /// Scales a delay of the simulation by [`LabSpec::time_scale`].
    #[must_use]
    pub fn scaled(&self, delay: Duration) -> Duration {
        delay.mul_f64(self.time_scale.max(0.0))
    }

    /// The node names and addresses for `control_planes` + `workers` nodes of cluster `name`.
    #[must_use]
    pub fn nodes_for(name: &str, control_planes: usize, workers: usize) -> Vec<NodeSpec> {
        let node = |i: usize, role: &str, n: usize| NodeSpec { name: format!("{name}-{role}-{n}"), address: address(i), role: role.to_owned() };
        (0..control_planes).map(|i| node(i, "controlplane", i + 1)).chain((0..workers).map(|i| node(control_planes + i, "worker", i + 1))).collect()
    }
}

/// The i-th node address in 10.5.0.0/16, starting at 10.5.0.2 like `talosctl cluster create`.
fn address(i: usize) -> String {
    let n = i + 2;
    format!("10.5.{}.{}", n / 254, n % 254)
}

mod faults_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::faults::Faults;

    pub fn serialize<S: Serializer>(faults: &Faults, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&faults.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Faults, D::Error> {
        let text = String::deserialize(d)?;
        Faults::parse(&text).map_err(serde::de::Error::custom)
    }
}

mod humantime_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argocd_versions_are_read_as_their_release_line() {
        for v in ["3", "3.1", "v3.5.1"] {
            assert_eq!(ArgoCdVersion::parse(v), Ok(ArgoCdVersion::V3), "{v}");
        }
        for v in ["2.10", "v2.10.9"] {
            assert_eq!(ArgoCdVersion::parse(v), Ok(ArgoCdVersion::V2_10), "{v}");
        }
        assert_eq!(ArgoCdVersion::parse("2.9").unwrap_err(), "Argo CD 2.9 is not simulated: use 3 (3.x) or 2.10");
        assert_eq!(serde_json::to_string(&ArgoCdVersion::V2_10).unwrap(), "\"2.10\"");
    }

    #[test]
    fn nodes_are_named_and_addressed_like_talosctl_cluster_create() {
        let nodes = LabSpec::nodes_for("lab", 3, 2);
        let names: Vec<_> = nodes.iter().map(|n| (n.name.as_str(), n.address.as_str())).collect();
        assert_eq!(
            names,
            [
                ("lab-controlplane-1", "10.5.0.2"),
                ("lab-controlplane-2", "10.5.0.3"),
                ("lab-controlplane-3", "10.5.0.4"),
                ("lab-worker-1", "10.5.0.5"),
                ("lab-worker-2", "10.5.0.6"),
            ]
        );
        assert_eq!(LabSpec::nodes_for("big", 100, 0)[99].address, "10.5.0.101");
        assert_eq!(LabSpec::nodes_for("big", 300, 0)[299].address, "10.5.1.47");
    }

    fn apps_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("apps.yaml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn an_apps_file_is_a_yaml_list_of_apps() {
        let (_dir, path) = apps_file(
            "- name: traefik\n  sync_wave: 2\n  path: apps/00-infra/traefik\n  destination_namespace: traefik\n\
             - name: vaultwarden\n  sync_wave: 6\n  path: apps/60-services/vaultwarden\n  destination_namespace: vaultwarden\n  volumes: [vaultwarden-data]\n",
        );
        let apps = AppSpec::load_list(&path).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[1].volumes, ["vaultwarden-data"]);
        assert!(apps[0].labels.is_empty());
    }

    #[test]
    fn a_bad_apps_file_names_the_file_and_the_problem() {
        let (_dir, path) = apps_file("- name: traefik\n  sync_wave: two\n");
        let err = AppSpec::load_list(&path).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", path.display())) && err.contains("line 2"), "{err}");
        let (_dir, path) =
            apps_file("- {name: a, sync_wave: 0, path: p, destination_namespace: n}\n- {name: a, sync_wave: 1, path: p, destination_namespace: n}\n");
        assert_eq!(AppSpec::load_list(&path).unwrap_err().to_string(), format!("{}: app `a` is listed twice", path.display()));
    }

    #[test]
    fn a_fault_must_name_an_app_node_or_claim_of_the_lab() {
        let app = AppSpec {
            name: "traefik".into(),
            sync_wave: 2,
            path: "apps/00-infra/traefik".into(),
            destination_namespace: "traefik".into(),
            volumes: vec!["traefik-data".into()],
            labels: BTreeMap::new(),
            manifest: None,
            objects: Vec::new(),
            claims: Vec::new(),
        };
        let mut spec = LabSpec::new("lab", LabSpec::nodes_for("lab", 3, 0), vec![app]);
        for ok in ["app-stuck=traefik", "talos-error=10.5.0.3", "node-not-ready=lab-controlplane-2", "wipe-lun=traefik-data", ""] {
            spec.faults = Faults::parse(ok).unwrap();
            assert_eq!(spec.check_faults(), Ok(()), "{ok}");
        }
        spec.faults = Faults::parse("manual-sync=keda").unwrap();
        assert_eq!(spec.check_faults().unwrap_err().message, "`manual-sync=keda`: no such app; the apps are traefik");
        spec.faults = Faults::parse("node-not-ready=10.5.0.9").unwrap();
        assert_eq!(
            spec.check_faults().unwrap_err().message,
            "`node-not-ready=10.5.0.9`: no such node; the nodes are lab-controlplane-1, lab-controlplane-2, lab-controlplane-3"
        );
        spec.faults = Faults::parse("wipe-lun=nope").unwrap();
        assert!(spec.check_faults().unwrap_err().message.starts_with("`wipe-lun=nope`: no app has that volume"));
    }
}
