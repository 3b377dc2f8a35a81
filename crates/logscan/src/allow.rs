//! Allow-lists: reviewed patterns of benign error lines, each with its reason. The shared list
//! built into the harness ([`crate::shared`]) explains the noise of every healthy Talos boot; an
//! environment's `talos-logs.allow` adds its own.
//!
//! A rule reads the record's message text (see [`crate::record`]: the text after `[talos] `, a
//! kernel message with its escapes decoded, otherwise the line after its node label, colour
//! removed). A [`RuleWindow::Bootstrap`] rule explains a line only inside the bootstrap window.
//! Rules are tried only on error lines, first rule of the list first. A keyword prefilter picks
//! the rules that can match: each rule's required literals (every match starts, or ends, with one
//! of them) go into one Aho-Corasick automaton, and a rule with no usable literal is always tried.
//! Each candidate is then confirmed by its full regular expression, so the prefilter can only save
//! work, never change a verdict.

use std::path::PathBuf;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};

/// One reviewed allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// A regular expression matched against the record's message text.
    pub pattern: String,
    /// Why this line is benign; shown when a line is allowed.
    pub reason: String,
    /// Where the rule is written, for messages (`A05`, `env.yaml:42`).
    pub origin: Origin,
    /// When it explains a line.
    pub window: RuleWindow,
}

/// Where a rule is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The shared list built into the harness, by rule id (`A05`).
    Shared(&'static str),
    /// A place in a configuration file.
    File {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
    },
}

/// When a rule explains a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuleWindow {
    /// Wherever the line is.
    #[default]
    Always,
    /// Only inside the bootstrap window: after it, the same line is an error.
    Bootstrap,
}

impl std::fmt::Display for Origin {
    /// `shared allow-list A05`, or `env.yaml:42`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Shared(id) => write!(f, "shared allow-list {id}"),
            Self::File { file, line } => write!(f, "{}:{line}", file.display()),
        }
    }
}

/// The compiled allow-list.
#[derive(Debug, Clone)]
pub struct AllowList {
    rules: Vec<(AllowRule, Regex)>,
    /// Keyword automaton; pattern `i` belongs to rule `owner[i]`.
    keywords: Option<AhoCorasick>,
    owner: Vec<usize>,
    /// Rules without keywords: tried on every flagged line.
    always: Vec<usize>,
}

/// A rule whose pattern is not a regular expression (env.yaml loading normally catches this).
#[derive(Debug, thiserror::Error)]
#[error("{origin}: allow-list pattern {pattern:?} is not a regular expression")]
pub struct RuleError {
    /// Where the rule is written.
    pub origin: Origin,
    /// The pattern.
    pub pattern: String,
    /// Why.
    #[source]
    pub source: regex::Error,
}

impl AllowList {
    /// Compiles `rules`.
    ///
    /// # Errors
    /// [`RuleError`] naming the first rule that is not a regular expression.
    pub fn new(rules: &[AllowRule]) -> Result<Self, RuleError> {
        Ok(Self::assemble(rules.iter().map(Compiled::new).collect::<Result<_, _>>()?))
    }

    /// The list of the rules compiled already (the shared list is split by marker from one
    /// compilation).
    pub(crate) fn assemble(rules: Vec<Compiled>) -> Self {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut always = Vec::new();
        let mut compiled = Vec::with_capacity(rules.len());
        for (i, rule) in rules.into_iter().enumerate() {
            match rule.literals {
                Some(words) => {
                    owner.extend(std::iter::repeat_n(i, words.len()));
                    literals.extend(words);
                }
                None => always.push(i),
            }
            compiled.push((rule.rule, rule.regex));
        }
        let keywords = (!literals.is_empty())
            .then(|| AhoCorasick::builder().kind(Some(AhoCorasickKind::DFA)).build(&literals).expect("literal keywords always build an automaton"));
        tracing::trace!(rules = compiled.len(), keywords = literals.len(), always = always.len(), "allow-list compiled");
        Self { rules: compiled, keywords, owner, always }
    }

    /// True when the list has no rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in order.
    pub fn rules(&self) -> impl Iterator<Item = &AllowRule> {
        self.rules.iter().map(|(rule, _)| rule)
    }

    /// The first rule (in list order) that matches `text`; `in_window` tells whether the line
    /// is inside the bootstrap window, where [`RuleWindow::Bootstrap`] rules apply.
    #[must_use]
    pub fn first_match(&self, text: &str, in_window: bool) -> Option<&AllowRule> {
        if self.rules.is_empty() {
            return None;
        }
        let applies = |i: usize| {
            let (rule, regex) = &self.rules[i];
            ((in_window || rule.window == RuleWindow::Always) && regex.is_match(text)).then_some(rule)
        };
        // Short lists (the shared one, most environments') track candidates in a bit set; the
        // rule order is the bit order.
        if self.rules.len() <= 64 {
            let mut candidates = self.always.iter().fold(0u64, |set, i| set | 1 << i);
            if let Some(keywords) = &self.keywords {
                for m in keywords.find_overlapping_iter(text) {
                    candidates |= 1 << self.owner[m.pattern().as_usize()];
                }
            }
            while candidates != 0 {
                let i = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if let Some(rule) = applies(i) {
                    return Some(rule);
                }
            }
            return None;
        }
        let mut candidates = self.always.clone();
        if let Some(keywords) = &self.keywords {
            candidates.extend(keywords.find_overlapping_iter(text).map(|m| self.owner[m.pattern().as_usize()]));
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find_map(applies)
    }

    /// The first rule that matches `text`, trying every rule: what the prefilter must agree with.
    #[cfg(test)]
    pub(crate) fn first_match_unfiltered(&self, text: &str) -> Option<&AllowRule> {
        self.rules.iter().find(|(_, regex)| regex.is_match(text)).map(|(rule, _)| rule)
    }
}

/// One rule, compiled: its regular expression and the literals that prefilter it.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    rule: AllowRule,
    regex: Regex,
    literals: Option<Vec<Vec<u8>>>,
}

impl Compiled {
    pub(crate) fn new(rule: &AllowRule) -> Result<Self, RuleError> {
        let regex = Regex::new(&rule.pattern).map_err(|source| RuleError { origin: rule.origin.clone(), pattern: rule.pattern.clone(), source })?;
        Ok(Self { rule: rule.clone(), regex, literals: required_literals(&rule.pattern) })
    }
}

/// Literals one of which every match of `pattern` contains (its possible prefixes, else its
/// possible suffixes); `None` when no such finite, non-empty set is known.
fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    [ExtractKind::Prefix, ExtractKind::Suffix].into_iter().find_map(|kind| usable(Extractor::new().kind(kind).extract(&hir)))
}

fn usable(seq: Seq) -> Option<Vec<Vec<u8>>> {
    let literals = seq.literals()?;
    let all_non_empty = !literals.is_empty() && literals.iter().all(|l| !l.as_bytes().is_empty());
    all_non_empty.then(|| literals.iter().map(|l| l.as_bytes().to_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(line: usize, pattern: &str) -> AllowRule {
        AllowRule {
            pattern: pattern.into(),
            reason: format!("reason {line}"),
            origin: Origin::File { file: "env.yaml".into(), line },
            window: RuleWindow::Always,
        }
    }

    fn line(rule: &AllowRule) -> usize {
        match rule.origin {
            Origin::File { line, .. } => line,
            Origin::Shared(_) => 0,
        }
    }

    #[test]
    fn the_first_matching_rule_in_file_order_wins() {
        let list = AllowList::new(&[rule(10, "iscsid"), rule(11, "ext-iscsid.*session")]).unwrap();
        let hit = list.first_match("ext-iscsid: session 3 error", false).unwrap();
        assert_eq!(line(hit), 10);
        assert!(list.first_match("kubelet error", false).is_none());
    }

    #[test]
    fn rules_without_literals_are_always_tried() {
        let list = AllowList::new(&[rule(1, r".*"), rule(2, r"(?i)e+rror")]).unwrap();
        assert_eq!(list.always, [0]);
        assert_eq!(line(list.first_match("anything", false).unwrap()), 1);
    }

    #[test]
    fn literals_come_from_prefixes_or_else_suffixes() {
        assert_eq!(required_literals("iscsi.*session"), Some(vec![b"iscsi".to_vec()]));
        assert_eq!(required_literals(".*timeout$"), Some(vec![b"timeout".to_vec()]));
        assert_eq!(required_literals("a|bc"), Some(vec![b"a".to_vec(), b"bc".to_vec()]));
        assert_eq!(required_literals(".*"), None);
        assert_eq!(required_literals("x*"), None, "an empty match needs no literal");
    }

    #[test]
    fn the_keyword_prefilter_agrees_with_trying_every_rule() {
        let rules = [
            rule(1, "^kern: +err: .*I/O error, dev vdb"),
            rule(2, "(?i)ISCSI"),
            rule(3, r"\d+ errors? occurred"),
            rule(4, "level=error msg=\"[^\"]*not found"),
            rule(5, r"(?:apid|trustd).*connection (refused|reset)"),
        ];
        let list = AllowList::new(&rules).unwrap();
        for text in [
            "kern:     err: [t]: blk_update_request: I/O error, dev vdb, sector 0",
            "kern:     err: [t]: blk_update_request: I/O error, dev vda, sector 0",
            "iscsid: connection1:0: detected conn error (1020)",
            "2 errors occurred",
            r#"time="x" level=error msg="image not found""#,
            "apid: connection reset by peer",
            "trustd connection refused",
            "nothing to see",
        ] {
            assert_eq!(list.first_match(text, true).map(line), list.first_match_unfiltered(text).map(line), "{text}");
        }
    }

    #[test]
    fn a_bootstrap_rule_explains_only_inside_the_window() {
        let bootstrap = AllowRule { window: RuleWindow::Bootstrap, ..rule(3, "connection refused") };
        let list = AllowList::new(&[bootstrap]).unwrap();
        assert!(list.first_match("dial tcp: connection refused", true).is_some());
        assert!(list.first_match("dial tcp: connection refused", false).is_none());
    }

    #[test]
    fn a_bad_pattern_names_its_place() {
        let err = AllowList::new(&[rule(42, "(unclosed")]).unwrap_err();
        assert_eq!(err.to_string(), "env.yaml:42: allow-list pattern \"(unclosed\" is not a regular expression");
    }
}
