//! `vixens logs scan`: the recreate cycle's Talos log check, on saved logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_logscan::{Finding, Input, Job, Judged, Observer, Report, ScanConfig, Scanner, Session, Time, first_time, looks_labelled};
use vixens_ops::env::{Environment, VarSource};

/// Talos logs.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Scan saved Talos logs for errors, as the recreate cycle does.
    ///
    /// Reads `talosctl logs <service>` and `talosctl dmesg` captures (each line `<node>: <text>`),
    /// the unlabelled files of a support bundle, `docker logs` of containerised Talos and serial
    /// consoles; the file's name without extension says which service's log it is. Known
    /// failures are errors whatever their level (a crash loop, a Go panic, an OOM kill, I/O and
    /// filesystem errors, certificate errors, etcd losing its quorum, image pulls, mounts, time
    /// sync, unreachable networks); so are kernel records of priority err or worse, zap, etcd,
    /// logrus and klog error levels, and failed Talos health checks. The noise every healthy boot
    /// makes is explained by the shared allow-list (and `--env`'s own rules), bootstrap rules only
    /// until the cluster was healthy (`--healthy-at`). One finding per node, source and cause is
    /// printed as `file:line: node: source: text (cause, why; count, first and last line)`.
    ///
    /// Exit status: 0 when no error is left unexplained, 1 when some error is not explained,
    /// 2 when a file or the environment could not be read (the other files are still scanned).
    Scan(ScanArgs),
}

/// Arguments of `vixens logs scan`.
#[derive(clap::Args)]
pub struct ScanArgs {
    /// Also apply this environment's own allow rules (`talos-logs.allow`) and retry tolerance
    /// (`talos-logs.bootstrap-retries`): a name under environments/ (lab, dev, prod) or the path
    /// of an env.yaml.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// When the cluster was healthy (RFC 3339, `2026-08-21T09:03:10Z`): the end of the bootstrap
    /// window, where boot noise stops being explained. Without it the window is assumed to end
    /// 20 minutes after boot, the longest `talosctl health` waits.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    healthy_at: Option<Time>,
    /// The node of files whose lines carry no node label (a support bundle file, `docker logs`);
    /// labels are recognised by themselves otherwise.
    #[arg(long, value_name = "NODE")]
    node: Option<String>,
    /// Also print the error lines an allow rule explains, each with its rule.
    #[arg(long)]
    show_allowed: bool,
    /// The files to scan; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Scan(args) => scan(&args),
    }
}

fn parse_time(text: &str) -> Result<Time, String> {
    let at: jiff::Timestamp = text.parse().map_err(|e| format!("expected an RFC 3339 time such as 2026-08-21T09:03:10Z: {e}"))?;
    Ok(Time::from_unix_micros(at.as_microsecond()))
}

/// One file, opened and checked, its first KiB read.
struct Opened {
    name: String,
    source: String,
    reader: BufReader<Box<dyn Read + Send>>,
    labelled: bool,
}

fn scan(args: &ScanArgs) -> ExitCode {
    let env = match args.env.as_deref().map(load_env).transpose() {
        Ok(env) => env,
        Err(code) => return code,
    };
    let (allow, config) = match &env {
        Some(env) => (env.talos_logs.allow.clone(), ScanConfig { bootstrap_retries: env.talos_logs.bootstrap_retries, ..ScanConfig::default() }),
        None => (Vec::new(), ScanConfig::default()),
    };
    let scanner = match Scanner::with_config(&allow, config) {
        Ok(scanner) => scanner,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = 0;
    let mut opened = Vec::new();
    for path in &args.files {
        match open(path) {
            Ok(file) => opened.push(file),
            Err(message) => {
                failed += 1;
                eprintln!("error: {message}");
            }
        }
    }
    let mut session = scanner.session(args.healthy_at);
    for node in env.iter().flat_map(|e| &e.nodes) {
        // A bundle names nodes by host name, talosctl by address: one node either way.
        session.alias(&node.name, &node.address);
    }
    // The window starts at the earliest time any file starts with, whatever their order.
    if let Some(boot) = opened.iter().filter_map(|f| first_time(f.reader.buffer(), f.labelled && args.node.is_none())).min() {
        session.boot_at(boot);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (scanned, shown) in scan_files(&mut session, opened, args) {
        let _ = out.write_all(&shown);
        if let Err(message) = scanned {
            failed += 1;
            eprintln!("error: {message}");
        }
    }
    let report = session.finish();
    for finding in &report.findings {
        let _ = writeln!(out, "{}", line(finding));
    }
    let _ = out.flush();
    eprintln!("{}", summary(&report, args.files.len() - failed));
    eprintln!("{}", window(&report));
    if failed > 0 {
        ExitCode::from(2)
    } else if report.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Opens one file (`-`: standard input) and checks that it is a text log: a compressed or
/// binary file, or an empty one, would otherwise pass with nothing found.
fn open(path: &Path) -> Result<Opened, String> {
    let name = path.display().to_string();
    let (reader, source): (Box<dyn Read + Send>, String) = if name == "-" {
        (Box::new(std::io::stdin()), "stdin".to_owned())
    } else {
        // A regular file only: a FIFO or a device would hang the scan or never end it.
        let file = vixens_diagnostic::input::open(path).map_err(|e| vixens_diagnostic::error_chain(&e))?;
        (Box::new(file), path.file_stem().map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned()))
    };
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let head = reader.fill_buf().map_err(|e| format!("cannot read {name}: {e}"))?;
    if let Some(problem) = not_a_text_log(head) {
        return Err(format!("{name}: {problem}"));
    }
    let labelled = looks_labelled(head);
    Ok(Opened { name, source, reader, labelled })
}

/// Scans the files on every core, one file per thread (each with its 64 KiB buffer), and adds
/// them to `session` in the order given; returns, per file, its outcome and the explained lines
/// `--show-allowed` prints (held until the file's turn, so the output is in file order).
fn scan_files(session: &mut Session<'_>, files: Vec<Opened>, args: &ScanArgs) -> Vec<(Result<(), String>, Vec<u8>)> {
    let (files, readers): (Vec<_>, Vec<_>) = files.into_iter().map(|f| ((f.name, f.source, f.labelled), f.reader)).unzip();
    let jobs = files
        .iter()
        .zip(readers)
        .map(|((name, source, labelled), reader)| {
            let node = match (&args.node, labelled) {
                (Some(node), _) => Some(node.as_str()),
                (None, true) => None,
                (None, false) => Some("-"),
            };
            Job { reader, input: Input { name, source, node }, observer: Shown { all: args.show_allowed, lines: Vec::new() } }
        })
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    session
        .scan_parallel(jobs, threads)
        .into_iter()
        .map(|(scanned, shown)| (scanned.map(drop).map_err(|e| vixens_diagnostic::error_chain(&e)), shown.lines))
        .collect()
}

/// Keeps the explained lines of one file for `--show-allowed`.
struct Shown {
    all: bool,
    lines: Vec<u8>,
}

impl Observer for Shown {
    fn judged(&mut self, j: &Judged<'_>) -> std::io::Result<bool> {
        if let (Some(rule), true) = (j.explained_by, self.all) {
            writeln!(self.lines, "{}:{}: {}: {}: {}  [explained by {}: {}]", j.input, j.line, j.node, j.source, j.text, rule.origin, rule.reason)?;
        }
        Ok(true)
    }
}

/// `file:line: node: source: text (cause, why; N lines, first to last; also in file (N))`.
fn line(finding: &Finding) -> String {
    let mut details = format!("{}, {}", finding.cause, finding.why);
    if finding.count > 1 {
        details.push_str(&format!("; {} lines, {} to {}", finding.count, finding.first_line, finding.last_line));
    }
    for (input, count) in &finding.also_in {
        details.push_str(&format!("; also in {input} ({count})"));
    }
    format!("{}:{}: {}: {}: {} ({details})", finding.input, finding.line, finding.label, finding.source, finding.text)
}

fn summary(report: &Report, files: usize) -> String {
    let s = &report.summary;
    let mut text = format!("{} finding(s) in {} lines of {files} file(s)", report.findings.len(), s.lines);
    if s.explained > 0 {
        text.push_str(&format!("; {} error line(s) explained by allow rules", s.explained));
    }
    if report.tolerated > 0 {
        text.push_str(&format!("; {} retried failure line(s) tolerated in the bootstrap window", report.tolerated));
    }
    text
}

/// How the bootstrap window was set: given, or assumed (and so judged conservatively).
fn window(report: &Report) -> String {
    let w = &report.window;
    let boot = w.boot.map_or_else(|| "no time in the logs".to_owned(), |b| format!("boot at {b}"));
    match (w.assumed, w.end) {
        (false, Some(end)) => format!("bootstrap window: {boot}, healthy at {end} (--healthy-at)"),
        (false, None) => format!("bootstrap window: {boot}, healthy at the given --healthy-at"),
        (true, Some(end)) => format!(
            "bootstrap window: {boot}, assumed to end at {end}, 20m later (no --healthy-at: judged conservatively, boot retries after it are errors)"
        ),
        (true, None) => "bootstrap window: none (no time in the logs, no --healthy-at: judged conservatively, boot retries are errors)".to_owned(),
    }
}

/// Why a file starting with `head` cannot be scanned as a log, if it cannot.
fn not_a_text_log(head: &[u8]) -> Option<String> {
    const COMPRESSED: [(&[u8], &str); 5] =
        [(b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"), (b"PK\x03\x04", "zip")];
    if head.is_empty() {
        return Some("empty: nothing to scan (was the capture cut short?)".to_owned());
    }
    if let Some((_, format)) = COMPRESSED.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(format!("{format} data, not a text log: decompress it first (for instance `zcat FILE | vixens logs scan -`)"));
    }
    head.contains(&0).then(|| "binary data (a NUL byte), not a text log".to_owned())
}

/// The environment named by `env` (a name under `environments/`, or an env.yaml path), loaded
/// for its allow-list; problems come back as diagnostics to render.
fn load_env(env: &str) -> Result<Environment, ExitCode> {
    let file = crate::environment::resolve(env)?;
    Environment::load_with(&file, &AllowListVars).map_err(|e| crate::environment::unusable(&e))
}

/// Only the allow-list is needed here: variables the rest of env.yaml uses (kubeconfig paths,
/// tokens) may be unset, and then stand for themselves (`${NAME}`), which every path accepts.
struct AllowListVars;

impl VarSource for AllowListVars {
    fn var(&self, name: &str) -> Option<String> {
        Some(std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| format!("${{{name}}}")))
    }
}
