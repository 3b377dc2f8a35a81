//! `vixens-lab up|down|status`.

use std::process::ExitCode;

/// Entry point of the `vixens-lab` binary.
#[must_use]
pub fn main() -> ExitCode {
    eprintln!("vixens-lab: not implemented yet");
    ExitCode::from(2)
}
