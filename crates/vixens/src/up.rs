//! `vixens up ENV`: brings an on-demand environment (a lab) up with its own terraform root, as
//! the suites do before their first test, and says what to export to use it. A real cluster is
//! refused: it is expected to be running.

use std::process::ExitCode;
use std::time::Duration;

use vixens_checks::cycle::Progress;
use vixens_ops::env::Environment;
use vixens_ops::lease::{Lease, cleanup};
use vixens_ops::provision;

/// How long `vixens up` waits for a test that is using the environment.
const LEASE_WAIT: Duration = Duration::from_secs(5);

/// Bring an on-demand environment (a lab) up with its terraform root
///
/// Runs `terraform init` and `apply` of the environment's root module with its variables, as the
/// suites do before their first test, then prints what to export to use it. Nothing is done when
/// its Kubernetes API already answers. Tear it down with `vixens destroy ENV`.
///
/// Exit status: 0 up (or already up), 1 refused (not an on-demand environment: a real cluster is
/// expected to be running), 2 error (unusable env.yaml, terraform failed).
#[derive(clap::Args)]
pub struct Args {
    /// The environment: a name under environments/ (lab, lab-ha) or the path of an env.yaml.
    env: String,
}

pub fn run(args: Args) -> ExitCode {
    let mut env = match crate::environment::load(&args.env) {
        Ok(env) => env,
        Err(code) => return code,
    };
    println!("vixens up {} ({})", env.name, env.file.display());
    if env.provisioning.is_none() {
        eprintln!(
            "vixens up {0}: refused: {0} is not an on-demand environment (no `provisioning` in its env.yaml); a real cluster is expected to be running: `vixens doctor {0}` checks it",
            env.name
        );
        return ExitCode::from(1);
    }
    if provision::is_up(&env) {
        println!("{} is already up: its Kubernetes API answers", env.name);
        print_exports(&env);
        return ExitCode::SUCCESS;
    }
    if let Err(message) = crate::environment::ensure_lab_binary(&mut env) {
        eprintln!("vixens up {}: {message}", env.name);
        return ExitCode::from(2);
    }
    // Bringing a lab up may destroy a stale state first: it holds the lease, as every destroy.
    let lease = match Lease::acquire(&env.work_dir, "vixens up", None, LEASE_WAIT, |item, held| cleanup::undo(&env, held, item)) {
        Ok(lease) => lease,
        Err(e) => {
            eprintln!("vixens up {}: {e}", env.name);
            return ExitCode::from(2);
        }
    };
    let result = provision::up(&env, lease.held(), &mut print_progress);
    if let Err(e) = lease.release() {
        eprintln!("vixens up {}: warning: {e}", env.name);
    }
    match result {
        Ok(()) => {
            println!("{} is up", env.name);
            print_exports(&env);
            println!("tear it down with: vixens destroy {0} --confirm {0}", env.name);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let redactor = env.redactor();
            eprintln!(
                "vixens up {}: failed in phase {} ({}): {}",
                env.name,
                failure.phase,
                redactor.redact(&failure.culprit),
                redactor.redact(&failure.message)
            );
            ExitCode::from(2)
        }
    }
}

/// Progress on stderr; terraform's lines are already redacted by its driver.
fn print_progress(progress: Progress<'_>) {
    match progress {
        Progress::Output { tool, line } => eprintln!("  {tool}: {line}"),
        Progress::Status(status) => eprintln!("  {status}"),
    }
}

fn print_exports(env: &Environment) {
    println!("  export KUBECONFIG={}", env.kubeconfig.display());
    println!("  export TALOSCONFIG={}", env.talosconfig.display());
    if !env.tools_path.is_empty() {
        let tools: Vec<String> = env.tools_path.iter().map(|p| p.display().to_string()).collect();
        println!("  export PATH={}:$PATH", tools.join(":"));
    }
}
