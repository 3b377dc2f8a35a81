//! Integration tests of the lab: kube-rs and kubectl against its API, the talosctl stand-in, faults.
//!
//! [`Lab`] starts a real lab (`vixens-lab up`) in a temporary state folder and stops it on drop,
//! so no lab process outlives a test; deleting the folder stops a daemon left behind anyway.

mod api;
mod argocd;
mod boot;
mod faults;
mod iscsiadm;
mod kubectl;
mod lifecycle;
mod nas;
mod rotation;
mod storage;
mod talosctl;
mod terraform;
mod tokens;
mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::Value;

/// The `vixens-lab` binary under test.
pub fn lab_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_vixens-lab"))
}

/// Runs `vixens-lab ARGS` with `faults` in `VIXENS_LAB_FAULTS` (never inherited from the caller).
pub fn vixens_lab(args: &[&str], faults: &str) -> Output {
    Command::new(lab_binary()).args(args).env("VIXENS_LAB_FAULTS", faults).output().expect("vixens-lab runs")
}

/// A running lab in a temporary state folder.
pub struct Lab {
    dir: tempfile::TempDir,
    /// `lab.json`.
    pub info: Value,
}

impl Lab {
    /// `vixens-lab up --state-dir <tmp> ARGS`, with no fault.
    #[track_caller]
    pub fn up(args: &[&str]) -> Self {
        Self::up_with_faults(args, "")
    }

    /// `vixens-lab up` with `VIXENS_LAB_FAULTS=faults`.
    #[track_caller]
    pub fn up_with_faults(args: &[&str], faults: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let state_dir = dir.path().to_str().expect("a UTF-8 path").to_owned();
        let mut all = vec!["up", "--state-dir", &state_dir];
        all.extend_from_slice(args);
        if !args.contains(&"--idle-timeout") {
            // A test killed before its drop (a nextest timeout) leaves its folder behind: the
            // daemon then stops by itself soon, not after the default 30 minutes.
            all.extend_from_slice(&["--idle-timeout", "120s"]);
        }
        let out = vixens_lab(&all, faults);
        assert!(out.status.success(), "vixens-lab up failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
        let info = serde_json::from_slice(&std::fs::read(dir.path().join("lab.json")).expect("lab.json")).expect("lab.json is JSON");
        Self { dir, info }
    }

    /// The state folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file of the state folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.info["pid"].as_i64().expect("a pid")).expect("a pid")
    }

    /// A kube-rs client from `DIR/<kubeconfig>` (`kubeconfig` or `kubeconfig-readonly`).
    pub async fn client_from(&self, kubeconfig: &str) -> kube::Client {
        let kubeconfig = Kubeconfig::read_from(self.path(kubeconfig)).expect("a readable kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("a usable kubeconfig");
        kube::Client::try_from(config).expect("a client")
    }

    /// The admin client.
    pub async fn client(&self) -> kube::Client {
        self.client_from("kubeconfig").await
    }

    /// The real `kubectl` with `DIR/<kubeconfig>`, its discovery cache inside the state folder.
    pub fn kubectl_as(&self, kubeconfig: &str, args: &[&str]) -> Output {
        self.kubectl_command(kubeconfig, args).output().expect("kubectl runs")
    }

    /// `kubectl ARGS` as admin.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_as("kubeconfig", args)
    }

    /// The `kubectl` command, not started.
    pub fn kubectl_command(&self, kubeconfig: &str, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command.args(args).env("KUBECONFIG", self.path(kubeconfig)).env("KUBECACHEDIR", self.path("kube-cache")).env_remove("KUBECTL_EXTERNAL_DIFF");
        command
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = vixens_lab(&["down", "--state-dir", self.dir.path().to_str().unwrap_or_default()], "");
    }
}

/// True while process `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next()))
        .is_some_and(|state| state != 'Z' && state != 'X')
}

/// stdout of a successful command.
#[track_caller]
pub fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Applications, by name, as kubectl returns them.
pub fn applications(lab: &Lab) -> BTreeMap<String, Value> {
    let list: Value = serde_json::from_str(&stdout(&lab.kubectl(&["-n", "argocd", "get", "applications", "-o", "json"]))).unwrap();
    list["items"].as_array().unwrap().iter().map(|a| (a["metadata"]["name"].as_str().unwrap().to_owned(), a.clone())).collect()
}

/// A string field of a JSON object, `-` when absent.
pub fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or("-")
}

/// Waits until the root app applied the whole tree and every app but `except` is Synced and
/// Healthy, and returns the Applications.
#[track_caller]
pub fn wait_converged(lab: &Lab, except: &[&str]) -> BTreeMap<String, Value> {
    let started = Instant::now();
    loop {
        let apps = applications(lab);
        let tree_done = apps.get("vixens-app-of-apps").is_some_and(|r| text(r, "/status/operationState/phase") == "Succeeded");
        let done = tree_done
            && apps.iter().filter(|(n, _)| !except.contains(&n.as_str()) && n.as_str() != "vixens-app-of-apps").all(|(_, a)| {
                text(a, "/status/health/status") == "Healthy"
                    && text(a, "/status/sync/status") == "Synced"
                    && a.pointer("/status/reconciledAt").is_some()
            });
        if done {
            return apps;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the tree did not converge");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The GitOps fixture shaped like Vixens.
pub fn gitops_fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/gitops/vixens").to_str().expect("a UTF-8 path").to_owned()
}

/// The lab's MinIO keys in tests.
pub const ACCESS_KEY: &str = "vixens-lab";
/// See [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "vixens-lab-secret";

/// A running NAS daemon in a temporary folder, stopped on drop.
pub struct Nas {
    dir: tempfile::TempDir,
    /// Its S3 endpoint.
    pub endpoint: String,
}

impl Nas {
    /// `vixens-lab nas up --nas-dir <tmp> --bucket terraform-state-lab` with the test keys.
    #[track_caller]
    pub fn up() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let out = Self::command(dir.path(), &["up", "--bucket", "terraform-state-lab", "--idle-timeout", "120s"]).output().expect("runs");
        let text = stdout(&out);
        let endpoint = text.lines().find_map(|l| l.strip_prefix("export AWS_ENDPOINT_URL_S3=")).expect("the endpoint line").to_owned();
        Self { dir, endpoint }
    }

    /// `vixens-lab nas ARGS --nas-dir DIR` with the test keys, not started.
    pub fn command(dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(lab_binary());
        command.arg("nas").args(args).arg("--nas-dir").arg(dir).env("MINIO_ROOT_USER", ACCESS_KEY).env("MINIO_ROOT_PASSWORD", SECRET_KEY);
        command
    }

    /// The NAS folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The NAS folder as a string.
    pub fn dir_str(&self) -> &str {
        self.dir.path().to_str().expect("a UTF-8 path")
    }
}

impl Drop for Nas {
    fn drop(&mut self) {
        let _ = Self::command(self.dir.path(), &["down"]).output();
    }
}
