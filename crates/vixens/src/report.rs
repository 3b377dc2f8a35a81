//! `vixens report`: the promotion evidence for people, as `<env>.md` and `<env>.html`.

use std::path::PathBuf;
use std::process::ExitCode;

use vixens_checks::promote::exit;
use vixens_checks::report::{Inputs, Report};

use super::promote::{EvidenceArgs, gather};

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
    match write(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vixens report: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn write(args: &Args) -> anyhow::Result<()> {
    let gathered = gather(&args.evidence)?;
    let out = args.out.clone().unwrap_or_else(|| gathered.root.join("target/vixens/report"));
    let generated_at = jiff::Timestamp::now().round(jiff::Unit::Second)?.to_string();
    let report = Report::new(
        &Inputs {
            decision: &gathered.decision,
            records: &gathered.records,
            cycles_required: gathered.cycles_required.get(),
            budget_ms: u64::try_from(gathered.env.budgets.recreate.as_millis()).unwrap_or(u64::MAX),
            ledger: &gathered.env.evidence.ledger,
            junit: gathered.junit.as_deref(),
            generated_at: &generated_at,
            harness_version: env!("CARGO_PKG_VERSION"),
        },
        &out,
        &gathered.redactor,
    );
    let written = report.write(&out)?;
    let verdict = if gathered.decision.passed() { "PASS" } else { "REFUSED" };
    println!("promotion verdict for {}: {verdict}", gathered.env.name);
    println!("wrote {}", written.markdown.display());
    println!("wrote {}", written.html.display());
    Ok(())
}
