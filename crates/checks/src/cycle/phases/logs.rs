//! Phase `logs`: the Talos logs of every node since boot (each service of `talos-logs.services`,
//! machined's included, and the kernel ring buffer), scanned as they stream against the
//! environment's allow-list. A flagged line fails the phase, naming its node, source and line.
//!
//! `talosctl service` tells which node runs which service: a service that a node does not run
//! (etcd on a worker) is skipped for that node, not a failure. A log id that is no service at
//! all (`controller-runtime`, machined's controllers) is read from every node. Each source is
//! fetched from all its nodes in one `talosctl -n a,b,c logs` call, every source at once, and
//! the lines are scanned per node, so line numbers are each node's own.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use vixens_drivers::talosctl::Talosctl;
use vixens_logscan::lines::split_node;
use vixens_logscan::{Input, OwnedFinding, Scanner};
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;

/// The kernel ring buffer, as sources are named.
pub(crate) const DMESG: &str = "dmesg";

/// Lines shown before a flagged line in the excerpt.
const CONTEXT_LINES: usize = 3;

/// Flagged lines quoted in a failure message; the artifact has them all.
const QUOTED_FINDINGS: usize = 10;

/// What one scan of every node's logs found.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Every line with an error marker, allowed or flagged, by source then node.
    pub findings: Vec<OwnedFinding>,
    /// Each finding with the lines before it, for the artifact.
    pub excerpts: String,
    /// (node address, source) pairs skipped because the node does not run the service.
    pub skipped: Vec<(String, String)>,
    /// Lines read.
    pub lines: u64,
}

impl Scanned {
    /// The lines no rule explains.
    pub fn flagged(&self) -> impl Iterator<Item = &OwnedFinding> {
        self.findings.iter().filter(|f| f.is_flagged())
    }
}

/// Fetches and scans every node's logs within `budget`.
pub(crate) fn scan(env: &Environment, talosctl: &Talosctl, budget: Duration) -> Result<Scanned, Failure> {
    let started = Instant::now();
    let scanner = Scanner::new(&env.talos_logs.allow).map_err(|e| Phase::Logs.failure("talos-logs.allow", vixens_diagnostic::error_chain(&e)))?;
    let all: Vec<&str> = env.nodes.iter().map(|n| n.address.as_str()).collect();
    if all.is_empty() {
        return Err(Phase::Logs.failure("env.yaml nodes", format!("{} lists no node whose logs could be read", env.file.display())));
    }
    let rows = talosctl.services(&all, budget).map_err(|e| Phase::Logs.failure(all.join(","), vixens_diagnostic::error_chain(&e)))?;
    let running: Vec<(&str, &str)> = rows.iter().map(|r| (r.node.as_str(), r.id.as_str())).collect();
    let plan = plan(&env.talos_logs.services, &all, &running);
    let mut scanned = Scanned::default();
    for (source, nodes) in &plan {
        scanned.skipped.extend(all.iter().filter(|n| !nodes.contains(n)).map(|n| ((*n).to_owned(), (*source).to_owned())));
    }
    let left = budget.saturating_sub(started.elapsed());
    let results: Vec<Result<SourceScan, Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .iter()
            .filter(|(_, nodes)| !nodes.is_empty())
            .map(|(source, nodes)| scope.spawn(|| scan_source(env, talosctl, &scanner, source, nodes, left)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a log scan thread does not panic")).collect()
    });
    for result in results {
        let source = result?;
        scanned.findings.extend(source.findings);
        scanned.excerpts.push_str(&source.excerpts);
        scanned.lines += source.lines;
    }
    Ok(scanned)
}

/// Which nodes each source is read from: a service from the nodes whose `talosctl service`
/// table lists it (`running` holds `(node, service)` rows), a log that is no service on any node
/// (`controller-runtime`) and dmesg from every node.
fn plan<'a>(services: &'a [String], all: &[&'a str], running: &[(&'a str, &'a str)]) -> Vec<(&'a str, Vec<&'a str>)> {
    let mut runs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (node, service) in running {
        runs.entry(service).or_default().insert(node);
    }
    services
        .iter()
        .map(String::as_str)
        .chain([DMESG])
        .map(|source| {
            let nodes = match runs.get(source) {
                Some(on) if source != DMESG => all.iter().copied().filter(|n| on.contains(n)).collect(),
                _ => all.to_vec(),
            };
            (source, nodes)
        })
        .collect()
}

/// The phase's verdict on a scan: a failure naming the first flagged line's node, source and
/// line, quoting the first few.
pub(crate) fn judge(env: &Environment, scanned: &Scanned) -> Result<(), Failure> {
    if scanned.lines == 0 && scanned.findings.is_empty() {
        // Nothing read proves nothing: a node that printed no log at all is not a clean one.
        let nodes: Vec<&str> = env.nodes.iter().map(|n| n.address.as_str()).collect();
        return Err(
            Phase::Logs.failure(nodes.join(","), "no line was read from the Talos logs of any node: an empty capture cannot show the logs are clean")
        );
    }
    let flagged: Vec<&OwnedFinding> = scanned.flagged().collect();
    let Some(first) = flagged.first() else { return Ok(()) };
    let culprit = format!("{}: {}:{}", env.node_label(first.node.as_deref().unwrap_or("-")), first.source, first.line);
    let mut message = format!(
        "{} line{} in the Talos logs since boot {} an error the allow-list (talos-logs.allow) does not explain:",
        flagged.len(),
        if flagged.len() == 1 { "" } else { "s" },
        if flagged.len() == 1 { "is" } else { "are" },
    );
    for finding in flagged.iter().take(QUOTED_FINDINGS) {
        let _ = write!(message, "\n  {finding}");
    }
    if flagged.len() > QUOTED_FINDINGS {
        let _ = write!(message, "\n  and {} more (artifact {})", flagged.len() - QUOTED_FINDINGS, crate::cycle::artifacts::files::TALOS_LOGS);
    }
    Err(Phase::Logs.failure(culprit, message))
}

/// One source's findings across its nodes.
struct SourceScan {
    findings: Vec<OwnedFinding>,
    excerpts: String,
    lines: u64,
}

/// One node's scan of one source, with the last lines kept for excerpts.
struct NodeScan<'s> {
    scan: vixens_logscan::LineScan<'s>,
    recent: VecDeque<String>,
}

fn scan_source(
    env: &Environment,
    talosctl: &Talosctl,
    scanner: &Scanner,
    source: &str,
    nodes: &[&str],
    timeout: Duration,
) -> Result<SourceScan, Failure> {
    let names: Vec<String> =
        nodes.iter().map(|n| format!("talosctl -n {n} {}", if source == DMESG { "dmesg".to_owned() } else { format!("logs {source}") })).collect();
    let mut scans: BTreeMap<&str, NodeScan<'_>> = nodes
        .iter()
        .zip(&names)
        .map(|(node, name)| (*node, NodeScan { scan: scanner.lines(Input::new(name, source)), recent: VecDeque::new() }))
        .collect();
    let mut findings: Vec<OwnedFinding> = Vec::new();
    let mut excerpts = String::new();
    let mut scan_error: Option<vixens_logscan::Error> = None;
    let mut on_line = |line: &str| {
        if scan_error.is_some() {
            return;
        }
        let Some(node) = split_node(line).0.and_then(|label| scans.get_mut(label)) else { return };
        let before = findings.len();
        if let Err(e) = node.scan.push(line, &mut findings) {
            scan_error = Some(e);
            return;
        }
        if let Some(found) = findings.get(before) {
            excerpt(env, &mut excerpts, found, &node.recent, line);
        }
        node.recent.push_back(line.to_owned());
        if node.recent.len() > CONTEXT_LINES {
            node.recent.pop_front();
        }
    };
    let joined = nodes.join(",");
    let fetched =
        if source == DMESG { talosctl.dmesg(&joined, timeout, &mut on_line) } else { talosctl.logs(&joined, source, timeout, &mut on_line) };
    let culprit = || format!("{joined}: {source}");
    fetched.map_err(|e| Phase::Logs.failure(culprit(), vixens_diagnostic::error_chain(&e)))?;
    if let Some(e) = scan_error {
        return Err(Phase::Logs.failure(culprit(), vixens_diagnostic::error_chain(&e)));
    }
    let lines = scans.values().map(|s| s.scan.summary().lines).sum();
    Ok(SourceScan { findings, excerpts, lines })
}

/// Appends one finding with the lines before it to `excerpts`.
fn excerpt(env: &Environment, excerpts: &mut String, found: &OwnedFinding, recent: &VecDeque<String>, line: &str) {
    let verdict = match &found.allowed_by {
        None => format!("FLAGGED: {}", found.marker),
        Some(rule) => format!("allowed by {}:{}: {}", rule.origin.file.display(), rule.origin.line, rule.reason),
    };
    let node = env.node_label(found.node.as_deref().unwrap_or("-"));
    let _ = writeln!(excerpts, "== {node}: {}:{} ({verdict})", found.source, found.line);
    let first = found.line.saturating_sub(recent.len() as u64);
    for (i, before) in recent.iter().enumerate() {
        let _ = writeln!(excerpts, "   {:>6}  {before}", first + i as u64);
    }
    let _ = writeln!(excerpts, " > {:>6}  {line}\n", found.line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use vixens_logscan::Marker;

    fn env() -> Environment {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments/lab/env.yaml");
        let vars = std::collections::BTreeMap::from([("VIXENS_WORK_DIR".to_owned(), "/tmp/vixens-test".to_owned())]);
        Environment::load_with(path, &vars).unwrap()
    }

    fn finding(node: &str, source: &str, line: u64, text: &str) -> OwnedFinding {
        let scanner = Scanner::new(&[]).unwrap();
        let mut found: Vec<OwnedFinding> = Vec::new();
        let mut scan = scanner.lines(Input::new("test", source));
        for _ in 1..line {
            scan.push(&format!("{node}: a quiet line"), &mut found).unwrap();
        }
        scan.push(&format!("{node}: {text}"), &mut found).unwrap();
        found.pop().expect("an error line")
    }

    #[test]
    fn a_service_a_node_does_not_run_is_not_read_there() {
        let services: Vec<String> = ["machined", "etcd", "controller-runtime"].map(String::from).into();
        let all = ["10.5.0.2", "10.5.0.5"];
        let running = [("10.5.0.2", "machined"), ("10.5.0.2", "etcd"), ("10.5.0.5", "machined"), ("10.5.0.5", "kubelet")];
        assert_eq!(
            plan(&services, &all, &running),
            [
                ("machined", vec!["10.5.0.2", "10.5.0.5"]),
                ("etcd", vec!["10.5.0.2"]),
                ("controller-runtime", vec!["10.5.0.2", "10.5.0.5"]),
                ("dmesg", vec!["10.5.0.2", "10.5.0.5"]),
            ]
        );
    }

    #[test]
    fn clean_logs_pass() {
        // A boot's worth of lines: quiet ones, and the lab's reviewed noise its allow-list explains.
        let env = env();
        let scanner = Scanner::new(&env.talos_logs.allow).unwrap();
        let mut findings: Vec<OwnedFinding> = Vec::new();
        let mut scan = scanner.lines(Input::new("test", "containerd"));
        for line in [
            "10.5.0.2: time=\"2026-08-21T10:00:04.080Z\" level=info msg=\"starting containerd\" revision=v2.0.5 version=v2.0.5",
            "10.5.0.2: time=\"2026-08-21T10:00:04.102Z\" level=error msg=\"failed to load cni during init, please check CRI plugin status before \
             setting up network for pods\" error=\"cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: \
             failed to load cni config\"",
            "10.5.0.2: time=\"2026-08-21T10:00:04.130Z\" level=info msg=\"containerd successfully booted in 0.051s\"",
        ] {
            scan.push(line, &mut findings).unwrap();
        }
        let scanned = Scanned { lines: scan.summary().lines, findings, ..Scanned::default() };
        assert_eq!(scanned.lines, 3);
        assert_eq!(scanned.findings.len(), 1, "the CNI line is an error line: {:?}", scanned.findings);
        assert!(scanned.flagged().next().is_none(), "and the allow-list explains it");
        assert_eq!(judge(&env, &scanned), Ok(()));
    }

    #[test]
    fn an_empty_capture_does_not_pass_for_clean_logs() {
        let failure = judge(&env(), &Scanned::default()).unwrap_err();
        assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("logs", "10.5.0.2,10.5.0.3,10.5.0.4"));
        assert_eq!(failure.message, "no line was read from the Talos logs of any node: an empty capture cannot show the logs are clean");
    }

    #[test]
    fn a_flagged_line_fails_naming_node_source_and_line() {
        let flagged = finding("10.5.0.3", "dmesg", 12, "kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0");
        assert_eq!(flagged.marker, Marker::DmesgPriority(vixens_logscan::lines::Priority::Err));
        let scanned = Scanned { findings: vec![flagged], ..Scanned::default() };
        let failure = judge(&env(), &scanned).unwrap_err();
        assert_eq!(failure.phase, "logs");
        assert_eq!(failure.culprit, "lab-controlplane-2 (10.5.0.3): dmesg:12");
        assert_eq!(
            failure.message,
            "1 line in the Talos logs since boot is an error the allow-list (talos-logs.allow) does not explain:\n  \
             10.5.0.3: dmesg:12: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (kernel priority err)"
        );
    }

    #[test]
    fn an_excerpt_shows_the_lines_before_the_finding() {
        let found = finding("10.5.0.2", "machined", 3, "2026/08/21 10:00:09.500000 [talos] task mountVolumes (1/1): failed: no such device");
        let recent = VecDeque::from(["10.5.0.2: one".to_owned(), "10.5.0.2: two".to_owned()]);
        let mut text = String::new();
        excerpt(&env(), &mut text, &found, &recent, "10.5.0.2: three");
        assert_eq!(
            text,
            "== lab-controlplane-1 (10.5.0.2): machined:3 (FLAGGED: failed Talos task)\n        1  10.5.0.2: one\n        2  10.5.0.2: two\n >      3  10.5.0.2: three\n\n"
        );
    }
}
