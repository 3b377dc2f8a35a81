//! The `commands` suite: one trial per entry of the environment's commands document, named
//! `commands::<env>::<entry-id>`, so that `-E 'test(/^commands::/)'` selects them and JUnit
//! names each documented command.
//!
//! Read-only entries run. Mutating entries run only when `VIXENS_COMMANDS_MUTATING=1` and the
//! environment is disposable; otherwise they are listed as ignored, never as passed. nextest
//! may run trials in parallel, so mutating entries that depend on each other are better run in
//! order with `vixens commands run ENV --mutating`.
//!
//! Each trial opens a read [`Session`]: an on-demand environment (env.yaml `provisioning`: the
//! labs) is brought up before its first entry runs and torn down when the nextest run ends, as
//! for every suite. A real cluster is expected to be running already.

use std::collections::BTreeSet;
use std::sync::Arc;

use libtest_mimic::{Failed, Trial};

use vixens_checks::commands::{RunOptions, Runner, Verdict};
use vixens_docs::commands::{self, Document, Entry};
use vixens_ops::env::Environment;
use vixens_ops::session::{Session, Use};

/// Set to `1` to run mutating entries in the suite.
pub const MUTATING_VAR: &str = "VIXENS_COMMANDS_MUTATING";

/// The trials of this suite for `env`.
#[must_use]
pub fn trials(env: &Environment) -> Vec<Trial> {
    let doc = match commands::load(&env.commands.doc) {
        Ok(doc) => Arc::new(doc),
        Err(e) => {
            let message = vixens_diagnostic::error_chain(&e);
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
    let binaries = vixens_ops::binaries::binaries().map_err(|e| Failed::from(vixens_diagnostic::error_chain(&e)))?.folders();
    let session = Session::open(env, &format!("commands::{}", entry.id), Use::Read).map_err(|e| Failed::from(vixens_diagnostic::error_chain(&e)))?;
    crate::report_reaped(&session);
    let result = run_entry(session.env(), doc, entry, RunOptions { mutating, entries: vec![entry.id.clone()], extra_path: binaries, jobs: 1 });
    let closed = session.close().map_err(|e| Failed::from(vixens_diagnostic::error_chain(&e)));
    result.and(closed)
}

fn run_entry(env: &Environment, doc: &Document, entry: &Entry, options: RunOptions) -> Result<(), Failed> {
    let runner = Runner::new(env, doc, options);
    if let Some(skip) = runner.skip_reason(entry) {
        return Err(Failed::from(format!("not runnable here: {skip}")));
    }
    match runner.run_entry(entry, &mut |_| {}).verdict {
        Verdict::Passed { .. } => Ok(()),
        Verdict::Failed(failure) => Err(Failed::from(format!("{failure}\nre-run: vixens commands run {} --entry {}", env.name, entry.id))),
        Verdict::Skipped(skip) => Err(Failed::from(format!("not runnable here: {skip}"))),
    }
}
