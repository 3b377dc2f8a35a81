//! `vixens destroy`: exit codes, the protected-environment refusal without any set-up, and a
//! destroy of a private lab interrupted by SIGTERM, which leaves the state and its backups
//! consistent and can simply be run again. (The confirmation, backup and protected-storage
//! scenarios run in the `destroy_safety` suite of each environment package.)

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use vixens_drivers::terraform::{Run, State};
use vixens_ops::binaries;
use vixens_ops::destroy::backup::{self, Store};
use vixens_ops::instance::Instance;
use vixens_testkit::lab_env;

fn lab() -> Instance {
    Instance::builder(lab_env()).up().unwrap_or_else(|e| panic!("{e}: {:?}", std::error::Error::source(&e).map(ToString::to_string)))
}

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

    /// Waits for the progress line `line`.
    fn wait_for(&mut self, line: &str) {
        while !self.seen.iter().any(|l| l == line) {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("vixens destroy never printed {line:?}; it printed:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn sigterm(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
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
    let lab = lab();
    let lineage = State::parse(&state(&lab)).unwrap().lineage;

    let mut running = Running::start(&lab);
    running.wait_for("==> terraform apply of the checked plan");
    running.sigterm();
    let (code, stdout, stderr) = running.finish();
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.contains("interrupt received"), "{stderr}");
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
