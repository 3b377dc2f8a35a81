//! Phase `apply`: `terraform init` and `terraform apply -auto-approve` of the environment's root
//! module, the recreate itself. A failure names the resource terraform names (`with
//! terraform_data.lab,`) and keeps terraform's own explanation.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{OnProgress, failure};
use crate::budget::Phase;
use crate::cycle::Progress;
use crate::env::Environment;
use crate::evidence::Failure;
use crate::process::Stream;
use crate::redact::Redactor;
use crate::terraform::{self, Run, Summary, Terraform};

/// The terraform driver for `env`: its root, variables, backend and data dir, its tools-path
/// first on PATH, plus (for an environment the harness provisions) `provisioning.env`, with
/// every command appended to `transcript`.
pub(crate) fn terraform_for(env: &Environment, redactor: &Redactor, transcript: Option<&Path>) -> Terraform {
    let mut config = env.terraform.clone();
    if let Some(provisioning) = &env.provisioning {
        config.env.extend(provisioning.env.clone());
    }
    let mut tf = Terraform::new(&config).tools_path(&env.tools_path).redactor(redactor);
    if let Some(path) = transcript {
        tf = tf.transcript(path);
    }
    tf
}

/// Runs `terraform init` then `terraform apply` within `budget`, streaming terraform's lines.
pub(crate) fn run(
    env: &Environment,
    redactor: &Redactor,
    transcript: Option<&Path>,
    budget: Duration,
    on_progress: OnProgress<'_>,
) -> Result<Summary, Failure> {
    let started = Instant::now();
    let tf = terraform_for(env, redactor, transcript);
    let left = || budget.saturating_sub(started.elapsed());
    let mut lines = |_: Stream, line: &str| on_progress(Progress::Output { tool: "terraform", line });
    tf.init(Run::within(left()).progress(&mut lines)).map_err(|e| terraform_failure(Phase::Apply, &e))?;
    tf.apply(Run::within(left()).progress(&mut lines)).map_err(|e| terraform_failure(Phase::Apply, &e))
}

/// The failure of a terraform command in `phase`: the culprit is every resource address
/// terraform's errors name, else the command.
pub(crate) fn terraform_failure(phase: Phase, error: &terraform::Error) -> Failure {
    let (command, stderr) = match error {
        terraform::Error::Failed { command, stderr, .. } | terraform::Error::TimedOut { command, stderr, .. } => (command.clone(), stderr.as_str()),
        terraform::Error::Spawn { binary, .. } => (binary.clone(), ""),
        terraform::Error::PreventDestroy { addresses, .. } => return failure(phase, addresses.join(", "), crate::error_chain(error)),
        terraform::Error::Io { command, .. }
        | terraform::Error::Plan { command, .. }
        | terraform::Error::State { command, .. }
        | terraform::Error::Unexpected { command, .. } => (command.clone(), ""),
        terraform::Error::Transcript { path, .. } => (path.display().to_string(), ""),
    };
    let addresses = named_addresses(stderr);
    let culprit = if addresses.is_empty() { command } else { addresses.join(", ") };
    let mut message = crate::error_chain(error);
    let explanation = explanation(stderr);
    if !explanation.is_empty() {
        message.push('\n');
        message.push_str(&explanation);
    }
    failure(phase, culprit, message)
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
