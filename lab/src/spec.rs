//! What one lab is made of: its name, nodes, Argo CD app tree, speed and faults. `vixens-lab up`
//! builds a [`LabSpec`] from its flags and hands it to the daemon, which keeps it in `lab.json`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::Faults;

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
}

impl LabSpec {
    /// The node names and addresses for `control_planes` + `workers` nodes of cluster `name`.
    #[must_use]
    pub fn nodes_for(name: &str, control_planes: usize, workers: usize) -> Vec<NodeSpec> {
        let node = |i: usize, role: &str, n: usize| NodeSpec {
            name: format!("{name}-{role}-{n}"),
            address: address(i),
            role: role.to_owned(),
        };
        (0..control_planes)
            .map(|i| node(i, "controlplane", i + 1))
            .chain((0..workers).map(|i| node(control_planes + i, "worker", i + 1)))
            .collect()
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
}
