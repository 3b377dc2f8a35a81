//! Errors of env.yaml loading: every problem of the file at once, each a miette [`Diagnostic`]
//! with the file as its source and a labelled span on the offending key or value.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode, SourceSpan};

use crate::yaml::At;

/// An env.yaml that cannot be used. Holds every problem found, in file order.
///
/// `Display` gives one headline and one `file:line:col: message` line per problem, so that the
/// plain text (a failing test's message, a log line) is complete on its own;
/// [`EnvConfigError::to_diagnostic`] gives the miette diagnostic, where each problem also shows
/// its snippet with the offending place labelled.
#[derive(Debug, Clone, thiserror::Error)]
pub struct EnvConfigError {
    /// The env.yaml.
    pub path: PathBuf,
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl EnvConfigError {
    /// The names of the environment variables the file uses but that are not set, sorted, each
    /// once: what a machine must export before this environment can be used.
    #[must_use]
    pub fn missing_variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .problems
            .iter()
            .filter_map(|p| match &p.kind {
                ProblemKind::MissingVariable { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

impl EnvConfigError {
    /// This error as a miette diagnostic for people: one headline (with the variables to export,
    /// if any), then each problem with its snippet and labelled span. `vixens` renders it with
    /// `miette::Report::new(error.to_diagnostic())`.
    #[must_use]
    pub fn to_diagnostic(&self) -> ConfigDiagnostic {
        ConfigDiagnostic(self.clone())
    }

    fn headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{} is not a usable environment: {n} problem{}", self.path.display(), if n == 1 { "" } else { "s" })?;
        let missing = self.missing_variables();
        if !missing.is_empty() {
            write!(f, "\nenvironment variables not set: {}", missing.join(", "))?;
        }
        Ok(())
    }
}

/// The plain text: the headline, then one `file:line:col: message` line per problem, so that it
/// is complete on its own (a failing test's message, a log line).
impl fmt::Display for EnvConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.headline(f)?;
        for problem in &self.problems {
            write!(f, "\n  {}:{}:{}: {problem}", self.path.display(), problem.line, problem.column)?;
        }
        Ok(())
    }
}

/// The problems of one env.yaml as they are found, by both stages of loading: each tied to its
/// place in the file, sorted into file order when they become an [`EnvConfigError`].
#[derive(Debug, Clone)]
pub struct Problems {
    path: PathBuf,
    source: NamedSource<Arc<str>>,
    problems: Vec<Problem>,
}

impl Problems {
    /// No problem yet in the file at `path`, whose text is `text`.
    #[must_use]
    pub fn new(path: &Path, text: Arc<str>) -> Self {
        Self { path: path.to_owned(), source: NamedSource::new(path.display().to_string(), text), problems: Vec::new() }
    }

    /// Records `kind` at `at`.
    pub fn report(&mut self, at: At, kind: ProblemKind) {
        self.problems.push(Problem { line: at.line, column: at.column, span: (at.offset, at.len).into(), kind, source: self.source.clone() });
    }

    /// The file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text.
    #[must_use]
    pub fn text(&self) -> &str {
        self.source.inner()
    }

    /// The problems recorded so far, in the order they were found.
    #[must_use]
    pub fn found(&self) -> &[Problem] {
        &self.problems
    }

    /// True when nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty()
    }

    /// Every problem, in file order.
    #[must_use]
    pub fn into_error(mut self) -> EnvConfigError {
        self.problems.sort_by_key(|p| (p.line, p.column));
        EnvConfigError { path: self.path, problems: self.problems }
    }
}

/// An [`EnvConfigError`] rendered for people: see [`EnvConfigError::to_diagnostic`].
#[derive(Debug, Clone)]
pub struct ConfigDiagnostic(EnvConfigError);

impl fmt::Display for ConfigDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.headline(f)
    }
}

impl std::error::Error for ConfigDiagnostic {}

impl Diagnostic for ConfigDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("vixens::env"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let missing = self.0.missing_variables();
        (!missing.is_empty())
            .then(|| Box::new(format!("export {} (README: \"Pointing it at a real homelab\")", missing.join(", "))) as Box<dyn fmt::Display>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.0.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

/// One problem at one place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (1 when the problem concerns the whole file).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The bytes of the file the problem points at.
    pub span: SourceSpan,
    /// What is wrong.
    pub kind: ProblemKind,
    /// The file's name and text, for rendering.
    pub source: NamedSource<Arc<str>>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(self.kind.label()), self.span))))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match &self.kind {
            ProblemKind::UnknownKey { suggestion: Some(s), .. } => Some(Box::new(format!("did you mean `{s}`?"))),
            _ => None,
        }
    }
}

/// What is wrong with one place in an env.yaml. Every variant names the key (as a dotted path
/// such as `terraform.root` or `nodes[1].address`) and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// Not YAML.
    #[error("not valid YAML: {0}")]
    Syntax(String),
    /// A key this place does not know.
    #[error("unknown key `{key}`; expected one of: {}", .expected.join(", "))]
    UnknownKey {
        /// The key, with its path.
        key: String,
        /// The keys this mapping accepts.
        expected: Vec<&'static str>,
        /// The closest accepted key, when one is close.
        suggestion: Option<&'static str>,
    },
    /// A required key that is absent.
    #[error("missing key `{key}`: {expected}")]
    MissingKey {
        /// The key, with its path.
        key: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// A value of the wrong type (a sequence where a string belongs, ...).
    #[error("`{key}`: expected {expected}, found {found}")]
    WrongType {
        /// The key, with its path.
        key: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: &'static str,
    },
    /// `${NAME}` with `NAME` unset.
    #[error("`{key}`: environment variable {name} is not set")]
    MissingVariable {
        /// The variable.
        name: String,
        /// The key whose value uses it.
        key: String,
    },
    /// A value of the right type that makes no sense (bad duration, bad pattern, a budget that
    /// does not fit its outer budget).
    #[error("`{key}`: {message}")]
    BadValue {
        /// The key, with its path.
        key: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl ProblemKind {
    /// The short text of the label under the offending place.
    #[must_use]
    pub fn label(&self) -> String {
        match self {
            Self::Unreadable(_) => "here".into(),
            Self::Syntax(m) => m.clone(),
            Self::UnknownKey { .. } => "unknown key".into(),
            Self::MissingKey { key, .. } => format!("`{}` is missing here", key.rsplit('.').next().unwrap_or(key)),
            Self::WrongType { expected, .. } => format!("expected {expected}"),
            Self::MissingVariable { name, .. } => format!("{name} is not set"),
            Self::BadValue { message, .. } => message.split("; ").next().unwrap_or(message).to_owned(),
        }
    }
}
