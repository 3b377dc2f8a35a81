//! The work of each phase of a check that is the cycle's own, one module per phase, each
//! returning what later phases need or a [`Failure`](vixens_ops::evidence::Failure) that names the
//! phase, the culprit (the resource address, the node and log line, the app) and what happened.
//! Phases never print: they report progress through a callback. The destroy and apply phases are
//! operations of their own (`vixens_ops::destroy::unattended`, `vixens_ops::provision::apply`),
//! shared with test sessions and `vixens up`.

pub(crate) mod argocd;
pub(crate) mod commands;
pub(crate) mod kubernetes;
pub(crate) mod logs;
pub(crate) mod talos_health;
