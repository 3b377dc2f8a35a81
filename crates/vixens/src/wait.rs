//! `vixens wait ENV`: the recreate cycle's readiness judge on its own, after a manual
//! `terraform apply` or an Argo CD change: the Kubernetes API reached with the read-only
//! identity, then every Application watched until each system app is Healthy, Synced, its last
//! sync Succeeded and reconciled after, within the environment's `argocd` budget.
//!
//! Exit codes: 0 converged, 1 not converged within the budget or an app failed (the culprit is
//! named), 2 the environment could not be loaded or its Kubernetes API not reached.

use std::process::ExitCode;
use std::time::Duration;

use vixens_checks::cycle::report::Terminal;
use vixens_checks::cycle::{self, Check, Options};
use vixens_ops::budget::Phase;

/// Wait until every system app of an environment is Healthy, Synced and reconciled after its last
/// sync, as the recreate cycle's argocd phase does, printing the same progress lines.
///
/// Exit status: 0 converged, 1 not converged within the budget or an app stayed Degraded (the
/// culprit is named), 2 the environment could not be loaded or its Kubernetes API not reached.
#[derive(clap::Args)]
pub struct Args {
    /// The environment: a name under environments/ (lab, dev, prod) or the path of an env.yaml.
    env: String,
    /// How long to wait for the apps (default: the environment's `budgets.phases.argocd`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    timeout: Option<Duration>,
    /// How often to print where the wait is.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    progress_every: Duration,
}

pub fn run(args: Args) -> ExitCode {
    let mut env = match crate::environment::load(&args.env) {
        Ok(env) => env,
        Err(code) => return code,
    };
    if let Some(timeout) = args.timeout {
        env.budgets.phases.argocd = timeout;
    }
    let options = Options::default().progress_interval(args.progress_every);
    let mut terminal = Terminal::new(std::io::stdout());
    let outcome = cycle::run(&env, None, Check::SystemAppsHealthy, &options, &mut terminal);
    let Some(failure) = outcome.failures.first() else { return ExitCode::SUCCESS };
    eprintln!("error: {}: {} (culprit {})", failure.phase, failure.message, failure.culprit);
    if let Some(artifacts) = &outcome.artifacts {
        eprintln!("artifacts: {}", artifacts.display());
    }
    if failure.phase == Phase::KubernetesApi.name() { ExitCode::from(2) } else { ExitCode::from(1) }
}
