//! Phase `logs`: the Talos logs of every node since boot (each service of `talos-logs.services`,
//! machined's included, and the kernel ring buffer), scanned as they stream. A known failure
//! (a crash loop, a panic, an OOM kill, an I/O error, a certificate error, ...) is an error
//! whatever its level; boot noise is explained by the shared allow-list and the environment's
//! `talos-logs.allow`, bootstrap rules only until the cluster was healthy (the end of the
//! `talos-health` phase). One finding per node, source and cause fails the phase, naming its
//! node, source and line.
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
use vixens_logscan::{Input, InputId, Judged, Report, ScanConfig, Scanner, Session, Time};
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::evidence::Failure;

/// The kernel ring buffer, as sources are named.
pub(crate) const DMESG: &str = "dmesg";

/// Lines shown before an error line in the excerpt.
const CONTEXT_LINES: usize = 3;

/// Excerpts kept per node, source and cause (a crash loop repeats thousands of times).
const EXCERPTS_PER_CAUSE: usize = 3;

/// Findings quoted in a failure message; the artifact has them all.
const QUOTED_FINDINGS: usize = 10;

/// What one scan of every node's logs found.
#[derive(Debug)]
pub(crate) struct Scanned {
    /// The findings, explained lines and the bootstrap window.
    pub report: Report,
    /// The findings, then the first error lines of each cause with the lines before them, for
    /// the artifact.
    pub excerpts: String,
    /// (node address, source) pairs skipped because the node does not run the service.
    pub skipped: Vec<(String, String)>,
}

/// Fetches and scans every node's logs within `budget`; `healthy_at` is when the cluster was
/// seen healthy (the end of the bootstrap window).
pub(crate) fn scan(env: &Environment, talosctl: &Talosctl, budget: Duration, healthy_at: Option<Time>) -> Result<Scanned, Failure> {
    let started = Instant::now();
    let config = ScanConfig { bootstrap_retries: env.talos_logs.bootstrap_retries, ..ScanConfig::default() };
    let scanner = Scanner::with_config(&env.talos_logs.allow, config)
        .map_err(|e| Phase::Logs.failure("talos-logs.allow", vixens_diagnostic::error_chain(&e)))?;
    let all: Vec<&str> = env.nodes.iter().map(|n| n.address.as_str()).collect();
    if all.is_empty() {
        return Err(Phase::Logs.failure("env.yaml nodes", format!("{} lists no node whose logs could be read", env.file.display())));
    }
    let rows = talosctl.services(&all, budget).map_err(|e| Phase::Logs.failure(all.join(","), vixens_diagnostic::error_chain(&e)))?;
    let running: Vec<(&str, &str)> = rows.iter().map(|r| (r.node.as_str(), r.id.as_str())).collect();
    let plan = plan(&env.talos_logs.services, &all, &running);
    let mut skipped = Vec::new();
    for (source, nodes) in &plan {
        skipped.extend(all.iter().filter(|n| !nodes.contains(n)).map(|n| ((*n).to_owned(), (*source).to_owned())));
    }
    let left = budget.saturating_sub(started.elapsed());
    let results: Vec<Result<SourceScan<'_>, Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = plan
            .iter()
            .filter(|(_, nodes)| !nodes.is_empty())
            .map(|(source, nodes)| scope.spawn(|| scan_source(env, talosctl, &scanner, healthy_at, source, nodes, left)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a log scan thread does not panic")).collect()
    });
    let mut session = scanner.session(healthy_at);
    let mut lines = String::new();
    for result in results {
        let source = result?;
        session.absorb(source.session);
        lines.push_str(&source.excerpts);
    }
    let report = session.finish();
    let mut excerpts = String::new();
    for finding in &report.findings {
        let _ = writeln!(excerpts, "FINDING {}: {finding}", env.node_label(&finding.label));
    }
    if !report.findings.is_empty() {
        excerpts.push('\n');
    }
    excerpts.push_str(&lines);
    Ok(Scanned { report, excerpts, skipped })
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

/// The phase's verdict on a scan: a failure naming the first finding's node, source and line,
/// quoting the first few findings.
pub(crate) fn judge(env: &Environment, scanned: &Scanned) -> Result<(), Failure> {
    if scanned.report.summary.lines == 0 && scanned.report.findings.is_empty() {
        // Nothing read proves nothing: a node that printed no log at all is not a clean one.
        let nodes: Vec<&str> = env.nodes.iter().map(|n| n.address.as_str()).collect();
        return Err(
            Phase::Logs.failure(nodes.join(","), "no line was read from the Talos logs of any node: an empty capture cannot show the logs are clean")
        );
    }
    let findings = &scanned.report.findings;
    let Some(first) = findings.first() else { return Ok(()) };
    let culprit = format!("{}: {}:{}", env.node_label(&first.label), first.source, first.line);
    let count = findings.len();
    let mut message = format!(
        "{count} error{} in the Talos logs since boot that no allow rule explains (the shared list, then talos-logs.allow):",
        if count == 1 { "" } else { "s" },
    );
    for finding in findings.iter().take(QUOTED_FINDINGS) {
        let _ = write!(message, "\n  {finding}");
    }
    if count > QUOTED_FINDINGS {
        let _ = write!(message, "\n  and {} more (artifact {})", count - QUOTED_FINDINGS, crate::cycle::artifacts::files::TALOS_LOGS);
    }
    Err(Phase::Logs.failure(culprit, message))
}

/// A one-line account of a scan for the progress report.
pub(crate) fn status(scanned: &Scanned) -> String {
    let report = &scanned.report;
    let window = match (report.window.end, report.window.assumed) {
        (Some(end), false) => format!("bootstrap window until {end} (healthy)"),
        (Some(end), true) => format!("bootstrap window assumed until {end} (boot + 20m)"),
        (None, _) => "no time in the logs: no bootstrap window".to_owned(),
    };
    format!(
        "{} lines read, {} error lines explained by allow rules, {} retries tolerated, {} finding(s), {} node/service pairs skipped (service not run there); {window}",
        report.summary.lines,
        report.summary.explained,
        report.tolerated,
        report.findings.len(),
        scanned.skipped.len()
    )
}

/// One source's session across its nodes.
struct SourceScan<'s> {
    session: Session<'s>,
    excerpts: String,
}

/// One node's input, with its last lines kept for excerpts.
struct NodeScan {
    input: InputId,
    recent: VecDeque<String>,
}

/// An error line as the observer saw it, kept until its excerpt is written.
struct Seen {
    line: u64,
    cause: String,
    verdict: String,
}

fn scan_source<'s>(
    env: &Environment,
    talosctl: &Talosctl,
    scanner: &'s Scanner,
    healthy_at: Option<Time>,
    source: &str,
    nodes: &[&str],
    timeout: Duration,
) -> Result<SourceScan<'s>, Failure> {
    let mut session = scanner.session(healthy_at);
    let mut scans: BTreeMap<&str, NodeScan> = nodes
        .iter()
        .map(|node| {
            let name = format!("talosctl -n {node} {}", if source == DMESG { "dmesg".to_owned() } else { format!("logs {source}") });
            (*node, NodeScan { input: session.open(&Input::new(&name, source)), recent: VecDeque::new() })
        })
        .collect();
    let mut excerpts = String::new();
    let mut per_cause: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut scan_error: Option<vixens_logscan::Error> = None;
    let mut on_line = |line: &str| {
        if scan_error.is_some() {
            return;
        }
        let Some((label, node)) = split_node(line).0.and_then(|label| scans.get_mut(label).map(|n| (label, n))) else { return };
        let mut seen: Vec<Seen> = Vec::new();
        let mut observer = |j: &Judged<'_>| {
            let verdict = match j.explained_by {
                None => format!("ERROR {} ({})", j.cause, j.why),
                Some(rule) => format!("explained by {}: {}", rule.origin, rule.reason),
            };
            seen.push(Seen { line: j.line, cause: j.cause.to_owned(), verdict });
            Ok(true)
        };
        if let Err(e) = session.push(node.input, line, &mut observer) {
            scan_error = Some(e);
            return;
        }
        for found in seen {
            let shown = per_cause.entry((label.to_owned(), found.cause.clone())).or_default();
            *shown += 1;
            if *shown <= EXCERPTS_PER_CAUSE {
                excerpt(env, &mut excerpts, label, source, &found, &node.recent, line);
            }
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
    Ok(SourceScan { session, excerpts })
}

/// Appends one error line with the lines before it to `excerpts`.
fn excerpt(env: &Environment, excerpts: &mut String, node: &str, source: &str, found: &Seen, recent: &VecDeque<String>, line: &str) {
    let _ = writeln!(excerpts, "== {}: {source}:{} ({})", env.node_label(node), found.line, found.verdict);
    let first = found.line.saturating_sub(recent.len() as u64);
    for (i, before) in recent.iter().enumerate() {
        let _ = writeln!(excerpts, "   {:>6}  {before}", first + i as u64);
    }
    let _ = writeln!(excerpts, " > {:>6}  {line}\n", found.line);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Environment {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments/lab/env.yaml");
        let vars = std::collections::BTreeMap::from([("VIXENS_WORK_DIR".to_owned(), "/tmp/vixens-test".to_owned())]);
        Environment::load_with(path, &vars).unwrap()
    }

    /// `lines` of `source` from one node, scanned as the phase scans them.
    fn scanned(source: &str, lines: &[&str], healthy_at: Option<&str>) -> Scanned {
        let scanner = Scanner::new(&[]).unwrap();
        let mut session = scanner.session(healthy_at.map(|t| Time::parse_rfc3339(t).unwrap()));
        let id = session.open(&Input::new("talosctl -n 10.5.0.3 logs", source));
        for line in lines {
            session.push(id, line, &mut ()).unwrap();
        }
        Scanned { report: session.finish(), excerpts: String::new(), skipped: Vec::new() }
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
        let boot = "10.5.0.3: 2026/08/21 10:00:01.123456 [talos] service[kubelet](Running): Health check failed: connection refused";
        let clean = scanned("machined", &[boot], Some("2026-08-21T10:03:00Z"));
        assert_eq!(clean.report.summary.explained, 1, "boot noise, explained");
        assert!(judge(&env(), &clean).is_ok());
    }

    #[test]
    fn an_empty_capture_does_not_pass_for_clean_logs() {
        let failure = judge(&env(), &scanned("machined", &[], None)).unwrap_err();
        assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("logs", "10.5.0.2,10.5.0.3,10.5.0.4"));
        assert_eq!(failure.message, "no line was read from the Talos logs of any node: an empty capture cannot show the logs are clean");
    }

    #[test]
    fn an_error_fails_naming_node_source_and_line() {
        let lines = [
            "10.5.0.3: kern:    info: [2026-08-21T10:00:00Z]: Linux version 6.12.40-talos",
            "10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0",
        ];
        let failure = judge(&env(), &scanned("dmesg", &lines, None)).unwrap_err();
        assert_eq!(failure.phase, "logs");
        assert_eq!(failure.culprit, "lab-controlplane-2 (10.5.0.3): dmesg:2");
        assert_eq!(
            failure.message,
            "1 error in the Talos logs since boot that no allow rule explains (the shared list, then talos-logs.allow):\n  \
             10.5.0.3: dmesg:2: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (disk-io-error, known failure F09)"
        );
    }

    #[test]
    fn a_crash_loop_is_one_error_with_its_count() {
        let restart = |s: u32| {
            format!(
                "10.5.0.3: 2026/08/21 10:10:{s:02}.000001 [talos] service[ext-iscsid](Waiting): Error running Containerd(ext-iscsid), going to restart forever: task \"ext-iscsid\" failed: exit code 127"
            )
        };
        let lines: Vec<String> = [0, 5, 10, 15].into_iter().map(restart).collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let failure = judge(&env(), &scanned("machined", &lines, Some("2026-08-21T10:03:00Z"))).unwrap_err();
        assert_eq!(failure.culprit, "lab-controlplane-2 (10.5.0.3): machined:1");
        assert!(failure.message.ends_with("(crash-loop/ext-iscsid/exit-127, known failure F01; 4 lines, 1 to 4)"), "{}", failure.message);
    }

    #[test]
    fn an_excerpt_shows_the_lines_before_the_error() {
        let found = Seen { line: 3, cause: "boot-sequence-failed".into(), verdict: "ERROR boot-sequence-failed (known failure F04)".into() };
        let recent = VecDeque::from(["10.5.0.2: one".to_owned(), "10.5.0.2: two".to_owned()]);
        let mut text = String::new();
        excerpt(&env(), &mut text, "10.5.0.2", "machined", &found, &recent, "10.5.0.2: three");
        assert_eq!(
            text,
            "== lab-controlplane-1 (10.5.0.2): machined:3 (ERROR boot-sequence-failed (known failure F04))\n        1  10.5.0.2: one\n        2  10.5.0.2: two\n >      3  10.5.0.2: three\n\n"
        );
    }
}
