//! A simulated Vixens homelab on one machine, provisioned by real terraform.
//!
//! The lab is a test double for the homelab, not a product for workloads: it exists so that every
//! check of the harness runs, fails and passes on a machine with no cluster. It serves
//! - a Kubernetes API over HTTPS ([`api`]) on a watch-capable in-memory [`store`], enough for
//!   kube-rs's watcher and the real `kubectl`;
//! - simulated Talos nodes ([`talos`]) and a `talosctl` stand-in ([`talosctl`]) that prints what
//!   the real one prints;
//! - a simulated Argo CD ([`argocd`]) that bootstraps the app tree wave by wave;
//! - a NAS folder ([`nas`]) holding the iSCSI LUNs and the state bucket that must survive destroy;
//! - [`faults`] on demand, so every check can be shown to fail.
//!
//! [`daemon`] puts them together in one detached process per state folder, served by [`server`]
//! over TLS ([`tls`]), with its client files in a [`state_dir`]; [`cli`] is
//! `vixens-lab up|down|status|talosctl`.

pub mod api;
pub mod argocd;
pub mod cli;
pub mod daemon;
pub mod faults;
pub mod nas;
pub mod server;
pub mod spec;
pub mod state_dir;
pub mod store;
pub mod talos;
pub mod talosctl;
pub mod tls;
