//! `vixens commands lint` and `vixens commands run`: docs/commands.md as a gate and as a test.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_checks::commands::report::{EntryOutcome, Verdict};
use vixens_checks::commands::{Event, Report, RunOptions, Runner};
use vixens_diagnostic::error_chain;
use vixens_docs::commands::{self, lint, record};
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
    /// are unique; placeholders are defined; blocks are closed; and every entry, as written
    /// now, passed on at least 2 environments. Prints `file:line: rule: message` per problem
    /// and exits 1 if there is any.
    Lint(LintArgs),
    /// Run docs/commands.md's entries on an environment and compare their output with the
    /// document. A lab must be up (`vixens up ENV`). Exits 1 if an entry
    /// fails, 2 if they cannot run.
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct LintArgs {
    /// The repository whose docs/commands.md is checked.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// Check this file instead of <DIR>/docs/commands.md.
    #[arg(long, value_name = "FILE", conflicts_with = "repo")]
    file: Option<PathBuf>,
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
    /// The repository holding environments/.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
}

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Lint(args) => run_lint(&args),
        Command::Run(args) => run_entries(&args),
    }
}

fn run_lint(args: &LintArgs) -> ExitCode {
    let path = args.file.clone().unwrap_or_else(|| display_join(&args.repo, commands::DOC_PATH));
    let doc = match commands::load(&path) {
        Ok(doc) => doc,
        Err(e) => return cannot_run(&e),
    };
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
    let options = RunOptions { mutating: args.mutating, entries: args.entries.clone(), extra_path };
    let runner = Runner::new(&env, &doc, options);
    println!("running {} of {} on {}", count(&doc, &args.entries), doc.path.display(), env.name);
    let report = runner.run(&mut |event| progress(&env.name, &event));
    print_failures(&report);
    println!("\n{}", report.summary());
    for (outcome, _) in report.failed() {
        println!("re-run: vixens commands run {} --entry {}", args.env, outcome.id);
    }
    if args.record && !save_record(&report) {
        return ExitCode::from(CANNOT_RUN);
    }
    if report.success() { ExitCode::SUCCESS } else { ExitCode::from(FAILED) }
}

fn count(doc: &commands::Document, selected: &[String]) -> String {
    let n = if selected.is_empty() { doc.entries.len() } else { selected.len() };
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

fn progress(env: &str, event: &Event<'_>) {
    match event {
        Event::EntryStarted { .. } => {}
        Event::Retrying { entry, attempt, failure } => {
            println!("    RETRY [attempt {attempt}] commands::{env}::{}: {}", entry.id, failure.headline());
        }
        Event::EntryFinished { outcome } => println!("{}", status_line(env, outcome)),
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

/// Writes the records of the entries that passed; false if the document could not be written.
fn save_record(report: &Report) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    let recording = report.recording(&record::today());
    if recording.passed.is_empty() {
        println!("nothing to record: no entry passed");
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

/// `repo/rest`, without a leading `./` when `repo` is the current folder.
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
