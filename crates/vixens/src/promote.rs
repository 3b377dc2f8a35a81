//! `vixens promote`: gathers the evidence (ledger, revision, JUnit, lints), asks the gate, prints
//! its verdict and exits 0 (pass), 1 (refused) or 2 (error).

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use vixens_checks::promote::{self, CheckResult, Decision, Evidence, JunitEvidence, Ledger, LintOutcome, exit};
use vixens_drivers::redact::Redactor;
use vixens_ops::env::Environment;
use vixens_ops::evidence::CycleRecord;

const EXIT_CODES: &str = "\
Exit status:
  0  promotion passes: every check passed
  1  promotion refused: the output says which check, cycle, phase and culprit
  2  error: the evidence could not be read (env.yaml, ledger, JUnit, git)";

/// Decide whether an environment's infrastructure revision may be promoted.
///
/// PASS only if the last N cycles of the evidence ledger are consecutive successes on the
/// revision being promoted, each within budget; the nextest JUnit shows the recreate-cycle runs
/// passing; documented commands are each validated on at least 2 environments; ADRs are clean.
#[derive(clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// What the gate reads; shared with `vixens report`, which renders the same verdict.
#[derive(clap::Args)]
pub struct EvidenceArgs {
    /// The environment: a name under environments/ (lab, dev, prod), or a path to its env.yaml.
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The infrastructure revision being promoted (commit, tag or branch)
    /// [default: the infrastructure repository's HEAD].
    #[arg(long, value_name = "REV")]
    pub revision: Option<String>,
    /// Consecutive successful cycles required [default: env.yaml's cycles-required].
    #[arg(long, value_name = "N")]
    pub cycles: Option<NonZeroU32>,
    /// The nextest JUnit report [default: target/nextest/promotion/junit.xml, else
    /// target/nextest/ci/junit.xml].
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    match gather(&args.evidence) {
        Ok(gathered) => {
            print!("{}", render(&gathered.decision, &gathered.redactor));
            ExitCode::from(gathered.decision.exit_code())
        }
        Err(error) => {
            eprintln!("vixens promote: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

/// The evidence read and judged.
pub struct Gathered {
    pub env: Environment,
    /// The folder holding `environments/` when the environment was named, else the current one.
    pub root: PathBuf,
    pub records: Vec<CycleRecord>,
    pub junit: Option<PathBuf>,
    pub cycles_required: NonZeroU32,
    pub decision: Decision,
    pub redactor: Redactor,
}

/// Reads everything the gate judges, and judges it.
pub fn gather(args: &EvidenceArgs) -> anyhow::Result<Gathered> {
    let (env, root) = load_environment(&args.env)?;
    let redactor = env.redactor();
    let revision = promote::revision::resolve(&env.infra_repo, args.revision.as_deref())?;
    let records = vixens_ops::evidence::read(&env.evidence.ledger)?;
    let junit_path = args.junit.clone().unwrap_or_else(|| default_junit(&root));
    let junit = match promote::junit::read(&junit_path) {
        Ok(junit) => JunitEvidence::Read(junit),
        Err(promote::junit::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => JunitEvidence::Missing(junit_path.clone()),
        Err(error) => return Err(error.into()),
    };
    let cycles_required = args.cycles.unwrap_or(env.cycles_required);
    let ledger = Ledger { path: env.evidence.ledger.clone(), records };
    let lints = lints(&env);
    let decision = promote::decide(&Evidence {
        environment: &env.name,
        revision: &revision,
        cycles_required: cycles_required.get(),
        budget: env.budgets.recreate,
        ledger: &ledger,
        junit: &junit,
        lints: &lints,
    });
    let junit = matches!(junit, JunitEvidence::Read(_)).then_some(junit_path);
    Ok(Gathered { env, root, records: ledger.records, junit, cycles_required, decision, redactor })
}

/// The repository lints the gate requires, run on the infrastructure repository.
///
/// Until the documented-commands check (issue 6) is in this build, it is reported as a refusal
/// saying so: a check that did not run never counts as passed.
fn lints(env: &Environment) -> Vec<LintOutcome> {
    vec![promote::lints::documented_commands(&env.infra_repo), promote::lints::adrs(&env.infra_repo)]
}

/// The verdict as printed: a headline, then one line per check with every reason, then the
/// artifact folder of each failed cycle.
pub fn render(decision: &Decision, redactor: &Redactor) -> String {
    let verdict = if decision.passed() { "PASS" } else { "REFUSED" };
    let mut out = format!("promotion of {} at revision {}: {verdict}\n", decision.environment, decision.revision);
    for check in &decision.checks {
        match &check.result {
            CheckResult::Passed(summary) => out.push_str(&format!("  ✓ {}: {summary}\n", check.name)),
            CheckResult::Refused(reasons) => {
                let messages: Vec<&str> = reasons.iter().map(|r| r.message.as_str()).collect();
                out.push_str(&format!("  ✗ {}: {}\n", check.name, messages.join("; ")));
                for reason in reasons {
                    if let Some(artifacts) = &reason.artifacts {
                        out.push_str(&format!("      artifacts: {}\n", artifacts.display()));
                    }
                }
            }
        }
    }
    redactor.redact(&out)
}

/// `ENV` as `vixens_config::resolve` reads it (a name under `environments/`, or a path), loaded.
/// Returns the environment and the workspace root its default paths are relative to: the folder
/// holding `environments/`, else the current folder.
pub fn load_environment(arg: &str) -> anyhow::Result<(Environment, PathBuf)> {
    let file = vixens_config::resolve(arg).map_err(|error| {
        let help = miette::Diagnostic::help(&error).map(|h| format!(" ({h})")).unwrap_or_default();
        anyhow::anyhow!("{error}{help}")
    })?;
    let file = std::path::absolute(&file).context("cannot read the current folder")?;
    let root = match file.ancestors().find(|dir| dir.file_name().is_some_and(|n| n == "environments")) {
        Some(environments) => environments.parent().unwrap_or(Path::new("/")).to_owned(),
        None => std::env::current_dir().context("cannot read the current folder")?,
    };
    let env = Environment::load(&file)?;
    Ok((env, root))
}

/// The promotion profile's JUnit if it exists, else the ci profile's (under `CARGO_TARGET_DIR`
/// or `<root>/target`).
fn default_junit(root: &Path) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let promotion = target.join("nextest/promotion/junit.xml");
    let ci = target.join("nextest/ci/junit.xml");
    if !promotion.exists() && ci.exists() { ci } else { promotion }
}
