//! `vixens check-plan --env ENV PLAN.json...`: the destroy guard applied to saved plans, for
//! pull-request checks. One line (or block) per plan; a plan that cannot be read is reported and
//! the others are still checked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vixens_diagnostic::error_chain;
use vixens_diagnostic::input;
use vixens_drivers::terraform::Plan;
use vixens_drivers::terraform::plan::MAX_PLAN_BYTES;
use vixens_ops::destroy::{Verdict, guard};
use vixens_ops::env::{ProcessVars, Protection, protected_environments};

const EXIT_CODES: &str = "\
Exit status:
  0  every plan is allowed: no delete or replace touches a protected resource
  1  at least one plan is refused; each offending address is listed with the rule it breaks
  2  cannot check: the environment cannot be loaded, or a plan file is unreadable, not a regular
     file (a FIFO, a device), over 256 MiB, malformed JSON, not a plan (a state printed by
     `terraform show -json` without a plan file), or of a plan format version this harness does
     not read";

/// Check saved terraform plans against an environment's protected resources.
///
/// Each PLAN.json is the output of `terraform show -json PLANFILE` (a regular file of at most 256
/// MiB, read one at a time: a larger one is refused unread). A plan is refused when a
/// delete or a replace (in either order) touches a protected resource: a resource type of
/// `protected.resource-types` (plus the built-in defaults: Synology/iSCSI LUNs, MinIO/S3 buckets,
/// persistent volumes) or an address of `protected.addresses` in the environment's env.yaml.
/// Only those patterns are read, so variables the rest of env.yaml needs may be left unset.
#[derive(clap::Args)]
#[command(after_help = EXIT_CODES)]
pub struct Args {
    /// The environment whose protections apply: a name under environments/ (lab, dev, prod) or
    /// the path of an env.yaml.
    #[arg(long = "env", value_name = "ENV")]
    env: String,
    /// Plans as JSON (`terraform show -json PLANFILE > PLAN.json`).
    #[arg(value_name = "PLAN.json", required = true)]
    plans: Vec<PathBuf>,
}

const ALLOWED: u8 = 0;
const REFUSED: u8 = 1;
const ERROR: u8 = 2;

pub fn run(args: Args) -> ExitCode {
    let environment = match load(&args.env) {
        Ok(environment) => environment,
        Err(code) => return code,
    };
    let mut worst = ALLOWED;
    for path in &args.plans {
        let code = check(&environment, path);
        worst = worst.max(code);
    }
    ExitCode::from(worst)
}

/// Checks one plan file, prints its verdict, returns its exit code.
fn check(environment: &Protection, path: &Path) -> u8 {
    let shown = path.display();
    let plan = match input::read_to_string(path, MAX_PLAN_BYTES) {
        Ok(text) => Plan::parse(&text).map_err(|e| e.to_string()),
        Err(e) => Err(error_chain(&e)),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(problem) => {
            eprintln!("{shown}: cannot check: {problem}");
            return ERROR;
        }
    };
    match guard::check_plan(&plan, &environment.protected) {
        Verdict::Allowed => {
            let n = plan.destructive_changes().count();
            let destroyed = match n {
                0 => "nothing is destroyed".to_owned(),
                1 => "1 resource destroyed or replaced, none protected".to_owned(),
                n => format!("{n} resources destroyed or replaced, none protected"),
            };
            println!("{shown}: allowed for {}: {destroyed}", environment.name);
            ALLOWED
        }
        Verdict::Refused(refusal) => {
            println!("{shown}: refused for {}: {refusal}", environment.name);
            REFUSED
        }
    }
}

/// The environment, for its protections only: variables the rest of env.yaml needs may be
/// unset (see [`Protection::load`]). An environment that is a protected one under another name
/// (same terraform root, state or cluster) gets that one's protections too.
fn load(name_or_path: &str) -> Result<Protection, ExitCode> {
    let file = crate::environment::resolve(name_or_path)?;
    let mut protection = Protection::load(&file, &ProcessVars).map_err(|e| crate::environment::unusable(&e))?;
    let protected = protected_environments(&protection.file, &ProcessVars);
    if let Some((like, shared)) = guard::protected_like(&protection.identity, &protected) {
        let theirs = Protection::load(&like.file, &ProcessVars).map_err(|e| crate::environment::unusable(&e))?;
        eprintln!(
            "note: {shared} is the protected environment `{}`'s ({}): its protections apply to `{}` too",
            theirs.name,
            like.file.display(),
            protection.name
        );
        for glob in theirs.protected.resource_types {
            if !protection.protected.resource_types.contains(&glob) {
                protection.protected.resource_types.push(glob);
            }
        }
        for glob in theirs.protected.addresses {
            if !protection.protected.addresses.contains(&glob) {
                protection.protected.addresses.push(glob);
            }
        }
    }
    Ok(protection)
}
