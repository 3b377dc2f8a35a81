//! The ADR rules' configuration, kept in the repository at `.config/adr.yaml` (next to
//! `.config/nextest.toml`): where the ADRs live, extra words, what counts as a spec or an
//! implementation reference, the architecture paths of `check-change`, and a severity per rule.
//!
//! Loaded in two stages, as env.yaml is: the serde shape (unknown keys are errors), then a
//! validated [`Config`]. Every problem of the file is collected, each with its line and column.
//! A repository without the file gets [`Config::default`].

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::diagnostic::{Rule, Severity};
use super::vocabulary::{ExtraWords, Half, SectionKind, Status, Vocabulary};

/// Where the configuration lives, relative to the repository root.
pub const CONFIG_PATH: &str = ".config/adr.yaml";

/// Where ADRs live when the configuration does not say.
pub const DEFAULT_DIRECTORY: &str = "docs/adr";

/// Files of the ADR folder that are not ADRs, when the configuration does not say.
const DEFAULT_IGNORE: &[&str] = &["*template*.md", "*TEMPLATE*.md"];

/// Index files, when the configuration does not say: each one present that lists ADRs is
/// checked against them. Files named like an index (`000-index.md`) are indexes too.
const DEFAULT_INDEX: &[&str] = &["README.md", "index.md", "INDEX.md"];

/// What `check-change` guards when the configuration does not say: the common GitOps layout
/// (Terraform modules and environments, Argo CD, the system apps, Flux-style folders). A
/// tfvars file holds one environment's values, and documentation is not architecture.
const DEFAULT_ARCHITECTURE: &[&str] = &[
    "terraform/modules/**",
    "terraform/environments/*/*.tf",
    "terraform/environments/*/.terraform.lock.hcl",
    "argocd/**",
    "apps/00-infra/**",
    "apps/01-storage/**",
    "apps/_shared/**",
    "clusters/**",
    "infrastructure/**",
];
const DEFAULT_ARCHITECTURE_EXCLUDE: &[&str] = &["**/*.md", "**/README*"];

/// Whether a change that only bumps versions needs an ADR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionBumps {
    /// No: an image tag, a digest or a chart version moving is not a decision.
    #[default]
    Pass,
    /// Only a major version bump needs one.
    MajorAdrRequired,
    /// Every change of an architecture path needs one.
    AdrRequired,
}

type S = Spanned<String>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    directory: Option<S>,
    #[serde(default)]
    ignore: Option<Vec<S>>,
    #[serde(default)]
    index: Option<Vec<S>>,
    #[serde(default)]
    statuses: BTreeMap<String, S>,
    #[serde(default)]
    sections: SectionsFile,
    #[serde(default)]
    consequences: HalvesFile,
    #[serde(default)]
    references: ReferencesFile,
    #[serde(default)]
    architecture: Option<Vec<S>>,
    #[serde(default)]
    architecture_exclude: Option<Vec<S>>,
    #[serde(default)]
    version_bumps: Option<S>,
    #[serde(default)]
    severity: BTreeMap<String, S>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SectionsFile {
    #[serde(default)]
    context: Vec<String>,
    #[serde(default)]
    decision: Vec<String>,
    #[serde(default)]
    consequences: Vec<String>,
    #[serde(default)]
    status: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct HalvesFile {
    #[serde(default)]
    positive: Vec<String>,
    #[serde(default)]
    negative: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ReferencesFile {
    #[serde(default)]
    spec: Option<Vec<S>>,
    #[serde(default)]
    implementation: Option<Vec<S>>,
}

/// A set of globs with the patterns they came from, for messages.
#[derive(Debug, Clone)]
pub struct Patterns {
    set: GlobSet,
    matchers: Vec<GlobMatcher>,
    texts: Vec<String>,
}

impl Patterns {
    fn new(texts: Vec<String>) -> Result<Self, (usize, globset::Error)> {
        let mut builder = GlobSetBuilder::new();
        let mut matchers = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let glob = glob(text).map_err(|e| (i, e))?;
            matchers.push(glob.compile_matcher());
            builder.add(glob);
        }
        let set = builder.build().map_err(|e| (0, e))?;
        Ok(Self { set, matchers, texts })
    }

    /// True when `path` (repository-relative, `/`-separated) or URL matches a pattern.
    #[must_use]
    pub fn is_match(&self, path: &str) -> bool {
        self.set.is_match(path)
    }

    /// The first pattern matching `path`.
    #[must_use]
    pub fn matching(&self, path: &str) -> Option<&str> {
        self.matchers.iter().position(|m| m.is_match(path)).map(|i| self.texts[i].as_str())
    }

    /// The patterns as written.
    #[must_use]
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// True when there are no patterns.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

fn builtin(globs: &[&str]) -> Patterns {
    Patterns::new(globs.iter().map(|s| (*s).to_owned()).collect()).expect("built-in globs are valid")
}

fn glob(text: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text).literal_separator(true).build()
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, when there was one.
    pub source: Option<PathBuf>,
    /// The ADR folder, relative to the repository root.
    pub directory: PathBuf,
    /// File names in the ADR folder that are not ADRs (templates).
    pub ignore: Patterns,
    /// Index file names, in the ADR folder.
    pub index: Vec<String>,
    /// Status spellings, section headings and consequence labels.
    pub vocabulary: Vocabulary,
    /// What counts as a spec reference: repository paths or URLs. `None`: any document under
    /// `docs/` outside the ADR folder, any Markdown file outside it, or any web URL.
    pub spec: Option<Patterns>,
    /// What counts as an implementation reference. `None`: any other repository file or folder
    /// outside the ADR folder.
    pub implementation: Option<Patterns>,
    /// Paths whose change needs an ADR change (`vixens adr check-change`).
    pub architecture: Patterns,
    /// Paths among those that do not.
    pub architecture_exclude: Patterns,
    /// True when `architecture` is the built-in GitOps layout, not the configuration's.
    pub architecture_is_default: bool,
    /// Whether a change that only bumps versions needs an ADR.
    pub version_bumps: VersionBumps,
    severities: BTreeMap<Rule, Severity>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            source: None,
            directory: PathBuf::from(DEFAULT_DIRECTORY),
            ignore: builtin(DEFAULT_IGNORE),
            index: DEFAULT_INDEX.iter().map(|s| (*s).to_owned()).collect(),
            vocabulary: Vocabulary::default(),
            spec: None,
            implementation: None,
            architecture: builtin(DEFAULT_ARCHITECTURE),
            architecture_exclude: builtin(DEFAULT_ARCHITECTURE_EXCLUDE),
            architecture_is_default: true,
            version_bumps: VersionBumps::Pass,
            severities: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Loads `repo`'s [`CONFIG_PATH`], or the defaults when the repository has none.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem of the file.
    pub fn for_repo(repo: &Path) -> Result<Self, ConfigError> {
        let path = repo.join(CONFIG_PATH);
        if path.exists() { Self::load(&path) } else { Ok(Self::default()) }
    }

    /// Loads the configuration file at `path`.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem of the file, each with its line and column.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        // A regular file only, read up to a megabyte: a configuration file is a few lines.
        let text = match vixens_diagnostic::input::read_to_string(path, vixens_diagnostic::input::MIB).map_err(|e| e.into_io()) {
            Ok(text) => text,
            Err(e) => {
                let problem = ConfigProblem { line: 0, column: 0, span: 0..0, message: format!("cannot read the file: {e}") };
                return Err(ConfigError::new(path, String::new(), vec![problem]));
            }
        };
        Self::parse(path, &text)
    }

    /// Parses configuration text; `path` names it in messages.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem, each with its line and column.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| {
                let location = e.location();
                let (line, column) = location.map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
                let span = location.map_or(0..0, |l| span_of(&l));
                let message = yaml_message(&e);
                ConfigError::new(path, text.to_owned(), vec![ConfigProblem { line, column, span, message }])
            })?
        };
        let mut validator = Validator { problems: Vec::new() };
        let mut config = validator.config(file);
        if validator.problems.is_empty() {
            config.source = Some(path.to_owned());
            Ok(config)
        } else {
            validator.problems.sort_by_key(|p| (p.line, p.column));
            Err(ConfigError::new(path, text.to_owned(), validator.problems))
        }
    }

    /// The severity of `rule`: configured, or its default.
    #[must_use]
    pub fn severity(&self, rule: Rule) -> Severity {
        self.severities.get(&rule).copied().unwrap_or(rule.default_severity())
    }

    /// Sets the severity of `rule`.
    #[must_use]
    pub fn with_severity(mut self, rule: Rule, severity: Severity) -> Self {
        self.severities.insert(rule, severity);
        self
    }

    /// The architecture path a changed path falls under (its pattern), unless excluded.
    #[must_use]
    pub fn architecture_pattern(&self, path: &str) -> Option<&str> {
        if self.architecture_exclude.is_match(path) {
            return None;
        }
        self.architecture.matching(path)
    }

    /// Where the configuration came from, for messages.
    #[must_use]
    pub fn describe_source(&self) -> String {
        self.source.as_ref().map_or_else(|| format!("built-in defaults (no {CONFIG_PATH})"), |p| p.display().to_string())
    }
}

/// A YAML error's own message: its first line, without the location serde-saphyr prefixes
/// (the caller reports the location in the file's own terms).
pub(crate) fn yaml_message(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("error: ").unwrap_or(first);
    match rest.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((location, message)) if location.contains("column") => message.to_owned(),
        _ => rest.to_owned(),
    }
}

fn span_of(location: &serde_saphyr::Location) -> Range<usize> {
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(start), Some(len)) => start as usize..(start + len) as usize,
        _ => 0..0,
    }
}

struct Validator {
    problems: Vec<ConfigProblem>,
}

impl Validator {
    fn problem(&mut self, at: &serde_saphyr::Location, message: String) {
        self.problems.push(ConfigProblem { line: at.line() as usize, column: at.column() as usize, span: span_of(at), message });
    }

    fn config(&mut self, file: ConfigFile) -> Config {
        let defaults = Config::default();
        let directory = match file.directory {
            Some(dir) if dir.value.trim().is_empty() || Path::new(&dir.value).is_absolute() => {
                self.problem(&dir.referenced, "`directory` must be a folder relative to the repository root".into());
                defaults.directory.clone()
            }
            Some(dir) => PathBuf::from(dir.value.trim_end_matches('/')),
            None => defaults.directory.clone(),
        };
        let ignore = match file.ignore {
            Some(globs) => self.patterns("ignore", &globs).unwrap_or_else(|| defaults.ignore.clone()),
            None => defaults.ignore.clone(),
        };
        let index = file.index.map_or_else(|| defaults.index.clone(), |names| names.into_iter().map(|n| n.value).collect());
        let mut extra = ExtraWords::default();
        for (word, status) in &file.statuses {
            match serde_saphyr::from_str::<Status>(&status.value.to_lowercase()) {
                Ok(s) => {
                    extra.statuses.insert(word.clone(), s);
                }
                Err(_) => self.problem(
                    &status.referenced,
                    format!("`statuses`: `{word}` maps to `{}`, expected proposed, accepted, deprecated, superseded or rejected", status.value),
                ),
            }
        }
        let sections = file.sections;
        for (kind, words) in [
            (SectionKind::Context, sections.context),
            (SectionKind::Decision, sections.decision),
            (SectionKind::Consequences, sections.consequences),
            (SectionKind::Status, sections.status),
        ] {
            extra.sections.extend(words.into_iter().map(|w| (kind, w)));
        }
        extra.halves.extend(file.consequences.positive.into_iter().map(|w| (Half::Positive, w)));
        extra.halves.extend(file.consequences.negative.into_iter().map(|w| (Half::Negative, w)));
        let spec = file.references.spec.and_then(|g| self.patterns("references.spec", &g));
        let implementation = file.references.implementation.and_then(|g| self.patterns("references.implementation", &g));
        let architecture_is_default = file.architecture.is_none();
        let architecture = match &file.architecture {
            Some(globs) => self.patterns("architecture", globs).unwrap_or_else(|| defaults.architecture.clone()),
            None => defaults.architecture.clone(),
        };
        let architecture_exclude = match (&file.architecture_exclude, architecture_is_default) {
            (Some(globs), _) => self.patterns("architecture-exclude", globs).unwrap_or_else(|| defaults.architecture_exclude.clone()),
            (None, true) => defaults.architecture_exclude.clone(),
            (None, false) => builtin(&[]),
        };
        let version_bumps = match file.version_bumps {
            None => VersionBumps::Pass,
            Some(value) => match value.value.as_str() {
                "pass" => VersionBumps::Pass,
                "major-adr-required" => VersionBumps::MajorAdrRequired,
                "adr-required" => VersionBumps::AdrRequired,
                other => {
                    self.problem(&value.referenced, format!("`version-bumps`: `{other}` is not pass, major-adr-required or adr-required"));
                    VersionBumps::Pass
                }
            },
        };
        let mut severities = BTreeMap::new();
        for (id, severity) in &file.severity {
            let Some(rule) = Rule::from_id(id) else {
                let known: Vec<&str> = Rule::ALL.iter().map(|r| r.id()).collect();
                self.problem(&severity.referenced, format!("`severity`: unknown rule `{id}`; rules are {}", known.join(", ")));
                continue;
            };
            match severity.value.as_str() {
                "error" => severities.insert(rule, Severity::Error),
                "warning" => severities.insert(rule, Severity::Warning),
                "off" => severities.insert(rule, Severity::Off),
                other => {
                    self.problem(&severity.referenced, format!("`severity.{id}`: `{other}` is not error, warning or off"));
                    None
                }
            };
        }
        Config {
            source: None,
            directory,
            ignore,
            index,
            vocabulary: Vocabulary::new(&extra),
            spec,
            implementation,
            architecture,
            architecture_exclude,
            architecture_is_default,
            version_bumps,
            severities,
        }
    }

    fn patterns(&mut self, key: &str, globs: &[S]) -> Option<Patterns> {
        match Patterns::new(globs.iter().map(|g| g.value.clone()).collect()) {
            Ok(patterns) => Some(patterns),
            Err((i, e)) => {
                let at = globs.get(i).map_or(serde_saphyr::Location::UNKNOWN, |g| g.referenced);
                self.problem(&at, format!("`{key}`: bad glob: {}", e.kind()));
                None
            }
        }
    }
}

/// A configuration file that cannot be used: every problem in it, in file order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} is not a usable ADR configuration", path.display())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Every problem found.
    pub problems: Vec<ConfigProblem>,
    source_code: miette::NamedSource<String>,
}

impl ConfigError {
    fn new(path: &Path, text: String, problems: Vec<ConfigProblem>) -> Self {
        let source_code = miette::NamedSource::new(path.display().to_string(), text);
        Self { path: path.to_owned(), problems, source_code }
    }

    /// Each problem as `file:line:column: message`.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.problems.iter().map(|p| format!("{}:{}:{}: {}", self.path.display(), p.line, p.column, p.message)).collect()
    }
}

impl miette::Diagnostic for ConfigError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.problems.iter().map(|p| miette::LabeledSpan::new_with_span(Some(p.message.clone()), p.span.clone()))))
    }
}

/// One problem at one place of the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line (0 when the problem concerns the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Byte span, for the rendered diagnostic.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(".config/adr.yaml"), yaml)
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config.directory, Path::new("docs/adr"));
        assert_eq!(config.severity(Rule::SupersedesBacklink), Severity::Warning);
        assert_eq!(config.severity(Rule::BrokenLink), Severity::Error);
        assert_eq!(config.version_bumps, VersionBumps::Pass);
    }

    #[test]
    fn the_default_architecture_is_the_gitops_layout() {
        let config = Config::default();
        assert!(config.architecture_is_default);
        assert_eq!(config.architecture_pattern("terraform/modules/talos/main.tf"), Some("terraform/modules/**"));
        assert_eq!(config.architecture_pattern("terraform/environments/dev/main.tf"), Some("terraform/environments/*/*.tf"));
        assert_eq!(config.architecture_pattern("apps/00-infra/cilium/values.yaml"), Some("apps/00-infra/**"));
        assert_eq!(config.architecture_pattern("terraform/environments/dev/terraform.tfvars"), None);
        assert_eq!(config.architecture_pattern("apps/20-media/jellyfin/deployment.yaml"), None);
        assert_eq!(config.architecture_pattern("argocd/README.md"), None);
        // A configured list replaces the defaults, exclusions included.
        let config = parse("architecture: [\"argocd/**\"]\nversion-bumps: major-adr-required\n").unwrap();
        assert!(!config.architecture_is_default);
        assert_eq!(config.architecture_pattern("argocd/README.md"), Some("argocd/**"));
        assert_eq!(config.architecture_pattern("terraform/modules/talos/main.tf"), None);
        assert_eq!(config.version_bumps, VersionBumps::MajorAdrRequired);
    }

    #[test]
    fn words_globs_and_severities_are_read() {
        let config = parse(
            "directory: decisions/\nstatuses:\n  Living: accepted\nsections:\n  consequences: [Trade-offs]\n\
             references:\n  spec: [\"docs/spec/**\"]\narchitecture: [\"terraform/modules/**\"]\nseverity:\n  supersedes-backlink: error\n",
        )
        .unwrap();
        assert_eq!(config.directory, Path::new("decisions"));
        assert_eq!(config.vocabulary.status("Living"), Some(Status::Accepted));
        assert_eq!(config.vocabulary.section("Trade-offs"), Some(SectionKind::Consequences));
        assert!(config.spec.as_ref().unwrap().is_match("docs/spec/a/b.md"));
        assert_eq!(config.architecture.matching("terraform/modules/talos/main.tf"), Some("terraform/modules/**"));
        assert!(!config.architecture.is_match("terraform/environments/dev/main.tf"));
        assert_eq!(config.severity(Rule::SupersedesBacklink), Severity::Error);
    }

    #[test]
    fn every_bad_value_is_reported_with_its_line() {
        let err = parse(
            "statuses:\n  Living: alive\narchitecture: [\"a/{b\"]\nseverity:\n  no-such-rule: error\n  title: fatal\nversion-bumps: sometimes\n",
        )
        .unwrap_err();
        let lines = err.lines();
        assert_eq!(lines.len(), 5, "{lines:#?}");
        assert!(lines[0].starts_with(".config/adr.yaml:2:11: `statuses`: `Living` maps to `alive`"), "{}", lines[0]);
        assert!(lines[1].starts_with(".config/adr.yaml:3:16: `architecture`: bad glob"), "{}", lines[1]);
        assert!(lines[2].starts_with(".config/adr.yaml:5:17: `severity`: unknown rule `no-such-rule`"), "{}", lines[2]);
        assert_eq!(lines[3], ".config/adr.yaml:6:10: `severity.title`: `fatal` is not error, warning or off");
        assert_eq!(lines[4], ".config/adr.yaml:7:16: `version-bumps`: `sometimes` is not pass, major-adr-required or adr-required");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let err = parse("directroy: docs/adr\n").unwrap_err();
        let lines = err.lines();
        assert!(lines[0].starts_with(".config/adr.yaml:1:1:") && lines[0].contains("directroy"), "{lines:?}");
    }
}
