//! Bringing an environment up with its terraform root: the recreate cycle's apply phase
//! ([`apply`]), and an on-demand environment (env.yaml `provisioning`: the labs) brought up whole
//! ([`up`]), which test sessions ([`crate::session`]) and `vixens up` use. A real cluster is never
//! brought up here: it is expected to be running.

use std::path::Path;
use std::time::{Duration, Instant};

use vixens_diagnostic::error_chain;
use vixens_drivers::process::Stream;
use vixens_drivers::redact::Redactor;
use vixens_drivers::terraform::{self, Run, Summary};
use vixens_kube::Cluster;

use crate::budget::Phase;
use crate::destroy;
use crate::env::Environment;
use crate::evidence::Failure;
use crate::phase::{OnProgress, Progress};

/// How long a running environment's API gets to answer before it counts as not up.
const UP_PROBE: Duration = Duration::from_secs(2);

/// True when `env`'s Kubernetes API answers within two seconds with its admin kubeconfig.
#[must_use]
pub fn is_up(env: &Environment) -> bool {
    if !env.kubeconfig.is_file() {
        return false;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return false };
    // "Not up" is the answer, not an error: kube-rs's log of the refused connection is silenced
    // (the runtime runs on this thread, and so does every event it logs).
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        runtime.block_on(async {
            match Cluster::from_kubeconfig(&env.kubeconfig).await {
                Ok(cluster) => cluster.probe(UP_PROBE).await.is_ok(),
                Err(_) => false,
            }
        })
    })
}

/// `terraform init` and `apply` of `env`'s root within its apply budget, each terraform line
/// handed to `on_progress`. When the API still does not answer (a state left by a lab that has
/// since stopped: apply saw nothing to do), the stale state is destroyed through the safe
/// destroy path and applied again.
///
/// # Errors
/// The [`Failure`] of the phase that failed, naming its culprit (the resource terraform names).
pub fn up(env: &Environment, on_progress: OnProgress<'_>) -> Result<(), Failure> {
    let redactor = Redactor::new();
    let budget = env.budgets.phases.apply;
    apply(env, &redactor, None, budget, on_progress)?;
    if is_up(env) {
        return Ok(());
    }
    tracing::info!(environment = %env.name, "the API does not answer after apply: destroying the stale state and applying again");
    destroy::unattended::run(env, &redactor, None, on_progress)?;
    apply(env, &redactor, None, budget, on_progress)?;
    Ok(())
}

/// Runs `terraform init` then `terraform apply` within `budget`, streaming terraform's lines:
/// the recreate itself. A failure names the resource terraform names (`with terraform_data.lab,`)
/// and keeps terraform's own explanation.
///
/// # Errors
/// The apply phase's [`Failure`].
pub fn apply(
    env: &Environment,
    redactor: &Redactor,
    transcript: Option<&Path>,
    budget: Duration,
    on_progress: OnProgress<'_>,
) -> Result<Summary, Failure> {
    let started = Instant::now();
    let tf = env.terraform_driver(redactor, transcript);
    let left = || budget.saturating_sub(started.elapsed());
    let mut lines = |_: Stream, line: &str| on_progress(Progress::Output { tool: "terraform", line });
    tf.init(Run::within(left()).progress(&mut lines)).map_err(|e| terraform_failure(Phase::Apply, &e))?;
    tf.apply(Run::within(left()).progress(&mut lines)).map_err(|e| terraform_failure(Phase::Apply, &e))
}

/// The failure of a terraform command in `phase`: the culprit is every resource address
/// terraform's errors name, else the command.
pub fn terraform_failure(phase: Phase, error: &terraform::Error) -> Failure {
    let (command, stderr) = match error {
        terraform::Error::Failed { command, stderr, .. } | terraform::Error::TimedOut { command, stderr, .. } => (command.clone(), stderr.as_str()),
        terraform::Error::Spawn { binary, .. } => (binary.clone(), ""),
        terraform::Error::PreventDestroy { addresses, .. } => return phase.failure(addresses.join(", "), error_chain(error)),
        terraform::Error::Io { command, .. }
        | terraform::Error::Plan { command, .. }
        | terraform::Error::State { command, .. }
        | terraform::Error::Unexpected { command, .. } => (command.clone(), ""),
        terraform::Error::Transcript { path, .. } => (path.display().to_string(), ""),
    };
    let addresses = named_addresses(stderr);
    let culprit = if addresses.is_empty() { command } else { addresses.join(", ") };
    let mut message = error_chain(error);
    let explanation = explanation(stderr);
    if !explanation.is_empty() {
        message.push('\n');
        message.push_str(&explanation);
    }
    phase.failure(culprit, message)
}

/// Every address in terraform's `with <address>,` lines, in order, once each.
fn named_addresses(stderr: &str) -> Vec<String> {
    let mut addresses: Vec<String> = Vec::new();
    for line in stderr.lines() {
        if let Some(address) = line.trim().strip_prefix("with ").and_then(|rest| rest.strip_suffix(','))
            && !addresses.iter().any(|a| a == address)
        {
            addresses.push(address.to_owned());
        }
    }
    addresses
}

/// terraform's explanation below each `Error:` headline, without the source snippet (`on main.tf
/// line 33 ...`, `33: ...`), its wrapped lines joined: `Error running command '...': exit status 1.
/// Output: vixens-lab: fault ...`.
fn explanation(stderr: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    for paragraph in stderr.split("\n\n") {
        let lines: Vec<&str> = paragraph.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let Some(first) = lines.first() else { continue };
        let snippet = first.starts_with("Error: ") || first.starts_with("with ") || first.starts_with("on ") || first.starts_with("Warning: ");
        if !snippet {
            paragraphs.push(lines.join(" "));
        }
    }
    paragraphs.join("\n")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// What terraform 1.11 prints on stderr when the lab's `vixens-lab up` fails (`apply-fail`).
    const APPLY_FAIL: &str = "
Error: local-exec provisioner error

  with terraform_data.lab,
  on main.tf line 33, in resource \"terraform_data\" \"lab\":
  33:   provisioner \"local-exec\" {

Error running command 'exec \"$LAB_BIN\" up --state-dir \"$STATE_DIR\" --name
\"$NAME\" --nodes \"$CONTROL_PLANES\" --workers \"$WORKERS\" --nas-dir \"$NAS_DIR\"
--time-scale \"$TIME_SCALE\" $APP_COUNT_ARGS': exit status 1. Output:
vixens-lab: fault `apply-fail` injected through VIXENS_LAB_FAULTS: the lab
refuses to start

";

    #[test]
    fn a_failed_apply_names_the_resource_and_keeps_terraforms_explanation() {
        let error = terraform::Error::Failed {
            command: "terraform apply -auto-approve".into(),
            root: PathBuf::from("/w/environments/lab/terraform"),
            code: 1,
            summary: "local-exec provisioner error".into(),
            stderr: APPLY_FAIL.into(),
        };
        let failure = terraform_failure(Phase::Apply, &error);
        assert_eq!(failure.phase, "apply");
        assert_eq!(failure.culprit, "terraform_data.lab");
        assert_eq!(
            failure.message,
            "`terraform apply -auto-approve` in /w/environments/lab/terraform failed with exit code 1: local-exec provisioner error\n\
             Error running command 'exec \"$LAB_BIN\" up --state-dir \"$STATE_DIR\" --name \"$NAME\" --nodes \"$CONTROL_PLANES\" \
             --workers \"$WORKERS\" --nas-dir \"$NAS_DIR\" --time-scale \"$TIME_SCALE\" $APP_COUNT_ARGS': exit status 1. Output: \
             vixens-lab: fault `apply-fail` injected through VIXENS_LAB_FAULTS: the lab refuses to start"
        );
    }

    #[test]
    fn a_failure_naming_no_resource_blames_the_command() {
        let error = terraform::Error::TimedOut {
            command: "terraform apply -auto-approve".into(),
            root: PathBuf::from("/w/terraform"),
            timeout: Duration::from_secs(30),
            stderr: String::new(),
        };
        let failure = terraform_failure(Phase::Apply, &error);
        assert_eq!(failure.culprit, "terraform apply -auto-approve");
        assert_eq!(failure.message, "`terraform apply -auto-approve` in /w/terraform did not finish within 30s");
    }
}
