//! Credentials rotate as on a recreated cluster: every `vixens-lab up` mints a new CA, admin
//! token, Talos credentials and ServiceAccount signing key, and the previous incarnation's are
//! refused (a TLS failure for the old CA, 401 for the old token), while the new files work.

use crate::{Lab, stdout, vixens_lab};

/// `kubeconfig` with its server replaced by `server`: an old copy pointed at the new cluster.
fn pointed_at(kubeconfig: &str, server: &str) -> String {
    kubeconfig
        .lines()
        .map(|l| if l.trim_start().starts_with("server: ") { format!("    server: {server}") } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn field<'a>(kubeconfig: &'a str, key: &str) -> &'a str {
    kubeconfig.lines().find_map(|l| l.trim_start().strip_prefix(key)).expect("the field")
}

#[test]
fn after_a_recreate_the_old_credentials_are_refused_and_the_new_ones_work() {
    let lab = Lab::up(&["--time-scale", "0.2"]);
    let old = std::fs::read_to_string(lab.path("kubeconfig")).unwrap();
    let old_talosconfig = std::fs::read_to_string(lab.path("talosconfig")).unwrap();
    let state = lab.dir().to_str().unwrap();
    assert!(vixens_lab(&["down", "--state-dir", state], "").status.success());
    let up = vixens_lab(&["up", "--state-dir", state, "--time-scale", "0.2", "--idle-timeout", "120s"], "");
    assert!(up.status.success(), "{up:?}");
    let new = std::fs::read_to_string(lab.path("kubeconfig")).unwrap();
    let server = field(&new, "server: ");
    assert_ne!(field(&old, "certificate-authority-data: "), field(&new, "certificate-authority-data: "), "a new CA");
    assert_ne!(field(&old, "token: "), field(&new, "token: "), "new admin credentials");

    std::fs::write(lab.path("kubeconfig-old"), pointed_at(&old, server)).unwrap();
    let refused = lab.kubectl_as("kubeconfig-old", &["get", "nodes"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "{stderr}");

    let old_token_new_ca = new.replace(field(&new, "token: "), field(&old, "token: "));
    std::fs::write(lab.path("kubeconfig-old-token"), old_token_new_ca).unwrap();
    let unauthorized = lab.kubectl_as("kubeconfig-old-token", &["get", "nodes"]);
    assert_eq!(
        String::from_utf8_lossy(&unauthorized.stderr).lines().last().unwrap_or_default(),
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    );

    assert!(stdout(&lab.kubectl(&["get", "nodes", "-o", "name"])).lines().count() <= 3, "the new kubeconfig works");
    assert_ne!(old_talosconfig, std::fs::read_to_string(lab.path("talosconfig")).unwrap(), "new Talos credentials");
    std::fs::write(lab.path("talosconfig-old"), &old_talosconfig).unwrap();
    let talos = std::process::Command::new(lab.path("bin/talosctl"))
        .args(["version", "--talosconfig", lab.path("talosconfig-old").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!talos.status.success(), "the old talosconfig is refused: {talos:?}");
}
