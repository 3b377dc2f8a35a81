//! `lab/terraform/environments/<env>` with the real terraform, shaped like the homelab's roots:
//! the state in the NAS's MinIO bucket through the S3 backend (signed with the NAS's keys, a wrong
//! key refused, a missing bucket never created), `state pull` through the backend, new
//! credentials written on every recreate and the old ones refused, no network, several instances
//! per root, and the faults that concern terraform (`protected-delete`, `apply-fail`,
//! `slow-destroy`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{ACCESS_KEY, Nas, SECRET_KEY, alive, lab_binary};

fn root(env: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("terraform/environments").join(env)
}

/// One instance of a root: its own data dir, NAS (running), lab state folder and credentials folder.
struct Instance {
    env: &'static str,
    dir: tempfile::TempDir,
    nas: Nas,
    faults: String,
    secret: String,
}

impl Instance {
    fn new(faults: &str) -> Self {
        Self::of("lab", faults)
    }

    /// An instance of `lab/terraform/environments/<env>` on a NAS holding bucket terraform-state-lab only.
    fn of(env: &'static str, faults: &str) -> Self {
        Self { env, dir: tempfile::tempdir().expect("a temporary folder"), nas: Nas::up(), faults: faults.to_owned(), secret: SECRET_KEY.into() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn vars(&self) -> Vec<String> {
        [
            ("lab_bin", lab_binary().display().to_string()),
            ("state_dir", self.path("state").display().to_string()),
            ("nas_dir", self.nas.dir_str().to_owned()),
            ("output_dir", self.path("secrets").display().to_string()),
            ("time_scale", "0.2".into()),
            ("faults", self.faults.clone()),
        ]
        .into_iter()
        .map(|(k, v)| format!("-var={k}={v}"))
        .collect()
    }

    /// `terraform -chdir=ROOT ARGS` offline, with the NAS's endpoint and keys in the environment
    /// (never in -backend-config), and a dead proxy so that any attempt to go elsewhere fails.
    fn terraform(&self, args: &[&str]) -> Command {
        let mut command = Command::new("terraform");
        command
            .arg(format!("-chdir={}", root(self.env).display()))
            .args(args)
            .env("TF_DATA_DIR", self.path("tf-data"))
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("AWS_ENDPOINT_URL_S3", &self.nas.endpoint)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("AWS_PROFILE")
            .env_remove("VIXENS_LAB_FAULTS");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.terraform(args).output().expect("terraform runs")
    }

    fn init(&self) -> Output {
        self.run(&["init", "-no-color", "-input=false"])
    }

    fn with_vars(&self, args: &[&str]) -> Output {
        let vars = self.vars();
        let all: Vec<&str> = args.iter().copied().chain(vars.iter().map(String::as_str)).collect();
        self.run(&all)
    }

    fn apply(&self) -> Output {
        self.with_vars(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    fn destroy(&self) -> Output {
        self.with_vars(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    fn outputs(&self) -> Value {
        serde_json::from_slice(&ok(&self.run(&["output", "-json"])).into_bytes()).expect("outputs are JSON")
    }

    fn output(&self, name: &str) -> String {
        let outputs = self.outputs();
        outputs[name]["value"].as_str().unwrap_or_else(|| panic!("output {name}: {outputs}")).to_owned()
    }

    fn lab_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path("state/lab.json")).expect("lab.json")).expect("lab.json is JSON")
    }

    /// The state object in the NAS's bucket.
    fn state_object(&self) -> PathBuf {
        self.nas.dir().join(format!("buckets/terraform-state-{}/terraform.tfstate", self.env))
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

#[track_caller]
fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "expected a failure:\n{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn pid(lab: &Value) -> i32 {
    i32::try_from(lab["pid"].as_i64().expect("a pid")).expect("a pid")
}

#[test]
fn the_state_lives_in_the_nas_bucket_and_state_pull_reads_it_through_the_backend() {
    let lab = Instance::new("");
    let init = ok(&lab.init());
    assert!(init.contains("Successfully configured the backend \"s3\"!"), "{init}");
    assert!(!lab.path("tf-data/providers").exists(), "no provider was downloaded");
    let backend = std::fs::read_to_string(lab.path("tf-data/terraform.tfstate")).unwrap();
    assert!(!backend.contains(SECRET_KEY), "the keys are not written to the data dir");
    ok(&lab.apply());
    let info = lab.lab_json();
    assert!(alive(pid(&info)), "the lab runs after apply");
    assert!(lab.state_object().is_file(), "the state object is in bucket terraform-state-lab");
    let pulled: Value = serde_json::from_str(&ok(&lab.run(&["state", "pull"]))).expect("state pull prints the state");
    let stored: Value = serde_json::from_slice(&std::fs::read(lab.state_object()).unwrap()).unwrap();
    assert_eq!(pulled, stored);
    assert_eq!(pulled["resources"][0]["module"], "module.lab");

    let outputs = lab.outputs();
    let mut names: Vec<&String> = outputs.as_object().unwrap().keys().collect();
    names.sort();
    assert_eq!(names, ["cluster_endpoint", "kubeconfig_path", "nas_dir", "talosconfig_path", "tools_path"]);
    assert_eq!(lab.output("cluster_endpoint"), info["api_url"].as_str().unwrap());
    assert_eq!(lab.output("kubeconfig_path"), lab.path("secrets/kubeconfig-lab").display().to_string());
    assert_eq!(lab.output("talosconfig_path"), lab.path("secrets/talosconfig-lab").display().to_string());
    let mode = |p: &str| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions()) & 0o777;
    assert_eq!((mode(&lab.output("kubeconfig_path")), mode(&lab.output("talosconfig_path"))), (0o600, 0o600));
    let plan = lab.with_vars(&["plan", "-detailed-exitcode", "-no-color", "-input=false"]);
    assert_eq!(plan.status.code(), Some(0), "apply left nothing to do");

    let destroyed = ok(&lab.destroy());
    assert!(destroyed.contains("Destroy complete! Resources: 1 destroyed."), "{destroyed}");
    assert!(!alive(pid(&info)), "destroy stopped the lab");
    assert!(!lab.path("secrets/kubeconfig-lab").exists(), "destroy removes the files it wrote");
    let after: Value = serde_json::from_slice(&std::fs::read(lab.state_object()).unwrap()).unwrap();
    assert_eq!(after["resources"], serde_json::json!([]), "the bucket keeps the (empty) state");
}

#[test]
fn a_wrong_minio_key_is_refused_and_terraform_never_creates_the_bucket() {
    let mut lab = Instance::new("");
    lab.secret = "not-the-secret".into();
    let stderr = failed(&lab.init());
    assert!(stderr.contains("StatusCode: 403") && stderr.contains("SignatureDoesNotMatch"), "{stderr}");
    lab.secret = SECRET_KEY.into();
    ok(&lab.init());
    let dev = Instance::of("lab-ha", "");
    let stderr = failed(&dev.init());
    assert!(stderr.contains("S3 bucket \"terraform-state-lab-ha\" does not exist."), "{stderr}");
    assert!(!dev.nas.dir().join("buckets/terraform-state-lab-ha").exists(), "terraform did not create it");
}

#[test]
fn a_nas_that_is_down_fails_init_at_once() {
    let lab = Instance::new("");
    ok(&Nas::command(lab.nas.dir(), &["down"]).output().unwrap());
    let started = Instant::now();
    let stderr = failed(&lab.init());
    assert!(started.elapsed() < Duration::from_secs(10), "max_retries = 1: {:?}", started.elapsed());
    assert!(stderr.contains("connect: connection refused"), "{stderr}");
}

#[test]
fn after_a_recreate_the_copied_kubeconfig_is_refused_and_the_one_at_the_output_path_works() {
    let lab = Instance::new("");
    ok(&lab.init());
    ok(&lab.apply());
    let copy = lab.path("kubeconfig-copy");
    std::fs::copy(lab.output("kubeconfig_path"), &copy).unwrap();
    ok(&lab.destroy());
    ok(&lab.apply());
    let server = lab.output("cluster_endpoint");
    let old = std::fs::read_to_string(&copy).unwrap();
    let pointed: String =
        old.lines().map(|l| if l.trim_start().starts_with("server: ") { format!("    server: {server}\n") } else { format!("{l}\n") }).collect();
    std::fs::write(&copy, pointed).unwrap();
    let kubectl = |kubeconfig: &str| {
        Command::new("kubectl")
            .args(["get", "nodes", "-o", "name"])
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", lab.path("kube-cache"))
            .output()
            .unwrap()
    };
    let refused = kubectl(copy.to_str().unwrap());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("x509: certificate signed by unknown authority"), "{refused:?}");
    let works = kubectl(&lab.output("kubeconfig_path"));
    assert!(works.status.success(), "{works:?}");
    ok(&lab.destroy());
}

#[test]
fn apply_and_destroy_need_no_variable_and_keep_their_lab_under_target() {
    let instance = Instance::new("");
    let by_hand = std::path::absolute(Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/vixens/terraform-by-hand/lab")).unwrap();
    // `vixens-lab` found on PATH, as the variable's default says; nothing else is given.
    let path = std::env::join_paths(
        std::iter::once(lab_binary().parent().unwrap().to_owned()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let bare = |args: &[&str]| ok(&instance.terraform(args).env("PATH", &path).output().expect("terraform runs"));
    ok(&instance.init());
    bare(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    let state = by_hand.join("state");
    let lab: Value = serde_json::from_slice(&std::fs::read(state.join("lab.json")).expect("lab.json under target")).unwrap();
    let pid = pid(&lab);
    assert!(root("lab").join("kubeconfig-lab").is_file(), "kubeconfig-lab in the root's folder, as the homelab writes it");
    bare(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(!state.join("lab.json").exists(), "the lab is still up after destroy");
    assert!(!alive(pid), "lab process {pid} survived destroy");
    assert!(!root("lab").join("kubeconfig-lab").exists());
}

#[test]
fn the_whole_cycle_runs_in_a_network_namespace_without_network() {
    let dir = tempfile::tempdir().unwrap();
    let (nas, state_dir) = (dir.path().join("nas"), dir.path().join("state"));
    let vars = [
        format!("-var=lab_bin={}", lab_binary().display()),
        format!("-var=state_dir={}", state_dir.display()),
        format!("-var=nas_dir={}", nas.display()),
        format!("-var=output_dir={}", dir.path().join("secrets").display()),
        "-var=time_scale=0.2".to_owned(),
    ];
    let cycle = format!(
        "{lab} nas up --nas-dir {nas} --bucket terraform-state-lab >/dev/null && \
         export AWS_ENDPOINT_URL_S3=$({lab} nas endpoint --nas-dir {nas}) && \
         terraform -chdir={root} init -no-color -input=false >/dev/null && \
         terraform -chdir={root} apply -auto-approve -no-color -input=false {vars} >/dev/null && \
         {state}/bin/talosctl --talosconfig {state}/talosconfig -n 10.5.0.2 version --short && \
         terraform -chdir={root} destroy -auto-approve -no-color -input=false {vars}; \
         status=$?; {lab} nas down --nas-dir {nas} >/dev/null; exit $status",
        lab = lab_binary().display(),
        nas = nas.display(),
        root = root("lab").display(),
        state = state_dir.display(),
        vars = vars.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(" "),
    );
    let isolated = Command::new("unshare").args(["-rn", "true"]).status().is_ok_and(|s| s.success());
    let mut command = if isolated {
        let mut c = Command::new("unshare");
        c.args(["-rn", "sh", "-c", &format!("ip link set lo up && {cycle}")]);
        c
    } else {
        eprintln!("user namespaces are not available here: running with a dead proxy instead");
        let mut c = Command::new("sh");
        c.args(["-c", &cycle]).env("HTTPS_PROXY", "http://127.0.0.1:9").env("HTTP_PROXY", "http://127.0.0.1:9").env("NO_PROXY", "127.0.0.1");
        c
    };
    let out = command
        .env("TF_DATA_DIR", dir.path().join("tf-data"))
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("MINIO_ROOT_USER", ACCESS_KEY)
        .env("MINIO_ROOT_PASSWORD", SECRET_KEY)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env_remove("VIXENS_LAB_FAULTS")
        .output()
        .unwrap();
    let _ = Command::new(lab_binary()).args(["down", "--state-dir"]).arg(&state_dir).output();
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
    assert!(!root("lab").join(".terraform").exists() && !root("lab").join("kubeconfig-lab").exists(), "nothing is written into the shared root");
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
    let out = format!("-out={}", plan_file.display());
    ok(&lab.with_vars(&["plan", "-destroy", "-no-color", "-input=false", &out]));
    let show: Value = serde_json::from_str(&ok(&lab.run(&["show", "-json", plan_file.to_str().unwrap()]))).unwrap();
    let deleted: Vec<(&str, &str)> = show["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["actions"] == serde_json::json!(["delete"]))
        .map(|c| (c["address"].as_str().unwrap(), c["type"].as_str().unwrap()))
        .collect();
    assert_eq!(deleted, [("terraform_data.nas_iscsi_lun[0]", "terraform_data"), ("module.lab.terraform_data.lab", "terraform_data")]);
    // The resource is what the guard must protect: letting the destroy through loses the LUN.
    let vaultwarden_lun = || {
        let dir = lab.nas.dir().join("dsm/luns");
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("/vaultwarden-data\"")))
    };
    let started = Instant::now();
    while !vaultwarden_lun() {
        assert!(started.elapsed() < Duration::from_secs(30), "the CSI driver never provisioned the LUN");
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(&lab.destroy());
    assert!(!vaultwarden_lun(), "an unguarded destroy deleted the LUN");
}

#[test]
fn the_apply_fail_fault_fails_apply_and_destroy_still_works() {
    let lab = Instance::new("apply-fail");
    ok(&lab.init());
    let stderr = failed(&lab.apply());
    assert!(stderr.contains("apply-fail"), "the failure names the fault: {stderr}");
    assert!(!lab.path("state/lab.json").exists(), "no lab runs");
    ok(&lab.destroy());
}

#[test]
fn the_slow_destroy_fault_makes_the_destroy_take_its_seconds() {
    let lab = Instance::new("slow-destroy=3");
    ok(&lab.init());
    ok(&lab.apply());
    let started = Instant::now();
    let destroyed = ok(&lab.destroy());
    assert!(started.elapsed() >= Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(destroyed.contains("fault slow-destroy: stopping the lab in 3s"), "{destroyed}");
}

#[test]
fn a_lock_left_in_the_bucket_stops_the_next_apply() {
    let lab = Instance::new("");
    ok(&lab.init());
    let lock = lab.state_object().with_file_name("terraform.tfstate.tflock");
    let info = r#"{"ID":"11111111-2222-3333-4444-555555555555","Operation":"OperationTypeApply","Info":"","Who":"someone@elsewhere","Version":"1.11.4","Created":"2026-12-03T10:00:00Z","Path":"terraform-state-lab/terraform.tfstate"}"#;
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, info).unwrap();
    let stderr = failed(&lab.apply());
    assert!(stderr.contains("Error acquiring the state lock"), "{stderr}");
    assert!(stderr.contains("StatusCode: 412") && stderr.contains("ID:        11111111-2222-3333-4444-555555555555"), "{stderr}");
    assert!(!lab.path("state/lab.json").exists(), "nothing was applied");
}
