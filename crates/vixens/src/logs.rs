//! `vixens logs scan`: the recreate cycle's Talos log scanner, on saved logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_logscan::{Finding, Input, Scanner, Sink};
use vixens_ops::env::{Environment, VarSource};

/// Talos logs.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Scan saved Talos logs for errors, as the recreate cycle does.
    ///
    /// Reads `talosctl logs <service>` and `talosctl dmesg` captures (each line `<node>: <text>`)
    /// or the unlabelled files of a support bundle. Error lines are kernel records of priority err
    /// or worse, failed Talos tasks, phases, sequences, services and controllers, zap ERROR and
    /// above, logrus level=error/fatal, etcd error levels and klog E/F lines; ANSI colour is
    /// stripped first. Each is printed as `file:line: node: source: text`, where source is the
    /// file's name without extension, or dmesg for a kernel record.
    ///
    /// Exit status: 0 when no error line is left unexplained, 1 when some error line is not
    /// explained by the allow-list, 2 when a file or the environment could not be read (the other
    /// files are still scanned).
    Scan(ScanArgs),
}

/// Arguments of `vixens logs scan`.
#[derive(clap::Args)]
pub struct ScanArgs {
    /// Apply this environment's allow-list (`talos-logs.allow`): a name under environments/
    /// (lab, dev, prod) or the path of an env.yaml.
    #[arg(long, value_name = "ENV")]
    env: Option<String>,
    /// Also print the error lines the allow-list explains, each with its rule.
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

fn scan(args: &ScanArgs) -> ExitCode {
    let allow = match &args.env {
        None => Vec::new(),
        Some(env) => match load_env(env) {
            Ok(env) => env.talos_logs.allow,
            Err(code) => return code,
        },
    };
    let scanner = match Scanner::new(&allow) {
        Ok(scanner) => scanner,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut printer = Printer { out: stdout.lock(), file: String::new(), show_allowed: args.show_allowed };
    let (mut flagged, mut allowed, mut lines, mut failed) = (0, 0, 0, 0);
    for path in &args.files {
        match scan_file(&scanner, path, &mut printer) {
            Ok(summary) => {
                flagged += summary.flagged;
                allowed += summary.allowed;
                lines += summary.lines;
            }
            Err(message) => {
                failed += 1;
                eprintln!("error: {message}");
            }
        }
    }
    let _ = printer.out.flush();
    let files = args.files.len() - failed;
    let explained = if allowed > 0 { format!(" ({allowed} more explained by the allow-list)") } else { String::new() };
    eprintln!("{flagged} unexplained error line(s) in {lines} lines of {files} file(s){explained}");
    if failed > 0 {
        ExitCode::from(2)
    } else if flagged > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Scans one file (`-`: standard input) after checking that it is a text log: a compressed or
/// binary file, or an empty one, would otherwise pass with nothing found.
fn scan_file(scanner: &Scanner, path: &Path, printer: &mut Printer<std::io::StdoutLock<'_>>) -> Result<vixens_logscan::Summary, String> {
    let name = path.display().to_string();
    printer.file.clone_from(&name);
    let (reader, source): (Box<dyn Read>, String) = if name == "-" {
        (Box::new(std::io::stdin().lock()), "stdin".to_owned())
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
    scanner.scan_reader(reader, &Input::new(&name, &source), printer).map_err(|e| vixens_diagnostic::error_chain(&e))
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

/// Prints each finding as `file:line: node: source: text`.
struct Printer<W> {
    out: W,
    file: String,
    show_allowed: bool,
}

impl<W: Write> Sink for Printer<W> {
    fn finding(&mut self, f: &Finding<'_>) -> std::io::Result<bool> {
        let node = f.node.unwrap_or("-");
        match f.allowed_by {
            None => writeln!(self.out, "{}:{}: {node}: {}: {}", self.file, f.line, f.source, f.text)?,
            Some(rule) if self.show_allowed => writeln!(
                self.out,
                "{}:{}: {node}: {}: {}  [allowed by {}:{}: {}]",
                self.file,
                f.line,
                f.source,
                f.text,
                rule.origin.file.display(),
                rule.origin.line,
                rule.reason
            )?,
            Some(_) => {}
        }
        Ok(true)
    }
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
