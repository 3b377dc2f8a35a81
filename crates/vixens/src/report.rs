//! `vixens report`: the promotion evidence for people, as `<env>.md` and `<env>.html`.

use std::path::PathBuf;
use std::process::ExitCode;

use vixens_checks::promote::exit;
use vixens_checks::report::{Inputs, Report};

use super::promote::{EvidenceArgs, Loaded, gather};
use vixens_checks::promote::Gathered;

/// Write the release report: a Markdown summary and a self-contained HTML page.
///
/// Both show the promotion verdict (the same as `vixens promote`), one row per cycle with its
/// phase durations, total against budget and verdict, p50/p95 per phase, a chart of phase
/// durations across cycles, failures with their artifact folders, tool versions, the revision
/// and a link to the JUnit report. Secrets are redacted and every value is escaped.
#[derive(clap::Args)]
#[command(after_help = "Exit status: 0 when both files are written (whatever the verdict), 2 on error.")]
pub struct Args {
    #[command(flatten)]
    evidence: EvidenceArgs,
    /// Where to write `<env>.md` and `<env>.html` [default: target/vixens/report].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let (loaded, gathered) = match gather(&args.evidence) {
        Ok(gathered) => gathered,
        Err(code) => return code,
    };
    match write(&args, &loaded, &gathered) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vixens report: {}", vixens_diagnostic::error_chain(&error));
            ExitCode::from(exit::ERROR)
        }
    }
}

fn write(args: &Args, loaded: &Loaded, gathered: &Gathered) -> Result<(), vixens_checks::report::Error> {
    let out = args.out.clone().unwrap_or_else(|| loaded.root.join("target/vixens/report"));
    let generated_at = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or_else(|_| jiff::Timestamp::now()).to_string();
    let report = Report::new(
        &Inputs {
            decision: &gathered.decision,
            records: &gathered.records,
            cycles_required: gathered.cycles_required.get(),
            budget_ms: u64::try_from(loaded.env.budgets.recreate.as_millis()).unwrap_or(u64::MAX),
            ledger: &loaded.env.evidence.ledger,
            junit: gathered.junit.as_deref(),
            generated_at: &generated_at,
            harness_version: env!("CARGO_PKG_VERSION"),
        },
        &out,
        &gathered.redactor,
    );
    let written = report.write(&out)?;
    let verdict = if gathered.decision.passed() { "PASS" } else { "REFUSED" };
    println!("promotion verdict for {}: {verdict}", loaded.env.name);
    println!("wrote {}", written.markdown.display());
    println!("wrote {}", written.html.display());
    Ok(())
}
