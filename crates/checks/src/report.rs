//! Output for people: tracing setup for the binaries, and the release report.
//!
//! The release report renders the same evidence the promotion gate judges: a Markdown summary
//! (for `$GITHUB_STEP_SUMMARY` and pull requests) and a self-contained HTML page (inline CSS and
//! SVG, no network asset) with the verdict, one row per cycle, p50/p95 per phase, a chart of
//! phase durations across cycles, the failures with their artifact folders, tool versions, the
//! revision and a link to the JUnit report.
//!
//! [`Report::new`] redacts every string taken from the evidence once; the renderers then only
//! escape, so neither a secret nor markup from an app name or a message reaches the page.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::promote::{CheckResult, Decision, Reason};
use vixens_drivers::redact::Redactor;
use vixens_ops::evidence::{CycleRecord, Verdict};

mod chart;
mod html;
mod markdown;
mod markup;
mod stats;

pub use stats::{PhaseStats, percentile};

/// The report shows at most this many cycles (the newest); older ones stay in the ledger.
pub const MAX_CYCLES_SHOWN: usize = 30;

/// Sets up `tracing` output on stderr: `RUST_LOG` filters (default `info`), and
/// `VIXENS_LOG_FORMAT=json` switches to JSON lines for CI.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = if std::env::var("VIXENS_LOG_FORMAT").as_deref() == Ok("json") { builder.json().try_init() } else { builder.without_time().try_init() };
}

/// What a report is made from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The gate's decision over the same evidence.
    pub decision: &'a Decision,
    /// The environment's ledger records, oldest first (other environments' records are skipped).
    pub records: &'a [CycleRecord],
    /// Consecutive cycles the gate requires.
    pub cycles_required: u32,
    /// The environment's recreate budget, in milliseconds.
    pub budget_ms: u64,
    /// The ledger file.
    pub ledger: &'a Path,
    /// The JUnit report the gate read, when there was one.
    pub junit: Option<&'a Path>,
    /// When the report was made (RFC 3339), printed as is.
    pub generated_at: &'a str,
    /// The harness version making the report.
    pub harness_version: &'a str,
}

/// A report, redacted and ready to render.
#[derive(Debug, Clone)]
pub struct Report {
    environment: String,
    decision: Decision,
    cycles: Vec<Row>,
    total_cycles: usize,
    cycles_required: u32,
    budget_ms: u64,
    phases: Vec<String>,
    stats: Vec<PhaseStats>,
    tools: BTreeMap<String, String>,
    ledger: Link,
    junit: Option<Link>,
    generated_at: String,
    harness_version: String,
}

/// One shown cycle: its 1-based number in the environment's ledger and its (redacted) record.
#[derive(Debug, Clone)]
struct Row {
    number: usize,
    in_window: bool,
    record: CycleRecord,
}

/// A file the report points at: the path shown, and the link relative to the report's folder.
#[derive(Debug, Clone)]
struct Link {
    shown: String,
    href: String,
}

/// The files [`Report::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The Markdown summary.
    pub markdown: PathBuf,
    /// The HTML page.
    pub html: PathBuf,
}

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the report to {path}")]
pub struct Error {
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Report {
    /// Builds the report that will be written to `out_dir`, redacting every string of the
    /// evidence with `redactor`.
    #[must_use]
    pub fn new(inputs: &Inputs<'_>, out_dir: &Path, redactor: &Redactor) -> Self {
        let environment = inputs.decision.environment.clone();
        let mine: Vec<&CycleRecord> = inputs.records.iter().filter(|r| r.environment == environment).collect();
        let window_start = mine.len().saturating_sub(inputs.cycles_required as usize);
        let shown_start = mine.len().saturating_sub(MAX_CYCLES_SHOWN);
        let cycles: Vec<Row> = mine
            .iter()
            .enumerate()
            .skip(shown_start)
            .map(|(i, r)| Row { number: i + 1, in_window: i >= window_start, record: redact_record(r, redactor) })
            .collect();
        let phases = phase_names(&cycles);
        let stats = phases.iter().map(|p| PhaseStats::of(p, cycles.iter().map(|c| &c.record))).collect();
        let tools = cycles.last().map(|c| c.record.tool_versions.clone()).unwrap_or_default();
        let link = |path: &Path| Link { shown: redactor.redact(&path.display().to_string()), href: redactor.redact(&relative_href(out_dir, path)) };
        Self {
            decision: redact_decision(inputs.decision, redactor),
            environment: redactor.redact(&environment),
            cycles,
            total_cycles: mine.len(),
            cycles_required: inputs.cycles_required,
            budget_ms: inputs.budget_ms,
            phases,
            stats,
            tools,
            ledger: link(inputs.ledger),
            junit: inputs.junit.map(link),
            generated_at: inputs.generated_at.to_owned(),
            harness_version: inputs.harness_version.to_owned(),
        }
    }

    /// The Markdown summary.
    #[must_use]
    pub fn markdown(&self) -> String {
        markdown::render(self)
    }

    /// The self-contained HTML page.
    #[must_use]
    pub fn html(&self) -> String {
        html::render(self)
    }

    /// Writes `<env>.md` and `<env>.html` into `out_dir`, creating it.
    ///
    /// # Errors
    /// [`Error`] naming the file that could not be written.
    pub fn write(&self, out_dir: &Path) -> Result<Written, Error> {
        fn write(path: &Path, result: std::io::Result<()>) -> Result<(), Error> {
            result.map_err(|source| Error { path: path.to_owned(), source })
        }
        write(out_dir, std::fs::create_dir_all(out_dir))?;
        let written =
            Written { markdown: out_dir.join(format!("{}.md", self.environment)), html: out_dir.join(format!("{}.html", self.environment)) };
        write(&written.markdown, std::fs::write(&written.markdown, self.markdown()))?;
        write(&written.html, std::fs::write(&written.html, self.html()))?;
        Ok(written)
    }

    /// Every failure of the shown cycles, with its cycle.
    fn failures(&self) -> impl Iterator<Item = (&Row, &vixens_ops::evidence::Failure)> {
        self.cycles.iter().flat_map(|row| row.record.failures.iter().map(move |f| (row, f)))
    }

    /// The revision's headline: what was judged.
    fn revision(&self) -> String {
        self.decision.headline()
    }

    /// The numbers of the cycles that decide promotion, as `#3–#7`.
    fn window(&self) -> Option<String> {
        let numbers: Vec<usize> = self.cycles.iter().filter(|c| c.in_window).map(|c| c.number).collect();
        match (numbers.first(), numbers.last()) {
            (Some(a), Some(b)) if a == b => Some(format!("#{a}")),
            (Some(a), Some(b)) => Some(format!("#{a}–#{b}")),
            _ => None,
        }
    }
}

/// Phase names in the order they first ran.
fn phase_names(cycles: &[Row]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for phase in cycles.iter().flat_map(|c| &c.record.phases) {
        if !names.contains(&phase.phase) {
            names.push(phase.phase.clone());
        }
    }
    names
}

fn redact_record(record: &CycleRecord, redactor: &Redactor) -> CycleRecord {
    let r = |s: &str| redactor.redact(s);
    let mut out = record.clone();
    out.cycle_id = r(&record.cycle_id);
    out.environment = r(&record.environment);
    out.revision = r(&record.revision);
    out.terraform_revision = record.terraform_revision.as_deref().map(r);
    out.harness_version = r(&record.harness_version);
    out.started_at = r(&record.started_at);
    out.tool_versions = record.tool_versions.iter().map(|(k, v)| (r(k), r(v))).collect();
    for phase in &mut out.phases {
        phase.phase = r(&phase.phase);
    }
    for failure in &mut out.failures {
        failure.phase = r(&failure.phase);
        failure.culprit = r(&failure.culprit);
        failure.message = r(&failure.message);
    }
    out.artifacts = record.artifacts.as_deref().map(|p| PathBuf::from(r(&p.display().to_string())));
    out
}

fn redact_decision(decision: &Decision, redactor: &Redactor) -> Decision {
    let mut out = decision.clone();
    out.environment = redactor.redact(&decision.environment);
    for check in &mut out.checks {
        check.result = match &check.result {
            CheckResult::Passed(summary) => CheckResult::Passed(redactor.redact(summary)),
            CheckResult::Refused(reasons) => CheckResult::Refused(
                reasons
                    .iter()
                    .map(|reason| Reason {
                        message: redactor.redact(&reason.message),
                        artifacts: reason.artifacts.as_deref().map(|p| PathBuf::from(redactor.redact(&p.display().to_string()))),
                    })
                    .collect(),
            ),
        };
    }
    out
}

/// A link from a file in `from_dir` to `to`, relative (so the report folder can move with what
/// it points at), `/`-separated and percent-encoded where a path character would change the
/// URL's meaning. A first segment with a `:` gets `./`, so it can never read as a URL scheme.
fn relative_href(from_dir: &Path, to: &Path) -> String {
    let (Some(from), Some(to_abs)) = (absolute(from_dir), absolute(to)) else {
        return encode_path(&to.display().to_string());
    };
    let from: Vec<Component<'_>> = from.components().collect();
    let target: Vec<Component<'_>> = to_abs.components().collect();
    let common = from.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(target[common..].iter().map(|c| encode_path(&c.as_os_str().to_string_lossy())));
    let href = parts.join("/");
    if href.split('/').next().is_some_and(|first| first.contains(':')) { format!("./{href}") } else { href }
}

fn encode_path(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for c in segment.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '"' => out.push_str("%22"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '\\' => out.push_str("%5C"),
            other => out.push(other),
        }
    }
    out
}

/// `path` made absolute against the current directory, with `.` and `..` folded.
fn absolute(path: &Path) -> Option<PathBuf> {
    let joined = if path.is_absolute() { path.to_owned() } else { std::env::current_dir().ok()?.join(path) };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// `passed` or `failed`, as the report prints a verdict.
fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Passed => "passed",
        Verdict::Failed => "failed",
    }
}

#[cfg(test)]
mod tests;
