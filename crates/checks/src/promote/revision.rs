//! The revisions being promoted: `--revision REV` resolved to a commit, or the infrastructure
//! repository's `HEAD`; likewise `--terraform-revision REV` or the Terraform repository's `HEAD`
//! when that is a repository of its own. Read with git.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vixens_drivers::process::Command;

/// git answers in milliseconds; a minute means something is wrong (a hung credential helper).
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// Shown revisions are cut to this many hex digits, like `git log --abbrev=12`.
const SHORT_LEN: usize = 12;

/// The revision cycles must have run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The commit: a full hash when git could resolve it, else what the user gave.
    pub commit: String,
    /// Where it came from.
    pub source: RevisionSource,
}

/// Where the promoted revision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionSource {
    /// `--revision REV`, resolved by git in the infrastructure repository.
    Flag(String),
    /// `--revision REV` taken as given: the infrastructure repository is not a git checkout.
    FlagUnverified(String),
    /// The infrastructure repository's `HEAD`.
    Head,
    /// The Terraform repository's `HEAD`.
    TerraformHead,
}

/// Why the revision could not be determined.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `--revision` (or `--terraform-revision`), and the repository is not a git checkout.
    #[error("{repo} is not a git checkout, so its HEAD cannot be promoted: pass {flag} REV")]
    NotARepository {
        /// The infrastructure (or Terraform) repository.
        repo: PathBuf,
        /// The flag that names the revision instead.
        flag: &'static str,
    },
    /// git does not know the revision.
    #[error("{repo} has no commit `{rev}`: {message}")]
    Unknown {
        /// The infrastructure repository.
        repo: PathBuf,
        /// The revision asked for.
        rev: String,
        /// git's message.
        message: String,
    },
    /// git could not be run.
    #[error("cannot read the revision of {repo} with git")]
    Git {
        /// The infrastructure repository.
        repo: PathBuf,
        /// Why.
        #[source]
        source: vixens_drivers::process::Error,
    },
}

impl Revision {
    /// True when a ledger record's revision is this one (a given prefix matches the full hash
    /// recorded by the cycle runner).
    #[must_use]
    pub fn matches(&self, recorded: &str) -> bool {
        recorded == self.commit || (self.commit.len() >= 7 && recorded.starts_with(&self.commit))
    }

    /// The commit cut to 12 digits for messages.
    #[must_use]
    pub fn short(&self) -> &str {
        short(&self.commit)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            RevisionSource::Flag(rev) if rev != &self.commit && !self.commit.starts_with(rev.as_str()) => {
                write!(f, "{} ({rev})", self.short())
            }
            RevisionSource::Flag(_) => write!(f, "{}", self.short()),
            RevisionSource::FlagUnverified(_) => write!(f, "{} (not checked: no git checkout)", self.short()),
            RevisionSource::Head => write!(f, "{} (infra repo HEAD)", self.short()),
            RevisionSource::TerraformHead => write!(f, "{} (Terraform repo HEAD)", self.short()),
        }
    }
}

/// `commit` cut to 12 digits for messages; other values (`unknown`) unchanged.
#[must_use]
pub fn short(commit: &str) -> &str {
    if commit.len() > SHORT_LEN && commit.bytes().all(|b| b.is_ascii_hexdigit()) { &commit[..SHORT_LEN] } else { commit }
}

/// Resolves the revision to promote: `rev` if given (a branch, tag or abbreviated hash,
/// resolved by git when `repo` is a checkout), else `repo`'s `HEAD`.
///
/// # Errors
/// [`Error::NotARepository`] without `rev` outside a checkout, [`Error::Unknown`] for a
/// revision git does not have, [`Error::Git`] when git cannot run.
pub fn resolve(repo: &Path, rev: Option<&str>) -> Result<Revision, Error> {
    resolve_as(repo, rev, "--revision")
}

/// Resolves the Terraform revision to promote, as [`resolve`] does: `rev`
/// (`--terraform-revision`) if given, else the `HEAD` of the repository holding `repo`.
///
/// # Errors
/// As [`resolve`].
pub fn resolve_terraform(repo: &Path, rev: Option<&str>) -> Result<Revision, Error> {
    let mut revision = resolve_as(repo, rev, "--terraform-revision")?;
    if revision.source == RevisionSource::Head {
        revision.source = RevisionSource::TerraformHead;
    }
    Ok(revision)
}

fn resolve_as(repo: &Path, rev: Option<&str>, flag: &'static str) -> Result<Revision, Error> {
    let is_checkout = git(repo, &["rev-parse", "--is-inside-work-tree"])?.is_ok_and(|out| out == "true");
    match (rev, is_checkout) {
        (Some(rev), false) => Ok(Revision { commit: rev.to_owned(), source: RevisionSource::FlagUnverified(rev.to_owned()) }),
        (None, false) => Err(Error::NotARepository { repo: repo.to_owned(), flag }),
        (rev, true) => {
            let spec = format!("{}^{{commit}}", rev.unwrap_or("HEAD"));
            match git(repo, &["rev-parse", "--verify", "--quiet", &spec])? {
                Ok(commit) => {
                    let source = rev.map_or(RevisionSource::Head, |r| RevisionSource::Flag(r.to_owned()));
                    Ok(Revision { commit, source })
                }
                Err(message) => Err(Error::Unknown {
                    repo: repo.to_owned(),
                    rev: rev.unwrap_or("HEAD").to_owned(),
                    message: if message.is_empty() { "git rev-parse found nothing".into() } else { message },
                }),
            }
        }
    }
}

/// Runs git in `repo`: `Ok(Ok(stdout))` on success, `Ok(Err(stderr))` when git says no.
fn git(repo: &Path, args: &[&str]) -> Result<Result<String, String>, Error> {
    let done = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .timeout(GIT_TIMEOUT)
        .run()
        .map_err(|source| Error::Git { repo: repo.to_owned(), source })?;
    Ok(if done.success() { Ok(done.stdout.trim().to_owned()) } else { Err(done.stderr_tail(1)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let done = Command::new("git").arg("-C").arg(dir.path()).args(args).run().unwrap();
            assert!(done.success(), "git {args:?}: {}", done.stderr);
        };
        run(&["init", "-q", "-b", "main"]);
        run(&["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "--allow-empty", "-m", "one"]);
        run(&["tag", "v1"]);
        dir
    }

    fn head(dir: &Path) -> String {
        Command::new("git").arg("-C").arg(dir).args(["rev-parse", "HEAD"]).run().unwrap().stdout.trim().to_owned()
    }

    #[test]
    fn without_a_flag_the_infra_repo_head_is_promoted() {
        let repo = git_repo();
        let rev = resolve(repo.path(), None).unwrap();
        assert_eq!(rev.commit, head(repo.path()));
        assert_eq!(rev.source, RevisionSource::Head);
        assert_eq!(rev.to_string(), format!("{} (infra repo HEAD)", &rev.commit[..12]));
    }

    #[test]
    fn a_tag_or_short_hash_resolves_to_the_full_commit() {
        let repo = git_repo();
        let full = head(repo.path());
        assert_eq!(resolve(repo.path(), Some("v1")).unwrap().commit, full);
        let short = resolve(repo.path(), Some(&full[..8])).unwrap();
        assert_eq!(short.commit, full);
        assert_eq!(short.to_string(), full[..12]);
    }

    #[test]
    fn an_unknown_revision_is_an_error_naming_it() {
        let repo = git_repo();
        let err = resolve(repo.path(), Some("no-such-branch")).unwrap_err();
        assert!(err.to_string().contains("has no commit `no-such-branch`"), "{err}");
    }

    #[test]
    fn outside_a_checkout_head_cannot_be_promoted_but_a_given_revision_can() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve(dir.path(), None).unwrap_err();
        assert_eq!(err.to_string(), format!("{} is not a git checkout, so its HEAD cannot be promoted: pass --revision REV", dir.path().display()));
        let rev = resolve(dir.path(), Some("abc1234")).unwrap();
        assert_eq!(rev.source, RevisionSource::FlagUnverified("abc1234".into()));
    }

    #[test]
    fn the_terraform_repository_s_head_says_where_it_comes_from() {
        let repo = git_repo();
        let rev = resolve_terraform(repo.path(), None).unwrap();
        assert_eq!(rev.to_string(), format!("{} (Terraform repo HEAD)", &rev.commit[..12]));
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_terraform(dir.path(), None).unwrap_err();
        assert!(err.to_string().ends_with("is not a git checkout, so its HEAD cannot be promoted: pass --terraform-revision REV"), "{err}");
    }

    #[test]
    fn a_prefix_matches_the_recorded_full_hash_but_a_too_short_one_does_not() {
        let rev = |c: &str| Revision { commit: c.into(), source: RevisionSource::FlagUnverified(c.into()) };
        assert!(rev("abc1234").matches("abc1234def5678"));
        assert!(!rev("abc").matches("abc1234def5678"));
        assert!(!rev("abc1234").matches("unknown"));
    }
}
