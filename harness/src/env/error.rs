//! Errors of env.yaml loading: every problem of the file at once, each with its line and column.

use std::fmt;
use std::path::PathBuf;

/// An env.yaml that cannot be used. Holds every problem found, in file order.
#[derive(Debug, Clone, thiserror::Error)]
pub struct EnvConfigError {
    /// The env.yaml.
    pub path: PathBuf,
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for EnvConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.path.display(), problem.line, problem.column, problem.kind)?;
        }
        Ok(())
    }
}

/// One problem at one place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (0 when the problem concerns the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with one place in an env.yaml.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    /// Not YAML, or not of the expected shape (wrong type, missing field, unknown key).
    #[error("{0}")]
    Invalid(String),
    /// `${NAME}` with `NAME` unset.
    #[error("environment variable {name} is not set (used by `{key}`)")]
    MissingVariable {
        /// The variable.
        name: String,
        /// The key whose value uses it.
        key: String,
    },
    /// A value that parses but makes no sense (bad duration, bad pattern, budgets that do not fit).
    #[error("`{key}`: {message}")]
    BadValue {
        /// The key.
        key: String,
        /// What was expected.
        message: String,
    },
}
