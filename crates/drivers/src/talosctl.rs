//! The talosctl driver: health, logs, dmesg, service and version, typed.
//!
//! Runs talosctl (given folders first on PATH, which is how the lab's stand-in is found) with `--talosconfig` and `-n`, on [`crate::process::Command`]: output is read
//! while it streams, every call has a deadline, and a failure names the command and talosctl's
//! own message. Parsers live in submodules and are pure, so they are tested on text composed from
//! talosctl's format strings (talosctl v1.13.9, cmd/talosctl/cmd/talos/).
//!
//! Two talosctl habits shape the API:
//! - A multi-node call that fails on some nodes prints `WARNING: <errors>` on stderr, prints the
//!   rows of the nodes that answered, and **exits 0**. That is a partial failure, reported as
//!   [`Error::Partial`], never as a success.
//! - `talosctl health` prints everything on stderr and has no success banner: success is exit 0
//!   with the last check `OK` or `SKIP` ([`health::HealthReport::verdict`]).
//!
//! ```no_run
//! # use std::time::Duration;
//! # fn demo() -> Result<(), vixens_drivers::talosctl::Error> {
//! let talosctl = vixens_drivers::talosctl::Talosctl::new("/srv/secrets/talosconfig-dev");
//! let node = "10.5.0.2";
//! talosctl.health(node, Duration::from_secs(600), &mut |line| eprintln!("talos: {line}"))?;
//! talosctl.dmesg(node, Duration::from_secs(60), &mut |line| { /* scan it */ })?;
//! # Ok(()) }
//! ```

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::process::{self, Stream};
use crate::redact::Redactor;

pub mod health;
pub mod service;
pub mod version;

#[cfg(test)]
pub(crate) mod fixtures;

pub use health::{CheckState, HealthReport};
pub use service::{ServiceDetail, ServiceHealth, ServiceRow, ServiceState};
pub use version::VersionReport;

/// Lines of stderr kept in an error.
const STDERR_EXCERPT_LINES: usize = 10;

/// How to run talosctl for one environment.
#[derive(Debug, Clone)]
pub struct Talosctl {
    binary: String,
    talosconfig: PathBuf,
    path: Option<OsString>,
    redactor: Redactor,
}

/// What a streaming call (`logs`, `dmesg`) delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streamed {
    /// Lines handed to the callback.
    pub lines: u64,
    /// Wall-clock duration.
    pub elapsed: Duration,
}

/// Why a talosctl call failed. A [`Error::Partial`] or [`Error::Failed`] during a reboot is worth
/// retrying; [`Error::Unparsable`] is not (the talosctl version does not print what this harness
/// reads).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// talosctl could not be started.
    #[error("cannot run `{binary}` (is it installed, or in the environment's tools-path?)")]
    Spawn {
        /// The binary.
        binary: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The call ran out of its budget and was terminated.
    #[error("`{command}` did not finish within {}", humantime::format_duration(*.timeout))]
    TimedOut {
        /// The command.
        command: String,
        /// The deadline it had.
        timeout: Duration,
        /// The last lines of stderr.
        stderr: String,
    },
    /// Reading its output or waiting for it failed.
    #[error("lost track of `{command}`")]
    Io {
        /// The command.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// talosctl exited with a failure (it always uses exit code 1).
    #[error("`{command}` failed with exit code {code}: {message}")]
    Failed {
        /// The command.
        command: String,
        /// The exit code.
        code: i32,
        /// talosctl's error line(s).
        message: String,
        /// The last lines of stderr.
        stderr: String,
    },
    /// Exit 0, but some nodes did not answer: talosctl printed `WARNING:` on stderr.
    #[error("`{command}` answered only in part: {warning}")]
    Partial {
        /// The command.
        command: String,
        /// The warning, without its `WARNING: ` prefix.
        warning: String,
    },
    /// The output is not what this talosctl version is known to print.
    #[error("`{command}` printed output this harness cannot read")]
    Unparsable {
        /// The command.
        command: String,
        /// Where and what.
        #[source]
        source: service::ParseError,
    },
    /// `talosctl health` ended without every check passing.
    #[error("Talos health on {node} failed: {unhealthy}")]
    Unhealthy {
        /// The node the checks ran on.
        node: String,
        /// The check it stopped on and why.
        unhealthy: health::Unhealthy,
    },
}

impl Talosctl {
    /// A driver running `talosctl` from PATH with `talosconfig`.
    #[must_use]
    pub fn new(talosconfig: impl Into<PathBuf>) -> Self {
        Self { binary: "talosctl".into(), talosconfig: talosconfig.into(), path: None, redactor: Redactor::new() }
    }

    /// Runs `binary` instead of `talosctl`.
    #[must_use]
    pub fn binary(mut self, binary: impl Into<String>) -> Self {
        self.binary = binary.into();
        self
    }

    /// Puts `dirs` first on PATH, where `talosctl` is looked up.
    #[must_use]
    pub fn tools_path(mut self, dirs: &[PathBuf]) -> Self {
        if !dirs.is_empty() {
            let current = std::env::var_os("PATH").unwrap_or_default();
            self.path = std::env::join_paths(dirs.iter().cloned().chain(std::env::split_paths(&current))).ok();
        }
        self
    }

    /// Redacts these secrets from progress lines and errors.
    #[must_use]
    pub fn redactor(mut self, redactor: &Redactor) -> Self {
        self.redactor = redactor.clone();
        self
    }

    /// `talosctl -n NODE health --wait-timeout T`: runs every check on `node` (server side) and
    /// streams each progress line to `progress`. talosctl gets a wait timeout a little shorter
    /// than `timeout`, so that it reports the check it is stuck on before the deadline.
    ///
    /// # Errors
    /// [`Error::Unhealthy`] naming the check the run ended on and its last error (also when the
    /// deadline passed); [`Error::Spawn`] and [`Error::Io`] when talosctl cannot run.
    pub fn health(&self, node: &str, timeout: Duration, progress: &mut dyn FnMut(&str)) -> Result<HealthReport, Error> {
        let margin = (timeout / 10).min(Duration::from_secs(10));
        let wait = format!("{}ms", (timeout - margin).as_millis());
        let command = self.command(node, &["health", "--wait-timeout", &wait]);
        let display = format!("talosctl -n {node} health");
        let result = command.timeout(timeout).run_streaming(|stream, line| {
            if stream == Stream::Stderr {
                progress(&self.redactor.redact(line));
            }
        });
        let unhealthy = |unhealthy| Error::Unhealthy { node: node.to_owned(), unhealthy };
        let (report, code) = match result {
            Ok(finished) => (HealthReport::parse(&self.redactor.redact(&finished.stderr)), finished.code()),
            Err(process::Error::TimedOut { stderr, .. }) => {
                let mut report = HealthReport::parse(&self.redactor.redact(&stderr));
                report.other.push(format!("talosctl did not finish within {}", humantime::format_duration(timeout)));
                let verdict = report.verdict(1).expect_err("a run that did not finish is never healthy");
                return Err(unhealthy(verdict));
            }
            Err(e) => return Err(self.not_finished(&display, e)),
        };
        report.verdict(code).map_err(unhealthy)?;
        Ok(report)
    }

    /// `talosctl -n NODE logs SERVICE`: every line since boot, each (`<node>: <line>`, as talosctl
    /// prints it) handed to `on_line` as it arrives.
    ///
    /// # Errors
    /// [`Error::Failed`] with talosctl's `ERROR:` lines, [`Error::Partial`], or the run errors.
    pub fn logs(&self, node: &str, service: &str, timeout: Duration, on_line: &mut dyn FnMut(&str)) -> Result<Streamed, Error> {
        self.stream(node, &["logs", service], format!("talosctl -n {node} logs {service}"), timeout, on_line)
    }

    /// `talosctl -n NODE dmesg`: the kernel ring buffer, streamed like [`Talosctl::logs`].
    ///
    /// # Errors
    /// As [`Talosctl::logs`].
    pub fn dmesg(&self, node: &str, timeout: Duration, on_line: &mut dyn FnMut(&str)) -> Result<Streamed, Error> {
        self.stream(node, &["dmesg"], format!("talosctl -n {node} dmesg"), timeout, on_line)
    }

    /// `talosctl -n NODES service`: the service table of every node.
    ///
    /// # Errors
    /// [`Error::Partial`] when a node did not answer, [`Error::Unparsable`], or the run errors.
    pub fn services(&self, nodes: &[&str], timeout: Duration) -> Result<Vec<ServiceRow>, Error> {
        let (display, stdout) = self.unary(nodes, &["service"], timeout)?;
        service::parse_table(&stdout).map_err(|source| Error::Unparsable { command: display, source })
    }

    /// `talosctl -n NODES service ID`: one service on every node.
    ///
    /// # Errors
    /// [`Error::Failed`] when no node has the service (`service "x" is not registered on any
    /// nodes`), otherwise as [`Talosctl::services`].
    pub fn service(&self, nodes: &[&str], id: &str, timeout: Duration) -> Result<Vec<ServiceDetail>, Error> {
        let (display, stdout) = self.unary(nodes, &["service", id], timeout)?;
        service::parse_detail(&stdout).map_err(|source| Error::Unparsable { command: display, source })
    }

    /// `talosctl -n NODES version`: the client's and every node's version.
    ///
    /// # Errors
    /// As [`Talosctl::services`].
    pub fn version(&self, nodes: &[&str], timeout: Duration) -> Result<VersionReport, Error> {
        let (display, stdout) = self.unary(nodes, &["version"], timeout)?;
        version::parse(&stdout).map_err(|source| Error::Unparsable { command: display, source })
    }

    fn command(&self, nodes: &str, args: &[&str]) -> process::Command {
        let mut command = process::Command::new(&self.binary).arg("--talosconfig").arg(&self.talosconfig).args(["-n", nodes]).args(args);
        if let Some(path) = &self.path {
            command = command.env("PATH", path);
        }
        command
    }

    /// A call that prints once per node and ends: judged on its exit code and `WARNING:` lines.
    fn unary(&self, nodes: &[&str], args: &[&str], timeout: Duration) -> Result<(String, String), Error> {
        let nodes = nodes.join(",");
        let display = format!("talosctl -n {nodes} {}", args.join(" "));
        let finished = self.command(&nodes, args).timeout(timeout).run().map_err(|e| self.not_finished(&display, e))?;
        self.judge(&display, finished.code(), &finished.stderr)?;
        Ok((display, finished.stdout))
    }

    fn stream(&self, node: &str, args: &[&str], display: String, timeout: Duration, on_line: &mut dyn FnMut(&str)) -> Result<Streamed, Error> {
        let mut lines = 0;
        let result = self.command(node, args).timeout(timeout).run_streaming(|stream, line| {
            if stream == Stream::Stdout {
                lines += 1;
                on_line(line);
            }
        });
        let finished = result.map_err(|e| self.not_finished(&display, e))?;
        self.judge(&display, finished.code(), &finished.stderr)?;
        Ok(Streamed { lines, elapsed: finished.elapsed })
    }

    fn judge(&self, display: &str, code: i32, stderr: &str) -> Result<(), Error> {
        let stderr = self.redactor.redact(stderr);
        if code != 0 {
            return Err(Error::Failed {
                command: display.to_owned(),
                code,
                message: failure_message(&stderr),
                stderr: process::tail(&stderr, STDERR_EXCERPT_LINES),
            });
        }
        let warning = warning(&stderr);
        if warning.is_empty() { Ok(()) } else { Err(Error::Partial { command: display.to_owned(), warning }) }
    }

    fn not_finished(&self, display: &str, error: process::Error) -> Error {
        let command = display.to_owned();
        match error {
            process::Error::Spawn { source, .. } => Error::Spawn { binary: self.binary.clone(), source },
            process::Error::TimedOut { timeout, stderr, .. } => {
                Error::TimedOut { command, timeout, stderr: process::tail(&self.redactor.redact(&stderr), STDERR_EXCERPT_LINES) }
            }
            process::Error::Io { source, .. } => Error::Io { command, source },
            // Nothing cancels talosctl; should something, it reads as losing track of it.
            process::Error::Cancelled { .. } => Error::Io { command, source: std::io::Error::other("stopped on request") },
        }
    }
}

/// Every `WARNING:` of stderr with the indented multierror lines that follow it, on one line.
fn warning(stderr: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut inside = false;
    for line in stderr.lines() {
        if let Some(rest) = line.strip_prefix("WARNING:") {
            inside = true;
            parts.push(rest.trim());
        } else if inside && line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            parts.push(line.trim());
        } else {
            inside = false;
        }
    }
    parts.join(" ")
}

/// talosctl's own error: its per-node `ERROR:` / `error from node` lines when there are some,
/// otherwise the first line it printed (usage text may follow it).
fn failure_message(stderr: &str) -> String {
    let per_node: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR:") || l.starts_with("error from node")).collect();
    if per_node.is_empty() {
        stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("(nothing on stderr)").trim().to_owned()
    } else {
        per_node.join("; ")
    }
}

#[cfg(test)]
mod tests;
