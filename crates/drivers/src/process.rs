//! Child processes under a deadline: every tool the harness runs (terraform, talosctl, kubectl,
//! bash for documented commands) goes through [`Command::run`].
//!
//! Stdout and stderr are read at the same time on their own threads, so a chatty child never
//! deadlocks on a full pipe, and each line can be streamed as progress while it is also kept. The
//! child runs in its own process group: on timeout, or when the harness is dropped mid-run, the
//! whole group (a `bash -c` pipeline included) gets SIGTERM, then SIGKILL after a grace period,
//! so nothing outlives the run.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a process group has between SIGTERM and SIGKILL, as nextest gives a test.
const KILL_GRACE: Duration = Duration::from_secs(5);

/// How often a running command looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Kept output is capped per stream; beyond it, the oldest lines are dropped (the end of a
/// failing tool's output is what explains the failure).
const MAX_KEPT_BYTES: usize = 8 * 1024 * 1024;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A command to run: program, arguments, environment, working directory, input and deadline.
#[derive(Debug, Clone)]
pub struct Command {
    program: OsString,
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    env_remove: Vec<OsString>,
    dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    cancel: Option<Arc<AtomicBool>>,
}

/// A command that ran to completion (whatever its exit status).
#[derive(Debug, Clone)]
pub struct Finished {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything it printed on stdout (capped, see the module docs).
    pub stdout: String,
    /// Everything it printed on stderr (capped).
    pub stderr: String,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

/// Why a command did not run to completion.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The program could not be started (not found, not executable).
    #[error("cannot run `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The deadline passed; the process group was terminated.
    #[error("`{program}` did not finish within {}", humantime::format_duration(*.timeout))]
    TimedOut {
        /// The program.
        program: String,
        /// The deadline it had.
        timeout: Duration,
        /// What it printed before it was stopped.
        stdout: String,
        /// What it printed on stderr before it was stopped.
        stderr: String,
    },
    /// The cancel flag was set ([`Command::cancel_on`]); the process group was terminated.
    #[error("`{program}` was stopped on request")]
    Cancelled {
        /// The program.
        program: String,
        /// What it printed on stderr before it was stopped.
        stderr: String,
    },
    /// Reading its output or waiting for it failed.
    #[error("lost track of `{program}`")]
    Io {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Command {
    /// A command running `program` with a default deadline of one minute.
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            env_remove: Vec::new(),
            dir: None,
            stdin: None,
            timeout: Duration::from_secs(60),
            cancel: None,
        }
    }

    /// Adds one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I: IntoIterator<Item = A>, A: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable (the rest of the environment is inherited).
    #[must_use]
    pub fn env(mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Removes one inherited environment variable.
    #[must_use]
    pub fn env_remove(mut self, name: impl Into<OsString>) -> Self {
        self.env_remove.push(name.into());
        self
    }

    /// Runs in `dir`.
    #[must_use]
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Feeds `input` on stdin, then closes it. Without this, stdin is `/dev/null`.
    #[must_use]
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// The deadline for the whole run.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Stops the command (SIGTERM to its process group, SIGKILL after a grace period) as soon as
    /// `flag` is set, as the timeout does: a second Ctrl-C stops the tool under way cleanly
    /// (terraform releases its state lock on SIGTERM) instead of leaving it behind.
    #[must_use]
    pub fn cancel_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// The program's name, for messages.
    #[must_use]
    pub fn program(&self) -> String {
        Path::new(&self.program).file_name().unwrap_or(&self.program).to_string_lossy().into_owned()
    }

    /// Runs to completion and keeps the output.
    ///
    /// # Errors
    /// See [`Command::run_streaming`].
    pub fn run(&self) -> Result<Finished, Error> {
        self.run_streaming(|_, _| {})
    }

    /// Runs to completion, calling `on_line` for each line of output as it arrives.
    ///
    /// A non-zero exit is not an error here: callers judge the status.
    ///
    /// # Errors
    /// [`Error::Spawn`] if the program cannot start, [`Error::TimedOut`] if the deadline passes
    /// (the process group is then terminated), [`Error::Io`] if its output cannot be read.
    pub fn run_streaming(&self, mut on_line: impl FnMut(Stream, &str)) -> Result<Finished, Error> {
        let program = self.program();
        let io_error = |source| Error::Io { program: program.clone(), source };
        let (out_reader, out_writer) = os_pipe::pipe().map_err(io_error)?;
        let (err_reader, err_writer) = os_pipe::pipe().map_err(io_error)?;
        let mut expression =
            duct::cmd(&self.program, &self.args).stdout_file(out_writer).stderr_file(err_writer).unchecked().before_spawn(|command| {
                command.process_group(0);
                Ok(())
            });
        expression = match &self.stdin {
            Some(input) => expression.stdin_bytes(input.clone()),
            None => expression.stdin_null(),
        };
        if let Some(dir) = &self.dir {
            expression = expression.dir(dir);
        }
        for (name, value) in &self.env {
            expression = expression.env(name, value);
        }
        for name in &self.env_remove {
            expression = expression.env_remove(name);
        }
        let started = Instant::now();
        let handle = expression.start().map_err(|source| Error::Spawn { program: program.clone(), source })?;
        // The expression holds the write ends; drop it so the readers see EOF when the child exits.
        drop(expression);
        let group = ProcessGroup(handle.pids().first().copied());

        let (tx, rx) = mpsc::channel();
        let readers = [spawn_reader(out_reader, Stream::Stdout, tx.clone()), spawn_reader(err_reader, Stream::Stderr, tx)];
        let deadline = started + self.timeout;
        let mut kept = Kept::default();
        let mut timed_out = false;
        let cancelled = || self.cancel.as_ref().is_some_and(|flag| flag.load(Ordering::SeqCst));
        loop {
            let now = Instant::now();
            if now >= deadline {
                timed_out = true;
                break;
            }
            if cancelled() {
                break;
            }
            let wait = if self.cancel.is_some() { (deadline - now).min(CANCEL_POLL) } else { deadline - now };
            match rx.recv_timeout(wait) {
                Ok((stream, line)) => {
                    on_line(stream, &line);
                    kept.push(stream, &line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if cancelled() && !timed_out {
            group.terminate(|| {
                let _ = handle.try_wait();
            });
            let _ = handle.wait();
            for (stream, line) in rx.try_iter() {
                kept.push(stream, &line);
            }
            return Err(Error::Cancelled { program, stderr: kept.stderr });
        }
        if timed_out {
            group.terminate(|| {
                let _ = handle.try_wait();
            });
            let _ = handle.wait();
            for (stream, line) in rx.try_iter() {
                kept.push(stream, &line);
            }
            return Err(Error::TimedOut { program, timeout: self.timeout, stdout: kept.stdout, stderr: kept.stderr });
        }
        for reader in readers {
            let _ = reader.join();
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        let status = match handle.wait_timeout(remaining).map_err(io_error)? {
            Some(output) => output.status,
            None => {
                group.terminate(|| {
                    let _ = handle.try_wait();
                });
                return Err(Error::TimedOut { program, timeout: self.timeout, stdout: kept.stdout, stderr: kept.stderr });
            }
        };
        Ok(Finished { status, stdout: kept.stdout, stderr: kept.stderr, elapsed: started.elapsed() })
    }
}

impl Finished {
    /// True when the exit status is 0.
    #[must_use]
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code, or `128 + signal` when killed by a signal (as a shell reports it).
    #[must_use]
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| 128 + self.status.signal().unwrap_or(0))
    }

    /// The last `n` lines of stderr, for error messages.
    #[must_use]
    pub fn stderr_tail(&self, n: usize) -> String {
        tail(&self.stderr, n)
    }
}

/// The last `n` lines of `text`.
#[must_use]
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn spawn_reader(pipe: impl Read + Send + 'static, stream: Stream, tx: mpsc::Sender<(Stream, String)>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    let line = line.strip_suffix('\n').unwrap_or(&line);
                    if tx.send((stream, line.to_owned())).is_err() {
                        break;
                    }
                }
            }
        }
    })
}

#[derive(Default)]
struct Kept {
    stdout: String,
    stderr: String,
}

impl Kept {
    fn push(&mut self, stream: Stream, line: &str) {
        let buf = match stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        buf.push_str(line);
        buf.push('\n');
        if buf.len() > MAX_KEPT_BYTES {
            let cut = buf.len() - MAX_KEPT_BYTES / 2;
            let cut = buf[cut..].find('\n').map_or(cut, |i| cut + i + 1);
            buf.replace_range(..cut, "[... earlier output dropped ...]\n");
        }
    }
}

/// The child's process group; terminating it reaches every process a pipeline started.
struct ProcessGroup(Option<u32>);

impl ProcessGroup {
    /// SIGTERM to the group, then SIGKILL after the grace period if anything is left.
    /// `reap` collects the exited leader: until it is reaped, its zombie keeps the group
    /// "alive" to the signal-0 probe and the full grace period would always be waited out.
    fn terminate(&self, reap: impl Fn()) {
        let Some(pid) = self.0.and_then(|p| rustix::process::Pid::from_raw(p as i32)) else { return };
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
        let until = Instant::now() + KILL_GRACE;
        while Instant::now() < until {
            reap();
            // Signal 0 probes whether any process of the group is left.
            if rustix::process::test_kill_process_group(pid).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_stdout_and_stderr_apart_and_reports_the_exit_code() {
        let done = Command::new("bash").args(["-c", "echo out; echo err >&2; exit 3"]).run().unwrap();
        assert_eq!(done.stdout, "out\n");
        assert_eq!(done.stderr, "err\n");
        assert_eq!(done.code(), 3);
    }

    #[test]
    fn feeds_stdin_and_streams_lines() {
        let mut seen = Vec::new();
        let done = Command::new("cat").stdin("yes\nno\n").run_streaming(|s, l| seen.push((s, l.to_owned()))).unwrap();
        assert!(done.success());
        assert_eq!(seen, vec![(Stream::Stdout, "yes".to_owned()), (Stream::Stdout, "no".to_owned())]);
    }

    #[test]
    fn a_timeout_kills_the_whole_pipeline() {
        let marker = tempfile::NamedTempFile::new().unwrap();
        let script = format!("sleep 30 | cat; echo late > {}", marker.path().display());
        let started = Instant::now();
        let err = Command::new("bash").args(["-c", &script]).timeout(Duration::from_millis(300)).run().unwrap_err();
        assert!(matches!(err, Error::TimedOut { .. }), "{err:?}");
        assert_eq!(err.to_string(), "`bash` did not finish within 300ms");
        // Reaping used to wait out a 5 s grace period; 4 s tells the two apart on a loaded machine.
        assert!(started.elapsed() < Duration::from_secs(4), "the group was not reaped promptly: {:?}", started.elapsed());
        thread::sleep(Duration::from_millis(200));
        assert_eq!(std::fs::read_to_string(marker.path()).unwrap(), "");
    }

    #[test]
    fn a_cancel_flag_stops_the_whole_group_promptly() {
        let flag = Arc::new(AtomicBool::new(false));
        let setter = Arc::clone(&flag);
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(200));
            setter.store(true, Ordering::SeqCst);
        });
        let started = Instant::now();
        let err = Command::new("bash").args(["-c", "echo started >&2; sleep 30"]).timeout(Duration::from_secs(60)).cancel_on(flag).run().unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "not stopped promptly: {:?}", started.elapsed());
        let Error::Cancelled { stderr, .. } = &err else { panic!("{err:?}") };
        assert_eq!(stderr, "started\n");
        assert_eq!(err.to_string(), "`bash` was stopped on request");
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = Command::new("no-such-tool-vixens").run().unwrap_err();
        assert_eq!(err.to_string(), "cannot run `no-such-tool-vixens`");
    }
}
