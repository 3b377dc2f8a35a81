//! `vixens commands lint`, `run`, `init` and `discover`: docs/commands.md as a gate, as a test,
//! as a starter document for a repository that has none, and the operations it does not document.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_checks::commands::report::{EntryOutcome, Verdict};
use vixens_checks::commands::{Event, Report, RunOptions, Runner};
use vixens_diagnostic::error_chain;
use vixens_docs::commands::discover::{self, output as discovered};
use vixens_docs::commands::{self, lint, record, starter};
use vixens_docs::secrets::Allow;
use vixens_ops::env::{self, Environment};
use vixens_ops::provision;

/// Exit code when the check ran and found problems.
const FAILED: u8 = 1;
/// Exit code when the check could not run (unreadable document, bad env.yaml, bad arguments).
const CANNOT_RUN: u8 = 2;

/// Documented commands: lint docs/commands.md, or run its entries on an environment.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check docs/commands.md: every entry has context, an example and expected output; ids
    /// are unique; placeholders are defined; blocks are closed; no credential is written in it
    /// (the `secrets` rule of `vixens docs secrets`); and every entry, as written now, passed on
    /// at least 2 environments. Prints `file:line: rule: message` per problem and exits 1 if
    /// there is any.
    Lint(LintArgs),
    /// Run docs/commands.md's entries on an environment and compare their output with the
    /// document. A lab must be up (`vixens up ENV`). Exits 1 if an entry
    /// fails, 2 if they cannot run.
    Run(RunArgs),
    /// Write a starter docs/commands.md for a GitOps homelab (Talos health, nodes, Argo CD
    /// applications, a node's logs, the Terraform plan), in the executable format. Adapt each
    /// entry, then validate it on two environments with `vixens commands run ENV --record`.
    Init(InitArgs),
    /// Find the operations the repository runs (scripts/**, *.sh, Justfile, Makefile and Taskfile
    /// recipes, workflow `run:` steps, shell blocks of README.md and docs/) that no entry of
    /// docs/commands.md runs. Each undocumented pattern is named with where it is used and the
    /// commit that brought it: past the grace period it is an error (exit 1), before it a
    /// warning. `.config/commands.yaml` lists the patterns that need no entry, each with a reason.
    Discover(DiscoverArgs),
}

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// The repository to read.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// How long a new operation may stay undocumented before it is an error.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    grace: std::time::Duration,
    /// `text`: one `file:line: rule: message` line per undocumented pattern; `json`: one JSON
    /// document listing every pattern found (documented and ignored ones too).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// The repository whose docs/commands.md is checked, and whose .config/secrets.yaml
    /// accepts findings of the `secrets` rule.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// Check this file instead of <DIR>/docs/commands.md (a relative FILE is read from DIR).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The repository to write <DIR>/docs/commands.md in.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// Replace an existing docs/commands.md.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The environment: a name (for <DIR>/environments/NAME/env.yaml), an env.yaml, or its
    /// folder. Its `commands.doc` names the document (<infra-repo>/docs/commands.md by
    /// default).
    #[arg(value_name = "ENV")]
    env: String,
    /// Write the `Validated on:` line of every entry that passed, changing nothing else in
    /// the document. With CI=true the document is never rewritten: the result goes to
    /// docs/commands.md.new instead.
    #[arg(long)]
    record: bool,
    /// Also run the entries marked `Mutating:`, in document order. Never on a protected
    /// environment.
    #[arg(long)]
    mutating: bool,
    /// Run only this entry (its id: the heading's anchor). Repeat for several.
    #[arg(long = "entry", value_name = "ID")]
    entries: Vec<String>,
    /// Read-only entries run at once at most (they read, so they do not disturb each other;
    /// a mutating entry always runs alone). 1 runs them one at a time. Output stays in document
    /// order either way.
    #[arg(long, value_name = "N", default_value_t = vixens_checks::commands::CONCURRENT_ENTRIES)]
    jobs: usize,
    /// The repository holding environments/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
}

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Lint(args) => run_lint(&args),
        Command::Run(args) => run_entries(&args),
        Command::Init(args) => run_init(&args),
        Command::Discover(args) => run_discover(&args),
    }
}

fn run_discover(args: &DiscoverArgs) -> ExitCode {
    let options = discover::Options { grace: args.grace, now: jiff::Timestamp::now() };
    let discovery = match discover::discover(&args.repo, &options) {
        Ok(discovery) => discovery,
        Err(discover::DiscoverError::Config(e)) => {
            for line in e.lines() {
                eprintln!("error: {line}");
            }
            return ExitCode::from(CANNOT_RUN);
        }
        Err(e) => return cannot_run(&e),
    };
    match args.format {
        Format::Text => {
            for line in discovered::lines(&discovery) {
                println!("{line}");
            }
            for note in &discovery.notes {
                eprintln!("note: {note}");
            }
            eprintln!("{}", discovered::summary(&discovery));
        }
        Format::Json => println!("{}", discovered::json(&discovery)),
    }
    if !discovery.problems.is_empty() {
        ExitCode::from(CANNOT_RUN)
    } else if discovery.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

fn run_lint(args: &LintArgs) -> ExitCode {
    let path = match &args.file {
        Some(file) => display_join(&args.repo, &file.to_string_lossy()),
        None => display_join(&args.repo, commands::DOC_PATH),
    };
    if args.file.is_none() && !path.exists() {
        eprintln!("error: {}", commands::missing_document(&path, &args.repo));
        return ExitCode::from(CANNOT_RUN);
    }
    let mut doc = match commands::load(&path) {
        Ok(doc) => doc,
        Err(e) => return cannot_run(&e),
    };
    let allow = match Allow::for_repo(&args.repo) {
        Ok(allow) => allow,
        Err(e) => return cannot_run(&e),
    };
    commands::accept_secrets(&mut doc, &allow, &repo_relative(&args.repo, &path));
    let problems = lint::lint(&doc);
    print!("{}", lint::render(&doc, &problems));
    if problems.is_empty() {
        eprintln!("{}: {}: no problems", path.display(), vixens_docs::commands::summary(&doc));
        ExitCode::SUCCESS
    } else {
        eprintln!("{}: {} problem{}", path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" });
        ExitCode::from(FAILED)
    }
}

fn run_entries(args: &RunArgs) -> ExitCode {
    let env = match load_env(&args.env, &args.repo) {
        Ok(env) => env,
        Err(code) => return code,
    };
    let doc = match commands::load(&shown(&env.commands.doc)) {
        Ok(doc) => doc,
        Err(e) => return cannot_run(&e),
    };
    let unknown: Vec<&String> = args.entries.iter().filter(|id| !doc.entries.iter().any(|e| &e.id == *id)).collect();
    if !unknown.is_empty() {
        let ids: Vec<&str> = doc.entries.iter().map(|e| e.id.as_str()).collect();
        eprintln!("error: no entry {} in {}; its entries are: {}", quoted(&unknown), doc.path.display(), ids.join(", "));
        return ExitCode::from(CANNOT_RUN);
    }
    // A lab that is down would make every entry wait out its timeout; a real cluster's entries
    // say for themselves what does not answer.
    if env.provisioning.is_some() && !provision::is_up(&env) {
        eprintln!(
            "error: {0}'s Kubernetes API does not answer with {1}: bring it up with `vixens up {0}` (the suites do it themselves)",
            env.name,
            env.kubeconfig.display()
        );
        return ExitCode::from(CANNOT_RUN);
    }
    // Documented commands call `vixens` and `vixens-lab` by name: the ones beside this binary
    // are the ones under test.
    let extra_path = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_owned)).into_iter().collect();
    let options = RunOptions { mutating: args.mutating, entries: args.entries.clone(), extra_path, jobs: args.jobs };
    let runner = Runner::new(&env, &doc, options);
    println!("running {} of {} on {}", count(&doc, &args.entries), doc.path.display(), env.name);
    let report = runner.run(&mut |event| progress(&env.name, &doc.path, &event));
    print_failures(&report);
    println!("\n{}", report.summary());
    for (outcome, _) in report.failed() {
        println!("re-run: vixens commands run {} --entry {}", args.env, outcome.id);
    }
    if args.record && !save_record(&report, &env) {
        return ExitCode::from(CANNOT_RUN);
    }
    if report.success() { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
}

fn run_init(args: &InitArgs) -> ExitCode {
    match starter::init(&args.repo, args.force) {
        Ok(path) => {
            let doc = commands::parse::parse(&path, starter::STARTER);
            println!(
                "wrote {}: {} entries for a GitOps homelab. Adapt each to this cluster, then validate it on two environments with `vixens commands run ENV --record`; `vixens commands lint` lists what is left.",
                shown(&path).display(),
                doc.entries.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => cannot_run(&e),
    }
}

fn count(doc: &commands::Document, selected: &[String]) -> String {
    let n = if selected.is_empty() { doc.entries.len() } else { selected.len() };
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

fn progress(env: &str, doc: &Path, event: &Event<'_>) {
    match event {
        Event::EntryStarted { .. } => {}
        Event::Retrying { entry, attempt, failure } => {
            println!("    RETRY [attempt {attempt}] commands::{env}::{}: {}", entry.id, failure.headline());
        }
        Event::EntryFinished { outcome } => {
            println!("{}", status_line(env, outcome));
            for step in &outcome.scrubbed {
                println!("     note: {}", step.note(doc));
            }
        }
    }
}

fn status_line(env: &str, outcome: &EntryOutcome) -> String {
    let name = format!("commands::{env}::{}", outcome.id);
    let elapsed = format!("[{:>8.3}s]", outcome.elapsed.as_secs_f64());
    match &outcome.verdict {
        Verdict::Passed { attempts: 1 } => format!("     PASS {elapsed} {name}"),
        Verdict::Passed { attempts } => format!("     PASS {elapsed} {name} (after {attempts} attempts)"),
        Verdict::Failed(failure) => format!("     FAIL {elapsed} {name}: {}", failure.headline()),
        Verdict::Skipped(skip) => format!("     SKIP {:>11} {name}: {skip}", ""),
    }
}

fn print_failures(report: &Report) {
    for (outcome, failure) in report.failed() {
        println!("\n--- commands::{}::{} ({}:{})", report.env, outcome.id, report.doc.display(), outcome.line);
        print!("{failure}");
    }
}

/// Writes the records of the entries that passed, except those whose block holds a secret;
/// false if the document could not be read or written.
fn save_record(report: &Report, env: &Environment) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let mut recording = report.recording(&record::today());
    let mut doc = match commands::load(&report.doc) {
        Ok(doc) => doc,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            return false;
        }
    };
    match Allow::for_repo(&env.infra_repo) {
        Ok(allow) => {
            commands::accept_secrets(&mut doc, &allow, &repo_relative(&env.infra_repo, &report.doc));
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            return false;
        }
    }
    for withheld in record::withhold_secrets(&mut recording, &doc) {
        println!("{withheld}");
    }
    let scrubbed: usize = report.outcomes.iter().flat_map(|o| &o.scrubbed).map(|s| s.rules.len()).sum();
    if scrubbed > 0 {
        println!(
            "{scrubbed} secret{} the entries printed {} replaced by the redactor's placeholder before matching: no secret is recorded",
            if scrubbed == 1 { "" } else { "s" },
            if scrubbed == 1 { "was" } else { "were" }
        );
    }
    if recording.passed.is_empty() {
        println!("nothing to record: no entry passed{}", if report.success() { " without a secret in its block" } else { "" });
        return true;
    }
    match record::record(&report.doc, &recording, ci) {
        Ok(done) => {
            for id in &done.changed_since_run {
                println!("not recorded: `{id}` changed in {} while it ran; run it again", report.doc.display());
            }
            match &done.written {
                None => println!("records already up to date for {} entries on {}", done.entries.len(), report.env),
                Some(path) if ci => println!(
                    "CI=true: {} is never rewritten in CI; wrote the {} records for {} to {} for review",
                    report.doc.display(),
                    done.entries.len(),
                    report.env,
                    path.display()
                ),
                Some(path) => println!("recorded {} entries as validated on {} in {}", done.entries.len(), report.env, path.display()),
            }
            true
        }
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            false
        }
    }
}

/// Loads the environment an ENV argument names (see [`env::resolve_from`]), from `repo`.
///
/// A bare name is looked up under `environments/` first: in this repository `lab` is also the
/// simulator's folder.
fn load_env(arg: &str, repo: &Path) -> Result<Environment, ExitCode> {
    let by_name = repo.join("environments").join(arg).join("env.yaml");
    let path = if !arg.contains('/') && by_name.is_file() {
        by_name
    } else {
        env::resolve_from(repo, arg).map_err(|e| {
            match &e {
                env::ResolveError::UnknownName { known, .. } if !known.is_empty() => {
                    eprintln!("error: {e}; known environments: {}", known.join(", "))
                }
                _ => eprintln!("error: {e}"),
            }
            ExitCode::from(CANNOT_RUN)
        })?
    };
    // An absolute env.yaml path makes every path derived from it absolute.
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    crate::environment::load_file(&path)
}

/// `path` as people read it: relative to the current folder when under it, with `..` resolved.
fn shown(path: &Path) -> PathBuf {
    let Ok(full) = std::fs::canonicalize(path) else { return path.to_owned() };
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize);
    cwd.ok().and_then(|cwd| full.strip_prefix(cwd).ok().map(Path::to_owned)).unwrap_or(full)
}

/// `path` relative to `repo` with `/` separators, as `.config/secrets.yaml` names files; as
/// given when it is outside.
fn repo_relative(repo: &Path, path: &Path) -> String {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let relative = canonical(path).strip_prefix(canonical(repo)).map(Path::to_owned).unwrap_or_else(|_| path.to_owned());
    relative.to_string_lossy().replace('\\', "/")
}

/// `repo/rest`, without a leading `./` when `repo` is the current folder (`rest` as is when it
/// is absolute).
fn display_join(repo: &Path, rest: &str) -> PathBuf {
    if repo == Path::new(".") { PathBuf::from(rest) } else { repo.join(rest) }
}

fn quoted(ids: &[&String]) -> String {
    ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
}

fn cannot_run(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("error: {}", error_chain(error));
    ExitCode::from(CANNOT_RUN)
}
