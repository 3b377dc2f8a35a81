//! "Argo CD bootstraps with no manual intervention", proven from Argo CD's own records: every
//! system app's last (and pending) operation, and every history entry deployed since the
//! recreate, was initiated by automated sync (`initiatedBy.automated: true`). A sync by a user
//! (`initiatedBy.username`) is a finding that names the app and the user.

use std::fmt;

use jiff::Timestamp;

use super::application::{Application, InitiatedBy};

/// One operation that was not shown to be initiated automatically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualIntervention {
    /// The app.
    pub app: String,
    /// The user who initiated it, when recorded.
    pub username: Option<String>,
    /// Which record shows it.
    pub record: Record,
}

/// Where Argo CD recorded an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The top-level `operation`: a sync requested and not started yet.
    PendingOperation,
    /// `status.operationState`: the last operation.
    LastOperation {
        /// When it started.
        started_at: Option<Timestamp>,
    },
    /// A `status.history[]` entry.
    History {
        /// The entry's id.
        id: Option<i64>,
        /// The revision it deployed.
        revision: Option<String>,
        /// When it was deployed.
        deployed_at: Option<Timestamp>,
    },
}

impl fmt::Display for ManualIntervention {
    /// `traefik: synced by user `admin` (history #3, revision 1a2b3c, deployed 2026-11-26T10:02:10Z)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.username {
            Some(user) => write!(f, "{}: synced by user `{user}`", self.app)?,
            None => write!(f, "{}: sync with no recorded initiator (not shown to be automated)", self.app)?,
        }
        match &self.record {
            Record::PendingOperation => f.write_str(" (requested operation, not started yet)"),
            Record::LastOperation { started_at: Some(at) } => write!(f, " (last operation, started {at})"),
            Record::LastOperation { started_at: None } => f.write_str(" (last operation)"),
            Record::History { id, revision, deployed_at } => {
                f.write_str(" (history")?;
                if let Some(id) = id {
                    write!(f, " #{id}")?;
                }
                if let Some(revision) = revision {
                    write!(f, ", revision {revision}")?;
                }
                if let Some(at) = deployed_at {
                    write!(f, ", deployed {at}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Every manual intervention recorded on `apps`: their pending and last operations, and their
/// history entries deployed at or after `since` (the recreate). Empty means none.
///
/// A history entry without a deployment time is checked too: it cannot be shown to predate the
/// recreate.
pub fn manual_interventions<'a>(apps: impl IntoIterator<Item = &'a Application>, since: Timestamp) -> Vec<ManualIntervention> {
    let mut found = Vec::new();
    for app in apps {
        let mut report = |initiator: Option<&InitiatedBy>, record: Record| {
            if !initiator.is_some_and(InitiatedBy::is_automated) {
                found.push(ManualIntervention { app: app.name().to_owned(), username: initiator.and_then(|by| by.username.clone()), record });
            }
        };
        if let Some(op) = &app.operation {
            report(op.initiated_by.as_ref(), Record::PendingOperation);
        }
        if let Some(state) = app.operation_state() {
            report(state.initiated_by(), Record::LastOperation { started_at: state.started_at });
        }
        let history = app.status.iter().flat_map(|s| &s.history);
        for entry in history.filter(|e| e.deployed_at.is_none_or(|at| at >= since)) {
            let record = Record::History { id: entry.id, revision: entry.revision.clone(), deployed_at: entry.deployed_at };
            report(entry.initiated_by.as_ref(), record);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::fixtures::fixture;

    fn recreate() -> Timestamp {
        "2026-11-26T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_bootstrap_by_automated_sync_alone_has_no_manual_intervention() {
        let apps = [fixture("converged.yaml"), fixture("sync-running.yaml")];
        assert_eq!(manual_interventions(&apps, recreate()), []);
    }

    #[test]
    fn a_sync_by_a_user_is_found_naming_the_app_and_the_user() {
        let found = manual_interventions(&[fixture("manual-sync.yaml")], recreate());
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "cert-manager: synced by user `admin` (last operation, started 2026-11-26T10:04:00Z)",
                "cert-manager: synced by user `admin` (history #1, revision 9f8e7d6c, deployed 2026-11-26T10:04:05Z)",
            ]
        );
    }

    #[test]
    fn history_from_before_the_recreate_is_not_evidence_against_it() {
        let found = manual_interventions(&[fixture("manual-sync.yaml")], "2026-11-26T10:05:00Z".parse().unwrap());
        assert_eq!(found.len(), 1, "only the last operation is left: {found:?}");
        assert_eq!(found[0].record, Record::LastOperation { started_at: Some("2026-11-26T10:04:00Z".parse().unwrap()) });
    }

    #[test]
    fn a_pending_sync_requested_by_a_user_is_found() {
        let mut app = fixture("converged.yaml");
        app.operation =
            Some(crate::argocd::Operation { initiated_by: Some(InitiatedBy { username: Some("alice".into()), automated: None }), sync: None });
        let found = manual_interventions(&[app], recreate());
        assert_eq!(found[0].to_string(), "traefik: synced by user `alice` (requested operation, not started yet)");
    }

    #[test]
    fn a_history_entry_with_no_initiator_is_not_shown_to_be_automated() {
        let mut app = fixture("converged.yaml");
        app.status.as_mut().unwrap().history[0].initiated_by = None;
        let found = manual_interventions(&[app], recreate());
        assert_eq!(
            found[0].to_string(),
            "traefik: sync with no recorded initiator (not shown to be automated) (history #0, revision 1a2b3c4d, deployed 2026-11-26T10:02:10Z)"
        );
    }
}
