//! Faults on demand, from `VIXENS_LAB_FAULTS` (comma-separated, read by `vixens-lab up`, so it
//! passes through terraform's environment to the local-exec provisioner).
//!
//! Each fault makes one check of the harness fail the way the real homelab would make it fail.

use std::fmt;
use std::time::Duration;

/// The environment variable holding the faults.
pub const FAULTS_VAR: &str = "VIXENS_LAB_FAULTS";

/// The faults injected into one lab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// `app-degraded=APP`: the app's health goes Degraded after its sync and stays there.
    pub app_degraded: Vec<String>,
    /// `app-stuck=APP`: the app's sync operation stays Running forever (Progressing, OutOfSync).
    pub app_stuck: Vec<String>,
    /// `manual-sync=APP`: the app's sync was initiated by a user, not automatically.
    pub manual_sync: Vec<String>,
    /// `sync-fail=APP`: every sync attempt of the app fails (a webhook it needs refuses
    /// connections); Argo CD retries up to its limit, then gives up with a SyncError.
    pub sync_fail: Vec<String>,
    /// `talos-error=NODE[:KIND]`: that node's logs show the failure KIND (a disk's I/O errors by
    /// default), as real Talos logs it; several may name one node.
    pub talos_error: Vec<TalosError>,
    /// `node-not-ready=NODE`: the node never reports Ready (Kubernetes and `talosctl health`).
    pub node_not_ready: Vec<String>,
    /// `slow-bootstrap=SECONDS`: the Argo CD bootstrap takes this much longer.
    pub slow_bootstrap: Option<Duration>,
    /// `api-restart=SECONDS`: after this delay the API drops every connection and watch once,
    /// then serves again.
    pub api_restart: Option<Duration>,
    /// `apply-fail`: `vixens-lab up` fails, so `terraform apply` fails.
    pub apply_fail: bool,
    /// `protected-delete`: a protected storage resource is put into the destroy plan (the lab's
    /// terraform root reads this fault from its `faults` variable).
    pub protected_delete: bool,
    /// `wipe-lun=CLAIM`: `vixens-lab down` deletes the NAS LUN file of that claim, as a person
    /// or a stray script would behind the harness's back; the protected inventory check after
    /// destroy must notice it.
    pub wipe_lun: Vec<String>,
    /// `slow-destroy=SECONDS`: `vixens-lab down` takes this long before it stops the lab, as a
    /// slow `talosctl reset` does, so a destroy can overrun its budget mid-apply.
    pub slow_destroy: Option<Duration>,
    /// `token-ttl=SECONDS`: ServiceAccount tokens from the TokenRequest API live at most this long
    /// (as `--service-account-max-token-expiration` would), so that expiry is seen in seconds.
    pub token_ttl: Option<Duration>,
    /// `nas-unreachable`: the NAS's iSCSI portal refuses connections, so `iscsiadm -m discovery`
    /// fails as open-iscsi does when the NAS is down.
    pub nas_unreachable: bool,
    /// `iscsiadm-not-root`: the `iscsiadm` stand-in runs as a user who is not root, and fails
    /// where open-iscsi needs root (its node database).
    pub iscsiadm_not_root: bool,
}

/// One `talos-error` fault: a node and what fails on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalosError {
    /// The node, by hostname or address.
    pub node: String,
    /// What fails.
    pub kind: TalosErrorKind,
}

/// The failures `talos-error=NODE:KIND` puts in a node's logs, each in the lines real Talos, its
/// kernel and its services print for it. The node's services still come up (the lab's health
/// checks pass), so that a cycle reaches its logs phase, which must find them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TalosErrorKind {
    /// `disk-io` (the default): the data disk fails writes; the mount controller fails.
    DiskIo,
    /// `fs-error`: XFS finds corrupt metadata on EPHEMERAL and shuts the filesystem down.
    FsError,
    /// `crash-loop`: ext-iscsid cannot load a library and exits 127, restarted forever.
    CrashLoop,
    /// `etcd-oom`: the kernel OOM killer kills etcd, which restarts (control planes).
    EtcdOom,
    /// `image-pull`: a pod's image tag does not exist; the kubelet backs off pulling it.
    ImagePull,
    /// `certificate`: the node trusts another cluster's CA (secrets drifted).
    Certificate,
    /// `etcd-quorum`: etcd loses its quorum and keeps starting elections (control planes).
    EtcdQuorum,
    /// `extension`: the iscsi-tools extension's daemon cannot bind its netlink socket and exits.
    Extension,
    /// `kubelet-start`: the kubelet refuses to run with swap on and exits, restarted forever.
    KubeletStart,
    /// `panic`: etcd panics in bbolt at start, and is restarted (control planes).
    Panic,
    /// `mount`: a CSI volume's MountDevice fails (wrong filesystem).
    Mount,
    /// `time-sync`: every NTP query times out.
    TimeSync,
    /// `network`: no route off the node's subnet: image pulls and NTP are unreachable.
    Network,
    /// `service-failed`: apid cannot import its image (disk full) and goes to Failed.
    ServiceFailed,
}

impl TalosErrorKind {
    /// Every kind, with its name in `VIXENS_LAB_FAULTS`.
    pub const ALL: [(&'static str, Self); 14] = [
        ("disk-io", Self::DiskIo),
        ("fs-error", Self::FsError),
        ("crash-loop", Self::CrashLoop),
        ("etcd-oom", Self::EtcdOom),
        ("image-pull", Self::ImagePull),
        ("certificate", Self::Certificate),
        ("etcd-quorum", Self::EtcdQuorum),
        ("extension", Self::Extension),
        ("kubelet-start", Self::KubeletStart),
        ("panic", Self::Panic),
        ("mount", Self::Mount),
        ("time-sync", Self::TimeSync),
        ("network", Self::Network),
        ("service-failed", Self::ServiceFailed),
    ];

    /// The kind's name in `VIXENS_LAB_FAULTS`.
    #[must_use]
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(_, k)| *k == self).map_or("disk-io", |(n, _)| n)
    }

    /// True when only a control plane runs what fails (etcd).
    #[must_use]
    pub fn needs_control_plane(self) -> bool {
        matches!(self, Self::EtcdOom | Self::EtcdQuorum | Self::Panic)
    }
}

/// A fault list that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{FAULTS_VAR}: {message}; known faults: {KNOWN}")]
pub struct FaultError {
    /// What is wrong.
    pub message: String,
}

const KNOWN: &str = "app-degraded=APP, app-stuck=APP, manual-sync=APP, sync-fail=APP, talos-error=NODE[:KIND], \
node-not-ready=NODE, slow-bootstrap=SECONDS, api-restart=SECONDS, apply-fail, protected-delete, wipe-lun=CLAIM, \
slow-destroy=SECONDS, token-ttl=SECONDS, nas-unreachable, iscsiadm-not-root";

impl Faults {
    /// Reads [`FAULTS_VAR`] from the process environment; unset or empty means no faults.
    ///
    /// # Errors
    /// An unknown fault, or a fault missing its value.
    pub fn from_env() -> Result<Self, FaultError> {
        Self::parse(&std::env::var(FAULTS_VAR).unwrap_or_default())
    }

    /// Parses `app-degraded=traefik,slow-bootstrap=20,apply-fail`.
    ///
    /// # Errors
    /// An unknown fault, or a fault missing its value.
    pub fn parse(text: &str) -> Result<Self, FaultError> {
        let mut faults = Self::default();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (item, None),
            };
            let need = |what: &str| -> Result<String, FaultError> {
                value
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| FaultError { message: format!("`{name}` needs a value: {name}={what}") })
            };
            let seconds = |v: String| -> Result<Duration, FaultError> {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| FaultError { message: format!("`{name}={v}`: expected a number of seconds") })
            };
            match name {
                "app-degraded" => faults.app_degraded.push(need("APP")?),
                "app-stuck" => faults.app_stuck.push(need("APP")?),
                "manual-sync" => faults.manual_sync.push(need("APP")?),
                "sync-fail" => faults.sync_fail.push(need("APP")?),
                "talos-error" => faults.talos_error.push(talos_error(&need("NODE[:KIND]")?)?),
                "node-not-ready" => faults.node_not_ready.push(need("NODE")?),
                "slow-bootstrap" => faults.slow_bootstrap = Some(seconds(need("SECONDS")?)?),
                "api-restart" => faults.api_restart = Some(seconds(need("SECONDS")?)?),
                "apply-fail" => faults.apply_fail = true,
                "protected-delete" => faults.protected_delete = true,
                "wipe-lun" => faults.wipe_lun.push(need("CLAIM")?),
                "slow-destroy" => faults.slow_destroy = Some(seconds(need("SECONDS")?)?),
                "token-ttl" => faults.token_ttl = Some(seconds(need("SECONDS")?)?),
                "nas-unreachable" => faults.nas_unreachable = true,
                "iscsiadm-not-root" => faults.iscsiadm_not_root = true,
                other => return Err(FaultError { message: format!("unknown fault `{other}`") }),
            }
        }
        Ok(faults)
    }

    /// True when no fault is injected.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// `NODE` or `NODE:KIND`.
fn talos_error(value: &str) -> Result<TalosError, FaultError> {
    let (node, kind) = value.split_once(':').unwrap_or((value, "disk-io"));
    let kind = TalosErrorKind::ALL.iter().find(|(n, _)| *n == kind).map(|(_, k)| *k).ok_or_else(|| {
        let kinds: Vec<&str> = TalosErrorKind::ALL.iter().map(|(n, _)| *n).collect();
        FaultError { message: format!("`talos-error={value}`: unknown kind `{kind}`; the kinds are {}", kinds.join(", ")) }
    })?;
    Ok(TalosError { node: node.to_owned(), kind })
}

impl fmt::Display for Faults {
    /// Writes the faults back in the `VIXENS_LAB_FAULTS` syntax.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items = Vec::new();
        items.extend(self.talos_error.iter().map(|t| format!("talos-error={}:{}", t.node, t.kind.name())));
        for (name, values) in [
            ("app-degraded", &self.app_degraded),
            ("app-stuck", &self.app_stuck),
            ("manual-sync", &self.manual_sync),
            ("sync-fail", &self.sync_fail),
            ("node-not-ready", &self.node_not_ready),
            ("wipe-lun", &self.wipe_lun),
        ] {
            items.extend(values.iter().map(|v| format!("{name}={v}")));
        }
        for (name, value) in [
            ("slow-bootstrap", self.slow_bootstrap),
            ("api-restart", self.api_restart),
            ("slow-destroy", self.slow_destroy),
            ("token-ttl", self.token_ttl),
        ] {
            if let Some(d) = value {
                items.push(format!("{name}={}", d.as_secs_f64()));
            }
        }
        if self.apply_fail {
            items.push("apply-fail".into());
        }
        for (name, set) in
            [("protected-delete", self.protected_delete), ("nas-unreachable", self.nas_unreachable), ("iscsiadm-not-root", self.iscsiadm_not_root)]
        {
            if set {
                items.push(name.into());
            }
        }
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_fault_and_writes_it_back() {
        let text = "app-degraded=traefik,app-stuck=keda,manual-sync=cert-manager,sync-fail=cert-manager-config,talos-error=lab-cp-2,\
                    talos-error=lab-cp-1:panic,node-not-ready=lab-cp-3,slow-bootstrap=20,api-restart=1.5,apply-fail,protected-delete,\
                    wipe-lun=vaultwarden-data,slow-destroy=40,token-ttl=2,nas-unreachable,iscsiadm-not-root";
        let faults = Faults::parse(text).unwrap();
        assert_eq!(faults.app_degraded, ["traefik"]);
        assert_eq!(
            faults.talos_error,
            [
                TalosError { node: "lab-cp-2".into(), kind: TalosErrorKind::DiskIo },
                TalosError { node: "lab-cp-1".into(), kind: TalosErrorKind::Panic }
            ]
        );
        assert_eq!(faults.slow_bootstrap, Some(Duration::from_secs(20)));
        assert_eq!(faults.api_restart, Some(Duration::from_millis(1500)));
        assert!(faults.apply_fail && faults.protected_delete);
        assert_eq!(faults.wipe_lun, ["vaultwarden-data"]);
        assert_eq!((faults.slow_destroy, faults.token_ttl), (Some(Duration::from_secs(40)), Some(Duration::from_secs(2))));
        assert!(faults.nas_unreachable && faults.iscsiadm_not_root);
        assert_eq!(Faults::parse(&faults.to_string()).unwrap(), faults);
    }

    #[test]
    fn empty_means_no_fault() {
        assert!(Faults::parse("").unwrap().is_empty());
        assert!(Faults::parse(" , ").unwrap().is_empty());
    }

    #[test]
    fn an_unknown_fault_is_a_clear_error() {
        let err = Faults::parse("app-degraded=traefik,disk-full").unwrap_err();
        assert_eq!(err.message, "unknown fault `disk-full`");
        assert!(err.to_string().starts_with("VIXENS_LAB_FAULTS: unknown fault `disk-full`; known faults: app-degraded=APP"));
    }

    #[test]
    fn every_talos_error_kind_has_a_name_that_reads_back() {
        for (name, kind) in TalosErrorKind::ALL {
            assert_eq!(Faults::parse(&format!("talos-error=n:{name}")).unwrap().talos_error[0].kind, kind);
            assert_eq!(kind.name(), name);
        }
        let err = Faults::parse("talos-error=lab-cp-1:meltdown").unwrap_err();
        assert!(err.message.starts_with("`talos-error=lab-cp-1:meltdown`: unknown kind `meltdown`; the kinds are disk-io, fs-error"), "{err}");
    }

    #[test]
    fn a_fault_without_its_value_is_a_clear_error() {
        assert_eq!(Faults::parse("app-stuck").unwrap_err().message, "`app-stuck` needs a value: app-stuck=APP");
        assert_eq!(Faults::parse("slow-bootstrap=soon").unwrap_err().message, "`slow-bootstrap=soon`: expected a number of seconds");
    }
}
