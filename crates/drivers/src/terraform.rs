//! The terraform (or OpenTofu) driver: every terraform command the harness runs, typed in and out.
//!
//! Built like ripgrep's `CommandReader`, on [`crate::process::Command`]: stdout and stderr are read
//! at the same time, each line is streamed to the caller's progress callback and appended to a
//! transcript file as it arrives, the deadline comes from the caller (a phase budget), and a
//! failure carries the command, its exit status and an excerpt of stderr.
//!
//! ```no_run
//! # use std::time::Duration;
//! # use std::path::Path;
//! # use vixens_drivers::terraform::{Config, Run, Terraform, PlanOutcome};
//! # fn demo(config: &Config, work_dir: &Path) -> Result<(), vixens_drivers::terraform::Error> {
//! let tf = Terraform::new(config).transcript(work_dir.join("terraform.log"));
//! tf.init(Run::within(Duration::from_secs(120)))?;
//! let plan_file = work_dir.join("destroy.tfplan");
//! let mut progress = |_stream, line: &str| eprintln!("terraform: {line}");
//! if let PlanOutcome::Changes = tf.plan_destroy(&plan_file, Run::within(Duration::from_secs(300)).progress(&mut progress))? {
//!     let plan = tf.show_plan(&plan_file, Run::within(Duration::from_secs(60)))?;
//!     // ... check `plan.destructive_changes()` ...
//!     let summary = tf.apply_plan(&plan_file, Run::within(Duration::from_secs(600)))?;
//!     assert_eq!(summary.destroyed, plan.destructive_changes().count());
//! }
//! # Ok(()) }
//! ```
//!
//! Every command gets `-no-color` (where terraform takes it) and `-input=false` (where it applies),
//! `TF_IN_AUTOMATION=1`, `CHECKPOINT_DISABLE=1` (no version check against a remote host), and the
//! environment of [`Config::process_env`]: `TF_DATA_DIR` from `terraform.data-dir`. The user's CLI
//! configuration (`~/.terraformrc`, or `TF_CLI_CONFIG_FILE`: provider mirrors, plugin cache,
//! credentials) is never overridden: terraform reads it as it would at the user's prompt.
//! Commands whose stdout is a JSON document (`show -json`, `state pull`, `output -json`,
//! `version -json`) never stream or record stdout: state and outputs hold secrets, and plans can be
//! large.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde::Deserialize;

use crate::process::{self, Stream};
use crate::redact::Redactor;

pub mod plan;
pub mod state;

pub use plan::{Action, InstanceKey, Mode, Plan, ReplaceOrder, ResourceChange};
pub use state::{PulledState, State};

/// How to run terraform (or OpenTofu) for one root module: what env.yaml's `terraform` section says.
#[derive(Debug, Clone)]
pub struct Config {
    /// `terraform` or `tofu`, or a path to either.
    pub binary: String,
    /// The root module folder (`terraform -chdir=ROOT`).
    pub root: PathBuf,
    /// `TF_DATA_DIR` for every run: where `.terraform/` goes, so that several instances of one
    /// root module (two labs) keep apart. Unset: terraform's default, `ROOT/.terraform`.
    pub data_dir: Option<PathBuf>,
    /// `-var NAME=VALUE` pairs passed to plan, apply and destroy.
    pub vars: BTreeMap<String, String>,
    /// `-backend-config KEY=VALUE` pairs passed to init.
    pub backend_config: BTreeMap<String, String>,
    /// Extra environment variables for every terraform run (never printed: they may be secrets).
    pub env: BTreeMap<String, String>,
}

impl Config {
    /// The environment variables every terraform run gets on top of the harness's own:
    /// [`Config::env`], plus `TF_DATA_DIR` when [`Config::data_dir`] is set. Nothing else: the
    /// user's CLI configuration (`~/.terraformrc`, `TF_CLI_CONFIG_FILE`) holds their provider
    /// mirrors and credentials, and terraform reads it. Values may be secrets: never print them.
    #[must_use]
    pub fn process_env(&self) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        if let Some(dir) = &self.data_dir {
            env.insert("TF_DATA_DIR".into(), dir.display().to_string());
        }
        env
    }
}

/// Lines of stderr kept in an error.
const STDERR_EXCERPT_LINES: usize = 20;

/// How to run terraform for one environment.
#[derive(Debug, Clone)]
pub struct Terraform {
    binary: String,
    root: PathBuf,
    vars: BTreeMap<String, String>,
    backend_config: BTreeMap<String, String>,
    env: BTreeMap<OsString, OsString>,
    /// `terraform.env` from env.yaml: never printed, since it may hold credentials.
    secret_env: BTreeMap<String, String>,
    transcript: Option<PathBuf>,
    redactor: Redactor,
}

/// A callback receiving each line terraform prints, with its stream.
pub type Progress<'a> = &'a mut dyn FnMut(Stream, &str);

/// The deadline, progress callback and cancel flag of one terraform command.
pub struct Run<'a> {
    timeout: Duration,
    progress: Option<Progress<'a>>,
    cancel: Option<Arc<AtomicBool>>,
}

/// What a text command (init, apply, destroy) printed.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Everything on stdout (capped as [`process::Finished`] caps it), redacted.
    pub stdout: String,
    /// Everything on stderr, redacted.
    pub stderr: String,
    /// Wall-clock duration.
    pub elapsed: Duration,
}

/// The outcome of `plan -detailed-exitcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOutcome {
    /// Exit 0: nothing to do (an empty state for a destroy plan).
    NoChanges,
    /// Exit 2: the saved plan has changes.
    Changes,
}

/// The counts on terraform's `Apply complete!` / `Destroy complete!` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Resources imported.
    pub imported: usize,
    /// Resources created.
    pub added: usize,
    /// Resources changed in place.
    pub changed: usize,
    /// Resources destroyed.
    pub destroyed: usize,
    /// Resources removed from the state without being destroyed.
    pub forgotten: usize,
}

/// `terraform version -json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Version {
    /// The version number (`1.11.4`); OpenTofu uses the same key.
    #[serde(rename = "terraform_version")]
    pub version: String,
    /// `linux_amd64`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Provider source → version, as locked in the working directory.
    #[serde(default)]
    pub provider_selections: BTreeMap<String, String>,
}

/// One value of `terraform output -json`. `Debug` never shows a sensitive value.
#[derive(Clone, PartialEq, Deserialize)]
pub struct OutputValue {
    /// True when the output is marked `sensitive`.
    pub sensitive: bool,
    /// The type, as terraform describes it (`"string"`, `["list","string"]`).
    #[serde(rename = "type")]
    pub output_type: serde_json::Value,
    /// The value. Handle with care when `sensitive`.
    pub value: serde_json::Value,
}

/// Why a terraform command failed. None of these is worth retrying blindly: a failed destroy or
/// apply needs a person or a fresh plan.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binary could not be started.
    #[error("cannot run `{binary}` (terraform.binary in env.yaml)")]
    Spawn {
        /// The configured binary.
        binary: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The command ran out of its budget and was terminated.
    #[error("`{command}` in {root} did not finish within {}", humantime::format_duration(*.timeout))]
    TimedOut {
        /// The command, without variable values.
        command: String,
        /// The root module.
        root: PathBuf,
        /// The deadline it had.
        timeout: Duration,
        /// The last lines of stderr, redacted.
        stderr: String,
    },
    /// The command was stopped on request ([`Run::cancel_on`]): a second Ctrl-C.
    #[error("`{command}` in {root} was stopped on request")]
    Interrupted {
        /// The command.
        command: String,
        /// The root module.
        root: PathBuf,
    },
    /// Reading its output or waiting for it failed.
    #[error("lost track of `{command}` in {root}")]
    Io {
        /// The command.
        command: String,
        /// The root module.
        root: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `lifecycle.prevent_destroy` resource stopped the plan: nothing was destroyed.
    #[error("`{command}` in {root} refused: {} set lifecycle.prevent_destroy", addresses.join(", "))]
    PreventDestroy {
        /// The command.
        command: String,
        /// The root module.
        root: PathBuf,
        /// Every resource that has `prevent_destroy`.
        addresses: Vec<String>,
    },
    /// The command exited with a failure status.
    #[error("`{command}` in {root} failed with exit code {code}: {summary}")]
    Failed {
        /// The command.
        command: String,
        /// The root module.
        root: PathBuf,
        /// The exit code (`128 + signal` when killed).
        code: i32,
        /// Terraform's `Error:` lines, or the last stderr line.
        summary: String,
        /// The last lines of stderr, redacted.
        stderr: String,
    },
    /// `show -json` printed a plan this harness refuses.
    #[error("cannot use the plan printed by `{command}`")]
    Plan {
        /// The command.
        command: String,
        /// What is wrong with it.
        #[source]
        source: plan::ParseError,
    },
    /// `state pull` printed a state this harness refuses.
    #[error("cannot use the state printed by `{command}`")]
    State {
        /// The command.
        command: String,
        /// What is wrong with it.
        #[source]
        source: state::ParseError,
    },
    /// The command succeeded but printed something this harness does not understand.
    #[error("`{command}` in {root} succeeded but {problem}")]
    Unexpected {
        /// The command.
        command: String,
        /// The root module.
        root: PathBuf,
        /// What was expected and not found.
        problem: String,
    },
    /// The transcript file could not be opened; the command was not run.
    #[error("cannot write the terraform transcript {path}")]
    Transcript {
        /// The transcript file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// What stdout is: lines for people, or one JSON document for the harness.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stdout {
    Text,
    Document,
}

/// One command line, ready to run.
struct Invocation {
    /// Arguments after `-chdir=ROOT`.
    args: Vec<OsString>,
    /// The command as messages name it (no variable values, no flags every command gets).
    display: String,
    stdout: Stdout,
    /// Exit codes that are not failures.
    ok_codes: &'static [i32],
}

/// A command that exited with one of its ok codes.
struct Output {
    code: i32,
    ran: Ran,
    /// The JSON document, for [`Stdout::Document`] commands.
    document: String,
}

impl<'a> Run<'a> {
    /// A run that must finish within `timeout` (take it from the phase budget).
    #[must_use]
    pub fn within(timeout: Duration) -> Self {
        Self { timeout, progress: None, cancel: None }
    }

    /// Stops terraform (SIGTERM to its process group: it releases its state lock and exits) as
    /// soon as `flag` is set. Never give one to a command that must run to its end.
    #[must_use]
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Streams each line (already redacted) to `progress` as terraform prints it.
    #[must_use]
    pub fn progress(mut self, progress: Progress<'a>) -> Self {
        self.progress = Some(progress);
        self
    }
}

impl Terraform {
    /// A driver for `config`: its binary, root, variables, backend configuration and environment.
    #[must_use]
    pub fn new(config: &Config) -> Self {
        // TF_DATA_DIR comes from the config's one rule for it; the user's CLI configuration is theirs.
        let mut env: BTreeMap<OsString, OsString> = config.process_env().into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        env.insert("TF_IN_AUTOMATION".into(), "1".into());
        env.insert("CHECKPOINT_DISABLE".into(), "1".into());
        Self {
            binary: config.binary.clone(),
            root: config.root.clone(),
            vars: config.vars.clone(),
            backend_config: config.backend_config.clone(),
            env,
            secret_env: config.env.clone(),
            transcript: None,
            redactor: Redactor::new(),
        }
        .redactor(&Redactor::new())
    }

    /// Puts `dirs` first on PATH for terraform and everything its provisioners run.
    #[must_use]
    pub fn tools_path(mut self, dirs: &[PathBuf]) -> Self {
        if dirs.is_empty() {
            return self;
        }
        let current = std::env::var_os("PATH").unwrap_or_default();
        let all = dirs.iter().cloned().chain(std::env::split_paths(&current));
        if let Ok(path) = std::env::join_paths(all) {
            self.env.insert("PATH".into(), path);
        }
        self
    }

    /// Appends every command, each line it prints (redacted, except JSON documents) and its exit
    /// status to `path`: the artifact a failed cycle leaves behind.
    #[must_use]
    pub fn transcript(mut self, path: impl Into<PathBuf>) -> Self {
        self.transcript = Some(path.into());
        self
    }

    /// Redacts these secrets, besides the values of `terraform.env`, from progress, transcript and
    /// errors.
    #[must_use]
    pub fn redactor(mut self, redactor: &Redactor) -> Self {
        self.redactor = redactor.clone();
        for (name, value) in &self.secret_env {
            self.redactor.add(name, value);
        }
        self
    }

    /// The root module.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `terraform init`, with the environment's `-backend-config` pairs.
    ///
    /// # Errors
    /// See [`Error`]: the binary missing, the budget exhausted, or a failure exit (a malformed root
    /// fails here, naming terraform's `Error:` lines).
    pub fn init(&self, run: Run<'_>) -> Result<Ran, Error> {
        let mut args = args(["init", "-no-color", "-input=false"]);
        for (key, value) in &self.backend_config {
            args.push(format!("-backend-config={key}={value}").into());
        }
        let invocation = Invocation { args, display: "terraform init".into(), stdout: Stdout::Text, ok_codes: &[0] };
        Ok(self.invoke(invocation, run)?.ran)
    }

    /// `terraform plan -destroy -out=PLAN -detailed-exitcode`: plans a destroy into `plan_file`.
    ///
    /// # Errors
    /// [`Error::PreventDestroy`] when a resource has `lifecycle.prevent_destroy`, otherwise as
    /// [`Terraform::init`].
    pub fn plan_destroy(&self, plan_file: &Path, run: Run<'_>) -> Result<PlanOutcome, Error> {
        let out = absolute(plan_file);
        let mut args = args(["plan", "-destroy", "-no-color", "-input=false", "-detailed-exitcode"]);
        args.push(format!("-out={}", out.display()).into());
        self.push_vars(&mut args);
        let display = format!("terraform plan -destroy -out={}", out.display());
        let output = self.invoke(Invocation { args, display, stdout: Stdout::Text, ok_codes: &[0, 2] }, run)?;
        Ok(if output.code == 2 { PlanOutcome::Changes } else { PlanOutcome::NoChanges })
    }

    /// `terraform show -json PLAN`, parsed.
    ///
    /// # Errors
    /// [`Error::Plan`] when the JSON is malformed or of an unknown format version, otherwise as
    /// [`Terraform::init`].
    pub fn show_plan(&self, plan_file: &Path, run: Run<'_>) -> Result<Plan, Error> {
        let file = absolute(plan_file);
        let mut args = args(["show", "-json", "-no-color"]);
        args.push(file.clone().into());
        let display = format!("terraform show -json {}", file.display());
        let output = self.invoke(Invocation { args, display: display.clone(), stdout: Stdout::Document, ok_codes: &[0] }, run)?;
        Plan::parse(&output.document).map_err(|source| Error::Plan { command: display, source })
    }

    /// `terraform apply -auto-approve`.
    ///
    /// # Errors
    /// As [`Terraform::init`]; [`Error::Unexpected`] when terraform exits 0 without its
    /// `Apply complete!` line.
    pub fn apply(&self, run: Run<'_>) -> Result<Summary, Error> {
        let mut args = args(["apply", "-auto-approve", "-no-color", "-input=false"]);
        self.push_vars(&mut args);
        let display = "terraform apply -auto-approve".to_owned();
        let output = self.invoke(Invocation { args, display: display.clone(), stdout: Stdout::Text, ok_codes: &[0] }, run)?;
        self.summary(&display, &output.ran.stdout, "Apply complete! Resources:")
    }

    /// `terraform apply PLAN`: executes exactly the saved plan, which never prompts. A saved
    /// destroy plan reports its deletions in [`Summary::destroyed`].
    ///
    /// # Errors
    /// As [`Terraform::apply`].
    pub fn apply_plan(&self, plan_file: &Path, run: Run<'_>) -> Result<Summary, Error> {
        let file = absolute(plan_file);
        let mut args = args(["apply", "-no-color", "-input=false"]);
        args.push(file.clone().into());
        let display = format!("terraform apply {}", file.display());
        let output = self.invoke(Invocation { args, display: display.clone(), stdout: Stdout::Text, ok_codes: &[0] }, run)?;
        self.summary(&display, &output.ran.stdout, "Apply complete! Resources:")
    }

    /// `terraform destroy -auto-approve`. The safe destroy path plans, checks and applies a saved
    /// plan instead; this is for cleaning up what the harness itself created.
    ///
    /// # Errors
    /// [`Error::PreventDestroy`] (nothing was destroyed), otherwise as [`Terraform::apply`].
    pub fn destroy(&self, run: Run<'_>) -> Result<Summary, Error> {
        let mut args = args(["destroy", "-auto-approve", "-no-color", "-input=false"]);
        self.push_vars(&mut args);
        let display = "terraform destroy -auto-approve".to_owned();
        let output = self.invoke(Invocation { args, display: display.clone(), stdout: Stdout::Text, ok_codes: &[0] }, run)?;
        self.summary(&display, &output.ran.stdout, "Destroy complete! Resources:")
    }

    /// `terraform state pull`: the state's exact bytes, parsed. Works with any backend.
    ///
    /// # Errors
    /// [`Error::State`] when the output is not a version 4 state, otherwise as
    /// [`Terraform::init`].
    pub fn state_pull(&self, run: Run<'_>) -> Result<PulledState, Error> {
        let display = "terraform state pull".to_owned();
        let invocation = Invocation { args: args(["state", "pull"]), display: display.clone(), stdout: Stdout::Document, ok_codes: &[0] };
        let output = self.invoke(invocation, run)?;
        PulledState::parse(output.document.into_bytes()).map_err(|source| Error::State { command: display, source })
    }

    /// `terraform state rm ADDRESS...`: forgets these objects without destroying them (the
    /// real objects are left as they are). Terraform keeps a backup of the state it changed.
    ///
    /// # Errors
    /// As [`Terraform::init`].
    pub fn state_rm(&self, addresses: &[String], run: Run<'_>) -> Result<Ran, Error> {
        let mut args = args(["state", "rm", "-no-color"]);
        args.extend(addresses.iter().map(OsString::from));
        let display = format!("terraform state rm {}", addresses.join(" "));
        Ok(self.invoke(Invocation { args, display, stdout: Stdout::Text, ok_codes: &[0] }, run)?.ran)
    }

    /// `terraform output -json`: every root output by name.
    ///
    /// # Errors
    /// [`Error::Unexpected`] when the output is not the expected JSON, otherwise as
    /// [`Terraform::init`].
    pub fn output(&self, run: Run<'_>) -> Result<BTreeMap<String, OutputValue>, Error> {
        let display = "terraform output -json".to_owned();
        let invocation =
            Invocation { args: args(["output", "-json", "-no-color"]), display: display.clone(), stdout: Stdout::Document, ok_codes: &[0] };
        let output = self.invoke(invocation, run)?;
        serde_json::from_str(&output.document).map_err(|e| self.unexpected(&display, format!("printed outputs that are not JSON: {e}")))
    }

    /// `terraform version -json`.
    ///
    /// # Errors
    /// [`Error::Unexpected`] when the output is not the expected JSON, otherwise as
    /// [`Terraform::init`].
    pub fn version(&self, run: Run<'_>) -> Result<Version, Error> {
        let display = "terraform version -json".to_owned();
        let invocation = Invocation { args: args(["version", "-json"]), display: display.clone(), stdout: Stdout::Document, ok_codes: &[0] };
        let output = self.invoke(invocation, run)?;
        serde_json::from_str(&output.document).map_err(|e| self.unexpected(&display, format!("printed a version that is not JSON: {e}")))
    }

    fn push_vars(&self, args: &mut Vec<OsString>) {
        for (name, value) in &self.vars {
            args.push("-var".into());
            args.push(format!("{name}={value}").into());
        }
    }

    fn summary(&self, display: &str, stdout: &str, prefix: &str) -> Result<Summary, Error> {
        stdout
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix(prefix).map(parse_counts))
            .ok_or_else(|| self.unexpected(display, format!("printed no `{prefix}` line")))
    }

    fn unexpected(&self, command: &str, problem: String) -> Error {
        Error::Unexpected { command: command.to_owned(), root: self.root.clone(), problem }
    }

    /// Runs one command: streams and records its lines, then judges its exit code.
    fn invoke(&self, invocation: Invocation, run: Run<'_>) -> Result<Output, Error> {
        let Run { timeout, mut progress, cancel } = run;
        let mut transcript = self.open_transcript(&invocation.display)?;
        let mut document = String::new();
        let mut command =
            process::Command::new(&self.binary).arg(format!("-chdir={}", self.root.display())).args(invocation.args.iter().cloned()).timeout(timeout);
        if let Some(flag) = cancel {
            command = command.cancel_on(flag);
        }
        for (name, value) in &self.env {
            command = command.env(name, value);
        }
        tracing::debug!(command = %invocation.display, root = %self.root.display(), "running terraform");
        let result = command.run_streaming(|stream, line| {
            if stream == Stream::Stdout && invocation.stdout == Stdout::Document {
                document.push_str(line);
                document.push('\n');
                return;
            }
            let line = self.redactor.redact(line);
            if let Some(progress) = progress.as_mut() {
                progress(stream, &line);
            }
            transcript.line(&line);
        });
        let finished = match result {
            Ok(finished) => finished,
            Err(e) => {
                transcript.footer("did not finish");
                return Err(self.not_finished(&invocation.display, e));
            }
        };
        let code = finished.code();
        transcript.footer(&format!("exit {code} after {}", humantime::format_duration(round_ms(finished.elapsed))));
        let ran = Ran { stdout: self.redactor.redact(&finished.stdout), stderr: self.redactor.redact(&finished.stderr), elapsed: finished.elapsed };
        if !invocation.ok_codes.contains(&code) {
            return Err(self.failure(invocation.display, code, &ran.stderr));
        }
        Ok(Output { code, ran, document })
    }

    fn open_transcript(&self, display: &str) -> Result<Transcript, Error> {
        let Some(path) = &self.transcript else { return Ok(Transcript(None)) };
        let open = || -> std::io::Result<File> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::OpenOptions::new().create(true).append(true).open(path)
        };
        let file = open().map_err(|source| Error::Transcript { path: path.clone(), source })?;
        let mut transcript = Transcript(Some(BufWriter::new(file)));
        transcript.line(&format!("$ {display}  # in {}", self.root.display()));
        Ok(transcript)
    }

    fn not_finished(&self, display: &str, error: process::Error) -> Error {
        let command = display.to_owned();
        let root = self.root.clone();
        match error {
            process::Error::Spawn { source, .. } => Error::Spawn { binary: self.binary.clone(), source },
            process::Error::TimedOut { timeout, stderr, .. } => {
                Error::TimedOut { command, root, timeout, stderr: process::tail(&self.redactor.redact(&stderr), STDERR_EXCERPT_LINES) }
            }
            process::Error::Io { source, .. } => Error::Io { command, root, source },
            process::Error::Cancelled { .. } => Error::Interrupted { command, root },
        }
    }

    fn failure(&self, command: String, code: i32, stderr: &str) -> Error {
        let root = self.root.clone();
        let addresses = prevent_destroy_addresses(stderr);
        if !addresses.is_empty() {
            return Error::PreventDestroy { command, root, addresses };
        }
        Error::Failed { command, root, code, summary: error_summary(stderr), stderr: process::tail(stderr, STDERR_EXCERPT_LINES) }
    }
}

/// The transcript of one command; write errors after opening are logged, not fatal: the command
/// has already changed the world and its result matters more than its log.
struct Transcript(Option<BufWriter<File>>);

impl Transcript {
    fn line(&mut self, line: &str) {
        if let Some(w) = &mut self.0
            && let Err(e) = writeln!(w, "{line}")
        {
            tracing::warn!("terraform transcript: {e}");
            self.0 = None;
        }
    }

    fn footer(&mut self, status: &str) {
        self.line(&format!("# {status}\n"));
        if let Some(w) = &mut self.0
            && let Err(e) = w.flush()
        {
            tracing::warn!("terraform transcript: {e}");
        }
    }
}

fn args<const N: usize>(fixed: [&str; N]) -> Vec<OsString> {
    fixed.iter().map(OsString::from).collect()
}

/// `path` made absolute against the current directory, since terraform runs with `-chdir`.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis().try_into().unwrap_or(u64::MAX))
}

/// Parses `0 added, 0 changed, 3 destroyed.` (and imported/forgotten, when present).
fn parse_counts(text: &str) -> Summary {
    let mut summary = Summary::default();
    for part in text.trim().trim_end_matches('.').split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next().and_then(|n| n.parse().ok()), words.next()) else { continue };
        match what {
            "imported" => summary.imported = n,
            "added" => summary.added = n,
            "changed" => summary.changed = n,
            "destroyed" => summary.destroyed = n,
            "forgotten" => summary.forgotten = n,
            _ => {}
        }
    }
    summary
}

/// Every address named by a `prevent_destroy` error; terraform wraps the message at the terminal
/// width, so words are joined before matching.
fn prevent_destroy_addresses(stderr: &str) -> Vec<String> {
    let words: Vec<&str> = stderr.split_whitespace().collect();
    let mut addresses = Vec::new();
    for window in words.windows(4) {
        if let ["Resource", address, "has", "lifecycle.prevent_destroy"] = window
            && !addresses.iter().any(|a| a == address)
        {
            addresses.push((*address).to_owned());
        }
    }
    addresses
}

/// Terraform's `Error:` headlines joined, or the last line of stderr when there is none.
fn error_summary(stderr: &str) -> String {
    let headlines: Vec<&str> = stderr.lines().filter_map(|l| l.trim().strip_prefix("Error: ")).collect();
    if headlines.is_empty() {
        stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("(nothing on stderr)").trim().to_owned()
    } else {
        headlines.join("; ")
    }
}

impl std::fmt::Debug for OutputValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("OutputValue");
        s.field("sensitive", &self.sensitive).field("output_type", &self.output_type);
        if self.sensitive {
            s.field("value", &"(sensitive)")
        } else {
            s.field("value", &self.value)
        };
        s.finish()
    }
}

impl Version {
    /// The line evidence records: `terraform v1.11.4`.
    #[must_use]
    pub fn line(&self, binary: &str) -> String {
        let name = Path::new(binary).file_name().map_or_else(|| binary.to_owned(), |n| n.to_string_lossy().into_owned());
        format!("{name} v{}", self.version)
    }
}

#[cfg(test)]
mod tests;
