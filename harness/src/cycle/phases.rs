//! The work of each phase, one module per phase, each returning what later phases need or a
//! [`Failure`] that names the phase, the culprit (the resource address, the node and log line,
//! the app) and what happened. Phases never print: they report [`Progress`] through a callback.

use super::Progress;
use crate::budget::Phase;
use crate::evidence::Failure;

pub(crate) mod apply;
pub(crate) mod argocd;
pub(crate) mod commands;
pub(crate) mod destroy;
pub(crate) mod kubernetes;
pub(crate) mod logs;
pub(crate) mod talos_health;

/// Where a phase reports its progress.
pub(crate) type OnProgress<'a> = &'a mut dyn FnMut(Progress<'_>);

/// A failure of `phase`.
pub(crate) fn failure(phase: Phase, culprit: impl Into<String>, message: impl Into<String>) -> Failure {
    Failure { phase: phase.name().to_owned(), culprit: culprit.into(), message: message.into() }
}

/// The node of `env` at `address` as messages name it: `lab-controlplane-2 (10.5.0.3)`, or the
/// address alone when env.yaml does not list it.
pub(crate) fn node_label(env: &crate::env::Environment, address: &str) -> String {
    env.nodes.iter().find(|n| n.address == address || n.name == address).map_or_else(|| address.to_owned(), |n| format!("{} ({})", n.name, n.address))
}
