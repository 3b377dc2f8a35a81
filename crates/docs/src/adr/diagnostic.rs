//! What the ADR checks report: one [`Diagnostic`] per cause, naming its file, its line, the
//! [`Rule`] it breaks and that rule's [`Severity`], and the other places the same cause shows
//! ([`Diagnostic::also`]): five links written from the wrong root are one problem, not five.

use std::fmt;

use serde::Serialize;

/// How much a broken rule matters, set per rule in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported and makes `vixens adr lint` exit non-zero and the trial fail.
    Error,
    /// Reported only.
    Warning,
    /// Not reported at all.
    Off,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Off => "off",
        })
    }
}

/// Which trial reports a rule: the ADR's own trial or one of the repository-wide ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `adr::<file-stem>`: one ADR on its own.
    File,
    /// `adr::numbering`: file names, unique numbers, title numbers.
    Numbering,
    /// `adr::supersession`: Superseded ADRs, their successors and the chains between them.
    Supersession,
    /// `adr::index`: the index file against the ADRs.
    Index,
    /// `vixens adr check-change`: a diff against a base revision.
    Change,
}

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $variant:ident = $id:literal, $scope:ident, $severity:ident;)*) => {
        /// Every rule the ADR checks know, with its id (as written in the configuration and the
        /// output), its scope and its default severity.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(into = "&'static str")]
        pub enum Rule {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Rule {
            /// Every rule, in the order of this list.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The id used in the configuration and in the output (`broken-link`).
            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The trial that reports it.
            #[must_use]
            pub fn scope(self) -> Scope {
                match self { $(Rule::$variant => Scope::$scope,)* }
            }

            /// Its severity when the configuration says nothing.
            #[must_use]
            pub fn default_severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$severity,)* }
            }

            /// The rule with this id.
            #[must_use]
            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    /// The file is not valid UTF-8 (it is still checked, read with replacement characters).
    Encoding = "encoding", File, Error;
    /// The file cannot be read, or is too large to be an ADR.
    Unreadable = "unreadable", File, Error;
    /// The file has no content at all.
    Empty = "empty", File, Error;
    /// The YAML front matter does not parse.
    FrontMatter = "front-matter", File, Error;
    /// No `# Title` heading.
    Title = "title", File, Error;
    /// No status, an unknown status value, or statuses that contradict each other.
    Status = "status", File, Error;
    /// A Context, Decision or Consequences section is missing or empty.
    Section = "section", File, Error;
    /// The Consequences lack a positive or a negative part.
    Consequences = "consequences", File, Error;
    /// No reference to a specification.
    SpecReference = "spec-reference", File, Error;
    /// No reference to the implementation.
    ImplementationReference = "implementation-reference", File, Error;
    /// A relative link whose target does not exist (links of one file written from the
    /// repository root by mistake are one finding).
    BrokenLink = "broken-link", File, Error;
    /// A path mention naming a repository file that does not exist, and that its sentence does
    /// not say was removed or is still to be created.
    MissingPath = "missing-path", File, Error;
    /// A credential committed in the ADR (the shared rule of `vixens docs secrets`).
    Secrets = "secrets", File, Error;
    /// An ADR file whose name does not start with its number.
    FileName = "file-name", Numbering, Error;
    /// Two ADR files with the same number.
    DuplicateNumber = "duplicate-number", Numbering, Error;
    /// The number in the title differs from the file's number.
    TitleNumber = "title-number", Numbering, Error;
    /// A Superseded ADR names no successor, or one that does not exist.
    Successor = "successor", Supersession, Error;
    /// ADRs that supersede each other in a loop.
    SupersessionCycle = "supersession-cycle", Supersession, Error;
    /// A supersession chain that ends in an ADR that is not Accepted.
    SupersessionChain = "supersession-chain", Supersession, Error;
    /// The successor never mentions the old ADR that names it as its successor.
    SupersedesBacklink = "supersedes-backlink", Supersession, Warning;
    /// An ADR says it supersedes one (in a field, or a sentence, active or passive) that is
    /// missing or not marked Superseded by it.
    SupersedesTarget = "supersedes-target", Supersession, Error;
    /// An index misses ADRs (one finding per index), lists one that does not exist, or links to
    /// a file that does not exist.
    IndexEntry = "index-entry", Index, Error;
    /// An index gives an ADR a status other than its own (one finding per ADR, naming every
    /// index), or none.
    IndexStatus = "index-status", Index, Error;
    /// Architecture paths changed, beyond version bumps, with no ADR added or changed (one
    /// finding listing them).
    AdrRequired = "adr-required", Change, Error;
    /// An ADR turned Superseded in the change, without its successor.
    ChangeSuccessor = "change-successor", Change, Error;
}

impl From<Rule> for &'static str {
    fn from(rule: Rule) -> Self {
        rule.id()
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A place in the repository: a file and, when there is one, a line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// The file, relative to the repository, with `/` separators.
    pub file: String,
    /// The 1-based line.
    pub line: Option<usize>,
}

impl Location {
    /// `file:line`.
    #[must_use]
    pub fn at(file: &str, line: usize) -> Self {
        Self { file: file.to_owned(), line: Some(line) }
    }

    /// A whole file (a changed path in check-change).
    #[must_use]
    pub fn file(file: &str) -> Self {
        Self { file: file.to_owned(), line: None }
    }
}

/// `file:line`, or `file` alone.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        match self.line {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// One problem: where, which rule, how bad, what to do about it, and where else the same
/// cause shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file, relative to the repository, with `/` separators.
    pub file: String,
    /// The 1-based line, when the problem has one (a changed path in check-change has none).
    pub line: Option<usize>,
    /// The rule broken.
    pub rule: Rule,
    /// Its severity, from the configuration.
    pub severity: Severity,
    /// What is wrong, and what to write instead.
    pub message: String,
    /// The other places of the same cause (the other links of a file written from the wrong
    /// root, the other file with the same number, the same ADR's row in another index).
    pub also: Vec<Location>,
}

impl Diagnostic {
    /// True for errors.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `file:line: rule: message`; warnings say so before the message, and the other places of
/// the same cause follow it: `(also :15, :17, docs/adr/README.md:33)`, a line of the same file
/// written `:N`.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {}: ", self.rule)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)?;
        if !self.also.is_empty() {
            let places: Vec<String> = self
                .also
                .iter()
                .map(|l| match l.line {
                    Some(line) if l.file == self.file => format!(":{line}"),
                    _ => l.to_string(),
                })
                .collect();
            write!(f, " (also {})", places.join(", "))?;
        }
        Ok(())
    }
}

/// Collects diagnostics for one file, before severities are applied.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) found: Vec<Finding>,
}

/// A problem before the configuration gives it a severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) file: String,
    pub(crate) line: Option<usize>,
    pub(crate) rule: Rule,
    pub(crate) message: String,
    pub(crate) also: Vec<Location>,
}

impl Findings {
    pub(crate) fn push(&mut self, file: &str, line: usize, rule: Rule, message: impl Into<String>) {
        self.push_also(file, line, rule, message, Vec::new());
    }

    /// One finding for a cause that shows in several places: reported at `file:line`, listing
    /// the others.
    pub(crate) fn push_also(&mut self, file: &str, line: usize, rule: Rule, message: impl Into<String>, also: Vec<Location>) {
        self.found.push(Finding { file: file.to_owned(), line: Some(line), rule, message: message.into(), also });
    }

    pub(crate) fn push_unlined(&mut self, file: &str, rule: Rule, message: impl Into<String>, also: Vec<Location>) {
        self.found.push(Finding { file: file.to_owned(), line: None, rule, message: message.into(), also });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_id_reads_back() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        }
    }

    #[test]
    fn a_diagnostic_prints_as_file_line_rule_message() {
        let mut d = Diagnostic {
            file: "docs/adr/003-x.md".into(),
            line: Some(4),
            rule: Rule::Status,
            severity: Severity::Error,
            message: "unknown status `Living`".into(),
            also: Vec::new(),
        };
        assert_eq!(d.to_string(), "docs/adr/003-x.md:4: status: unknown status `Living`");
        d.severity = Severity::Warning;
        d.line = None;
        assert_eq!(d.to_string(), "docs/adr/003-x.md: status: warning: unknown status `Living`");
    }

    #[test]
    fn the_other_places_of_a_cause_follow_the_message() {
        let d = Diagnostic {
            file: "docs/adr/026-k.md".into(),
            line: Some(11),
            rule: Rule::BrokenLink,
            severity: Severity::Error,
            message: "3 links are written from the repository root".into(),
            also: vec![Location::at("docs/adr/026-k.md", 15), Location::at("docs/adr/README.md", 4), Location::file("x.tf")],
        };
        assert_eq!(
            d.to_string(),
            "docs/adr/026-k.md:11: broken-link: 3 links are written from the repository root (also :15, docs/adr/README.md:4, x.tf)"
        );
    }
}
