//! Gathering the evidence the gate judges, for `vixens promote` and `vixens report` alike: the
//! ledger, the revision being promoted (git), the nextest JUnit and the repository lints, read
//! for one environment and judged by [`super::decide`].

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use vixens_drivers::redact::Redactor;
use vixens_ops::env::Environment;
use vixens_ops::evidence::{self, CycleRecord};

use super::{Decision, Evidence, JunitEvidence, Ledger, LintOutcome, junit, lints, revision};

/// What to judge, beyond the environment itself.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The revision being promoted; `None`: the infrastructure repository's HEAD.
    pub revision: Option<String>,
    /// The Terraform revision the cycles must have run on, when the Terraform repository is a
    /// repository of its own; `None`: its HEAD.
    pub terraform_revision: Option<String>,
    /// Consecutive successful cycles required; `None`: env.yaml's `cycles-required`.
    pub cycles: Option<NonZeroU32>,
    /// The nextest JUnit report; `None`: the promotion profile's under `root`, else the ci one's.
    pub junit: Option<PathBuf>,
}

/// The evidence read and judged.
#[derive(Debug)]
pub struct Gathered {
    /// The ledger's records, oldest first.
    pub records: Vec<CycleRecord>,
    /// The JUnit report read, when there was one.
    pub junit: Option<PathBuf>,
    /// Consecutive successful cycles required.
    pub cycles_required: NonZeroU32,
    /// The verdict.
    pub decision: Decision,
    /// The environment's secrets, to keep out of whatever shows the verdict.
    pub redactor: Redactor,
}

/// Why the evidence could not be read: the gate then has nothing to judge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The revision being promoted cannot be resolved.
    #[error(transparent)]
    Revision(#[from] revision::Error),
    /// The ledger cannot be read.
    #[error(transparent)]
    Ledger(#[from] evidence::Error),
    /// The JUnit report exists but cannot be read.
    #[error(transparent)]
    Junit(#[from] junit::Error),
}

/// Reads everything the gate judges for `env`, whose workspace root (where `target/` is) is
/// `root`, and judges it.
///
/// # Errors
/// [`Error`] when a piece of evidence cannot be read; a missing JUnit report is evidence (the
/// gate refuses, saying so), not an error.
pub fn gather(env: &Environment, root: &Path, request: &Request) -> Result<Gathered, Error> {
    let redactor = env.redactor();
    let revision = revision::resolve(&env.infra_repo, request.revision.as_deref())?;
    // One repository holding both has one revision: `--revision` names it.
    let terraform = if env.terraform_repo == env.infra_repo {
        None
    } else {
        Some(revision::resolve_terraform(&env.terraform_repo, request.terraform_revision.as_deref())?)
    };
    let records = evidence::read(&env.evidence.ledger)?;
    let junit_path = request.junit.clone().unwrap_or_else(|| default_junit(root));
    let junit = match junit::read(&junit_path) {
        Ok(junit) => JunitEvidence::Read(junit),
        Err(junit::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => JunitEvidence::Missing(junit_path.clone()),
        Err(error) => return Err(error.into()),
    };
    let cycles_required = request.cycles.unwrap_or(env.cycles_required);
    let ledger = Ledger { path: env.evidence.ledger.clone(), records };
    let lints: Vec<LintOutcome> = vec![
        lints::documented_commands(&env.infra_repo),
        lints::command_discovery(&env.infra_repo),
        lints::adrs(&env.infra_repo),
        lints::secrets_in_docs(&env.infra_repo),
    ];
    let decision = super::decide(&Evidence {
        environment: &env.name,
        revision: &revision,
        terraform: terraform.as_ref(),
        cycles_required: cycles_required.get(),
        budget: env.budgets.recreate,
        ledger: &ledger,
        junit: &junit,
        lints: &lints,
    });
    let junit = matches!(junit, JunitEvidence::Read(_)).then_some(junit_path);
    Ok(Gathered { records: ledger.records, junit, cycles_required, decision, redactor })
}

/// The promotion profile's JUnit if it exists, else the ci profile's (under `CARGO_TARGET_DIR`
/// or `<root>/target`).
fn default_junit(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let promotion = target.join("nextest/promotion/junit.xml");
    let ci = target.join("nextest/ci/junit.xml");
    if !promotion.exists() && ci.exists() { ci } else { promotion }
}
