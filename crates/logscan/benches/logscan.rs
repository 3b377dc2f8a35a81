//! Talos log scanning throughput and memory, printed as a table beside ripgrep's in the same run.
//!
//! ```text
//! cargo bench -p vixens-logscan --bench logscan
//! ```
//!
//! The scanner's crate has few dependencies, so the optimised build is quick. Two corpora of
//! [`vixens_logscan::corpus::Corpus`] (mixed machined, zap, etcd, containerd, klog and dmesg lines
//! from three nodes, one error line in 2,000): a quiet one, whose normal lines hold no keyword,
//! and a mixed one, where one line in five holds `error` or `failed` at warn or info. Each is
//! scanned on one core, in turns with `rg -c -j1 -F` and the same keywords; two files of the
//! quiet corpus are scanned on one thread then two ([`vixens_logscan::Session::scan_parallel`]),
//! beside `rg -j1` and `rg -j2`. Then the composed Talos corpus of `tests/fixtures/talos-logs`,
//! and memory while streaming 1x and 8x the corpus.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use vixens_logscan::corpus::Corpus;
use vixens_logscan::prefilter::KEYWORDS;
use vixens_logscan::{AllowRule, Input, Job, Judged, Observer, Origin, RuleWindow, Scanner, Summary};

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
    let allow = allow_list();
    let scanner = Scanner::new(&allow).expect("the benchmark's allow-list compiles");
    println!("Throughput is bytes over CPU time of the scanning thread (the machine is shared, so");
    println!("wall time is also shown); best of {RUNS} runs, the scanner and ripgrep in turns.");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));

    let quiet = Corpus::quiet(CORPUS_BYTES, 42);
    single_core(&scanner, "quiet", &quiet);
    parallel(&scanner, &quiet);
    drop(quiet);

    let corpus = Corpus::generate(CORPUS_BYTES, 42);
    let file = single_core(&scanner, "mixed", &corpus);
    let mb = corpus.text.len() as f64 / 1e6;
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
    drop(file);

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

/// One core: the scanner from memory and from a file, and ripgrep on the same file, in turns.
/// Returns the file, for further runs.
fn single_core(scanner: &Scanner, name: &str, corpus: &Corpus) -> tempfile::NamedTempFile {
    let mb = corpus.text.len() as f64 / 1e6;
    println!();
    println!("{name} corpus: {mb:.0} MB, {} lines, {} error lines", corpus.lines, corpus.errors);
    let candidates = corpus.text.split(|b| *b == b'\n').filter(|l| KEYWORDS.iter().any(|k| memchr::memmem::find(l, k.as_bytes()).is_some())).count();
    println!("lines holding a keyword: {candidates}");
    println!("{:<44} {:>9} {:>9} {:>11} {:>11}", "scan", "cpu", "wall", "MB/s cpu", "MB/s wall");
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().write_all(&corpus.text).unwrap();
    let (mut memory, mut from_file, mut rg) = (Timing::none(), Timing::none(), Some(Timing::none()));
    for _ in 0..RUNS {
        let (t, summary) = timed(|| scan(scanner, corpus.text.as_slice()));
        assert_eq!(summary.errors, corpus.errors, "every injected error, nothing else");
        memory = memory.min(t);
        from_file = from_file.min(timed(|| scan(scanner, std::fs::File::open(file.path()).unwrap())).0);
        rg = rg.and_then(|best| Some(best.min(ripgrep(&[file.path()], 1)?)));
    }
    row("scan_reader, in memory", memory, mb);
    row("scan_reader, file (page cache)", from_file, mb);
    match rg {
        Some(best) => row("ripgrep -F 1 thread, same keywords, count", best, mb),
        None => println!("{:<44} {:>9}", "ripgrep", "not installed"),
    }
    file
}

/// Two files scanned on one thread, then on two ([`Session::scan_parallel`]), and ripgrep with
/// one and two threads on the same files, in turns: wall time, since the point is using both
/// cores.
fn parallel(scanner: &Scanner, corpus: &Corpus) {
    let files: Vec<tempfile::NamedTempFile> = (0..2)
        .map(|_| {
            let file = tempfile::NamedTempFile::new().unwrap();
            file.as_file().write_all(&corpus.text).unwrap();
            file
        })
        .collect();
    let paths: Vec<&std::path::Path> = files.iter().map(|f| f.path()).collect();
    let mb = 2.0 * corpus.text.len() as f64 / 1e6;
    let scan_all = |threads| {
        let mut session = scanner.session(None);
        let jobs =
            paths.iter().map(|p| Job { reader: std::fs::File::open(p).unwrap(), input: Input::new("corpus", "mixed"), observer: Count(0) }).collect();
        for (scanned, _) in session.scan_parallel(jobs, threads) {
            scanned.unwrap();
        }
        session.finish().summary
    };
    let (mut one, mut two, mut rg_one, mut rg_two) = (Timing::none(), Timing::none(), Some(Timing::none()), Some(Timing::none()));
    for _ in 0..RUNS {
        let (t, summary) = timed(|| scan_all(1));
        assert_eq!(summary.errors, 2 * corpus.errors);
        one = one.min(t);
        two = two.min(timed(|| scan_all(2)).0);
        rg_one = rg_one.and_then(|best| Some(best.min(ripgrep(&paths, 1)?)));
        rg_two = rg_two.and_then(|best| Some(best.min(ripgrep(&paths, 2)?)));
    }
    println!();
    println!("two files of {:.0} MB, wall time (MB/s wall), best of {RUNS} in turns:", mb / 2.0);
    let speedup = |a: Timing, b: Timing| a.wall.as_secs_f64() / b.wall.as_secs_f64();
    println!(
        "  vixens 1 thread {:>6.0} ms ({:>5.0})  2 threads {:>6.0} ms ({:>5.0})  speed-up {:.2}x",
        one.wall.as_secs_f64() * 1e3,
        mb / one.wall.as_secs_f64(),
        two.wall.as_secs_f64() * 1e3,
        mb / two.wall.as_secs_f64(),
        speedup(one, two)
    );
    if let (Some(a), Some(b)) = (rg_one, rg_two) {
        println!(
            "  rg -j1          {:>6.0} ms ({:>5.0})  rg -j2    {:>6.0} ms ({:>5.0})  speed-up {:.2}x",
            a.wall.as_secs_f64() * 1e3,
            mb / a.wall.as_secs_f64(),
            b.wall.as_secs_f64() * 1e3,
            mb / b.wall.as_secs_f64(),
            speedup(a, b)
        );
    }
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

/// CPU and wall time of a run (or the best of several).
#[derive(Clone, Copy)]
struct Timing {
    cpu: Duration,
    wall: Duration,
}

impl Timing {
    fn none() -> Self {
        Self { cpu: Duration::MAX, wall: Duration::MAX }
    }

    /// The best of both figures.
    fn min(self, other: Self) -> Self {
        Self { cpu: self.cpu.min(other.cpu), wall: self.wall.min(other.wall) }
    }
}

/// One run: CPU time of this thread, wall time.
fn timed(run: impl FnOnce() -> Summary) -> (Timing, Summary) {
    let (cpu, started) = (thread_cpu(), Instant::now());
    let summary = run();
    (Timing { cpu: thread_cpu() - cpu, wall: started.elapsed() }, summary)
}

fn best_of(mut run: impl FnMut() -> Summary) -> (Timing, Summary) {
    let mut best = Timing::none();
    let mut summary = Summary::default();
    for _ in 0..RUNS {
        let (t, s) = timed(&mut run);
        best = best.min(t);
        summary = s;
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

/// One run of ripgrep counting the lines of `paths` that hold one of the scanner's keywords, on
/// `threads` threads; its CPU time comes from bash's `time` (user + system). `None` when ripgrep
/// is not installed (`apt-get install ripgrep`).
fn ripgrep(paths: &[&std::path::Path], threads: usize) -> Option<Timing> {
    let keywords: Vec<String> = KEYWORDS.iter().map(|k| format!("-e '{k}'")).collect();
    let files: Vec<String> = paths.iter().map(|p| format!("'{}'", p.display())).collect();
    let script = format!("TIMEFORMAT='%U %S'; time rg -c -j{threads} --no-config -F {} {} >/dev/null", keywords.join(" "), files.join(" "));
    let started = Instant::now();
    let out = std::process::Command::new("bash").args(["-c", &script]).output().ok()?;
    let wall = started.elapsed();
    let times: Vec<f64> = String::from_utf8_lossy(&out.stderr).split_whitespace().filter_map(|t| t.parse().ok()).collect();
    let [user, system] = times[..] else { return None };
    Some(Timing { cpu: Duration::from_secs_f64(user + system), wall })
}

/// Peak resident memory (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}
