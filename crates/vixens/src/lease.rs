//! `vixens lease show|reap ENV`: what the harness started on an environment, and cleaning up
//! what a killed run left; `vixens lease janitor` (hidden) is the process a test session starts
//! to tear an on-demand environment down once its nextest run is over.
//!
//! Exit codes: 0 done (or nothing to do), 1 the lease is busy or something could not be undone
//! (the message says what to do: `--force`, or the manual step), 2 the environment could not be
//! found or its env.yaml is not usable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use vixens_ops::env::Environment;
use vixens_ops::lease::{self, Found, Lease, ProcessRef, RunRef, cleanup};

/// How long `reap` waits for a test that is using the environment: a person asking wants an
/// answer, not a wait for a whole test.
const REAP_WAIT: Duration = Duration::from_secs(5);

/// What the harness started on an environment.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Show who uses the environment and what the harness started on it.
    Show {
        /// The environment: a name under environments/ (lab, dev, prod) or the path of an env.yaml.
        env: String,
    },
    /// Undo what a killed or finished run left on the environment (a running lab, a
    /// half-applied terraform state); refused while a run keeps it up.
    ///
    /// Each item is undone newest first: a lab is stopped, terraform's state destroyed through the
    /// safe destroy. When that fails the item is kept and the error says what to do.
    ///
    /// Exit status: 0 done (or nothing to do), 1 busy or an item could not be undone, 2 the
    /// environment cannot be used.
    Reap {
        /// The environment: a name under environments/ (lab, dev, prod) or the path of an env.yaml.
        env: String,
        /// Unwedge the environment: protected resources that keep the safe destroy from running
        /// are taken out of terraform's state (the storage itself is kept) and the rest is
        /// destroyed safely; what still cannot be undone is forgotten and listed for you. Nothing
        /// protected is ever destroyed, and a run that is still going is never reaped.
        #[arg(long)]
        force: bool,
    },
    /// Wait for a nextest run to end, then undo what it started (started by test sessions).
    #[command(hide = true)]
    Janitor {
        /// The env.yaml the session loaded.
        env: String,
        /// The work dir the session used (checked against the env.yaml's).
        #[arg(long)]
        work_dir: PathBuf,
        /// `NEXTEST_RUN_ID`.
        #[arg(long)]
        run: String,
        /// The runner's pid.
        #[arg(long)]
        runner_pid: u32,
        /// The runner's start time (clock ticks after boot).
        #[arg(long)]
        runner_start: u64,
    },
}

pub fn run(command: Command) -> ExitCode {
    let (name, action): (&str, fn(&Environment, &Command) -> ExitCode) = match &command {
        Command::Show { env } => (env, show),
        Command::Reap { env, .. } => (env, reap),
        Command::Janitor { env, .. } => (env, janitor),
    };
    match crate::environment::load(name) {
        Ok(environment) => action(&environment, &command),
        Err(code) => code,
    }
}

fn show(env: &Environment, _: &Command) -> ExitCode {
    match lease::read(&env.work_dir) {
        Ok(None) => println!("{}: no lease in {}: nothing of the harness's is there", env.name, env.work_dir.display()),
        Ok(Some(record)) => {
            println!("{}: lease in {}", env.name, env.work_dir.join(lease::LEASE_FILE).display());
            println!("  last used by pid {} since {} for {}", record.holder.pid, record.holder.since, record.holder.purpose);
            match &record.run {
                Some(run) if run.runner.alive() => println!("  kept up for nextest run {} (runner pid {}, running)", run.id, run.runner.pid),
                Some(run) => println!("  kept up for nextest run {} (runner pid {}, over: stale)", run.id, run.runner.pid),
                None => println!("  for one test process"),
            }
            if let Some(janitor) = &record.janitor {
                println!("  janitor pid {} ({})", janitor.pid, if janitor.alive() { "running" } else { "gone" });
            }
            println!("  started: {}", lease::describe(&record.started));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

fn reap(env: &Environment, command: &Command) -> ExitCode {
    let force = matches!(command, Command::Reap { force: true, .. });
    let mut notes = Vec::new();
    let taken = if force {
        Lease::acquire(&env.work_dir, "vixens lease reap --force", None, REAP_WAIT, |item, held| {
            cleanup::force_undo(env, held, item, &mut notes);
            Ok(())
        })
    } else {
        Lease::acquire(&env.work_dir, "vixens lease reap", None, REAP_WAIT, |item, held| cleanup::undo(env, held, item))
    };
    let redactor = env.redactor();
    let lease = match taken {
        Ok(lease) => lease,
        Err(e) => {
            eprintln!("error: {}", redactor.redact(&e.to_string()));
            return ExitCode::from(1);
        }
    };
    match lease.found() {
        Found::Reaped(record) => {
            println!("{}: undid {} (left by pid {}, {})", env.name, lease::describe(&record.started), record.holder.pid, record.holder.purpose);
        }
        Found::Free | Found::OfThisRun => println!("{}: nothing to reap", env.name),
    }
    for note in &notes {
        println!("  {}", redactor.redact(note));
    }
    match lease.release() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn janitor(env: &Environment, command: &Command) -> ExitCode {
    let Command::Janitor { work_dir, run, runner_pid, runner_start, .. } = command else { unreachable!("dispatched on Janitor") };
    if std::path::absolute(work_dir).ok() != std::path::absolute(&env.work_dir).ok() {
        eprintln!(
            "error: {} resolves its work dir to {}, not {}: leaving the lease to the next run's reaper",
            env.file.display(),
            env.work_dir.display(),
            work_dir.display()
        );
        return ExitCode::from(2);
    }
    let run = RunRef { id: run.clone(), runner: ProcessRef { pid: *runner_pid, start: *runner_start } };
    println!(
        "{} janitor pid {}: waiting for nextest run {} (runner pid {}) to end",
        jiff::Timestamp::now(),
        std::process::id(),
        run.id,
        run.runner.pid
    );
    match cleanup::janitor(env, &run) {
        Ok(cleanup::Janitored::Undone(record)) => {
            println!("{} run {} is over: undid {}", jiff::Timestamp::now(), run.id, lease::describe(&record.started));
            ExitCode::SUCCESS
        }
        Ok(cleanup::Janitored::NothingLeft) => {
            println!("{} run {} is over: nothing left to undo", jiff::Timestamp::now(), run.id);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{} error: {e}", jiff::Timestamp::now());
            ExitCode::from(1)
        }
    }
}
