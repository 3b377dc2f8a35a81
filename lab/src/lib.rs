//! A simulated Vixens homelab on one machine, provisioned by real terraform.
//!
//! The lab is a test double for the homelab, not a product for workloads: it exists so that every
//! check of the harness runs, fails and passes on a machine with no cluster. It serves
//! - a Kubernetes API over HTTPS ([`api`]) on a watch-capable in-memory [`store`], enough for
//!   kube-rs's watcher and the real `kubectl`;
//! - simulated Talos nodes ([`talos`]) and a `talosctl` stand-in ([`talosctl`]) that prints what
//!   the real one prints;
//! - a simulated Argo CD ([`argocd`]) that bootstraps the app tree wave by wave;
//! - the cluster's storage ([`csi`]): StorageClasses, claims bound to volumes, iSCSI LUNs made by a
//!   simulated Synology CSI driver;
//! - a NAS ([`nas`]) holding the LUNs and, through its daemon ([`nas::server`]), serving MinIO (S3,
//!   where terraform keeps the state) and an iSCSI portal, with an `iscsiadm` stand-in
//!   ([`iscsiadm`]) to inventory it;
//! - app trees read from a GitOps repository shaped like Vixens ([`gitops`]);
//! - [`faults`] on demand, so every check can be shown to fail.
//!
//! [`daemon`] puts them together in one detached process per state folder, served by [`server`]
//! over TLS ([`tls`]), with its client files in a [`state_dir`]; [`cli`] is
//! `vixens-lab up|down|status|nas|talosctl|iscsiadm`.

pub mod api;
pub mod argocd;
pub mod cli;
pub mod csi;
pub mod daemon;
pub mod faults;
pub mod gitops;
pub mod iscsiadm;
pub mod nas;
pub mod server;
pub mod spec;
pub mod state_dir;
pub mod store;
pub mod talos;
pub mod talosctl;
pub mod tls;
