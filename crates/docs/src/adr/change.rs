//! The review scenario: `vixens adr check-change --base REV`. A change that touches the
//! configured architecture paths must add or change an ADR, and an ADR it turns Superseded
//! must name a successor that is present.
//!
//! "The change" is what git reports against the merge base of REV and HEAD: the commits since,
//! plus uncommitted and untracked files, so that the check gives the same answer in CI and
//! before committing.

use std::path::Path;
use std::time::Duration;

use super::catalog::{Catalog, CatalogError, Resolved};
use super::config::{CONFIG_PATH, Config};
use super::diagnostic::{Diagnostic, Findings, Rule};
use super::record::Record;
use super::references::Repo;
use super::repository::finish;
use super::vocabulary::Status;
use vixens_drivers::process::Command;

/// Git is local and quick; a minute means something is wrong (a lock, a huge repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// What the change check found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Change {
    /// The base revision as given.
    pub base: String,
    /// The merge base of the base and HEAD, compared against.
    pub merge_base: String,
    /// Every changed path, repository-relative.
    pub changed: Vec<String>,
    /// The problems, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Change {
    /// How many errors.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
}

/// Why the change could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No architecture paths configured: nothing would ever need an ADR.
    #[error("no architecture paths are configured: list them under `architecture:` in {CONFIG_PATH}")]
    NoArchitecture,
    /// The base revision is unknown to git.
    #[error("`{0}` is not a revision of this repository")]
    UnknownRevision(String),
    /// A git command failed.
    #[error("`git {command}` failed: {stderr}")]
    Git {
        /// The git subcommand.
        command: String,
        /// The end of its stderr.
        stderr: String,
    },
    /// Git could not be run.
    #[error("cannot run git")]
    Process(#[from] vixens_drivers::process::Error),
    /// The ADR folder could not be read.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Checks the change from `base` in the repository at `root`.
///
/// # Errors
/// [`ChangeError`] when there is nothing to check against or git fails; problems of the
/// change itself are diagnostics.
pub fn check_change(root: &Path, base: &str, config: &Config) -> Result<Change, ChangeError> {
    if config.architecture.is_empty() {
        return Err(ChangeError::NoArchitecture);
    }
    let verify = git(root, &["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")])?;
    if !verify.success() {
        return Err(ChangeError::UnknownRevision(base.to_owned()));
    }
    let merge_base = checked(root, &["merge-base", base, "HEAD"])?.trim().to_owned();
    let mut changed = paths(&checked(root, &["diff", "--name-only", "--no-renames", "--relative", &merge_base])?);
    changed.extend(paths(&checked(root, &["ls-files", "--others", "--exclude-standard"])?));
    changed.sort();
    changed.dedup();

    let repo = Repo::new(root, &config.directory);
    let catalog = Catalog::load(&repo, config)?;
    let changed_adrs: Vec<&String> = changed.iter().filter(|p| is_adr_path(p, &repo, config)).collect();
    let mut findings = Findings::default();
    if changed_adrs.is_empty() {
        for path in changed.iter().filter(|p| !repo.in_adr_dir(p)) {
            if let Some(pattern) = config.architecture.matching(path) {
                findings.push_unlined(
                    path,
                    Rule::AdrRequired,
                    format!("changed since {base} (architecture path `{pattern}`), but no ADR in {}/ was added or changed", repo.adr_dir()),
                );
            }
        }
    }
    for path in changed_adrs {
        turned_superseded(root, &repo, &catalog, &merge_base, path, config, &mut findings)?;
    }
    Ok(Change { base: base.to_owned(), merge_base, changed, diagnostics: finish(findings, config) })
}

/// An ADR Superseded now but not at the merge base must name a successor that is present.
fn turned_superseded(
    root: &Path,
    repo: &Repo,
    catalog: &Catalog,
    merge_base: &str,
    path: &str,
    config: &Config,
    out: &mut Findings,
) -> Result<(), ChangeError> {
    let Some(i) = catalog.by_path(path) else { return Ok(()) };
    let record = &catalog.records[i];
    if record.status() != Some(Status::Superseded) {
        return Ok(());
    }
    let before = git(root, &["show", &format!("{merge_base}:./{path}")])?;
    let was_superseded = before.success() && Record::read(path, before.stdout.as_bytes(), &config.vocabulary).status() == Some(Status::Superseded);
    if was_superseded {
        return Ok(());
    }
    if record.successors.is_empty() {
        out.push(path, record.status_line(), Rule::ChangeSuccessor, "turned Superseded in this change without naming its successor");
    }
    for successor in &record.successors {
        match catalog.resolve(repo, path, &successor.target) {
            Resolved::Adr(_) => {}
            Resolved::Missing(what) | Resolved::NotAnAdr(what) => out.push(
                path,
                successor.line,
                Rule::ChangeSuccessor,
                format!("turned Superseded in this change, but its successor {what} is not in {}/", repo.adr_dir()),
            ),
        }
    }
    Ok(())
}

fn is_adr_path(path: &str, repo: &Repo, config: &Config) -> bool {
    let Some(name) = path.strip_prefix(repo.adr_dir()).and_then(|r| r.strip_prefix('/')) else { return false };
    let lower = name.to_ascii_lowercase();
    !name.contains('/')
        && (lower.ends_with(".md") || lower.ends_with(".markdown"))
        && !config.index.iter().any(|i| i.eq_ignore_ascii_case(name))
        && !config.ignore.is_match(name)
}

fn git(root: &Path, args: &[&str]) -> Result<vixens_drivers::process::Finished, ChangeError> {
    Ok(Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .timeout(GIT_TIMEOUT)
        .run()?)
}

fn checked(root: &Path, args: &[&str]) -> Result<String, ChangeError> {
    let done = git(root, args)?;
    if done.success() { Ok(done.stdout) } else { Err(ChangeError::Git { command: args.join(" "), stderr: done.stderr_tail(3) }) }
}

/// One path a line (`core.quotePath=false` keeps non-ASCII names as they are).
fn paths(text: &str) -> Vec<String> {
    text.lines().filter(|p| !p.is_empty()).map(str::to_owned).collect()
}
