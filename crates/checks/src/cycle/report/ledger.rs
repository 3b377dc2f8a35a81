//! The evidence ledger's writer: one record per recreate cycle, appended when the cycle ends,
//! naming the GitOps and the Terraform revisions it ran on. Read-only checks leave no record: the ledger counts
//! cycles.

use std::path::PathBuf;

use crate::cycle::{CycleEvent, Reporter};
use vixens_ops::env::Environment;
use vixens_ops::evidence::{self, CycleRecord};

/// Appends each finished recreate cycle to the environment's ledger.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    infra_repo: PathBuf,
    terraform_repo: PathBuf,
    appended: Result<Vec<CycleRecord>, evidence::Error>,
}

impl Ledger {
    /// The ledger of `env` (`evidence.ledger`).
    #[must_use]
    pub fn for_env(env: &Environment) -> Self {
        Self {
            path: env.evidence.ledger.clone(),
            infra_repo: env.infra_repo.clone(),
            terraform_repo: env.terraform_repo.clone(),
            appended: Ok(Vec::new()),
        }
    }

    /// The records appended.
    ///
    /// # Errors
    /// The first error appending a record: the cycle then has no evidence.
    pub fn finish(self) -> Result<Vec<CycleRecord>, evidence::Error> {
        self.appended
    }
}

impl Reporter for Ledger {
    fn report(&mut self, event: &CycleEvent<'_>) {
        match event {
            CycleEvent::Finished { outcome } if outcome.check.is_destructive() => {
                let Ok(appended) = &mut self.appended else { return };
                let (revision, dirty) = evidence::infra_revision(&self.infra_repo);
                let (terraform, terraform_dirty) = evidence::infra_revision(&self.terraform_repo);
                let record = outcome.to_record((&revision, dirty), (&terraform, terraform_dirty));
                match evidence::append(&self.path, &record) {
                    Ok(()) => appended.push(record),
                    Err(e) => self.appended = Err(e),
                }
            }
            CycleEvent::Finished { .. }
            | CycleEvent::Started { .. }
            | CycleEvent::PhaseStarted { .. }
            | CycleEvent::PhaseProgress { .. }
            | CycleEvent::PhaseFinished { .. } => {}
        }
    }
}
