//! The talosctl stand-in: `DIR/bin/talosctl ...` (through `vixens-lab talosctl ...`) answers
//! the commands operators and the harness use, with the formats, streams and exit codes of
//! talosctl v1.13.9:
//!
//! - `logs <service> [-f] [--tail N] [-k]`, `dmesg [-f] [--tail]`: `<node>: <line>` on stdout;
//! - `health [--server=false] [--wait-timeout D]`: everything on stderr, nothing on stdout;
//! - `version [--short|--client|--json]`, `service [<id> [status]]`, `get members [-o yaml|json]`.
//!
//! Every error is printed on stderr (with the usage when it is about arguments, flags or
//! commands) and exits 1, the only failure code talosctl has. A unary call that fails on some
//! nodes prints `WARNING: <errors>` on stderr, the rows of the other nodes, and exits 0.
//!
//! It reads the talosconfig like talosctl (`--talosconfig`, else `$TALOSCONFIG`, else
//! `~/.talos/config`; `--context`, `-e`, `-n`) and calls the lab's Talos API
//! ([`crate::talos::wire`]) over HTTPS, verifying the lab's CA, with the key as bearer token.
//! When the lab is down it fails as talosctl does when apid is unreachable.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, Parser, Subcommand};

mod client;
mod config;
mod dmesg;
mod get;
mod health;
mod logs;
mod output;
mod service;
mod version;

/// Why a command failed.
#[derive(Debug)]
enum Failure {
    /// The error text cobra prints (followed by the usage when it is about arguments, flags or
    /// commands).
    Message(String),
    /// The command already printed its errors (`logs`' per-node `ERROR:` lines): just exit 1.
    Reported,
}

type Outcome = Result<(), Failure>;

/// talosctl's global flags.
#[derive(Debug, Clone, Args)]
struct Global {
    /// The path to the Talos configuration file. Defaults to 'TALOSCONFIG' env variable if set, otherwise '$HOME/.talos/config' and '/var/run/secrets/talos.dev/config' in order.
    #[arg(long, global = true)]
    talosconfig: Option<PathBuf>,
    /// Context to be used in command
    #[arg(long, global = true)]
    context: Option<String>,
    /// override default endpoints in Talos configuration
    #[arg(short = 'e', long, global = true, value_delimiter = ',')]
    endpoints: Vec<String>,
    /// target the specified nodes
    #[arg(short = 'n', long, global = true, value_delimiter = ',')]
    nodes: Vec<String>,
}

#[derive(Debug, Parser)]
#[command(name = "talosctl", about = "A CLI for out-of-band management of Kubernetes nodes created by Talos", disable_version_flag = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Retrieve logs for a service
    Logs(logs::LogsArgs),
    /// Retrieve kernel logs
    Dmesg(dmesg::DmesgArgs),
    /// Check cluster health
    Health(health::HealthArgs),
    /// Prints the version
    Version(version::VersionArgs),
    /// Retrieve the state of a service (or all services), control service state
    #[command(alias = "services")]
    Service(service::ServiceArgs),
    /// Get a specific resource or list of resources (use 'talosctl get rd' to see all available resource types).
    Get(get::GetArgs),
}

/// Runs talosctl with `args`: the arguments after the program name (`["-n", "10.5.0.2",
/// "dmesg"]`).
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let argv = std::iter::once(OsString::from("talosctl")).chain(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return parse_failure(&e),
    };
    let Some(command) = cli.command else {
        print!("{}", <Cli as clap::CommandFactory>::command().render_help());
        return ExitCode::SUCCESS;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&Failure::Message(format!("error starting the runtime: {e}")), None),
    };
    let name = command_name(&command);
    let outcome = runtime.block_on(run(cli.global, command));
    // Streams (`logs -f`) may still hold tasks: do not wait for them.
    runtime.shutdown_timeout(Duration::from_millis(10));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(&failure, Some(name)),
    }
}

async fn run(global: Global, command: Command) -> Outcome {
    match command {
        Command::Logs(args) => logs::run(&global, args).await,
        Command::Dmesg(args) => dmesg::run(&global, args).await,
        Command::Health(args) => health::run(&global, args).await,
        Command::Version(args) => version::run(&global, args).await,
        Command::Service(args) => service::run(&global, args).await,
        Command::Get(args) => get::run(&global, args).await,
    }
}

fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Logs(_) => "logs",
        Command::Dmesg(_) => "dmesg",
        Command::Health(_) => "health",
        Command::Version(_) => "version",
        Command::Service(_) => "service",
        Command::Get(_) => "get",
    }
}

/// Prints a failure like cobra does in talosctl's `main`: the error on one line (a multi-node
/// error spans several), then the usage if the text is about arguments, flags or commands.
fn fail(failure: &Failure, command: Option<&str>) -> ExitCode {
    if let Failure::Message(message) = failure {
        eprintln!("{message}");
        if ["arg(s)", "flag", "command"].iter().any(|w| message.contains(w)) {
            eprintln!();
            eprintln!("Usage:\n  {}", usage(command));
        }
    }
    ExitCode::FAILURE
}

/// `talosctl <command> [OPTIONS] ...`, or the root usage.
fn usage(command: Option<&str>) -> String {
    let mut cli = <Cli as clap::CommandFactory>::command();
    cli.build();
    let rendered = match command.and_then(|name| cli.find_subcommand_mut(name)) {
        Some(sub) => sub.render_usage().to_string(),
        None => cli.render_usage().to_string(),
    };
    rendered.trim_start_matches("Usage:").trim().to_owned()
}

/// Translates clap's parse errors into cobra/pflag's wording.
fn parse_failure(error: &clap::Error) -> ExitCode {
    let invalid = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(s)) => s.join(" "),
        _ => String::new(),
    };
    let command = match error.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(usage)) => usage.to_string().split_whitespace().nth(2).map(str::to_owned),
        _ => None,
    };
    let message = match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::DisplayVersion => {
            print!("{error}");
            return ExitCode::SUCCESS;
        }
        ErrorKind::InvalidSubcommand => format!("unknown command {:?} for \"talosctl\"", invalid(ContextKind::InvalidSubcommand)),
        ErrorKind::UnknownArgument => {
            let arg = invalid(ContextKind::InvalidArg);
            match arg.strip_prefix('-') {
                Some(short) if !short.starts_with('-') => format!("unknown shorthand flag: '{}' in {arg}", &short[..1.min(short.len())]),
                _ => format!("unknown flag: {arg}"),
            }
        }
        ErrorKind::MissingRequiredArgument => "accepts 1 arg(s), received 0".into(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = invalid(ContextKind::InvalidArg);
            let flag = arg.split_whitespace().next().unwrap_or(&arg).to_owned();
            format!("invalid argument {:?} for {:?} flag: {}", invalid(ContextKind::InvalidValue), flag, error.kind())
        }
        _ => error.render().to_string().lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_owned(),
    };
    let command =
        command.and_then(|c| <Cli as clap::CommandFactory>::command().get_subcommands().find(|s| s.get_name() == c).map(|s| s.get_name().to_owned()));
    fail(&Failure::Message(message), command.as_deref())
}

/// Parses a Go duration (`20m`, `1m30s`, `500ms`, `1h`), as `--wait-timeout` takes.
fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        total += number * seconds;
        rest = &rest[unit_len..];
    }
    if text.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("20m").unwrap(), Duration::from_secs(1200));
        assert_eq!(parse_go_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_go_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_go_duration("soon").unwrap_err(), "time: invalid duration \"soon\"");
        assert!(parse_go_duration("10").is_err());
    }

    #[test]
    fn flags_take_cobra_forms() {
        let cli = Cli::try_parse_from(["talosctl", "-n", "10.5.0.2,10.5.0.3", "logs", "kubelet", "--tail", "-1", "-f"]).unwrap();
        assert_eq!(cli.global.nodes, ["10.5.0.2", "10.5.0.3"]);
        let Some(Command::Logs(logs)) = cli.command else { panic!("logs") };
        assert_eq!((logs.tail, logs.follow), (-1, true));
        let cli = Cli::try_parse_from(["talosctl", "health", "--server=false", "--wait-timeout", "30s", "--nodes", "10.5.0.2"]).unwrap();
        let Some(Command::Health(health)) = cli.command else { panic!("health") };
        assert!(!health.server);
        assert_eq!(health.wait_timeout, Duration::from_secs(30));
        assert_eq!(cli.global.nodes, ["10.5.0.2"]);
    }
}
