//! `vixens logs`.

use std::process::ExitCode;

/// Placeholder until this subcommand lands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Not implemented yet.
    Todo,
}

pub fn run(_cmd: Command) -> ExitCode {
    eprintln!("vixens logs: not implemented yet");
    ExitCode::from(2)
}
