//! `vixens`: the command-line face of the harness.
//!
//! Parse (clap) → resolve the environment → run a check → render its verdict → exit code.
//! Checks live in the library crates (`vixens_checks` and below); this binary owns output,
//! diagnostics and exit codes.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod adr;
mod check_plan;
mod commands;
mod credentials;
mod destroy;
mod docs;
mod doctor;
mod environment;
mod lease;
mod logs;
mod promote;
mod report;
mod up;
mod wait;

/// Executable checks for a Talos + Terraform + Argo CD homelab: ADRs, safe destroy/recreate
/// cycles, documented commands, and the promotion verdict over them.
#[derive(Parser)]
#[command(name = "vixens", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Doctor(doctor::Args),
    Credentials(credentials::Args),
    Destroy(destroy::Args),
    CheckPlan(check_plan::Args),
    #[command(subcommand)]
    Adr(adr::Command),
    #[command(subcommand)]
    Commands(commands::Command),
    #[command(subcommand)]
    Docs(docs::Command),
    #[command(subcommand)]
    Logs(logs::Command),
    #[command(subcommand)]
    Lease(lease::Command),
    Promote(promote::Args),
    Report(report::Args),
    Up(up::Args),
    Wait(wait::Args),
}

fn main() -> ExitCode {
    vixens_checks::report::init_tracing();
    match Cli::parse().command {
        Command::Doctor(args) => doctor::run(args),
        Command::Credentials(args) => credentials::run(args),
        Command::Destroy(args) => destroy::run(args),
        Command::CheckPlan(args) => check_plan::run(args),
        Command::Adr(cmd) => adr::run(cmd),
        Command::Commands(cmd) => commands::run(cmd),
        Command::Docs(cmd) => docs::run(cmd),
        Command::Logs(cmd) => logs::run(cmd),
        Command::Lease(cmd) => lease::run(cmd),
        Command::Promote(args) => promote::run(args),
        Command::Report(args) => report::run(args),
        Command::Up(args) => up::run(args),
        Command::Wait(args) => wait::run(args),
    }
}
