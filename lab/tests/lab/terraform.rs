//! `environments/lab/terraform` with the real terraform: init, apply and destroy work with no
//! network, leave no lab process behind, let several instances share the root module, and the
//! faults that concern terraform (`protected-delete`, `apply-fail`) show where they should.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::{alive, lab_binary};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../environments/lab/terraform")
}

/// One instance of the root module: its own data dir, state, lab state folder and NAS.
struct Instance {
    dir: tempfile::TempDir,
    faults: String,
}

impl Instance {
    fn new(faults: &str) -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary folder"), faults: faults.to_owned() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn vars(&self) -> Vec<String> {
        [
            ("lab_bin", lab_binary().display().to_string()),
            ("state_dir", self.path("state").display().to_string()),
            ("nas_dir", self.path("nas").display().to_string()),
            ("time_scale", "0.2".into()),
            ("faults", self.faults.clone()),
        ]
        .into_iter()
        .map(|(k, v)| format!("-var={k}={v}"))
        .collect()
    }

    /// `terraform -chdir=ROOT ARGS` offline: no CLI config, and a dead proxy so that any
    /// attempt to reach a registry fails.
    fn terraform(&self, args: &[&str]) -> Command {
        let mut command = Command::new("terraform");
        command
            .arg(format!("-chdir={}", root().display()))
            .args(args)
            .env("TF_DATA_DIR", self.path("tf-data"))
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("TF_IN_AUTOMATION", "1")
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env_remove("VIXENS_LAB_FAULTS");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.terraform(args).output().expect("terraform runs")
    }

    fn init(&self) -> Output {
        let backend = format!("-backend-config=path={}", self.path("nas/buckets/terraform-state-lab/terraform.tfstate").display());
        self.run(&["init", "-no-color", "-input=false", &backend])
    }

    fn apply(&self) -> Output {
        let mut args = vec!["apply", "-auto-approve", "-no-color", "-input=false"];
        let vars = self.vars();
        args.extend(vars.iter().map(String::as_str));
        self.run(&args)
    }

    fn destroy(&self) -> Output {
        let mut args = vec!["destroy", "-auto-approve", "-no-color", "-input=false"];
        let vars = self.vars();
        args.extend(vars.iter().map(String::as_str));
        self.run(&args)
    }

    fn outputs(&self) -> Value {
        serde_json::from_slice(&ok(&self.run(&["output", "-json"])).into_bytes()).expect("outputs are JSON")
    }

    fn lab_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path("state/lab.json")).expect("lab.json")).expect("lab.json is JSON")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Whatever a test left, no lab outlives it.
        let _ = Command::new(lab_binary()).args(["down", "--state-dir"]).arg(self.path("state")).output();
    }
}

#[track_caller]
fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed: {}\nstdout:\n{stdout}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    stdout
}

fn pid(lab: &Value) -> i32 {
    i32::try_from(lab["pid"].as_i64().expect("a pid")).expect("a pid")
}

#[test]
fn init_apply_and_destroy_work_offline_and_leave_no_lab_process() {
    let lab = Instance::new("");
    let init = ok(&lab.init());
    assert!(init.contains("- terraform.io/builtin/terraform is built in to Terraform"), "{init}");
    assert!(!lab.path("tf-data/providers").exists(), "no provider was downloaded");
    ok(&lab.apply());
    let info = lab.lab_json();
    assert!(alive(pid(&info)), "the lab runs after apply");

    let outputs = lab.outputs();
    let value = |name: &str| outputs[name]["value"].as_str().unwrap_or_else(|| panic!("output {name}: {outputs}")).to_owned();
    assert_eq!(value("cluster_endpoint"), info["api_url"].as_str().unwrap());
    assert_eq!(value("kubeconfig_path"), lab.path("state/kubeconfig").display().to_string());
    assert_eq!(value("talosconfig_path"), lab.path("state/talosconfig").display().to_string());
    assert!(Path::new(&value("kubeconfig_path")).is_file() && Path::new(&value("talosconfig_path")).is_file());
    let mut names: Vec<&String> = outputs.as_object().unwrap().keys().collect();
    names.sort();
    insta::assert_debug_snapshot!(names, @r#"
    [
        "cluster_endpoint",
        "kubeconfig_path",
        "kubeconfig_readonly_path",
        "nas_dir",
        "talosconfig_path",
        "talosctl_path",
    ]
    "#);
    // The state lives in the NAS's state bucket, and a second plan has nothing to do.
    assert!(lab.path("nas/buckets/terraform-state-lab/terraform.tfstate").is_file());
    let mut plan = vec!["plan", "-detailed-exitcode", "-no-color", "-input=false"];
    let vars = lab.vars();
    plan.extend(vars.iter().map(String::as_str));
    assert_eq!(lab.run(&plan).status.code(), Some(0), "apply left nothing to do");

    let destroyed = ok(&lab.destroy());
    assert!(destroyed.contains("Destroy complete! Resources: 1 destroyed."), "{destroyed}");
    assert!(!alive(pid(&info)), "destroy stopped the lab");
    assert!(lab.path("nas/buckets/terraform-state-lab").is_dir(), "destroy leaves the state bucket");
}

/// `unshare -rn` gives terraform a network namespace with nothing but loopback: the strongest
/// proof that nothing is downloaded. Where user namespaces are forbidden (some CI sandboxes), the
/// same cycle runs with a dead proxy instead, which still fails any registry access.
#[test]
fn apply_and_destroy_need_no_variable_and_keep_their_lab_under_target() {
    let instance = Instance::new("");
    let by_hand = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vixens/terraform-by-hand");
    let by_hand = std::path::absolute(&by_hand).unwrap();
    // `vixens-lab` found on PATH, as the variable's default says; nothing else is given.
    let path = std::env::join_paths(
        std::iter::once(lab_binary().parent().unwrap().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let bare = |args: &[&str]| {
        let out = instance.terraform(args).env("PATH", &path).output().expect("terraform runs");
        ok(&out)
    };
    ok(&instance.init());
    bare(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    let state = by_hand.join("state");
    let lab: Value = serde_json::from_slice(&std::fs::read(state.join("lab.json")).expect("lab.json under target")).unwrap();
    let pid = pid(&lab);
    bare(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(!state.join("lab.json").exists(), "the lab is still up after destroy");
    assert!(!alive(pid), "lab process {pid} survived destroy");
    assert!(by_hand.join("nas").is_dir(), "the NAS folder survives destroy");
}

#[test]
fn the_whole_cycle_runs_in_a_network_namespace_without_network() {
    let lab = Instance::new("");
    let cycle = format!(
        "terraform -chdir={root} init -no-color -input=false -backend-config=path={state} >/dev/null && \
         terraform -chdir={root} apply -auto-approve -no-color -input=false {vars} >/dev/null && \
         {state_dir}/bin/talosctl --talosconfig {state_dir}/talosconfig -n 10.5.0.2 version --short && \
         terraform -chdir={root} destroy -auto-approve -no-color -input=false {vars}",
        root = root().display(),
        state = lab.path("nas/buckets/terraform-state-lab/terraform.tfstate").display(),
        state_dir = lab.path("state").display(),
        vars = lab.vars().iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(" "),
    );
    let isolated = Command::new("unshare").args(["-rn", "true"]).status().is_ok_and(|s| s.success());
    let mut command = if isolated {
        let mut c = Command::new("unshare");
        c.args(["-rn", "sh", "-c", &format!("ip link set lo up && {cycle}")]);
        c
    } else {
        eprintln!("user namespaces are not available here: running with a dead proxy instead");
        let mut c = Command::new("sh");
        c.args(["-c", &cycle]).env("HTTPS_PROXY", "http://127.0.0.1:9").env("HTTP_PROXY", "http://127.0.0.1:9");
        c
    };
    let out =
        command.env("TF_DATA_DIR", lab.path("tf-data")).env("TF_CLI_CONFIG_FILE", "/dev/null").env_remove("VIXENS_LAB_FAULTS").output().unwrap();
    let stdout = ok(&out);
    assert!(stdout.contains("Talos v1.13.9"), "talosctl reached the lab: {stdout}");
    assert!(stdout.contains("Destroy complete! Resources: 1 destroyed."), "{stdout}");
}

#[test]
fn two_instances_share_the_root_module() {
    let (a, b) = (Instance::new(""), Instance::new(""));
    for lab in [&a, &b] {
        ok(&lab.init());
        ok(&lab.apply());
    }
    let (info_a, info_b) = (a.lab_json(), b.lab_json());
    assert_ne!(info_a["api_url"], info_b["api_url"]);
    assert!(alive(pid(&info_a)) && alive(pid(&info_b)), "both labs run side by side");
    assert!(!root().join(".terraform").exists() && !root().join("terraform.tfstate").exists(), "nothing is written into the shared root");
    ok(&a.destroy());
    assert!(!alive(pid(&info_a)) && alive(pid(&info_b)), "destroying one instance leaves the other");
    ok(&b.destroy());
    assert!(!alive(pid(&info_b)));
}

#[test]
fn the_protected_delete_fault_puts_a_nas_lun_into_the_destroy_plan() {
    let lab = Instance::new("protected-delete");
    ok(&lab.init());
    ok(&lab.apply());
    let plan_file = lab.path("destroy.plan");
    let mut plan = vec!["plan".to_owned(), "-destroy".into(), "-no-color".into(), "-input=false".into(), format!("-out={}", plan_file.display())];
    plan.extend(lab.vars());
    ok(&lab.run(&plan.iter().map(String::as_str).collect::<Vec<_>>()));
    let show: Value = serde_json::from_str(&ok(&lab.run(&["show", "-json", plan_file.to_str().unwrap()]))).unwrap();
    let deleted: Vec<(&str, &str)> = show["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["actions"] == serde_json::json!(["delete"]))
        .map(|c| (c["address"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(deleted, [("terraform_data.lab", "terraform_data"), ("terraform_data.nas_iscsi_lun[0]", "terraform_data")]);
    // The resource is what the guard must protect: letting the destroy through loses the LUN.
    let lun = lab.path("nas/luns/vaultwarden-data.img");
    wait_for(&lun);
    ok(&lab.destroy());
    assert!(!lun.exists(), "an unguarded destroy deleted the LUN");
}

#[test]
fn the_apply_fail_fault_fails_apply_and_destroy_still_works() {
    let lab = Instance::new("apply-fail");
    ok(&lab.init());
    let out = lab.apply();
    assert!(!out.status.success(), "apply must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("apply-fail"), "the failure names the fault: {stderr}");
    assert!(!lab.path("state/lab.json").exists(), "no lab runs");
    ok(&lab.destroy());
}

/// The CSI driver provisions LUNs as apps sync, a few seconds after apply.
fn wait_for(path: &Path) {
    let started = std::time::Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "{} never appeared", path.display());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
