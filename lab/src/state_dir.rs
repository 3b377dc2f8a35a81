//! The state folder of one lab (`vixens-lab up --state-dir DIR`): what the daemon writes for its
//! clients, and the lock that says a daemon owns the folder.
//!
//! ```text
//! DIR/lab.json              name, pid, addresses, spec, start time (LabInfo)
//! DIR/kubeconfig            admin bearer token, CA inline, context = lab name
//! DIR/kubeconfig-readonly   a token allowed only get/list/watch
//! DIR/talosconfig           the real talosctl format, for the talosctl stand-in
//! DIR/ca.crt                the lab CA (public)
//! DIR/bin/talosctl          `exec vixens-lab talosctl "$@"`
//! DIR/bin/iscsiadm          `VIXENS_LAB_STATE_DIR=DIR exec vixens-lab iscsiadm "$@"`
//! DIR/iscsi/                the iSCSI sessions and node records the `iscsiadm` stand-in shows
//! DIR/daemon.log            the daemon's stdout and stderr
//! DIR/spec.json             the spec `up` asked for (read by the daemon at start)
//! DIR/daemon.lock           flock'ed by the running daemon: the folder's liveness, immune to pid reuse
//! DIR/up.lock               flock'ed by `up` while it starts a daemon: two `up`s never race
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rustix::fs::{FlockOperation, flock};
use serde::{Deserialize, Serialize};

use crate::spec::LabSpec;

/// What `DIR/lab.json` holds: how to reach a running lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabInfo {
    /// The lab (cluster) name.
    pub name: String,
    /// The daemon's process id.
    pub pid: u32,
    /// `https://127.0.0.1:PORT`: the Kubernetes API.
    pub api_url: String,
    /// `127.0.0.1:PORT`: the Talos API the talosctl stand-in calls.
    pub talos_endpoint: String,
    /// What the lab is made of.
    pub spec: LabSpec,
    /// When the daemon started serving (RFC 3339).
    pub started_at: String,
}

/// The credentials a lab hands to its clients. Secret: written only into 0600 files.
pub struct Credentials {
    /// The lab CA certificate (PEM).
    pub ca_pem: String,
    /// The talosconfig's placeholder client certificate (PEM).
    pub client_cert_pem: String,
    /// Bearer token with every right.
    pub admin_token: String,
    /// Bearer token allowed only get, list and watch.
    pub readonly_token: String,
    /// Bearer token of the Talos API.
    pub talos_token: String,
}

/// One state folder.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// The state folder at `root`, made absolute (the daemon and the talosctl shim outlive the
    /// caller's working directory).
    ///
    /// # Errors
    /// The current directory cannot be read.
    pub fn new(root: &Path) -> io::Result<Self> {
        Ok(Self { root: std::path::absolute(root)? })
    }

    /// The folder.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/lab.json`.
    #[must_use]
    pub fn lab_json(&self) -> PathBuf {
        self.root.join("lab.json")
    }
    /// `DIR/spec.json`.
    #[must_use]
    pub fn spec_json(&self) -> PathBuf {
        self.root.join("spec.json")
    }
    /// `DIR/kubeconfig`.
    #[must_use]
    pub fn kubeconfig(&self) -> PathBuf {
        self.root.join("kubeconfig")
    }
    /// `DIR/kubeconfig-readonly`.
    #[must_use]
    pub fn kubeconfig_readonly(&self) -> PathBuf {
        self.root.join("kubeconfig-readonly")
    }
    /// `DIR/talosconfig`.
    #[must_use]
    pub fn talosconfig(&self) -> PathBuf {
        self.root.join("talosconfig")
    }
    /// `DIR/ca.crt`.
    #[must_use]
    pub fn ca_crt(&self) -> PathBuf {
        self.root.join("ca.crt")
    }
    /// `DIR/bin/talosctl`.
    #[must_use]
    pub fn talosctl(&self) -> PathBuf {
        self.root.join("bin").join("talosctl")
    }
    /// `DIR/bin/iscsiadm`.
    #[must_use]
    pub fn iscsiadm(&self) -> PathBuf {
        self.root.join("bin").join("iscsiadm")
    }
    /// `DIR/daemon.log`.
    #[must_use]
    pub fn daemon_log(&self) -> PathBuf {
        self.root.join("daemon.log")
    }

    /// Reads `DIR/lab.json`; `None` when there is none.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn read_info(&self) -> io::Result<Option<LabInfo>> {
        match fs::read(self.lab_json()) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", self.lab_json().display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes `DIR/lab.json` (atomically: readers never see half a file).
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn write_info(&self, info: &LabInfo) -> io::Result<()> {
        write_atomic(&self.lab_json(), serde_json::to_string_pretty(info)?.as_bytes(), 0o644)
    }

    /// Writes every client file of a lab serving at `info`: kubeconfigs, talosconfig, CA and the
    /// talosctl and iscsiadm shims pointing at `lab_binary`.
    ///
    /// # Errors
    /// A file cannot be written.
    pub fn write_client_files(&self, info: &LabInfo, credentials: &Credentials, lab_binary: &Path) -> io::Result<()> {
        let kubeconfig = |user: &str, token: &str| kubeconfig(&info.name, &info.api_url, &credentials.ca_pem, user, token);
        write_atomic(&self.kubeconfig(), kubeconfig(&format!("{}-admin", info.name), &credentials.admin_token).as_bytes(), 0o600)?;
        write_atomic(&self.kubeconfig_readonly(), kubeconfig(&format!("{}-readonly", info.name), &credentials.readonly_token).as_bytes(), 0o600)?;
        let first_control_plane = info.spec.nodes.iter().find(|n| n.role == "controlplane").or(info.spec.nodes.first());
        let talosconfig = talosconfig(&info.name, &info.talos_endpoint, first_control_plane.map(|n| n.address.as_str()), credentials);
        write_atomic(&self.talosconfig(), talosconfig.as_bytes(), 0o600)?;
        write_atomic(&self.ca_crt(), credentials.ca_pem.as_bytes(), 0o644)?;
        self.write_tools(lab_binary)
    }

    /// `DIR/bin/talosctl` and `DIR/bin/iscsiadm`, the stand-ins of the tools an operator's machine
    /// has whatever the cluster's state: written even when the lab refuses to start, so that
    /// what checks the NAS after a failed apply finds its `iscsiadm`, as on the homelab.
    ///
    /// # Errors
    /// A file cannot be written.
    pub fn write_tools(&self, lab_binary: &Path) -> io::Result<()> {
        fs::create_dir_all(self.root.join("bin"))?;
        let binary = shell_quote(&lab_binary.to_string_lossy());
        let shim = format!("#!/bin/sh\nexec {binary} talosctl \"$@\"\n");
        write_atomic(&self.talosctl(), shim.as_bytes(), 0o755)?;
        let root = shell_quote(&self.root.to_string_lossy());
        let shim = format!("#!/bin/sh\n{}={root} exec {binary} iscsiadm \"$@\"\n", crate::iscsiadm::STATE_DIR_VAR);
        write_atomic(&self.iscsiadm(), shim.as_bytes(), 0o755)
    }

    /// Takes the daemon lock (`DIR/daemon.lock`) without waiting; `None` when another process
    /// holds it. The lock lasts as long as the returned file is open, and the kernel releases it
    /// when its holder dies, whatever the cause.
    ///
    /// # Errors
    /// The lock file cannot be opened.
    pub fn try_lock_daemon(&self) -> io::Result<Option<File>> {
        try_lock(&self.root.join("daemon.lock"))
    }

    /// True when a daemon holds this folder's lock.
    ///
    /// # Errors
    /// The lock file cannot be opened.
    pub fn daemon_running(&self) -> io::Result<bool> {
        if !self.root.join("daemon.lock").exists() {
            return Ok(false);
        }
        Ok(self.try_lock_daemon()?.is_none())
    }

    /// Takes `DIR/up.lock`, waiting for another `up` on the same folder to finish.
    ///
    /// # Errors
    /// The lock file cannot be opened or locked.
    pub fn lock_up(&self) -> io::Result<File> {
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(self.root.join("up.lock"))?;
        flock(&file, FlockOperation::LockExclusive)?;
        Ok(file)
    }
}

pub(crate) fn try_lock(path: &Path) -> io::Result<Option<File>> {
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(path)?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(file)),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes `path` through a temporary file and a rename, with `mode` set before any byte lands.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = OpenOptions::new().create(true).truncate(true).write(true).mode(mode).open(&tmp)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

/// A kubeconfig for one user of the lab; the context is named after the lab.
fn kubeconfig(name: &str, server: &str, ca_pem: &str, user: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {name}
  cluster:
    server: {server}
    certificate-authority-data: {ca}
users:
- name: {user}
  user:
    token: {token}
contexts:
- name: {name}
  context:
    cluster: {name}
    user: {user}
current-context: {name}
preferences: {{}}
",
        ca = BASE64.encode(ca_pem),
    )
}

/// A talosconfig in the real talosctl format (see CONTRACTS.md): `key` holds the Talos API token.
fn talosconfig(name: &str, endpoint: &str, node: Option<&str>, credentials: &Credentials) -> String {
    let nodes = node.map_or_else(String::new, |n| format!("\"{n}\""));
    format!(
        "context: {name}
contexts:
  {name}:
    endpoints: [\"{endpoint}\"]
    nodes: [{nodes}]
    ca: {ca}
    crt: {crt}
    key: {key}
",
        ca = BASE64.encode(&credentials.ca_pem),
        crt = BASE64.encode(&credentials.client_cert_pem),
        key = BASE64.encode(&credentials.talos_token),
    )
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            ca_pem: "CA".into(),
            client_cert_pem: "CRT".into(),
            admin_token: "admin-token".into(),
            readonly_token: "ro-token".into(),
            talos_token: "talos-token".into(),
        }
    }

    #[test]
    fn the_talosconfig_names_the_first_control_plane_and_encodes_the_token() {
        let text = talosconfig("lab", "127.0.0.1:4443", Some("10.5.0.2"), &credentials());
        insta::assert_snapshot!(text, @r#"
        context: lab
        contexts:
          lab:
            endpoints: ["127.0.0.1:4443"]
            nodes: ["10.5.0.2"]
            ca: Q0E=
            crt: Q1JU
            key: dGFsb3MtdG9rZW4=
        "#);
    }

    #[test]
    fn client_files_are_private_and_the_shim_execs_the_lab_binary() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path()).unwrap();
        let spec = LabSpec {
            name: "lab".into(),
            nodes: LabSpec::nodes_for("lab", 1, 0),
            apps: vec![],
            time_scale: 1.0,
            faults: crate::faults::Faults::default(),
            idle_timeout: std::time::Duration::from_secs(60),
            nas_dir: None,
            argocd_version: crate::spec::ArgoCdVersion::default(),
            root_app: None,
        };
        let info = LabInfo {
            name: "lab".into(),
            pid: 1,
            api_url: "https://127.0.0.1:1".into(),
            talos_endpoint: "127.0.0.1:1".into(),
            spec,
            started_at: "2026-11-26T00:00:00Z".into(),
        };
        state.write_client_files(&info, &credentials(), Path::new("/opt/it's/vixens-lab")).unwrap();
        let mode = |p: PathBuf| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(state.kubeconfig()), 0o600);
        assert_eq!(mode(state.talosconfig()), 0o600);
        assert_eq!(mode(state.talosctl()), 0o755);
        assert_eq!(fs::read_to_string(state.talosctl()).unwrap(), "#!/bin/sh\nexec '/opt/it'\\''s/vixens-lab' talosctl \"$@\"\n");
        let kubeconfig = fs::read_to_string(state.kubeconfig_readonly()).unwrap();
        assert!(kubeconfig.contains("token: ro-token") && kubeconfig.contains("current-context: lab"));
    }

    #[test]
    fn the_daemon_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path()).unwrap();
        assert!(!state.daemon_running().unwrap());
        let held = state.try_lock_daemon().unwrap().unwrap();
        assert!(state.daemon_running().unwrap());
        drop(held);
        assert!(!state.daemon_running().unwrap());
    }
}
