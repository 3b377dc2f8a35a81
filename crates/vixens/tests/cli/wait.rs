//! `vixens wait ENV` on private labs: the recreate cycle's readiness judge after a manual apply,
//! with the cycle's progress lines; a healthy lab converges (exit 0), a Degraded app fails it
//! naming the app (exit 1), an environment that cannot be loaded cannot run (exit 2).

use vixens_ops::instance::Instance;
use vixens_testkit::{lab_env, vixens_command};

/// A private lab with `faults`, up.
fn lab(faults: &[&str]) -> Instance {
    let builder = faults.iter().fold(Instance::builder(lab_env()), |b, f| b.fault(f));
    builder.up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

/// `vixens wait <lab env.yaml> ARGS` on `lab`: exit code, stdout, stderr.
fn wait(lab: &Instance, args: &[&str]) -> (i32, String, String) {
    let out = vixens_command().arg("wait").arg(lab_env()).args(args).envs(lab.vars()).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn wait_passes_once_every_system_app_of_a_healthy_lab_converged() {
    let lab = lab(&[]);
    let (code, stdout, stderr) = wait(&lab, &["--progress-every", "1s"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("lab: system_apps_healthy ") && lines[0].ends_with(" started (budget 2m)"), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("  kubernetes-api: passed in ")), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("  argocd: started (budget ")), "{stdout}");
    assert!(lines.iter().any(|l| l.starts_with("  argocd: passed in ")), "{stdout}");
    assert!(lines.last().unwrap().starts_with("lab: system_apps_healthy passed in "), "{stdout}");
    assert_eq!(stderr, "");
}

#[test]
fn wait_fails_naming_a_degraded_app_with_exit_1() {
    let lab = lab(&["app-degraded=traefik"]);
    let (code, stdout, stderr) = wait(&lab, &["--progress-every", "1s"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("(culprit traefik)\n"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("  argocd: FAILED in ")), "{stdout}");
    assert!(stderr.starts_with("error: argocd: traefik has been Degraded for "), "{stderr}");
    assert!(stderr.contains("(culprit traefik)\nartifacts: "), "{stderr}");
}

#[test]
fn wait_times_out_with_exit_1_naming_the_apps_still_waiting() {
    let lab = lab(&["app-stuck=keda"]);
    // Long enough for the rest of the tree to bootstrap on a loaded machine.
    let (code, stdout, stderr) = wait(&lab, &["--timeout", "10s", "--progress-every", "1s"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.starts_with("error: argocd: timed out after 10s with "), "{stderr}");
    assert!(stderr.contains("\n  keda: Progressing: ") && stderr.contains("(culprit keda)\n"), "{stderr}");
}

#[test]
fn wait_cannot_run_on_an_unknown_environment() {
    let out = vixens_command().args(["wait", "no-such-env"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no environment named `no-such-env`"));
}
