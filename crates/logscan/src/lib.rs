//! The Talos log scanner: reads `talosctl logs` and `talosctl dmesg` output (and support bundles,
//! serial consoles, `docker logs` of containerised Talos), finds what means failure whatever
//! level it is logged at, explains the noise every healthy boot makes, and reports one finding
//! per node, source and cause with its count and its first and last line.
//!
//! How a line is judged:
//! 1. it is read as a record ([`record`]): node label, colour and kmsg escapes removed, its time,
//!    its level, and the message text; lines that continue a record (a panic's stack, mount
//!    output) are part of it;
//! 2. a known failure ([`failures`]) matching the text is an error whatever the level: a crash
//!    loop (`service[etcd](Waiting): Error running ...`), a Go panic, an OOM kill, an I/O error,
//!    a certificate error, etcd losing its quorum;
//! 3. else an error marker ([`markers`]): a kernel priority of err or worse, a zap, etcd, logrus
//!    or klog error level, a failed Talos health check, a retried error;
//! 4. a marker is explained by the shared allow-list ([`shared`]) or the environment's own rules
//!    ([`allow`]); bootstrap rules explain only inside the bootstrap window (boot until the
//!    cluster was healthy);
//! 5. the rest is counted per node, source and cause; a retried failure (a restart, an image
//!    pull) is tolerated inside the window up to [`ScanConfig::bootstrap_retries`] times.
//!
//! Built like ripgrep's searcher: a [`Session`] reads bytes through a bounded line buffer
//! (constant memory; a line over [`ScanConfig::max_line_bytes`] is an error naming its node and
//! offset), a keyword prefilter ([`prefilter`]) skips lines that cannot be errors, and each
//! judged line is shown to an [`Observer`] as it is read. The scanner never prints.
//!
//! ```
//! use vixens_logscan::{Input, Scanner};
//!
//! let scanner = Scanner::new(&[]).unwrap();
//! let mut session = scanner.session(None);
//! let dmesg = "10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0\n";
//! session.scan_reader(dmesg.as_bytes(), &Input::new("dmesg.log", "dmesg"), &mut ()).unwrap();
//! let report = session.finish();
//! assert_eq!(report.findings.len(), 1);
//! assert_eq!(
//!     report.findings[0].to_string(),
//!     "10.5.0.3: dmesg:1: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error, dev vdb, sector 0 (disk-io-error, known failure F09)"
//! );
//! ```

use std::collections::BTreeMap;

pub mod allow;
pub mod corpus;
pub mod failures;
pub mod lines;
pub mod markers;
pub mod prefilter;
pub mod record;
mod search;
pub mod session;
pub mod shared;
pub mod time;

pub use allow::{AllowList, AllowRule, Origin, RuleWindow};
pub use failures::{FAILURES, KnownFailure, Policy};
pub use markers::Marker;
pub use session::{InputId, Job, Session};
pub use time::Time;

/// Limits and tolerances of a scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// The longest line accepted, in bytes. Talos and Kubernetes lines are rarely over a few KiB;
    /// the default, 1 MiB, leaves room for a dumped object and still bounds memory.
    pub max_line_bytes: usize,
    /// The read buffer, 64 KiB by default (ripgrep's default).
    pub buffer_bytes: usize,
    /// How many times a retried failure (a crash loop's restarts, an image pull) may occur per
    /// node and cause inside the bootstrap window before it is an error: 3 by default.
    pub bootstrap_retries: u64,
    /// The longest bootstrap window, in seconds after boot: 20 minutes, `talosctl health`'s own
    /// default wait.
    pub bootstrap_limit_secs: i64,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { max_line_bytes: 1 << 20, buffer_bytes: 64 << 10, bootstrap_retries: 3, bootstrap_limit_secs: 20 * 60 }
    }
}

/// Every marker id, for the shared list's split.
const MARKER_IDS: &[&str] = &[
    "dmesg-priority",
    "talos-health",
    "talos-retrying",
    "talos-etcd-join",
    "talos-error",
    "zap-console-copy",
    "zap-level",
    "etcd-level",
    "logrus-level",
    "klog-severity",
];

/// The known failures, compiled once per process.
static FAILURE_TABLE: std::sync::LazyLock<failures::Failures> = std::sync::LazyLock::new(failures::Failures::new);

/// The prefilter, built once per process.
static PREFILTER: std::sync::LazyLock<prefilter::Prefilter> = std::sync::LazyLock::new(prefilter::Prefilter::new);

/// The shared list split by marker, compiled once per process.
static SHARED_LISTS: std::sync::LazyLock<Vec<(&'static str, AllowList)>> = std::sync::LazyLock::new(|| {
    let compiled: Vec<(&shared::SharedRule, allow::Compiled)> = shared::SHARED
        .iter()
        .map(|r| (r, allow::Compiled::new(&r.rule()).expect("the shared allow-list's patterns are regular expressions")))
        .collect();
    MARKER_IDS
        .iter()
        .map(|marker| {
            let rules = compiled.iter().filter(|(r, _)| r.explains_marker(marker)).map(|(_, c)| c.clone()).collect();
            (*marker, AllowList::assemble(rules))
        })
        .collect()
});

/// Scans Talos logs: the compiled tables, shared by every session (`&self` only).
#[derive(Debug, Clone)]
pub struct Scanner {
    /// The shared list, split by the marker each rule explains (in [`Marker::id`] order).
    shared: Vec<(&'static str, AllowList)>,
    env: AllowList,
    failures: failures::Failures,
    prefilter: prefilter::Prefilter,
    config: ScanConfig,
    /// Tests only: judge every line, bypassing the prefilter, to show it changes nothing.
    every_line_candidate: bool,
}

impl Scanner {
    /// A scanner with the shared allow-list, `env_rules` (an environment's `talos-logs.allow`)
    /// after it, and the default [`ScanConfig`].
    ///
    /// # Errors
    /// [`Error::Rule`] when a rule is not a regular expression.
    pub fn new(env_rules: &[AllowRule]) -> Result<Self, Error> {
        Self::with_config(env_rules, ScanConfig::default())
    }

    /// A scanner with `config`.
    ///
    /// # Errors
    /// As [`Scanner::new`].
    pub fn with_config(env_rules: &[AllowRule], config: ScanConfig) -> Result<Self, Error> {
        Ok(Self {
            shared: SHARED_LISTS.clone(),
            env: AllowList::new(env_rules)?,
            failures: FAILURE_TABLE.clone(),
            prefilter: PREFILTER.clone(),
            config,
            every_line_candidate: false,
        })
    }

    /// A scan of one cluster's logs. `healthy_at`: when the cluster was seen healthy (the end of
    /// the bootstrap window); `None` assumes the longest window.
    #[must_use]
    pub fn session(&self, healthy_at: Option<Time>) -> Session<'_> {
        Session::new(self, healthy_at)
    }

    /// The shared rules that may explain a line of `marker`.
    fn shared_for(&self, marker: Marker) -> Option<&AllowList> {
        self.shared.iter().find(|(id, _)| *id == marker.id()).map(|(_, list)| list)
    }

    /// The limits and tolerances in use.
    #[must_use]
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }
}

/// What is being scanned, for findings and errors.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// How findings and errors name the input: a file path, or the command
    /// (`talosctl -n 10.5.0.2 logs etcd`).
    pub name: &'a str,
    /// The log the lines come from (`machined`, `etcd`, `dmesg`): how lines without a record
    /// head are read, and the source of its records (kernel records are always `dmesg`'s,
    /// `[talos]` lines `machined`'s).
    pub source: &'a str,
    /// `Some(node)` when the lines carry no node label (a support bundle file, `docker logs`, a
    /// serial console): every line is that node's. `None`: each line starts with its label.
    pub node: Option<&'a str>,
}

impl<'a> Input<'a> {
    /// An input named `name` whose lines come from `source`, each with its node label.
    #[must_use]
    pub fn new(name: &'a str, source: &'a str) -> Self {
        Self { name, source, node: None }
    }

    /// An input whose lines carry no node label: they are all `node`'s.
    #[must_use]
    pub fn unlabelled(name: &'a str, source: &'a str, node: &'a str) -> Self {
        Self { name, source, node: Some(node) }
    }
}

/// Why a line is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A known failure message ([`failures`]).
    Failure(&'static KnownFailure),
    /// An error marker ([`markers`]).
    Marker(Marker),
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Failure(failure) => write!(f, "known failure {}", failure.id),
            Self::Marker(marker) => marker.fmt(f),
        }
    }
}

/// One error line as it is read, explained or not (tolerance is only known at the end).
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    /// The input's name.
    pub input: &'a str,
    /// The node label of the line (or the input's node), `-` when it has none.
    pub node: &'a str,
    /// The log the record belongs to.
    pub source: &'a str,
    /// 1-based line number in the input.
    pub line: u64,
    /// Byte offset of the line's start in the input.
    pub offset: u64,
    /// The line after its node label, colour removed.
    pub text: &'a str,
    /// The cause its finding is grouped under.
    pub cause: &'a str,
    /// Why it is an error.
    pub why: Why,
    /// True when its time is inside the bootstrap window.
    pub in_window: bool,
    /// The allow rule that explains it, if any.
    pub explained_by: Option<&'a AllowRule>,
}

/// Sees every error line as it is read.
pub trait Observer {
    /// Takes one judged line; `Ok(false)` stops the scan cleanly.
    ///
    /// # Errors
    /// Whatever the observer fails on (writing a report); the scan stops with
    /// [`Error::Observer`].
    fn judged(&mut self, line: &Judged<'_>) -> std::io::Result<bool>;
}

/// Looks at nothing.
impl Observer for () {
    fn judged(&mut self, _: &Judged<'_>) -> std::io::Result<bool> {
        Ok(true)
    }
}

impl<F: FnMut(&Judged<'_>) -> std::io::Result<bool>> Observer for F {
    fn judged(&mut self, line: &Judged<'_>) -> std::io::Result<bool> {
        self(line)
    }
}

/// One cause of failure on one node: the lines of one group, named by its first.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The node (its label, or the name an alias gives it).
    pub node: String,
    /// The label printed on the named line (`-` when it has none).
    pub label: String,
    /// The log the records belong to (`machined`, `etcd`, `dmesg`).
    pub source: String,
    /// The cause (`crash-loop/etcd/exit-137`, `klog-error/Error syncing pod`).
    pub cause: String,
    /// Why its lines are errors.
    pub why: Why,
    /// The input the finding's lines are counted in.
    pub input: String,
    /// The line that names the finding (the first; for a panic, its `panic:` line).
    pub line: u64,
    /// Its byte offset.
    pub offset: u64,
    /// Its text after the node label, colour removed.
    pub text: String,
    /// How many lines of the group the input holds (tolerated ones left out).
    pub count: u64,
    /// The first line of the group.
    pub first_line: u64,
    /// The last line of the group.
    pub last_line: u64,
    /// When the first line was written, if known.
    pub first_at: Option<Time>,
    /// When the last line was written, if known.
    pub last_at: Option<Time>,
    /// The other inputs the group was seen in (a dmesg copy, a bundle file), with their counts.
    pub also_in: Vec<(String, u64)>,
}

impl std::fmt::Display for Finding {
    /// `10.5.0.3: dmesg:3: <text> (disk-io-error, known failure F09; 3 lines, 3 to 17)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}:{}: {} ({}, {}", self.label, self.source, self.line, self.text, self.cause, self.why)?;
        if self.count > 1 {
            write!(f, "; {} lines, {} to {}", self.count, self.first_line, self.last_line)?;
        }
        f.write_str(")")
    }
}

/// The bootstrap window a session judged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowReport {
    /// The earliest time the inputs start at.
    pub boot: Option<Time>,
    /// When the cluster was seen healthy, as given.
    pub healthy_at: Option<Time>,
    /// Where the window ended.
    pub end: Option<Time>,
    /// True when no `healthy_at` was given: the window was assumed to be its longest.
    pub assumed: bool,
}

/// The outcome of a session.
#[derive(Debug, Clone)]
pub struct Report {
    /// One per node, source and cause, by input and line.
    pub findings: Vec<Finding>,
    /// Lines explained, per rule (`A05`, `env.yaml:42`).
    pub explained: BTreeMap<String, u64>,
    /// Lines of retried failures tolerated inside the window.
    pub tolerated: u64,
    /// The bootstrap window.
    pub window: WindowReport,
    /// Counts.
    pub summary: Summary,
}

/// Counts of a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Error lines (known failures and markers), explained or not.
    pub errors: u64,
    /// Error lines an allow rule explains.
    pub explained: u64,
}

/// Why a scan could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An allow-list rule does not compile.
    #[error(transparent)]
    Rule(#[from] allow::RuleError),
    /// The input could not be read.
    #[error("cannot read {input}")]
    Read {
        /// The input's name.
        input: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is longer than [`ScanConfig::max_line_bytes`]; the scan stopped there.
    #[error("{input}: line {line} (node {node}, byte offset {offset}) is longer than {limit} bytes")]
    LineTooLong {
        /// The input's name.
        input: String,
        /// The node label at the start of the line, or `-`.
        node: String,
        /// Its 1-based line number.
        line: u64,
        /// Byte offset of its start.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// The observer failed.
    #[error("cannot report the findings of {input}")]
    Observer {
        /// The input's name.
        input: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The first time the start of a log (`head`, its first few KiB) shows, to fix the boot before
/// scanning inputs in any order. `labelled`: whether its lines start with a node label.
#[must_use]
pub fn first_time(head: &[u8], labelled: bool) -> Option<Time> {
    let head = String::from_utf8_lossy(head);
    head.lines().take(64).find_map(|line| {
        let text = if labelled { lines::split_node(line).1 } else { line };
        match record::parse(&markers::strip_ansi(text), record::Shape::Raw, None) {
            record::Line::Record(record::Record { stamp: record::Stamp::At(at), .. }) => Some(at),
            _ => None,
        }
    })
}

/// Whether the lines at the start of a saved log (`head`, its first few KiB) carry node labels
/// (`talosctl -n ...` output) or not (a support bundle file, `docker logs`, a serial console).
/// A first word followed by `: ` is not enough: `panic: ...`, `iscsid: ...` and `udevd[1042]: ...`
/// start unlabelled lines too. Every line must have a label that is an address, a host name with
/// a dot or a dash, or that is followed by a timestamped record.
#[must_use]
pub fn looks_labelled(head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    let mut sampled = head.lines().filter(|l| !l.trim().is_empty()).take(16).peekable();
    sampled.peek().is_some()
        && sampled.all(|line| match lines::split_node(line) {
            (Some(label), rest) => {
                let address = label.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':') && label.bytes().any(|b| b == b'.' || b == b':');
                let host = !label.contains('[') && label.bytes().any(|b| b == b'.' || b == b'-');
                let timed = matches!(
                    record::parse(&markers::strip_ansi(rest), record::Shape::Raw, None),
                    record::Line::Record(record::Record { stamp: record::Stamp::At(_), .. })
                );
                address || host || timed
            }
            (None, _) => false,
        })
}

#[cfg(test)]
mod tests;
