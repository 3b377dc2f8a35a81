//! `vixens destroy ENV`: the safe destroy path ([`vixens_ops::destroy`]) with a prompt on a terminal,
//! progress on stdout, refusals and errors on stderr, and the exit codes of
//! [`vixens_ops::destroy::exit`].

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use vixens_drivers::process::Stream;
use vixens_ops::destroy::guard;
use vixens_ops::destroy::{self, Confirmation, Event, Interrupt, Options, Outcome, Verdict, exit};
use vixens_ops::env::{Environment, ProcessVars, Protection};

const EXIT_CODES: &str = "\
Exit status:
  0    destroyed (or nothing left to destroy); every protected item is still there
  1    refused, nothing changed: protected environment, missing or wrong confirmation,
       or a plan that would delete or replace a protected resource (each address listed)
  2    cannot destroy safely, nothing destroyed: unusable env.yaml, no state (never applied),
       state backup failed or unverifiable, terraform failed before the apply, protected
       inventory unreadable
  3    the destroy ran and failed: terraform apply failed, or protected storage is missing
       (or cannot be checked) afterwards; needs a person
  130  interrupted (SIGINT/SIGTERM) before the destroy started: nothing destroyed, state and
       backups consistent; run it again";

/// Destroy an environment safely.
///
/// In order, stopping at the first refusal or error: a protected environment (kind: protected) is
/// refused whatever the flags; the environment's name must be confirmed (typed at the prompt on a
/// terminal; without one, --confirm ENV or VIXENS_CONFIRM_DESTROY=ENV); `terraform state pull` is
/// backed up to <state-backup.dir>/<env>/<UTC time>-serial<N>.tfstate, flushed and verified
/// (lineage, serial, sha256 beside it), keeping the last state-backup.keep; `terraform plan
/// -destroy` is saved and read as JSON, and any delete or replace of a protected resource refuses
/// the destroy; the protected inventory (state bucket, LUNs) is taken; exactly the checked plan is
/// applied; the inventory is taken again and anything missing fails loudly.
///
/// SIGINT or SIGTERM stops the destroy after the step under way, before anything is destroyed;
/// once the checked plan is being applied, it runs to its end. A second signal stops vixens at
/// once (terraform, in its own process group, then finishes on its own).
#[derive(clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The environment: a name under environments/ (lab, dev) or the path of an env.yaml.
    #[arg(value_name = "ENV")]
    env: String,
    /// Confirm without a prompt: the environment's name, exactly.
    #[arg(long, value_name = "ENV")]
    confirm: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let file = match crate::environment::resolve(&args.env) {
        Ok(file) => file,
        Err(code) => return code,
    };
    // Refused before any prompt, and even on a machine not set up for it: there is nothing to
    // confirm.
    let protection = match Protection::load(&file, &ProcessVars) {
        Ok(protection) => protection,
        Err(e) => return crate::environment::unusable(&e),
    };
    let name = protection.name;
    if let Verdict::Refused(refusal) = guard::check_environment(&name, protection.kind) {
        eprintln!("vixens destroy {name}: refused: {refusal}\nnothing was changed");
        return ExitCode::from(exit::REFUSED);
    }
    let environment = match crate::environment::load_file(&file) {
        Ok(environment) => environment,
        Err(code) => return code,
    };
    // Asked before the signal handlers exist: Ctrl-C at the prompt simply ends vixens.
    let mut options = Options::new(confirmation(&environment, args.confirm));
    if let Err(e) = on_signals(&options.interrupt) {
        eprintln!("vixens destroy {name}: cannot handle SIGINT/SIGTERM: {e}");
        return ExitCode::from(exit::ERROR);
    }
    options.redactor = environment.redactor();

    println!("vixens destroy {name} ({})", environment.file.display());
    match destroy::run(&environment, &options, |event| render(&event)) {
        Ok(outcome) => {
            println!("{}", summary(&name, &outcome));
            ExitCode::from(exit::DESTROYED)
        }
        Err(error) => {
            eprintln!("vixens destroy {name}: {}", render_error(&error));
            ExitCode::from(error.exit_code())
        }
    }
}

/// `--confirm` wherever given; else the prompt on a terminal; else `VIXENS_CONFIRM_DESTROY`.
fn confirmation(environment: &Environment, flag: Option<String>) -> Confirmation {
    if flag.is_some() || !std::io::stdin().is_terminal() {
        return Confirmation::without_terminal(flag, &ProcessVars);
    }
    let name = &environment.name;
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "Destroying `{name}`: {}\nEvery resource of its terraform state is destroyed; the state is backed up first, and protected storage is never destroyed.\nType the environment's name to confirm: ",
        environment.description
    );
    let _ = stderr.flush();
    let mut answer = String::new();
    match std::io::stdin().lock().read_line(&mut answer) {
        Ok(0) | Err(_) => Confirmation::Missing,
        Ok(_) => Confirmation::Typed(answer.trim_end_matches(['\n', '\r']).to_owned()),
    }
}

/// The first SIGINT or SIGTERM asks the destroy to stop after the step under way; a second one
/// exits at once.
fn on_signals(interrupt: &Interrupt) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let interrupt = interrupt.clone();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if interrupt.requested() {
                eprintln!("vixens destroy: second signal: stopping now");
                std::process::exit(128 + signal);
            }
            interrupt.request();
            eprintln!("vixens destroy: interrupt received: stopping after the step under way (a second signal stops at once)");
        }
    });
    Ok(())
}

/// One event as progress lines on stdout.
fn render(event: &Event<'_>) {
    match event {
        Event::Started(step) => println!("==> {step}"),
        Event::Terraform(stream, line) => {
            if !line.trim().is_empty() {
                let mark = match stream {
                    Stream::Stdout => "|",
                    Stream::Stderr => "!",
                };
                println!("    {mark} {line}");
            }
        }
        Event::BackedUp(backup) => println!(
            "    state serial {} (lineage {}) backed up and verified: {} (sha256 {}, {} bytes)",
            backup.serial,
            backup.lineage,
            backup.path.display(),
            backup.sha256,
            backup.size
        ),
        Event::Pruned(paths) => println!("    removed {} old backup{} (state-backup.keep)", paths.len(), plural(paths.len())),
        Event::PruneFailed(error) => println!("    warning: old backups were not removed: {}", vixens_diagnostic::error_causes(error)),
        Event::Allowed { destroys } => println!("    allowed: {destroys} resource{} to destroy, none protected", plural(*destroys)),
        Event::Inventory { after, inventory } => {
            if inventory.checks.is_empty() && !after {
                println!("    no protected inventory configured (protected.inventory in env.yaml)");
            }
            for found in &inventory.checks {
                println!("    {found}");
            }
        }
    }
    let _ = std::io::stdout().flush();
}

fn summary(name: &str, outcome: &Outcome) -> String {
    let seconds = outcome.elapsed.as_secs_f64();
    match &outcome.destroyed {
        None => format!("nothing to destroy in `{name}` ({seconds:.1}s); state backed up to {}", outcome.backup.path.display()),
        Some(summary) => format!(
            "destroyed `{name}` in {seconds:.1}s: {} resource{} destroyed; state backed up to {}; {}",
            summary.destroyed,
            plural(summary.destroyed),
            outcome.backup.path.display(),
            match outcome.inventory.len() {
                0 => "no protected item to check".to_owned(),
                n => format!("{n} protected item{} still there", plural(n)),
            },
        ),
    }
}

fn render_error(error: &destroy::Error) -> String {
    match error {
        destroy::Error::Refused(refusal) => format!("refused: {refusal}\nnothing was changed"),
        other => vixens_diagnostic::error_causes(other),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
