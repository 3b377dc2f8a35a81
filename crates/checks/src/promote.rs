//! The promotion gate: one verdict over the evidence a release manager needs before promoting
//! an environment's infrastructure revision.
//!
//! The gate is pure: [`decide`] judges an [`Evidence`] (ledger records, the nextest JUnit, the
//! repository lints) and returns a [`Decision`] whose every refusal says exactly why, naming the
//! cycle, its phase and its culprit. Gathering the evidence (reading the ledger, resolving the
//! revision with git, running the lints) is [`gather`]'s job, kept apart so that every rule is
//! tested on synthetic ledgers.
//!
//! PASS only if, together:
//! - the last N cycles (`cycles-required`, 5) are consecutive successes on the revision being
//!   promoted and on the Terraform repository's current revision (a Terraform-only commit
//!   invalidates them as a GitOps one does), from clean checkouts, each within its budget;
//! - the JUnit report shows N passing `recreate_cycle` runs for the environment and none failed;
//! - every lint passes: documented commands (each entry validated on at least 2 environments),
//!   command discovery (no operation the repository runs undocumented past 24 h), ADRs, and no
//!   secret committed in `docs/`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use vixens_ops::evidence::{CycleRecord, Verdict};

pub mod gather;
pub mod junit;
pub mod lints;
pub mod revision;

pub use gather::{Gathered, Request, gather};
pub use revision::Revision;

/// `vixens promote` exit codes.
pub mod exit {
    /// Every check passed: the revision may be promoted.
    pub const PASS: u8 = 0;
    /// The evidence was read and promotion is refused; the output says why.
    pub const REFUSED: u8 = 1;
    /// The evidence could not be read (bad env.yaml, malformed ledger or JUnit, git failure).
    pub const ERROR: u8 = 2;
}

/// The name nextest gives the recreate-cycle test (the `fresh_cluster_validation` suite).
pub const RECREATE_CYCLE_TEST: &str = "fresh_cluster_validation::recreate_cycle";

/// At most this many problems of one lint are listed; the rest are counted.
const MAX_LISTED_PROBLEMS: usize = 10;

/// Everything the gate judges.
#[derive(Debug, Clone)]
pub struct Evidence<'a> {
    /// The environment being promoted.
    pub environment: &'a str,
    /// The revision being promoted.
    pub revision: &'a Revision,
    /// The Terraform repository's revision the cycles must have run on; `None` when the
    /// Terraform repository is the infrastructure repository (its revision is `revision`).
    pub terraform: Option<&'a Revision>,
    /// Consecutive successful cycles required (`cycles-required`, or `--cycles`).
    pub cycles_required: u32,
    /// The environment's recreate budget; a cycle recorded with a larger budget is held to this one.
    pub budget: Duration,
    /// The ledger, oldest first.
    pub ledger: &'a Ledger,
    /// The nextest JUnit report.
    pub junit: &'a JunitEvidence,
    /// The repository lints, each already run.
    pub lints: &'a [LintOutcome],
}

/// The evidence ledger as read.
#[derive(Debug, Clone)]
pub struct Ledger {
    /// The file, for messages.
    pub path: PathBuf,
    /// Every record, oldest first.
    pub records: Vec<CycleRecord>,
}

/// The JUnit report, or why there is none.
#[derive(Debug, Clone)]
pub enum JunitEvidence {
    /// The report was read.
    Read(junit::Junit),
    /// No report at this path.
    Missing(PathBuf),
}

/// The outcome of one repository lint (documented commands, command discovery, ADRs), as the
/// gate sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintOutcome {
    /// The check's name in the verdict (`documented commands`, `command discovery`, `ADRs`).
    pub name: String,
    /// What was checked, said when it passes (`12 entries, each validated on 2+ environments`).
    pub summary: String,
    /// Every problem found, each naming its file and line; empty when the lint passes.
    pub problems: Vec<String>,
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The environment.
    pub environment: String,
    /// The revision judged.
    pub revision: Revision,
    /// The Terraform revision judged, when the Terraform repository is a repository of its own.
    pub terraform: Option<Revision>,
    /// One result per check, in a fixed order: cycles, JUnit, then the lints.
    pub checks: Vec<Check>,
}

/// One check of the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// `cycles`, `junit`, or the lint's name.
    pub name: String,
    /// Its result.
    pub result: CheckResult,
}

/// Whether a check passed, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    /// It passed: what was verified.
    Passed(String),
    /// It refused promotion: why, most important first.
    Refused(Vec<Reason>),
}

/// One reason for refusing, with the cycle it concerns when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The sentence a release manager reads.
    pub message: String,
    /// The cycle's artifact folder, when the reason is a failed cycle that left artifacts.
    pub artifacts: Option<PathBuf>,
}

impl Reason {
    fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), artifacts: None }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Decision {
    /// True when every check passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }

    /// The revisions judged, as a headline says them: `abc1234abc12 (infra repo HEAD)`, then
    /// ` and Terraform revision …` when the Terraform repository is a repository of its own.
    #[must_use]
    pub fn headline(&self) -> String {
        match &self.terraform {
            Some(terraform) => format!("{} and Terraform revision {terraform}", self.revision),
            None => self.revision.to_string(),
        }
    }

    /// Every reason for refusing, in check order.
    pub fn reasons(&self) -> impl Iterator<Item = &Reason> {
        self.checks.iter().flat_map(|c| match &c.result {
            CheckResult::Passed(_) => &[][..],
            CheckResult::Refused(reasons) => reasons.as_slice(),
        })
    }

    /// The exit code `vixens promote` returns for this decision.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        if self.passed() { exit::PASS } else { exit::REFUSED }
    }
}

impl Check {
    /// True when the check passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        matches!(self.result, CheckResult::Passed(_))
    }
}

/// Judges `evidence`.
#[must_use]
pub fn decide(evidence: &Evidence<'_>) -> Decision {
    let mut checks = vec![Check { name: "cycles".into(), result: cycles(evidence) }, Check { name: "junit".into(), result: junit_runs(evidence) }];
    checks.extend(evidence.lints.iter().map(lint));
    Decision { environment: evidence.environment.to_owned(), revision: evidence.revision.clone(), terraform: evidence.terraform.cloned(), checks }
}

/// A cycle of the judged window with its 1-based position in the environment's ledger.
struct Numbered<'a> {
    number: usize,
    record: &'a CycleRecord,
}

fn cycles(evidence: &Evidence<'_>) -> CheckResult {
    let required = evidence.cycles_required as usize;
    let revision = evidence.revision;
    let records: Vec<Numbered<'_>> = evidence
        .ledger
        .records
        .iter()
        .filter(|r| r.environment == evidence.environment)
        .enumerate()
        .map(|(i, record)| Numbered { number: i + 1, record })
        .collect();
    if records.is_empty() {
        return CheckResult::Refused(vec![Reason::new(format!(
            "no cycles recorded for {} in {}",
            evidence.environment,
            evidence.ledger.path.display()
        ))]);
    }
    let window = &records[records.len().saturating_sub(required)..];
    let terraform = evidence.terraform.unwrap_or(revision);
    let (on_revision, elsewhere): (Vec<&Numbered<'_>>, Vec<&Numbered<'_>>) = window.iter().partition(|c| revision.matches(&c.record.revision));
    // A cycle on the promoted GitOps revision counts only if it also ran on the Terraform one.
    let (on_revision, terraform_elsewhere): (Vec<&Numbered<'_>>, Vec<&Numbered<'_>>) =
        on_revision.into_iter().partition(|c| c.record.terraform_revision.as_deref().is_some_and(|t| terraform.matches(t)));
    let problems: Vec<Reason> = on_revision.iter().filter_map(|c| cycle_problem(c, evidence.budget)).collect();

    if problems.is_empty() && elsewhere.is_empty() && terraform_elsewhere.is_empty() && window.len() == required {
        let slowest = window.iter().map(|c| c.record.total_ms).max().unwrap_or(0);
        let terraform = evidence.terraform.map_or_else(String::new, |t| format!(" and Terraform revision {}", t.short()));
        return CheckResult::Passed(format!(
            "{required}/{required} consecutive cycles on revision {}{terraform}, each within the {} budget (slowest {})",
            revision.short(),
            duration(evidence.budget),
            millis(slowest)
        ));
    }
    let mut reasons = Vec::new();
    if !problems.is_empty() {
        let good = on_revision.len() - problems.len();
        reasons.push(Reason::new(format!("{good}/{required} consecutive cycles")));
        reasons.extend(problems);
    } else if !on_revision.is_empty() {
        reasons.push(Reason::new(format!("fewer than {required} cycles on revision {} ({})", revision.short(), on_revision.len())));
    }
    reasons.extend(other_revisions(&elsewhere, window.len(), revision));
    reasons.extend(other_terraform_revisions(&terraform_elsewhere, terraform));
    CheckResult::Refused(reasons)
}

/// Why one cycle on the promoted revision does not count, if it does not.
fn cycle_problem(cycle: &Numbered<'_>, env_budget: Duration) -> Option<Reason> {
    let record = cycle.record;
    let n = cycle.number;
    let with_artifacts = |message: String| Some(Reason { message, artifacts: record.artifacts.clone() });
    if record.verdict == Verdict::Failed {
        return with_artifacts(format!("cycle {n} failed{}", failure_summary(record)));
    }
    if record.revision_dirty {
        return with_artifacts(format!("cycle {n} ran on uncommitted changes to revision {}", revision::short(&record.revision)));
    }
    if record.terraform_revision_dirty {
        let at = record.terraform_revision.as_deref().map_or("", revision::short);
        return with_artifacts(format!("cycle {n} ran on uncommitted changes to the Terraform repository at {at}"));
    }
    let budget_ms = record.budget_ms.min(millis_of(env_budget));
    if record.total_ms > budget_ms {
        return with_artifacts(format!("cycle {n} took {}, over the {} budget", millis(record.total_ms), millis(budget_ms)));
    }
    if let Some(phase) = record.phases.iter().find(|p| !p.ok || p.ms > p.budget_ms) {
        let why =
            if phase.ok { format!("took {}, over its {} budget", millis(phase.ms), millis(phase.budget_ms)) } else { "did not succeed".to_owned() };
        return with_artifacts(format!("cycle {n}: phase {} {why}, yet the cycle is recorded as passed", phase.phase));
    }
    None
}

/// ` in phase argocd: traefik Degraded`, plus a count of further failures.
fn failure_summary(record: &CycleRecord) -> String {
    let Some(first) = record.failures.first() else {
        return match record.phases.iter().find(|p| !p.ok) {
            Some(phase) => format!(" in phase {} (no failure recorded)", phase.phase),
            None => " (no failure recorded)".to_owned(),
        };
    };
    let what = if first.message.contains(&first.culprit) { first.message.clone() } else { format!("{} {}", first.culprit, first.message) };
    let more = match record.failures.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more failure)".to_owned(),
        n => format!(" (and {n} more failures)"),
    };
    format!(" in phase {}: {what}{more}", first.phase)
}

/// One reason per other revision found in the window: `cycles 1–2 ran on revision def456`.
fn other_revisions(elsewhere: &[&Numbered<'_>], window_len: usize, promoted: &Revision) -> Vec<Reason> {
    let mut by_revision: Vec<(&str, Vec<usize>)> = Vec::new();
    for cycle in elsewhere {
        let rev = cycle.record.revision.as_str();
        match by_revision.iter_mut().find(|(r, _)| *r == rev) {
            Some((_, numbers)) => numbers.push(cycle.number),
            None => by_revision.push((rev, vec![cycle.number])),
        }
    }
    by_revision
        .into_iter()
        .map(|(rev, numbers)| {
            let which = if numbers.len() == window_len { "cycles".to_owned() } else { cycle_numbers(&numbers) };
            Reason::new(format!("{which} ran on revision {}, promoting {}", revision::short(rev), promoted.short()))
        })
        .collect()
}

/// One reason per Terraform revision the window's cycles ran on other than `promoted`:
/// `the Terraform repository moved from abc123 to def456 since cycle 3`. A record written before
/// the ledger named the Terraform revision vouches for none, and says so.
fn other_terraform_revisions(elsewhere: &[&Numbered<'_>], promoted: &Revision) -> Vec<Reason> {
    let mut by_revision: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
    for cycle in elsewhere {
        let rev = cycle.record.terraform_revision.as_deref();
        match by_revision.iter_mut().find(|(r, _)| *r == rev) {
            Some((_, numbers)) => numbers.push(cycle.number),
            None => by_revision.push((rev, vec![cycle.number])),
        }
    }
    by_revision
        .into_iter()
        .map(|(rev, numbers)| match rev {
            Some(rev) => Reason::new(format!(
                "the Terraform repository moved from {} to {} since cycle {}",
                revision::short(rev),
                promoted.short(),
                numbers.last().copied().unwrap_or_default()
            )),
            None => Reason::new(format!(
                "{} recorded no Terraform revision (written before the ledger named it), so {} not vouch for Terraform revision {}",
                cycle_numbers(&numbers),
                if numbers.len() == 1 { "it does" } else { "they do" },
                promoted.short()
            )),
        })
        .collect()
}

/// `cycle 3`, `cycles 1–2`, `cycles 1, 3–4` (numbers ascending).
fn cycle_numbers(numbers: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &n in numbers {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let parts: Vec<String> = runs.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") }).collect();
    let plural = if numbers.len() == 1 { "cycle" } else { "cycles" };
    format!("{plural} {}", parts.join(", "))
}

fn junit_runs(evidence: &Evidence<'_>) -> CheckResult {
    let required = evidence.cycles_required as usize;
    let junit = match evidence.junit {
        JunitEvidence::Read(junit) => junit,
        JunitEvidence::Missing(path) => {
            return CheckResult::Refused(vec![Reason::new(format!(
                "no JUnit report at {}: run {}",
                path.display(),
                stress_command(evidence.environment, required)
            ))]);
        }
    };
    let runs: Vec<&junit::TestRun> = junit.runs.iter().filter(|r| r.name == RECREATE_CYCLE_TEST && r.package() == evidence.environment).collect();
    if runs.is_empty() {
        return CheckResult::Refused(vec![Reason::new(format!(
            "{} has no {RECREATE_CYCLE_TEST} run for {}: run {}",
            junit.path.display(),
            evidence.environment,
            stress_command(evidence.environment, required)
        ))]);
    }
    let mut reasons = Vec::new();
    for run in &runs {
        match &run.outcome {
            junit::Outcome::Passed => {}
            junit::Outcome::Failed(message) => {
                reasons.push(Reason::new(format!("{RECREATE_CYCLE_TEST} failed in {}: {message}", run.place())));
            }
            junit::Outcome::Flaky(message) => {
                reasons.push(Reason::new(format!("{RECREATE_CYCLE_TEST} passed only on retry in {} (first attempt: {message})", run.place())))
            }
            junit::Outcome::Skipped => {
                reasons.push(Reason::new(format!("{RECREATE_CYCLE_TEST} was skipped in {}", run.place())));
            }
        }
    }
    let passed = runs.iter().filter(|r| r.outcome == junit::Outcome::Passed).count();
    if passed < required {
        reasons.insert(
            0,
            Reason::new(format!(
                "{} shows {passed} passing {RECREATE_CYCLE_TEST} runs for {}, {required} required",
                junit.path.display(),
                evidence.environment
            )),
        );
    }
    if reasons.is_empty() {
        reasons.extend(cycles_not_in(evidence, &runs, junit));
    }
    if reasons.is_empty() {
        CheckResult::Passed(format!("{passed}/{} {RECREATE_CYCLE_TEST} runs passed ({})", runs.len(), junit.path.display()))
    } else {
        CheckResult::Refused(reasons)
    }
}

/// The judged cycles that no passing run of the report covers: a report left by another run
/// (an older promotion run, another machine's) does not vouch for the ledger's cycles.
fn cycles_not_in(evidence: &Evidence<'_>, runs: &[&junit::TestRun], junit: &junit::Junit) -> Vec<Reason> {
    let required = evidence.cycles_required as usize;
    let records: Vec<&CycleRecord> = evidence.ledger.records.iter().filter(|r| r.environment == evidence.environment).collect();
    let first = records.len().saturating_sub(required);
    let passing: Vec<&&junit::TestRun> = runs.iter().filter(|r| r.outcome == junit::Outcome::Passed).collect();
    records[first..]
        .iter()
        .enumerate()
        .filter(|(_, record)| {
            let started = record.started_at.parse::<jiff::Timestamp>().ok();
            !started.is_some_and(|t| passing.iter().any(|run| run.covers(t)))
        })
        .map(|(i, record)| {
            Reason::new(format!(
                "cycle {} (started {}) is not one of the runs {} reports: the report comes from another nextest run; run {}",
                first + i + 1,
                record.started_at,
                junit.path.display(),
                stress_command(evidence.environment, required)
            ))
        })
        .collect()
}

/// The command that produces the JUnit the gate reads.
#[must_use]
pub fn stress_command(environment: &str, cycles: usize) -> String {
    format!("`cargo nextest run -p {environment} --profile promotion --stress-count {cycles} -E 'test(recreate_cycle)'`")
}

fn lint(outcome: &LintOutcome) -> Check {
    let result = if outcome.problems.is_empty() {
        CheckResult::Passed(outcome.summary.clone())
    } else {
        let mut reasons: Vec<Reason> = outcome.problems.iter().take(MAX_LISTED_PROBLEMS).map(|p| Reason::new(p.clone())).collect();
        if outcome.problems.len() > MAX_LISTED_PROBLEMS {
            reasons.push(Reason::new(format!("and {} more problems", outcome.problems.len() - MAX_LISTED_PROBLEMS)));
        }
        CheckResult::Refused(reasons)
    };
    Check { name: outcome.name.clone(), result }
}

fn millis_of(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration in milliseconds as people read it, to the second: `24m 3s`, `850ms` under one second.
#[must_use]
pub fn millis(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    duration(Duration::from_secs((ms + 500) / 1000))
}

fn duration(d: Duration) -> String {
    humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use rstest::rstest;

    use super::junit::{Junit, Outcome, TestRun};
    use super::revision::RevisionSource;
    use super::*;
    use vixens_ops::evidence::{Failure, PhaseTiming, SCHEMA_VERSION};

    const A: &str = "abc1234abc1234abc1234abc1234abc1234abc12";
    const B: &str = "def4567def4567def4567def4567def4567def45";
    const MIN: u64 = 60_000;

    fn cycle(revision: &str) -> CycleRecord {
        let phase = |name: &str, ms: u64, budget_ms: u64| PhaseTiming { phase: name.into(), ms, budget_ms, ok: true };
        CycleRecord {
            schema: SCHEMA_VERSION,
            cycle_id: "id".into(),
            environment: "lab".into(),
            revision: revision.into(),
            revision_dirty: false,
            terraform_revision: Some(revision.into()),
            terraform_revision_dirty: false,
            harness_version: "0.1.0".into(),
            tool_versions: BTreeMap::new(),
            started_at: "2026-11-26T10:00:00Z".into(),
            phases: vec![phase("destroy", 2 * MIN, 5 * MIN), phase("apply", 8 * MIN, 10 * MIN), phase("argocd", 10 * MIN, 15 * MIN)],
            total_ms: 20 * MIN,
            budget_ms: 30 * MIN,
            verdict: Verdict::Passed,
            failures: vec![],
            artifacts: None,
        }
    }

    fn ok(revision: &str) -> CycleRecord {
        cycle(revision)
    }

    fn failed(phase: &str, culprit: &str, message: &str) -> CycleRecord {
        let mut c = cycle(A);
        c.verdict = Verdict::Failed;
        c.failures = vec![Failure { phase: phase.into(), culprit: culprit.into(), message: message.into() }];
        c.artifacts = Some(PathBuf::from("/evidence/artifacts/cycle-3"));
        c
    }

    fn slow(total_min: u64) -> CycleRecord {
        let mut c = cycle(A);
        c.total_ms = total_min * MIN;
        c
    }

    fn dirty() -> CycleRecord {
        let mut c = cycle(A);
        c.revision_dirty = true;
        c
    }

    fn promoting(commit: &str) -> Revision {
        Revision { commit: commit.into(), source: RevisionSource::Head }
    }

    fn passing_junit(runs: usize) -> JunitEvidence {
        // Each run spans the time every test cycle records (10:00).
        let span = Some(("2026-11-26T09:59:00Z".parse().unwrap(), Duration::from_secs(600)));
        let run =
            |i| TestRun { binary: "lab::suites".into(), stress_iteration: Some(i), name: RECREATE_CYCLE_TEST.into(), outcome: Outcome::Passed, span };
        JunitEvidence::Read(Junit { path: "junit.xml".into(), runs: (0..runs as u32).map(run).collect() })
    }

    fn clean_lints() -> Vec<LintOutcome> {
        vec![
            LintOutcome { name: "documented commands".into(), summary: "3 entries".into(), problems: vec![] },
            LintOutcome { name: "command discovery".into(), summary: "0 operation patterns undocumented".into(), problems: vec![] },
            LintOutcome { name: "ADRs".into(), summary: "2 ADRs".into(), problems: vec![] },
            LintOutcome { name: "secrets in docs".into(), summary: "0 secrets in 5 files under docs".into(), problems: vec![] },
        ]
    }

    fn judge(records: Vec<CycleRecord>, junit: JunitEvidence, lints: &[LintOutcome]) -> Decision {
        judge_with_terraform(records, None, junit, lints)
    }

    fn judge_with_terraform(records: Vec<CycleRecord>, terraform: Option<&Revision>, junit: JunitEvidence, lints: &[LintOutcome]) -> Decision {
        let ledger = Ledger { path: "/evidence/lab.jsonl".into(), records };
        decide(&Evidence {
            environment: "lab",
            revision: &promoting(A),
            terraform,
            cycles_required: 5,
            budget: Duration::from_secs(30 * 60),
            ledger: &ledger,
            junit: &junit,
            lints,
        })
    }

    fn cycles_verdict(records: Vec<CycleRecord>) -> String {
        cycles_verdict_with_terraform(records, None)
    }

    fn cycles_verdict_with_terraform(records: Vec<CycleRecord>, terraform: Option<&str>) -> String {
        let terraform = terraform.map(promoting);
        let decision = judge_with_terraform(records, terraform.as_ref(), passing_junit(5), &clean_lints());
        match &decision.checks[0].result {
            CheckResult::Passed(summary) => format!("PASS: {summary}"),
            CheckResult::Refused(reasons) => reasons.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        }
    }

    #[rstest]
    #[case::five_clean_cycles(
        vec![ok(A), ok(A), ok(A), ok(A), ok(A)],
        "PASS: 5/5 consecutive cycles on revision abc1234abc12, each within the 30m budget (slowest 20m)"
    )]
    #[case::an_old_failure_outside_the_window_does_not_count(
        vec![failed("apply", "terraform_data.node[0]", "exit 1"), ok(A), ok(A), ok(A), ok(A), ok(A)],
        "PASS: 5/5 consecutive cycles on revision abc1234abc12, each within the 30m budget (slowest 20m)"
    )]
    #[case::a_fault_in_cycle_three(
        vec![ok(A), ok(A), failed("argocd", "traefik", "Degraded"), ok(A), ok(A)],
        "4/5 consecutive cycles; cycle 3 failed in phase argocd: traefik Degraded"
    )]
    #[case::a_message_that_names_its_culprit_is_not_repeated(
        vec![ok(A), ok(A), ok(A), ok(A), failed("logs", "talos-cp-1:42", "talos-cp-1:42: etcd error")],
        "4/5 consecutive cycles; cycle 5 failed in phase logs: talos-cp-1:42: etcd error"
    )]
    #[case::fewer_cycles_than_required(
        vec![ok(A), ok(A), ok(A)],
        "fewer than 5 cycles on revision abc1234abc12 (3)"
    )]
    #[case::every_cycle_on_another_revision(
        vec![ok(B), ok(B), ok(B), ok(B), ok(B)],
        "cycles ran on revision def4567def45, promoting abc1234abc12"
    )]
    #[case::the_revision_changed_mid_series(
        vec![ok(B), ok(B), ok(A), ok(A), ok(A)],
        "fewer than 5 cycles on revision abc1234abc12 (3); cycles 1–2 ran on revision def4567def45, promoting abc1234abc12"
    )]
    #[case::newer_cycles_on_another_revision(
        vec![ok(A), ok(A), ok(A), ok(A), ok(A), ok(B)],
        "fewer than 5 cycles on revision abc1234abc12 (4); cycle 6 ran on revision def4567def45, promoting abc1234abc12"
    )]
    #[case::a_cycle_over_budget(
        vec![ok(A), ok(A), ok(A), slow(31), ok(A)],
        "4/5 consecutive cycles; cycle 4 took 31m, over the 30m budget"
    )]
    #[case::a_cycle_on_uncommitted_changes(
        vec![ok(A), dirty(), ok(A), ok(A), ok(A)],
        "4/5 consecutive cycles; cycle 2 ran on uncommitted changes to revision abc1234abc12"
    )]
    #[case::several_faults_are_all_named(
        vec![ok(A), failed("apply", "terraform_data.cp[1]", "exit status 1"), ok(A), failed("argocd", "traefik", "Degraded"), ok(A)],
        "3/5 consecutive cycles; cycle 2 failed in phase apply: terraform_data.cp[1] exit status 1; cycle 4 failed in phase argocd: traefik Degraded"
    )]
    #[case::no_cycles_at_all(vec![], "no cycles recorded for lab in /evidence/lab.jsonl")]
    fn the_last_cycles_must_be_consecutive_successes_on_the_promoted_revision(#[case] records: Vec<CycleRecord>, #[case] expected: &str) {
        assert_eq!(cycles_verdict(records), expected);
    }

    /// The Terraform repository's revisions (a repository of its own, as on the homelab).
    const T1: &str = "7e57ab1e7e57ab1e7e57ab1e7e57ab1e7e57ab1e";
    const T2: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    fn on_terraform(terraform: Option<&str>) -> CycleRecord {
        let mut c = cycle(A);
        c.terraform_revision = terraform.map(Into::into);
        c
    }

    #[rstest]
    #[case::five_clean_cycles_on_both_revisions(
        vec![on_terraform(Some(T2)); 5],
        "PASS: 5/5 consecutive cycles on revision abc1234abc12 and Terraform revision c0ffee00c0ff, each within the 30m budget (slowest 20m)"
    )]
    #[case::a_terraform_only_commit_after_the_cycles(
        vec![on_terraform(Some(T1)); 5],
        "the Terraform repository moved from 7e57ab1e7e57 to c0ffee00c0ff since cycle 5"
    )]
    #[case::a_terraform_commit_mid_series(
        vec![on_terraform(Some(T1)), on_terraform(Some(T1)), on_terraform(Some(T1)), on_terraform(Some(T2)), on_terraform(Some(T2))],
        "fewer than 5 cycles on revision abc1234abc12 (2); the Terraform repository moved from 7e57ab1e7e57 to c0ffee00c0ff since cycle 3"
    )]
    #[case::records_written_before_the_terraform_revision_was_recorded(
        vec![on_terraform(None), on_terraform(None), on_terraform(Some(T2)), on_terraform(Some(T2)), on_terraform(Some(T2))],
        "fewer than 5 cycles on revision abc1234abc12 (3); cycles 1–2 recorded no Terraform revision (written before the ledger named it), so they do not vouch for Terraform revision c0ffee00c0ff"
    )]
    fn the_cycles_must_also_have_run_on_the_current_terraform_revision(#[case] records: Vec<CycleRecord>, #[case] expected: &str) {
        assert_eq!(cycles_verdict_with_terraform(records, Some(T2)), expected);
    }

    #[test]
    fn with_one_repository_an_old_record_without_a_terraform_revision_does_not_count() {
        let mut old = cycle(A);
        old.terraform_revision = None;
        assert_eq!(
            cycles_verdict(vec![ok(A), ok(A), ok(A), ok(A), old]),
            "fewer than 5 cycles on revision abc1234abc12 (4); cycle 5 recorded no Terraform revision (written before the ledger named it), so it does not vouch for Terraform revision abc1234abc12"
        );
    }

    #[test]
    fn with_one_repository_a_moved_revision_is_said_once() {
        assert_eq!(cycles_verdict(vec![ok(B); 5]), "cycles ran on revision def4567def45, promoting abc1234abc12");
    }

    #[test]
    fn a_cycle_on_uncommitted_terraform_changes_does_not_count() {
        let mut dirty = on_terraform(Some(T2));
        dirty.terraform_revision_dirty = true;
        assert_eq!(
            cycles_verdict_with_terraform(
                vec![on_terraform(Some(T2)), dirty, on_terraform(Some(T2)), on_terraform(Some(T2)), on_terraform(Some(T2))],
                Some(T2)
            ),
            "4/5 consecutive cycles; cycle 2 ran on uncommitted changes to the Terraform repository at c0ffee00c0ff"
        );
    }

    #[test]
    fn the_environment_budget_holds_even_when_a_cycle_recorded_a_larger_one() {
        let mut lenient = slow(40);
        lenient.budget_ms = 60 * MIN;
        assert_eq!(cycles_verdict(vec![ok(A), ok(A), ok(A), ok(A), lenient]), "4/5 consecutive cycles; cycle 5 took 40m, over the 30m budget");
    }

    #[test]
    fn a_phase_over_its_own_budget_is_refused_even_if_recorded_as_passed() {
        let mut inconsistent = cycle(A);
        inconsistent.phases[2].ms = 16 * MIN;
        assert_eq!(
            cycles_verdict(vec![ok(A), ok(A), inconsistent, ok(A), ok(A)]),
            "4/5 consecutive cycles; cycle 3: phase argocd took 16m, over its 15m budget, yet the cycle is recorded as passed"
        );
    }

    #[test]
    fn a_failed_cycle_points_at_its_artifacts() {
        let decision = judge(vec![ok(A), ok(A), failed("argocd", "traefik", "Degraded"), ok(A), ok(A)], passing_junit(5), &clean_lints());
        let failed = decision.reasons().find(|r| r.message.starts_with("cycle 3")).unwrap();
        assert_eq!(failed.artifacts.as_deref(), Some(std::path::Path::new("/evidence/artifacts/cycle-3")));
    }

    #[test]
    fn a_failure_without_details_still_names_its_phase() {
        let mut c = failed("argocd", "x", "y");
        c.failures.clear();
        c.phases[1].ok = false;
        assert_eq!(
            cycles_verdict(vec![ok(A), ok(A), ok(A), ok(A), c]),
            "4/5 consecutive cycles; cycle 5 failed in phase apply (no failure recorded)"
        );
    }

    #[test]
    fn cycles_of_other_environments_in_the_ledger_are_ignored() {
        let mut other = failed("argocd", "traefik", "Degraded");
        other.environment = "dev".into();
        assert!(cycles_verdict(vec![ok(A), ok(A), ok(A), other, ok(A), ok(A)]).starts_with("PASS"));
    }

    #[test]
    fn everything_clean_passes_with_exit_code_zero() {
        let decision = judge(vec![ok(A); 5], passing_junit(5), &clean_lints());
        assert!(decision.passed(), "{decision:?}");
        assert_eq!(decision.exit_code(), exit::PASS);
        let names: Vec<_> = decision.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["cycles", "junit", "documented commands", "command discovery", "ADRs", "secrets in docs"]);
    }

    fn junit_reasons(junit: JunitEvidence) -> Vec<String> {
        let decision = judge(vec![ok(A); 5], junit, &clean_lints());
        assert_eq!(decision.exit_code(), exit::REFUSED);
        decision.reasons().map(ToString::to_string).collect()
    }

    #[test]
    fn a_junit_report_of_another_run_does_not_vouch_for_the_cycles() {
        let JunitEvidence::Read(mut junit) = passing_junit(5) else { unreachable!() };
        for run in &mut junit.runs {
            run.span = Some(("2026-11-25T09:00:00Z".parse().unwrap(), Duration::from_secs(600)));
        }
        let reasons = junit_reasons(JunitEvidence::Read(junit));
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert_eq!(
            reasons[0],
            "cycle 1 (started 2026-11-26T10:00:00Z) is not one of the runs junit.xml reports: the report comes from another nextest run; run `cargo nextest run -p lab --profile promotion --stress-count 5 -E 'test(recreate_cycle)'`"
        );
    }

    #[test]
    fn a_missing_junit_report_is_refused_with_the_command_that_writes_it() {
        assert_eq!(
            junit_reasons(JunitEvidence::Missing("target/nextest/promotion/junit.xml".into())),
            [
                "no JUnit report at target/nextest/promotion/junit.xml: run `cargo nextest run -p lab --profile promotion --stress-count 5 -E 'test(recreate_cycle)'`"
            ]
        );
    }

    #[test]
    fn a_stress_run_without_fail_fast_that_exited_0_is_still_refused_for_its_failed_iteration() {
        // `cargo nextest run --stress-count 6 --no-fail-fast` (nextest 0.9.143) exits 0 when the
        // first iteration failed and the last passed: its JUnit is what counts, every iteration.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).unwrap().join("tests/fixtures/junit/stress-no-fail-fast-first-failed.xml");
        let mut junit = junit::read(&path).unwrap();
        assert_eq!(junit.runs.len(), 6);
        // The ledger's cycles ran during those iterations.
        for run in &mut junit.runs {
            run.span = Some(("2026-11-26T09:59:00Z".parse().unwrap(), Duration::from_secs(600)));
        }
        let reasons = junit_reasons(JunitEvidence::Read(junit));
        assert_eq!(
            reasons,
            ["fresh_cluster_validation::recreate_cycle failed in lab::suites (stress run 1): cycle failed in phase argocd: traefik Degraded"]
        );
    }

    #[test]
    fn a_failed_stress_iteration_in_the_junit_is_refused() {
        let JunitEvidence::Read(mut junit) = passing_junit(5) else { unreachable!() };
        junit.runs[2].outcome = Outcome::Failed("traefik Degraded".into());
        assert_eq!(
            junit_reasons(JunitEvidence::Read(junit)),
            [
                "junit.xml shows 4 passing fresh_cluster_validation::recreate_cycle runs for lab, 5 required",
                "fresh_cluster_validation::recreate_cycle failed in lab::suites (stress run 3): traefik Degraded",
            ]
        );
    }

    #[test]
    fn a_run_that_passed_only_on_retry_is_refused() {
        let JunitEvidence::Read(mut junit) = passing_junit(6) else { unreachable!() };
        junit.runs[0].outcome = Outcome::Flaky("etcd timeout".into());
        assert_eq!(
            junit_reasons(JunitEvidence::Read(junit)),
            ["fresh_cluster_validation::recreate_cycle passed only on retry in lab::suites (stress run 1) (first attempt: etcd timeout)"]
        );
    }

    #[test]
    fn recreate_cycles_of_another_environment_do_not_count() {
        let JunitEvidence::Read(mut junit) = passing_junit(5) else { unreachable!() };
        for run in &mut junit.runs {
            run.binary = "dev::suites".into();
        }
        assert_eq!(
            junit_reasons(JunitEvidence::Read(junit)),
            [
                "junit.xml has no fresh_cluster_validation::recreate_cycle run for lab: run `cargo nextest run -p lab --profile promotion --stress-count 5 -E 'test(recreate_cycle)'`"
            ]
        );
    }

    #[test]
    fn a_lint_problem_is_refused_and_long_lists_are_cut() {
        let mut lints = clean_lints();
        lints[0].problems = (1..=12).map(|i| format!("docs/commands.md:{i}: validated on 1 environment (lab), 2 required")).collect();
        let decision = judge(vec![ok(A); 5], passing_junit(5), &lints);
        let reasons: Vec<String> = decision.reasons().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 11);
        assert_eq!(reasons[0], "docs/commands.md:1: validated on 1 environment (lab), 2 required");
        assert_eq!(reasons[10], "and 2 more problems");
        assert!(!decision.checks[2].passed() && decision.checks[3].passed(), "{decision:?}");
    }

    #[rstest]
    #[case(&[3], "cycle 3")]
    #[case(&[1, 2], "cycles 1–2")]
    #[case(&[1, 3, 4, 5], "cycles 1, 3–5")]
    fn cycle_numbers_read_as_ranges(#[case] numbers: &[usize], #[case] expected: &str) {
        assert_eq!(cycle_numbers(numbers), expected);
    }

    #[rstest]
    #[case(850, "850ms")]
    #[case(1_499, "1s")]
    #[case(1_443_400, "24m 3s")]
    #[case(30 * MIN, "30m")]
    fn durations_read_to_the_second(#[case] ms: u64, #[case] expected: &str) {
        assert_eq!(millis(ms), expected);
    }
}
