//! `.config/commands.yaml`: the operation patterns that need no entry in `docs/commands.md`, each
//! with the reason, and where else to look for shell scripts.
//!
//! ```yaml
//! ignore:
//!   - pattern: cargo build -p *
//!     reason: building the harness is development, not operating the homelab
//! scripts: [".ci/run"]           # shell scripts beyond scripts/** and *.sh
//! exclude: ["tests/fixtures/**"] # files never read
//! ```
//!
//! Unknown keys, an ignore without a reason, an empty or repeated pattern and a bad glob are
//! errors, every one reported with its line and column. A repository without the file ignores
//! nothing.

use std::path::{Path, PathBuf};

use globset::{GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::pattern::Pattern;
use super::sources::glob;
use crate::adr::config::yaml_message;

/// Where the configuration lives, relative to the repository root.
pub const CONFIG_PATH: &str = ".config/commands.yaml";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    ignore: Vec<IgnoreFile>,
    #[serde(default)]
    scripts: Vec<Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreFile {
    pattern: Spanned<String>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, when there is one.
    pub source: Option<PathBuf>,
    /// The patterns that need no entry.
    pub ignore: Vec<Ignore>,
    /// More shell scripts to read (globs over repository paths).
    pub scripts: GlobSet,
    /// Files never read.
    pub exclude: GlobSet,
}

impl Default for Config {
    fn default() -> Self {
        Self { source: None, ignore: Vec::new(), scripts: GlobSet::empty(), exclude: GlobSet::empty() }
    }
}

/// A pattern that needs no entry, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The pattern (`*` stands for any value).
    pub pattern: Pattern,
    /// Why it needs no entry.
    pub reason: String,
    /// Its line in the configuration.
    pub line: usize,
}

/// A configuration that cannot be used: every problem in it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} is not a usable commands configuration: {}", path.display(), problems.join("; "))]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Each problem as `line:column: message`, in file order.
    pub problems: Vec<String>,
}

impl ConfigError {
    /// Each problem as `file:line:column: message`.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(|p| format!("{}:{p}", self.path.display())).collect()
    }
}

impl Config {
    /// Loads `repo`'s [`CONFIG_PATH`], or the defaults when there is none.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem of the file.
    pub fn for_repo(repo: &Path) -> Result<Self, ConfigError> {
        let path = if repo == Path::new(".") { PathBuf::from(CONFIG_PATH) } else { repo.join(CONFIG_PATH) };
        if !path.exists() {
            return Ok(Self::default());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError { path: path.clone(), problems: vec![format!("0:0: cannot read the file: {e}")] })?;
        Self::parse(&path, &text)
    }

    /// Parses configuration text; `path` names it in messages.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem, each with its line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let error = |problems| ConfigError { path: path.to_owned(), problems };
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                error(vec![format!("{line}:{column}: {}", yaml_message(&e))])
            })?
        };
        let mut problems = Vec::new();
        let mut ignore: Vec<Ignore> = Vec::new();
        for entry in file.ignore {
            let at = entry.pattern.referenced;
            let pattern = match Pattern::parse(&entry.pattern.value) {
                Ok(pattern) => pattern,
                Err(message) => {
                    problems.push(problem(&at, &format!("`ignore`: {message}")));
                    continue;
                }
            };
            let reason = entry.reason.as_ref().map(|r| r.value.trim().to_owned()).unwrap_or_default();
            if reason.is_empty() {
                let at = entry.reason.as_ref().map_or(at, |r| r.referenced);
                problems
                    .push(problem(&at, &format!("`ignore`: `{pattern}` has no reason: say why it needs no entry in docs/commands.md (`reason: …`)")));
            }
            if let Some(first) = ignore.iter().find(|i| i.pattern == pattern) {
                problems.push(problem(&at, &format!("`ignore`: `{pattern}` is already ignored on line {}: keep one", first.line)));
                continue;
            }
            ignore.push(Ignore { pattern, reason, line: at.line() as usize });
        }
        let scripts = globs("scripts", &file.scripts, &mut problems);
        let exclude = globs("exclude", &file.exclude, &mut problems);
        if problems.is_empty() { Ok(Self { source: Some(path.to_owned()), ignore, scripts, exclude }) } else { Err(error(problems)) }
    }
}

fn problem(at: &Location, message: &str) -> String {
    format!("{}:{}: {message}", at.line(), at.column())
}

fn globs(key: &str, texts: &[Spanned<String>], problems: &mut Vec<String>) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for text in texts {
        match glob(&text.value) {
            Ok(glob) => {
                builder.add(glob);
            }
            Err(e) => problems.push(problem(&text.referenced, &format!("`{key}`: bad glob `{}`: {}", text.value, e.kind()))),
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(".config/commands.yaml"), text)
    }

    #[test]
    fn ignores_scripts_and_exclusions_are_read() {
        let config =
            parse("ignore:\n  - pattern: cargo   build -p *\n    reason: development\nscripts: [.ci/run]\nexclude: [\"tests/**\"]\n").unwrap();
        assert_eq!(config.ignore, vec![Ignore { pattern: Pattern::parse("cargo build -p *").unwrap(), reason: "development".into(), line: 2 }]);
        assert!(config.scripts.is_match(".ci/run"));
        assert!(config.exclude.is_match("tests/fixtures/a.sh"));
        assert!(parse("").unwrap().ignore.is_empty());
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let err = parse(
            "ignore:\n  - pattern: terraform apply\n  - pattern: kubectl get pod\n    reason: \"\"\n  - pattern: \" \"\n    reason: x\n\
             \x20 - pattern: kubectl get pod\n    reason: again\nexclude: [\"a/{b\"]\n",
        )
        .unwrap_err();
        let lines = err.lines();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert_eq!(
            lines[0],
            ".config/commands.yaml:2:14: `ignore`: `terraform apply` has no reason: say why it needs no entry in docs/commands.md (`reason: …`)"
        );
        assert!(lines[1].starts_with(".config/commands.yaml:4:13: `ignore`: `kubectl get pod` has no reason"), "{}", lines[1]);
        assert!(lines[2].starts_with(".config/commands.yaml:5:14: `ignore`: an empty pattern"), "{}", lines[2]);
        assert_eq!(lines[3], ".config/commands.yaml:7:14: `ignore`: `kubectl get pod` is already ignored on line 3: keep one");
        assert!(lines[4].starts_with(".config/commands.yaml:9:11: `exclude`: bad glob `a/{b`"), "{}", lines[4]);
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = parse("ignores:\n  - pattern: x\n").unwrap_err();
        assert!(err.lines()[0].starts_with(".config/commands.yaml:1:1:") && err.lines()[0].contains("ignores"), "{:?}", err.lines());
        let err = parse("ignore:\n  - pattern: x\n    reasn: y\n").unwrap_err();
        assert!(err.lines()[0].starts_with(".config/commands.yaml:3:5:") && err.lines()[0].contains("reasn"), "{:?}", err.lines());
    }
}
