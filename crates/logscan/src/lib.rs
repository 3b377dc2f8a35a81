//! The Talos log scanner: finds the error lines in `talosctl logs` and `talosctl dmesg` output,
//! tells apart the ones the environment's allow-list explains, and names each one's node, source
//! and line.
//!
//! Built like ripgrep's searcher and sink: a [`Scanner`] reads bytes through a bounded line buffer
//! (constant memory; a line over [`ScanConfig::max_line_bytes`] is an error naming its node and
//! offset), a keyword prefilter skips lines that cannot hold an error marker, each candidate is
//! ANSI-stripped and classified ([`markers`]), a flagged line is checked against the allow-list
//! ([`allow`]), and every finding is pushed to a [`Sink`] as it is found. The scanner never prints.
//!
//! ```
//! use crate::{Input, Scanner};
//!
//! let scanner = Scanner::new(&[]).unwrap();
//! let dmesg = "10.5.0.3: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error\n";
//! let mut findings: Vec<crate::OwnedFinding> = Vec::new();
//! scanner.scan_reader(dmesg.as_bytes(), &Input::new("dmesg.log", "dmesg"), &mut findings).unwrap();
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].to_string(), "10.5.0.3: dmesg:1: kern:     err: [2026-08-21T10:00:06.7Z]: blk_update_request: I/O error (kernel priority err)");
//! ```

use std::io::Read;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::lines::{DmesgRecord, split_node};

pub mod allow;
pub mod corpus;
pub mod lines;
pub mod markers;
mod search;

pub use allow::{AllowList, AllowRule, Origin};
pub use markers::Marker;

/// Limits of a scan.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    /// The longest line accepted, in bytes. Talos and Kubernetes lines are rarely over a few KiB;
    /// the default, 1 MiB, leaves room for a dumped object and still bounds memory.
    pub max_line_bytes: usize,
    /// The read buffer, 64 KiB by default (ripgrep's default).
    pub buffer_bytes: usize,
    /// Tests only: judge every line, bypassing the prefilters, to show they change nothing.
    every_line_candidate: bool,
}

/// Scans Talos logs. Cheap to share: scanning takes `&self`.
#[derive(Debug, Clone)]
pub struct Scanner {
    allow: AllowList,
    keywords: AhoCorasick,
    config: ScanConfig,
}

/// What is being scanned, for findings and errors.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// How errors name the input: a file path, or the command (`talosctl -n 10.5.0.2 logs etcd`).
    pub name: &'a str,
    /// The service the lines come from (`machined`, `etcd`); kernel records are always `dmesg`.
    pub source: &'a str,
}

/// The verdict on one line.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// No error marker.
    Clean,
    /// An error marker, explained by an allow-list rule.
    Allowed {
        /// The rule that matched (its reason and where it is written).
        rule: &'a AllowRule,
        /// The marker it explains.
        marker: Marker,
    },
    /// An error marker no rule explains.
    Flagged(Marker),
}

/// One line with an error marker, allowed or not.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    /// The node label of the line (`None` for saved logs without one).
    pub node: Option<&'a str>,
    /// The service, or `dmesg` for a kernel record.
    pub source: &'a str,
    /// 1-based line number in the input.
    pub line: u64,
    /// Byte offset of the line's start in the input.
    pub offset: u64,
    /// The line's text after the node label, ANSI colour stripped.
    pub text: &'a str,
    /// Why the line is an error.
    pub marker: Marker,
    /// The allow-list rule that explains it; `None` when nothing does (the line is flagged).
    pub allowed_by: Option<&'a AllowRule>,
}

/// Receives findings as they are found.
pub trait Sink {
    /// Takes one finding; `Ok(false)` stops the scan cleanly.
    ///
    /// # Errors
    /// Whatever the sink fails on (writing a report); the scan stops with [`Error::Sink`].
    fn finding(&mut self, finding: &Finding<'_>) -> std::io::Result<bool>;
}

/// Counts of one scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines with an error marker no rule explains.
    pub flagged: u64,
    /// Lines with an error marker explained by the allow-list.
    pub allowed: u64,
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
    /// The sink failed.
    #[error("cannot report the findings of {input}")]
    Sink {
        /// The input's name.
        input: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self { max_line_bytes: 1 << 20, buffer_bytes: 64 << 10, every_line_candidate: false }
    }
}

impl<'a> Input<'a> {
    /// An input named `name` whose lines come from `source`.
    #[must_use]
    pub fn new(name: &'a str, source: &'a str) -> Self {
        Self { name, source }
    }
}

impl Scanner {
    /// A scanner with the default [`ScanConfig`] and `allow` as its allow-list.
    ///
    /// # Errors
    /// [`Error::Rule`] when a rule is not a regular expression.
    pub fn new(allow: &[AllowRule]) -> Result<Self, Error> {
        Self::with_config(allow, ScanConfig::default())
    }

    /// A scanner with `config`.
    ///
    /// # Errors
    /// As [`Scanner::new`].
    pub fn with_config(allow: &[AllowRule], config: ScanConfig) -> Result<Self, Error> {
        // Leftmost-first semantics let aho-corasick use its SIMD (Teddy) searcher; the standard
        // semantics would step the automaton over every byte.
        let keywords =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostFirst).build(markers::KEYWORDS).expect("the marker keywords build an automaton");
        Ok(Self { allow: AllowList::new(allow)?, keywords, config })
    }

    /// The verdict on one line, as `talosctl` prints it (node label and colour included).
    #[must_use]
    pub fn verdict(&self, line: &str) -> Verdict<'_> {
        let (_, text) = split_node(line);
        self.judge_text(&markers::strip_ansi(text))
    }

    fn judge_text(&self, text: &str) -> Verdict<'_> {
        let Some(marker) = markers::classify(text) else { return Verdict::Clean };
        match self.allow.first_match(text) {
            Some(rule) => Verdict::Allowed { rule, marker },
            None => Verdict::Flagged(marker),
        }
    }

    /// Scans everything `reader` yields, pushing each finding to `sink` as it is found.
    ///
    /// # Errors
    /// [`Error::Read`], [`Error::LineTooLong`] (the scan stops at that line) and [`Error::Sink`].
    pub fn scan_reader<S: Sink + ?Sized>(&self, reader: impl Read, input: &Input<'_>, sink: &mut S) -> Result<Summary, Error> {
        search::scan(self, reader, input, sink)
    }

    /// A scan fed one line at a time (a `talosctl logs` callback, say), numbering lines from 1.
    #[must_use]
    pub fn lines<'s>(&'s self, input: Input<'s>) -> LineScan<'s> {
        LineScan { scanner: self, input, summary: Summary::default() }
    }

    /// Judges one candidate line and reports it if it is a finding. Returns the sink's wish to go on.
    fn judge<S: Sink + ?Sized>(
        &self,
        bytes: &[u8],
        line: u64,
        offset: u64,
        input: &Input<'_>,
        summary: &mut Summary,
        sink: &mut S,
    ) -> Result<bool, Error> {
        // Valid UTF-8 (nearly always) is borrowed; lossy conversion is the slow path.
        let raw = std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), std::borrow::Cow::Borrowed);
        let (node, text) = split_node(raw.trim_end_matches('\r'));
        let text = markers::strip_ansi(text);
        let (marker, allowed_by) = match self.judge_text(&text) {
            Verdict::Clean => return Ok(true),
            Verdict::Allowed { rule, marker } => {
                summary.allowed += 1;
                (marker, Some(rule))
            }
            Verdict::Flagged(marker) => {
                summary.flagged += 1;
                (marker, None)
            }
        };
        let source = if DmesgRecord::parse(&text).is_some() { "dmesg" } else { input.source };
        let finding = Finding { node, source, line, offset, text: &text, marker, allowed_by };
        sink.finding(&finding).map_err(|source| Error::Sink { input: input.name.to_owned(), source })
    }
}

impl PartialEq for Verdict<'_> {
    /// Two verdicts are equal when they name the same marker and the very same rule.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Clean, Self::Clean) => true,
            (Self::Allowed { rule: a, marker: m }, Self::Allowed { rule: b, marker: n }) => std::ptr::eq(*a, *b) && m == n,
            (Self::Flagged(m), Self::Flagged(n)) => m == n,
            _ => false,
        }
    }
}

impl Eq for Verdict<'_> {}

/// A scan fed line by line; see [`Scanner::lines`].
#[derive(Debug)]
pub struct LineScan<'s> {
    scanner: &'s Scanner,
    input: Input<'s>,
    summary: Summary,
}

impl LineScan<'_> {
    /// Scans one line (without its newline). Returns the sink's wish to go on.
    ///
    /// # Errors
    /// [`Error::LineTooLong`] and [`Error::Sink`].
    pub fn push<S: Sink + ?Sized>(&mut self, line: &str, sink: &mut S) -> Result<bool, Error> {
        let (offset, number) = (self.summary.bytes, self.summary.lines + 1);
        self.summary.lines = number;
        self.summary.bytes += line.len() as u64 + 1;
        let limit = self.scanner.config.max_line_bytes;
        if line.len() > limit {
            let mut head = line.len().min(256);
            while !line.is_char_boundary(head) {
                head -= 1;
            }
            let node = split_node(&line[..head]).0.unwrap_or("-").to_owned();
            return Err(Error::LineTooLong { input: self.input.name.to_owned(), node, line: number, offset, limit });
        }
        let candidate =
            self.scanner.config.every_line_candidate || memchr::memchr(0x1b, line.as_bytes()).is_some() || self.scanner.keywords.is_match(line) || {
                let b = line.as_bytes();
                b.len() > 1 && matches!(b[0], b'E' | b'F') && matches!(b[1], b'0' | b'1')
            };
        if !candidate {
            return Ok(true);
        }
        self.scanner.judge(line.as_bytes(), number, offset, &self.input, &mut self.summary, sink)
    }

    /// The counts so far.
    #[must_use]
    pub fn summary(&self) -> Summary {
        self.summary
    }
}

/// A finding that owns its data, to keep past the scan (reports, evidence, tests).
#[derive(Debug, Clone)]
pub struct OwnedFinding {
    /// The node label, or `None`.
    pub node: Option<String>,
    /// The service, or `dmesg`.
    pub source: String,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// The line's text after the node label, ANSI colour stripped.
    pub text: String,
    /// The error marker.
    pub marker: Marker,
    /// The allow-list rule that explains it, if any.
    pub allowed_by: Option<AllowRule>,
}

impl Finding<'_> {
    /// A copy that owns its data.
    #[must_use]
    pub fn to_owned_finding(&self) -> OwnedFinding {
        OwnedFinding {
            node: self.node.map(str::to_owned),
            source: self.source.to_owned(),
            line: self.line,
            offset: self.offset,
            text: self.text.to_owned(),
            marker: self.marker,
            allowed_by: self.allowed_by.cloned(),
        }
    }
}

impl OwnedFinding {
    /// True when no allow-list rule explains it.
    #[must_use]
    pub fn is_flagged(&self) -> bool {
        self.allowed_by.is_none()
    }
}

impl std::fmt::Display for OwnedFinding {
    /// `10.5.0.3: dmesg:3: <text> (kernel priority err)`, the culprit as failure messages name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}:{}: {} ({})", self.node.as_deref().unwrap_or("-"), self.source, self.line, self.text, self.marker)
    }
}

/// Collects every finding.
impl Sink for Vec<OwnedFinding> {
    fn finding(&mut self, finding: &Finding<'_>) -> std::io::Result<bool> {
        self.push(finding.to_owned_finding());
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
