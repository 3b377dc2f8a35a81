//! The evidence ledger: one JSON line per recreate cycle, appended to the environment's ledger
//! file. `vixens promote` and `vixens report` read it; nothing ever rewrites it.
//!
//! This module holds the serde-only schema and the append/read functions, so the cycle runner
//! (the writer, through its ledger reporter) and the promotion gate and report (the readers)
//! share one definition, plus [`infra_revision`], the revision of a repository a record names
//! (the GitOps repository's and the Terraform repository's, which may be one).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use vixens_drivers::process::Command;

/// The revision recorded when the infrastructure repository is not a git checkout.
pub const UNKNOWN_REVISION: &str = "unknown";

/// git answers in milliseconds; this bounds a hung credential helper or filesystem.
const GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The ledger schema version written in every record. Readers refuse versions they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// One recreate cycle, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CycleRecord {
    /// Always [`SCHEMA_VERSION`] when written by this harness.
    pub schema: u32,
    /// A unique id for the cycle (UTC start time plus a counter), also its artifact folder name.
    pub cycle_id: String,
    /// The environment's name.
    pub environment: String,
    /// The infrastructure repository's git revision (`HEAD` commit) the cycle ran on, or
    /// `unknown` when it is not a git checkout.
    pub revision: String,
    /// True when the infrastructure repository had uncommitted changes.
    #[serde(default)]
    pub revision_dirty: bool,
    /// The Terraform repository's git revision the cycle ran on (`unknown` when it is not a git
    /// checkout). `None` in records written before the ledger named it: such a cycle vouches
    /// for no Terraform revision.
    #[serde(default)]
    pub terraform_revision: Option<String>,
    /// True when the Terraform repository had uncommitted changes.
    #[serde(default)]
    pub terraform_revision_dirty: bool,
    /// The harness version (`CARGO_PKG_VERSION`).
    pub harness_version: String,
    /// Tool name → version line (`terraform` → `Terraform v1.11.4`).
    pub tool_versions: BTreeMap<String, String>,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// Every phase that ran, in order.
    pub phases: Vec<PhaseTiming>,
    /// Sum of the phase durations, in milliseconds.
    pub total_ms: u64,
    /// The cycle's budget, in milliseconds.
    pub budget_ms: u64,
    /// Passed or failed.
    pub verdict: Verdict,
    /// Every failure, each naming its phase and culprit.
    pub failures: Vec<Failure>,
    /// The cycle's artifact folder, when artifacts were written.
    #[serde(default)]
    pub artifacts: Option<PathBuf>,
}

/// One phase's measured duration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseTiming {
    /// The phase (`destroy`, `apply`, `kubernetes-api`, `talos-health`, `argocd`, `logs`,
    /// `commands`).
    pub phase: String,
    /// Measured duration in milliseconds.
    pub ms: u64,
    /// The phase's own budget in milliseconds.
    pub budget_ms: u64,
    /// Whether the phase succeeded.
    pub ok: bool,
}

/// A cycle's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passed within budget.
    Passed,
    /// At least one check failed or a budget was exceeded.
    Failed,
}

/// One failure of a cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The phase it happened in.
    pub phase: String,
    /// The culprit: an app, `node:line`, a resource address, a phase over budget.
    pub culprit: String,
    /// The readable message (already redacted).
    pub message: String,
}

/// Errors reading or writing the ledger.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ledger file cannot be read or appended to.
    #[error("cannot use the evidence ledger {path}")]
    Io {
        /// The ledger.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line of the ledger is not a record this harness understands.
    #[error("{path}:{line}: not a cycle record: {message}")]
    Malformed {
        /// The ledger.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Appends `record` as one line, flushed and synced, creating the file and its folder if needed.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written.
pub fn append(ledger: &Path, record: &CycleRecord) -> Result<(), Error> {
    let io = |source| Error::Io { path: ledger.to_owned(), source };
    if let Some(dir) = ledger.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut line = serde_json::to_string(record).expect("a cycle record always serialises");
    line.push('\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(ledger).map_err(io)?;
    // One write of one line: concurrent appenders never interleave within a record.
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// The revision a record names for the repository holding `repo` (the infrastructure repository,
/// or the Terraform repository, or any folder inside one): the full hash of its
/// `HEAD`, and whether tracked files have uncommitted changes; [`UNKNOWN_REVISION`] (and clean)
/// when it is not a git checkout or git cannot run.
#[must_use]
pub fn infra_revision(repo: &Path) -> (String, bool) {
    let git = |args: &[&str]| {
        Command::new("git").arg("-C").arg(repo).args(args).timeout(GIT_TIMEOUT).run().ok().filter(vixens_drivers::process::Finished::success)
    };
    let Some(head) = git(&["rev-parse", "--verify", "HEAD"]) else { return (UNKNOWN_REVISION.to_owned(), false) };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|status| !status.stdout.trim().is_empty());
    (head.stdout.trim().to_owned(), dirty)
}

/// Reads every record, oldest first. A missing ledger is empty.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Malformed`] naming the first bad line.
pub fn read(ledger: &Path) -> Result<Vec<CycleRecord>, Error> {
    let file = match std::fs::File::open(ledger) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Io { path: ledger.to_owned(), source }),
    };
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| Error::Io { path: ledger.to_owned(), source })?;
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |message: String| Error::Malformed { path: ledger.to_owned(), line: i + 1, message };
        let record: CycleRecord = serde_json::from_str(&line).map_err(|e| malformed(e.to_string()))?;
        if record.schema != SCHEMA_VERSION {
            return Err(malformed(format!("schema version {} is not {SCHEMA_VERSION}", record.schema)));
        }
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(repo: &Path, args: &[&str]) {
        let done = Command::new("git").arg("-C").arg(repo).args(args).run().unwrap();
        assert!(done.success(), "git {args:?}: {}", done.stderr);
    }

    #[test]
    fn the_revision_is_head_and_dirty_means_uncommitted_tracked_changes() {
        let repo = tempfile::tempdir().unwrap();
        assert_eq!(infra_revision(repo.path()), (UNKNOWN_REVISION.to_owned(), false));
        git(repo.path(), &["init", "-q"]);
        std::fs::write(repo.path().join("main.tf"), "# v1\n").unwrap();
        git(repo.path(), &["add", "main.tf"]);
        git(repo.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1"]);
        let (head, dirty) = infra_revision(repo.path());
        assert_eq!((head.len(), dirty), (40, false));
        std::fs::write(repo.path().join("untracked.txt"), "").unwrap();
        assert!(!infra_revision(repo.path()).1, "untracked files are not changes");
        std::fs::write(repo.path().join("main.tf"), "# v2\n").unwrap();
        assert_eq!(infra_revision(repo.path()), (head, true));
    }

    #[test]
    fn appended_records_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("evidence/lab.jsonl");
        let record = |id: &str| CycleRecord {
            schema: SCHEMA_VERSION,
            cycle_id: id.into(),
            environment: "lab".into(),
            revision: UNKNOWN_REVISION.into(),
            revision_dirty: false,
            terraform_revision: Some(UNKNOWN_REVISION.into()),
            terraform_revision_dirty: false,
            harness_version: "0.1.0".into(),
            tool_versions: BTreeMap::new(),
            started_at: "2026-11-26T07:01:02Z".into(),
            phases: vec![PhaseTiming { phase: "apply".into(), ms: 700, budget_ms: 30_000, ok: true }],
            total_ms: 700,
            budget_ms: 120_000,
            verdict: Verdict::Passed,
            failures: vec![],
            artifacts: None,
        };
        append(&ledger, &record("a")).unwrap();
        append(&ledger, &record("b")).unwrap();
        let read = read(&ledger).unwrap();
        assert_eq!(read.iter().map(|r| r.cycle_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn a_record_written_before_the_terraform_revision_was_recorded_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("lab.jsonl");
        let old = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ledgers/before-terraform-revision.jsonl"))
            .unwrap();
        std::fs::write(&ledger, old).unwrap();
        let records = read(&ledger).unwrap();
        assert_eq!(records.len(), 5);
        assert!(records.iter().all(|r| r.terraform_revision.is_none() && !r.terraform_revision_dirty), "{records:?}");
    }

    #[test]
    fn a_folder_inside_a_repository_has_the_repository_s_revision() {
        let repo = tempfile::tempdir().unwrap();
        git(repo.path(), &["init", "-q"]);
        std::fs::create_dir_all(repo.path().join("terraform/environments/dev")).unwrap();
        std::fs::write(repo.path().join("terraform/environments/dev/main.tf"), "# v1\n").unwrap();
        git(repo.path(), &["add", "."]);
        git(repo.path(), &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1"]);
        assert_eq!(infra_revision(&repo.path().join("terraform/environments/dev")), infra_revision(repo.path()));
    }
}
