//! Runs a document's entries on one environment.
//!
//! Each command runs through `bash -c` (pipes, `&&` and `$VAR` work as in a terminal), in the
//! infrastructure repository, with stderr merged into stdout in write order (a console
//! transcript), under the entry's timeout or the environment's `commands.timeout`. The
//! environment comes from env.yaml:
//! - `KUBECONFIG`: the read-only kubeconfig for read-only entries when the environment has one
//!   (so a read-only entry proves it is), else the admin one;
//! - `TALOSCONFIG`;
//! - `PATH`: the environment's `tools-path` first (the lab's `talosctl`), then any folders the
//!   caller adds (the `vixens` binaries), then the inherited PATH;
//! - what terraform needs for the environment's root (`TF_DATA_DIR`, `terraform.env`);
//! - one variable per value: `ENV_NAME`, `ENV_FILE`, `NODE` (the first control plane),
//!   `NODE_COUNT`, then `commands.values`, which may override them;
//! - `SCRATCH`: an empty folder of the entry's own, shared by its commands and removed after
//!   it (for state a mutating entry creates, such as a second lab's state folder); a
//!   `[SCRATCH]` placeholder defined `per environment` matches it in expected output.
//!
//! A mismatch is retried while the entry's `Converges:` window allows. Mutating entries run
//! only when asked and never on a protected environment; once one fails, the later mutating
//! entries are skipped.
//!
//! Output is redacted before it is matched or shown: first by the environment's redactor (the
//! secrets it knows: its kubeconfigs', talosconfig's and env.yaml's), then by the `secrets`
//! rules ([`vixens_docs::secrets::scrub`]) for those it cannot know, such as the password
//! `argocd admin initial-password` just printed. Both write the redactor's placeholder,
//! `[REDACTED:<name>]`, so no secret reaches a diff, a report, JUnit or a recorded document, and
//! an expected output can say exactly what is shown. The runner only emits [`Event`]s and
//! returns a [`Report`]: printing belongs to the caller.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vixens_drivers::process::{self, Command};
use vixens_drivers::redact::Redactor;
use vixens_ops::env::{Environment, NodeRole};

use super::report::{EntryOutcome, Exit, FailedStep, Failure, FailureKind, Report, ScrubbedStep, Skip, Verdict};
use vixens_diagnostic::error_chain;
use vixens_docs::commands::diff::{self, Side};
use vixens_docs::commands::document::{Document, Entry, PlaceholderValue, Step};
use vixens_docs::commands::matcher::Expected;
use vixens_docs::commands::versions::Versions;
use vixens_docs::secrets;

/// Read-only entries run at once at most: each is a few short processes (kubectl, talosctl,
/// vixens) that mostly wait on an API, so a few at once fill two cores without crowding them.
pub const CONCURRENT_ENTRIES: usize = 4;

/// What an entry running on another thread did, passed on in document order.
enum Progress {
    Retrying { attempt: u32, failure: Box<Failure> },
    Finished(Box<EntryOutcome>),
}

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run mutating entries too (never on a protected environment).
    pub mutating: bool,
    /// Run only these entry ids; all when empty.
    pub entries: Vec<String>,
    /// Folders put on PATH after the environment's `tools-path` (where `vixens` and
    /// `vixens-lab` are, so that documented commands call the binaries under test).
    pub extra_path: Vec<PathBuf>,
    /// Read-only entries run at once at most; 0 means [`CONCURRENT_ENTRIES`], 1 one at a time.
    pub jobs: usize,
}

/// Progress, as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// An entry is about to run (or be skipped).
    EntryStarted {
        /// The entry.
        entry: &'a Entry,
    },
    /// A converging entry's command did not match yet; it will be retried.
    Retrying {
        /// The entry.
        entry: &'a Entry,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Why.
        failure: &'a Failure,
    },
    /// An entry is done.
    EntryFinished {
        /// Its outcome.
        outcome: &'a EntryOutcome,
    },
}

/// Runs entries of one document on one environment.
#[derive(Debug)]
pub struct Runner<'a> {
    env: &'a Environment,
    doc: &'a Document,
    options: RunOptions,
    values: BTreeMap<String, String>,
    path: OsString,
    versions: Versions,
}

impl<'a> Runner<'a> {
    /// A runner for `doc`'s entries on `env`.
    #[must_use]
    pub fn new(env: &'a Environment, doc: &'a Document, options: RunOptions) -> Self {
        let path = search_path(env, &options.extra_path);
        Self { env, doc, values: values(env), versions: Versions::new(path.clone()), path, options }
    }

    /// Runs every selected entry; events and outcomes come in document order. Read-only
    /// entries do not change what the others read, so those between two mutating entries that
    /// run are run at once (at most [`RunOptions::jobs`]); a mutating entry runs alone, after
    /// everything before it and before everything after it.
    pub fn run(&self, on_event: &mut dyn FnMut(Event<'_>)) -> Report {
        let started = Instant::now();
        let selected: Vec<&Entry> =
            self.doc.entries.iter().filter(|e| self.options.entries.is_empty() || self.options.entries.contains(&e.id)).collect();
        let mut outcomes = Vec::new();
        let mut failed_mutating: Option<String> = None;
        let mut at = 0;
        while at < selected.len() {
            let runs_alone = |e: &&Entry| e.is_mutating() && self.skip_reason(e).is_none();
            let entry = selected[at];
            if !runs_alone(&entry) {
                let end = selected[at..].iter().position(runs_alone).map_or(selected.len(), |n| at + n);
                outcomes.extend(self.run_at_once(&selected[at..end], on_event));
                at = end;
                continue;
            }
            on_event(Event::EntryStarted { entry });
            let outcome = match &failed_mutating {
                Some(failed) => self.skipped(entry, Skip::AfterMutatingFailure { entry: failed.clone() }),
                None => self.run_entry(entry, on_event),
            };
            if matches!(outcome.verdict, Verdict::Failed(_)) && failed_mutating.is_none() {
                failed_mutating = Some(entry.id.clone());
            }
            on_event(Event::EntryFinished { outcome: &outcome });
            outcomes.push(outcome);
            at += 1;
        }
        Report { env: self.env.name.clone(), simulated: self.env.is_simulated(), doc: self.doc.path.clone(), outcomes, elapsed: started.elapsed() }
    }

    /// Runs `entries` (read-only ones, and mutating ones that are skipped) on up to
    /// [`RunOptions::jobs`] threads. Events are passed on in document order: those of the
    /// first unfinished entry as they happen, the others' once the entries before them finished.
    fn run_at_once(&self, entries: &[&'a Entry], on_event: &mut dyn FnMut(Event<'_>)) -> Vec<EntryOutcome> {
        let next = AtomicUsize::new(0);
        let (sender, received) = mpsc::channel::<(usize, Progress)>();
        std::thread::scope(|scope| {
            let jobs = if self.options.jobs == 0 { CONCURRENT_ENTRIES } else { self.options.jobs };
            for _ in 0..jobs.min(entries.len()) {
                let (sender, next) = (sender.clone(), &next);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&entry) = entries.get(i) else { break };
                        let outcome = match self.skip_reason(entry) {
                            Some(skip) => self.skipped(entry, skip),
                            None => self.run_entry(entry, &mut |event| {
                                if let Event::Retrying { attempt, failure, .. } = event {
                                    let _ = sender.send((i, Progress::Retrying { attempt, failure: Box::new(failure.clone()) }));
                                }
                            }),
                        };
                        let _ = sender.send((i, Progress::Finished(Box::new(outcome))));
                    }
                });
            }
            drop(sender);
            let mut pending: Vec<Vec<Progress>> = entries.iter().map(|_| Vec::new()).collect();
            let mut outcomes = Vec::with_capacity(entries.len());
            if let Some(first) = entries.first() {
                on_event(Event::EntryStarted { entry: first });
            }
            for (i, progress) in received {
                pending[i].push(progress);
                // Pass on what the first unfinished entry did; when it finished, the next one's.
                while let Some(&entry) = entries.get(outcomes.len()) {
                    let head = outcomes.len();
                    let mut finished = None;
                    for progress in pending[head].drain(..) {
                        match progress {
                            Progress::Retrying { attempt, failure } => on_event(Event::Retrying { entry, attempt, failure: &failure }),
                            Progress::Finished(outcome) => finished = Some(*outcome),
                        }
                    }
                    let Some(outcome) = finished else { break };
                    on_event(Event::EntryFinished { outcome: &outcome });
                    outcomes.push(outcome);
                    if let Some(next) = entries.get(outcomes.len()) {
                        on_event(Event::EntryStarted { entry: next });
                    }
                }
            }
            outcomes
        })
    }

    /// Why `entry` may not run here with these options, if it may not.
    #[must_use]
    pub fn skip_reason(&self, entry: &Entry) -> Option<Skip> {
        if !entry.is_mutating() {
            None
        } else if self.env.is_protected() {
            Some(Skip::ProtectedEnvironment)
        } else if !self.options.mutating {
            Some(Skip::MutatingNotRequested)
        } else {
            None
        }
    }

    fn skipped(&self, entry: &Entry, skip: Skip) -> EntryOutcome {
        EntryOutcome {
            id: entry.id.clone(),
            line: entry.line,
            digest: entry.example.as_ref().map(|e| e.digest.clone()),
            verdict: Verdict::Skipped(skip),
            elapsed: Duration::ZERO,
            tools: Vec::new(),
            scrubbed: Vec::new(),
        }
    }

    /// Runs one entry's commands in order; the first that fails ends the entry.
    ///
    /// # Caveats
    /// Does not check [`Runner::skip_reason`]: callers that run a single entry decide.
    pub fn run_entry(&self, entry: &Entry, on_event: &mut dyn FnMut(Event<'_>)) -> EntryOutcome {
        let started = Instant::now();
        let digest = entry.example.as_ref().map(|e| e.digest.clone());
        let mut scrubbed = Vec::new();
        let outcome = |verdict, tools, scrubbed| EntryOutcome {
            id: entry.id.clone(),
            line: entry.line,
            digest: digest.clone(),
            verdict,
            elapsed: started.elapsed(),
            tools,
            scrubbed,
        };
        let steps = match &entry.example {
            Some(example) if !example.steps.is_empty() => &example.steps,
            _ => return outcome(Verdict::Failed(self.failure(entry, None, 1, FailureKind::NoExample)), Vec::new(), Vec::new()),
        };
        if let Some(message) = vixens_ops::env::missing_read_only_identity(self.env) {
            return outcome(Verdict::Failed(self.failure(entry, None, 1, FailureKind::CannotRun { message })), Vec::new(), Vec::new());
        }
        let scratch = match tempfile::Builder::new().prefix("vixens-commands-").tempdir() {
            Ok(dir) => dir,
            Err(e) => {
                let kind = FailureKind::CannotRun { message: format!("cannot create the entry's SCRATCH folder: {e}") };
                return outcome(Verdict::Failed(self.failure(entry, None, 1, kind)), Vec::new(), Vec::new());
            }
        };
        let mut slowest = 1;
        for step in steps {
            match self.run_step(entry, step, scratch.path(), on_event) {
                Ok((attempts, rules)) => {
                    slowest = slowest.max(attempts);
                    if !rules.is_empty() {
                        scrubbed.push(ScrubbedStep { line: step.line, summary: step.summary(), rules });
                    }
                }
                Err(failure) => return outcome(Verdict::Failed(failure), Vec::new(), scrubbed),
            }
        }
        let tools = self.versions.for_commands(steps.iter().map(|s| s.command.as_str()));
        outcome(Verdict::Passed { attempts: slowest }, tools, scrubbed)
    }

    /// Runs one command until it matches, or until the entry's convergence window closes; on
    /// success, the attempts it took and the rules of the secrets scrubbed from its output.
    fn run_step(
        &self,
        entry: &Entry,
        step: &Step,
        scratch: &Path,
        on_event: &mut dyn FnMut(Event<'_>),
    ) -> Result<(u32, Vec<&'static str>), Box<Failure>> {
        let expected = self.expected(step, scratch).map_err(|message| self.failure(entry, Some(step), 1, FailureKind::MissingValue { message }))?;
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let kind = match self.attempt(entry, step, &expected, scratch) {
                Ok(scrubbed) => return Ok((attempts, scrubbed)),
                Err(kind) => kind,
            };
            let failure = self.failure(entry, Some(step), attempts, kind);
            let Some(window) = entry.converges.filter(|_| failure.is_retryable()) else { return Err(failure) };
            if started.elapsed() + window.every >= window.within {
                return Err(failure);
            }
            on_event(Event::Retrying { entry, attempt: attempts, failure: &failure });
            std::thread::sleep(window.every);
        }
    }

    /// The step's expected output for this environment, after checking that every
    /// per-environment value it uses (in its output or as `$NAME` in its command) is given.
    fn expected(&self, step: &Step, scratch: &Path) -> Result<Expected, String> {
        let mut values = self.values.clone();
        values.insert("SCRATCH".into(), scratch.display().to_string());
        for placeholder in &self.doc.placeholders {
            let name = &placeholder.name;
            if placeholder.value == PlaceholderValue::PerEnvironment && !values.contains_key(name) && uses_variable(&step.command, name) {
                return Err(format!(
                    "the command at line {} uses `${name}`, a per-environment placeholder with no value in this environment: add `commands.values.{name}` to {}",
                    step.line,
                    self.env.file.display()
                ));
            }
        }
        Expected::compile(&step.expected, &self.doc.placeholders, &values).map_err(|e| format!("{e} ({})", self.env.file.display()))
    }

    /// One run of `step`: `Ok` with the rules of the secrets scrubbed from its output when it
    /// exited and printed as expected.
    fn attempt(&self, entry: &Entry, step: &Step, expected: &Expected, scratch: &Path) -> Result<Vec<&'static str>, FailureKind> {
        let timeout = entry.timeout.unwrap_or(self.env.commands.timeout);
        // One pipe for both streams keeps their order, as a terminal shows it.
        let script = format!("exec 2>&1\n{}", step.command);
        let mut command = Command::new("bash").args(["--noprofile", "--norc", "-c", &script]).dir(absolute(&self.env.infra_repo)).timeout(timeout);
        for (name, value) in self.command_env(entry) {
            command = command.env(name, value);
        }
        command = command.env("SCRATCH", scratch);
        let redactor = self.redactor();
        let redact = |text: &str| secrets::scrub(&redactor.redact(text), secrets::Kind::Output);
        let done = match command.run() {
            Ok(done) => done,
            Err(process::Error::TimedOut { stdout, .. }) => return Err(FailureKind::TimedOut { timeout, output: redact(&stdout).text }),
            Err(e @ (process::Error::Spawn { .. } | process::Error::Io { .. } | process::Error::Cancelled { .. })) => {
                return Err(FailureKind::CannotRun { message: error_chain(&e) });
            }
        };
        let secrets::Scrubbed { text: output, rules } = redact(&done.stdout);
        let actual = match std::os::unix::process::ExitStatusExt::signal(&done.status) {
            Some(signal) => Exit::Signal(signal),
            None => Exit::Code(done.code()),
        };
        if actual != Exit::Code(step.expected_status()) {
            return Err(FailureKind::Status { expected: step.expected_status(), actual, output });
        }
        if !expected.matches(&output) {
            return Err(FailureKind::Output { diff: self.diff(step, expected, &output) });
        }
        Ok(rules)
    }

    fn diff(&self, step: &Step, expected: &Expected, output: &str) -> String {
        let first = step.expected.first().map_or(step.line, |l| l.line);
        // The document's own lines are scrubbed too: a diff goes to terminals and JUnit.
        let mut notes = String::new();
        let mut expected_lines = Vec::new();
        for line in &step.expected {
            let scrubbed = secrets::scrub(line.text.trim_end(), secrets::Kind::Output);
            for rule in &scrubbed.rules {
                notes.push_str(&format!(
                    "note: {}:{} holds a secret ({rule}), shown redacted: output is matched once its secrets are replaced by the redactor's placeholder, so write `[REDACTED:{rule}]` in its place\n",
                    self.doc.path.display(),
                    line.line
                ));
            }
            expected_lines.push((Some(line.line), scrubbed.text));
        }
        let expected_side = Side { label: format!("expected: {}:{first}", self.doc.path.display()), lines: expected_lines };
        let actual_side = Side {
            label: format!("actual:   output of `{}` on {}", step.summary(), self.env.name),
            lines: expected.normalize(output).into_iter().map(|l| (l.line, l.text)).collect(),
        };
        if !notes.is_empty() {
            notes.push('\n');
        }
        notes + &diff::render(&expected_side, &actual_side)
    }

    fn failure(&self, entry: &Entry, step: Option<&Step>, attempts: u32, kind: FailureKind) -> Box<Failure> {
        Box::new(Failure {
            env: self.env.name.clone(),
            doc: self.doc.path.clone(),
            step: step.map(|s| FailedStep { line: s.line, summary: s.summary() }),
            attempts,
            converges: entry.converges,
            kind,
        })
    }

    /// The variables every command of `entry` gets.
    fn command_env(&self, entry: &Entry) -> Vec<(OsString, OsString)> {
        let kubeconfig = match &self.env.kubeconfig_readonly {
            Some(readonly) if !entry.is_mutating() => readonly,
            _ => &self.env.kubeconfig,
        };
        // The variables the environment was loaded with first: `vixens ... ENV` in an entry then
        // loads this very environment, a private lab's work dir included.
        let mut vars: Vec<(OsString, OsString)> = self.env.vars.iter().map(|(k, v)| (k.into(), v.into())).collect();
        vars.extend([
            ("PATH".into(), self.path.clone()),
            ("KUBECONFIG".into(), kubeconfig.into()),
            ("TALOSCONFIG".into(), self.env.talosconfig.clone().into()),
        ]);
        // What terraform needs to work on this environment's root (TF_DATA_DIR, its env), for
        // entries that run terraform.
        vars.extend(self.env.terraform.process_env().into_iter().map(|(k, v)| (k.into(), v.into())));
        vars.extend(self.values.iter().map(|(k, v)| (k.into(), v.into())));
        vars
    }

    /// Secrets of this environment, read afresh: an entry may have just created the files.
    fn redactor(&self) -> Redactor {
        self.env.redactor()
    }
}

/// The values an environment gives its commands: built-in ones first, then
/// `commands.values`, which may override them.
#[must_use]
pub fn values(env: &Environment) -> BTreeMap<String, String> {
    let mut values = BTreeMap::from([
        ("ENV_NAME".to_owned(), env.name.clone()),
        ("ENV_FILE".to_owned(), env.file.display().to_string()),
        ("NODE_COUNT".to_owned(), env.nodes.len().to_string()),
    ]);
    let first_controlplane = env.nodes.iter().find(|n| n.role == NodeRole::Controlplane).or(env.nodes.first());
    if let Some(node) = first_controlplane {
        values.insert("NODE".to_owned(), node.address.clone());
    }
    values.extend(env.commands.values.clone());
    values
}

/// The PATH commands get: the environment's `tools-path`, then `extra`, then the inherited PATH.
#[must_use]
pub fn search_path(env: &Environment, extra: &[PathBuf]) -> OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    // Absolute, so that the commands' working directory does not change what they find.
    let folders = env.tools_path.iter().chain(extra).map(|p| absolute(p)).chain(std::env::split_paths(&inherited));
    std::env::join_paths(folders).unwrap_or(inherited)
}

/// `path` made absolute against the current folder; an empty path is the current folder.
fn absolute(path: &Path) -> PathBuf {
    let path = if path.as_os_str().is_empty() { Path::new(".") } else { path };
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// True when `command` reads `$name` or `${name}`.
fn uses_variable(command: &str, name: &str) -> bool {
    command.contains(&format!("${{{name}}}"))
        || command
            .match_indices(&format!("${name}"))
            .any(|(i, m)| !command[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_is_used_only_under_its_exact_name() {
        assert!(uses_variable("talosctl -n $NODE health", "NODE"));
        assert!(uses_variable("talosctl -n \"${NODE}\" health", "NODE"));
        assert!(!uses_variable("echo $NODE_COUNT", "NODE"));
        assert!(uses_variable("echo $NODE_COUNT $NODE", "NODE"));
    }
}
