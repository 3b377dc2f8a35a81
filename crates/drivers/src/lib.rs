//! The tools the harness drives, each typed in and typed out, none of them knowing what an
//! environment is: each takes its own small configuration (a terraform root and binary, a
//! talosconfig and the folders to find talosctl in), so that the environment's resolution stays in
//! one place above them.
//!
//! - [`process`]: every child process, its stdout and stderr read at once, under a deadline,
//!   killed and reaped when it overruns.
//! - [`terraform`]: init, plan, show, apply, destroy, state pull, output, typed.
//! - [`talosctl`]: health, logs, dmesg, service, version, typed, partial failures included.
//! - [`redact`]: the one [`redact::Redactor`] that keeps secrets out of everything written.

pub mod process;
pub mod redact;
pub mod talosctl;
pub mod terraform;
