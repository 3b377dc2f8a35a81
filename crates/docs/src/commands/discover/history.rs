//! When each line entered the repository: `git blame` of its file, read once per file.
//!
//! A line is dated by the commit that last changed it (whitespace changes and moves within the
//! file do not count: `-w -M`), at that commit's committer time: when it entered the branch, not
//! when it was first written on another. A line that is not committed, in a file git does not
//! track, or in a folder that is no git repository, counts as written now. In a shallow clone,
//! lines older than the clone's depth are dated by its oldest commit: they look younger than
//! they are (CI checks out the whole history for this check).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use vixens_drivers::process::Command;

/// Git is local and quick; a minute means something is wrong (a lock, a huge repository).
const GIT_TIMEOUT: Duration = Duration::from_secs(60);

/// When a line entered the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dated {
    /// The commit that brought it; `None` when it is not committed.
    pub commit: Option<String>,
    /// That commit's committer time; now when it is not committed.
    pub time: Timestamp,
}

/// The history of one repository, blamed file by file as lines are asked about.
#[derive(Debug)]
pub struct History {
    repo: PathBuf,
    now: Timestamp,
    /// Whether `repo` is in a git repository, and whether that is a shallow clone.
    git: Option<bool>,
    blames: HashMap<String, Vec<Option<Dated>>>,
}

impl History {
    /// The history of `repo`, lines not committed counting as written at `now`.
    #[must_use]
    pub fn open(repo: &Path, now: Timestamp) -> Self {
        let git = git(repo, &["rev-parse", "--is-shallow-repository"]).map(|out| out.trim() == "true");
        Self { repo: repo.to_owned(), now, git, blames: HashMap::new() }
    }

    /// True when there is a history at all.
    #[must_use]
    pub fn is_git(&self) -> bool {
        self.git.is_some()
    }

    /// True in a shallow clone, where old lines look younger than they are.
    #[must_use]
    pub fn is_shallow(&self) -> bool {
        self.git == Some(true)
    }

    /// When line `line` of `file` (repository-relative) entered the history.
    pub fn date(&mut self, file: &str, line: usize) -> Dated {
        let now = Dated { commit: None, time: self.now };
        if !self.is_git() {
            return now;
        }
        if !self.blames.contains_key(file) {
            let blame = git(&self.repo, &["blame", "--line-porcelain", "-w", "-M", "--", file]).map(|out| parse_blame(&out)).unwrap_or_default();
            self.blames.insert(file.to_owned(), blame);
        }
        self.blames.get(file).and_then(|lines| lines.get(line.wrapping_sub(1))).cloned().flatten().unwrap_or(now)
    }
}

/// Reads `git blame --line-porcelain`: one entry per line of the file, in order; `None` for a
/// line not committed.
fn parse_blame(out: &str) -> Vec<Option<Dated>> {
    let mut lines = Vec::new();
    let mut commit: Option<String> = None;
    let mut time: Option<Timestamp> = None;
    for line in out.lines() {
        if line.starts_with('\t') {
            let dated = match (commit.take(), time.take()) {
                (Some(sha), Some(time)) if !sha.bytes().all(|b| b == b'0') => Some(Dated { commit: Some(sha), time }),
                _ => None,
            };
            lines.push(dated);
        } else if let Some(seconds) = line.strip_prefix("committer-time ") {
            time = seconds.trim().parse().ok().and_then(|s| Timestamp::from_second(s).ok());
        } else if let Some((sha, _)) = line.split_once(' ')
            && sha.len() == 40
            && sha.bytes().all(|b| b.is_ascii_hexdigit())
        {
            commit = Some(sha.to_owned());
        }
    }
    lines
}

/// Runs git in `repo`; its stdout when it succeeds.
fn git(repo: &Path, args: &[&str]) -> Option<String> {
    let done = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .timeout(GIT_TIMEOUT)
        .run()
        .ok()?;
    done.success().then_some(done.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blame_output_dates_each_line_and_knows_uncommitted_ones() {
        let sha = "1a2b3c4d5e6f1a2b3c4d5e6f1a2b3c4d5e6f1a2b";
        let zero = "0000000000000000000000000000000000000000";
        let out = format!(
            "{sha} 1 1 1\nauthor A\nauthor-time 1700000000\ncommitter-time 1700000100\nsummary x\nfilename a.sh\n\tkubectl get pods\n\
             {zero} 2 2 1\nauthor Not Committed Yet\ncommitter-time 1800000000\nfilename a.sh\n\ttalosctl health\n"
        );
        let lines = parse_blame(&out);
        assert_eq!(lines, vec![Some(Dated { commit: Some(sha.into()), time: Timestamp::from_second(1_700_000_100).unwrap() }), None]);
    }

    #[test]
    fn outside_git_every_line_is_new() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let mut history = History::open(dir.path(), now);
        assert!(!history.is_git());
        assert_eq!(history.date("a.sh", 1), Dated { commit: None, time: now });
    }
}
