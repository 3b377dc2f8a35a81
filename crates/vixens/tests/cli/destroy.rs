//! `vixens destroy`: exit codes, the protected-environment refusal without any set-up, and a
//! destroy of a private lab interrupted by SIGTERM, which leaves the state and its backups
//! consistent and can simply be run again. (The confirmation, backup and protected-storage
//! scenarios run in the `destroy_safety` suite of each environment package.)

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use vixens_diagnostic::error_chain;
use vixens_drivers::terraform::{Run, State};
use vixens_ops::binaries;
use vixens_ops::destroy;
use vixens_ops::destroy::backup::{self, Store};
use vixens_ops::instance::Instance;
use vixens_testkit::lab_env;

fn lab() -> Instance {
    lab_with(&[])
}

/// A private lab with `faults`, up.
fn lab_with(faults: &[&str]) -> Instance {
    let builder = faults.iter().fold(Instance::builder(lab_env()), |builder, fault| builder.fault(fault));
    builder.up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

/// What the lab prints while its destroy is under way (its `slow-destroy` fault): a signal sent
/// then lands during the apply of the checked plan, never before or after it.
const APPLY_UNDER_WAY: &str = "fault slow-destroy: stopping the lab in";

fn vixens(instance: &Instance) -> std::process::Command {
    let mut command = vixens_testkit::vixens_command();
    command.args(["destroy"]).arg(lab_env()).args(["--confirm", "lab"]).envs(instance.vars());
    command
}

/// A `vixens destroy` running in the background, its stdout lines arriving on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(instance: &Instance) -> Self {
        let mut child = vixens(instance).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// Waits for a progress line holding `line`.
    fn wait_for(&mut self, line: &str) {
        while !self.seen.iter().any(|l| l.contains(line)) {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("vixens destroy never printed {line:?}; it printed:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn sigterm(&self) {
        self.signal(rustix::process::Signal::TERM);
    }

    fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, signal).unwrap();
    }

    /// (exit code, stdout, stderr) once it exits.
    fn finish(mut self) -> (i32, String, String) {
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        self.seen.extend(self.lines.iter());
        (status.code().unwrap_or(-1), self.seen.join("\n"), stderr)
    }
}

fn state(instance: &Instance) -> Vec<u8> {
    instance.terraform().state_pull(Run::within(Duration::from_secs(60))).unwrap().bytes
}

/// `vixens-lab status`: 0 while the lab runs, 3 once stopped.
fn lab_status(instance: &Instance) -> i32 {
    let lab = binaries::binaries().unwrap().vixens_lab;
    let state_dir = instance.env().work_dir.join("state");
    std::process::Command::new(lab).args(["status", "--state-dir"]).arg(state_dir).output().unwrap().status.code().unwrap_or(-1)
}

/// Every backup of the lab verifies on its own and belongs to `lineage`; no partial file is left.
#[track_caller]
fn assert_backups_consistent(instance: &Instance, lineage: &str) -> Vec<PathBuf> {
    let store = Store::for_env(instance.env());
    let backups = store.list().unwrap();
    for path in &backups {
        let backup = backup::verify(path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(backup.lineage, lineage, "{}", path.display());
    }
    let leftovers: Vec<_> =
        std::fs::read_dir(store.dir()).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().ends_with(".partial")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    backups
}

/// The S3 backend's lock object, next to the state in the NAS's state bucket.
fn lock_file(instance: &Instance) -> PathBuf {
    instance.env().work_dir.join("nas/buckets/terraform-state-lab/terraform.tfstate.tflock")
}

#[test]
fn help_documents_the_exit_codes() {
    let out = vixens_testkit::vixens_command().args(["destroy", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for line in
        ["0    destroyed", "1    refused, nothing changed", "2    cannot destroy safely", "3    the destroy ran and failed", "130  interrupted"]
    {
        assert!(help.contains(line), "{line:?} missing from:\n{help}");
    }
}

#[test]
fn a_protected_environment_is_refused_even_with_a_matching_confirmation_and_no_setup() {
    // prod's variables are not set on this machine: the refusal needs none of them.
    let out = vixens_testkit::vixens_command().args(["destroy", "prod", "--confirm", "prod"]).env("VIXENS_CONFIRM_DESTROY", "prod").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "", "nothing was started");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "vixens destroy prod: refused: `prod` is a protected environment (kind: protected in its env.yaml): it is never destroyed, whatever the flags\nnothing was changed\n"
    );
}

#[test]
fn a_destroy_interrupted_by_sigterm_before_the_apply_destroys_nothing_and_running_again_works() {
    let lab = lab();
    let before = state(&lab);
    let lineage = State::parse(&before).unwrap().lineage;

    let mut running = Running::start(&lab);
    running.wait_for("==> terraform plan -destroy");
    running.sigterm();
    let (code, stdout, stderr) = running.finish();
    assert_eq!(code, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("interrupt received: stopping after the step under way"), "{stderr}");
    assert!(
        stderr.contains("vixens destroy lab: interrupted before ")
            && stderr.contains("nothing was destroyed; the state and its backups are consistent"),
        "{stderr}"
    );
    assert!(!stdout.contains("==> terraform apply"), "{stdout}");
    assert_eq!(state(&lab), before, "the state is unchanged");
    assert_eq!(lab_status(&lab), 0, "the lab still runs");
    assert!(!lock_file(&lab).exists(), "no state lock is left behind");
    assert_eq!(assert_backups_consistent(&lab, &lineage).len(), 1);

    let out = vixens(&lab).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "==> the state backup",
        "==> the check of the destroy plan",
        "    allowed: 1 resource to destroy, none protected",
        "==> the protected inventory after destroy",
    ] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} missing from:\n{stdout}");
    }
    assert!(stdout.lines().last().unwrap().starts_with("destroyed `lab` in "), "{stdout}");
    assert_eq!(lab_status(&lab), 3, "the lab is down");
    assert_eq!(assert_backups_consistent(&lab, &lineage).len(), 2);
}

#[test]
fn a_sigterm_during_the_apply_lets_the_checked_plan_finish() {
    let lab = lab_with(&["slow-destroy=2"]);
    let lineage = State::parse(&state(&lab)).unwrap().lineage;

    let mut running = Running::start(&lab);
    running.wait_for(APPLY_UNDER_WAY);
    running.sigterm();
    let (code, stdout, stderr) = running.finish();
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("the checked destroy plan is being applied: it runs to its end"), "{stderr}");
    assert!(stdout.contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."), "{stdout}");
    assert_eq!(lab_status(&lab), 3, "the lab is down");
    assert!(!lock_file(&lab).exists());
    let after = State::parse(&state(&lab)).unwrap();
    assert!(after.resources.is_empty() && after.lineage == lineage, "{after:?}");

    let out = vixens(&lab).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("nothing to destroy in `lab`"), "{stdout}");
    assert_eq!(assert_backups_consistent(&lab, &lineage).len(), 2);
}

/// `vixens destroy lab --confirm lab` on the lab of `work` (a `VIXENS_WORK_DIR`), from the
/// workspace.
fn destroy_lab_in(work: &std::path::Path) -> std::process::Command {
    let lab = binaries::binaries().expect("the harness binaries build").vixens_lab;
    let mut command = vixens_testkit::vixens_command();
    command
        .current_dir(vixens_testkit::workspace())
        .args(["destroy", "lab", "--confirm", "lab"])
        .env("VIXENS_WORK_DIR", work)
        .env("VIXENS_LAB_BIN", lab);
    command
}

#[test]
fn a_destroy_while_a_test_holds_the_environment_is_refused_naming_the_test() {
    // As during a recreate cycle: the test holds the lab's lease. The destroy used to run anyway,
    // and the cycle then failed in argocd blaming the wrong culprit, into the ledger.
    let work = tempfile::tempdir().unwrap();
    let _cycle = vixens_ops::lease::Lease::acquire(
        &work.path().join("lab"),
        "fresh_cluster_validation::recreate_cycle",
        None,
        vixens_ops::lease::DEFAULT_WAIT,
        |item, _| panic!("nothing is stale, yet {item} was undone"),
    )
    .unwrap();
    let out = destroy_lab_in(work.path()).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("vixens destroy lab (") && stdout.lines().count() == 1, "nothing was started: {stdout}");
    assert!(
        stderr.starts_with("vixens destroy lab: refused: ")
            && stderr.contains(&format!(" is in use by pid {} (fresh_cluster_validation::recreate_cycle, since ", std::process::id()))
            && stderr.ends_with("two runs must not touch one environment at once\nnothing was changed\n"),
        "{stderr}"
    );
}

/// A workspace holding the repository's prod env.yaml and a copy of it: `kind: disposable`,
/// another name, no `protected` section of its own. Its variables point at folders of the
/// workspace, and terraform at a stand-in that leaves a marker if it is ever run.
struct ProdCopy {
    dir: tempfile::TempDir,
}

impl ProdCopy {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let prod = std::fs::read_to_string(vixens_testkit::workspace().join("environments/prod/env.yaml")).unwrap();
        let protected = prod.find("\nprotected:").unwrap();
        let backup = prod.find("\nstate-backup:").unwrap();
        let copy = format!("{}{}", &prod[..protected], &prod[backup..]).replace("name: prod\nkind: protected", "name: prod-copy\nkind: disposable");
        assert!(copy.contains("kind: disposable"), "the copy must differ from prod only where it should");
        for (name, text) in [("prod", prod.as_str()), ("prod-copy", copy.as_str())] {
            std::fs::create_dir_all(dir.path().join("environments").join(name)).unwrap();
            std::fs::write(dir.path().join("environments").join(name).join("env.yaml"), text).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("tf/terraform/environments/prod")).unwrap();
        let stand_in = dir.path().join("terraform");
        std::fs::write(&stand_in, format!("#!/bin/sh\ntouch {}/terraform-was-run\nexit 1\n", dir.path().display())).unwrap();
        std::fs::set_permissions(&stand_in, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        Self { dir }
    }

    fn vixens(&self, args: &[&str]) -> std::process::Output {
        let root = self.dir.path();
        let mut command = vixens_testkit::vixens_command();
        command.current_dir(root).args(args);
        for (name, value) in [
            ("VIXENS_REPO", root.display().to_string()),
            ("VIXENS_TERRAFORM_REPO", root.join("tf").display().to_string()),
            ("VIXENS_SECRETS", root.join("secrets").display().to_string()),
            ("VIXENS_TERRAFORM_BINARY", root.join("terraform").display().to_string()),
            ("VIXENS_WORK_DIR", root.join("work").display().to_string()),
        ] {
            command.env(name, value);
        }
        for name in ["CP1", "CP2", "CP3", "W1", "W2", "VIP"] {
            command.env(format!("VIXENS_PROD_{name}"), "192.0.2.10");
        }
        for name in ["VIXENS_NAS_ADDRESS", "VIXENS_MINIO_ENDPOINT", "VIXENS_MINIO_ACCESS_KEY", "VIXENS_MINIO_SECRET_KEY"] {
            command.env(name, "http://192.0.2.20:9000");
        }
        command.output().unwrap()
    }
}

#[test]
fn a_copy_of_prod_saying_disposable_is_refused_before_any_terraform_call() {
    // It used to go through the backup, the plan and the guard; only an unreachable MinIO
    // stopped it.
    let workspace = ProdCopy::new();
    let out = workspace.vixens(&["destroy", "prod-copy", "--confirm", "prod-copy"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let root = std::fs::canonicalize(workspace.dir.path()).unwrap();
    assert_eq!(
        stderr,
        format!(
            "vixens destroy prod-copy: refused: `prod-copy` is the protected environment `prod` under another name: its terraform root \
             {0}/tf/terraform/environments/prod is `prod`'s ({0}/environments/prod/env.yaml, kind: protected): it is never destroyed, \
             whatever its own env.yaml says\nnothing was changed\n",
            root.display()
        )
    );
    assert!(!workspace.dir.path().join("terraform-was-run").exists(), "terraform was started");
}

#[test]
fn check_plan_applies_the_protections_of_the_protected_environment_a_copy_is() {
    let workspace = ProdCopy::new();
    let plan = vixens_testkit::fixture("plans/modules-count-for-each.json");
    let out = workspace.vixens(&["check-plan", "--env", "prod-copy", plan.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // `*terraform_state*` is prod's own address glob: the copy has no `protected` section.
    assert!(stdout.contains("module.nas.terraform_data.export[\"terraform_state\"] (delete; protected address `*terraform_state*`)"), "{stdout}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("note: its terraform root ") && stderr.contains("its protections apply to `prod-copy` too"), "{stderr}");
}

#[test]
fn credentials_in_an_endpoint_never_reach_the_output() {
    // A root with one resource, applied, and a state-bucket check at an endpoint that carries
    // its credentials (as a VIXENS_MINIO_ENDPOINT may) and does not answer.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("terraform");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
    let tf = |args: &[&str]| {
        let out = std::process::Command::new("terraform")
            .arg(format!("-chdir={}", root.display()))
            .args(args)
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    tf(&["init", "-input=false"]);
    tf(&["apply", "-auto-approve", "-input=false"]);
    let env_yaml = "name: creds\nkind: disposable\ninfra-repo: .\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
                    nodes: []\nargocd:\n  system-apps: {max-sync-wave: 2}\nprotected:\n  inventory:\n    - kind: s3-bucket\n      name: state bucket\n\
                    \x20     endpoint: ${VIXENS_MINIO_ENDPOINT}\n      bucket: terraform-state-creds\n";
    std::fs::write(dir.path().join("env.yaml"), env_yaml).unwrap();
    let destroy = |endpoint: &str| {
        let out = vixens_testkit::vixens_command()
            .arg("destroy")
            .arg(dir.path().join("env.yaml"))
            .args(["--confirm", "creds"])
            .env("VIXENS_MINIO_ENDPOINT", endpoint)
            .output()
            .unwrap();
        let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{output}");
        assert!(output.contains("cannot take the protected inventory before destroy: nothing was destroyed"), "{output}");
        assert!(!output.contains("hunter2") && !output.contains("minio-admin"), "{output}");
        output
    };
    let output = destroy("http://minio-admin:hunter2-s3cr3t@127.0.0.1:9");
    assert!(output.contains("http://[REDACTED:endpoint-credentials]@127.0.0.1:9/terraform-state-creds"), "{output}");
    // Without its scheme, no URL rule sees the credentials: they are the environment's secrets.
    let output = destroy("minio-admin:hunter2-s3cr3t@127.0.0.1:9");
    assert!(output.contains(r#"endpoint "[REDACTED:endpoint-credentials]@127.0.0.1:9" is not an http://"#), "{output}");
}

/// The `.destroy-plan-*` folders in `instance`'s work dir.
fn plan_dirs(instance: &Instance) -> Vec<String> {
    std::fs::read_dir(&instance.env().work_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".destroy-plan-"))
        .collect()
}

#[test]
fn two_sigints_during_the_apply_let_the_checked_plan_finish_and_leave_no_plan_folder() {
    let lab = lab_with(&["slow-destroy=2"]);
    // What a destroy killed with SIGKILL leaves: the next destroy, holding the lease, removes it.
    std::fs::create_dir_all(lab.env().work_dir.join(".destroy-plan-killed")).unwrap();
    let mut running = Running::start(&lab);
    running.wait_for(APPLY_UNDER_WAY);
    running.signal(rustix::process::Signal::INT);
    running.signal(rustix::process::Signal::INT);
    let (code, stdout, stderr) = running.finish();
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("the checked destroy plan is being applied: it runs to its end"), "{stderr}");
    assert!(stdout.contains("Apply complete! Resources: 0 added, 0 changed, 1 destroyed."), "{stdout}");
    assert_eq!(lab_status(&lab), 3, "the lab is down");
    assert!(!lock_file(&lab).exists());
    assert_eq!(plan_dirs(&lab), Vec::<String>::new());
}

#[test]
fn a_second_signal_before_the_apply_stops_terraform_and_leaves_nothing_behind() {
    let lab = lab();
    let before = state(&lab);
    let mut running = Running::start(&lab);
    running.wait_for("==> terraform plan -destroy");
    running.signal(rustix::process::Signal::INT);
    running.signal(rustix::process::Signal::INT);
    let (code, stdout, stderr) = running.finish();
    assert_eq!(code, 130, "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The plan may finish before the second signal arrives: then the destroy stops before the
    // next step instead of during this one.
    assert!(
        stderr.contains("stopped during terraform plan -destroy by a second signal: nothing was destroyed")
            || stderr.contains("interrupted before the check of the destroy plan: nothing was destroyed"),
        "{stderr}"
    );
    assert!(!stdout.contains("==> terraform apply"), "{stdout}");
    assert_eq!(state(&lab), before, "the state is unchanged");
    assert!(!lock_file(&lab).exists(), "terraform released its state lock");
    assert_eq!(plan_dirs(&lab), Vec::<String>::new());
    assert_eq!(lab_status(&lab), 0, "the lab still runs");
}

/// The safe destroy of `instance`, run as the recreate cycle runs it, with a destroy budget of
/// `budget` and a hard ceiling of `ceiling`.
fn destroy_within(instance: &Instance, budget: Duration, ceiling: Duration) -> Result<destroy::Outcome, destroy::Error> {
    let mut env = instance.env().clone();
    env.budgets.phases.destroy = budget;
    env.budgets.destroy_ceiling = ceiling;
    let lease = instance.lease("cli::destroy").unwrap();
    let options = destroy::unattended::options(&env, &env.redactor(), None, budget);
    destroy::run(&env, lease.held(), &options, |_| {})
}

#[test]
fn a_destroy_over_its_budget_applies_the_checked_plan_to_its_end() {
    // `vixens-lab down`, run by the destroy-time provisioner, takes 14 s: past the 10 s budget
    // (which leaves a loaded machine room for the steps before the apply).
    let lab = lab_with(&["slow-destroy=14"]);
    let lineage = State::parse(&state(&lab)).unwrap().lineage;
    let outcome = destroy_within(&lab, Duration::from_secs(10), Duration::from_secs(120)).unwrap_or_else(|e| panic!("{}", error_chain(&e)));
    assert_eq!(outcome.destroyed.map(|s| s.destroyed), Some(1));
    let over = outcome.overrun().expect("the destroy went over its budget");
    assert!(outcome.elapsed >= Duration::from_secs(14) && over == outcome.elapsed - Duration::from_secs(10), "{outcome:?}");
    // No half-destroyed state: the state is empty, the lab is down, the backup consistent.
    let after = State::parse(&state(&lab)).unwrap();
    assert!(after.resources.is_empty() && after.lineage == lineage, "{after:?}");
    assert_eq!(lab_status(&lab), 3, "the lab is down");
    assert_eq!(assert_backups_consistent(&lab, &lineage).len(), 1);
}

#[test]
fn the_hard_ceiling_stops_the_apply_and_names_what_the_state_still_holds() {
    // The ceiling may be the budget itself: the apply is then stopped at the budget.
    let lab = lab_with(&["slow-destroy=14"]);
    let lineage = State::parse(&state(&lab)).unwrap().lineage;
    let error = destroy_within(&lab, Duration::from_secs(10), Duration::from_secs(10)).expect_err("the ceiling stops the apply");
    let message = error_chain(&error);
    assert_eq!(error.exit_code(), destroy::exit::FAILED, "{message}");
    assert!(
        message.starts_with(
            "terraform apply of the checked destroy plan was stopped at the hard ceiling of 10s (budgets.destroy-ceiling): \
             the state, pulled afterwards, still holds 1 resource: module.lab.terraform_data.lab; run the destroy again to finish it"
        ),
        "{message}"
    );
    let failure = destroy::unattended::destroy_failure(&error);
    assert_eq!((failure.phase.as_str(), failure.culprit.as_str()), ("destroy", "budgets.destroy-ceiling"));
    // terraform was stopped, not killed halfway through writing: the state reads, whole.
    let after = State::parse(&state(&lab)).unwrap();
    assert_eq!((after.addresses(), after.lineage), (vec!["module.lab.terraform_data.lab".to_owned()], lineage));
}

#[test]
fn the_user_s_terraformrc_is_read_by_every_terraform_the_destroy_runs() {
    // ~/.terraformrc holds provider mirrors and credentials; this one a development override
    // that terraform announces on every init and plan.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".terraformrc"),
        "provider_installation {\n  dev_overrides {\n    \"example.invalid/vixens/never\" = \"/nonexistent\"\n  }\n  direct {}\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("terraform")).unwrap();
    std::fs::write(dir.path().join("terraform/main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
    for args in [&["init", "-input=false"][..], &["apply", "-auto-approve", "-input=false"]] {
        let out = std::process::Command::new("terraform").arg("-chdir=terraform").args(args).current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let env_yaml = "name: rc\nkind: disposable\ninfra-repo: .\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
                    nodes: []\nargocd:\n  system-apps: {max-sync-wave: 2}\n";
    std::fs::write(dir.path().join("env.yaml"), env_yaml).unwrap();
    // TF_CLI_CONFIG_FILE is unset (the test kit removes it): terraform reads ~/.terraformrc.
    let out = vixens_testkit::vixens_command()
        .arg("destroy")
        .arg(dir.path().join("env.yaml"))
        .args(["--confirm", "rc"])
        .env("HOME", &home)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let warned = stdout.lines().filter(|l| l.contains("Provider development overrides are in effect")).count();
    assert!(warned >= 2, "init and plan read ~/.terraformrc:\n{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("destroyed `rc` in "), "{stdout}");
}
