//! One simulated Talos node: its services, their logs, its kernel ring buffer, and a change
//! signal for `-f` readers.
//!
//! Everything a node says is written here once, in the format the real component prints
//! ([`super::logfmt`]), so every reader (talosctl, the health checks, tests) sees the same lines.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use tokio::sync::watch;

use super::logfmt::{self, Facility, Priority, ZapLevel};
use super::wire::{ServiceEvent, ServiceHealth, ServiceInfo, ServiceState};
use crate::spec::NodeSpec;

/// The log id of a Kubernetes container, read with `talosctl logs -k <namespace>/<pod>:<container>`.
#[must_use]
pub fn container_log_id(namespace: &str, pod: &str, container: &str) -> String {
    format!("k8s.io/{namespace}/{pod}:{container}")
}

/// One simulated node.
pub struct Node {
    /// Its name, address and role.
    pub spec: NodeSpec,
    state: Mutex<NodeState>,
    /// Bumped on every write, so that followers (`logs -f`, `dmesg -f`) wake up.
    changes: watch::Sender<u64>,
}

#[derive(Default)]
struct NodeState {
    services: BTreeMap<String, ServiceInfo>,
    /// Log lines per log id: service ids, and [`container_log_id`]s for `-k`.
    logs: BTreeMap<String, Vec<String>>,
    /// Formatted kernel records, oldest first.
    kmsg: Vec<String>,
    /// When the boot sequence finished.
    booted_at: Option<Timestamp>,
    /// How many ERROR entries each controller logged: the first four never reach the console copy.
    controller_errors: BTreeMap<String, u32>,
}

/// The first four ERROR entries per controller are kept off the console
/// (`pkg/logging/error_suppress.go`, `ConsoleLogErrorSuppressThreshold`).
const CONSOLE_ERROR_SUPPRESS_THRESHOLD: u32 = 4;

impl Node {
    /// A node that has not started booting.
    #[must_use]
    pub fn new(spec: NodeSpec) -> Self {
        Self { spec, state: Mutex::new(NodeState::default()), changes: watch::channel(0).0 }
    }

    fn lock(&self) -> MutexGuard<'_, NodeState> {
        // Every write is a push or an insert: a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// A receiver that wakes on every write to this node.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Appends a raw line to a log (a service's own output).
    pub fn log(&self, id: &str, line: String) {
        self.lock().logs.entry(id.to_owned()).or_default().push(line);
        self.changed();
    }

    /// Creates an empty log, so that reading it answers nothing rather than "not registered".
    pub fn register_log(&self, id: &str) {
        self.lock().logs.entry(id.to_owned()).or_default();
    }

    /// Appends a record to the kernel ring buffer only (the initramfs writes there before
    /// machined runs).
    pub fn kmsg_only(&self, priority: Priority, message: &str) {
        self.kernel(Facility::User, priority, Timestamp::now(), message);
    }

    /// Appends a kernel record.
    pub fn kernel(&self, facility: Facility, priority: Priority, at: Timestamp, message: &str) {
        self.lock().kmsg.push(logfmt::dmesg(facility, priority, at, message));
        self.changed();
    }

    /// A line of machined's std logger: timestamped in machined's log, and copied to the
    /// kernel ring buffer as `user: warning: ... [talos] ...` (written without a `<N>` prefix).
    pub fn talos(&self, message: &str) {
        self.talos_at(Timestamp::now(), message);
    }

    /// A line of machined's std logger written at `at`.
    pub fn talos_at(&self, now: Timestamp, message: &str) {
        {
            let mut state = self.lock();
            state.logs.entry("machined".into()).or_default().push(logfmt::machined(now, message));
            state.kmsg.push(logfmt::dmesg(Facility::User, Priority::Warning, now, &format!("[talos] {message}")));
        }
        self.changed();
    }

    /// A zap entry of a Talos controller: the coloured line in `controller-runtime`'s log, and
    /// the console copy in machined's log and dmesg, unless it is one of a controller's first
    /// four errors.
    pub fn controller(&self, level: ZapLevel, message: &str, fields: &[(&str, &str)]) {
        self.controller_at(Timestamp::now(), level, message, fields);
    }

    /// A zap entry of a Talos controller written at `at`.
    pub fn controller_at(&self, at: Timestamp, level: ZapLevel, message: &str, fields: &[(&str, &str)]) {
        let mut fields_with_component = vec![("component", "controller-runtime")];
        fields_with_component.extend_from_slice(fields);
        self.log("controller-runtime", logfmt::zap(at, level, message, &fields_with_component));
        if level == ZapLevel::Error {
            let controller = fields.iter().find(|(k, _)| *k == "controller").map_or("", |(_, v)| *v).to_owned();
            let mut state = self.lock();
            let seen = state.controller_errors.entry(controller).or_default();
            *seen += 1;
            if *seen <= CONSOLE_ERROR_SUPPRESS_THRESHOLD {
                return;
            }
        }
        self.talos_at(at, &logfmt::zap_console_copy(message, &fields_with_component));
    }

    /// Registers a service with no event yet.
    pub fn register_service(&self, id: &str) {
        self.lock().services.entry(id.to_owned()).or_insert_with(|| ServiceInfo {
            id: id.to_owned(),
            state: ServiceState::Initialized,
            health: ServiceHealth { unknown: true, ..ServiceHealth::default() },
            events: Vec::new(),
        });
        self.register_log(id);
    }

    /// A service changes state: the event is recorded and machined logs
    /// `service[<id>](<State>): <msg>`.
    pub fn service_event(&self, id: &str, state: ServiceState, msg: &str) {
        self.register_service(id);
        {
            let mut node = self.lock();
            let service = node.services.get_mut(id).expect("registered above");
            service.state = state;
            service.events.push(ServiceEvent { msg: msg.to_owned(), state, ts: logfmt::rfc3339_nano(Timestamp::now()) });
        }
        self.talos(&format!("service[{id}]({state}): {msg}"));
    }

    /// A service's health check ran: `Health check successful`, or `Health check failed: <err>`.
    /// Both are recorded as events of the current state, as machined does.
    pub fn health_check(&self, id: &str, result: Result<(), &str>) {
        let state = {
            let mut node = self.lock();
            let Some(service) = node.services.get_mut(id) else { return };
            service.health = match result {
                Ok(()) => ServiceHealth { unknown: false, healthy: true, last_message: String::new() },
                Err(e) => ServiceHealth { unknown: false, healthy: false, last_message: e.to_owned() },
            };
            service.state
        };
        let msg = match result {
            Ok(()) => "Health check successful".to_owned(),
            Err(e) => format!("Health check failed: {e}"),
        };
        self.service_event(id, state, &msg);
    }

    /// Every service, sorted by id.
    #[must_use]
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.lock().services.values().cloned().collect()
    }

    /// One service.
    #[must_use]
    pub fn service(&self, id: &str) -> Option<ServiceInfo> {
        self.lock().services.get(id).cloned()
    }

    /// The lines of a log from line `from` on, or `None` when no such log was ever registered.
    #[must_use]
    pub fn log_lines(&self, id: &str, from: usize) -> Option<Vec<String>> {
        self.lock().logs.get(id).map(|lines| lines.get(from..).unwrap_or_default().to_vec())
    }

    /// How many lines a log has, or `None` when no such log was ever registered.
    #[must_use]
    pub fn log_len(&self, id: &str) -> Option<usize> {
        self.lock().logs.get(id).map(Vec::len)
    }

    /// Kernel records from record `from` on.
    #[must_use]
    pub fn kmsg(&self, from: usize) -> Vec<String> {
        self.lock().kmsg.get(from..).unwrap_or_default().to_vec()
    }

    /// How many kernel records there are.
    #[must_use]
    pub fn kmsg_len(&self) -> usize {
        self.lock().kmsg.len()
    }

    /// Marks the boot sequence as finished.
    pub fn finish_boot(&self) {
        self.lock().booted_at = Some(Timestamp::now());
        self.changed();
    }

    /// True once the boot sequence has finished.
    #[must_use]
    pub fn booted(&self) -> bool {
        self.lock().booted_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::LabSpec;

    fn node() -> Node {
        Node::new(LabSpec::nodes_for("lab", 1, 0).remove(0))
    }

    #[test]
    fn service_events_are_logged_by_machined_and_copied_to_dmesg() {
        let node = node();
        node.service_event("etcd", ServiceState::Waiting, "Waiting for service \"cri\" to be \"up\"");
        let machined = node.log_lines("machined", 0).unwrap();
        assert!(machined[0].ends_with(" [talos] service[etcd](Waiting): Waiting for service \"cri\" to be \"up\""), "{machined:?}");
        assert!(node.kmsg(0)[0].starts_with("user: warning: ["));
        assert_eq!(node.service("etcd").unwrap().state, ServiceState::Waiting);
    }

    #[test]
    fn a_health_check_is_an_event_of_the_current_state() {
        let node = node();
        node.service_event("kubelet", ServiceState::Running, "Started task kubelet (PID 1734) for container kubelet");
        node.health_check("kubelet", Err("connection refused"));
        let kubelet = node.service("kubelet").unwrap();
        assert_eq!(kubelet.events.last().unwrap().msg, "Health check failed: connection refused");
        assert_eq!(kubelet.health.last_message, "connection refused");
        node.health_check("kubelet", Ok(()));
        let kubelet = node.service("kubelet").unwrap();
        assert!(kubelet.health.healthy && kubelet.health.last_message.is_empty());
        assert_eq!(kubelet.events.last().unwrap().state, ServiceState::Running);
    }

    #[test]
    fn the_first_four_controller_errors_stay_off_the_console() {
        let node = node();
        for _ in 0..5 {
            node.controller(ZapLevel::Error, "controller failed", &[("controller", "block.MountController")]);
        }
        assert_eq!(node.log_len("controller-runtime"), Some(5));
        let machined = node.log_lines("machined", 0).unwrap();
        assert_eq!(machined.len(), 1, "only the fifth error is copied: {machined:?}");
        assert!(machined[0].contains("[talos] controller failed {\"component\": \"controller-runtime\""));
    }

    #[test]
    fn an_unregistered_log_is_none_and_a_registered_one_is_empty() {
        let node = node();
        assert!(node.log_lines("nope", 0).is_none());
        node.register_service("udevd");
        assert_eq!(node.log_lines("udevd", 0).unwrap(), Vec::<String>::new());
    }
}
