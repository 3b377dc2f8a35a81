//! `vixens credentials ENV`: takes the credentials of the running cluster from its terraform
//! outputs again and mints a new read-only identity, as the harness does after every recreate.

use std::process::ExitCode;
use std::time::Duration;

use vixens_diagnostic::error_chain;
use vixens_drivers::terraform::Run;
use vixens_ops::credentials::{self, Installed};
use vixens_ops::env::Environment;

/// How long `terraform init` and `terraform output` may take.
const TERRAFORM_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the API gets to answer with the fresh admin kubeconfig.
const API_DEADLINE: Duration = Duration::from_secs(10);

/// Refresh an environment's credentials from its running cluster
///
/// Reads the terraform outputs env.yaml's `credentials.from-terraform-outputs` names (the
/// kubeconfig and talosconfig the last apply wrote) and installs those files at env.yaml's
/// `kubeconfig` and `talosconfig` (0600, atomically, the replaced copies kept as `*.previous`);
/// then, with that admin kubeconfig, makes sure the read-only ServiceAccount, its ClusterRole
/// (get, list, watch) and binding exist and writes `kubeconfig-readonly` with a new short-lived
/// token. The harness does the same after every apply; run this when `vixens doctor ENV` says the
/// read-only kubeconfig is stale or expired, or after applying by hand. Never prints a secret.
///
/// Exit status: 0 refreshed, 1 failed (an output missing or unreadable, the API not answering
/// with the fresh credentials, a request refused), 2 error (unusable env.yaml, or one without
/// `credentials`).
#[derive(clap::Args)]
pub struct Args {
    /// The environment: a name under environments/ (lab, dev, prod) or the path of an env.yaml.
    env: String,
}

pub fn run(args: Args) -> ExitCode {
    let mut env = match crate::environment::load(&args.env) {
        Ok(env) => env,
        Err(code) => return code,
    };
    println!("vixens credentials {} ({})", env.name, env.file.display());
    if env.credentials.is_none() {
        eprintln!(
            "vixens credentials {}: {} sets no `credentials`: nothing says where fresh credentials come from \
             (add `credentials: {{from-terraform-outputs: {{kubeconfig: kubeconfig_path, talosconfig: talosconfig_path}}, readonly: {{}}}}`)",
            env.name,
            env.file.display()
        );
        return ExitCode::from(2);
    }
    if let Err(message) = crate::environment::ensure_lab_binary(&mut env) {
        eprintln!("vixens credentials {}: {message}", env.name);
        return ExitCode::from(2);
    }
    match refresh(&env) {
        Ok(()) => {
            println!("{}'s credentials are fresh", env.name);
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("vixens credentials {}: {}", env.name, env.redactor().redact(&message));
            ExitCode::from(1)
        }
    }
}

/// The outputs' files installed, the API asked with them, the read-only identity minted.
fn refresh(env: &Environment) -> Result<(), String> {
    let redactor = env.redactor();
    let tf = env.terraform_driver(&redactor, None);
    let root = tf.root().display().to_string();
    tf.init(Run::within(TERRAFORM_TIMEOUT)).map_err(|e| format!("cannot read the outputs of the terraform root {root}: {}", error_chain(&e)))?;
    let installed = credentials::install_from_outputs(env, &tf, Run::within(TERRAFORM_TIMEOUT)).map_err(|e| error_chain(&e))?;
    for file in &installed {
        let what = match &file.installed {
            Installed::Unchanged => "unchanged".to_owned(),
            Installed::Replaced { previous: Some(previous) } => format!("replaced; the previous copy is {}", previous.display()),
            Installed::Replaced { previous: None } => "installed".to_owned(),
        };
        println!("  {:<19} {} ({what})", file.key, file.path.display());
    }
    let version = vixens_ops::probe::api(&env.kubeconfig, "kubeconfig", API_DEADLINE)
        .map_err(|e| format!("{}; is {} up? (`vixens up {}` for a lab)", error_chain(&e), env.name, env.name))?;
    println!("  {:<19} answers with the fresh kubeconfig (Kubernetes {})", "kubernetes-api", version.git_version);
    match vixens_ops::runtime::block_on(credentials::mint_read_only(env)).map_err(|e| error_chain(&e))? {
        Some(minted) => println!("  {:<19} {} as {} (valid until {})", "kubeconfig-readonly", minted.path.display(), minted.user, minted.expires),
        None => println!("  {:<19} not minted: env.yaml sets no `credentials.readonly`", "kubeconfig-readonly"),
    }
    Ok(())
}
