//! The `fresh_cluster_validation` suite: the specification's "Fresh cluster validation" scenario,
//! one trial per [`Check`], named as JUnit readers expect:
//!
//! - `fresh_cluster_validation::recreate_cycle` destroys and recreates the environment and proves
//!   the fresh cluster (disposable environments only; listed as ignored on a protected one).
//!   Each run appends one record to the environment's evidence ledger: `just cycles ENV` runs it
//!   five times (`--stress-count 5`), one JUnit entry and one record per cycle.
//! - `::system_apps_healthy`, `::argocd_bootstrapped_without_manual_intervention` and
//!   `::talos_logs_clean` only read, with the read-only kubeconfig: they run on protected
//!   environments too.
//!
//! Each trial opens a [`Session`]: an on-demand environment (the lab) is brought up first if it
//! is not up and torn down after; a killed run's leftovers are reaped first.

use std::time::Duration;

use libtest_mimic::{Failed, Trial};

use vixens_checks::cycle::report::{Ledger, Terminal};
use vixens_checks::cycle::{self, Check, Options, Outcome, Reporters};
use vixens_diagnostic::error_chain as chain;
use vixens_ops::budget::Phase;
use vixens_ops::env::Environment;
use vixens_ops::session::{Session, Use};

/// The longest interval between two progress lines of a long wait.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// The trials of this suite for `env`.
#[must_use]
pub fn trials(env: &Environment) -> Vec<Trial> {
    Check::ALL
        .into_iter()
        .map(|check| {
            let trial_env = env.clone();
            let trial = Trial::test(format!("fresh_cluster_validation::{check}"), move || run(&trial_env, check));
            // A protected environment is never destroyed: the trial is listed, and skipped.
            trial.with_ignored_flag(check.is_destructive() && env.is_protected())
        })
        .collect()
}

/// Runs `check` on `env` in a session, recording a recreate cycle in the ledger.
fn run(env: &Environment, check: Check) -> Result<(), Failed> {
    let usage = if check.is_destructive() { Use::Recreate } else { Use::Read };
    let session = Session::open(env, &format!("fresh_cluster_validation::{check}"), usage).map_err(|e| Failed::from(e.to_string()))?;
    crate::report_reaped(&session);
    let env = session.env();
    let mut terminal = Terminal::new(std::io::stderr());
    let mut ledger = Ledger::for_env(env);
    let mut options = Options::default().progress_interval(progress_interval(env));
    if check.phases().contains(&Phase::Commands) {
        options = options.extra_path(vixens_ops::binaries::binaries().map_err(|e| Failed::from(chain(&e)))?.folders());
    }
    let outcome = cycle::run(env, session.lease(), check, &options, &mut Reporters::new().with(&mut terminal).with(&mut ledger));
    verdict(&outcome, ledger.finish().err(), session.close().err())
}

/// Progress about ten times per Argo CD budget, at most every [`PROGRESS_INTERVAL`].
fn progress_interval(env: &Environment) -> Duration {
    (env.budgets.phases.argocd / 10).clamp(Duration::from_secs(1), PROGRESS_INTERVAL)
}

/// The trial's result: the outcome's verdict, and any failure to record it or to clean up.
fn verdict(outcome: &Outcome, ledger: Option<vixens_ops::evidence::Error>, session: Option<vixens_ops::session::Error>) -> Result<(), Failed> {
    let mut problems = Vec::new();
    if !outcome.passed() {
        problems.push(outcome.to_string());
    }
    if let Some(e) = ledger {
        problems.push(format!("the cycle's evidence could not be recorded: {}", chain(&e)));
    }
    if let Some(e) = session {
        problems.push(chain(&e));
    }
    if problems.is_empty() { Ok(()) } else { Err(Failed::from(problems.join("\n"))) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    /// An environment of this workspace, every variable it needs set to a placeholder.
    fn load(name: &str) -> Environment {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/<crate> is two folders below the workspace")
            .join("environments")
            .join(name)
            .join("env.yaml");
        let mut vars = BTreeMap::new();
        if let Err(e) = Environment::load_with(&path, &vars) {
            for missing in e.missing_variables() {
                vars.insert(missing.to_owned(), format!("/placeholder/{missing}"));
            }
        }
        Environment::load_with(&path, &vars).unwrap_or_else(|e| panic!("{e}"))
    }

    fn listed(env: &Environment) -> Vec<(String, bool)> {
        trials(env).iter().map(|t| (t.name().to_owned(), t.has_ignored_flag())).collect()
    }

    #[test]
    fn the_trials_are_named_like_the_specification() {
        assert_eq!(
            listed(&load("lab")),
            [
                ("fresh_cluster_validation::recreate_cycle".to_owned(), false),
                ("fresh_cluster_validation::system_apps_healthy".to_owned(), false),
                ("fresh_cluster_validation::argocd_bootstrapped_without_manual_intervention".to_owned(), false),
                ("fresh_cluster_validation::talos_logs_clean".to_owned(), false),
            ]
        );
    }

    #[test]
    fn a_protected_environment_lists_the_recreate_cycle_as_ignored_and_runs_the_read_only_checks() {
        let prod = listed(&load("prod"));
        assert_eq!(prod[0], ("fresh_cluster_validation::recreate_cycle".to_owned(), true));
        assert!(prod[1..].iter().all(|(_, ignored)| !ignored), "{prod:?}");
    }

    #[test]
    fn progress_comes_about_ten_times_per_argocd_budget_at_most_every_five_seconds() {
        let mut env = load("lab");
        env.budgets.phases.argocd = Duration::from_secs(30);
        assert_eq!(progress_interval(&env), Duration::from_secs(3));
        env.budgets.phases.argocd = Duration::from_secs(20 * 60);
        assert_eq!(progress_interval(&env), Duration::from_secs(5));
    }
}
