//! `vixens destroy`.

use std::process::ExitCode;

/// Placeholder until this subcommand lands.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("vixens destroy: not implemented yet");
    ExitCode::from(2)
}
