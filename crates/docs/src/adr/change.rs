//! The review scenario: `vixens adr check-change --base REV`. A change that touches the
//! architecture paths (configured, else the common GitOps layout) must add or change an ADR,
//! unless all it does there is bump versions; and an ADR it turns Superseded must name a
//! successor that is present.
//!
//! "The change" is what git reports against the merge base of REV and HEAD: the commits since,
//! plus uncommitted and untracked files, so that the check gives the same answer in CI and
//! before committing.

use std::path::Path;
use std::time::Duration;

use super::bump::{self, Bump};
use super::catalog::{Catalog, CatalogError, Resolved};
use super::config::{CONFIG_PATH, Config, VersionBumps};
use super::diagnostic::{Diagnostic, Findings, Location, Rule};
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
    /// Which architecture paths were in force: `built-in GitOps defaults` or the configuration.
    pub architecture: String,
    /// Architecture paths whose change only bumps versions, with the versions that moved.
    pub bumps: Vec<BumpedPath>,
    /// The problems, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

/// An architecture path whose change is only version bumps.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BumpedPath {
    /// The path, repository-relative.
    pub path: String,
    /// What moved.
    pub bumps: Vec<Bump>,
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
    /// An empty architecture list is configured: nothing would ever need an ADR.
    #[error(
        "`architecture: []` in {CONFIG_PATH} guards nothing: list the paths whose change needs an ADR, or remove the key for the GitOps defaults"
    )]
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
    let untracked = paths(&checked(root, &["ls-files", "--others", "--exclude-standard"])?);
    changed.extend(untracked.iter().cloned());
    changed.sort();
    changed.dedup();

    let repo = Repo::new(root, &config.directory);
    let catalog = Catalog::load(&repo, config)?;
    let changed_adrs: Vec<&String> = changed.iter().filter(|p| is_adr_path(p, &repo, config) && !catalog.index_files.contains(p)).collect();
    let mut findings = Findings::default();
    let mut bumps = Vec::new();
    if changed_adrs.is_empty() {
        let mut needing: Vec<(&String, &str)> = Vec::new();
        for path in changed.iter().filter(|p| !repo.in_adr_dir(p)) {
            let Some(pattern) = config.architecture_pattern(path) else { continue };
            match version_bumps(root, &merge_base, path, &untracked, config.version_bumps)? {
                Some(found) => bumps.push(BumpedPath { path: path.clone(), bumps: found }),
                None => needing.push((path, pattern)),
            }
        }
        adr_required(base, &repo, &needing, &mut findings);
    }
    for path in changed_adrs {
        turned_superseded(root, &repo, &catalog, &merge_base, path, config, &mut findings)?;
    }
    let architecture = match &config.source {
        Some(source) if !config.architecture_is_default => {
            format!("`architecture:` in {}", source.strip_prefix(root).unwrap_or(source).display())
        }
        _ => "built-in GitOps defaults".to_owned(),
    };
    Ok(Change { base: base.to_owned(), merge_base, changed, architecture, bumps, diagnostics: finish(findings, config) })
}

/// One finding for every architecture path changed without an ADR: at the first, listing the
/// others.
fn adr_required(base: &str, repo: &Repo, needing: &[(&String, &str)], out: &mut Findings) {
    let Some((first, _)) = needing.first() else { return };
    let mut patterns: Vec<&str> = needing.iter().map(|(_, p)| *p).collect();
    patterns.sort_unstable();
    patterns.dedup();
    let quoted: Vec<String> = patterns.iter().map(|p| format!("`{p}`")).collect();
    let what = match needing.len() {
        1 => format!("architecture path {}", quoted.join(", ")),
        n => format!("with {} other architecture path{}: {}", n - 1, if n == 2 { "" } else { "s" }, quoted.join(", ")),
    };
    let also = needing[1..].iter().map(|(p, _)| Location::file(p)).collect();
    out.push_unlined(
        first,
        Rule::AdrRequired,
        format!(
            "changed since {base} ({what}), but no ADR in {}/ was added or changed: add an ADR for the decision, or update the ADR this change follows",
            repo.adr_dir()
        ),
        also,
    );
}

/// The version bumps of a changed path, when they are all its change and the policy lets them
/// pass.
fn version_bumps(root: &Path, merge_base: &str, path: &str, untracked: &[String], policy: VersionBumps) -> Result<Option<Vec<Bump>>, ChangeError> {
    if policy == VersionBumps::AdrRequired || untracked.iter().any(|u| u == path) {
        return Ok(None);
    }
    let diff = checked(root, &["diff", "-U0", "--no-renames", "--no-color", "--no-ext-diff", merge_base, "--", path])?;
    let found = bump::bumps(path, &diff).filter(|found| !found.is_empty());
    Ok(found.filter(|found| policy != VersionBumps::MajorAdrRequired || !found.iter().any(Bump::is_major)))
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
        out.push(
            path,
            record.status_line(),
            Rule::ChangeSuccessor,
            "turned Superseded in this change without naming its successor: write `Superseded by [ADR-NNN](NNN-title.md)` with the ADR that replaces it",
        );
    }
    for successor in &record.successors {
        match catalog.resolve(repo, path, &successor.target) {
            Resolved::Adr(_) => {}
            Resolved::Missing(what) | Resolved::NotAnAdr(what) => out.push(
                path,
                successor.line,
                Rule::ChangeSuccessor,
                format!("turned Superseded in this change, but its successor {what} is not in {}/: add it to this change", repo.adr_dir()),
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
