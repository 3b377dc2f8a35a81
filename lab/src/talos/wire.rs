//! The lab's Talos API on the wire: what [`super::routes`] serves and the talosctl stand-in
//! reads. It carries the same data as the real gRPC messages (`machine.ServiceInfo`,
//! `machine.VersionInfo`, `cluster.Member`), as JSON over HTTPS.
//!
//! Every route is `GET /talos/v1/nodes/{node}/...` with `Authorization: Bearer <token>`;
//! `{node}` is what `talosctl -n` was given (an address or a hostname). Streams (`logs`,
//! `dmesg`) are plain text, one line per line; `health` is newline-delimited [`HealthMessage`]s.
//! A failed call answers a non-2xx status with an [`ApiError`] body.

use serde::{Deserialize, Serialize};

/// The path prefix of every Talos route.
pub const PREFIX: &str = "/talos/v1";

/// A service's lifecycle state (`internal/app/machined/pkg/system/events/events.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceState {
    /// Registered, not started.
    Initialized,
    /// Being started.
    Starting,
    /// Running its pre-start steps.
    Preparing,
    /// Waiting for its dependencies.
    Waiting,
    /// Up.
    Running,
    /// Being stopped.
    Stopping,
    /// Ran to completion.
    Finished,
    /// Crashed or failed to start.
    Failed,
    /// Not started on this node.
    Skipped,
    /// Unknown.
    Unknown,
}

impl std::fmt::Display for ServiceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// One service of one node, as `MachineService.ServiceList` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// `apid`, `etcd`, `ext-iscsid`...
    pub id: String,
    /// The current state.
    pub state: ServiceState,
    /// The health check's verdict.
    pub health: ServiceHealth,
    /// Every state change, oldest first.
    pub events: Vec<ServiceEvent>,
}

/// A service's health (`machine.ServiceHealth`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// No health check has run (or the service has none): talosctl shows `?`.
    pub unknown: bool,
    /// The last check passed.
    pub healthy: bool,
    /// The last check's error, empty when it passed.
    pub last_message: String,
}

/// One state change of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    /// What happened.
    pub msg: String,
    /// The state it led to.
    pub state: ServiceState,
    /// When, RFC 3339 with nanoseconds.
    pub ts: String,
}

/// A node's version (`machine.VersionInfo` + features).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionInfo {
    /// `v1.13.9`.
    pub tag: String,
    /// The short commit.
    pub sha: String,
    /// Normally empty.
    pub built: String,
    /// `go1.25.5`.
    pub go_version: String,
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub arch: String,
    /// The RBAC feature is on.
    pub rbac: bool,
}

/// A cluster member as one node sees it (`cluster.Member` resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Resource id: the member's hostname.
    pub id: String,
    /// Resource version.
    pub version: u64,
    /// When the resource was created, RFC 3339.
    pub created: String,
    /// When it last changed, RFC 3339.
    pub updated: String,
    /// The node's discovery id.
    pub node_id: String,
    /// Its addresses.
    pub addresses: Vec<String>,
    /// Its hostname.
    pub hostname: String,
    /// `controlplane` or `worker`.
    pub machine_type: String,
    /// `Talos (v1.13.9)`.
    pub operating_system: String,
    /// The API server port on control planes.
    pub api_server_port: Option<u16>,
}

/// One line of `health` progress, or the error that ends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthMessage {
    /// A progress line (`waiting for etcd to be healthy: OK`).
    Progress(String),
    /// The checks gave up: the error talosctl prints before exiting 1.
    Error(String),
}

/// A failed call: the text the real API's error would print (`rpc error: code = ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error text.
    pub error: String,
}

/// gRPC's text for a node the proxy cannot reach.
#[must_use]
pub fn unreachable(node: &str) -> String {
    format!(
        "rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp {node}:50000: connect: no route to host\""
    )
}
