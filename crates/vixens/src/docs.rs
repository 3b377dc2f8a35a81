//! `vixens docs secrets`: credentials committed in the documentation.
//!
//! Exit codes: 0 when `docs/**` holds no secret (besides those `.config/secrets.yaml` accepts),
//! 1 when it does, 2 when the scan cannot run (no `docs/`, a broken allow file, a file that
//! cannot be read).

use std::path::PathBuf;
use std::process::ExitCode;

use vixens_docs::secrets::{self, output};

/// Exit code when a secret is found.
const FOUND: u8 = 1;
/// Exit code when the scan could not run, or not on every file.
const CANNOT_SCAN: u8 = 2;

/// Checks of the documentation as a whole.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Find credentials committed in docs/** (Markdown, YAML, shell): private keys, tokens of
    /// known formats (GitHub, GitLab, cloud, Infisical, Tailscale, age, kubeconfig and
    /// talosconfig keys, JWTs), Authorization headers, passwords in URLs and on command lines,
    /// and passwords, secrets, tokens and keys given a high-entropy value, in English and
    /// French prose. Prints `file:line: secrets: RULE (FIRST… N chars, fingerprint F)` per
    /// secret, never the secret. Placeholders (`${VAR}`, `<TOKEN>`, `[REDACTED]`, `xxxx`,
    /// `changeme`) are not secrets; `.config/secrets.yaml` accepts a finding by file and
    /// fingerprint, with a reason. Exits 0 when there is none, 1 when there is one, 2 when the
    /// scan cannot run (no docs/, a broken allow file, a file that cannot be read).
    Secrets(SecretsArgs),
}

/// `vixens docs secrets`.
#[derive(clap::Args)]
pub struct SecretsArgs {
    /// The repository whose docs/ is scanned (and whose .config/secrets.yaml applies).
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// `text`: one `file:line: secrets: rule (…)` line per secret; `json`: one JSON document,
    /// the accepted findings and their reasons included.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Secrets(args) => scan(&args),
    }
}

fn scan(args: &SecretsArgs) -> ExitCode {
    let scan = match secrets::scan_repository(&args.repo) {
        Ok(scan) => scan,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(CANNOT_SCAN);
        }
    };
    match args.format {
        FormatArg::Text => {
            print!("{}", output::lines(&scan));
            for line in output::warnings(&scan).iter().chain(&scan.unreadable) {
                eprintln!("{line}");
            }
            eprintln!("{}", output::summary(&scan));
            if !scan.findings.is_empty() {
                eprintln!("{}", secrets::REMEDY);
            }
        }
        FormatArg::Json => println!("{}", output::json(&scan)),
    }
    if !scan.findings.is_empty() {
        ExitCode::from(FOUND)
    } else if !scan.unreadable.is_empty() {
        ExitCode::from(CANNOT_SCAN)
    } else {
        ExitCode::SUCCESS
    }
}
