//! Bringing an environment up with its terraform root: the recreate cycle's apply phase
//! ([`apply`]), and an on-demand environment (env.yaml `provisioning`: the labs) brought up whole
//! ([`up`]), which test sessions ([`crate::session`]) and `vixens up` use. A real cluster is never
//! brought up here: it is expected to be running.

use std::time::Duration;

use vixens_diagnostic::error_chain;
use vixens_drivers::process::Stream;
use vixens_drivers::terraform::{self, Run, Summary};

use crate::budget::Phase;
use crate::credentials;
use crate::destroy;
use crate::env::Environment;
use crate::evidence::Failure;
use crate::lease::Held;
use crate::phase::{OnProgress, PhaseCtx, Progress};

/// How long a running environment's API gets to answer before it counts as not up.
const UP_PROBE: Duration = Duration::from_secs(2);

/// True when `env`'s Kubernetes API answers within two seconds with its admin kubeconfig.
#[must_use]
pub fn is_up(env: &Environment) -> bool {
    if !env.kubeconfig.is_file() {
        return false;
    }
    crate::probe::api(&env.kubeconfig, "kubeconfig", UP_PROBE).is_ok()
}

/// `terraform init` and `apply` of `env`'s root within its apply budget, each terraform line
/// handed to `on_progress`, holding its `lease`, the credentials of the apply installed ([`apply`]).
/// When the API still does not answer (a state left by a lab that has since stopped: apply saw
/// nothing to do), the stale state is destroyed through the safe destroy path and applied again.
/// Then the read-only identity is minted ([`mint_read_only`]).
///
/// # Errors
/// The [`Failure`] of the phase that failed, naming its culprit (the resource terraform names).
pub fn up(env: &Environment, lease: Held<'_>, on_progress: OnProgress<'_>) -> Result<(), Failure> {
    let redactor = env.redactor();
    apply(env, &mut PhaseCtx::new(Phase::Apply, &env.budgets, &redactor, on_progress))?;
    if !is_up(env) {
        tracing::info!(environment = %env.name, "the API does not answer after apply: destroying the stale state and applying again");
        destroy::unattended::run(env, lease, &mut PhaseCtx::new(Phase::Destroy, &env.budgets, &redactor, on_progress))?;
        apply(env, &mut PhaseCtx::new(Phase::Apply, &env.budgets, &redactor, on_progress))?;
    }
    let mut ctx = PhaseCtx::new(Phase::KubernetesApi, &env.budgets, &redactor, on_progress);
    mint_read_only(env, &mut ctx)
}

/// Mints the read-only identity of `env` (when env.yaml asks for one) once its API answers, as
/// part of `ctx`'s phase, and says so.
///
/// # Errors
/// The phase's [`Failure`] naming the ServiceAccount or the file.
pub fn mint_read_only(env: &Environment, ctx: &mut PhaseCtx<'_>) -> Result<(), Failure> {
    match crate::runtime::block_on(credentials::mint_read_only(env)) {
        Ok(Some(minted)) => {
            ctx.status(&format!("minted the read-only identity {} into {} (valid until {})", minted.user, minted.path.display(), minted.expires));
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(ctx.phase().failure(e.culprit(), error_chain(&e))),
    }
}

/// Runs `terraform init` then `terraform apply` within the phase's budget, streaming terraform's
/// lines: the recreate itself. A failure names the resource terraform names (`with
/// terraform_data.lab,`) and keeps terraform's own explanation. Then the credentials the apply
/// wrote are installed at env.yaml's paths ([`credentials::install_from_outputs`]): every later
/// phase uses them.
///
/// # Errors
/// The apply phase's [`Failure`].
pub fn apply(env: &Environment, ctx: &mut PhaseCtx<'_>) -> Result<Summary, Failure> {
    let tf = env.terraform_driver(ctx.redactor(), ctx.transcript_path());
    let phase = ctx.phase();
    let init = tf.init(Run::within(ctx.left()).progress(&mut |_: Stream, line: &str| ctx.report(Progress::Output { tool: "terraform", line })));
    init.map_err(|e| terraform_failure(phase, &e))?;
    let left = ctx.left();
    let summary = tf
        .apply(Run::within(left).progress(&mut |_: Stream, line: &str| ctx.report(Progress::Output { tool: "terraform", line })))
        .map_err(|e| terraform_failure(phase, &e))?;
    let installed = credentials::install_from_outputs(env, &tf, Run::within(ctx.left())).map_err(|e| phase.failure(e.culprit(), error_chain(&e)))?;
    for file in installed {
        let what = match &file.installed {
            credentials::Installed::Unchanged => "unchanged",
            credentials::Installed::Replaced { previous: Some(_) } => "new credentials, the previous copy kept beside it",
            credentials::Installed::Replaced { previous: None } => "new credentials",
        };
        ctx.status(&format!("{} from the apply installed at {} ({what})", file.key, file.path.display()));
    }
    Ok(summary)
}

/// The failure of a terraform command in `phase`: the culprit is every resource address
/// terraform's errors name, else the command.
pub fn terraform_failure(phase: Phase, error: &terraform::Error) -> Failure {
    let (command, stderr) = match error {
        terraform::Error::Failed { command, stderr, .. } | terraform::Error::TimedOut { command, stderr, .. } => (command.clone(), stderr.as_str()),
        terraform::Error::Spawn { binary, .. } => (binary.clone(), ""),
        terraform::Error::PreventDestroy { addresses, .. } => return phase.failure(addresses.join(", "), error_chain(error)),
        terraform::Error::Io { command, .. }
        | terraform::Error::Interrupted { command, .. }
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
