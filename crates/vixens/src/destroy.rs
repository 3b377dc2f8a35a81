//! `vixens destroy ENV`: the safe destroy path ([`vixens_ops::destroy`]) with a prompt on a terminal,
//! progress on stdout, refusals and errors on stderr, and the exit codes of
//! [`vixens_ops::destroy::exit`].

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use vixens_drivers::process::Stream;
use vixens_drivers::redact::Redactor;
use vixens_ops::destroy::guard;
use vixens_ops::destroy::{self, Confirmation, Event, Interrupt, Options, Outcome, Signalled, Verdict, exit};
use vixens_ops::env::{Environment, ProcessVars, Protection, protected_environments};
use vixens_ops::lease::{self, Found, Lease, cleanup};

/// How long `vixens destroy` waits for a test that is using the environment: a person asking
/// wants an answer, not a wait for a whole recreate cycle.
const LEASE_WAIT: Duration = Duration::from_secs(5);

const EXIT_CODES: &str = "\
Exit status:
  0    destroyed (or nothing left to destroy); every protected item is still there
  1    refused, nothing changed: protected environment (or one sharing a protected one's
       terraform root, state or cluster), missing or wrong confirmation, the environment in
       use by a test run (named), or a plan that would delete or replace a protected
       resource (each address listed)
  2    cannot destroy safely, nothing destroyed: unusable env.yaml, no state (never applied),
       state backup failed or unverifiable, terraform failed before the apply, protected
       inventory unreadable
  3    the destroy ran and failed: terraform apply failed or was stopped at its hard ceiling
       (budgets.destroy-ceiling), or protected storage is missing (or cannot be checked)
       afterwards; needs a person
  130  interrupted (SIGINT/SIGTERM) before the destroy started: nothing destroyed, state and
       backups consistent; run it again";

/// Destroy an environment safely.
///
/// In order, stopping at the first refusal or error: a protected environment (kind: protected,
/// or sharing a protected environment's terraform root, state or cluster) is refused whatever
/// the flags; the environment's name must be confirmed (typed at the prompt on a terminal;
/// without one, --confirm ENV or VIXENS_CONFIRM_DESTROY=ENV); the environment's lease is taken
/// (refused while a test run uses it, naming it); `terraform state pull` is
/// backed up to <state-backup.dir>/<env>/<UTC time>-serial<N>.tfstate, flushed and verified
/// (lineage, serial, sha256 beside it), keeping the last state-backup.keep; `terraform plan
/// -destroy` is saved and read as JSON, and any delete or replace of a protected resource refuses
/// the destroy; the protected inventory (state bucket, LUNs) is taken; exactly the checked plan is
/// applied; the inventory is taken again and anything missing fails loudly.
///
/// SIGINT or SIGTERM stops the destroy after the step under way, before anything is destroyed; a
/// second one stops the terraform command under way (it releases its state lock). Once the
/// checked plan is being applied, it runs to its end whatever is received.
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
    let name = protection.name.clone();
    if let Err(refusal) = refuse_protected(&protection) {
        eprintln!("vixens destroy {name}: refused: {refusal}\nnothing was changed");
        return ExitCode::from(exit::REFUSED);
    }
    let mut environment = match crate::environment::load_file(&file) {
        Ok(environment) => environment,
        Err(code) => return code,
    };
    println!("vixens destroy {name} ({})", environment.file.display());
    // Asked before the signal handlers exist: Ctrl-C at the prompt simply ends vixens.
    let mut options = Options::new(confirmation(&environment, args.confirm));
    options.redactor = environment.redactor();
    if let Verdict::Refused(refusal) = options.confirmation.judge(&name) {
        eprintln!("vixens destroy {name}: refused: {refusal}\nnothing was changed");
        return ExitCode::from(exit::REFUSED);
    }
    // A lab's destroy runs `vixens-lab down`: missing, the destroy would fail halfway.
    if let Err(message) = crate::environment::ensure_lab_binary(&mut environment) {
        eprintln!("vixens destroy {name}: {message}\nnothing was destroyed");
        return ExitCode::from(exit::ERROR);
    }
    let lease = match take_lease(&environment, &options.redactor) {
        Ok(lease) => lease,
        Err(code) => return code,
    };
    if let Err(e) = on_signals(&options.interrupt) {
        eprintln!("vixens destroy {name}: cannot handle SIGINT/SIGTERM: {e}");
        return ExitCode::from(exit::ERROR);
    }

    let result = destroy::run(&environment, lease.held(), &options, |event| render(&event, &options.redactor));
    if let Err(e) = lease.release() {
        eprintln!("vixens destroy {name}: warning: {}", options.redactor.redact(&vixens_diagnostic::error_chain(&e)));
    }
    match result {
        Ok(outcome) => {
            println!("{}", options.redactor.redact(&summary(&name, &outcome)));
            ExitCode::from(exit::DESTROYED)
        }
        Err(error) => {
            eprintln!("vixens destroy {name}: {}", options.redactor.redact(&render_error(&error)));
            ExitCode::from(error.exit_code())
        }
    }
}

/// A protected environment, or one that is a protected environment of the workspace under
/// another name (same terraform root, state or cluster).
fn refuse_protected(protection: &Protection) -> Result<(), destroy::Refusal> {
    guard::check_environment(&protection.name, protection.kind).into_result()?;
    guard::check_identity(&protection.name, &protection.identity, &protected_environments(&protection.file, &ProcessVars)).into_result()
}

/// The environment's lease: refused (exit 1) while a test run uses it, naming it. What a killed
/// run left is undone first, and said.
fn take_lease(environment: &Environment, redactor: &Redactor) -> Result<Lease, ExitCode> {
    let name = &environment.name;
    let taken = Lease::acquire(&environment.work_dir, "vixens destroy", None, LEASE_WAIT, |item, held| cleanup::undo(environment, held, item));
    match taken {
        Ok(lease) => {
            if let Found::Reaped(record) = lease.found()
                && !record.started.is_empty()
            {
                println!(
                    "vixens destroy {name}: first undid what an earlier run left: {} (left by pid {} for {})",
                    lease::describe(&record.started),
                    record.holder.pid,
                    record.holder.purpose
                );
            }
            Ok(lease)
        }
        Err(e @ lease::Error::Busy { .. }) => {
            eprintln!("vixens destroy {name}: refused: {}\nnothing was changed", redactor.redact(&e.to_string()));
            Err(ExitCode::from(exit::REFUSED))
        }
        Err(e) => {
            eprintln!("vixens destroy {name}: {}\nnothing was destroyed", redactor.redact(&vixens_diagnostic::error_chain(&e)));
            Err(ExitCode::from(exit::ERROR))
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

/// Each SIGINT or SIGTERM goes to [`Interrupt::on_signal`]: the first stops the destroy after the
/// step under way, the second stops the terraform command under way, a third gives up at once;
/// none does anything once the checked plan is being applied.
fn on_signals(interrupt: &Interrupt) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let interrupt = interrupt.clone();
    std::thread::spawn(move || {
        for signal in signals.forever() {
            match interrupt.on_signal() {
                Signalled::StopAfterStep => eprintln!(
                    "vixens destroy: interrupt received: stopping after the step under way (a second signal stops the terraform command under way)"
                ),
                Signalled::StopNow => {
                    eprintln!("vixens destroy: second signal: stopping the terraform command under way (it releases its state lock)")
                }
                Signalled::GiveUp => {
                    eprintln!("vixens destroy: third signal: giving up now; nothing was destroyed; run it again (it cleans up after this one)");
                    std::process::exit(128 + signal);
                }
                Signalled::Applying => eprintln!(
                    "vixens destroy: the checked destroy plan is being applied: it runs to its end (stopping it halfway would leave a half-destroyed environment)"
                ),
            }
        }
    });
    Ok(())
}

/// One event as progress lines on stdout, through the environment's redactor.
fn render(event: &Event<'_>, redactor: &Redactor) {
    let text = progress(event);
    if !text.is_empty() {
        println!("{}", redactor.redact(&text));
    }
    let _ = std::io::stdout().flush();
}

/// The progress lines of one event (none for a blank terraform line).
fn progress(event: &Event<'_>) -> String {
    match event {
        Event::Started(step) => format!("==> {step}"),
        Event::Terraform(_, line) if line.trim().is_empty() => String::new(),
        Event::Terraform(stream, line) => {
            let mark = match stream {
                Stream::Stdout => "|",
                Stream::Stderr => "!",
            };
            format!("    {mark} {line}")
        }
        Event::BackedUp(backup) => format!(
            "    state serial {} (lineage {}) backed up and verified: {} (sha256 {}, {} bytes)",
            backup.serial,
            backup.lineage,
            backup.path.display(),
            backup.sha256,
            backup.size
        ),
        Event::Pruned(paths) => format!("    removed {} old backup{} (state-backup.keep)", paths.len(), plural(paths.len())),
        Event::PruneFailed(error) => format!("    warning: old backups were not removed: {}", vixens_diagnostic::error_causes(error)),
        Event::Allowed { destroys } => format!("    allowed: {destroys} resource{} to destroy, none protected", plural(*destroys)),
        Event::Volumes([]) => String::new(),
        Event::Volumes(mapped) => {
            let lines: Vec<String> = mapped.iter().map(|m| format!("    {} -> {} `{}`", m.volume, m.check, m.lun)).collect();
            format!("    {} iSCSI PersistentVolume{}, each mapped to its LUN:\n{}", mapped.len(), plural(mapped.len()), lines.join("\n"))
        }
        Event::StorageNotSettled(why) => format!("    warning: the cluster's storage may still grow: {why}"),
        Event::VolumesNotListed(why) => format!("    warning: PersistentVolumes not listed, the LUNs are judged by the inventory alone: {why}"),
        Event::Inventory { after, inventory } => {
            let mut lines: Vec<String> = Vec::new();
            if inventory.checks.is_empty() && !after {
                lines.push("    no protected inventory configured (protected.inventory in env.yaml)".to_owned());
            }
            lines.extend(inventory.checks.iter().map(|found| format!("    {found}")));
            lines.join("\n")
        }
    }
}

fn summary(name: &str, outcome: &Outcome) -> String {
    let seconds = outcome.elapsed.as_secs_f64();
    let done = done(name, outcome, seconds);
    match outcome.overrun() {
        Some(_) => format!(
            "{done}\nthe destroy took {seconds:.1}s, over its {} budget (budgets.phases.destroy): the apply of the checked plan ran to its end",
            humantime::format_duration(outcome.budget)
        ),
        None => done,
    }
}

fn done(name: &str, outcome: &Outcome, seconds: f64) -> String {
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
