//! The Synology CSI node plugin's side of a volume: once an app with volumes has synced, each of
//! its claims is logged in over iSCSI on one node (picked by the claim's hash, as the scheduler
//! would place the pod), leaving what a real attach leaves in the kernel ring buffer and in
//! `ext-iscsid`'s log, including the connection drop and recovery that homelab operators see
//! every day and that must not be mistaken for an error.
//!
//! The plugin learns about synced apps the way the real one learns about volume attachments:
//! by watching the cluster's objects (here, the Applications in the store).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::kube::{fnv1a, hex_id, uuid_like};
use super::logfmt::{Facility, Priority};
use super::{Cluster, NAS_PORTAL};
use crate::store::ResourceId;

/// Attaches every claim of every app that syncs, for the life of the lab.
pub(super) async fn attach_volumes(cluster: Arc<Cluster>) {
    let claims_of: BTreeMap<&str, &[String]> =
        cluster.spec.apps.iter().filter(|a| !a.volumes.is_empty()).map(|a| (a.name.as_str(), a.volumes.as_slice())).collect();
    if claims_of.is_empty() || cluster.nodes.is_empty() {
        return;
    }
    let applications = ResourceId::new("argoproj.io", "applications");
    let mut plugin = NodePlugin { cluster: &cluster, attached: BTreeSet::new(), sessions: BTreeMap::new() };
    loop {
        // List, then watch from the list's version; a lagging watch lists again.
        let (items, revision) = cluster.store.list(&applications, Some("argocd"));
        for app in &items {
            plugin.on_application(app, &claims_of);
        }
        let Ok(mut watch) = cluster.store.watch(&applications, Some("argocd"), revision) else { continue };
        for event in &watch.backlog {
            plugin.on_application(&event.object, &claims_of);
        }
        loop {
            match watch.live.recv().await {
                Ok(event) if crate::store::matches(&event, &applications, Some("argocd")) => plugin.on_application(&event.object, &claims_of),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return,
            }
        }
    }
}

struct NodePlugin<'a> {
    cluster: &'a Cluster,
    attached: BTreeSet<String>,
    /// iSCSI sessions per node index: numbers the SCSI host, connection and disk letter.
    sessions: BTreeMap<usize, u32>,
}

impl NodePlugin<'_> {
    fn on_application(&mut self, app: &Value, claims_of: &BTreeMap<&str, &[String]>) {
        let synced = app.pointer("/status/sync/status").and_then(Value::as_str) == Some("Synced");
        let Some(claims) = app.pointer("/metadata/name").and_then(Value::as_str).and_then(|n| claims_of.get(n)) else { return };
        if !synced {
            return;
        }
        for claim in claims.iter() {
            if self.attached.insert(claim.clone()) {
                self.attach(claim);
            }
        }
    }

    fn attach(&mut self, claim: &str) {
        let index = (fnv1a(claim) % self.cluster.nodes.len() as u64) as usize;
        let node = &self.cluster.nodes[index];
        let session = self.sessions.entry(index).or_default();
        *session += 1;
        let (host, connection) = (*session + 1, *session);
        let disk = format!("sd{}", char::from(b'b' + u8::try_from(*session % 24).unwrap_or(0)));
        let target = format!("iqn.2000-01.com.synology:vixens-nas.{claim}.{}", hex_id(claim, 6));
        let kern = |priority, message: &str| node.kernel(Facility::Kern, priority, Timestamp::now(), message);
        kern(Priority::Info, &format!("scsi host{host}: iSCSI Initiator over TCP/IP"));
        kern(Priority::Notice, &format!("scsi {host}:0:0:1: Direct-Access     SYNOLOGY iSCSI Storage    4.0  PQ: 0 ANSI: 5"));
        kern(Priority::Notice, &format!("sd {host}:0:0:1: Attached scsi generic sg{host} type 0"));
        kern(Priority::Notice, &format!("sd {host}:0:0:1: [{disk}] 2097152 512-byte logical blocks: (1.07 GB/1.00 GiB)"));
        kern(Priority::Notice, &format!("sd {host}:0:0:1: [{disk}] Write Protect is off"));
        kern(Priority::Notice, &format!("sd {host}:0:0:1: [{disk}] Attached SCSI disk"));
        node.log(
            "ext-iscsid",
            format!("iscsid: Connection{connection}:0 to [target: {target}, portal: {NAS_PORTAL},3260] through [iface: default] is operational now"),
        );
        kern(Priority::Notice, &format!("XFS ({disk}): Mounting V5 Filesystem {}", uuid_like(claim)));
        kern(Priority::Info, &format!("XFS ({disk}): Ending clean mount"));
        // The NAS drops idle sessions; iscsid logs in again at once.
        kern(Priority::Info, &format!("connection{connection}:0: detected conn error (1020)"));
        node.log(
            "ext-iscsid",
            format!(
                "iscsid: Kernel reported iSCSI connection {connection}:0 error (1020 - ISCSI_ERR_TCP_CONN_CLOSE: TCP connection closed) state (3)"
            ),
        );
        node.log("ext-iscsid", format!("iscsid: connection{connection}:0 is operational after recovery (1 attempts)"));
    }
}
