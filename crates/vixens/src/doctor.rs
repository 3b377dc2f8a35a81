//! `vixens doctor ENV`: the preflight. One line per check, each failure with its remedy.
//!
//! Exit codes: 0 ready (warnings allowed), 1 a required check failed, 2 the environment could
//! not be found or its env.yaml is not usable (rendered as diagnostics on stderr).

use std::process::ExitCode;

use vixens_checks::doctor::{self, Report, Status};

/// Check that an environment can be tested: tools and their versions, configuration files,
/// Kubernetes and Talos APIs.
#[derive(clap::Args)]
pub struct Args {
    /// The environment: a name under environments/ (lab, dev, prod) or the path of an env.yaml.
    env: String,
}

pub fn run(args: Args) -> ExitCode {
    let environment = match crate::environment::load(&args.env) {
        Ok(environment) => environment,
        Err(code) => return code,
    };
    let report = doctor::run(&environment);
    print!("{}", render(&report));
    if report.ready() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn render(report: &Report) -> String {
    let mut out = format!("vixens doctor {} ({})\n", report.env, report.file.display());
    let width = report.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for check in &report.checks {
        let status = match check.status {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        out.push_str(&format!("  {status:<4}  {:<width$}  {}\n", check.name, check.detail));
        if let Some(remedy) = &check.remedy {
            out.push_str(&format!("        {:<width$}  remedy: {remedy}\n", ""));
        }
    }
    let failures = report.failures();
    if failures == 0 {
        out.push_str(&format!("{} is ready to be tested\n", report.env));
    } else {
        out.push_str(&format!("{} is not ready: {failures} required check{} failed\n", report.env, if failures == 1 { "" } else { "s" }));
    }
    out
}
