//! `vixens adr`: lint the ADRs of a repository, or check that a change kept them up to date.
//!
//! Exit codes: 0 when no rule at error severity is broken (warnings are printed), 1 when one
//! is, 2 when the check could not run (bad configuration, no ADR folder, git failure).

use std::path::PathBuf;
use std::process::ExitCode;

use vixens_docs::adr::{self, Config, Diagnostic, output};

/// ADR checks: structure, status, supersession both ways, references that resolve.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Check every ADR of the repository: title, status, Context/Decision/Consequences with a
    /// positive and a negative part, spec and implementation references, links and paths that
    /// exist, unique numbers, supersession both ways, and the index.
    Lint(LintArgs),
    /// Fail when the change since REV touches architecture paths without adding or changing an
    /// ADR, or turns an ADR Superseded without its successor.
    CheckChange(ChangeArgs),
}

/// Options of every `vixens adr` command.
#[derive(clap::Args)]
pub struct Common {
    /// The repository root (its ADRs are in `docs/adr/` unless its configuration says otherwise).
    #[arg(long, default_value = ".", value_name = "DIR")]
    repo: PathBuf,
    /// The ADR configuration [default: DIR/.config/adr.yaml when present, else built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `text`: one `file:line: rule: message` line per problem; `json`: one JSON document.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
}

/// `vixens adr lint`.
#[derive(clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    common: Common,
}

/// `vixens adr check-change`.
#[derive(clap::Args)]
pub struct ChangeArgs {
    /// The revision the change starts from (compared at its merge base with HEAD), e.g. `origin/main`.
    #[arg(long, value_name = "REV")]
    base: String,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

/// Exit code when the check could not run at all.
const CANNOT_CHECK: u8 = 2;

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Lint(args) => lint(&args.common),
        Command::CheckChange(args) => check_change(&args.base, &args.common),
    }
}

fn lint(common: &Common) -> ExitCode {
    let Some(config) = load_config(common) else { return ExitCode::from(CANNOT_CHECK) };
    match adr::lint(&common.repo, &config) {
        Ok(lint) => report(common.format, &lint.diagnostics, || output::lint_summary(&lint), || output::lint_json(&lint)),
        Err(e) => cannot_check(&e),
    }
}

fn check_change(base: &str, common: &Common) -> ExitCode {
    let Some(config) = load_config(common) else { return ExitCode::from(CANNOT_CHECK) };
    match adr::check_change(&common.repo, base, &config) {
        Ok(change) => report(common.format, &change.diagnostics, || output::change_summary(&change), || output::change_json(&change)),
        Err(e) => cannot_check(&e),
    }
}

/// Prints the diagnostics (stdout) and the summary (stderr), or the JSON document; exits 1
/// when any diagnostic is an error.
fn report(format: FormatArg, diagnostics: &[Diagnostic], summary: impl Fn() -> String, json: impl Fn() -> String) -> ExitCode {
    match format {
        FormatArg::Text => {
            print!("{}", output::lines(diagnostics));
            eprintln!("{}", summary());
        }
        FormatArg::Json => println!("{}", json()),
    }
    if diagnostics.iter().any(Diagnostic::is_error) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn load_config(common: &Common) -> Option<Config> {
    let loaded = match &common.config {
        Some(path) => Config::load(path),
        None => Config::for_repo(&common.repo),
    };
    match loaded {
        Ok(config) => Some(config),
        Err(e) => {
            // Every problem of the file, each labelled on its line.
            eprintln!("{:?}", miette::Report::new(e));
            None
        }
    }
}

fn cannot_check(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("vixens adr: {}", vixens_diagnostic::error_chain(error));
    ExitCode::from(CANNOT_CHECK)
}
