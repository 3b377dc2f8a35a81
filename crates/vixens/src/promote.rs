//! `vixens promote`: gathers the evidence (ledger, revision, JUnit, lints), asks the gate, prints
//! its verdict and exits 0 (pass), 1 (refused) or 2 (error).

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;

use vixens_checks::promote::{self, CheckResult, Decision, Gathered, Request, exit};
use vixens_diagnostic::error_chain;
use vixens_drivers::redact::Redactor;
use vixens_ops::env::Environment;

const EXIT_CODES: &str = "\
Exit status:
  0  promotion passes: every check passed
  1  promotion refused: the output says which check, cycle, phase and culprit
  2  error: the evidence could not be read (env.yaml, ledger, JUnit, git)";

/// Decide whether an environment's infrastructure revision may be promoted.
///
/// PASS only if the last N cycles of the evidence ledger are consecutive successes on the
/// revision being promoted (and on the Terraform repository's current revision), each within
/// budget; the nextest JUnit shows the recreate-cycle runs
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
    /// The Terraform revision the cycles must have run on, when the Terraform repository
    /// (`terraform.repo`) is not the infrastructure repository [default: its HEAD].
    #[arg(long, value_name = "REV")]
    pub terraform_revision: Option<String>,
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
        Ok((_, gathered)) => {
            print!("{}", render(&gathered.decision, &gathered.redactor));
            ExitCode::from(gathered.decision.exit_code())
        }
        Err(code) => code,
    }
}

impl EvidenceArgs {
    fn request(&self) -> Request {
        Request {
            revision: self.revision.clone(),
            terraform_revision: self.terraform_revision.clone(),
            cycles: self.cycles,
            junit: self.junit.clone(),
        }
    }
}

/// The environment, its workspace root, and the evidence read and judged; on failure the
/// problem is printed and the exit code is 2.
pub fn gather(args: &EvidenceArgs) -> Result<(Loaded, Gathered), ExitCode> {
    let file = crate::environment::resolve(&args.env)?;
    let env = crate::environment::load_file(&file)?;
    let root = crate::environment::root_of(&file);
    match promote::gather(&env, &root, &args.request()) {
        Ok(gathered) => Ok((Loaded { env, root }, gathered)),
        Err(error) => {
            eprintln!("vixens promote: {}", error_chain(&error));
            Err(ExitCode::from(exit::ERROR))
        }
    }
}

/// The environment the evidence is about, and the workspace its default paths are relative to.
pub struct Loaded {
    pub env: Environment,
    pub root: PathBuf,
}

/// The verdict as printed: a headline, then one line per check with every reason, then the
/// artifact folder of each failed cycle.
pub fn render(decision: &Decision, redactor: &Redactor) -> String {
    let verdict = if decision.passed() { "PASS" } else { "REFUSED" };
    let mut out = format!("promotion of {} at revision {}: {verdict}\n", decision.environment, decision.headline());
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
