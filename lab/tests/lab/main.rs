//! Integration tests of the lab: kube-rs and kubectl against its API, the talosctl stand-in, faults.
//!
//! [`Lab`] starts a real lab (`vixens-lab up`) in a temporary state folder and stops it on drop,
//! so no lab process outlives a test; deleting the folder stops a daemon left behind anyway.

mod api;
mod argocd;
mod boot;
mod faults;
mod kubectl;
mod lifecycle;
mod talosctl;
mod terraform;
mod watch;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
