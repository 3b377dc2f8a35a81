//! Phase `talos-health`: `talosctl health` on the first control plane (server side, as the
//! homelab runs it) within the phase budget, then `talosctl version` of every node for the
//! evidence. A failure names the nodes the stuck check names (`some nodes are not ready:
//! [lab-controlplane-3]`), else the check.

use std::time::Duration;

use crate::cycle::Progress;
use vixens_drivers::talosctl::{self, Talosctl};
use vixens_ops::budget::Phase;
use vixens_ops::env::{Environment, NodeRole};
use vixens_ops::evidence::Failure;
use vixens_ops::phase::PhaseCtx;

/// What the phase found, for the evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Versions {
    /// talosctl's own version (`v1.13.9`).
    pub client: Option<String>,
    /// Every node's Talos version, deduplicated (`v1.13.9`).
    pub nodes: Vec<String>,
}

/// The node `talosctl health` runs on: the first control plane, else the first node.
pub(crate) fn health_node(env: &Environment) -> Option<&str> {
    env.nodes.iter().find(|n| n.role == NodeRole::Controlplane).or_else(|| env.nodes.first()).map(|n| n.address.as_str())
}

/// Runs the checks, appending talosctl's output to `output` (an artifact) as it streams.
pub(crate) fn run(env: &Environment, talosctl: &Talosctl, output: &mut dyn FnMut(&str), ctx: &mut PhaseCtx<'_>) -> Result<Versions, Failure> {
    let Some(node) = health_node(env) else {
        return Err(Phase::TalosHealth.failure("env.yaml nodes", format!("{} lists no node to run `talosctl health` on", env.file.display())));
    };
    let budget = ctx.left();
    let mut lines = |line: &str| {
        output(line);
        ctx.report(Progress::Output { tool: "talosctl", line });
    };
    talosctl.health(node, budget, &mut lines).map_err(|e| health_failure(env, &e))?;
    let nodes: Vec<&str> = env.nodes.iter().map(|n| n.address.as_str()).collect();
    let left = ctx.left().max(Duration::from_secs(1));
    let report = talosctl.version(&nodes, left).map_err(|e| Phase::TalosHealth.failure(nodes.join(","), vixens_diagnostic::error_chain(&e)))?;
    let mut tags: Vec<String> = report.servers.into_iter().map(|s| s.version.tag).collect();
    tags.sort();
    tags.dedup();
    Ok(Versions { client: report.client.map(|c| c.tag), nodes: tags })
}

/// The failure of `talosctl health`: the culprit is every node of the environment the reason
/// names (by name or address), else the check it stopped on.
fn health_failure(env: &Environment, error: &talosctl::Error) -> Failure {
    let (culprit, reason) = match error {
        talosctl::Error::Unhealthy { unhealthy, .. } => {
            let named: Vec<String> = env
                .nodes
                .iter()
                .filter(|n| mentions(&unhealthy.reason, &n.name) || mentions(&unhealthy.reason, &n.address))
                .map(|n| env.node_label(&n.address))
                .collect();
            let culprit = if named.is_empty() { unhealthy.check.clone().unwrap_or_else(|| "talosctl health".into()) } else { named.join(", ") };
            (culprit, error.to_string())
        }
        other => ("talosctl health".to_owned(), vixens_diagnostic::error_chain(other)),
    };
    Phase::TalosHealth.failure(culprit, reason)
}

/// True when `text` holds `word` not as part of a longer name (`lab-controlplane-1` is not in
/// `lab-controlplane-10`).
fn mentions(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vixens_drivers::talosctl::health::Unhealthy;

    fn env() -> Environment {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments/lab/env.yaml");
        let vars = std::collections::BTreeMap::from([("VIXENS_WORK_DIR".to_owned(), "/tmp/vixens-test".to_owned())]);
        Environment::load_with(path, &vars).unwrap()
    }

    #[test]
    fn a_node_that_never_gets_ready_is_the_culprit() {
        let error = talosctl::Error::Unhealthy {
            node: "10.5.0.2".into(),
            unhealthy: Unhealthy {
                check: Some("all k8s nodes to report ready".into()),
                reason: "some nodes are not ready: [lab-controlplane-3]; rpc error: code = DeadlineExceeded desc = context deadline exceeded".into(),
            },
        };
        let failure = health_failure(&env(), &error);
        assert_eq!(failure.culprit, "lab-controlplane-3 (10.5.0.4)");
        assert_eq!(
            failure.message,
            "Talos health on 10.5.0.2 failed: waiting for all k8s nodes to report ready: some nodes are not ready: \
             [lab-controlplane-3]; rpc error: code = DeadlineExceeded desc = context deadline exceeded"
        );
    }

    #[test]
    fn a_check_naming_no_node_is_the_culprit() {
        let error = talosctl::Error::Unhealthy {
            node: "10.5.0.2".into(),
            unhealthy: Unhealthy { check: Some("etcd to be healthy".into()), reason: "etcd is not ready yet".into() },
        };
        assert_eq!(health_failure(&env(), &error).culprit, "etcd to be healthy");
    }

    #[test]
    fn names_are_matched_whole() {
        assert!(mentions("[lab-controlplane-3]", "lab-controlplane-3"));
        assert!(!mentions("[lab-controlplane-30]", "lab-controlplane-3"));
        assert!(!mentions("10.5.0.22: down", "10.5.0.2"));
        assert!(mentions("* 10.5.0.2: down", "10.5.0.2"));
    }
}
