//! Nothing the harness starts outlives the run, even when the run is killed: a test session on a
//! private lab runs in a child process under a stand-in nextest runner (`sh`), and the whole
//! run is killed with SIGKILL once the lab is up. The session's janitor then tears the lab down;
//! and when the janitor is killed too, `vixens lease reap` (what the next run's first session
//! does) cleans up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vixens_ops::binaries;
use vixens_ops::lease::{self, Started};
use vixens_ops::session::{Session, Use};
use vixens_testkit::lab_env;

/// Set for the child: the test below then plays the killed test instead of returning at once.
const CHILD_VAR: &str = "VIXENS_TEST_SESSION_CHILD";

/// The variables of a private lab in `work_dir`.
fn vars(work_dir: &Path) -> Vec<(&'static str, String)> {
    let lab = binaries::binaries().expect("the harness binaries build").vixens_lab;
    vec![("VIXENS_WORK_DIR", work_dir.display().to_string()), ("VIXENS_LAB_BIN", lab.display().to_string()), ("VIXENS_LAB_FAULTS", String::new())]
}

/// The killed test: opens a recreate session on the lab its variables describe, then waits to
/// be killed. Run only as the child of the tests below.
#[test]
#[ignore = "the child process of the kill tests below, which run it with --ignored"]
fn a_session_that_is_killed() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let env = vixens_ops::env::Environment::load(lab_env()).expect("the lab loads with the parent's variables");
    let session = Session::open(&env, "a session that is killed", Use::Recreate).expect("the lab comes up");
    // What the suites print in the test's output (vixens_suites::report_reaped).
    println!("{}", session.janitor_notice().unwrap_or_default());
    println!("up");
    std::thread::sleep(Duration::from_secs(600));
    drop(session);
}

/// A stand-in nextest run: `sh` (the runner) running this test binary's killed test.
struct Run {
    runner: Child,
    work: tempfile::TempDir,
}

impl Run {
    fn start() -> Self {
        let work = tempfile::tempdir().unwrap();
        let test = std::env::current_exe().unwrap();
        let output = std::fs::File::create(work.path().join("run-output.txt")).unwrap();
        let runner = Command::new("sh")
            .args(["-c", r#""$0" --exact lease::a_session_that_is_killed --ignored --nocapture --test-threads 1 & wait"#])
            .arg(&test)
            .envs(vars(work.path()))
            .env(CHILD_VAR, "1")
            .env("NEXTEST_RUN_ID", "a-run-that-is-killed")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        let run = Self { runner, work };
        run.wait_until("the lab is up and its lease lists it", |run| {
            run.lab_running() && run.record().is_some_and(|r| r.started.iter().any(|s| matches!(s, Started::Lab { .. })))
        });
        run
    }

    /// What the killed run printed.
    fn output(&self) -> String {
        std::fs::read_to_string(self.work.path().join("run-output.txt")).unwrap_or_default()
    }

    fn state_dir(&self) -> PathBuf {
        self.work.path().join("lab/state")
    }

    fn record(&self) -> Option<lease::Record> {
        lease::read(&self.work.path().join("lab")).unwrap()
    }

    fn lab_running(&self) -> bool {
        let lab = binaries::binaries().unwrap().vixens_lab;
        Command::new(lab).arg("status").arg("--state-dir").arg(self.state_dir()).output().unwrap().status.code() == Some(0)
    }

    /// SIGKILL to the test process under the runner, then to the runner, as when a CI job is
    /// cancelled.
    fn kill(&mut self) {
        let runner = self.runner.id();
        let children = std::fs::read_to_string(format!("/proc/{runner}/task/{runner}/children")).unwrap();
        for child in children.split_whitespace() {
            kill(child.parse().unwrap());
        }
        self.runner.kill().unwrap();
        self.runner.wait().unwrap();
    }

    #[track_caller]
    fn wait_until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(started.elapsed() < Duration::from_secs(120), "{what}: not within 2 minutes; janitor log:\n{}", self.janitor_log());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn janitor_log(&self) -> String {
        std::fs::read_to_string(self.work.path().join("lab").join(lease::cleanup::JANITOR_LOG)).unwrap_or_default()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.runner.kill();
        let lab = binaries::binaries().unwrap().vixens_lab;
        let _ = Command::new(lab).arg("down").arg("--state-dir").arg(self.state_dir()).output();
    }
}

/// SIGKILL to the process `pid` (one this test started).
fn kill(pid: u32) {
    assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
}

/// `vixens lease SUBCOMMAND` on the run's lab: exit code and stdout + stderr.
fn vixens_lease(run: &Run, subcommand: &str) -> (i32, String) {
    let vixens = binaries::binaries().unwrap().vixens;
    let done = Command::new(vixens).args(["lease", subcommand]).arg(lab_env()).envs(vars(run.work.path())).output().unwrap();
    (done.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr)))
}

#[test]
fn when_a_run_is_killed_its_janitor_tears_the_lab_down() {
    let mut run = Run::start();
    let janitor = run.record().unwrap().janitor.expect("a janitor watches the run");
    assert!(janitor.alive());
    let (code, output) = vixens_lease(&run, "reap");
    assert_eq!(code, 1, "a test that is still going keeps its lab: {output}");
    assert!(output.contains(" is in use by pid ") && output.contains(" (a session that is killed, since "), "{output}");
    run.kill();
    run.wait_until("the janitor stops the lab and removes the lease", |run| !run.lab_running() && run.record().is_none());
    let log = run.janitor_log();
    assert!(log.contains("run a-run-that-is-killed is over: undid terraform apply of "), "{log}");
    // The run's own output said, before it was killed, who would undo what and where it says so.
    let output = run.output();
    let janitor_log = run.work.path().join("lab").join(lease::cleanup::JANITOR_LOG);
    assert!(
        output.contains(&format!(
            "vixens: lab is kept up for nextest run a-run-that-is-killed; once the run is over, however it ends, janitor pid {} tears it down and writes what it undid to {}",
            janitor.pid,
            janitor_log.display()
        )),
        "{output}"
    );
}

#[test]
fn when_the_janitor_is_killed_too_the_next_reap_cleans_up() {
    let mut run = Run::start();
    let janitor = run.record().unwrap().janitor.expect("a janitor watches the run");
    kill(janitor.pid);
    run.kill();
    assert!(run.lab_running(), "nobody has cleaned up yet");

    let (code, shown) = vixens_lease(&run, "show");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("  kept up for nextest run a-run-that-is-killed (runner pid ") && shown.contains(", over: stale)\n"), "{shown}");
    assert!(shown.contains(&format!("  janitor pid {} (gone)\n", janitor.pid)), "{shown}");
    assert!(shown.contains("  started: terraform apply of ") && shown.contains(", the lab in "), "{shown}");

    let (code, reaped) = vixens_lease(&run, "reap");
    assert_eq!(code, 0, "{reaped}");
    assert!(reaped.starts_with("lab: undid terraform apply of "), "{reaped}");
    assert!(reaped.contains("(left by pid ") && reaped.ends_with(", a session that is killed)\n"), "{reaped}");
    assert!(!run.lab_running());
    assert!(run.record().is_none());
    assert_eq!(vixens_lease(&run, "reap"), (0, "lab: nothing to reap\n".to_owned()));
}

/// Leaves in `env`'s work dir what a session killed after bringing the lab up leaves: a record
/// listing the terraform apply and the lab, held by nobody.
fn leave_stale_record(env: &vixens_ops::env::Environment) {
    let lab = binaries::binaries().unwrap().vixens_lab;
    let mut lease = lease::Lease::acquire(&env.work_dir, "a session that was killed", None, lease::DEFAULT_WAIT, |item, _| {
        panic!("nothing is stale yet, but {item} was undone")
    })
    .unwrap();
    lease.add(Started::Terraform { root: env.terraform.root.clone(), data_dir: env.terraform.data_dir.clone() }).unwrap();
    lease.add(Started::Lab { bin: lab, state_dir: env.work_dir.join("state") }).unwrap();
}

/// `vixens lease reap ENV ARGS` with `vars`: exit code and stdout + stderr.
fn reap(vars: &std::collections::BTreeMap<String, String>, args: &[&str]) -> (i32, String) {
    let vixens = binaries::binaries().unwrap().vixens;
    let done = Command::new(vixens).args(["lease", "reap"]).arg(lab_env()).args(args).envs(vars).output().unwrap();
    (done.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr)))
}

#[test]
fn after_protected_delete_the_reap_names_the_way_out_and_force_takes_it_keeping_the_lun() {
    // The killed session's lab manages a NAS LUN (`protected-delete`): its safe destroy is
    // refused, so every later run used to fail with "cannot clean up what an earlier run left",
    // and nothing said what to do.
    let lab = vixens_ops::instance::Instance::builder(lab_env()).fault("protected-delete").up().unwrap();
    let env = lab.env();
    // The NAS keeps one record per LUN (`nas/dsm/luns/k8s-csi-<volume>.json`), naming its claim.
    let vaultwarden_lun = || {
        std::fs::read_dir(env.work_dir.join("nas/dsm/luns"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| std::fs::read_to_string(p).is_ok_and(|text| text.contains("vaultwarden-data")))
    };
    lab.wait_until("the lab's vaultwarden LUN", env.budgets.phases.argocd, || vaultwarden_lun().is_some()).unwrap();
    let lun = vaultwarden_lun().unwrap();
    leave_stale_record(env);

    let (code, output) = reap(lab.vars(), &[]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("the plan would destroy 1 protected resource"), "{output}");
    assert!(
        output.contains(
            "\nto unwedge it: the safe destroy never destroys protected storage, and terraform's state lists some: `vixens lease reap lab --force` takes it out of the state (the storage itself is kept) and destroys the rest; or by hand: `TF_DATA_DIR="
        ) && output.contains("state rm 'terraform_data.nas_iscsi_lun[0]'`, then `vixens lease reap lab`"),
        "{output}"
    );
    let record = lease::read(&env.work_dir).unwrap().expect("the record keeps what is left");
    assert_eq!(record.started.len(), 1, "the lab was stopped, terraform is left: {record:?}");

    let (code, output) = reap(lab.vars(), &["--force"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("took terraform_data.nas_iscsi_lun[0] out of terraform's state in "), "{output}");
    assert!(output.contains("destroyed what the terraform apply of "), "{output}");
    assert!(lun.exists(), "the protected LUN was destroyed");
    assert!(lease::read(&env.work_dir).unwrap().is_none(), "the environment is still wedged");
    assert_eq!(reap(lab.vars(), &[]), (0, "lab: nothing to reap\n".to_owned()));
}

#[test]
fn after_apply_fail_the_reap_undoes_the_half_made_lab_and_says_what_it_undid() {
    // A lab that refused to start never made its NAS: the reap used to fail on the missing LUN
    // folder, wedging the environment.
    let work = tempfile::tempdir().unwrap();
    let vars: std::collections::BTreeMap<String, String> = vars(work.path()).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let vixens = binaries::binaries().unwrap().vixens;
    let up = Command::new(&vixens).args(["up"]).arg(lab_env()).envs(&vars).env("VIXENS_LAB_FAULTS", "apply-fail").output().unwrap();
    assert_eq!(up.status.code(), Some(2), "{}", String::from_utf8_lossy(&up.stderr));
    let env = vixens_ops::env::Environment::load_with(lab_env(), &vars).unwrap();
    leave_stale_record(&env);

    let (code, output) = reap(&vars, &[]);
    assert_eq!(code, 0, "{output}");
    assert!(output.starts_with("lab: undid terraform apply of ") && output.contains("(left by pid "), "{output}");
    assert!(lease::read(&env.work_dir).unwrap().is_none());
}
