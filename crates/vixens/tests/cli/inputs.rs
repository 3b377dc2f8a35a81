//! Files handed to `vixens` are opened only if they are regular files: a named pipe no writer
//! holds, or a device that never ends, is refused at once with what it is, never waited on.
//! (`vixens check-plan`'s own cases are in `check_plan`.)

use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs `vixens ARGS` in `dir`, failing the test if it has not finished after 30 s (it used to
/// wait forever on a FIFO); returns (exit code, stderr).
fn within_30s(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let mut child = vixens_testkit::vixens_command().current_dir(dir).args(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("vixens {args:?} still runs after 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn logs_scan_refuses_a_fifo_at_once_and_still_scans_the_other_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(std::process::Command::new("mkfifo").arg(dir.path().join("machined.log")).status().unwrap().success());
    std::fs::write(dir.path().join("apid.log"), "10.5.0.2: 2026/08/21 10:00:09.500000 apid started\n").unwrap();
    let (code, stderr) = within_30s(dir.path(), &["logs", "scan", "machined.log", "apid.log"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "error: machined.log is a named pipe (FIFO), not a regular file: nothing is read from it\n\
         0 finding(s) in 1 lines of 1 file(s)\n\
         bootstrap window: boot at 2026-08-21T10:00:09.500000Z, assumed to end at 2026-08-21T10:20:09.500000Z, 20m later \
         (no --healthy-at: judged conservatively, boot retries after it are errors)\n"
    );
}

#[test]
fn logs_scan_refuses_a_device_instead_of_reading_without_end() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr) = within_30s(dir.path(), &["logs", "scan", "/dev/zero"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.starts_with("error: /dev/zero is a character device, not a regular file: nothing is read from it\n"), "{stderr}");
}

#[test]
fn an_env_yaml_that_is_a_fifo_is_one_problem_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    assert!(std::process::Command::new("mkfifo").arg(dir.path().join("env.yaml")).status().unwrap().success());
    let (code, stderr) = within_30s(dir.path(), &["doctor", "./env.yaml"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("env.yaml is not a usable environment: 1 problem") && stderr.contains("named pipe (FIFO)"), "{stderr}");
}
