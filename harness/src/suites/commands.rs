//! The `commands` suite: one trial per entry of the environment's commands document, named
//! `commands::<env>::<entry-id>`, so that `-E 'test(/^commands::/)'` selects them and JUnit
//! names each documented command.
//!
//! Read-only entries run. Mutating entries run only when `VIXENS_COMMANDS_MUTATING=1` and the
//! environment is disposable; otherwise they are listed as ignored, never as passed. nextest
//! may run trials in parallel, so mutating entries that depend on each other are better run in
//! order with `vixens commands run ENV --mutating`.
//!
//! An on-demand environment (env.yaml `provisioning`: the labs) is brought up before its first
//! entry runs, as a recreate cycle's apply phase does it: `terraform init` and `apply` of its
//! root module, never a destroy. A real cluster is expected to be running already.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use crate::commands::{self, Document, Entry, RunOptions, Runner, Verdict};
use crate::env::Environment;

/// Set to `1` to run mutating entries in the suite.
pub const MUTATING_VAR: &str = "VIXENS_COMMANDS_MUTATING";

/// The trials of this suite for `env`.
#[must_use]
pub fn trials(env: &Environment) -> Vec<Trial> {
    let doc = match commands::load(&env.commands.doc) {
        Ok(doc) => Arc::new(doc),
        Err(e) => {
            let message = commands::error_chain(&e);
            return vec![Trial::test(format!("commands::{}::document_loads", env.name), move || Err(Failed::from(message)))];
        }
    };
    let env = Arc::new(env.clone());
    let mutating = std::env::var(MUTATING_VAR).is_ok_and(|v| v == "1");
    let mut names = BTreeSet::new();
    doc.entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let mut name = format!("commands::{}::{}", env.name, entry.id);
            if !names.insert(name.clone()) {
                // Lint reports the duplicate id; the trial still needs a name of its own.
                name = format!("{name}@line{}", entry.line);
            }
            let ignored = entry.is_mutating() && (!mutating || env.is_protected());
            let (env, doc) = (Arc::clone(&env), Arc::clone(&doc));
            Trial::test(name, move || run(&env, &doc, &doc.entries[index], mutating)).with_ignored_flag(ignored)
        })
        .collect()
}

fn run(env: &Environment, doc: &Document, entry: &Entry, mutating: bool) -> Result<(), Failed> {
    let binaries = binaries_folders()?;
    if env.provisioning.is_some() {
        provision::ensure_up(env, &binaries).map_err(Failed::from)?;
    }
    let options = RunOptions { mutating, entries: vec![entry.id.clone()], extra_path: binaries };
    let runner = Runner::new(env, doc, options);
    if let Some(skip) = runner.skip_reason(entry) {
        return Err(Failed::from(format!("not runnable here: {skip}")));
    }
    let outcome = runner.run_entry(entry, &mut |_| {});
    match outcome.verdict {
        Verdict::Passed { .. } => Ok(()),
        Verdict::Failed(failure) => Err(Failed::from(format!(
            "{failure}\nre-run: vixens commands run {} --entry {}",
            env.name, entry.id
        ))),
        Verdict::Skipped(skip) => Err(Failed::from(format!("not runnable here: {skip}"))),
    }
}

/// Where the `vixens` and `vixens-lab` binaries under test are, so that documented commands
/// (and the lab's terraform) calling them by name run this build.
fn binaries_folders() -> Result<Vec<PathBuf>, Failed> {
    let binaries = crate::testkit::binaries().map_err(|e| Failed::from(e.to_string()))?;
    let mut folders: Vec<PathBuf> = Vec::new();
    for dir in [&binaries.vixens, &binaries.vixens_lab].into_iter().filter_map(|p| p.parent()) {
        if !folders.iter().any(|f| f == dir) {
            folders.push(dir.to_owned());
        }
    }
    Ok(folders)
}

/// Bringing an on-demand environment up for its documented commands.
mod provision {
    use std::ffi::OsString;
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::env::Environment;
    use crate::process::Command;

    /// `terraform init` on a fresh machine reads only local modules: seconds, not minutes.
    const INIT_TIMEOUT: Duration = Duration::from_secs(120);
    /// How long the Kubernetes API may take to answer once apply returned.
    const API_TIMEOUT: Duration = Duration::from_secs(5);

    /// Applies `env`'s root module unless its Kubernetes API already answers, under a lock in
    /// its work dir so that concurrent test processes provision once.
    pub(super) fn ensure_up(env: &Environment, extra_path: &[PathBuf]) -> Result<(), String> {
        let path = crate::commands::runner::search_path(env, extra_path);
        if api_answers(env, &path) {
            return Ok(());
        }
        std::fs::create_dir_all(&env.work_dir).map_err(|e| format!("cannot create {}: {e}", env.work_dir.display()))?;
        let lock_path = env.work_dir.join("provision.lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        lock.lock().map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        if api_answers(env, &path) {
            return Ok(());
        }
        let backend = env.terraform.backend_config.iter().map(|(k, v)| format!("-backend-config={k}={v}"));
        terraform(env, &path, ["init", "-input=false", "-no-color"].into_iter().map(str::to_owned).chain(backend), INIT_TIMEOUT)?;
        let vars = env.terraform.vars.iter().map(|(k, v)| format!("-var={k}={v}"));
        let apply = ["apply", "-input=false", "-no-color", "-auto-approve"].into_iter().map(str::to_owned).chain(vars);
        terraform(env, &path, apply, env.budgets.phases.apply)?;
        if api_answers(env, &path) {
            Ok(())
        } else {
            Err(format!(
                "{} was applied but its Kubernetes API does not answer with {}; if its terraform state is stale, recreate it (vixens destroy {}, then apply)",
                env.name,
                env.kubeconfig.display(),
                env.name
            ))
        }
    }

    fn terraform(env: &Environment, path: &OsString, args: impl Iterator<Item = String>, timeout: Duration) -> Result<(), String> {
        let mut command = Command::new(&env.terraform.binary)
            .arg(format!("-chdir={}", env.terraform.root.display()))
            .args(args)
            .env("PATH", path)
            .timeout(timeout);
        let provisioning = env.provisioning.iter().flat_map(|p| p.env.iter());
        for (name, value) in env.terraform.process_env().iter().chain(provisioning) {
            command = command.env(name, value);
        }
        let what = format!("provisioning {}: terraform", env.name);
        match command.run() {
            Ok(done) if done.success() => Ok(()),
            Ok(done) => Err(format!("{what} exited {}:\n{}", done.code(), done.stderr_tail(20))),
            Err(e) => Err(format!("{what}: {}", crate::commands::error_chain(&e))),
        }
    }

    /// True when the environment's Kubernetes API answers `kubectl version`.
    fn api_answers(env: &Environment, path: &OsString) -> bool {
        let kubeconfig = env.kubeconfig_readonly.as_ref().unwrap_or(&env.kubeconfig);
        if !kubeconfig.is_file() {
            return false;
        }
        let request_timeout = format!("--request-timeout={}s", API_TIMEOUT.as_secs());
        Command::new("kubectl")
            .args(["version", request_timeout.as_str()])
            .env("KUBECONFIG", kubeconfig)
            .env("PATH", path)
            .timeout(API_TIMEOUT * 2)
            .run()
            .is_ok_and(|done| done.success())
    }
}
