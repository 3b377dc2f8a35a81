//! The Argo CD judge of [`crate::wait`]: the app tree has converged when the root app has
//! created every child and every system app meets [`ready`].
//!
//! The root app's own health is never evidence (its health does not include its children's).
//! It is used only to know that the tree is complete: once it is Synced, with its last sync
//! Succeeded and reconciled after, every child it manages exists, so a listed system app that is
//! still missing never will, and an app matched by selector or sync wave cannot appear later
//! and be missed.

use jiff::Timestamp;

use super::application::{Application, HealthCode};
use super::conditions::{Condition, Unmet, no_pending_operation, operation_succeeded, reconciled_after_operation, synced, unmet_readiness};
use super::intervention::{InterventionReport, Lookback, ManualIntervention, judge, manual_interventions};
use super::system_apps::SystemAppRules;
use crate::wait::{Judge, Judgement, Progress, View, Waiting};

/// The judge: every system app of `rules` ready, after the root app completed the tree.
#[derive(Debug, Clone)]
pub struct Convergence<'a> {
    rules: &'a SystemAppRules,
    namespace: &'a str,
}

/// A converged app tree.
#[derive(Debug, Clone)]
pub struct Converged {
    /// The root app-of-apps as last seen.
    pub root: Application,
    /// Every system app as last seen, ordered by name.
    pub system_apps: Vec<Application>,
}

impl Converged {
    /// When the root app was created: the bootstrap of this cluster, a default "since" for
    /// [`Converged::manual_interventions`] when the caller did not time the recreate itself.
    #[must_use]
    pub fn bootstrapped_at(&self) -> Option<Timestamp> {
        let created = self.root.metadata.creation_timestamp.as_ref()?;
        Timestamp::new(created.0.as_second(), created.0.subsec_nanosecond()).ok()
    }

    /// Every manual intervention on the system apps since `since` (see
    /// [`manual_interventions`]).
    #[must_use]
    pub fn manual_interventions(&self, since: Timestamp) -> Vec<ManualIntervention> {
        manual_interventions(&self.system_apps, since)
    }

    /// The judgement of manual intervention on the system apps within `lookback`, with the
    /// evidence it rests on (see [`judge`]).
    #[must_use]
    pub fn interventions(&self, lookback: Lookback) -> InterventionReport {
        judge(&self.system_apps, lookback)
    }
}

impl<'a> Convergence<'a> {
    /// Judges the apps of `namespace` by `rules`.
    #[must_use]
    pub fn new(rules: &'a SystemAppRules, namespace: &'a str) -> Self {
        Self { rules, namespace }
    }

    /// Why the tree may still be incomplete: the root app missing or not done syncing, or a
    /// child it lists not visible yet. `Ok` with the root when complete.
    fn tree<'v>(&self, apps: &[&'v Application]) -> Result<&'v Application, Waiting> {
        let root_name = self.rules.root_app();
        let root = apps.iter().find(|a| a.name() == root_name).copied();
        let tree_done = synced().and(no_pending_operation()).and(operation_succeeded()).and(reconciled_after_operation());
        if let Err(unmet) = tree_done.check(root) {
            return Err(Waiting {
                name: root_name.to_owned(),
                state: format!("root app {}", unmet.state()),
                reason: format!("the root app has not finished creating the app tree: {unmet}"),
                failing: false,
            });
        }
        let root = root.expect("the tree condition is unmet for a missing root");
        let unseen = root.child_apps().map(|(name, _)| name).find(|name| !apps.iter().any(|a| a.name() == *name));
        match unseen {
            Some(child) => Err(Waiting {
                name: child.to_owned(),
                state: "not created yet".to_owned(),
                reason: format!("the root app lists it, but it is not in namespace {} yet", self.namespace),
                failing: false,
            }),
            None => Ok(root),
        }
    }
}

impl Judge<Application> for Convergence<'_> {
    type Done = Converged;

    fn judge(&self, view: &View<Application>) -> Judgement<Converged> {
        let apps: Vec<&Application> = view.iter().collect();
        let tree = self.tree(&apps);
        let mut waiting = Vec::new();
        let mut ready_apps = Vec::new();
        let mut total = 0;
        for app in apps.iter().filter(|a| self.rules.matches(a).is_some()) {
            total += 1;
            match unmet_readiness(Some(app)).as_slice() {
                [] => ready_apps.push((*app).clone()),
                unmet => waiting.push(waiting_on(app.name(), unmet)),
            }
        }
        let unknown = self.rules.unknown_names(apps.iter().map(|a| a.name()));
        for name in unknown {
            if tree.is_ok() {
                let closest = if name.closest.is_empty() { String::new() } else { format!("; closest: {}", name.closest.join(", ")) };
                return Judgement::Unsatisfiable(format!(
                    "system app `{}` does not exist in namespace {}: the root app `{}` has synced the whole \
                     tree without creating it{closest}",
                    name.name,
                    self.namespace,
                    self.rules.root_app()
                ));
            }
            let name = name.name.as_str();
            total += 1;
            waiting.push(waiting_on(name, &[Unmet::Missing]));
        }
        match tree {
            Err(prerequisite) => waiting.insert(0, prerequisite),
            Ok(_) if total == 0 => {
                return Judgement::Unsatisfiable(format!(
                    "no Application in namespace {} is a system app ({}): there is nothing to prove",
                    self.namespace, self.rules
                ));
            }
            Ok(root) if waiting.is_empty() => {
                return Judgement::Done(Converged { root: root.clone(), system_apps: ready_apps });
            }
            Ok(_) => {}
        }
        Judgement::Waiting(Progress { noun: "system apps", ready: ready_apps.len(), total, waiting })
    }
}

/// The progress entry of an app that is not ready: its first unmet condition as the short state
/// (Argo CD order), every unmet condition in the reason.
///
/// It is failing, and gets the grace window before the wait fails on it, when it is Degraded or
/// its last sync ended Failed or Error: Argo CD retries a sync while its phase is still Running,
/// and automated sync does not retry a revision whose sync failed, so neither fixes itself
/// unless something changes within the grace.
fn waiting_on(name: &str, unmet: &[Unmet]) -> Waiting {
    let failing = |u: &Unmet| matches!(u, Unmet::NotHealthy { health: Some(HealthCode::Degraded), .. } | Unmet::OperationFailed { .. });
    Waiting {
        name: name.to_owned(),
        state: unmet.first().map(Unmet::state).unwrap_or_default(),
        reason: unmet.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        failing: unmet.iter().any(failing),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::argocd::SystemApps;
    use crate::argocd::fixtures::{fixture, named};

    fn rules(system_apps: SystemApps) -> SystemAppRules {
        SystemAppRules::new("vixens-app-of-apps", &system_apps).unwrap()
    }

    fn wave_two() -> SystemAppRules {
        rules(SystemApps { max_sync_wave: Some(2), ..SystemApps::default() })
    }

    fn judge(rules: &SystemAppRules, apps: Vec<Application>) -> Judgement<Converged> {
        Convergence::new(rules, "argocd").judge(&View::of(apps))
    }

    fn waiting(judgement: Judgement<Converged>) -> Progress {
        match judgement {
            Judgement::Waiting(progress) => progress,
            other => panic!("expected the wait to go on, got {other:?}"),
        }
    }

    fn tree(children: Vec<Application>) -> Vec<Application> {
        let mut apps = vec![fixture("root.yaml")];
        apps.extend(children);
        apps
    }

    #[test]
    fn the_tree_has_converged_when_every_system_app_is_ready() {
        let rules = wave_two();
        let apps = tree(vec![fixture("converged.yaml"), named(fixture("converged.yaml"), "cert-manager", -1)]);
        let Judgement::Done(converged) = judge(&rules, apps) else { panic!("should have converged") };
        let names: Vec<&str> = converged.system_apps.iter().map(Application::name).collect();
        assert_eq!(names, ["cert-manager", "traefik"]);
        assert_eq!(converged.bootstrapped_at(), Some("2026-11-26T10:00:30Z".parse().unwrap()));
    }

    #[test]
    fn progress_names_each_app_still_waiting_with_its_state() {
        let rules = wave_two();
        let apps = tree(vec![named(fixture("sync-running.yaml"), "traefik", 2), named(fixture("converged.yaml"), "cert-manager", -1)]);
        let progress = waiting(judge(&rules, apps));
        assert_eq!(progress.to_string(), "1/2 system apps ready; waiting on traefik (Progressing)");
        assert_eq!(
            progress.details(),
            "\n  traefik: Progressing: health is Progressing: Deployment traefik is Progressing: Waiting for rollout to finish: \
             0 of 2 updated replicas are available... (from status.resources[].health); sync status is OutOfSync; the sync \
             operation is Running and has not finished"
        );
    }

    #[test]
    fn the_root_app_is_not_evidence_even_when_healthy() {
        let rules = rules(SystemApps { names: vec!["vixens-app-of-apps".into()], max_sync_wave: Some(2), ..Default::default() });
        let apps = tree(vec![named(fixture("converged.yaml"), "cert-manager", -1), named(fixture("sync-running.yaml"), "traefik", 2)]);
        let progress = waiting(judge(&rules, apps));
        assert_eq!(progress.total, 2, "the root app is not counted: {progress}");
    }

    #[test]
    fn nothing_is_ready_before_the_root_app_created_the_tree() {
        let rules = wave_two();
        let mut root = fixture("root.yaml");
        let op = root.status.as_mut().unwrap().operation_state.as_mut().unwrap();
        (op.phase, op.finished_at) = (Some(crate::argocd::OperationPhase::Running), None);
        let progress = waiting(judge(&rules, vec![root, fixture("converged.yaml")]));
        assert_eq!(progress.to_string(), "1/1 system apps ready; waiting on vixens-app-of-apps (root app sync Running)");

        let progress = waiting(judge(&rules, vec![fixture("converged.yaml")]));
        assert_eq!(progress.waiting[0].state, "root app Missing");
    }

    #[test]
    fn a_child_the_root_lists_but_not_yet_visible_keeps_the_wait_going() {
        let rules = wave_two();
        let progress = waiting(judge(&rules, tree(vec![fixture("converged.yaml")])));
        assert_eq!(progress.to_string(), "1/1 system apps ready; waiting on cert-manager (not created yet)");
    }

    #[test]
    fn a_listed_system_app_waits_while_the_tree_grows_and_fails_once_it_is_complete() {
        let rules = rules(SystemApps { names: vec!["keda".into(), "cert-manager-webhook".into()], max_sync_wave: Some(2), ..Default::default() });
        let mut root = fixture("root.yaml");
        root.status.as_mut().unwrap().sync.as_mut().unwrap().status = Some(crate::argocd::SyncCode::OutOfSync);
        let progress = waiting(judge(&rules, vec![root, fixture("converged.yaml")]));
        assert!(progress.to_string().contains("keda (Missing)"), "{progress}");

        let complete = tree(vec![fixture("converged.yaml"), named(fixture("converged.yaml"), "cert-manager", -1)]);
        let Judgement::Unsatisfiable(reason) = judge(&rules, complete) else { panic!("should fail") };
        assert_eq!(
            reason,
            "system app `cert-manager-webhook` does not exist in namespace argocd: the root app `vixens-app-of-apps` has synced \
             the whole tree without creating it; closest: cert-manager"
        );
    }

    #[test]
    fn a_definition_matching_no_app_fails_instead_of_passing_vacuously() {
        let rules = rules(SystemApps { selector: Some("tier=system".into()), ..Default::default() });
        let apps = tree(vec![fixture("converged.yaml"), named(fixture("converged.yaml"), "cert-manager", -1)]);
        let Judgement::Unsatisfiable(reason) = judge(&rules, apps) else { panic!("should fail") };
        assert_eq!(reason, "no Application in namespace argocd is a system app (selector tier=system): there is nothing to prove");
    }

    #[test]
    fn a_degraded_app_is_marked_failing_for_the_grace_window() {
        let rules = wave_two();
        let apps = tree(vec![fixture("degraded.yaml"), named(fixture("converged.yaml"), "cert-manager", -1)]);
        let progress = waiting(judge(&rules, apps));
        assert_eq!(
            progress.waiting,
            [Waiting {
                name: "traefik".into(),
                state: "Degraded".into(),
                reason: "health is Degraded: no reason in the Application (resourceHealthSource: appTree: Argo CD 3 keeps resource \
                         health in its resource tree)"
                    .into(),
                failing: true,
            }]
        );
    }

    #[test]
    fn a_failed_sync_is_marked_failing_too_and_not_a_slow_one() {
        let rules = wave_two();
        let failed = named(fixture("sync-failed.yaml"), "traefik", 2);
        let apps = tree(vec![failed, named(fixture("sync-running.yaml"), "cert-manager", -1)]);
        let failing: Vec<(String, bool)> = waiting(judge(&rules, apps)).waiting.into_iter().map(|w| (w.name, w.failing)).collect();
        assert_eq!(failing, [("cert-manager".to_owned(), false), ("traefik".to_owned(), true)]);
    }

    #[test]
    fn the_manual_interventions_of_a_converged_tree_name_app_and_user() {
        let rules = wave_two();
        let apps = tree(vec![fixture("converged.yaml"), named(fixture("manual-sync.yaml"), "cert-manager", -1)]);
        let Judgement::Done(converged) = judge(&rules, apps) else { panic!("should have converged") };
        let since = converged.bootstrapped_at().unwrap();
        let found: Vec<String> = converged.manual_interventions(since).iter().map(ToString::to_string).collect();
        assert_eq!(found[0], "cert-manager: synced by user `admin` (last operation, started 2026-11-26T10:04:00Z)");
    }
}
