//! Talos log scanning throughput and memory, on one core, printed as a table.
//!
//! ```text
//! cargo bench -p vixens-logscan --bench logscan
//! ```
//!
//! The scanner's crate has few dependencies, so the optimised build is quick. The corpus is
//! [`vixens_logscan::corpus::Corpus`]: mixed machined, zap, etcd, containerd, klog and dmesg lines
//! from three nodes, one error line in 2,000; then the composed Talos corpus of
//! `tests/fixtures/talos-logs`, real-looking boots and failures.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use vixens_logscan::corpus::Corpus;
use vixens_logscan::{AllowRule, Input, Judged, Observer, Origin, RuleWindow, Scanner, Summary};

const CORPUS_BYTES: usize = 256 << 20;
const RUNS: usize = 5;

/// Counts judged lines without keeping them: what an observer costs, minus the writing.
struct Count(u64);

impl Observer for Count {
    fn judged(&mut self, _: &Judged<'_>) -> std::io::Result<bool> {
        self.0 += 1;
        Ok(true)
    }
}

/// Scans `reader` in a fresh session and returns its counts.
fn scan(scanner: &Scanner, reader: impl Read) -> Summary {
    let mut session = scanner.session(None);
    session.scan_reader(reader, &Input::new("corpus", "mixed"), &mut Count(0)).unwrap();
    session.finish().summary
}

/// The same bytes `times` over, read in 64 KiB slices: a stream far larger than memory would hold.
struct Repeat<'a> {
    data: &'a [u8],
    at: usize,
    left: usize,
}

impl Read for Repeat<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.data.len() {
            if self.left == 0 {
                return Ok(0);
            }
            self.left -= 1;
            self.at = 0;
        }
        let n = buf.len().min(self.data.len() - self.at).min(64 << 10);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn main() {
    let corpus = Corpus::generate(CORPUS_BYTES, 42);
    let allow = allow_list();
    let scanner = Scanner::new(&allow).expect("the benchmark's allow-list compiles");
    let mb = corpus.text.len() as f64 / 1e6;
    println!("corpus: {:.0} MB, {} lines, {} error lines, {} allow rules", mb, corpus.lines, corpus.errors, allow.len());
    println!();
    println!("Throughput is bytes over CPU time of the scanning thread (the machine is shared, so");
    println!("wall time is also shown); best of {RUNS} runs.");
    println!();
    println!("{:<44} {:>9} {:>9} {:>11} {:>11}", "scan", "cpu", "wall", "MB/s cpu", "MB/s wall");

    let (best, summary) = best_of(|| scan(&scanner, corpus.text.as_slice()));
    assert_eq!(summary.errors, corpus.errors, "every injected error, nothing else");
    row("scan_reader, in memory", best, mb);

    let (best, _) = best_of(|| {
        let mut session = scanner.session(None);
        let id = session.open(&Input::new("corpus", "mixed"));
        let mut observer = Count(0);
        for line in corpus.text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            session.push(id, std::str::from_utf8(line).unwrap(), &mut observer).unwrap();
        }
        session.finish().summary
    });
    row("Session::push, line by line", best, mb);

    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().write_all(&corpus.text).unwrap();
    let (best, _) = best_of(|| scan(&scanner, std::fs::File::open(file.path()).unwrap()));
    row("scan_reader, file (page cache)", best, mb);

    let talos = talos_corpus();
    let talos_mb = talos.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    let (best, _) = best_of(|| {
        let mut summary = Summary::default();
        for _ in 0..20 {
            for file in &talos {
                summary.lines += scan(&scanner, file.as_slice()).lines;
            }
        }
        summary
    });
    row("composed Talos corpus (boots, failures) x20", best, talos_mb * 20.0);

    match ripgrep(file.path()) {
        Some(best) => row("ripgrep 1 thread, same keywords, count only", best, mb),
        None => println!("{:<44} {:>9}", "ripgrep", "not installed"),
    }

    println!();
    let hwm_before = peak_rss_kib();
    for times in [1, 8] {
        let reader = Repeat { data: &corpus.text, at: 0, left: times - 1 };
        let started = Instant::now();
        let summary = scan(&scanner, reader);
        let elapsed = started.elapsed();
        println!(
            "streamed {:>5.0} MB in {:>6.2} s: peak RSS {} MiB (corpus itself {} MiB)",
            summary.bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            peak_rss_kib() / 1024,
            corpus.text.len() >> 20
        );
    }
    let growth = peak_rss_kib().saturating_sub(hwm_before);
    println!("peak RSS growth while streaming 1x then 8x the corpus: {growth} KiB");
    assert!(growth < 4 << 10, "memory grew by {growth} KiB while streaming");
}

/// Rules shaped like a homelab's allow-list; the benchmark's errors match some of them.
fn allow_list() -> Vec<AllowRule> {
    let rule = |line, pattern: &str, reason: &str| AllowRule {
        pattern: pattern.into(),
        reason: reason.into(),
        origin: Origin::File { file: "env.yaml".into(), line },
        window: RuleWindow::Always,
    };
    vec![
        rule(1, r"ext-iscsid|iscsi(adm|d)?:", "iSCSI session noise while the NAS LUNs attach"),
        rule(2, r"I/O error, dev vdb", "the scratch disk of the lab"),
        rule(3, r"kubernetes endpoint watch error", "the API server is not up yet during boot"),
        rule(4, r"(?i)failed to pull image", "registry hiccups are retried by kubelet"),
    ]
}

/// Every log file of the composed corpus (`tests/fixtures/talos-logs`), read into memory.
fn talos_corpus() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/talos-logs");
    let mut files = Vec::new();
    let mut folders = vec![root];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                files.push(std::fs::read(path).unwrap());
            }
        }
    }
    files
}

/// The best CPU and wall times of [`RUNS`] runs.
#[derive(Clone, Copy)]
struct Timing {
    cpu: Duration,
    wall: Duration,
}

fn best_of(mut run: impl FnMut() -> Summary) -> (Timing, Summary) {
    let mut best = Timing { cpu: Duration::MAX, wall: Duration::MAX };
    let mut summary = Summary::default();
    for _ in 0..RUNS {
        let (cpu, started) = (thread_cpu(), Instant::now());
        summary = run();
        best.wall = best.wall.min(started.elapsed());
        best.cpu = best.cpu.min(thread_cpu() - cpu);
    }
    (best, summary)
}

fn row(name: &str, t: Timing, mb: f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("{:<44} {:>7.0}ms {:>7.0}ms {:>11.0} {:>11.0}", name, ms(t.cpu), ms(t.wall), mb / t.cpu.as_secs_f64(), mb / t.wall.as_secs_f64());
}

/// CPU time of this thread, from the scheduler's own accounting.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(stat.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// ripgrep counting the lines that hold one of the scanner's keywords, one thread; its CPU time
/// comes from bash's `time` (user + system).
fn ripgrep(path: &std::path::Path) -> Option<Timing> {
    let keywords: Vec<String> = vixens_logscan::prefilter::KEYWORDS.iter().filter(|k| !k.contains('\n')).map(|k| format!("-e '{k}'")).collect();
    let script = format!("TIMEFORMAT='%U %S'; time rg -c -j1 --no-config -F {} '{}' >/dev/null", keywords.join(" "), path.display());
    let mut best = Timing { cpu: Duration::MAX, wall: Duration::MAX };
    for _ in 0..RUNS {
        let started = Instant::now();
        let out = std::process::Command::new("bash").args(["-c", &script]).output().ok()?;
        let wall = started.elapsed();
        let times: Vec<f64> = String::from_utf8_lossy(&out.stderr).split_whitespace().filter_map(|t| t.parse().ok()).collect();
        let [user, system] = times[..] else { return None };
        best.wall = best.wall.min(wall);
        best.cpu = best.cpu.min(Duration::from_secs_f64(user + system));
    }
    Some(best)
}

/// Peak resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}
