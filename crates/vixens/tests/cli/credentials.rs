//! Credentials that change with every recreate: the harness takes the new ones from the apply,
//! mints a read-only identity with them, and `vixens doctor` / `vixens credentials` notice and
//! fix a read-only kubeconfig that no longer works.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use vixens_testkit::workspace;

/// `vixens ARGS` on a private lab in `work`, with `faults`.
fn vixens(work: &Path, faults: &str, args: &[&str]) -> Command {
    let lab_bin = vixens_ops::binaries::binaries().expect("the harness binaries build").vixens_lab;
    let mut cmd = vixens_testkit::vixens();
    cmd.current_dir(workspace())
        .env("VIXENS_WORK_DIR", work)
        .env("VIXENS_LAB_BIN", lab_bin)
        .env("VIXENS_LAB_FAULTS", faults)
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

/// The lab's installed credentials, as env.yaml names them.
fn secret(work: &Path, name: &str) -> PathBuf {
    work.join("lab/secrets").join(name)
}

/// `kubectl --kubeconfig KUBECONFIG ARGS`: exit status and what it printed.
fn kubectl(kubeconfig: &Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new("kubectl").arg("--kubeconfig").arg(kubeconfig).args(args).output().expect("kubectl runs");
    (out.status.code().unwrap_or(-1), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The `server:` of a kubeconfig.
fn server(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    text.lines().find_map(|l| l.trim().strip_prefix("server: ")).expect("a server line").to_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn after_a_recreate_the_old_kubeconfig_is_refused_the_installed_one_works_and_the_read_only_one_reads_but_cannot_delete() {
    // Deleting the folder also stops a lab a failed assertion left running.
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    vixens(work, "", &["up", "lab"]).assert().success();
    let kubeconfig = secret(work, "kubeconfig-lab");
    let old = work.join("kubeconfig-of-the-first-lab");
    std::fs::copy(&kubeconfig, &old).unwrap();
    let first = std::fs::read_to_string(&kubeconfig).unwrap();

    vixens(work, "", &["destroy", "lab", "--confirm", "lab"]).assert().success();
    vixens(work, "", &["up", "lab"]).assert().success().stderr(predicate::str::contains(format!(
        "kubeconfig from the apply installed at {} (new credentials, the previous copy kept beside it)",
        kubeconfig.display()
    )));

    // The copy of the first lab, pointed at the new server, is refused: another CA, another token.
    let new_server = server(&kubeconfig);
    let old_text = std::fs::read_to_string(&old).unwrap().replace(&server(&old), &new_server);
    std::fs::write(&old, old_text).unwrap();
    let (code, said) = kubectl(&old, &["get", "nodes"]);
    assert_ne!(code, 0, "the first lab's kubeconfig still works on the new one: {said}");
    assert!(said.contains("x509") || said.contains("Unauthorized") || said.contains("provide credentials"), "{said}");

    // env.yaml's kubeconfig is the new lab's, private, and the replaced copy is kept beside it.
    let (code, said) = kubectl(&kubeconfig, &["get", "nodes"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("lab-controlplane-1"), "{said}");
    assert_eq!(mode(&kubeconfig), 0o600);
    assert_eq!(std::fs::read_to_string(secret(work, "kubeconfig-lab.previous")).unwrap(), first);
    assert_eq!(mode(&secret(work, "talosconfig-lab")), 0o600);
    assert!(secret(work, "talosconfig-lab.previous").is_file());

    // The read-only identity, minted again for the new lab: it lists, it may not delete.
    let readonly = secret(work, "kubeconfig-lab-readonly");
    assert_eq!(mode(&readonly), 0o600);
    // The lab's bootstrap creates the root app a moment after its API answers: list until it is
    // there (every listing must be allowed).
    let started = std::time::Instant::now();
    loop {
        let (code, said) = kubectl(&readonly, &["-n", "argocd", "get", "applications", "-o", "name"]);
        assert_eq!(code, 0, "{said}");
        if said.contains("application.argoproj.io/vixens-app-of-apps") {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no root app listed within 30 s: {said:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (code, said) = kubectl(&readonly, &["-n", "argocd", "delete", "application", "vixens-app-of-apps"]);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains(
            "Error from server (Forbidden): applications.argoproj.io \"vixens-app-of-apps\" is forbidden: \
             User \"system:serviceaccount:kube-system:vixens-readonly\" cannot delete resource \"applications\""
        ),
        "{said}"
    );

    // The first lab's read-only kubeconfig put back: doctor calls it stale, credentials fixes it.
    std::fs::copy(secret(work, "kubeconfig-lab-readonly.previous"), &readonly).unwrap();
    vixens(work, "", &["doctor", "lab"]).assert().code(1).stdout(
        predicate::str::contains("FAIL  read-only-identity   stale: its server is https://127.0.0.1:")
            .and(predicate::str::contains("remedy: run `vixens credentials lab`")),
    );
    vixens(work, "", &["credentials", "lab"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("  kubeconfig          {} (unchanged)\n", kubeconfig.display())));
    vixens(work, "", &["doctor", "lab"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok    read-only-identity   matches the admin kubeconfig"));
    vixens(work, "", &["destroy", "lab", "--confirm", "lab"]).assert().success();
}

#[test]
fn doctor_reports_an_expired_read_only_token_and_credentials_mints_a_new_one() {
    let work = tempfile::tempdir().unwrap();
    let work = work.path();
    // The lab's API issues ServiceAccount tokens of at most 6 seconds.
    let faults = "token-ttl=6";
    vixens(work, faults, &["up", "lab"]).assert().success();
    let readonly = secret(work, "kubeconfig-lab-readonly");
    std::thread::sleep(std::time::Duration::from_secs(7));

    let (code, said) = kubectl(&readonly, &["-n", "argocd", "get", "applications"]);
    assert_eq!(code, 1, "an expired token still reads: {said}");
    assert!(said.contains("Unauthorized") || said.contains("provide credentials"), "{said}");
    vixens(work, faults, &["doctor", "lab"]).assert().code(1).stdout(
        predicate::str::contains("FAIL  read-only-identity   its token expired at ")
            .and(predicate::str::contains(": the API refuses it (401)\n"))
            .and(predicate::str::contains("remedy: run `vixens credentials lab`: it mints a new token and rewrites ")),
    );

    // Someone widened the read-only role and deleted its binding: the refresh puts both back.
    let admin = secret(work, "kubeconfig-lab");
    let widen = r#"[{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}]"#;
    assert_eq!(kubectl(&admin, &["patch", "clusterrole", "vixens-readonly", "--type=json", "-p", widen]).0, 0);
    assert_eq!(kubectl(&admin, &["delete", "clusterrolebinding", "vixens-readonly"]).0, 0);

    let out = vixens(work, faults, &["credentials", "lab"]).assert().success().get_output().clone();
    let (code, said) = kubectl(&readonly, &["-n", "argocd", "get", "applications", "-o", "name"]);
    assert_eq!(code, 0, "the refreshed token is refused: {said}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("as system:serviceaccount:kube-system:vixens-readonly (valid until "), "{stdout}");
    assert!(stdout.ends_with("lab's credentials are fresh\n"), "{stdout}");
    let token = std::fs::read_to_string(&readonly).unwrap();
    let token = token.lines().skip_while(|l| !l.contains("token:")).nth(1).unwrap_or_default().trim().to_owned();
    assert!(token.len() > 20 && !stdout.contains(&token), "the token is never printed");
    let (_, verbs) = kubectl(&admin, &["get", "clusterrole", "vixens-readonly", "-o", "jsonpath={.rules[0].verbs}"]);
    assert_eq!(verbs, r#"["get","list","watch"]"#);
    let (code, said) = kubectl(&admin, &["get", "clusterrolebinding", "vixens-readonly", "-o", "name"]);
    assert_eq!((code, said.as_str()), (0, "clusterrolebinding.rbac.authorization.k8s.io/vixens-readonly\n"));
    vixens(work, "", &["destroy", "lab", "--confirm", "lab"]).assert().success();
}

/// The lab's env.yaml, written elsewhere with every relative path made absolute, after `edit`.
fn edited_lab_env(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let ws = workspace();
    let text = std::fs::read_to_string(ws.join("environments/lab/env.yaml")).unwrap();
    let text = text.replace("${ENV_DIR}/../..", &ws.display().to_string()).replace("../..", &ws.display().to_string());
    let file = dir.join("env.yaml");
    std::fs::write(&file, edit(text)).unwrap();
    file
}

#[test]
fn an_output_the_terraform_root_does_not_have_fails_the_apply_naming_it_and_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let env = edited_lab_env(dir.path(), |t| t.replace("    kubeconfig: kubeconfig_path\n", "    kubeconfig: kube_config_path\n"));
    let env = env.to_str().unwrap();
    vixens(&work, "", &["up", env]).assert().code(2).stderr(predicate::str::contains(format!(
        "vixens up lab: failed in phase apply (terraform output `kube_config_path`): the terraform root {}/lab/terraform/environments/lab \
         has no output `kube_config_path` (credentials.from-terraform-outputs.kubeconfig in env.yaml); \
         it has: cluster_endpoint, kubeconfig_path, nas_dir, talosconfig_path, tools_path",
        workspace().display()
    )));
    assert!(!work.join("lab/secrets/kubeconfig-lab").exists(), "nothing is installed from a failed read");
    vixens(&work, "", &["destroy", env, "--confirm", "lab"]).assert().success();
}

#[test]
fn credentials_refuses_an_environment_that_names_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let env_yaml = "name: real\nkind: disposable\ninfra-repo: .\nterraform:\n  root: terraform\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
                    nodes:\n  - { name: cp-1, address: 10.5.0.2, role: controlplane }\nargocd:\n  system-apps:\n    names: [traefik]\n";
    std::fs::write(dir.path().join("env.yaml"), env_yaml).unwrap();
    vixens_testkit::vixens().arg("credentials").arg(dir.path().join("env.yaml")).assert().code(2).stderr(
        predicate::str::contains("vixens credentials real: ")
            .and(predicate::str::contains("sets no `credentials`: nothing says where fresh credentials come from")),
    );
}
