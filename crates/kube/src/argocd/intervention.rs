//! "Argo CD bootstraps with no manual intervention", judged from Argo CD's own records within a
//! lookback ([`Lookback`]: since the recreate on a disposable environment, a window on a
//! protected one), record by record, whatever release wrote them:
//!
//! | record | who started it | releases |
//! |---|---|---|
//! | the top-level `operation` | `initiatedBy` | all: the operation requested or running |
//! | `status.operationState.operation` | `initiatedBy` | all: the last operation of any kind |
//! | `status.history[]` | `initiatedBy` | from 2.11; absent before (and `{}` when nobody was recorded) |
//!
//! `initiatedBy.username` is a manual intervention, a finding that names the app, the user and the
//! record. A history entry without `initiatedBy` (Argo CD before 2.11) is not evidence of anything:
//! it is *unattributed*. The newest one is attributed when it is the last operation's sync (its
//! `deployStartedAt` is the operation's `startedAt`): it then has that operation's initiator. The
//! report says which evidence decided ([`Evidence`]), and how many syncs stayed unattributed, so
//! that a pass on 2.10 is never mistaken for the proof 3.x gives.
//!
//! Records older than the lookback are not findings; the newest manual one is kept as
//! information, so that a prod whose last manual sync was a month ago passes today and still says
//! so. An operation without any recorded initiator (no released Argo CD writes one) is not shown
//! to be automated: a finding.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

use super::application::{Application, InitiatedBy, RevisionHistory};

/// How far back the judgement looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookback {
    /// Everything since the environment was recreated (a disposable environment): its start.
    SinceRecreate(Timestamp),
    /// A window ending now (a protected environment, never recreated): its start and length.
    Window {
        /// `now - length`.
        start: Timestamp,
        /// The window's length, for messages.
        length: Duration,
    },
}

impl Lookback {
    /// A window of `length` ending at `now`.
    #[must_use]
    pub fn window(now: Timestamp, length: Duration) -> Self {
        let start = jiff::SignedDuration::try_from(length).ok().and_then(|d| now.checked_sub(d).ok()).unwrap_or(Timestamp::MIN);
        Self::Window { start, length }
    }

    /// When the lookback starts.
    #[must_use]
    pub fn start(&self) -> Timestamp {
        match self {
            Self::SinceRecreate(at) => *at,
            Self::Window { start, .. } => *start,
        }
    }
}

impl fmt::Display for Lookback {
    /// `since the recreate at 2026-11-26T10:00:00Z`, `in the last 24h (since ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SinceRecreate(at) => write!(f, "since the recreate at {at}"),
            Self::Window { start, length } => write!(f, "in the last {} (since {start})", humantime::format_duration(*length)),
        }
    }
}

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
    /// The top-level `operation`: requested or running.
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

impl Record {
    fn history(entry: &RevisionHistory) -> Self {
        Self::History { id: entry.id, revision: entry.revision.clone(), deployed_at: entry.deployed_at }
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PendingOperation => f.write_str("requested operation"),
            Self::LastOperation { started_at: Some(at) } => write!(f, "last operation, started {at}"),
            Self::LastOperation { started_at: None } => f.write_str("last operation"),
            Self::History { id, revision, deployed_at } => {
                f.write_str("history")?;
                if let Some(id) = id {
                    write!(f, " #{id}")?;
                }
                if let Some(revision) = revision {
                    write!(f, ", revision {revision}")?;
                }
                if let Some(at) = deployed_at {
                    write!(f, ", deployed {at}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ManualIntervention {
    /// `traefik: synced by user `admin` (history #3, revision 1a2b3c, deployed 2026-11-26T10:02:10Z)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.username {
            Some(user) => write!(f, "{}: synced by user `{user}` ({})", self.app, self.record),
            None => write!(f, "{}: sync with no recorded initiator, not shown to be automated ({})", self.app, self.record),
        }
    }
}

/// A sync in the lookback whose initiator no record gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unattributed {
    /// The app.
    pub app: String,
    /// The history entry.
    pub record: Record,
    /// True when the entry has `initiatedBy: {}` (a release that records initiators, with
    /// nobody recorded); false when it has none (a release before 2.11).
    pub empty_initiator: bool,
}

impl fmt::Display for Unattributed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = if self.empty_initiator { "its initiatedBy is empty" } else { "Argo CD < 2.11 records no initiator in history" };
        write!(f, "{}: {} could not be attributed ({why})", self.app, self.record)
    }
}

/// The records that decided, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Evidence {
    /// History entries attributed by their own `initiatedBy` (Argo CD ≥ 2.11).
    pub history_initiators: usize,
    /// Newest history entries attributed through the last operation (`deployStartedAt` ==
    /// `operationState.startedAt`), for entries without `initiatedBy`.
    pub correlated_history: usize,
    /// Last operations (`status.operationState`) judged.
    pub last_operations: usize,
    /// Requested or running operations (top-level `operation`) judged.
    pub pending_operations: usize,
}

impl fmt::Display for Evidence {
    /// `history initiatedBy (12 entries), last operations (15)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.history_initiators > 0 {
            parts.push(format!("history[].initiatedBy ({} entries)", self.history_initiators));
        }
        if self.correlated_history > 0 {
            parts.push(format!("newest history entry matched to the last operation by deployStartedAt ({} entries)", self.correlated_history));
        }
        if self.last_operations > 0 {
            parts.push(format!("operationState.operation.initiatedBy ({})", self.last_operations));
        }
        if self.pending_operations > 0 {
            parts.push(format!("pending operation.initiatedBy ({})", self.pending_operations));
        }
        if parts.is_empty() { f.write_str("no operation recorded") } else { f.write_str(&parts.join(", ")) }
    }
}

/// What the records say about manual intervention within a lookback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterventionReport {
    /// The lookback judged.
    pub lookback: Lookback,
    /// Syncs started by a user (or by no recorded initiator) in the lookback: each one fails.
    pub findings: Vec<ManualIntervention>,
    /// Syncs in the lookback that no record attributes (Argo CD < 2.11): not findings, but the
    /// proof is partial.
    pub unattributed: Vec<Unattributed>,
    /// The newest manual sync before the lookback, per app: information, not a finding.
    pub before_lookback: Vec<ManualIntervention>,
    /// What decided.
    pub evidence: Evidence,
}

/// The verdict of an [`InterventionReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every record in the lookback is automated, and every sync in it is attributed.
    Proven,
    /// No manual record, but some syncs in the lookback could not be attributed.
    Partial,
    /// At least one manual (or initiator-less) record in the lookback.
    Manual,
}

impl InterventionReport {
    /// Proven, partial or manual.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        if !self.findings.is_empty() {
            Verdict::Manual
        } else if self.unattributed.is_empty() {
            Verdict::Proven
        } else {
            Verdict::Partial
        }
    }

    /// One line saying what the verdict rests on: `evidence: ...; 2 syncs unattributed (...)`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut text = format!("evidence {}: {}", self.lookback, self.evidence);
        if !self.unattributed.is_empty() {
            text.push_str(&format!(
                "; {} sync{} could not be attributed (Argo CD < 2.11 records no initiator in history)",
                self.unattributed.len(),
                if self.unattributed.len() == 1 { "" } else { "s" }
            ));
        }
        for earlier in &self.before_lookback {
            text.push_str(&format!("; before the lookback: {earlier}"));
        }
        text
    }
}

/// Judges every record of `apps` within `lookback`.
#[must_use]
pub fn judge<'a>(apps: impl IntoIterator<Item = &'a Application>, lookback: Lookback) -> InterventionReport {
    let mut report =
        InterventionReport { lookback, findings: Vec::new(), unattributed: Vec::new(), before_lookback: Vec::new(), evidence: Evidence::default() };
    let since = lookback.start();
    for app in apps {
        judge_app(app, since, &mut report);
    }
    report
}

fn judge_app(app: &Application, since: Timestamp, report: &mut InterventionReport) {
    let name = app.name().to_owned();
    let finding = |initiator: Option<&InitiatedBy>, record: Record| {
        (!initiator.is_some_and(InitiatedBy::is_automated)).then(|| ManualIntervention {
            app: name.clone(),
            username: initiator.and_then(|by| by.username.clone()),
            record,
        })
    };
    let mut earlier: Option<ManualIntervention> = None;
    if let Some(op) = &app.operation {
        report.evidence.pending_operations += 1;
        report.findings.extend(finding(op.initiated_by.as_ref(), Record::PendingOperation));
    }
    let state = app.operation_state();
    if let Some(state) = state {
        let in_lookback = state.finished_at.is_none_or(|at| at >= since) || state.started_at.is_some_and(|at| at >= since);
        let found = finding(state.initiated_by(), Record::LastOperation { started_at: state.started_at });
        if in_lookback {
            report.evidence.last_operations += 1;
            report.findings.extend(found);
        } else {
            earlier = earlier.or(found.filter(|f| f.username.is_some()));
        }
    }
    let history = app.status.iter().flat_map(|s| &s.history);
    let newest = app.status.as_ref().and_then(|s| s.history.iter().max_by_key(|e| e.id));
    for entry in history {
        let in_lookback = entry.deployed_at.is_none_or(|at| at >= since);
        let initiator = match &entry.initiated_by {
            Some(by) if by.username.is_some() || by.automated.is_some() => {
                if in_lookback {
                    report.evidence.history_initiators += 1;
                }
                Some(by.clone())
            }
            recorded => {
                // The newest entry is the last operation's sync when both started together.
                let correlated = newest.is_some_and(|n| std::ptr::eq(n, entry))
                    && state.is_some_and(|s| s.started_at.is_some() && s.started_at == entry.deploy_started_at);
                if correlated {
                    if in_lookback {
                        report.evidence.correlated_history += 1;
                    }
                    state.and_then(|s| s.initiated_by().cloned())
                } else {
                    if in_lookback {
                        report.unattributed.push(Unattributed {
                            app: name.clone(),
                            record: Record::history(entry),
                            empty_initiator: recorded.is_some(),
                        });
                    }
                    continue;
                }
            }
        };
        let found = finding(initiator.as_ref(), Record::history(entry));
        if in_lookback {
            report.findings.extend(found);
        } else if let Some(found) = found.filter(|f| f.username.is_some()) {
            earlier = Some(found);
        }
    }
    report.before_lookback.extend(earlier);
}

/// Every manual intervention recorded on `apps` since `since` (the recreate): [`judge`]'s
/// findings with [`Lookback::SinceRecreate`]. Unattributed syncs are not findings.
#[must_use]
pub fn manual_interventions<'a>(apps: impl IntoIterator<Item = &'a Application>, since: Timestamp) -> Vec<ManualIntervention> {
    judge(apps, Lookback::SinceRecreate(since)).findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::fixtures::fixture;

    fn recreate() -> Lookback {
        Lookback::SinceRecreate("2026-11-26T10:00:00Z".parse().unwrap())
    }

    #[test]
    fn a_bootstrap_by_automated_sync_alone_is_proven_by_the_history_initiators() {
        let apps = [fixture("converged.yaml"), fixture("sync-running.yaml")];
        let report = judge(&apps, recreate());
        assert_eq!(report.findings, []);
        assert_eq!(report.verdict(), Verdict::Proven);
        assert_eq!(
            report.summary(),
            "evidence since the recreate at 2026-11-26T10:00:00Z: history[].initiatedBy (1 entries), operationState.operation.initiatedBy (2), pending operation.initiatedBy (1)"
        );
    }

    #[test]
    fn a_sync_by_a_user_is_found_naming_the_app_the_user_and_the_record() {
        let found = manual_interventions(&[fixture("manual-sync.yaml")], "2026-11-26T10:00:00Z".parse().unwrap());
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
    fn a_manual_sync_before_a_window_is_information_not_a_finding() {
        let window = Lookback::window("2026-11-27T10:05:00Z".parse().unwrap(), Duration::from_secs(24 * 3600));
        let report = judge(&[fixture("manual-sync.yaml")], window);
        assert_eq!(report.findings, []);
        assert_eq!(report.verdict(), Verdict::Proven);
        assert_eq!(report.before_lookback.len(), 1);
        assert!(
            report.summary().ends_with(
                "; before the lookback: cert-manager: synced by user `admin` (history #1, revision 9f8e7d6c, deployed 2026-11-26T10:04:05Z)"
            ),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn a_requested_sync_by_a_user_is_found() {
        let mut app = fixture("converged.yaml");
        app.operation = Some(crate::argocd::Operation {
            initiated_by: Some(InitiatedBy { username: Some("alice".into()), automated: None }),
            sync: None,
            retry: None,
        });
        let found = manual_interventions(&[app], recreate().start());
        assert_eq!(found[0].to_string(), "traefik: synced by user `alice` (requested operation)");
    }

    #[test]
    fn on_2_10_the_newest_history_entry_is_attributed_through_the_last_operation() {
        let app = fixture("v2.10/04-healthy.yaml");
        let report = judge(&[app], Lookback::SinceRecreate("2026-11-26T10:00:00Z".parse().unwrap()));
        assert_eq!(report.verdict(), Verdict::Proven);
        assert_eq!(report.evidence.correlated_history, 1);
        assert_eq!(report.evidence.history_initiators, 0);
    }

    #[test]
    fn on_2_10_an_older_history_entry_without_initiator_is_unattributed_not_manual() {
        let mut app = fixture("v2.10/04-healthy.yaml");
        let mut older = app.status.as_ref().unwrap().history[0].clone();
        older.id = Some(0);
        older.deploy_started_at = Some("2026-11-26T10:01:00Z".parse().unwrap());
        let status = app.status.as_mut().unwrap();
        status.history[0].id = Some(1);
        status.history.insert(0, older);
        let report = judge(&[app], Lookback::SinceRecreate("2026-11-26T10:00:00Z".parse().unwrap()));
        assert_eq!(report.findings, []);
        assert_eq!(report.verdict(), Verdict::Partial);
        assert_eq!(report.unattributed.len(), 1);
        assert!(report.unattributed[0].to_string().ends_with("could not be attributed (Argo CD < 2.11 records no initiator in history)"));
        assert!(
            report.summary().contains("; 1 sync could not be attributed (Argo CD < 2.11 records no initiator in history)"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn on_2_10_a_manual_sync_is_found_in_the_last_operation() {
        let report = judge(&[fixture("v2.10/08-manual-sync.yaml")], Lookback::SinceRecreate("2026-11-26T10:00:00Z".parse().unwrap()));
        assert_eq!(report.verdict(), Verdict::Manual);
        let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
        assert!(lines[0].starts_with("cert-manager-config: synced by user `admin` (last operation, started "), "{lines:?}");
        assert!(lines[1].starts_with("cert-manager-config: synced by user `admin` (history #0"), "the newest entry inherits it: {lines:?}");
    }

    #[test]
    fn an_empty_initiator_in_history_is_unattributed_and_an_initiator_less_operation_is_a_finding() {
        let mut app = fixture("converged.yaml");
        app.status.as_mut().unwrap().history[0].initiated_by = Some(InitiatedBy::default());
        app.status.as_mut().unwrap().history[0].deploy_started_at = None;
        let report = judge(&[app.clone()], recreate());
        assert_eq!((report.findings.len(), report.unattributed.len()), (0, 1));
        assert!(report.unattributed[0].empty_initiator);
        app.status.as_mut().unwrap().operation_state.as_mut().unwrap().operation = None;
        let found = manual_interventions(&[app], recreate().start());
        assert_eq!(
            found[0].to_string(),
            "traefik: sync with no recorded initiator, not shown to be automated (last operation, started 2026-11-26T10:02:01Z)"
        );
    }
}
