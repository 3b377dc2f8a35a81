//! The keyword prefilter: lines without one of [`KEYWORDS`] or a klog `E`/`F` head cannot be
//! errors and are never parsed.
//!
//! Every known failure's keywords contain one of these (a test holds the table to it), and every
//! marker needs one: a kernel priority word, error/failed/failure in one of their written forms,
//! a level word, `etcd is waiting to join`, a klog head, or a klog JSON entry. So the prefilter
//! only saves work, never changes a verdict; the "every line a candidate" tests prove it on the
//! corpus. The keywords are few and specific enough for aho-corasick's packed (Teddy) searcher,
//! which scans whole buffers at a few GB/s; more keywords would push it onto its slow path.

use aho_corasick::packed::{Config, FindIter, MatchKind, Searcher};

/// The literals one of which any line with a verdict holds. At most 32 of them, so that the
/// packed searcher can use its fastest (slim, 32 bytes a step) form. They are looked for in the line as
/// written, colour included: zap's colour codes wrap its level word and never split a word.
pub const KEYWORDS: &[&str] = &[
    // Kernel priorities: `%7s` right-aligns them after `<facility>: `, so a space always precedes.
    " emerg: ",
    " alert: ",
    " crit: ",
    " err: ",
    // error, failed, failure as Go code writes them; the level words.
    "rror",
    "ERROR",
    "ailed",
    "ailure",
    "PANIC",
    "FATAL",
    "panic",
    "fatal",
    "etcd is waiting to join",
    // klog JSON (an Error entry is one without "v").
    "{\"ts\":",
    // Known failures whose wording holds none of the above.
    "Killed process",
    "oom-kill",
    "rejecting I/O",
    "session recovery timed out",
    "EXT4-fs (",
    "Aborting journal",
    "XFS (",
    "x509: ",
    "tls: ",
    "unreachable",
    "no route to host",
    "quorum",
    "leader",
    "new election",
    "ImagePull",
    "iscsid: ",
];

/// klog severities `E` and `F` (months 01 to 12) at a line start or after a node label. They are
/// searched apart: three-byte keywords would make the search for [`KEYWORDS`] use shorter
/// fingerprints and verify far more false hits.
pub const KLOG_HEADS: &[&str] = &["\nE0", "\nE1", "\nF0", "\nF1", ": E0", ": E1", ": F0", ": F1"];

/// The compiled prefilter.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    words: Searcher,
    heads: Searcher,
    /// Both, for one line at a time: one search of a short line costs less than two.
    all: Searcher,
}

impl Prefilter {
    pub(crate) fn new() -> Self {
        let all: Vec<&str> = KEYWORDS.iter().chain(KLOG_HEADS).copied().collect();
        Self { words: searcher(KEYWORDS), heads: searcher(KLOG_HEADS), all: searcher(&all) }
    }

    /// Every keyword in `haystack`, left to right.
    pub(crate) fn words<'s, 'h>(&'s self, haystack: &'h [u8]) -> FindIter<'s, 'h> {
        self.words.find_iter(haystack)
    }

    /// Every klog error head in `haystack` after a newline or a label, left to right.
    pub(crate) fn heads<'s, 'h>(&'s self, haystack: &'h [u8]) -> FindIter<'s, 'h> {
        self.heads.find_iter(haystack)
    }

    /// True when `line` (one line, without its newline) may have a verdict.
    pub(crate) fn is_candidate(&self, line: &[u8]) -> bool {
        klog_error_head(line) || self.all.find(line).is_some()
    }
}

/// A packed (Teddy) searcher for `keywords`: leftmost-first, since the first keyword of a line is
/// enough, and kept on Teddy even past its default pattern-count heuristics.
fn searcher(keywords: &[&str]) -> Searcher {
    let mut config = Config::new();
    config.match_kind(MatchKind::LeftmostFirst).heuristic_pattern_limits(false);
    let mut builder = config.builder();
    builder.extend(keywords);
    builder.build().expect("the prefilter keywords build a packed searcher")
}

/// A klog `E` or `F` head at the very start of a line (the keywords see it after a newline or a
/// node label only).
pub(crate) fn klog_error_head(line: &[u8]) -> bool {
    line.len() > 1 && matches!(line[0], b'E' | b'F') && matches!(line[1], b'0' | b'1')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failures::FAILURES;

    #[test]
    fn every_known_failure_keyword_holds_a_prefilter_keyword() {
        for failure in FAILURES {
            for keyword in failure.keywords {
                assert!(KEYWORDS.iter().any(|k| keyword.contains(k)), "{}: {keyword:?} holds no prefilter keyword", failure.id);
            }
        }
    }

    #[test]
    fn keywords_are_long_enough_for_teddy_s_four_byte_fingerprints() {
        assert!(KEYWORDS.iter().all(|k| k.len() >= 4), "{KEYWORDS:?}");
        assert!(KEYWORDS.len() <= 32, "{} keywords: more would make Teddy take its slower fat form", KEYWORDS.len());
    }

    #[test]
    fn a_line_is_a_candidate_by_keyword_or_klog_head() {
        let prefilter = Prefilter::new();
        assert!(prefilter.is_candidate(b"E0821 10:00:00.1 1 x.go:1] boom"));
        assert!(prefilter.is_candidate(b"2026-08-21T10:00:09.500Z \x1b[31mERROR\x1b[0m x"));
        assert!(!prefilter.is_candidate(b"2026-08-21T10:00:09.500Z \x1b[34mINFO\x1b[0m x"));
        assert!(prefilter.is_candidate(b"service[etcd](Waiting): Error running Containerd(etcd)"));
        assert!(!prefilter.is_candidate(b"I0821 10:00:00.1 1 x.go:1] \"SyncLoop ADD\""));
    }
}
