//! `vixens doctor`: the preflight, against env.yaml fixtures. Each check is shown to fail with
//! its remedy, and to pass against a stand-in API on this machine.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use predicates::prelude::*;
use vixens_testkit::{fixture, vixens};

/// An env.yaml in a fresh folder, with `extra` appended (paths in it are relative to that folder).
fn env_dir(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("terraform")).unwrap();
    std::fs::write(dir.path().join("terraform/main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
    let yaml = format!(
        "name: t\nkind: disposable\ninfra-repo: .\nkubeconfig: kubeconfig\ntalosconfig: talosconfig\n\
         nodes:\n  - {{ name: cp1, address: 192.0.2.1, role: controlplane }}\n\
         argocd:\n  system-apps: {{ max-sync-wave: 2 }}\n{extra}"
    );
    std::fs::write(dir.path().join("env.yaml"), yaml).unwrap();
    dir
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

/// A stand-in Kubernetes API on loopback answering `GET /version` (401 unless `accepts_token`,
/// as a real server does for a stale token); sends each request's `Authorization` header back to
/// the test.
fn kubernetes_api(accepts_token: bool) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut authorization = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.strip_prefix("authorization: ").or_else(|| line.strip_prefix("Authorization: ")) {
                    authorization = value.trim().to_owned();
                }
            }
            let _ = tx.send(authorization);
            let (status, body) = if accepts_token {
                (
                    "200 OK",
                    r#"{"major":"1","minor":"31","gitVersion":"v1.31.4","gitCommit":"a","gitTreeState":"clean","buildDate":"2026-01-01T00:00:00Z","goVersion":"go1.25","compiler":"gc","platform":"linux/amd64"}"#,
                )
            } else {
                (
                    "401 Unauthorized",
                    r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#,
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, rx)
}

const TOKEN: &str = "kube-token-that-must-never-be-printed";

fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: admin@t\nclusters:\n- name: t\n  cluster:\n    server: {server}\n\
         contexts:\n- name: admin@t\n  context: {{cluster: t, user: admin}}\nusers:\n- name: admin\n  user:\n    token: {TOKEN}\n"
    )
}

fn talosconfig(endpoint: &str) -> String {
    format!("context: t\ncontexts:\n  t:\n    endpoints: [\"{endpoint}\"]\n    nodes: [\"192.0.2.1\"]\n    key: dGFsb3MtYXBpLWtleS12YWx1ZQ==\n")
}

#[test]
fn missing_files_each_fail_with_their_remedy() {
    let out = vixens().arg("doctor").arg(fixture("doctor/missing-files/env.yaml")).assert().code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let dir = fixture("doctor/missing-files");
    for (check, detail, remedy) in [
        (
            "terraform-root",
            format!("{} is not readable", dir.join("no-such-root").display()),
            "point terraform.root in env.yaml at the environment's root module",
        ),
        ("infra-repo", format!("{} is not a folder", dir.join("no-such-repo").display()), "point infra-repo in env.yaml at the GitOps repository"),
        ("kubeconfig", format!("{} does not exist", dir.join("no-such-kubeconfig").display()), "put the kubeconfig at"),
        ("talosconfig", format!("{} does not exist", dir.join("no-such-talosconfig").display()), "put the talosconfig at"),
        ("kubernetes-api", "not checked: no usable kubeconfig".to_owned(), "fix the check above first"),
        ("talos-api", "not checked: no usable talosconfig".to_owned(), "fix the check above first"),
    ] {
        let line = stdout
            .lines()
            .position(|l| l.split_whitespace().take(2).eq(["FAIL", check]))
            .unwrap_or_else(|| panic!("no FAIL line for {check}:\n{stdout}"));
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[line].contains(&detail), "{check}: {}", lines[line]);
        assert!(lines[line + 1].trim_start().starts_with(&format!("remedy: {remedy}")), "{check}: {}", lines[line + 1]);
    }
    assert!(stdout.contains("  ok    env.yaml "), "{stdout}");
    // talosctl may or may not be installed here: count on the six above, not on the total.
    assert!(stdout.lines().last().unwrap().starts_with("missing-files is not ready: "), "{stdout}");
}

#[test]
fn tools_are_listed_with_their_versions() {
    let dir = env_dir("terraform:\n  root: terraform\n");
    let out = vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let terraform = stdout.lines().find(|l| l.contains(" terraform ")).unwrap();
    assert!(terraform.starts_with("  ok    terraform ") && terraform.contains("terraform v1."), "{stdout}");
    let kubectl = stdout.lines().find(|l| l.contains(" kubectl ")).unwrap();
    assert!(kubectl.starts_with("  ok    kubectl ") && kubectl.contains("kubectl v1."), "{stdout}");
}

#[test]
fn a_missing_terraform_binary_fails_with_its_remedy() {
    let dir = env_dir("terraform:\n  root: terraform\n  binary: tofu-not-installed-here\n");
    vixens()
        .arg("doctor")
        .arg(dir.path().join("env.yaml"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  terraform       `tofu-not-installed-here` not found in tools-path or PATH"))
        .stdout(predicate::str::contains(
            "remedy: install tofu-not-installed-here (terraform >= 1.5, or OpenTofu with `terraform.binary: tofu` in env.yaml)",
        ));
}

#[test]
fn terraform_runs_with_the_user_s_cli_configuration_untouched() {
    let dir = env_dir("terraform:\n  root: terraform\n  binary: ./fake-terraform\n");
    script(dir.path(), "fake-terraform", r#"echo "{\"terraform_version\": \"1.11.4 with TF_CLI_CONFIG_FILE=${TF_CLI_CONFIG_FILE-unset}\"}""#);
    let doctor = || {
        let mut doctor = vixens();
        doctor.current_dir(dir.path()).arg("doctor").arg("env.yaml");
        doctor
    };
    // Unset: terraform reads ~/.terraformrc, as at the user's prompt.
    doctor().assert().stdout(predicate::str::contains("ok    terraform       ./fake-terraform v1.11.4 with TF_CLI_CONFIG_FILE=unset"));
    let rc = dir.path().join("terraformrc");
    std::fs::write(&rc, "plugin_cache_dir = \"/var/cache/terraform\"\n").unwrap();
    doctor()
        .env("TF_CLI_CONFIG_FILE", &rc)
        .assert()
        .stdout(predicate::str::contains(format!("ok    terraform       ./fake-terraform v1.11.4 with TF_CLI_CONFIG_FILE={}", rc.display())));
}

#[test]
fn talosctl_is_taken_from_the_tools_path_first() {
    let dir = env_dir("terraform:\n  root: terraform\ntools-path: [bin]\n");
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    script(&dir.path().join("bin"), "talosctl", "printf 'Client:\\n\\tTag:         v1.13.9\\n\\tSHA:         1a2b3c4d\\n'");
    let stdout = String::from_utf8(vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert().get_output().stdout.clone()).unwrap();
    let expected = format!("ok    talosctl        talosctl v1.13.9 ({})", dir.path().join("bin/talosctl").display());
    assert!(stdout.contains(&expected), "{stdout}");
}

#[test]
fn reachable_apis_pass_and_the_token_is_never_printed() {
    let dir = env_dir("terraform:\n  root: terraform\ntools-path: [bin]\n");
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    script(&dir.path().join("bin"), "talosctl", "printf 'Client:\\n\\tTag:         v1.13.9\\n'");
    let (url, authorizations) = kubernetes_api(true);
    let talos = TcpListener::bind("127.0.0.1:0").unwrap();
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&url)).unwrap();
    std::fs::write(dir.path().join("talosconfig"), talosconfig(&talos.local_addr().unwrap().to_string())).unwrap();

    let out = vixens().env("RUST_LOG", "debug").arg("doctor").arg(dir.path().join("env.yaml")).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stdout.contains(&format!("ok    kubernetes-api  {url} answered GET /version: Kubernetes v1.31.4 in ")), "{stdout}");
    assert!(stdout.contains(&format!("ok    talos-api       {} accepts connections", talos.local_addr().unwrap())), "{stdout}");
    assert!(stdout.contains("(context admin@t, server "), "{stdout}");
    assert!(stdout.ends_with("t is ready to be tested\n"), "{stdout}");
    assert_eq!(authorizations.recv().unwrap(), format!("Bearer {TOKEN}"), "doctor must authenticate with the kubeconfig's credentials");
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked:\n{stdout}\n{stderr}");
}

#[test]
fn a_stale_token_fails_the_kubernetes_api_check_with_its_remedy() {
    let dir = env_dir("terraform:\n  root: terraform\n");
    let (url, _) = kubernetes_api(false);
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&url)).unwrap();
    let out = vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert().code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    assert!(
        stdout.contains(&format!(
            "FAIL  kubernetes-api  {url} answered 401 Unauthorized: it does not accept the credentials of {}",
            kubeconfig.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("remedy: regenerate the kubeconfig (talosctl kubeconfig, or terraform output): its token or certificate is stale"),
        "{stdout}"
    );
    assert!(!stdout.contains(TOKEN));
}

#[test]
fn a_protected_environment_without_a_read_only_identity_fails_with_its_remedy() {
    let dir = env_dir("terraform:\n  root: terraform\n");
    let env_yaml = dir.path().join("env.yaml");
    std::fs::write(&env_yaml, std::fs::read_to_string(&env_yaml).unwrap().replace("kind: disposable", "kind: protected")).unwrap();
    let out = vixens().arg("doctor").arg(&env_yaml).assert().code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("FAIL  kubeconfig-readonly  `t` is protected and its env.yaml ("), "{stdout}");
    assert!(stdout.contains("remedy: set `kubeconfig-readonly` in env.yaml: a kubeconfig whose user may only get, list and watch"), "{stdout}");
}

#[test]
fn unreachable_apis_fail_with_their_remedy() {
    let dir = env_dir("terraform:\n  root: terraform\n");
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&format!("https://{closed}"))).unwrap();
    std::fs::write(dir.path().join("talosconfig"), talosconfig(&closed.to_string())).unwrap();
    let out = vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert().code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains(&format!("FAIL  kubernetes-api  https://{closed} unreachable: ")), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "remedy: is the cluster up and the VIP reachable from here? try `kubectl --kubeconfig {} get --raw /version`",
            dir.path().join("kubeconfig").display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("FAIL  talos-api       {closed} unreachable (")), "{stdout}");
    assert!(!stdout.contains(TOKEN));
}

#[test]
fn an_environment_the_harness_brings_up_only_warns_before_it_is_up() {
    let dir = env_dir("terraform:\n  root: terraform\nprovisioning:\n  env: {}\n");
    let out = vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("warn  kubeconfig "), "{stdout}");
    assert!(stdout.contains("(not brought up yet)"), "{stdout}");
    assert!(stdout.contains("remedy: the suites bring t up; or put the kubeconfig at"), "{stdout}");
}

#[test]
fn an_unknown_environment_lists_the_known_ones() {
    let ws = tempfile::tempdir().unwrap();
    for env in ["lab", "dev"] {
        std::fs::create_dir_all(ws.path().join("environments").join(env)).unwrap();
        std::fs::write(ws.path().join("environments").join(env).join("env.yaml"), "").unwrap();
    }
    vixens()
        .current_dir(ws.path())
        .args(["doctor", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no environment named `staging`"))
        .stderr(predicate::str::contains("known environments: dev, lab"));
}

#[test]
fn a_bad_env_yaml_is_rendered_with_its_places_and_exits_2() {
    vixens()
        .arg("doctor")
        .arg(fixture("bad-env/unknown-keys.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-env/unknown-keys.yaml:7:3]"))
        .stderr(predicate::str::contains("unknown key `terraform.binry`"))
        .stderr(predicate::str::contains("did you mean `binary`?"));
}

#[test]
fn the_system_apps_are_resolved_from_the_gitops_overlay_each_with_its_rule() {
    let work = tempfile::tempdir().unwrap();
    let lab = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments/lab/env.yaml");
    let out = vixens().arg("doctor").arg(lab).env("VIXENS_WORK_DIR", work.path()).assert();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let line = stdout.lines().find(|l| l.contains("system-apps")).unwrap_or_else(|| panic!("no system-apps line: {stdout}"));
    assert!(
        line.starts_with("  ok    system-apps")
            && line.contains("17 of the Applications of ")
            && line.ends_with("by names [metrics-server] or folders [apps/00-infra/*, apps/01-storage/*, apps/_shared/*]:"),
        "{stdout}"
    );
    for selected in
        ["cert-manager-webhook-gandi (folder apps/00-infra/*)", "nfs-storage (folder apps/01-storage/*)", "metrics-server (listed by name)"]
    {
        assert!(stdout.contains(&format!("\n        {selected}\n")), "{selected}: {stdout}");
    }
    for not_system in ["it-tools", "changedetection", "cloudnative-pg"] {
        assert!(!stdout.contains(&format!("        {not_system} (")), "{not_system} has no wave or a database tier: {stdout}");
    }
}

#[test]
fn without_a_gitops_tree_or_a_cluster_the_system_app_rules_are_shown_unresolved() {
    let dir = env_dir("terraform:\n  root: terraform\n");
    let out = vixens().arg("doctor").arg(dir.path().join("env.yaml")).assert();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("warn  system-apps     sync wave <= 2, not resolved: no GitOps tree (argocd.gitops) and no cluster"), "{stdout}");
}
